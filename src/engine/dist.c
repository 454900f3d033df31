/* dist.c — drawing from distributions.
 *
 * The simple shapes (constant, exponential, uniform, empirical tables) are
 * drawn inline from the stream; the others go to GSL's samplers (the gamma of
 * Marsaglia & Tsang, the ziggurat normal, the Pareto inverse) through a
 * zero-allocation gsl_rng view of our stream. Parsing lives in
 * src/scenario/dist_parse.c.
 */
#include <math.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "metasim/dist.h"

/* ---- our stream as a GSL generator --------------------------------------------- */

static void gsl_set(void *state, unsigned long seed)
{
    msim_rng_seed(state, seed);
}

static unsigned long gsl_get(void *state)
{
    return (unsigned long)(msim_rng_next(state) >> 32);
}

static double gsl_get_double(void *state)
{
    return msim_rng_u01(state);
}

static const gsl_rng_type stream_type = {
    "metasim-xoshiro256++", 0xffffffffUL, 0, sizeof(msim_rng), gsl_set, gsl_get, gsl_get_double,
};

static gsl_rng gsl_view(msim_rng *r)
{
    return (gsl_rng){&stream_type, r};
}

/* ---- sampling ------------------------------------------------------------------ */

static double table_interp(const double *v, size_t n, double pos)
{
    if (n == 1) return v[0];
    size_t i = (size_t)pos;
    if (i >= n - 1) return v[n - 1];
    double frac = pos - (double)i;
    return v[i] + (v[i + 1] - v[i]) * frac;
}

/* Inverse of a piecewise-linear CDF through (probs[i], table[i]). */
static double quantile_interp(const msim_dist *d, double u)
{
    size_t lo = 0, hi = d->n - 1;
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (d->probs[mid] <= u)
            lo = mid;
        else
            hi = mid;
    }
    double span = d->probs[hi] - d->probs[lo];
    double frac = span > 0 ? (u - d->probs[lo]) / span : 0;
    return d->table[lo] + (d->table[hi] - d->table[lo]) * frac;
}

static double draw(const msim_dist *d, msim_rng *rng)
{
    gsl_rng g;
    switch (d->kind) {
    case MSIM_DIST_CONSTANT:
        return d->a;
    case MSIM_DIST_EXPONENTIAL:
        return -d->a * log(msim_rng_u01_open0(rng));
    case MSIM_DIST_LOGNORMAL:
        g = gsl_view(rng);
        return exp(d->a + d->b * gsl_ran_gaussian_ziggurat(&g, 1.0));
    case MSIM_DIST_GAMMA:
    case MSIM_DIST_ERLANG:
        g = gsl_view(rng);
        return gsl_ran_gamma(&g, d->a, d->b);
    case MSIM_DIST_UNIFORM:
        return d->a + (d->b - d->a) * msim_rng_u01(rng);
    case MSIM_DIST_PARETO:
        g = gsl_view(rng);
        return gsl_ran_pareto(&g, d->a, d->b);
    case MSIM_DIST_EMPIRICAL:
        if (d->probs) return quantile_interp(d, msim_rng_u01(rng));
        return table_interp(d->table, d->n, msim_rng_u01(rng) * (double)(d->n - 1));
    case MSIM_DIST_KIND_COUNT:
        break;
    }
    return 0;
}

msim_time msim_dist_sample(const msim_dist *d, msim_rng *rng)
{
    double v = draw(d, rng);
    if (!(v > 0)) return 0;
    if (v > 4e18) return (msim_time)4e18; /* ~127 years: far past any horizon */
    return (msim_time)(v + 0.5);
}

double msim_dist_mean(const msim_dist *d)
{
    return d->mean_ns;
}

msim_dist msim_dist_constant(msim_time value)
{
    msim_dist d = {0};
    d.kind = MSIM_DIST_CONSTANT;
    d.a = d.mean_ns = (double)value;
    return d;
}

int msim_dist_is_zero(const msim_dist *d)
{
    return d->kind == MSIM_DIST_CONSTANT && d->a <= 0;
}
