/* jobqueue.c — the `jobqueue` kind: a pool of workers serving several named
 * queues of background jobs, each queue with an optional latency SLO.
 *
 * A job is an attempt that arrives here. Its *class* (a job type: what it
 * costs and how late it may start) says which queue it joins: a class is
 * bound to the sender that enqueues it (`from`), or drawn by `share` among
 * the classes bound to no sender. A free worker takes the next job from the
 * queues it serves, chosen by the policy: strict priority, weighted round
 * robin, earliest deadline first (a job's deadline is its enqueue time plus
 * its queue's SLO), most behind its SLO (age / SLO), or one FIFO across all
 * queues. A queue may have a worker pool of its own instead of sharing the
 * common one. Within a queue, jobs start in arrival order.
 *
 * The SLO is on the *wait*: a job is late if it started more than its SLO
 * after it was enqueued — the "queue latency" the SREcon'23 happy-queues
 * talk alerts and scales on (semantics.md §A3). Per queue the kind reports
 * its depth, the age of its oldest job, its waits, and how many jobs started
 * late; per class the same against the class's own SLO (its queue's unless
 * set), which is what compares designs that put a class in different queues.
 *
 * A job whose sender gave up still runs when its turn comes (late work is
 * done, as in most job systems); the time spent on it counts as wasted.
 *
 * An autoscaler may resize the common pool or a queue's own pool (the end of
 * this file); each pool keeps the integrals over time it reads.
 *
 * Holder fields of a job held here: `slot` is its class, `state` says
 * queued or running, prev/next link it into its queue.
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "metasim.h"

enum { POL_PRIORITY, POL_WEIGHTED, POL_EDF, POL_BEHIND, POL_FIFO };
enum { AT_QUEUE = 1, AT_WORKER = 2 };

#define MAX_QUEUES  64
#define MAX_CLASSES 256

typedef struct queue_cfg {
    const char *name;
    msim_time slo;
    int64_t priority;
    double weight;
    int64_t workers;
    int64_t capacity;
} queue_cfg;

typedef struct class_cfg {
    const char *name;
    const char *queue;
    msim_ref from;
    double share;
    msim_dist service_time;
    msim_time slo;
    int32_t qi; /* the queue's index, resolved by check_jobqueue */
} class_cfg;

typedef struct jobqueue_cfg {
    int64_t workers;
    int policy;
    msim_list queues;
    msim_list classes;
} jobqueue_cfg;

/* ---- parameters ------------------------------------------------------------------------------ */

static const msim_choice policies[] = {
    {"strict_priority", "the non-empty queue of lowest `priority` (then listed first)"},
    {"weighted", "weighted round robin over the non-empty queues (smooth, by `weight`)"},
    {"earliest_deadline", "the queue whose oldest job's deadline (enqueue time + SLO) is "
                          "earliest; queues without an SLO after all others, oldest first"},
    {"most_behind", "the queue whose oldest job has the largest age / SLO; queues without an SLO "
                    "after all others, oldest first"},
    {"fifo", "the oldest job of any queue: one queue in all but name"},
    {NULL, NULL},
};

static const msim_param queue_params[] = {
    {"name", &msim_type_string, offsetof(queue_cfg, name), NULL, MSIM_UNBOUNDED,
     "its name, e.g. within_5_minutes (columns are named after it)", NULL, NULL},
    {"slo", &msim_type_timeout, offsetof(queue_cfg, slo), "none", 1, 1e300,
     "the longest a job may wait to start before it is late (none: no SLO)", NULL, NULL},
    {"priority", &msim_type_int, offsetof(queue_cfg, priority), "0", 0, 1000,
     "strict_priority: 0 is served first", NULL, NULL},
    {"weight", &msim_type_number, offsetof(queue_cfg, weight), "1", 1e-6, 1e6,
     "weighted: its share of starts while the others also have work", NULL, NULL},
    {"workers", &msim_type_int, offsetof(queue_cfg, workers), "0", 0, 1e9,
     "workers of its own that serve only it (0: it shares the common pool)", NULL, NULL},
    {"capacity", &msim_type_count, offsetof(queue_cfg, capacity), "unlimited", 0, 1e12,
     "jobs that may wait in it; a full queue rejects at once", NULL, NULL},
};

static const msim_schema queue_schema =
    MSIM_SCHEMA("queue", "a named queue of jobs", queue_params, queue_cfg, NULL);

static const msim_param class_params[] = {
    {"name", &msim_type_string, offsetof(class_cfg, name), NULL, MSIM_UNBOUNDED,
     "the job type, e.g. password_reset (columns are named after it)", NULL, NULL},
    {"queue", &msim_type_string, offsetof(class_cfg, queue), NULL, MSIM_UNBOUNDED,
     "the queue its jobs join", NULL, NULL},
    {"from", &msim_type_ref, offsetof(class_cfg, from), "~", MSIM_UNBOUNDED,
     "the sender whose jobs are of this class (left out: drawn by share for other senders)",
     (const void *)(uintptr_t)(MSIM_KIND_SOURCE | MSIM_KIND_TARGET), NULL},
    {"share", &msim_type_number, offsetof(class_cfg, share), "1", 0, 1e12,
     "relative frequency among the classes a sender's jobs are drawn from", NULL, NULL},
    {"service_time", &msim_type_dist, offsetof(class_cfg, service_time), NULL, MSIM_UNBOUNDED,
     "worker time per job", NULL, NULL},
    {"slo", &msim_type_timeout, offsetof(class_cfg, slo), "none", 1, 1e300,
     "the longest its jobs may wait to start (none: its queue's SLO)", NULL, NULL},
};

static const msim_schema class_schema =
    MSIM_SCHEMA("class", "a type of job", class_params, class_cfg, NULL);

static const msim_param jobqueue_params[] = {
    {"workers", &msim_type_int, offsetof(jobqueue_cfg, workers), "1", 0, 1e9,
     "the common pool, shared by every queue without workers of its own", NULL, NULL},
    {"policy", &msim_type_enum, offsetof(jobqueue_cfg, policy), "strict_priority", MSIM_UNBOUNDED,
     "which queue a free worker of the common pool serves next", policies, NULL},
    {"queues", &msim_type_list, offsetof(jobqueue_cfg, queues), NULL, MSIM_UNBOUNDED,
     "the named queues, each {name, slo, priority, weight, workers, capacity}: "
     "[{name: within_1_minute, slo: 1m}, ...]",
     &queue_schema, NULL},
    {"classes", &msim_type_list, offsetof(jobqueue_cfg, classes), NULL, MSIM_UNBOUNDED,
     "the job types, each {name, queue, from, share, service_time, slo}: [{name: payment, "
     "from: shop, queue: within_1_minute, service_time: 50ms}, ...]",
     &class_schema, NULL},
};

static int check_queues(msim_bind *b, const msim_node *n, const jobqueue_cfg *c)
{
    const queue_cfg *q = c->queues.items;
    if (c->queues.n == 0 || c->queues.n > MAX_QUEUES)
        return msim_bind_fail(b, msim_node_get(n, "queues"), -MSIM_EINVAL,
                              "a jobqueue needs 1 to %d queues: queues: [{name: NAME}]",
                              MAX_QUEUES);
    bool shared = false;
    for (size_t i = 0; i < c->queues.n; i++) {
        shared |= q[i].workers == 0;
        for (size_t k = 0; k < i; k++)
            if (strcmp(q[i].name, q[k].name) == 0)
                return msim_bind_fail(b, msim_bind_where(b, &q[i].name), -MSIM_EINVAL,
                                      "two queues are named \"%s\"", q[i].name);
    }
    if (shared && c->workers < 1)
        return msim_bind_fail(b, msim_node_get(n, "workers"), -MSIM_EINVAL,
                              "queues without workers of their own need the common pool: "
                              "workers >= 1");
    return 0;
}

/* Classes: unique names, a known queue each (resolved here), and every
 * sender able to draw a class. */
static int check_classes(msim_bind *b, const msim_node *n, jobqueue_cfg *c)
{
    class_cfg *cl = c->classes.items;
    const queue_cfg *q = c->queues.items;
    if (c->classes.n == 0 || c->classes.n > MAX_CLASSES)
        return msim_bind_fail(b, msim_node_get(n, "classes"), -MSIM_EINVAL,
                              "a jobqueue needs 1 to %d classes: classes: [{name: NAME, queue: "
                              "QUEUE, service_time: 50ms}]",
                              MAX_CLASSES);
    for (size_t i = 0; i < c->classes.n; i++) {
        for (size_t k = 0; k < i; k++)
            if (strcmp(cl[i].name, cl[k].name) == 0)
                return msim_bind_fail(b, msim_bind_where(b, &cl[i].name), -MSIM_EINVAL,
                                      "two classes are named \"%s\"", cl[i].name);
        cl[i].qi = -1;
        for (size_t k = 0; k < c->queues.n; k++) {
            if (strcmp(cl[i].queue, q[k].name) == 0) cl[i].qi = (int32_t)k;
            if (strcmp(cl[i].name, q[k].name) == 0)
                return msim_bind_fail(b, msim_bind_where(b, &cl[i].name), -MSIM_EINVAL,
                                      "a class and a queue are both named \"%s\" (their columns "
                                      "would clash): rename one",
                                      cl[i].name);
        }
        if (cl[i].qi < 0)
            return msim_bind_fail(b, msim_bind_where(b, &cl[i].queue), -MSIM_EREF,
                                  "no queue is named \"%s\"", cl[i].queue);
    }
    return 0;
}

static int check_jobqueue(msim_bind *b, const msim_node *n, void *p)
{
    jobqueue_cfg *c = p;
    int rc = check_queues(b, n, c);
    return rc ? rc : check_classes(b, n, c);
}

static const msim_schema jobqueue_schema =
    MSIM_SCHEMA("jobqueue", "workers serving named job queues with latency SLOs", jobqueue_params,
                jobqueue_cfg, check_jobqueue);

/* ---- state ----------------------------------------------------------------------------------- */

/* Workers an autoscaler asked for that are still starting, due at `at`. */
typedef struct warming {
    msim_time at;
    int64_t n;
    msim_timer timer;
} warming;

#define MAX_WARMING 16

typedef struct pool {
    int64_t base, workers, busy; /* serving (configured or autoscaled), effective (triggers), busy */
    uint32_t queue;              /* a pool of its own: the queue it serves */
    /* Autoscaling (the end of this file): the workers asked for, those still
     * warming up (oldest first), and the integrals an autoscaler reads. */
    int64_t size;
    warming warm[MAX_WARMING];
    uint32_t nwarm;
    int64_t queued; /* jobs waiting in the queues it serves */
    double busy_s, queued_s;
    msim_time since;
} pool;

typedef struct jqueue {
    const queue_cfg *cfg;
    msim_attempt *head, *tail;
    uint32_t len;
    uint32_t pool; /* 0: the common pool; i + 1: its own */
    double wrr;    /* smooth weighted round robin: its current weight */
    msim_gauge g_depth, g_age;
    msim_metric m_started, m_late;
    msim_latency l_wait;
} jqueue;

typedef struct jclass {
    const class_cfg *cfg;
    msim_time slo; /* its own, else its queue's; MSIM_NEVER: none */
    msim_metric m_started, m_late;
    msim_latency l_wait;
} jclass;

typedef struct jobqueue {
    msim_component base;
    const jobqueue_cfg *cfg;
    jqueue *queues;
    uint32_t nqueues;
    uint32_t *order; /* strict_priority: common-pool queues by priority */
    uint32_t norder;
    jclass *classes;
    uint32_t nclasses;
    pool *pools; /* [0] the common pool, then one per queue with its own */
    uint32_t npools;
    double speed;
    double workers_factor; /* of the active triggers, kept for resizes */
    msim_time added;
    msim_rng rng_work, rng_class;

    msim_metric m_arrivals, m_rejected, m_unclassified, m_departures, m_sojourn;
    msim_gauge g_queue, g_busy, g_workers, g_in_system;
} jobqueue;

/* ---- pool integrals ---------------------------------------------------------------------------
 * Folded before every change of what they integrate, so that an autoscaler
 * reads exact time averages (jobqueue_load). */

static void pool_fold(pool *pl, msim_time now)
{
    double dt = msim_time_to_s(now - pl->since);
    pl->busy_s += (double)pl->busy * dt;
    pl->queued_s += (double)pl->queued * dt;
    pl->since = now;
}

/* ---- queues ---------------------------------------------------------------------------------- */

/* A queue is an intrusive list through the jobs' prev/next links: FIFO
 * within a queue is the one order every policy keeps. */
static void q_push(jqueue *q, msim_attempt *a)
{
    a->next = NULL;
    a->prev = q->tail;
    if (q->tail)
        q->tail->next = a;
    else
        q->head = a;
    q->tail = a;
    q->len++;
}

static msim_attempt *q_pop(jqueue *q)
{
    msim_attempt *a = q->head;
    q->head = a->next;
    if (q->head)
        q->head->prev = NULL;
    else
        q->tail = NULL;
    a->prev = a->next = NULL;
    q->len--;
    return a;
}

/* The age of the oldest job, published when it may have peaked: just before
 * the head leaves, and at window ends. The window maximum (`_age_max`) is
 * therefore exact; the mean is that of the sampled staircase. */
static void publish_age(msim_sim *sim, const jqueue *q)
{
    msim_gauge_set(sim, q->g_age, q->head ? msim_time_to_s(msim_now(sim) - q->head->enqueued) : 0);
}

/* ---- picking the next queue ------------------------------------------------------------------ */

/* Deadline of a queue's oldest job; queues without an SLO sort last. */
static double head_deadline(const jqueue *q)
{
    if (q->cfg->slo == MSIM_NEVER) return INFINITY;
    return (double)q->head->enqueued + (double)q->cfg->slo;
}

/* How far behind its SLO the oldest job is (age / SLO); -1 without an SLO. */
static double head_behind(const jqueue *q, msim_time now)
{
    if (q->cfg->slo == MSIM_NEVER) return -1;
    return (double)(now - q->head->enqueued) / (double)q->cfg->slo;
}

/* Smooth weighted round robin (nginx), over the queues that have work now:
 * an idle queue neither gains nor pays, so it cannot bank credit while empty
 * and then take a burst of starts. */
static jqueue *pick_weighted(jobqueue *j)
{
    double total = 0;
    jqueue *best = NULL;
    for (uint32_t i = 0; i < j->nqueues; i++) {
        jqueue *q = &j->queues[i];
        if (q->pool || !q->len) continue;
        q->wrr += q->cfg->weight;
        total += q->cfg->weight;
        if (!best || q->wrr > best->wrr) best = q;
    }
    if (best) best->wrr -= total;
    return best;
}

/* earliest_deadline, most_behind and fifo: a scan of the heads; ties go to
 * the oldest job, then to the queue listed first. */
static jqueue *pick_scan(jobqueue *j, msim_time now)
{
    jqueue *best = NULL;
    double best_key = 0;
    for (uint32_t i = 0; i < j->nqueues; i++) {
        jqueue *q = &j->queues[i];
        if (q->pool || !q->len) continue;
        double key = j->cfg->policy == POL_EDF      ? head_deadline(q)
                     : j->cfg->policy == POL_BEHIND ? -head_behind(q, now)
                                                    : 0;
        if (!best || key < best_key ||
            (key == best_key && q->head->enqueued < best->head->enqueued)) {
            best = q;
            best_key = key;
        }
    }
    return best;
}

/* The queue a free worker of pool p serves next, or NULL. */
static jqueue *pick(jobqueue *j, uint32_t p, msim_time now)
{
    if (p > 0) { /* a pool of its own serves one queue */
        jqueue *q = &j->queues[j->pools[p].queue];
        return q->len ? q : NULL;
    }
    if (j->cfg->policy == POL_PRIORITY) {
        for (uint32_t k = 0; k < j->norder; k++)
            if (j->queues[j->order[k]].len) return &j->queues[j->order[k]];
        return NULL;
    }
    if (j->cfg->policy == POL_WEIGHTED) return pick_weighted(j);
    return pick_scan(j, now);
}

/* ---- service --------------------------------------------------------------------------------- */

static void complete(msim_sim *sim, void *obj, uint64_t arg);

/* A job leaves its queue for a worker: count its wait against the SLOs. */
static void count_start(msim_sim *sim, jobqueue *j, jqueue *q, msim_attempt *a)
{
    jclass *c = &j->classes[a->slot];
    msim_time wait = msim_now(sim) - a->enqueued;
    msim_count(sim, q->m_started, 1);
    msim_latency_record(sim, q->l_wait, wait);
    if (q->cfg->slo != MSIM_NEVER && wait > q->cfg->slo) msim_count(sim, q->m_late, 1);
    msim_count(sim, c->m_started, 1);
    msim_latency_record(sim, c->l_wait, wait);
    if (c->slo != MSIM_NEVER && wait > c->slo) msim_count(sim, c->m_late, 1);
}

/* The head of q starts on a free worker of its pool. The age is published
 * before and after it leaves: the value before is the peak. */
static void start(msim_sim *sim, jobqueue *j, jqueue *q)
{
    publish_age(sim, q);
    msim_attempt *a = q_pop(q);
    publish_age(sim, q);
    msim_gauge_add(sim, q->g_depth, -1);
    msim_gauge_add(sim, j->g_queue, -1);
    count_start(sim, j, q, a);
    pool_fold(&j->pools[q->pool], msim_now(sim));
    j->pools[q->pool].queued--;
    j->pools[q->pool].busy++;
    msim_gauge_add(sim, j->g_busy, 1);
    a->state = AT_WORKER;
    const msim_dist *d = &j->classes[a->slot].cfg->service_time;
    double work = (double)msim_dist_sample(d, &j->rng_work) / j->speed + (double)j->added;
    msim_time now = msim_now(sim);
    a->started = now;
    a->due = now + (msim_time)work;
    a->done = msim_at(sim, a->due, complete, a, 0);
}

/* Give the free workers of pool p work. */
static void dispatch(msim_sim *sim, jobqueue *j, uint32_t p)
{
    pool *pl = &j->pools[p];
    while (pl->busy < pl->workers) {
        jqueue *q = pick(j, p, msim_now(sim));
        if (!q) return;
        start(sim, j, q);
    }
}

/* A job is done: free its worker, hand the worker the next job, then answer
 * the producer (who may enqueue another at once). */
static void complete(msim_sim *sim, void *obj, uint64_t arg)
{
    (void)arg;
    msim_attempt *a = obj;
    jobqueue *j = (jobqueue *)a->to;
    uint32_t p = j->queues[j->classes[a->slot].cfg->qi].pool;
    msim_time now = msim_now(sim);
    a->done = MSIM_NO_TIMER;
    a->state = 0;
    pool_fold(&j->pools[p], now);
    j->pools[p].busy--;
    msim_gauge_add(sim, j->g_busy, -1);
    msim_gauge_add(sim, j->g_in_system, -1);
    a->work += now - a->started;
    msim_count(sim, j->base.m_work, msim_time_to_s(a->work));
    msim_count(sim, j->m_departures, 1);
    msim_count(sim, j->m_sojourn, msim_time_to_s(now - a->enqueued));
    dispatch(sim, j, p); /* before responding: a resubmitted job must not jump the queue */
    msim_respond(sim, a, MSIM_STATUS_OK);
}

/* ---- arrivals -------------------------------------------------------------------------------- */

/* The class of a job from `from`: among the classes bound to that sender, or
 * else among those bound to none, by share. -1: no class takes it. */
static int classify(jobqueue *j, const msim_component *from)
{
    double total = 0;
    bool bound = false;
    for (uint32_t i = 0; i < j->nclasses; i++)
        bound |= j->classes[i].cfg->from.index == (int32_t)from->index;
    int32_t want = bound ? (int32_t)from->index : -1;
    int last = -1;
    for (uint32_t i = 0; i < j->nclasses; i++)
        if (j->classes[i].cfg->from.index == want) total += j->classes[i].cfg->share, last = (int)i;
    if (last < 0 || total <= 0) return last;
    double u = msim_rng_u01(&j->rng_class) * total;
    for (uint32_t i = 0; i < j->nclasses; i++) {
        if (j->classes[i].cfg->from.index != want) continue;
        u -= j->classes[i].cfg->share;
        if (u < 0) return (int)i;
    }
    return last;
}

/* A job arrives: classified, refused if its queue is full, else queued and
 * started at once if a worker of its pool is free. */
static void jobqueue_accept(msim_sim *sim, msim_component *self, msim_attempt *a)
{
    jobqueue *j = (jobqueue *)self;
    msim_count(sim, j->m_arrivals, 1);
    if (!a->req) { /* its sender left while it travelled */
        msim_drop(sim, a);
        return;
    }
    int c = classify(j, a->from);
    if (c < 0) {
        msim_count(sim, j->m_unclassified, 1);
        msim_respond(sim, a, MSIM_STATUS_REJECTED);
        return;
    }
    jqueue *q = &j->queues[j->classes[c].cfg->qi];
    int64_t cap = q->cfg->capacity;
    if (cap != MSIM_UNLIMITED && (int64_t)q->len >= cap) {
        msim_count(sim, j->m_rejected, 1);
        msim_respond(sim, a, MSIM_STATUS_REJECTED);
        return;
    }
    a->slot = (uint16_t)c;
    a->enqueued = msim_now(sim);
    a->work = 0;
    a->state = AT_QUEUE;
    if (!q->head) publish_age(sim, q); /* an empty queue's age restarts at 0 */
    q_push(q, a);
    pool_fold(&j->pools[q->pool], a->enqueued);
    j->pools[q->pool].queued++;
    msim_gauge_add(sim, q->g_depth, 1);
    msim_gauge_add(sim, j->g_queue, 1);
    msim_gauge_add(sim, j->g_in_system, 1);
    dispatch(sim, j, q->pool);
}

/* ---- triggers and windows -------------------------------------------------------------------- */

static void publish_workers(msim_sim *sim, jobqueue *j)
{
    int64_t total = 0;
    for (uint32_t p = 0; p < j->npools; p++)
        total += j->pools[p].workers;
    msim_gauge_set(sim, j->g_workers, (double)total);
}

/* A pool's effective workers: its serving ones under the triggers' factor. */
static void set_workers(msim_sim *sim, jobqueue *j, uint32_t p)
{
    pool *pl = &j->pools[p];
    pool_fold(pl, msim_now(sim));
    int64_t w = llround((double)pl->base * j->workers_factor);
    pl->workers = w > 0 ? w : 0;
}

/* Fewer workers: running jobs finish, no new one starts until a worker is
 * free under the new count. Slower service and added latency apply to jobs
 * that start after the change. There are no replicas: replicas_down is
 * ignored (take workers away with workers_factor). */
static void jobqueue_apply(msim_sim *sim, msim_component *self, const msim_conditions *c)
{
    jobqueue *j = (jobqueue *)self;
    j->speed = c->speed_factor > 0 ? c->speed_factor : 1e-9;
    j->added = c->added_latency;
    j->workers_factor = c->workers_factor;
    for (uint32_t p = 0; p < j->npools; p++)
        set_workers(sim, j, p);
    publish_workers(sim, j);
    for (uint32_t p = 0; p < j->npools; p++)
        dispatch(sim, j, p);
}

/* A window closes: the age of each queue's oldest job is its last chance to
 * peak in it. */
static void jobqueue_window(msim_sim *sim, msim_component *self, msim_time t0, msim_time t1)
{
    (void)t0, (void)t1;
    jobqueue *j = (jobqueue *)self;
    for (uint32_t i = 0; i < j->nqueues; i++)
        publish_age(sim, &j->queues[i]);
}

/* ---- setup ----------------------------------------------------------------------------------- */

static void register_metrics(msim_sim *sim, jobqueue *j)
{
    msim_component *c = &j->base;
    char name[200];
    j->m_arrivals = msim_counter(sim, c, "arrivals", "jobs", MSIM_ROLE_NONE);
    j->m_rejected = msim_counter(sim, c, "rejected", "jobs", MSIM_ROLE_NONE);
    j->m_unclassified = msim_counter(sim, c, "unclassified", "jobs", MSIM_ROLE_NONE);
    j->m_departures = msim_counter(sim, c, "departures", "jobs", MSIM_ROLE_DEPARTURES);
    j->m_sojourn = msim_counter(sim, c, "sojourn", "s", MSIM_ROLE_SOJOURN);
    j->g_queue = msim_gauge_new(sim, c, "queue", "jobs", MSIM_ROLE_QUEUE);
    j->g_busy = msim_gauge_new(sim, c, "busy", "workers", MSIM_ROLE_BUSY);
    j->g_workers = msim_gauge_new(sim, c, "workers", "workers", MSIM_ROLE_WORKERS);
    j->g_in_system = msim_gauge_new(sim, c, "in_system", "jobs", MSIM_ROLE_IN_SYSTEM);
    for (uint32_t i = 0; i < j->nqueues; i++) {
        jqueue *q = &j->queues[i];
        const char *qn = q->cfg->name;
        snprintf(name, sizeof name, "%s_depth", qn);
        q->g_depth = msim_gauge_new(sim, c, name, "jobs", MSIM_ROLE_NONE);
        snprintf(name, sizeof name, "%s_age", qn);
        q->g_age = msim_gauge_new(sim, c, name, "s", MSIM_ROLE_NONE);
        snprintf(name, sizeof name, "%s_started", qn);
        q->m_started = msim_counter(sim, c, name, "jobs", MSIM_ROLE_NONE);
        snprintf(name, sizeof name, "%s_late", qn);
        q->m_late = msim_counter(sim, c, name, "jobs", MSIM_ROLE_NONE);
        snprintf(name, sizeof name, "%s_wait", qn);
        q->l_wait = msim_latency_new(sim, c, name, MSIM_ROLE_NONE);
    }
    /* the SLO roles sit on the classes: a job's SLO is its own, whatever
     * queue a design puts it in */
    for (uint32_t i = 0; i < j->nclasses; i++) {
        jclass *k = &j->classes[i];
        bool slo = k->slo != MSIM_NEVER;
        snprintf(name, sizeof name, "%s_started", k->cfg->name);
        k->m_started =
            msim_counter(sim, c, name, "jobs", slo ? MSIM_ROLE_SLO_JOBS : MSIM_ROLE_NONE);
        snprintf(name, sizeof name, "%s_late", k->cfg->name);
        k->m_late = msim_counter(sim, c, name, "jobs", slo ? MSIM_ROLE_SLO_LATE : MSIM_ROLE_NONE);
        snprintf(name, sizeof name, "%s_wait", k->cfg->name);
        k->l_wait = msim_latency_new(sim, c, name, MSIM_ROLE_NONE);
    }
}

/* Pools: the common one, then one per queue with workers of its own. The
 * strict-priority order of the common pool's queues: by priority, then as
 * listed. */
static void build_pools(jobqueue *j)
{
    j->pools[0] = (pool){.base = j->cfg->workers, .workers = j->cfg->workers, .size = j->cfg->workers};
    j->npools = 1;
    for (uint32_t i = 0; i < j->nqueues; i++) {
        jqueue *q = &j->queues[i];
        if (q->cfg->workers > 0) {
            q->pool = j->npools;
            j->pools[j->npools++] =
                (pool){.base = q->cfg->workers, .workers = q->cfg->workers, .size = q->cfg->workers,
                       .queue = i};
        } else {
            uint32_t k = j->norder++;
            while (k > 0 && j->queues[j->order[k - 1]].cfg->priority > q->cfg->priority) {
                j->order[k] = j->order[k - 1];
                k--;
            }
            j->order[k] = i;
        }
    }
}

/* Queues, classes and pools are fixed for the run; the check hook has
 * already resolved each class's queue. */
static int jobqueue_init(msim_sim *sim, msim_component *self, const void *cfg, msim_error *err)
{
    jobqueue *j = (jobqueue *)self;
    j->cfg = cfg;
    j->nqueues = (uint32_t)j->cfg->queues.n;
    j->nclasses = (uint32_t)j->cfg->classes.n;
    j->queues = msim_arena_alloc(sim, j->nqueues * sizeof *j->queues);
    j->order = msim_arena_alloc(sim, j->nqueues * sizeof *j->order);
    j->pools = msim_arena_alloc(sim, (j->nqueues + 1) * sizeof *j->pools);
    j->classes = msim_arena_alloc(sim, j->nclasses * sizeof *j->classes);
    if (!j->queues || !j->order || !j->pools || !j->classes)
        return msim_error_set(err, -MSIM_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < j->nqueues; i++)
        j->queues[i].cfg = (const queue_cfg *)j->cfg->queues.items + i;
    for (uint32_t i = 0; i < j->nclasses; i++) {
        jclass *k = &j->classes[i];
        k->cfg = (const class_cfg *)j->cfg->classes.items + i;
        k->slo = k->cfg->slo != MSIM_NEVER ? k->cfg->slo : j->queues[k->cfg->qi].cfg->slo;
    }
    build_pools(j);
    j->speed = 1;
    j->workers_factor = 1;
    j->rng_work = msim_stream(sim, self->name, "service");
    j->rng_class = msim_stream(sim, self->name, "classes");
    register_metrics(sim, j);
    return 0;
}

static void jobqueue_start(msim_sim *sim, msim_component *self)
{
    publish_workers(sim, (jobqueue *)self);
}

/* ---- autoscaling --------------------------------------------------------------------------------
 * An autoscaler resizes a pool of workers (msim_scaling): the common pool, or
 * a queue's own. Workers asked for serve after their warm-up; workers taken
 * away go warming ones first, newest first, then serving ones. A busy worker
 * that goes finishes its job and takes no other (the grace period does not
 * apply: a job system's worker finishes its job or puts it back, and either
 * way the work is done once). A worker is a member: the metrics' "per
 * replica" is per worker. */

/* The pool a unit names: NULL the common pool, else a queue's own. Returns
 * its index, or a negative MSIM_E* with err filled. */
static int unit_pool(const jobqueue *j, const char *unit, msim_error *err)
{
    if (!unit) return 0;
    for (uint32_t i = 0; i < j->nqueues; i++) {
        if (strcmp(j->queues[i].cfg->name, unit) != 0) continue;
        if (j->queues[i].pool) return (int)j->queues[i].pool;
        return msim_error_set(err, -MSIM_EINVAL,
                              "queue \"%s\" shares the common pool: give it workers of its own, "
                              "or leave out `queue` to resize the common pool",
                              unit);
    }
    return msim_error_set(err, -MSIM_EINVAL, "no queue is named \"%s\"", unit);
}

/* The oldest batch of a pool's warming workers is ready (batches of one pool
 * share a warm-up, so they come due in the order they were asked for). */
static void workers_warmed(msim_sim *sim, void *obj, uint64_t p)
{
    jobqueue *j = obj;
    pool *pl = &j->pools[p];
    pl->base += pl->warm[0].n;
    memmove(pl->warm, pl->warm + 1, --pl->nwarm * sizeof *pl->warm);
    set_workers(sim, j, (uint32_t)p);
    publish_workers(sim, j);
    dispatch(sim, j, (uint32_t)p);
    msim_endpoints_changed(sim, &j->base);
}

static void add_workers(msim_sim *sim, jobqueue *j, uint32_t p, int64_t n, msim_time warmup)
{
    pool *pl = &j->pools[p];
    if (warmup <= 0) {
        pl->base += n;
        return;
    }
    if (pl->nwarm == MAX_WARMING) { /* never with a warm-up of a few sync periods */
        pl->warm[pl->nwarm - 1].n += n;
        return;
    }
    msim_time at = msim_now(sim) + warmup;
    pl->warm[pl->nwarm++] = (warming){at, n, msim_at(sim, at, workers_warmed, j, p)};
}

static void remove_workers(msim_sim *sim, jobqueue *j, uint32_t p, int64_t n)
{
    pool *pl = &j->pools[p];
    while (n > 0 && pl->nwarm > 0) {
        warming *w = &pl->warm[pl->nwarm - 1];
        int64_t k = w->n < n ? w->n : n;
        w->n -= k;
        n -= k;
        if (w->n == 0) {
            msim_cancel(sim, &w->timer);
            pl->nwarm--;
        }
    }
    pl->base -= n;
}

static void jobqueue_resize(msim_sim *sim, msim_component *self, const char *unit, uint32_t n,
                            const msim_resize *how)
{
    jobqueue *j = (jobqueue *)self;
    int p = unit_pool(j, unit, NULL);
    if (p < 0) return;
    pool *pl = &j->pools[p];
    if (n < 1) n = 1;
    if ((int64_t)n == pl->size) return;
    if ((int64_t)n > pl->size)
        add_workers(sim, j, (uint32_t)p, (int64_t)n - pl->size, how->warmup);
    else
        remove_workers(sim, j, (uint32_t)p, pl->size - (int64_t)n);
    pl->size = n;
    set_workers(sim, j, (uint32_t)p);
    publish_workers(sim, j);
    dispatch(sim, j, (uint32_t)p);
    msim_endpoints_changed(sim, &j->base);
}

/* The age of the oldest job waiting for pool p: the heads of its queues. */
static msim_time pool_oldest(const jobqueue *j, uint32_t p, msim_time now)
{
    msim_time oldest = 0;
    for (uint32_t i = 0; i < j->nqueues; i++) {
        const jqueue *q = &j->queues[i];
        if (q->pool == p && q->head && now - q->head->enqueued > oldest)
            oldest = now - q->head->enqueued;
    }
    return oldest;
}

static int jobqueue_load(msim_sim *sim, msim_component *self, const char *unit, msim_load *out,
                         msim_error *err)
{
    jobqueue *j = (jobqueue *)self;
    int p = unit_pool(j, unit, err);
    if (p < 0) return p;
    pool *pl = &j->pools[p];
    msim_time now = msim_now(sim);
    pool_fold(pl, now);
    *out = (msim_load){
        .size = (uint32_t)pl->size,
        .ready = (uint32_t)pl->workers, /* a capacity trigger's missing workers are not ready */
        .workers = 1,
        .busy_s = pl->busy_s,
        .held_s = pl->busy_s + pl->queued_s,
        .queued_s = pl->queued_s,
        .oldest = pool_oldest(j, (uint32_t)p, now),
    };
    return 0;
}

static const msim_scaling jobqueue_scaling = {jobqueue_load, jobqueue_resize};

const msim_kind msim_jobqueue_kind = {
    .name = "jobqueue",
    .section = "jobqueues",
    .doc = "workers serving named job queues with latency SLOs: strict priority, weighted, "
           "earliest deadline or most-behind-SLO scheduling, optional per-queue pools",
    .schema = &jobqueue_schema,
    .size = sizeof(jobqueue),
    .roles = MSIM_KIND_TARGET,
    .conditions = MSIM_COND_CAPACITY | MSIM_COND_LATENCY,
    .init = jobqueue_init,
    .start = jobqueue_start,
    .accept = jobqueue_accept,
    .apply = jobqueue_apply,
    .on_window = jobqueue_window,
    .scaling = &jobqueue_scaling,
};
