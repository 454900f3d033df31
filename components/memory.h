/* memory.h — a service replica's heap: live memory that grows with the
 * attempts it holds, garbage collection that takes a growing share of its CPU
 * as the heap fills, and out-of-memory failures past the limit.
 *
 * Live bytes = baseline + queued x per_queued + in service x per_active. The
 * GC's share of the CPU follows the cost model of a tracing collector: each
 * collection traces the live data, and collections come as often as the free
 * space fills, so GC time per unit of work grows as live / (heap - live).
 * With u = live / heap, a unit of work takes 1 + gc_cost x u / (1 - u): the
 * GC doubles it at u = 1 / (1 + gc_cost), and the cost diverges as u -> 1
 * (Jones, Hosking & Moss, The Garbage Collection Handbook, ch. 1). That is
 * the OSDI'22 GC loop: a long queue fills the heap, the GC slows the work,
 * the queue grows — and the loop outlives the load that started it.
 */
#ifndef METASIM_COMPONENTS_MEMORY_H
#define METASIM_COMPONENTS_MEMORY_H

#include "metasim.h"

typedef struct memory_cfg {
    double heap;       /* bytes per replica; 0: memory is not modelled */
    double baseline;   /* live bytes of an idle replica */
    double per_queued; /* bytes per queued attempt */
    double per_active; /* bytes per attempt in service */
    double gc_cost;    /* extra work per unit of work when the heap is half full */
} memory_cfg;

extern const msim_schema memory_schema;

static inline bool memory_modelled(const memory_cfg *m)
{
    return m->heap > 0;
}

/* Live bytes of a replica holding `queued` and `active` attempts. */
static inline double memory_live(const memory_cfg *m, uint32_t queued, uint32_t active)
{
    return m->baseline + queued * m->per_queued + active * m->per_active;
}

/* Whether holding `live` bytes more than `extra` would exceed the heap. */
static inline bool memory_full(const memory_cfg *m, double live, double extra)
{
    return memory_modelled(m) && live + extra > m->heap;
}

/* The factor by which GC stretches work at `live` bytes (1: no GC cost). */
double memory_gc_stretch(const memory_cfg *m, double live);

#endif
