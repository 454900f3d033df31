/* budget.c — retry budgets, throttles and quotas: their parameters and state
 * machines (see budget.h). Each follows the named source line by line where
 * it matters for the simulation: integer arithmetic where the source uses
 * integers, the same order of checks, the same clamps. docs/mitigations.md
 * says what was left out and why.
 */
#include <math.h>
#include <stddef.h>

#include "budget.h"

/* ---- parameters ------------------------------------------------------------------- */

static const msim_param envoy_budget_params[] = {
    {"enabled", &msim_type_bool, offsetof(envoy_budget_cfg, enabled), "false", MSIM_UNBOUNDED,
     "use the retry budget instead of max_retries (Envoy: retry_budget set)", NULL, NULL},
    {"budget_percent", &msim_type_fraction, offsetof(envoy_budget_cfg, budget_percent), "20%", 0, 1,
     "concurrent retries may be this share of the attempts in flight", NULL, NULL},
    {"min_retry_concurrency", &msim_type_int, offsetof(envoy_budget_cfg, min_retry_concurrency),
     "3", 0, 1e9, "concurrent retries allowed whatever the budget says", NULL, NULL},
};

static const msim_schema envoy_budget_schema =
    MSIM_SCHEMA("retry_budget", "Envoy's retry budget (CircuitBreakers.Thresholds.RetryBudget)",
                envoy_budget_params, envoy_budget_cfg, NULL);

static const msim_choice upstream_protocols[] = {
    {"http2", "one multiplexed connection: attempts never wait for a connection"},
    {"http1", "a connection per attempt in flight, up to max_connections; the rest wait for one "
              "(pending), up to max_pending_requests"},
    {NULL, NULL},
};

static const msim_param envoy_cb_params[] = {
    {"enabled", &msim_type_bool, offsetof(envoy_cb_cfg, enabled), "false", MSIM_UNBOUNDED,
     "apply Envoy's cluster circuit breakers to this client's target", NULL, NULL},
    {"protocol", &msim_type_enum, offsetof(envoy_cb_cfg, protocol), "http2", MSIM_UNBOUNDED,
     "the upstream connection pool's protocol", upstream_protocols, NULL},
    {"max_connections", &msim_type_count, offsetof(envoy_cb_cfg, max_connections), "1024", 1,
     1e12, "http1: connections to the target, each carrying one attempt at a time", NULL, NULL},
    {"max_pending_requests", &msim_type_count, offsetof(envoy_cb_cfg, max_pending_requests),
     "1024", 0, 1e12,
     "http1: attempts waiting for a connection; one more fails the request at once (local 503)",
     NULL, NULL},
    {"max_requests", &msim_type_count, offsetof(envoy_cb_cfg, max_requests), "1024", 1, 1e12,
     "attempts in flight at once; one more fails the request at once (local 503, not retried)",
     NULL, NULL},
    {"max_retries", &msim_type_count, offsetof(envoy_cb_cfg, max_retries), "3", 0, 1e12,
     "retries in progress at once (granted, not yet answered); one more is not attempted", NULL,
     NULL},
    {"retry_budget", &msim_type_struct, offsetof(envoy_cb_cfg, retry_budget), NULL, MSIM_UNBOUNDED,
     "a retry limit that scales with load; overrides max_retries", &envoy_budget_schema, NULL},
};

const msim_schema envoy_cb_schema =
    MSIM_SCHEMA("circuit_breakers", "Envoy cluster circuit breakers (CircuitBreakers.Thresholds)",
                envoy_cb_params, envoy_cb_cfg, NULL);

static const msim_param finagle_params[] = {
    {"enabled", &msim_type_bool, offsetof(finagle_budget_cfg, enabled), "false", MSIM_UNBOUNDED,
     "gate every retry on Finagle's RetryBudget", NULL, NULL},
    {"ttl", &msim_type_duration, offsetof(finagle_budget_cfg, ttl), "10s", 1e9, 60e9,
     "how long a deposit (one per request) counts", NULL, NULL},
    {"min_retries_per_sec", &msim_type_int, offsetof(finagle_budget_cfg, min_retries_per_sec), "10",
     0, 1e6, "retries allowed per second on top of percent_can_retry (the reserve)", NULL, NULL},
    {"percent_can_retry", &msim_type_number, offsetof(finagle_budget_cfg, percent_can_retry), "0.2",
     0, 1000, "retries allowed per request deposited (0.2: one retry per 5 requests)", NULL, NULL},
};

const msim_schema finagle_budget_schema =
    MSIM_SCHEMA("budget", "Finagle's RetryBudget: a leaky token bucket whose deposits expire",
                finagle_params, finagle_budget_cfg, NULL);

static const msim_param throttle_params[] = {
    {"max_tokens", &msim_type_number, offsetof(grpc_throttle_cfg, max_tokens), "0", 0, 1000,
     "token_count starts here and never exceeds it; 0: no throttling", NULL, "maxTokens"},
    {"token_ratio", &msim_type_number, offsetof(grpc_throttle_cfg, token_ratio), "0.1", 0.001, 1000,
     "tokens added by each successful attempt (3 decimals)", NULL, "tokenRatio"},
};

const msim_schema grpc_throttle_schema =
    MSIM_SCHEMA("throttling", "gRPC retryThrottling: retries only while token_count > maxTokens/2",
                throttle_params, grpc_throttle_cfg, NULL);

static const msim_param quota_params[] = {
    {"enabled", &msim_type_bool, offsetof(aws_quota_cfg, enabled), "false", MSIM_UNBOUNDED,
     "gate every retry on the AWS SDK's retry quota (standard and adaptive modes)", NULL, NULL},
    {"capacity", &msim_type_int, offsetof(aws_quota_cfg, capacity), "500", 1, 1e9,
     "quota when full, and at the start (INITIAL_CAPACITY)", NULL, NULL},
    {"retry_cost", &msim_type_int, offsetof(aws_quota_cfg, retry_cost), "5", 0, 65534,
     "taken by a retry after an error or a rejection", NULL, NULL},
    {"timeout_cost", &msim_type_int, offsetof(aws_quota_cfg, timeout_cost), "10", 0, 65534,
     "taken by a retry after a timeout", NULL, NULL},
    {"no_retry_increment", &msim_type_int, offsetof(aws_quota_cfg, no_retry_increment), "1", 0, 1e9,
     "given back by a request that succeeds at its first attempt", NULL, NULL},
};

const msim_schema aws_quota_schema = MSIM_SCHEMA(
    "quota", "the AWS SDK retry quota (botocore standard mode)", quota_params, aws_quota_cfg, NULL);

/* ---- Envoy -------------------------------------------------------------------------- */

/* ResourceManagerImpl::RetryBudgetImpl::max(): the budget is computed from
 * the requests in flight (and pending, which this client never has: it opens
 * a stream per attempt at once) and truncated to an integer, as the C++
 * conversion of the double does. */
int64_t envoy_retry_max(const envoy_limits *e)
{
    const envoy_cb_cfg *c = e->cfg;
    if (!c->retry_budget.enabled)
        return c->max_retries == MSIM_UNLIMITED ? INT64_MAX : c->max_retries;
    int64_t budget = (int64_t)(c->retry_budget.budget_percent * (double)(e->requests + e->pending));
    return budget > c->retry_budget.min_retry_concurrency ? budget
                                                          : c->retry_budget.min_retry_concurrency;
}

/* ---- Finagle: WindowedAdder and the leaky bucket ----------------------------------------- */

static int64_t to_ms(msim_time t)
{
    return t / MSIM_MS;
}

/* WindowedAdder.expired(): the slice being written becomes history, and any
 * slices skipped while nobody looked are cleared. The slice clock restarts at
 * `now`, not at a multiple of the window: Finagle's slices drift, and so do
 * these. */
static void adder_expire(finagle_budget *b, int64_t now)
{
    const int n = FINAGLE_SLICES - 1;
    b->buf[b->i] = b->writer;
    b->writer = 0;
    b->i = (b->i + 1) % n;
    int64_t nskip = (now - b->old_ms) / b->window_ms - 1;
    if (nskip > n) nskip = n;
    if (nskip > 0) {
        int64_t r = nskip < n - b->i ? nskip : n - b->i;
        for (int64_t k = 0; k < r; k++)
            b->buf[b->i + k] = 0;
        for (int64_t k = 0; k < nskip - r; k++)
            b->buf[k] = 0;
        b->i = (int)((b->i + nskip) % n);
    }
    b->old_ms = now;
}

static void adder_tick(finagle_budget *b, msim_time now)
{
    int64_t ms = to_ms(now);
    if (ms - b->old_ms >= b->window_ms) adder_expire(b, ms);
}

static int64_t adder_sum(finagle_budget *b, msim_time now)
{
    adder_tick(b, now);
    int64_t sum = b->writer;
    for (int k = 0; k < FINAGLE_SLICES - 1; k++)
        sum += b->buf[k];
    return sum;
}

static void adder_add(finagle_budget *b, msim_time now, int64_t x)
{
    adder_tick(b, now);
    b->writer += x;
}

/* RetryBudget.apply(ttl, minRetriesPerSec, percentCanRetry): deposits of
 * 1000 units, withdrawals of 1000 / percentCanRetry (truncated), a reserve of
 * minRetriesPerSec x ttl (whole seconds) withdrawals. With percentCanRetry = 0
 * deposits are worth nothing and a retry costs 1: only the reserve remains. */
void finagle_budget_init(finagle_budget *b, const finagle_budget_cfg *cfg, msim_time now)
{
    *b = (finagle_budget){0};
    const double scale = 1000.0;
    b->empty = cfg->min_retries_per_sec == 0 && cfg->percent_can_retry == 0;
    b->deposit_amount = cfg->percent_can_retry == 0 ? 0 : (int64_t)scale;
    b->withdrawal_amount =
        cfg->percent_can_retry == 0 ? 1 : (int64_t)(scale / cfg->percent_can_retry);
    if (b->withdrawal_amount < 1) b->withdrawal_amount = 1;
    b->reserve = cfg->min_retries_per_sec * (cfg->ttl / MSIM_SEC) * b->withdrawal_amount;
    b->window_ms = to_ms(cfg->ttl) / FINAGLE_SLICES;
    b->old_ms = to_ms(now);
}

void finagle_deposit(finagle_budget *b, msim_time now)
{
    if (!b->empty) adder_add(b, now, b->deposit_amount);
}

/* TokenBucket.newLeakyBucket(...).tryGet: the count is the windowed sum plus
 * the reserve; a withdrawal is a negative deposit, so it too expires after
 * ttl and gives its tokens back. */
bool finagle_try_withdraw(finagle_budget *b, msim_time now)
{
    if (b->empty) return false;
    if (adder_sum(b, now) + b->reserve < b->withdrawal_amount) return false;
    adder_add(b, now, -b->withdrawal_amount);
    return true;
}

int64_t finagle_balance(finagle_budget *b, msim_time now)
{
    if (b->empty) return 0;
    return (adder_sum(b, now) + b->reserve) / b->withdrawal_amount;
}

/* ---- gRPC retryThrottling (ServerRetryThrottleData) -------------------------------------- */

void grpc_throttle_init(grpc_throttle *t, const grpc_throttle_cfg *cfg)
{
    t->max_milli = llround(cfg->max_tokens * 1000);
    t->ratio_milli = llround(cfg->token_ratio * 1000);
    t->milli = t->max_milli;
}

bool grpc_throttle_failure(grpc_throttle *t)
{
    t->milli = t->milli > 1000 ? t->milli - 1000 : 0;
    return t->milli > t->max_milli / 2;
}

void grpc_throttle_success(grpc_throttle *t)
{
    t->milli = t->milli + t->ratio_milli < t->max_milli ? t->milli + t->ratio_milli : t->max_milli;
}

/* ---- AWS retry quota (botocore RetryQuota) ------------------------------------------------ */

void aws_quota_init(aws_quota *q, const aws_quota_cfg *cfg)
{
    q->max = q->available = cfg->capacity;
}

bool aws_quota_acquire(aws_quota *q, int64_t amount)
{
    if (amount > q->available) return false;
    q->available -= amount;
    return true;
}

void aws_quota_release(aws_quota *q, int64_t amount)
{
    int64_t room = q->max - q->available;
    q->available += amount < room ? amount : room;
}
