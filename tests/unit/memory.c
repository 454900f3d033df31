/* memory.c — a service's heap: the garbage collector's stretch of work at a
 * known fill, out-of-memory errors at the limit, the heap gauge's books, the
 * loader's checks, and the GC staircase's hysteresis. Service times are
 * constants, so the stretch is checked exactly. */
#include <string.h>

#include "../suites.h"

static msim_result *run_mem(test_ctx *t, const char *client, const char *service)
{
    char yaml[2048];
    snprintf(yaml, sizeof yaml,
             "duration: 20s\nwindow: 1s\nverdict: {warmup: 1s, hold: 2s, observe: 3s}\n"
             "clients:\n  c:\n    target: s\n%s\n"
             "services:\n  s:\n%s\n",
             client, service);
    return test_run_text(t, yaml, NULL, 0, 0);
}

static bool has_signal(const msim_result *r, const char *name)
{
    for (size_t k = 0; k < r->verdict.nsignals; k++)
        if (strcmp(r->verdict.signals[k].name, name) == 0) return true;
    return false;
}

/* One attempt at a time on a heap half full (25 MB baseline + 25 MB for the
 * attempt in service, of 100 MB): work takes 1 + gc_cost x 0.5 / 0.5 of its
 * time, and the difference is counted as GC time. */
static void gc_stretches_work_by_fill(test_ctx *t)
{
    msim_result *r = run_mem(t, "    arrival: constant\n    rate: 10/s",
                             "    service_time: 10ms\n"
                             "    memory: {heap: 100MB, baseline: 25MB, per_active: 25MB, gc_cost: 0.2}");
    CHECK(r);
    double n = test_total(r, "s", "departures");
    CHECK(n >= 199);
    CHECK_NEAR(test_total(r, "s", "sojourn") / n, 0.012, 1e-9);
    CHECK_NEAR(test_total(r, "s", "gc_time") / n, 0.002, 1e-9);
    CHECK_NEAR(test_total(r, "s", "work") / n, 0.012, 1e-9);
    test_done(r);
}

/* A heap holds ten attempts of 10 MB: the eleventh fails at once with an
 * error, and nothing holds more than ten. */
static void out_of_memory_at_the_limit(test_ctx *t)
{
    msim_result *r = run_mem(t, "    arrival: constant\n    rate: 20/s",
                             "    service_time: 1s\n"
                             "    memory: {heap: 100MB, per_queued: 10MB, per_active: 10MB, gc_cost: 0}");
    CHECK(r);
    int c = msim_result_column(r, "s", "in_system_max");
    CHECK(c >= 0);
    double peak = 0;
    for (uint32_t w = 0; w < r->nwin; w++)
        if (msim_result_at(r, w, c) > peak) peak = msim_result_at(r, w, c);
    CHECK(peak == 10);
    /* one served per second; 20 arrive */
    CHECK(test_total(r, "s", "out_of_memory") > 300);
    CHECK(test_total(r, "c", "failed_error") == test_total(r, "s", "out_of_memory"));
    CHECK(test_total(r, "c", "errors") == test_total(r, "s", "out_of_memory"));
    test_done(r);
}

/* The heap gauge is baseline + queued x per_queued + busy x per_active at
 * every instant, so its mean obeys the same identity with the gauges' means;
 * the limit is heap x replicas up. */
static void heap_gauge_keeps_the_books(test_ctx *t)
{
    msim_result *r = run_mem(t, "    rate: 300/s",
                             "    replicas: 2\n    workers: 2\n    service_time: exponential(mean=6ms)\n"
                             "    memory: {heap: 1GiB, baseline: 100MiB, per_queued: 1MiB, per_active: 4MiB}");
    CHECK(r);
    double heap = test_gauge_mean(r, "s", "heap_used", 0);
    double expect = 2 * 100.0 * 1048576 + test_gauge_mean(r, "s", "queue", 0) * 1048576 +
                    test_gauge_mean(r, "s", "busy", 0) * 4 * 1048576;
    CHECK_NEAR(heap, expect, 1e-6 * expect);
    CHECK_NEAR(test_gauge_mean(r, "s", "heap_limit", 0), 2 * 1073741824.0, 1);
    CHECK(test_total(r, "s", "gc_time") > 0);
    test_done(r);
}

static void expect_load_error(test_ctx *t, const char *memory, const char *needle)
{
    char yaml[1024];
    snprintf(yaml, sizeof yaml,
             "duration: 10s\nclients:\n  c: {target: s, rate: 10/s}\n"
             "services:\n  s: {service_time: 1ms, memory: %s}\n",
             memory);
    msim_scenario *sc = NULL;
    msim_error err = {0};
    char buf[1400];
    int rc = msim_scenario_parse(yaml, strlen(yaml), "mem.yaml", NULL, 0, &sc, &err);
    if (rc == 0) msim_scenario_free(sc);
    CHECK_MSG(rc != 0, "loaded, expected an error with \"%s\"", needle);
    const char *msg = msim_error_format(&err, buf, sizeof buf);
    CHECK_MSG(strstr(msg, needle) != NULL, "got: %s", msg);
}

static void memory_settings_are_checked(test_ctx *t)
{
    expect_load_error(t, "{heap: 64MB, baseline: 64MB, per_queued: 1MB}", "baseline fills the heap");
    expect_load_error(t, "{heap: 64MB}", "needs per_queued: or per_active:");
    expect_load_error(t, "{heap: 64mb, per_queued: 1MB}",
                      "expected a size such as 256MiB, 2MB or 512KiB, got \"64mb\"");
}

/* The staircase: after the 260/s step the load goes back down to 140/s and
 * the heap stays full — no recovery, with the GC named as what sustains it. */
static void staircase_does_not_recover(test_ctx *t)
{
    msim_result *r = test_run_file(t, "examples/gc-staircase.yaml");
    CHECK(r);
    /* the last stage (16m-20m, 140/s): goodput stays near zero */
    int good = msim_result_column(r, "load", "successes");
    double last = msim_result_sum(r, good, 17 * 12, 20 * 12) / 180;
    bool ok = r->verdict.kind == MSIM_VERDICT_METASTABLE && has_signal(r, "gc_pressure");
    test_done(r);
    CHECK(ok);
    CHECK(last < 14); /* under a tenth of the 140/s offered */
}

const test_case memory_tests[] = {
    {"memory/gc_stretches_work_by_fill", gc_stretches_work_by_fill, TIER_QUICK},
    {"memory/out_of_memory_at_the_limit", out_of_memory_at_the_limit, TIER_QUICK},
    {"memory/heap_gauge_keeps_the_books", heap_gauge_keeps_the_books, TIER_QUICK},
    {"memory/memory_settings_are_checked", memory_settings_are_checked, TIER_QUICK},
    {"memory/staircase_does_not_recover", staircase_does_not_recover, TIER_QUICK},
    {NULL, NULL, 0},
};
