/* limiter.h — the AWS SDK adaptive retry mode's client-side rate limiter
 * (botocore retries/adaptive.py, bucket.py, throttling.py).
 *
 * Every attempt (first or retry) must take a token from a bucket before it is
 * sent, once the limiter is enabled — which happens at the first throttling
 * response (here: a rejection). The bucket fills at a rate set after every
 * response: CUBIC over the time since the last throttle (w_max, k), cut to
 * beta x the measured send rate at a throttle, and never more than
 * max_rate_scale x the measured rate (an EWMA over half-second buckets). A
 * send that finds no token waits (botocore blocks the calling thread); here
 * waiting sends form a FIFO. The state machine takes the time in seconds and
 * touches nothing else; the client keeps the queue.
 */
#ifndef METASIM_COMPONENTS_LIMITER_H
#define METASIM_COMPONENTS_LIMITER_H

#include <stdbool.h>

#include "metasim.h"

typedef struct aws_limiter_cfg {
    bool enabled;
    double min_rate;       /* TokenBucket._MIN_RATE, per second */
    double beta;           /* CubicCalculator._BETA */
    double scale_constant; /* CubicCalculator._SCALE_CONSTANT */
    double smoothing;      /* RateClocker._DEFAULT_SMOOTHING */
    msim_time time_bucket; /* RateClocker._TIME_BUCKET_RANGE */
    double max_rate_scale; /* ClientRateLimiter._MAX_RATE_ADJUST_SCALE */
} aws_limiter_cfg;

extern const msim_schema aws_limiter_schema;

typedef struct aws_limiter {
    const aws_limiter_cfg *cfg;
    bool enabled; /* a throttling response has been seen */
    /* CubicCalculator */
    double w_max, k, last_fail;
    /* TokenBucket */
    double fill_rate, max_capacity, capacity, last_refill;
    bool refilled_once;
    /* RateClocker */
    double measured, last_bucket, count;
} aws_limiter;

void aws_limiter_init(aws_limiter *l, const aws_limiter_cfg *cfg, double now_s);

/* A response (any outcome) arrived at now_s; `throttled` if it was a
 * throttling error. Updates the measured rate, CUBIC and the bucket's rate. */
void aws_limiter_response(aws_limiter *l, bool throttled, double now_s);

/* Take a token for a send if one is there (only meaningful once enabled). */
bool aws_limiter_take(aws_limiter *l, double now_s);

/* Seconds from now_s until a token will be there at the current fill rate. */
double aws_limiter_wait(aws_limiter *l, double now_s);

#endif
