/* metasim/hist.h — log-linear latency histograms.
 *
 * Values (nanoseconds) below 64 get a bucket each; above, every power of two
 * is split into 32 equal buckets, so a bucket is at most 1/32 of its lower edge
 * wide and a quantile read from its midpoint is within 1.6 % of the true value.
 * Recording is a count-leading-zeros and an increment. Histograms merge by
 * adding counts, which is how per-window, per-phase and per-replica views are
 * built from one recording.
 */
#ifndef METASIM_HIST_H
#define METASIM_HIST_H

#include <stdint.h>

#include "base.h"

#define MSIM_HIST_SUB_BITS 5
#define MSIM_HIST_SUB      (1 << MSIM_HIST_SUB_BITS)
/* 2*SUB unit buckets below 2^(SUB_BITS+1), then SUB per octave: every uint64_t has a bucket */
#define MSIM_HIST_BUCKETS ((65 - MSIM_HIST_SUB_BITS) * MSIM_HIST_SUB)

typedef struct msim_hist {
    uint64_t count;
    uint64_t max; /* largest value recorded, exact */
    uint32_t bucket[MSIM_HIST_BUCKETS];
} msim_hist;

/* Bucket index of a value (ns, >= 0). */
static inline uint32_t msim_hist_bucket(uint64_t v)
{
    if (v < (uint64_t)(2 * MSIM_HIST_SUB)) return (uint32_t)v;
    int e = 63 - __builtin_clzll(v); /* floor(log2 v) >= SUB_BITS + 1 */
    uint32_t mant = (uint32_t)(v >> (e - MSIM_HIST_SUB_BITS)) - MSIM_HIST_SUB;
    return (uint32_t)(e - MSIM_HIST_SUB_BITS + 1) * MSIM_HIST_SUB + mant;
}

static inline void msim_hist_record(msim_hist *h, uint64_t v)
{
    h->bucket[msim_hist_bucket(v)]++;
    h->count++;
    if (v > h->max) h->max = v;
}

void msim_hist_clear(msim_hist *h);
void msim_hist_merge(msim_hist *into, const msim_hist *from);

/* The q-quantile (0..1) in nanoseconds, or -1 when empty. The maximum is
 * exact; other quantiles are bucket midpoints. */
double msim_hist_quantile(const msim_hist *h, double q);

/* Lower edge and width of a bucket (for tests and reports). */
uint64_t msim_hist_bucket_low(uint32_t b);
uint64_t msim_hist_bucket_width(uint32_t b);

#endif
