/* metasim/metrics.h — what a component measures, per window.
 *
 * Components register their metrics in init (before the run starts) and update
 * them from event handlers. The engine keeps one row per metric window (default
 * 1 s): counters sum within the window, gauges are time-weighted means with the
 * window's maximum beside them, latencies become per-window quantiles and
 * per-phase histograms. A metric's *role* tells the analysis what it means
 * (offered load, goodput, wasted work, ...), so a new component kind feeds the
 * verdict and the report without either knowing about it.
 *
 * Ownership: metric handles are plain indices into the run's tables.
 */
#ifndef METASIM_METRICS_H
#define METASIM_METRICS_H

#include <stdint.h>

#include "base.h"
#include "engine.h"

struct msim_component;

/* What a metric means to the analysis. */
#define MSIM_ROLE_MAP(X)                                                                           \
    X(NONE, "none", "")                                                                            \
    X(OFFERED, "offered", "requests that arrived at a source")                                    \
    X(NOMINAL, "nominal", "requests the source's schedule asks for, without triggers")            \
    X(GOODPUT, "goodput", "requests that succeeded within their deadline")                        \
    X(FAILED, "failed", "requests that failed for good")                                          \
    X(ATTEMPTS, "attempts", "attempts sent by sources (first tries and retries)")                 \
    X(RETRIES, "retries", "retry attempts sent")                                                  \
    X(TIMEOUTS, "timeouts", "attempts the sender gave up on")                                     \
    X(REJECTED, "rejected", "attempts refused by a full queue or a down service")                 \
    X(WORK, "work", "seconds of worker time spent on attempts")                                   \
    X(WASTED, "wasted", "seconds of worker time spent on attempts nobody waited for")             \
    X(QUEUE, "queue", "attempts waiting in queues")                                               \
    X(QUEUE_CAP, "queue_capacity", "queue slots available")                                       \
    X(BUSY, "busy", "workers busy")                                                               \
    X(WORKERS, "workers", "workers available")                                                    \
    X(IN_SYSTEM, "in_system", "attempts held by a service (queued or in service)")                \
    X(ARRIVALS, "arrivals", "attempts that reached a service, from any sender")                   \
    X(DEPARTURES, "departures", "attempts that left a service after service")                     \
    X(SOJOURN, "sojourn", "seconds attempts spent in a service (sum over departures)")            \
    X(INFLIGHT, "inflight", "requests in flight at a source")                                     \
    X(LATENCY, "latency", "latency of successful requests")                                       \
    X(RETRIES_DENIED, "retries_denied", "retries a budget, throttle, quota or breaker refused")  \
    X(FAST_FAILED, "fast_failed", "requests failed at the source without an attempt")            \
    X(BREAKER_OPEN, "breaker_open", "1 while a source's circuit breaker is open")                \
    X(HEALTH_CHANGES, "health_changes", "hosts a balancer took out of or put back in rotation")   \
    X(HEALTHY_HOSTS, "healthy_hosts", "hosts a balancer routes to (healthy and not ejected)")     \
    X(HOST_HEALTH, "host_health", "one host as its balancer sees it: 1 in rotation, 0 out")     \
    X(CACHE_LOOKUPS, "cache_lookups", "lookups at a cache (hits + misses)")                      \
    X(CACHE_HITS, "cache_hits", "lookups a cache answered from its entries")                     \
    X(SLO_JOBS, "slo_jobs", "jobs with a latency SLO (their class's) that started service")     \
    X(SLO_LATE, "slo_late", "jobs that waited longer than their class's latency SLO to start")    \
    X(LIMIT, "limit", "a service's admission limit, summed over its replicas")                     \
    X(LIMIT_PINNED, "limit_pinned", "share of a service's replicas whose limit is at its minimum")  \
    X(SHED, "shed", "attempts a service shed: over its limit, dropped by CoDel, pushed out")        \
    X(CODEL_OVERLOADED, "codel_overloaded", "share of a service's replicas CoDel finds overloaded") \
    X(GC_TIME, "gc_time", "worker seconds a service's garbage collector took")                    \
    X(HEAP_USED, "heap_used", "live bytes in a service's heaps")                                   \
    X(HEAP_LIMIT, "heap_limit", "heap bytes of a service's replicas that are up")                 \
    X(SCALE_PINNED, "scale_pinned", "1 while an autoscaler wants more than max_replicas and has them") \
    X(SCALE_LAG, "scale_lag", "share of the replicas an autoscaler's metric asks for not serving yet") \
    X(LOOKUPS, "lookups", "name lookups a channel's instances made at their resolver")             \
    X(DISCONNECTED, "disconnected", "share of a channel's instances without a ready connection")

typedef enum {
#define MSIM_ROLE_ENUM(id, name, doc) MSIM_ROLE_##id,
    MSIM_ROLE_MAP(MSIM_ROLE_ENUM)
#undef MSIM_ROLE_ENUM
        MSIM_ROLE_COUNT
} msim_role;

const char *msim_role_name(msim_role role);

/* How a metric's value in a window is formed. */
typedef enum {
    MSIM_AGG_SUM,  /* a count or a total within the window */
    MSIM_AGG_MEAN, /* time-weighted mean of a gauge over the window */
    MSIM_AGG_MAX,  /* maximum of a gauge over the window */
    MSIM_AGG_QUANTILE /* a latency quantile of the window, seconds */
} msim_agg;

typedef uint32_t msim_metric;  /* a counter */
typedef uint32_t msim_gauge;   /* a level, e.g. queue depth */
typedef uint32_t msim_latency; /* a latency distribution */

/* Register a counter. Name and unit are copied. Must be called before start. */
msim_metric msim_counter(msim_sim *sim, struct msim_component *c, const char *name,
                         const char *unit, msim_role role);

/* Add v to a counter in the current window. */
void msim_count(msim_sim *sim, msim_metric m, double v);

/* Register a gauge; the window table gets `name` (time-weighted mean) and
 * `name_max`. */
msim_gauge msim_gauge_new(msim_sim *sim, struct msim_component *c, const char *name,
                          const char *unit, msim_role role);
void msim_gauge_add(msim_sim *sim, msim_gauge g, double delta);
void msim_gauge_set(msim_sim *sim, msim_gauge g, double value);
double msim_gauge_value(const msim_sim *sim, msim_gauge g);
/* The gauge's integral over time since the run started, in value x seconds
 * (busy-worker-seconds, ...): two readings differenced give an exact time
 * average over the span between them. */
double msim_gauge_area(const msim_sim *sim, msim_gauge g);

/* Register a latency distribution; the window table gets name_p50, _p90, _p99,
 * _max (seconds) and the run keeps one histogram per phase. */
msim_latency msim_latency_new(msim_sim *sim, struct msim_component *c, const char *name,
                              msim_role role);
void msim_latency_record(msim_sim *sim, msim_latency l, msim_time value);

#endif
