/* verdict.c — did the system recover?
 *
 * Each window gets an expected goodput: what a healthy system would deliver.
 * For an open-loop source that is its baseline success ratio (goodput over the
 * requests its schedule asked for, before any trigger) times what its schedule
 * asks for in that window — so a rate schedule does not read as degradation.
 * For a closed-loop source, which has no schedule, it is its mean baseline
 * goodput. A window is healthy when goodput is within `tolerance` of expected,
 * with an allowance of `noise_sigmas` Poisson standard deviations so low rates
 * are not judged on noise (and, if `latency_factor` is set, its p99 is within
 * that factor of the baseline p99).
 *
 * Verdicts (DESIGN.md §2): recovered at the first post-trigger window that
 * starts `hold` of healthy windows; metastable when still degraded at the
 * horizon at least `observe` after the last trigger; oscillating when the
 * post-trigger goodput keeps swinging with a dominant period; stable when no
 * window degraded; unhealthy-baseline when the baseline itself is degraded;
 * inconclusive when the run cannot tell.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"

static const msim_param verdict_params[] = {
    {"warmup", &msim_type_duration, offsetof(msim_verdict_cfg, warmup), "10s", 0, 1e300,
     "ignored at the start when forming the baseline", NULL, NULL},
    {"tolerance", &msim_type_fraction, offsetof(msim_verdict_cfg, tolerance), "10%",
     MSIM_UNBOUNDED, "healthy: goodput within this fraction of the expected goodput", NULL, NULL},
    {"hold", &msim_type_duration, offsetof(msim_verdict_cfg, hold), "30s", 1, 1e300,
     "recovered: healthy for this long without a break", NULL, NULL},
    {"observe", &msim_type_duration, offsetof(msim_verdict_cfg, observe), "60s", 0, 1e300,
     "metastable only if still degraded at least this long after the last trigger", NULL, NULL},
    {"latency_factor", &msim_type_number, offsetof(msim_verdict_cfg, latency_factor), "0", 0,
     1e9, "if > 0, healthy also needs p99 latency <= this x the baseline p99", NULL, NULL},
    {"noise_sigmas", &msim_type_number, offsetof(msim_verdict_cfg, noise_sigmas), "3", 0, 100,
     "allowance for Poisson noise in a window's goodput, in standard deviations", NULL, NULL},
    {"osc_amplitude", &msim_type_fraction, offsetof(msim_verdict_cfg, osc_amplitude), "20%",
     MSIM_UNBOUNDED, "oscillating: minimum half-swing of goodput, as a share of expected", NULL,
     NULL},
    {"osc_correlation", &msim_type_number, offsetof(msim_verdict_cfg, osc_correlation), "0.3", 0,
     1, "oscillating: minimum autocorrelation of goodput at its period", NULL, NULL},
};

const msim_schema msim_verdict_schema =
    MSIM_SCHEMA("verdict", "how the outcome is judged", verdict_params, msim_verdict_cfg, NULL);

static const char *const verdict_names[] = {
#define MSIM_VERDICT_NAME(id, name, doc) name,
    MSIM_VERDICT_MAP(MSIM_VERDICT_NAME)
#undef MSIM_VERDICT_NAME
};

const char *msim_verdict_name(msim_verdict_kind v)
{
    return (unsigned)v < MSIM_VERDICT_COUNT ? verdict_names[v] : "?";
}

/* ---- expected goodput --------------------------------------------------------------- */

static int column_of(const msim_result *r, uint32_t comp, msim_role role)
{
    for (uint32_t c = 0; c < r->ncols; c++)
        if (r->cols[c].comp == comp && r->cols[c].role == role && r->cols[c].agg == MSIM_AGG_SUM)
            return (int)c;
    return -1;
}

/* Add one source's expected goodput to r->expected; returns false if its
 * baseline is unhealthy (or absent), with the reason. */
static bool add_source(msim_result *r, uint32_t comp, int good, uint32_t b0, uint32_t b1,
                       char *why, size_t whylen)
{
    const msim_verdict_cfg *vc = &r->scenario->verdict;
    int nominal = column_of(r, comp, MSIM_ROLE_NOMINAL);
    int failed = column_of(r, comp, MSIM_ROLE_FAILED);
    double g = msim_result_sum(r, good, b0, b1);
    double f = failed >= 0 ? msim_result_sum(r, failed, b0, b1) : 0;
    const char *name = r->cols[good].component;
    if (g + f > 0 && f / (g + f) > vc->tolerance) {
        snprintf(why, whylen, "%s: %.0f%% of requests failed before any trigger", name,
                 100 * f / (g + f));
        return false;
    }
    if (nominal >= 0) {
        double n = msim_result_sum(r, nominal, b0, b1);
        double ratio = n > 0 ? g / n : 1;
        if (n > 0 && ratio < 1 - vc->tolerance - vc->noise_sigmas / sqrt(n)) {
            snprintf(why, whylen, "%s: goodput was %.0f%% of the offered load before any trigger",
                     name, 100 * ratio);
            return false;
        }
        for (uint32_t w = 0; w < r->nwin; w++)
            r->expected[w] += ratio * msim_result_at(r, w, nominal);
    } else {
        double mean = b1 > b0 ? g / (double)(b1 - b0) : 0;
        for (uint32_t w = 0; w < r->nwin; w++)
            r->expected[w] += mean;
    }
    return true;
}

static bool window_healthy(const msim_result *r, uint32_t w, double base_p99)
{
    const msim_verdict_cfg *vc = &r->scenario->verdict;
    double e = r->expected[w], g = r->goodput[w];
    if (e > 0 && g < (1 - vc->tolerance) * e - vc->noise_sigmas * sqrt(e)) return false;
    if (vc->latency_factor > 0 && base_p99 > 0 && r->p99_s[w] > vc->latency_factor * base_p99)
        return false;
    return true;
}

static void fill_series(msim_result *r)
{
    for (uint32_t w = 0; w < r->nwin; w++) {
        r->goodput[w] = msim_result_role_sum(r, MSIM_ROLE_GOODPUT, MSIM_AGG_SUM, w, w + 1);
        r->offered[w] = msim_result_role_sum(r, MSIM_ROLE_OFFERED, MSIM_AGG_SUM, w, w + 1);
        r->expected[w] = 0;
        /* the system p99: the worst source's p99 in the window */
        double p99 = NAN;
        for (uint32_t c = 0; c < r->ncols; c++) {
            const msim_column *col = &r->cols[c];
            if (col->role != MSIM_ROLE_LATENCY || col->agg != MSIM_AGG_QUANTILE) continue;
            size_t len = strlen(col->name);
            if (len < 4 || strcmp(col->name + len - 4, "_p99") != 0) continue;
            double v = msim_result_at(r, w, (int)c);
            if (!isnan(v) && (isnan(p99) || v > p99)) p99 = v;
        }
        r->p99_s[w] = p99;
    }
}

/* ---- the judgement ---------------------------------------------------------------------- */

typedef struct judge {
    msim_result *r;
    msim_verdict *v;
    uint32_t b0, b1; /* baseline windows */
    uint32_t a0;     /* first post-trigger window */
    uint32_t hold;   /* windows */
    double base_p99;
} judge;

static void say(msim_verdict *v, msim_verdict_kind k, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static void say(msim_verdict *v, msim_verdict_kind k, const char *fmt, ...)
{
    v->kind = k;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->reason, sizeof v->reason, fmt, ap);
    va_end(ap);
}

static bool baseline_ok(judge *j)
{
    msim_result *r = j->r;
    if (j->b1 - j->b0 < 3) {
        say(j->v, MSIM_VERDICT_INCONCLUSIVE,
            "the baseline is %u window(s) long: start the first trigger later or shorten the warm-up",
            j->b1 - j->b0);
        return false;
    }
    char why[200] = "";
    for (uint32_t c = 0; c < r->ncols; c++) {
        if (r->cols[c].role != MSIM_ROLE_GOODPUT || r->cols[c].agg != MSIM_AGG_SUM) continue;
        if (!add_source(r, r->cols[c].comp, (int)c, j->b0, j->b1, why, sizeof why)) {
            say(j->v, MSIM_VERDICT_UNHEALTHY_BASELINE, "%s", why);
            return false;
        }
    }
    return true;
}

/* First window from `from` that starts `hold` healthy windows, or UINT32_MAX. */
static uint32_t first_recovery(const judge *j, uint32_t from)
{
    uint32_t run = 0;
    for (uint32_t w = from; w < j->r->nwin; w++) {
        run = j->r->health[w] > 0 ? run + 1 : 0;
        if (run >= j->hold) return w + 1 - run;
    }
    return UINT32_MAX;
}

static bool any_degraded(const judge *j, uint32_t w0, uint32_t w1)
{
    for (uint32_t w = w0; w < w1; w++)
        if (j->r->health[w] == 0) return true;
    return false;
}

/* goodput / expected over [w0, w1) */
static double level(const msim_result *r, uint32_t w0, uint32_t w1)
{
    double g = 0, e = 0;
    for (uint32_t w = w0; w < w1; w++) {
        g += r->goodput[w];
        e += r->expected[w];
    }
    return e > 0 ? g / e : 1;
}

static bool oscillating(judge *j)
{
    msim_result *r = j->r;
    uint32_t n = r->nwin - j->a0;
    double *x = malloc((n + 1) * sizeof *x);
    if (!x) return false;
    for (uint32_t i = 0; i < n; i++) {
        double e = r->expected[j->a0 + i];
        x[i] = e > 0 ? r->goodput[j->a0 + i] / e : 1;
    }
    const msim_verdict_cfg *vc = &r->scenario->verdict;
    msim_oscillation o = msim_detect_oscillation(x, n, vc->osc_amplitude, vc->osc_correlation);
    free(x);
    if (!o.found) return false;
    uint32_t tail = (uint32_t)ceil(2 * o.period);
    if (!any_degraded(j, r->nwin - tail, r->nwin)) return false;
    j->v->period_s = o.period * msim_time_to_s(r->window);
    j->v->amplitude = o.amplitude;
    j->v->correlation = o.correlation;
    say(j->v, MSIM_VERDICT_OSCILLATING,
        "goodput keeps swinging after the trigger: period %.3gs, amplitude %.0f%% of expected",
        j->v->period_s, 100 * o.amplitude);
    return true;
}

static void after_triggers(judge *j)
{
    msim_result *r = j->r;
    const msim_verdict_cfg *vc = &r->scenario->verdict;
    double observed = msim_time_to_s(r->horizon - r->last_trigger_end);
    if (oscillating(j)) return;
    if (!any_degraded(j, j->b1, r->nwin)) {
        say(j->v, MSIM_VERDICT_STABLE, "goodput never fell below %.0f%% of expected",
            100 * (1 - vc->tolerance));
        return;
    }
    uint32_t rec = first_recovery(j, j->a0);
    if (rec != UINT32_MAX) {
        msim_time t = (msim_time)rec * r->window - r->last_trigger_end;
        j->v->recovery_s = msim_time_to_s(t > 0 ? t : 0);
        say(j->v, MSIM_VERDICT_RECOVERED, "back within %.0f%% of expected goodput %.3gs after the trigger ended",
            100 * vc->tolerance, j->v->recovery_s);
        return;
    }
    if (r->horizon - r->last_trigger_end < vc->observe) {
        say(j->v, MSIM_VERDICT_INCONCLUSIVE,
            "only %.3gs observed after the last trigger; metastability needs %.3gs (verdict.observe)",
            observed, msim_time_to_s(vc->observe));
        return;
    }
    uint32_t tail0 = r->nwin > j->hold ? r->nwin - j->hold : 0;
    if (tail0 < j->a0) tail0 = j->a0;
    uint32_t bad = 0;
    for (uint32_t w = tail0; w < r->nwin; w++)
        bad += r->health[w] == 0;
    if (2 * bad >= r->nwin - tail0) {
        j->v->degraded_level = level(r, tail0, r->nwin);
        say(j->v, MSIM_VERDICT_METASTABLE,
            "still degraded %.3gs after the trigger ended: goodput at %.0f%% of expected",
            observed, 100 * j->v->degraded_level);
        return;
    }
    say(j->v, MSIM_VERDICT_INCONCLUSIVE,
        "improving at the horizon but not yet healthy for %.3gs (verdict.hold)",
        msim_time_to_s(vc->hold));
}

static void no_triggers(judge *j)
{
    for (uint32_t w = j->b0; w < j->r->nwin; w++) {
        if (j->r->health[w] == 0) {
            say(j->v, MSIM_VERDICT_UNHEALTHY_BASELINE, "degraded at %.3gs without any trigger",
                msim_time_to_s((msim_time)w * j->r->window));
            return;
        }
    }
    say(j->v, MSIM_VERDICT_STABLE, "no trigger, and goodput stayed within %.0f%% of expected",
        100 * j->r->scenario->verdict.tolerance);
}

/* ---- figures and signals --------------------------------------------------------------------- */

static void phase_figures(msim_result *r)
{
    for (int p = 0; p < MSIM_PHASE_COUNT; p++) {
        uint32_t w0, w1;
        msim_result_phase_windows(r, (msim_phase)p, &w0, &w1);
        r->phase[p] = msim__figures(r, w0, w1, &r->latency[p]);
    }
}

/* Signals are read where the verdict was decided: the last `hold` of the run
 * for a system that did not recover, the trigger and the recovery for one
 * that did. */
static void find_signals(judge *j)
{
    msim_result *r = j->r;
    msim_verdict *v = j->v;
    uint32_t w0 = r->nwin > j->hold ? r->nwin - j->hold : 0, w1 = r->nwin;
    if (v->kind == MSIM_VERDICT_STABLE || v->kind == MSIM_VERDICT_UNHEALTHY_BASELINE) {
        if (v->kind == MSIM_VERDICT_STABLE) return;
        w0 = j->b0;
    } else if (v->kind == MSIM_VERDICT_RECOVERED) {
        msim_result_phase_windows(r, MSIM_PHASE_DURING, &w0, &w1);
        w1 = j->a0 + (uint32_t)(v->recovery_s / msim_time_to_s(r->window));
    } else if (v->kind == MSIM_VERDICT_OSCILLATING) {
        w0 = j->a0;
    }
    if (w0 < j->b1 && v->kind != MSIM_VERDICT_UNHEALTHY_BASELINE) w0 = j->b1;
    if (w1 > r->nwin) w1 = r->nwin;
    msim_figures now = msim__figures(r, w0, w1, NULL);
    uint32_t b0, b1;
    msim_result_phase_windows(r, MSIM_PHASE_BEFORE, &b0, &b1);
    msim_figures base = msim__figures(r, b0, b1, &r->latency[MSIM_PHASE_BEFORE]);
    /* p99 over the span, from the per-window p99s (the worst window) */
    now.p99_s = NAN;
    for (uint32_t w = w0; w < w1; w++)
        if (!isnan(r->p99_s[w]) && (isnan(now.p99_s) || r->p99_s[w] > now.p99_s)) now.p99_s = r->p99_s[w];
    msim__signals(v, &now, &base);
    msim__mitigation_signals(v, r, w0, w1);
}

void msim_analyze(msim_result *r)
{
    msim_verdict *v = &r->verdict;
    memset(v, 0, sizeof *v);
    v->recovery_s = v->degraded_level = v->period_s = v->amplitude = v->correlation = NAN;
    fill_series(r);
    phase_figures(r);
    judge j = {.r = r, .v = v};
    msim_result_phase_windows(r, MSIM_PHASE_BEFORE, &j.b0, &j.b1);
    j.hold = (uint32_t)((r->scenario->verdict.hold + r->window - 1) / r->window);
    j.a0 = r->nwin;
    if (r->first_trigger != MSIM_NEVER) {
        uint32_t a1;
        msim_result_phase_windows(r, MSIM_PHASE_AFTER, &j.a0, &a1);
        if (j.a0 == a1) j.a0 = r->nwin;
    }
    j.base_p99 = r->phase[MSIM_PHASE_BEFORE].p99_s;
    v->baseline_p99_s = j.base_p99;
    double nominal = msim_result_role_sum(r, MSIM_ROLE_NOMINAL, MSIM_AGG_SUM, j.b0, j.b1);
    double good = msim_result_role_sum(r, MSIM_ROLE_GOODPUT, MSIM_AGG_SUM, j.b0, j.b1);
    v->baseline_ratio = nominal > 0 ? good / nominal : NAN;
    if (baseline_ok(&j)) {
        for (uint32_t w = 0; w < r->nwin; w++)
            r->health[w] = window_healthy(r, w, j.base_p99) ? 1 : 0;
        if (r->first_trigger == MSIM_NEVER)
            no_triggers(&j);
        else if (r->last_trigger_end >= r->horizon || j.a0 >= r->nwin)
            say(v, MSIM_VERDICT_INCONCLUSIVE, "a trigger is still active at the end of the run");
        else
            after_triggers(&j);
    } else {
        for (uint32_t w = 0; w < r->nwin; w++)
            r->health[w] = NAN;
    }
    find_signals(&j);
}
