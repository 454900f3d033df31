/* replicas.c — replica sets: run replicas 0..n-1 of a scenario on a pool of
 * threads, reduce each to a summary as soon as it finishes, and combine the
 * summaries in replica order into probabilities (with Wilson intervals),
 * spreads of key figures, and per-window bands.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analysis.h"
#include "set.h"

static const char *const band_names[] = {
#define MSIM_BAND_NAME(id, name, unit) name,
    MSIM_BAND_MAP(MSIM_BAND_NAME)
#undef MSIM_BAND_NAME
};

static const char *const band_units[] = {
#define MSIM_BAND_UNIT(id, name, unit) unit,
    MSIM_BAND_MAP(MSIM_BAND_UNIT)
#undef MSIM_BAND_UNIT
};

const char *msim_band_name(msim_band_kind b)
{
    return (unsigned)b < MSIM_BAND_COUNT ? band_names[b] : "?";
}

const char *msim_band_unit(msim_band_kind b)
{
    return (unsigned)b < MSIM_BAND_COUNT ? band_units[b] : "?";
}

struct msim__set_priv {
    void *blocks[4 + 3 * MSIM_BAND_COUNT];
    size_t nblocks;
};

/* ---- one replica ------------------------------------------------------------------ */

static double window_secs(const msim_result *r, uint32_t w)
{
    msim_time t0 = (msim_time)w * r->window;
    msim_time t1 = t0 + r->window < r->horizon ? t0 + r->window : r->horizon;
    return msim_time_to_s(t1 - t0);
}

static double ratio(double a, double b)
{
    return b > 0 ? a / b : NAN;
}

/* The band values of one window, per second where they are rates. */
static void window_bands(const msim_result *r, uint32_t w, float *out)
{
    double len = window_secs(r, w);
    double attempts = msim_result_role_sum(r, MSIM_ROLE_ATTEMPTS, MSIM_AGG_SUM, w, w + 1);
    double work = msim_result_role_sum(r, MSIM_ROLE_WORK, MSIM_AGG_SUM, w, w + 1);
    double wasted = msim_result_role_sum(r, MSIM_ROLE_WASTED, MSIM_AGG_SUM, w, w + 1);
    out[MSIM_BAND_GOODPUT] = (float)(r->goodput[w] / len);
    out[MSIM_BAND_OFFERED] = (float)(r->offered[w] / len);
    out[MSIM_BAND_EXPECTED] = (float)(r->expected[w] / len);
    out[MSIM_BAND_AMPLIFICATION] = (float)ratio(attempts, r->offered[w]);
    out[MSIM_BAND_WASTED] = (float)ratio(wasted, work);
    out[MSIM_BAND_QUEUE] = (float)msim_result_role_sum(r, MSIM_ROLE_QUEUE, MSIM_AGG_MEAN, w, w + 1);
    out[MSIM_BAND_P99] = (float)r->p99_s[w];
    out[MSIM_BAND_HEALTHY] = (float)r->health[w];
}

int msim__summarize(const msim_result *r, int keep_bands, msim__summary *s)
{
    const msim_verdict *v = &r->verdict;
    memset(s, 0, sizeof *s);
    s->verdict = v->kind;
    s->recovery_s = v->recovery_s;
    s->degraded_level = v->degraded_level;
    s->period_s = v->period_s;
    s->amplitude = v->amplitude;
    memcpy(s->phase, r->phase, sizeof s->phase);
    s->nsignals = v->nsignals;
    for (size_t i = 0; i < v->nsignals; i++)
        s->signals[i] = v->signals[i].name;
    s->nwin = r->nwin;
    s->window = r->window;
    s->horizon = r->horizon;
    s->warmup_end = r->warmup_end;
    s->first_trigger = r->first_trigger;
    s->last_trigger_end = r->last_trigger_end;
    s->events = r->events;
    s->attempts = r->attempts;
    s->requests = r->requests;
    s->wall_s = r->wall_s;
    if (!keep_bands) return 0;
    s->bands = malloc((size_t)r->nwin * MSIM_BAND_COUNT * sizeof *s->bands + 1);
    if (!s->bands) return -MSIM_ENOMEM;
    for (uint32_t w = 0; w < r->nwin; w++)
        window_bands(r, w, s->bands + (size_t)w * MSIM_BAND_COUNT);
    return 0;
}

void msim__summary_free(msim__summary *s)
{
    free(s->bands);
    s->bands = NULL;
}

/* ---- combining ------------------------------------------------------------------------ */

static void *keep(msim_set *set, size_t size)
{
    struct msim__set_priv *pv = set->priv;
    void *p = calloc(1, size ? size : 1);
    if (p && pv->nblocks < sizeof pv->blocks / sizeof pv->blocks[0]) pv->blocks[pv->nblocks++] = p;
    else {
        free(p);
        p = NULL;
    }
    return p;
}

/* Quantiles of the finite values among xs[0..n). */
static msim_spread spread_of(double *xs, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(xs[i])) xs[k++] = xs[i];
    return (msim_spread){msim_quantile(xs, k, 0.1), msim_quantile(xs, k, 0.5), msim_quantile(xs, k, 0.9)};
}

/* A spread of one scalar over the replicas whose verdict is `only` (or all
 * when only < 0). */
#define SPREAD_OF(field, only, out)                                                                \
    do {                                                                                           \
        size_t k_ = 0;                                                                             \
        for (size_t i_ = 0; i_ < n; i_++)                                                          \
            if ((int)(only) < 0 || s[i_].verdict == (msim_verdict_kind)(only)) xs[k_++] = field;    \
        (out) = spread_of(xs, k_);                                                                 \
    } while (0)

static void combine_verdicts(msim_set *set, msim__summary *s, size_t n, double *xs)
{
    for (size_t i = 0; i < n; i++)
        set->count[s[i].verdict]++;
    for (int v = 0; v < MSIM_VERDICT_COUNT; v++) {
        set->p[v] = (double)set->count[v] / (double)n;
        msim_wilson(set->count[v], n, &set->lo[v], &set->hi[v]);
    }
    SPREAD_OF(s[i_].recovery_s, MSIM_VERDICT_RECOVERED, set->recovery_s);
    set->recovery_max_s = NAN;
    for (size_t i = 0; i < n; i++)
        if (s[i].verdict == MSIM_VERDICT_RECOVERED && !(s[i].recovery_s <= set->recovery_max_s))
            set->recovery_max_s = s[i].recovery_s;
    SPREAD_OF(s[i_].degraded_level, MSIM_VERDICT_METASTABLE, set->degraded_level);
    SPREAD_OF(s[i_].period_s, MSIM_VERDICT_OSCILLATING, set->period_s);
    SPREAD_OF(s[i_].amplitude, MSIM_VERDICT_OSCILLATING, set->amplitude);
}

static void combine_phases(msim_set *set, msim__summary *s, size_t n, double *xs)
{
    for (int p = 0; p < MSIM_PHASE_COUNT; p++) {
#define MSIM_FIGURE_SPREAD(f) SPREAD_OF(s[i_].phase[p].f, -1, set->phase[p].f);
        MSIM_FIGURE_MAP(MSIM_FIGURE_SPREAD)
#undef MSIM_FIGURE_SPREAD
    }
}

static void combine_signals(msim_set *set, const msim__summary *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < s[i].nsignals; k++) {
            size_t j = 0;
            while (j < set->nsignals && strcmp(set->signal_name[j], s[i].signals[k]) != 0)
                j++;
            if (j == set->nsignals) {
                if (j == MSIM_MAX_SET_SIGNALS) continue;
                set->signal_name[set->nsignals++] = s[i].signals[k];
            }
            set->signal_count[j]++;
        }
    }
}

static int combine_bands(msim_set *set, const msim__summary *s, size_t n, double *xs)
{
    for (int b = 0; b < MSIM_BAND_COUNT; b++) {
        msim_band *band = &set->band[b];
        band->p10 = keep(set, set->nwin * sizeof(double));
        band->p50 = keep(set, set->nwin * sizeof(double));
        band->p90 = keep(set, set->nwin * sizeof(double));
        if (!band->p10 || !band->p50 || !band->p90) return -MSIM_ENOMEM;
        for (uint32_t w = 0; w < set->nwin; w++) {
            for (size_t i = 0; i < n; i++)
                xs[i] = s[i].bands[(size_t)w * MSIM_BAND_COUNT + (size_t)b];
            msim_spread sp = spread_of(xs, n);
            if (b == MSIM_BAND_HEALTHY) { /* a share, not a spread: the mean of 0s and 1s */
                double sum = 0;
                size_t k = 0;
                for (size_t i = 0; i < n; i++) {
                    double h = s[i].bands[(size_t)w * MSIM_BAND_COUNT + (size_t)b];
                    if (isfinite(h)) sum += h, k++;
                }
                sp = (msim_spread){NAN, k ? sum / (double)k : NAN, NAN};
            }
            band->p10[w] = sp.p10;
            band->p50[w] = sp.p50;
            band->p90[w] = sp.p90;
        }
    }
    return 0;
}

msim_set *msim__combine(const msim_scenario *sc, uint64_t seed, msim__summary *s, size_t n)
{
    msim_set *set = calloc(1, sizeof *set + sizeof(struct msim__set_priv));
    double *xs = malloc((n + 1) * sizeof *xs);
    if (!set || !xs) {
        free(set);
        free(xs);
        return NULL;
    }
    set->priv = (struct msim__set_priv *)(set + 1);
    set->scenario = sc;
    set->seed = seed;
    set->n = n;
    set->nwin = s[0].nwin;
    set->window = s[0].window;
    set->horizon = s[0].horizon;
    set->warmup_end = s[0].warmup_end;
    set->first_trigger = s[0].first_trigger;
    set->last_trigger_end = s[0].last_trigger_end;
    for (size_t i = 0; i < n; i++) {
        set->events += s[i].events;
        set->attempts += s[i].attempts;
        set->requests += s[i].requests;
    }
    combine_verdicts(set, s, n, xs);
    combine_phases(set, s, n, xs);
    combine_signals(set, s, n);
    int rc = s[0].bands ? combine_bands(set, s, n, xs) : 0;
    free(xs);
    if (rc) {
        msim_set_free(set);
        return NULL;
    }
    return set;
}

void msim_set_free(msim_set *set)
{
    if (!set) return;
    for (size_t i = 0; i < set->priv->nblocks; i++)
        free(set->priv->blocks[i]);
    free(set);
}

/* ---- running a set ------------------------------------------------------------------------ */

typedef struct set_run {
    const msim_scenario *sc;
    const msim_set_options *opt;
    msim__summary *sums;
    size_t done;
    pthread_mutex_t lock;
} set_run;

static int run_replica(void *ctx, size_t i, msim_error *err)
{
    set_run *sr = ctx;
    const msim_set_options *o = sr->opt;
    msim_run_options ro = {.seed = o->seed, .use_seed = o->use_seed, .replica = i,
                           .disable = o->disable, .ndisable = o->ndisable};
    msim_result *r = NULL;
    int rc = msim_run(sr->sc, &ro, &r, err);
    if (!rc) rc = msim__summarize(r, !o->no_bands, &sr->sums[i]);
    msim_result_free(r);
    if (!rc && o->progress) {
        pthread_mutex_lock(&sr->lock);
        size_t done = ++sr->done;
        o->progress(o->progress_ud, done, o->replicas);
        pthread_mutex_unlock(&sr->lock);
    }
    return rc;
}

static double wall_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int msim_run_set(const msim_scenario *sc, const msim_set_options *opt, msim_set **out,
                 msim_error *err)
{
    *out = NULL;
    if (opt->replicas == 0) return msim_error_set(err, -MSIM_EUSAGE, "a replica set needs replicas >= 1");
    set_run sr = {.sc = sc, .opt = opt, .sums = calloc(opt->replicas, sizeof *sr.sums)};
    if (!sr.sums) return msim_error_set(err, -MSIM_ENOMEM, "out of memory");
    pthread_mutex_init(&sr.lock, NULL);
    double t0 = wall_seconds();
    unsigned jobs = opt->jobs ? opt->jobs : msim_processors();
    int rc = msim__batch(opt->replicas, jobs, run_replica, &sr, err);
    if (!rc) {
        *out = msim__combine(sc, opt->use_seed ? opt->seed : sc->seed, sr.sums, opt->replicas);
        if (!*out) rc = msim_error_set(err, -MSIM_ENOMEM, "out of memory combining replicas");
        else {
            (*out)->wall_s = wall_seconds() - t0;
            (*out)->jobs = jobs > opt->replicas ? (unsigned)opt->replicas : jobs;
        }
    }
    for (size_t i = 0; i < opt->replicas; i++)
        msim__summary_free(&sr.sums[i]);
    free(sr.sums);
    pthread_mutex_destroy(&sr.lock);
    return rc;
}
