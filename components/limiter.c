/* limiter.c — the AWS adaptive mode's client-side rate limiter (see
 * limiter.h): botocore's ClientRateLimiter, CubicCalculator, TokenBucket and
 * RateClocker, in the order botocore runs them. Time is in seconds as a
 * double, as botocore keeps it; simulated time makes it deterministic.
 */
#include <math.h>
#include <stddef.h>

#include "limiter.h"

static const msim_param limiter_params[] = {
    {"enabled", &msim_type_bool, offsetof(aws_limiter_cfg, enabled), "false", MSIM_UNBOUNDED,
     "rate-limit every attempt after the first throttling response (AWS retry_mode adaptive)", NULL,
     NULL},
    {"min_rate", &msim_type_rate, offsetof(aws_limiter_cfg, min_rate), "0.5/s", 0.001, 1e9,
     "the bucket never fills slower than this", NULL, NULL},
    {"beta", &msim_type_number, offsetof(aws_limiter_cfg, beta), "0.7", 0.01, 0.99,
     "CUBIC: the rate is cut to beta x the measured rate at a throttle", NULL, NULL},
    {"scale_constant", &msim_type_number, offsetof(aws_limiter_cfg, scale_constant), "0.4", 0.001,
     1000, "CUBIC: C in rate = C (t - t_throttle - K)^3 + w_max", NULL, NULL},
    {"smoothing", &msim_type_number, offsetof(aws_limiter_cfg, smoothing), "0.8", 0.01, 1,
     "weight of the newest bucket in the measured send rate (EWMA)", NULL, NULL},
    {"time_bucket", &msim_type_duration, offsetof(aws_limiter_cfg, time_bucket), "500ms", 1e6, 60e9,
     "the measured rate is updated once per bucket of this length", NULL, NULL},
    {"max_rate_scale", &msim_type_number, offsetof(aws_limiter_cfg, max_rate_scale), "2", 1, 1000,
     "the bucket's rate never exceeds this x the measured rate", NULL, NULL},
};

const msim_schema aws_limiter_schema =
    MSIM_SCHEMA("rate_limiter", "the AWS SDK adaptive mode's client-side rate limiter (CUBIC)",
                limiter_params, aws_limiter_cfg, NULL);

/* ---- CubicCalculator ---------------------------------------------------------------- */

static double cubic_k(const aws_limiter *l)
{
    return cbrt(l->w_max * (1 - l->cfg->beta) / l->cfg->scale_constant);
}

static double cubic_success(const aws_limiter *l, double now)
{
    double dt = now - l->last_fail - l->k;
    return l->cfg->scale_constant * dt * dt * dt + l->w_max;
}

static double cubic_error(aws_limiter *l, double rate, double now)
{
    l->w_max = rate;
    l->k = cubic_k(l);
    l->last_fail = now;
    return rate * l->cfg->beta;
}

/* ---- TokenBucket -------------------------------------------------------------------- */

static void bucket_refill(aws_limiter *l, double now)
{
    if (!l->refilled_once) { /* the first refill only sets the clock */
        l->refilled_once = true;
        l->last_refill = now;
        return;
    }
    l->capacity = fmin(l->max_capacity, l->capacity + (now - l->last_refill) * l->fill_rate);
    l->last_refill = now;
}

static void bucket_set_rate(aws_limiter *l, double rate, double now)
{
    bucket_refill(l, now);
    l->fill_rate = fmax(rate, l->cfg->min_rate);
    l->max_capacity = rate >= 1 ? rate : 1;
    l->capacity = fmin(l->capacity, l->max_capacity);
}

/* ---- RateClocker ---------------------------------------------------------------------- */

static double clocker_record(aws_limiter *l, double now)
{
    double scale = 1 / msim_time_to_s(l->cfg->time_bucket);
    double bucket = floor(now * scale) / scale;
    l->count += 1;
    if (bucket > l->last_bucket) {
        double current = l->count / (bucket - l->last_bucket);
        l->measured = current * l->cfg->smoothing + l->measured * (1 - l->cfg->smoothing);
        l->count = 0;
        l->last_bucket = bucket;
    }
    return l->measured;
}

/* ---- ClientRateLimiter -------------------------------------------------------------------- */

void aws_limiter_init(aws_limiter *l, const aws_limiter_cfg *cfg, double now_s)
{
    *l = (aws_limiter){.cfg = cfg, .last_fail = now_s, .last_bucket = floor(now_s)};
    l->k = cubic_k(l);                  /* CubicCalculator(starting_max_rate=0): k = 0 */
    l->fill_rate = l->max_capacity = 1; /* TokenBucket(max_rate=1) */
}

void aws_limiter_response(aws_limiter *l, bool throttled, double now_s)
{
    double measured = clocker_record(l, now_s);
    double rate;
    if (!throttled) {
        rate = cubic_success(l, now_s);
    } else {
        rate = cubic_error(l, l->enabled ? fmin(measured, l->fill_rate) : measured, now_s);
        l->enabled = true;
    }
    bucket_set_rate(l, fmin(rate, l->cfg->max_rate_scale * measured), now_s);
}

bool aws_limiter_take(aws_limiter *l, double now_s)
{
    bucket_refill(l, now_s);
    if (l->capacity < 1) return false;
    l->capacity -= 1;
    return true;
}

double aws_limiter_wait(aws_limiter *l, double now_s)
{
    bucket_refill(l, now_s);
    return l->capacity >= 1 ? 0 : (1 - l->capacity) / l->fill_rate;
}
