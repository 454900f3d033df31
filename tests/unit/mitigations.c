/* mitigations.c — the client-side mitigations against the semantics of their
 * sources (docs/mitigations.md): each state machine driven directly, then each
 * mechanism in small runs whose outcome follows from its arithmetic. */
#include <stdlib.h>
#include <string.h>

#include "../suites.h"
#include "../../components/breaker.h"
#include "../../components/limiter.h"
#include "../../components/retry.h"

/* A client "c" -> service "s" scenario, as in engine.c. */
static msim_result *run_cs(test_ctx *t, const char *duration, const char *client,
                           const char *service, const char *rest)
{
    char yaml[4096];
    snprintf(yaml, sizeof yaml,
             "duration: %s\nverdict: {warmup: 1s, hold: 5s, observe: 10s}\n"
             "clients:\n  c:\n    target: s\n%s\n"
             "services:\n  s:\n%s\n%s\n",
             duration, client, service, rest ? rest : "");
    return test_run_text(t, yaml, NULL, 0, 0);
}

static double span(const msim_result *r, const char *comp, const char *metric, int w0, int w1)
{
    int c = msim_result_column(r, comp, metric);
    return c < 0 ? -1 : msim_result_sum(r, c, (uint32_t)w0, (uint32_t)w1);
}

static double at(const msim_result *r, const char *comp, const char *metric, int w)
{
    int c = msim_result_column(r, comp, metric);
    return c < 0 ? -1 : msim_result_at(r, (uint32_t)w, c);
}

/* The largest value of a column over the run (for _max columns). */
static double peak(const msim_result *r, const char *comp, const char *metric)
{
    int c = msim_result_column(r, comp, metric);
    double m = -1;
    for (uint32_t w = 0; c >= 0 && w < r->nwin; w++)
        m = fmax(m, msim_result_at(r, w, c));
    return m;
}

static void check_ledger(test_ctx *t, const msim_result *r)
{
    CHECK(r->requests == r->succeeded + r->failed + r->in_flight);
    CHECK(test_total(r, "c", "failed") == (double)r->failed);
}

/* A scenario that must not load; its message must mention `what`. */
static void check_rejected(test_ctx *t, const char *client, const char *what)
{
    char yaml[2048];
    snprintf(yaml, sizeof yaml,
             "duration: 10s\nclients:\n  c:\n    target: s\n    rate: 10/s\n%s\n"
             "services:\n  s: {service_time: 1ms}\n",
             client);
    msim_scenario *sc = NULL;
    msim_error err = {0};
    int rc = msim_scenario_parse(yaml, strlen(yaml), t->name, NULL, 0, &sc, &err);
    msim_scenario_free(sc);
    CHECK_MSG(rc != 0, "loaded: %s", client);
    CHECK_MSG(strstr(err.msg, what), "message \"%s\" lacks \"%s\"", err.msg, what);
}

/* ---- gRPC retryThrottling ------------------------------------------------------------- */

/* maxTokens 10, tokenRatio 0.1: retries stop exactly when a failure brings
 * token_count to 5 = maxTokens/2 (the fifth failure), and come back only once
 * successes lift it above 5 again. */
static void grpc_throttle_stops_at_half(test_ctx *t)
{
    grpc_throttle_cfg cfg = {10, 0.1};
    grpc_throttle th;
    grpc_throttle_init(&th, &cfg);
    CHECK(th.milli == 10000 && grpc_throttle_open(&th));
    for (int i = 1; i <= 4; i++)
        CHECK_MSG(grpc_throttle_failure(&th), "failure %d refused", i);
    CHECK(!grpc_throttle_failure(&th)); /* 5 tokens: not above half */
    CHECK(th.milli == 5000 && !grpc_throttle_open(&th));
    grpc_throttle_success(&th); /* 5.1 */
    CHECK(grpc_throttle_open(&th));
    CHECK(!grpc_throttle_failure(&th)); /* 4.1 */
    for (int i = 0; i < 10; i++)
        grpc_throttle_failure(&th);
    CHECK(th.milli == 0); /* clamped at 0 */
    for (int i = 0; i < 200; i++)
        grpc_throttle_success(&th);
    CHECK(th.milli == 10000); /* clamped at maxTokens */
}

/* Every attempt fails with a retryable error, two attempts per request: the
 * first request retries (tokens 10 -> 9 -> 8), the second too (7, 6), the
 * third's first failure leaves 5 and is not retried, nor is any after it. */
static void grpc_throttle_in_a_run(test_ctx *t)
{
    msim_result *r =
        run_cs(t, "10s",
               "    arrival: constant\n    rate: 10/s\n"
               "    retry: {max_attempts: 2, retry_on: [error], "
               "throttling: {maxTokens: 10, tokenRatio: 0.1}}",
               "    workers: unlimited\n    service_time: 1ms\n    errors: 100%", NULL);
    if (!r) return;
    double offered = test_total(r, "c", "offered");
    CHECK(test_total(r, "c", "retries") == 2);
    CHECK(test_total(r, "c", "throttled") == offered - 2);
    CHECK(peak(r, "c", "throttle_tokens_max") == 10);
    CHECK(at(r, "c", "throttle_tokens", 9) == 0);
    check_ledger(t, r);
    test_done(r);
}

/* ---- Finagle RetryBudget ----------------------------------------------------------------- */

static void finagle_deposits_expire_after_ttl(test_ctx *t)
{
    finagle_budget_cfg cfg = {true, 10 * MSIM_SEC, 0, 0.2};
    finagle_budget b;
    finagle_budget_init(&b, &cfg, 0);
    CHECK(b.deposit_amount == 1000 && b.withdrawal_amount == 5000 && b.reserve == 0);
    CHECK(!finagle_try_withdraw(&b, 0));
    for (int i = 0; i < 5; i++)
        finagle_deposit(&b, 0);
    CHECK(finagle_balance(&b, 0) == 1);
    /* still there just before ttl, whether or not anyone looked in between */
    CHECK(finagle_balance(&b, 5 * MSIM_SEC) == 1);
    CHECK(finagle_balance(&b, 9999 * MSIM_MS) == 1);
    /* gone one slice (ttl / 10) past ttl at the latest */
    CHECK(finagle_balance(&b, 11 * MSIM_SEC) == 0);
    CHECK(!finagle_try_withdraw(&b, 11 * MSIM_SEC));
    /* polled every second, a deposit lives exactly ttl */
    finagle_budget_init(&b, &cfg, 0);
    for (int i = 0; i < 5; i++)
        finagle_deposit(&b, 0);
    for (int s = 1; s < 10; s++)
        CHECK_MSG(finagle_balance(&b, s * MSIM_SEC) == 1, "gone at %ds", s);
    CHECK(finagle_balance(&b, 10 * MSIM_SEC) == 0);
}

/* percentCanRetry 0.2: one retry per 5 deposits. minRetriesPerSec 10 with ttl
 * 10 s: a reserve of 100 retries, and withdrawals expire too, so the reserve
 * comes back a ttl later. */
static void finagle_ratio_and_reserve(test_ctx *t)
{
    finagle_budget_cfg cfg = {true, 10 * MSIM_SEC, 0, 0.2};
    finagle_budget b;
    finagle_budget_init(&b, &cfg, 0);
    for (int i = 0; i < 100; i++)
        finagle_deposit(&b, 0);
    int n = 0;
    while (finagle_try_withdraw(&b, 0))
        n++;
    CHECK(n == 20);
    cfg = (finagle_budget_cfg){true, 10 * MSIM_SEC, 10, 0.2};
    finagle_budget_init(&b, &cfg, 0);
    CHECK(b.reserve == 100 * 5000);
    for (n = 0; finagle_try_withdraw(&b, MSIM_SEC); n++)
        ;
    CHECK(n == 100);
    CHECK(finagle_balance(&b, 5 * MSIM_SEC) == 0);
    CHECK(finagle_balance(&b, 12 * MSIM_SEC) == 100);
    /* percentCanRetry 0: deposits count for nothing, a retry costs 1 */
    cfg = (finagle_budget_cfg){true, 10 * MSIM_SEC, 2, 0};
    finagle_budget_init(&b, &cfg, 0);
    for (int i = 0; i < 50; i++)
        finagle_deposit(&b, 0);
    CHECK(finagle_balance(&b, 0) == 20);
    /* both zero: RetryBudget.Empty */
    cfg = (finagle_budget_cfg){true, 10 * MSIM_SEC, 0, 0};
    finagle_budget_init(&b, &cfg, 0);
    finagle_deposit(&b, 0);
    CHECK(!finagle_try_withdraw(&b, 0));
}

/* Steady failure at 100 requests/s: the budget allows 20 % of the requests
 * plus the reserve's 10/s, i.e. 30 retries/s. */
static void finagle_budget_in_a_run(test_ctx *t)
{
    msim_result *r =
        run_cs(t, "60s",
               "    arrival: constant\n    rate: 100/s\n"
               "    retry: {max_attempts: 2, retry_on: [error], budget: {enabled: true}}",
               "    workers: unlimited\n    service_time: 1ms\n    errors: 100%", NULL);
    if (!r) return;
    double retries = span(r, "c", "retries", 20, 60) / 40;
    CHECK_MSG(fabs(retries - 30) < 0.5, "%.2f retries/s", retries);
    /* the first 10 s hold the whole reserve as well */
    CHECK_NEAR(span(r, "c", "retries", 0, 10), 100 + 0.2 * 1000, 2);
    CHECK(span(r, "c", "budget_exhausted", 20, 60) / 40 > 69);
    check_ledger(t, r);
    test_done(r);
}

/* ---- AWS retry quota ---------------------------------------------------------------------- */

static void aws_quota_arithmetic(test_ctx *t)
{
    aws_quota_cfg cfg = {true, 500, 5, 10, 1};
    aws_quota q;
    aws_quota_init(&q, &cfg);
    int n = 0;
    while (aws_quota_acquire(&q, 5))
        n++;
    CHECK(n == 100);
    aws_quota_release(&q, 7);
    CHECK(q.available == 7);
    CHECK(!aws_quota_acquire(&q, 10) && q.available == 7);
    aws_quota_release(&q, 1000);
    CHECK(q.available == 500); /* never above capacity */
}

/* 20 s of errors at 100 requests/s, 3 attempts each: the quota pays for
 * exactly 100 retries (500 / 5), then none; afterwards each first-attempt
 * success gives 1 back, so it is full again 500 requests (5 s) later. */
static void aws_quota_stops_after_100_retries_and_refills(test_ctx *t)
{
    msim_result *r = run_cs(
        t, "60s",
        "    arrival: constant\n    rate: 100/s\n"
        "    retry: {max_attempts: 3, retry_on: [error], quota: {enabled: true}}",
        "    workers: unlimited\n    service_time: 1ms",
        "triggers:\n  - {kind: errors, target: s, at: 10s, duration: 20s, fraction: 100%}\n");
    if (!r) return;
    CHECK(span(r, "c", "retries", 0, 10) == 0);
    CHECK(span(r, "c", "retries", 10, 31) == 100);
    CHECK(at(r, "c", "quota_available", 12) == 0);
    double exhausted = span(r, "c", "quota_exhausted", 10, 31);
    CHECK_MSG(fabs(exhausted - (2000 - 100 / 2.0)) <= 1, "exhausted %.0f", exhausted);
    /* refilled by one per success: 0 at 30 s, 200 at 32 s, 500 at 35 s */
    CHECK_NEAR(at(r, "c", "quota_available", 32), 250, 2);
    CHECK(at(r, "c", "quota_available", 36) == 500);
    CHECK(span(r, "c", "successes", 40, 60) == 2000);
    check_ledger(t, r);
    test_done(r);
}

/* ---- AWS adaptive rate limiter ----------------------------------------------------------------
 */

/* botocore's ClientRateLimiter: off until the first throttling response; a
 * throttle sets w_max to the measured rate (or the bucket's, once on) and cuts
 * the rate to beta x that, every time; a success sets the rate on CUBIC's
 * curve, which is back at w_max K seconds after the throttle; the bucket's
 * rate never exceeds 2 x the measured rate. */
static void aws_limiter_semantics(test_ctx *t)
{
    aws_limiter_cfg cfg = {true, 0.5, 0.7, 0.4, 0.8, 500 * MSIM_MS, 2};
    aws_limiter l;
    aws_limiter_init(&l, &cfg, 0);
    for (int i = 0; i < 400; i++) /* 200 responses/s for 2 s */
        aws_limiter_response(&l, false, i * 0.005);
    CHECK(!l.enabled);
    CHECK_MSG(l.measured > 190 && l.measured < 210, "measured %.1f", l.measured);
    aws_limiter_response(&l, true, 2.0);
    double measured = l.measured; /* the throttle's response is counted too */
    CHECK(l.enabled);
    CHECK_NEAR(l.w_max, measured, 1e-9);
    CHECK_NEAR(l.fill_rate, 0.7 * measured, 1e-9);
    CHECK_NEAR(l.k, cbrt(measured * 0.3 / 0.4), 1e-9);
    /* each further throttle cuts again, from min(measured, current rate) */
    aws_limiter_response(&l, true, 2.0);
    CHECK_NEAR(l.fill_rate, 0.49 * measured, 1e-9);
    double w = l.w_max, k = l.k;
    for (int i = 1; 2.0 + i * 0.005 < 2.0 + k; i++) /* responses keep coming at 200/s */
        aws_limiter_response(&l, false, 2.0 + i * 0.005);
    aws_limiter_response(&l, false, 2.0 + k); /* on the curve: back at w_max */
    CHECK(2 * l.measured > w);
    CHECK_NEAR(l.fill_rate, w, 1e-6);
    aws_limiter_response(&l, false, 2.0 + k + 10); /* far up the curve: 2 x measured */
    CHECK_NEAR(l.fill_rate, 2 * l.measured, 1e-6);
    /* the bucket: tokens accrue at the fill rate, up to max(rate, 1) */
    double now = 20;
    while (aws_limiter_take(&l, now))
        ;
    double wait = aws_limiter_wait(&l, now);
    CHECK(wait > 0 && wait <= 1 / l.fill_rate + 1e-12);
    CHECK(!aws_limiter_take(&l, now + wait * 0.99));
    CHECK(aws_limiter_take(&l, now + wait * 1.01));
    /* never slower than min_rate */
    for (int i = 0; i < 60; i++)
        aws_limiter_response(&l, true, 30.0);
    CHECK(l.fill_rate == 0.5);
}

/* 100 requests/s on a service of 200/s whose CPU is cut to a quarter (50/s)
 * for 10 s, behind a queue of 5. Rejections by the full queue are throttling
 * errors: the first turns the limiter on and sends wait their turn; the rate
 * settles near what the service takes and the rejections almost stop. */
static void aws_limiter_in_a_run(test_ctx *t)
{
    msim_result *r = run_cs(
        t, "60s", "    arrival: constant\n    rate: 100/s\n    rate_limiter: {enabled: true}",
        "    workers: 1\n    service_time: 5ms\n    queue: {capacity: 5}",
        "triggers:\n  - {kind: capacity, target: s, at: 10s, duration: 10s, speed_factor: 0.25}\n");
    if (!r) return;
    CHECK(span(r, "c", "rate_delayed", 0, 10) == 0);
    CHECK(span(r, "c", "rejections", 10, 20) > 0);
    CHECK(span(r, "c", "rate_delayed", 10, 20) > 0);
    CHECK(peak(r, "c", "rate_waiting_max") > 0);
    /* on, it sends at about what the slowed service takes: few rejections */
    CHECK_MSG(span(r, "c", "rejections", 12, 20) <= 3, "%.0f", span(r, "c", "rejections", 12, 20));
    /* after the trigger CUBIC climbs back, the backlog drains, and the rate
     * settles at 2 x the measured send rate */
    CHECK(at(r, "c", "rate_waiting", 59) == 0);
    CHECK(span(r, "c", "failed", 40, 60) == 0);
    CHECK_NEAR(at(r, "c", "rate_limit", 59), 200, 1);
    check_ledger(t, r);
    test_done(r);
}

/* ---- Envoy circuit breakers ----------------------------------------------------------------- */

static void envoy_retry_limits(test_ctx *t)
{
    envoy_cb_cfg cfg = {.enabled = true, .max_requests = 1024, .max_retries = 3,
                        .retry_budget = {false, 0.2, 3}};
    envoy_limits e = {.cfg = &cfg, .requests = 100, .retries = 2};
    CHECK(envoy_retry_max(&e) == 3 && envoy_retry_allowed(&e));
    e.retries = 3;
    CHECK(!envoy_retry_allowed(&e));
    cfg.retry_budget.enabled = true; /* overrides max_retries */
    CHECK(envoy_retry_max(&e) == 20);
    e.requests = 12; /* 2.4 truncates to 2; the floor is 3 */
    CHECK(envoy_retry_max(&e) == 3);
    e.requests = 19;
    CHECK(envoy_retry_max(&e) == 3);
    e.requests = 20;
    CHECK(envoy_retry_max(&e) == 4);
    e.requests = 1023;
    CHECK(envoy_request_allowed(&e));
    e.requests = 1024;
    CHECK(!envoy_request_allowed(&e));
    /* the budget counts pending attempts as active (Envoy: active + pending) */
    e.requests = 15;
    e.pending = 5;
    CHECK(envoy_retry_max(&e) == 4);
}

/* The http1 pool: a free connection sends, a busy pool queues, a full queue
 * overflows; and nobody overtakes the queue. */
static void envoy_http1_pool_decisions(test_ctx *t)
{
    envoy_cb_cfg cfg = {.enabled = true, .protocol = UPSTREAM_HTTP1, .max_connections = 4,
                        .max_pending_requests = 2, .max_requests = 1024, .max_retries = 3};
    envoy_limits e = {.cfg = &cfg, .requests = 3};
    CHECK(envoy_connection_for(&e) == ENVOY_SEND);
    e.requests = 4;
    CHECK(envoy_connection_for(&e) == ENVOY_PEND);
    e.pending = 2;
    CHECK(envoy_connection_for(&e) == ENVOY_OVERFLOW);
    e.requests = 3; /* a connection is free, but two wait for one already */
    CHECK(envoy_connection_for(&e) == ENVOY_PEND);
    cfg.protocol = UPSTREAM_HTTP2;
    e.requests = 1000;
    e.pending = 0;
    CHECK(envoy_connection_for(&e) == ENVOY_SEND);
}

/* An http1 pool of 4 connections in front of 4 workers of 100 ms, at 60/s:
 * 4 attempts on connections (40/s served), 10 waiting for one, 20/s overflow.
 * The per-try timeout (150 ms) starts when an attempt gets its connection, so
 * none times out although requests wait 250 ms more in the pending queue. */
static void envoy_http1_pending_requests(test_ctx *t)
{
    const char *pool = "    circuit_breakers: {enabled: true, protocol: http1, "
                       "max_connections: 4, max_pending_requests: 10}";
    char client[512];
    snprintf(client, sizeof client, "    arrival: constant\n    rate: 60/s\n    timeout: 150ms\n%s",
             pool);
    msim_result *r = run_cs(t, "30s", client, "    service_time: 100ms\n    workers: 4", NULL);
    if (!r) return;
    CHECK(peak(r, "s", "in_system_max") == 4);
    CHECK(peak(r, "c", "cb_pending_max") == 10);
    CHECK_NEAR(span(r, "c", "successes", 5, 30) / 25, 40, 0.5);
    CHECK_NEAR(span(r, "c", "cb_overflow", 5, 30) / 25, 20, 0.5);
    CHECK(test_total(r, "c", "timeouts") == 0);
    CHECK(peak(r, "c", "latency_max") > 0.3); /* 250 ms pending + 100 ms served */
    check_ledger(t, r);
    test_done(r);

    /* with an overall deadline of 300 ms the same requests fail with cause deadline */
    snprintf(client, sizeof client,
             "    arrival: constant\n    rate: 60/s\n    timeout: 150ms\n    deadline: 300ms\n%s",
             pool);
    r = run_cs(t, "30s", client, "    service_time: 100ms\n    workers: 4", NULL);
    if (!r) return;
    CHECK(test_total(r, "c", "failed_deadline") > 100);
    CHECK(peak(r, "c", "latency_max") <= 0.3 + 1e-9);
    check_ledger(t, r);
    test_done(r);
}

/* max_requests 50 in front of a 1 s pure delay at 100/s: 50 attempts in
 * flight, the other 50/s overflow into local failures, never retried. */
static void envoy_max_requests_overflow(test_ctx *t)
{
    msim_result *r = run_cs(t, "30s",
                            "    arrival: constant\n    rate: 100/s\n    timeout: 5s\n"
                            "    retry: {max_attempts: 3}\n"
                            "    circuit_breakers: {enabled: true, max_requests: 50}",
                            "    workers: unlimited\n    service_time: 1s", NULL);
    if (!r) return;
    CHECK_NEAR(span(r, "c", "cb_overflow", 5, 30) / 25, 50, 0.5);
    CHECK_NEAR(span(r, "c", "successes", 5, 30) / 25, 50, 0.5);
    CHECK(test_total(r, "c", "failed_local") == test_total(r, "c", "cb_overflow"));
    CHECK(test_total(r, "c", "retries") == 0);
    check_ledger(t, r);
    test_done(r);
}

/* Every attempt fails at once; a retry waits 1 s of backoff. A retry holds
 * Envoy's retry resource from its grant to its outcome, so max_retries 3
 * allows 3 retries per second; the budget (20 % of nothing in flight) falls
 * back to min_retry_concurrency, 3 too, and 7 when raised to 7. */
static void envoy_max_retries_in_a_run(test_ctx *t)
{
    const char *svc = "    workers: unlimited\n    service_time: 1ms\n    errors: 100%";
    const char *fmt =
        "    arrival: constant\n    rate: 100/s\n"
        "    retry: {max_attempts: 2, retry_on: [error], backoff: {kind: constant, base: 1s}}\n"
        "    circuit_breakers: {enabled: true, %s}";
    const char *variants[] = {"max_retries: 3", "retry_budget: {enabled: true}",
                              "retry_budget: {enabled: true, min_retry_concurrency: 7}"};
    const double want[] = {3, 3, 7};
    for (int i = 0; i < 3; i++) {
        char client[512];
        snprintf(client, sizeof client, fmt, variants[i]);
        msim_result *r = run_cs(t, "30s", client, svc, NULL);
        if (!r) return;
        double per_s = span(r, "c", "retries", 5, 30) / 25;
        CHECK_MSG(fabs(per_s - want[i]) < 0.2, "%s: %.2f retries/s", variants[i], per_s);
        CHECK(peak(r, "c", "cb_retries_active_max") == want[i]);
        check_ledger(t, r);
        test_done(r);
    }
}

/* ---- classic circuit breaker ------------------------------------------------------------------
 */

static void breaker_state_machine(test_ctx *t)
{
    breaker_cfg cfg = {TRIP_CONSECUTIVE, 5, 0.5, 10 * MSIM_SEC, 20, 5 * MSIM_SEC, 2, SCOPE_ALL};
    breaker b;
    breaker_init(&b, &cfg, 0);
    uint16_t g = b.gen;
    for (int i = 0; i < 4; i++)
        CHECK(breaker_record(&b, g, false, 0) == -1);
    CHECK(breaker_record(&b, g, true, 0) == -1); /* a success resets the run */
    for (int i = 0; i < 4; i++)
        CHECK(breaker_record(&b, g, false, 0) == -1);
    CHECK(breaker_record(&b, g, false, 0) == BREAKER_OPEN);
    CHECK(!breaker_allow(&b, false) && !breaker_allow(&b, true));
    CHECK(breaker_record(&b, g, true, 0) == -1);  /* an old attempt's answer changes nothing */
    breaker_half_open(&b, (uint16_t)(b.gen - 1)); /* a stale timer */
    CHECK(b.state == BREAKER_OPEN);
    breaker_half_open(&b, b.gen);
    CHECK(b.state == BREAKER_HALF_OPEN);
    g = b.gen;
    CHECK(breaker_allow(&b, false) && breaker_allow(&b, true)); /* two probes */
    CHECK(!breaker_allow(&b, false));
    CHECK(breaker_record(&b, g, true, 0) == -1);
    CHECK(breaker_record(&b, g, true, 0) == BREAKER_CLOSED);
    CHECK(breaker_allow(&b, false));
    /* a failed probe opens it again */
    g = b.gen;
    for (int i = 0; i < 5; i++)
        breaker_record(&b, g, false, 0);
    breaker_half_open(&b, b.gen);
    g = b.gen;
    CHECK(breaker_allow(&b, false));
    CHECK(breaker_record(&b, g, false, 0) == BREAKER_OPEN);
    /* scope retries: first attempts pass an open breaker */
    cfg.scope = SCOPE_RETRIES;
    CHECK(breaker_allow(&b, false) && !breaker_allow(&b, true));
}

static void breaker_rate_window(test_ctx *t)
{
    breaker_cfg cfg = {TRIP_RATE, 5, 0.5, 10 * MSIM_SEC, 20, 5 * MSIM_SEC, 1, SCOPE_ALL};
    breaker b;
    breaker_init(&b, &cfg, 0);
    uint16_t g = b.gen;
    /* 19 failures: under minimum_requests */
    for (int i = 0; i < 19; i++)
        CHECK(breaker_record(&b, g, false, i * MSIM_MS) == -1);
    /* the 19 failures age out of the 10 s window; 10 new successes and 9
     * failures make 19 again, then the 20th (a failure) trips at 50 % */
    for (int i = 0; i < 10; i++)
        CHECK(breaker_record(&b, g, true, 11 * MSIM_SEC) == -1);
    for (int i = 0; i < 9; i++)
        CHECK(breaker_record(&b, g, false, 11 * MSIM_SEC) == -1);
    CHECK(breaker_record(&b, g, false, 11 * MSIM_SEC) == BREAKER_OPEN);
    /* 49 % does not trip */
    breaker_init(&b, &cfg, 0);
    g = b.gen;
    for (int i = 0; i < 51; i++)
        breaker_record(&b, g, true, 0);
    for (int i = 0; i < 49; i++)
        CHECK(breaker_record(&b, g, false, 0) == -1);
}

/* Errors from 10 s to 20 s at 100/s, consecutive_failures 5, open 2 s: the
 * breaker opens at 10.04 s, its trials at 12.04, 14.04, 16.04, 18.04 s fail
 * and open it again, the one at 20.04 s succeeds and closes it. */
static void breaker_opens_and_closes_on_schedule(test_ctx *t)
{
    msim_result *r = run_cs(
        t, "40s",
        "    arrival: constant\n    rate: 100/s\n"
        "    breaker: {trip: consecutive, open_duration: 2s}",
        "    workers: unlimited\n    service_time: 1ms",
        "triggers:\n  - {kind: errors, target: s, at: 10s, duration: 10s, fraction: 100%}\n");
    if (!r) return;
    CHECK(test_total(r, "c", "breaker_opened") == 5);
    CHECK(span(r, "c", "breaker_open", 0, 10) == 0);
    for (int w = 11; w < 20; w++)
        CHECK_MSG(at(r, "c", "breaker_open", w) > 0.99, "window %d: %.3f", w,
                  at(r, "c", "breaker_open", w));
    CHECK(span(r, "c", "breaker_open", 21, 40) == 0);
    /* 5 failures to open it, then one failed trial per opening: the rest fail fast */
    CHECK(test_total(r, "c", "failed_error") == 5 + 4);
    CHECK(test_total(r, "c", "breaker_rejected") == 1000 - 9 + 4);
    CHECK(span(r, "c", "successes", 21, 40) == 1900);
    check_ledger(t, r);
    test_done(r);
}

/* ---- hedging
 * -------------------------------------------------------------------------------------- */

/* 100 ms of service, hedgingDelay 30 ms, 3 attempts: each request sends at
 * 0, 30 and 60 ms; the first answers at 100 ms and the other two are
 * cancelled; their servers finish them anyway: 2/3 of the work is wasted. */
static void hedging_sends_after_delay_and_cancels_on_success(test_ctx *t)
{
    msim_result *r = run_cs(t, "20s",
                            "    arrival: constant\n    rate: 10/s\n    timeout: 1s\n"
                            "    retry: {max_attempts: 3, hedgingDelay: 30ms, style: grpc}",
                            "    workers: unlimited\n    service_time: 100ms", NULL);
    if (!r) return;
    double n = test_total(r, "c", "successes");
    CHECK(n >= 199);
    CHECK(test_total(r, "c", "attempts") == 3 * test_total(r, "c", "offered"));
    CHECK(test_total(r, "c", "hedges_cancelled") == 2 * n);
    CHECK_NEAR(test_total(r, "s", "wasted") / test_total(r, "s", "work"), 2.0 / 3, 0.01);
    CHECK_NEAR(peak(r, "c", "latency_max"), 0.1, 0.001); /* histogram resolution */
    test_done(r);
    /* a delay longer than the service time: no hedge is ever sent */
    r = run_cs(t, "20s",
               "    arrival: constant\n    rate: 10/s\n    timeout: 1s\n"
               "    retry: {max_attempts: 3, hedging_delay: 150ms}",
               "    workers: unlimited\n    service_time: 100ms", NULL);
    if (!r) return;
    CHECK(test_total(r, "c", "attempts") == test_total(r, "c", "offered"));
    CHECK(test_total(r, "c", "hedges_cancelled") == 0);
    test_done(r);
}

/* A non-fatal failure sends the next hedge at once; a fatal one ends the
 * request with no more hedges. */
static void hedging_failures_fatal_and_not(test_ctx *t)
{
    const char *svc = "    workers: unlimited\n    service_time: 1ms\n    errors: 100%";
    msim_result *r = run_cs(t, "10s",
                            "    arrival: constant\n    rate: 10/s\n"
                            "    retry: {max_attempts: 3, hedging_delay: 1s, retry_on: [error]}",
                            svc, NULL);
    if (!r) return;
    double offered = test_total(r, "c", "offered");
    CHECK(test_total(r, "c", "attempts") == 3 * offered);
    CHECK(test_total(r, "c", "failed_error") == offered);
    CHECK(test_total(r, "c", "successes") == 0);
    check_ledger(t, r);
    test_done(r);
    r = run_cs(t, "10s",
               "    arrival: constant\n    rate: 10/s\n"
               "    retry: {max_attempts: 3, hedging_delay: 1s, retry_on: [timeout]}",
               svc, NULL);
    if (!r) return;
    CHECK(test_total(r, "c", "attempts") == test_total(r, "c", "offered"));
    check_ledger(t, r);
    test_done(r);
}

/* The throttle gates hedges past the first: with every attempt failing, the
 * tokens fall to half after 5 failures and hedging stops. */
static void hedging_is_throttled(test_ctx *t)
{
    msim_result *r =
        run_cs(t, "10s",
               "    arrival: constant\n    rate: 10/s\n"
               "    retry: {max_attempts: 3, hedging_delay: 1s, retry_on: [error], "
               "throttling: {max_tokens: 10, token_ratio: 0.1}}",
               "    workers: unlimited\n    service_time: 1ms\n    errors: 100%", NULL);
    if (!r) return;
    /* request 1: 3 attempts (10 -> 7); request 2: 2 attempts (6, 5), its
     * third is refused; from then on one attempt each */
    CHECK(test_total(r, "c", "attempts") == test_total(r, "c", "offered") + 3);
    check_ledger(t, r);
    test_done(r);
}

/* ---- concurrency limit, configuration rules ----------------------------------------------------
 */

static void concurrency_limit_fails_fast(test_ctx *t)
{
    msim_result *r =
        run_cs(t, "30s", "    arrival: constant\n    rate: 100/s\n    concurrency_limit: 40",
               "    workers: unlimited\n    service_time: 1s", NULL);
    if (!r) return;
    CHECK_NEAR(span(r, "c", "limit_rejected", 5, 30) / 25, 60, 0.5);
    CHECK(test_total(r, "c", "failed_local") == test_total(r, "c", "limit_rejected"));
    /* 40 in flight; a request failed fast counts for an instant */
    CHECK(peak(r, "c", "inflight_max") == 41);
    CHECK_NEAR(test_gauge_mean(r, "c", "inflight", 5), 40, 0.01);
    check_ledger(t, r);
    test_done(r);
}

static void configuration_rules(test_ctx *t)
{
    msim_scenario *sc = NULL;
    msim_error err = {0};
    const char *yaml = "duration: 10s\nclients:\n  c:\n    target: s\n    rate: 10/s\n"
                       "    retry: {max_attempts: 9, style: grpc, backoff: {kind: exponential, "
                       "jitter: full}}\nservices:\n  s: {service_time: 1ms}\n";
    CHECK(msim_scenario_parse(yaml, strlen(yaml), t->name, NULL, 0, &sc, &err) == 0);
    msim_buf out = {0};
    msim_scenario_print(sc, &out);
    CHECK_MSG(out.data && strstr(out.data, "max_attempts: 5"), "gRPC style did not clamp to 5");
    msim_buf_free(&out);
    msim_scenario_free(sc);
    check_rejected(t, "    retry: {max_attempts: 3, style: grpc}", "style grpc");
    check_rejected(t, "    retry: {max_attempts: 3, retry_on: [timeout, local]}", "local");
    check_rejected(t, "    retry: {max_attempts: 3, hedging_delay: 1s, budget: {enabled: true}}",
                   "hedging");
    check_rejected(t, "    retry: {max_attempts: 1, hedging_delay: 1s}", "max_attempts >= 2");
    check_rejected(t, "    retry: {max_attempts: 9, hedging_delay: 1s}", "at most");
    check_rejected(t,
                   "    retry: {max_attempts: 2, hedging_delay: 1s}\n"
                   "    circuit_breakers: {enabled: true}",
                   "hedging");
    check_rejected(t, "    retry: {budget: {enabled: true, ttl: 90s}}", "between");
    check_rejected(t,
                   "    retry: {max_attempts: 2, hedging_delay: 1s}\n"
                   "    rate_limiter: {enabled: true}",
                   "hedging");
}

/* Without mitigations a client has no mitigation columns: outputs unchanged. */
static void no_mitigation_no_columns(test_ctx *t)
{
    msim_result *r = run_cs(t, "5s", "    rate: 10/s\n    retry: {max_attempts: 3}",
                            "    service_time: 1ms", NULL);
    if (!r) return;
    const char *cols[] = {"throttled",    "budget_exhausted", "quota_exhausted", "cb_overflow",
                          "breaker_open", "limit_rejected",   "hedges_cancelled"};
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++)
        CHECK_MSG(msim_result_column(r, "c", cols[i]) < 0, "column %s present", cols[i]);
    test_done(r);
}

const test_case mitigations_tests[] = {
    {"mitigation_grpc_throttle_stops_at_half", grpc_throttle_stops_at_half, TIER_QUICK},
    {"mitigation_grpc_throttle_in_a_run", grpc_throttle_in_a_run, TIER_QUICK},
    {"mitigation_finagle_deposits_expire_after_ttl", finagle_deposits_expire_after_ttl, TIER_QUICK},
    {"mitigation_finagle_ratio_and_reserve", finagle_ratio_and_reserve, TIER_QUICK},
    {"mitigation_finagle_budget_in_a_run", finagle_budget_in_a_run, TIER_QUICK},
    {"mitigation_aws_quota_arithmetic", aws_quota_arithmetic, TIER_QUICK},
    {"mitigation_aws_quota_stops_after_100_retries_and_refills",
     aws_quota_stops_after_100_retries_and_refills, TIER_QUICK},
    {"mitigation_aws_limiter_semantics", aws_limiter_semantics, TIER_QUICK},
    {"mitigation_aws_limiter_in_a_run", aws_limiter_in_a_run, TIER_QUICK},
    {"mitigation_envoy_retry_limits", envoy_retry_limits, TIER_QUICK},
    {"mitigation_envoy_max_requests_overflow", envoy_max_requests_overflow, TIER_QUICK},
    {"mitigation_envoy_http1_pool_decisions", envoy_http1_pool_decisions, TIER_QUICK},
    {"mitigation_envoy_http1_pending_requests", envoy_http1_pending_requests, TIER_QUICK},
    {"mitigation_envoy_max_retries_in_a_run", envoy_max_retries_in_a_run, TIER_QUICK},
    {"mitigation_breaker_state_machine", breaker_state_machine, TIER_QUICK},
    {"mitigation_breaker_rate_window", breaker_rate_window, TIER_QUICK},
    {"mitigation_breaker_opens_and_closes_on_schedule", breaker_opens_and_closes_on_schedule,
     TIER_QUICK},
    {"mitigation_hedging_sends_after_delay_and_cancels_on_success",
     hedging_sends_after_delay_and_cancels_on_success, TIER_QUICK},
    {"mitigation_hedging_failures_fatal_and_not", hedging_failures_fatal_and_not, TIER_QUICK},
    {"mitigation_hedging_is_throttled", hedging_is_throttled, TIER_QUICK},
    {"mitigation_concurrency_limit_fails_fast", concurrency_limit_fails_fast, TIER_QUICK},
    {"mitigation_configuration_rules", configuration_rules, TIER_QUICK},
    {"mitigation_no_mitigation_no_columns", no_mitigation_no_columns, TIER_QUICK},
    {NULL, NULL, 0},
};
