/* admission.h — a service's admission limit: how many attempts a replica
 * holds (queued or in service) before it refuses more, at once, as a 503 or
 * UNAVAILABLE would (status rejected). Exact semantics and sources:
 * docs/mitigations.md, "Server-side mitigations".
 *
 *   fixed           a constant limit (Netflix FixedLimit)
 *   aimd            Netflix AIMDLimit: +1 when used, x backoff_ratio on a drop
 *   vegas           Netflix VegasLimit: queue estimate from rtt_noload / rtt
 *   gradient2       Netflix Gradient2Limit: long-term / short-term RTT
 *   envoy_gradient  Envoy's adaptive concurrency filter (gradient controller)
 *
 * Each limit is per replica, as each library keeps it per process (Netflix's
 * limiter in the server, Envoy's controller in the sidecar in front of it).
 * An attempt holds a permit from admission until its response leaves or its
 * sender abandons it, whichever is first: the gRPC interceptor releases on
 * close or cancel, Envoy's filter on encodeComplete or onDestroy. A response
 * is a sample of its round-trip time; an abandonment is a drop for Netflix
 * (onDropped) and no sample for Envoy (cancelLatencySample); attempts the
 * service drops or fails itself release without a sample. Health-check probes
 * bypass the limit (Envoy skips health checks; they are not behind the
 * application's interceptor).
 *
 * The algorithms are small state machines that take times as arguments, so
 * tests/unit/admission.c drives them directly.
 */
#ifndef METASIM_COMPONENTS_ADMISSION_H
#define METASIM_COMPONENTS_ADMISSION_H

#include <stdbool.h>

#include "metasim.h"

#define ADMISSION_POLICIES(X)                                                                      \
    X(NONE, "none", "no admission limit")                                                          \
    X(FIXED, "fixed", "a constant limit per replica (Netflix FixedLimit)")                         \
    X(AIMD, "aimd", "Netflix AIMDLimit: +1 when at least half used, x backoff_ratio on a drop")    \
    X(VEGAS, "vegas", "Netflix VegasLimit: grows or shrinks by the queue estimated from RTTs")     \
    X(GRADIENT2, "gradient2", "Netflix Gradient2Limit: follows long-term over short-term RTT")     \
    X(ENVOY_GRADIENT, "envoy_gradient",                                                            \
      "Envoy adaptive concurrency: gradient controller with minRTT windows")

enum {
#define ADM_ENUM(id, name, doc) ADM_##id,
    ADMISSION_POLICIES(ADM_ENUM)
#undef ADM_ENUM
        ADM_NPOLICIES
};

typedef struct fixed_limit_cfg {
    int64_t limit;
} fixed_limit_cfg;

typedef struct aimd_cfg {
    int64_t initial_limit, min_limit, max_limit;
    double backoff_ratio;
    msim_time timeout; /* an RTT above it counts as a drop */
} aimd_cfg;

typedef struct vegas_cfg {
    int64_t initial_limit, max_concurrency;
    double smoothing;
    int64_t probe_multiplier;
} vegas_cfg;

typedef struct gradient2_cfg {
    int64_t initial_limit, min_limit, max_concurrency;
    double smoothing;
    int64_t queue_size, long_window;
    double rtt_tolerance;
} gradient2_cfg;

typedef struct envoy_limit_params_cfg {
    int64_t max_concurrency_limit;
    msim_time concurrency_update_interval;
} envoy_limit_params_cfg;

typedef struct envoy_min_rtt_params_cfg {
    msim_time interval;
    int64_t request_count;
    double jitter; /* fraction of interval */
    int64_t min_concurrency;
    double buffer; /* fraction of minRTT */
} envoy_min_rtt_params_cfg;

typedef struct envoy_gradient_cfg {
    double sample_aggregate_percentile; /* fraction: 0.5 for p50 */
    envoy_limit_params_cfg concurrency_limit_params;
    envoy_min_rtt_params_cfg min_rtt_calc_params;
} envoy_gradient_cfg;

typedef struct admission_cfg {
    int policy; /* ADM_* */
    fixed_limit_cfg fixed;
    aimd_cfg aimd;
    vegas_cfg vegas;
    gradient2_cfg gradient2;
    envoy_gradient_cfg envoy_gradient;
} admission_cfg;

extern const msim_schema admission_schema;

/* ---- the algorithms --------------------------------------------------------------------- */

/* AIMDLimit._update: the new limit after a sample. */
int aimd_update(const aimd_cfg *cfg, int limit, msim_time rtt, int inflight, bool dropped);

typedef struct vegas {
    const vegas_cfg *cfg;
    double estimated;     /* estimatedLimit */
    msim_time rtt_noload; /* 0 until the first sample */
    int64_t probe_count;
    double probe_jitter; /* U(0.5, 1) */
} vegas;

void vegas_init(vegas *v, const vegas_cfg *cfg, msim_rng *rng);
/* VegasLimit._update: returns the new limit. */
int vegas_update(vegas *v, msim_time rtt, int inflight, bool dropped, msim_rng *rng);

typedef struct gradient2 {
    const gradient2_cfg *cfg;
    double estimated;
    /* ExpAvgMeasurement(longWindow, warmup 10) */
    double long_rtt, long_sum;
    int64_t long_count;
} gradient2;

void gradient2_init(gradient2 *g, const gradient2_cfg *cfg);
/* Gradient2Limit._update (drops are not looked at): returns the new limit. */
int gradient2_update(gradient2 *g, msim_time rtt, int inflight);

/* Envoy's GradientController with its two timers as times: `reset_at` (the
 * sample window's end) and `window_at` (the next minRTT measurement);
 * MSIM_NEVER when not armed. The owner fires envoy_gradient_tick when the
 * earlier of them comes. */
typedef struct envoy_gradient {
    const envoy_gradient_cfg *cfg;
    uint32_t limit;
    uint32_t deferred; /* deferred_limit_value_: > 0 while measuring minRTT */
    uint32_t consecutive_min;
    msim_time min_rtt, sample_rtt;
    msim_time epoch; /* min_rtt_epoch_: samples admitted before it are ignored */
    msim_hist *hist; /* latency samples of the current window */
    msim_time reset_at, window_at;
} envoy_gradient;

/* The controller starts measuring minRTT, its limit pinned to min_concurrency.
 * `hist` is the caller's (zeroed). */
void envoy_gradient_init(envoy_gradient *e, const envoy_gradient_cfg *cfg, msim_hist *hist,
                         msim_time now);
/* recordLatencySample: an attempt admitted at `admitted` was answered at now. */
void envoy_gradient_sample(envoy_gradient *e, msim_time admitted, msim_time now, msim_rng *rng);
/* A timer came: enter a minRTT window and/or recompute the limit. */
void envoy_gradient_tick(envoy_gradient *e, msim_time now, msim_rng *rng);

static inline bool envoy_gradient_measuring(const envoy_gradient *e)
{
    return e->deferred > 0;
}

/* ---- a service's limits ---------------------------------------------------------------------- */

typedef struct adm_replica {
    uint32_t inflight; /* permits held */
    uint32_t limit;
    bool pinned;      /* limit at its floor */
    msim_timer timer; /* envoy_gradient: the earlier of reset_at and window_at */
    msim_time timer_at;
    union {
        vegas vegas;
        gradient2 gradient2;
        envoy_gradient envoy;
    } u;
} adm_replica;

typedef struct adm_policy adm_policy;

typedef struct admission {
    const admission_cfg *cfg;
    const adm_policy *policy;
    uint32_t nreps;
    adm_replica *reps;
    msim_rng rng;
    msim_metric m_rejected;
    msim_gauge g_limit, g_inflight, g_pinned, g_min_rtt, g_measuring;
} admission;

/* The admission limits of a service with `nreps` replicas, registering their
 * metrics (in the service's init): *out, or NULL with policy none. Returns 0
 * or -MSIM_ENOMEM with err set. */
int admission_new(msim_sim *sim, msim_component *c, const admission_cfg *cfg, uint32_t nreps,
                  admission **out, msim_error *err);

/* Set the first limits and timers (in the service's start). */
void admission_start(msim_sim *sim, admission *a);

/* May replica rep admit one more attempt? */
static inline bool admission_allows(const admission *a, uint32_t rep)
{
    return a->reps[rep].inflight < a->reps[rep].limit;
}

/* Take a permit on replica rep / refuse an attempt (counted). */
void admission_acquire(msim_sim *sim, admission *a, uint32_t rep);
void admission_refused(msim_sim *sim, admission *a);

/* A permit-holding attempt admitted at `admitted` is answered now (dropped:
 * its sender abandoned it instead): feed the algorithm, then release. */
void admission_sample(msim_sim *sim, admission *a, uint32_t rep, msim_time admitted, bool dropped);
void admission_release(msim_sim *sim, admission *a, uint32_t rep);

#endif
