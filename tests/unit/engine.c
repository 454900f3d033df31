/* engine.c — the request model and its mechanisms, end to end through small
 * scenarios: retries, backoff, deadlines, cancellation, triggers, the ledger,
 * and the verdict on simple cases. */
#include <stdlib.h>
#include <string.h>

#include "../suites.h"
#include "../../components/retry.h"

/* A client "c" -> service "s" scenario; `client` and `service` are extra YAML
 * lines (indented by 4) and `rest` is appended at the top level. */
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

/* Every request is in flight, succeeded or failed; the client's counters
 * agree with the engine's ledger. */
static void check_ledger_of(test_ctx *t, const msim_result *r, const char *client)
{
    CHECK(r->requests == r->succeeded + r->failed + r->in_flight);
    CHECK(test_total(r, client, "offered") == (double)r->requests);
    CHECK(test_total(r, client, "successes") == (double)r->succeeded);
    CHECK(test_total(r, client, "failed") == (double)r->failed);
}

static void check_ledger(test_ctx *t, const msim_result *r)
{
    check_ledger_of(t, r, "c");
}

/* ---- backoff formulas (AWS "Exponential Backoff and Jitter") -------------------- */

static void backoff_shapes(test_ctx *t)
{
    msim_rng rng;
    msim_rng_seed(&rng, 5);
    backoff_cfg b = {BACKOFF_EXPONENTIAL, 100 * MSIM_MS, 1 * MSIM_SEC, 2, JITTER_NONE};
    msim_time prev = 0;
    CHECK(backoff_delay(&b, 1, &prev, &rng) == 100 * MSIM_MS);
    CHECK(backoff_delay(&b, 3, &prev, &rng) == 400 * MSIM_MS);
    CHECK(backoff_delay(&b, 10, &prev, &rng) == 1 * MSIM_SEC); /* capped */
    b.kind = BACKOFF_CONSTANT;
    CHECK(backoff_delay(&b, 7, &prev, &rng) == 100 * MSIM_MS);
    b.kind = BACKOFF_NONE;
    CHECK(backoff_delay(&b, 2, &prev, &rng) == 0);
    b.kind = BACKOFF_EXPONENTIAL;
    double sum_full = 0;
    for (int i = 0; i < 20000; i++) {
        b.jitter = JITTER_FULL;
        msim_time d = backoff_delay(&b, 3, &prev, &rng); /* cap 400ms */
        CHECK(d >= 0 && d <= 400 * MSIM_MS);
        sum_full += (double)d;
        b.jitter = JITTER_EQUAL;
        d = backoff_delay(&b, 3, &prev, &rng);
        CHECK(d >= 200 * MSIM_MS && d <= 400 * MSIM_MS);
        b.jitter = JITTER_DECORRELATED;
        msim_time last = prev;
        d = backoff_delay(&b, 3, &prev, &rng);
        CHECK(d >= 100 * MSIM_MS - 1 && d <= 1 * MSIM_SEC && (double)d <= 3.0 * (double)last + 1);
    }
    /* full jitter's mean is half the delay: 200 ms, with sd 115 ms / sqrt(20000) */
    CHECK_NEAR(sum_full / 20000, 200e6, 4 * 115e6 / sqrt(20000));
}

/* ---- retries ------------------------------------------------------------------------ */

static void retry_on_selects_causes(test_ctx *t)
{
    const char *svc = "    workers: unlimited\n    service_time: 1ms\n    errors: 100%";
    msim_result *r = run_cs(t, "20s", "    rate: 100/s\n    retry: {max_attempts: 3, retry_on: [timeout]}", svc, NULL);
    if (!r) return;
    CHECK(test_total(r, "c", "attempts") == test_total(r, "c", "offered")); /* errors not retried */
    CHECK(test_total(r, "c", "failed_error") == test_total(r, "c", "offered"));
    check_ledger(t, r);
    test_done(r);
    r = run_cs(t, "20s", "    rate: 100/s\n    retry: {max_attempts: 3, retry_on: [error]}", svc, NULL);
    if (!r) return;
    CHECK(test_total(r, "c", "attempts") == 3 * test_total(r, "c", "offered"));
    CHECK(test_total(r, "c", "retries") == 2 * test_total(r, "c", "offered"));
    test_done(r);
}

/* Per-attempt timeout 100 ms, overall deadline 250 ms, a server that never
 * answers in time: attempts at 0, 100 and 200 ms (the last clipped to the
 * deadline), then the request fails with cause "deadline". */
static void deadline_caps_attempts(test_ctx *t)
{
    msim_result *r = run_cs(t, "20s",
                            "    arrival: constant\n    rate: 10/s\n    timeout: 100ms\n    deadline: 250ms\n"
                            "    retry: {max_attempts: 10}",
                            "    workers: unlimited\n    service_time: 1s", NULL);
    if (!r) return;
    double offered = test_total(r, "c", "offered");
    CHECK(offered == 200);
    /* the last requests may still be in flight at the horizon */
    double failed = test_total(r, "c", "failed_deadline");
    CHECK_MSG(failed >= offered - 3 && failed == test_total(r, "c", "failed"), "failed %.0f", failed);
    CHECK_NEAR(test_total(r, "c", "attempts") / offered, 3, 0.05);
    CHECK(test_total(r, "c", "successes") == 0);
    check_ledger(t, r);
    test_done(r);
}

/* ---- what the server does with abandoned work ------------------------------------------- */

/* 1 worker, 20 ms per attempt, 100/s offered: a 2x overload, 200 ms timeout.
 * By default the server works through attempts whose clients are gone. With
 * cancel_on_timeout (or drop_expired) those leave the queue — but a FIFO queue
 * still serves the oldest survivors, which expire in service: the work stays
 * wasted. Served newest-first (lifo) the survivors finish in time. That is
 * the case for adaptive LIFO in "Fail at Scale". */
static void abandoned_work_is_wasted_unless_cancelled(test_ctx *t)
{
    const char *client = "    arrival: constant\n    rate: 100/s\n    timeout: 200ms";
    msim_result *keep = run_cs(t, "20s", client, "    service_time: 20ms", NULL);
    msim_result *fifo = run_cs(t, "20s", client, "    service_time: 20ms\n    cancel_on_timeout: true", NULL);
    msim_result *lifo = run_cs(t, "20s", client,
                               "    service_time: 20ms\n    cancel_on_timeout: true\n    queue: {discipline: lifo}", NULL);
    msim_result *drop = run_cs(t, "20s", client, "    service_time: 20ms\n    drop_expired: true", NULL);
    if (!keep || !fifo || !lifo || !drop) goto done;
    double work = test_total(keep, "s", "work");
    CHECK_MSG(test_total(keep, "s", "wasted") > 0.9 * work, "wasted %.2f of %.2f",
              test_total(keep, "s", "wasted"), work);
    CHECK(test_total(keep, "s", "cancelled") == 0);
    /* cancelled attempts took no worker time: served = departures - cancelled */
    double served = test_total(fifo, "s", "departures") - test_total(fifo, "s", "cancelled");
    CHECK(test_total(fifo, "s", "cancelled") > 0);
    CHECK_NEAR(test_total(fifo, "s", "work"), served * 0.020, 1e-6);
    CHECK(test_total(fifo, "s", "wasted") > 0.8 * test_total(fifo, "s", "work"));
    /* newest first: nearly every served attempt is answered in time */
    CHECK_MSG(test_total(lifo, "s", "wasted") < 0.1 * test_total(lifo, "s", "work"), "lifo wasted %.2f of %.2f",
              test_total(lifo, "s", "wasted"), test_total(lifo, "s", "work"));
    CHECK(test_total(lifo, "c", "successes") > 20 * test_total(keep, "c", "successes"));
    /* expired attempts dropped at the head of the queue take no worker time */
    CHECK(test_total(drop, "s", "dropped_expired") > 0);
    served = test_total(drop, "s", "departures") - test_total(drop, "s", "dropped_expired");
    CHECK_NEAR(test_total(drop, "s", "work"), served * 0.020, 1e-6);
    check_ledger(t, keep);
    check_ledger(t, fifo);
    check_ledger(t, lifo);
    check_ledger(t, drop);
done:
    test_done(keep);
    test_done(fifo);
    test_done(lifo);
    test_done(drop);
}

/* ---- triggers ------------------------------------------------------------------------------ */

static double window_sum(const msim_result *r, const char *comp, const char *metric, int w0, int w1)
{
    return msim_result_sum(r, msim_result_column(r, comp, metric), (uint32_t)w0, (uint32_t)w1);
}

static void overlapping_load_triggers_multiply(test_ctx *t)
{
    msim_result *r = run_cs(t, "40s", "    arrival: constant\n    rate: 100/s",
                            "    workers: unlimited\n    service_time: 1ms",
                            "triggers:\n"
                            "  - {kind: load, target: c, at: 10s, duration: 20s, factor: 2}\n"
                            "  - {kind: load, at: 20s, duration: 5s, factor: 3, add: 50/s}\n");
    if (!r) return;
    CHECK_NEAR(window_sum(r, "c", "offered", 0, 10), 1000, 1);
    CHECK_NEAR(window_sum(r, "c", "offered", 12, 18), 1200, 1);
    CHECK_NEAR(window_sum(r, "c", "offered", 21, 24), 3 * 650, 2); /* 100 x 2 x 3 + 50 */
    CHECK_NEAR(window_sum(r, "c", "offered", 32, 40), 800, 1);
    CHECK_NEAR(window_sum(r, "c", "nominal", 0, 40), 4000, 1e-6); /* the schedule ignores triggers */
    test_done(r);
}

static void pause_stops_the_world(test_ctx *t)
{
    msim_result *r = run_cs(t, "30s", "    arrival: constant\n    rate: 100/s",
                            "    workers: 4\n    service_time: 5ms",
                            "triggers:\n  - {kind: pause, target: s, at: 10s, duration: 5s}\n");
    if (!r) return;
    CHECK(window_sum(r, "s", "departures", 10, 15) == 0); /* nothing finishes in the pause */
    CHECK_NEAR(window_sum(r, "s", "departures", 15, 16), 600, 10); /* the backlog drains at once */
    CHECK(r->succeeded + r->in_flight == r->requests);
    test_done(r);
}

static void downed_replicas_fail_or_lose_their_attempts(test_ctx *t)
{
    /* 30/s on 2 x 20/s: queues stay short, so every attempt on the downed
     * replica still has a waiting client when it goes down */
    const char *client = "    arrival: constant\n    rate: 30/s\n    timeout: 2s";
    const char *svc = "    replicas: 2\n    workers: 1\n    service_time: 50ms";
    msim_result *fail = run_cs(t, "20s", client, svc,
                               "triggers:\n  - {kind: capacity, target: s, at: 5s, duration: 5s, replicas_down: 1}\n");
    msim_result *lose = run_cs(t, "20s", client, svc,
                               "triggers:\n  - {kind: capacity, target: s, at: 5s, duration: 5s, replicas_down: 1, inflight: lose}\n");
    if (!fail || !lose) goto done;
    CHECK(test_total(fail, "s", "lost_to_crash") > 0);
    CHECK(test_total(fail, "c", "failed_error") == test_total(fail, "s", "lost_to_crash"));
    CHECK(test_total(lose, "c", "failed_error") == 0);
    CHECK(test_total(lose, "c", "failed_timeout") >= test_total(lose, "s", "lost_to_crash"));
    check_ledger(t, fail);
    check_ledger(t, lose);
done:
    test_done(fail);
    test_done(lose);
}

/* ---- arrivals ------------------------------------------------------------------------------- */

static void schedules_follow_steps_and_ramps(test_ctx *t)
{
    msim_result *r = run_cs(t, "60s",
                            "    rate: 200/s\n    schedule:\n"
                            "      - {at: 20s, rate: 400/s, ramp: 10s}\n      - {at: 40s, rate: 100/s}",
                            "    workers: unlimited\n    service_time: 1ms", NULL);
    if (!r) return;
    /* nominal = the integral of the schedule: exact */
    CHECK_NEAR(window_sum(r, "c", "nominal", 0, 20), 4000, 1e-6);
    CHECK_NEAR(window_sum(r, "c", "nominal", 20, 30), 3000, 1e-6);
    CHECK_NEAR(window_sum(r, "c", "nominal", 30, 40), 4000, 1e-6);
    CHECK_NEAR(window_sum(r, "c", "nominal", 40, 60), 2000, 1e-6);
    /* offered = Poisson around it: within 5 standard deviations */
    const int spans[][2] = {{0, 20}, {20, 30}, {30, 40}, {40, 60}};
    for (int i = 0; i < 4; i++) {
        double n = window_sum(r, "c", "nominal", spans[i][0], spans[i][1]);
        CHECK_NEAR(window_sum(r, "c", "offered", spans[i][0], spans[i][1]), n, 5 * sqrt(n));
    }
    test_done(r);
}

static void closed_loop_users_scale_with_load(test_ctx *t)
{
    msim_result *r = run_cs(t, "60s", "    arrival: closed\n    users: 50\n    think: 1s",
                            "    workers: unlimited\n    service_time: 1ms",
                            "triggers:\n  - {kind: load, target: c, at: 20s, duration: 20s, factor: 2}\n");
    if (!r) return;
    /* each user: one request per 1.001 s */
    CHECK_NEAR(window_sum(r, "c", "offered", 5, 20) / 15, 50 / 1.001, 2);
    CHECK_NEAR(window_sum(r, "c", "offered", 25, 40) / 15, 100 / 1.001, 2);
    CHECK_NEAR(window_sum(r, "c", "offered", 45, 60) / 15, 50 / 1.001, 2);
    test_done(r);
}

/* ---- verdicts on simple cases ---------------------------------------------------------------- */

static void verdicts_on_simple_cases(test_ctx *t)
{
    const char *client = "    rate: 100/s\n    timeout: 1s";
    msim_result *r = run_cs(t, "60s", client, "    workers: 4\n    service_time: exponential(mean=10ms)", NULL);
    if (r) CHECK_MSG(r->verdict.kind == MSIM_VERDICT_STABLE, "%s", r->verdict.reason);
    test_done(r);
    /* offered above capacity from the start */
    r = run_cs(t, "60s", client, "    workers: 1\n    service_time: 20ms", NULL);
    if (r) CHECK_MSG(r->verdict.kind == MSIM_VERDICT_UNHEALTHY_BASELINE, "%s", r->verdict.reason);
    test_done(r);
    /* a trigger still active at the horizon */
    r = run_cs(t, "60s", client, "    workers: 4\n    service_time: 10ms",
               "triggers:\n  - {kind: pause, target: s, at: 30s, duration: 40s}\n");
    if (r) CHECK_MSG(r->verdict.kind == MSIM_VERDICT_INCONCLUSIVE, "%s", r->verdict.reason);
    test_done(r);
    /* a pause the system absorbs and recovers from */
    r = run_cs(t, "60s", client, "    workers: 4\n    service_time: 10ms",
               "triggers:\n  - {kind: pause, target: s, at: 20s, duration: 5s}\n");
    if (r) {
        CHECK_MSG(r->verdict.kind == MSIM_VERDICT_RECOVERED, "%s", r->verdict.reason);
        CHECK(r->verdict.recovery_s >= 0 && r->verdict.recovery_s < 3);
    }
    test_done(r);
}

/* ---- the examples' stories, checked against their arithmetic -------------------------------------- */

static msim_result *run_file(test_ctx *t, const char *path)
{
    msim_scenario *sc = NULL;
    msim_error err = {0};
    char buf[1400];
    if (msim_scenario_load(path, NULL, 0, &sc, &err)) {
        test_fail(t, __FILE__, __LINE__, "%s", msim_error_format(&err, buf, sizeof buf));
        return NULL;
    }
    msim_result *r = NULL;
    if (msim_run(sc, NULL, &r, &err)) {
        test_fail(t, __FILE__, __LINE__, "%s", msim_error_format(&err, buf, sizeof buf));
        msim_scenario_free(sc);
    }
    return r;
}

/* examples/goodput-collapse.yaml: backlog (800 - 200)/s x 20 s = 12,000; the
 * queue drains at 200/s and goodput returns when under ~1,000 (1 s of work):
 * 55 s after the spike. */
static void goodput_collapse_matches_arithmetic(test_ctx *t)
{
    msim_result *r = run_file(t, "examples/goodput-collapse.yaml");
    if (!r) return;
    double peak = 0;
    int q = msim_result_column(r, "app", "queue_max");
    for (uint32_t w = 0; w < r->nwin; w++)
        peak = fmax(peak, msim_result_at(r, w, q));
    /* Poisson noise on 16,000 arrivals and 4,000 services: sd ~ 140 */
    CHECK_MSG(fabs(peak - 12000) < 600, "peak backlog %.0f, arithmetic 12000", peak);
    CHECK_MSG(r->verdict.kind == MSIM_VERDICT_RECOVERED, "%s", r->verdict.reason);
    /* the first healthy window is when ~90% of attempts beat the timeout,
     * within a window of Q = 1,000 (+-1 s of drain) */
    CHECK_MSG(fabs(r->verdict.recovery_s - 55) <= 6, "recovery %.1fs, arithmetic 55s", r->verdict.recovery_s);
    /* while it drains the server is busy and the work is wasted */
    uint32_t w0 = 85, w1 = 125; /* 5 s .. 45 s after the spike */
    double good = 0, work = 0, wasted = 0;
    for (uint32_t w = w0; w < w1; w++)
        good += r->goodput[w];
    work = msim_result_sum(r, msim_result_column(r, "app", "work"), w0, w1);
    wasted = msim_result_sum(r, msim_result_column(r, "app", "wasted"), w0, w1);
    CHECK_MSG(good < 0.05 * 800 * (w1 - w0), "goodput %.0f during the drain", good);
    CHECK_MSG(wasted > 0.9 * work && work > 0.95 * 10 * (w1 - w0), "work %.1f wasted %.1f", work, wasted);
    test_done(r);
}

static void retry_storm_names_its_sustaining_effects(test_ctx *t)
{
    msim_result *r = run_file(t, "examples/retry-storm.yaml");
    if (!r) return;
    CHECK(r->verdict.kind == MSIM_VERDICT_METASTABLE);
    CHECK(r->verdict.degraded_level < 0.1);
    const char *want[] = {"amplification", "wasted_work", "queue_full"};
    for (int i = 0; i < 3; i++) {
        bool seen = false;
        for (size_t k = 0; k < r->verdict.nsignals; k++)
            seen |= strcmp(r->verdict.signals[k].name, want[i]) == 0;
        CHECK_MSG(seen, "signal %s missing", want[i]);
    }
    const msim_figures *after = &r->phase[MSIM_PHASE_AFTER];
    CHECK(after->amplification > 3.5 && after->wasted_share > 0.9);
    check_ledger_of(t, r, "web");
    test_done(r);
}

const test_case engine_tests[] = {
    {"engine_backoff_shapes", backoff_shapes, TIER_QUICK},
    {"engine_retry_on_selects_causes", retry_on_selects_causes, TIER_QUICK},
    {"engine_deadline_caps_attempts", deadline_caps_attempts, TIER_QUICK},
    {"engine_abandoned_work_is_wasted_unless_cancelled", abandoned_work_is_wasted_unless_cancelled, TIER_QUICK},
    {"engine_overlapping_load_triggers_multiply", overlapping_load_triggers_multiply, TIER_QUICK},
    {"engine_pause_stops_the_world", pause_stops_the_world, TIER_QUICK},
    {"engine_downed_replicas_fail_or_lose", downed_replicas_fail_or_lose_their_attempts, TIER_QUICK},
    {"engine_schedules_follow_steps_and_ramps", schedules_follow_steps_and_ramps, TIER_QUICK},
    {"engine_closed_loop_users_scale_with_load", closed_loop_users_scale_with_load, TIER_QUICK},
    {"engine_verdicts_on_simple_cases", verdicts_on_simple_cases, TIER_QUICK},
    {"engine_goodput_collapse_matches_arithmetic", goodput_collapse_matches_arithmetic, TIER_QUICK},
    {"engine_retry_storm_names_its_sustaining_effects", retry_storm_names_its_sustaining_effects, TIER_QUICK},
    {NULL, NULL, 0},
};
