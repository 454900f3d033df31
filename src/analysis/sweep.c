/* sweep.c — replica sets over a grid of parameter values.
 *
 * The grid comes from the scenario's `sweep:` block and --vary arguments;
 * every point is a scenario derived from the base with overrides, so a point
 * is validated exactly like a `--set` before anything runs. Points x replicas
 * go to the thread pool; the thread that finishes a point's last replica
 * combines it and appends its row to sweep.csv, written and flushed to disk at
 * once. A kill therefore loses at most the points in flight; `--resume` keeps
 * every row whose key (a hash of the base scenario, the point's values, the
 * seed and the replica count) still matches. At the end the file is rewritten
 * in point order, so it is the same bytes whatever the threads or
 * interruptions.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../scenario/load.h"
#include "set.h"

struct msim__sweep_priv {
    msim__arena arena;
};

/* ---- the grid ------------------------------------------------------------------------------ */

static char *dupstr(msim_sweep *sw, const char *s)
{
    return msim__arena_strdup(&sw->priv->arena, s);
}

/* A number with a unit suffix: "1.5s" -> 1.5 and "s". */
static int split_unit(const char *s, double *v, const char **suffix)
{
    char *end;
    *v = strtod(s, &end);
    if (end == s || !isfinite(*v)) return -1;
    *suffix = end;
    return 0;
}

int msim_range_expand(const char *range, char ***values, msim_error *err)
{
    char lo_s[64], hi_s[64], how[64] = "n=5";
    const char *dots = strstr(range, "..");
    if (!dots) return msim_error_set(err, -MSIM_EINVAL, "expected a range LO..HI, got \"%s\"", range), -1;
    snprintf(lo_s, sizeof lo_s, "%.*s", (int)(dots - range), range);
    const char *colon = strchr(dots, ':');
    snprintf(hi_s, sizeof hi_s, "%.*s", (int)(colon ? (size_t)(colon - dots - 2) : strlen(dots + 2)), dots + 2);
    if (colon) snprintf(how, sizeof how, "%s", colon + 1);
    double lo, hi, step = 0;
    const char *ulo, *uhi, *ustep = NULL;
    if (split_unit(lo_s, &lo, &ulo) || split_unit(hi_s, &hi, &uhi) || strcmp(ulo, uhi) != 0 || hi < lo)
        return msim_error_set(err, -MSIM_EINVAL,
                              "range \"%s\": expected LO..HI with LO <= HI in the same unit, e.g. 1s..20s", range),
               -1;
    long n;
    if (strncmp(how, "step=", 5) == 0) {
        if (split_unit(how + 5, &step, &ustep) || strcmp(ustep, ulo) != 0 || !(step > 0))
            return msim_error_set(err, -MSIM_EINVAL, "range \"%s\": step= needs a positive value in %s", range,
                                  *ulo ? ulo : "the same unit"),
                   -1;
        n = (long)floor((hi - lo) / step * (1 + 1e-12)) + 1;
    } else if (strncmp(how, "n=", 2) == 0) {
        n = strtol(how + 2, NULL, 10);
        if (n < 1) return msim_error_set(err, -MSIM_EINVAL, "range \"%s\": n= needs a count >= 1", range), -1;
        step = n > 1 ? (hi - lo) / (double)(n - 1) : 0;
    } else {
        return msim_error_set(err, -MSIM_EINVAL, "range \"%s\": after ':' expected step=S or n=N", range), -1;
    }
    if (n > 100000) return msim_error_set(err, -MSIM_EINVAL, "range \"%s\" has %ld values", range, n), -1;
    *values = calloc((size_t)n, sizeof **values);
    for (long k = 0; *values && k < n; k++) {
        char buf[96];
        double v = k == n - 1 && n > 1 && !ustep ? hi : lo + (double)k * step;
        snprintf(buf, sizeof buf, "%.10g%s", v, ulo);
        (*values)[k] = strdup(buf);
    }
    return (int)n;
}

/* Add (or replace) a parameter's values. */
static int add_param(msim_sweep *sw, const char *path, char **values, size_t n)
{
    size_t i = 0;
    while (i < sw->nparams && strcmp(sw->params[i].path, path) != 0)
        i++;
    if (i == sw->nparams) {
        msim_sweep_param *np = realloc(sw->params, (sw->nparams + 1) * sizeof *np);
        if (!np) return -MSIM_ENOMEM;
        sw->params = np;
        sw->nparams++;
        sw->params[i].path = dupstr(sw, path);
    }
    sw->params[i].nvalues = n;
    sw->params[i].values = msim__arena_alloc(&sw->priv->arena, (n + 1) * sizeof(char *));
    if (!sw->params[i].values) return -MSIM_ENOMEM;
    for (size_t k = 0; k < n; k++)
        sw->params[i].values[k] = dupstr(sw, values[k]);
    return 0;
}

static void free_values(char **v, int n)
{
    for (int k = 0; k < n; k++)
        free(v[k]);
    free(v);
}

/* "v1,v2,..." or a range, for one parameter. */
static int add_text(msim_sweep *sw, const char *path, const char *text, msim_error *err)
{
    char **values = NULL;
    int n;
    if (strstr(text, "..")) {
        n = msim_range_expand(text, &values, err);
        if (n < 0) return err ? err->code : -MSIM_EINVAL;
    } else {
        char *copy = strdup(text);
        values = calloc(strlen(text) + 2, sizeof *values);
        n = 0;
        for (char *tok = copy ? strtok(copy, ",") : NULL; tok; tok = strtok(NULL, ","))
            values[n++] = strdup(tok);
        free(copy);
        if (n == 0) return msim_error_set(err, -MSIM_EINVAL, "no values for %s", path);
    }
    int rc = add_param(sw, path, values, (size_t)n);
    free_values(values, n);
    return rc;
}

static int block_error(msim_error *err, const msim_node *n, const char *fmt, const char *a)
{
    msim_error_set(err, -MSIM_EINVAL, fmt, a);
    if (err && n) {
        snprintf(err->file, sizeof err->file, "%s", n->file ? n->file : "");
        err->line = n->line;
        err->col = n->col;
        snprintf(err->path, sizeof err->path, "sweep");
    }
    return -MSIM_EINVAL;
}

/* The scenario's `sweep:` block: {replicas: N, vary: {PATH: [values] | "range"}}. */
static int read_block(msim_sweep *sw, const msim_node *blk, msim_error *err)
{
    if (blk->type != MSIM_NODE_MAP) return block_error(err, blk, "expected a map: {replicas: N, vary: {...}}%s", "");
    for (size_t i = 0; i < blk->len; i++) {
        const char *key = blk->keys[i]->text;
        const msim_node *v = blk->items[i];
        if (strcmp(key, "replicas") == 0) {
            int64_t r;
            if (v->type != MSIM_NODE_SCALAR || msim__parse_int(v->text, &r) || r < 1)
                return block_error(err, v, "replicas must be a whole number >= 1%s", "");
            sw->replicas = (size_t)r;
        } else if (strcmp(key, "vary") == 0 && v->type == MSIM_NODE_MAP) {
            for (size_t k = 0; k < v->len; k++) {
                const msim_node *vals = v->items[k];
                int rc;
                if (vals->type == MSIM_NODE_SCALAR) {
                    rc = add_text(sw, v->keys[k]->text, vals->text, err);
                } else if (vals->type == MSIM_NODE_SEQ && vals->len) {
                    char **tmp = calloc(vals->len, sizeof *tmp);
                    for (size_t j = 0; tmp && j < vals->len; j++)
                        tmp[j] = (char *)(vals->items[j]->type == MSIM_NODE_SCALAR ? vals->items[j]->text : "");
                    rc = tmp ? add_param(sw, v->keys[k]->text, tmp, vals->len) : -MSIM_ENOMEM;
                    free(tmp);
                } else {
                    return block_error(err, vals, "expected a list of values or a range for %s", v->keys[k]->text);
                }
                if (rc) return rc;
            }
        } else {
            return block_error(err, blk->keys[i], "unknown key \"%s\" in sweep (expected replicas, vary)", key);
        }
    }
    return 0;
}

int msim_sweep_parse(const msim_scenario *sc, const char *const *vary, size_t nvary, size_t replicas,
                     msim_sweep **out, msim_error *err)
{
    *out = NULL;
    msim_sweep *sw = calloc(1, sizeof *sw + sizeof(struct msim__sweep_priv));
    if (!sw) return msim_error_set(err, -MSIM_ENOMEM, "out of memory");
    sw->priv = (struct msim__sweep_priv *)(sw + 1);
    sw->priv->arena.alloc = msim_default_allocator;
    sw->replicas = 20;
    int rc = sc->sweep ? read_block(sw, sc->sweep, err) : 0;
    for (size_t i = 0; !rc && i < nvary; i++) {
        const char *eq = strchr(vary[i], '=');
        if (!eq || eq == vary[i]) {
            rc = msim_error_set(err, -MSIM_EUSAGE, "--vary expects PATH=VALUES, got \"%s\"", vary[i]);
            break;
        }
        char path[256];
        snprintf(path, sizeof path, "%.*s", (int)(eq - vary[i]), vary[i]);
        rc = add_text(sw, path, eq + 1, err);
    }
    if (!rc && sw->nparams == 0)
        rc = msim_error_set(err, -MSIM_EUSAGE, "nothing to sweep: add a sweep: block or --vary PATH=VALUES");
    if (replicas) sw->replicas = replicas;
    sw->npoints = 1;
    for (size_t i = 0; i < sw->nparams; i++)
        sw->npoints *= sw->params[i].nvalues;
    if (!rc && sw->npoints > 1000000) rc = msim_error_set(err, -MSIM_EUSAGE, "the grid has %zu points", sw->npoints);
    if (rc) {
        msim_sweep_free(sw);
        return rc;
    }
    *out = sw;
    return 0;
}

void msim_sweep_free(msim_sweep *sw)
{
    if (!sw) return;
    free(sw->params);
    msim__arena_free(&sw->priv->arena);
    free(sw);
}

void msim_sweep_point(const msim_sweep *sw, size_t i, size_t *idx)
{
    for (size_t k = sw->nparams; k-- > 0;) {
        idx[k] = i % sw->params[k].nvalues;
        i /= sw->params[k].nvalues;
    }
}
