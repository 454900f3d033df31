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
 */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "retry.h"

enum { ARRIVAL_POISSON, ARRIVAL_CONSTANT, ARRIVAL_CLOSED };

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
} client_cfg;

/* ---- parameters --------------------------------------------------------------- */

static const msim_choice arrivals[] = {
    {"poisson", "open loop: exponential gaps at `rate`"},
    {"constant", "open loop: one request every 1/`rate`"},
    {"closed", "closed loop: `users` each send a request, wait for it, think, repeat"},
    {NULL, NULL},
};

static const msim_param step_params[] = {
    {"at", &msim_type_duration, offsetof(step_cfg, at), NULL, 0, 1e300,
     "when the rate starts to change", NULL, NULL},
    {"rate", &msim_type_rate, offsetof(step_cfg, rate), NULL, 0, 1e300, "the new rate", NULL, NULL},
    {"ramp", &msim_type_duration, offsetof(step_cfg, ramp), "0s", 0, 1e300,
     "reach it linearly over this long (0: a step)", NULL, NULL},
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
};

static int check_client(msim_bind *b, const msim_node *n, void *p)
{
    client_cfg *c = p;
    if (c->arrival == ARRIVAL_CLOSED && c->users < 1)
        return msim_bind_fail(b, n, -MSIM_EMISSING, "a closed-loop client needs users: (>= 1)");
    if (c->arrival != ARRIVAL_CLOSED && c->rate <= 0 && c->schedule.n == 0)
        return msim_bind_fail(b, n, -MSIM_EMISSING,
                              "an open-loop client needs rate: (e.g. 100/s) or a schedule:");
    const step_cfg *s = c->schedule.items;
    for (size_t i = 1; i < c->schedule.n; i++)
        if (s[i].at < s[i - 1].at + s[i - 1].ramp)
            return msim_bind_fail(b, msim_node_get(n, "schedule"), -MSIM_EINVAL,
                                  "schedule point %zu starts before point %zu has finished its ramp",
                                  i, i - 1);
    return 0;
}

static const msim_schema client_schema =
    MSIM_SCHEMA("client", "a source of requests", client_params, client_cfg, check_client);

/* ---- state ----------------------------------------------------------------------- */

typedef struct knot {
    msim_time t;
    double rate;
} knot;

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
    msim_time last_arrival;   /* constant arrivals */
    bool retries_off;         /* diagnose switched retries off */
    uint8_t *user_alive;      /* closed loop */
    int64_t users_target, users_cap;

    msim_metric m_offered, m_nominal, m_attempts, m_retries, m_success, m_failed;
    msim_metric m_failed_cause[MSIM_CAUSE_COUNT];
    msim_metric m_timeouts, m_errors, m_rejections;
    msim_latency lat;
    msim_gauge g_inflight;
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

/* Send attempt number n of request r. */
static void send_attempt(msim_sim *sim, client *c, msim_request *r, uint32_t n)
{
    msim_attempt *a = msim_attempt_new(sim, r, &c->base, c->target);
    if (!a) return;
    a->number = (uint16_t)n;
    if (n > 1) msim_count(sim, c->m_retries, 1);
    msim_count(sim, c->m_attempts, 1);
    msim_time now = msim_now(sim), t = c->cfg->timeout;
    msim_time expires = t == MSIM_NEVER ? MSIM_NEVER : now + t;
    if (c->cfg->deadline != MSIM_NEVER && r->deadline < expires) expires = r->deadline;
    a->expires = expires;
    /* An attempt answered at once (rejected, say) needs no timer; if it is
     * still out, arm its timeout. */
    if (msim_send(sim, a) && expires != MSIM_NEVER)
        a->timeout = msim_lane_at(sim, c->timeouts, expires, on_timeout, a, 0);
}

static void end_request(msim_sim *sim, client *c, msim_request *r, int ok)
{
    uint32_t user = r->user;
    msim_gauge_add(sim, c->g_inflight, -1);
    msim_request_finish(sim, r, ok);
    if (c->cfg->arrival == ARRIVAL_CLOSED) user_next(sim, c, user);
}

static void fail_request(msim_sim *sim, client *c, msim_request *r, msim_cause cause)
{
    msim_count(sim, c->m_failed, 1);
    msim_count(sim, c->m_failed_cause[cause], 1);
    end_request(sim, c, r, 0);
}

static void retry_fire(msim_sim *sim, void *obj, uint64_t n)
{
    msim_request *r = obj;
    client *c = (client *)r->origin;
    r->timer = MSIM_NO_TIMER;
    if (c->retries_off) /* switched off while this retry waited */
        fail_request(sim, c, r, MSIM_CAUSE_TIMEOUT);
    else
        send_attempt(sim, c, r, (uint32_t)n);
}

/* Attempt n of r failed: retry if the policy and the deadline allow, else
 * fail the request. */
static void after_failure(msim_sim *sim, client *c, msim_request *r, uint32_t n, msim_cause cause)
{
    const retry_cfg *p = &c->cfg->retry;
    if (cause == MSIM_CAUSE_DEADLINE || !(p->retry_on & (1u << cause)) ||
        n >= (uint32_t)p->max_attempts || c->retries_off) {
        fail_request(sim, c, r, cause);
        return;
    }
    msim_time delay = backoff_delay(&p->backoff, n, &r->last_backoff, &c->backoff);
    msim_time now = msim_now(sim);
    if (c->cfg->deadline != MSIM_NEVER && now + delay >= r->deadline)
        fail_request(sim, c, r, MSIM_CAUSE_DEADLINE);
    else if (delay == 0)
        send_attempt(sim, c, r, n + 1);
    else
        r->timer = msim_after(sim, delay, retry_fire, r, n + 1);
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
    msim_abandon(sim, a); /* the target may keep working on it: wasted work */
    bool deadline = c->cfg->deadline != MSIM_NEVER && msim_now(sim) >= r->deadline;
    after_failure(sim, c, r, n, deadline ? MSIM_CAUSE_DEADLINE : MSIM_CAUSE_TIMEOUT);
}

static void client_response(msim_sim *sim, msim_component *self, msim_attempt *a)
{
    client *c = (client *)self;
    msim_request *r = a->req;
    msim_status status = (msim_status)a->status;
    uint32_t n = a->number;
    msim_cancel(sim, &a->timeout);
    msim_attempt_free(sim, a);
    if (status == MSIM_STATUS_OK) {
        msim_count(sim, c->m_success, 1);
        msim_latency_record(sim, c->lat, msim_now(sim) - r->start);
        end_request(sim, c, r, 1);
        return;
    }
    bool rejected = status == MSIM_STATUS_REJECTED;
    msim_count(sim, rejected ? c->m_rejections : c->m_errors, 1);
    after_failure(sim, c, r, n, rejected ? MSIM_CAUSE_REJECTED : MSIM_CAUSE_ERROR);
}

static void new_request(msim_sim *sim, client *c, uint32_t user)
{
    msim_request *r = msim_request_new(sim, &c->base);
    if (!r) return;
    r->user = user;
    if (c->cfg->deadline != MSIM_NEVER) r->deadline = msim_now(sim) + c->cfg->deadline;
    msim_count(sim, c->m_offered, 1);
    msim_gauge_add(sim, c->g_inflight, 1);
    send_attempt(sim, c, r, 1);
}

/* ---- open loop ------------------------------------------------------------------------- */

static void open_arrival(msim_sim *sim, void *obj, uint64_t candidate);

/* Draw the next arrival from now. A Poisson candidate at the segment's peak
 * rate that falls past the segment's end becomes a re-evaluation there. */
static void schedule_open(msim_sim *sim, client *c)
{
    msim_time now = msim_now(sim), end = segment_end(c, now);
    if (c->cfg->arrival == ARRIVAL_CONSTANT) {
        double r = rate_at(c, now);
        msim_time next = r > 0 ? c->last_arrival + msim_time_from_s(1 / r) : MSIM_NEVER;
        if (next < now) next = now;
        if (next > end) next = end;
        if (next != MSIM_NEVER) c->next = msim_lane_at(sim, c->arrivals_lane, next, open_arrival, c, next < end);
        return;
    }
    double r0 = rate_at(c, now), r1 = end == MSIM_NEVER ? r0 : rate_at(c, end - 1);
    /* the peak of a linear segment is at one of its ends */
    c->peak = r0 > r1 ? r0 : r1;
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
        if (c->cfg->arrival == ARRIVAL_POISSON) {
            double r = rate_at(c, msim_now(sim));
            keep = r >= c->peak || msim_rng_u01(&c->arrivals) * c->peak < r;
        } else {
            c->last_arrival = msim_now(sim);
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

static void register_metrics(msim_sim *sim, client *c)
{
    msim_component *s = &c->base;
    c->m_offered = msim_counter(sim, s, "offered", "requests", MSIM_ROLE_OFFERED);
    if (c->cfg->arrival != ARRIVAL_CLOSED)
        c->m_nominal = msim_counter(sim, s, "nominal", "requests", MSIM_ROLE_NOMINAL);
    c->m_success = msim_counter(sim, s, "successes", "requests", MSIM_ROLE_GOODPUT);
    c->m_failed = msim_counter(sim, s, "failed", "requests", MSIM_ROLE_FAILED);
    static const char *const cause_col[] = {
#define CAUSE_COL(id, name, doc) "failed_" name,
        MSIM_CAUSE_MAP(CAUSE_COL)
#undef CAUSE_COL
    };
    for (int i = 0; i < MSIM_CAUSE_COUNT; i++)
        c->m_failed_cause[i] = msim_counter(sim, s, cause_col[i], "requests", MSIM_ROLE_NONE);
    c->m_attempts = msim_counter(sim, s, "attempts", "attempts", MSIM_ROLE_ATTEMPTS);
    c->m_retries = msim_counter(sim, s, "retries", "attempts", MSIM_ROLE_RETRIES);
    c->m_timeouts = msim_counter(sim, s, "timeouts", "attempts", MSIM_ROLE_TIMEOUTS);
    c->m_errors = msim_counter(sim, s, "errors", "attempts", MSIM_ROLE_NONE);
    c->m_rejections = msim_counter(sim, s, "rejections", "attempts", MSIM_ROLE_REJECTED);
    c->lat = msim_latency_new(sim, s, "latency", MSIM_ROLE_LATENCY);
    c->g_inflight = msim_gauge_new(sim, s, "inflight", "requests", MSIM_ROLE_INFLIGHT);
}

static int client_init(msim_sim *sim, msim_component *self, const void *cfg, msim_error *err)
{
    client *c = (client *)self;
    c->cfg = cfg;
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
    return 0;
}

static void client_start(msim_sim *sim, msim_component *self)
{
    client *c = (client *)self;
    if (c->cfg->arrival != ARRIVAL_CLOSED) {
        c->last_arrival = -MSIM_SEC * 1000000; /* the first constant arrival is at 0 */
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
    if (c->cfg->arrival != ARRIVAL_CLOSED) {
        msim_cancel(sim, &c->next);
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
    if (c->cfg->arrival != ARRIVAL_CLOSED) msim_count(sim, c->m_nominal, nominal(c, t0, t1));
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
    .roles = MSIM_KIND_SOURCE,
    .conditions = MSIM_COND_LOAD,
    .init = client_init,
    .start = client_start,
    .on_response = client_response,
    .apply = client_apply,
    .on_window = client_window,
    .mechanisms = client_mechanisms,
    .nmechanisms = sizeof client_mechanisms / sizeof client_mechanisms[0],
};
