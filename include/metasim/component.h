/* metasim/component.h — the component SDK: kinds, instances, conditions.
 *
 * A *kind* (client, service, ...) is a const descriptor: its scenario section,
 * its parameters, and a table of hooks, each with a one-line contract. A
 * *component* is an instance: a struct that starts with msim_component and
 * points at its kind. Built-in kinds in components/ use only the public headers;
 * a user could have written any of them.
 *
 * Triggers do not reach into components. The engine folds the triggers active
 * on a component into an msim_conditions value and hands it to the kind's
 * `apply` hook whenever it changes; the kind decides what a condition means.
 *
 * Ownership: the engine allocates each instance (kind->size bytes, zeroed) and
 * frees it when the run ends, after calling `destroy` if set.
 */
#ifndef METASIM_COMPONENT_H
#define METASIM_COMPONENT_H

#include <stdbool.h>
#include <stdint.h>

#include "base.h"
#include "dist.h"
#include "engine.h"
#include "metrics.h"
#include "param.h"
#include "request.h"

typedef struct msim_component msim_component;
typedef struct msim_kind msim_kind;

/* How a request made for another component ended (see msim_kind.call). */
typedef void (*msim_call_done)(msim_sim *sim, void *ctx, uint64_t tag, msim_status status);

/* A mechanism that can sustain a failure, which `metasim diagnose` switches off
 * (after the trigger) to see whether the system then recovers. A kind lists
 * its own, so a new kind joins the diagnosis without changes to it. */
typedef struct msim_mechanism {
    const char *name; /* "retries" */
    const char *doc;  /* what switching it off means, one line */
    /* Switch it off from now on, for the rest of the run. */
    void (*disable)(msim_sim *sim, msim_component *self);
} msim_mechanism;

/* The state of the world a trigger can change, as seen by one component. The
 * neutral value is msim_conditions_neutral(). */
typedef struct msim_conditions {
    double load_factor;      /* sources: multiply the offered rate */
    double load_add;         /* sources: add this many requests per second */
    int replicas_down;       /* services: replicas out of service */
    bool lose_inflight;      /* ... and their in-flight attempts vanish (else fail) */
    double workers_factor;   /* services: multiply workers per replica */
    double speed_factor;     /* services: divide service times by this */
    msim_time added_latency; /* services: extra holding time per attempt */
    msim_time added_network; /* one-way delay added to each hop into it */
    double error_fraction;   /* services: share of attempts answered with an error */
    int paused;              /* services: > 0 during a stop-the-world pause */
    /* Caches (MSIM_COND_CACHE). A cache acts on the edges: when cache_lose
     * rises it drops that share of its entries (the rise's share of what
     * survived, when flushes overlap); while cache_down > 0 every lookup
     * misses and nothing is stored; when cache_invalidate_top rises the k
     * hottest keys are dropped, and while it is > 0 they are not stored. */
    double cache_lose;            /* share of entries lost (flushes combine: 1 - prod(1 - f)) */
    int cache_down;               /* > 0 while a flush keeps the cache down */
    int64_t cache_invalidate_top; /* the k hottest keys invalidated (the largest k active) */
    /* Redeploys (MSIM_COND_REDEPLOY). When `redeploys` rises a service starts
     * replacing its replicas `redeploy_batch` at a time over redeploy_span:
     * each is down for redeploy_restart, then comes back as a new host. */
    int redeploys;              /* redeploy triggers active */
    msim_time redeploy_span;    /* the latest one's duration */
    msim_time redeploy_restart; /* each replica's downtime */
    int redeploy_batch;         /* replicas replaced at once */
    bool redeploy_lose;         /* what a stopped replica held vanishes (else fails) */
} msim_conditions;

msim_conditions msim_conditions_neutral(void);

/* Which condition groups a kind understands; a trigger may only target a
 * component whose kind accepts its group. */
enum {
    MSIM_COND_LOAD = 1u << 0,     /* load_factor, load_add */
    MSIM_COND_CAPACITY = 1u << 1, /* replicas_down, workers_factor, speed_factor */
    MSIM_COND_LATENCY = 1u << 2,  /* added_latency, added_network */
    MSIM_COND_ERRORS = 1u << 3,   /* error_fraction */
    MSIM_COND_PAUSE = 1u << 4,    /* paused */
    MSIM_COND_CACHE = 1u << 5,    /* cache_lose, cache_down, cache_invalidate_top */
    MSIM_COND_REDEPLOY = 1u << 6, /* redeploys, redeploy_* */
};

/* What a kind can be in a topology. */
enum {
    MSIM_KIND_SOURCE = 1u << 0, /* issues requests (clients) */
    MSIM_KIND_TARGET = 1u << 1, /* accepts attempts (services, balancers) */
    MSIM_KIND_CALLER = 1u << 2, /* makes requests for other components (msim_kind.call) */
    /* As a reference's required role only: a component an autoscaler may
     * resize (its kind has msim_kind.scaling). */
    MSIM_KIND_SCALABLE = 1u << 3,
};

/* ---- resizing (autoscalers) ---------------------------------------------------
 * A kind whose instances can be resized fills an msim_scaling; an autoscaler
 * reads the load through it and sets the size, and knows nothing else of the
 * kind. What is resized is a *unit* of *members*: a service's replicas (its
 * one unit), a jobqueue's common pool or a named queue's own pool of workers.
 * Load figures are cumulative since the run started (integrals over time, in
 * member- or attempt-seconds), so a reader that differences two readings gets
 * exact time averages over the span between them, not samples. */
typedef struct msim_load {
    uint32_t size;       /* members now, warming ones included (Kubernetes' current replicas) */
    uint32_t ready;      /* members serving now (ready, and not down by a trigger) */
    int64_t workers;     /* workers per member now (0: unlimited, no utilisation) */
    double busy_s;       /* integral of busy workers */
    double held_s;       /* integral of attempts held: queued + in service */
    double queued_s;     /* integral of attempts waiting */
    msim_time oldest;    /* age of the oldest waiting attempt now (0: none waits) */
} msim_load;

/* How a resize treats the members it adds and removes. */
typedef struct msim_resize {
    msim_time warmup; /* an added member serves this long after it is asked for */
    msim_time grace;  /* a removed member that still holds work after this drops it
                         (fails it); MSIM_NEVER: it finishes whatever it holds */
} msim_resize;

typedef struct msim_scaling {
    /* Read `unit` (NULL: the default one) into *out. Returns 0, or -MSIM_EINVAL
     * with a one-line reason in err if there is no such unit. */
    int (*load)(msim_sim *sim, msim_component *self, const char *unit, msim_load *out,
                msim_error *err);
    /* Make `unit` n members (1 <= n <= msim_scale_limit). Added members are the
     * next numbers and serve after how->warmup; the highest-numbered go first
     * (warming ones before serving ones) and drain: they take nothing new and
     * finish what they hold, within how->grace. */
    void (*resize)(msim_sim *sim, msim_component *self, const char *unit, uint32_t n,
                   const msim_resize *how);
} msim_scaling;

struct msim_kind {
    const char *name;            /* "service" */
    const char *section;         /* scenario section holding instances: "services" */
    const char *doc;             /* one line */
    const msim_schema *schema;   /* its parameters */
    size_t size;                 /* instance size; starts with msim_component */
    unsigned roles;              /* MSIM_KIND_SOURCE | MSIM_KIND_TARGET */
    unsigned conditions;         /* MSIM_COND_* it understands */

    /* Set up state and register metrics; cfg is the bound schema struct and
     * outlives the run. Return 0 or a negative MSIM_E* with err filled. */
    int (*init)(msim_sim *sim, msim_component *self, const void *cfg, msim_error *err);
    /* Schedule the first events (arrivals, ...). NULL: nothing to start. */
    void (*start)(msim_sim *sim, msim_component *self);
    /* An attempt arrived (targets only). The component now holds it. */
    void (*accept)(msim_sim *sim, msim_component *self, msim_attempt *a);
    /* A response to an attempt this component sent arrived; a->status says
     * how it went. The attempt is back in the sender's hands. */
    void (*on_response)(msim_sim *sim, msim_component *self, msim_attempt *a);
    /* The sender abandoned an attempt this component holds (a->req is now
     * NULL). NULL: keep working on it, as real servers do. */
    void (*on_abandon)(msim_sim *sim, msim_component *self, msim_attempt *a);
    /* The active triggers changed the conditions. NULL: ignores triggers. */
    void (*apply)(msim_sim *sim, msim_component *self, const msim_conditions *c);
    /* A metric window [t0, t1) is closing; last chance to count into it. */
    void (*on_window)(msim_sim *sim, msim_component *self, msim_time t0, msim_time t1);
    /* Release anything not allocated from the run (rarely needed). */
    void (*destroy)(msim_sim *sim, msim_component *self);

    const msim_mechanism *mechanisms; /* sustaining mechanisms it can switch off */
    size_t nmechanisms;

    /* Make one request on behalf of another component — a service's call to
     * its dependencies — with its own timeouts and retries, ending no later
     * than `deadline` (MSIM_NEVER: no limit). `done(sim, ctx, tag, status)` is
     * called exactly once, when the request succeeds (MSIM_STATUS_OK) or fails
     * for good; possibly before `call` returns. Returns 0, or a negative
     * MSIM_E* if the request could not be made. NULL: the kind makes no calls. */
    int (*call)(msim_sim *sim, msim_component *self, msim_time deadline, msim_call_done done,
                void *ctx, uint64_t tag);
    /* Whether an instance so configured takes `call`s (a client with
     * `arrival: calls`); NULL: every instance of a MSIM_KIND_CALLER kind does.
     * Checked when the scenario loads, so a wrong reference is an error at
     * its line, not at run time. */
    bool (*is_caller)(const void *cfg);

    /* How an autoscaler reads and sets its size. NULL: it cannot be resized. */
    const msim_scaling *scaling;
    /* A kind that resizes others: the largest size an instance so configured
     * may give component `target` (0: none). Read before any init, so that the
     * target, and a balancer in front of it, can make room. NULL: resizes nothing. */
    uint32_t (*scale_limit)(const void *cfg, uint32_t target);
    /* The endpoints of `target` changed: replicas joined or left
     * (msim_replica_endpoint). NULL: it does not pick replicas itself. */
    void (*on_endpoints)(msim_sim *sim, msim_component *self, msim_component *target);
};

/* The common base every instance embeds as its first member. */
struct msim_component {
    const msim_kind *kind;
    const char *name;
    uint32_t index;            /* position in the scenario's component list */
    const msim_dist *link;     /* network delay on each hop of attempts it sends
                                  (both ways); NULL: none */
    msim_time hop_extra;       /* extra one-way delay on every hop into and out of
                                  it (latency triggers `on: network`); engine-set */
    msim_rng net_rng;          /* draws for link delays */
    /* Registered by the engine for every target kind: seconds of worker time
     * spent on attempts, and the part of it nobody waited for. Count work when
     * it is done; the engine counts waste (at msim_respond, msim_drop, or when
     * a response arrives after its sender gave up). */
    msim_metric m_work;
    msim_metric m_wasted;
};

/* The component at a scenario index (resolved msim_ref.index). */
msim_component *msim_component_at(msim_sim *sim, int32_t index);

/* The component with this name, or NULL. */
msim_component *msim_component_find(msim_sim *sim, const char *name);

/* The largest size any component of the run may give `target`
 * (msim_kind.scale_limit); 0: nothing resizes it. Callable from init. */
uint32_t msim_scale_limit(const msim_sim *sim, const msim_component *target);

/* Tell every component that picks replicas (msim_kind.on_endpoints) that the
 * endpoints of `target` changed. */
void msim_endpoints_changed(msim_sim *sim, msim_component *target);

/* The registry: every built-in kind, in the order `metasim list` shows them. */
const msim_kind *const *msim_kinds(size_t *count);
const msim_kind *msim_kind_find(const char *name);

#endif
