/* channel.c — the `channel` kind and the `redeploy` trigger end to end: gRPC's
 * connection backoff to the millisecond and its jitter bounds, the minimum
 * interval between re-resolutions, fail-fast against wait_for_ready, the order
 * and timing of a rolling redeploy, hosts that stay invisible until the next
 * lookup, max-age closes spread by their jitter, and the reconnect storm with
 * the mitigation that ends it.
 *
 * Timings that the state machines fix are checked exactly, to the metric
 * window (1 s, or 100 ms where the jitter bounds are read); hosts are polled
 * every 100 ms, so a host that goes away at a whole second is noticed then. */
#include <stdlib.h>
#include <string.h>

#include "../suites.h"

/* ---- helpers ------------------------------------------------------------------------ */

static double at(const msim_result *r, const char *comp, const char *metric, uint32_t w)
{
    int c = msim_result_column(r, comp, metric);
    return c < 0 || w >= r->nwin ? NAN : msim_result_at(r, w, c);
}

static double span(const msim_result *r, const char *comp, const char *metric, uint32_t w0,
                   uint32_t w1)
{
    int c = msim_result_column(r, comp, metric);
    if (c < 0) return NAN;
    if (w1 > r->nwin) w1 = r->nwin;
    return msim_result_sum(r, c, w0, w1);
}

/* The windows in which a counter is non-zero, as a list. */
static int nonzero_windows(const msim_result *r, const char *comp, const char *metric,
                           uint32_t *out, int max)
{
    int c = msim_result_column(r, comp, metric), n = 0;
    for (uint32_t w = 0; c >= 0 && w < r->nwin && n < max; w++)
        if (msim_result_at(r, w, c) > 0) out[n++] = w;
    return n;
}

static bool has_signal(const msim_result *r, const char *name)
{
    for (size_t k = 0; k < r->verdict.nsignals; k++)
        if (strcmp(r->verdict.signals[k].name, name) == 0) return true;
    return false;
}

static void check_ledger(test_ctx *t, const msim_result *r)
{
    CHECK(r->requests == r->succeeded + r->failed + r->in_flight);
    CHECK(test_total(r, "c", "successes") + test_total(r, "c", "failed") <=
          test_total(r, "c", "offered"));
}

/* A client `c` calls through channel `ch` to service `api`. `api` and `ch`
 * are the bodies of those two (YAML flow maps), `rest` more top-level YAML
 * (triggers). */
static msim_result *run_ch(test_ctx *t, const char *head, const char *client, const char *api,
                           const char *ch, const char *rest)
{
    char yaml[4096];
    snprintf(yaml, sizeof yaml,
             "%s\nverdict: {warmup: 1s, hold: 5s, observe: 10s}\n"
             "clients:\n  c: %s\n"
             "services:\n  api: %s\n"
             "channels:\n  ch: %s\n%s",
             head, client, api, ch, rest);
    return test_run_text(t, yaml, NULL, 0, 0);
}

static const char *const one_host = "{replicas: 1, workers: unlimited, service_time: 1ms}";

/* ---- connection backoff ------------------------------------------------------------------ */

/* grpc/doc/connection-backoff.md without jitter: the host goes down at 10 s;
 * the closed connection is retried at once, then INITIAL_BACKOFF (1 s) after
 * that attempt started, then 1.6 s, 2.56 s, 4.096 s, 6.5536 s, 10.48576 s:
 * attempts at 10, 11, 12.6, 15.16, 19.256, 25.8096, 36.29536 s, refused while
 * the host is down (to 40 s), and the one at 53.072576 s (+16.777216 s)
 * succeeds. */
static void backoff_sequence_is_grpcs(test_ctx *t)
{
    msim_result *r = run_ch(t, "duration: 70s", "{target: ch, rate: 10/s}", one_host,
                            "{target: api, connect_time: 0, backoff: {jitter: 0}}",
                            "triggers: [{kind: capacity, target: api, at: 10s, duration: 30s, "
                            "replicas_down: 1}]\n");
    if (!r) return;
    uint32_t w[16];
    const uint32_t tries[] = {10, 11, 12, 15, 19, 25, 36, 53};
    int n = nonzero_windows(r, "ch", "reconnects", w, 16);
    CHECK_MSG(n == 8, "%d windows with reconnects", n);
    for (int k = 0; k < 8; k++)
        CHECK_MSG(w[k] == tries[k], "attempt %d in window %u, expected %u", k, w[k], tries[k]);
    n = nonzero_windows(r, "ch", "connect_failures", w, 16);
    CHECK(n == 7 && w[6] == 36);
    CHECK(at(r, "ch", "ready_connections", 52) == 0);
    CHECK(at(r, "ch", "ready_connections", 54) == 1);
    /* without a connection the instance fails its attempts fast */
    CHECK(span(r, "ch", "unavailable", 10, 53) > 400);
    CHECK(test_total(r, "ch", "unavailable") == test_total(r, "c", "rejections"));
    check_ledger(t, r);
    test_done(r);
}

/* With JITTER 0.2 each wait but the first is spread uniformly over +-20%:
 * the second retry of every instance falls in [12.28, 12.92] s, the third
 * 2.56 s +-20% after it, in [14.328, 15.992] s; the first is at 11 s sharp. */
static void backoff_jitter_stays_in_bounds(test_ctx *t)
{
    msim_result *r = run_ch(t, "duration: 30s\nwindow: 100ms", "{target: ch, rate: 10/s}",
                            one_host, "{target: api, instances: 200, connect_time: 0}",
                            "triggers: [{kind: capacity, target: api, at: 10s, duration: 20s, "
                            "replicas_down: 1}]\n");
    if (!r) return;
    CHECK(at(r, "ch", "reconnects", 100) == 200);
    CHECK(at(r, "ch", "reconnects", 110) == 200);
    CHECK(span(r, "ch", "reconnects", 111, 122) == 0);
    CHECK(span(r, "ch", "reconnects", 122, 130) == 200);
    CHECK(span(r, "ch", "reconnects", 130, 143) == 0);
    CHECK(span(r, "ch", "reconnects", 143, 160) == 200);
    /* spread, not bunched: both halves of the second retry's range are used */
    double early = span(r, "ch", "reconnects", 122, 126);
    CHECK_MSG(early > 40 && early < 160, "%.0f of 200 in the first half", early);
    test_done(r);
}

/* ---- re-resolution --------------------------------------------------------------------------- */

/* A subchannel that fails every second asks for a re-resolution every
 * second (and once when its connection closed); with grpc-go's 30 s minimum
 * interval lookups happen at 10 s, 40 s and 70 s (a request kept while it
 * waits is served when the interval ends); without one, at every failure
 * (10 .. 59 s). */
static void min_resolution_interval_limits_lookups(test_ctx *t)
{
    const char *ch[] = {
        "{target: api, connect_time: 0, backoff: {multiplier: 1, jitter: 0}}",
        "{target: api, connect_time: 0, backoff: {multiplier: 1, jitter: 0}, "
        "min_resolution_interval: 0s}",
    };
    for (int k = 0; k < 2; k++) {
        msim_result *r =
            run_ch(t, "duration: 80s", "{target: ch, rate: 10/s}", one_host, ch[k],
                   "triggers: [{kind: capacity, target: api, at: 10s, duration: 50s, "
                   "replicas_down: 1}]\n");
        if (!r) return;
        CHECK(test_total(r, "ch", "connect_failures") == 50);
        CHECK(test_total(r, "ch", "reresolve_requests") == 51);
        uint32_t w[64];
        int n = nonzero_windows(r, "ch", "lookups", w, 64);
        if (k == 0)
            CHECK_MSG(n == 3 && w[0] == 10 && w[1] == 40 && w[2] == 70, "%d lookup windows", n);
        else
            CHECK_MSG(n == 50 && w[0] == 10 && w[49] == 59, "%d lookup windows", n);
        test_done(r);
    }
}

/* An instance without a READY connection fails attempts at once (gRPC
 * UNAVAILABLE, the client sees a rejection) — except while it is connecting
 * for the first time: the request arriving at 10 s sharp, between the close
 * and the refusal, waits and fails with it. With wait_for_ready they wait
 * for the connection, back at 25.8096 s (attempts at 10, 11, 12.6, 15.16,
 * 19.256 s are refused while the host is down, to 20 s), and all succeed. */
static void fail_fast_or_wait_for_ready(test_ctx *t)
{
    const char *client = "{target: ch, arrival: constant, rate: 100/s, timeout: 30s}";
    msim_result *r = run_ch(t, "duration: 60s", client, one_host,
                            "{target: api, connect_time: 0, backoff: {jitter: 0}}",
                            "triggers: [{kind: capacity, target: api, at: 10s, duration: 10s, "
                            "replicas_down: 1}]\n");
    if (!r) return;
    double unavailable = test_total(r, "ch", "unavailable");
    CHECK_NEAR(unavailable, 1581, 2); /* 100/s over [10, 25.8096) s */
    CHECK(test_total(r, "c", "failed") == unavailable);
    CHECK(test_total(r, "ch", "waiting_max") <= 1);
    check_ledger(t, r);
    test_done(r);

    r = run_ch(t, "duration: 60s", client, one_host,
               "{target: api, connect_time: 0, backoff: {jitter: 0}, wait_for_ready: true}",
               "triggers: [{kind: capacity, target: api, at: 10s, duration: 10s, "
               "replicas_down: 1}]\n");
    if (!r) return;
    CHECK(test_total(r, "ch", "unavailable") == 0);
    CHECK(test_total(r, "c", "failed") == 0);
    CHECK_NEAR(at(r, "ch", "waiting_max", 25), 1581, 2);
    CHECK(at(r, "ch", "waiting_max", 26) == 0);
    CHECK(test_total(r, "c", "successes") == test_total(r, "c", "offered"));
    check_ledger(t, r);
    test_done(r);
}

/* ---- redeploys --------------------------------------------------------------------------------- */

/* Four replicas replaced one at a time over 40 s with a 4 s restart: each
 * stops at 10 + i x (40 - 4) / 4 s = 10, 19, 28, 37 s and is back 4 s later;
 * in batches of two, replicas 0-1 stop at 10 s and 2-3 at 28 s. */
static void redeploy_order_and_timing(test_ctx *t)
{
    const char *tr[] = {
        "triggers: [{kind: redeploy, target: api, at: 10s, duration: 40s, restart: 4s}]\n",
        "triggers: [{kind: redeploy, target: api, at: 10s, duration: 40s, restart: 4s, "
        "batch: 2}]\n",
    };
    const int stops[2][4] = {{10, 19, 28, 37}, {10, 10, 28, 28}};
    for (int k = 0; k < 2; k++) {
        char yaml[1024];
        snprintf(yaml, sizeof yaml,
                 "duration: 60s\nverdict: {warmup: 1s, hold: 5s, observe: 5s}\n"
                 "clients:\n  c: {target: api, rate: 100/s}\n"
                 "services:\n  api: {replicas: 4, workers: unlimited, service_time: 1ms}\n%s",
                 tr[k]);
        msim_result *r = test_run_text(t, yaml, NULL, 0, 0);
        if (!r) return;
        for (uint32_t w = 0; w < 60; w++) {
            int down = 0;
            for (int i = 0; i < 4; i++)
                down += (int)w >= stops[k][i] && (int)w < stops[k][i] + 4;
            CHECK_MSG(at(r, "api", "replicas_up", w) == 4 - down, "window %u: %g up, expected %d",
                      w, at(r, "api", "replicas_up", w), 4 - down);
        }
        test_done(r);
    }
}

/* A restart must fit in the redeploy. */
static void redeploy_restart_must_fit(test_ctx *t)
{
    const char *yaml = "duration: 60s\nclients:\n  c: {target: api, rate: 10/s}\n"
                       "services:\n  api: {replicas: 2, service_time: 1ms}\n"
                       "triggers: [{kind: redeploy, target: api, at: 10s, duration: 5s, "
                       "restart: 5s}]\n";
    msim_scenario *sc = NULL;
    msim_error err = {0};
    CHECK(msim_scenario_parse(yaml, strlen(yaml), "restart", NULL, 0, &sc, &err) == -MSIM_EINVAL);
    CHECK(strstr(err.msg, "shorter") != NULL);
    msim_scenario_free(sc);
}

/* Two replicas, replaced at 10 s and 28 s, each down 4 s. The lookup made
 * when replica 0 stops (10 s) lists replica 1 only; replica 0's new host (back
 * at 14 s) stays invisible. When replica 1 stops (28 s) the instance knows no
 * live host: with the 30 s interval it waits until 40 s to look up again,
 * disconnected, then finds both new hosts; without an interval it looks up
 * at once, finds replica 0's new host, and never sees replica 1's (back at
 * 32 s) — nothing fails any more, so nothing asks. */
static void new_hosts_invisible_until_reresolution(test_ctx *t)
{
    const char *ch[] = {"{target: api}", "{target: api, min_resolution_interval: 0s}"};
    for (int k = 0; k < 2; k++) {
        msim_result *r =
            run_ch(t, "duration: 60s", "{target: ch, rate: 10/s}",
                   "{replicas: 2, workers: unlimited, service_time: 1ms}", ch[k],
                   "triggers: [{kind: redeploy, target: api, at: 10s, duration: 40s, "
                   "restart: 4s}]\n");
        if (!r) return;
        CHECK(at(r, "ch", "ready_connections", 9) == 2);
        CHECK(at(r, "ch", "ready_connections", 15) == 1); /* replica 0 is back, unseen */
        CHECK(at(r, "ch", "ready_connections", 27) == 1);
        if (k == 0) {
            CHECK(at(r, "ch", "ready_connections", 29) == 0);
            CHECK(at(r, "ch", "disconnected", 39) == 1);
            CHECK(at(r, "ch", "ready_connections", 41) == 2);
            CHECK(span(r, "ch", "lookups", 0, 60) == 2);
        } else {
            CHECK(at(r, "ch", "ready_connections", 29) == 1);
            CHECK(at(r, "ch", "ready_connections", 59) == 1); /* replica 1's host, unseen */
            CHECK(span(r, "ch", "lookups", 0, 60) == 2);
        }
        test_done(r);
    }
}

/* ---- max connection age ------------------------------------------------------------------------ */

/* A redeploy with no downtime at 10 s makes all 500 instances reconnect in
 * the same 100 ms (no minimum interval holds back their lookups); with
 * MAX_CONNECTION_AGE 100 s +-10% those connections are closed again between
 * 100 s and 120 s, spread over that band, never sooner. Every close asks for
 * a re-resolution. */
static void max_age_spreads_reconnects(test_ctx *t)
{
    msim_result *r = run_ch(t, "duration: 130s", "{target: ch, rate: 100/s}", one_host,
                            "{target: api, instances: 500, max_connection_age: 100s, "
                            "min_resolution_interval: 0s}",
                            "triggers: [{kind: redeploy, target: api, at: 10s, duration: 1s, "
                            "restart: 0s}]\n");
    if (!r) return;
    CHECK(at(r, "ch", "closed", 10) >= 500);
    CHECK(span(r, "ch", "closed", 11, 100) == 0);
    CHECK(span(r, "ch", "closed", 100, 121) == 500);
    int used = 0;
    double most = 0;
    for (uint32_t w = 100; w < 121; w++) {
        double n = at(r, "ch", "closed", w);
        used += n > 0;
        if (n > most) most = n;
    }
    CHECK_MSG(used >= 18 && most <= 60, "%d windows, at most %.0f closes in one", used, most);
    CHECK(test_total(r, "ch", "reresolve_requests") == test_total(r, "ch", "closed"));
    CHECK(test_total(r, "ch", "unavailable") == 0);
    test_done(r);
}

/* ---- the storm ------------------------------------------------------------------------------------ */

/* The example as written stays down, every instance disconnected and the
 * resolver saturated; grpc-go's 30 s interval keeps it up. */
static void storm_holds_and_the_interval_ends_it(test_ctx *t)
{
    msim_scenario *sc = NULL;
    msim_error err = {0};
    msim_override ov[] = {{"channels.api-clients.min_resolution_interval", "30s"}};
    for (int k = 0; k < 2; k++) {
        char buf[1400];
        CHECK_MSG(msim_scenario_load("examples/reconnect-storm.yaml", ov, (size_t)k, &sc, &err) ==
                      0,
                  "%s", msim_error_format(&err, buf, sizeof buf));
        msim_result *r = NULL;
        CHECK(msim_run(sc, NULL, &r, &err) == 0);
        if (k == 0) {
            CHECK(r->verdict.kind == MSIM_VERDICT_METASTABLE);
            CHECK(has_signal(r, "disconnected"));
            CHECK(test_gauge_mean(r, "api-clients", "disconnected", r->nwin - 30) > 0.95);
        } else {
            CHECK_MSG(r->verdict.kind == MSIM_VERDICT_STABLE ||
                          r->verdict.kind == MSIM_VERDICT_RECOVERED,
                      "%s", msim_verdict_name(r->verdict.kind));
        }
        CHECK(r->requests == r->succeeded + r->failed + r->in_flight);
        msim_result_free(r);
        msim_scenario_free(sc);
        sc = NULL;
    }
}

/* Jittered backoffs, ages and a resolver that drops behind: the same bytes
 * twice. */
static void same_seed_same_bytes(test_ctx *t)
{
    const char *yaml =
        "duration: 40s\nverdict: {warmup: 1s, hold: 5s, observe: 10s}\n"
        "clients:\n  c: {target: ch, rate: 500/s, timeout: 1s}\n"
        "  lookups: {arrival: calls, target: dns, timeout: 200ms}\n"
        "services:\n  api: {replicas: 4, workers: 4, service_time: 5ms}\n"
        "  dns: {workers: 1, service_time: exponential(mean=5ms)}\n"
        "channels:\n  ch: {target: api, instances: 50, max_connection_age: 20s, resolver: lookups,\n"
        "    min_resolution_interval: 1s}\n"
        "triggers: [{kind: redeploy, target: api, at: 10s, duration: 20s, restart: 2s}]\n";
    test_same_bytes_twice(t, yaml);
}

/* ---- configuration errors and allocation failures ------------------------------------------------- */

/* A channel connects to a service's replicas; its resolver is a calls client. */
static void bad_channels_are_refused(test_ctx *t)
{
    const char *bodies[] = {
        "clients:\n  c: {target: ch, rate: 10/s}\n  d: {target: api, rate: 10/s}\n"
        "services:\n  api: {service_time: 1ms}\nchannels:\n  ch: {target: api, resolver: d}\n",
        "clients:\n  c: {target: ch, rate: 10/s}\nservices:\n  api: {service_time: 1ms}\n"
        "channels:\n  ch: {target: ch2}\n  ch2: {target: api}\n",
    };
    for (int k = 0; k < 2; k++) {
        char yaml[1024];
        snprintf(yaml, sizeof yaml, "duration: 10s\n%s", bodies[k]);
        msim_scenario *sc = NULL;
        msim_result *r = NULL;
        msim_error err = {0};
        int rc = msim_scenario_parse(yaml, strlen(yaml), "bad", NULL, 0, &sc, &err);
        if (rc == 0) rc = msim_run(sc, NULL, &r, &err);
        CHECK_MSG(rc != 0, "case %d was accepted", k);
        CHECK(err.msg[0]);
        msim_result_free(r);
        msim_scenario_free(sc);
    }
}

/* Allocation failure at every allocation a channel run makes: a clean
 * -MSIM_ENOMEM each time (the sanitizer build checks for leaks). */
static void allocation_failures_are_clean(test_ctx *t)
{
    const char *yaml =
        "duration: 20s\nverdict: {warmup: 1s}\n"
        "clients:\n  c: {target: ch, rate: 300/s, timeout: 200ms, retry: {max_attempts: 2}}\n"
        "  lookups: {arrival: calls, target: dns, timeout: 100ms}\n"
        "services:\n  api: {replicas: 3, workers: 4, service_time: 5ms}\n"
        "  dns: {workers: 1, service_time: 2ms}\n"
        "channels:\n  ch: {target: api, instances: 20, resolver: lookups, wait_for_ready: true,\n"
        "    min_resolution_interval: 0s, max_connection_age: 5s}\n"
        "triggers: [{kind: redeploy, target: api, at: 5s, duration: 6s, restart: 1s}]\n";
    test_allocation_failures_are_clean(t, yaml);
}

const test_case channel_tests[] = {
    {"channel_backoff_sequence_is_grpcs", backoff_sequence_is_grpcs, TIER_QUICK},
    {"channel_backoff_jitter_stays_in_bounds", backoff_jitter_stays_in_bounds, TIER_QUICK},
    {"channel_min_resolution_interval_limits_lookups", min_resolution_interval_limits_lookups,
     TIER_QUICK},
    {"channel_fail_fast_or_wait_for_ready", fail_fast_or_wait_for_ready, TIER_QUICK},
    {"channel_redeploy_order_and_timing", redeploy_order_and_timing, TIER_QUICK},
    {"channel_redeploy_restart_must_fit", redeploy_restart_must_fit, TIER_QUICK},
    {"channel_new_hosts_invisible_until_reresolution", new_hosts_invisible_until_reresolution,
     TIER_QUICK},
    {"channel_max_age_spreads_reconnects", max_age_spreads_reconnects, TIER_QUICK},
    {"channel_storm_holds_and_the_interval_ends_it", storm_holds_and_the_interval_ends_it,
     TIER_FULL},
    {"channel_same_seed_same_bytes", same_seed_same_bytes, TIER_QUICK},
    {"channel_bad_channels_are_refused", bad_channels_are_refused, TIER_QUICK},
    {"channel_allocation_failures_are_clean", allocation_failures_are_clean, TIER_QUICK},
    {NULL, NULL, 0},
};
