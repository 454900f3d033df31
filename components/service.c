/* service.c — the `service` kind: replicas x workers behind per-replica
 * bounded queues.
 *
 * An attempt is routed to an up replica, served at once by a free worker,
 * queued (fifo or lifo), or rejected when the queue is full. By default a
 * service keeps working on attempts whose sender already gave up — what real
 * servers do, and the main sustaining effect of retry storms; the work they
 * get is counted as wasted. `cancel_on_timeout` removes such attempts from the
 * queue, `drop_expired` drops them when they reach the head of the queue.
 *
 * Triggers: replicas down (their attempts fail or vanish), fewer workers,
 * slower service, added latency (holds the worker, like a slow dependency
 * called synchronously), injected errors, stop-the-world pauses.
 *
 * An autoscaler may resize it (msim_scaling, at the end of this file): new
 * replicas serve after a warm-up and start slow (`cold_start`); removed ones
 * drain. Every replica it may ever have is allocated at init, so attempts
 * keep referring to replicas by index (`slot`).
 *
 * A sender that picks hosts itself (a balancer) pins an attempt to a replica
 * (MSIM_CLS_PINNED in request.h): the service's own routing is skipped, and a
 * replica that is down refuses it at once, or swallows it when it was lost (a
 * black hole). Health-check probes (MSIM_CLS_PROBE) take the `probe` service
 * time and, by default, wait in the queue like any attempt — which is why an
 * overloaded replica fails its health checks. `probe.path` gives them a
 * priority lane or a separate thread instead (the common mitigation).
 *
 * `calls` makes the service a caller too: after its own work an attempt calls
 * its dependencies through clients with `arrival: calls` (calls.h), holding
 * its worker until they answer — a thread-per-request server blocked on I/O.
 *
 * Overload control (docs/mitigations.md) lives in two policy files and is
 * called through small hooks here: an admission limit per replica
 * (admission.h: fixed, Netflix AIMD/Vegas/Gradient2, Envoy's gradient
 * controller), queue disciplines with CoDel and adaptive LIFO and shedding by
 * priority class (queue_policy.h), and `stop_expired`, which frees the worker
 * of an attempt whose deadline passes in service. With none configured `adm`
 * and `qp` are NULL and each hook is one untaken branch.
 */
#include <math.h>
#include <stddef.h>

#include "metasim.h"

#include "admission.h"
#include "calls.h"
#include "memory.h"
#include "queue_policy.h"

/* Overload control's entry points stay out of line, so that a service
 * without it runs the same short paths as before it existed. */
#if defined(__GNUC__)
#define COLD __attribute__((noinline, cold))
#else
#define COLD
#endif

enum { ROUTE_ROUND_ROBIN, ROUTE_RANDOM, ROUTE_LEAST, ROUTE_P2C };
enum { SLOW_NONE, SLOW_BUSY, SLOW_QUEUE, SLOW_IN_SYSTEM };
enum { PROBE_QUEUE, PROBE_PRIORITY, PROBE_SEPARATE };
/* msim_attempt.state while held here. An attempt with calls holds its worker
 * through them (AT_CALLING); one whose calls end during a pause waits for the
 * pause's end with its status kept (AT_CALLED). */
enum { AT_QUEUE = 1, AT_WORKER, AT_SIDE, AT_CALLING, AT_CALLED };

typedef struct slowdown_cfg {
    int by;
    double coef, exponent;
} slowdown_cfg;

typedef struct probe_cfg {
    msim_dist service_time;
    int path;
} probe_cfg;

/* A replica that comes up (added by an autoscaler, or back from a trigger)
 * starts slow: cold JIT, empty in-process caches. */
typedef struct cold_cfg {
    double factor;      /* service time x this at first, */
    msim_time duration; /* falling linearly to x 1 over this */
} cold_cfg;

typedef struct service_cfg {
    int64_t replicas, workers;
    queue_cfg queue;
    admission_cfg admission;
    msim_dist service_time;
    probe_cfg probe;
    slowdown_cfg slowdown;
    int routing;
    bool cancel_on_timeout, drop_expired;
    bool stop_expired, shed_by_priority;
    double errors;
    calls_cfg calls;
    memory_cfg memory;
    cold_cfg cold_start;
} service_cfg;

/* ---- parameters --------------------------------------------------------------------- */

static const msim_choice routings[] = {
    {"round_robin", "replicas in turn"},
    {"random", "a uniformly random up replica"},
    {"least_outstanding", "the replica with the fewest queued + in-service attempts"},
    {"p2c", "power of two choices: the less loaded of two random replicas"},
    {NULL, NULL},
};

static const msim_choice slowdown_by[] = {
    {"none", "no load-dependent slowdown"},
    {"busy", "busy workers of the replica (concurrency)"},
    {"queue", "attempts queued at the replica"},
    {"in_system", "queued + in service at the replica"},
    {NULL, NULL},
};

static const msim_param slowdown_params[] = {
    {"by", &msim_type_enum, offsetof(slowdown_cfg, by), "none", MSIM_UNBOUNDED,
     "what the slowdown grows with", slowdown_by, NULL},
    {"coef", &msim_type_number, offsetof(slowdown_cfg, coef), "0", 0, 1e9,
     "service time x (1 + coef x n^exponent), n counted when service starts", NULL, NULL},
    {"exponent", &msim_type_number, offsetof(slowdown_cfg, exponent), "1", 0, 10,
     "1: linear; 2: quadratic; ...", NULL, NULL},
};

static const msim_schema slowdown_schema = MSIM_SCHEMA(
    "slowdown", "load-dependent service time", slowdown_params, slowdown_cfg, NULL);

static const msim_choice probe_paths[] = {
    {"queue", "a probe waits in the replica's queue and needs a worker, like any attempt"},
    {"priority", "a probe goes to the head of the queue (never rejected) and needs a worker"},
    {"separate", "a probe is answered by its own thread: no queue, no worker (liveness only)"},
    {NULL, NULL},
};

static const msim_param probe_params[] = {
    {"service_time", &msim_type_dist, offsetof(probe_cfg, service_time), "1ms", MSIM_UNBOUNDED,
     "worker time per health-check probe (scaled by speed and slowdown, not added latency)", NULL,
     NULL},
    {"path", &msim_type_enum, offsetof(probe_cfg, path), "queue", MSIM_UNBOUNDED,
     "how probes reach the health endpoint", probe_paths, NULL},
};

static const msim_schema probe_schema = MSIM_SCHEMA(
    "probe", "how the service answers health-check probes", probe_params, probe_cfg, NULL);

static const msim_param cold_params[] = {
    {"factor", &msim_type_factor, offsetof(cold_cfg, factor), "1", 1, 1000,
     "service time x this when the replica comes up (1: no cold start)", NULL, NULL},
    {"duration", &msim_type_duration, offsetof(cold_cfg, duration), "0s", 0, 1e300,
     "the factor falls linearly to 1 over this", NULL, NULL},
};

static const msim_schema cold_schema = MSIM_SCHEMA(
    "cold_start", "a replica that comes up starts slow", cold_params, cold_cfg, NULL);

static const msim_param service_params[] = {
    {"replicas", &msim_type_int, offsetof(service_cfg, replicas), "1", 1, 65535,
     "instances, each with its own workers and queue", NULL, NULL},
    {"workers", &msim_type_count, offsetof(service_cfg, workers), "1", 1, 1e9,
     "attempts served at once per replica (unlimited: a pure delay)", NULL, NULL},
    {"queue", &msim_type_struct, offsetof(service_cfg, queue), NULL, MSIM_UNBOUNDED,
     "the queue in front of each replica", &queue_schema, NULL},
    {"admission", &msim_type_struct, offsetof(service_cfg, admission), NULL, MSIM_UNBOUNDED,
     "a limit on the attempts each replica holds; over it an attempt is rejected at once",
     &admission_schema, NULL},
    {"service_time", &msim_type_dist, offsetof(service_cfg, service_time), NULL, MSIM_UNBOUNDED,
     "worker time per attempt", NULL, NULL},
    {"probe", &msim_type_struct, offsetof(service_cfg, probe), NULL, MSIM_UNBOUNDED,
     "the health endpoint balancers probe", &probe_schema, NULL},
    {"slowdown", &msim_type_struct, offsetof(service_cfg, slowdown), NULL, MSIM_UNBOUNDED,
     "service time growing with load (contention, thrashing)", &slowdown_schema, NULL},
    {"routing", &msim_type_enum, offsetof(service_cfg, routing), "round_robin", MSIM_UNBOUNDED,
     "how attempts are spread over up replicas", routings, NULL},
    {"cancel_on_timeout", &msim_type_bool, offsetof(service_cfg, cancel_on_timeout), "false",
     MSIM_UNBOUNDED, "remove a queued attempt when its sender gives up", NULL, NULL},
    {"drop_expired", &msim_type_bool, offsetof(service_cfg, drop_expired), "false",
     MSIM_UNBOUNDED, "drop an attempt whose deadline passed when it reaches the head of the queue",
     NULL, NULL},
    {"stop_expired", &msim_type_bool, offsetof(service_cfg, stop_expired), "false", MSIM_UNBOUNDED,
     "stop serving an attempt when its deadline passes: the worker is freed, the work is wasted",
     NULL, NULL},
    {"shed_by_priority", &msim_type_bool, offsetof(service_cfg, shed_by_priority), "false",
     MSIM_UNBOUNDED,
     "shed lower classes first (clients' priority): a full queue or limit pushes out a waiting "
     "lower-class attempt; while CoDel drops, an arrival is refused if a higher class waits",
     NULL, NULL},
    {"errors", &msim_type_fraction, offsetof(service_cfg, errors), "0", MSIM_UNBOUNDED,
     "share of attempts answered at once with an error, always", NULL, NULL},
    {"calls", &msim_type_struct, offsetof(service_cfg, calls), NULL, MSIM_UNBOUNDED,
     "dependencies called after the attempt's own work, holding its worker until they answer",
     &calls_schema, NULL},
    {"memory", &msim_type_struct, offsetof(service_cfg, memory), NULL, MSIM_UNBOUNDED,
     "live memory per replica, garbage collection slowing work as the heap fills, "
     "out-of-memory errors past it",
     &memory_schema, NULL},
    {"cold_start", &msim_type_struct, offsetof(service_cfg, cold_start), NULL, MSIM_UNBOUNDED,
     "a replica that comes up (autoscaled, or back from a trigger) works slower at first: "
     "{factor: 3x, duration: 60s}",
     &cold_schema, NULL},
};

static const msim_schema service_schema = MSIM_SCHEMA(
    "service", "replicas x workers behind bounded queues", service_params, service_cfg, NULL);

/* ---- state ------------------------------------------------------------------------------ */

typedef struct list {
    msim_attempt *head, *tail;
    uint32_t len;
} list;

typedef struct replica {
    list queue;   /* waiting */
    list serving; /* in service */
    list side;    /* probes on their own thread (probe.path: separate) */
    bool up;      /* takes new attempts: a ready member, not down */
    /* Autoscaling (resize below): whether it is one of the current replicas
     * and has warmed up; a replica that left drains what it still holds. */
    uint8_t life;       /* LIFE_* */
    bool down;          /* down by a trigger */
    msim_time ready_at; /* when it last came up: a cold start runs from here */
    msim_timer warming; /* the end of its warm-up */
    msim_timer grace;   /* the end of its drain: what is left then fails */
    /* Redeploys (redeploy below): a restarting replica is between its old
     * host and its new one; each replacement is a new generation. */
    uint8_t restarting;
    uint32_t gen;
} replica;

enum { LIFE_ABSENT, LIFE_WARMING, LIFE_READY };

typedef struct service {
    msim_component base;
    const service_cfg *cfg;
    replica *reps;
    uint32_t nreps, rr_next; /* nreps: every replica it may have (autoscaling) */
    uint32_t size;           /* the current replicas: 0 .. size-1 */
    int ndown;               /* replicas down by triggers, as last applied */
    int redeploys;           /* redeploy triggers active, as last applied */
    msim_time restart_for;   /* the running redeploy's downtime per replica */
    bool restart_lose;       /* ... and whether what a stopping replica holds vanishes */
    uint32_t *up_list, nup;
    int64_t workers; /* effective per replica; MSIM_UNLIMITED */
    double speed, errors;
    msim_time added;
    bool paused;
    msim_time pause_start;
    bool cancel;         /* cancel_on_timeout, or switched on by diagnose */
    bool lost;           /* downed replicas were lost: pinned attempts vanish */
    bool overload;       /* adm or qp: arrivals go through admit() */
    bool stop_expired;   /* cfg->stop_expired, kept where start() reads it */
    int64_t queue_cap;   /* queue.capacity, or bounded by diagnose */
    msim_rng rng_work, rng_route, rng_errors, rng_probe;
    admission *adm; /* admission limits; NULL: none */
    qpolicy *qp;    /* CoDel, adaptive LIFO, shedding by priority; NULL: none */
    call_plan calls;

    msim_metric m_arrivals, m_rejected, m_errors, m_expired, m_cancelled, m_failed_down, m_probes;
    msim_metric m_departures, m_sojourn, m_queued, m_stopped;
    msim_gauge g_queue, g_busy, g_in_system, g_workers, g_queue_cap, g_up;
    msim_metric m_oom, m_gc;         /* memory: out-of-memory errors, GC seconds */
    msim_gauge g_heap, g_heap_limit; /* memory: live bytes, heap bytes (replicas up) */
    uint32_t heap_counted;           /* replicas whose baseline g_heap holds */
} service;

extern const msim_kind msim_service_kind;

/* ---- held attempts ------------------------------------------------------------------------
 * Every change in the number of queued or in-service attempts goes through
 * these two, which keep the gauges — and, with a heap, the live bytes. */

static void queue_changed(msim_sim *sim, service *s, int d)
{
    msim_gauge_add(sim, s->g_queue, d);
    if (memory_modelled(&s->cfg->memory)) msim_gauge_add(sim, s->g_heap, d * s->cfg->memory.per_queued);
}

static void busy_changed(msim_sim *sim, service *s, int d)
{
    msim_gauge_add(sim, s->g_busy, d);
    if (memory_modelled(&s->cfg->memory)) msim_gauge_add(sim, s->g_heap, d * s->cfg->memory.per_active);
}

/* ---- intrusive lists ---------------------------------------------------------------------- */

static void list_push(list *l, msim_attempt *a)
{
    a->next = NULL;
    a->prev = l->tail;
    if (l->tail)
        l->tail->next = a;
    else
        l->head = a;
    l->tail = a;
    l->len++;
}

static void list_push_front(list *l, msim_attempt *a)
{
    a->prev = NULL;
    a->next = l->head;
    if (l->head)
        l->head->prev = a;
    else
        l->tail = a;
    l->head = a;
    l->len++;
}

static void list_remove(list *l, msim_attempt *a)
{
    if (a->prev)
        a->prev->next = a->next;
    else
        l->head = a->next;
    if (a->next)
        a->next->prev = a->prev;
    else
        l->tail = a->prev;
    a->prev = a->next = NULL;
    l->len--;
}

/* ---- routing ------------------------------------------------------------------------------ */

static uint32_t outstanding(const replica *r)
{
    return r->queue.len + r->serving.len;
}

static uint32_t random_up(service *s)
{
    return s->up_list[(uint32_t)(msim_rng_u01(&s->rng_route) * s->nup)];
}

static replica *pick(service *s)
{
    if (s->nup == 0) return NULL;
    uint32_t i = 0;
    switch (s->cfg->routing) {
    case ROUTE_ROUND_ROBIN:
        if (s->rr_next >= s->nup) s->rr_next = 0; /* wraps; no division per attempt */
        i = s->up_list[s->rr_next++];
        break;
    case ROUTE_RANDOM:
        i = random_up(s);
        break;
    case ROUTE_LEAST:
        i = s->up_list[0];
        for (uint32_t k = 1; k < s->nup; k++)
            if (outstanding(&s->reps[s->up_list[k]]) < outstanding(&s->reps[i])) i = s->up_list[k];
        break;
    case ROUTE_P2C: {
        uint32_t a = random_up(s), b = random_up(s);
        if (s->nup > 1)
            while (b == a)
                b = random_up(s);
        i = outstanding(&s->reps[b]) < outstanding(&s->reps[a]) ? b : a;
        break;
    }
    }
    return &s->reps[i];
}

static void rebuild_up_list(service *s)
{
    s->nup = 0;
    for (uint32_t i = 0; i < s->nreps; i++)
        if (s->reps[i].up) s->up_list[s->nup++] = i;
}

/* ---- service ------------------------------------------------------------------------------- */

static void complete(msim_sim *sim, void *obj, uint64_t arg);

static bool worker_free(const service *s, const replica *r)
{
    return !s->paused && (s->workers == MSIM_UNLIMITED || (int64_t)r->serving.len < s->workers);
}

static double slowdown(const service *s, const replica *r)
{
    const slowdown_cfg *sl = &s->cfg->slowdown;
    double n = sl->by == SLOW_BUSY    ? r->serving.len
               : sl->by == SLOW_QUEUE ? r->queue.len
                                      : outstanding(r);
    if (sl->by == SLOW_NONE || sl->coef == 0) return 1;
    return 1 + sl->coef * (sl->exponent == 1 ? n : pow(n, sl->exponent));
}

static void stop_expired_work(msim_sim *sim, void *obj, uint64_t arg);

/* The timer that ends a's time on its worker: completion at a->due, or with
 * stop_expired its deadline when that comes first. */
static msim_timer arm_worker(msim_sim *sim, const service *s, msim_attempt *a, msim_time now)
{
    if (s->stop_expired && a->expires < a->due)
        return msim_at(sim, a->expires > now ? a->expires : now, stop_expired_work, a, 0);
    return msim_at(sim, a->due, complete, a, 0);
}

/* Live bytes of a replica, from what it holds. */
static double live_bytes(const service *s, const replica *r)
{
    return memory_live(&s->cfg->memory, r->queue.len, r->serving.len);
}

/* Work stretched by the replica's garbage collector, at the heap's fill as
 * the attempt starts (like slowdown: fixed for the attempt's service); the
 * stretch is counted as GC time. */
static COLD double gc_stretched(msim_sim *sim, service *s, replica *r, double work)
{
    double stretched = work * memory_gc_stretch(&s->cfg->memory, live_bytes(s, r));
    msim_count(sim, s->m_gc, (stretched - work) / 1e9);
    return stretched;
}

/* Cold start: the factor at the moment the replica came up, falling linearly
 * to 1 over the duration (fixed for an attempt when its service starts). */
static double cold_factor(const service *s, const replica *r, msim_time now)
{
    const cold_cfg *c = &s->cfg->cold_start;
    msim_time age = now - r->ready_at;
    if (age >= c->duration) return 1;
    return c->factor - (c->factor - 1) * (double)age / (double)c->duration;
}

static void start(msim_sim *sim, service *s, replica *r, msim_attempt *a)
{
    list_push(&r->serving, a);
    a->state = AT_WORKER;
    busy_changed(sim, s, 1);
    double work;
    if (a->cls & MSIM_CLS_PROBE) /* a shallow health endpoint: no slow dependency */
        work = (double)msim_dist_sample(&s->cfg->probe.service_time, &s->rng_probe) *
               slowdown(s, r);
    else
        work = (double)msim_dist_sample(&s->cfg->service_time, &s->rng_work) * slowdown(s, r);
    if (s->speed != 1) work /= s->speed; /* exact either way; a division is slow */
    if (s->cfg->cold_start.factor > 1 && !(a->cls & MSIM_CLS_PROBE))
        work *= cold_factor(s, r, msim_now(sim));
    if (memory_modelled(&s->cfg->memory)) work = gc_stretched(sim, s, r, work);
    if (!(a->cls & MSIM_CLS_PROBE)) work += (double)s->added;
    msim_time now = msim_now(sim);
    a->started = now;
    a->due = now + (msim_time)work;
    a->done = s->stop_expired ? arm_worker(sim, s, a, now) : msim_at(sim, a->due, complete, a, 0);
}

/* An attempt leaves this service (served, dropped or failed): keep the
 * Little's-law books. */
static void depart(msim_sim *sim, service *s, msim_attempt *a)
{
    /* its admission permit, unless its sender's abandonment released it */
    if (s->adm && a->req && !(a->cls & MSIM_CLS_PROBE)) admission_release(sim, s->adm, a->slot);
    a->state = 0;
    msim_gauge_add(sim, s->g_in_system, -1);
    msim_count(sim, s->m_departures, 1);
    msim_count(sim, s->m_sojourn, msim_time_to_s(msim_now(sim) - a->enqueued));
}

/* Take a waiting attempt off its replica's queue. */
static void unqueue(msim_sim *sim, service *s, replica *r, msim_attempt *a)
{
    list_remove(&r->queue, a);
    queue_changed(sim, s, -1);
    if (s->qp) qpolicy_unqueued(s->qp, (uint32_t)(r - s->reps), a);
}

static void respond_rejected(msim_sim *sim, void *obj, uint64_t arg)
{
    (void)arg;
    msim_respond(sim, obj, MSIM_STATUS_REJECTED);
}

/* An attempt leaves to shed load (CoDel dropped it, or it was pushed out for
 * a higher class): answered rejected, at once but through an event, so that
 * its sender's retry cannot come back in while the service is mid-change. */
static void shed(msim_sim *sim, service *s, msim_attempt *a)
{
    msim_count(sim, s->m_rejected, 1);
    depart(sim, s, a);
    msim_at(sim, msim_now(sim), respond_rejected, a, 0);
}

/* The next attempt by the queue policy (queue_policy.c): from the end its
 * discipline serves, shedding those CoDel drops. */
static COLD msim_attempt *policy_take(msim_sim *sim, service *s, replica *r)
{
    uint32_t i = (uint32_t)(r - s->reps);
    for (;;) {
        bool newest = qpolicy_newest_first(sim, s->qp, i, r->queue.len, s->queue_cap);
        msim_attempt *a = newest ? r->queue.tail : r->queue.head;
        if (!a) return NULL;
        unqueue(sim, s, r, a);
        if (!qpolicy_drops(sim, s->qp, i, a)) return a;
        shed(sim, s, a);
    }
}

/* Take the next attempt worth serving off a queue. */
static msim_attempt *dequeue(msim_sim *sim, service *s, replica *r)
{
    for (;;) {
        msim_attempt *a;
        if (s->qp) {
            a = policy_take(sim, s, r);
        } else {
            a = s->cfg->queue.discipline == QUEUE_LIFO ? r->queue.tail : r->queue.head;
            if (a) {
                list_remove(&r->queue, a);
                queue_changed(sim, s, -1);
            }
        }
        if (!a) return NULL;
        if (!s->cfg->drop_expired || a->expires > msim_now(sim)) return a;
        msim_count(sim, s->m_expired, 1);
        depart(sim, s, a);
        msim_drop(sim, a);
    }
}

static void fill_workers(msim_sim *sim, service *s, replica *r)
{
    while (worker_free(s, r)) {
        msim_attempt *a = dequeue(sim, s, r);
        if (!a) return;
        start(sim, s, r, a);
    }
}

/* The worker is done with a: answer it and take the next one. */
static void release_worker(msim_sim *sim, service *s, msim_attempt *a, msim_status status)
{
    replica *r = &s->reps[a->slot];
    if (s->adm && a->req && !(a->cls & MSIM_CLS_PROBE)) /* a round-trip sample */
        admission_sample(sim, s->adm, a->slot, a->enqueued, false);
    list_remove(&r->serving, a);
    busy_changed(sim, s, -1);
    msim_count(sim, s->base.m_work, msim_time_to_s(a->work));
    depart(sim, s, a);
    fill_workers(sim, s, r); /* before responding: a retry must not jump the queue */
    msim_respond(sim, a, status);
}

/* stop_expired: the deadline passed in service. The worker is freed; the work
 * done so far is wasted, and nobody is answered (the sender has given up). */
static void stop_expired_work(msim_sim *sim, void *obj, uint64_t arg)
{
    (void)arg;
    msim_attempt *a = obj;
    service *s = (service *)a->to;
    replica *r = &s->reps[a->slot];
    a->done = MSIM_NO_TIMER;
    list_remove(&r->serving, a);
    busy_changed(sim, s, -1);
    a->work += msim_now(sim) - a->started;
    msim_count(sim, s->base.m_work, msim_time_to_s(a->work));
    msim_count(sim, s->m_stopped, 1);
    depart(sim, s, a);
    fill_workers(sim, s, r);
    msim_drop(sim, a);
}

/* The attempt's own work is done: answer it, or make its calls first. The
 * time spent waiting on calls holds the worker but is not work. */
static void complete(msim_sim *sim, void *obj, uint64_t arg)
{
    (void)arg;
    msim_attempt *a = obj;
    service *s = (service *)a->to;
    a->done = MSIM_NO_TIMER;
    if (a->state == AT_CALLED) {
        release_worker(sim, s, a, (msim_status)a->status);
        return;
    }
    a->work += msim_now(sim) - a->started;
    if (calls_configured(&s->calls) && !(a->cls & MSIM_CLS_PROBE)) {
        a->state = AT_CALLING;
        calls_start(sim, &s->calls, a);
        return;
    }
    release_worker(sim, s, a, MSIM_STATUS_OK);
}

/* The calls are done. A paused replica cannot answer until the pause ends. */
static void calls_finished(msim_sim *sim, msim_attempt *a, msim_status status)
{
    service *s = (service *)a->to;
    if (!s->paused) {
        release_worker(sim, s, a, status);
        return;
    }
    a->state = AT_CALLED;
    a->status = (uint8_t)status;
    a->started = a->due = s->pause_start; /* resumes with nothing left to do */
}

/* ---- probes on their own thread (probe.path: separate) ------------------------------------ */

static void complete_side(msim_sim *sim, void *obj, uint64_t arg)
{
    (void)arg;
    msim_attempt *a = obj;
    service *s = (service *)a->to;
    a->done = MSIM_NO_TIMER;
    list_remove(&s->reps[a->slot].side, a);
    a->state = 0;
    msim_respond(sim, a, MSIM_STATUS_OK);
}

/* No queue and no worker: only a paused or downed replica fails it. A probe
 * that arrives during a pause starts when the pause does, so the pause's end
 * shifts it like the others. */
static void start_side(msim_sim *sim, service *s, replica *r, msim_attempt *a)
{
    msim_time now = msim_now(sim);
    msim_time work =
        (msim_time)((double)msim_dist_sample(&s->cfg->probe.service_time, &s->rng_probe) /
                    s->speed);
    a->slot = (uint16_t)(r - s->reps);
    a->enqueued = now;
    a->work = 0;
    a->state = AT_SIDE;
    list_push(&r->side, a);
    a->started = s->paused ? s->pause_start : now;
    a->due = a->started + work;
    if (!s->paused) a->done = msim_at(sim, a->due, complete_side, a, 0);
}

/* ---- arrivals ----------------------------------------------------------------------------- */

/* A pinned attempt for a replica that is down: refused at once (connection
 * refused), or lost without a word when the replica vanished (a black hole). */
static void refuse_down(msim_sim *sim, service *s, msim_attempt *a)
{
    if (s->lost) {
        msim_count(sim, s->m_failed_down, 1);
        msim_drop(sim, a);
        return;
    }
    msim_count(sim, s->m_rejected, 1);
    msim_respond(sim, a, MSIM_STATUS_REJECTED);
}

/* The replica an attempt goes to: the sender's choice, or our routing. */
static replica *route(service *s, const msim_attempt *a)
{
    if (!(a->cls & MSIM_CLS_PINNED)) return pick(s);
    return a->slot < s->nreps ? &s->reps[a->slot] : NULL;
}

static bool queue_full(const service *s, const replica *r)
{
    return !worker_free(s, r) && s->queue_cap != MSIM_UNLIMITED &&
           (int64_t)r->queue.len >= s->queue_cap;
}

/* Overload control before an attempt is placed (admission.c, queue_policy.c):
 * over its replica's admission limit, or facing a full queue, it is refused —
 * unless a waiting attempt of a lower class can be pushed out to make room;
 * shedding by priority while CoDel drops, it is refused if a higher class
 * waits. An attempt whose sender already left takes no permit (nobody will
 * sample it). */
static COLD bool admit(msim_sim *sim, service *s, replica *r, msim_attempt *a)
{
    uint32_t i = (uint32_t)(r - s->reps);
    if (s->qp && qpolicy_refuses(sim, s->qp, i, a)) {
        msim_count(sim, s->m_rejected, 1);
        msim_respond(sim, a, MSIM_STATUS_REJECTED);
        return false;
    }
    for (;;) {
        bool over = s->adm && a->req && !admission_allows(s->adm, i);
        if (!over && !queue_full(s, r)) break;
        msim_attempt *v = s->qp ? qpolicy_victim(sim, s->qp, i, r->queue.head, a) : NULL;
        if (!v) {
            if (over) admission_refused(sim, s->adm);
            msim_count(sim, s->m_rejected, 1);
            msim_respond(sim, a, MSIM_STATUS_REJECTED);
            return false;
        }
        unqueue(sim, s, r, v);
        shed(sim, s, v);
    }
    if (s->adm && a->req) admission_acquire(sim, s->adm, i);
    return true;
}

/* An attempt the replica has no memory left to hold fails at once with an
 * error (an OutOfMemoryError answered as a 500). Only arrivals are checked: an
 * attempt moving from the queue to a worker is already held. */
static COLD bool out_of_memory(msim_sim *sim, service *s, replica *r, msim_attempt *a)
{
    bool starts = worker_free(s, r) && r->queue.len == 0;
    const memory_cfg *m = &s->cfg->memory;
    if (!memory_full(m, live_bytes(s, r), starts ? m->per_active : m->per_queued)) return false;
    msim_count(sim, s->m_oom, 1);
    msim_respond(sim, a, MSIM_STATUS_ERROR);
    return true;
}

static void service_accept(msim_sim *sim, msim_component *self, msim_attempt *a)
{
    service *s = (service *)self;
    bool probe = (a->cls & MSIM_CLS_PROBE) != 0;
    msim_count(sim, s->m_arrivals, 1);
    if (probe) msim_count(sim, s->m_probes, 1);
    if (s->cancel && !a->req) { /* the cancel overtook it */
        msim_count(sim, s->m_cancelled, 1);
        msim_drop(sim, a);
        return;
    }
    /* injected errors hit the application, not a shallow health endpoint */
    if (!probe && s->errors > 0 && msim_rng_u01(&s->rng_errors) < s->errors) {
        msim_count(sim, s->m_errors, 1);
        msim_respond(sim, a, MSIM_STATUS_ERROR);
        return;
    }
    replica *r = route(s, a);
    if (r && !r->up) {
        refuse_down(sim, s, a);
        return;
    }
    int path = probe ? s->cfg->probe.path : PROBE_QUEUE;
    if (r && path == PROBE_SEPARATE) {
        start_side(sim, s, r, a);
        return;
    }
    if (r && !probe && memory_modelled(&s->cfg->memory) && out_of_memory(sim, s, r, a)) return;
    if (s->overload && r && !probe && !admit(sim, s, r, a)) return;
    if (!r || (path == PROBE_QUEUE && queue_full(s, r))) {
        msim_count(sim, s->m_rejected, 1);
        msim_respond(sim, a, MSIM_STATUS_REJECTED);
        return;
    }
    a->slot = (uint16_t)(r - s->reps);
    a->enqueued = msim_now(sim);
    a->work = 0;
    msim_gauge_add(sim, s->g_in_system, 1);
    if (worker_free(s, r) && r->queue.len == 0) {
        if (s->qp) qpolicy_no_wait(sim, s->qp, a->slot);
        start(sim, s, r, a);
        return;
    }
    /* a priority probe goes where the next dequeue looks */
    if (path == PROBE_PRIORITY && queue_oldest_first(s->cfg->queue.discipline))
        list_push_front(&r->queue, a);
    else
        list_push(&r->queue, a);
    if (s->qp) qpolicy_queued(s->qp, a->slot, a);
    a->state = AT_QUEUE;
    msim_count(sim, s->m_queued, 1);
    queue_changed(sim, s, 1);
}

/* A queued attempt leaves without service: its sender is gone. */
static COLD void cancel_queued(msim_sim *sim, service *s, replica *r, msim_attempt *a)
{
    unqueue(sim, s, r, a);
    msim_count(sim, s->m_cancelled, 1);
    depart(sim, s, a);
    msim_drop(sim, a);
}

/* The sender gave up on an attempt still here: the cancel releases its
 * admission permit (Netflix samples it as a drop, Envoy not at all), then
 * the service goes on as without limits. Out of line: a service without
 * limits pays one branch. */
static COLD void abandon_permit(msim_sim *sim, service *s, msim_attempt *a)
{
    if (a->state && !(a->cls & MSIM_CLS_PROBE)) { /* it holds one */
        admission_sample(sim, s->adm, a->slot, a->enqueued, true);
        admission_release(sim, s->adm, a->slot);
    }
    if (s->cancel && a->state == AT_QUEUE) cancel_queued(sim, s, &s->reps[a->slot], a);
}

static void service_abandon(msim_sim *sim, msim_component *self, msim_attempt *a)
{
    service *s = (service *)self;
    if (s->adm) {
        abandon_permit(sim, s, a);
        return;
    }
    if (!s->cancel || a->state != AT_QUEUE) return;
    cancel_queued(sim, s, &s->reps[a->slot], a);
}

/* ---- triggers -------------------------------------------------------------------------------- */

/* A replica goes down: what it held fails at once (a reset) or vanishes (its
 * senders wait for their timeouts). */
static void take_down(msim_sim *sim, service *s, replica *r, bool lose)
{
    while (r->side.head) {
        msim_attempt *a = r->side.head;
        list_remove(&r->side, a);
        msim_cancel(sim, &a->done);
        a->state = 0;
        msim_count(sim, s->m_failed_down, 1);
        if (lose)
            msim_drop(sim, a);
        else
            msim_respond(sim, a, MSIM_STATUS_ERROR);
    }
    list *lists[] = {&r->serving, &r->queue};
    for (int k = 0; k < 2; k++) {
        while (lists[k]->head) {
            msim_attempt *a = lists[k]->head;
            list_remove(lists[k], a);
            if (k == 0)
                busy_changed(sim, s, -1);
            else
                queue_changed(sim, s, -1);
            if (k == 0) {
                msim_cancel(sim, &a->done);
                if (a->state == AT_WORKER && !s->paused) a->work += msim_now(sim) - a->started;
                if (a->state == AT_CALLING) calls_detach(&s->calls, a);
                msim_count(sim, s->base.m_work, msim_time_to_s(a->work));
            }
            msim_count(sim, s->m_failed_down, 1);
            depart(sim, s, a);
            if (lose)
                msim_drop(sim, a);
            else
                msim_respond(sim, a, MSIM_STATUS_ERROR);
        }
    }
    if (s->qp) qpolicy_emptied(s->qp, (uint32_t)(r - s->reps));
}

/* A replica takes new attempts while it is a ready member not down by a
 * trigger. One that starts taking them (warmed up, or back from a trigger)
 * starts cold. */
static void refresh_up(msim_sim *sim, service *s)
{
    msim_time now = msim_now(sim);
    for (uint32_t i = 0; i < s->nreps; i++) {
        replica *r = &s->reps[i];
        bool up = r->life == LIFE_READY && !r->down && !r->restarting;
        if (up && !r->up) r->ready_at = now;
        r->up = up;
    }
    rebuild_up_list(s);
    msim_gauge_set(sim, s->g_up, s->nup);
}

/* The highest-numbered of the current replicas go down first (as the count
 * changes; an autoscaler's later resizes leave the downed ones down).
 * Routing is updated before any held attempt is failed: a sender may retry
 * at once, and must not land on a replica that is going down. */
static void set_replicas_down(msim_sim *sim, service *s, int down, bool lose)
{
    if (down == s->ndown) return; /* as asked: a resize since must not move it */
    s->ndown = down;
    if (down > (int)s->size) down = (int)s->size;
    if (down < 0) down = 0;
    uint32_t want_up = s->size - (uint32_t)down;
    for (uint32_t i = 0; i < s->size; i++)
        s->reps[i].down = i >= want_up;
    refresh_up(sim, s);
    for (uint32_t i = want_up; i < s->size; i++)
        take_down(sim, s, &s->reps[i], lose);
}

/* Freeze or resume the attempts of one list: a frozen attempt keeps its
 * remaining time and resumes where it stopped. One waiting on its calls has
 * no timer to freeze: the calls go on (they are other services' work). */
static void pause_list(msim_sim *sim, service *s, list *l, bool paused, msim_event_fn done)
{
    msim_time now = msim_now(sim);
    for (msim_attempt *a = l->head; a; a = a->next) {
        if (a->state == AT_CALLING) continue;
        if (paused) {
            msim_cancel(sim, &a->done);
            if (done == complete) a->work += now - a->started;
        } else {
            a->due += now - s->pause_start;
            a->started = now;
            if (done == complete && a->state == AT_WORKER)
                a->done = arm_worker(sim, s, a, now);
            else
                a->done = msim_at(sim, a->due, done, a, 0);
        }
    }
}

/* Stop the world: in-service attempts freeze with their remaining work and
 * resume when the pause ends. */
static void set_paused(msim_sim *sim, service *s, bool paused)
{
    if (paused == s->paused) return;
    s->paused = paused;
    if (paused) s->pause_start = msim_now(sim);
    for (uint32_t i = 0; i < s->nreps; i++) {
        pause_list(sim, s, &s->reps[i].serving, paused, complete);
        pause_list(sim, s, &s->reps[i].side, paused, complete_side);
    }
}

static void update_capacity_gauges(msim_sim *sim, service *s)
{
    int64_t cap = s->queue_cap;
    msim_gauge_set(sim, s->g_workers, s->workers == MSIM_UNLIMITED ? 0 : (double)(s->workers * s->nup));
    msim_gauge_set(sim, s->g_queue_cap, cap == MSIM_UNLIMITED ? 0 : (double)(cap * s->nup));
    if (memory_modelled(&s->cfg->memory)) { /* a replica's baseline lives while it is up */
        msim_gauge_set(sim, s->g_heap_limit, s->cfg->memory.heap * s->nup);
        msim_gauge_add(sim, s->g_heap, s->cfg->memory.baseline * ((double)s->nup - s->heap_counted));
        s->heap_counted = s->nup;
    }
}

static void redeploy_edge(msim_sim *sim, service *s, const msim_conditions *c);

static void service_apply(msim_sim *sim, msim_component *self, const msim_conditions *c)
{
    service *s = (service *)self;
    s->speed = c->speed_factor > 0 ? c->speed_factor : 1e-9;
    s->added = c->added_latency;
    s->errors = 1 - (1 - s->cfg->errors) * (1 - c->error_fraction);
    if (s->cfg->workers != MSIM_UNLIMITED) {
        s->workers = llround((double)s->cfg->workers * c->workers_factor);
        if (s->workers < 0) s->workers = 0;
    }
    s->lost = c->lose_inflight;
    set_replicas_down(sim, s, c->replicas_down, c->lose_inflight);
    set_paused(sim, s, c->paused > 0);
    redeploy_edge(sim, s, c);
    update_capacity_gauges(sim, s);
    for (uint32_t i = 0; i < s->nreps; i++) /* draining ones too (a downed one holds nothing) */
        if (!s->reps[i].down) fill_workers(sim, s, &s->reps[i]);
}

/* ---- setup ------------------------------------------------------------------------------------ */

/* The heap's columns exist only when memory is modelled. */
static void register_memory_metrics(msim_sim *sim, service *s)
{
    msim_component *c = &s->base;
    s->m_oom = msim_counter(sim, c, "out_of_memory", "attempts", MSIM_ROLE_NONE);
    s->m_gc = msim_counter(sim, c, "gc_time", "s", MSIM_ROLE_GC_TIME);
    s->g_heap = msim_gauge_new(sim, c, "heap_used", "bytes", MSIM_ROLE_HEAP_USED);
    s->g_heap_limit = msim_gauge_new(sim, c, "heap_limit", "bytes", MSIM_ROLE_HEAP_LIMIT);
}

static void register_metrics(msim_sim *sim, service *s)
{
    msim_component *c = &s->base;
    s->m_arrivals = msim_counter(sim, c, "arrivals", "attempts", MSIM_ROLE_ARRIVALS);
    s->m_rejected = msim_counter(sim, c, "rejected", "attempts", MSIM_ROLE_NONE);
    s->m_errors = msim_counter(sim, c, "errors_injected", "attempts", MSIM_ROLE_NONE);
    s->m_expired = msim_counter(sim, c, "dropped_expired", "attempts", MSIM_ROLE_NONE);
    s->m_cancelled = msim_counter(sim, c, "cancelled", "attempts", MSIM_ROLE_NONE);
    s->m_failed_down = msim_counter(sim, c, "lost_to_crash", "attempts", MSIM_ROLE_NONE);
    s->m_queued = msim_counter(sim, c, "queued", "attempts", MSIM_ROLE_NONE);
    s->m_probes = msim_counter(sim, c, "probes", "attempts", MSIM_ROLE_NONE);
    s->m_departures = msim_counter(sim, c, "departures", "attempts", MSIM_ROLE_DEPARTURES);
    s->m_sojourn = msim_counter(sim, c, "sojourn", "s", MSIM_ROLE_SOJOURN);
    s->g_queue = msim_gauge_new(sim, c, "queue", "attempts", MSIM_ROLE_QUEUE);
    s->g_queue_cap = msim_gauge_new(sim, c, "queue_capacity", "attempts", MSIM_ROLE_QUEUE_CAP);
    /* a pure delay (unlimited workers) has no utilisation to add */
    s->g_busy = msim_gauge_new(sim, c, "busy", "workers",
                               s->cfg->workers == MSIM_UNLIMITED ? MSIM_ROLE_NONE : MSIM_ROLE_BUSY);
    s->g_workers = msim_gauge_new(sim, c, "workers", "workers", MSIM_ROLE_WORKERS);
    s->g_in_system = msim_gauge_new(sim, c, "in_system", "attempts", MSIM_ROLE_IN_SYSTEM);
    s->g_up = msim_gauge_new(sim, c, "replicas_up", "replicas", MSIM_ROLE_NONE);
    if (memory_modelled(&s->cfg->memory)) register_memory_metrics(sim, s);
}

static int service_init(msim_sim *sim, msim_component *self, const void *cfg, msim_error *err)
{
    service *s = (service *)self;
    s->cfg = cfg;
    s->size = (uint32_t)s->cfg->replicas;
    uint32_t limit = msim_scale_limit(sim, self); /* room for what an autoscaler may add */
    s->nreps = limit > s->size ? limit : s->size;
    s->reps = msim_arena_alloc(sim, s->nreps * sizeof *s->reps);
    s->up_list = msim_arena_alloc(sim, s->nreps * sizeof *s->up_list);
    if (!s->reps || !s->up_list) return msim_error_set(err, -MSIM_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < s->size; i++) { /* warm since long before the run */
        s->reps[i].up = true;
        s->reps[i].life = LIFE_READY;
        s->reps[i].ready_at = -s->cfg->cold_start.duration;
    }
    rebuild_up_list(s);
    s->workers = s->cfg->workers;
    s->cancel = s->cfg->cancel_on_timeout;
    s->queue_cap = s->cfg->queue.capacity;
    s->speed = 1;
    s->errors = s->cfg->errors;
    s->rng_work = msim_stream(sim, self->name, "service");
    s->rng_route = msim_stream(sim, self->name, "routing");
    s->rng_errors = msim_stream(sim, self->name, "errors");
    s->rng_probe = msim_stream(sim, self->name, "probes");
    register_metrics(sim, s);
    if (s->cfg->stop_expired)
        s->m_stopped = msim_counter(sim, self, "stopped_expired", "attempts", MSIM_ROLE_NONE);
    int rc = admission_new(sim, self, &s->cfg->admission, s->nreps, &s->adm, err);
    if (!rc) {
        bool by_priority = s->cfg->shed_by_priority;
        rc = qpolicy_new(sim, self, &s->cfg->queue, by_priority, s->nreps, &s->qp, err);
    }
    if (rc) return rc;
    s->overload = s->adm || s->qp;
    s->stop_expired = s->cfg->stop_expired;
    return calls_init(sim, self, &s->calls, &s->cfg->calls, calls_finished, err);
}

static void service_start(msim_sim *sim, msim_component *self)
{
    service *s = (service *)self;
    msim_gauge_set(sim, s->g_up, s->nup);
    update_capacity_gauges(sim, s);
    if (s->adm) admission_start(sim, s->adm);
}

/* ---- mechanisms diagnose can switch off ------------------------------------------------------ */

/* Stop working for clients who left: cancel queued attempts when their
 * sender gives up, and clear the ones already abandoned. */
static void disable_abandoned_work(msim_sim *sim, msim_component *self)
{
    service *s = (service *)self;
    s->cancel = true;
    for (uint32_t i = 0; i < s->nreps; i++) {
        replica *r = &s->reps[i];
        for (msim_attempt *a = r->queue.head, *next; a; a = next) {
            next = a->next;
            if (!a->req) cancel_queued(sim, s, r, a);
        }
    }
}

/* Bound each queue to one waiting attempt per worker; the newest beyond it
 * are rejected now (their senders may retry). */
static void disable_long_queues(msim_sim *sim, msim_component *self)
{
    service *s = (service *)self;
    int64_t bound = s->cfg->workers == MSIM_UNLIMITED ? 0 : s->cfg->workers;
    if (s->queue_cap == MSIM_UNLIMITED || s->queue_cap > bound) s->queue_cap = bound;
    update_capacity_gauges(sim, s);
    for (uint32_t i = 0; i < s->nreps; i++) {
        replica *r = &s->reps[i];
        while ((int64_t)r->queue.len > bound) {
            msim_attempt *a = r->queue.tail;
            unqueue(sim, s, r, a);
            msim_count(sim, s->m_rejected, 1);
            depart(sim, s, a);
            msim_respond(sim, a, MSIM_STATUS_REJECTED);
        }
    }
}

static const msim_mechanism service_mechanisms[] = {
    {"abandoned_work", "stop serving attempts whose clients gave up (cancel on timeout)",
     disable_abandoned_work},
    {"long_queues", "bound each queue to one waiting attempt per worker", disable_long_queues},
};

/* ---- autoscaling ---------------------------------------------------------------------------
 * An autoscaler resizes the service through msim_scaling. Replicas join at
 * the next numbers and serve after their warm-up (then start cold, see
 * cold_factor); the highest-numbered leave first and drain: out of the
 * routing and of the balancers' endpoints at once, they serve what they hold
 * and fail what is left when the grace period ends — Kubernetes' SIGTERM,
 * then SIGKILL after terminationGracePeriodSeconds. The load figures are the
 * integrals of the service's own gauges. */

static void endpoints_changed(msim_sim *sim, service *s)
{
    refresh_up(sim, s);
    update_capacity_gauges(sim, s);
    msim_endpoints_changed(sim, &s->base);
}

static void warmed_up(msim_sim *sim, void *obj, uint64_t i)
{
    service *s = obj;
    s->reps[i].warming = MSIM_NO_TIMER;
    s->reps[i].life = LIFE_READY;
    endpoints_changed(sim, s);
}

/* A replica that left is killed: what it still holds fails, as a killed
 * process's connections do. */
static void grace_over(msim_sim *sim, void *obj, uint64_t i)
{
    service *s = obj;
    s->reps[i].grace = MSIM_NO_TIMER;
    take_down(sim, s, &s->reps[i], false);
}

/* A replica back before its drain ended keeps what it holds: the new pod and
 * the old one's remaining work share the slot. */
static void add_replica(msim_sim *sim, service *s, uint32_t i, msim_time warmup)
{
    replica *r = &s->reps[i];
    msim_cancel(sim, &r->grace);
    r->down = false;
    r->life = warmup > 0 ? LIFE_WARMING : LIFE_READY;
    if (warmup > 0) r->warming = msim_after(sim, warmup, warmed_up, s, i);
}

static void remove_replica(msim_sim *sim, service *s, uint32_t i, msim_time grace)
{
    replica *r = &s->reps[i];
    msim_cancel(sim, &r->warming);
    r->life = LIFE_ABSENT;
    if (grace != MSIM_NEVER && (r->queue.len || r->serving.len || r->side.len))
        r->grace = msim_after(sim, grace, grace_over, s, i);
}

static void service_resize(msim_sim *sim, msim_component *self, const char *unit, uint32_t n,
                           const msim_resize *how)
{
    service *s = (service *)self;
    (void)unit;
    if (n > s->nreps) n = s->nreps;
    if (n < 1) n = 1;
    if (n == s->size) return;
    while (s->size < n)
        add_replica(sim, s, s->size++, how->warmup);
    while (s->size > n)
        remove_replica(sim, s, --s->size, how->grace);
    endpoints_changed(sim, s);
}

/* The age of the oldest attempt waiting at a current replica (a queue keeps
 * arrival order, whichever end its discipline serves). */
static msim_time oldest_wait(const msim_sim *sim, const service *s)
{
    msim_time now = msim_now(sim), oldest = 0;
    for (uint32_t i = 0; i < s->size; i++) {
        const msim_attempt *h = s->reps[i].queue.head;
        if (h && now - h->enqueued > oldest) oldest = now - h->enqueued;
    }
    return oldest;
}

static int service_load(msim_sim *sim, msim_component *self, const char *unit, msim_load *out,
                        msim_error *err)
{
    service *s = (service *)self;
    if (unit)
        return msim_error_set(err, -MSIM_EINVAL,
                              "a service is resized as a whole: leave out `queue`");
    *out = (msim_load){
        .size = s->size,
        .ready = s->nup,
        .workers = s->workers == MSIM_UNLIMITED ? 0 : s->workers,
        .busy_s = msim_gauge_area(sim, s->g_busy),
        .held_s = msim_gauge_area(sim, s->g_in_system),
        .queued_s = msim_gauge_area(sim, s->g_queue),
        .oldest = oldest_wait(sim, s),
    };
    return 0;
}

static const msim_scaling service_scaling = {service_load, service_resize};

/* ---- redeploys -------------------------------------------------------------------------------
 * A rolling update (the `redeploy` trigger) replaces the current replicas in
 * index order, `batch` at a time, evenly over the trigger so that the last is
 * back by its end: batch g stops at start + g x (span - restart) / batches.
 * A stopping replica leaves the endpoints and drops or fails what it holds
 * (SIGTERM to a server that does not drain); `restart` later it is back, cold,
 * as a new host: its generation changes, so clients' connections to the old
 * one and its old address are dead (msim_replica_generation). */

static void restart_end(msim_sim *sim, void *obj, uint64_t i)
{
    service *s = obj;
    s->reps[i].restarting--;
    endpoints_changed(sim, s);
}

static void restart_begin(msim_sim *sim, void *obj, uint64_t i)
{
    service *s = obj;
    replica *r = &s->reps[i];
    if (i >= s->size || r->life != LIFE_READY) return; /* scaled away, or still warming */
    r->restarting++;
    r->gen++;
    endpoints_changed(sim, s); /* routing first: a sender may retry at once */
    take_down(sim, s, r, s->restart_lose);
    msim_after(sim, s->restart_for, restart_end, s, i);
}

/* A redeploy trigger started (the count of active ones rose). */
static void redeploy_edge(msim_sim *sim, service *s, const msim_conditions *c)
{
    bool rising = c->redeploys > s->redeploys;
    s->redeploys = c->redeploys;
    if (!rising || s->size == 0) return;
    s->restart_for = c->redeploy_restart;
    s->restart_lose = c->redeploy_lose;
    uint32_t batch = c->redeploy_batch > 0 ? (uint32_t)c->redeploy_batch : 1;
    uint32_t batches = (s->size + batch - 1) / batch;
    msim_time step = (c->redeploy_span - c->redeploy_restart) / batches, now = msim_now(sim);
    for (uint32_t i = 0; i < s->size; i++)
        msim_at(sim, now + (msim_time)(i / batch) * step, restart_begin, s, i);
}

uint32_t msim_replica_generation(const msim_component *target, uint32_t i)
{
    if (!target || target->kind != &msim_service_kind) return 0;
    const service *s = (const service *)target;
    return i < s->nreps ? s->reps[i].gen + 1 : 0;
}

bool msim_replica_up(const msim_component *target, uint32_t i)
{
    if (!target || target->kind != &msim_service_kind) return false;
    const service *s = (const service *)target;
    return i < s->nreps && s->reps[i].up;
}

uint32_t msim_replicas(const msim_component *target)
{
    if (!target || target->kind != &msim_service_kind) return 0;
    return ((const service *)target)->nreps;
}

bool msim_replica_endpoint(const msim_component *target, uint32_t i)
{
    if (!target || target->kind != &msim_service_kind) return false;
    const service *s = (const service *)target;
    return i < s->nreps && s->reps[i].life == LIFE_READY && !s->reps[i].restarting;
}

const msim_kind msim_service_kind = {
    .name = "service",
    .section = "services",
    .doc = "replicas x workers behind bounded queues (fifo, lifo, CoDel, adaptive LIFO) and "
           "admission limits, with a service-time distribution",
    .schema = &service_schema,
    .size = sizeof(service),
    .roles = MSIM_KIND_TARGET,
    .conditions = MSIM_COND_CAPACITY | MSIM_COND_LATENCY | MSIM_COND_ERRORS | MSIM_COND_PAUSE |
                  MSIM_COND_REDEPLOY,
    .init = service_init,
    .start = service_start,
    .accept = service_accept,
    .on_abandon = service_abandon,
    .apply = service_apply,
    .mechanisms = service_mechanisms,
    .nmechanisms = sizeof service_mechanisms / sizeof service_mechanisms[0],
    .scaling = &service_scaling,
};
