/* client.c — the `client` kind: a source of requests with a timeout and a
 * retry policy.
 *
 * Open loop: requests arrive independently of how the system responds —
 * Poisson, or at a constant interval — at a rate that may follow a schedule of
 * steps and linear ramps; load triggers scale it. This is the load an outage
 * cannot push back on, and the precondition of a metastable failure.
 * Closed loop: N users each issue a request, wait for it to end, think, and
 * repeat; a load trigger scales the number of users.
 *
 * A time-varying Poisson rate is drawn by thinning: candidates come at the
 * segment's peak rate and are kept with probability rate(t)/peak; at a
 * breakpoint or a trigger edge the draw restarts, which is exact because the
 * exponential is memoryless.
 *
 * Mitigations (docs/mitigations.md): a concurrency limit, Envoy's circuit
 * breakers, a classic breaker, and on retries the gRPC throttle, Finagle's
 * budget and the AWS quota (budget.h), or hedging in place of retries, and
 * the AWS adaptive rate limiter on every attempt (limiter.h). With
 * none configured the client takes none of their paths: `mitig` is false.
 */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "breaker.h"
#include "limiter.h"
#include "retry.h"

enum { ARRIVAL_POISSON, ARRIVAL_CONSTANT, ARRIVAL_CLOSED, ARRIVAL_CALLS };

/* The mitigations' entry points stay out of line, so that a client without
 * them runs the same short paths as before they existed. */
#if defined(__GNUC__)
#define COLD __attribute__((noinline))
#else
#define COLD
#endif

typedef struct step_cfg {
    msim_time at;
    double rate;
    msim_time ramp;
} step_cfg;

typedef struct client_cfg {
    msim_ref target;
    int arrival;
    double rate;
    msim_list schedule;
    int64_t users;
    msim_dist think;
    msim_time timeout;
    msim_time deadline;
    retry_cfg retry;
    int64_t concurrency_limit;
    envoy_cb_cfg circuit_breakers;
    breaker_cfg breaker;
    aws_limiter_cfg rate_limiter;
    int priority; /* MSIM_PRIORITY_*, carried in each attempt's cls */
} client_cfg;

/* ---- parameters --------------------------------------------------------------- */

static const msim_choice arrivals[] = {
    {"poisson", "open loop: exponential gaps at `rate`"},
    {"constant", "open loop: one request every 1/`rate`"},
    {"closed", "closed loop: `users` each send a request, wait for it, think, repeat"},
    {"calls", "no load of its own: it makes the requests of a service's `calls` (a dependency "
              "edge, with this client's timeouts and retries)"},
    {NULL, NULL},
};

static const msim_param step_params[] = {
    {"at", &msim_type_duration, offsetof(step_cfg, at), NULL, 0, 1e300,
     "when the rate starts to change", NULL, NULL},
    {"rate", &msim_type_rate, offsetof(step_cfg, rate), NULL, 0, 1e300, "the new rate", NULL, NULL},
    {"ramp", &msim_type_duration, offsetof(step_cfg, ramp), "0s", 0, 1e300,
     "reach it linearly over this long (0: a step)", NULL, NULL},
};

/* In the order of MSIM_PRIORITY_* (request.h). */
static const msim_choice priorities[] = {
    {"default", "ordinary traffic"},
    {"critical", "shed last: only once no lower class is left to shed"},
    {"sheddable", "shed first (batch, prefetch, retries you can live without)"},
    {NULL, NULL},
};

static const msim_schema step_schema =
    MSIM_SCHEMA("schedule point", "a change of rate", step_params, step_cfg, NULL);

static const msim_param client_params[] = {
    {"target", &msim_type_ref, offsetof(client_cfg, target), NULL, MSIM_UNBOUNDED,
     "the component requests go to", (const void *)(uintptr_t)MSIM_KIND_TARGET, NULL},
    {"arrival", &msim_type_enum, offsetof(client_cfg, arrival), "poisson", MSIM_UNBOUNDED,
     "how requests arrive", arrivals, NULL},
    {"rate", &msim_type_rate, offsetof(client_cfg, rate), "0/s", 0, 1e12,
     "open loop: requests per second (before the schedule's first point)", NULL, NULL},
    {"schedule", &msim_type_list, offsetof(client_cfg, schedule), "[]", MSIM_UNBOUNDED,
     "open loop: rate changes over time, e.g. [{at: 2m, rate: 1500/s, ramp: 30s}]", &step_schema,
     NULL},
    {"users", &msim_type_int, offsetof(client_cfg, users), "0", 0, 10000000,
     "closed loop: number of users", NULL, NULL},
    {"think", &msim_type_dist, offsetof(client_cfg, think), "0", MSIM_UNBOUNDED,
     "closed loop: pause between a user's requests", NULL, NULL},
    {"timeout", &msim_type_timeout, offsetof(client_cfg, timeout), "none", 1, 1e300,
     "per-attempt timeout (none: wait forever)", NULL, NULL},
    {"deadline", &msim_type_timeout, offsetof(client_cfg, deadline), "none", 1, 1e300,
     "overall deadline of a request across all its attempts and backoffs", NULL, NULL},
    {"retry", &msim_type_struct, offsetof(client_cfg, retry), NULL, MSIM_UNBOUNDED,
     "what to do when an attempt fails", &retry_schema, NULL},
    {"concurrency_limit", &msim_type_count, offsetof(client_cfg, concurrency_limit), "unlimited", 1,
     1e12, "requests in flight at once; one more fails at once (cause local)", NULL, NULL},
    {"circuit_breakers", &msim_type_struct, offsetof(client_cfg, circuit_breakers), NULL,
     MSIM_UNBOUNDED, "Envoy's cluster circuit breakers on the target", &envoy_cb_schema, NULL},
    {"breaker", &msim_type_struct, offsetof(client_cfg, breaker), NULL, MSIM_UNBOUNDED,
     "a classic circuit breaker around the client's attempts", &breaker_schema, NULL},
    {"rate_limiter", &msim_type_struct, offsetof(client_cfg, rate_limiter), NULL, MSIM_UNBOUNDED,
     "the AWS SDK adaptive mode's client-side rate limiter", &aws_limiter_schema, NULL},
    {"priority", &msim_type_enum, offsetof(client_cfg, priority), "default", MSIM_UNBOUNDED,
     "the class its attempts carry; services with shed_by_priority shed lower classes first",
     priorities, NULL},
};

static int check_client(msim_bind *b, const msim_node *n, void *p)
{
    client_cfg *c = p;
    if (c->arrival == ARRIVAL_CLOSED && c->users < 1)
        return msim_bind_fail(b, n, -MSIM_EMISSING, "a closed-loop client needs users: (>= 1)");
    if ((c->arrival == ARRIVAL_POISSON || c->arrival == ARRIVAL_CONSTANT) && c->rate <= 0 &&
        c->schedule.n == 0)
        return msim_bind_fail(b, n, -MSIM_EMISSING,
                              "an open-loop client needs rate: (e.g. 100/s) or a schedule:");
    const step_cfg *s = c->schedule.items;
    for (size_t i = 1; i < c->schedule.n; i++)
        if (s[i].at < s[i - 1].at + s[i - 1].ramp)
            return msim_bind_fail(b, msim_node_get(n, "schedule"), -MSIM_EINVAL,
                                  "schedule point %zu starts before point %zu has finished its ramp",
                                  i, i - 1);
    if (retry_hedges(&c->retry) && c->circuit_breakers.enabled)
        return msim_bind_fail(b, msim_node_get(n, "circuit_breakers"), -MSIM_EINVAL,
                              "Envoy's retry accounting does not cover gRPC hedging; use one or "
                              "the other");
    if (retry_hedges(&c->retry) && c->rate_limiter.enabled)
        return msim_bind_fail(b, msim_node_get(n, "rate_limiter"), -MSIM_EINVAL,
                              "the AWS rate limiter does not cover gRPC hedging; use one or the "
                              "other");
    return 0;
}

static const msim_schema client_schema =
    MSIM_SCHEMA("client", "a source of requests", client_params, client_cfg, check_client);

/* ---- state ----------------------------------------------------------------------- */

typedef struct knot {
    msim_time t;
    double rate;
} knot;

/* The attempts of one hedged request in flight. Records live in chunks and
 * are found by index (msim_request.aux), so a request stays 48 bytes. */
typedef struct hedge {
    msim_attempt *live[MAX_HEDGES];
    uint8_t nlive, sent;
    bool stopped;  /* no more hedges: throttled, refused, or retries switched off */
    uint16_t gen;  /* breaker generation of its latest attempt */
    uint32_t next; /* free list: index + 1 of the next free record, 0 at the end */
} hedge;

/* A request made for another component: whom to tell when it ends. Found by
 * index (msim_request.user), free ones chained through `next`. */
typedef struct call_rec {
    msim_call_done done;
    void *ctx;
    uint64_t tag;
    uint32_t next;
} call_rec;

/* A send waiting its turn: for a token of the AWS rate limiter, or for one of
 * Envoy's http1 connections. */
typedef struct waiting_send {
    msim_request *r;
    uint32_t n;    /* attempt number */
    uint32_t prev; /* msim_cause of the previous attempt's failure */
} waiting_send;

/* A FIFO ring of waiting sends that grows by doubling. */
typedef struct send_ring {
    waiting_send *q;
    uint32_t head, len, cap;
} send_ring;

#define HEDGE_SHIFT 10
#define HEDGE_CHUNK (1u << HEDGE_SHIFT)

typedef struct client {
    msim_component base;
    const client_cfg *cfg;
    msim_component *target;
    msim_rng arrivals, backoff, think;
    knot *knots; /* the schedule as a piecewise-linear rate; the last knot holds */
    size_t nknots;
    double load_factor, load_add;
    msim_timer next;          /* next arrival (or re-evaluation) */
    msim_lane arrivals_lane;  /* arrivals come in time order ... */
    msim_lane timeouts;       /* ... and so do timeouts of a fixed length */
    double peak;              /* thinning: the rate candidates are drawn at */
    msim_time seg_end;        /* end of the schedule segment cached below; 0: none cached */
    double seg_rate;          /* that segment's rate if flat (load included), else -1 */
    msim_time last_arrival;   /* constant arrivals */
    bool retries_off;         /* diagnose switched retries off */
    uint8_t cls;              /* its attempts' cls: the priority class */
    call_rec *calls;          /* arrival: calls — the requests' callers */
    uint32_t ncalls, calls_cap, calls_free;
    uint8_t *user_alive;      /* closed loop */
    int64_t users_target, users_cap;

    msim_metric m_offered, m_nominal, m_attempts, m_retries, m_success, m_failed;
    msim_metric m_failed_cause[MSIM_CAUSE_COUNT];
    msim_metric m_timeouts, m_errors, m_rejections;
    msim_latency lat;
    msim_gauge g_inflight;

    /* mitigations: `mitig` says whether any is on, so the common case pays one
     * branch per event and nothing else */
    bool mitig, hedging;
    bool envoy_on, finagle_on, throttle_on, quota_on, breaker_on, limiter_on;
    int64_t requests_out; /* requests in flight, for concurrency_limit */
    envoy_limits envoy;
    finagle_budget finagle;
    grpc_throttle throttle;
    aws_quota quota;
    breaker brk;
    aws_limiter lim;
    send_ring waiting;     /* sends waiting for a token of the rate limiter */
    msim_timer wait_timer;
    bool pumping, token_taken;
    send_ring pending;     /* sends waiting for an Envoy http1 connection */
    msim_timer pending_timer;
    bool connection_taken; /* the pending pump gave this send its connection */
    hedge **hedges;       /* chunks of HEDGE_CHUNK records */
    uint32_t nhedge_chunks, hedge_free;
    msim_metric m_limit_rejected, m_cb_overflow, m_cb_retry_overflow, m_budget_exhausted;
    msim_metric m_throttled, m_quota_exhausted, m_breaker_rejected, m_breaker_denied;
    msim_metric m_breaker_opened, m_hedges_cancelled, m_rate_delayed;
    msim_gauge g_cb_retries, g_budget, g_tokens, g_quota, g_breaker_open, g_breaker_state;
    msim_gauge g_rate_limit, g_rate_waiting, g_cb_pending;
} client;

/* ---- the rate schedule ------------------------------------------------------------- */

static int build_knots(msim_sim *sim, client *c)
{
    const client_cfg *cfg = c->cfg;
    const step_cfg *s = cfg->schedule.items;
    c->knots = msim_arena_alloc(sim, (2 * cfg->schedule.n + 1) * sizeof *c->knots);
    if (!c->knots) return -MSIM_ENOMEM;
    double rate = cfg->rate;
    c->knots[c->nknots++] = (knot){0, rate};
    for (size_t i = 0; i < cfg->schedule.n; i++) {
        c->knots[c->nknots++] = (knot){s[i].at, rate};
        rate = s[i].rate;
        c->knots[c->nknots++] = (knot){s[i].at + s[i].ramp, rate};
    }
    return 0;
}

/* Index of the segment [knots[i], knots[i+1]) holding t; the last knot's
 * segment runs forever. */
static size_t segment(const client *c, msim_time t)
{
    size_t i = 0;
    while (i + 1 < c->nknots && c->knots[i + 1].t <= t)
        i++;
    return i;
}

/* The rate of segment i at time t (t may be the segment's end: at a step the
 * segment keeps its own value up to the step, the next one starts after). */
static double segment_rate(const client *c, size_t i, msim_time t)
{
    if (i + 1 >= c->nknots) return c->knots[i].rate;
    const knot *a = &c->knots[i], *b = &c->knots[i + 1];
    double f = (double)(t - a->t) / (double)(b->t - a->t);
    return a->rate + (b->rate - a->rate) * f;
}

static double base_rate(const client *c, msim_time t)
{
    return segment_rate(c, segment(c, t), t);
}

static double rate_at(const client *c, msim_time t)
{
    double r = base_rate(c, t) * c->load_factor + c->load_add;
    return r > 0 ? r : 0;
}

static msim_time segment_end(const client *c, msim_time t)
{
    size_t i = segment(c, t);
    return i + 1 < c->nknots ? c->knots[i + 1].t : MSIM_NEVER;
}

/* Integral of the scheduled rate over [t0, t1): the requests the schedule
 * asks for, before any trigger. */
static double nominal(const client *c, msim_time t0, msim_time t1)
{
    double total = 0;
    for (msim_time t = t0; t < t1;) {
        size_t i = segment(c, t);
        msim_time end = i + 1 < c->nknots ? c->knots[i + 1].t : MSIM_NEVER;
        if (end > t1) end = t1;
        total += (segment_rate(c, i, t) + segment_rate(c, i, end)) / 2 * msim_time_to_s(end - t);
        t = end;
    }
    return total;
}

/* ---- requests and attempts ------------------------------------------------------------- */

static void on_timeout(msim_sim *sim, void *obj, uint64_t arg);
static void user_next(msim_sim *sim, client *c, uint32_t user);
static void fail_request(msim_sim *sim, client *c, msim_request *r, msim_cause cause);

/* ---- mitigations -------------------------------------------------------------------------
 * The client asks them at four points: a new request (admit), an attempt about
 * to go (pre_send), an attempt's outcome (on_outcome), and a retry the policy
 * allows (grant_retry). Per request they keep, in msim_request.aux, the
 * breaker generation of its latest attempt (low 16 bits) and the AWS quota its
 * last retry took, plus one (high 16 bits; 0: never retried); a hedged request
 * keeps its hedge record index there instead. */

static uint16_t req_gen(const msim_request *r)
{
    return (uint16_t)(r->aux & 0xffffu);
}

/* What the request's last retry took from the AWS quota; -1: never retried. */
static int64_t req_held(const msim_request *r)
{
    return (int64_t)(r->aux >> 16) - 1;
}

static void fast_fail(msim_sim *sim, client *c, msim_request *r, msim_metric m)
{
    msim_count(sim, m, 1);
    fail_request(sim, c, r, MSIM_CAUSE_LOCAL);
}

static void breaker_timer(msim_sim *sim, void *obj, uint64_t gen);

static void breaker_gauges(msim_sim *sim, client *c)
{
    msim_gauge_set(sim, c->g_breaker_open, c->brk.state == BREAKER_OPEN);
    msim_gauge_set(sim, c->g_breaker_state, c->brk.state);
}

/* The breaker changed state: show it, and time the trial when it opened. */
static void breaker_changed(msim_sim *sim, client *c, int state)
{
    breaker_gauges(sim, c);
    if (state != BREAKER_OPEN) return;
    msim_count(sim, c->m_breaker_opened, 1);
    msim_after(sim, c->cfg->breaker.open_duration, breaker_timer, c, c->brk.gen);
}

static void breaker_timer(msim_sim *sim, void *obj, uint64_t gen)
{
    client *c = obj;
    breaker_half_open(&c->brk, (uint16_t)gen);
    breaker_gauges(sim, c);
}

/* A request whose attempt n > 1 was granted stops holding Envoy's retry
 * resource when that attempt's outcome is known, or when it is not sent. */
static void release_retry(msim_sim *sim, client *c, uint32_t n)
{
    if (!c->envoy_on || n < 2) return;
    c->envoy.retries--;
    msim_gauge_add(sim, c->g_cb_retries, -1);
}

/* A new request, before anything is sent: the concurrency limit, then the
 * Finagle deposit (one per request). False: it failed fast. */
static bool admit(msim_sim *sim, client *c, msim_request *r)
{
    int64_t limit = c->cfg->concurrency_limit;
    if (++c->requests_out > limit && limit != MSIM_UNLIMITED) {
        fast_fail(sim, c, r, c->m_limit_rejected);
        return false;
    }
    if (c->finagle_on) {
        finagle_deposit(&c->finagle, msim_now(sim));
        msim_gauge_set(sim, c->g_budget, (double)finagle_balance(&c->finagle, msim_now(sim)));
    }
    return true;
}

static bool ring_push(msim_sim *sim, send_ring *g, waiting_send w);
static waiting_send ring_pop(send_ring *g);

/* Envoy's limits on sending attempt n of r now. Over max_requests it
 * overflows into a local failure (never retried). With an http1 pool and
 * every connection busy it waits for one — unless the pending queue is full
 * too, which overflows the same way (Envoy counts both as
 * upstream_rq_pending_overflow). False: not sent now. */
static bool envoy_admit(msim_sim *sim, client *c, msim_request *r, uint32_t n, msim_cause prev)
{
    if (c->connection_taken) { /* the pending pump freed this send's connection */
        c->connection_taken = false;
        return true;
    }
    int next = envoy_request_allowed(&c->envoy) ? envoy_connection_for(&c->envoy) : ENVOY_OVERFLOW;
    if (next == ENVOY_SEND) return true;
    if (next == ENVOY_PEND && ring_push(sim, &c->pending, (waiting_send){r, n, prev})) {
        c->envoy.pending++;
        msim_gauge_set(sim, c->g_cb_pending, (double)c->envoy.pending);
        return false;
    }
    release_retry(sim, c, n);
    fast_fail(sim, c, r, c->m_cb_overflow);
    return false;
}

static void send_attempt(msim_sim *sim, client *c, msim_request *r, uint32_t n, msim_cause prev);

/* Connections freed: the oldest pending sends go, in order. The per-try
 * timeout starts when a send gets its connection (Envoy arms it in
 * onPoolReady); a request whose deadline passed while it waited fails when
 * it reaches the head. */
static void pending_pump(msim_sim *sim, void *obj, uint64_t arg)
{
    (void)arg;
    client *c = obj;
    c->pending_timer = MSIM_NO_TIMER;
    while (c->pending.len && c->envoy.requests < c->cfg->circuit_breakers.max_connections &&
           envoy_request_allowed(&c->envoy)) {
        waiting_send w = ring_pop(&c->pending);
        c->envoy.pending--;
        msim_gauge_set(sim, c->g_cb_pending, (double)c->envoy.pending);
        if (msim_now(sim) >= w.r->deadline) {
            release_retry(sim, c, w.n);
            fail_request(sim, c, w.r, MSIM_CAUSE_DEADLINE);
            continue;
        }
        c->connection_taken = true;
        send_attempt(sim, c, w.r, w.n, (msim_cause)w.prev);
        c->connection_taken = false; /* unused if the rate limiter held the send back */
    }
}

/* Attempt n of r is about to go: Envoy's limits first; then an open breaker
 * fails a first attempt fast and refuses a retry, which returns the previous
 * failure `prev`. */
static bool pre_send(msim_sim *sim, client *c, msim_request *r, uint32_t n, msim_cause prev)
{
    if (c->envoy_on && !envoy_admit(sim, c, r, n, prev)) return false;
    if (c->breaker_on) {
        if (!breaker_allow(&c->brk, n > 1)) {
            if (n == 1) {
                fast_fail(sim, c, r, c->m_breaker_rejected);
            } else {
                release_retry(sim, c, n);
                msim_count(sim, c->m_breaker_denied, 1);
                fail_request(sim, c, r, prev);
            }
            return false;
        }
        r->aux = (r->aux & 0xffff0000u) | c->brk.gen;
    }
    if (c->envoy_on) c->envoy.requests++;
    return true;
}

static void limiter_response(msim_sim *sim, client *c, bool throttled);

/* The outcome of attempt n (sent in breaker generation gen) is known;
 * `throttled`: it was refused by a full queue or a down service. */
static void on_outcome(msim_sim *sim, client *c, uint32_t n, bool ok, bool throttled, uint16_t gen)
{
    if (c->envoy_on) {
        c->envoy.requests--;
        release_retry(sim, c, n);
        if (c->envoy.pending && !msim_timer_pending(sim, c->pending_timer)) /* a connection is free */
            c->pending_timer = msim_at(sim, msim_now(sim), pending_pump, c, 0);
    }
    if (c->breaker_on) {
        int state = breaker_record(&c->brk, gen, ok, msim_now(sim));
        if (state >= 0) breaker_changed(sim, c, state);
    }
    if (ok && c->throttle_on) {
        grpc_throttle_success(&c->throttle);
        msim_gauge_set(sim, c->g_tokens, (double)c->throttle.milli / 1000);
    }
    if (c->limiter_on) limiter_response(sim, c, throttled);
}

/* A failed attempt whose cause is retryable costs a gRPC token, before any
 * other check (gRPC core records it even when no attempt is left). Returns
 * whether the throttle still allows a retry. */
static bool throttle_failure(msim_sim *sim, client *c, msim_cause cause)
{
    if (!c->throttle_on || cause == MSIM_CAUSE_DEADLINE ||
        !(c->cfg->retry.retry_on & (1u << cause)))
        return true;
    bool ok = grpc_throttle_failure(&c->throttle);
    msim_gauge_set(sim, c->g_tokens, (double)c->throttle.milli / 1000);
    return ok;
}

/* The retry policy allows a retry after attempt n failed with `cause`: Envoy's
 * retry limit, the gRPC throttle, Finagle's budget and the AWS quota may
 * still refuse it, in that order (a later refusal does not refund an earlier
 * withdrawal). */
static bool grant_retry(msim_sim *sim, client *c, msim_request *r, msim_cause cause,
                        bool throttle_ok)
{
    msim_time now = msim_now(sim);
    if (c->envoy_on && !envoy_retry_allowed(&c->envoy)) {
        msim_count(sim, c->m_cb_retry_overflow, 1);
        return false;
    }
    if (!throttle_ok) {
        msim_count(sim, c->m_throttled, 1);
        return false;
    }
    if (c->finagle_on) {
        bool ok = finagle_try_withdraw(&c->finagle, now);
        msim_gauge_set(sim, c->g_budget, (double)finagle_balance(&c->finagle, now));
        if (!ok) {
            msim_count(sim, c->m_budget_exhausted, 1);
            return false;
        }
    }
    if (c->quota_on) {
        const aws_quota_cfg *q = &c->cfg->retry.quota;
        int64_t cost = cause == MSIM_CAUSE_TIMEOUT ? q->timeout_cost : q->retry_cost;
        if (!aws_quota_acquire(&c->quota, cost)) {
            msim_count(sim, c->m_quota_exhausted, 1);
            return false;
        }
        r->aux = (r->aux & 0xffffu) | ((uint32_t)(cost + 1) << 16);
        msim_gauge_set(sim, c->g_quota, (double)c->quota.available);
    }
    if (c->envoy_on) {
        c->envoy.retries++;
        msim_gauge_add(sim, c->g_cb_retries, 1);
    }
    return true;
}

/* A request succeeded: the AWS quota gets back what its last retry took, or
 * no_retry_increment if it was never retried. */
static void on_success(msim_sim *sim, client *c, msim_request *r)
{
    if (!c->quota_on) return;
    int64_t held = req_held(r);
    aws_quota_release(&c->quota, held >= 0 ? held : c->cfg->retry.quota.no_retry_increment);
    msim_gauge_set(sim, c->g_quota, (double)c->quota.available);
}

static COLD bool may_send(msim_sim *sim, client *c, msim_request *r, uint32_t n, msim_cause prev);

/* Send attempt number n of request r; `prev` is why attempt n - 1 failed. */
static void send_attempt(msim_sim *sim, client *c, msim_request *r, uint32_t n, msim_cause prev)
{
    if (c->mitig && !may_send(sim, c, r, n, prev)) return;
    msim_attempt *a = msim_attempt_new(sim, r, &c->base, c->target);
    if (!a) return;
    a->number = (uint16_t)n;
    a->cls = c->cls;
    if (n > 1) msim_count(sim, c->m_retries, 1);
    msim_count(sim, c->m_attempts, 1);
    msim_time now = msim_now(sim), t = c->cfg->timeout;
    msim_time expires = t == MSIM_NEVER ? MSIM_NEVER : now + t;
    if (r->deadline < expires) expires = r->deadline;
    a->expires = expires;
    /* An attempt answered at once (rejected, say) needs no timer; if it is
     * still out, arm its timeout. */
    if (msim_send(sim, a) && expires != MSIM_NEVER)
        a->timeout = msim_lane_at(sim, c->timeouts, expires, on_timeout, a, 0);
}

/* ---- the AWS adaptive rate limiter's queue ----------------------------------------------
 * botocore blocks the sending thread until the bucket has a token; here the
 * sends that find none wait in a FIFO, and the head is retried when a token
 * will be there (or when a response changes the rate). A request whose
 * deadline passes while it waits fails with cause deadline. */

static void limiter_pump(msim_sim *sim, void *obj, uint64_t arg);

static void limiter_schedule(msim_sim *sim, client *c)
{
    msim_cancel(sim, &c->wait_timer);
    if (!c->waiting.len) return;
    double wait = aws_limiter_wait(&c->lim, msim_time_to_s(msim_now(sim)));
    msim_time d = msim_time_from_s(wait) + 1; /* +1 ns: past the float's rounding */
    c->wait_timer = msim_after(sim, d, limiter_pump, c, 0);
}

static bool ring_push(msim_sim *sim, send_ring *g, waiting_send w)
{
    if (g->len == g->cap) {
        uint32_t cap = g->cap ? 2 * g->cap : 256;
        waiting_send *q = msim_arena_alloc(sim, cap * sizeof *q);
        if (!q) {
            msim_fail(sim, -MSIM_ENOMEM, "out of memory for waiting sends");
            return false;
        }
        for (uint32_t k = 0; k < g->len; k++)
            q[k] = g->q[(g->head + k) % g->cap];
        g->q = q;
        g->cap = cap;
        g->head = 0;
    }
    g->q[(g->head + g->len++) % g->cap] = w;
    return true;
}

static waiting_send ring_pop(send_ring *g)
{
    waiting_send w = g->q[g->head];
    g->head = (g->head + 1) % g->cap;
    g->len--;
    return w;
}

static bool limiter_enqueue(msim_sim *sim, client *c, msim_request *r, uint32_t n, msim_cause prev)
{
    if (!ring_push(sim, &c->waiting, (waiting_send){r, n, prev})) return false;
    msim_count(sim, c->m_rate_delayed, 1);
    msim_gauge_set(sim, c->g_rate_waiting, c->waiting.len);
    return true;
}

/* May attempt n of r go now? If not it waits its turn. */
static bool limiter_admit(msim_sim *sim, client *c, msim_request *r, uint32_t n, msim_cause prev)
{
    if (c->token_taken) { /* the pump took this send's token */
        c->token_taken = false;
        return true;
    }
    if (!c->lim.enabled) return true;
    if (!c->waiting.len && aws_limiter_take(&c->lim, msim_time_to_s(msim_now(sim)))) return true;
    if (limiter_enqueue(sim, c, r, n, prev) && c->waiting.len == 1) limiter_schedule(sim, c);
    return false;
}

/* Send what the bucket allows, in order. */
static void limiter_pump(msim_sim *sim, void *obj, uint64_t arg)
{
    (void)arg;
    client *c = obj;
    c->wait_timer = MSIM_NO_TIMER;
    c->pumping = true;
    while (c->waiting.len) {
        waiting_send w = c->waiting.q[c->waiting.head];
        bool late = msim_now(sim) >= w.r->deadline;
        if (!late && !aws_limiter_take(&c->lim, msim_time_to_s(msim_now(sim)))) break;
        ring_pop(&c->waiting);
        msim_gauge_set(sim, c->g_rate_waiting, c->waiting.len);
        if (late) {
            release_retry(sim, c, w.n);
            fail_request(sim, c, w.r, MSIM_CAUSE_DEADLINE);
        } else {
            c->token_taken = true;
            send_attempt(sim, c, w.r, w.n, (msim_cause)w.prev);
        }
    }
    c->pumping = false;
    limiter_schedule(sim, c);
}

/* A response reached the limiter: it re-rates the bucket, which moves the
 * time the head of the queue may go. */
static void limiter_response(msim_sim *sim, client *c, bool throttled)
{
    aws_limiter_response(&c->lim, throttled, msim_time_to_s(msim_now(sim)));
    msim_gauge_set(sim, c->g_rate_limit, c->lim.enabled ? c->lim.fill_rate : 0);
    if (c->waiting.len && !c->pumping) limiter_schedule(sim, c);
}

/* The mitigations that may hold back or refuse a send: the rate limiter,
 * then Envoy's max_requests and the breaker. */
static COLD bool may_send(msim_sim *sim, client *c, msim_request *r, uint32_t n, msim_cause prev)
{
    if (c->limiter_on && !limiter_admit(sim, c, r, n, prev)) return false;
    return pre_send(sim, c, r, n, prev);
}

static void call_finished(msim_sim *sim, client *c, uint32_t i, int ok);

static void end_request(msim_sim *sim, client *c, msim_request *r, int ok)
{
    uint32_t user = r->user;
    if (c->mitig) c->requests_out--;
    msim_gauge_add(sim, c->g_inflight, -1);
    msim_request_finish(sim, r, ok);
    if (c->cfg->arrival == ARRIVAL_CLOSED)
        user_next(sim, c, user);
    else if (c->cfg->arrival == ARRIVAL_CALLS)
        call_finished(sim, c, user, ok);
}

static void fail_request(msim_sim *sim, client *c, msim_request *r, msim_cause cause)
{
    msim_count(sim, c->m_failed, 1);
    msim_count(sim, c->m_failed_cause[cause], 1);
    end_request(sim, c, r, 0);
}

static void succeed(msim_sim *sim, client *c, msim_request *r)
{
    msim_count(sim, c->m_success, 1);
    msim_latency_record(sim, c->lat, msim_now(sim) - r->start);
    end_request(sim, c, r, 1);
}

/* A retry's backoff is over. arg: the attempt number, and in the high half
 * the cause of the failure it retries. */
static void retry_fire(msim_sim *sim, void *obj, uint64_t arg)
{
    msim_request *r = obj;
    client *c = (client *)r->origin;
    uint32_t n = (uint32_t)arg;
    msim_cause prev = (msim_cause)(arg >> 32);
    r->timer = MSIM_NO_TIMER;
    if (c->retries_off) { /* switched off while this retry waited */
        release_retry(sim, c, n);
        fail_request(sim, c, r, prev);
    } else {
        send_attempt(sim, c, r, n, prev);
    }
}

/* Does the retry policy retry attempt n's failure (before any mitigation)? */
static bool policy_retries(const client *c, uint32_t n, msim_cause cause)
{
    const retry_cfg *p = &c->cfg->retry;
    return cause != MSIM_CAUSE_DEADLINE && (p->retry_on & (1u << cause)) &&
           n < (uint32_t)p->max_attempts && !c->retries_off;
}

/* The backoff before retry n. Without backoff there is no call to make: this
 * keeps the common immediate-retry path as short as it was. */
static msim_time retry_delay(client *c, msim_request *r, uint32_t n)
{
    const backoff_cfg *b = &c->cfg->retry.backoff;
    return b->kind == BACKOFF_NONE ? 0 : backoff_delay(b, n, &r->last_backoff, &c->backoff);
}

static bool past_deadline(msim_sim *sim, const client *c, const msim_request *r, msim_time delay)
{
    return r->deadline != MSIM_NEVER && msim_now(sim) + delay >= r->deadline;
}

/* Retry attempt n (which failed with `cause`) after `delay`. */
static void retry_after(msim_sim *sim, client *c, msim_request *r, uint32_t n, msim_cause cause,
                        msim_time delay)
{
    if (delay == 0)
        send_attempt(sim, c, r, n + 1, cause);
    else
        r->timer = msim_after(sim, delay, retry_fire, r, (uint64_t)(n + 1) | (uint64_t)cause << 32);
}

/* The same decision with mitigations: the throttle counts the failure first,
 * and whatever the policy allows may still be refused. */
static COLD void after_failure_mitigated(msim_sim *sim, client *c, msim_request *r, uint32_t n,
                                         msim_cause cause)
{
    bool throttle_ok = throttle_failure(sim, c, cause);
    if (!policy_retries(c, n, cause)) {
        fail_request(sim, c, r, cause);
        return;
    }
    msim_time delay = retry_delay(c, r, n);
    if (past_deadline(sim, c, r, delay))
        fail_request(sim, c, r, MSIM_CAUSE_DEADLINE);
    else if (!grant_retry(sim, c, r, cause, throttle_ok))
        fail_request(sim, c, r, cause); /* not attempted: the failure stands */
    else
        retry_after(sim, c, r, n, cause, delay);
}

/* Attempt n of r failed: retry if the policy and the deadline allow, else
 * fail the request. */
static void after_failure(msim_sim *sim, client *c, msim_request *r, uint32_t n, msim_cause cause)
{
    if (c->mitig) {
        after_failure_mitigated(sim, c, r, n, cause);
        return;
    }
    if (!policy_retries(c, n, cause)) {
        fail_request(sim, c, r, cause);
        return;
    }
    msim_time delay = retry_delay(c, r, n);
    if (past_deadline(sim, c, r, delay))
        fail_request(sim, c, r, MSIM_CAUSE_DEADLINE);
    else
        retry_after(sim, c, r, n, cause, delay);
}

/* ---- hedging (gRPC hedgingPolicy) ------------------------------------------------------------
 * Attempt 1 goes at once, attempt k + 1 hedgingDelay after attempt k while none
 * has succeeded, up to max_attempts in parallel. A failure whose cause is in
 * retry_on (non-fatal) sends the next hedge at once and restarts the delay; any
 * other failure, or the deadline, cancels the rest and fails the request; the
 * first success cancels the rest. A cancelled hedge is abandoned: whatever its
 * server does with it is wasted work, unless the service cancels. Hedges past
 * the first need the gRPC throttle open; a refused hedge ends the hedging. */

static hedge *hedge_at(client *c, uint32_t i)
{
    return &c->hedges[i >> HEDGE_SHIFT][i & (HEDGE_CHUNK - 1)];
}

/* A fresh record for r (index in r->aux); false if memory ran out. */
static bool hedge_new(msim_sim *sim, client *c, msim_request *r)
{
    if (!c->hedge_free) {
        hedge **chunks = msim_arena_alloc(sim, (c->nhedge_chunks + 1) * sizeof *chunks);
        hedge *chunk = msim_arena_alloc(sim, HEDGE_CHUNK * sizeof *chunk);
        if (!chunks || !chunk) {
            msim_fail(sim, -MSIM_ENOMEM, "out of memory for hedged requests");
            return false;
        }
        if (c->nhedge_chunks) memcpy(chunks, c->hedges, c->nhedge_chunks * sizeof *chunks);
        uint32_t base = c->nhedge_chunks << HEDGE_SHIFT;
        for (uint32_t k = 0; k < HEDGE_CHUNK; k++)
            chunk[k].next = k + 1 < HEDGE_CHUNK ? base + k + 2 : 0;
        chunks[c->nhedge_chunks++] = chunk;
        c->hedges = chunks;
        c->hedge_free = base + 1;
    }
    r->aux = c->hedge_free - 1;
    hedge *h = hedge_at(c, r->aux);
    c->hedge_free = h->next;
    *h = (hedge){.gen = c->brk.gen};
    return true;
}

static void hedge_release(client *c, msim_request *r)
{
    hedge *h = hedge_at(c, r->aux);
    h->next = c->hedge_free;
    c->hedge_free = r->aux + 1;
}

static void hedge_forget(hedge *h, const msim_attempt *a)
{
    for (uint8_t k = 0; k < h->nlive; k++)
        if (h->live[k] == a) {
            h->live[k] = h->live[--h->nlive];
            return;
        }
}

/* The request is over: stop the hedge timer, abandon what is still out. */
static void hedge_finish(msim_sim *sim, client *c, msim_request *r)
{
    hedge *h = hedge_at(c, r->aux);
    msim_cancel(sim, &r->timer);
    while (h->nlive) {
        msim_attempt *a = h->live[--h->nlive];
        msim_cancel(sim, &a->timeout);
        msim_count(sim, c->m_hedges_cancelled, 1);
        msim_abandon(sim, a);
    }
    hedge_release(c, r);
}

/* Send hedge n of r. */
static void hedge_send(msim_sim *sim, client *c, msim_request *r, hedge *h, uint32_t n)
{
    msim_attempt *a = msim_attempt_new(sim, r, &c->base, c->target);
    if (!a) return;
    a->number = (uint16_t)n;
    a->cls = c->cls;
    h->gen = c->brk.gen;
    if (n > 1) msim_count(sim, c->m_retries, 1); /* gRPC counts hedges as retries */
    msim_count(sim, c->m_attempts, 1);
    msim_time now = msim_now(sim), t = c->cfg->timeout;
    msim_time expires = t == MSIM_NEVER ? MSIM_NEVER : now + t;
    if (r->deadline < expires) expires = r->deadline;
    a->expires = expires;
    h->live[h->nlive++] = a;
    if (msim_send(sim, a) && expires != MSIM_NEVER)
        a->timeout = msim_lane_at(sim, c->timeouts, expires, on_timeout, a, 0);
}

/* Time for the next hedge of r, or a non-fatal failure asks for it now. arg:
 * the cause to fail the request with if no hedge may go and none is out. */
static void hedge_fire(msim_sim *sim, void *obj, uint64_t arg)
{
    msim_request *r = obj;
    client *c = (client *)r->origin;
    hedge *h = hedge_at(c, r->aux);
    uint32_t n = h->sent + 1u;
    r->timer = MSIM_NO_TIMER;
    bool throttled = c->throttle_on && !grpc_throttle_open(&c->throttle);
    bool refused = n > 1 && (c->retries_off || throttled);
    if (refused && !c->retries_off) msim_count(sim, c->m_throttled, 1);
    if (!refused && c->breaker_on && !breaker_allow(&c->brk, n > 1)) {
        refused = true;
        msim_count(sim, n > 1 ? c->m_breaker_denied : c->m_breaker_rejected, 1);
    }
    if (refused) {
        h->stopped = true;
        if (h->nlive == 0) {
            hedge_release(c, r);
            fail_request(sim, c, r, n == 1 ? MSIM_CAUSE_LOCAL : (msim_cause)arg);
        }
        return;
    }
    h->sent = (uint8_t)n;
    if (n < (uint32_t)c->cfg->retry.max_attempts)
        r->timer = msim_after(sim, c->cfg->retry.hedging_delay, hedge_fire, r, MSIM_CAUSE_TIMEOUT);
    hedge_send(sim, c, r, h, n); /* last: its answer may end the request */
}

static void hedge_start(msim_sim *sim, client *c, msim_request *r)
{
    if (hedge_new(sim, c, r)) hedge_fire(sim, r, MSIM_CAUSE_LOCAL);
}

/* One attempt of r failed with `cause` (it is no longer out). */
static void hedge_failed(msim_sim *sim, client *c, msim_request *r, msim_cause cause)
{
    hedge *h = hedge_at(c, r->aux);
    bool non_fatal = cause != MSIM_CAUSE_DEADLINE && (c->cfg->retry.retry_on & (1u << cause));
    if (non_fatal) throttle_failure(sim, c, cause);
    if (!non_fatal) {
        hedge_finish(sim, c, r);
        fail_request(sim, c, r, cause);
    } else if (!h->stopped && h->sent < c->cfg->retry.max_attempts) {
        msim_cancel(sim, &r->timer);
        hedge_fire(sim, r, cause);
    } else if (h->nlive == 0) {
        hedge_release(c, r);
        fail_request(sim, c, r, cause);
    }
}

static void hedge_outcome(msim_sim *sim, client *c, msim_request *r, msim_attempt *a, bool ok)
{
    hedge *h = hedge_at(c, r->aux);
    hedge_forget(h, a);
    if (c->mitig) on_outcome(sim, c, 1, ok, false, h->gen);
}

static void hedge_response(msim_sim *sim, client *c, msim_attempt *a)
{
    msim_request *r = a->req;
    msim_status status = (msim_status)a->status;
    hedge_outcome(sim, c, r, a, status == MSIM_STATUS_OK);
    msim_attempt_free(sim, a);
    if (status == MSIM_STATUS_OK) {
        hedge_finish(sim, c, r);
        succeed(sim, c, r);
        return;
    }
    bool rejected = status == MSIM_STATUS_REJECTED;
    msim_count(sim, rejected ? c->m_rejections : c->m_errors, 1);
    hedge_failed(sim, c, r, rejected ? MSIM_CAUSE_REJECTED : MSIM_CAUSE_ERROR);
}

static void hedge_timeout(msim_sim *sim, client *c, msim_attempt *a)
{
    msim_request *r = a->req;
    hedge_outcome(sim, c, r, a, false);
    msim_abandon(sim, a);
    bool deadline = msim_now(sim) >= r->deadline;
    hedge_failed(sim, c, r, deadline ? MSIM_CAUSE_DEADLINE : MSIM_CAUSE_TIMEOUT);
}

/* Attempt n of r timed out; it has been abandoned. */
static void timed_out(msim_sim *sim, client *c, msim_request *r, uint32_t n)
{
    bool deadline = msim_now(sim) >= r->deadline;
    after_failure(sim, c, r, n, deadline ? MSIM_CAUSE_DEADLINE : MSIM_CAUSE_TIMEOUT);
}

/* Mitigations see every outcome first; kept apart so that a client without
 * them runs the short paths below. */
static COLD void timeout_mitigated(msim_sim *sim, client *c, msim_attempt *a)
{
    if (c->hedging) {
        hedge_timeout(sim, c, a);
        return;
    }
    msim_request *r = a->req;
    uint32_t n = a->number;
    msim_abandon(sim, a);
    on_outcome(sim, c, n, false, false, req_gen(r));
    timed_out(sim, c, r, n);
}

static void on_timeout(msim_sim *sim, void *obj, uint64_t arg)
{
    (void)arg;
    msim_attempt *a = obj;
    msim_request *r = a->req;
    client *c = (client *)a->from;
    uint32_t n = a->number;
    a->timeout = MSIM_NO_TIMER;
    msim_count(sim, c->m_timeouts, 1);
    if (c->mitig) {
        timeout_mitigated(sim, c, a);
        return;
    }
    msim_abandon(sim, a); /* the target may keep working on it: wasted work */
    timed_out(sim, c, r, n);
}

/* Attempt n of r was answered with an error or a rejection. */
static void answered_failure(msim_sim *sim, client *c, msim_request *r, uint32_t n,
                             msim_status status)
{
    bool rejected = status == MSIM_STATUS_REJECTED;
    msim_count(sim, rejected ? c->m_rejections : c->m_errors, 1);
    after_failure(sim, c, r, n, rejected ? MSIM_CAUSE_REJECTED : MSIM_CAUSE_ERROR);
}

static COLD void response_mitigated(msim_sim *sim, client *c, msim_attempt *a)
{
    if (c->hedging) {
        hedge_response(sim, c, a);
        return;
    }
    msim_request *r = a->req;
    msim_status status = (msim_status)a->status;
    uint32_t n = a->number;
    msim_attempt_free(sim, a);
    on_outcome(sim, c, n, status == MSIM_STATUS_OK, status == MSIM_STATUS_REJECTED, req_gen(r));
    if (status != MSIM_STATUS_OK) {
        answered_failure(sim, c, r, n, status);
        return;
    }
    on_success(sim, c, r);
    succeed(sim, c, r);
}

static void client_response(msim_sim *sim, msim_component *self, msim_attempt *a)
{
    client *c = (client *)self;
    msim_cancel(sim, &a->timeout);
    if (c->mitig) {
        response_mitigated(sim, c, a);
        return;
    }
    msim_request *r = a->req;
    msim_status status = (msim_status)a->status;
    uint32_t n = a->number;
    msim_attempt_free(sim, a);
    if (status == MSIM_STATUS_OK)
        succeed(sim, c, r);
    else
        answered_failure(sim, c, r, n, status);
}

static COLD void start_mitigated(msim_sim *sim, client *c, msim_request *r)
{
    if (!admit(sim, c, r)) return;
    if (c->hedging)
        hedge_start(sim, c, r);
    else
        send_attempt(sim, c, r, 1, MSIM_CAUSE_TIMEOUT);
}

static void new_request(msim_sim *sim, client *c, uint32_t user)
{
    msim_request *r = msim_request_new(sim, &c->base);
    if (!r) return;
    r->user = user;
    if (c->cfg->deadline != MSIM_NEVER) r->deadline = msim_now(sim) + c->cfg->deadline;
    msim_count(sim, c->m_offered, 1);
    msim_gauge_add(sim, c->g_inflight, 1);
    if (c->mitig)
        start_mitigated(sim, c, r);
    else
        send_attempt(sim, c, r, 1, MSIM_CAUSE_TIMEOUT);
}

/* ---- open loop ------------------------------------------------------------------------- */

static void open_arrival(msim_sim *sim, void *obj, uint64_t candidate);

/* Draw the next arrival from now. A Poisson candidate at the segment's peak
 * rate that falls past the segment's end becomes a re-evaluation there. */
/* Most segments are flat (a plain `rate:` is one endless flat segment):
 * remember whether the one in force is, and its rate, so that arrivals in it
 * skip the schedule lookups and thinning. A load trigger clears the cache. */
static void cache_segment(client *c, msim_time now)
{
    c->seg_end = segment_end(c, now);
    double r0 = rate_at(c, now), r1 = c->seg_end == MSIM_NEVER ? r0 : rate_at(c, c->seg_end - 1);
    c->seg_rate = r0 == r1 ? r0 : -1;
}

static void schedule_open(msim_sim *sim, client *c)
{
    msim_time now = msim_now(sim);
    if (now >= c->seg_end) cache_segment(c, now);
    msim_time end = c->seg_end;
    if (c->cfg->arrival == ARRIVAL_CONSTANT) {
        double r = c->seg_rate >= 0 ? c->seg_rate : rate_at(c, now);
        msim_time next = r > 0 ? c->last_arrival + msim_time_from_s(1 / r) : MSIM_NEVER;
        if (next < now) next = now;
        if (next > end) next = end;
        if (next != MSIM_NEVER) c->next = msim_lane_at(sim, c->arrivals_lane, next, open_arrival, c, next < end);
        return;
    }
    if (c->seg_rate >= 0) {
        c->peak = c->seg_rate;
    } else { /* the peak of the rest of a linear segment is at one of its ends */
        double r0 = rate_at(c, now), r1 = end == MSIM_NEVER ? r0 : rate_at(c, end - 1);
        c->peak = r0 > r1 ? r0 : r1;
    }
    msim_time gap = c->peak > 0 ? msim_time_from_s(-log(msim_rng_u01_open0(&c->arrivals)) / c->peak)
                                : MSIM_NEVER;
    if (gap >= MSIM_NEVER - now || now + gap >= end) {
        if (end != MSIM_NEVER) c->next = msim_lane_at(sim, c->arrivals_lane, end, open_arrival, c, 0);
        return;
    }
    c->next = msim_lane_at(sim, c->arrivals_lane, now + gap, open_arrival, c, 1);
}

static void open_arrival(msim_sim *sim, void *obj, uint64_t candidate)
{
    client *c = obj;
    c->next = MSIM_NO_TIMER;
    if (candidate) {
        bool keep = true;
        if (c->cfg->arrival == ARRIVAL_CONSTANT) {
            c->last_arrival = msim_now(sim);
        } else if (c->seg_rate < 0) { /* thinning; a flat segment keeps every candidate */
            double r = rate_at(c, msim_now(sim));
            keep = r >= c->peak || msim_rng_u01(&c->arrivals) * c->peak < r;
        }
        if (keep) new_request(sim, c, 0);
    }
    schedule_open(sim, c);
}

/* ---- closed loop ---------------------------------------------------------------------- */

static void user_wake(msim_sim *sim, void *obj, uint64_t user)
{
    client *c = obj;
    if ((int64_t)user >= c->users_target) {
        c->user_alive[user] = 0; /* the load trigger took this user away */
        return;
    }
    new_request(sim, c, (uint32_t)user);
}

static void user_next(msim_sim *sim, client *c, uint32_t user)
{
    msim_time think = msim_dist_sample(&c->cfg->think, &c->think);
    msim_after(sim, think, user_wake, c, user);
}

static void spawn_users(msim_sim *sim, client *c)
{
    for (int64_t u = 0; u < c->users_target && u < c->users_cap; u++) {
        if (c->user_alive[u]) continue;
        c->user_alive[u] = 1;
        user_next(sim, c, (uint32_t)u); /* each user starts with a think */
    }
}

/* ---- hooks ------------------------------------------------------------------------------ */

/* A calls client is an edge inside the system, not one of its users: its
 * columns keep their names but none counts as the system's offered load,
 * goodput or latency. */
static msim_role role(const client *c, msim_role r)
{
    return c->cfg->arrival == ARRIVAL_CALLS ? MSIM_ROLE_NONE : r;
}

static bool open_loop(const client *c)
{
    return c->cfg->arrival == ARRIVAL_POISSON || c->cfg->arrival == ARRIVAL_CONSTANT;
}

static void register_metrics(msim_sim *sim, client *c)
{
    msim_component *s = &c->base;
    c->m_offered = msim_counter(sim, s, "offered", "requests", role(c, MSIM_ROLE_OFFERED));
    if (open_loop(c)) c->m_nominal = msim_counter(sim, s, "nominal", "requests", MSIM_ROLE_NOMINAL);
    c->m_success = msim_counter(sim, s, "successes", "requests", role(c, MSIM_ROLE_GOODPUT));
    c->m_failed = msim_counter(sim, s, "failed", "requests", role(c, MSIM_ROLE_FAILED));
    static const char *const cause_col[] = {
#define CAUSE_COL(id, name, doc) "failed_" name,
        MSIM_CAUSE_MAP(CAUSE_COL)
#undef CAUSE_COL
    };
    for (int i = 0; i < MSIM_CAUSE_COUNT; i++)
        c->m_failed_cause[i] = msim_counter(sim, s, cause_col[i], "requests", MSIM_ROLE_NONE);
    c->m_attempts = msim_counter(sim, s, "attempts", "attempts", role(c, MSIM_ROLE_ATTEMPTS));
    c->m_retries = msim_counter(sim, s, "retries", "attempts", role(c, MSIM_ROLE_RETRIES));
    c->m_timeouts = msim_counter(sim, s, "timeouts", "attempts", role(c, MSIM_ROLE_TIMEOUTS));
    c->m_errors = msim_counter(sim, s, "errors", "attempts", MSIM_ROLE_NONE);
    c->m_rejections = msim_counter(sim, s, "rejections", "attempts", role(c, MSIM_ROLE_REJECTED));
    c->lat = msim_latency_new(sim, s, "latency", role(c, MSIM_ROLE_LATENCY));
    c->g_inflight = msim_gauge_new(sim, s, "inflight", "requests", role(c, MSIM_ROLE_INFLIGHT));
}

/* Each mechanism's columns exist only when it is configured; names follow the
 * source's own stats where it has them. */
static void register_mitigation_metrics(msim_sim *sim, client *c)
{
    msim_component *s = &c->base;
    if (c->cfg->concurrency_limit != MSIM_UNLIMITED)
        c->m_limit_rejected =
            msim_counter(sim, s, "limit_rejected", "requests", MSIM_ROLE_FAST_FAILED);
    if (c->envoy_on) {
        c->m_cb_overflow = msim_counter(sim, s, "cb_overflow", "requests", MSIM_ROLE_FAST_FAILED);
        c->m_cb_retry_overflow =
            msim_counter(sim, s, "cb_retry_overflow", "retries", MSIM_ROLE_RETRIES_DENIED);
        c->g_cb_retries = msim_gauge_new(sim, s, "cb_retries_active", "retries", MSIM_ROLE_NONE);
        if (c->cfg->circuit_breakers.protocol == UPSTREAM_HTTP1)
            c->g_cb_pending = msim_gauge_new(sim, s, "cb_pending", "attempts", MSIM_ROLE_NONE);
    }
    if (c->finagle_on) {
        c->m_budget_exhausted =
            msim_counter(sim, s, "budget_exhausted", "retries", MSIM_ROLE_RETRIES_DENIED);
        c->g_budget = msim_gauge_new(sim, s, "budget_balance", "retries", MSIM_ROLE_NONE);
    }
    if (c->throttle_on) {
        c->m_throttled = msim_counter(sim, s, "throttled", "retries", MSIM_ROLE_RETRIES_DENIED);
        c->g_tokens = msim_gauge_new(sim, s, "throttle_tokens", "tokens", MSIM_ROLE_NONE);
    }
    if (c->quota_on) {
        c->m_quota_exhausted =
            msim_counter(sim, s, "quota_exhausted", "retries", MSIM_ROLE_RETRIES_DENIED);
        c->g_quota = msim_gauge_new(sim, s, "quota_available", "units", MSIM_ROLE_NONE);
    }
    if (c->breaker_on) {
        c->m_breaker_rejected =
            msim_counter(sim, s, "breaker_rejected", "requests", MSIM_ROLE_FAST_FAILED);
        c->m_breaker_denied =
            msim_counter(sim, s, "breaker_denied", "retries", MSIM_ROLE_RETRIES_DENIED);
        c->m_breaker_opened = msim_counter(sim, s, "breaker_opened", "times", MSIM_ROLE_NONE);
        c->g_breaker_open = msim_gauge_new(sim, s, "breaker_open", "share", MSIM_ROLE_BREAKER_OPEN);
        c->g_breaker_state = msim_gauge_new(sim, s, "breaker_state", "0 closed 1 half-open 2 open",
                                            MSIM_ROLE_NONE);
    }
    if (c->hedging)
        c->m_hedges_cancelled =
            msim_counter(sim, s, "hedges_cancelled", "attempts", MSIM_ROLE_NONE);
    if (c->limiter_on) {
        c->m_rate_delayed = msim_counter(sim, s, "rate_delayed", "attempts", MSIM_ROLE_NONE);
        c->g_rate_limit = msim_gauge_new(sim, s, "rate_limit", "attempts/s", MSIM_ROLE_NONE);
        c->g_rate_waiting = msim_gauge_new(sim, s, "rate_waiting", "attempts", MSIM_ROLE_NONE);
    }
}

/* Switch on what the configuration asks for, in its initial state. */
static void init_mitigations(msim_sim *sim, client *c)
{
    const client_cfg *cfg = c->cfg;
    msim_time now = msim_now(sim);
    c->hedging = retry_hedges(&cfg->retry);
    c->envoy_on = cfg->circuit_breakers.enabled;
    c->finagle_on = cfg->retry.budget.enabled;
    c->throttle_on = cfg->retry.throttling.max_tokens > 0;
    c->quota_on = cfg->retry.quota.enabled;
    c->breaker_on = cfg->breaker.trip != TRIP_NONE;
    c->limiter_on = cfg->rate_limiter.enabled;
    c->mitig = c->hedging || c->envoy_on || c->finagle_on || c->throttle_on || c->quota_on ||
               c->breaker_on || c->limiter_on || cfg->concurrency_limit != MSIM_UNLIMITED;
    c->envoy.cfg = &cfg->circuit_breakers;
    if (c->finagle_on) finagle_budget_init(&c->finagle, &cfg->retry.budget, now);
    if (c->throttle_on) grpc_throttle_init(&c->throttle, &cfg->retry.throttling);
    if (c->quota_on) aws_quota_init(&c->quota, &cfg->retry.quota);
    breaker_init(&c->brk, &cfg->breaker, now);
    if (c->limiter_on) aws_limiter_init(&c->lim, &cfg->rate_limiter, msim_time_to_s(now));
    register_mitigation_metrics(sim, c);
}

static int client_init(msim_sim *sim, msim_component *self, const void *cfg, msim_error *err)
{
    client *c = (client *)self;
    c->cfg = cfg;
    c->cls = (uint8_t)(c->cfg->priority << MSIM_CLS_PRIORITY_SHIFT);
    c->target = msim_component_at(sim, c->cfg->target.index);
    c->arrivals = msim_stream(sim, self->name, "arrivals");
    c->backoff = msim_stream(sim, self->name, "backoff");
    c->think = msim_stream(sim, self->name, "think");
    c->load_factor = 1;
    c->timeouts = msim_lane_new(sim);
    c->arrivals_lane = msim_lane_new(sim);
    c->users_target = c->users_cap = c->cfg->users;
    if (build_knots(sim, c)) return msim_error_set(err, -MSIM_ENOMEM, "out of memory");
    register_metrics(sim, c);
    init_mitigations(sim, c);
    return 0;
}

static void client_start(msim_sim *sim, msim_component *self)
{
    client *c = (client *)self;
    if (c->finagle_on) msim_gauge_set(sim, c->g_budget, (double)finagle_balance(&c->finagle, 0));
    if (c->throttle_on) msim_gauge_set(sim, c->g_tokens, (double)c->throttle.milli / 1000);
    if (c->quota_on) msim_gauge_set(sim, c->g_quota, (double)c->quota.available);
    if (c->cfg->arrival == ARRIVAL_CALLS) return; /* requests come from its callers */
    if (c->cfg->arrival != ARRIVAL_CLOSED) {
        c->last_arrival = -MSIM_SEC * 1000000; /* the first constant arrival is at 0 */
        c->seg_end = 0;
        schedule_open(sim, c);
        return;
    }
    c->user_alive = msim_arena_alloc(sim, (size_t)c->users_cap + 1);
    if (!c->user_alive) {
        msim_fail(sim, -MSIM_ENOMEM, "out of memory creating users");
        return;
    }
    spawn_users(sim, c);
}

/* A load trigger started or ended: open loop redraws from now; closed loop
 * grows or shrinks the user population. */
static void client_apply(msim_sim *sim, msim_component *self, const msim_conditions *cond)
{
    client *c = (client *)self;
    c->load_factor = cond->load_factor;
    c->load_add = cond->load_add;
    if (c->cfg->arrival == ARRIVAL_CALLS) return; /* its load is its callers' */
    if (c->cfg->arrival != ARRIVAL_CLOSED) {
        msim_cancel(sim, &c->next);
        c->seg_end = 0; /* the rate changed */
        schedule_open(sim, c);
        return;
    }
    int64_t target = llround((double)c->cfg->users * cond->load_factor);
    if (target > c->users_cap) {
        uint8_t *alive = msim_arena_alloc(sim, (size_t)target + 1);
        if (!alive) {
            msim_fail(sim, -MSIM_ENOMEM, "out of memory adding users");
            return;
        }
        if (c->users_cap) memcpy(alive, c->user_alive, (size_t)c->users_cap);
        c->user_alive = alive;
        c->users_cap = target;
    }
    c->users_target = target;
    spawn_users(sim, c);
}

static void client_window(msim_sim *sim, msim_component *self, msim_time t0, msim_time t1)
{
    client *c = (client *)self;
    if (open_loop(c)) msim_count(sim, c->m_nominal, nominal(c, t0, t1));
}

/* ---- calls: requests made for a service's dependencies --------------------------------- */

static int client_call(msim_sim *sim, msim_component *self, msim_time deadline, msim_call_done done,
                       void *ctx, uint64_t tag)
{
    client *c = (client *)self;
    if (!c->calls_free) { /* grow the records; they are few: one per call in flight */
        uint32_t cap = c->calls_cap ? 2 * c->calls_cap : 256;
        call_rec *nc = msim_arena_alloc(sim, cap * sizeof *nc);
        if (!nc) return -MSIM_ENOMEM;
        if (c->calls_cap) memcpy(nc, c->calls, c->calls_cap * sizeof *nc);
        for (uint32_t i = c->calls_cap; i < cap; i++)
            nc[i].next = i + 1 < cap ? i + 2 : 0;
        c->calls = nc;
        c->calls_free = c->calls_cap + 1;
        c->calls_cap = cap;
    }
    uint32_t i = c->calls_free - 1;
    c->calls_free = c->calls[i].next;
    c->calls[i] = (call_rec){done, ctx, tag, 0};
    msim_request *r = msim_request_new(sim, &c->base);
    if (!r) return -MSIM_ENOMEM;
    r->user = i;
    msim_time own = c->cfg->deadline == MSIM_NEVER ? MSIM_NEVER : msim_now(sim) + c->cfg->deadline;
    r->deadline = deadline < own ? deadline : own;
    if (r->deadline <= msim_now(sim)) { /* the caller's deadline has passed already */
        msim_count(sim, c->m_offered, 1);
        msim_gauge_add(sim, c->g_inflight, 1);
        fail_request(sim, c, r, MSIM_CAUSE_DEADLINE);
        return 0;
    }
    msim_count(sim, c->m_offered, 1);
    msim_gauge_add(sim, c->g_inflight, 1);
    if (c->mitig)
        start_mitigated(sim, c, r);
    else
        send_attempt(sim, c, r, 1, MSIM_CAUSE_TIMEOUT);
    return 0;
}

static bool client_is_caller(const void *cfg)
{
    return ((const client_cfg *)cfg)->arrival == ARRIVAL_CALLS;
}

static void call_finished(msim_sim *sim, client *c, uint32_t i, int ok)
{
    call_rec rec = c->calls[i];
    c->calls[i].next = c->calls_free;
    c->calls_free = i + 1;
    rec.done(sim, rec.ctx, rec.tag, ok ? MSIM_STATUS_OK : MSIM_STATUS_ERROR);
}

static void disable_retries(msim_sim *sim, msim_component *self)
{
    (void)sim;
    ((client *)self)->retries_off = true;
}

static const msim_mechanism client_mechanisms[] = {
    {"retries", "send each request once: no retries (pending retries fail)", disable_retries},
};

const msim_kind msim_client_kind = {
    .name = "client",
    .section = "clients",
    .doc = "a source of requests: open loop (Poisson, constant, scheduled) or closed loop, with "
           "timeouts and retries",
    .schema = &client_schema,
    .size = sizeof(client),
    .roles = MSIM_KIND_SOURCE | MSIM_KIND_CALLER,
    .conditions = MSIM_COND_LOAD,
    .init = client_init,
    .start = client_start,
    .call = client_call,
    .is_caller = client_is_caller,
    .on_response = client_response,
    .apply = client_apply,
    .on_window = client_window,
    .mechanisms = client_mechanisms,
    .nmechanisms = sizeof client_mechanisms / sizeof client_mechanisms[0],
};
