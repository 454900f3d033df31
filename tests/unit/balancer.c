/* balancer.c — the `balancer` kind end to end: how each pick policy spreads
 * attempts, the active health-check state machine (startup, thresholds,
 * intervals, jitter), priority loads and panic mode, outlier ejection timing,
 * black holes, probes that queue behind work, and the CDN ringing with and
 * without its fix.
 *
 * Per-host counts come from pools of one-replica services: a balancer counts
 * the attempts it sends to each pool (`<service>_traffic`). Timings that the
 * state machines fix exactly are checked exactly (to the window); shares drawn
 * at random are checked against binomial standard deviations. */
#include <stdlib.h>
#include <string.h>

#include "../suites.h"

/* ---- helpers ------------------------------------------------------------------------ */

static double wsum(const msim_result *r, const char *comp, const char *metric, uint32_t w0,
                   uint32_t w1)
{
    int c = msim_result_column(r, comp, metric);
    if (c < 0) return NAN;
    if (w1 > r->nwin) w1 = r->nwin;
    return msim_result_sum(r, c, w0, w1);
}

/* Mean of a per-window column over [w0, w1) (gauges: whole windows). */
static double wmean(const msim_result *r, const char *comp, const char *metric, uint32_t w0,
                    uint32_t w1)
{
    if (w1 > r->nwin) w1 = r->nwin;
    return wsum(r, comp, metric, w0, w1) / (double)(w1 - w0);
}

/* The windows in which a counter is non-zero, from w0 on, as a list. */
static int nonzero_windows(const msim_result *r, const char *comp, const char *metric, uint32_t w0,
                           uint32_t *out, int max)
{
    int c = msim_result_column(r, comp, metric), n = 0;
    for (uint32_t w = w0; c >= 0 && w < r->nwin && n < max; w++)
        if (msim_result_at(r, w, c) > 0) out[n++] = w;
    return n;
}

static bool has_signal(const msim_result *r, const char *name)
{
    for (size_t k = 0; k < r->verdict.nsignals; k++)
        if (strcmp(r->verdict.signals[k].name, name) == 0) return true;
    return false;
}

static void check_ledger_of(test_ctx *t, const msim_result *r, const char *client)
{
    CHECK(r->requests == r->succeeded + r->failed + r->in_flight);
    CHECK(test_total(r, client, "offered") == (double)r->requests);
    CHECK(test_total(r, client, "successes") == (double)r->succeeded);
}

static void check_ledger(test_ctx *t, const msim_result *r)
{
    check_ledger_of(t, r, "c");
}

static msim_result *run_file(test_ctx *t, const char *path, const msim_override *ov, size_t nov,
                             uint64_t replica, const msim_disable *dis, size_t ndis)
{
    msim_scenario *sc = NULL;
    msim_error err = {0};
    char buf[1400];
    if (msim_scenario_load(path, ov, nov, &sc, &err)) {
        test_fail(t, __FILE__, __LINE__, "%s", msim_error_format(&err, buf, sizeof buf));
        return NULL;
    }
    msim_result *r = NULL;
    msim_run_options opt = {.replica = replica, .disable = dis, .ndisable = ndis};
    if (msim_run(sc, &opt, &r, &err)) {
        test_fail(t, __FILE__, __LINE__, "%s", msim_error_format(&err, buf, sizeof buf));
        msim_scenario_free(sc);
        return NULL;
    }
    return r;
}

/* Four one-replica hosts h0..h3 behind lb; `lb` and `hosts` are extra YAML
 * (indented by 4) for the balancer and for every host; `h0`, if not empty,
 * replaces `hosts` for h0. */
static msim_result *run_four(test_ctx *t, const char *duration, const char *client, const char *lb,
                             const char *h0, const char *hosts)
{
    char yaml[4096];
    snprintf(yaml, sizeof yaml,
             "duration: %s\nverdict: {warmup: 1s, hold: 5s, observe: 10s}\n"
             "clients:\n  c:\n    target: lb\n%s\n"
             "services:\n"
             "  h0:\n%s\n  h1:\n%s\n  h2:\n%s\n  h3:\n%s\n"
             "balancers:\n  lb:\n%s\n",
             duration, client, h0[0] ? h0 : hosts, hosts, hosts, hosts, lb);
    return test_run_text(t, yaml, NULL, 0, 0);
}

static double share(const msim_result *r, const char *host)
{
    char m[64];
    snprintf(m, sizeof m, "%s_traffic", host);
    return test_total(r, "lb", m) / test_total(r, "lb", "forwarded");
}

/* ---- pick policies ------------------------------------------------------------------------ */

static const char *const four_pools =
    "    pools: [{service: h0}, {service: h1}, {service: h2}, {service: h3}]";

static void round_robin_is_exact(test_ctx *t)
{
    char lb[512];
    snprintf(lb, sizeof lb, "    policy: round_robin\n%s", four_pools);
    msim_result *r = run_four(t, "40s", "    arrival: constant\n    rate: 400/s", lb, "",
                              "    workers: unlimited\n    service_time: 1ms");
    if (!r) return;
    double n = test_total(r, "lb", "forwarded");
    CHECK(n == 16000);
    const char *h[] = {"h0_traffic", "h1_traffic", "h2_traffic", "h3_traffic"};
    for (int i = 0; i < 4; i++)
        CHECK_NEAR(test_total(r, "lb", h[i]), n / 4, 1);
    check_ledger(t, r);
    test_done(r);
}

/* Smooth weighted round robin serves weights 1:2:3:4 exactly over every cycle
 * of 10 picks; weighted_round_robin is the same policy under its other name. */
static void weighted_round_robin_follows_weights(test_ctx *t)
{
    const char *names[] = {"round_robin", "weighted_round_robin"};
    for (int k = 0; k < 2; k++) {
        char lb[512];
        snprintf(lb, sizeof lb,
                 "    policy: %s\n    pools: [{service: h0, weight: 1}, {service: h1, weight: 2}, "
                 "{service: h2, weight: 3}, {service: h3, weight: 4}]",
                 names[k]);
        msim_result *r = run_four(t, "40s", "    arrival: constant\n    rate: 400/s", lb, "",
                                  "    workers: unlimited\n    service_time: 1ms");
        if (!r) return;
        double n = test_total(r, "lb", "forwarded");
        CHECK_NEAR(test_total(r, "lb", "h0_traffic"), n * 0.1, 1);
        CHECK_NEAR(test_total(r, "lb", "h1_traffic"), n * 0.2, 1);
        CHECK_NEAR(test_total(r, "lb", "h2_traffic"), n * 0.3, 1);
        CHECK_NEAR(test_total(r, "lb", "h3_traffic"), n * 0.4, 1);
        test_done(r);
    }
}

/* Uniform picks: each count is binomial(n, 1/4); 5 standard deviations. */
static void random_is_uniform(test_ctx *t)
{
    char lb[512];
    snprintf(lb, sizeof lb, "    policy: random\n%s", four_pools);
    msim_result *r = run_four(t, "40s", "    arrival: constant\n    rate: 400/s", lb, "",
                              "    workers: unlimited\n    service_time: 1ms");
    if (!r) return;
    double n = test_total(r, "lb", "forwarded"), sd = sqrt(n * 0.25 * 0.75);
    const char *h[] = {"h0_traffic", "h1_traffic", "h2_traffic", "h3_traffic"};
    for (int i = 0; i < 4; i++)
        CHECK_NEAR(test_total(r, "lb", h[i]), n / 4, 5 * sd);
    test_done(r);
}

/* Unequal hosts: h0 needs 40 ms per attempt, h1..h3 10 ms, one worker each
 * (capacity 25/s against 100/s); 200/s arrive. Random sends h0 its quarter,
 * 50/s, twice what it can serve: its queue grows and its attempts time out.
 * Least-request (P2C) compares two random hosts' outstanding attempts and
 * h0's count is the high one most of the time, so it gets far less; a full
 * scan (least_outstanding) or more choices steer it away further still. The
 * bounds are the policies' defining property, not tuned values: random must
 * give h0 its binomial quarter, the load-aware ones well under it. */
static void least_request_avoids_the_slow_host(test_ctx *t)
{
    const char *policies[] = {"random", "least_request", "least_request\n    choice_count: 4",
                              "least_outstanding"};
    double sh[4], failed[4];
    for (int k = 0; k < 4; k++) {
        char lb[512];
        snprintf(lb, sizeof lb, "    policy: %s\n%s", policies[k], four_pools);
        msim_result *r = run_four(t, "60s", "    rate: 200/s\n    timeout: 1s", lb,
                                  "    workers: 1\n    service_time: exponential(mean=40ms)",
                                  "    workers: 1\n    service_time: exponential(mean=10ms)");
        if (!r) return;
        sh[k] = share(r, "h0");
        failed[k] = test_total(r, "c", "failed") / test_total(r, "c", "offered");
        check_ledger(t, r);
        test_done(r);
    }
    double n = 200 * 60, sd = sqrt(0.25 * 0.75 / n);
    CHECK_MSG(fabs(sh[0] - 0.25) < 5 * sd, "random: h0 share %.3f", sh[0]);
    CHECK_MSG(failed[0] > 0.2, "random: %.0f%% failed", 100 * failed[0]);
    CHECK_MSG(sh[1] < 0.15 && failed[1] < 0.01, "least_request: h0 share %.3f, %.1f%% failed",
              sh[1], 100 * failed[1]);
    CHECK_MSG(sh[2] < sh[1], "choice_count 4: h0 share %.3f vs %.3f with 2", sh[2], sh[1]);
    CHECK_MSG(sh[3] < sh[1], "least_outstanding: h0 share %.3f vs %.3f", sh[3], sh[1]);
}

/* least_request with unequal weights: dynamic weights weight / (active + 1).
 * With a pure delay and light load nearly every pick sees active = 0, so
 * the shares follow the weights 1:3. */
static void least_request_weights(test_ctx *t)
{
    char yaml[2048];
    snprintf(yaml, sizeof yaml,
             "duration: 40s\nverdict: {warmup: 1s, hold: 5s, observe: 10s}\n"
             "clients:\n  c: {target: lb, arrival: constant, rate: 100/s}\n"
             "services:\n  a: {workers: unlimited, service_time: 1ms}\n"
             "  b: {workers: unlimited, service_time: 1ms}\n"
             "balancers:\n  lb:\n    policy: least_request\n"
             "    pools: [{service: a, weight: 1}, {service: b, weight: 3}]\n");
    msim_result *r = test_run_text(t, yaml, NULL, 0, 0);
    if (!r) return;
    CHECK_NEAR(share(r, "a"), 0.25, 0.01);
    CHECK_NEAR(share(r, "b"), 0.75, 0.01);
    test_done(r);
}

/* ---- active health checks ------------------------------------------------------------------ */

/* One service `app` of 2 replicas (a pure delay, so probes never queue)
 * behind lb; `hc` is the health_check map, `trig` the triggers section. */
static msim_result *run_checked(test_ctx *t, const char *duration, const char *hc, const char *lb,
                                const char *trig)
{
    char yaml[4096];
    snprintf(yaml, sizeof yaml,
             "duration: %s\nverdict: {warmup: 1s, hold: 5s, observe: 10s}\n"
             "clients:\n  c: {target: lb, arrival: constant, rate: 10/s, timeout: 500ms}\n"
             "services:\n  app:\n    replicas: 2\n    workers: unlimited\n    service_time: 5ms\n"
             "    probe: {service_time: 1ms}\n"
             "balancers:\n  lb:\n    pools: [{service: app}]\n    health_check: %s\n%s\n%s\n",
             duration, hc, lb ? lb : "", trig ? trig : "");
    return test_run_text(t, yaml, NULL, 0, 0);
}

/* Hosts start out of rotation and a single success brings them in, whatever
 * healthy_threshold says (Envoy's startup rule). With initial_jitter the first
 * probes spread over [0, jitter), and until a host's first success nothing is
 * in rotation: with panic off the balancer answers "no healthy upstream". */
static void startup_needs_one_success(test_ctx *t)
{
    msim_result *r = run_checked(t, "20s", "{interval: 1s, healthy_threshold: 5}", NULL, NULL);
    if (!r) return;
    CHECK(wsum(r, "lb", "marked_healthy", 0, 1) == 2);
    CHECK(test_total(r, "lb", "marked_healthy") == 2);
    CHECK(wmean(r, "lb", "app_healthy", 0, 1) > 1.99); /* in from t = 1 ms */
    CHECK(test_total(r, "lb", "no_healthy_upstream") == 0);
    test_done(r);

    r = run_checked(t, "30s", "{interval: 1s, healthy_threshold: 5, initial_jitter: 10s}",
                    "    healthy_panic_threshold: 0%", NULL);
    if (!r) return;
    CHECK(test_total(r, "lb", "marked_healthy") == 2);
    CHECK(wsum(r, "lb", "marked_healthy", 0, 10) == 2);
    CHECK(wsum(r, "lb", "marked_healthy", 0, 1) < 2);
    CHECK(test_total(r, "lb", "no_healthy_upstream") > 0); /* before the first success */
    CHECK(wsum(r, "lb", "no_healthy_upstream", 10, 30) == 0);
    check_ledger(t, r);
    test_done(r);
}

/* Exact timings. Probes take 1 ms and the next one follows `interval` after
 * the result, so healthy-host probes fire at k x 1.001 s. Replica 1 is
 * black-holed over [10 s, 20 s):
 *   10.010 probe lost; fails at 10.110 (timeout 100 ms)     1st failure
 *   11.110 -> 11.210, 12.210 -> 12.310                      3rd: out at 12.310
 *   then every unhealthy_interval (2 s): 14.310, 16.410, 18.510 fail
 *   20.610 succeeds (1 of 2), 22.611 succeeds: in at 22.612
 * so the host leaves rotation in window 12 (31% of it in) and returns in
 * window 22 (39% in). */
static void thresholds_and_intervals(test_ctx *t)
{
    const char *hc = "{interval: 1s, timeout: 100ms, unhealthy_threshold: 3, healthy_threshold: 2, "
                     "unhealthy_interval: 2s}";
    const char *trig = "triggers:\n  - {kind: blackhole, target: app, at: 10s, duration: 10s}";
    msim_result *r = run_checked(t, "40s", hc, NULL, trig);
    if (!r) return;
    uint32_t w[8];
    CHECK(nonzero_windows(r, "lb", "marked_unhealthy", 0, w, 8) == 1 && w[0] == 12);
    CHECK(nonzero_windows(r, "lb", "marked_healthy", 1, w, 8) == 1 && w[0] == 22);
    CHECK_NEAR(wmean(r, "lb", "app_1_health", 12, 13), 0.310, 1e-6);
    CHECK_NEAR(wmean(r, "lb", "app_1_health", 22, 23), 1 - 0.612, 1e-6);
    CHECK(wmean(r, "lb", "app_1_health", 13, 22) == 0);
    CHECK(wmean(r, "lb", "app_0_health", 1, 40) == 1);
    CHECK(wsum(r, "lb", "health_changes", 1, 40) == 2);
    /* the probes that failed: 3 while healthy, 3 while unhealthy */
    CHECK(test_total(r, "lb", "probe_failures") == 6);
    CHECK(test_total(r, "lb", "probe_timeouts") == 6);
    test_done(r);

    /* healthy_edge_interval: the first probe after the return waits 5 s, so
     * windows 23..26 see only replica 0's probe */
    r = run_checked(t, "40s",
                    "{interval: 1s, timeout: 100ms, unhealthy_threshold: 3, healthy_threshold: 2, "
                    "unhealthy_interval: 2s, healthy_edge_interval: 5s}",
                    NULL, trig);
    if (!r) return;
    CHECK(wsum(r, "lb", "probes", 23, 27) == 4);
    CHECK(wsum(r, "lb", "probes", 30, 34) == 8);
    test_done(r);
}

/* interval_jitter adds uniform(0, j) to each wait, interval_jitter_percent
 * uniform(0, p x interval): mean spacings 1.501 s and 1.251 s. Over 300 s one
 * host's probe count has a standard deviation of about 2.4 (the spacings'
 * variance is j^2/12), so +-12 is 5 of them. */
static void jitter_stretches_intervals(test_ctx *t)
{
    const char *hcs[] = {"{interval: 1s, interval_jitter: 1s}",
                         "{interval: 1s, interval_jitter_percent: 50%}"};
    const double spacing[] = {1.501, 1.251};
    for (int k = 0; k < 2; k++) {
        msim_result *r = run_checked(t, "300s", hcs[k], NULL, NULL);
        if (!r) return;
        double per_host = test_total(r, "lb", "probes") / 2;
        CHECK_MSG(fabs(per_host - 300 / spacing[k]) < 12, "%s: %.1f probes per host", hcs[k],
                  per_host);
        test_done(r);
    }
}

/* A probe is real work. One worker, 100 ms per attempt, 20/s offered: the
 * queue grows without end and a probe waiting behind it times out, so the
 * only host leaves rotation. On the priority path it waits at most for the
 * attempt in service; on a separate thread not at all: the host stays in. */
static void probes_queue_behind_work(test_ctx *t)
{
    const char *paths[] = {"queue", "priority", "separate"};
    for (int k = 0; k < 3; k++) {
        char yaml[2048];
        snprintf(yaml, sizeof yaml,
                 "duration: 30s\nverdict: {warmup: 1s, hold: 5s, observe: 10s}\n"
                 "clients:\n  c: {target: lb, rate: 20/s, timeout: 5s}\n"
                 "services:\n  app: {service_time: 100ms, probe: {service_time: 1ms, path: %s}}\n"
                 "balancers:\n  lb:\n    pools: [{service: app}]\n"
                 "    health_check: {interval: 1s, timeout: 250ms}\n",
                 paths[k]);
        msim_result *r = test_run_text(t, yaml, NULL, 0, 0);
        if (!r) return;
        double out = test_total(r, "lb", "marked_unhealthy");
        CHECK_MSG(k == 0 ? out >= 1 : out == 0, "path %s: marked unhealthy %.0f times", paths[k],
                  out);
        CHECK(test_total(r, "app", "probes") == test_total(r, "lb", "probes"));
        test_done(r);
    }
}

/* ---- priorities and panic ---------------------------------------------------------------------
 */

/* Envoy's priority loads: P0 with 10 hosts, 3 black-holed -> health
 * floor(1.4 x 70) = 98%, so P1 takes 2%; 5 black-holed -> 70/30. Each share is
 * binomial over the attempts sent while the trigger holds. */
static void priority_loads_follow_envoy(test_ctx *t)
{
    const int down[] = {3, 5};
    const double p0[] = {0.98, 0.70};
    for (int k = 0; k < 2; k++) {
        char yaml[2048];
        snprintf(
            yaml, sizeof yaml,
            "duration: 70s\nverdict: {warmup: 1s, hold: 5s, observe: 5s}\n"
            "clients:\n  c: {target: lb, rate: 1000/s, timeout: 1s}\n"
            "services:\n  primary: {replicas: 10, workers: unlimited, service_time: 1ms}\n"
            "  backup: {replicas: 4, workers: unlimited, service_time: 1ms}\n"
            "balancers:\n  lb:\n    pools: [{service: primary}, {service: backup, priority: 1}]\n"
            "    health_check: {interval: 1s, timeout: 100ms, unhealthy_threshold: 1}\n"
            "triggers:\n  - {kind: blackhole, target: primary, at: 5s, duration: 60s, replicas: "
            "%d}\n",
            down[k]);
        msim_result *r = test_run_text(t, yaml, NULL, 0, 0);
        if (!r) return;
        double a = wsum(r, "lb", "primary_traffic", 10, 64),
               b = wsum(r, "lb", "backup_traffic", 10, 64);
        double n = a + b, sd = sqrt(n * p0[k] * (1 - p0[k]));
        CHECK_MSG(fabs(a - n * p0[k]) < 5 * sd, "%d down: primary %.0f of %.0f", down[k], a, n);
        CHECK(wmean(r, "lb", "primary_healthy", 10, 64) == 10 - down[k]);
        CHECK(wsum(r, "lb", "panic_levels", 10, 64) == 0);
        test_done(r);
    }
}

/* One level: 4 good hosts and 6 that hang (two pools of equal priority).
 * After the checks notice, 40% of the level is healthy. Below a 50% panic
 * threshold, with no other level to take the load, the level routes to all
 * 10 hosts (60% of the attempts go to the hung ones); at 30% it keeps to the
 * healthy 4; with a healthy backup level the normalised health reaches 100%
 * and panic is disregarded: 56% to the level (1.4 x 40), 44% to the backup. */
static void panic_switches_at_the_threshold(test_ctx *t)
{
    struct {
        const char *panic, *backup;
        double bad_share, panic_levels;
    } cases[] = {
        {"50%", NULL, 0.6, 1},
        {"30%", NULL, 0, 0},
        {"0%", NULL, 0, 0},
        {"50%", "spare", 0, 0},
    };
    for (int k = 0; k < 4; k++) {
        char yaml[2048];
        snprintf(
            yaml, sizeof yaml,
            "duration: 70s\nverdict: {warmup: 1s, hold: 5s, observe: 5s}\n"
            "clients:\n  c: {target: lb, rate: 1000/s, timeout: 200ms}\n"
            "services:\n  good: {replicas: 4, workers: unlimited, service_time: 1ms}\n"
            "  bad: {replicas: 6, workers: unlimited, service_time: 1ms}\n"
            "  spare: {replicas: 4, workers: unlimited, service_time: 1ms}\n"
            "balancers:\n  lb:\n    policy: random\n    healthy_panic_threshold: %s\n"
            "    pools: [{service: good}, {service: bad}%s]\n"
            "    health_check: {interval: 1s, timeout: 100ms, unhealthy_threshold: 1}\n"
            "triggers:\n  - {kind: blackhole, target: bad, at: 5s, duration: 60s, replicas: 6}\n",
            cases[k].panic, cases[k].backup ? ", {service: spare, priority: 1}" : "");
        msim_result *r = test_run_text(t, yaml, NULL, 0, 0);
        if (!r) return;
        double n = wsum(r, "lb", "forwarded", 10, 64), bad = wsum(r, "lb", "bad_traffic", 10, 64);
        double p = cases[k].bad_share, sd = sqrt(n * p * (1 - p)) + 1;
        CHECK_MSG(fabs(bad - n * p) < 5 * sd, "panic %s%s: %.0f of %.0f to the hung hosts",
                  cases[k].panic, cases[k].backup ? " + backup" : "", bad, n);
        CHECK_NEAR(wmean(r, "lb", "panic_levels", 10, 64), cases[k].panic_levels, 1e-9);
        /* (an attempt in the first millisecond may find no host checked yet) */
        CHECK(wsum(r, "lb", "no_healthy_upstream", 1, 70) == 0);
        if (cases[k].backup) {
            double spare = wsum(r, "lb", "spare_traffic", 10, 64), q = 0.44;
            CHECK_MSG(fabs(spare - n * q) < 5 * sqrt(n * q * (1 - q)), "backup %.0f of %.0f", spare,
                      n);
        }
        test_done(r);
    }
}

/* Nothing healthy and panic off: every attempt is refused at once with
 * "503 no healthy upstream"; with panic on, level 0 takes everything. */
static void no_healthy_upstream_without_panic(test_ctx *t)
{
    const char *panic[] = {"0%", "50%"};
    for (int k = 0; k < 2; k++) {
        char yaml[2048];
        snprintf(
            yaml, sizeof yaml,
            "duration: 40s\nverdict: {warmup: 1s, hold: 5s, observe: 5s}\n"
            "clients:\n  c: {target: lb, arrival: constant, rate: 100/s, timeout: 200ms}\n"
            "services:\n  app: {replicas: 3, workers: unlimited, service_time: 1ms}\n"
            "balancers:\n  lb:\n    healthy_panic_threshold: %s\n    pools: [{service: app}]\n"
            "    health_check: {interval: 1s, timeout: 100ms, unhealthy_threshold: 1}\n"
            "triggers:\n  - {kind: blackhole, target: app, at: 5s, duration: 20s, replicas: 3}\n",
            panic[k]);
        msim_result *r = test_run_text(t, yaml, NULL, 0, 0);
        if (!r) return;
        double refused = wsum(r, "lb", "no_healthy_upstream", 8, 25);
        if (k == 0) {
            CHECK_MSG(refused == 1700, "%.0f refused", refused);
            CHECK(wsum(r, "c", "rejections", 8, 25) == 1700);
            CHECK(wsum(r, "lb", "forwarded", 8, 25) == 0);
        } else {
            CHECK(refused == 0);
            CHECK(wsum(r, "lb", "forwarded", 8, 25) == 1700);
            CHECK(wsum(r, "c", "timeouts", 8, 25) >= 1690); /* sent into the black hole */
        }
        check_ledger(t, r);
        test_done(r);
    }
}

/* ---- outlier detection -------------------------------------------------------------------------
 */

static msim_result *run_outlier(test_ctx *t, const char *od, const char *hc, int bad_replicas,
                                int good_replicas, const char *duration)
{
    char yaml[2048];
    snprintf(yaml, sizeof yaml,
             "duration: %s\nverdict: {warmup: 1s, hold: 5s, observe: 5s}\n"
             "clients:\n  c: {target: lb, arrival: constant, rate: 100/s}\n"
             "services:\n  good: {replicas: %d, workers: unlimited, service_time: 1ms}\n"
             "  bad: {replicas: %d, workers: unlimited, service_time: 1ms}\n"
             "balancers:\n  lb:\n    pools: [{service: good}, {service: bad}]\n"
             "    outlier_detection: %s\n%s%s\n"
             "triggers:\n  - {kind: errors, target: bad, at: 5s, duration: 1h, fraction: 100%%}\n",
             duration, good_replicas, bad_replicas, od, hc ? "    health_check: " : "",
             hc ? hc : "");
    return test_run_text(t, yaml, NULL, 0, 0);
}

/* A host that always errs, round robin, sweeps every 10 s from t = 0:
 *   ejected at ~5.0 s (its 5th error)        backoff 1 -> out 30 s
 *   returned at the 40 s sweep, ejected again  backoff 2 -> out 60 s
 *   the 100 s sweep is 59.9 s after: too early; returned at 110 s
 *   ejected again                              backoff 3 -> out 90 s: back at 210 s
 * A passed active check returns it at once instead (probes are not subject
 * to injected errors), so with checks every 2 s it is ejected over and over. */
static void ejection_time_grows_with_each_ejection(test_ctx *t)
{
    const char *od = "{enabled: true, consecutive_5xx: 5, interval: 10s, base_ejection_time: 30s, "
                     "max_ejection_time: 300s, max_ejection_percent: 50%}";
    msim_result *r = run_outlier(t, od, NULL, 1, 1, "240s");
    if (!r) return;
    uint32_t w[8];
    int n = nonzero_windows(r, "lb", "ejections", 0, w, 8);
    CHECK_MSG(n == 4 && w[0] == 5 && w[1] == 40 && w[2] == 110 && w[3] == 210,
              "%d ejections, at %u %u %u %u", n, w[0], w[1], w[2], w[3]);
    n = nonzero_windows(r, "lb", "unejections", 0, w, 8);
    CHECK_MSG(n == 3 && w[0] == 40 && w[1] == 110 && w[2] == 210, "%d unejections", n);
    /* 5 errors before each ejection, nothing in between */
    CHECK(test_total(r, "c", "errors") == 20);
    test_done(r);

    r = run_outlier(t, od, "{interval: 2s}", 1, 1, "60s");
    if (!r) return;
    CHECK_MSG(wsum(r, "lb", "ejections", 5, 60) >= 20, "%.0f ejections",
              wsum(r, "lb", "ejections", 5, 60));
    CHECK(wsum(r, "lb", "unejections", 5, 60) >= wsum(r, "lb", "ejections", 5, 60) - 1);
    test_done(r);
}

/* Three erring hosts of ten: max_ejection_percent 10% lets one out at a time
 * (and one host is always ejectable); 30% lets all three out. */
static void max_ejection_percent_caps_ejections(test_ctx *t)
{
    const char *pct[] = {"10%", "30%"};
    const double healthy_bad[] = {2, 0};
    for (int k = 0; k < 2; k++) {
        char od[256];
        snprintf(od, sizeof od, "{enabled: true, max_ejection_percent: %s}", pct[k]);
        msim_result *r = run_outlier(t, od, NULL, 3, 7, "40s");
        if (!r) return;
        CHECK_MSG(wmean(r, "lb", "bad_healthy", 8, 30) == healthy_bad[k], "%s: %.2f bad hosts in",
                  pct[k], wmean(r, "lb", "bad_healthy", 8, 30));
        CHECK(wsum(r, "lb", "ejections", 0, 30) == 3 - healthy_bad[k]);
        test_done(r);
    }
}

/* ---- black holes and refusals -------------------------------------------------------------------
 */

/* Behind a balancer without health checks a downed replica still gets its
 * round-robin share: refused at once (capacity, inflight: fail) or swallowed
 * (blackhole), when its sender times out. */
static void downed_hosts_refuse_or_swallow(test_ctx *t)
{
    const char *trig[] = {"{kind: capacity, target: app, at: 5s, duration: 10s, replicas_down: 1}",
                          "{kind: blackhole, target: app, at: 5s, duration: 10s}"};
    for (int k = 0; k < 2; k++) {
        char yaml[2048];
        snprintf(yaml, sizeof yaml,
                 "duration: 30s\nverdict: {warmup: 1s, hold: 5s, observe: 5s}\n"
                 "clients:\n  c: {target: lb, arrival: constant, rate: 100/s, timeout: 200ms}\n"
                 "services:\n  app: {replicas: 2, workers: unlimited, service_time: 1ms}\n"
                 "balancers:\n  lb: {pools: [{service: app}]}\n"
                 "triggers:\n  - %s\n",
                 trig[k]);
        msim_result *r = test_run_text(t, yaml, NULL, 0, 0);
        if (!r) return;
        double rej = wsum(r, "c", "rejections", 6, 14), to = wsum(r, "c", "timeouts", 6, 14);
        CHECK_MSG(k == 0 ? (rej == 400 && to == 0) : (rej == 0 && to == 400),
                  "rejections %.0f timeouts %.0f", rej, to);
        CHECK(wsum(r, "c", "failed", 16, 30) == 0);
        check_ledger(t, r);
        test_done(r);
    }
}

/* ---- the CDN -----------------------------------------------------------------------------------
 */

/* Per-window series of one column over [w0, w1), malloc'd. */
static double *series(const msim_result *r, const char *comp, const char *metric, uint32_t w0,
                      uint32_t w1)
{
    int c = msim_result_column(r, comp, metric);
    double *x = malloc((w1 - w0) * sizeof *x);
    for (uint32_t w = w0; x && w < w1; w++)
        x[w - w0] = c < 0 ? NAN : msim_result_at(r, w, c);
    return x;
}

/* examples/cdn-ringing.yaml rings: goodput oscillates with the readmission
 * cycle (3 probes 4 s apart, each with up to 0.5 s of jitter, then one
 * failing probe 1-1.5 s later: 14.0 s, plus probe latencies), hosts flap
 * dozens of times a minute after the trigger, and the healthy-primary count
 * swings with the same period. With the fix the churn stops. */
static void cdn_rings_with_the_readmission_period(test_ctx *t)
{
    msim_result *r = run_file(t, "examples/cdn-ringing.yaml", NULL, 0, 0, NULL, 0);
    if (!r) return;
    CHECK_MSG(r->verdict.kind == MSIM_VERDICT_OSCILLATING, "%s", r->verdict.reason);
    CHECK_MSG(r->verdict.period_s > 13.5 && r->verdict.period_s < 15, "period %.2fs",
              r->verdict.period_s);
    CHECK(has_signal(r, "health_churn"));
    uint32_t a0 = 120; /* 30 s after the trigger ended */
    double churn = 60 * wsum(r, "lb", "health_changes", a0, r->nwin) / (r->nwin - a0);
    CHECK_MSG(churn > 60, "%.1f health changes per minute", churn);
    CHECK(wsum(r, "lb", "health_changes", 10, 60) == 0); /* a quiet baseline */
    double *x = series(r, "lb", "primary_healthy", a0, r->nwin);
    double *y = series(r, "lb", "backup_healthy", a0, r->nwin);
    if (x && y) {
        msim_oscillation o = msim_detect_oscillation(x, r->nwin - a0, 2, 0.3);
        CHECK_MSG(o.found && fabs(o.period - r->verdict.period_s) < 1, "primaries swing: %.2f s",
                  o.period);
        double lo = 1e9, hi = -1e9;
        for (uint32_t i = 0; i < r->nwin - a0; i++)
            lo = fmin(lo, y[i]), hi = fmax(hi, y[i]);
        CHECK_MSG(lo == 0 && hi >= 3, "backups swing between %.1f and %.1f", lo, hi);
    }
    free(x);
    free(y);
    check_ledger_of(t, r, "web");
    test_done(r);
}

/* The fixes settle it: panic mode (examples/cdn-ringing-panic.yaml), failing
 * open, probes on their own thread, and diagnose's switch (fail open when the
 * trigger ends). After the recovery no host changes state. */
static void cdn_fixes_settle(test_ctx *t)
{
    msim_result *r = run_file(t, "examples/cdn-ringing-panic.yaml", NULL, 0, 0, NULL, 0);
    if (!r) return;
    CHECK_MSG(r->verdict.kind == MSIM_VERDICT_RECOVERED, "%s", r->verdict.reason);
    /* goodput is back while panic mode still routes to flapping hosts; the
     * backups return last; from 3m on nothing moves */
    CHECK_MSG(wsum(r, "lb", "health_changes", 180, r->nwin) == 0, "%.0f changes after 3m",
              wsum(r, "lb", "health_changes", 180, r->nwin));
    CHECK(wmean(r, "lb", "primary_healthy", 180, r->nwin) == 16);
    test_done(r);

    const msim_override fixes[][2] = {
        {{"balancers.lb.fail_open", "true"}, {NULL, NULL}},
        {{"services.primary.probe.path", "separate"}, {"services.backup.probe.path", "separate"}},
    };
    for (int k = 0; k < 2; k++) {
        r = run_file(t, "examples/cdn-ringing.yaml", fixes[k], fixes[k][1].path ? 2 : 1, 0, NULL,
                     0);
        if (!r) return;
        CHECK_MSG(r->verdict.kind == MSIM_VERDICT_RECOVERED && r->verdict.recovery_s < 5, "%s: %s",
                  fixes[k][0].path, r->verdict.reason);
        test_done(r);
    }

    /* diagnose: the balancer's mechanism, switched off when the trigger ends */
    msim_scenario *sc = NULL;
    msim_error err = {0};
    CHECK(msim_scenario_load("examples/cdn-ringing.yaml", NULL, 0, &sc, &err) == 0);
    int lb = msim_scenario_find(sc, "lb");
    const msim_kind *k = sc->components[lb].kind;
    CHECK(k->nmechanisms == 1 && strcmp(k->mechanisms[0].name, "health_checks") == 0);
    msim_scenario_free(sc);
    msim_disable off = {lb, 0, MSIM_NEVER};
    r = run_file(t, "examples/cdn-ringing.yaml", NULL, 0, 0, &off, 1);
    if (!r) return;
    CHECK_MSG(r->verdict.kind == MSIM_VERDICT_RECOVERED && r->verdict.recovery_s < 5, "%s",
              r->verdict.reason);
    test_done(r);
}

/* Not one lucky seed: over replicas 1..5 the CDN rings every time (never
 * recovers) and the fixed one recovers every time. */
static void cdn_verdicts_hold_across_replicas(test_ctx *t)
{
    for (uint64_t rep = 1; rep <= 5; rep++) {
        msim_result *r = run_file(t, "examples/cdn-ringing.yaml", NULL, 0, rep, NULL, 0);
        if (!r) return;
        CHECK_MSG(r->verdict.kind == MSIM_VERDICT_OSCILLATING, "replica %llu: %s",
                  (unsigned long long)rep, r->verdict.reason);
        test_done(r);
        r = run_file(t, "examples/cdn-ringing-panic.yaml", NULL, 0, rep, NULL, 0);
        if (!r) return;
        CHECK_MSG(r->verdict.kind == MSIM_VERDICT_RECOVERED, "replica %llu with panic: %s",
                  (unsigned long long)rep, r->verdict.reason);
        test_done(r);
    }
}

/* The cascades and their mitigations, as the examples' headers report them. */
static void cascades_and_mitigations(test_ctx *t)
{
    struct {
        const char *file, *path, *value;
        msim_verdict_kind want;
    } cases[] = {
        {"examples/health-check-cascade.yaml", NULL, NULL, MSIM_VERDICT_OSCILLATING},
        {"examples/health-check-cascade.yaml", "balancers.lb.health_check.unhealthy_threshold", "5",
         MSIM_VERDICT_RECOVERED},
        {"examples/health-check-cascade.yaml", "services.app.probe.path", "separate",
         MSIM_VERDICT_RECOVERED},
        {"examples/health-check-cascade.yaml", "balancers.lb.healthy_panic_threshold", "50%",
         MSIM_VERDICT_RECOVERED},
        {"examples/outlier-cascade.yaml", NULL, NULL, MSIM_VERDICT_METASTABLE},
        {"examples/outlier-cascade.yaml", "balancers.lb.outlier_detection.max_ejection_percent",
         "10%", MSIM_VERDICT_RECOVERED},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        msim_override ov = {cases[i].path, cases[i].value};
        msim_result *r = run_file(t, cases[i].file, &ov, cases[i].path ? 1 : 0, 0, NULL, 0);
        if (!r) return;
        CHECK_MSG(r->verdict.kind == cases[i].want, "%s %s=%s: %s", cases[i].file,
                  cases[i].path ? cases[i].path : "", cases[i].value ? cases[i].value : "",
                  r->verdict.reason);
        if (cases[i].want != MSIM_VERDICT_RECOVERED)
            CHECK(has_signal(r, "health_churn") || test_total(r, "lb", "ejections") > 20);
        check_ledger_of(t, r, "web");
        test_done(r);
    }
}

static void same_seed_same_bytes(test_ctx *t)
{
    char *yaml = test_read_file("examples/cdn-ringing.yaml");
    CHECK(yaml);
    test_same_bytes_twice(t, yaml);
    free(yaml);
}

/* A balancer needs services behind it, each in one pool. */
static void bad_pools_are_refused(test_ctx *t)
{
    const char *bodies[] = {
        "  lb: {pools: []}\n",
        "  lb: {pools: [{service: app}, {service: app, priority: 1}]}\n",
        "  lb: {pools: [{service: lb2}]}\n  lb2: {pools: [{service: app}]}\n",
    };
    for (int k = 0; k < 3; k++) {
        char yaml[1024];
        snprintf(yaml, sizeof yaml,
                 "duration: 10s\nclients:\n  c: {target: lb, rate: 10/s}\n"
                 "services:\n  app: {service_time: 1ms}\nbalancers:\n%s",
                 bodies[k]);
        msim_scenario *sc = NULL;
        msim_result *r = NULL;
        msim_error err = {0};
        int rc = msim_scenario_parse(yaml, strlen(yaml), "bad", NULL, 0, &sc, &err);
        if (!rc) rc = msim_run(sc, NULL, &r, &err);
        CHECK_MSG(rc != 0 && err.msg[0], "case %d accepted", k);
        msim_result_free(r);
        msim_scenario_free(sc);
    }
}

/* Allocation failure at every allocation a balancer run makes (as
 * torture.c does for clients and services): a clean -MSIM_ENOMEM each time,
 * never a crash or a leak (the sanitizer build checks). */
static void allocation_failures_are_clean(test_ctx *t)
{
    const char *yaml =
        "duration: 10s\nverdict: {warmup: 1s}\n"
        "clients:\n  c: {target: lb, rate: 500/s, timeout: 100ms, retry: {max_attempts: 2}}\n"
        "services:\n  a: {replicas: 3, workers: 2, queue: {capacity: 20}, service_time: 5ms}\n"
        "  b: {replicas: 2, workers: 2, service_time: 5ms, probe: {path: separate}}\n"
        "balancers:\n  lb:\n    policy: least_request\n"
        "    pools: [{service: a}, {service: b, priority: 1}]\n"
        "    health_check: {interval: 500ms, timeout: 50ms, interval_jitter: 100ms}\n"
        "    outlier_detection: {enabled: true, interval: 1s}\n"
        "triggers: [{kind: blackhole, target: a, at: 3s, duration: 3s, replicas: 2}]\n";
    test_allocation_failures_are_clean(t, yaml);
}

const test_case balancer_tests[] = {
    {"balancer_round_robin_is_exact", round_robin_is_exact, TIER_QUICK},
    {"balancer_weighted_round_robin_follows_weights", weighted_round_robin_follows_weights,
     TIER_QUICK},
    {"balancer_random_is_uniform", random_is_uniform, TIER_QUICK},
    {"balancer_least_request_avoids_the_slow_host", least_request_avoids_the_slow_host, TIER_QUICK},
    {"balancer_least_request_weights", least_request_weights, TIER_QUICK},
    {"balancer_startup_needs_one_success", startup_needs_one_success, TIER_QUICK},
    {"balancer_thresholds_and_intervals", thresholds_and_intervals, TIER_QUICK},
    {"balancer_jitter_stretches_intervals", jitter_stretches_intervals, TIER_QUICK},
    {"balancer_probes_queue_behind_work", probes_queue_behind_work, TIER_QUICK},
    {"balancer_priority_loads_follow_envoy", priority_loads_follow_envoy, TIER_QUICK},
    {"balancer_panic_switches_at_the_threshold", panic_switches_at_the_threshold, TIER_QUICK},
    {"balancer_no_healthy_upstream_without_panic", no_healthy_upstream_without_panic, TIER_QUICK},
    {"balancer_ejection_time_grows", ejection_time_grows_with_each_ejection, TIER_QUICK},
    {"balancer_max_ejection_percent_caps", max_ejection_percent_caps_ejections, TIER_QUICK},
    {"balancer_downed_hosts_refuse_or_swallow", downed_hosts_refuse_or_swallow, TIER_QUICK},
    {"balancer_cdn_rings_with_the_readmission_period", cdn_rings_with_the_readmission_period,
     TIER_QUICK},
    {"balancer_cdn_fixes_settle", cdn_fixes_settle, TIER_QUICK},
    {"balancer_cdn_verdicts_hold_across_replicas", cdn_verdicts_hold_across_replicas, TIER_FULL},
    {"balancer_cascades_and_mitigations", cascades_and_mitigations, TIER_QUICK},
    {"balancer_same_seed_same_bytes", same_seed_same_bytes, TIER_QUICK},
    {"balancer_bad_pools_are_refused", bad_pools_are_refused, TIER_QUICK},
    {"balancer_allocation_failures_are_clean", allocation_failures_are_clean, TIER_QUICK},
    {NULL, NULL, 0},
};
