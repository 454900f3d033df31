/* metrics.c — per-window metric tables.
 *
 * Registration happens in component init and defines the columns; at start
 * the table (windows x columns) is allocated once. Recording writes into the
 * current window's row: a counter is one add, a gauge folds its time-weighted
 * area, a latency bumps a histogram bucket. At each window boundary gauges and
 * latency quantiles are closed into the row and the row pointer moves on.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sim.h"

static const char *const role_names[] = {
#define MSIM_ROLE_NAME(id, name, doc) name,
    MSIM_ROLE_MAP(MSIM_ROLE_NAME)
#undef MSIM_ROLE_NAME
};

const char *msim_role_name(msim_role role)
{
    return (unsigned)role < MSIM_ROLE_COUNT ? role_names[role] : "?";
}

/* Grow a dynamic array of `elem`-sized items to hold one more. */
static int reserve(msim_sim *sim, void **arr, uint32_t *cap, uint32_t len, size_t elem)
{
    if (len < *cap) return 0;
    uint32_t ncap = *cap ? *cap * 2 : 32;
    void *np = sim->alloc.realloc(sim->alloc.ud, *arr, ncap * elem);
    if (!np) {
        msim_fail(sim, -MSIM_ENOMEM, "out of memory registering metrics");
        return -1;
    }
    *arr = np;
    *cap = ncap;
    return 0;
}

static uint32_t add_col(msim_sim *sim, msim_component *c, const char *name, const char *suffix,
                        const char *unit, msim_role role, msim_agg agg)
{
    msim__metrics *m = &sim->m;
    if (m->frozen) {
        msim_fail(sim, -MSIM_EINVAL, "metric registered after the run started");
        return 0;
    }
    if (reserve(sim, (void **)&m->cols, &m->cap_cols, m->ncols, sizeof *m->cols)) return 0;
    char full[128];
    snprintf(full, sizeof full, "%s%s", name, suffix);
    msim__col *col = &m->cols[m->ncols];
    col->comp = c ? c->index : UINT32_MAX;
    col->name = msim__arena_strdup(&sim->arena, full);
    col->unit = msim__arena_strdup(&sim->arena, unit);
    col->role = role;
    col->agg = agg;
    if (!col->name || !col->unit) {
        msim_fail(sim, -MSIM_ENOMEM, "out of memory registering metrics");
        return 0;
    }
    return m->ncols++;
}

msim_metric msim_counter(msim_sim *sim, msim_component *c, const char *name, const char *unit,
                         msim_role role)
{
    return add_col(sim, c, name, "", unit, role, MSIM_AGG_SUM);
}

void msim_count(msim_sim *sim, msim_metric m, double v)
{
    sim->row[m] += v;
}

msim_gauge msim_gauge_new(msim_sim *sim, msim_component *c, const char *name, const char *unit,
                          msim_role role)
{
    msim__metrics *m = &sim->m;
    if (reserve(sim, (void **)&m->gauges, &m->cap_gauges, m->ngauges, sizeof *m->gauges)) return 0;
    msim__gauge_state *g = &m->gauges[m->ngauges];
    memset(g, 0, sizeof *g);
    g->mean_col = add_col(sim, c, name, "", unit, role, MSIM_AGG_MEAN);
    g->max_col = add_col(sim, c, name, "_max", unit, role, MSIM_AGG_MAX);
    return m->ngauges++;
}

static void gauge_fold(msim__gauge_state *g, msim_time now)
{
    g->area += g->value * (double)(now - g->since);
    g->since = now;
}

void msim_gauge_set(msim_sim *sim, msim_gauge id, double value)
{
    msim__gauge_state *g = &sim->m.gauges[id];
    gauge_fold(g, sim->now);
    g->value = value;
    if (value > g->max) g->max = value;
}

void msim_gauge_add(msim_sim *sim, msim_gauge id, double delta)
{
    msim__gauge_state *g = &sim->m.gauges[id];
    gauge_fold(g, sim->now);
    g->value += delta;
    if (g->value > g->max) g->max = g->value;
}

double msim_gauge_value(const msim_sim *sim, msim_gauge id)
{
    return sim->m.gauges[id].value;
}

double msim_gauge_area(const msim_sim *sim, msim_gauge id)
{
    const msim__gauge_state *g = &sim->m.gauges[id];
    double open = g->area + g->value * (double)(sim->now - g->since);
    return (g->total + open) / 1e9;
}

msim_latency msim_latency_new(msim_sim *sim, msim_component *c, const char *name, msim_role role)
{
    msim__metrics *m = &sim->m;
    if (reserve(sim, (void **)&m->lats, &m->cap_lats, m->nlats, sizeof *m->lats)) return 0;
    msim__latency_state *l = &m->lats[m->nlats];
    memset(l, 0, sizeof *l);
    l->comp = c ? c->index : UINT32_MAX;
    l->role = role;
    l->name = msim__arena_strdup(&sim->arena, name);
    l->col_p50 = add_col(sim, c, name, "_p50", "s", role, MSIM_AGG_QUANTILE);
    l->col_p90 = add_col(sim, c, name, "_p90", "s", role, MSIM_AGG_QUANTILE);
    l->col_p99 = add_col(sim, c, name, "_p99", "s", role, MSIM_AGG_QUANTILE);
    l->col_max = add_col(sim, c, name, "_max", "s", role, MSIM_AGG_QUANTILE);
    l->col_sum = add_col(sim, c, name, "_sum", "s", MSIM_ROLE_NONE, MSIM_AGG_SUM);
    l->col_n = add_col(sim, c, name, "_count", "requests", MSIM_ROLE_NONE, MSIM_AGG_SUM);
    return m->nlats++;
}

void msim_latency_record(msim_sim *sim, msim_latency id, msim_time value)
{
    msim__latency_state *l = &sim->m.lats[id];
    msim_hist_record(&l->window, (uint64_t)(value > 0 ? value : 0));
    sim->row[l->col_sum] += msim_time_to_s(value);
    sim->row[l->col_n] += 1;
}

int msim__metrics_start(msim_sim *sim)
{
    msim__metrics *m = &sim->m;
    m->frozen = true;
    msim_time w = sim->window;
    m->nwin = (uint32_t)((sim->horizon + w - 1) / w);
    if (m->nwin == 0) m->nwin = 1;
    size_t cells = (size_t)m->nwin * (m->ncols ? m->ncols : 1);
    m->table = msim__arena_alloc(&sim->arena, cells * sizeof(double));
    if (!m->table) return -MSIM_ENOMEM;
    sim->row = m->table;
    m->win = 0;
    return 0;
}

msim_phase msim__phase_for(msim_time t0, msim_time t1, msim_time warmup_end, msim_time first,
                           msim_time last_end)
{
    if (first != MSIM_NEVER && t0 >= last_end) return MSIM_PHASE_AFTER;
    if (first == MSIM_NEVER || t1 <= first)
        return t0 < warmup_end ? MSIM_PHASE_WARMUP : MSIM_PHASE_BEFORE;
    return MSIM_PHASE_DURING;
}

msim_phase msim__phase_of(const msim_sim *sim, msim_time t0, msim_time t1)
{
    return msim__phase_for(t0, t1, sim->warmup_end, sim->first_trigger, sim->last_trigger_end);
}

static void close_latency(msim__latency_state *l, double *row, msim_phase phase)
{
    const msim_hist *h = &l->window;
    if (h->count) {
        row[l->col_p50] = msim_hist_quantile(h, 0.50) / 1e9;
        row[l->col_p90] = msim_hist_quantile(h, 0.90) / 1e9;
        row[l->col_p99] = msim_hist_quantile(h, 0.99) / 1e9;
        row[l->col_max] = (double)h->max / 1e9;
        msim_hist_merge(&l->phase[phase], h);
        msim_hist_clear(&l->window);
    } else {
        /* no sample: NAN, so a quiet window is not read as zero latency */
        row[l->col_p50] = row[l->col_p90] = row[l->col_p99] = row[l->col_max] = NAN;
    }
}

void msim__metrics_window_end(msim_sim *sim, msim_time t0, msim_time t1)
{
    msim__metrics *m = &sim->m;
    for (uint32_t i = 0; i < sim->ncomps; i++) {
        msim_component *c = sim->comps[i];
        if (c->kind->on_window) c->kind->on_window(sim, c, t0, t1);
    }
    double *row = sim->row;
    double len = (double)(t1 - t0);
    for (uint32_t i = 0; i < m->ngauges; i++) {
        msim__gauge_state *g = &m->gauges[i];
        gauge_fold(g, t1);
        row[g->mean_col] = len > 0 ? g->area / len : g->value;
        row[g->max_col] = g->max;
        g->total += g->area;
        g->area = 0;
        g->max = g->value;
    }
    msim_phase phase = msim__phase_of(sim, t0, t1);
    for (uint32_t i = 0; i < m->nlats; i++)
        close_latency(&m->lats[i], row, phase);
    if (m->win + 1 < m->nwin) {
        m->win++;
        sim->row += m->ncols;
    }
}

void msim__metrics_free(msim_sim *sim)
{
    msim__metrics *m = &sim->m;
    sim->alloc.realloc(sim->alloc.ud, m->cols, 0);
    sim->alloc.realloc(sim->alloc.ud, m->gauges, 0);
    sim->alloc.realloc(sim->alloc.ud, m->lats, 0);
    memset(m, 0, sizeof *m);
}
