/* calls.c — a service's calls to its dependencies (see calls.h). */
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "calls.h"

static const msim_choice modes[] = {
    {"sequential", "one call after another; a failed required call ends the attempt with an error"},
    {"parallel", "all calls at once (fan-out)"},
    {NULL, NULL},
};

/* `need`: all, any, or a number of successes. */
static int parse_need(msim_bind *b, const msim_node *n, const msim_param *p, void *field)
{
    (void)p;
    int64_t *need = field;
    if (n->type != MSIM_NODE_SCALAR)
        return msim_bind_fail(b, n, -MSIM_ETYPE, "expected all, any, or a number of calls");
    if (strcmp(n->text, "all") == 0) {
        *need = NEED_ALL;
        return 0;
    }
    if (strcmp(n->text, "any") == 0) {
        *need = 1;
        return 0;
    }
    char *end;
    long long v = strtoll(n->text, &end, 10);
    if (end == n->text || *end || v < 1)
        return msim_bind_fail(b, n, -MSIM_ETYPE,
                              "expected all, any, or a number of calls (1 or more), got \"%s\"",
                              n->text);
    *need = v;
    return 0;
}

static void print_need(msim_buf *out, const msim_param *p, const void *field)
{
    (void)p;
    int64_t need = *(const int64_t *)field;
    if (need == NEED_ALL)
        msim_buf_printf(out, "all");
    else if (need == 1)
        msim_buf_printf(out, "any");
    else
        msim_buf_printf(out, "%" PRId64, need);
}

static const msim_type need_type = {"need", "all, any, or a number of calls", parse_need,
                                    print_need};

static const msim_param edge_params[] = {
    {"client", &msim_type_ref, offsetof(call_edge_cfg, client), NULL, MSIM_UNBOUNDED,
     "a client with arrival: calls, whose timeouts, retries and mitigations the call uses",
     (const void *)(uintptr_t)MSIM_KIND_CALLER, NULL},
    {"required", &msim_type_bool, offsetof(call_edge_cfg, required), "true", MSIM_UNBOUNDED,
     "sequential, or parallel with need: all — a failure of this call fails the attempt", NULL,
     NULL},
};

static const msim_schema edge_schema =
    MSIM_SCHEMA("call", "one dependency call", edge_params, call_edge_cfg, NULL);

static int check_calls(msim_bind *b, const msim_node *n, void *cfg)
{
    const calls_cfg *c = cfg;
    if (c->need != NEED_ALL && (size_t)c->need > c->to.n)
        return msim_bind_fail(b, msim_node_get(n, "need"), -MSIM_EINVAL,
                              "need: %" PRId64 " successes, but there are only %zu calls", c->need,
                              c->to.n);
    return 0;
}

static const msim_param calls_params[] = {
    {"to", &msim_type_list, offsetof(calls_cfg, to), "[]", MSIM_UNBOUNDED,
     "the calls, e.g. [{client: api-to-db}, {client: api-to-cache, required: false}]", &edge_schema,
     NULL},
    {"mode", &msim_type_enum, offsetof(calls_cfg, mode), "sequential", MSIM_UNBOUNDED,
     "in sequence, or fanned out", modes, NULL},
    {"need", &need_type, offsetof(calls_cfg, need), "all", MSIM_UNBOUNDED,
     "parallel: wait for every call, or answer at the first k successes (any: 1) — an error "
     "once k can no longer succeed; the calls still out carry on",
     NULL, NULL},
    {"propagate_deadline", &msim_type_bool, offsetof(calls_cfg, propagate_deadline), "false",
     MSIM_UNBOUNDED,
     "calls give up when the attempt's sender does (gRPC deadline propagation); by default they "
     "run on with their own timeouts",
     NULL, NULL},
};

const msim_schema calls_schema = MSIM_SCHEMA(
    "calls", "calls to dependencies while handling an attempt", calls_params, calls_cfg, check_calls);

struct call_group {
    call_plan *plan;
    msim_attempt *a;   /* NULL once answered, or once it left (its replica went down) */
    uint32_t pending;  /* calls in flight, plus one while calls_start issues them */
    uint32_t next;     /* the next call to make */
    uint32_t ok;       /* calls that succeeded */
    uint32_t failed;   /* calls that failed */
    bool required_failed;
    msim_time deadline;
};

int calls_init(msim_sim *sim, msim_component *owner, call_plan *p, const calls_cfg *cfg,
               calls_finish_fn finish, msim_error *err)
{
    memset(p, 0, sizeof *p);
    p->cfg = cfg;
    p->finish = finish;
    p->n = cfg->to.n;
    if (!p->n) return 0;
    const call_edge_cfg *e = cfg->to.items;
    p->edges = msim_arena_alloc(sim, p->n * sizeof *p->edges);
    p->groups = msim_pool_new(sim, sizeof(call_group));
    if (!p->edges || !p->groups) return msim_error_set(err, -MSIM_ENOMEM, "out of memory");
    for (size_t i = 0; i < p->n; i++) /* the loader checked each is a caller */
        p->edges[i] = msim_component_at(sim, e[i].client.index);
    p->m_failed = msim_counter(sim, owner, "calls_failed", "attempts", MSIM_ROLE_NONE);
    return 0;
}

/* The attempt is answered (once). */
static void answer(msim_sim *sim, call_group *g, msim_status st)
{
    msim_attempt *a = g->a;
    g->a = NULL;
    if (!a) return;
    if (st != MSIM_STATUS_OK) msim_count(sim, g->plan->m_failed, 1);
    a->hctx = NULL;
    g->plan->finish(sim, a, st);
}

/* The group is no longer needed once nothing is in flight and the attempt
 * has its answer. */
static void release_if_idle(call_group *g)
{
    if (g->pending == 0 && !g->a) msim_pool_put(g->plan->groups, g);
}

static void issue(msim_sim *sim, call_group *g, uint32_t i);

/* What the calls so far decide, if anything. A required call that fails
 * decides at once, as an errgroup does; the calls still out carry on. */
static bool decided(const call_group *g, msim_status *st)
{
    const call_plan *p = g->plan;
    uint32_t n = (uint32_t)p->n;
    if (p->cfg->mode == CALLS_SEQUENTIAL || p->cfg->need == NEED_ALL) {
        *st = g->required_failed ? MSIM_STATUS_ERROR : MSIM_STATUS_OK;
        return g->required_failed || g->ok + g->failed == n;
    }
    uint32_t k = (uint32_t)p->cfg->need;
    *st = g->ok >= k ? MSIM_STATUS_OK : MSIM_STATUS_ERROR;
    return g->ok >= k || n - g->failed < k; /* k succeeded, or no longer can */
}

static void call_done(msim_sim *sim, void *ctx, uint64_t i, msim_status st)
{
    call_group *g = ctx;
    const call_edge_cfg *e = g->plan->cfg->to.items;
    g->pending--;
    if (st == MSIM_STATUS_OK) {
        g->ok++;
    } else {
        g->failed++;
        if (e[i].required) g->required_failed = true;
    }
    msim_status verdict;
    if (g->a && decided(g, &verdict))
        answer(sim, g, verdict);
    else if (g->a && g->plan->cfg->mode == CALLS_SEQUENTIAL)
        issue(sim, g, g->next++);
    release_if_idle(g);
}

static void issue(msim_sim *sim, call_group *g, uint32_t i)
{
    msim_component *edge = g->plan->edges[i];
    g->pending++;
    if (edge->kind->call(sim, edge, g->deadline, call_done, g, i))
        msim_fail(sim, -MSIM_ENOMEM, "out of memory making a call");
}

void calls_start(msim_sim *sim, call_plan *p, msim_attempt *a)
{
    call_group *g = msim_pool_get(p->groups);
    if (!g) {
        msim_fail(sim, -MSIM_ENOMEM, "out of memory starting calls");
        return;
    }
    *g = (call_group){.plan = p, .a = a,
                      .deadline = p->cfg->propagate_deadline ? a->expires : MSIM_NEVER};
    a->hctx = g;
    /* Held while the calls go out, so that one answered at once cannot
     * release the group under our feet. */
    g->pending++;
    if (p->cfg->mode == CALLS_SEQUENTIAL)
        issue(sim, g, g->next++);
    else
        while (g->next < p->n)
            issue(sim, g, g->next++);
    g->pending--;
    release_if_idle(g);
}

void calls_detach(call_plan *p, msim_attempt *a)
{
    (void)p;
    call_group *g = a->hctx;
    if (!g) return;
    g->a = NULL;
    a->hctx = NULL;
    release_if_idle(g);
}
