/* result.c — the plain-data result of a run, copied out of the run before the
 * run's memory is released, and the small queries report writers use.
 */
#include <math.h>
#include <string.h>

#include "sim.h"

struct msim__result_priv {
    msim__arena arena;
    msim_allocator alloc;
};

static int copy_columns(const msim_sim *sim, msim_result *r, msim__arena *ar)
{
    const msim__metrics *m = &sim->m;
    r->ncols = m->ncols;
    r->nwin = m->nwin;
    r->cols = msim__arena_alloc(ar, (m->ncols + 1) * sizeof *r->cols);
    size_t cells = (size_t)m->nwin * m->ncols;
    r->table = msim__arena_alloc(ar, (cells + 1) * sizeof *r->table);
    if (!r->cols || !r->table) return -MSIM_ENOMEM;
    for (uint32_t i = 0; i < m->ncols; i++) {
        const msim__col *c = &m->cols[i];
        const msim_component *comp = sim->comps[c->comp];
        r->cols[i] = (msim_column){c->comp,
                                   comp->name,
                                   comp->kind->name,
                                   msim__arena_strdup(ar, c->name),
                                   msim__arena_strdup(ar, c->unit),
                                   c->role,
                                   c->agg};
        if (!r->cols[i].name || !r->cols[i].unit) return -MSIM_ENOMEM;
    }
    if (cells) memcpy(r->table, m->table, cells * sizeof *r->table);
    return 0;
}

static int alloc_series(msim_result *r, msim__arena *ar)
{
    double **series[] = {&r->goodput, &r->offered, &r->expected, &r->p99_s, &r->health};
    for (size_t i = 0; i < sizeof series / sizeof series[0]; i++) {
        *series[i] = msim__arena_alloc(ar, (r->nwin + 1) * sizeof(double));
        if (!*series[i]) return -MSIM_ENOMEM;
    }
    return 0;
}

int msim__result_from_sim(const msim_sim *sim, msim_result **out)
{
    msim_allocator al = sim->alloc;
    msim_result *r = al.realloc(al.ud, NULL, sizeof *r + sizeof(struct msim__result_priv));
    if (!r) return -MSIM_ENOMEM;
    memset(r, 0, sizeof *r + sizeof(struct msim__result_priv));
    r->priv = (struct msim__result_priv *)(r + 1);
    r->priv->alloc = al;
    r->priv->arena.alloc = al;
    *out = r;
    r->scenario = sim->sc;
    r->seed = sim->seed;
    r->replica = sim->replica;
    r->horizon = sim->horizon;
    r->window = sim->window;
    r->warmup_end = sim->warmup_end;
    r->first_trigger = sim->first_trigger;
    r->last_trigger_end = sim->last_trigger_end;
    r->events = sim->events;
    r->requests = sim->req_started;
    r->succeeded = sim->req_ok;
    r->failed = sim->req_failed;
    r->in_flight = sim->req_inflight;
    r->attempts = sim->att_created;
    r->attempts_alive_peak = sim->att_peak;
    for (uint32_t i = 0; i < sim->m.nlats; i++) {
        const msim__latency_state *l = &sim->m.lats[i];
        if (l->role != MSIM_ROLE_LATENCY) continue;
        for (int p = 0; p < MSIM_PHASE_COUNT; p++)
            msim_hist_merge(&r->latency[p], &l->phase[p]);
    }
    if (copy_columns(sim, r, &r->priv->arena) || alloc_series(r, &r->priv->arena)) {
        msim_result_free(r);
        *out = NULL;
        return -MSIM_ENOMEM;
    }
    return 0;
}

void msim_result_free(msim_result *r)
{
    if (!r) return;
    msim_allocator al = r->priv->alloc;
    msim__arena_free(&r->priv->arena);
    al.realloc(al.ud, r, 0);
}

int msim_result_column(const msim_result *r, const char *component, const char *metric)
{
    for (uint32_t i = 0; i < r->ncols; i++)
        if (strcmp(r->cols[i].component, component) == 0 && strcmp(r->cols[i].name, metric) == 0)
            return (int)i;
    return -1;
}

double msim_result_sum(const msim_result *r, int col, uint32_t w0, uint32_t w1)
{
    double s = 0;
    for (uint32_t w = w0; w < w1 && w < r->nwin; w++) {
        double v = msim_result_at(r, w, col);
        if (!isnan(v)) s += v;
    }
    return s;
}

double msim_result_role_sum(const msim_result *r, msim_role role, msim_agg agg, uint32_t w0,
                            uint32_t w1)
{
    double s = 0;
    for (uint32_t c = 0; c < r->ncols; c++)
        if (r->cols[c].role == role && r->cols[c].agg == agg) s += msim_result_sum(r, (int)c, w0, w1);
    return s;
}

void msim_result_phase_windows(const msim_result *r, msim_phase p, uint32_t *w0, uint32_t *w1)
{
    *w0 = *w1 = 0;
    bool seen = false;
    for (uint32_t w = 0; w < r->nwin; w++) {
        msim_time t0 = (msim_time)w * r->window;
        msim_time t1 = t0 + r->window < r->horizon ? t0 + r->window : r->horizon;
        if (msim__phase_for(t0, t1, r->warmup_end, r->first_trigger, r->last_trigger_end) != p)
            continue;
        if (!seen) *w0 = w;
        seen = true;
        *w1 = w + 1;
    }
}

static const char *const phase_names[] = {
#define MSIM_PHASE_NAME(id, name) name,
    MSIM_PHASE_MAP(MSIM_PHASE_NAME)
#undef MSIM_PHASE_NAME
};

const char *msim_phase_name(msim_phase p)
{
    return (unsigned)p < MSIM_PHASE_COUNT ? phase_names[p] : "?";
}
