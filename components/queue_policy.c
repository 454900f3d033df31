/* queue_policy.c — queue disciplines, CoDel, adaptive LIFO and shedding by
 * priority class for the service kind (see queue_policy.h). The service keeps
 * its queues; this file decides which end to serve, what to drop, and whom to
 * push out, and keeps the per-replica state those decisions need.
 *
 * Sources: folly/executors/Codel.cpp (the CoDel state machine, line by line),
 * fbthrift's ThreadManager (CoDel consulted at dequeue, for every task), HBase
 * AdaptiveLifoCoDelCallQueue (the LIFO switch by fill, and the pair of both).
 */
#include <stddef.h>

#include "queue_policy.h"

/* ---- parameters ---------------------------------------------------------------------- */

static const msim_choice disciplines[] = {
#define QUEUE_CHOICE(id, name, doc) {name, doc},
    QUEUE_DISCIPLINES(QUEUE_CHOICE)
#undef QUEUE_CHOICE
        {NULL, NULL},
};

static const msim_param codel_params[] = {
    {"target", &msim_type_duration, offsetof(codel_cfg, target), "5ms", 1, 1e12,
     "queueing delay CoDel aims for: overloaded when an interval's smallest delay exceeds it; "
     "then attempts that waited over 2 x target are dropped (folly codel_target_delay)",
     NULL, "target_delay"},
    {"interval", &msim_type_duration, offsetof(codel_cfg, interval), "100ms", 1, 1e13,
     "how often the overloaded state is decided anew (folly codel_interval)", NULL, NULL},
};

static int check_codel(msim_bind *b, const msim_node *n, void *p)
{
    const codel_cfg *c = p;
    if (c->interval <= c->target) /* folly Codel::setOptions refuses it too */
        return msim_bind_fail(b, n, -MSIM_EINVAL,
                              "codel.interval must be longer than codel.target");
    return 0;
}

static const msim_schema codel_schema = MSIM_SCHEMA(
    "codel", "CoDel for the codel disciplines (folly Codel)", codel_params, codel_cfg, check_codel);

static const msim_param queue_params[] = {
    {"capacity", &msim_type_count, offsetof(queue_cfg, capacity), "unlimited", 0, 1e12,
     "attempts that may wait per replica; a full queue rejects at once", NULL, NULL},
    {"discipline", &msim_type_enum, offsetof(queue_cfg, discipline), "fifo", MSIM_UNBOUNDED,
     "order of service, and what is dropped", disciplines, NULL},
    {"lifo_threshold", &msim_type_fraction, offsetof(queue_cfg, lifo_threshold), "0.8", 0, 0.9999,
     "adaptive disciplines: serve newest first while more than this share of capacity waits "
     "(HBase codel.lifo.threshold)",
     NULL, NULL},
    {"codel", &msim_type_struct, offsetof(queue_cfg, codel), NULL, MSIM_UNBOUNDED,
     "CoDel's target and interval (codel disciplines)", &codel_schema, NULL},
};

static bool adaptive(int discipline)
{
    return discipline == QUEUE_ADAPTIVE_LIFO || discipline == QUEUE_ADAPTIVE_LIFO_CODEL;
}

static int check_queue(msim_bind *b, const msim_node *n, void *p)
{
    const queue_cfg *q = p;
    if (adaptive(q->discipline) && q->capacity == MSIM_UNLIMITED)
        return msim_bind_fail(b, msim_node_get(n, "discipline"), -MSIM_EINVAL,
                              "%s needs a bounded capacity: it turns lifo above lifo_threshold x "
                              "capacity",
                              disciplines[q->discipline].name);
    return 0;
}

const msim_schema queue_schema = MSIM_SCHEMA("queue", "the queue in front of each replica",
                                             queue_params, queue_cfg, check_queue);

/* ---- the disciplines ------------------------------------------------------------------------ */

/* What a discipline does; one row per QUEUE_* in queue_policy.h. */
typedef struct queue_discipline {
    /* Serve the newest waiting attempt next? NULL: always the oldest. */
    bool (*newest_first)(const queue_cfg *cfg, uint32_t len, int64_t cap);
    bool codel; /* CoDel may drop an attempt as it leaves the queue */
} queue_discipline;

static bool always(const queue_cfg *cfg, uint32_t len, int64_t cap)
{
    (void)cfg, (void)len, (void)cap;
    return true;
}

/* HBase: `(double) queue.size() / maxCapacity > lifoThreshold`, before taking. */
static bool above_threshold(const queue_cfg *cfg, uint32_t len, int64_t cap)
{
    return cap > 0 && (double)len / (double)cap > cfg->lifo_threshold;
}

static const queue_discipline table[QUEUE_NDISCIPLINES] = {
    [QUEUE_FIFO] = {NULL, false},
    [QUEUE_LIFO] = {always, false},
    [QUEUE_CODEL] = {NULL, true},
    [QUEUE_ADAPTIVE_LIFO] = {above_threshold, false},
    [QUEUE_ADAPTIVE_LIFO_CODEL] = {above_threshold, true},
};

bool queue_newest_first(const queue_cfg *cfg, uint32_t len, int64_t cap)
{
    const queue_discipline *d = &table[cfg->discipline];
    return d->newest_first && d->newest_first(cfg, len, cap);
}

bool queue_oldest_first(int discipline)
{
    return table[discipline].newest_first == NULL;
}

/* ---- CoDel ------------------------------------------------------------------------------------
 * folly's Codel::overloaded_explicit_now, without the atomics: a run is one
 * thread. Note what it does not do: the interval is not a fixed clock but
 * restarts at the first dequeue after the previous one ended, and the
 * overloaded state changes only then, judged on the minimum seen since the
 * restart. The delay is kept in nanoseconds (fbthrift truncates it to
 * milliseconds before asking). */

void codel_init(codel *c, msim_time now)
{
    *c = (codel){.interval_end = now, .reset = true};
}

bool codel_overloaded(codel *c, const codel_cfg *cfg, msim_time delay, msim_time now)
{
    if (now > c->interval_end && !c->reset) {
        c->reset = true;
        c->interval_end = now + cfg->interval;
        c->overloaded = c->min_delay > cfg->target;
    }
    if (c->reset) { /* more than one request must come in an interval before dropping */
        c->reset = false;
        c->min_delay = delay;
        return false;
    }
    if (delay < c->min_delay) c->min_delay = delay;
    return c->overloaded && delay > 2 * cfg->target; /* getSloughTimeout: 2 x target */
}

/* ---- a service's queues ---------------------------------------------------------------------- */

unsigned queue_rank(uint8_t cls)
{
    switch (msim_cls_priority(cls)) {
    case MSIM_PRIORITY_SHEDDABLE:
        return 0;
    case MSIM_PRIORITY_CRITICAL:
        return 2;
    default:
        return 1;
    }
}

int qpolicy_new(msim_sim *sim, msim_component *c, const queue_cfg *cfg, bool by_priority,
                uint32_t nreps, qpolicy **out, msim_error *err)
{
    const queue_discipline *d = &table[cfg->discipline];
    *out = NULL;
    if (!d->codel && d->newest_first != above_threshold && !by_priority) return 0;
    qpolicy *q = msim_arena_alloc(sim, sizeof *q);
    qp_replica *reps = msim_arena_alloc(sim, nreps * sizeof *reps);
    if (!q || !reps) return msim_error_set(err, -MSIM_ENOMEM, "out of memory");
    *q = (qpolicy){.cfg = cfg,
                   .codel = d->codel,
                   .adaptive = d->newest_first == above_threshold,
                   .by_priority = by_priority,
                   .nreps = nreps,
                   .reps = reps};
    for (uint32_t i = 0; i < nreps; i++)
        codel_init(&reps[i].codel, msim_now(sim));
    if (q->codel) {
        q->m_codel_dropped = msim_counter(sim, c, "codel_dropped", "attempts", MSIM_ROLE_SHED);
        q->g_overloaded =
            msim_gauge_new(sim, c, "codel_overloaded", "replicas", MSIM_ROLE_CODEL_OVERLOADED);
    }
    if (q->adaptive) q->g_lifo = msim_gauge_new(sim, c, "lifo", "replicas", MSIM_ROLE_NONE);
    if (by_priority) {
        q->m_pushed_out = msim_counter(sim, c, "pushed_out", "attempts", MSIM_ROLE_SHED);
        if (q->codel)
            q->m_class_shed = msim_counter(sim, c, "class_shed", "attempts", MSIM_ROLE_SHED);
    }
    *out = q;
    return 0;
}

/* The two state gauges are shares of the replicas (0..1), so that the
 * analysis can read them without knowing how many there are. */
static void flip(msim_sim *sim, const qpolicy *q, msim_gauge g, bool *state, bool now)
{
    if (*state == now) return;
    *state = now;
    msim_gauge_add(sim, g, (now ? 1.0 : -1.0) / q->nreps);
}

bool qpolicy_newest_first(msim_sim *sim, qpolicy *q, uint32_t rep, uint32_t len, int64_t cap)
{
    bool lifo = queue_newest_first(q->cfg, len, cap);
    if (q->adaptive) flip(sim, q, q->g_lifo, &q->reps[rep].lifo, lifo);
    return lifo;
}

/* Probes count as default traffic (they carry no class), but are never
 * pushed out. */
void qpolicy_queued(qpolicy *q, uint32_t rep, const msim_attempt *a)
{
    q->reps[rep].waiting[queue_rank(a->cls)]++;
}

void qpolicy_unqueued(qpolicy *q, uint32_t rep, const msim_attempt *a)
{
    q->reps[rep].waiting[queue_rank(a->cls)]--;
}

void qpolicy_emptied(qpolicy *q, uint32_t rep)
{
    for (unsigned k = 0; k < QUEUE_RANKS; k++)
        q->reps[rep].waiting[k] = 0;
}

bool qpolicy_refuses(msim_sim *sim, qpolicy *q, uint32_t rep, const msim_attempt *a)
{
    const qp_replica *r = &q->reps[rep];
    if (!q->by_priority || !r->codel.overloaded) return false;
    for (unsigned k = queue_rank(a->cls) + 1; k < QUEUE_RANKS; k++)
        if (r->waiting[k]) {
            msim_count(sim, q->m_class_shed, 1);
            return true;
        }
    return false;
}

/* Ask CoDel about an attempt that waited `delay`, and keep the gauge of
 * overloaded replicas in step. */
static bool codel_ask(msim_sim *sim, qpolicy *q, qp_replica *r, msim_time delay)
{
    bool was = r->codel.overloaded;
    bool drop = codel_overloaded(&r->codel, &q->cfg->codel, delay, msim_now(sim));
    if (was != r->codel.overloaded)
        msim_gauge_add(sim, q->g_overloaded, (was ? -1.0 : 1.0) / q->nreps);
    return drop;
}

bool qpolicy_drops(msim_sim *sim, qpolicy *q, uint32_t rep, const msim_attempt *a)
{
    if (!q->codel) return false;
    qp_replica *r = &q->reps[rep];
    if (!codel_ask(sim, q, r, msim_now(sim) - a->enqueued)) return false;
    msim_count(sim, q->m_codel_dropped, 1);
    return true;
}

void qpolicy_no_wait(msim_sim *sim, qpolicy *q, uint32_t rep)
{
    if (q->codel) codel_ask(sim, q, &q->reps[rep], 0);
}

msim_attempt *qpolicy_victim(msim_sim *sim, qpolicy *q, uint32_t rep, msim_attempt *head,
                             const msim_attempt *a)
{
    if (!q->by_priority) return NULL;
    const qp_replica *r = &q->reps[rep];
    for (unsigned k = 0; k < queue_rank(a->cls); k++) {
        if (!r->waiting[k]) continue;
        for (msim_attempt *v = head; v; v = v->next)
            if (!(v->cls & MSIM_CLS_PROBE) && queue_rank(v->cls) == k) {
                msim_count(sim, q->m_pushed_out, 1);
                return v;
            }
    }
    return NULL;
}
