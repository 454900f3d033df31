/* budget.h — what may refuse a retry the retry policy allows: the retry budgets,
 * throttles and quotas of real client libraries, each with its real parameter
 * names and defaults, and each a small state machine the client drives.
 *
 *   Envoy   circuit_breakers: max_requests, max_retries, retry_budget
 *           {budget_percent, min_retry_concurrency} (CircuitBreakers.Thresholds)
 *   Finagle retry.budget: ttl, min_retries_per_sec, percent_can_retry (RetryBudget)
 *   gRPC    retry.throttling: max_tokens, token_ratio (retryThrottling, A6)
 *   AWS     retry.quota: capacity, retry_cost, timeout_cost, no_retry_increment
 *           (botocore standard mode, RetryQuotaChecker)
 *
 * The state machines take the time as an argument and touch nothing else, so
 * the unit tests drive them directly (tests/unit/mitigations.c). Exact
 * semantics and sources: docs/mitigations.md.
 */
#ifndef METASIM_COMPONENTS_BUDGET_H
#define METASIM_COMPONENTS_BUDGET_H

#include <stdbool.h>

#include "metasim.h"

/* ---- Envoy cluster circuit breakers ------------------------------------------ */

typedef struct envoy_budget_cfg {
    bool enabled;
    double budget_percent; /* fraction, 0.2 for Envoy's 20 % */
    int64_t min_retry_concurrency;
} envoy_budget_cfg;

enum { UPSTREAM_HTTP2, UPSTREAM_HTTP1 };

typedef struct envoy_cb_cfg {
    bool enabled;
    int protocol;                 /* UPSTREAM_*: http1 pools a connection per request */
    int64_t max_connections;      /* http1: connections, each carrying one attempt */
    int64_t max_pending_requests; /* http1: attempts waiting for a connection */
    int64_t max_requests;         /* concurrent attempts in flight to the target */
    int64_t max_retries;          /* concurrent retries (unless retry_budget is enabled) */
    envoy_budget_cfg retry_budget;
} envoy_cb_cfg;

extern const msim_schema envoy_cb_schema;

/* The resources a client's attempts hold: attempts in flight ("requests", each
 * on a connection), attempts waiting for a connection ("pending", http1 only)
 * and requests whose current attempt is a retry, from the moment the retry is
 * granted until its outcome is known ("retries"). */
typedef struct envoy_limits {
    const envoy_cb_cfg *cfg;
    int64_t requests, pending, retries;
} envoy_limits;

/* The current limit on concurrent retries: max_retries, or with a retry budget
 * max(budget_percent x active requests, min_retry_concurrency). */
int64_t envoy_retry_max(const envoy_limits *e);

/* May one more retry start? (Envoy: retries().canCreate()) */
static inline bool envoy_retry_allowed(const envoy_limits *e)
{
    return e->retries < envoy_retry_max(e);
}

/* May one more attempt be sent? (Envoy: requests().canCreate()) */
static inline bool envoy_request_allowed(const envoy_limits *e)
{
    return e->cfg->max_requests == MSIM_UNLIMITED || e->requests < e->cfg->max_requests;
}

/* What becomes of an attempt the request limit allows: sent on a free
 * connection, queued for one (http1, all connections busy), or overflowing
 * (the pending queue is full too). */
enum { ENVOY_SEND, ENVOY_PEND, ENVOY_OVERFLOW };

static inline int envoy_connection_for(const envoy_limits *e)
{
    const envoy_cb_cfg *c = e->cfg;
    if (c->protocol != UPSTREAM_HTTP1 ||
        (c->max_connections == MSIM_UNLIMITED || e->requests < c->max_connections))
        return e->pending ? ENVOY_PEND : ENVOY_SEND; /* no overtaking the queue */
    if (c->max_pending_requests == MSIM_UNLIMITED || e->pending < c->max_pending_requests)
        return ENVOY_PEND;
    return ENVOY_OVERFLOW;
}

/* ---- Finagle RetryBudget ---------------------------------------------------- */

typedef struct finagle_budget_cfg {
    bool enabled;
    msim_time ttl;
    int64_t min_retries_per_sec;
    double percent_can_retry;
} finagle_budget_cfg;

extern const msim_schema finagle_budget_schema;

#define FINAGLE_SLICES 10 /* WindowedAdder(ttl, 10 slices): 9 kept + the one written */

/* TokenRetryBudget over a leaky token bucket: a WindowedAdder whose slices
 * (ttl / 10 each) expire, plus a fixed reserve. Times in milliseconds, as
 * Finagle counts them. */
typedef struct finagle_budget {
    int64_t deposit_amount, withdrawal_amount, reserve;
    int64_t window_ms, old_ms;
    int64_t writer;
    int64_t buf[FINAGLE_SLICES - 1];
    int i;
    bool empty; /* min_retries_per_sec = percent_can_retry = 0: RetryBudget.Empty */
} finagle_budget;

void finagle_budget_init(finagle_budget *b, const finagle_budget_cfg *cfg, msim_time now);
void finagle_deposit(finagle_budget *b, msim_time now);      /* one per request */
bool finagle_try_withdraw(finagle_budget *b, msim_time now); /* one per retry */
int64_t finagle_balance(finagle_budget *b, msim_time now);   /* retries allowed now */

/* ---- gRPC retryThrottling ---------------------------------------------------- */

typedef struct grpc_throttle_cfg {
    double max_tokens; /* 0: no throttling */
    double token_ratio;
} grpc_throttle_cfg;

extern const msim_schema grpc_throttle_schema;

/* token_count in thousandths, as gRPC core keeps it (milli_tokens). */
typedef struct grpc_throttle {
    int64_t milli, max_milli, ratio_milli;
} grpc_throttle;

void grpc_throttle_init(grpc_throttle *t, const grpc_throttle_cfg *cfg);
/* A failed attempt whose status is retryable (non-fatal): one token less.
 * Returns whether a retry is still allowed (token_count > maxTokens / 2). */
bool grpc_throttle_failure(grpc_throttle *t);
/* A successful attempt: tokenRatio more, up to maxTokens. */
void grpc_throttle_success(grpc_throttle *t);
/* May a hedge be sent now? */
static inline bool grpc_throttle_open(const grpc_throttle *t)
{
    return t->milli > t->max_milli / 2;
}

/* ---- AWS SDK retry quota (standard mode) -------------------------------------- */

typedef struct aws_quota_cfg {
    bool enabled;
    int64_t capacity, retry_cost, timeout_cost, no_retry_increment;
} aws_quota_cfg;

extern const msim_schema aws_quota_schema;

typedef struct aws_quota {
    int64_t max, available;
} aws_quota;

void aws_quota_init(aws_quota *q, const aws_quota_cfg *cfg);
/* Take `amount` for a retry; false (and nothing taken) if it is not there. */
bool aws_quota_acquire(aws_quota *q, int64_t amount);
/* Give back up to `amount`, never above the capacity. */
void aws_quota_release(aws_quota *q, int64_t amount);

#endif
