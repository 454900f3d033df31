/* admission.c — the server-side mitigations against the semantics of their
 * sources (docs/mitigations.md, "Server-side mitigations"): each state
 * machine driven directly (folly's CoDel, HBase's LIFO switch, Netflix's
 * AIMD, Vegas and Gradient2, Envoy's gradient controller), then each
 * mechanism in small runs whose outcome follows from its arithmetic. */
#include <stdlib.h>
#include <string.h>

#include "../suites.h"
#include "../../components/admission.h"
#include "../../components/queue_policy.h"

#define MS MSIM_MS

/* A client "c" -> service "s" scenario. */
static msim_result *run_cs(test_ctx *t, const char *duration, const char *client,
                           const char *service)
{
    char yaml[4096];
    snprintf(yaml, sizeof yaml,
             "duration: %s\nverdict: {warmup: 1s, hold: 5s, observe: 10s}\n"
             "clients:\n  c:\n    target: s\n%s\nservices:\n  s:\n%s\n",
             duration, client, service);
    return test_run_text(t, yaml, NULL, 0, 0);
}

static double peak(const msim_result *r, const char *comp, const char *metric)
{
    int c = msim_result_column(r, comp, metric);
    double m = -1;
    for (uint32_t w = 0; c >= 0 && w < r->nwin; w++)
        m = fmax(m, msim_result_at(r, w, c));
    return m;
}

static double at(const msim_result *r, const char *comp, const char *metric, uint32_t w)
{
    int c = msim_result_column(r, comp, metric);
    return c < 0 ? NAN : msim_result_at(r, w, c);
}

static void check_ledger(test_ctx *t, const msim_result *r)
{
    CHECK(r->requests == r->succeeded + r->failed + r->in_flight);
}

/* ---- CoDel (folly Codel::overloaded) ---------------------------------------------------- */

/* One dequeue a millisecond, each with the delay d(t). Returns how many of
 * those at times [from, to) ms were dropped. */
static int feed(codel *c, const codel_cfg *cfg, int from, int to, msim_time (*d)(int ms))
{
    int drops = 0;
    for (int ms = from; ms < to; ms++)
        drops += codel_overloaded(c, cfg, d(ms), ms * MS);
    return drops;
}

static msim_time low(int ms)
{
    (void)ms;
    return 1 * MS;
}

static msim_time high(int ms) /* above target, under the slough timeout */
{
    (void)ms;
    return 8 * MS;
}

static msim_time stale(int ms) /* over 2 x target */
{
    (void)ms;
    return 11 * MS;
}

/* Overloaded only after a whole interval whose every delay was above target;
 * then only delays over 2 x target are dropped, never the first of an
 * interval; one delay under target ends it at the next interval. With one
 * dequeue per ms from t = 1 ms the intervals start at 2, 103, 204, 305, ...
 * (an interval restarts at the first dequeue after the previous one ended). */
static void codel_drops_after_a_full_interval(test_ctx *t)
{
    codel_cfg cfg = {5 * MS, 100 * MS};
    codel c;
    codel_init(&c, 0);
    CHECK(feed(&c, &cfg, 1, 300, low) == 0 && !c.overloaded);
    /* from 300 ms every delay is above target: the interval [204, 304] still
     * saw 1 ms delays, so at 305 the state is decided "not overloaded" */
    CHECK(feed(&c, &cfg, 300, 406, high) == 0);
    CHECK(!c.overloaded);
    /* the interval [305, 405] was all above target: overloaded from 406 on,
     * but the first request of the new interval is never dropped */
    CHECK(!codel_overloaded(&c, &cfg, 50 * MS, 406 * MS));
    CHECK(c.overloaded);
    CHECK(!codel_overloaded(&c, &cfg, 8 * MS, 407 * MS));     /* above target: kept */
    CHECK(!codel_overloaded(&c, &cfg, 10 * MS, 408 * MS));    /* exactly 2 x target: kept */
    CHECK(codel_overloaded(&c, &cfg, 10 * MS + 1, 409 * MS)); /* older: dropped */
    CHECK(feed(&c, &cfg, 410, 420, stale) == 10);
    /* one delay under target in [406, 506] ends the overload at 507 */
    CHECK(!codel_overloaded(&c, &cfg, 3 * MS, 420 * MS));
    CHECK(feed(&c, &cfg, 421, 507, high) == 0); /* still overloaded, none stale */
    CHECK(c.overloaded);
    CHECK(feed(&c, &cfg, 507, 520, stale) == 0);
    CHECK(!c.overloaded);
}

/* Nothing comes for a while: the next dequeue closes the interval, however
 * long it was, and is itself kept. */
static void codel_interval_restarts_on_demand(test_ctx *t)
{
    codel_cfg cfg = {5 * MS, 100 * MS};
    codel c;
    codel_init(&c, 0);
    CHECK(feed(&c, &cfg, 1, 50, high) == 0);
    CHECK(!codel_overloaded(&c, &cfg, 30 * MS, 5000 * MS)); /* decides: overloaded, kept */
    CHECK(c.overloaded);
    CHECK(codel_overloaded(&c, &cfg, 30 * MS, 5001 * MS));
}

/* Twice the capacity, offered steadily: FIFO lets the queue (and latency)
 * grow without bound; CoDel keeps the worker busy and the successes' queueing
 * delay near 2 x target, dropping the rest as rejections. */
static void codel_keeps_the_queue_short(test_ctx *t)
{
    const char *client = "    arrival: constant\n    rate: 200/s\n    timeout: 30s";
    msim_result *r = run_cs(t, "20s", client,
                            "    workers: 1\n    service_time: 10ms\n"
                            "    queue: {discipline: codel}");
    if (!r) return;
    double ok = test_total(r, "c", "successes"), dropped = test_total(r, "s", "codel_dropped");
    CHECK_MSG(ok > 0.97 * 20 * 100, "%.0f successes: the worker idled", ok);
    CHECK_NEAR(dropped, 4000 - ok, 30);
    /* after the first interval (the queue built up before CoDel judged it) */
    for (uint32_t w = 2; w < r->nwin; w++)
        CHECK_MSG(at(r, "c", "latency_p99", w) < 0.040, "p99 %.3fs in window %u",
                  at(r, "c", "latency_p99", w), w);
    CHECK(test_gauge_mean(r, "s", "codel_overloaded", 2) > 0.9);
    check_ledger(t, r);
    test_done(r);
    r = run_cs(t, "20s", client, "    workers: 1\n    service_time: 10ms");
    if (!r) return;
    CHECK(peak(r, "c", "latency_p99") > 5);
    test_done(r);
}

/* ---- adaptive LIFO (HBase: size / capacity > lifoThreshold) ------------------------------- */

static void adaptive_lifo_switches_above_threshold(test_ctx *t)
{
    queue_cfg q = {10, QUEUE_ADAPTIVE_LIFO, 0.8, {5 * MS, 100 * MS}};
    CHECK(!queue_newest_first(&q, 0, 10));
    CHECK(!queue_newest_first(&q, 8, 10)); /* exactly 80 %: still fifo */
    CHECK(queue_newest_first(&q, 9, 10));
    q.discipline = QUEUE_FIFO;
    CHECK(!queue_newest_first(&q, 10, 10));
    q.discipline = QUEUE_LIFO;
    CHECK(queue_newest_first(&q, 1, 10));
    q.discipline = QUEUE_CODEL;
    CHECK(!queue_newest_first(&q, 10, 10) && queue_oldest_first(QUEUE_CODEL));
    CHECK(!queue_oldest_first(QUEUE_ADAPTIVE_LIFO_CODEL));
}

/* An unbounded queue has no fill to flip on: refused with a reason. */
static void adaptive_lifo_needs_a_capacity(test_ctx *t)
{
    const char *yaml = "duration: 10s\nclients:\n  c: {target: s, rate: 10/s}\n"
                       "services:\n  s: {service_time: 1ms, queue: {discipline: adaptive_lifo}}\n";
    msim_scenario *sc = NULL;
    msim_error err = {0};
    int rc = msim_scenario_parse(yaml, strlen(yaml), t->name, NULL, 0, &sc, &err);
    msim_scenario_free(sc);
    CHECK(rc != 0 && strstr(err.msg, "bounded capacity"));
}

/* Overloaded with a 1 s timeout: FIFO serves attempts that waited for most
 * of a full queue (their clients gone); adaptive LIFO serves the newest above
 * 80 % fill, so most successes are fast. */
static void adaptive_lifo_serves_the_newest_under_overload(test_ctx *t)
{
    const char *client = "    arrival: constant\n    rate: 150/s\n    timeout: 1s";
    msim_result *r = run_cs(t, "30s", client,
                            "    workers: 1\n    service_time: 10ms\n"
                            "    queue: {capacity: 200, discipline: adaptive_lifo}");
    if (!r) return;
    double ok = test_total(r, "c", "successes");
    CHECK_MSG(ok > 0.9 * 30 * 100, "%.0f successes", ok);
    CHECK(test_gauge_mean(r, "s", "lifo", 5) > 0.5);
    check_ledger(t, r);
    test_done(r);
    r = run_cs(t, "30s", client,
               "    workers: 1\n    service_time: 10ms\n    queue: {capacity: 200}");
    if (!r) return;
    CHECK_MSG(test_total(r, "c", "successes") < 0.5 * ok, "fifo: %.0f successes",
              test_total(r, "c", "successes"));
    test_done(r);
}

/* ---- Netflix AIMDLimit -------------------------------------------------------------------- */

static void aimd_grows_when_used_and_backs_off(test_ctx *t)
{
    aimd_cfg cfg = {20, 20, 200, 0.9, 5 * MSIM_SEC};
    CHECK(aimd_update(&cfg, 20, 10 * MS, 10, false) == 21); /* 10 x 2 >= 20 */
    CHECK(aimd_update(&cfg, 20, 10 * MS, 9, false) == 20);  /* app-limited: unchanged */
    CHECK(aimd_update(&cfg, 100, 10 * MS, 100, true) == 90);
    CHECK(aimd_update(&cfg, 100, 5 * MSIM_SEC + 1, 100, false) == 90); /* rtt > timeout */
    CHECK(aimd_update(&cfg, 100, 5 * MSIM_SEC, 100, false) == 101);
    CHECK(aimd_update(&cfg, 99, 1 * MS, 0, true) == 89);      /* (int) 89.1 */
    CHECK(aimd_update(&cfg, 21, 1 * MS, 0, true) == 20);      /* minLimit */
    CHECK(aimd_update(&cfg, 200, 1 * MS, 200, false) == 200); /* maxLimit */
    /* the 2018 AIMDLimit (initialLimit 10, no bounds) is min_limit 1 */
    aimd_cfg old = {10, 1, 1000000, 0.9, 5 * MSIM_SEC};
    CHECK(aimd_update(&old, 10, 1 * MS, 0, true) == 9);
    CHECK(aimd_update(&old, 1, 1 * MS, 0, true) == 1);
    old.backoff_ratio = 0.5;
    CHECK(aimd_update(&old, 7, 1 * MS, 0, true) == 3);
}

/* ---- Netflix VegasLimit -------------------------------------------------------------------- */

static void vegas_follows_the_queue_estimate(test_ctx *t)
{
    vegas_cfg cfg = {20, 1000, 1.0, 30};
    msim_rng rng;
    msim_rng_seed(&rng, 1);
    vegas v;
    vegas_init(&v, &cfg, &rng);
    CHECK(v.probe_jitter >= 0.5 && v.probe_jitter < 1);
    v.probe_jitter = 1; /* no probe for 30 x limit samples */
    CHECK(vegas_update(&v, 10 * MS, 10, false, &rng) == 20 && v.rtt_noload == 10 * MS);
    /* no queue (rtt = rtt_noload): + beta = 6 x log10(20) -> 6 */
    CHECK(vegas_update(&v, 10 * MS, 10, false, &rng) == 26);
    CHECK(vegas_update(&v, 10 * MS, 12, false, &rng) == 26); /* 12 x 2 < 26: app-limited */
    CHECK(vegas_update(&v, 10 * MS, 13, false, &rng) == 32);
    CHECK(vegas_update(&v, 10 * MS, 15, false, &rng) == 32); /* 15 x 2 < 32 */
    CHECK(vegas_update(&v, 10 * MS, 16, true, &rng) == 31);  /* a drop: - log10 */
    /* queue = ceil(31 x (1 - 10/11)) = 3: alpha = 3 -> not < alpha, not > beta = 6 */
    CHECK(vegas_update(&v, 11 * MS, 16, false, &rng) == 31);
    /* queue = ceil(31 x (1 - 10/10.5)) = 2: < alpha -> + 1 */
    CHECK(vegas_update(&v, 10500 * MSIM_US, 16, false, &rng) == 32);
    /* queue = ceil(32 x 0.5) = 16 > beta: - 1 */
    CHECK(vegas_update(&v, 20 * MS, 16, false, &rng) == 31);
    /* a smaller rtt is the new no-load rtt, and changes nothing else */
    CHECK(vegas_update(&v, 5 * MS, 16, false, &rng) == 31 && v.rtt_noload == 5 * MS);
    /* the probe: after probe_jitter x 30 x limit samples, rtt_noload is
     * reset to whatever the sample is */
    v.probe_jitter = 1;
    v.probe_count = 0;
    for (int i = 1; i < 30 * 31; i++)
        vegas_update(&v, 50 * MS, 1, false, &rng); /* app-limited: limit stays 31 */
    CHECK(v.rtt_noload == 5 * MS && (int)v.estimated == 31);
    CHECK(vegas_update(&v, 50 * MS, 1, false, &rng) == 31);
    CHECK(v.rtt_noload == 50 * MS && v.probe_count == 0);
}

/* ---- Netflix Gradient2Limit ---------------------------------------------------------------- */

static void gradient2_recovers_fast_after_overload(test_ctx *t)
{
    gradient2_cfg cfg = {20, 20, 200, 0.2, 4, 600, 1.5};
    gradient2 g;
    gradient2_init(&g, &cfg);
    for (int i = 0; i < 10; i++) /* warm-up: a plain mean (app-limited, the limit stays) */
        CHECK(gradient2_update(&g, 100 * MS, 0) == 20);
    CHECK_NEAR(g.long_rtt, 100e6, 1);
    /* short RTT 3x the long one: gradient max(0.5, 1.5 / 3) = 0.5; new =
     * 20 x 0.5 + 4 = 14, smoothed 20 x 0.8 + 14 x 0.2 = 18.8, floored at 20 */
    CHECK(gradient2_update(&g, 300 * MS, 20) == 20);
    /* latency back to normal after a long overload: long / short > 2, so the
     * long-term RTT is cut by 5 % per sample on top of its EWMA, where the
     * EWMA alone (factor 2/601) would still be at 100 x 0.9967^n ms */
    double ewma = g.long_rtt;
    int n = 0;
    while (g.long_rtt / (10 * MS) > 2 && n < 1000) {
        gradient2_update(&g, 10 * MS, 0);
        ewma = ewma * (1 - 2.0 / 601) + 10e6 * (2.0 / 601);
        n++;
    }
    CHECK_MSG(n < 60, "%d samples to recover", n);
    CHECK_MSG(ewma > 60e6, "the EWMA alone: %.1f ms", ewma / 1e6);
    /* at steady latency the gradient is min(1, 1.5 x ~1): the limit grows by
     * smoothing x queue_size = 0.8 per sample while at least half used */
    g.estimated = 50;
    int l = gradient2_update(&g, 10 * MS, 25);
    CHECK(l == 50 && fabs(g.estimated - 50.8) < 1e-9);
    CHECK(gradient2_update(&g, 10 * MS, 10) == 50); /* 10 < 50.8 / 2: app-limited */
    CHECK(fabs(g.estimated - 50.8) < 1e-9);
}

/* ---- Envoy's gradient controller ----------------------------------------------------------- */

static envoy_gradient_cfg envoy_defaults(void)
{
    return (envoy_gradient_cfg){0.5, {1000, 100 * MS}, {60 * MSIM_SEC, 50, 0.15, 3, 0.25}};
}

/* Samples of a fixed latency, one per ms from `from` ms; returns the time
 * after the last. Ticks whenever a timer is due. */
static msim_time envoy_feed(envoy_gradient *e, msim_time from, int n, msim_time latency,
                            msim_rng *rng)
{
    msim_time now = from;
    for (int i = 0; i < n; i++, now += MS) {
        msim_time due = e->reset_at < e->window_at ? e->reset_at : e->window_at;
        if (due <= now) envoy_gradient_tick(e, now, rng);
        envoy_gradient_sample(e, now - latency, now, rng);
    }
    return now;
}

static void envoy_limit_pinned_while_measuring(test_ctx *t)
{
    envoy_gradient_cfg cfg = envoy_defaults();
    msim_hist *h = calloc(1, sizeof *h);
    msim_rng rng;
    msim_rng_seed(&rng, 2);
    envoy_gradient e;
    envoy_gradient_init(&e, &cfg, h, 0);
    CHECK(envoy_gradient_measuring(&e) && e.limit == 3 && e.reset_at == 100 * MS);
    /* 49 samples: still measuring; the sample timer lapses meanwhile */
    msim_time now = envoy_feed(&e, 10 * MS, 49, 10 * MS, &rng);
    envoy_gradient_tick(&e, 100 * MS, &rng);
    CHECK(envoy_gradient_measuring(&e) && e.limit == 3 && e.reset_at == MSIM_NEVER);
    /* the 50th ends the measurement: minRTT is their p50 */
    envoy_gradient_sample(&e, now - 10 * MS, now, &rng);
    CHECK(!envoy_gradient_measuring(&e) && e.limit == 3);
    CHECK_MSG(fabs((double)e.min_rtt - 10e6) < 0.02e6, "min_rtt %lld", (long long)e.min_rtt);
    CHECK(e.window_at >= now + 60 * MSIM_SEC && e.window_at < now + 69 * MSIM_SEC);
    CHECK(e.reset_at == now + 100 * MS);
    /* sampleRTT = minRTT: gradient 1.25, headroom sqrt: 3 -> 5 -> 8 -> 13 */
    uint32_t want[] = {5, 8, 13, 20};
    for (int k = 0; k < 4; k++) {
        now = envoy_feed(&e, e.reset_at - 99 * MS, 99, 10 * MS, &rng);
        envoy_gradient_tick(&e, e.reset_at, &rng);
        CHECK_MSG(e.limit == want[k], "window %d: limit %u, want %u", k, e.limit, want[k]);
    }
    /* the next measurement pins the limit at min_concurrency again and keeps
     * the old one aside; samples admitted before it began do not count */
    uint32_t before = e.limit;
    msim_time w = e.window_at;
    envoy_gradient_tick(&e, w, &rng);
    CHECK(envoy_gradient_measuring(&e) && e.limit == 3 && e.deferred == before);
    for (int i = 0; i < 60; i++)
        envoy_gradient_sample(&e, w - 1, w + MS, &rng);
    CHECK(envoy_gradient_measuring(&e) && e.limit == 3);
    envoy_feed(&e, w + 20 * MS, 50, 10 * MS, &rng);
    CHECK(!envoy_gradient_measuring(&e) && e.limit == before);
    free(h);
}

/* Latency far above minRTT: gradient 0.5 halves the limit (plus headroom)
 * down to min_concurrency; five windows in a row set at the minimum start a
 * new minRTT measurement at once. */
static void envoy_remeasures_after_five_windows_at_minimum(test_ctx *t)
{
    envoy_gradient_cfg cfg = envoy_defaults();
    msim_hist *h = calloc(1, sizeof *h);
    msim_rng rng;
    msim_rng_seed(&rng, 3);
    envoy_gradient e;
    envoy_gradient_init(&e, &cfg, h, 0);
    msim_time now = envoy_feed(&e, 20 * MS, 50, 10 * MS, &rng);
    CHECK(!envoy_gradient_measuring(&e));
    e.limit = 100;
    int windows = 0;
    while (!envoy_gradient_measuring(&e) && windows < 50) {
        now = envoy_feed(&e, e.reset_at - 50 * MS, 50, 100 * MS, &rng);
        envoy_gradient_tick(&e, e.reset_at, &rng);
        if (e.window_at <= e.reset_at) envoy_gradient_tick(&e, e.window_at, &rng);
        windows++;
        if (windows == 1) CHECK_MSG(e.limit == 57, "limit %u", e.limit); /* 50 + sqrt(50) */
    }
    /* 100 -> 57 -> 33 -> 20 -> 13 -> 9 -> 6 -> 4 -> 3, then 5 more at 3 */
    CHECK_MSG(windows == 13, "%d windows", windows);
    CHECK(envoy_gradient_measuring(&e) && e.limit == 3 && e.deferred == 3);
    (void)now;
    free(h);
}

/* ---- in runs --------------------------------------------------------------------------------- */

/* A fixed limit of 5 on one worker: at most 5 held, the rest refused at once
 * and counted; every permit comes back when the load stops. */
static void fixed_limit_refuses_over_it(test_ctx *t)
{
    msim_result *r = run_cs(t, "20s",
                            "    arrival: constant\n    timeout: 10s\n"
                            "    rate: 20/s\n    schedule: [{at: 10s, rate: 0/s}]",
                            "    workers: 1\n    service_time: 100ms\n"
                            "    admission: {policy: fixed, fixed: {limit: 5}}");
    if (!r) return;
    CHECK(peak(r, "s", "limit_inflight_max") == 5);
    CHECK(peak(r, "s", "queue_max") == 4);
    CHECK(at(r, "s", "limit", 3) == 5);
    double refused = test_total(r, "s", "limit_rejected");
    CHECK_NEAR(refused, 200 - 10 * 10 - 5, 3); /* 10/s served for 10 s, 5 held at the end */
    CHECK(test_total(r, "c", "failed_rejected") == refused);
    CHECK(at(r, "s", "limit_inflight", 19) == 0);
    check_ledger(t, r);
    test_done(r);
}

/* Permits are released once: by the response, or by the sender's timeout
 * when that comes first (the attempt then goes on being served unless the
 * service stops it). With AIMD every timeout is a drop. */
static void permits_come_back_after_timeouts(test_ctx *t)
{
    msim_result *r = run_cs(t, "30s",
                            "    arrival: poisson\n    timeout: 200ms\n"
                            "    rate: 150/s\n    schedule: [{at: 20s, rate: 0/s}]",
                            "    workers: 1\n    service_time: exponential(mean=10ms)\n"
                            "    admission: {policy: aimd}");
    if (!r) return;
    CHECK(test_total(r, "c", "timeouts") > 0);
    CHECK(at(r, "s", "limit_inflight", 29) == 0 && at(r, "s", "in_system", 29) == 0);
    CHECK(peak(r, "s", "limit_max") <= 200 && peak(r, "s", "limit_max") >= 20);
    check_ledger(t, r);
    test_done(r);
}

/* Envoy in a run: the controller starts measuring minRTT with the limit
 * pinned at min_concurrency, and refuses what exceeds it (the docs' warning). */
static void envoy_pins_the_limit_at_start(test_ctx *t)
{
    msim_result *r = run_cs(t, "10s", "    arrival: poisson\n    rate: 1000/s\n    timeout: 1s",
                            "    workers: 8\n    service_time: 5ms\n"
                            "    admission: {policy: envoy_gradient}");
    if (!r) return;
    CHECK(at(r, "s", "limit_pinned", 0) > 0 && at(r, "s", "min_rtt_window", 0) > 0);
    CHECK(at(r, "s", "limit_rejected", 0) > 0);
    CHECK(at(r, "s", "limit", 5) > 100); /* app-limited, it grows toward 1000 */
    CHECK(at(r, "s", "limit_rejected", 5) == 0);
    check_ledger(t, r);
    test_done(r);
}

/* stop_expired: each 2 s attempt is stopped at its 500 ms deadline; the
 * worker is free again at once and the half second is wasted. */
static void stop_expired_frees_the_worker(test_ctx *t)
{
    const char *client = "    arrival: constant\n    rate: 1/s\n    timeout: 500ms";
    msim_result *r =
        run_cs(t, "20s", client, "    workers: 1\n    service_time: 2s\n    stop_expired: true");
    if (!r) return;
    double n = test_total(r, "c", "offered");
    CHECK(test_total(r, "s", "stopped_expired") == n);
    CHECK_NEAR(test_total(r, "s", "wasted"), 0.5 * n, 1e-6);
    CHECK_NEAR(test_gauge_mean(r, "s", "busy", 0), 0.5, 0.01);
    CHECK(peak(r, "s", "queue_max") == 0);
    check_ledger(t, r);
    test_done(r);
    r = run_cs(t, "20s", client, "    workers: 1\n    service_time: 2s");
    if (!r) return;
    CHECK(peak(r, "s", "queue_max") > 5); /* each holds the worker 2 s */
    test_done(r);
}

/* Two classes, 60 % of capacity each, into one worker: `critical` and
 * `sheddable` clients. */
static msim_result *run_classes(test_ctx *t, const char *rate, const char *service_time,
                                const char *service)
{
    char yaml[2048];
    snprintf(yaml, sizeof yaml,
             "duration: 30s\nverdict: {warmup: 1s, hold: 5s, observe: 10s}\n"
             "clients:\n"
             "  crit: {target: s, arrival: poisson, rate: %s, timeout: 5s, priority: critical}\n"
             "  batch: {target: s, arrival: poisson, rate: %s, timeout: 5s, priority: sheddable}\n"
             "services:\n  s:\n    workers: 1\n    service_time: %s\n%s\n",
             rate, rate, service_time, service);
    return test_run_text(t, yaml, NULL, 0, 0);
}

static double success(const msim_result *r, const char *client)
{
    return test_total(r, client, "successes") / test_total(r, client, "offered");
}

/* A full queue and a reached limit push out a waiting sheddable attempt, so
 * critical ones are refused only when no sheddable one waits (rarely, with
 * ten slots); without shedding by priority both classes lose alike. */
static void priority_pushes_out_the_lower_class(test_ctx *t)
{
    const char *setups[] = {
        "    queue: {capacity: 10}\n    shed_by_priority: true",
        "    admission: {policy: fixed, fixed: {limit: 8}}\n    shed_by_priority: true",
        "    queue: {capacity: 10}",
    };
    for (int k = 0; k < 3; k++) {
        msim_result *r = run_classes(t, "60/s", "10ms", setups[k]);
        if (!r) return;
        double crit = success(r, "crit"), batch = success(r, "batch");
        if (k < 2) {
            CHECK_MSG(crit > 0.98 && batch < 0.75, "setup %d: critical %.3f, sheddable %.3f", k,
                      crit, batch);
            CHECK(test_total(r, "s", "pushed_out") > 0);
        } else {
            CHECK_MSG(crit < 0.9 && fabs(crit - batch) < 0.05, "critical %.3f, sheddable %.3f",
                      crit, batch);
        }
        check_ledger(t, r);
        test_done(r);
    }
}

/* While CoDel drops, arrivals of a class below one that waits are refused at
 * once: the sheddable class takes most of the loss. CoDel still drops stale
 * critical attempts itself, so they keep most but not all. */
static void priority_sheds_the_lower_class_under_codel(test_ctx *t)
{
    double crit[2], batch[2];
    for (int k = 0; k < 2; k++) {
        msim_result *r =
            run_classes(t, "600/s", "1ms",
                        k ? "    queue: {discipline: codel}"
                          : "    queue: {discipline: codel}\n    shed_by_priority: true");
        if (!r) return;
        crit[k] = success(r, "crit");
        batch[k] = success(r, "batch");
        CHECK(k || test_total(r, "s", "class_shed") > 0);
        check_ledger(t, r);
        test_done(r);
    }
    CHECK_MSG(crit[0] > batch[0] + 0.15 && crit[0] > crit[1] + 0.05,
              "critical %.3f and sheddable %.3f, against %.3f and %.3f without", crit[0], batch[0],
              crit[1], batch[1]);
}

/* ---- in the verdict -------------------------------------------------------------------------- */

static bool has_signal(const msim_result *r, const char *name)
{
    for (size_t i = 0; i < r->verdict.nsignals; i++)
        if (strcmp(r->verdict.signals[i].name, name) == 0) return true;
    return false;
}

static msim_result *run_example(test_ctx *t, const char *path, const msim_override *ov, size_t nov)
{
    char *text = test_read_file(path);
    if (!text) {
        test_fail(t, __FILE__, __LINE__, "cannot read %s", path);
        return NULL;
    }
    msim_result *r = test_run_text(t, text, ov, nov, 0);
    free(text);
    return r;
}

/* The verdict says what the servers shed and in what state their
 * controllers were: CoDel dropping, a limit pinned at its floor. */
static void verdict_names_server_mitigations(test_ctx *t)
{
    msim_override ov[] = {{"duration", "4m"}};
    msim_result *r = run_example(t, "examples/mitigations-codel.yaml", ov, 1);
    if (!r) return;
    CHECK_MSG(r->verdict.kind == MSIM_VERDICT_RECOVERED, "%s", r->verdict.reason);
    CHECK(has_signal(r, "shed") && has_signal(r, "codel_dropping"));
    test_done(r);
    /* every attempt outlives its client during a deeper cut: each is a drop,
     * and AIMD sits at min_limit */
    msim_override deep[] = {
        {"duration", "4m"}, {"triggers[0].speed_factor", "0.02"}, {"triggers[0].duration", "30s"}};
    r = run_example(t, "examples/mitigations-aimd.yaml", deep, 3);
    if (!r) return;
    CHECK_MSG(has_signal(r, "limit_pinned"), "%s", r->verdict.reason);
    test_done(r);
}

const test_case admission_tests[] = {
    {"admission_codel_drops_after_a_full_interval", codel_drops_after_a_full_interval, TIER_QUICK},
    {"admission_codel_interval_restarts_on_demand", codel_interval_restarts_on_demand, TIER_QUICK},
    {"admission_codel_keeps_the_queue_short", codel_keeps_the_queue_short, TIER_QUICK},
    {"admission_adaptive_lifo_switches_above_threshold", adaptive_lifo_switches_above_threshold,
     TIER_QUICK},
    {"admission_adaptive_lifo_needs_a_capacity", adaptive_lifo_needs_a_capacity, TIER_QUICK},
    {"admission_adaptive_lifo_serves_the_newest", adaptive_lifo_serves_the_newest_under_overload,
     TIER_QUICK},
    {"admission_aimd_grows_when_used_and_backs_off", aimd_grows_when_used_and_backs_off,
     TIER_QUICK},
    {"admission_vegas_follows_the_queue_estimate", vegas_follows_the_queue_estimate, TIER_QUICK},
    {"admission_gradient2_recovers_fast", gradient2_recovers_fast_after_overload, TIER_QUICK},
    {"admission_envoy_limit_pinned_while_measuring", envoy_limit_pinned_while_measuring,
     TIER_QUICK},
    {"admission_envoy_remeasures_at_minimum", envoy_remeasures_after_five_windows_at_minimum,
     TIER_QUICK},
    {"admission_fixed_limit_refuses_over_it", fixed_limit_refuses_over_it, TIER_QUICK},
    {"admission_permits_come_back_after_timeouts", permits_come_back_after_timeouts, TIER_QUICK},
    {"admission_envoy_pins_the_limit_at_start", envoy_pins_the_limit_at_start, TIER_QUICK},
    {"admission_stop_expired_frees_the_worker", stop_expired_frees_the_worker, TIER_QUICK},
    {"admission_priority_pushes_out_the_lower_class", priority_pushes_out_the_lower_class,
     TIER_QUICK},
    {"admission_priority_sheds_the_lower_class_under_codel",
     priority_sheds_the_lower_class_under_codel, TIER_QUICK},
    {"admission_verdict_names_server_mitigations", verdict_names_server_mitigations, TIER_QUICK},
    {NULL, NULL, 0},
};
