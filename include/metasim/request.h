/* metasim/request.h — requests, attempts, and how they move between components.
 *
 * A request is one unit of a source's work; it succeeds or fails as a whole. An
 * attempt is one try of a request sent to a target. The sender may give up on an
 * attempt (timeout) while the target still holds it: the attempt then lives on,
 * detached from its request (req == NULL), until the target finishes or drops
 * it, and the work spent on it is counted as wasted. That life cycle is the main
 * sustaining effect of retry storms, so it is explicit here.
 *
 * Ownership: requests belong to the source that created them and are freed by it
 * (msim_request_free). An attempt belongs to whoever holds it: the target while
 * it is queued or served, the sender again once a response reaches it. The
 * engine frees abandoned attempts when their holder responds.
 *
 * Re-entrancy: msim_send and msim_respond may call into another component
 * synchronously (when there is no network delay). Call them last, with your own
 * state consistent.
 */
#ifndef METASIM_REQUEST_H
#define METASIM_REQUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "base.h"
#include "engine.h"

struct msim_component;

/* How an attempt ended at its target. */
#define MSIM_STATUS_MAP(X)                                                                         \
    X(OK, "ok")                                                                                    \
    X(ERROR, "error")       /* an error response: injected fault, crashed replica */               \
    X(REJECTED, "rejected") /* refused at once: full queue, no replica up */

typedef enum {
#define MSIM_STATUS_ENUM(id, name) MSIM_STATUS_##id,
    MSIM_STATUS_MAP(MSIM_STATUS_ENUM)
#undef MSIM_STATUS_ENUM
        MSIM_STATUS_COUNT
} msim_status;

/* Why an attempt or a request failed. Bits are used in `retry_on` sets. */
#define MSIM_CAUSE_MAP(X)                                                                          \
    X(TIMEOUT, "timeout", "the attempt's timeout expired before a response")                      \
    X(ERROR, "error", "the target answered with an error")                                        \
    X(REJECTED, "rejected", "the target refused the attempt (full queue, nothing up)")            \
    X(DEADLINE, "deadline", "the request's overall deadline expired")                             \
    X(LOCAL, "local", "failed fast at the source: breaker open, concurrency limit, overflow")

typedef enum {
#define MSIM_CAUSE_ENUM(id, name, doc) MSIM_CAUSE_##id,
    MSIM_CAUSE_MAP(MSIM_CAUSE_ENUM)
#undef MSIM_CAUSE_ENUM
        MSIM_CAUSE_COUNT
} msim_cause;

typedef struct msim_request msim_request;
typedef struct msim_attempt msim_attempt;

/* A request is touched when it starts and ends; the per-attempt state a
 * retry needs rides on the attempt (its number), so a timeout or a retry does
 * not have to bring a long-idle request back into cache. */
struct msim_request {
    msim_time start;                /* when it arrived at its source */
    msim_time deadline;             /* absolute; MSIM_NEVER if none */
    struct msim_component *origin;  /* the source that owns it */
    msim_timer timer;               /* the source's backoff timer */
    msim_time last_backoff;         /* previous backoff, for decorrelated jitter */
    uint32_t user;                  /* source-defined (closed-loop user id) */
    uint32_t aux;                   /* source-defined: the state its mitigations keep per
                                       request (a retry quota held, a breaker generation, a
                                       hedge record); fits the padding, costs no memory */
};

/* Where an attempt is (msim_attempt.flags); the engine keeps these. */
enum {
    MSIM_AF_ARRIVED = 1u << 0,   /* held by its target */
    MSIM_AF_RETURNING = 1u << 1, /* its response is in the network */
    MSIM_AF_DROPPED = 1u << 2,   /* dropped silently: nobody holds it; its sender's
                                    timeout will release it */
};

struct msim_attempt {
    /* First what the sender and the engine touch; then what the holder keeps
     * (a timeout, the commonest event of a storm, reads only the first part). */
    msim_request *req;               /* NULL once the sender abandoned it */
    struct msim_component *from;     /* sender: gets the response */
    struct msim_component *to;       /* target: holds it while serving */
    msim_time expires;               /* when the sender gives up; MSIM_NEVER if never.
                                        Targets that honour deadlines read it. */
    msim_timer timeout;              /* sender's timeout timer */
    msim_timer done;                 /* holder's completion timer */
    void *ctx;                       /* sender-defined: what the sender needs to find
                                        again when the response comes (a balancer: the
                                        attempt it relays; a health checker: its host) */
    uint16_t slot;                   /* holder-defined (e.g. replica index); the sender's
                                        choice of replica when MSIM_CLS_PINNED is set */
    uint16_t number;                 /* 1 for a request's first attempt, 2 for its first retry */
    uint8_t status;                  /* msim_status of the response */
    uint8_t flags;                   /* MSIM_AF_* */
    uint8_t state;                   /* holder-defined */
    uint8_t cls;                     /* sender-defined: MSIM_CLS_* bits */
    /* the holder's */
    msim_time enqueued;              /* target-defined: when it joined a queue */
    msim_time started;               /* target-defined: when service began */
    msim_time due;                   /* target-defined: when service will end */
    msim_time work;                  /* worker time spent on it so far */
    msim_attempt *prev, *next;       /* intrusive links for the holder's lists */
    void *hctx;                      /* holder-defined: what the target keeps with it
                                        while serving (a service: its calls' progress) */
};

/* What the sender asks of the target (msim_attempt.cls). A target that does not
 * understand a bit ignores it. The high nibble is the attempt's priority class
 * (MSIM_CLS_PRIORITY_SHIFT). */
enum {
    /* Serve it on replica `slot`, which the sender chose (a balancer picks hosts
     * itself). The target keeps `slot` unchanged. A pinned attempt to a replica
     * that is down is refused at once (rejected: connection refused), or
     * vanishes when the replica was lost (a black hole: its sender times out). */
    MSIM_CLS_PINNED = 1u << 0,
    /* A health-check probe: the target serves its health endpoint (its own,
     * usually small, service time) instead of ordinary work. */
    MSIM_CLS_PROBE = 1u << 1,
};

/* The high nibble of cls: how critical the request is, as its source declared
 * it (a client's `priority`). A service that sheds by priority refuses or drops
 * lower classes first (components/queue_policy.c). 0 is the default class, so
 * a sender that sets nothing sends default traffic. */
#define MSIM_CLS_PRIORITY_SHIFT 4
enum {
    MSIM_PRIORITY_DEFAULT = 0,
    MSIM_PRIORITY_CRITICAL = 1,  /* shed last */
    MSIM_PRIORITY_SHEDDABLE = 2, /* shed first */
};

static inline unsigned msim_cls_priority(uint8_t cls)
{
    return (unsigned)cls >> MSIM_CLS_PRIORITY_SHIFT;
}

/* How many replicas a sender may pin attempts to on `target` (0: its kind
 * has none, or it is not set up yet). Services are set up before the kinds
 * that come after them in the registry (balancers), which may ask in init.
 * A service an autoscaler resizes counts every replica it may ever have
 * (msim_scale_limit); msim_replica_endpoint says which exist now. */
uint32_t msim_replicas(const struct msim_component *target);

/* Whether replica i of `target` is an endpoint now: it exists and finished
 * its warm-up (Kubernetes lists ready pods only). One down by a trigger still
 * is — only health checks notice that. A sender that pins attempts should
 * pick endpoints only; the target's endpoint changes reach it through
 * msim_kind.on_endpoints. */
bool msim_replica_endpoint(const struct msim_component *target, uint32_t i);

/* The generation of replica i of `target`'s host: 1 at the start, one more
 * each time a redeploy replaces it (a new pod: a new address), so a sender
 * that holds connections tells the host it connected to from its successor.
 * 0: no such replica. */
uint32_t msim_replica_generation(const struct msim_component *target, uint32_t i);

/* Whether replica i of `target` takes attempts and connections now: a ready
 * member, neither down by a trigger nor restarting in a redeploy. */
bool msim_replica_up(const struct msim_component *target, uint32_t i);

/* Allocate a request owned by `origin`, started now, counted as in flight. */
msim_request *msim_request_new(msim_sim *sim, struct msim_component *origin);

/* End a request: it succeeded (ok) or failed for good. Keeps the run's
 * conservation ledger (every request is in flight, succeeded or failed). */
void msim_request_finish(msim_sim *sim, msim_request *r, int ok);

/* Allocate an attempt of `req` from `from` to `to` (not yet sent). */
msim_attempt *msim_attempt_new(msim_sim *sim, msim_request *req, struct msim_component *from,
                               struct msim_component *to);

/* Free an attempt that reached its sender again (after on_response). */
void msim_attempt_free(msim_sim *sim, msim_attempt *a);

/* Send an attempt to a->to, through the sender's network link. Returns true
 * if it is still out when the call returns; false if the target answered it
 * synchronously (its response has been delivered and the attempt may be
 * freed). A sender arms its timeout only for an attempt still out, which
 * spares a timer for every attempt rejected at once. */
bool msim_send(msim_sim *sim, msim_attempt *a);

/* The holder is done with an attempt: deliver status back to the sender
 * through the network. If the sender has abandoned it, the work spent
 * (a->work) is counted as wasted and the attempt is freed here. */
void msim_respond(msim_sim *sim, msim_attempt *a, msim_status status);

/* The holder drops an attempt silently (expired, cancelled, lost). If the
 * sender still waits, it will time out. Frees it if already abandoned. */
void msim_drop(msim_sim *sim, msim_attempt *a);

/* The sender gives up on an attempt: detach it from its request and tell the
 * holder (on_abandon) so it can cancel queued work if it is configured to. */
void msim_abandon(msim_sim *sim, msim_attempt *a);

/* Count of attempts alive right now and the peak so far (memory accounting). */
uint64_t msim_attempts_alive(const msim_sim *sim);

#endif
