/* calls.c — services calling their dependencies: the exact amplification of
 * retries across layers, the timing of sequential and parallel calls (all,
 * any, first k), optional calls, workers held through calls, deadline
 * propagation, replicas that go down or pause mid-call, and the loader's
 * errors for a call graph that does not hold together.
 *
 * Service times are constants and the network has no delay, so timings are
 * exact: a service's mean sojourn is its own work plus the calls' time. */
#include <stdlib.h>
#include <string.h>

#include "../suites.h"

/* ---- helpers ------------------------------------------------------------------------ */

/* A client "c" sending `rate` to service "s", whose calls are `calls`; the
 * `rest` holds the edges' clients (under clients:) and the dependencies
 * (under services:), written by the caller as whole sections' lines. */
static msim_result *run_graph(test_ctx *t, const char *duration, const char *client,
                              const char *service, const char *edges, const char *deps,
                              const char *rest)
{
    char yaml[4096];
    snprintf(yaml, sizeof yaml,
             "duration: %s\nwindow: 1s\nverdict: {warmup: 1s, hold: 2s, observe: 3s}\n"
             "clients:\n  c:\n    target: s\n%s\n%s\n"
             "services:\n  s:\n%s\n%s\n%s\n",
             duration, client, edges, service, deps, rest ? rest : "");
    return test_run_text(t, yaml, NULL, 0, 0);
}

static double mean_sojourn(const msim_result *r, const char *svc)
{
    return test_total(r, svc, "sojourn") / test_total(r, svc, "departures");
}

static bool has_signal(const msim_result *r, const char *name)
{
    for (size_t k = 0; k < r->verdict.nsignals; k++)
        if (strcmp(r->verdict.signals[k].name, name) == 0) return true;
    return false;
}

/* Two edges a and b, to services sa and sb. */
#define EDGES_AB                                                                                   \
    "  a: {arrival: calls, target: sa}\n"                                                          \
    "  b: {arrival: calls, target: sb}"

/* ---- amplification ------------------------------------------------------------------ */

/* Three layers of three attempts, and a bottom that always fails: every
 * request at the top puts exactly 3 x 3 x 3 = 27 attempts on the bottom. */
static void amplification_multiplies_across_layers(test_ctx *t)
{
    const char *retry = "retry: {max_attempts: 3, retry_on: [error], backoff: {kind: none}}";
    char yaml[2048];
    snprintf(yaml, sizeof yaml,
             "duration: 10s\nverdict: {warmup: 1s, hold: 2s, observe: 3s}\n"
             "clients:\n"
             "  users: {target: gw, arrival: constant, rate: 50/s, %s}\n"
             "  gw-api: {arrival: calls, target: api, %s}\n"
             "  api-db: {arrival: calls, target: db, %s}\n"
             "services:\n"
             "  gw: {workers: unlimited, service_time: 1ms, calls: {to: [{client: gw-api}]}}\n"
             "  api: {workers: unlimited, service_time: 1ms, calls: {to: [{client: api-db}]}}\n"
             "  db: {errors: 100%%, service_time: 1ms}\n",
             retry, retry, retry);
    msim_result *r = test_run_text(t, yaml, NULL, 0, 0);
    CHECK(r);
    double users = test_total(r, "users", "offered"), failed = test_total(r, "users", "failed");
    CHECK(failed >= users - 1 && failed > 400); /* none succeeds; the last may be in flight */
    CHECK(test_total(r, "users", "successes") == 0);
    CHECK(test_total(r, "users", "attempts") == 3 * users);
    CHECK(test_total(r, "gw", "arrivals") == 3 * users);
    CHECK(test_total(r, "gw-api", "offered") == 3 * users);
    CHECK(test_total(r, "api", "arrivals") == 9 * users);
    CHECK(test_total(r, "db", "arrivals") == 27 * users);
    /* every failed call fails the attempt that made it */
    CHECK(test_total(r, "gw", "calls_failed") == test_total(r, "gw-api", "failed"));
    CHECK(test_total(r, "api", "calls_failed") == test_total(r, "api-db", "failed"));
    /* the edges are not the system's users: offered load is the top's only */
    CHECK_NEAR(r->phase[MSIM_PHASE_BEFORE].offered_rps, 50, 1);
    CHECK_NEAR(r->phase[MSIM_PHASE_BEFORE].amplification, 3, 1e-9);
    test_done(r);
}

/* The example: after the trigger the database gets ~27 queries per request,
 * and the verdict says so. */
static void fanout_example_names_layered_amplification(test_ctx *t)
{
    msim_result *r = test_run_file(t, "examples/fanout-amplification.yaml");
    CHECK(r);
    uint32_t w0, w1;
    msim_result_phase_windows(r, MSIM_PHASE_AFTER, &w0, &w1);
    double offered = msim_result_sum(r, msim_result_column(r, "users", "offered"), w0 + 30, w1);
    double db = msim_result_sum(r, msim_result_column(r, "db", "arrivals"), w0 + 30, w1);
    bool ok = r->verdict.kind == MSIM_VERDICT_METASTABLE && has_signal(r, "layered_amplification");
    test_done(r);
    CHECK(ok);
    CHECK_NEAR(db / offered, 27, 0.5);
}

/* ---- timing ---------------------------------------------------------------------------- */

static void sequential_calls_add_up(test_ctx *t)
{
    msim_result *r = run_graph(t, "10s", "    arrival: constant\n    rate: 20/s",
                               "    service_time: 1ms\n    workers: unlimited\n"
                               "    calls: {to: [{client: a}, {client: b}]}",
                               EDGES_AB, "  sa: {service_time: 10ms}\n  sb: {service_time: 20ms}",
                               NULL);
    CHECK(r);
    CHECK_NEAR(mean_sojourn(r, "s"), 0.031, 1e-9);
    CHECK(test_total(r, "c", "successes") == test_total(r, "c", "offered"));
    CHECK(test_total(r, "a", "offered") == test_total(r, "c", "offered"));
    test_done(r);
}

/* Parallel calls: all waits for the slowest; any answers with the fastest;
 * need 2 of 3 with the second fastest. */
static void parallel_calls_wait_for_all_any_or_k(test_ctx *t)
{
    static const struct {
        const char *need;
        double sojourn;
    } cases[] = {{"all", 0.031}, {"any", 0.011}, {"2", 0.021}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char svc[256];
        snprintf(svc, sizeof svc,
                 "    service_time: 1ms\n    workers: unlimited\n"
                 "    calls: {mode: parallel, need: %s, to: [{client: a}, {client: b}, {client: x}]}",
                 cases[i].need);
        msim_result *r = run_graph(t, "10s", "    arrival: constant\n    rate: 20/s", svc,
                                   EDGES_AB "\n  x: {arrival: calls, target: sx}",
                                   "  sa: {service_time: 10ms}\n  sb: {service_time: 30ms}\n"
                                   "  sx: {service_time: 20ms}",
                                   NULL);
        CHECK(r);
        CHECK_MSG(fabs(mean_sojourn(r, "s") - cases[i].sojourn) < 1e-9, "need %s: sojourn %.9g",
                  cases[i].need, mean_sojourn(r, "s"));
        /* the calls still out carry on: every edge serves every attempt */
        CHECK(test_total(r, "sb", "departures") >= test_total(r, "s", "departures") - 1);
        test_done(r);
    }
}

/* ---- failures --------------------------------------------------------------------------- */

/* A failed required call ends a sequence at once (the next is never made);
 * an optional one is passed over. */
static void required_and_optional_calls(test_ctx *t)
{
    const char *deps = "  sa: {service_time: 1ms, errors: 100%}\n  sb: {service_time: 1ms}";
    const char *edges = EDGES_AB;
    msim_result *r = run_graph(t, "5s", "    arrival: constant\n    rate: 20/s",
                               "    service_time: 1ms\n    calls: {to: [{client: a}, {client: b}]}",
                               edges, deps, NULL);
    CHECK(r);
    double n = test_total(r, "c", "offered");
    CHECK(test_total(r, "c", "failed") >= n - 1 && test_total(r, "c", "successes") == 0);
    CHECK(test_total(r, "sb", "arrivals") == 0);
    CHECK(test_total(r, "s", "calls_failed") == test_total(r, "c", "failed"));
    test_done(r);

    r = run_graph(t, "5s", "    arrival: constant\n    rate: 20/s",
                  "    service_time: 1ms\n"
                  "    calls: {to: [{client: a, required: false}, {client: b}]}",
                  edges, deps, NULL);
    CHECK(r);
    n = test_total(r, "c", "offered");
    CHECK(test_total(r, "c", "successes") >= n - 1 && test_total(r, "c", "failed") == 0);
    CHECK(test_total(r, "sb", "arrivals") >= n - 1);
    CHECK(test_total(r, "s", "calls_failed") == 0);
    test_done(r);
}

/* need k fails as soon as k can no longer succeed: with two of three calls
 * failing at once, need 2 is answered with an error before the slow third. */
static void need_k_fails_when_out_of_reach(test_ctx *t)
{
    msim_result *r = run_graph(
        t, "5s", "    arrival: constant\n    rate: 20/s",
        "    service_time: 1ms\n    workers: unlimited\n"
        "    calls: {mode: parallel, need: 2, to: [{client: a}, {client: b}, {client: x}]}",
        EDGES_AB "\n  x: {arrival: calls, target: sx}",
        "  sa: {service_time: 1ms, errors: 100%}\n  sb: {service_time: 2ms, errors: 100%}\n"
        "  sx: {service_time: 50ms}",
        NULL);
    CHECK(r);
    CHECK(test_total(r, "c", "successes") == 0);
    CHECK_NEAR(mean_sojourn(r, "s"), 0.001, 1e-9); /* errors are injected on arrival */
    test_done(r);
}

/* ---- workers, deadlines, crashes, pauses --------------------------------------------- */

/* A worker waits for its calls: one worker whose calls take 9 ms after 1 ms
 * of its own work serves 100 attempts/s, however fast the rest could go. Only
 * the 1 ms counts as work. */
static void calls_hold_the_worker(test_ctx *t)
{
    msim_result *r = run_graph(t, "20s", "    arrival: constant\n    rate: 200/s",
                               "    service_time: 1ms\n    workers: 1\n"
                               "    calls: {to: [{client: a}]}",
                               "  a: {arrival: calls, target: sa}",
                               "  sa: {workers: unlimited, service_time: 9ms}", NULL);
    CHECK(r);
    double served = test_total(r, "s", "departures");
    CHECK_NEAR(served, 20 * 100, 2);
    CHECK_NEAR(test_gauge_mean(r, "s", "busy", 1), 1.0, 1e-6);
    CHECK_NEAR(test_total(r, "s", "work"), served * 0.001, 0.002);
    test_done(r);
}

/* Without propagation the calls run on after the caller gave up (their work
 * is done for nobody); with it they give up with the caller's deadline. */
static void deadlines_propagate_on_request(test_ctx *t)
{
    const char *client = "    arrival: constant\n    rate: 20/s\n    timeout: 50ms";
    const char *deps = "  sa: {workers: unlimited, service_time: 100ms}";
    const char *edge = "  a: {arrival: calls, target: sa}";
    msim_result *r = run_graph(t, "5s", client,
                               "    service_time: 1ms\n    workers: unlimited\n"
                               "    calls: {to: [{client: a}]}",
                               edge, deps, NULL);
    CHECK(r);
    double n = test_total(r, "c", "offered");
    CHECK(test_total(r, "c", "timeouts") >= n - 2);
    CHECK(test_total(r, "a", "successes") >= n - 2);
    CHECK(test_total(r, "a", "failed_deadline") == 0);
    test_done(r);

    r = run_graph(t, "5s", client,
                  "    service_time: 1ms\n    workers: unlimited\n"
                  "    calls: {to: [{client: a}], propagate_deadline: true}",
                  edge, deps, NULL);
    CHECK(r);
    n = test_total(r, "c", "offered");
    CHECK(test_total(r, "a", "successes") == 0);
    CHECK(test_total(r, "a", "failed_deadline") >= n - 2);
    test_done(r);
}

/* A replica that goes down mid-call fails its attempts at once; the calls
 * they made finish without them. */
static void replica_down_mid_call(test_ctx *t)
{
    msim_result *r = run_graph(
        t, "10s", "    arrival: constant\n    rate: 100/s",
        "    replicas: 2\n    workers: unlimited\n    service_time: 1ms\n"
        "    calls: {to: [{client: a}]}",
        "  a: {arrival: calls, target: sa}", "  sa: {workers: unlimited, service_time: 200ms}",
        "triggers:\n  - {kind: capacity, target: s, at: 3s, duration: 2s, replicas_down: 1}\n");
    CHECK(r);
    CHECK(test_total(r, "s", "lost_to_crash") >= 5);
    CHECK(test_total(r, "c", "failed_error") == test_total(r, "s", "lost_to_crash"));
    /* the orphaned calls completed at the dependency all the same */
    CHECK(test_total(r, "a", "successes") >= test_total(r, "a", "offered") - 25);
    CHECK(r->requests == r->succeeded + r->failed + r->in_flight);
    test_done(r);
}

/* A paused replica cannot answer: attempts whose calls return during a pause
 * leave when it ends, while the dependency keeps working. */
static void pause_holds_answers(test_ctx *t)
{
    msim_result *r = run_graph(
        t, "10s", "    arrival: constant\n    rate: 100/s",
        "    workers: unlimited\n    service_time: 1ms\n    calls: {to: [{client: a}]}",
        "  a: {arrival: calls, target: sa}", "  sa: {workers: unlimited, service_time: 50ms}",
        "triggers:\n  - {kind: pause, target: s, at: 4s, duration: 2s}\n");
    CHECK(r);
    int dep = msim_result_column(r, "s", "departures");
    int sa = msim_result_column(r, "sa", "departures");
    CHECK(dep >= 0 && sa >= 0);
    CHECK(msim_result_at(r, 4, dep) == 0 && msim_result_at(r, 5, dep) == 0);
    CHECK(msim_result_at(r, 4, sa) > 0); /* the calls made just before the pause */
    /* the held answers and the queue leave at 6 s */
    CHECK(msim_result_at(r, 6, dep) > 150);
    CHECK(test_total(r, "c", "failed") == 0);
    test_done(r);
}

/* ---- loading errors --------------------------------------------------------------------- */

static void expect_load_error(test_ctx *t, const char *yaml, const char *needle)
{
    msim_scenario *sc = NULL;
    msim_error err = {0};
    char buf[1400];
    int rc = msim_scenario_parse(yaml, strlen(yaml), "graph.yaml", NULL, 0, &sc, &err);
    if (rc == 0) msim_scenario_free(sc);
    CHECK_MSG(rc != 0, "loaded, expected an error with \"%s\"", needle);
    const char *msg = msim_error_format(&err, buf, sizeof buf);
    CHECK_MSG(strstr(msg, needle) != NULL, "got: %s", msg);
}

static void graph_errors_point_at_the_line(test_ctx *t)
{
    expect_load_error(t,
                      "duration: 10s\nclients:\n  c: {target: s, rate: 10/s}\n"
                      "  d: {target: s2, rate: 10/s}\n"
                      "services:\n  s: {service_time: 1ms, calls: {to: [{client: d}]}}\n"
                      "  s2: {service_time: 1ms}\n",
                      "graph.yaml:6:48: services.s.calls.to[0].client: \"d\" is a client that makes "
                      "its own requests");
    expect_load_error(t,
                      "duration: 10s\nclients:\n  c: {target: s, rate: 10/s}\n"
                      "  d: {target: s, arrival: calls}\n"
                      "services:\n  s: {service_time: 1ms}\n",
                      "no service's calls.to names it");
    expect_load_error(t,
                      "duration: 10s\nclients:\n  c: {target: s, rate: 10/s}\n"
                      "  d: {target: s2, arrival: calls}\n"
                      "services:\n  s: {service_time: 1ms, calls: {mode: parallel, need: 2, to: "
                      "[{client: d}]}}\n  s2: {service_time: 1ms}\n",
                      "need: 2 successes, but there are only 1 calls");
    expect_load_error(t,
                      "duration: 10s\nclients:\n  c: {target: s, rate: 10/s}\n"
                      "  d: {target: s2, arrival: calls}\n"
                      "services:\n  s: {service_time: 1ms, calls: {need: some, to: "
                      "[{client: d}]}}\n  s2: {service_time: 1ms}\n",
                      "expected all, any, or a number of calls");
}

const test_case calls_tests[] = {
    {"calls/amplification_multiplies_across_layers", amplification_multiplies_across_layers,
     TIER_QUICK},
    {"calls/fanout_example_names_layered_amplification",
     fanout_example_names_layered_amplification, TIER_FULL},
    {"calls/sequential_calls_add_up", sequential_calls_add_up, TIER_QUICK},
    {"calls/parallel_calls_wait_for_all_any_or_k", parallel_calls_wait_for_all_any_or_k,
     TIER_QUICK},
    {"calls/required_and_optional_calls", required_and_optional_calls, TIER_QUICK},
    {"calls/need_k_fails_when_out_of_reach", need_k_fails_when_out_of_reach, TIER_QUICK},
    {"calls/calls_hold_the_worker", calls_hold_the_worker, TIER_QUICK},
    {"calls/deadlines_propagate_on_request", deadlines_propagate_on_request, TIER_QUICK},
    {"calls/replica_down_mid_call", replica_down_mid_call, TIER_QUICK},
    {"calls/pause_holds_answers", pause_holds_answers, TIER_QUICK},
    {"calls/graph_errors_point_at_the_line", graph_errors_point_at_the_line, TIER_QUICK},
    {NULL, NULL, 0},
};
