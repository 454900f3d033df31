/* hist.c — log-linear histograms: bucket geometry and quantile accuracy. */
#include <stdlib.h>

#include "../suites.h"

static void buckets_tile_the_line(test_ctx *t)
{
    /* consecutive buckets touch, widths are at most 1/32 of their lower edge */
    for (uint32_t b = 0; b + 1 < MSIM_HIST_BUCKETS - 40; b++) {
        uint64_t lo = msim_hist_bucket_low(b), w = msim_hist_bucket_width(b);
        CHECK_MSG(msim_hist_bucket_low(b + 1) == lo + w, "gap after bucket %u", b);
        CHECK(msim_hist_bucket(lo) == b && msim_hist_bucket(lo + w - 1) == b);
        if (lo >= 64) CHECK(w * 32 <= lo);
    }
    CHECK(msim_hist_bucket(UINT64_MAX) < MSIM_HIST_BUCKETS);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Quantiles read from the histogram are within 1.6% of the exact order
 * statistic (half a bucket), over values spanning nine decades. */
static void quantiles_within_bucket_error(test_ctx *t)
{
    enum { N = 100000 };
    static uint64_t v[N];
    msim_hist *h = calloc(1, sizeof *h);
    msim_rng rng;
    msim_rng_seed(&rng, 9);
    for (int i = 0; i < N; i++) {
        v[i] = (uint64_t)exp(msim_rng_u01(&rng) * 20.0); /* 1 ns .. 485 ms, log-uniform */
        msim_hist_record(h, v[i]);
    }
    qsort(v, N, sizeof v[0], cmp_u64);
    const double qs[] = {0.01, 0.25, 0.5, 0.9, 0.99, 0.999};
    for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
        double exact = (double)v[(size_t)ceil(qs[i] * N) - 1];
        double got = msim_hist_quantile(h, qs[i]);
        double tol = exact < 64 ? 0.5 : exact / 64 + 0.5;
        CHECK_MSG(fabs(got - exact) <= tol, "q%.3f: %.1f vs exact %.1f", qs[i], got, exact);
    }
    CHECK(msim_hist_quantile(h, 1.0) == (double)v[N - 1]);
    msim_hist *g = calloc(1, sizeof *g);
    msim_hist_merge(g, h);
    msim_hist_merge(g, h);
    CHECK(g->count == 2 * (uint64_t)N && fabs(msim_hist_quantile(g, 0.5) - msim_hist_quantile(h, 0.5)) < 1e-9);
    free(g);
    free(h);
}

const test_case hist_tests[] = {
    {"hist_buckets_tile_the_line", buckets_tile_the_line, TIER_QUICK},
    {"hist_quantiles_within_bucket_error", quantiles_within_bucket_error, TIER_QUICK},
    {NULL, NULL, 0},
};
