/* dist.c — distributions: parsing, exact means, and sampled means and
 * quantiles through confidence intervals. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../suites.h"
#include "../../src/scenario/load.h"

/* Parse one distribution from scenario text. */
static int parse(const char *text, msim_dist *d, msim__arena *ar, msim_error *err)
{
    msim_bind b = {.ar = ar, .err = err, .basedir = "."};
    msim_node *n = msim__node_scalar(ar, text, "test");
    msim_param p = {.name = "d", .type = &msim_type_dist};
    int rc = msim_type_dist.parse(&b, n, &p, d);
    free(b.where);
    free(b.refs);
    return rc;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Draw n values (ns); returns the sample mean and standard deviation. */
static void sample(const msim_dist *d, size_t n, double *out, double *mean, double *sd)
{
    msim_rng rng;
    msim_rng_seed(&rng, 17);
    double s = 0, s2 = 0;
    for (size_t i = 0; i < n; i++) {
        out[i] = (double)msim_dist_sample(d, &rng);
        s += out[i];
        s2 += out[i] * out[i];
    }
    *mean = s / (double)n;
    *sd = sqrt(s2 / (double)n - *mean * *mean);
}

static void sampled_means_match(test_ctx *t)
{
    static const struct {
        const char *text;
        double mean_ns;
    } cases[] = {
        {"7ms", 7e6},
        {"exponential(mean=10ms)", 10e6},
        {"lognormal(median=7ms, sigma=0.6)", 7e6 * 1.1972173631218102}, /* e^(0.18) */
        {"lognormal(mean=10ms, sigma=0.5)", 10e6},
        {"lognormal(mean=10ms, p99=80ms)", 10e6},
        {"gamma(shape=2.5, mean=10ms)", 10e6},
        {"erlang(k=3, mean=12ms)", 12e6},
        {"uniform(min=1ms, max=9ms)", 5e6},
        {"pareto(scale=5ms, shape=3)", 7.5e6},
        {"{kind: exponential, mean: 3ms}", 3e6},
        {"empirical(quantiles=\"0:0ms 0.5:10ms 1:30ms\")", 0.5 * 5e6 + 0.5 * 20e6},
    };
    enum { N = 200000 };
    double *x = malloc(N * sizeof *x);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        msim__arena ar = {.alloc = msim_default_allocator};
        msim_error err = {0};
        msim_dist d;
        msim_node *root = NULL;
        int rc;
        if (cases[i].text[0] == '{') { /* map form goes through the YAML reader */
            rc = msim__yaml_parse(&ar, cases[i].text, strlen(cases[i].text), "t", &root, &err);
            msim_bind b = {.ar = &ar, .err = &err};
            msim_param p = {.name = "d", .type = &msim_type_dist};
            if (!rc) rc = msim_type_dist.parse(&b, root, &p, &d);
            free(b.where);
            free(b.refs);
        } else {
            rc = parse(cases[i].text, &d, &ar, &err);
        }
        CHECK_MSG(rc == 0, "%s: %s", cases[i].text, err.msg);
        CHECK_MSG(fabs(msim_dist_mean(&d) - cases[i].mean_ns) < 1e-6 * cases[i].mean_ns,
                  "%s: exact mean %.6g, expected %.6g", cases[i].text, msim_dist_mean(&d), cases[i].mean_ns);
        double m, sd;
        sample(&d, N, x, &m, &sd);
        /* 99.9% two-sided normal interval of the sample mean (+1 ns for rounding) */
        double half = 3.29 * sd / sqrt((double)N) + 1;
        CHECK_MSG(fabs(m - cases[i].mean_ns) <= half, "%s: sample mean %.6g vs %.6g (+-%.3g)",
                  cases[i].text, m, cases[i].mean_ns, half);
        msim__arena_free(&ar);
    }
    free(x);
}

/* lognormal(mean, p99) really has that p99; the quantile table reproduces its knots. */
static void quantiles_match_their_spec(test_ctx *t)
{
    enum { N = 400000 };
    double *x = malloc(N * sizeof *x);
    msim__arena ar = {.alloc = msim_default_allocator};
    msim_error err = {0};
    msim_dist d;
    double m, sd;
    CHECK(parse("lognormal(mean=10ms, p99=80ms)", &d, &ar, &err) == 0);
    sample(&d, N, x, &m, &sd);
    qsort(x, N, sizeof *x, cmp_double);
    /* the sample p99's standard error is ~ sqrt(p(1-p)/N)/f(q99); 2% is > 5 sigma here */
    CHECK_MSG(fabs(x[(size_t)(0.99 * N)] - 80e6) < 0.02 * 80e6, "p99 %.4g", x[(size_t)(0.99 * N)]);
    CHECK(parse("empirical(quantiles=\"0:1ms 0.5:7ms 0.99:60ms 1:200ms\")", &d, &ar, &err) == 0);
    sample(&d, N, x, &m, &sd);
    qsort(x, N, sizeof *x, cmp_double);
    /* The table is the CDF: the share of draws at or below each knot must be
     * its probability, within 5 binomial standard deviations. (Comparing
     * sample quantiles instead would be at the mercy of the CDF's slope.) */
    const double knots[][2] = {{7e6, 0.5}, {60e6, 0.99}};
    for (int k = 0; k < 2; k++) {
        size_t below = 0;
        while (below < N && x[below] <= knots[k][0])
            below++;
        double p = knots[k][1], share = (double)below / N;
        CHECK_MSG(fabs(share - p) < 5 * sqrt(p * (1 - p) / N), "P(X <= %.3g) = %.5f, expected %.2f",
                  knots[k][0], share, p);
    }
    CHECK(x[0] >= 1e6 - 1 && x[N - 1] <= 200e6 + 1);
    msim__arena_free(&ar);
    free(x);
}

/* Samples from a CSV file: resampled between order statistics. */
static void empirical_file(test_ctx *t)
{
    char path[] = "/tmp/metasim-test-samples-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fprintf(f, "latency_ms\n");
    for (int i = 1; i <= 100; i++)
        fprintf(f, "%d\n", i);
    fclose(f);
    char spec[200];
    snprintf(spec, sizeof spec, "empirical(file=%s, unit=ms)", path);
    msim__arena ar = {.alloc = msim_default_allocator};
    msim_error err = {0};
    msim_dist d;
    int rc = parse(spec, &d, &ar, &err);
    unlink(path);
    CHECK_MSG(rc == 0, "%s", err.msg);
    CHECK(d.n == 100 && d.table[0] == 1e6 && d.table[99] == 100e6);
    CHECK(fabs(msim_dist_mean(&d) - 50.5e6) < 1);
    msim_rng rng;
    msim_rng_seed(&rng, 1);
    for (int i = 0; i < 10000; i++) {
        msim_time v = msim_dist_sample(&d, &rng);
        CHECK(v >= 1000000 && v <= 100000000);
    }
    msim__arena_free(&ar);
}

static void bad_specs_are_rejected(test_ctx *t)
{
    static const char *const bad[] = {
        "fast", "exponential(mean=0ms)", "exponential(avg=3ms)", "lognormal(median=5ms)",
        "lognormal(mean=10ms, p99=500ms)", "pareto(scale=1ms, shape=1)", "erlang(k=2.5, mean=1ms)",
        "uniform(min=5ms, max=1ms)", "normal(mean=1ms)", "exponential(mean=3ms", "empirical(file=/nonexistent/x.csv)",
        "empirical(quantiles=\"0.2:1ms 1:2ms\")",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        msim__arena ar = {.alloc = msim_default_allocator};
        msim_error err = {0};
        msim_dist d;
        CHECK_MSG(parse(bad[i], &d, &ar, &err) != 0 && err.msg[0], "\"%s\" accepted", bad[i]);
        msim__arena_free(&ar);
    }
}

const test_case dist_tests[] = {
    {"dist_sampled_means_match", sampled_means_match, TIER_QUICK},
    {"dist_quantiles_match_their_spec", quantiles_match_their_spec, TIER_QUICK},
    {"dist_empirical_file", empirical_file, TIER_QUICK},
    {"dist_bad_specs_are_rejected", bad_specs_are_rejected, TIER_QUICK},
    {NULL, NULL, 0},
};
