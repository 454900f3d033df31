/* sweep_run.c — running a sweep, with sweep.csv as a durable log (see
 * sweep.c for the design). */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../report/format.h"
#include "set.h"

typedef struct point_state {
    msim_scenario *sc; /* the derived scenario */
    char key[17];
    size_t finished;   /* replicas done */
    msim__summary *sums;
} point_state;

typedef struct sweep_run {
    const msim_scenario *base;
    const msim_sweep *sw;
    const msim_sweep_options *opt;
    point_state *pts;
    size_t *pending; /* points still to run */
    size_t npending;
    msim_sweep_result *res;
    int fd;          /* sweep.csv, appending */
    pthread_mutex_t lock;
    size_t done, total;
} sweep_run;

/* ---- keys and rows ------------------------------------------------------------------------ */

static uint64_t fnv(uint64_t h, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* What a point's result depends on: the base scenario, its values, seed and
 * replica count. A row whose key differs is stale and is run again. */
static void point_key(const sweep_run *r, size_t i, const char *base_text, size_t base_len, char *key)
{
    const msim_sweep *sw = r->sw;
    size_t idx[64];
    msim_sweep_point(sw, i, idx);
    uint64_t h = fnv(0xcbf29ce484222325ull, base_text, base_len);
    char buf[128];
    int n = snprintf(buf, sizeof buf, "|%llu|%zu|", (unsigned long long)(r->opt->use_seed ? r->opt->seed : r->base->seed),
                     sw->replicas);
    h = fnv(h, buf, (size_t)n);
    for (size_t k = 0; k < sw->nparams; k++) {
        h = fnv(h, sw->params[k].path, strlen(sw->params[k].path));
        h = fnv(h, "=", 1);
        h = fnv(h, sw->params[k].values[idx[k]], strlen(sw->params[k].values[idx[k]]));
        h = fnv(h, "|", 1);
    }
    snprintf(key, 17, "%016llx", (unsigned long long)h);
}

static void csv_field(msim_buf *b, const char *s)
{
    if (strcspn(s, ",\"\n") == strlen(s)) {
        msim_buf_printf(b, "%s", s);
        return;
    }
    msim_buf_printf(b, "\"");
    for (; *s; s++)
        msim_buf_printf(b, *s == '"' ? "\"\"" : "%c", *s);
    msim_buf_printf(b, "\"");
}

static void verdict_column(char *buf, size_t size, int v, const char *suffix)
{
    snprintf(buf, size, "p_%s%s", msim_verdict_name((msim_verdict_kind)v), suffix);
    for (char *p = buf; *p; p++)
        if (*p == '-') *p = '_';
}

static const char *const tail_columns[] = {
    "recovery_p50_s",     "recovery_p90_s",     "recovery_max_s",    "degraded_level_p50",
    "goodput_before_rps", "goodput_during_rps", "goodput_after_rps", "amplification_after",
    "wasted_share_after",
};
#define NTAIL (sizeof tail_columns / sizeof tail_columns[0])

static void header(msim_buf *b, const msim_sweep *sw)
{
    msim_buf_printf(b, "point,key");
    for (size_t k = 0; k < sw->nparams; k++) {
        msim_buf_printf(b, ",");
        csv_field(b, sw->params[k].path);
    }
    msim_buf_printf(b, ",replicas");
    for (int v = 0; v < MSIM_VERDICT_COUNT; v++) {
        char c[64];
        const char *sfx[] = {"", "_lo", "_hi"};
        for (int j = 0; j < 3; j++) {
            verdict_column(c, sizeof c, v, sfx[j]);
            msim_buf_printf(b, ",%s", c);
        }
    }
    for (size_t j = 0; j < NTAIL; j++)
        msim_buf_printf(b, ",%s", tail_columns[j]);
}

static void num(msim_buf *b, double v)
{
    char buf[48];
    msim_buf_printf(b, ",%s", msim__fmt_num(buf, sizeof buf, v));
}

static void format_row(msim_buf *b, const msim_sweep *sw, size_t i, const char *key, const msim_set *s)
{
    size_t idx[64];
    msim_sweep_point(sw, i, idx);
    msim_buf_printf(b, "%zu,%s", i, key);
    for (size_t k = 0; k < sw->nparams; k++) {
        msim_buf_printf(b, ",");
        csv_field(b, sw->params[k].values[idx[k]]);
    }
    msim_buf_printf(b, ",%zu", s->n);
    for (int v = 0; v < MSIM_VERDICT_COUNT; v++) {
        num(b, s->p[v]);
        num(b, s->lo[v]);
        num(b, s->hi[v]);
    }
    num(b, s->recovery_s.p50);
    num(b, s->recovery_s.p90);
    num(b, s->recovery_max_s);
    num(b, s->degraded_level.p50);
    num(b, s->phase[MSIM_PHASE_BEFORE].goodput_rps.p50);
    num(b, s->phase[MSIM_PHASE_DURING].goodput_rps.p50);
    num(b, s->phase[MSIM_PHASE_AFTER].goodput_rps.p50);
    num(b, s->phase[MSIM_PHASE_AFTER].amplification.p50);
    num(b, s->phase[MSIM_PHASE_AFTER].wasted_share.p50);
}

/* Split a CSV line (quotes allowed) into at most max fields, in place. */
static size_t split_csv(char *line, char **fields, size_t max)
{
    size_t n = 0;
    char *p = line;
    while (n < max) {
        char *out = p;
        fields[n++] = p;
        if (*p == '"') {
            for (p++; *p; p++) {
                if (*p == '"' && p[1] == '"') *out++ = '"', p++;
                else if (*p == '"') { p++; break; }
                else *out++ = *p;
            }
        } else {
            while (*p && *p != ',')
                *out++ = *p++;
        }
        if (*p != ',') {
            *out = '\0';
            break;
        }
        *out = '\0';
        p++;
    }
    return n;
}

/* ---- resuming -------------------------------------------------------------------------------- */

static size_t ncolumns(const msim_sweep *sw)
{
    return 2 + sw->nparams + 1 + 3 * MSIM_VERDICT_COUNT + NTAIL;
}

/* Take a row from an earlier run if its point and key still match. */
static void resume_row(sweep_run *r, char *line)
{
    msim_sweep_result *res = r->res;
    char copy[8192];
    snprintf(copy, sizeof copy, "%s", line);
    char *f[256];
    size_t n = split_csv(copy, f, 256);
    if (n != ncolumns(r->sw)) return;
    char *end;
    unsigned long i = strtoul(f[0], &end, 10);
    if (*end || i >= res->npoints || res->points[i].row || strcmp(f[1], r->pts[i].key) != 0) return;
    msim_point_result *pt = &res->points[i];
    pt->row = strdup(line);
    pt->resumed = 1;
    size_t base = 2 + r->sw->nparams;
    pt->replicas = strtoul(f[base], NULL, 10);
    for (int v = 0; v < MSIM_VERDICT_COUNT; v++) {
        pt->p[v] = strtod(f[base + 1 + 3 * (size_t)v], NULL);
        pt->lo[v] = strtod(f[base + 2 + 3 * (size_t)v], NULL);
        pt->hi[v] = strtod(f[base + 3 + 3 * (size_t)v], NULL);
    }
    const char *rec = f[base + 1 + 3 * MSIM_VERDICT_COUNT];
    pt->recovery_p50_s = *rec ? strtod(rec, NULL) : NAN;
    res->resumed++;
}

/* Read sweep.csv if it has this sweep's header. A last line without its
 * newline was cut off by a kill and is dropped. */
static void resume(sweep_run *r, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return;
    msim_buf want = {0};
    header(&want, r->sw);
    char *line = NULL;
    size_t cap = 0;
    ssize_t len = getline(&line, &cap, f);
    bool ok = len > 0 && want.data && (size_t)len == want.len + 1 && strncmp(line, want.data, want.len) == 0;
    while (ok && (len = getline(&line, &cap, f)) > 0) {
        if (line[len - 1] != '\n') break;
        line[len - 1] = '\0';
        resume_row(r, line);
    }
    free(line);
    msim_buf_free(&want);
    fclose(f);
}

/* ---- the durable log ------------------------------------------------------------------------- */

/* Start the log: the header and the rows kept from an earlier run, written
 * atomically; then it is opened for appending. */
static int open_log(sweep_run *r, const char *path, msim_error *err)
{
    msim_buf b = {0};
    header(&b, r->sw);
    msim_buf_printf(&b, "\n");
    for (size_t i = 0; i < r->res->npoints; i++)
        if (r->res->points[i].row) msim_buf_printf(&b, "%s\n", r->res->points[i].row);
    int rc = msim_write_file_atomic(path, &b, err);
    msim_buf_free(&b);
    if (rc) return rc;
    r->fd = open(path, O_WRONLY | O_APPEND);
    if (r->fd < 0) return msim_error_set(err, -MSIM_EIO, "cannot append to %s: %s", path, strerror(errno));
    return 0;
}

static void append_row(sweep_run *r, const char *row)
{
    size_t n = strlen(row);
    char *line = malloc(n + 2);
    if (!line) return;
    memcpy(line, row, n);
    line[n] = '\n';
    /* one write of the whole line, then to disk: a kill leaves whole lines
     * and at most one torn last line, which resume drops */
    if (msim__write_all(r->fd, line, n + 1) == 0) fsync(r->fd);
    free(line);
}

/* ---- running ---------------------------------------------------------------------------------- */

static void point_finished(sweep_run *r, size_t i)
{
    point_state *ps = &r->pts[i];
    msim_point_result *pt = &r->res->points[i];
    msim_set *s = msim__combine(ps->sc, r->opt->use_seed ? r->opt->seed : r->base->seed, ps->sums, r->sw->replicas);
    for (size_t k = 0; k < r->sw->replicas; k++)
        msim__summary_free(&ps->sums[k]);
    free(ps->sums);
    ps->sums = NULL;
    if (!s) return;
    msim_buf b = {0};
    format_row(&b, r->sw, i, ps->key, s);
    pt->row = b.data;
    pt->replicas = s->n;
    for (int v = 0; v < MSIM_VERDICT_COUNT; v++) {
        pt->p[v] = s->p[v];
        pt->lo[v] = s->lo[v];
        pt->hi[v] = s->hi[v];
    }
    pt->recovery_p50_s = s->recovery_s.p50;
    msim_set_free(s);
    if (pt->row) append_row(r, pt->row);
}

static int run_job(void *ctx, size_t j, msim_error *err)
{
    sweep_run *r = ctx;
    size_t i = r->pending[j / r->sw->replicas], replica = j % r->sw->replicas;
    point_state *ps = &r->pts[i];
    msim_run_options ro = {.seed = r->opt->seed, .use_seed = r->opt->use_seed, .replica = replica};
    msim_result *res = NULL;
    int rc = msim_run(ps->sc, &ro, &res, err);
    if (!rc) rc = msim__summarize(res, 0, &ps->sums[replica]);
    msim_result_free(res);
    if (rc) {
        size_t idx[64];
        msim_sweep_point(r->sw, i, idx);
        snprintf(err->path, sizeof err->path, "point %zu (%s=%s...)", i, r->sw->params[0].path,
                 r->sw->params[0].values[idx[0]]);
        return rc;
    }
    pthread_mutex_lock(&r->lock);
    bool last = ++ps->finished == r->sw->replicas;
    size_t done = ++r->done;
    if (r->opt->progress) r->opt->progress(r->opt->progress_ud, done, r->total);
    if (last) point_finished(r, i); /* under the lock: one writer at a time */
    pthread_mutex_unlock(&r->lock);
    return 0;
}

/* Derive every point's scenario before running anything: a bad value fails
 * the sweep at once, naming the point. */
static int derive_points(sweep_run *r, msim_error *err)
{
    const msim_sweep *sw = r->sw;
    msim_override ov[64];
    for (size_t i = 0; i < sw->npoints; i++) {
        size_t idx[64];
        msim_sweep_point(sw, i, idx);
        for (size_t k = 0; k < sw->nparams; k++)
            ov[k] = (msim_override){sw->params[k].path, sw->params[k].values[idx[k]]};
        int rc = msim_scenario_derive(r->base, ov, sw->nparams, &r->pts[i].sc, err);
        if (rc) return rc;
    }
    return 0;
}

static int start(sweep_run *r, msim_error *err)
{
    const msim_sweep *sw = r->sw;
    if (sw->nparams > 64) return msim_error_set(err, -MSIM_EUSAGE, "at most 64 parameters in a sweep");
    if (mkdir(r->opt->out_dir, 0755) && errno != EEXIST)
        return msim_error_set(err, -MSIM_EIO, "cannot create %s: %s", r->opt->out_dir, strerror(errno));
    int rc = derive_points(r, err);
    if (rc) return rc;
    msim_buf base = {0};
    msim_scenario_print(r->base, &base);
    for (size_t i = 0; i < sw->npoints; i++)
        point_key(r, i, base.data ? base.data : "", base.len, r->pts[i].key);
    msim_buf_free(&base);
    char path[4096];
    snprintf(path, sizeof path, "%s/sweep.csv", r->opt->out_dir);
    if (r->opt->resume) resume(r, path);
    return open_log(r, path, err);
}

static double wall_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int msim__sweep_finish(const msim_sweep *sw, msim_sweep_result *res, const char *dir, msim_error *err);

int msim_sweep_run(const msim_scenario *base, const msim_sweep *sw, const msim_sweep_options *opt,
                   msim_sweep_result **out, msim_error *err)
{
    *out = NULL;
    double t0 = wall_seconds();
    sweep_run r = {.base = base, .sw = sw, .opt = opt, .fd = -1};
    r.pts = calloc(sw->npoints, sizeof *r.pts);
    r.pending = calloc(sw->npoints, sizeof *r.pending);
    r.res = calloc(1, sizeof *r.res);
    if (r.res) r.res->points = calloc(sw->npoints, sizeof *r.res->points);
    if (!r.pts || !r.pending || !r.res || !r.res->points) {
        free(r.pts), free(r.pending), msim_sweep_result_free(r.res);
        return msim_error_set(err, -MSIM_ENOMEM, "out of memory");
    }
    r.res->sweep = sw;
    r.res->npoints = sw->npoints;
    pthread_mutex_init(&r.lock, NULL);
    int rc = start(&r, err);
    for (size_t i = 0; !rc && i < sw->npoints; i++) {
        if (r.res->points[i].row) continue;
        r.pts[i].sums = calloc(sw->replicas, sizeof *r.pts[i].sums);
        if (!r.pts[i].sums) rc = msim_error_set(err, -MSIM_ENOMEM, "out of memory");
        r.pending[r.npending++] = i;
    }
    r.total = r.npending * sw->replicas;
    if (!rc) rc = msim__batch(r.total, opt->jobs ? opt->jobs : msim_processors(), run_job, &r, err);
    if (r.fd >= 0) close(r.fd);
    if (!rc) rc = msim__sweep_finish(sw, r.res, opt->out_dir, err);
    for (size_t i = 0; i < sw->npoints; i++) {
        for (size_t k = 0; r.pts[i].sums && k < sw->replicas; k++)
            msim__summary_free(&r.pts[i].sums[k]);
        free(r.pts[i].sums);
        msim_scenario_free(r.pts[i].sc);
    }
    free(r.pts);
    free(r.pending);
    pthread_mutex_destroy(&r.lock);
    r.res->wall_s = wall_seconds() - t0;
    if (rc) msim_sweep_result_free(r.res);
    else *out = r.res;
    return rc;
}

void msim_sweep_result_free(msim_sweep_result *res)
{
    if (!res) return;
    for (size_t i = 0; res->points && i < res->npoints; i++)
        free(res->points[i].row);
    free(res->points);
    free(res);
}

/* ---- the final files ------------------------------------------------------------------------- */

/* sweep.csv in point order; phase_map.csv when two parameters vary. */
int msim__sweep_finish(const msim_sweep *sw, msim_sweep_result *res, const char *dir, msim_error *err)
{
    msim_buf b = {0};
    header(&b, sw);
    msim_buf_printf(&b, "\n");
    for (size_t i = 0; i < res->npoints; i++)
        if (res->points[i].row) msim_buf_printf(&b, "%s\n", res->points[i].row);
    char path[4096];
    snprintf(path, sizeof path, "%s/sweep.csv", dir);
    int rc = msim_write_file_atomic(path, &b, err);
    msim_buf_free(&b);
    if (rc || sw->nparams != 2) return rc;
    msim_buf m = {0};
    csv_field(&m, sw->params[0].path);
    msim_buf_printf(&m, ",");
    csv_field(&m, sw->params[1].path);
    msim_buf_printf(&m, ",replicas,p_metastable,p_metastable_lo,p_metastable_hi,p_oscillating,p_recovered,p_stable\n");
    for (size_t i = 0; i < res->npoints; i++) {
        const msim_point_result *pt = &res->points[i];
        size_t idx[2];
        msim_sweep_point(sw, i, idx);
        csv_field(&m, sw->params[0].values[idx[0]]);
        msim_buf_printf(&m, ",");
        csv_field(&m, sw->params[1].values[idx[1]]);
        msim_buf_printf(&m, ",%zu", pt->replicas);
        num(&m, pt->p[MSIM_VERDICT_METASTABLE]);
        num(&m, pt->lo[MSIM_VERDICT_METASTABLE]);
        num(&m, pt->hi[MSIM_VERDICT_METASTABLE]);
        num(&m, pt->p[MSIM_VERDICT_OSCILLATING]);
        num(&m, pt->p[MSIM_VERDICT_RECOVERED]);
        num(&m, pt->p[MSIM_VERDICT_STABLE]);
        msim_buf_printf(&m, "\n");
    }
    snprintf(path, sizeof path, "%s/phase_map.csv", dir);
    rc = msim_write_file_atomic(path, &m, err);
    msim_buf_free(&m);
    return rc;
}
