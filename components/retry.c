/* retry.c — the retry policy's parameters and the backoff formulas. */
#include <math.h>
#include <stddef.h>

#include "retry.h"

const msim_choice backoff_kinds[] = {
    {"none", "retry at once"},
    {"constant", "wait `base` before every retry"},
    {"exponential", "wait base x multiplier^(n-1), capped at `max`"},
    {NULL, NULL},
};

const msim_choice jitter_kinds[] = {
    {"none", "the delay as computed"},
    {"full", "uniform between 0 and the delay (AWS \"full jitter\", gRPC, Envoy)"},
    {"equal", "half the delay plus uniform up to the other half (AWS \"equal jitter\")"},
    {"decorrelated", "min(max, uniform(base, 3 x previous delay)) (AWS \"decorrelated jitter\")"},
    {NULL, NULL},
};

const msim_choice retry_causes[] = {
#define CAUSE_CHOICE(id, name, doc) {name, doc},
    MSIM_CAUSE_MAP(CAUSE_CHOICE)
#undef CAUSE_CHOICE
    {NULL, NULL},
};

static const msim_param backoff_params[] = {
    {"kind", &msim_type_enum, offsetof(backoff_cfg, kind), "none", MSIM_UNBOUNDED,
     "backoff shape", backoff_kinds, NULL},
    {"base", &msim_type_duration, offsetof(backoff_cfg, base), "50ms", 0, 1e300,
     "first backoff delay", NULL, NULL},
    {"max", &msim_type_duration, offsetof(backoff_cfg, max), "5s", 0, 1e300,
     "cap on any backoff delay", NULL, NULL},
    {"multiplier", &msim_type_number, offsetof(backoff_cfg, multiplier), "2", 1, 1000,
     "growth per retry (exponential)", NULL, NULL},
    {"jitter", &msim_type_enum, offsetof(backoff_cfg, jitter), "none", MSIM_UNBOUNDED,
     "randomisation of the delay", jitter_kinds, NULL},
};

const msim_schema backoff_schema = MSIM_SCHEMA(
    "backoff", "delay before each retry", backoff_params, backoff_cfg, NULL);

static const msim_choice styles[] = {
    {"plain", "as written"},
    {"grpc", "gRPC A6: max_attempts clamped to 5; backoff must be exponential with full jitter "
             "(initialBackoff = base, maxBackoff = max, backoffMultiplier = multiplier)"},
    {NULL, NULL},
};

static const msim_param retry_params[] = {
    {"max_attempts", &msim_type_int, offsetof(retry_cfg, max_attempts), "1", 1, 1000,
     "attempts per request, the first included (gRPC maxAttempts); 1 disables retries", NULL,
     NULL},
    {"retry_on", &msim_type_flags, offsetof(retry_cfg, retry_on), "[timeout, error, rejected]",
     MSIM_UNBOUNDED, "failure causes that are retried", retry_causes, NULL},
    {"backoff", &msim_type_struct, offsetof(retry_cfg, backoff), NULL, MSIM_UNBOUNDED,
     "delay before each retry", &backoff_schema, NULL},
    {"style", &msim_type_enum, offsetof(retry_cfg, style), "plain", MSIM_UNBOUNDED,
     "whose rules the policy follows", styles, NULL},
    {"hedging_delay", &msim_type_timeout, offsetof(retry_cfg, hedging_delay), "none", 0, 1e300,
     "hedge instead of retrying (gRPC hedgingDelay): a new attempt every this long while none "
     "succeeded, at once after a failure in retry_on; the first success cancels the rest",
     NULL, "hedgingDelay"},
    {"throttling", &msim_type_struct, offsetof(retry_cfg, throttling), NULL, MSIM_UNBOUNDED,
     "gRPC retryThrottling", &grpc_throttle_schema, NULL},
    {"budget", &msim_type_struct, offsetof(retry_cfg, budget), NULL, MSIM_UNBOUNDED,
     "Finagle RetryBudget", &finagle_budget_schema, NULL},
    {"quota", &msim_type_struct, offsetof(retry_cfg, quota), NULL, MSIM_UNBOUNDED,
     "AWS SDK retry quota (standard mode)", &aws_quota_schema, NULL},
};

/* gRPC's rules (A6): clients clamp maxAttempts to 5 without complaint, as
 * gRPC does; the backoff must have gRPC's shape, which is not silently
 * assumed. */
static int check_grpc(msim_bind *b, const msim_node *n, retry_cfg *r)
{
    if (r->max_attempts > GRPC_MAX_ATTEMPTS) r->max_attempts = GRPC_MAX_ATTEMPTS;
    if (retry_hedges(r) || r->max_attempts < 2) return 0;
    if (r->backoff.kind != BACKOFF_EXPONENTIAL || r->backoff.jitter != JITTER_FULL)
        return msim_bind_fail(b, msim_node_get(n, "backoff"), -MSIM_EINVAL,
                              "style grpc retries with backoff {kind: exponential, jitter: full} "
                              "(base: initialBackoff, max: maxBackoff, multiplier: "
                              "backoffMultiplier)");
    return 0;
}

/* Hedging sends attempts in parallel, which the Finagle and AWS budgets do not
 * account for (their libraries do not hedge); gRPC's throttle does. */
static int check_hedging(msim_bind *b, const msim_node *n, const retry_cfg *r)
{
    if (r->max_attempts > MAX_HEDGES)
        return msim_bind_fail(b, msim_node_get(n, "max_attempts"), -MSIM_EINVAL,
                              "hedging sends at most %d attempts per request", MAX_HEDGES);
    if (r->budget.enabled || r->quota.enabled)
        return msim_bind_fail(b, msim_node_get(n, r->budget.enabled ? "budget" : "quota"),
                              -MSIM_EINVAL,
                              "hedging works with the gRPC throttle only, not with a retry %s",
                              r->budget.enabled ? "budget" : "quota");
    return 0;
}

static int check_retry(msim_bind *b, const msim_node *n, void *cfg)
{
    retry_cfg *r = cfg;
    if (r->retry_on & (1u << MSIM_CAUSE_DEADLINE))
        return msim_bind_fail(b, msim_node_get(n, "retry_on"), -MSIM_EINVAL,
                              "a request whose deadline has passed cannot be retried; remove "
                              "\"deadline\" from retry_on");
    if (r->retry_on & (1u << MSIM_CAUSE_LOCAL))
        return msim_bind_fail(b, msim_node_get(n, "retry_on"), -MSIM_EINVAL,
                              "a request failed fast at the client is not retried (Envoy never "
                              "retries an overflow); remove \"local\" from retry_on");
    if (r->backoff.max < r->backoff.base && r->backoff.kind != BACKOFF_NONE)
        return msim_bind_fail(b, msim_node_get(n, "backoff"), -MSIM_EINVAL,
                              "backoff.max is below backoff.base");
    if (r->style == STYLE_GRPC) {
        int rc = check_grpc(b, n, r);
        if (rc) return rc;
    }
    if (r->hedging_delay != MSIM_NEVER && r->max_attempts < 2)
        return msim_bind_fail(b, msim_node_get(n, "hedging_delay"), -MSIM_EINVAL,
                              "hedging needs max_attempts >= 2 (the first attempt and its hedges)");
    if (retry_hedges(r)) return check_hedging(b, n, r);
    return 0;
}

const msim_schema retry_schema = MSIM_SCHEMA("retry", "what a client does when an attempt fails",
                                             retry_params, retry_cfg, check_retry);

static double uniform(msim_rng *rng, double lo, double hi)
{
    return lo + (hi - lo) * msim_rng_u01(rng);
}

msim_time backoff_delay(const backoff_cfg *b, uint32_t n, msim_time *prev, msim_rng *rng)
{
    if (b->kind == BACKOFF_NONE) return 0;
    double base = (double)b->base, cap = (double)b->max;
    double d = base;
    if (b->kind == BACKOFF_EXPONENTIAL) d = fmin(cap, base * pow(b->multiplier, (double)n - 1));
    switch (b->jitter) {
    case JITTER_FULL:
        d = uniform(rng, 0, d);
        break;
    case JITTER_EQUAL:
        d = d / 2 + uniform(rng, 0, d / 2);
        break;
    case JITTER_DECORRELATED: {
        double last = *prev > 0 ? (double)*prev : base;
        d = fmin(cap, uniform(rng, base, 3 * last));
        break;
    }
    default:
        break;
    }
    *prev = (msim_time)d;
    return (msim_time)d;
}
