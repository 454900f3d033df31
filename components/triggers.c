/* triggers.c — the trigger kinds: timed changes to the system.
 *
 * A trigger never touches a component directly. While it is active its `fold`
 * adds its effect to the target's conditions (msim_conditions); overlapping
 * triggers compose: load factors and speed factors multiply, added rates,
 * latencies and replicas down add up, error fractions combine as independent
 * chances, pauses nest.
 */
#include <stddef.h>

#include "metasim.h"

typedef struct load_cfg {
    msim_trigger_common common;
    double factor, add;
} load_cfg;

typedef struct capacity_cfg {
    msim_trigger_common common;
    int64_t replicas_down;
    double workers_factor, speed_factor;
    int inflight;
} capacity_cfg;

typedef struct latency_cfg {
    msim_trigger_common common;
    msim_time add;
    int on;
} latency_cfg;

typedef struct errors_cfg {
    msim_trigger_common common;
    double fraction;
} errors_cfg;

typedef struct pause_cfg {
    msim_trigger_common common;
} pause_cfg;

/* ---- load -------------------------------------------------------------------------- */

static const msim_param load_params[] = {
    MSIM_TRIGGER_COMMON_PARAMS(load_cfg),
    {"factor", &msim_type_factor, offsetof(load_cfg, factor), "1", 0, 1e6,
     "multiply the offered rate (closed loop: the users) by this", NULL, NULL},
    {"add", &msim_type_rate, offsetof(load_cfg, add), "0/s", 0, 1e12,
     "add this many requests per second (open loop)", NULL, NULL},
};
static const msim_schema load_schema =
    MSIM_SCHEMA("load trigger", "a load spike", load_params, load_cfg, NULL);

static void fold_load(const void *cfg, msim_conditions *c)
{
    const load_cfg *t = cfg;
    c->load_factor *= t->factor;
    c->load_add += t->add;
}

static const msim_trigger_kind load_trigger = {
    "load", "more offered load: a spike, a retry wave from elsewhere, a traffic shift",
    &load_schema, MSIM_COND_LOAD, fold_load};

/* ---- capacity ----------------------------------------------------------------------- */

static const msim_choice inflight_modes[] = {
    {"fail", "attempts held by a downed replica fail at once (connection reset)"},
    {"lose", "they vanish, and so does traffic a balancer still sends them; their senders wait "
             "for their timeouts (host lost)"},
    {NULL, NULL},
};

static const msim_param capacity_params[] = {
    MSIM_TRIGGER_COMMON_PARAMS(capacity_cfg),
    {"replicas_down", &msim_type_int, offsetof(capacity_cfg, replicas_down), "0", 0, 1e6,
     "replicas out of service", NULL, NULL},
    {"workers_factor", &msim_type_factor, offsetof(capacity_cfg, workers_factor), "1", 0, 1e6,
     "multiply the workers of each replica (rounded)", NULL, NULL},
    {"speed_factor", &msim_type_factor, offsetof(capacity_cfg, speed_factor), "1", 1e-6, 1e6,
     "multiply the speed of service: 0.2 makes every service time 5x longer (a CPU cut)", NULL,
     NULL},
    {"inflight", &msim_type_enum, offsetof(capacity_cfg, inflight), "fail", MSIM_UNBOUNDED,
     "what happens to attempts on downed replicas", inflight_modes, NULL},
};
static const msim_schema capacity_schema =
    MSIM_SCHEMA("capacity trigger", "lost capacity", capacity_params, capacity_cfg, NULL);

static void fold_capacity(const void *cfg, msim_conditions *c)
{
    const capacity_cfg *t = cfg;
    c->replicas_down += (int)t->replicas_down;
    c->workers_factor *= t->workers_factor;
    c->speed_factor *= t->speed_factor;
    if (t->replicas_down && t->inflight == 1) c->lose_inflight = true;
}

static const msim_trigger_kind capacity_trigger = {
    "capacity", "less capacity: replicas down, fewer workers, slower service (CPU cut)",
    &capacity_schema, MSIM_COND_CAPACITY, fold_capacity};

/* ---- blackhole ---------------------------------------------------------------------- */

typedef struct blackhole_cfg {
    msim_trigger_common common;
    int64_t replicas;
} blackhole_cfg;

static const msim_param blackhole_params[] = {
    MSIM_TRIGGER_COMMON_PARAMS(blackhole_cfg),
    {"replicas", &msim_type_int, offsetof(blackhole_cfg, replicas), "1", 1, 65535,
     "replicas (the highest-numbered) that swallow every attempt without an answer", NULL, NULL},
};
static const msim_schema blackhole_schema = MSIM_SCHEMA(
    "blackhole trigger", "hosts that stop answering", blackhole_params, blackhole_cfg, NULL);

/* A black-holed host is a lost host whose address still receives traffic: the
 * service's own routing drops it at once (endpoint removal), but a balancer
 * keeps sending it pinned attempts until health checks or outlier detection
 * notice; those attempts, and the ones it held, vanish. */
static void fold_blackhole(const void *cfg, msim_conditions *c)
{
    const blackhole_cfg *t = cfg;
    c->replicas_down += (int)t->replicas;
    c->lose_inflight = true;
}

static const msim_trigger_kind blackhole_trigger = {
    "blackhole", "hosts stop answering: what they hold and what a balancer still sends them vanish",
    &blackhole_schema, MSIM_COND_CAPACITY, fold_blackhole};

/* ---- latency ------------------------------------------------------------------------ */

static const msim_choice latency_places[] = {
    {"service", "added to each attempt's service, holding its worker (a slow dependency)"},
    {"network", "added to every hop into and out of the target (a slow link)"},
    {NULL, NULL},
};

static const msim_param latency_params[] = {
    MSIM_TRIGGER_COMMON_PARAMS(latency_cfg),
    {"add", &msim_type_duration, offsetof(latency_cfg, add), NULL, 0, 1e300,
     "extra latency per attempt", NULL, NULL},
    {"on", &msim_type_enum, offsetof(latency_cfg, on), "service", MSIM_UNBOUNDED,
     "where the latency appears", latency_places, NULL},
};
static const msim_schema latency_schema =
    MSIM_SCHEMA("latency trigger", "added latency", latency_params, latency_cfg, NULL);

static void fold_latency(const void *cfg, msim_conditions *c)
{
    const latency_cfg *t = cfg;
    if (t->on == 1)
        c->added_network += t->add;
    else
        c->added_latency += t->add;
}

static const msim_trigger_kind latency_trigger = {
    "latency", "added latency: a slow dependency, a slow network path", &latency_schema,
    MSIM_COND_LATENCY, fold_latency};

/* ---- errors --------------------------------------------------------------------------- */

static const msim_param errors_params[] = {
    MSIM_TRIGGER_COMMON_PARAMS(errors_cfg),
    {"fraction", &msim_type_fraction, offsetof(errors_cfg, fraction), NULL, MSIM_UNBOUNDED,
     "share of attempts answered at once with an error", NULL, NULL},
};
static const msim_schema errors_schema =
    MSIM_SCHEMA("errors trigger", "injected errors", errors_params, errors_cfg, NULL);

static void fold_errors(const void *cfg, msim_conditions *c)
{
    const errors_cfg *t = cfg;
    c->error_fraction = 1 - (1 - c->error_fraction) * (1 - t->fraction);
}

static const msim_trigger_kind errors_trigger = {
    "errors", "a share of attempts fail fast with an error", &errors_schema, MSIM_COND_ERRORS,
    fold_errors};

/* ---- pause ----------------------------------------------------------------------------- */

static const msim_param pause_params[] = {
    MSIM_TRIGGER_COMMON_PARAMS(pause_cfg),
};
static const msim_schema pause_schema =
    MSIM_SCHEMA("pause trigger", "a stop-the-world pause", pause_params, pause_cfg, NULL);

static void fold_pause(const void *cfg, msim_conditions *c)
{
    (void)cfg;
    c->paused++;
}

static const msim_trigger_kind pause_trigger = {
    "pause", "stop the world: the service does no work (GC pause, VM freeze); work resumes after",
    &pause_schema, MSIM_COND_PAUSE, fold_pause};

/* ---- flush and invalidate (caches) -----------------------------------------------------------
 * A cache acts on the edges of these (component.h, msim_conditions): what a
 * flush loses is lost when it starts, and nothing refills until it ends. */

typedef struct flush_cfg {
    msim_trigger_common common;
    double fraction;
} flush_cfg;

static const msim_param flush_params[] = {
    MSIM_TRIGGER_COMMON_PARAMS(flush_cfg),
    {"fraction", &msim_type_fraction, offsetof(flush_cfg, fraction), "100%", MSIM_UNBOUNDED,
     "share of the entries lost when it starts, each chosen independently (100%: flush_all)",
     NULL, NULL},
};
static const msim_schema flush_schema =
    MSIM_SCHEMA("flush trigger", "a cache flush", flush_params, flush_cfg, NULL);

static void fold_flush(const void *cfg, msim_conditions *c)
{
    const flush_cfg *t = cfg;
    c->cache_lose = 1 - (1 - c->cache_lose) * (1 - t->fraction);
    c->cache_down++;
}

static const msim_trigger_kind flush_trigger = {
    "flush",
    "a cache loses a share of its entries when it starts and is down while it lasts: every "
    "lookup misses, nothing is stored (a restart; use a short duration for a plain flush_all)",
    &flush_schema, MSIM_COND_CACHE, fold_flush};

typedef struct invalidate_cfg {
    msim_trigger_common common;
    int64_t top;
} invalidate_cfg;

static const msim_param invalidate_params[] = {
    MSIM_TRIGGER_COMMON_PARAMS(invalidate_cfg),
    {"top", &msim_type_int, offsetof(invalidate_cfg, top), NULL, 1, 1e12,
     "how many of the hottest keys (by popularity rank) are invalidated", NULL, NULL},
};
static const msim_schema invalidate_schema = MSIM_SCHEMA(
    "invalidate trigger", "hot keys invalidated", invalidate_params, invalidate_cfg, NULL);

static void fold_invalidate(const void *cfg, msim_conditions *c)
{
    const invalidate_cfg *t = cfg;
    if (t->top > c->cache_invalidate_top) c->cache_invalidate_top = t->top;
}

static const msim_trigger_kind invalidate_trigger = {
    "invalidate",
    "a cache drops its `top` hottest keys when it starts and does not store them while it lasts "
    "(a hot-key invalidation: a deploy that changes their version, a purge)",
    &invalidate_schema, MSIM_COND_CACHE, fold_invalidate};

/* ---- redeploy ------------------------------------------------------------------------------
 * A rolling update: the service replaces its replicas a batch at a time and
 * times the steps itself from the edge (component.h, msim_conditions), so
 * that every replica is back, as a new host, by the end of the trigger. */

typedef struct redeploy_cfg {
    msim_trigger_common common;
    msim_time restart;
    int64_t batch;
    int inflight;
} redeploy_cfg;

static const msim_param redeploy_params[] = {
    MSIM_TRIGGER_COMMON_PARAMS(redeploy_cfg),
    {"restart", &msim_type_duration, offsetof(redeploy_cfg, restart), "10s", 0, 1e300,
     "how long each replica is down between its old host stopping and its new one serving "
     "(0: the new one is ready as the old one stops, like maxSurge)",
     NULL, NULL},
    {"batch", &msim_type_int, offsetof(redeploy_cfg, batch), "1", 1, 65535,
     "replicas replaced at once (Kubernetes maxUnavailable)", NULL, NULL},
    {"inflight", &msim_type_enum, offsetof(redeploy_cfg, inflight), "fail", MSIM_UNBOUNDED,
     "what happens to the attempts a stopping replica holds", inflight_modes, NULL},
};

static int check_redeploy(msim_bind *b, const msim_node *n, void *p)
{
    const redeploy_cfg *t = p;
    if (t->restart >= t->common.length)
        return msim_bind_fail(b, msim_node_get(n, "restart"), -MSIM_EINVAL,
                              "a replica's restart must be shorter than the redeploy's duration");
    return 0;
}

static const msim_schema redeploy_schema = MSIM_SCHEMA(
    "redeploy trigger", "a rolling update", redeploy_params, redeploy_cfg, check_redeploy);

static void fold_redeploy(const void *cfg, msim_conditions *c)
{
    const redeploy_cfg *t = cfg;
    c->redeploys++;
    c->redeploy_span = t->common.length;
    c->redeploy_restart = t->restart;
    c->redeploy_batch = (int)t->batch;
    c->redeploy_lose = t->inflight == 1;
}

static const msim_trigger_kind redeploy_trigger = {
    "redeploy",
    "a rolling update: replicas are replaced `batch` at a time, evenly over the duration; each "
    "is down for `restart`, then comes back as a new host (a new address)",
    &redeploy_schema, MSIM_COND_REDEPLOY, fold_redeploy};

/* ---- the registry of trigger kinds ------------------------------------------------------- */

static const msim_trigger_kind *const trigger_kinds[] = {
    &load_trigger, &capacity_trigger, &blackhole_trigger, &latency_trigger, &errors_trigger,
    &pause_trigger, &flush_trigger, &invalidate_trigger, &redeploy_trigger,
};

const msim_trigger_kind *const *msim_trigger_kinds(size_t *count)
{
    *count = sizeof trigger_kinds / sizeof trigger_kinds[0];
    return trigger_kinds;
}
