/* main.c — the test runner.
 *
 *   metasim-tests [--bin PATH] [--tier quick|full] [--update] [NAME...]
 *
 * Runs every test of every suite (or those whose name contains one of the
 * NAMEs), each in turn, and ends with "N passed, N failed". --tier quick skips
 * the long statistical tests (used for the debug and sanitizer builds);
 * --update rewrites golden expectations for review.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "suites.h"

static const test_case *const suites[] = {
    eventq_tests, units_tests,  dist_tests,        hist_tests,   oscillation_tests,
    engine_tests, torture_tests, theory_tests, determinism_tests, golden_tests, analysis_tests, published_tests, examples_tests,
    mitigations_tests,
    admission_tests,
    balancer_tests, calls_tests, memory_tests,
    cache_tests,
    jobqueue_tests,
    autoscaler_tests,
    channel_tests,
};

void test_fail(test_ctx *t, const char *file, int line, const char *fmt, ...)
{
    t->failed = 1;
    int n = snprintf(t->msg, sizeof t->msg, "%s:%d: ", file, line);
    va_list ap;
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < sizeof t->msg) vsnprintf(t->msg + n, sizeof t->msg - (size_t)n, fmt, ap);
    va_end(ap);
}

static int selected(const char *name, char **filters, int nfilters)
{
    if (nfilters == 0) return 1;
    for (int i = 0; i < nfilters; i++)
        if (strstr(name, filters[i])) return 1;
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    const char *bin = "build/metasim";
    int tier = TIER_FULL, update = 0, nfilters = 0;
    char **filters = calloc((size_t)argc, sizeof *filters);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--bin") == 0 && i + 1 < argc)
            bin = argv[++i];
        else if (strcmp(argv[i], "--tier") == 0 && i + 1 < argc)
            tier = strcmp(argv[++i], "quick") == 0 ? TIER_QUICK : TIER_FULL;
        else if (strcmp(argv[i], "--update") == 0)
            update = 1;
        else
            filters[nfilters++] = argv[i];
    }
    /* golden cases run the binary from their own directory: make its path absolute */
    char *abs_bin = realpath(bin, NULL);
    if (abs_bin) bin = abs_bin;
    int passed = 0, failed = 0, skipped = 0;
    double t0 = now_s();
    for (size_t s = 0; s < sizeof suites / sizeof suites[0]; s++) {
        for (const test_case *tc = suites[s]; tc->name; tc++) {
            if (!selected(tc->name, filters, nfilters)) continue;
            if (tc->tier > tier) {
                skipped++;
                continue;
            }
            test_ctx t = {.name = tc->name, .bin = bin, .root = ".", .update = update};
            double start = now_s();
            tc->fn(&t);
            double secs = now_s() - start;
            if (t.failed) {
                failed++;
                printf("FAIL %-40s %6.2fs\n     %s\n", tc->name, secs, t.msg);
            } else {
                passed++;
                printf("ok   %-40s %6.2fs\n", tc->name, secs);
            }
            fflush(stdout);
        }
    }
    printf("\n%d passed, %d failed", passed, failed);
    if (skipped) printf(", %d skipped (tier quick)", skipped);
    printf(" in %.1fs\n", now_s() - t0);
    free(filters);
    free(abs_bin);
    return failed ? 1 : 0;
}
