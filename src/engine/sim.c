/* sim.c — one run from start to finish: build the components a scenario
 * describes, fire events in (time, sequence) order until the horizon, close the
 * metric windows, and hand back a result for analysis.
 *
 * Triggers are events too: each has a start and an end edge; at every edge the
 * conditions of the components it touches are recomputed by folding all active
 * triggers in scenario order, and handed to the kind's `apply` hook.
 */
#include <string.h>
#include <time.h>

#include "sim.h"

/* ---- the clock and timers ---------------------------------------------------- */

msim_time msim_now(const msim_sim *sim)
{
    return sim->now;
}

msim_time msim_horizon(const msim_sim *sim)
{
    return sim->horizon;
}

void msim_fail(msim_sim *sim, int code, const char *msg)
{
    if (sim->fail_code) return; /* keep the first cause */
    sim->fail_code = code ? code : -MSIM_ERUNTIME;
    snprintf(sim->fail_msg, sizeof sim->fail_msg, "%s", msg);
}

msim_timer msim_at(msim_sim *sim, msim_time when, msim_event_fn fn, void *obj, uint64_t arg)
{
#ifdef MSIM_DEBUG
    if (when < sim->now) msim_fail(sim, -MSIM_ERUNTIME, "event scheduled in the past");
#endif
    if (when < sim->now) when = sim->now;
    msim_timer t = msim__evq_push(&sim->q, when, fn, obj, arg);
    if (!t.slot) msim_fail(sim, -MSIM_ENOMEM, "out of memory growing the event queue");
    return t;
}

msim_timer msim_after(msim_sim *sim, msim_time delay, msim_event_fn fn, void *obj, uint64_t arg)
{
    msim_time when = delay >= MSIM_NEVER - sim->now ? MSIM_NEVER : sim->now + delay;
    return msim_at(sim, when, fn, obj, arg);
}

msim_lane msim_lane_new(msim_sim *sim)
{
    uint32_t id = msim__evq_lane_new(&sim->q);
    if (id == UINT32_MAX) msim_fail(sim, -MSIM_ENOMEM, "out of memory creating a lane");
    return id == UINT32_MAX ? MSIM_NO_LANE : id;
}

msim_timer msim_lane_at(msim_sim *sim, msim_lane lane, msim_time when, msim_event_fn fn, void *obj,
                        uint64_t arg)
{
    if (lane == MSIM_NO_LANE || when < sim->now) return msim_at(sim, when, fn, obj, arg);
    msim_timer t = msim__evq_lane_push(&sim->q, lane, when, fn, obj, arg);
    if (!t.slot) msim_fail(sim, -MSIM_ENOMEM, "out of memory growing the event queue");
    return t;
}

bool msim_cancel(msim_sim *sim, msim_timer *t)
{
    return msim__evq_cancel(&sim->q, t);
}

bool msim_timer_pending(const msim_sim *sim, msim_timer t)
{
    return msim__evq_pending(&sim->q, t);
}

/* ---- components -------------------------------------------------------------- */

msim_component *msim_component_at(msim_sim *sim, int32_t index)
{
    if (index < 0 || (uint32_t)index >= sim->ncomps) return NULL;
    return sim->comps[index];
}

msim_component *msim_component_find(msim_sim *sim, const char *name)
{
    for (uint32_t i = 0; i < sim->ncomps; i++)
        if (strcmp(sim->comps[i]->name, name) == 0) return sim->comps[i];
    return NULL;
}

msim_conditions msim_conditions_neutral(void)
{
    return (msim_conditions){.load_factor = 1, .workers_factor = 1, .speed_factor = 1};
}

/* Allocate every instance first, so init hooks can look up any component. */
static int create_components(msim_sim *sim)
{
    const msim_scenario *sc = sim->sc;
    sim->ncomps = (uint32_t)sc->ncomponents;
    sim->comps = msim__arena_alloc(&sim->arena, (sc->ncomponents + 1) * sizeof *sim->comps);
    if (!sim->comps) return -MSIM_ENOMEM;
    const msim_dist *link = msim_dist_is_zero(&sc->network_delay) ? NULL : &sc->network_delay;
    for (uint32_t i = 0; i < sim->ncomps; i++) {
        const msim_component_cfg *cc = &sc->components[i];
        msim_component *c = msim__arena_alloc(&sim->arena, cc->kind->size);
        if (!c) return -MSIM_ENOMEM;
        c->kind = cc->kind;
        c->name = cc->name;
        c->index = i;
        c->link = link;
        c->net_rng = msim_stream(sim, cc->name, "network");
        sim->comps[i] = c;
    }
    return 0;
}

static int init_components(msim_sim *sim, msim_error *err)
{
    for (uint32_t i = 0; i < sim->ncomps; i++) {
        msim_component *c = sim->comps[i];
        if (c->kind->roles & MSIM_KIND_TARGET) {
            c->m_work = msim_counter(sim, c, "work", "s", MSIM_ROLE_WORK);
            c->m_wasted = msim_counter(sim, c, "wasted", "s", MSIM_ROLE_WASTED);
        }
        int rc = c->kind->init(sim, c, sim->sc->components[i].cfg, err);
        if (rc) {
            if (!err->path[0]) snprintf(err->path, sizeof err->path, "%s", c->name);
            return rc;
        }
        if (sim->fail_code) return msim_error_set(err, sim->fail_code, "%s", sim->fail_msg);
    }
    return 0;
}

/* ---- triggers ---------------------------------------------------------------- */

static bool trigger_touches(const msim_trigger_cfg *t, const msim_component *c)
{
    if (t->target.index >= 0) return (uint32_t)t->target.index == c->index;
    return (c->kind->conditions & t->kind->conditions) != 0;
}

static void refold(msim_sim *sim, msim_component *c)
{
    msim_conditions cond = msim_conditions_neutral();
    for (uint32_t i = 0; i < sim->ntrig; i++) {
        const msim_trigger_cfg *t = sim->trig[i].cfg;
        if (sim->trig[i].active && trigger_touches(t, c)) t->kind->fold(t->cfg, &cond);
    }
    c->hop_extra = cond.added_network;
    if (c->kind->apply) c->kind->apply(sim, c, &cond);
}

static void trigger_edge(msim_sim *sim, void *obj, uint64_t on)
{
    msim__trigger_state *ts = obj;
    ts->active = on != 0;
    for (uint32_t i = 0; i < sim->ncomps; i++)
        if (trigger_touches(ts->cfg, sim->comps[i])) refold(sim, sim->comps[i]);
}

static int schedule_triggers(msim_sim *sim)
{
    const msim_scenario *sc = sim->sc;
    sim->ntrig = (uint32_t)sc->ntriggers;
    sim->trig = msim__arena_alloc(&sim->arena, (sc->ntriggers + 1) * sizeof *sim->trig);
    if (!sim->trig) return -MSIM_ENOMEM;
    for (uint32_t i = 0; i < sim->ntrig; i++) {
        const msim_trigger_cfg *t = &sc->triggers[i];
        sim->trig[i].cfg = t;
        msim_at(sim, t->at, trigger_edge, &sim->trig[i], 1);
        msim_at(sim, t->at + t->length, trigger_edge, &sim->trig[i], 0);
    }
    return 0;
}

/* ---- switching mechanisms off (diagnose) ---------------------------------------- */

static void disable_fire(msim_sim *sim, void *obj, uint64_t i)
{
    (void)obj;
    const msim_disable *d = &sim->opt->disable[i];
    msim_component *c = sim->comps[d->component];
    c->kind->mechanisms[d->mechanism].disable(sim, c);
}

static int schedule_disables(msim_sim *sim, msim_error *err)
{
    for (size_t i = 0; sim->opt && i < sim->opt->ndisable; i++) {
        const msim_disable *d = &sim->opt->disable[i];
        if (d->component < 0 || (uint32_t)d->component >= sim->ncomps ||
            d->mechanism >= sim->comps[d->component]->kind->nmechanisms)
            return msim_error_set(err, -MSIM_EINVAL, "no such mechanism to switch off");
        msim_time at = d->at == MSIM_NEVER ? sim->last_trigger_end : d->at;
        msim_at(sim, at, disable_fire, NULL, i);
    }
    return 0;
}

/* ---- windows -----------------------------------------------------------------
 * Window boundaries are not events: the loop closes every window that ends at
 * or before the next event's time before dispatching it, so an event exactly on
 * a boundary always counts in the window it starts, whatever its sequence. */

static void close_windows_until(msim_sim *sim, msim_time t)
{
    while (sim->next_tick <= t && sim->next_tick < sim->horizon) {
        sim->now = sim->next_tick;
        msim__metrics_window_end(sim, sim->next_tick - sim->window, sim->next_tick);
        sim->next_tick += sim->window;
    }
}

/* ---- the loop ------------------------------------------------------------------ */

#ifdef MSIM_DEBUG
void msim__check_invariants(msim_sim *sim, msim_time prev)
{
    if (sim->now < prev) msim_fail(sim, -MSIM_ERUNTIME, "invariant: time went backwards");
    if (sim->req_started != sim->req_ok + sim->req_failed + sim->req_inflight)
        msim_fail(sim, -MSIM_ERUNTIME, "invariant: a request is neither in flight nor finished");
    if (sim->att_alive > sim->att_created)
        msim_fail(sim, -MSIM_ERUNTIME, "invariant: an attempt was freed twice");
}
#endif

static void run_loop(msim_sim *sim)
{
    msim__evq_fired ev;
    uint64_t n = 0;
    while (msim__evq_pop(&sim->q, sim->horizon, &ev)) {
#ifdef MSIM_DEBUG
        msim_time prev = sim->now;
#endif
        if (ev.time >= sim->next_tick) close_windows_until(sim, ev.time);
        sim->now = ev.time;
        ev.fn(sim, ev.obj, ev.arg);
        n++;
#ifdef MSIM_DEBUG
        msim__check_invariants(sim, prev);
#endif
        if (sim->fail_code) break;
    }
    sim->events = n;
}

/* Close the window the horizon cuts through (the tick at the horizon itself
 * never fires: the loop stops before it). */
static void close_last_window(msim_sim *sim)
{
    close_windows_until(sim, sim->horizon);
    msim_time t0 = (msim_time)sim->m.win * sim->window;
    sim->now = sim->horizon;
    msim__metrics_window_end(sim, t0, sim->horizon);
}

static int setup(msim_sim *sim, msim_error *err)
{
    int rc = create_components(sim);
    if (rc) return msim_error_set(err, rc, "out of memory creating components");
    rc = init_components(sim, err);
    if (rc) return rc;
    sim->requests = msim_pool_new(sim, sizeof(msim_request));
    sim->attempts = msim_pool_new(sim, sizeof(msim_attempt));
    if (!sim->requests || !sim->attempts || msim__metrics_start(sim) || schedule_triggers(sim))
        return msim_error_set(err, -MSIM_ENOMEM, "out of memory setting up the run");
    sim->next_tick = sim->window;
    rc = schedule_disables(sim, err);
    if (rc) return rc;
    for (uint32_t i = 0; i < sim->ncomps; i++) {
        msim_component *c = sim->comps[i];
        if (c->kind->start) c->kind->start(sim, c);
    }
    if (sim->fail_code) return msim_error_set(err, sim->fail_code, "%s", sim->fail_msg);
    return 0;
}

static void sim_free(msim_sim *sim)
{
    for (uint32_t i = 0; sim->comps && i < sim->ncomps; i++) {
        msim_component *c = sim->comps[i];
        if (c && c->kind->destroy) c->kind->destroy(sim, c);
    }
    msim__evq_free(&sim->q);
    msim__metrics_free(sim);
    msim__arena_free(&sim->arena);
    msim_allocator al = sim->alloc;
    al.realloc(al.ud, sim, 0);
}

static msim_sim *sim_new(const msim_scenario *sc, const msim_run_options *opt)
{
    msim_allocator al = opt && opt->alloc.realloc ? opt->alloc : msim_default_allocator;
    msim_sim *sim = al.realloc(al.ud, NULL, sizeof *sim);
    if (!sim) return NULL;
    memset(sim, 0, sizeof *sim);
    sim->alloc = al;
    sim->arena.alloc = al;
    msim__evq_init(&sim->q, al);
    sim->sc = sc;
    sim->opt = opt;
    sim->seed = opt && opt->use_seed ? opt->seed : sc->seed;
    sim->replica = opt ? opt->replica : 0;
    sim->horizon = sc->duration;
    sim->window = sc->window;
    sim->first_trigger = msim_scenario_first_trigger(sc);
    sim->last_trigger_end = msim_scenario_last_trigger_end(sc);
    sim->warmup_end = sc->verdict.warmup;
    return sim;
}

static double wall_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int msim_run(const msim_scenario *sc, const msim_run_options *opt, msim_result **out,
             msim_error *err)
{
    *out = NULL;
    msim_sim *sim = sim_new(sc, opt);
    if (!sim) return msim_error_set(err, -MSIM_ENOMEM, "out of memory creating the run");
    double t0 = wall_seconds();
    int rc = setup(sim, err);
    if (!rc) {
        run_loop(sim);
        if (sim->fail_code)
            rc = msim_error_set(err, sim->fail_code, "%s", sim->fail_msg);
        else
            close_last_window(sim);
    }
    if (!rc) {
        rc = msim__result_from_sim(sim, out);
        if (rc) msim_error_set(err, rc, "out of memory building the result");
    }
    if (*out) {
        (*out)->wall_s = wall_seconds() - t0;
        msim_analyze(*out);
    }
    sim_free(sim);
    return rc;
}
