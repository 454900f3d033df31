/* harness.h — the test runner's vocabulary.
 *
 * A test is a function taking a test_ctx; suites are NULL-terminated arrays of
 * test_case declared in suites.h and listed once in main.c. CHECK failures
 * record file:line and the failed expression and end the test. Statistical
 * tests use fixed seeds, so they are repeatable; their tolerances come from
 * confidence intervals, never from tuning.
 */
#ifndef METASIM_TESTS_HARNESS_H
#define METASIM_TESTS_HARNESS_H

#include <math.h>
#include <stdio.h>

#include "metasim.h"

typedef struct test_ctx {
    const char *name;
    const char *bin;  /* path of the metasim binary under test */
    const char *root; /* repository root (for examples/, tests/cases/) */
    int failed;
    int update;       /* golden cases: rewrite expectations */
    char msg[2048];
} test_ctx;

typedef void (*test_fn)(test_ctx *t);

enum { TIER_QUICK = 0, TIER_FULL = 1 };

typedef struct test_case {
    const char *name;
    test_fn fn;
    int tier; /* TIER_QUICK runs everywhere; TIER_FULL only in the full (release) run */
} test_case;

void test_fail(test_ctx *t, const char *file, int line, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            test_fail(t, __FILE__, __LINE__, "%s", #cond);                                         \
            return;                                                                                \
        }                                                                                          \
    } while (0)

#define CHECK_MSG(cond, ...)                                                                       \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            test_fail(t, __FILE__, __LINE__, __VA_ARGS__);                                         \
            return;                                                                                \
        }                                                                                          \
    } while (0)

/* |a - b| <= tol */
#define CHECK_NEAR(a, b, tol)                                                                      \
    do {                                                                                           \
        double a_ = (a), b_ = (b), tol_ = (tol);                                                   \
        if (!(fabs(a_ - b_) <= tol_)) {                                                            \
            test_fail(t, __FILE__, __LINE__, "%s = %.9g, expected %s = %.9g within %.3g", #a, a_,  \
                      #b, b_, tol_);                                                               \
            return;                                                                                \
        }                                                                                          \
    } while (0)

/* Load a scenario from YAML text (with overrides) and run it once. Fails the
 * test (and returns NULL) on any error. Free with test_done. */
msim_result *test_run_text(test_ctx *t, const char *yaml, const msim_override *ov, size_t nov,
                           uint64_t replica);
void test_done(msim_result *r); /* frees the result and its scenario */

/* The same from a scenario file under the repository root (e.g.
 * "examples/retry-storm.yaml"), run once as written. */
msim_result *test_run_file(test_ctx *t, const char *relpath);

/* Allocation failure on purpose (STYLE §15): run the scenario in `yaml` with an
 * allocator that fails at the k-th request, for every k up to the number a full
 * run makes. Each run must end in a clean -MSIM_ENOMEM with a message (or
 * succeed with a balanced ledger, once k is past the last allocation) — never
 * a crash or a leak (the sanitizer build checks). Fails the test otherwise. */
void test_allocation_failures_are_clean(test_ctx *t, const char *yaml);

/* Run the scenario in `yaml` twice: summary JSON and time series must be the
 * same bytes (and not empty). Fails the test otherwise. */
void test_same_bytes_twice(test_ctx *t, const char *yaml);

/* Sum of a component's column over the whole run (or -1 if it is missing). */
double test_total(const msim_result *r, const char *component, const char *metric);

/* Time-weighted mean of a gauge column over windows [w0, nwin). */
double test_gauge_mean(const msim_result *r, const char *component, const char *metric, uint32_t w0);

/* Mean and half-width of a 99% confidence interval (Student t) of n values. */
void test_ci99(const double *x, size_t n, double *mean, double *half);

/* Run the metasim binary with argv (NULL-terminated, without the program),
 * capturing stdout and stderr (malloc'd, NUL-terminated). Returns the exit
 * status, or -1 if it could not run or died from a signal. */
int test_exec(test_ctx *t, const char *const *argv, const char *cwd, char **out, char **err);

/* Read a whole file (malloc'd), or NULL. */
char *test_read_file(const char *path);

#endif
