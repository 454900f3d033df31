/* queue_policy.h — how a service's replicas order and trim their queues, and
 * shed by priority class (docs/mitigations.md, "Server-side mitigations").
 *
 * A queue discipline is a const descriptor in one table (queue_policy.c): which
 * end of the queue the next attempt comes from, and whether an attempt that
 * leaves it may be dropped instead of served.
 *
 *   fifo, lifo           oldest first; newest first
 *   codel                oldest first; folly's Codel decides at dequeue, as
 *                        fbthrift's ThreadManager asks it: overloaded when the
 *                        smallest queueing delay seen over the last interval
 *                        was above `target`; while overloaded an attempt that
 *                        waited more than 2 x target is dropped (answered
 *                        rejected); the first attempt of an interval never is
 *   adaptive_lifo        oldest first, newest first while the queue is more
 *                        than `lifo_threshold` full (HBase AdaptiveLifoCoDelCallQueue)
 *   adaptive_lifo_codel  both: HBase's queue, the "Fail at Scale" pair
 *
 * Shedding by priority (a service's `shed_by_priority`): each attempt carries
 * its source's class in the high nibble of cls (request.h). A full queue or a
 * reached limit refuses an arrival only if no lower class waits; otherwise
 * the oldest waiting attempt of the lowest class below the arrival's is
 * pushed out instead. While CoDel finds a replica overloaded (it is dropping),
 * an arrival is refused at once if a higher class waits: the lower classes
 * are shed before CoDel has to drop the higher ones.
 *
 * The state machines take the time as an argument and touch nothing else, so
 * tests/unit/admission.c drives them directly.
 */
#ifndef METASIM_COMPONENTS_QUEUE_POLICY_H
#define METASIM_COMPONENTS_QUEUE_POLICY_H

#include <stdbool.h>

#include "metasim.h"

#define QUEUE_DISCIPLINES(X)                                                                       \
    X(FIFO, "fifo", "first in, first out")                                                         \
    X(LIFO, "lifo", "last in, first out: the newest attempt is served first")                      \
    X(CODEL, "codel",                                                                              \
      "fifo; while CoDel finds the queue overloaded, attempts that waited over "                   \
      "2 x codel.target are dropped at dequeue (folly Codel)")                                     \
    X(ADAPTIVE_LIFO, "adaptive_lifo",                                                              \
      "fifo, but lifo while the queue is more than lifo_threshold full (HBase)")                   \
    X(ADAPTIVE_LIFO_CODEL, "adaptive_lifo_codel",                                                  \
      "adaptive_lifo and codel together (HBase AdaptiveLifoCoDelCallQueue, Fail at Scale)")

enum {
#define QUEUE_ENUM(id, name, doc) QUEUE_##id,
    QUEUE_DISCIPLINES(QUEUE_ENUM)
#undef QUEUE_ENUM
        QUEUE_NDISCIPLINES
};

typedef struct codel_cfg {
    msim_time target;   /* folly codel_target_delay */
    msim_time interval; /* folly codel_interval */
} codel_cfg;

typedef struct queue_cfg {
    int64_t capacity;
    int discipline;        /* QUEUE_* */
    double lifo_threshold; /* HBase hbase.ipc.server.callqueue.codel.lifo.threshold */
    codel_cfg codel;
} queue_cfg;

extern const msim_schema queue_schema;

/* Does the discipline serve the newest waiting attempt next, with `len`
 * waiting and room for `cap` (MSIM_UNLIMITED: unbounded)? */
bool queue_newest_first(const queue_cfg *cfg, uint32_t len, int64_t cap);

/* Is the discipline's order fixed oldest first (so a priority probe pushed to
 * the head is the next one served)? */
bool queue_oldest_first(int discipline);

/* ---- CoDel (folly/executors/Codel.cpp) ------------------------------------------------- */

typedef struct codel {
    msim_time min_delay;    /* codelMinDelayNs_: smallest delay of this interval */
    msim_time interval_end; /* codelIntervalTimeNs_ */
    bool reset;             /* codelResetDelay_: the next delay starts the minimum afresh */
    bool overloaded;
} codel;

void codel_init(codel *c, msim_time now);

/* Codel::overloaded(delay): an attempt leaves the queue at `now` after waiting
 * `delay`. Returns true if it should be dropped. */
bool codel_overloaded(codel *c, const codel_cfg *cfg, msim_time delay, msim_time now);

/* ---- a service's queues ------------------------------------------------------------------ */

/* Shedding rank of an attempt's class: 0 sheddable, 1 default, 2 critical. */
#define QUEUE_RANKS 3
unsigned queue_rank(uint8_t cls);

typedef struct qp_replica {
    codel codel;
    bool lifo;                     /* the last dequeue took the newest */
    uint32_t waiting[QUEUE_RANKS]; /* queued attempts by rank (probes as default) */
} qp_replica;

typedef struct qpolicy {
    const queue_cfg *cfg;
    bool codel, adaptive, by_priority;
    uint32_t nreps;
    qp_replica *reps;
    msim_metric m_codel_dropped, m_pushed_out, m_class_shed;
    msim_gauge g_overloaded, g_lifo;
} qpolicy;

/* The queue policy of a service with `nreps` replicas, registering its
 * metrics (in the service's init): *out, or NULL when the queues need none of
 * this (fifo or lifo without shedding by priority). Returns 0 or
 * -MSIM_ENOMEM with err set. */
int qpolicy_new(msim_sim *sim, msim_component *c, const queue_cfg *cfg, bool by_priority,
                uint32_t nreps, qpolicy **out, msim_error *err);

/* Take the next attempt from the newest end? `len` attempts wait on replica
 * `rep`, whose queue holds `cap` (MSIM_UNLIMITED: unbounded). */
bool qpolicy_newest_first(msim_sim *sim, qpolicy *q, uint32_t rep, uint32_t len, int64_t cap);

/* Shedding by priority while CoDel finds replica rep overloaded: refuse `a`
 * at once because a higher class waits? Counts it. */
bool qpolicy_refuses(msim_sim *sim, qpolicy *q, uint32_t rep, const msim_attempt *a);

/* An attempt joined, or left, replica rep's queue (class counts). */
void qpolicy_queued(qpolicy *q, uint32_t rep, const msim_attempt *a);
void qpolicy_unqueued(qpolicy *q, uint32_t rep, const msim_attempt *a);

/* Replica rep's queue was emptied wholesale (the replica went down). */
void qpolicy_emptied(qpolicy *q, uint32_t rep);

/* a has just been taken off replica rep's queue (it waited since
 * a->enqueued): true if CoDel drops it. */
bool qpolicy_drops(msim_sim *sim, qpolicy *q, uint32_t rep, const msim_attempt *a);

/* An attempt started on replica rep without waiting: CoDel sees a delay of 0,
 * as it does every task that goes through fbthrift's queue. */
void qpolicy_no_wait(msim_sim *sim, qpolicy *q, uint32_t rep);

/* The waiting attempt to push out to make room for `a` on replica rep — the
 * oldest of the lowest class below a's — or NULL. `head` is the queue's
 * oldest attempt (the queue is linked through ->next). Counts it. */
msim_attempt *qpolicy_victim(msim_sim *sim, qpolicy *q, uint32_t rep, msim_attempt *head,
                             const msim_attempt *a);

#endif
