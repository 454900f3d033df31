/* admission.c — admission limits for the service kind (see admission.h): the
 * Netflix concurrency-limits algorithms and Envoy's gradient controller, each
 * transcribed from its source, behind one table of policy descriptors.
 *
 * Sources (Netflix/concurrency-limits at 78a74b9, 2026; envoyproxy/envoy):
 *   concurrency-limits-core/.../limit/AIMDLimit.java, VegasLimit.java,
 *   Gradient2Limit.java, measurement/ExpAvgMeasurement.java,
 *   functions/Log10RootIntFunction.java, limiter/AbstractLimiter.java,
 *   SimpleLimiter.java; concurrency-limits-grpc/.../ConcurrencyLimitServerInterceptor.java
 *   source/extensions/filters/http/adaptive_concurrency/controller/gradient_controller.cc,
 *   adaptive_concurrency_filter.cc; api/.../adaptive_concurrency/v3/adaptive_concurrency.proto
 */
#include <math.h>
#include <stddef.h>

#include "admission.h"

/* ---- parameters ------------------------------------------------------------------------- */

static const msim_choice policies[] = {
#define ADM_CHOICE(id, name, doc) {name, doc},
    ADMISSION_POLICIES(ADM_CHOICE)
#undef ADM_CHOICE
        {NULL, NULL},
};

static const msim_param fixed_params[] = {
    {"limit", &msim_type_count, offsetof(fixed_limit_cfg, limit), "unlimited", 1, 1e9,
     "attempts a replica holds at once (queued or in service)", NULL, NULL},
};

static const msim_param aimd_params[] = {
    {"initial_limit", &msim_type_int, offsetof(aimd_cfg, initial_limit), "20", 1, 1e9,
     "the limit before the first sample", NULL, "initialLimit"},
    {"min_limit", &msim_type_int, offsetof(aimd_cfg, min_limit), "20", 1, 1e9,
     "the limit never falls below it", NULL, "minLimit"},
    {"max_limit", &msim_type_int, offsetof(aimd_cfg, max_limit), "200", 1, 1e9,
     "the limit never rises above it", NULL, "maxLimit"},
    {"backoff_ratio", &msim_type_number, offsetof(aimd_cfg, backoff_ratio), "0.9", 0.5, 0.9999,
     "on a drop the limit becomes floor(limit x backoff_ratio); Netflix allows [0.5, 1)", NULL,
     "backoffRatio"},
    {"timeout", &msim_type_duration, offsetof(aimd_cfg, timeout), "5s", 1, 1e15,
     "a round-trip time above it counts as a drop", NULL, NULL},
};

static const msim_param vegas_params[] = {
    {"initial_limit", &msim_type_int, offsetof(vegas_cfg, initial_limit), "20", 1, 1e9,
     "the limit before the first sample", NULL, "initialLimit"},
    {"max_concurrency", &msim_type_int, offsetof(vegas_cfg, max_concurrency), "1000", 1, 1e9,
     "the limit never rises above it", NULL, "maxConcurrency"},
    {"smoothing", &msim_type_number, offsetof(vegas_cfg, smoothing), "1", 0, 1,
     "weight of a new limit against the old one", NULL, NULL},
    {"probe_multiplier", &msim_type_int, offsetof(vegas_cfg, probe_multiplier), "30", 1, 1e9,
     "rtt_noload is re-measured every probe_multiplier x limit x U(0.5, 1) samples", NULL,
     "probeMultiplier"},
};

static const msim_param gradient2_params[] = {
    {"initial_limit", &msim_type_int, offsetof(gradient2_cfg, initial_limit), "20", 1, 1e9,
     "the limit before the first sample", NULL, "initialLimit"},
    {"min_limit", &msim_type_int, offsetof(gradient2_cfg, min_limit), "20", 1, 1e9,
     "the limit never falls below it", NULL, "minLimit"},
    {"max_concurrency", &msim_type_int, offsetof(gradient2_cfg, max_concurrency), "200", 1, 1e9,
     "the limit never rises above it", NULL, "maxConcurrency"},
    {"smoothing", &msim_type_number, offsetof(gradient2_cfg, smoothing), "0.2", 0, 1,
     "weight of a new limit against the old one", NULL, NULL},
    {"queue_size", &msim_type_int, offsetof(gradient2_cfg, queue_size), "4", 0, 1e9,
     "added to limit x gradient: the queue allowed to form", NULL, "queueSize"},
    {"long_window", &msim_type_int, offsetof(gradient2_cfg, long_window), "600", 1, 1e9,
     "samples in the long-term RTT average (an EWMA with factor 2 / (long_window + 1))", NULL,
     "longWindow"},
    {"rtt_tolerance", &msim_type_number, offsetof(gradient2_cfg, rtt_tolerance), "1.5", 1, 1e6,
     "the short-term RTT may be this many times the long-term one before the limit falls", NULL,
     "rttTolerance"},
};

static const msim_param envoy_limit_params[] = {
    {"max_concurrency_limit", &msim_type_int,
     offsetof(envoy_limit_params_cfg, max_concurrency_limit), "1000", 1, 1e9,
     "the limit never rises above it", NULL, NULL},
    {"concurrency_update_interval", &msim_type_duration,
     offsetof(envoy_limit_params_cfg, concurrency_update_interval), "100ms", 1e6, 1e13,
     "how often the limit is recomputed from the latencies sampled since (required in Envoy; "
     "100ms in its docs)",
     NULL, NULL},
};

static const msim_schema envoy_limit_schema =
    MSIM_SCHEMA("concurrency_limit_params", "how the limit is recomputed", envoy_limit_params,
                envoy_limit_params_cfg, NULL);

static const msim_param envoy_min_rtt_params[] = {
    {"interval", &msim_type_duration, offsetof(envoy_min_rtt_params_cfg, interval), "60s", 1e6,
     1e15, "time between minRTT measurements (Envoy's docs use 60s)", NULL, NULL},
    {"request_count", &msim_type_int, offsetof(envoy_min_rtt_params_cfg, request_count), "50", 1,
     1e9, "latency samples a minRTT measurement takes", NULL, NULL},
    {"jitter", &msim_type_fraction, offsetof(envoy_min_rtt_params_cfg, jitter), "15%", 0, 1,
     "a measurement starts up to this share of interval late, at random", NULL, NULL},
    {"min_concurrency", &msim_type_int, offsetof(envoy_min_rtt_params_cfg, min_concurrency), "3", 1,
     1e9, "the limit while minRTT is measured, and its floor", NULL, NULL},
    {"buffer", &msim_type_fraction, offsetof(envoy_min_rtt_params_cfg, buffer), "25%", 0, 10,
     "added to minRTT before it is compared with the sampled latency", NULL, NULL},
};

static const msim_schema envoy_min_rtt_schema =
    MSIM_SCHEMA("min_rtt_calc_params", "how minRTT is measured", envoy_min_rtt_params,
                envoy_min_rtt_params_cfg, NULL);

static const msim_param envoy_params[] = {
    {"sample_aggregate_percentile", &msim_type_fraction,
     offsetof(envoy_gradient_cfg, sample_aggregate_percentile), "50%", 0, 1,
     "the percentile of a window's latencies taken as its sampleRTT (and as minRTT)", NULL, NULL},
    {"concurrency_limit_params", &msim_type_struct,
     offsetof(envoy_gradient_cfg, concurrency_limit_params), NULL, MSIM_UNBOUNDED,
     "how the limit is recomputed", &envoy_limit_schema, NULL},
    {"min_rtt_calc_params", &msim_type_struct, offsetof(envoy_gradient_cfg, min_rtt_calc_params),
     NULL, MSIM_UNBOUNDED, "how minRTT is measured", &envoy_min_rtt_schema, NULL},
};

static const msim_schema fixed_schema =
    MSIM_SCHEMA("fixed", "policy fixed", fixed_params, fixed_limit_cfg, NULL);
static const msim_schema aimd_schema =
    MSIM_SCHEMA("aimd", "policy aimd (Netflix AIMDLimit)", aimd_params, aimd_cfg, NULL);
static const msim_schema vegas_schema =
    MSIM_SCHEMA("vegas", "policy vegas (Netflix VegasLimit)", vegas_params, vegas_cfg, NULL);
static const msim_schema gradient2_schema =
    MSIM_SCHEMA("gradient2", "policy gradient2 (Netflix Gradient2Limit)", gradient2_params,
                gradient2_cfg, NULL);
static const msim_schema envoy_schema =
    MSIM_SCHEMA("envoy_gradient", "policy envoy_gradient (Envoy GradientControllerConfig)",
                envoy_params, envoy_gradient_cfg, NULL);

static const msim_param admission_params[] = {
    {"policy", &msim_type_enum, offsetof(admission_cfg, policy), "none", MSIM_UNBOUNDED,
     "how each replica's limit is set; over it an attempt is rejected at once", policies, NULL},
    {"fixed", &msim_type_struct, offsetof(admission_cfg, fixed), NULL, MSIM_UNBOUNDED,
     "policy fixed: the limit", &fixed_schema, NULL},
    {"aimd", &msim_type_struct, offsetof(admission_cfg, aimd), NULL, MSIM_UNBOUNDED,
     "policy aimd: Netflix AIMDLimit", &aimd_schema, NULL},
    {"vegas", &msim_type_struct, offsetof(admission_cfg, vegas), NULL, MSIM_UNBOUNDED,
     "policy vegas: Netflix VegasLimit", &vegas_schema, NULL},
    {"gradient2", &msim_type_struct, offsetof(admission_cfg, gradient2), NULL, MSIM_UNBOUNDED,
     "policy gradient2: Netflix Gradient2Limit", &gradient2_schema, NULL},
    {"envoy_gradient", &msim_type_struct, offsetof(admission_cfg, envoy_gradient), NULL,
     MSIM_UNBOUNDED, "policy envoy_gradient: Envoy's adaptive concurrency filter", &envoy_schema,
     NULL},
};

static int check_admission(msim_bind *b, const msim_node *n, void *p)
{
    const admission_cfg *c = p;
    if (c->policy == ADM_FIXED && c->fixed.limit == MSIM_UNLIMITED)
        return msim_bind_fail(b, n, -MSIM_EMISSING, "policy fixed needs fixed: {limit: N}");
    return 0;
}

const msim_schema admission_schema =
    MSIM_SCHEMA("admission", "a limit on the attempts each replica holds", admission_params,
                admission_cfg, check_admission);

/* ---- AIMDLimit ------------------------------------------------------------------------------ */

static int clamp_int(int v, int64_t lo, int64_t hi)
{
    return v < lo ? (int)lo : v > hi ? (int)hi : v;
}

int aimd_update(const aimd_cfg *cfg, int limit, msim_time rtt, int inflight, bool dropped)
{
    if (dropped || rtt > cfg->timeout)
        limit = (int)(limit * cfg->backoff_ratio);
    else if (inflight * 2 >= limit) /* no growth while the limit is not used */
        limit = limit + 1;
    return clamp_int(limit, cfg->min_limit, cfg->max_limit);
}

/* ---- VegasLimit ------------------------------------------------------------------------------ */

/* Log10RootIntFunction: max(1, (int) log10 t) below 1000, (int) log10 t above. */
static int log10_root(int t)
{
    if (t >= 1000) return (int)log10(t);
    return t < 10 ? 1 : (int)log10(t);
}

void vegas_init(vegas *v, const vegas_cfg *cfg, msim_rng *rng)
{
    *v = (vegas){.cfg = cfg, .estimated = (double)cfg->initial_limit};
    v->probe_jitter = 0.5 + 0.5 * msim_rng_u01(rng);
}

static int vegas_estimate(vegas *v, msim_time rtt, int inflight, bool dropped)
{
    double est = v->estimated, next;
    int queue = (int)ceil(est * (1 - (double)v->rtt_noload / (double)rtt));
    int f = log10_root((int)est);
    if (dropped) {
        next = est - f;
    } else if (inflight * 2 < est) { /* prevent upward drift if not close to the limit */
        return (int)est;
    } else if (queue <= f) { /* threshold: no queueing, grow by beta */
        next = est + 6 * f;
    } else if (queue < 3 * f) { /* alpha */
        next = est + f;
    } else if (queue > 6 * f) { /* beta */
        next = est - f;
    } else {
        return (int)est;
    }
    next = fmax(1, fmin((double)v->cfg->max_concurrency, next));
    next = (1 - v->cfg->smoothing) * est + v->cfg->smoothing * next;
    v->estimated = next;
    return (int)next;
}

int vegas_update(vegas *v, msim_time rtt, int inflight, bool dropped, msim_rng *rng)
{
    if (rtt <= 0) rtt = 1; /* Java throws; a simulated 0 is just very fast */
    v->probe_count++;
    if (v->probe_jitter * (double)v->cfg->probe_multiplier * v->estimated <=
        (double)v->probe_count) { /* shouldProbe: take this RTT as the new no-load RTT */
        v->probe_jitter = 0.5 + 0.5 * msim_rng_u01(rng);
        v->probe_count = 0;
        v->rtt_noload = rtt;
        return (int)v->estimated;
    }
    if (v->rtt_noload == 0 || rtt < v->rtt_noload) {
        v->rtt_noload = rtt;
        return (int)v->estimated;
    }
    return vegas_estimate(v, rtt, inflight, dropped);
}

/* ---- Gradient2Limit -------------------------------------------------------------------------- */

void gradient2_init(gradient2 *g, const gradient2_cfg *cfg)
{
    *g = (gradient2){.cfg = cfg, .estimated = (double)cfg->initial_limit};
}

/* ExpAvgMeasurement.add: a plain mean over the first 10 samples (warm-up),
 * then an EWMA with factor 2 / (window + 1). */
static double long_rtt_add(gradient2 *g, double x)
{
    if (g->long_count < 10) {
        g->long_count++;
        g->long_sum += x;
        g->long_rtt = g->long_sum / (double)g->long_count;
    } else {
        double f = 2.0 / (double)(g->cfg->long_window + 1);
        g->long_rtt = g->long_rtt * (1 - f) + x * f;
    }
    return g->long_rtt;
}

int gradient2_update(gradient2 *g, msim_time rtt, int inflight)
{
    const gradient2_cfg *cfg = g->cfg;
    double est = g->estimated;
    double short_rtt = (double)(rtt > 0 ? rtt : 1);
    double long_rtt = long_rtt_add(g, short_rtt);
    /* fast recovery: after a long overload the long-term RTT is decayed at
     * once rather than waiting for the EWMA (the local copy stays) */
    if (long_rtt / short_rtt > 2) g->long_rtt *= 0.95;
    if (inflight < est / 2) return (int)est; /* app-limited: don't grow */
    double gradient = fmax(0.5, fmin(1.0, cfg->rtt_tolerance * long_rtt / short_rtt));
    double next = est * gradient + (double)cfg->queue_size;
    next = est * (1 - cfg->smoothing) + next * cfg->smoothing;
    next = fmax((double)cfg->min_limit, fmin((double)cfg->max_concurrency, next));
    g->estimated = next;
    return (int)next;
}

/* ---- Envoy GradientController ---------------------------------------------------------------- */

static uint32_t envoy_min(const envoy_gradient *e)
{
    return (uint32_t)e->cfg->min_rtt_calc_params.min_concurrency;
}

/* updateConcurrencyLimit: five windows in a row at the minimum (outside a
 * measurement) suggest a bad minRTT: measure it again at once. */
static void envoy_set_limit(envoy_gradient *e, uint32_t limit, msim_time now)
{
    uint32_t old = e->limit;
    e->limit = limit;
    if (!envoy_gradient_measuring(e) && old == envoy_min(e) && limit == envoy_min(e))
        e->consecutive_min++;
    else
        e->consecutive_min = 0;
    if (e->consecutive_min >= 5) e->window_at = now;
}

/* enterMinRTTSamplingWindow: pin the limit, forget older samples. */
static void envoy_enter_window(envoy_gradient *e, msim_time now)
{
    if (envoy_gradient_measuring(e)) return;
    e->deferred = e->limit;
    envoy_set_limit(e, envoy_min(e), now);
    msim_hist_clear(e->hist);
    e->epoch = now;
}

void envoy_gradient_init(envoy_gradient *e, const envoy_gradient_cfg *cfg, msim_hist *hist,
                         msim_time now)
{
    *e = (envoy_gradient){.cfg = cfg, .hist = hist, .window_at = MSIM_NEVER};
    e->limit = envoy_min(e);
    envoy_enter_window(e, now);
    e->reset_at = now + cfg->concurrency_limit_params.concurrency_update_interval;
}

/* processLatencySamplesAndClear: the configured percentile of the window. */
static msim_time envoy_aggregate(envoy_gradient *e)
{
    double q = msim_hist_quantile(e->hist, e->cfg->sample_aggregate_percentile);
    msim_hist_clear(e->hist);
    return q >= 1 ? (msim_time)q : 1;
}

/* applyJitter: interval + (random % ceil(interval_ms x jitter)) ms. */
static msim_time envoy_jittered(const envoy_gradient *e, msim_rng *rng)
{
    const envoy_min_rtt_params_cfg *p = &e->cfg->min_rtt_calc_params;
    int64_t ms = p->interval / MSIM_MS;
    if (p->jitter == 0) return ms * MSIM_MS;
    uint64_t range = (uint64_t)ceil((double)ms * p->jitter);
    return (ms + (int64_t)(range ? msim_rng_next(rng) % range : 0)) * MSIM_MS;
}

/* updateMinRTT: a measurement ends when it has request_count samples. */
static void envoy_update_min_rtt(envoy_gradient *e, msim_time now, msim_rng *rng)
{
    if (!envoy_gradient_measuring(e) ||
        e->hist->count < (uint64_t)e->cfg->min_rtt_calc_params.request_count)
        return;
    e->min_rtt = envoy_aggregate(e);
    envoy_set_limit(e, e->deferred, now);
    e->deferred = 0;
    e->window_at = now + envoy_jittered(e, rng);
    e->reset_at = now + e->cfg->concurrency_limit_params.concurrency_update_interval;
}

void envoy_gradient_sample(envoy_gradient *e, msim_time admitted, msim_time now, msim_rng *rng)
{
    if (admitted < e->epoch) return; /* admitted before the current minRTT window */
    msim_hist_record(e->hist, (uint64_t)(now - admitted));
    envoy_update_min_rtt(e, now, rng);
}

/* calculateNewLimit: gradient = (minRTT + buffer) / sampleRTT in [0.5, 2];
 * limit x gradient plus a headroom of its square root. */
static uint32_t envoy_new_limit(const envoy_gradient *e)
{
    double buffered = (double)e->min_rtt * (1 + e->cfg->min_rtt_calc_params.buffer);
    double gradient = fmax(0.5, fmin(2.0, buffered / (double)e->sample_rtt));
    double limit = e->limit * gradient;
    uint32_t next = (uint32_t)(limit + sqrt(limit));
    uint32_t max = (uint32_t)e->cfg->concurrency_limit_params.max_concurrency_limit;
    return next < envoy_min(e) ? envoy_min(e) : next > max ? max : next;
}

/* The sample reset timer: in a measurement it lapses (re-armed when the
 * measurement ends); otherwise a window with samples sets a new limit. */
static void envoy_reset_window(envoy_gradient *e, msim_time now)
{
    e->reset_at = MSIM_NEVER;
    if (envoy_gradient_measuring(e)) return;
    if (e->hist->count > 0) {
        e->sample_rtt = envoy_aggregate(e);
        envoy_set_limit(e, envoy_new_limit(e), now);
    }
    e->reset_at = now + e->cfg->concurrency_limit_params.concurrency_update_interval;
}

void envoy_gradient_tick(envoy_gradient *e, msim_time now, msim_rng *rng)
{
    (void)rng;
    if (e->reset_at <= now) envoy_reset_window(e, now);
    if (e->window_at <= now) {
        e->window_at = MSIM_NEVER;
        envoy_enter_window(e, now);
    }
}

/* ---- the policy table ------------------------------------------------------------------------ */

struct adm_policy {
    /* Set up replica r; return its first limit. */
    uint32_t (*init)(admission *a, adm_replica *r, msim_time now);
    /* A sample (see admission_sample); return the new limit. */
    uint32_t (*sample)(admission *a, adm_replica *r, msim_time admitted, msim_time now,
                       bool dropped);
    /* Timers came due (NULL: the policy has none). */
    void (*tick)(admission *a, adm_replica *r, msim_time now);
    /* The floor the limit can be pinned at (0: none). */
    uint32_t (*floor)(const admission_cfg *cfg);
};

static uint32_t fixed_init(admission *a, adm_replica *r, msim_time now)
{
    (void)r, (void)now;
    return (uint32_t)a->cfg->fixed.limit;
}

static uint32_t fixed_sample(admission *a, adm_replica *r, msim_time admitted, msim_time now,
                             bool dropped)
{
    (void)a, (void)admitted, (void)now, (void)dropped;
    return r->limit;
}

static uint32_t no_floor(const admission_cfg *cfg)
{
    (void)cfg;
    return 0;
}

static uint32_t aimd_init(admission *a, adm_replica *r, msim_time now)
{
    (void)r, (void)now;
    return (uint32_t)a->cfg->aimd.initial_limit;
}

static uint32_t aimd_sample(admission *a, adm_replica *r, msim_time admitted, msim_time now,
                            bool dropped)
{
    return (uint32_t)aimd_update(&a->cfg->aimd, (int)r->limit, now - admitted, (int)r->inflight,
                                 dropped);
}

static uint32_t aimd_floor(const admission_cfg *cfg)
{
    return (uint32_t)cfg->aimd.min_limit;
}

static uint32_t vegas_init_r(admission *a, adm_replica *r, msim_time now)
{
    (void)now;
    vegas_init(&r->u.vegas, &a->cfg->vegas, &a->rng);
    return (uint32_t)a->cfg->vegas.initial_limit;
}

static uint32_t vegas_sample(admission *a, adm_replica *r, msim_time admitted, msim_time now,
                             bool dropped)
{
    return (uint32_t)vegas_update(&r->u.vegas, now - admitted, (int)r->inflight, dropped, &a->rng);
}

static uint32_t one(const admission_cfg *cfg)
{
    (void)cfg;
    return 1;
}

static uint32_t gradient2_init_r(admission *a, adm_replica *r, msim_time now)
{
    (void)now;
    gradient2_init(&r->u.gradient2, &a->cfg->gradient2);
    return (uint32_t)a->cfg->gradient2.initial_limit;
}

static uint32_t gradient2_sample(admission *a, adm_replica *r, msim_time admitted, msim_time now,
                                 bool dropped)
{
    (void)a, (void)dropped;
    return (uint32_t)gradient2_update(&r->u.gradient2, now - admitted, (int)r->inflight);
}

static uint32_t gradient2_floor(const admission_cfg *cfg)
{
    return (uint32_t)cfg->gradient2.min_limit;
}

static uint32_t envoy_init_r(admission *a, adm_replica *r, msim_time now)
{
    envoy_gradient_init(&r->u.envoy, &a->cfg->envoy_gradient, r->u.envoy.hist, now);
    return r->u.envoy.limit;
}

static uint32_t envoy_sample(admission *a, adm_replica *r, msim_time admitted, msim_time now,
                             bool dropped)
{
    if (!dropped) envoy_gradient_sample(&r->u.envoy, admitted, now, &a->rng);
    return r->u.envoy.limit; /* a cancelled request is not sampled */
}

static void envoy_tick(admission *a, adm_replica *r, msim_time now)
{
    envoy_gradient_tick(&r->u.envoy, now, &a->rng);
}

static uint32_t envoy_floor(const admission_cfg *cfg)
{
    return (uint32_t)cfg->envoy_gradient.min_rtt_calc_params.min_concurrency;
}

static const adm_policy table[ADM_NPOLICIES] = {
    [ADM_NONE] = {NULL, NULL, NULL, NULL},
    [ADM_FIXED] = {fixed_init, fixed_sample, NULL, no_floor},
    [ADM_AIMD] = {aimd_init, aimd_sample, NULL, aimd_floor},
    [ADM_VEGAS] = {vegas_init_r, vegas_sample, NULL, one},
    [ADM_GRADIENT2] = {gradient2_init_r, gradient2_sample, NULL, gradient2_floor},
    [ADM_ENVOY_GRADIENT] = {envoy_init_r, envoy_sample, envoy_tick, envoy_floor},
};

/* ---- a service's limits ---------------------------------------------------------------------- */

static void set_limit(msim_sim *sim, admission *a, adm_replica *r, uint32_t limit)
{
    if (limit != r->limit) {
        msim_gauge_add(sim, a->g_limit, (double)limit - (double)r->limit);
        r->limit = limit;
    }
    bool pinned = limit <= a->policy->floor(a->cfg);
    if (pinned != r->pinned) {
        r->pinned = pinned;
        msim_gauge_add(sim, a->g_pinned, (pinned ? 1.0 : -1.0) / a->nreps);
    }
}

static void on_timer(msim_sim *sim, void *obj, uint64_t rep);

/* Envoy's state after an event: its gauges, and its one timer at the
 * earlier of its two deadlines. */
static void envoy_after(msim_sim *sim, admission *a, adm_replica *r)
{
    envoy_gradient *e = &r->u.envoy;
    msim_time at = e->reset_at < e->window_at ? e->reset_at : e->window_at;
    if (at == r->timer_at && msim_timer_pending(sim, r->timer)) return;
    msim_cancel(sim, &r->timer);
    r->timer_at = at;
    if (at != MSIM_NEVER) r->timer = msim_at(sim, at, on_timer, a, (uint64_t)(r - a->reps));
}

static void on_timer(msim_sim *sim, void *obj, uint64_t rep)
{
    admission *a = obj;
    adm_replica *r = &a->reps[rep];
    r->timer = MSIM_NO_TIMER;
    r->timer_at = MSIM_NEVER;
    double min_rtt = msim_time_to_s(r->u.envoy.min_rtt);
    bool measuring = envoy_gradient_measuring(&r->u.envoy);
    a->policy->tick(a, r, msim_now(sim));
    set_limit(sim, a, r, r->u.envoy.limit);
    msim_gauge_add(sim, a->g_measuring,
                   ((double)envoy_gradient_measuring(&r->u.envoy) - measuring) / a->nreps);
    msim_gauge_add(sim, a->g_min_rtt, (msim_time_to_s(r->u.envoy.min_rtt) - min_rtt) / a->nreps);
    envoy_after(sim, a, r);
}

static void register_metrics(msim_sim *sim, admission *a, msim_component *c)
{
    a->m_rejected = msim_counter(sim, c, "limit_rejected", "attempts", MSIM_ROLE_SHED);
    a->g_limit = msim_gauge_new(sim, c, "limit", "attempts", MSIM_ROLE_LIMIT);
    a->g_inflight = msim_gauge_new(sim, c, "limit_inflight", "attempts", MSIM_ROLE_NONE);
    a->g_pinned = msim_gauge_new(sim, c, "limit_pinned", "replicas", MSIM_ROLE_LIMIT_PINNED);
    if (a->policy->tick) {
        a->g_min_rtt = msim_gauge_new(sim, c, "min_rtt", "s", MSIM_ROLE_NONE);
        a->g_measuring = msim_gauge_new(sim, c, "min_rtt_window", "replicas", MSIM_ROLE_NONE);
    }
}

int admission_new(msim_sim *sim, msim_component *c, const admission_cfg *cfg, uint32_t nreps,
                  admission **out, msim_error *err)
{
    *out = NULL;
    if (cfg->policy == ADM_NONE) return 0;
    admission *a = msim_arena_alloc(sim, sizeof *a);
    adm_replica *reps = msim_arena_alloc(sim, nreps * sizeof *reps);
    bool envoy = cfg->policy == ADM_ENVOY_GRADIENT;
    msim_hist *hists = envoy ? msim_arena_alloc(sim, nreps * sizeof *hists) : NULL;
    if (!a || !reps || (envoy && !hists)) return msim_error_set(err, -MSIM_ENOMEM, "out of memory");
    *a = (admission){.cfg = cfg, .policy = &table[cfg->policy], .nreps = nreps, .reps = reps};
    for (uint32_t i = 0; envoy && i < nreps; i++)
        reps[i].u.envoy.hist = &hists[i];
    a->rng = msim_stream(sim, c->name, "admission");
    register_metrics(sim, a, c);
    *out = a;
    return 0;
}

void admission_start(msim_sim *sim, admission *a)
{
    msim_time now = msim_now(sim);
    for (uint32_t i = 0; i < a->nreps; i++) {
        adm_replica *r = &a->reps[i];
        r->timer_at = MSIM_NEVER;
        set_limit(sim, a, r, a->policy->init(a, r, now));
        if (a->policy->tick) {
            msim_gauge_add(sim, a->g_measuring, 1.0 / a->nreps);
            envoy_after(sim, a, r);
        }
    }
}

void admission_acquire(msim_sim *sim, admission *a, uint32_t rep)
{
    a->reps[rep].inflight++;
    msim_gauge_add(sim, a->g_inflight, 1);
}

void admission_refused(msim_sim *sim, admission *a)
{
    msim_count(sim, a->m_rejected, 1);
}

void admission_sample(msim_sim *sim, admission *a, uint32_t rep, msim_time admitted, bool dropped)
{
    adm_replica *r = &a->reps[rep];
    if (!a->policy->tick) {
        set_limit(sim, a, r, a->policy->sample(a, r, admitted, msim_now(sim), dropped));
        return;
    }
    double min_rtt = msim_time_to_s(r->u.envoy.min_rtt);
    bool measuring = envoy_gradient_measuring(&r->u.envoy);
    set_limit(sim, a, r, a->policy->sample(a, r, admitted, msim_now(sim), dropped));
    if (measuring == envoy_gradient_measuring(&r->u.envoy)) return; /* the common case */
    msim_gauge_add(sim, a->g_measuring, -1.0 / a->nreps);
    msim_gauge_add(sim, a->g_min_rtt, (msim_time_to_s(r->u.envoy.min_rtt) - min_rtt) / a->nreps);
    envoy_after(sim, a, r);
}

void admission_release(msim_sim *sim, admission *a, uint32_t rep)
{
    a->reps[rep].inflight--;
    msim_gauge_add(sim, a->g_inflight, -1);
}
