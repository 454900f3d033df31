/* torture.c — allocation failure on purpose (STYLE §15): a run whose allocator
 * fails at the k-th request, for every k up to the number the run makes. Each
 * must end in a clean -MSIM_ENOMEM (or succeed, once k is past the last
 * allocation) — never a crash, a leak (checked by the sanitizer build) or an
 * unbalanced ledger. */
#include <stdlib.h>
#include <string.h>

#include "../suites.h"

typedef struct budget {
    long calls, fail_at;
} budget;

static void *failing_realloc(void *ud, void *p, size_t size)
{
    budget *b = ud;
    if (size == 0) {
        free(p);
        return NULL;
    }
    if (++b->calls == b->fail_at) return NULL;
    return realloc(p, size);
}

static const char *scenario =
    "duration: 20s\nverdict: {warmup: 1s}\n"
    "clients:\n  c: {target: s, rate: 2000/s, timeout: 50ms, retry: {max_attempts: 3}}\n"
    "services:\n  s: {replicas: 2, workers: 4, queue: {capacity: 100}, service_time: exponential(mean=3ms)}\n"
    "triggers: [{kind: capacity, target: s, at: 5s, duration: 3s, speed_factor: 0.3}]\n";

static void every_allocation_failure_is_clean(test_ctx *t)
{
    msim_scenario *sc = NULL;
    msim_error err = {0};
    CHECK(msim_scenario_parse(scenario, strlen(scenario), "torture", NULL, 0, &sc, &err) == 0);
    /* count the allocations of a full run */
    budget count = {0, -1};
    msim_run_options opt = {.alloc = {failing_realloc, &count}};
    msim_result *r = NULL;
    CHECK(msim_run(sc, &opt, &r, &err) == 0);
    msim_result_free(r);
    long total = count.calls;
    CHECK(total > 10);
    int failures = 0;
    for (long k = 1; k <= total + 1; k++) {
        budget b = {0, k};
        opt.alloc.ud = &b;
        r = NULL;
        memset(&err, 0, sizeof err);
        int rc = msim_run(sc, &opt, &r, &err);
        if (k <= total) {
            CHECK_MSG(rc == -MSIM_ENOMEM && r == NULL, "allocation %ld of %ld: rc %d", k, total, rc);
            CHECK(err.msg[0]);
            failures++;
        } else {
            CHECK(rc == 0 && r && r->requests == r->succeeded + r->failed + r->in_flight);
        }
        msim_result_free(r);
    }
    CHECK(failures == total);
    msim_scenario_free(sc);
}

const test_case torture_tests[] = {
    {"torture_every_allocation_failure_is_clean", every_allocation_failure_is_clean, TIER_QUICK},
    {NULL, NULL, 0},
};
