/* metasim/result.h — what a finished run leaves behind, and how it is judged.
 *
 * A result is plain data: the per-window metric table (one column per metric of
 * each component), per-phase latency histograms, the conservation ledger, and
 * the analysis — figures per phase, the verdict, the sustaining signals. The
 * report writers and later analyses (replica sets, sweeps) read only this.
 *
 * Ownership: msim_run returns a result the caller frees with msim_result_free.
 * It borrows the scenario, which must outlive it.
 */
#ifndef METASIM_RESULT_H
#define METASIM_RESULT_H

#include <stddef.h>
#include <stdint.h>

#include "base.h"
#include "hist.h"
#include "metrics.h"
#include "scenario.h"

/* The parts of a run, by window: warm-up, before the first trigger, while any
 * trigger is active (first start to last end), after the last trigger. A
 * window straddling a boundary belongs to `during`. */
#define MSIM_PHASE_MAP(X)                                                                          \
    X(WARMUP, "warmup")                                                                            \
    X(BEFORE, "before")                                                                            \
    X(DURING, "during")                                                                            \
    X(AFTER, "after")

typedef enum {
#define MSIM_PHASE_ENUM(id, name) MSIM_PHASE_##id,
    MSIM_PHASE_MAP(MSIM_PHASE_ENUM)
#undef MSIM_PHASE_ENUM
        MSIM_PHASE_COUNT
} msim_phase;

const char *msim_phase_name(msim_phase p);

#define MSIM_VERDICT_MAP(X)                                                                        \
    X(STABLE, "stable", "never degraded")                                                          \
    X(RECOVERED, "recovered", "degraded, then back to baseline after the trigger")                \
    X(METASTABLE, "metastable", "still degraded long after the trigger ended")                    \
    X(OSCILLATING, "oscillating", "keeps swinging between good and bad after the trigger")        \
    X(INCONCLUSIVE, "inconclusive", "the run does not say (too short, or still changing)")        \
    X(UNHEALTHY_BASELINE, "unhealthy-baseline", "already degraded before any trigger")

typedef enum {
#define MSIM_VERDICT_ENUM(id, name, doc) MSIM_VERDICT_##id,
    MSIM_VERDICT_MAP(MSIM_VERDICT_ENUM)
#undef MSIM_VERDICT_ENUM
        MSIM_VERDICT_COUNT
} msim_verdict_kind;

const char *msim_verdict_name(msim_verdict_kind v);

/* One column of the window table. */
typedef struct msim_column {
    uint32_t comp;         /* component index */
    const char *component; /* its name */
    const char *kind;      /* its kind */
    const char *name;      /* metric name, e.g. "timeouts", "queue_max" */
    const char *unit;      /* "requests", "s", "attempts", ... */
    msim_role role;
    msim_agg agg;
} msim_column;

/* Key figures of one phase, summed over components of each role. Rates are
 * per second of the phase; NAN where there is nothing to measure. */
typedef struct msim_figures {
    double seconds;
    double offered_rps, goodput_rps, nominal_rps, failed_rps;
    double attempts_rps, retries_rps, timeouts_rps, rejected_rps;
    double amplification; /* attempts per offered request */
    double wasted_share;  /* wasted work / all work */
    double utilisation;   /* busy workers / workers */
    double queue_mean, queue_max, queue_capacity;
    double p50_s, p90_s, p99_s, max_s; /* latency of successful requests */
} msim_figures;

/* A sustaining signal the analysis saw, e.g. amplification 3.9x. */
typedef struct msim_signal {
    const char *name; /* "amplification", "wasted_work", "queue_full", ... */
    double value;     /* at the end of the run */
    double baseline;  /* before the trigger */
    char text[160];   /* "amplification 3.9x (baseline 1.0x)" */
} msim_signal;

#define MSIM_MAX_SIGNALS 8

typedef struct msim_verdict {
    msim_verdict_kind kind;
    double recovery_s;        /* recovered: seconds from the last trigger end; NAN */
    double degraded_level;    /* metastable: goodput / expected at the end; NAN */
    double period_s;          /* oscillating: dominant period; NAN */
    double amplitude;         /* oscillating: half the swing of goodput / expected; NAN */
    double correlation;       /* oscillating: autocorrelation at the period; NAN */
    double baseline_ratio;    /* goodput / nominal demand before the trigger */
    double baseline_p99_s;
    char reason[256];         /* one sentence */
    size_t nsignals;
    msim_signal signals[MSIM_MAX_SIGNALS];
} msim_verdict;

typedef struct msim_result {
    const msim_scenario *scenario;
    uint64_t seed, replica;
    msim_time horizon, window, warmup_end, first_trigger, last_trigger_end;

    uint32_t nwin, ncols;
    msim_column *cols;
    double *table; /* nwin rows of ncols values */

    /* System-level series per window, derived from roles (counts per window):
     * goodput, offered, the goodput a healthy system would deliver
     * ("expected"), and the health of each window (1 healthy, 0 degraded). */
    double *goodput, *offered, *expected, *p99_s, *health;

    msim_hist latency[MSIM_PHASE_COUNT]; /* successful requests, all sources */
    msim_figures phase[MSIM_PHASE_COUNT];
    msim_verdict verdict;

    /* conservation ledger at the horizon */
    uint64_t events, requests, succeeded, failed, in_flight;
    uint64_t attempts, attempts_alive_peak;
    double wall_s; /* wall-clock seconds (not part of any deterministic output) */

    struct msim__result_priv *priv; /* the memory behind the pointers above */
} msim_result;

/* A mechanism to switch off during a run (diagnose). */
typedef struct msim_disable {
    int32_t component;  /* scenario index */
    uint32_t mechanism; /* index into the kind's mechanisms */
    msim_time at;       /* when; MSIM_NEVER: when the last trigger ends */
} msim_disable;

typedef struct msim_run_options {
    uint64_t seed;            /* master seed; used when use_seed is set */
    int use_seed;             /* else the scenario's seed */
    uint64_t replica;         /* replica index: derives the streams */
    msim_allocator alloc;     /* zero: the default allocator */
    const msim_disable *disable; /* mechanisms to switch off, or NULL */
    size_t ndisable;
} msim_run_options;

/* Run a scenario once and analyse it. */
int msim_run(const msim_scenario *sc, const msim_run_options *opt, msim_result **out,
             msim_error *err);

void msim_result_free(msim_result *r);

/* Column index of component/metric, or -1. */
int msim_result_column(const msim_result *r, const char *component, const char *metric);

/* Value of column c in window w. */
static inline double msim_result_at(const msim_result *r, uint32_t w, int c)
{
    return r->table[(size_t)w * r->ncols + (size_t)c];
}

/* Sum of a column over windows [w0, w1). */
double msim_result_sum(const msim_result *r, int col, uint32_t w0, uint32_t w1);

/* Sum over windows [w0, w1) of every column with this role and aggregation. */
double msim_result_role_sum(const msim_result *r, msim_role role, msim_agg agg, uint32_t w0,
                            uint32_t w1);

/* Window range [*w0, *w1) of a phase (empty when w0 == w1). */
void msim_result_phase_windows(const msim_result *r, msim_phase p, uint32_t *w0, uint32_t *w1);

/* ---- the judgement, usable on synthetic series --------------------------------- */

typedef struct msim_oscillation {
    int found;
    double period;      /* in samples */
    double amplitude;   /* half of the p90-p10 swing */
    double correlation; /* autocorrelation at the period */
} msim_oscillation;

/* Look for a sustained oscillation in x[0..n): a dominant period (the highest
 * autocorrelation peak past the first zero crossing, at least `min_corr`), an
 * amplitude of at least `min_amp` both over the whole series and over its last
 * two periods (a decaying ring is not sustained), and at least two periods
 * observed. */
msim_oscillation msim_detect_oscillation(const double *x, size_t n, double min_amp,
                                         double min_corr);

/* Fill r->health, r->verdict and r->phase from r's table (msim_run does this). */
void msim_analyze(msim_result *r);

#endif
