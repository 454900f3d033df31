/* torture.c — allocation failure on purpose (STYLE §15) for the core model:
 * a client with retries, a service, a trigger. test_allocation_failures_are_clean
 * (harness.c) fails the k-th allocation for every k a run makes; the balancer
 * and channel suites run it on their own scenarios. */
#include "../suites.h"

static const char *scenario =
    "duration: 20s\nverdict: {warmup: 1s}\n"
    "clients:\n  c: {target: s, rate: 2000/s, timeout: 50ms, retry: {max_attempts: 3}}\n"
    "services:\n  s: {replicas: 2, workers: 4, queue: {capacity: 100}, service_time: exponential(mean=3ms)}\n"
    "triggers: [{kind: capacity, target: s, at: 5s, duration: 3s, speed_factor: 0.3}]\n";

static void every_allocation_failure_is_clean(test_ctx *t)
{
    test_allocation_failures_are_clean(t, scenario);
}

const test_case torture_tests[] = {
    {"torture_every_allocation_failure_is_clean", every_allocation_failure_is_clean, TIER_QUICK},
    {NULL, NULL, 0},
};
