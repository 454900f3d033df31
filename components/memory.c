/* memory.c — a replica's heap and its garbage collector (see memory.h). */
#include <stddef.h>

#include "memory.h"

static int check_memory(msim_bind *b, const msim_node *n, void *cfg)
{
    const memory_cfg *m = cfg;
    if (memory_modelled(m) && m->baseline >= m->heap)
        return msim_bind_fail(b, msim_node_get(n, "baseline"), -MSIM_EINVAL,
                              "the baseline fills the heap before any attempt arrives");
    if (memory_modelled(m) && m->per_queued == 0 && m->per_active == 0)
        return msim_bind_fail(b, n, -MSIM_EMISSING,
                              "a heap needs per_queued: or per_active: (bytes an attempt holds)");
    return 0;
}

static const msim_param memory_params[] = {
    {"heap", &msim_type_bytes, offsetof(memory_cfg, heap), "0B", 0, 1e18,
     "heap limit per replica (a JVM's -Xmx); 0: memory is not modelled", NULL, NULL},
    {"baseline", &msim_type_bytes, offsetof(memory_cfg, baseline), "0B", 0, 1e18,
     "live bytes of an idle replica (code, caches, connection buffers)", NULL, NULL},
    {"per_queued", &msim_type_bytes, offsetof(memory_cfg, per_queued), "0B", 0, 1e18,
     "live bytes per queued attempt (the request, its buffers)", NULL, NULL},
    {"per_active", &msim_type_bytes, offsetof(memory_cfg, per_active), "0B", 0, 1e18,
     "live bytes per attempt in service (its working set)", NULL, NULL},
    {"gc_cost", &msim_type_number, offsetof(memory_cfg, gc_cost), "0.05", 0, 1e6,
     "GC work per unit of work when the heap is half full; it grows as live / (heap - live)",
     NULL, NULL},
};

const msim_schema memory_schema =
    MSIM_SCHEMA("memory", "live memory, garbage collection and out-of-memory failures",
                memory_params, memory_cfg, check_memory);

/* Past 99.9% full the stretch is held at its value there: the heap limit
 * (out-of-memory failures) stops live memory before it matters. */
double memory_gc_stretch(const memory_cfg *m, double live)
{
    if (!memory_modelled(m) || m->gc_cost == 0) return 1;
    double u = live / m->heap;
    if (u > 0.999) u = 0.999;
    return 1 + m->gc_cost * u / (1 - u);
}
