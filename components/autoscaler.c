/* autoscaler.c — the `autoscaler` kind: Kubernetes' HorizontalPodAutoscaler
 * (autoscaling/v2) resizing a service's replicas or a jobqueue's workers.
 *
 * Every sync_period it reads its target's load through msim_scaling — integrals
 * over time since the run started, which it differences, so its averages are
 * exact time averages over the period — and acts as the HPA controller does
 * (kubernetes pkg/controller/podautoscaler: horizontal.go, replica_calculator.go):
 *  1. outside [min_replicas, max_replicas] the target is brought to the bound;
 *  2. the replica calculator turns the metric into a recommendation,
 *     desired = ceil(ready x metric / target_value), nothing within the
 *     tolerance, and replicas still warming up counted at zero load for a
 *     scale-up (its conservative recomputation);
 *  3. stabilisation: the result stays between the lowest recommendation of
 *     the scale-up window and the highest of the scale-down window;
 *  4. the policies limit the change from the size each policy's period ago,
 *     which a history of scale events gives.
 * docs/autoscaling.md has the sources and every choice made where Kubernetes
 * leaves room. The metrics, and the Kubernetes metric type each stands for:
 *
 *   utilisation    busy workers / workers of ready replicas  Resource (CPU vs request)
 *   in_flight      attempts held per ready replica           Pods, AverageValue
 *   queue_depth    attempts waiting per ready replica        Pods, AverageValue
 *   queue_latency  age of the oldest waiting attempt         External, Value
 *
 * It knows nothing of services or jobqueues: only msim_scaling.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "metasim.h"

enum { MET_UTILISATION, MET_IN_FLIGHT, MET_QUEUE_DEPTH, MET_QUEUE_LATENCY };
enum { SELECT_MAX, SELECT_MIN, SELECT_DISABLED };
enum { POLICY_PODS, POLICY_PERCENT };

typedef struct policy_cfg {
    int type;
    int64_t value;
    msim_time period;
} policy_cfg;

typedef struct rules_cfg {
    msim_time window;
    int select;
    msim_list policies;
} rules_cfg;

typedef struct behavior_cfg {
    rules_cfg scale_up, scale_down;
} behavior_cfg;

typedef struct autoscaler_cfg {
    msim_ref target;
    const char *queue;
    int metric;
    const char *target_value;
    int64_t min_replicas, max_replicas;
    msim_time sync_period;
    double tolerance;
    msim_time warmup, termination_grace;
    behavior_cfg behavior;
    double goal; /* target_value in the metric's unit (fraction, count, seconds); by check */
} autoscaler_cfg;

/* ---- parameters ---------------------------------------------------------------------------- */

static const msim_choice metrics[] = {
    {"utilisation", "busy workers over the sync period / workers of the replicas ready at the "
                    "sync (CPU utilisation against the request)"},
    {"in_flight", "attempts held (queued + in service) over the period, per ready replica"},
    {"queue_depth", "attempts waiting over the period, per ready replica"},
    {"queue_latency", "age of the oldest waiting attempt (job) at the sync: the happy-queues metric"},
    {NULL, NULL},
};

static const msim_choice selects[] = {
    {"max", "the policy that allows the biggest change"},
    {"min", "the policy that allows the smallest change"},
    {"disabled", "no scaling in this direction"},
    {NULL, NULL},
};

static const msim_choice policy_types[] = {
    {"pods", "add (remove) at most `value` replicas per period"},
    {"percent", "add (remove) at most `value`% of the replicas per period"},
    {NULL, NULL},
};

static const msim_param policy_params[] = {
    {"type", &msim_type_enum, offsetof(policy_cfg, type), NULL, MSIM_UNBOUNDED,
     "pods or percent", policy_types, NULL},
    {"value", &msim_type_int, offsetof(policy_cfg, value), NULL, 1, 1e9,
     "replicas, or percent of the replicas at the period's start", NULL, NULL},
    {"period", &msim_type_duration, offsetof(policy_cfg, period), NULL, 1e9, 1800e9,
     "the span the limit holds over (Kubernetes periodSeconds, at most 30m)", NULL, NULL},
};

static const msim_schema policy_schema =
    MSIM_SCHEMA("policy", "a limit on scaling per period", policy_params, policy_cfg, NULL);

/* Kubernetes refuses a direction with no policy unless it is disabled. */
static int check_rules(msim_bind *b, const msim_node *n, void *p)
{
    const rules_cfg *r = p;
    if (r->policies.n == 0 && r->select != SELECT_DISABLED)
        return msim_bind_fail(b, msim_node_get(n, "policies"), -MSIM_EINVAL,
                              "at least one policy, or select_policy: disabled");
    return 0;
}

/* The two directions share their keys; only the defaults differ. */
#define RULES_PARAMS(window_def, policies_def)                                                     \
    {"stabilization_window", &msim_type_duration, offsetof(rules_cfg, window), window_def, 0,      \
     3600e9, "use the lowest (scale-up) or highest (scale-down) recommendation this recent",       \
     NULL, NULL},                                                                                  \
        {"select_policy", &msim_type_enum, offsetof(rules_cfg, select), "max", MSIM_UNBOUNDED,     \
         "which policy's limit applies", selects, NULL},                                           \
        {"policies", &msim_type_list, offsetof(rules_cfg, policies), policies_def,                 \
         MSIM_UNBOUNDED, "each {type: pods|percent, value, period}", &policy_schema, NULL}

/* Kubernetes' defaults (SetDefaults_HorizontalPodAutoscalerBehavior). */
static const msim_param scale_up_params[] = {RULES_PARAMS(
    "0s", "[{type: percent, value: 100, period: 15s}, {type: pods, value: 4, period: 15s}]")};
static const msim_param scale_down_params[] = {
    RULES_PARAMS("300s", "[{type: percent, value: 100, period: 15s}]")};

static const msim_schema scale_up_schema =
    MSIM_SCHEMA("scale_up", "how fast it may add replicas", scale_up_params, rules_cfg, check_rules);
static const msim_schema scale_down_schema = MSIM_SCHEMA(
    "scale_down", "how fast it may remove replicas", scale_down_params, rules_cfg, check_rules);

static const msim_param behavior_params[] = {
    {"scale_up", &msim_type_struct, offsetof(behavior_cfg, scale_up), NULL, MSIM_UNBOUNDED,
     "scaleUp: window 0s, max(100% per 15s, 4 replicas per 15s)", &scale_up_schema, NULL},
    {"scale_down", &msim_type_struct, offsetof(behavior_cfg, scale_down), NULL, MSIM_UNBOUNDED,
     "scaleDown: window 5m, 100% per 15s", &scale_down_schema, NULL},
};

static const msim_schema behavior_schema =
    MSIM_SCHEMA("behavior", "scaling rates and stabilisation", behavior_params, behavior_cfg, NULL);

static const msim_param autoscaler_params[] = {
    {"target", &msim_type_ref, offsetof(autoscaler_cfg, target), NULL, MSIM_UNBOUNDED,
     "the service (replicas) or jobqueue (workers) it resizes",
     (const void *)(uintptr_t)MSIM_KIND_SCALABLE, NULL},
    {"queue", &msim_type_string, offsetof(autoscaler_cfg, queue), "", MSIM_UNBOUNDED,
     "a jobqueue: the named queue whose own pool it resizes (left out: the common pool)", NULL,
     NULL},
    {"metric", &msim_type_enum, offsetof(autoscaler_cfg, metric), "utilisation", MSIM_UNBOUNDED,
     "what it scales on", metrics, NULL},
    {"target_value", &msim_type_string, offsetof(autoscaler_cfg, target_value), NULL,
     MSIM_UNBOUNDED,
     "the metric's goal: a fraction (utilisation: 60%), a count per replica (in_flight, "
     "queue_depth: 10) or a duration (queue_latency: 30s)",
     NULL, NULL},
    {"min_replicas", &msim_type_int, offsetof(autoscaler_cfg, min_replicas), "1", 1, 65535,
     "it never goes below this", NULL, NULL},
    {"max_replicas", &msim_type_int, offsetof(autoscaler_cfg, max_replicas), NULL, 1, 65535,
     "it never goes above this", NULL, NULL},
    {"sync_period", &msim_type_duration, offsetof(autoscaler_cfg, sync_period), "15s", 1e6, 3600e9,
     "how often it acts (--horizontal-pod-autoscaler-sync-period)", NULL, NULL},
    {"tolerance", &msim_type_fraction, offsetof(autoscaler_cfg, tolerance), "10%",
     MSIM_UNBOUNDED, "no action while |metric / target_value - 1| is at most this", NULL, NULL},
    {"warmup", &msim_type_duration, offsetof(autoscaler_cfg, warmup), "30s", 0, 1e300,
     "a new replica serves this long after it is asked for (scheduling, start, readiness)", NULL,
     NULL},
    {"termination_grace", &msim_type_timeout, offsetof(autoscaler_cfg, termination_grace), "30s",
     0, 1e300,
     "a removed replica drains; what it still holds after this fails (none: it finishes all)",
     NULL, NULL},
    {"behavior", &msim_type_struct, offsetof(autoscaler_cfg, behavior), NULL, MSIM_UNBOUNDED,
     "scale-up and scale-down policies and stabilisation windows", &behavior_schema, NULL},
};

/* target_value's type per metric: the value types' own parsers, with the
 * expectation said in the metric's terms. */
static int parse_fraction_goal(msim_bind *b, const msim_node *n, const msim_param *p, void *f)
{
    return msim_type_fraction.parse(b, n, p, f);
}

static int parse_count_goal(msim_bind *b, const msim_node *n, const msim_param *p, void *f)
{
    return msim_type_number.parse(b, n, p, f);
}

static int parse_duration_goal(msim_bind *b, const msim_node *n, const msim_param *p, void *f)
{
    return msim_type_duration.parse(b, n, p, f);
}

static const msim_type goal_types[] = {
    {"fraction", "a share of busy workers such as 60% (metric: utilisation)", parse_fraction_goal,
     NULL},
    {"number", "a count of attempts per replica such as 10 (metric: in_flight)", parse_count_goal,
     NULL},
    {"number", "a count of waiting attempts per replica such as 5 (metric: queue_depth)",
     parse_count_goal, NULL},
    {"duration", "a duration such as 30s (metric: queue_latency)", parse_duration_goal, NULL},
};

static int parse_goal(msim_bind *b, const msim_node *n, autoscaler_cfg *c)
{
    const msim_node *v = msim_node_get(n, "target_value");
    msim_param p = {.name = "target_value", .type = &goal_types[c->metric], .min = 0.001,
                    .max = 1e300};
    if (c->metric == MET_UTILISATION) p.min = 0.01, p.max = 1; /* a whole percent */
    if (c->metric != MET_QUEUE_LATENCY) return v ? p.type->parse(b, v, &p, &c->goal) : 0;
    msim_time t = 0;
    p.min = 1e6;
    int rc = v ? p.type->parse(b, v, &p, &t) : 0;
    c->goal = msim_time_to_s(t);
    return rc;
}

static int check_autoscaler(msim_bind *b, const msim_node *n, void *p)
{
    autoscaler_cfg *c = p;
    if (c->max_replicas < c->min_replicas)
        return msim_bind_fail(b, msim_node_get(n, "max_replicas"), -MSIM_EINVAL,
                              "max_replicas (%lld) is below min_replicas (%lld)",
                              (long long)c->max_replicas, (long long)c->min_replicas);
    return parse_goal(b, n, c);
}

static const msim_schema autoscaler_schema =
    MSIM_SCHEMA("autoscaler", "a Kubernetes HorizontalPodAutoscaler", autoscaler_params,
                autoscaler_cfg, check_autoscaler);

/* ---- state ------------------------------------------------------------------------------------ */

/* A timestamped count: a recommendation, or the size of a scale event. */
typedef struct stamp {
    msim_time at;
    int64_t n;
} stamp;

typedef struct history {
    stamp *v;
    uint32_t n, cap;
} history;

typedef struct autoscaler {
    msim_component base;
    const autoscaler_cfg *cfg;
    msim_component *target;
    const char *unit; /* NULL: the target's default unit */
    msim_resize how;
    msim_load last;   /* the reading at the previous sync */
    msim_time last_at;
    history recs;     /* recommendations, for the stabilisation windows */
    history ups, downs; /* scale events, for the policies' periods */
    int64_t wanted;   /* the latest recommendation */
    bool frozen;      /* diagnose switched it off */

    msim_gauge g_desired, g_replicas, g_ready, g_metric, g_recommended, g_pinned, g_lag;
    msim_metric m_ups, m_downs;
} autoscaler;

extern const msim_kind msim_autoscaler_kind;

/* ---- histories ---------------------------------------------------------------------------------
 * Kubernetes keeps recommendations and scale events in lists, reusing an
 * entry that has aged out of every window that reads it; appended otherwise.
 * The lists stay short (a window over the sync period), and are sized so. */

static int history_new(msim_sim *sim, history *h, msim_time span, msim_time period)
{
    h->cap = (uint32_t)(span / period) + 4;
    h->v = msim_arena_alloc(sim, h->cap * sizeof *h->v);
    return h->v ? 0 : -MSIM_ENOMEM;
}

/* Record (at, n), reusing the last entry older than `cutoff`. */
static void history_put(history *h, msim_time at, int64_t n, msim_time cutoff)
{
    int64_t slot = -1;
    for (uint32_t i = 0; i < h->n; i++)
        if (h->v[i].at < cutoff) slot = i;
    if (slot < 0 && h->n < h->cap) slot = h->n++;
    if (slot < 0) { /* cannot happen with the sizes above; the oldest goes */
        slot = 0;
        for (uint32_t i = 1; i < h->n; i++)
            if (h->v[i].at < h->v[slot].at) slot = i;
    }
    h->v[slot] = (stamp){at, n};
}

/* The replicas a history's events changed within the last `period`. */
static int64_t changed_within(const history *h, msim_time now, msim_time period)
{
    int64_t sum = 0;
    for (uint32_t i = 0; i < h->n; i++)
        if (h->v[i].at > now - period) sum += h->v[i].n;
    return sum;
}

static msim_time longest_period(const rules_cfg *r)
{
    msim_time longest = 0;
    const policy_cfg *p = r->policies.items;
    for (size_t i = 0; i < r->policies.n; i++)
        if (p[i].period > longest) longest = p[i].period;
    return longest;
}

/* ---- the replica calculator ---------------------------------------------------------------- */

/* ceil, but a product that misses an integer by rounding error stays on it */
static int64_t ceil_count(double x)
{
    return (int64_t)ceil(x - 1e-9);
}

/* The metric at a sync: the load over the period since the last one (the
 * differenced integrals over its length: exact time averages) shared among
 * the replicas ready now, as the HPA averages the samples of the pods ready
 * when it looks — a replica that has just become ready counts, with the
 * little load it has carried. False when nothing can be measured: no replica
 * ready (the HPA's "did not receive metrics for any ready pods": no action). */
static bool measure(const autoscaler *as, const msim_load *now, msim_time span, double *value)
{
    const msim_load *was = &as->last;
    double secs = msim_time_to_s(span), ready = now->ready;
    if (now->ready == 0 || secs <= 0) return false;
    switch (as->cfg->metric) {
    case MET_UTILISATION:
        if (now->workers <= 0) return false; /* a capacity trigger took every worker */
        /* Kubernetes' utilisation is a whole percent, truncated */
        *value = floor(100 * (now->busy_s - was->busy_s) / secs / (ready * (double)now->workers) +
                       1e-9) /
                 100;
        return true;
    case MET_IN_FLIGHT:
        *value = (now->held_s - was->held_s) / secs / ready;
        return true;
    case MET_QUEUE_DEPTH:
        *value = (now->queued_s - was->queued_s) / secs / ready;
        return true;
    default:
        *value = msim_time_to_s(now->oldest);
        return true;
    }
}

/* An average over the ready replicas (Resource and Pods metrics). Without
 * replicas warming up, or for a scale-down, ceil(ratio x ready) outside the
 * tolerance. For a scale-up with replicas not ready, those count at zero
 * load: if the recomputed ratio falls within the tolerance or below 1, or
 * the count would fall, nothing happens. */
static int64_t recommend_average(double ratio, double tol, int64_t size, int64_t ready)
{
    int64_t unready = size > ready ? size - ready : 0;
    if (unready == 0 || ratio <= 1) {
        if (fabs(1 - ratio) <= tol) return size;
        return ceil_count(ratio * (double)ready);
    }
    double diluted = ratio * (double)ready / (double)(ready + unready);
    if (fabs(1 - diluted) <= tol || diluted < 1) return size;
    int64_t n = ceil_count(diluted * (double)(ready + unready));
    return n < size ? size : n;
}

/* A value of the whole target (External metric): ceil(ratio x ready) outside
 * the tolerance. Replicas warming up cannot dilute it; instead a scale-up
 * never recommends fewer replicas than there are (nor a scale-down more). */
static int64_t recommend_value(double ratio, double tol, int64_t size, int64_t ready)
{
    if (fabs(1 - ratio) <= tol) return size;
    int64_t n = ceil_count(ratio * (double)ready);
    if ((ratio > 1 && n < size) || (ratio < 1 && n > size)) return size;
    return n;
}

static int64_t recommend(const autoscaler *as, const msim_load *now, double value)
{
    const autoscaler_cfg *c = as->cfg;
    double goal = c->metric == MET_UTILISATION ? floor(100 * c->goal + 1e-9) / 100 : c->goal;
    double ratio = value / goal;
    if (c->metric == MET_QUEUE_LATENCY)
        return recommend_value(ratio, c->tolerance, now->size, now->ready);
    return recommend_average(ratio, c->tolerance, now->size, now->ready);
}

/* ---- normalisation: stabilisation and policies --------------------------------------------- */

/* Between the lowest recommendation of the scale-up window and the highest
 * of the scale-down window (each including this one); then this one is kept. */
static int64_t stabilize(autoscaler *as, msim_time now, int64_t size, int64_t desired)
{
    const behavior_cfg *bh = &as->cfg->behavior;
    msim_time up_cut = now - bh->scale_up.window, down_cut = now - bh->scale_down.window;
    int64_t up = desired, down = desired;
    for (uint32_t i = 0; i < as->recs.n; i++) {
        const stamp *r = &as->recs.v[i];
        if (r->at > up_cut && r->n < up) up = r->n;
        if (r->at > down_cut && r->n > down) down = r->n;
    }
    int64_t n = size < up ? up : size;
    if (n > down) n = down;
    history_put(&as->recs, now, desired, up_cut < down_cut ? up_cut : down_cut);
    return n;
}

/* The size each policy allows, from the size at its period's start (now less
 * what was added, plus what was removed, within the period); the select
 * policy picks among them. Percentages in integers: up rounds up (or a small
 * target could never grow), down truncates. */
static int64_t policy_limit(const autoscaler *as, msim_time now, int64_t size, bool up)
{
    const rules_cfg *r = up ? &as->cfg->behavior.scale_up : &as->cfg->behavior.scale_down;
    if (r->select == SELECT_DISABLED) return size;
    bool biggest = r->select == SELECT_MAX;
    int64_t best = 0;
    const policy_cfg *p = r->policies.items;
    for (size_t i = 0; i < r->policies.n; i++) {
        int64_t start = size - changed_within(&as->ups, now, p[i].period) +
                        changed_within(&as->downs, now, p[i].period);
        int64_t n;
        if (up)
            n = p[i].type == POLICY_PODS ? start + p[i].value
                                         : (start * (100 + p[i].value) + 99) / 100;
        else
            n = p[i].type == POLICY_PODS ? start - p[i].value : start * (100 - p[i].value) / 100;
        /* the biggest change is the highest limit up, the lowest down */
        bool better = i == 0 || (biggest == up ? n > best : n < best);
        if (better) best = n;
    }
    return best;
}

/* Within [min, max] and the policies' limits, in the direction of change. */
static int64_t limit_rate(const autoscaler *as, msim_time now, int64_t size, int64_t desired)
{
    const autoscaler_cfg *c = as->cfg;
    if (desired > size) {
        int64_t lim = policy_limit(as, now, size, true);
        if (lim < size) lim = size;
        if (lim > c->max_replicas) lim = c->max_replicas;
        return desired > lim ? lim : desired;
    }
    if (desired < size) {
        int64_t lim = policy_limit(as, now, size, false);
        if (lim > size) lim = size;
        if (lim < c->min_replicas) lim = c->min_replicas;
        return desired < lim ? lim : desired;
    }
    return desired;
}

/* ---- the loop ------------------------------------------------------------------------------------ */

static void read_load(msim_sim *sim, autoscaler *as, msim_load *out)
{
    as->target->kind->scaling->load(sim, as->target, as->unit, out, NULL);
}

/* The gauges that follow the target: its size, its ready members, and how
 * far they are from what the metric asks (within max_replicas: lag), or
 * whether it asks for more than max_replicas (pinned). */
static void publish(msim_sim *sim, autoscaler *as)
{
    msim_load l;
    read_load(sim, as, &l);
    int64_t max = as->cfg->max_replicas;
    int64_t wanted = as->wanted < max ? as->wanted : max;
    msim_gauge_set(sim, as->g_replicas, l.size);
    msim_gauge_set(sim, as->g_ready, l.ready);
    msim_gauge_set(sim, as->g_lag, wanted > l.ready ? 1 - (double)l.ready / (double)wanted : 0);
    msim_gauge_set(sim, as->g_pinned, as->wanted > max && l.size >= max);
}

static void rescale(msim_sim *sim, autoscaler *as, msim_time now, int64_t size, int64_t desired)
{
    bool up = desired > size;
    const behavior_cfg *bh = &as->cfg->behavior;
    history *h = up ? &as->ups : &as->downs;
    msim_time keep = longest_period(up ? &bh->scale_up : &bh->scale_down);
    history_put(h, now, up ? desired - size : size - desired, now - keep);
    msim_count(sim, up ? as->m_ups : as->m_downs, 1);
    as->target->kind->scaling->resize(sim, as->target, as->unit, (uint32_t)desired, &as->how);
}

/* What the metric asks for, normalised; the size if it cannot be measured. */
static int64_t decide(msim_sim *sim, autoscaler *as, const msim_load *now, msim_time t)
{
    const autoscaler_cfg *c = as->cfg;
    int64_t size = now->size;
    if (size > c->max_replicas) return c->max_replicas;
    if (size < c->min_replicas) return c->min_replicas;
    double value;
    if (!measure(as, now, t - as->last_at, &value)) return size;
    msim_gauge_set(sim, as->g_metric, value);
    as->wanted = recommend(as, now, value);
    msim_gauge_set(sim, as->g_recommended, (double)as->wanted);
    return limit_rate(as, t, size, stabilize(as, t, size, as->wanted));
}

static void sync_fire(msim_sim *sim, void *obj, uint64_t arg)
{
    (void)arg;
    autoscaler *as = obj;
    msim_time t = msim_now(sim);
    msim_load now;
    read_load(sim, as, &now);
    if (as->recs.n == 0) /* the size it found is its first recommendation */
        history_put(&as->recs, t, now.size, t);
    int64_t desired = as->frozen ? now.size : decide(sim, as, &now, t);
    msim_gauge_set(sim, as->g_desired, (double)desired);
    if (desired != (int64_t)now.size) rescale(sim, as, t, now.size, desired);
    as->last = now;
    as->last_at = t;
    publish(sim, as);
    msim_after(sim, as->cfg->sync_period, sync_fire, as, 0);
}

/* Warm-ups ending (or the resize itself) change what serves. */
static void autoscaler_endpoints(msim_sim *sim, msim_component *self, msim_component *target)
{
    autoscaler *as = (autoscaler *)self;
    if (target == as->target) publish(sim, as);
}

/* ---- setup ---------------------------------------------------------------------------------------- */

static const char *metric_units[] = {"fraction", "attempts", "attempts", "s"};

static void register_metrics(msim_sim *sim, autoscaler *as)
{
    msim_component *c = &as->base;
    as->g_desired = msim_gauge_new(sim, c, "desired", "replicas", MSIM_ROLE_NONE);
    as->g_replicas = msim_gauge_new(sim, c, "replicas", "replicas", MSIM_ROLE_NONE);
    as->g_ready = msim_gauge_new(sim, c, "ready", "replicas", MSIM_ROLE_NONE);
    as->g_recommended = msim_gauge_new(sim, c, "recommended", "replicas", MSIM_ROLE_NONE);
    as->g_metric = msim_gauge_new(sim, c, metrics[as->cfg->metric].name,
                                  metric_units[as->cfg->metric], MSIM_ROLE_NONE);
    as->g_pinned = msim_gauge_new(sim, c, "pinned", "", MSIM_ROLE_SCALE_PINNED);
    as->g_lag = msim_gauge_new(sim, c, "lag", "", MSIM_ROLE_SCALE_LAG);
    as->m_ups = msim_counter(sim, c, "scale_ups", "events", MSIM_ROLE_NONE);
    as->m_downs = msim_counter(sim, c, "scale_downs", "events", MSIM_ROLE_NONE);
}

static bool same_unit(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* Two autoscalers on one target would fight; Kubernetes refuses the second
 * (AmbiguousSelector). The earlier ones are set up already. */
static int check_unique(msim_sim *sim, const autoscaler *as, msim_error *err)
{
    for (uint32_t i = 0; i < as->base.index; i++) {
        const msim_component *c = msim_component_at(sim, (int32_t)i);
        if (c->kind != &msim_autoscaler_kind) continue;
        const autoscaler *o = (const autoscaler *)c;
        if (o->target == as->target && same_unit(o->unit, as->unit))
            return msim_error_set(err, -MSIM_EINVAL, "\"%s\" already resizes %s%s%s", c->name,
                                  as->target->name, as->unit ? " queue " : "",
                                  as->unit ? as->unit : "");
    }
    return 0;
}

/* The target, its unit and the metric must fit each other. */
static int check_target(msim_sim *sim, autoscaler *as, msim_error *err)
{
    msim_load l;
    int rc = as->target->kind->scaling->load(sim, as->target, as->unit, &l, err);
    if (rc) {
        snprintf(err->path, sizeof err->path, "%s.queue", as->base.name);
        return rc;
    }
    if (as->cfg->metric == MET_UTILISATION && l.workers == 0) {
        snprintf(err->path, sizeof err->path, "%s.metric", as->base.name);
        return msim_error_set(err, -MSIM_EINVAL,
                              "\"%s\" has unlimited workers: no utilisation to scale on",
                              as->target->name);
    }
    return check_unique(sim, as, err);
}

static int autoscaler_init(msim_sim *sim, msim_component *self, const void *cfg, msim_error *err)
{
    autoscaler *as = (autoscaler *)self;
    const autoscaler_cfg *c = cfg;
    const behavior_cfg *bh = &c->behavior;
    as->cfg = c;
    as->target = msim_component_at(sim, c->target.index);
    as->unit = c->queue[0] ? c->queue : NULL;
    as->how = (msim_resize){.warmup = c->warmup, .grace = c->termination_grace};
    int rc = check_target(sim, as, err);
    if (rc) return rc;
    msim_time window = bh->scale_up.window > bh->scale_down.window ? bh->scale_up.window
                                                                   : bh->scale_down.window;
    if (history_new(sim, &as->recs, window, c->sync_period) ||
        history_new(sim, &as->ups, longest_period(&bh->scale_up), c->sync_period) ||
        history_new(sim, &as->downs, longest_period(&bh->scale_down), c->sync_period))
        return msim_error_set(err, -MSIM_ENOMEM, "out of memory");
    register_metrics(sim, as);
    return 0;
}

/* The first reading is the start of the first period; the first sync comes
 * one period in, with a whole period to average. */
static void autoscaler_start(msim_sim *sim, msim_component *self)
{
    autoscaler *as = (autoscaler *)self;
    read_load(sim, as, &as->last);
    as->last_at = msim_now(sim);
    as->wanted = as->last.size;
    msim_gauge_set(sim, as->g_desired, as->last.size);
    msim_gauge_set(sim, as->g_recommended, as->last.size);
    publish(sim, as);
    msim_after(sim, as->cfg->sync_period, sync_fire, as, 0);
}

static uint32_t autoscaler_scale_limit(const void *cfg, uint32_t target)
{
    const autoscaler_cfg *c = cfg;
    return c->target.index == (int32_t)target ? (uint32_t)c->max_replicas : 0;
}

/* ---- mechanisms diagnose can switch off -------------------------------------------------------- */

static void disable_autoscaling(msim_sim *sim, msim_component *self)
{
    (void)sim;
    ((autoscaler *)self)->frozen = true;
}

static const msim_mechanism autoscaler_mechanisms[] = {
    {"autoscaling", "freeze the target at its current size: no more scaling either way",
     disable_autoscaling},
};

const msim_kind msim_autoscaler_kind = {
    .name = "autoscaler",
    .section = "autoscalers",
    .doc = "Kubernetes HPA semantics: resizes a service's replicas or a jobqueue's workers on "
           "utilisation, in-flight attempts, queue depth or queue latency, with stabilisation "
           "windows, scaling policies, warm-up and draining",
    .schema = &autoscaler_schema,
    .size = sizeof(autoscaler),
    .roles = 0,
    .conditions = 0,
    .init = autoscaler_init,
    .start = autoscaler_start,
    .mechanisms = autoscaler_mechanisms,
    .nmechanisms = sizeof autoscaler_mechanisms / sizeof autoscaler_mechanisms[0],
    .scale_limit = autoscaler_scale_limit,
    .on_endpoints = autoscaler_endpoints,
};
