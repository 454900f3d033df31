/* calls.h — a service's calls to its dependencies while it handles an
 * attempt: in sequence, or fanned out in parallel (waiting for all, or for the
 * first k successes). Each call is a request made by a client with `arrival:
 * calls` — an edge with its own timeouts, retries and mitigations — so
 * amplification multiplies across layers exactly as it does in production:
 * three layers of three attempts can put 27 attempts on the bottom service
 * for one request at the top.
 *
 * The worker that handles the attempt is held for the whole of it: its own
 * work first, then the calls. The calls' progress lives in a group record the
 * attempt points to (hctx); a group outlives its attempt if the replica goes
 * down mid-call, so late answers find it and are ignored.
 */
#ifndef METASIM_COMPONENTS_CALLS_H
#define METASIM_COMPONENTS_CALLS_H

#include "metasim.h"

enum { CALLS_SEQUENTIAL, CALLS_PARALLEL };
enum { NEED_ALL = 0 }; /* calls_cfg.need: every call, else the first k successes */

typedef struct call_edge_cfg {
    msim_ref client;
    bool required;
} call_edge_cfg;

typedef struct calls_cfg {
    msim_list to;           /* call_edge_cfg */
    int mode;
    int64_t need;           /* parallel: NEED_ALL, or successes to wait for (any: 1) */
    bool propagate_deadline;
} calls_cfg;

extern const msim_schema calls_schema;

typedef struct call_group call_group;

/* What the calls report when they are done. */
typedef void (*calls_finish_fn)(msim_sim *sim, msim_attempt *a, msim_status status);

typedef struct call_plan {
    const calls_cfg *cfg;
    msim_component **edges;
    size_t n;
    msim_pool *groups;
    calls_finish_fn finish;
    msim_metric m_failed;   /* attempts answered with an error because a call failed */
} call_plan;

/* Resolve the edges (each must be a component that makes calls). */
int calls_init(msim_sim *sim, msim_component *owner, call_plan *p, const calls_cfg *cfg,
               calls_finish_fn finish, msim_error *err);

static inline bool calls_configured(const call_plan *p)
{
    return p->n > 0;
}

/* Make a's calls; p->finish(sim, a, status) follows when they are done. */
void calls_start(msim_sim *sim, call_plan *p, msim_attempt *a);

/* a leaves before its calls are done (its replica went down): the calls still
 * in flight finish without it. */
void calls_detach(call_plan *p, msim_attempt *a);

#endif
