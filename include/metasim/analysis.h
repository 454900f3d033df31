/* metasim/analysis.h — many runs of a scenario, and what they say together:
 * replica sets (the probability of each verdict, with intervals), sweeps over
 * parameter grids, tipping-point search, comparisons under common random
 * numbers, and diagnosis of the sustaining effect.
 *
 * Runs go to a pool of threads; replica i of a set always has the streams of
 * replica index i under the master seed, and results are combined in replica
 * order, so every output is byte-identical whatever the number of threads.
 *
 * Ownership: functions returning a set result allocate it; free it with
 * msim_set_free. Results borrow the scenario, which must outlive them.
 */
#ifndef METASIM_ANALYSIS_H
#define METASIM_ANALYSIS_H

#include <stddef.h>
#include <stdint.h>

#include "base.h"
#include "result.h"
#include "scenario.h"

/* ---- statistics ----------------------------------------------------------------- */

/* 95% Wilson score interval for k successes in n trials. */
void msim_wilson(size_t k, size_t n, double *lo, double *hi);

/* The q-quantile (0..1) of n values, sorted in place (linear interpolation
 * between order statistics, as R's type 7). NAN when n == 0. */
double msim_quantile(double *v, size_t n, double q);

/* ---- replica sets ------------------------------------------------------------------- */

/* Per-window series kept for every replica, reported as bands (p10, median,
 * p90 across replicas). */
#define MSIM_BAND_MAP(X)                                                                           \
    X(GOODPUT, "goodput", "requests/s")                                                            \
    X(OFFERED, "offered", "requests/s")                                                            \
    X(EXPECTED, "expected", "requests/s")                                                          \
    X(AMPLIFICATION, "amplification", "attempts/request")                                          \
    X(WASTED, "wasted_share", "fraction")                                                          \
    X(QUEUE, "queue", "attempts")                                                                  \
    X(P99, "latency_p99", "s")                                                                     \
    X(HEALTHY, "healthy", "share of replicas")

typedef enum {
#define MSIM_BAND_ENUM(id, name, unit) MSIM_BAND_##id,
    MSIM_BAND_MAP(MSIM_BAND_ENUM)
#undef MSIM_BAND_ENUM
        MSIM_BAND_COUNT
} msim_band_kind;

const char *msim_band_name(msim_band_kind b);
const char *msim_band_unit(msim_band_kind b);

typedef struct msim_band {
    double *p10, *p50, *p90; /* per window; NAN where no replica had a value */
} msim_band;

/* A figure across replicas. */
typedef struct msim_spread {
    double p10, p50, p90;
} msim_spread;

/* Key figures of one phase, as spreads over replicas (same fields as
 * msim_figures). */
#define MSIM_FIGURE_MAP(X)                                                                         \
    X(offered_rps) X(goodput_rps) X(failed_rps) X(attempts_rps) X(timeouts_rps) X(rejected_rps)   \
    X(amplification) X(wasted_share) X(utilisation) X(queue_mean) X(queue_max) X(p50_s) X(p99_s)

typedef struct msim_figure_spreads {
#define MSIM_FIGURE_FIELD(f) msim_spread f;
    MSIM_FIGURE_MAP(MSIM_FIGURE_FIELD)
#undef MSIM_FIGURE_FIELD
} msim_figure_spreads;

#define MSIM_MAX_SET_SIGNALS 16

typedef struct msim_set {
    const msim_scenario *scenario;
    uint64_t seed;
    size_t n;                                   /* replicas */
    size_t count[MSIM_VERDICT_COUNT];           /* replicas per verdict */
    double p[MSIM_VERDICT_COUNT];               /* count / n */
    double lo[MSIM_VERDICT_COUNT], hi[MSIM_VERDICT_COUNT]; /* 95% Wilson */
    msim_spread recovery_s;                     /* over recovered replicas */
    double recovery_max_s;
    msim_spread degraded_level;                 /* over metastable replicas */
    msim_spread period_s, amplitude;            /* over oscillating replicas */
    msim_figure_spreads phase[MSIM_PHASE_COUNT];
    size_t nsignals;                            /* signal names seen, by first appearance */
    const char *signal_name[MSIM_MAX_SET_SIGNALS];
    size_t signal_count[MSIM_MAX_SET_SIGNALS];  /* replicas that showed it */
    uint32_t nwin;
    msim_time window, horizon, warmup_end, first_trigger, last_trigger_end;
    msim_band band[MSIM_BAND_COUNT];            /* NULL arrays when bands were not kept */
    uint64_t events, attempts, requests;        /* totals over replicas */
    double wall_s;                              /* not in any deterministic output */
    unsigned jobs;
    struct msim__set_priv *priv;
} msim_set;

typedef struct msim_set_options {
    size_t replicas;            /* >= 1 */
    unsigned jobs;              /* threads; 0: the number of processors */
    uint64_t seed;              /* master seed when use_seed is set */
    int use_seed;
    int no_bands;               /* skip per-window bands (sweeps, search) */
    const msim_disable *disable; /* mechanisms to switch off in every replica */
    size_t ndisable;
    /* Called from worker threads as replicas finish (may be NULL). */
    void (*progress)(void *ud, size_t done, size_t total);
    void *progress_ud;
} msim_set_options;

/* Run replicas 0..n-1 of a scenario and combine them. */
int msim_run_set(const msim_scenario *sc, const msim_set_options *opt, msim_set **out,
                 msim_error *err);

void msim_set_free(msim_set *s);

/* The number of processors online (at least 1). */
unsigned msim_processors(void);

/* ---- sweeps ---------------------------------------------------------------------------- */

typedef struct msim_sweep_param {
    const char *path;    /* e.g. "clients.web.rate" */
    size_t nvalues;
    const char **values; /* scenario text, e.g. "1500/s" */
} msim_sweep_param;

/* A grid: the cartesian product of the parameters' values, the last
 * parameter varying fastest. */
typedef struct msim_sweep {
    size_t nparams;
    msim_sweep_param *params;
    size_t npoints;
    size_t replicas;
    struct msim__sweep_priv *priv;
} msim_sweep;

/* The grid from the scenario's `sweep:` block and/or --vary arguments
 * ("PATH=v1,v2,..." or "PATH=LO..HI:step=S" or "PATH=LO..HI:n=N"; a --vary of
 * a path in the block replaces it). replicas > 0 overrides the block's. */
int msim_sweep_parse(const msim_scenario *sc, const char *const *vary, size_t nvary, size_t replicas,
                     msim_sweep **out, msim_error *err);
void msim_sweep_free(msim_sweep *sw);

/* The values of point i, one index per parameter. */
void msim_sweep_point(const msim_sweep *sw, size_t i, size_t *idx);

/* Expand "LO..HI:step=S" or "LO..HI:n=N" into values with LO's unit suffix.
 * Returns the count, or -1 with err filled; *values is malloc'd strings. */
int msim_range_expand(const char *range, char ***values, msim_error *err);

typedef struct msim_sweep_options {
    unsigned jobs;
    uint64_t seed;
    int use_seed;
    const char *out_dir; /* where sweep.csv grows; required */
    int resume;          /* keep points already in out_dir/sweep.csv */
    void (*progress)(void *ud, size_t done, size_t total); /* replicas done */
    void *progress_ud;
} msim_sweep_options;

/* One point's outcome. */
typedef struct msim_point_result {
    char *row;           /* its sweep.csv row (no newline) */
    int resumed;         /* taken from an earlier run's sweep.csv */
    size_t replicas;
    double p[MSIM_VERDICT_COUNT], lo[MSIM_VERDICT_COUNT], hi[MSIM_VERDICT_COUNT];
    double recovery_p50_s;
} msim_point_result;

typedef struct msim_sweep_result {
    const msim_sweep *sweep;
    size_t npoints;
    msim_point_result *points;
    size_t resumed; /* points taken from an earlier run */
    double wall_s;
} msim_sweep_result;

/* Run every point x replica on a thread pool. Each finished point is appended
 * to out_dir/sweep.csv at once (written and flushed to disk, so a kill loses
 * at most the points in flight); at the end the file is rewritten in point
 * order, with phase_map.csv when two parameters vary. */
int msim_sweep_run(const msim_scenario *base, const msim_sweep *sw, const msim_sweep_options *opt,
                   msim_sweep_result **out, msim_error *err);
void msim_sweep_result_free(msim_sweep_result *r);

/* ---- tipping-point search ---------------------------------------------------------------- */

#define MSIM_MAX_PROBES 100

typedef struct msim_probe {
    double x;          /* the parameter's number, in the range's unit */
    char value[64];    /* as scenario text, e.g. "9.375s" */
    size_t k, n;       /* replicas with the verdict, replicas */
    double p, lo, hi;  /* k/n and its 95% Wilson interval */
} msim_probe;

typedef struct msim_search_result {
    size_t nprobes;
    msim_probe probes[MSIM_MAX_PROBES]; /* in the order they were run */
    int found;        /* the probability crosses the level inside the range */
    int increasing;   /* the probability grows with the parameter */
    int below, above; /* probe indexes of the final bracket: p < level at one, >= at the
                         other (-1 when nothing was found) */
    double estimate;  /* linear interpolation to the level inside the bracket */
    char unit[16];
    char reason[256];
} msim_search_result;

/* One probe: the number of replicas (of n) at x that end with the verdict. */
typedef int (*msim_probe_fn)(void *ctx, double x, const char *value, size_t *k, size_t *n, msim_error *err);

typedef struct msim_search_options {
    const char *range;  /* "LO..HI" with one unit, e.g. "0s..30s" */
    double level;       /* e.g. 0.5 */
    double tolerance;   /* stop when the bracket is narrower; <= 0: (HI - LO) / 64 */
    int max_probes;     /* including the two ends */
} msim_search_options;

/* Bisection for the level crossing of a monotone probability, with any probe
 * (the scenario search below, or a synthetic one in tests). */
int msim_bisect(const msim_search_options *o, msim_probe_fn probe, void *ctx, msim_search_result *out,
                msim_error *err);

/* The value of `path` at which P(verdict) crosses the level: every probe is a
 * replica set of the scenario with path set to the probe's value. */
int msim_search(const msim_scenario *sc, const char *path, msim_verdict_kind verdict,
                const msim_search_options *o, const msim_set_options *set, msim_search_result *out,
                msim_error *err);

/* ---- comparison and diagnosis ------------------------------------------------------------- */

typedef struct msim_variant {
    const char *name;
    size_t noverrides;
    msim_override overrides[16];
    size_t ndisable;
    msim_disable disable[4];
} msim_variant;

/* Parse "NAME:PATH=VALUE[,PATH=VALUE...]". Strings point into `text`, which is
 * modified and must outlive the variant. */
int msim_variant_parse(char *text, msim_variant *v, msim_error *err);

typedef struct msim_comparison {
    size_t n;
    msim_variant *variants;  /* [0] is the scenario as written */
    msim_set **sets;         /* per variant, without bands */
    msim_scenario **scenarios;
    const char *title;       /* "compare" or "diagnose" */
    int diagnosed;           /* diagnose: variants that turn the failure into a recovery */
    char verdict_text[512];  /* diagnose: what it found, in words */
    char *names;             /* memory behind diagnose's variant names */
} msim_comparison;

/* Run the scenario as written and each variant, with the same replicas and
 * seed: common random numbers, since streams are named by component. */
int msim_compare(const msim_scenario *sc, const msim_variant *variants, size_t n,
                 const msim_set_options *set, msim_comparison **out, msim_error *err);

/* Switch off each mechanism the components declare, one at a time after the
 * last trigger ends (and, if no single one helps, every pair), and report
 * which turns metastable/oscillating into recovered. */
int msim_diagnose(const msim_scenario *sc, const msim_set_options *set, msim_comparison **out,
                  msim_error *err);

void msim_comparison_free(msim_comparison *c);

#endif
