/* autoscaler.c — the `autoscaler` kind against Kubernetes' HPA rules: the
 * replica calculator's arithmetic and tolerance band, the stabilisation
 * windows, the scaling policies and their periods, min/max clamps, warm-up
 * (no traffic before ready; warming replicas counted at zero load for a
 * scale-up), cold starts, draining on scale-down, balancers following the
 * endpoints, jobqueue pools, bad configurations, and determinism.
 *
 * The loads are deterministic where the rule under test fixes exact numbers:
 * constant arrivals into a pure delay (unlimited workers) hold exactly
 * rate x service time attempts, so in_flight per replica is known to a few
 * parts in a thousand over a 15 s period (the first period starts empty:
 * 9.97 held on average instead of 10). Every sync happens on a window
 * boundary, so a replica count set at a sync is the gauge's whole-window
 * value from that window on. */
#include <stdarg.h>
#include <string.h>

#include "../suites.h"

/* ---- helpers ------------------------------------------------------------------------ */

static msim_result *runf(test_ctx *t, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static msim_result *runf(test_ctx *t, const char *fmt, ...)
{
    char yaml[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(yaml, sizeof yaml, fmt, ap);
    va_end(ap);
    return test_run_text(t, yaml, NULL, 0, 0);
}

/* A column's value in window w (a gauge: its time-weighted mean). */
static double at(const msim_result *r, const char *comp, const char *metric, uint32_t w)
{
    int c = msim_result_column(r, comp, metric);
    return c < 0 || w >= r->nwin ? NAN : msim_result_at(r, w, c);
}

/* The windows in which a counter is non-zero, as a list. */
static int nonzero(const msim_result *r, const char *comp, const char *metric, uint32_t *out,
                   int max)
{
    int c = msim_result_column(r, comp, metric), n = 0;
    for (uint32_t w = 0; c >= 0 && w < r->nwin && n < max; w++)
        if (msim_result_at(r, w, c) > 0) out[n++] = w;
    return n;
}

/* A pure delay `api` of `replicas` fed `rate` constant arrivals, each held
 * `hold`; `hpa` is the autoscaler's extra YAML (flow-map entries). */
static msim_result *run_delay(test_ctx *t, const char *duration, int replicas, const char *rate,
                              const char *hold, const char *hpa)
{
    return runf(t,
                "duration: %s\nverdict: {warmup: 1s, hold: 5s, observe: 10s}\n"
                "clients:\n  c: {target: api, arrival: constant, rate: %s, timeout: 1h}\n"
                "services:\n  api: {replicas: %d, workers: unlimited, service_time: %s}\n"
                "autoscalers:\n  hpa: {target: api, metric: in_flight, %s}\n",
                duration, rate, replicas, hold, hpa);
}

/* ---- the replica calculator ------------------------------------------------------------ */

/* 4 replicas hold 9.97 attempts over the first period: 2.4925 each. Against
 * each target_value the first sync recommends ceil(4 x 2.4925 / target)
 * outside the 10% band, the size inside it; what it then does is limited by
 * the scale-up policies (4 -> at most 8) and, downwards, by the 5-minute
 * window (which holds the initial size) unless the window is 0. */
static void desired_is_ceil_of_the_ratio(test_ctx *t)
{
    struct {
        const char *target, *extra;
        double recommended, replicas;
    } cases[] = {
        {"1", "", 10, 8},                /* ceil(9.97) = 10, limited to 2 x 4 */
        {"2.2", "", 5, 5},               /* ratio 1.133: ceil(4.53) */
        {"2.3", "", 4, 4},               /* ratio 1.084: within the band */
        {"2.7", "", 4, 4},               /* ratio 0.923: within the band */
        {"2.8", "", 4, 4},               /* ratio 0.890: ceil(3.56) */
        {"4", "", 3, 4},                 /* ratio 0.623: ceil(2.49), held by the window */
        {"4", ", behavior: {scale_down: {stabilization_window: 0s}}", 3, 3},
        {"4", ", tolerance: 40%", 4, 4}, /* a wider band */
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char hpa[256];
        snprintf(hpa, sizeof hpa, "target_value: %s, max_replicas: 20, warmup: 0s%s",
                 cases[k].target, cases[k].extra);
        msim_result *r = run_delay(t, "20s", 4, "100/s", "100ms", hpa);
        if (!r) return;
        CHECK_NEAR(at(r, "hpa", "in_flight", 15), 2.4925, 1e-3);
        CHECK_MSG(at(r, "hpa", "recommended", 15) == cases[k].recommended,
                  "target %s%s: recommended %.0f", cases[k].target, cases[k].extra,
                  at(r, "hpa", "recommended", 15));
        CHECK_MSG(at(r, "hpa", "replicas", 15) == cases[k].replicas, "target %s%s: %.0f replicas",
                  cases[k].target, cases[k].extra, at(r, "hpa", "replicas", 15));
        CHECK(at(r, "hpa", "replicas", 14) == 4); /* nothing before the first sync */
        test_done(r);
    }
}

/* Utilisation is busy workers over the workers of ready replicas: 300/s of
 * 10 ms on 4 one-worker replicas keeps each 75% busy; against 50% that is
 * ceil(1.5 x 4) = 6, and then 45% busy each: within the band. */
static void utilisation_is_busy_over_workers(test_ctx *t)
{
    msim_result *r = runf(t, "duration: 40s\nverdict: {warmup: 1s, hold: 5s, observe: 10s}\n"
                             "clients:\n  c: {target: api, arrival: constant, rate: 300/s}\n"
                             "services:\n  api: {replicas: 4, workers: 1, service_time: 10ms}\n"
                             "autoscalers:\n  hpa: {target: api, target_value: 50%%, "
                             "max_replicas: 10, warmup: 0s}\n");
    if (!r) return;
    CHECK_NEAR(at(r, "hpa", "utilisation", 15), 0.75, 0.011); /* whole percents */
    CHECK(at(r, "hpa", "replicas", 15) == 6);
    CHECK_NEAR(at(r, "hpa", "utilisation", 30), 0.5, 0.011);
    CHECK(at(r, "hpa", "replicas", 30) == 6);
    CHECK(test_total(r, "hpa", "scale_ups") == 1);
    test_done(r);
}

/* ---- stabilisation ----------------------------------------------------------------------- */

/* 2 replicas at 5 held each against a target of 5: no action. The load falls
 * to a fifth at 60 s. Every sync from 75 s recommends 1, but the scale-down
 * window takes the highest recommendation of the last 300 s, and the last 2
 * was made at 60 s: the first sync that may scale down is at 360 s exactly.
 * A dip of 200 s ends before that: nothing happens. The load rising at 60 s
 * instead is answered at the very next sync (the scale-up window is 0). */
static void scale_down_waits_for_the_window(test_ctx *t)
{
    const char *sched[] = {"[{at: 60s, rate: 20/s}]",
                           "[{at: 60s, rate: 20/s}, {at: 260s, rate: 100/s}]",
                           "[{at: 60s, rate: 300/s}]"};
    for (int k = 0; k < 3; k++) {
        msim_result *r = runf(
            t,
            "duration: 420s\nverdict: {warmup: 1s, hold: 5s, observe: 10s}\n"
            "clients:\n  c: {target: api, arrival: constant, rate: 100/s, schedule: %s}\n"
            "services:\n  api: {replicas: 2, workers: unlimited, service_time: 100ms}\n"
            "autoscalers:\n  hpa: {target: api, metric: in_flight, target_value: 5, "
            "max_replicas: 10, warmup: 0s}\n",
            sched[k]);
        if (!r) return;
        uint32_t w[8];
        int nd = nonzero(r, "hpa", "scale_downs", w, 8);
        if (k == 0) {
            CHECK_MSG(nd == 1 && w[0] == 360, "%d scale-downs, the first in window %u", nd, w[0]);
            CHECK(at(r, "hpa", "recommended", 75) == 1 && at(r, "hpa", "replicas", 359) == 2);
            CHECK(at(r, "hpa", "replicas", 360) == 1);
        } else if (k == 1) {
            CHECK_MSG(nd == 0, "a 200 s dip scaled down %d times", nd);
            CHECK(test_total(r, "hpa", "scale_ups") == 0);
        } else {
            int nu = nonzero(r, "hpa", "scale_ups", w, 8);
            CHECK_MSG(nu == 1 && w[0] == 75, "%d scale-ups, the first in window %u", nu, w[0]);
            CHECK(at(r, "hpa", "replicas", 75) == 6); /* 15 each against 5: ceil(3 x 2) */
        }
        test_done(r);
    }
}

/* ---- policies -------------------------------------------------------------------------------- */

/* One replica holding ~967 attempts (1000/s of 1 s) against 10 each wants
 * 97; every 15 s the policies allow, from the size a period ago:
 *   default  max(100%, 4 pods):  1 -> 5 -> 10 -> 20 -> 40 -> 50 (max_replicas)
 *   min                          1 -> 2 -> 4 -> 8 -> 12 -> 16 (4 pods < 100% from 8)
 *   disabled                     1
 *   4 pods per 60 s              5 at 15 s, then nothing until the event has
 *                                aged out of the period: 9 at 75 s, 13 at 135 s */
static void policies_limit_each_period(test_ctx *t)
{
    struct {
        const char *behavior;
        double sizes[5];
    } cases[] = {
        {"{}", {5, 10, 20, 40, 50}},
        {"{scale_up: {select_policy: min}}", {2, 4, 8, 12, 16}},
        {"{scale_up: {select_policy: disabled}}", {1, 1, 1, 1, 1}},
        {"{scale_up: {policies: [{type: pods, value: 4, period: 60s}]}}", {5, 5, 5, 5, 9}},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char hpa[256];
        snprintf(hpa, sizeof hpa, "target_value: 10, max_replicas: 50, warmup: 0s, behavior: %s",
                 cases[k].behavior);
        msim_result *r = run_delay(t, "150s", 1, "1000/s", "1s", hpa);
        if (!r) return;
        for (int s = 0; s < 5; s++)
            CHECK_MSG(at(r, "hpa", "replicas", 15 * (s + 1)) == cases[k].sizes[s],
                      "%s: %.0f replicas at %ds, expected %.0f", cases[k].behavior,
                      at(r, "hpa", "replicas", 15 * (s + 1)), 15 * (s + 1), cases[k].sizes[s]);
        if (k == 3) CHECK(at(r, "hpa", "replicas", 135) == 13);
        if (k == 0) CHECK(at(r, "hpa", "pinned", 75) == 1 && at(r, "hpa", "pinned", 60) == 0);
        test_done(r);
    }
}

/* Scale-down policies count from the size a period ago too: 1 pod per 30 s
 * from 10, once the window allows (window 0 here): 9 at 15 s, 8 at 45 s. */
static void scale_down_policies(test_ctx *t)
{
    msim_result *r = run_delay(t, "80s", 10, "10/s", "100ms",
                               "target_value: 5, max_replicas: 10, warmup: 0s, behavior: "
                               "{scale_down: {stabilization_window: 0s, policies: [{type: pods, "
                               "value: 1, period: 30s}]}}");
    if (!r) return;
    CHECK(at(r, "hpa", "replicas", 15) == 9);
    CHECK(at(r, "hpa", "replicas", 30) == 9);
    CHECK(at(r, "hpa", "replicas", 45) == 8);
    CHECK(at(r, "hpa", "replicas", 75) == 7);
    test_done(r);
}

/* ---- clamps -------------------------------------------------------------------------------------- */

/* Outside [min, max] the first sync brings the size to the bound at once,
 * whatever the metric; within it the recommendation is clamped. */
static void min_and_max_clamp(test_ctx *t)
{
    msim_result *r = run_delay(t, "40s", 1, "10/s", "100ms",
                               "target_value: 5, min_replicas: 3, max_replicas: 6, warmup: 0s");
    if (!r) return;
    CHECK(at(r, "hpa", "replicas", 14) == 1 && at(r, "hpa", "replicas", 15) == 3);
    CHECK(at(r, "hpa", "replicas", 39) == 3); /* wants 1, never below min */
    test_done(r);

    r = run_delay(t, "40s", 9, "1000/s", "1s",
                  "target_value: 5, min_replicas: 3, max_replicas: 6, warmup: 0s");
    if (!r) return;
    CHECK(at(r, "hpa", "replicas", 14) == 9 && at(r, "hpa", "replicas", 15) == 6);
    CHECK(at(r, "hpa", "replicas", 30) == 6); /* wants 200 */
    CHECK(at(r, "hpa", "pinned", 30) == 1 && at(r, "hpa", "lag", 30) == 0);
    test_done(r);
}

/* ---- warm-up ----------------------------------------------------------------------------------- */

/* Replicas asked for at 15 s serve at 45 s: before that the service routes
 * nothing to them (replicas_up) and a balancer keeps them out (host health,
 * exact without checks; with checks, a single 1 ms probe later). They count
 * as replicas but not as ready, and the lag shows it. */
static void warming_replicas_get_no_traffic(test_ctx *t)
{
    const char *checks[] = {"", "\n    health_check: {interval: 1s}"};
    for (int k = 0; k < 2; k++) {
        msim_result *r = runf(
            t,
            "duration: 60s\nverdict: {warmup: 1s, hold: 5s, observe: 10s}\n"
            "clients:\n  c: {target: lb, arrival: constant, rate: 100/s, timeout: 1h}\n"
            "services:\n  api: {replicas: 1, workers: unlimited, service_time: 100ms, "
            "probe: {path: separate}}\n"
            "balancers:\n  lb:\n    pools: [{service: api}]%s\n"
            "autoscalers:\n  hpa: {target: api, metric: in_flight, target_value: 5, "
            "max_replicas: 4, warmup: 30s}\n",
            checks[k]);
        if (!r) return;
        CHECK(at(r, "hpa", "replicas", 15) == 2 && at(r, "hpa", "ready", 44) == 1);
        CHECK(at(r, "hpa", "ready", 45) == 2);
        CHECK(at(r, "hpa", "lag", 30) == 0.5 && at(r, "hpa", "lag", 45) == 0);
        CHECK(at(r, "api", "replicas_up", 44) == 1 && at(r, "api", "replicas_up", 45) == 2);
        for (uint32_t w = 0; w < 45; w++)
            CHECK_MSG(at(r, "lb", "api_1_health", w) == 0, "host 1 in rotation in window %u", w);
        CHECK_NEAR(at(r, "lb", "api_1_health", 45), k ? 0.999 : 1, 1e-9);
        CHECK(at(r, "lb", "api_healthy", 50) == 2);
        CHECK(test_total(r, "lb", "health_changes") == (k ? 2 : 0)); /* joining is not a change */
        CHECK(test_total(r, "c", "failed") == 0);
        test_done(r);
    }
}

/* A scale-up with replicas still warming counts them at zero load. At 15 s
 * the one replica holds ~40 against 10: 4 replicas. At 30 s the load has
 * halved: the ready one holds 20, ratio 2 — taken alone, ceil(2 x 1) = 2
 * would remove two warming replicas (the scale-down window is 0); counted at
 * zero load the ratio is 2 x 1/4 = 0.5, which flips the direction: no
 * action, as the HPA's recomputation decides. Once all serve (75 s) the load
 * is 5 each: down to 2. */
static void warming_replicas_count_as_idle(test_ctx *t)
{
    msim_result *r = runf(
        t,
        "duration: 90s\nverdict: {warmup: 1s, hold: 5s, observe: 10s}\n"
        "clients:\n  c: {target: api, arrival: constant, rate: 400/s, timeout: 1h, "
        "schedule: [{at: 15s, rate: 200/s}]}\n"
        "services:\n  api: {replicas: 1, workers: unlimited, service_time: 100ms}\n"
        "autoscalers:\n  hpa: {target: api, metric: in_flight, target_value: 10, max_replicas: 8, "
        "warmup: 60s, behavior: {scale_down: {stabilization_window: 0s}}}\n");
    if (!r) return;
    CHECK(at(r, "hpa", "replicas", 15) == 4);
    CHECK_NEAR(at(r, "hpa", "in_flight", 30), 20, 0.1);
    for (uint32_t w = 30; w < 75; w++)
        CHECK_MSG(at(r, "hpa", "replicas", w) == 4, "%.0f replicas in window %u",
                  at(r, "hpa", "replicas", w), w);
    CHECK(at(r, "hpa", "recommended", 30) == 4);
    CHECK(at(r, "hpa", "replicas", 75) == 2);
    test_done(r);
}

/* ---- cold start ---------------------------------------------------------------------------------- */

/* One replica, 10 ms per attempt, 10 arrivals/s (no queueing: the sojourn is
 * the service time). Down from 20 s to 30 s; back cold: 3x, falling linearly
 * to 1x over 60 s. The mean sojourn of window w is 10 ms x the mean factor of
 * its arrivals. The replicas warm since before the run are not cold. */
static void cold_start_decays_linearly(test_ctx *t)
{
    msim_result *r = runf(
        t,
        "duration: 120s\nverdict: {warmup: 1s, hold: 5s, observe: 10s}\n"
        "clients:\n  c: {target: api, arrival: constant, rate: 10/s}\n"
        "services:\n  api: {service_time: 10ms, cold_start: {factor: 3x, duration: 60s}}\n"
        "triggers:\n  - {kind: capacity, target: api, at: 20s, duration: 10s, replicas_down: 1}\n");
    if (!r) return;
    for (uint32_t w = 1; w < 20; w++)
        CHECK_NEAR(at(r, "api", "sojourn", w) / at(r, "api", "departures", w), 0.010, 1e-9);
    uint32_t probe[] = {30, 45, 60, 75, 89};
    for (size_t k = 0; k < sizeof probe / sizeof probe[0]; k++) {
        uint32_t w = probe[k];
        double age = (double)(w - 30) + 0.45; /* mean age of the window's arrivals */
        double want = 0.010 * (3 - 2 * age / 60);
        double got = at(r, "api", "sojourn", w + 0) / at(r, "api", "departures", w + 0);
        CHECK_MSG(fabs(got - want) < 0.0005, "window %u: %.4f s, expected %.4f s", w, got, want);
    }
    CHECK_NEAR(at(r, "api", "sojourn", 95) / at(r, "api", "departures", 95), 0.010, 1e-9);
    test_done(r);
}

/* ---- draining -------------------------------------------------------------------------------------- */

/* Two one-worker replicas of 1 s each; a burst at 10-15 s queues ~20 at
 * each. max_replicas 1 removes replica 1 at the first sync (15 s): it takes
 * nothing new from then on, and finishes its queue (termination_grace none)
 * or serves 5 more and fails the rest when the grace period ends (5 s). */
static void removed_replicas_drain(test_ctx *t)
{
    const char *graces[] = {"none", "5s"};
    for (int k = 0; k < 2; k++) {
        msim_result *r = runf(
            t,
            "duration: 120s\nverdict: {warmup: 1s, hold: 5s, observe: 10s}\n"
            "clients:\n  c: {target: lb, arrival: constant, rate: 1/s, timeout: 1h}\n"
            "services:\n  api: {replicas: 2, workers: 1, service_time: 1s}\n"
            "balancers:\n  lb: {pools: [{service: api}]}\n"
            "autoscalers:\n  hpa: {target: api, target_value: 50%%, max_replicas: 1, warmup: 0s, "
            "termination_grace: %s}\n"
            "triggers:\n  - {kind: load, target: c, at: 10s, duration: 5s, factor: 10}\n",
            graces[k]);
        if (!r) return;
        CHECK(at(r, "api", "replicas_up", 15) == 1 && at(r, "lb", "api_1_health", 15) == 0);
        CHECK(at(r, "lb", "api_1_health", 14) == 1);
        double lost = test_total(r, "api", "lost_to_crash");
        if (k == 0) {
            CHECK_MSG(lost == 0 && test_total(r, "c", "failed") == 0, "%.0f lost", lost);
        } else {
            uint32_t w[4];
            CHECK(nonzero(r, "api", "lost_to_crash", w, 4) == 1 && w[0] == 20);
            CHECK_MSG(lost >= 10 && lost == test_total(r, "c", "failed"), "%.0f lost", lost);
        }
        CHECK(r->requests == r->succeeded + r->failed + r->in_flight);
        test_done(r);
    }
}

/* ---- jobqueues ------------------------------------------------------------------------------------- */

/* A queue's own pool scaled on queue latency: 2 workers, 5 jobs/s of 1 s, so
 * the oldest job ages 1.5 s per second (at 15 s: 9 s, within 10% of the 10 s
 * target; at 30 s: 18 s, ceil(1.8 x 2) = 4 workers). It grows, each step a
 * warm-up late, until the backlog is gone; the common pool and the other
 * queue are untouched. An empty queue has no latency: it then asks for 0
 * (held up by the scale-down window), Kubernetes' arithmetic for a Value
 * metric at zero. */
static void jobqueue_pool_scales_on_latency(test_ctx *t)
{
    msim_result *r = runf(
        t,
        "duration: 120s\nverdict: {warmup: 1s, hold: 5s, observe: 10s}\n"
        "clients:\n  slow: {target: jobs, arrival: constant, rate: 5/s, timeout: 1h}\n"
        "  fast: {target: jobs, arrival: constant, rate: 1/s, timeout: 1h}\n"
        "jobqueues:\n  jobs:\n    workers: 2\n"
        "    queues: [{name: bulk, workers: 2}, {name: quick}]\n"
        "    classes: [{name: b, from: slow, queue: bulk, service_time: 1s}, "
        "{name: q, from: fast, queue: quick, service_time: 10ms}]\n"
        "autoscalers:\n  hpa: {target: jobs, queue: bulk, metric: queue_latency, "
        "target_value: 10s, max_replicas: 20, warmup: 10s}\n");
    if (!r) return;
    CHECK_NEAR(at(r, "hpa", "queue_latency", 15), 9, 0.5);
    CHECK(at(r, "hpa", "replicas", 29) == 2 && at(r, "hpa", "replicas", 30) == 4);
    CHECK(at(r, "hpa", "ready", 39) == 2 && at(r, "hpa", "ready", 40) == 4);
    CHECK(at(r, "hpa", "replicas", 119) >= 8);
    CHECK(at(r, "hpa", "queue_latency", 90) == 0 && at(r, "hpa", "recommended", 90) == 0);
    CHECK_NEAR(at(r, "jobs", "workers", 119), at(r, "hpa", "ready", 119) + 2, 1e-9);
    CHECK(test_total(r, "jobs", "quick_late") == 0);
    test_done(r);
}

/* ---- configuration errors -------------------------------------------------------------------------- */

static void bad_configurations_are_refused(test_ctx *t)
{
    struct {
        const char *hpa, *want;
    } cases[] = {
        {"{target: c, target_value: 50%, max_replicas: 4}", "cannot be resized"},
        {"{target: api, target_value: 5s, max_replicas: 4}", "share of busy workers"},
        {"{target: api, metric: queue_latency, target_value: 50%, max_replicas: 4}", "duration"},
        {"{target: api, target_value: 50%, min_replicas: 5, max_replicas: 4}", "below min_replicas"},
        {"{target: api, target_value: 50%, max_replicas: 4, queue: bulk}", "as a whole"},
        {"{target: jobs, target_value: 50%, max_replicas: 4, queue: nope}", "no queue"},
        {"{target: jobs, target_value: 50%, max_replicas: 4, queue: shared}", "common pool"},
        {"{target: delay, target_value: 50%, max_replicas: 4}", "unlimited workers"},
        {"{target: api, target_value: 50%, max_replicas: 4, behavior: {scale_up: {policies: []}}}",
         "at least one policy"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char yaml[1024];
        snprintf(yaml, sizeof yaml,
                 "duration: 10s\nclients:\n  c: {target: api, rate: 10/s}\n"
                 "services:\n  api: {service_time: 1ms}\n"
                 "  delay: {workers: unlimited, service_time: 1ms}\n"
                 "jobqueues:\n  jobs: {workers: 1, queues: [{name: own, workers: 1}, {name: "
                 "shared}], classes: [{name: x, queue: shared, service_time: 1ms}]}\n"
                 "autoscalers:\n  hpa: %s\n",
                 cases[k].hpa);
        msim_scenario *sc = NULL;
        msim_result *r = NULL;
        msim_error err = {0};
        int rc = msim_scenario_parse(yaml, strlen(yaml), "bad", NULL, 0, &sc, &err);
        if (!rc) rc = msim_run(sc, NULL, &r, &err);
        char buf[1400];
        msim_error_format(&err, buf, sizeof buf);
        CHECK_MSG(rc != 0 && strstr(buf, cases[k].want), "case %zu: %s", k, rc ? buf : "accepted");
        msim_result_free(r);
        msim_scenario_free(sc);
    }
    /* two autoscalers on one target fight: the second is refused */
    msim_result *r = NULL;
    msim_scenario *sc = NULL;
    msim_error err = {0};
    const char *two = "duration: 10s\nclients:\n  c: {target: api, rate: 10/s}\n"
                      "services:\n  api: {service_time: 1ms}\n"
                      "autoscalers:\n  a: {target: api, target_value: 50%, max_replicas: 4}\n"
                      "  b: {target: api, target_value: 70%, max_replicas: 4}\n";
    int rc = msim_scenario_parse(two, strlen(two), "two", NULL, 0, &sc, &err);
    if (!rc) rc = msim_run(sc, NULL, &r, &err);
    CHECK_MSG(rc != 0 && strstr(err.msg, "already resizes"), "%s", err.msg);
    msim_result_free(r);
    msim_scenario_free(sc);
}

/* ---- determinism --------------------------------------------------------------------------------- */

static void same_seed_same_bytes(test_ctx *t)
{
    const char *yaml =
        "duration: 200s\nseed: 3\n"
        "clients:\n  c: {target: lb, rate: 300/s, timeout: 1s, retry: {max_attempts: 3}}\n"
        "services:\n  api: {replicas: 2, workers: 4, service_time: exponential(mean=20ms), "
        "cold_start: {factor: 2x, duration: 30s}}\n"
        "balancers:\n  lb: {pools: [{service: api}], policy: least_request}\n"
        "autoscalers:\n  hpa: {target: api, target_value: 60%, max_replicas: 10, warmup: 20s, "
        "behavior: {scale_down: {stabilization_window: 30s}}}\n"
        "triggers:\n  - {kind: load, target: c, at: 40s, duration: 60s, factor: 2}\n";
    msim_result *r = test_run_text(t, yaml, NULL, 0, 0);
    CHECK(r);
    bool scaled = test_total(r, "hpa", "scale_ups") >= 1 && test_total(r, "hpa", "scale_downs") >= 1;
    test_done(r);
    CHECK_MSG(scaled, "the run should scale both ways");
    test_same_bytes_twice(t, yaml);
}

const test_case autoscaler_tests[] = {
    {"autoscaler_desired_is_ceil_of_the_ratio", desired_is_ceil_of_the_ratio, TIER_QUICK},
    {"autoscaler_utilisation_is_busy_over_workers", utilisation_is_busy_over_workers, TIER_QUICK},
    {"autoscaler_scale_down_waits_for_the_window", scale_down_waits_for_the_window, TIER_QUICK},
    {"autoscaler_policies_limit_each_period", policies_limit_each_period, TIER_QUICK},
    {"autoscaler_scale_down_policies", scale_down_policies, TIER_QUICK},
    {"autoscaler_min_and_max_clamp", min_and_max_clamp, TIER_QUICK},
    {"autoscaler_warming_replicas_get_no_traffic", warming_replicas_get_no_traffic, TIER_QUICK},
    {"autoscaler_warming_replicas_count_as_idle", warming_replicas_count_as_idle, TIER_QUICK},
    {"autoscaler_cold_start_decays_linearly", cold_start_decays_linearly, TIER_QUICK},
    {"autoscaler_removed_replicas_drain", removed_replicas_drain, TIER_QUICK},
    {"autoscaler_jobqueue_pool_scales_on_latency", jobqueue_pool_scales_on_latency, TIER_QUICK},
    {"autoscaler_bad_configurations_are_refused", bad_configurations_are_refused, TIER_QUICK},
    {"autoscaler_same_seed_same_bytes", same_seed_same_bytes, TIER_QUICK},
    {NULL, NULL, 0},
};
