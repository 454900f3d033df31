/* sweep_report.c — a sweep in the terminal: a table of points for one
 * parameter, a phase map of P(metastable) for two (the 50% boundary is where
 * the shading turns dark), a list otherwise. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "format.h"

static const char *shade(double p)
{
    if (isnan(p)) return "  ";
    if (p < 0.1) return "··";
    if (p < 0.3) return "░░";
    if (p < 0.5) return "▒▒";
    if (p < 0.7) return "▓▓";
    return "██";
}

static void point_line(msim_buf *out, const msim_sweep_result *res, size_t i)
{
    const msim_sweep *sw = res->sweep;
    const msim_point_result *pt = &res->points[i];
    size_t idx[64];
    msim_sweep_point(sw, i, idx);
    char vals[256] = "";
    size_t off = 0;
    for (size_t k = 0; k < sw->nparams && off < sizeof vals; k++)
        off += (size_t)snprintf(vals + off, sizeof vals - off, "%s%s", k ? " " : "", sw->params[k].values[idx[k]]);
    char rec[32];
    msim_buf_printf(out, "  %-24s %5.1f%% [%5.1f%%, %5.1f%%]   %5.1f%%   %5.1f%%   %8s%s\n", vals,
                    100 * pt->p[MSIM_VERDICT_METASTABLE], 100 * pt->lo[MSIM_VERDICT_METASTABLE],
                    100 * pt->hi[MSIM_VERDICT_METASTABLE], 100 * pt->p[MSIM_VERDICT_RECOVERED],
                    100 * pt->p[MSIM_VERDICT_OSCILLATING], msim__fmt_secs(rec, sizeof rec, pt->recovery_p50_s),
                    pt->resumed ? "  (resumed)" : "");
}

static void table(msim_buf *out, const msim_sweep_result *res)
{
    const msim_sweep *sw = res->sweep;
    char head[256] = "";
    size_t off = 0;
    for (size_t k = 0; k < sw->nparams && off < sizeof head; k++)
        off += (size_t)snprintf(head + off, sizeof head - off, "%s%s", k ? " " : "", sw->params[k].path);
    msim_buf_printf(out, "  %-24s %-26s %-8s %-8s %s\n", head, "P(metastable) [95%]", "P(rec.)", "P(osc.)",
                    "recovery p50");
    for (size_t i = 0; i < res->npoints; i++)
        point_line(out, res, i);
}

/* x: the first parameter across, y: the second upwards. */
static void phase_map(msim_buf *out, const msim_sweep_result *res)
{
    const msim_sweep_param *x = &res->sweep->params[0], *y = &res->sweep->params[1];
    msim_buf_printf(out, "  P(metastable) over %s (across) and %s (up)\n\n", x->path, y->path);
    for (size_t r = y->nvalues; r-- > 0;) {
        msim_buf_printf(out, "  %12s │", y->values[r]);
        for (size_t c = 0; c < x->nvalues; c++)
            msim_buf_printf(out, "%s ", shade(res->points[c * y->nvalues + r].p[MSIM_VERDICT_METASTABLE]));
        msim_buf_printf(out, "\n");
    }
    msim_buf_printf(out, "  %12s └", "");
    for (size_t c = 0; c < x->nvalues; c++)
        msim_buf_printf(out, "───");
    msim_buf_printf(out, "\n  %12s  ", "");
    for (size_t c = 0; c < x->nvalues; c += 4)
        msim_buf_printf(out, "%-12s", x->values[c]);
    msim_buf_printf(out, "\n\n  ·· < 10%%   ░░ < 30%%   ▒▒ < 50%%   ▓▓ < 70%%   ██ >= 70%%"
                         "   (the 50%% boundary: where ▒▒ meets ▓▓)\n");
}

void msim_report_sweep_text(const msim_sweep_result *res, const char *dir, msim_buf *out)
{
    const msim_sweep *sw = res->sweep;
    char wall[32];
    msim_buf_printf(out, "sweep: %zu points x %zu replicas in %s", res->npoints, sw->replicas,
                    msim__fmt_secs(wall, sizeof wall, res->wall_s));
    if (res->resumed) msim_buf_printf(out, " (%zu points resumed)", res->resumed);
    msim_buf_printf(out, " · %s/sweep.csv%s\n\n", dir, sw->nparams == 2 ? ", phase_map.csv" : "");
    if (sw->nparams == 2)
        phase_map(out, res);
    else
        table(out, res);
}
