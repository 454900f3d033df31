/* balancer.h — the `balancer` kind's state, shared by balancer.c (pools,
 * priorities, picking, relaying) and health.c (active health checks and
 * outlier detection). Not API: only these two files include it.
 *
 * A balancer holds a static list of hosts: every replica of every service in
 * its pools. Hosts are grouped by priority level (pools with equal priority
 * form one level, like Envoy's localities) and stored level by level, so a
 * level is a range of the host array. A host is *in rotation* when it is
 * healthy for the active checker and not ejected by outlier detection (or
 * always, when the balancer fails open). A service an autoscaler resizes has
 * a host for every replica it may ever have; those that are not endpoints now
 * (msim_replica_endpoint) are *absent*: out of rotation and out of the level's
 * counts, as if discovery had not listed them.
 */
#ifndef METASIM_COMPONENTS_BALANCER_H
#define METASIM_COMPONENTS_BALANCER_H

#include <stdbool.h>
#include <stdint.h>

#include "metasim.h"

/* ---- configuration ------------------------------------------------------------- */

typedef struct pool_cfg {
    msim_ref service;
    int64_t priority;
    double weight;
} pool_cfg;

/* Envoy's envoy.config.core.v3.HealthCheck, the fields that matter here. The
 * zero durations mean "as Envoy defaults them" (see health.c). */
typedef struct health_cfg {
    msim_time interval; /* MSIM_NEVER: no active health checking */
    msim_time timeout;
    int64_t unhealthy_threshold, healthy_threshold;
    msim_time unhealthy_interval, unhealthy_edge_interval, healthy_edge_interval;
    msim_time interval_jitter, initial_jitter;
    double interval_jitter_percent;
} health_cfg;

/* Envoy's envoy.config.cluster.v3.OutlierDetection: consecutive failures. */
typedef struct outlier_cfg {
    bool enabled;
    int64_t consecutive_5xx, consecutive_gateway_failure;
    double enforcing_consecutive_5xx, enforcing_consecutive_gateway_failure;
    msim_time interval, base_ejection_time, max_ejection_time, max_ejection_time_jitter;
    double max_ejection_percent;
    bool uneject_on_health_check; /* successful_active_health_check_uneject_host */
} outlier_cfg;

typedef struct balancer_cfg {
    msim_list pools;
    int policy;
    int64_t choice_count;
    double active_request_bias;
    double healthy_panic_threshold;
    double overprovisioning_factor;
    bool fail_open;
    health_cfg health_check;
    outlier_cfg outlier_detection;
    bool host_metrics;
} balancer_cfg;

extern const msim_schema balancer_health_schema;
extern const msim_schema balancer_outlier_schema;

/* ---- state ----------------------------------------------------------------------- */

/* What a forwarded attempt's host answered, as outlier detection reads it. */
typedef enum { OUTCOME_OK, OUTCOME_ERROR, OUTCOME_GATEWAY } outcome;

typedef struct host {
    msim_component *svc;
    uint16_t replica;
    uint16_t level;
    uint32_t pool; /* pool entry (balancer.pools), for per-pool metrics */
    double weight;
    double wrr;      /* smooth weighted round robin: the current weight */
    uint32_t active; /* forwarded attempts outstanding (Envoy rq_active) */
    bool in_rotation;
    bool absent; /* not an endpoint of its service now (autoscaled away, or not yet) */

    /* active health checking (health.c) */
    bool hc_failed;         /* Envoy FAILED_ACTIVE_HC; set until the first success */
    bool first_check;       /* no result yet: a single success marks it healthy */
    uint32_t hc_ok, hc_bad; /* consecutive results counting toward a change */
    msim_timer check;       /* the next probe */
    msim_attempt *probe;    /* the probe out, or NULL */

    /* outlier detection (health.c) */
    bool ejected;
    uint32_t c5xx, cgw; /* consecutive 5xx and gateway failures */
    uint32_t backoff;   /* ejection time multiplier: + at ejection, - when quiet */
    msim_time ejected_at, unejected_at, eject_jitter;

    msim_gauge g_health; /* 1 in rotation, 0 out (host_metrics) */
} host;

typedef struct level {
    uint32_t first, n; /* hosts [first, first + n) */
    uint32_t *all;     /* the ones that are endpoints (not absent), for panic routing */
    uint32_t nall;
    uint32_t *avail;   /* the ones in rotation */
    uint32_t navail;
    uint32_t health; /* Envoy's health score, percent (overprovisioned, capped) */
    uint32_t load;   /* share of traffic, percent */
    bool panic;      /* routes to all its hosts regardless of health */
    bool equal_weights;
    uint32_t rr; /* round-robin cursor */
} level;

typedef struct pool_state {
    msim_component *svc;
    uint32_t first, n; /* its hosts */
    uint32_t in_rotation;
    msim_gauge g_healthy;
    msim_metric m_traffic;
} pool_state;

typedef struct balancer {
    msim_component base;
    const balancer_cfg *cfg;
    host *hosts;
    uint32_t nhosts;
    level *levels;
    uint32_t nlevels;
    pool_state *pools;
    uint32_t npools;
    bool fail_open; /* configured, or switched on by diagnose */
    bool no_host;   /* no level can take traffic: 503 no healthy upstream */
    uint32_t nejected;

    msim_request probe_req; /* probes ride on it: the balancer's own, not in the ledger */
    msim_lane probe_lane;   /* probe timeouts: a fixed length, so in time order */
    msim_timer sweep;       /* outlier detection's interval */
    msim_rng rng_pick, rng_priority, rng_health, rng_outlier;

    msim_metric m_forwarded, m_no_healthy, m_changes;
    msim_metric m_probes, m_probe_timeouts, m_probe_failures, m_marked_unhealthy, m_marked_healthy;
    msim_metric m_ejections, m_unejections;
    msim_gauge g_panic;
} balancer;

/* balancer.c: a host's checker or detector state changed; put it in or take
 * it out of rotation, and recompute the priority loads if that changed. */
void balancer_update_host(msim_sim *sim, balancer *b, host *h);

/* health.c */
void health_start(msim_sim *sim, balancer *b);
void health_on_probe(msim_sim *sim, balancer *b, msim_attempt *probe);
/* A host became an endpoint (checks start afresh) or stopped being one
 * (checks stop; ejection and counts are forgotten, as Envoy forgets a
 * removed host). */
void health_host_joined(msim_sim *sim, balancer *b, host *h);
void health_host_left(msim_sim *sim, balancer *b, host *h);
void outlier_start(msim_sim *sim, balancer *b);
void outlier_on_result(msim_sim *sim, balancer *b, host *h, outcome o);

#endif
