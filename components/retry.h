/* retry.h — retry policy and backoff, as a client configures them.
 *
 * Semantics (../docs/semantics.md has the sources):
 *   max_attempts counts the first attempt (gRPC). A failed attempt whose cause
 *   is in retry_on is retried after a backoff delay while attempts remain and
 *   the request's deadline allows; otherwise the request fails with that cause.
 *   Backoff before retry n (n = 1 for the first retry), with the AWS
 *   "Exponential Backoff and Jitter" definitions, d = min(max, base * multiplier^(n-1)):
 *     none          0
 *     constant      base (jitter applies to it too)
 *     exponential   d
 *   jitter:
 *     none          d
 *     full          uniform(0, d)
 *     equal         d/2 + uniform(0, d/2)
 *     decorrelated  min(max, uniform(base, 3 * previous)), previous starting at base
 *   style: grpc clamps max_attempts to 5 and asks for exponential backoff with
 *   full jitter (gRPC A6). hedging_delay turns the policy into hedging: up to
 *   max_attempts attempts in parallel, one every hedging_delay, retry_on being
 *   the non-fatal causes. What may still refuse a retry (throttling, budget,
 *   quota) is in budget.h; docs/mitigations.md has the exact semantics.
 */
#ifndef METASIM_COMPONENTS_RETRY_H
#define METASIM_COMPONENTS_RETRY_H

#include "budget.h"
#include "metasim.h"

enum { BACKOFF_NONE, BACKOFF_CONSTANT, BACKOFF_EXPONENTIAL };
enum { JITTER_NONE, JITTER_FULL, JITTER_EQUAL, JITTER_DECORRELATED };
enum { STYLE_PLAIN, STYLE_GRPC };

/* gRPC clients clamp maxAttempts (retries and hedging) to this by default. */
#define GRPC_MAX_ATTEMPTS 5
/* Attempts of one hedged request in flight at once, at most. */
#define MAX_HEDGES 8

typedef struct backoff_cfg {
    int kind;
    msim_time base, max;
    double multiplier;
    int jitter;
} backoff_cfg;

typedef struct retry_cfg {
    int64_t max_attempts;
    unsigned retry_on; /* bit per msim_cause */
    backoff_cfg backoff;
    int style;               /* STYLE_*: how the policy is checked and clamped */
    msim_time hedging_delay; /* MSIM_NEVER: retries; else hedging (gRPC hedgingPolicy) */
    grpc_throttle_cfg throttling;
    finagle_budget_cfg budget;
    aws_quota_cfg quota;
} retry_cfg;

/* Does the policy hedge (send attempts in parallel) rather than retry? */
static inline bool retry_hedges(const retry_cfg *r)
{
    return r->hedging_delay != MSIM_NEVER && r->max_attempts > 1;
}

extern const msim_schema retry_schema;
extern const msim_choice backoff_kinds[];
extern const msim_choice jitter_kinds[];
extern const msim_choice retry_causes[];  /* the msim_cause names, for retry_on lists */
extern const msim_schema backoff_schema;  /* backoff_cfg, shared by every retrying caller */

/* Delay before retry number n (1-based). *prev carries the previous delay for
 * decorrelated jitter (start it at 0). */
msim_time backoff_delay(const backoff_cfg *b, uint32_t n, msim_time *prev, msim_rng *rng);

#endif
