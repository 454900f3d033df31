/* hist.c — log-linear histogram queries (recording is inline in hist.h). */
#include <string.h>

#include "metasim/hist.h"

void msim_hist_clear(msim_hist *h)
{
    memset(h, 0, sizeof *h);
}

void msim_hist_merge(msim_hist *into, const msim_hist *from)
{
    if (!from->count) return;
    for (size_t i = 0; i < MSIM_HIST_BUCKETS; i++)
        into->bucket[i] += from->bucket[i];
    into->count += from->count;
    if (from->max > into->max) into->max = from->max;
}

uint64_t msim_hist_bucket_low(uint32_t b)
{
    if (b < 2 * MSIM_HIST_SUB) return b;
    uint32_t e = b / MSIM_HIST_SUB + MSIM_HIST_SUB_BITS - 1;
    uint64_t mant = b % MSIM_HIST_SUB;
    return (MSIM_HIST_SUB + mant) << (e - MSIM_HIST_SUB_BITS);
}

uint64_t msim_hist_bucket_width(uint32_t b)
{
    if (b < 2 * MSIM_HIST_SUB) return 1;
    uint32_t e = b / MSIM_HIST_SUB + MSIM_HIST_SUB_BITS - 1;
    return (uint64_t)1 << (e - MSIM_HIST_SUB_BITS);
}

double msim_hist_quantile(const msim_hist *h, double q)
{
    if (!h->count) return -1;
    if (q >= 1) return (double)h->max;
    if (q < 0) q = 0;
    /* the smallest value with at least ceil(q * n) values at or below it */
    uint64_t rank = (uint64_t)(q * (double)h->count);
    if ((double)rank < q * (double)h->count) rank++;
    if (rank == 0) rank = 1;
    uint64_t seen = 0;
    for (uint32_t b = 0; b < MSIM_HIST_BUCKETS; b++) {
        seen += h->bucket[b];
        if (seen >= rank) {
            double mid = (double)msim_hist_bucket_low(b) + (double)(msim_hist_bucket_width(b) - 1) / 2;
            return mid < (double)h->max ? mid : (double)h->max;
        }
    }
    return (double)h->max;
}
