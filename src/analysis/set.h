/* set.h — replica summaries, their combination, and the thread pool; shared
 * by the files of src/analysis that run many replicas (not API). */
#ifndef METASIM_SET_H
#define METASIM_SET_H

#include "metasim.h"
#include "metasim/analysis.h"

/* What one replica leaves behind for the set: small, so sweeps of thousands of
 * runs stay in memory. Signal names point at static strings. */
typedef struct msim__summary {
    msim_verdict_kind verdict;
    double recovery_s, degraded_level, period_s, amplitude;
    msim_figures phase[MSIM_PHASE_COUNT];
    size_t nsignals;
    const char *signals[MSIM_MAX_SIGNALS];
    float *bands;    /* nwin x MSIM_BAND_COUNT per-second values, or NULL */
    uint32_t nwin;
    msim_time window, horizon, warmup_end, first_trigger, last_trigger_end;
    uint64_t events, attempts, requests;
    double wall_s;
} msim__summary;

/* Reduce a finished run to its summary (bands only if keep_bands). */
int msim__summarize(const msim_result *r, int keep_bands, msim__summary *s);
void msim__summary_free(msim__summary *s);

/* Combine n >= 1 summaries (in replica order) into a set. NULL if out of
 * memory. */
msim_set *msim__combine(const msim_scenario *sc, uint64_t seed, msim__summary *s, size_t n);

/* Run jobs 0..n-1 on a pool of threads. Each job returns 0 or a negative
 * code with err filled; after a failure no new job starts, and the error of
 * the lowest failing index is reported, so failures are deterministic too. */
typedef int (*msim__job_fn)(void *ctx, size_t i, msim_error *err);
int msim__batch(size_t n, unsigned threads, msim__job_fn job, void *ctx, msim_error *err);

#endif
