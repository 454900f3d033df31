/* balancer.c — the `balancer` kind: a load balancer in front of the replicas
 * of one or more services, grouped into pools with priorities.
 *
 * Clients send their attempts to the balancer; for each one it picks a host
 * (a replica of a pool's service) and forwards a new attempt of the same
 * request, pinned to that replica (MSIM_CLS_PINNED), whose response it relays
 * back. When the client gives up, the balancer abandons the forwarded attempt
 * too, so the service sees the cancellation a real proxy would send.
 *
 * Which host: Envoy's semantics, in three steps.
 *  1. A priority level, by the priority loads: each level's health is
 *     min(100, overprovisioning_factor x 100 x in-rotation / hosts), levels
 *     take load in order of priority in proportion to their health, normalised
 *     when the health scores sum to less than 100.
 *  2. Within the level, the hosts in rotation — or, when the normalised total
 *     health is below 100 and the level's healthy share is below
 *     `healthy_panic_threshold`, all of its hosts (panic). With no host in
 *     rotation anywhere, level 0 panics, or (threshold 0) the attempt is
 *     refused: "503 no healthy upstream".
 *  3. A host, by the pick policy.
 * Health itself — active checks whose probes queue at the host, and outlier
 * ejection — lives in health.c.
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "balancer.h"

enum {
    POLICY_ROUND_ROBIN,
    POLICY_WEIGHTED_ROUND_ROBIN,
    POLICY_RANDOM,
    POLICY_LEAST_OUTSTANDING,
    POLICY_LEAST_REQUEST,
    POLICY_P2C
};

/* ---- parameters ----------------------------------------------------------------- */

static const msim_choice policies[] = {
    {"round_robin", "hosts in turn; weighted (smooth, interleaved) when pool weights differ"},
    {"weighted_round_robin", "the same as round_robin, which honours weights as Envoy's does"},
    {"random", "a uniformly random host"},
    {"least_outstanding", "the host with the fewest attempts outstanding (a full scan)"},
    {"least_request", "Envoy least_request: the least busy of choice_count random hosts (power of "
                      "two choices); with unequal weights, weight / (active + 1)^bias"},
    {"p2c", "the same as least_request (the service kind's name for it)"},
    {NULL, NULL},
};

static const msim_param pool_params[] = {
    {"service", &msim_type_ref, offsetof(pool_cfg, service), NULL, MSIM_UNBOUNDED,
     "the service whose replicas are the pool's hosts", (const void *)(uintptr_t)MSIM_KIND_TARGET,
     NULL},
    {"priority", &msim_type_int, offsetof(pool_cfg, priority), "0", 0, 127,
     "0 is the highest; pools of equal priority form one level", NULL, NULL},
    {"weight", &msim_type_number, offsetof(pool_cfg, weight), "1", 1e-6, 1e6,
     "weight of each of its hosts (round robin, least_request)", NULL, NULL},
};

static const msim_schema pool_schema =
    MSIM_SCHEMA("pool", "a service's replicas at a priority", pool_params, pool_cfg, NULL);

static const msim_param balancer_params[] = {
    {"pools", &msim_type_list, offsetof(balancer_cfg, pools), NULL, MSIM_UNBOUNDED,
     "each {service, priority (0 first), weight}: [{service: primary}, {service: backup, "
     "priority: 1}]",
     &pool_schema, NULL},
    {"policy", &msim_type_enum, offsetof(balancer_cfg, policy), "round_robin", MSIM_UNBOUNDED,
     "how a host is picked within a priority level", policies, "lb_policy"},
    {"choice_count", &msim_type_int, offsetof(balancer_cfg, choice_count), "2", 2, 100,
     "least_request: random hosts compared per pick", NULL, NULL},
    {"active_request_bias", &msim_type_number, offsetof(balancer_cfg, active_request_bias), "1", 0,
     100, "least_request with unequal weights: weight / (active + 1)^bias", NULL, NULL},
    {"healthy_panic_threshold", &msim_type_fraction,
     offsetof(balancer_cfg, healthy_panic_threshold), "50%", MSIM_UNBOUNDED,
     "below this healthy share a level routes to all its hosts (0: never; then no healthy host "
     "means 503)",
     NULL, NULL},
    {"overprovisioning_factor", &msim_type_number, offsetof(balancer_cfg, overprovisioning_factor),
     "1.4", 1, 100, "a level keeps all its traffic while in-rotation share x this >= 100%", NULL,
     NULL},
    {"fail_open", &msim_type_bool, offsetof(balancer_cfg, fail_open), "false", MSIM_UNBOUNDED,
     "treat every host as healthy (checks still run): the CDN's fix", NULL, NULL},
    {"health_check", &msim_type_struct, offsetof(balancer_cfg, health_check), NULL, MSIM_UNBOUNDED,
     "active health checking (Envoy HealthCheck)", &balancer_health_schema, NULL},
    {"outlier_detection", &msim_type_struct, offsetof(balancer_cfg, outlier_detection), NULL,
     MSIM_UNBOUNDED, "passive ejection of failing hosts (Envoy OutlierDetection)",
     &balancer_outlier_schema, NULL},
    {"host_metrics", &msim_type_bool, offsetof(balancer_cfg, host_metrics), "true", MSIM_UNBOUNDED,
     "a health column per host (1 in rotation, 0 out)", NULL, NULL},
};

static int check_balancer(msim_bind *b, const msim_node *n, void *p)
{
    balancer_cfg *c = p;
    if (c->pools.n == 0)
        return msim_bind_fail(b, msim_node_get(n, "pools"), -MSIM_EMISSING,
                              "a balancer needs at least one pool: pools: [{service: NAME}]");
    const pool_cfg *pc = c->pools.items;
    for (size_t i = 0; i < c->pools.n; i++)
        for (size_t k = 0; k < i; k++)
            if (strcmp(pc[i].service.name, pc[k].service.name) == 0)
                return msim_bind_fail(b, msim_node_get(n, "pools"), -MSIM_EINVAL,
                                      "service \"%s\" is in two pools", pc[i].service.name);
    return 0;
}

static const msim_schema balancer_schema =
    MSIM_SCHEMA("balancer", "a load balancer over pools of service replicas", balancer_params,
                balancer_cfg, check_balancer);

/* ---- rotation and priority loads ---------------------------------------------------- */

static void rebuild_level(balancer *b, level *l)
{
    l->navail = l->nall = 0;
    for (uint32_t i = l->first; i < l->first + l->n; i++) {
        if (!b->hosts[i].absent) l->all[l->nall++] = i;
        if (b->hosts[i].in_rotation) l->avail[l->navail++] = i;
    }
}

/* Envoy's priority loads and panic flags (load_balancer_impl.cc): integer
 * percentages, the rounding remainder to the first level with any health. */
static void compute_loads(balancer *b)
{
    double factor = b->cfg->overprovisioning_factor, threshold = b->cfg->healthy_panic_threshold;
    uint32_t total = 0;
    for (uint32_t k = 0; k < b->nlevels; k++) {
        level *l = &b->levels[k];
        uint32_t h = l->nall ? (uint32_t)floor(factor * 100 * l->navail / l->nall + 1e-9) : 0;
        l->health = h > 100 ? 100 : h;
        total += l->health;
    }
    uint32_t nth = total > 100 ? 100 : total, left = 100;
    int first_healthy = -1;
    for (uint32_t k = 0; k < b->nlevels; k++) {
        level *l = &b->levels[k];
        l->load = nth ? (l->health * 100 / nth < left ? l->health * 100 / nth : left) : 0;
        left -= l->load;
        if (first_healthy < 0 && l->health > 0) first_healthy = (int)k;
        /* panic matters only when the levels together are short of hosts */
        l->panic = nth < 100 && (double)l->navail < threshold * l->nall;
    }
    if (nth > 0 && left) b->levels[first_healthy].load += left;
    b->no_host = nth == 0 && threshold <= 0;
    if (nth == 0 && !b->no_host) b->levels[0].load = 100; /* level 0 in panic takes all */
}

static void publish(msim_sim *sim, balancer *b)
{
    uint32_t panics = 0;
    for (uint32_t k = 0; k < b->nlevels; k++)
        panics += b->levels[k].panic && b->levels[k].load > 0;
    msim_gauge_set(sim, b->g_panic, panics);
    for (uint32_t p = 0; p < b->npools; p++)
        msim_gauge_set(sim, b->pools[p].g_healthy, b->pools[p].in_rotation);
}

/* Whether the host should be in rotation now; if that changed, put it there.
 * Returns true on a change. */
static bool set_rotation(msim_sim *sim, balancer *b, host *h)
{
    bool in = !h->absent && (b->fail_open || (!h->hc_failed && !h->ejected));
    if (in == h->in_rotation) return false;
    h->in_rotation = in;
    if (in)
        b->pools[h->pool].in_rotation++;
    else
        b->pools[h->pool].in_rotation--;
    if (b->cfg->host_metrics) msim_gauge_set(sim, h->g_health, in);
    return true;
}

void balancer_update_host(msim_sim *sim, balancer *b, host *h)
{
    if (!set_rotation(sim, b, h)) return;
    msim_count(sim, b->m_changes, 1);
    rebuild_level(b, &b->levels[h->level]);
    compute_loads(b);
    publish(sim, b);
}

/* Endpoint discovery: a service's replicas joined or left (an autoscaler
 * resized it). A host that joins is checked afresh; one that leaves is out of
 * rotation and out of its level's counts. Not health changes: they are not
 * counted as such. */
static void balancer_endpoints(msim_sim *sim, msim_component *self, msim_component *target)
{
    balancer *b = (balancer *)self;
    for (uint32_t p = 0; p < b->npools; p++) {
        const pool_state *ps = &b->pools[p];
        for (uint32_t i = ps->first; ps->svc == target && i < ps->first + ps->n; i++) {
            host *h = &b->hosts[i];
            bool absent = !msim_replica_endpoint(target, h->replica);
            if (absent == h->absent) continue;
            h->absent = absent;
            if (absent)
                health_host_left(sim, b, h);
            else
                health_host_joined(sim, b, h);
            set_rotation(sim, b, h);
            rebuild_level(b, &b->levels[h->level]);
        }
    }
    compute_loads(b);
    publish(sim, b);
}

/* ---- picking a host ------------------------------------------------------------------- */

static level *pick_level(balancer *b)
{
    if (b->no_host) return NULL;
    if (b->levels[0].load == 100) return &b->levels[0];
    double u = msim_rng_u01(&b->rng_priority) * 100, sum = 0;
    level *last = NULL;
    for (uint32_t k = 0; k < b->nlevels; k++) {
        level *l = &b->levels[k];
        if (!l->load) continue;
        sum += l->load;
        last = l;
        if (u < sum) return l;
    }
    return last;
}

/* Smooth weighted round robin (nginx): every host gains its weight, the
 * richest is picked and pays the total. Weights may change between picks
 * (least_request's dynamic weights). */
static uint32_t pick_smooth(balancer *b, const uint32_t *set, uint32_t n, bool dynamic)
{
    double total = 0, bias = b->cfg->active_request_bias;
    host *best = NULL;
    uint32_t best_i = set[0];
    for (uint32_t k = 0; k < n; k++) {
        host *h = &b->hosts[set[k]];
        double w = h->weight;
        if (dynamic) w /= bias == 1 ? h->active + 1.0 : pow(h->active + 1.0, bias);
        h->wrr += w;
        total += w;
        if (!best || h->wrr > best->wrr) {
            best = h;
            best_i = set[k];
        }
    }
    best->wrr -= total;
    return best_i;
}

static uint32_t pick_random(balancer *b, const uint32_t *set, uint32_t n)
{
    return set[(uint32_t)(msim_rng_u01(&b->rng_pick) * n)];
}

/* Envoy's unweighted least_request: choice_count draws with replacement,
 * the first of the least busy wins. */
static uint32_t pick_least_request(balancer *b, const uint32_t *set, uint32_t n)
{
    uint32_t best = pick_random(b, set, n);
    for (int64_t c = 1; c < b->cfg->choice_count; c++) {
        uint32_t i = pick_random(b, set, n);
        if (b->hosts[i].active < b->hosts[best].active) best = i;
    }
    return best;
}

/* Fewest outstanding; the scan starts one further each time so ties rotate. */
static uint32_t pick_least_outstanding(level *l, balancer *b, const uint32_t *set, uint32_t n)
{
    if (l->rr >= n) l->rr = 0;
    uint32_t start = l->rr++, best = set[start];
    for (uint32_t k = 1; k < n; k++) {
        uint32_t i = set[(start + k) % n];
        if (b->hosts[i].active < b->hosts[best].active) best = i;
    }
    return best;
}

static host *pick_host(balancer *b)
{
    level *l = pick_level(b);
    if (!l) return NULL;
    const uint32_t *set = l->panic ? l->all : l->avail;
    uint32_t n = l->panic ? l->nall : l->navail;
    if (n == 0) return NULL;
    uint32_t i = 0;
    switch (b->cfg->policy) {
    case POLICY_ROUND_ROBIN:
    case POLICY_WEIGHTED_ROUND_ROBIN:
        if (!l->equal_weights) {
            i = pick_smooth(b, set, n, false);
            break;
        }
        if (l->rr >= n) l->rr = 0; /* the set shrinks when hosts leave rotation */
        i = set[l->rr++];
        break;
    case POLICY_RANDOM:
        i = pick_random(b, set, n);
        break;
    case POLICY_LEAST_OUTSTANDING:
        i = pick_least_outstanding(l, b, set, n);
        break;
    case POLICY_LEAST_REQUEST:
    case POLICY_P2C:
        i = l->equal_weights ? pick_least_request(b, set, n) : pick_smooth(b, set, n, true);
        break;
    }
    return &b->hosts[i];
}

/* ---- relaying ------------------------------------------------------------------------------ */

static void balancer_accept(msim_sim *sim, msim_component *self, msim_attempt *ca)
{
    balancer *b = (balancer *)self;
    if (!ca->req) { /* its client left while it travelled: nothing to forward */
        msim_drop(sim, ca);
        return;
    }
    host *h = pick_host(b);
    if (!h) { /* "503 no healthy upstream" */
        msim_count(sim, b->m_no_healthy, 1);
        msim_respond(sim, ca, MSIM_STATUS_REJECTED);
        return;
    }
    msim_attempt *fa = msim_attempt_new(sim, ca->req, self, h->svc);
    if (!fa) { /* out of memory: the run is failing */
        msim_respond(sim, ca, MSIM_STATUS_REJECTED);
        return;
    }
    fa->number = ca->number;
    fa->expires = ca->expires; /* the deadline travels on */
    /* pinned to the host it picked; the priority class travels on */
    fa->cls = (uint8_t)(MSIM_CLS_PINNED | (ca->cls & (0xFu << MSIM_CLS_PRIORITY_SHIFT)));
    fa->slot = h->replica;
    fa->ctx = ca;
    ca->slot = (uint16_t)(h - b->hosts);
    ca->next = fa; /* the holder's link: the attempt it forwarded */
    h->active++;
    msim_count(sim, b->m_forwarded, 1);
    msim_count(sim, b->pools[h->pool].m_traffic, 1);
    msim_send(sim, fa); /* may answer at once: fa and ca are then gone */
}

static outcome outcome_of(msim_status s)
{
    if (s == MSIM_STATUS_OK) return OUTCOME_OK;
    return s == MSIM_STATUS_REJECTED ? OUTCOME_GATEWAY : OUTCOME_ERROR; /* 503 vs 500 */
}

static void balancer_response(msim_sim *sim, msim_component *self, msim_attempt *fa)
{
    balancer *b = (balancer *)self;
    if (fa->cls & MSIM_CLS_PROBE) {
        health_on_probe(sim, b, fa);
        return;
    }
    msim_attempt *ca = fa->ctx;
    host *h = &b->hosts[ca->slot];
    msim_status status = (msim_status)fa->status;
    msim_attempt_free(sim, fa);
    h->active--;
    ca->next = NULL;
    outlier_on_result(sim, b, h, outcome_of(status));
    msim_respond(sim, ca, status);
}

/* The client gave up: for the host that is a per-try timeout (a 504 to
 * outlier detection); the forwarded attempt is abandoned (a reset). */
static void balancer_abandon(msim_sim *sim, msim_component *self, msim_attempt *ca)
{
    balancer *b = (balancer *)self;
    msim_attempt *fa = ca->next;
    host *h = &b->hosts[ca->slot];
    ca->next = NULL;
    h->active--;
    outlier_on_result(sim, b, h, OUTCOME_GATEWAY);
    msim_abandon(sim, fa);
    msim_drop(sim, ca); /* abandoned: released here */
}

/* ---- setup ------------------------------------------------------------------------------------
 */

static int cmp_priority(const void *x, const void *y)
{
    const pool_cfg *a = *(const pool_cfg *const *)x, *c = *(const pool_cfg *const *)y;
    return (a->priority > c->priority) - (a->priority < c->priority);
}

static int count_hosts(msim_sim *sim, balancer *b, msim_error *err)
{
    const pool_cfg *pc = b->cfg->pools.items;
    uint64_t n = 0;
    for (size_t i = 0; i < b->cfg->pools.n; i++) {
        uint32_t r = msim_replicas(msim_component_at(sim, pc[i].service.index));
        if (r == 0) {
            snprintf(err->path, sizeof err->path, "%s.pools[%zu].service", b->base.name, i);
            return msim_error_set(err, -MSIM_EINVAL,
                                  "\"%s\" is not a service: a balancer spreads attempts over the "
                                  "replicas of services",
                                  pc[i].service.name);
        }
        n += r;
    }
    if (n > 65535)
        return msim_error_set(err, -MSIM_EINVAL, "more than 65535 hosts behind one balancer");
    b->nhosts = (uint32_t)n;
    return 0;
}

/* Pools sorted by priority (stable), hosts laid out level by level. */
static int build_hosts(msim_sim *sim, balancer *b)
{
    size_t np = b->cfg->pools.n;
    const pool_cfg **order = msim_arena_alloc(sim, np * sizeof *order);
    b->hosts = msim_arena_alloc(sim, b->nhosts * sizeof *b->hosts);
    b->pools = msim_arena_alloc(sim, np * sizeof *b->pools);
    b->levels = msim_arena_alloc(sim, np * sizeof *b->levels);
    if (!order || !b->hosts || !b->pools || !b->levels) return -MSIM_ENOMEM;
    for (size_t i = 0; i < np; i++)
        order[i] = (const pool_cfg *)b->cfg->pools.items + i;
    /* insertion sort: stable, and there are few pools */
    for (size_t i = 1; i < np; i++)
        for (size_t k = i; k > 0 && cmp_priority(&order[k - 1], &order[k]) > 0; k--) {
            const pool_cfg *t = order[k];
            order[k] = order[k - 1];
            order[k - 1] = t;
        }
    uint32_t next = 0;
    for (size_t p = 0; p < np; p++) {
        const pool_cfg *pc = order[p];
        if (p == 0 || pc->priority != order[p - 1]->priority)
            b->levels[b->nlevels++] = (level){.first = next, .equal_weights = true};
        level *l = &b->levels[b->nlevels - 1];
        pool_state *ps = &b->pools[b->npools++];
        ps->svc = msim_component_at(sim, pc->service.index);
        ps->first = next;
        ps->n = msim_replicas(ps->svc);
        if (l->n && b->hosts[l->first].weight != pc->weight) l->equal_weights = false;
        for (uint32_t r = 0; r < ps->n; r++, next++)
            b->hosts[next] = (host){.svc = ps->svc,
                                    .replica = (uint16_t)r,
                                    .level = (uint16_t)(b->nlevels - 1),
                                    .pool = (uint32_t)p,
                                    .weight = pc->weight,
                                    .unejected_at = -1};
        l->n += ps->n;
    }
    for (uint32_t k = 0; k < b->nlevels; k++) {
        level *l = &b->levels[k];
        l->all = msim_arena_alloc(sim, l->n * sizeof *l->all);
        l->avail = msim_arena_alloc(sim, l->n * sizeof *l->avail);
        if (!l->all || !l->avail) return -MSIM_ENOMEM;
        for (uint32_t i = 0; i < l->n; i++)
            l->all[i] = l->first + i;
    }
    return 0;
}

static void register_metrics(msim_sim *sim, balancer *b)
{
    msim_component *c = &b->base;
    char name[160];
    b->m_forwarded = msim_counter(sim, c, "forwarded", "attempts", MSIM_ROLE_NONE);
    b->m_no_healthy = msim_counter(sim, c, "no_healthy_upstream", "attempts", MSIM_ROLE_NONE);
    b->m_changes = msim_counter(sim, c, "health_changes", "hosts", MSIM_ROLE_HEALTH_CHANGES);
    b->m_probes = msim_counter(sim, c, "probes", "probes", MSIM_ROLE_NONE);
    b->m_probe_timeouts = msim_counter(sim, c, "probe_timeouts", "probes", MSIM_ROLE_NONE);
    b->m_probe_failures = msim_counter(sim, c, "probe_failures", "probes", MSIM_ROLE_NONE);
    b->m_marked_unhealthy = msim_counter(sim, c, "marked_unhealthy", "hosts", MSIM_ROLE_NONE);
    b->m_marked_healthy = msim_counter(sim, c, "marked_healthy", "hosts", MSIM_ROLE_NONE);
    b->m_ejections = msim_counter(sim, c, "ejections", "hosts", MSIM_ROLE_NONE);
    b->m_unejections = msim_counter(sim, c, "unejections", "hosts", MSIM_ROLE_NONE);
    b->g_panic = msim_gauge_new(sim, c, "panic_levels", "levels", MSIM_ROLE_NONE);
    for (uint32_t p = 0; p < b->npools; p++) {
        pool_state *ps = &b->pools[p];
        snprintf(name, sizeof name, "%s_healthy", ps->svc->name);
        ps->g_healthy = msim_gauge_new(sim, c, name, "hosts", MSIM_ROLE_HEALTHY_HOSTS);
        snprintf(name, sizeof name, "%s_traffic", ps->svc->name);
        ps->m_traffic = msim_counter(sim, c, name, "attempts", MSIM_ROLE_NONE);
    }
    for (uint32_t i = 0; b->cfg->host_metrics && i < b->nhosts; i++) {
        host *h = &b->hosts[i];
        snprintf(name, sizeof name, "%s_%u_health", h->svc->name, (unsigned)h->replica);
        h->g_health = msim_gauge_new(sim, c, name, "up", MSIM_ROLE_HOST_HEALTH);
    }
}

static int balancer_init(msim_sim *sim, msim_component *self, const void *cfg, msim_error *err)
{
    balancer *b = (balancer *)self;
    b->cfg = cfg;
    b->fail_open = b->cfg->fail_open;
    int rc = count_hosts(sim, b, err);
    if (rc) return rc;
    if (build_hosts(sim, b)) return msim_error_set(err, -MSIM_ENOMEM, "out of memory");
    b->probe_req = (msim_request){.start = 0, .deadline = MSIM_NEVER, .origin = self};
    b->probe_lane = msim_lane_new(sim);
    b->rng_pick = msim_stream(sim, self->name, "pick");
    b->rng_priority = msim_stream(sim, self->name, "priority");
    b->rng_health = msim_stream(sim, self->name, "health");
    b->rng_outlier = msim_stream(sim, self->name, "outlier");
    /* With active checks a host waits for its first result out of rotation
     * (Envoy marks new hosts FAILED_ACTIVE_HC until then). */
    bool checked = b->cfg->health_check.interval != MSIM_NEVER;
    for (uint32_t i = 0; i < b->nhosts; i++) {
        host *h = &b->hosts[i];
        h->hc_failed = h->first_check = checked;
        h->absent = !msim_replica_endpoint(h->svc, h->replica);
        h->in_rotation = !h->absent && (b->fail_open || !checked);
        if (h->in_rotation) b->pools[h->pool].in_rotation++;
    }
    for (uint32_t k = 0; k < b->nlevels; k++)
        rebuild_level(b, &b->levels[k]);
    compute_loads(b);
    register_metrics(sim, b);
    return 0;
}

static void balancer_start(msim_sim *sim, msim_component *self)
{
    balancer *b = (balancer *)self;
    publish(sim, b);
    for (uint32_t i = 0; b->cfg->host_metrics && i < b->nhosts; i++)
        msim_gauge_set(sim, b->hosts[i].g_health, b->hosts[i].in_rotation);
    if (b->cfg->health_check.interval != MSIM_NEVER) health_start(sim, b);
    if (b->cfg->outlier_detection.enabled) outlier_start(sim, b);
}

/* ---- mechanisms diagnose can switch off ----------------------------------------------------- */

/* Fail open: every host in rotation from now on, whatever the checks say. */
static void disable_health_checks(msim_sim *sim, msim_component *self)
{
    balancer *b = (balancer *)self;
    b->fail_open = true;
    for (uint32_t i = 0; i < b->nhosts; i++)
        balancer_update_host(sim, b, &b->hosts[i]);
}

static const msim_mechanism balancer_mechanisms[] = {
    {"health_checks",
     "treat every host as healthy: fail open, ignoring active checks and "
     "outlier ejection (the CDN fix)",
     disable_health_checks},
};

const msim_kind msim_balancer_kind = {
    .name = "balancer",
    .section = "balancers",
    .doc = "a load balancer over pools of service replicas with priorities, pick policies, active "
           "health checks, panic threshold and outlier ejection (Envoy semantics)",
    .schema = &balancer_schema,
    .size = sizeof(balancer),
    .roles = MSIM_KIND_TARGET,
    .conditions = 0,
    .init = balancer_init,
    .start = balancer_start,
    .accept = balancer_accept,
    .on_response = balancer_response,
    .on_abandon = balancer_abandon,
    .mechanisms = balancer_mechanisms,
    .nmechanisms = sizeof balancer_mechanisms / sizeof balancer_mechanisms[0],
    .on_endpoints = balancer_endpoints,
};
