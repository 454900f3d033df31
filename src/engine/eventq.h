/* eventq.h — the pending-event set: a 4-ary min-heap of (time, sequence) keys
 * over a slab of event nodes, plus FIFO lanes for events scheduled in time
 * order; O(1) cancellation everywhere.
 *
 * Why this shape. Most events in a request simulation are of two sorts that a
 * component schedules in time order: attempt timeouts (all of one client's
 * have the same length) and the next arrival of a client. A lane is a FIFO
 * ring of such events; the lanes' fronts are ordered in a small heap of their
 * own, so the main heap holds only the rest (service completions, backoffs),
 * and a lane event costs O(1) to schedule, cancel and fire plus O(log lanes).
 * Lane entries carry the event inline, with no node, so the common
 * schedule-then-cancel of a timeout touches one ring slot.
 *
 * The total order is still exactly (time, sequence): where an entry waits
 * changes nothing about its key, and the pop takes the smaller of the main
 * heap's top and the lane heap's top.
 *
 * Cancellation is lazy. A heap event's handle names its node; cancelling bumps
 * the node's generation, and the stale heap entry is skipped when it surfaces
 * (the heap is compacted when dead entries outnumber live ones). A lane
 * event's handle names its lane and its position in the lane (low 32 bits of
 * its absolute index); cancelling clears the slot's callback, and dead slots
 * are skipped at the front.
 *
 * Library-internal (msim__ prefix); the public face is msim_at/msim_lane_at/
 * msim_cancel.
 */
#ifndef METASIM_EVENTQ_H
#define METASIM_EVENTQ_H

#include <stdbool.h>
#include <stdint.h>

#include "metasim/base.h"
#include "metasim/engine.h"

typedef struct msim__evq_entry {
    msim_time time;
    uint64_t seq;  /* insertion order: breaks ties between equal times */
    uint32_t slot; /* node index */
    uint32_t gen;  /* matches the node's gen while the event is live */
} msim__evq_entry;

/* Handles of lane events have this bit in their slot. */
#define MSIM__LANE_HANDLE 0x80000000u

typedef struct msim__evq_node {
    msim_event_fn fn;
    void *obj;
    uint64_t arg;
    uint32_t gen;       /* bumped when released; 0 is never live */
    uint32_t next_free; /* free list: next free slot + 1 (0 ends it) */
} msim__evq_node;

typedef struct msim__lane_entry {
    msim_time time;
    uint64_t seq;
    msim_event_fn fn; /* NULL: cancelled */
    void *obj;
    uint64_t arg;
} msim__lane_entry;

/* A lane is a deque of fixed-size blocks of entries, addressed by absolute
 * index: memory follows the number of entries within a block (no doubling
 * sawtooth), and entries never move, so handles stay valid. */
#define MSIM__LANE_BLOCK_BITS 10
#define MSIM__LANE_BLOCK      (1u << MSIM__LANE_BLOCK_BITS)

typedef struct msim__lane {
    msim__lane_entry **blocks; /* ring of block pointers, by absolute block index */
    uint32_t nblocks;          /* slots in `blocks`: a power of two */
    msim__lane_entry *spare;   /* one released block kept for reuse */
    msim__lane_entry *front;   /* the front entry (valid while len > 0) */
    msim__lane_entry *back;    /* where the next entry goes (within its block) */
    uint64_t head;             /* absolute index of the front entry */
    uint32_t len;
    uint32_t hpos;             /* in the lane heap (0) or not (UINT32_MAX) */
    msim_time last;            /* time of the newest entry */
} msim__lane;

typedef struct msim__evq {
    msim__evq_entry *heap;
    size_t len, cap;
    msim__evq_node *nodes;
    uint32_t nnodes, cap_nodes;
    uint32_t free_head; /* slot + 1 of the first free node; 0: none */
    uint64_t next_seq;
    size_t heap_live;   /* live events in the heap */
    size_t heap_dead;   /* dead entries still in the heap */
    size_t live;        /* all live events, heap and lanes */
    msim__lane *lanes;
    uint32_t nlanes, cap_lanes;
    uint32_t *lheap;    /* lanes with entries, ordered by their front's key */
    uint32_t lheap_len;
    msim_allocator alloc;
} msim__evq;

int msim__evq_init(msim__evq *q, msim_allocator alloc);
void msim__evq_free(msim__evq *q);

/* Insert; returns the handle, or a zero handle if memory ran out. */
msim_timer msim__evq_push(msim__evq *q, msim_time t, msim_event_fn fn, void *obj, uint64_t arg);

/* A new lane; returns its index, or UINT32_MAX if memory ran out. */
uint32_t msim__evq_lane_new(msim__evq *q);

/* Insert into a lane. A time earlier than the lane's newest entry goes to the
 * heap instead (same order, just not O(1)). */
msim_timer msim__evq_lane_push(msim__evq *q, uint32_t lane, msim_time t, msim_event_fn fn,
                               void *obj, uint64_t arg);

/* Cancel by handle; true if it was live. */
bool msim__evq_cancel(msim__evq *q, msim_timer *h);

bool msim__evq_pending(const msim__evq *q, msim_timer h);

/* Remove the earliest live event with time < limit into *out. Returns false
 * when there is none. */
typedef struct msim__evq_fired {
    msim_time time;
    msim_event_fn fn;
    void *obj;
    uint64_t arg;
} msim__evq_fired;
bool msim__evq_pop(msim__evq *q, msim_time limit, msim__evq_fired *out);

#endif
