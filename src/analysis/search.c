/* search.c — where does a probability cross a level? Bisection on a
 * parameter, with a replica set at every probe.
 *
 * The probability (of metastable, say) is assumed monotone in the parameter
 * over the range; its direction is read from the two ends. Each probe's point
 * estimate decides the side, so a noisy probe near the level can send the
 * bracket the wrong way by at most the noise — which is why the final bracket
 * is reported with both ends' Wilson intervals, not as a single number.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "set.h"

/* A number with a unit suffix. */
static int split_unit(const char *s, double *v, char *unit, size_t size)
{
    char *end;
    *v = strtod(s, &end);
    if (end == s || !isfinite(*v)) return -1;
    snprintf(unit, size, "%s", end);
    return 0;
}

static int parse_range(const char *range, double *lo, double *hi, char *unit, size_t size, msim_error *err)
{
    const char *dots = range ? strstr(range, "..") : NULL;
    char a[64], b[64], ub[16];
    if (!dots)
        return msim_error_set(err, -MSIM_EUSAGE, "--range expects LO..HI, e.g. 0s..30s, got \"%s\"", range ? range : "");
    snprintf(a, sizeof a, "%.*s", (int)(dots - range), range);
    snprintf(b, sizeof b, "%s", dots + 2);
    if (split_unit(a, lo, unit, size) || split_unit(b, hi, ub, sizeof ub) || strcmp(unit, ub) != 0 || !(*lo < *hi))
        return msim_error_set(err, -MSIM_EUSAGE, "--range \"%s\": expected LO..HI with LO < HI in one unit", range);
    return 0;
}

static int run_probe(msim_search_result *r, msim_probe_fn fn, void *ctx, double x, msim_error *err)
{
    if (r->nprobes == MSIM_MAX_PROBES) return msim_error_set(err, -MSIM_EUSAGE, "too many probes");
    msim_probe *p = &r->probes[r->nprobes];
    snprintf(p->value, sizeof p->value, "%.6g%s", x, r->unit);
    p->x = x;
    int rc = fn(ctx, x, p->value, &p->k, &p->n, err);
    if (rc) return rc;
    p->p = p->n ? (double)p->k / (double)p->n : NAN;
    msim_wilson(p->k, p->n, &p->lo, &p->hi);
    r->nprobes++;
    return 0;
}

static void no_crossing(msim_search_result *r, const msim_probe *a, const msim_probe *b, double level)
{
    const char *side = a->p >= level ? "at or above" : "below";
    snprintf(r->reason, sizeof r->reason,
             "no crossing in the range: the probability is %s %.0f%% at both ends (%.0f%% at %s, %.0f%% at %s)",
             side, 100 * level, 100 * a->p, a->value, 100 * b->p, b->value);
}

int msim_bisect(const msim_search_options *o, msim_probe_fn probe, void *ctx, msim_search_result *r,
                msim_error *err)
{
    memset(r, 0, sizeof *r);
    r->below = r->above = -1;
    double lo, hi;
    int rc = parse_range(o->range, &lo, &hi, r->unit, sizeof r->unit, err);
    if (rc) return rc;
    double tol = o->tolerance > 0 ? o->tolerance : (hi - lo) / 64;
    int max = o->max_probes > 2 ? o->max_probes : 12;
    if ((rc = run_probe(r, probe, ctx, lo, err)) || (rc = run_probe(r, probe, ctx, hi, err))) return rc;
    const msim_probe *a = &r->probes[0], *b = &r->probes[1];
    if ((a->p >= o->level) == (b->p >= o->level)) {
        no_crossing(r, a, b, o->level);
        return 0;
    }
    r->increasing = b->p >= o->level;
    r->below = r->increasing ? 0 : 1;
    r->above = r->increasing ? 1 : 0;
    while ((int)r->nprobes < max && fabs(r->probes[r->above].x - r->probes[r->below].x) > tol) {
        if ((rc = run_probe(r, probe, ctx, (r->probes[r->below].x + r->probes[r->above].x) / 2, err))) return rc;
        int m = (int)r->nprobes - 1;
        if (r->probes[m].p >= o->level)
            r->above = m;
        else
            r->below = m;
    }
    r->found = 1;
    const msim_probe *lo_p = &r->probes[r->below], *hi_p = &r->probes[r->above];
    double dp = hi_p->p - lo_p->p;
    double f = dp > 0 ? (o->level - lo_p->p) / dp : 0.5;
    r->estimate = lo_p->x + f * (hi_p->x - lo_p->x);
    const msim_probe *first = lo_p->x < hi_p->x ? lo_p : hi_p, *second = first == lo_p ? hi_p : lo_p;
    snprintf(r->reason, sizeof r->reason, "the probability crosses %.0f%% between %s and %s (estimate %.4g%s)",
             100 * o->level, first->value, second->value, r->estimate, r->unit);
    return 0;
}

/* ---- probing a scenario --------------------------------------------------------------------- */

typedef struct scenario_probe {
    const msim_scenario *sc;
    const char *path;
    msim_verdict_kind verdict;
    const msim_set_options *set;
} scenario_probe;

static int probe_scenario(void *ctx, double x, const char *value, size_t *k, size_t *n, msim_error *err)
{
    (void)x;
    scenario_probe *sp = ctx;
    msim_override ov = {sp->path, value};
    msim_scenario *sc = NULL;
    int rc = msim_scenario_derive(sp->sc, &ov, 1, &sc, err);
    msim_set *s = NULL;
    msim_set_options so = *sp->set;
    so.no_bands = 1;
    if (!rc) rc = msim_run_set(sc, &so, &s, err);
    if (!rc) {
        *k = s->count[sp->verdict];
        *n = s->n;
    }
    msim_set_free(s);
    msim_scenario_free(sc);
    return rc;
}

int msim_search(const msim_scenario *sc, const char *path, msim_verdict_kind verdict,
                const msim_search_options *o, const msim_set_options *set, msim_search_result *out,
                msim_error *err)
{
    if (!path || !*path) return msim_error_set(err, -MSIM_EUSAGE, "search needs --param PATH");
    scenario_probe sp = {sc, path, verdict, set};
    return msim_bisect(o, probe_scenario, &sp, out, err);
}
