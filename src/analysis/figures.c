/* figures.c — key figures over a range of windows, read from the metric table
 * by role: offered load, goodput, amplification, wasted work, utilisation,
 * queues, latency. Used for the before/during/after table and for the
 * sustaining signals.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "analysis.h"

static double window_len_s(const msim_result *r, uint32_t w)
{
    msim_time t0 = (msim_time)w * r->window;
    msim_time t1 = t0 + r->window < r->horizon ? t0 + r->window : r->horizon;
    return msim_time_to_s(t1 - t0);
}

/* Time-weighted mean over [w0, w1) of the per-window sum of gauge columns. */
static double gauge_mean(const msim_result *r, msim_role role, uint32_t w0, uint32_t w1)
{
    double area = 0, len = 0;
    for (uint32_t w = w0; w < w1; w++) {
        double l = window_len_s(r, w);
        area += msim_result_role_sum(r, role, MSIM_AGG_MEAN, w, w + 1) * l;
        len += l;
    }
    return len > 0 ? area / len : NAN;
}

static double gauge_peak(const msim_result *r, msim_role role, uint32_t w0, uint32_t w1)
{
    double peak = 0;
    for (uint32_t w = w0; w < w1; w++) {
        double v = msim_result_role_sum(r, role, MSIM_AGG_MAX, w, w + 1);
        if (v > peak) peak = v;
    }
    return peak;
}

static double ratio(double a, double b)
{
    return b > 0 ? a / b : NAN;
}

msim_figures msim__figures(const msim_result *r, uint32_t w0, uint32_t w1, const msim_hist *lat)
{
    msim_figures f;
    memset(&f, 0, sizeof f);
    for (uint32_t w = w0; w < w1; w++)
        f.seconds += window_len_s(r, w);
#define RATE(role) ratio(msim_result_role_sum(r, MSIM_ROLE_##role, MSIM_AGG_SUM, w0, w1), f.seconds)
    f.offered_rps = RATE(OFFERED);
    f.goodput_rps = RATE(GOODPUT);
    f.nominal_rps = RATE(NOMINAL);
    f.failed_rps = RATE(FAILED);
    f.attempts_rps = RATE(ATTEMPTS);
    f.retries_rps = RATE(RETRIES);
    f.timeouts_rps = RATE(TIMEOUTS);
    f.rejected_rps = RATE(REJECTED);
#undef RATE
    f.amplification = ratio(f.attempts_rps, f.offered_rps);
    double work = msim_result_role_sum(r, MSIM_ROLE_WORK, MSIM_AGG_SUM, w0, w1);
    f.wasted_share = ratio(msim_result_role_sum(r, MSIM_ROLE_WASTED, MSIM_AGG_SUM, w0, w1), work);
    f.utilisation = ratio(gauge_mean(r, MSIM_ROLE_BUSY, w0, w1), gauge_mean(r, MSIM_ROLE_WORKERS, w0, w1));
    f.queue_mean = gauge_mean(r, MSIM_ROLE_QUEUE, w0, w1);
    f.queue_max = gauge_peak(r, MSIM_ROLE_QUEUE, w0, w1);
    f.queue_capacity = gauge_mean(r, MSIM_ROLE_QUEUE_CAP, w0, w1);
    if (lat && lat->count) {
        f.p50_s = msim_hist_quantile(lat, 0.50) / 1e9;
        f.p90_s = msim_hist_quantile(lat, 0.90) / 1e9;
        f.p99_s = msim_hist_quantile(lat, 0.99) / 1e9;
        f.max_s = (double)lat->max / 1e9;
    } else {
        f.p50_s = f.p90_s = f.p99_s = f.max_s = NAN;
    }
    if (w0 >= w1) f.seconds = 0;
    return f;
}

/* ---- sustaining signals ------------------------------------------------------------- */

static void add_signal(msim_verdict *v, const char *name, double value, double base,
                       const char *text)
{
    if (v->nsignals == MSIM_MAX_SIGNALS) return;
    msim_signal *s = &v->signals[v->nsignals++];
    s->name = name;
    s->value = value;
    s->baseline = base;
    snprintf(s->text, sizeof s->text, "%s", text);
}

static bool grew(double now, double base, double factor)
{
    return isnan(base) || base <= 0 || now >= factor * base;
}

void msim__signals(msim_verdict *v, const msim_figures *now, const msim_figures *base)
{
    char t[160];
    if (now->amplification >= 1.5 && grew(now->amplification, base->amplification, 1.3)) {
        snprintf(t, sizeof t, "amplification %.1fx attempts per request (baseline %.1fx)",
                 now->amplification, base->amplification);
        add_signal(v, "amplification", now->amplification, base->amplification, t);
    }
    if (now->wasted_share >= 0.2) {
        snprintf(t, sizeof t, "%.0f%% of server work wasted on attempts nobody waited for",
                 100 * now->wasted_share);
        add_signal(v, "wasted_work", now->wasted_share, base->wasted_share, t);
    }
    if (now->queue_capacity > 0 && now->queue_mean >= 0.8 * now->queue_capacity) {
        snprintf(t, sizeof t, "queues %.0f%% full (%.0f of %.0f slots)",
                 100 * now->queue_mean / now->queue_capacity, now->queue_mean, now->queue_capacity);
        add_signal(v, "queue_full", now->queue_mean / now->queue_capacity, NAN, t);
    } else if (now->queue_mean >= 10 && grew(now->queue_mean, base->queue_mean, 10)) {
        snprintf(t, sizeof t, "queue %.0f deep (baseline %.1f)", now->queue_mean, base->queue_mean);
        add_signal(v, "queue_backlog", now->queue_mean, base->queue_mean, t);
    }
    double attempts = now->attempts_rps;
    if (attempts > 0 && now->timeouts_rps / attempts >= 0.2) {
        snprintf(t, sizeof t, "%.0f%% of attempts time out", 100 * now->timeouts_rps / attempts);
        add_signal(v, "timeouts", now->timeouts_rps / attempts, base->timeouts_rps / base->attempts_rps, t);
    }
    if (attempts > 0 && now->rejected_rps / attempts >= 0.2) {
        snprintf(t, sizeof t, "%.0f%% of attempts rejected", 100 * now->rejected_rps / attempts);
        add_signal(v, "rejections", now->rejected_rps / attempts, NAN, t);
    }
    if (now->utilisation >= 0.95 && grew(now->utilisation, base->utilisation, 1.15)) {
        snprintf(t, sizeof t, "workers %.0f%% busy (baseline %.0f%%)", 100 * now->utilisation,
                 100 * base->utilisation);
        add_signal(v, "saturated", now->utilisation, base->utilisation, t);
    }
    if (now->p99_s > 0 && base->p99_s > 0 && now->p99_s >= 3 * base->p99_s) {
        snprintf(t, sizeof t, "p99 latency %.3gs (baseline %.3gs)", now->p99_s, base->p99_s);
        add_signal(v, "latency", now->p99_s, base->p99_s, t);
    }
}

/* ---- mitigation state ------------------------------------------------------------------
 * Client-side mitigations publish what they refused under roles; when they
 * refused much, the verdict says which one and how much, since a budget that
 * is exhausted, or a breaker that stays open, is part of the story of a run. */

/* The column with this role and aggregation holding the most over [w0, w1),
 * and that amount (time-weighted for gauges). */
static int top_column(const msim_result *r, msim_role role, msim_agg agg, uint32_t w0, uint32_t w1,
                      double *amount)
{
    int best = -1;
    *amount = 0;
    for (uint32_t c = 0; c < r->ncols; c++) {
        if (r->cols[c].role != role || r->cols[c].agg != agg) continue;
        double v = 0, len = 0;
        for (uint32_t w = w0; w < w1; w++) {
            double l = agg == MSIM_AGG_MEAN ? window_len_s(r, w) : 1;
            v += msim_result_at(r, w, (int)c) * l;
            len += l;
        }
        if (agg == MSIM_AGG_MEAN && len > 0) v /= len;
        if (best < 0 || v > *amount) best = (int)c, *amount = v;
    }
    return best;
}

/* ---- health churn ------------------------------------------------------------------------
 * Balancers count the hosts they take out of rotation or put back. A few such
 * changes are health checking doing its job; many per minute, far above the
 * baseline, are hosts flapping: the load they shed sinks the others, which
 * fail their checks in turn (the CDN that "rang"). */

static double per_minute(const msim_result *r, msim_role role, uint32_t w0, uint32_t w1)
{
    double secs = 0;
    for (uint32_t w = w0; w < w1; w++)
        secs += window_len_s(r, w);
    return secs > 0 ? 60 * msim_result_role_sum(r, role, MSIM_AGG_SUM, w0, w1) / secs : NAN;
}

static void health_signal(msim_verdict *v, const msim_result *r, uint32_t w0, uint32_t w1)
{
    char t[160];
    uint32_t b0, b1;
    msim_result_phase_windows(r, MSIM_PHASE_BEFORE, &b0, &b1);
    double now = per_minute(r, MSIM_ROLE_HEALTH_CHANGES, w0, w1);
    double base = per_minute(r, MSIM_ROLE_HEALTH_CHANGES, b0, b1);
    double top;
    int c = top_column(r, MSIM_ROLE_HEALTH_CHANGES, MSIM_AGG_SUM, w0, w1, &top);
    if (c < 0 || isnan(now) || now < 2 || !grew(now, base, 3)) return;
    snprintf(t, sizeof t,
             "health churn: %.1f hosts in or out of rotation per minute at %s (baseline %.1f)", now,
             r->cols[c].component, isnan(base) ? 0.0 : base);
    add_signal(v, "health_churn", now, base, t);
}

/* ---- amplification through layers ------------------------------------------------------
 * A service's calls to its dependencies are requests of their own, retried by
 * their own clients, so attempts multiply layer by layer: three layers of
 * three attempts put up to 27 on the deepest service for one request at the
 * top. The service that receives the most attempts per request offered to
 * the system shows how far a storm has multiplied, which the top-level
 * amplification (attempts the users' clients send) does not. */

static double column_sum(const msim_result *r, int c, uint32_t w0, uint32_t w1)
{
    double v = 0;
    for (uint32_t w = w0; w < w1; w++)
        v += msim_result_at(r, w, c);
    return v;
}

/* ---- garbage collection -----------------------------------------------------------------
 * A heap near its limit makes the collector take a growing share of the
 * workers' time, which lengthens queues, which fill the heap (OSDI'22 §5.1).
 * Named when the GC takes a quarter of all work or more. */

static double gauge_span_mean(const msim_result *r, msim_role role, uint32_t w0, uint32_t w1)
{
    return w1 > w0 ? gauge_mean(r, role, w0, w1) : NAN;
}

static void gc_signal(msim_verdict *v, const msim_result *r, uint32_t w0, uint32_t w1)
{
    char t[160];
    double top;
    int c = top_column(r, MSIM_ROLE_GC_TIME, MSIM_AGG_SUM, w0, w1, &top);
    double work = msim_result_role_sum(r, MSIM_ROLE_WORK, MSIM_AGG_SUM, w0, w1);
    double gc = msim_result_role_sum(r, MSIM_ROLE_GC_TIME, MSIM_AGG_SUM, w0, w1);
    if (c < 0 || work <= 0 || gc < 0.25 * work) return;
    double fill = ratio(gauge_span_mean(r, MSIM_ROLE_HEAP_USED, w0, w1),
                        gauge_span_mean(r, MSIM_ROLE_HEAP_LIMIT, w0, w1));
    snprintf(t, sizeof t, "garbage collection takes %.0f%% of worker time (most at %s; heaps %.0f%% full)",
             100 * gc / work, r->cols[c].component, 100 * fill);
    add_signal(v, "gc_pressure", gc / work, NAN, t);
}

static void layered_signal(msim_verdict *v, const msim_result *r, uint32_t w0, uint32_t w1)
{
    char t[160];
    uint32_t b0, b1;
    msim_result_phase_windows(r, MSIM_PHASE_BEFORE, &b0, &b1);
    double top;
    int c = top_column(r, MSIM_ROLE_ARRIVALS, MSIM_AGG_SUM, w0, w1, &top);
    double offered = msim_result_role_sum(r, MSIM_ROLE_OFFERED, MSIM_AGG_SUM, w0, w1);
    double attempts = msim_result_role_sum(r, MSIM_ROLE_ATTEMPTS, MSIM_AGG_SUM, w0, w1);
    if (c < 0 || offered <= 0) return;
    double now = top / offered;
    double base = ratio(column_sum(r, c, b0, b1),
                        msim_result_role_sum(r, MSIM_ROLE_OFFERED, MSIM_AGG_SUM, b0, b1));
    if (now < 3 || now < 1.5 * attempts / offered || !grew(now, base, 1.5)) return;
    snprintf(t, sizeof t, "%s receives %.1fx attempts per request (baseline %.1fx): retries "
             "multiply across layers", r->cols[c].component, now, isnan(base) ? 0.0 : base);
    add_signal(v, "layered_amplification", now, base, t);
}

/* ---- cache hit ratio ---------------------------------------------------------------------
 * A look-aside cache that lost its entries sends its misses to the store; when
 * the store then answers after the callers gave up, those misses never refill
 * the cache and its hit ratio stays down (the OSDI'22 look-aside cache loop).
 * Each cache's ratio (hits over lookups) is read against its own baseline;
 * the one that fell furthest is named. */

static int column_of(const msim_result *r, uint32_t comp, msim_role role)
{
    for (uint32_t c = 0; c < r->ncols; c++)
        if (r->cols[c].comp == comp && r->cols[c].role == role) return (int)c;
    return -1;
}

static void hit_ratio_signal(msim_verdict *v, const msim_result *r, uint32_t w0, uint32_t w1)
{
    uint32_t b0, b1;
    msim_result_phase_windows(r, MSIM_PHASE_BEFORE, &b0, &b1);
    int worst = -1;
    double worst_now = NAN, worst_base = NAN;
    for (uint32_t c = 0; c < r->ncols; c++) {
        if (r->cols[c].role != MSIM_ROLE_CACHE_HITS) continue;
        int l = column_of(r, r->cols[c].comp, MSIM_ROLE_CACHE_LOOKUPS);
        if (l < 0) continue;
        double now = ratio(msim_result_sum(r, (int)c, w0, w1), msim_result_sum(r, l, w0, w1));
        double base = ratio(msim_result_sum(r, (int)c, b0, b1), msim_result_sum(r, l, b0, b1));
        if (isnan(now) || isnan(base) || base - now < 0.1 || now > 0.8 * base) continue;
        if (worst < 0 || base - now > worst_base - worst_now)
            worst = (int)c, worst_now = now, worst_base = base;
    }
    if (worst < 0) return;
    char t[160];
    snprintf(t, sizeof t, "cache hit ratio %.0f%% at %s (baseline %.0f%%): its misses load the store",
             100 * worst_now, r->cols[worst].component, 100 * worst_base);
    add_signal(v, "hit_ratio_drop", worst_now, worst_base, t);
}

/* ---- server-side overload control --------------------------------------------------------
 * Services publish what they shed (over an admission limit, dropped by CoDel,
 * pushed out for a higher class) and the state of their controllers: the
 * share of replicas whose limit sits at its floor (Envoy pins it there while
 * measuring minRTT), and the share CoDel finds overloaded. */

static void server_signals(msim_verdict *v, const msim_result *r, uint32_t w0, uint32_t w1)
{
    char t[160];
    double top;
    int c = top_column(r, MSIM_ROLE_SHED, MSIM_AGG_SUM, w0, w1, &top);
    double shed = msim_result_role_sum(r, MSIM_ROLE_SHED, MSIM_AGG_SUM, w0, w1);
    double attempts = msim_result_role_sum(r, MSIM_ROLE_ATTEMPTS, MSIM_AGG_SUM, w0, w1);
    if (c >= 0 && shed > 0 && attempts > 0 && shed >= 0.2 * attempts) {
        snprintf(t, sizeof t, "%.0f%% of attempts shed by the servers (most by %s.%s)",
                 100 * shed / attempts, r->cols[c].component, r->cols[c].name);
        add_signal(v, "shed", shed / attempts, NAN, t);
    }
    c = top_column(r, MSIM_ROLE_CODEL_OVERLOADED, MSIM_AGG_MEAN, w0, w1, &top);
    if (c >= 0 && top >= 0.5) {
        snprintf(t, sizeof t, "CoDel dropping: %s overloaded %.0f%% of the time",
                 r->cols[c].component, 100 * top);
        add_signal(v, "codel_dropping", top, NAN, t);
    }
    c = top_column(r, MSIM_ROLE_LIMIT_PINNED, MSIM_AGG_MEAN, w0, w1, &top);
    if (c >= 0 && top >= 0.5) {
        snprintf(t, sizeof t, "admission limit of %s pinned at its minimum %.0f%% of the time",
                 r->cols[c].component, 100 * top);
        add_signal(v, "limit_pinned", top, NAN, t);
    }
}

/* ---- job SLOs ------------------------------------------------------------------------------
 * Job queues count, per job class with a latency SLO, the jobs that started
 * and those that had waited longer than the SLO. Many late starts, far above
 * the baseline, mean a class is starved or stuck behind other work. */

static void slo_signal(msim_verdict *v, const msim_result *r, uint32_t w0, uint32_t w1)
{
    uint32_t b0, b1;
    msim_result_phase_windows(r, MSIM_PHASE_BEFORE, &b0, &b1);
    double late = msim_result_role_sum(r, MSIM_ROLE_SLO_LATE, MSIM_AGG_SUM, w0, w1);
    double now = ratio(late, msim_result_role_sum(r, MSIM_ROLE_SLO_JOBS, MSIM_AGG_SUM, w0, w1));
    double base = ratio(msim_result_role_sum(r, MSIM_ROLE_SLO_LATE, MSIM_AGG_SUM, b0, b1),
                        msim_result_role_sum(r, MSIM_ROLE_SLO_JOBS, MSIM_AGG_SUM, b0, b1));
    double top;
    int c = top_column(r, MSIM_ROLE_SLO_LATE, MSIM_AGG_SUM, w0, w1, &top);
    if (c < 0 || isnan(now) || now < 0.1 || !grew(now, base, 2)) return;
    char t[160];
    snprintf(t, sizeof t, "%.0f%% of jobs started later than their SLO (most: %s.%s)", 100 * now,
             r->cols[c].component, r->cols[c].name);
    add_signal(v, "slo_missed", now, base, t);
}

/* ---- reconnect storms --------------------------------------------------------------------
 * A channel's instance that holds no READY connection fails (or holds) its
 * callers' attempts. Many such instances long after the trigger, with lookups
 * far above the baseline, mean the resolver cannot answer them: each failed
 * reconnect asks for a lookup, and each lookup that times out leaves the
 * instance with addresses that are dead (docs/reconnects.md). */

static void reconnect_signal(msim_verdict *v, const msim_result *r, uint32_t w0, uint32_t w1)
{
    double share;
    int c = top_column(r, MSIM_ROLE_DISCONNECTED, MSIM_AGG_MEAN, w0, w1, &share);
    if (c < 0 || share < 0.1) return;
    uint32_t b0, b1;
    msim_result_phase_windows(r, MSIM_PHASE_BEFORE, &b0, &b1);
    int l = column_of(r, r->cols[c].comp, MSIM_ROLE_LOOKUPS);
    double secs = 0, base_secs = 0;
    for (uint32_t w = w0; w < w1; w++)
        secs += window_len_s(r, w);
    for (uint32_t w = b0; w < b1; w++)
        base_secs += window_len_s(r, w);
    double now = l < 0 ? NAN : ratio(column_sum(r, l, w0, w1), secs);
    double base = l < 0 ? NAN : ratio(column_sum(r, l, b0, b1), base_secs);
    char t[160];
    snprintf(t, sizeof t,
             "%.0f%% of %s's instances without a ready connection; %.0f lookups/s (baseline %.1f/s)",
             100 * share, r->cols[c].component, now, isnan(base) ? 0.0 : base);
    add_signal(v, "disconnected", share, NAN, t);
}

/* ---- autoscaling -------------------------------------------------------------------------
 * An autoscaler publishes whether its metric asks for more than max_replicas
 * while it has them all (pinned: the capacity it may add is spent), and the
 * share of the replicas it wants, within the maximum, that do not serve yet
 * (lag: the sync period, the policies' rate limits and the warm-up). */

static void autoscaler_signal(msim_verdict *v, const msim_result *r, uint32_t w0, uint32_t w1)
{
    char t[160];
    double top;
    int c = top_column(r, MSIM_ROLE_SCALE_PINNED, MSIM_AGG_MEAN, w0, w1, &top);
    if (c >= 0 && top >= 0.5) {
        snprintf(t, sizeof t, "autoscaler %s pinned at max_replicas %.0f%% of the time",
                 r->cols[c].component, 100 * top);
        add_signal(v, "autoscaler_pinned", top, NAN, t);
    }
    c = top_column(r, MSIM_ROLE_SCALE_LAG, MSIM_AGG_MEAN, w0, w1, &top);
    if (c >= 0 && top >= 0.25) {
        snprintf(t, sizeof t,
                 "autoscaler %s lagging: %.0f%% of the replicas it wanted were not serving yet "
                 "(mean)",
                 r->cols[c].component, 100 * top);
        add_signal(v, "autoscaler_lag", top, NAN, t);
    }
}

void msim__mitigation_signals(msim_verdict *v, const msim_result *r, uint32_t w0, uint32_t w1)
{
    /* not mitigations, but read from single columns over the same span */
    autoscaler_signal(v, r, w0, w1);
    reconnect_signal(v, r, w0, w1);
    health_signal(v, r, w0, w1);
    layered_signal(v, r, w0, w1);
    gc_signal(v, r, w0, w1);
    hit_ratio_signal(v, r, w0, w1);
    slo_signal(v, r, w0, w1);
    char t[160];
    double top;
    int c = top_column(r, MSIM_ROLE_RETRIES_DENIED, MSIM_AGG_SUM, w0, w1, &top);
    double denied = msim_result_role_sum(r, MSIM_ROLE_RETRIES_DENIED, MSIM_AGG_SUM, w0, w1);
    double tried = denied + msim_result_role_sum(r, MSIM_ROLE_RETRIES, MSIM_AGG_SUM, w0, w1);
    if (c >= 0 && denied > 0 && denied >= 0.2 * tried) {
        snprintf(t, sizeof t, "%.0f%% of retries refused by the client's limits (most by %s.%s)",
                 100 * denied / tried, r->cols[c].component, r->cols[c].name);
        add_signal(v, "retries_denied", denied / tried, NAN, t);
    }
    c = top_column(r, MSIM_ROLE_BREAKER_OPEN, MSIM_AGG_MEAN, w0, w1, &top);
    if (c >= 0 && top >= 0.2) {
        snprintf(t, sizeof t, "circuit breaker of %s open %.0f%% of the time", r->cols[c].component,
                 100 * top);
        add_signal(v, "breaker_open", top, NAN, t);
    }
    c = top_column(r, MSIM_ROLE_FAST_FAILED, MSIM_AGG_SUM, w0, w1, &top);
    double fast = msim_result_role_sum(r, MSIM_ROLE_FAST_FAILED, MSIM_AGG_SUM, w0, w1);
    double offered = msim_result_role_sum(r, MSIM_ROLE_OFFERED, MSIM_AGG_SUM, w0, w1);
    if (c >= 0 && fast > 0 && offered > 0 && fast >= 0.2 * offered) {
        snprintf(t, sizeof t, "%.0f%% of requests failed fast at the client (most by %s.%s)",
                 100 * fast / offered, r->cols[c].component, r->cols[c].name);
        add_signal(v, "fast_failed", fast / offered, NAN, t);
    }
    server_signals(v, r, w0, w1);
}
