/* oscillation.c — the oscillation detector on synthetic series: steady,
 * decaying, periodic, square-wave and noisy. Series are goodput / expected, as
 * the verdict feeds it. */
#include <stdlib.h>

#include "../suites.h"

#define N 600

static double noise(msim_rng *r, double sd)
{
    /* Box-Muller: a normal deviate is enough here */
    double u1 = msim_rng_u01_open0(r), u2 = msim_rng_u01(r);
    return sd * sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
}

static msim_oscillation detect(const double *x, size_t n)
{
    return msim_detect_oscillation(x, n, 0.2, 0.3);
}

static void steady_is_not_oscillating(test_ctx *t)
{
    double x[N];
    msim_rng r;
    msim_rng_seed(&r, 1);
    for (int i = 0; i < N; i++)
        x[i] = 1 + noise(&r, 0.03);
    CHECK(!detect(x, N).found);
    for (int i = 0; i < N; i++)
        x[i] = 0.05; /* flat and degraded: metastable, not oscillating */
    CHECK(!detect(x, N).found);
}

static void periodic_is_found_with_its_period(test_ctx *t)
{
    double x[N];
    msim_rng r;
    msim_rng_seed(&r, 2);
    for (int i = 0; i < N; i++)
        x[i] = 0.6 + 0.4 * sin(2 * M_PI * i / 47.0) + noise(&r, 0.05);
    msim_oscillation o = detect(x, N);
    CHECK(o.found);
    CHECK_MSG(fabs(o.period - 47) < 0.05 * 47, "period %.2f, expected 47", o.period);
    CHECK_MSG(o.amplitude > 0.3 && o.amplitude < 0.45, "amplitude %.3f", o.amplitude);
}

/* The CDN pattern: goodput alternates between a good and a bad level. */
static void square_wave_is_found(test_ctx *t)
{
    double x[N];
    msim_rng r;
    msim_rng_seed(&r, 3);
    for (int i = 0; i < N; i++)
        x[i] = ((i / 30) % 2 ? 0.3 : 1.0) + noise(&r, 0.05);
    msim_oscillation o = detect(x, N);
    CHECK(o.found);
    CHECK_MSG(fabs(o.period - 60) < 0.05 * 60, "period %.2f, expected 60", o.period);
}

/* A ring that dies down is a recovery, not an oscillation. */
static void decaying_is_not_sustained(test_ctx *t)
{
    double x[N];
    msim_rng r;
    msim_rng_seed(&r, 4);
    for (int i = 0; i < N; i++)
        x[i] = 1 - 0.8 * exp(-i / 60.0) * cos(2 * M_PI * i / 40.0) + noise(&r, 0.02);
    CHECK(!detect(x, N).found);
}

static void noise_is_not_oscillating(test_ctx *t)
{
    double x[N];
    for (uint64_t seed = 10; seed < 30; seed++) {
        msim_rng r;
        msim_rng_seed(&r, seed);
        for (int i = 0; i < N; i++)
            x[i] = 0.5 + noise(&r, 0.3); /* large swings, no period */
        CHECK_MSG(!detect(x, N).found, "seed %llu", (unsigned long long)seed);
    }
}

/* Fewer than two periods observed: not enough to say. */
static void too_short_is_not_oscillating(test_ctx *t)
{
    double x[50];
    for (int i = 0; i < 50; i++)
        x[i] = 0.6 + 0.4 * sin(2 * M_PI * i / 40.0);
    CHECK(!detect(x, 50).found);
    CHECK(!detect(x, 5).found);
}

const test_case oscillation_tests[] = {
    {"oscillation_steady_is_not_oscillating", steady_is_not_oscillating, TIER_QUICK},
    {"oscillation_periodic_is_found_with_its_period", periodic_is_found_with_its_period, TIER_QUICK},
    {"oscillation_square_wave_is_found", square_wave_is_found, TIER_QUICK},
    {"oscillation_decaying_is_not_sustained", decaying_is_not_sustained, TIER_QUICK},
    {"oscillation_noise_is_not_oscillating", noise_is_not_oscillating, TIER_QUICK},
    {"oscillation_too_short_is_not_oscillating", too_short_is_not_oscillating, TIER_QUICK},
    {NULL, NULL, 0},
};
