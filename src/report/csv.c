/* csv.c — timeseries.csv, tidy: one row per window x component x metric.
 *
 *   window,t_start_s,t_end_s,phase,component,kind,metric,unit,value
 *
 * Counters are totals within the window (not rates); gauges are time-weighted
 * means, `_max` their maxima; latency quantiles are seconds; an empty value
 * means "nothing to measure" (no request finished in the window). Rows of
 * component "system" carry the analysis' own series: goodput, offered,
 * expected goodput and window health. docs/output.md has the metric list.
 */
#include <stdio.h>

#include "format.h"

/* The first four columns of every row of window w. */
static void window_prefix(char *buf, size_t size, const msim_result *r, uint32_t w,
                          uint32_t bounds[][2])
{
    msim_time t0 = (msim_time)w * r->window;
    msim_time t1 = t0 + r->window < r->horizon ? t0 + r->window : r->horizon;
    msim_phase ph = MSIM_PHASE_DURING;
    for (int p = 0; p < MSIM_PHASE_COUNT; p++)
        if (w >= bounds[p][0] && w < bounds[p][1]) ph = (msim_phase)p;
    char a[48], b[48];
    snprintf(buf, size, "%u,%s,%s,%s", w, msim__fmt_num(a, sizeof a, msim_time_to_s(t0)),
             msim__fmt_num(b, sizeof b, msim_time_to_s(t1)), msim_phase_name(ph));
}

static void row(msim_buf *out, const char *prefix, const char *comp, const char *kind,
                const char *metric, const char *unit, double v)
{
    char val[48];
    msim_buf_printf(out, "%s,%s,%s,%s,%s,%s\n", prefix, comp, kind, metric, unit,
                    msim__fmt_num(val, sizeof val, v));
}

void msim_report_csv(const msim_result *r, msim_buf *out)
{
    msim_buf_printf(out, "window,t_start_s,t_end_s,phase,component,kind,metric,unit,value\n");
    uint32_t bounds[MSIM_PHASE_COUNT][2];
    for (int ph = 0; ph < MSIM_PHASE_COUNT; ph++)
        msim_result_phase_windows(r, (msim_phase)ph, &bounds[ph][0], &bounds[ph][1]);
    for (uint32_t w = 0; w < r->nwin; w++) {
        char p[160];
        window_prefix(p, sizeof p, r, w, bounds);
        row(out, p, "system", "system", "goodput", "requests", r->goodput[w]);
        row(out, p, "system", "system", "offered", "requests", r->offered[w]);
        row(out, p, "system", "system", "expected", "requests", r->expected[w]);
        row(out, p, "system", "system", "healthy", "bool", r->health[w]);
        for (uint32_t c = 0; c < r->ncols; c++) {
            const msim_column *col = &r->cols[c];
            row(out, p, col->component, col->kind, col->name, col->unit, msim_result_at(r, w, (int)c));
        }
    }
}
