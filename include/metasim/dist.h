/* metasim/dist.h — probability distributions of durations (service times, think
 * times, network delays).
 *
 * A distribution is parsed from scenario text such as `7ms`,
 * `exponential(mean=10ms)` or `lognormal(median=7ms, sigma=0.6)`; the kinds and
 * their parameters are declared once in a table (msim_dist_kinds) that the
 * parser, `metasim check` and `metasim list` all read.
 *
 * Ownership: an msim_dist is a value. Empirical tables point into memory owned
 * by the scenario that parsed them and live as long as it does.
 */
#ifndef METASIM_DIST_H
#define METASIM_DIST_H

#include <stddef.h>

#include "base.h"
#include "engine.h"

#define MSIM_DIST_KIND_MAP(X)                                                                      \
    X(CONSTANT, "constant", "value", "always the same value: constant(value=5ms), or just 5ms")    \
    X(EXPONENTIAL, "exponential", "mean", "memoryless: exponential(mean=10ms)")                    \
    X(LOGNORMAL, "lognormal", "median, sigma | mean, sigma | mean, p99",                           \
      "heavy right tail: lognormal(median=7ms, sigma=0.6) or lognormal(mean=10ms, p99=80ms)")      \
    X(GAMMA, "gamma", "shape, mean", "gamma(shape=2, mean=10ms); shape 1 is exponential")          \
    X(ERLANG, "erlang", "k, mean", "sum of k exponentials: erlang(k=3, mean=10ms)")                \
    X(UNIFORM, "uniform", "min, max", "uniform(min=1ms, max=9ms)")                                 \
    X(PARETO, "pareto", "scale, shape",                                                            \
      "power-law tail: pareto(scale=5ms, shape=2.5); scale is the minimum, shape > 1")             \
    X(EMPIRICAL, "empirical", "file, unit, column | quantiles",                                   \
      "from data: empirical(file=samples.csv, unit=ms) resamples a CSV column (interpolating "      \
      "between order statistics); empirical(quantiles=\"0:1ms 0.5:7ms 0.99:60ms 1:200ms\") "       \
      "interpolates a quantile table")

typedef enum {
#define MSIM_DIST_ENUM(id, name, params, doc) MSIM_DIST_##id,
    MSIM_DIST_KIND_MAP(MSIM_DIST_ENUM)
#undef MSIM_DIST_ENUM
        MSIM_DIST_KIND_COUNT
} msim_dist_kind;

/* A parsed distribution. `a`, `b` are the sampler's internal parameters (in
 * nanoseconds where they are times); `spec` keeps the parameters as the user
 * wrote them, for printing. */
typedef struct msim_dist {
    msim_dist_kind kind;
    double a, b;              /* sampler parameters, see dist.c */
    double mean_ns;           /* the distribution's mean, for reports and checks */
    const double *table;      /* empirical: sorted values (ns) or quantile values */
    const double *probs;      /* empirical quantile table: cumulative probabilities */
    size_t n;                 /* table length */
    char spec[160];           /* canonical text, e.g. "lognormal(median=7ms, sigma=0.6)" */
} msim_dist;

/* Draw one value in nanoseconds (never negative). */
msim_time msim_dist_sample(const msim_dist *d, msim_rng *rng);

/* The mean in nanoseconds (exact, from the parameters). */
double msim_dist_mean(const msim_dist *d);

/* A constant distribution of the given value. */
msim_dist msim_dist_constant(msim_time value);

/* True when every draw is zero (lets the engine skip scheduling). */
int msim_dist_is_zero(const msim_dist *d);

/* Description of a kind and its parameters, for `metasim list`. */
typedef struct msim_dist_info {
    const char *name;
    const char *doc;
    const char *params; /* "mean", or alternatives: "median, sigma | mean, p99" */
} msim_dist_info;

const msim_dist_info *msim_dist_kinds(size_t *count);

#endif
