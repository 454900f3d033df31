/* eventq.h — the pending-event set: a 4-ary min-heap of (time, sequence) keys
 * over a slab of event nodes, with O(1) lazy cancellation and FIFO lanes.
 *
 * Why this shape: most events in a request simulation are attempt timeouts,
 * and most of those are cancelled (the response came first). Removing an
 * arbitrary heap entry costs O(log n); marking its node dead costs one store.
 * A dead entry is skipped when it surfaces, and the heap is compacted when dead
 * entries outnumber live ones, so memory stays proportional to live events.
 *
 * Lanes: timeouts of one client all have the same length, so they are
 * scheduled in time order. A lane is a FIFO of such events; only its front sits
 * in the heap (as a token keyed by the front's time and sequence), so pushing
 * and popping them is O(1) and the heap stays as small as the number of lanes
 * plus the other pending events. The total order is still exactly (time,
 * sequence): a lane only changes where an entry waits, not its key.
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
    uint64_t seq; /* insertion order: breaks ties between equal times */
    uint32_t slot; /* node index, or MSIM__LANE_TOKEN | lane index */
    uint32_t gen;  /* matches the node's gen while the event is live */
} msim__evq_entry;

#define MSIM__LANE_TOKEN 0x80000000u

typedef struct msim__evq_node {
    msim_event_fn fn;
    void *obj;
    uint64_t arg;
    uint32_t gen;  /* bumped when the node is released; 0 is never live */
    uint32_t link; /* live: 0 in the heap, lane index + 1 in a lane;
                      free: next free slot + 1 (0 ends the list) */
} msim__evq_node;

typedef struct msim__lane {
    msim__evq_entry *ring;
    uint32_t head, len, cap; /* cap is a power of two */
    msim_time last;          /* time of the newest entry */
    bool in_heap;            /* its token is in the heap */
} msim__lane;

typedef struct msim__evq {
    msim__evq_entry *heap;
    size_t len, cap;
    msim__evq_node *nodes;
    uint32_t nnodes, cap_nodes;
    uint32_t free_head;  /* slot + 1 of the first free node; 0: none */
    uint64_t next_seq;
    size_t heap_live;    /* live events whose entry is in the heap */
    size_t heap_dead;    /* dead event entries still in the heap */
    size_t live;         /* all live events */
    msim__lane *lanes;
    uint32_t nlanes, cap_lanes;
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
