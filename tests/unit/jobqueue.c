/* jobqueue.c — the `jobqueue` kind: the order each scheduling policy starts
 * jobs in, per-queue worker pools, SLO accounting (late starts, the age of
 * the oldest job), classes drawn by share, triggers, and bad settings.
 *
 * The order tests use one worker and jobs of exactly 1 s, so starts fall at
 * t0, t0 + 1 s, ...: window w of 1 s holds exactly one start, and the
 * per-queue `_started` columns spell out the order. Arrivals are constant
 * (client rate and schedule), so every time is exact. */
#include <stdlib.h>
#include <string.h>

#include "../suites.h"

static double wsum(const msim_result *r, const char *comp, const char *metric, uint32_t w0,
                   uint32_t w1)
{
    int c = msim_result_column(r, comp, metric);
    if (c < 0) return NAN;
    if (w1 > r->nwin) w1 = r->nwin;
    return msim_result_sum(r, c, w0, w1);
}

/* The queue (its first letter) that started a job in each window, '.' for
 * none, '?' for more than one. */
static void start_order(const msim_result *r, const char *const *queues, int nq, char *out,
                        size_t size)
{
    size_t n = 0;
    for (uint32_t w = 0; w < r->nwin && n + 1 < size; w++) {
        char ch = '.';
        for (int q = 0; q < nq; q++) {
            char m[64];
            snprintf(m, sizeof m, "%s_started", queues[q]);
            double v = wsum(r, "j", m, w, w + 1);
            if (v == 1) ch = ch == '.' ? queues[q][0] : '?';
            if (v > 1) ch = '?';
        }
        out[n++] = ch;
    }
    out[n] = '\0';
}

/* Clients a and b send 6 jobs each: at 0, 0.1, ..., 0.5 s and at 0, 1/9, ...,
 * 5/9 s (a constant client's first request leaves at once). */
static const char *const two_senders =
    "clients:\n"
    "  a: {target: j, arrival: constant, rate: 10/s, schedule: [{at: 550ms, rate: 0/s}]}\n"
    "  b: {target: j, arrival: constant, rate: 9/s, schedule: [{at: 600ms, rate: 0/s}]}\n";

static msim_result *run_two(test_ctx *t, const char *policy, const char *queues)
{
    char yaml[2048];
    snprintf(yaml, sizeof yaml,
             "duration: 14s\n%s"
             "jobqueues:\n  j:\n    workers: 1\n    policy: %s\n    queues: %s\n"
             "    classes:\n"
             "      - {name: ja, from: a, queue: A, service_time: 1s}\n"
             "      - {name: jb, from: b, queue: B, service_time: 1s}\n",
             two_senders, policy, queues);
    return test_run_text(t, yaml, NULL, 0, 0);
}

static void check_order(test_ctx *t, const char *policy, const char *queues, const char *want)
{
    msim_result *r = run_two(t, policy, queues);
    if (!r) return;
    const char *names[] = {"A", "B"};
    char got[64];
    start_order(r, names, 2, got, sizeof got);
    CHECK_MSG(strncmp(got, want, strlen(want)) == 0, "%s: order %s, expected %s", policy, got,
              want);
    CHECK(r->requests == r->succeeded + r->failed + r->in_flight);
    test_done(r);
}

/* The first job (a's, at 0 s) starts at once; the other eleven queue. */
static void strict_priority_serves_the_higher_queue_first(test_ctx *t)
{
    check_order(t, "strict_priority", "[{name: A, priority: 1}, {name: B, priority: 0}]",
                "ABBBBBBAAAAA");
    check_order(t, "strict_priority", "[{name: A}, {name: B}]",
                "AAAAAABBBBBB"); /* ties: as listed */
    check_order(t, "fifo", "[{name: A, priority: 1}, {name: B, priority: 0}]", "ABABABABABAB");
}

/* Smooth weighted round robin, 3:1: A A B A, repeating while both have work. */
static void weighted_follows_the_weights(test_ctx *t)
{
    char yaml[2048];
    snprintf(yaml, sizeof yaml,
             "duration: 20s\n"
             "clients:\n"
             "  a: {target: j, arrival: constant, rate: 20/s, schedule: [{at: 0.51s, rate: 0/s}]}\n"
             "  b: {target: j, arrival: constant, rate: 19/s, schedule: [{at: 0.52s, rate: 0/s}]}\n"
             "jobqueues:\n  j:\n    workers: 1\n    policy: weighted\n"
             "    queues: [{name: A, weight: 3}, {name: B, weight: 1}]\n"
             "    classes:\n"
             "      - {name: ja, from: a, queue: A, service_time: 1s}\n"
             "      - {name: jb, from: b, queue: B, service_time: 1s}\n");
    msim_result *r = test_run_text(t, yaml, NULL, 0, 0);
    if (!r) return;
    const char *names[] = {"A", "B"};
    char got[64];
    start_order(r, names, 2, got, sizeof got);
    /* 11 jobs of a, 10 of b: the first a at once, then 3:1 until a runs out */
    CHECK_MSG(strncmp(got, "AAABAAABAAAB", 12) == 0, "order %s", got);
    test_done(r);
}

/* A blocker holds the only worker from 0 to 8.5 s. X (SLO 10 s) gets a job
 * at 0 s, Y (SLO 1 s) at 7.95 s. At 8.5 s: X's deadline is 10 s and Y's
 * 8.95 s, so earliest_deadline takes Y; X is 0.85 of its SLO behind and Y
 * 0.55, so most_behind takes X, as does fifo. */
static const char *blocker_yaml =
    "duration: 12s\n"
    "clients:\n"
    "  z: {target: j, arrival: constant, rate: 10/s, schedule: [{at: 50ms, rate: 0/s}]}\n"
    "  x: {target: j, arrival: constant, rate: 10/s, schedule: [{at: 50ms, rate: 0/s}]}\n"
    "  y: {target: j, arrival: constant, rate: 0/s, schedule: [{at: 7.95s, rate: 20/s}, "
    "{at: 8s, rate: 0/s}]}\n"
    "jobqueues:\n  j:\n    workers: 1\n    policy: %s\n"
    "    queues: [{name: Z}, {name: X, slo: %s}, {name: Y, slo: 1s}]\n"
    "    classes:\n"
    "      - {name: blocker, from: z, queue: Z, service_time: 8.5s}\n"
    "      - {name: jx, from: x, queue: X, service_time: 1s}\n"
    "      - {name: jy, from: y, queue: Y, service_time: 1s}\n";

static char first_after_blocker(test_ctx *t, const char *policy, const char *x_slo)
{
    char yaml[2048];
    snprintf(yaml, sizeof yaml, blocker_yaml, policy, x_slo);
    msim_result *r = test_run_text(t, yaml, NULL, 0, 0);
    if (!r) return 0;
    char ch = 0;
    if (wsum(r, "j", "X_started", 8, 9) == 1 && wsum(r, "j", "Y_started", 8, 9) == 0) ch = 'X';
    if (wsum(r, "j", "Y_started", 8, 9) == 1 && wsum(r, "j", "X_started", 8, 9) == 0) ch = 'Y';
    /* one job from each client, no more */
    if (wsum(r, "j", "arrivals", 0, 12) != 3) ch = '!';
    test_done(r);
    return ch;
}

static void slo_aware_policies_order_by_deadline_or_lateness(test_ctx *t)
{
    char c = first_after_blocker(t, "earliest_deadline", "10s");
    CHECK_MSG(c == 'Y', "earliest_deadline: %c", c);
    c = first_after_blocker(t, "most_behind", "10s");
    CHECK_MSG(c == 'X', "most_behind: %c", c);
    c = first_after_blocker(t, "fifo", "10s");
    CHECK_MSG(c == 'X', "fifo: %c", c);
    /* with a 20 s SLO, X is only 0.425 behind: most_behind takes Y too */
    c = first_after_blocker(t, "most_behind", "20s");
    CHECK_MSG(c == 'Y', "most_behind, X at 20 s: %c", c);
    /* a queue without an SLO waits for those with one */
    c = first_after_blocker(t, "earliest_deadline", "none");
    CHECK_MSG(c == 'Y', "earliest_deadline, X without SLO: %c", c);
}

/* Five jobs of 1.05 s on one worker, enqueued at 0, 0.1, ..., 0.4 s: they
 * start at 0, 1.05, 2.1, 3.15 and 4.2 s, so they wait 0, 0.95, 1.9, 2.85 and
 * 3.8 s. With an SLO of 2.5 s the last two are late, for the queue and for
 * the class; the oldest job was 3.8 s old when it left. */
static void slo_attainment_counts_late_starts(test_ctx *t)
{
    msim_result *r = test_run_text(
        t,
        "duration: 10s\n"
        "clients:\n"
        "  a: {target: j, arrival: constant, rate: 10/s, schedule: [{at: 450ms, rate: 0/s}]}\n"
        "jobqueues:\n  j:\n    workers: 1\n"
        "    queues: [{name: q, slo: 2.5s}]\n"
        "    classes: [{name: job, queue: q, service_time: 1.05s}, "
        "{name: strict, from: nobody, queue: q, service_time: 1s, slo: 1s}]\n"
        "services:\n  nobody: {service_time: 1ms}\n",
        NULL, 0, 0);
    if (!r) return;
    CHECK(test_total(r, "j", "q_started") == 5);
    CHECK(test_total(r, "j", "q_late") == 2);
    CHECK(test_total(r, "j", "job_started") == 5 && test_total(r, "j", "job_late") == 2);
    CHECK(test_total(r, "j", "strict_started") == 0);
    int age = msim_result_column(r, "j", "q_age_max");
    CHECK(age >= 0);
    CHECK_NEAR(msim_result_at(r, 4, age), 3.8, 1e-9);
    int wait = msim_result_column(r, "j", "q_wait_max");
    CHECK(wait >= 0);
    CHECK_NEAR(msim_result_at(r, 4, wait), 3.8, 0.01 * 3.8); /* a histogram bucket */
    CHECK(wsum(r, "j", "q_depth_max", 0, 1) == 4);
    test_done(r);
}

/* A queue with workers of its own is not held up by the common pool: a 5 s
 * job in the shared queue does not delay the fast queue's jobs. */
static void own_workers_serve_only_their_queue(test_ctx *t)
{
    const char *fmt =
        "duration: 10s\n"
        "clients:\n"
        "  slow: {target: j, arrival: constant, rate: 10/s, schedule: [{at: 50ms, rate: 0/s}]}\n"
        "  fast: {target: j, arrival: constant, rate: 5/s}\n"
        "jobqueues:\n  j:\n    workers: 1\n"
        "    queues: [{name: bulk}, {name: quick, slo: 100ms%s}]\n"
        "    classes: [{name: big, from: slow, queue: bulk, service_time: 5s}, "
        "{name: small, from: fast, queue: quick, service_time: 10ms}]\n";
    char yaml[1024];
    snprintf(yaml, sizeof yaml, fmt, ", workers: 1");
    msim_result *r = test_run_text(t, yaml, NULL, 0, 0);
    if (!r) return;
    CHECK(test_total(r, "j", "quick_late") == 0 && test_total(r, "j", "quick_started") >= 48);
    CHECK(test_gauge_mean(r, "j", "workers", 0) == 2);
    test_done(r);
    snprintf(yaml, sizeof yaml, fmt, "");
    r = test_run_text(t, yaml, NULL, 0, 0);
    if (!r) return;
    /* sharing the one worker, the quick jobs wait out the 5 s job */
    CHECK(test_total(r, "j", "quick_late") >= 20);
    test_done(r);
}

/* One sender, classes by share 1:3: a binomial split. A sender no class
 * takes is refused. */
static void classes_are_drawn_by_share(test_ctx *t)
{
    msim_result *r =
        test_run_text(t,
                      "duration: 100s\n"
                      "clients:\n  a: {target: j, rate: 200/s}\n  other: {target: j, rate: 10/s}\n"
                      "jobqueues:\n  j:\n    workers: 1000\n"
                      "    queues: [{name: q}]\n"
                      "    classes: [{name: one, queue: q, service_time: 1ms, share: 1}, "
                      "{name: three, queue: q, service_time: 1ms, share: 3}, "
                      "{name: only, from: other, queue: q, service_time: 1ms}]\n",
                      NULL, 0, 0);
    if (!r) return;
    double one = test_total(r, "j", "one_started"), three = test_total(r, "j", "three_started");
    double n = one + three;
    CHECK_NEAR(one, n / 4, 5 * sqrt(n * 0.25 * 0.75));
    CHECK(test_total(r, "j", "only_started") == test_total(r, "other", "offered"));
    CHECK(test_total(r, "j", "unclassified") == 0);
    test_done(r);
}

/* A capacity trigger halves the workers: the backlog grows while it lasts. */
static void capacity_trigger_takes_workers(test_ctx *t)
{
    msim_result *r = test_run_text(
        t,
        "duration: 40s\nverdict: {warmup: 2s}\n"
        "clients:\n  a: {target: j, arrival: constant, rate: 15/s}\n"
        "jobqueues:\n  j:\n    workers: 2\n"
        "    queues: [{name: q, slo: 1s}]\n"
        "    classes: [{name: job, queue: q, service_time: 100ms}]\n"
        "triggers:\n  - {kind: capacity, target: j, at: 10s, duration: 10s, workers_factor: 0.5}\n",
        NULL, 0, 0);
    if (!r) return;
    CHECK(wsum(r, "j", "workers", 12, 13) == 1 && wsum(r, "j", "workers", 5, 6) == 2);
    CHECK(wsum(r, "j", "q_late", 0, 10) == 0);
    CHECK(wsum(r, "j", "q_depth_max", 19, 20) >= 45); /* 5 jobs a second pile up */
    CHECK(wsum(r, "j", "q_late", 10, 40) > 0);
    test_done(r);
}

static void jobqueue_rejects_bad_settings(test_ctx *t)
{
    const char *bad[][2] = {
        {"queues: [{name: q}]\n    classes: [{name: c, queue: nope, service_time: 1ms}]",
         "no queue is named \"nope\""},
        {"queues: [{name: q}, {name: q}]\n    classes: [{name: c, queue: q, service_time: 1ms}]",
         "two queues"},
        {"queues: [{name: q}]\n    classes: [{name: q, queue: q, service_time: 1ms}]",
         "both named"},
        {"queues: [{name: q}]\n    classes: []", "1 to 256 classes"},
        {"workers: 0\n    queues: [{name: q}]\n    classes: [{name: c, queue: q, service_time: "
         "1ms}]",
         "common pool"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char yaml[1024];
        snprintf(yaml, sizeof yaml,
                 "duration: 10s\nclients:\n  c0: {target: j, rate: 10/s}\n"
                 "jobqueues:\n  j:\n    %s\n",
                 bad[i][0]);
        msim_scenario *sc = NULL;
        msim_error err = {0};
        char buf[1400] = "";
        int rc = msim_scenario_parse(yaml, strlen(yaml), "bad", NULL, 0, &sc, &err);
        msim_error_format(&err, buf, sizeof buf);
        msim_scenario_free(sc);
        CHECK_MSG(rc != 0 && strstr(buf, bad[i][1]), "case %zu: %s", i, buf);
    }
}

const test_case jobqueue_tests[] = {
    {"jobqueue_strict_priority_serves_the_higher_queue_first",
     strict_priority_serves_the_higher_queue_first, TIER_QUICK},
    {"jobqueue_weighted_follows_the_weights", weighted_follows_the_weights, TIER_QUICK},
    {"jobqueue_slo_aware_policies_order_by_deadline_or_lateness",
     slo_aware_policies_order_by_deadline_or_lateness, TIER_QUICK},
    {"jobqueue_slo_attainment_counts_late_starts", slo_attainment_counts_late_starts, TIER_QUICK},
    {"jobqueue_own_workers_serve_only_their_queue", own_workers_serve_only_their_queue, TIER_QUICK},
    {"jobqueue_classes_are_drawn_by_share", classes_are_drawn_by_share, TIER_QUICK},
    {"jobqueue_capacity_trigger_takes_workers", capacity_trigger_takes_workers, TIER_QUICK},
    {"jobqueue_rejects_bad_settings", jobqueue_rejects_bad_settings, TIER_QUICK},
    {NULL, NULL, 0},
};
