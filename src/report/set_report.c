/* set_report.c — what a replica set says: the probability of each verdict
 * with its interval, recovery times and degraded levels across replicas, key
 * figures as medians with their p10-p90 spread, and the median run as a chart.
 * Terminal text, summary.json ("metasim-replicas/1") and timeseries.csv
 * (bands: one row per window x series). docs/output.md documents the files.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "chart.h"
#include "jw.h"

/* ---- terminal -------------------------------------------------------------------- */

static void set_header(msim_buf *out, const msim_set *s)
{
    const msim_scenario *sc = s->scenario;
    char h[32], w[32], ev[32], rate[32], att[32], wall[32];
    msim_buf_printf(out, "metasim %s · %s (%s)\n", MSIM_VERSION, sc->name, sc->file);
    msim_buf_printf(out, "seed %llu · horizon %s · window %s · %zu trigger%s · %zu replicas\n",
                    (unsigned long long)s->seed, msim__fmt_secs(h, sizeof h, msim_time_to_s(s->horizon)),
                    msim__fmt_secs(w, sizeof w, msim_time_to_s(s->window)), sc->ntriggers,
                    sc->ntriggers == 1 ? "" : "s", s->n);
    msim_buf_printf(out, "engine: %s events in %s wall on %u thread%s (%s events/s) · %s attempts\n\n",
                    msim__fmt_count(ev, sizeof ev, (double)s->events), msim__fmt_secs(wall, sizeof wall, s->wall_s),
                    s->jobs, s->jobs == 1 ? "" : "s",
                    msim__fmt_count(rate, sizeof rate, s->wall_s > 0 ? (double)s->events / s->wall_s : NAN),
                    msim__fmt_count(att, sizeof att, (double)s->attempts));
}

static const char *spread_text(char *buf, size_t size, msim_spread sp, int secs)
{
    char a[24], b[24], c[24];
    if (secs)
        snprintf(buf, size, "%s [%s, %s]", msim__fmt_secs(a, sizeof a, sp.p50), msim__fmt_secs(b, sizeof b, sp.p10),
                 msim__fmt_secs(c, sizeof c, sp.p90));
    else
        snprintf(buf, size, "%s [%s, %s]", msim__fmt_count(a, sizeof a, sp.p50),
                 msim__fmt_count(b, sizeof b, sp.p10), msim__fmt_count(c, sizeof c, sp.p90));
    return buf;
}

static void verdict_rows(msim_buf *out, const msim_set *s)
{
    msim_buf_printf(out, "VERDICTS over %zu replicas (95%% Wilson intervals)\n", s->n);
    char none[160] = "";
    size_t off = 0;
    for (int v = 0; v < MSIM_VERDICT_COUNT; v++) {
        const char *name = msim_verdict_name((msim_verdict_kind)v);
        if (!s->count[v]) {
            off += (size_t)snprintf(none + off, off < sizeof none ? sizeof none - off : 0, "%s%s", off ? ", " : "", name);
            continue;
        }
        msim_buf_printf(out, "  %-19s %5zu  %6.1f%%  [%.1f%%, %.1f%%]", name, s->count[v], 100 * s->p[v],
                        100 * s->lo[v], 100 * s->hi[v]);
        char buf[96];
        if (v == MSIM_VERDICT_RECOVERED) {
            char m[24];
            msim_buf_printf(out, "   recovery %s, max %s", spread_text(buf, sizeof buf, s->recovery_s, 1),
                            msim__fmt_secs(m, sizeof m, s->recovery_max_s));
        } else if (v == MSIM_VERDICT_METASTABLE) {
            msim_buf_printf(out, "   goodput at %.0f%% of expected [%.0f%%, %.0f%%]", 100 * s->degraded_level.p50,
                            100 * s->degraded_level.p10, 100 * s->degraded_level.p90);
        } else if (v == MSIM_VERDICT_OSCILLATING) {
            msim_buf_printf(out, "   period %s, amplitude %.0f%%", spread_text(buf, sizeof buf, s->period_s, 1),
                            100 * s->amplitude.p50);
        }
        msim_buf_printf(out, "\n");
    }
    if (off) msim_buf_printf(out, "  none: %s\n", none);
    if (s->nsignals) {
        msim_buf_printf(out, "  signals seen:");
        for (size_t i = 0; i < s->nsignals; i++)
            msim_buf_printf(out, "%s %s in %zu", i ? "," : "", s->signal_name[i], s->signal_count[i]);
        msim_buf_printf(out, " of %zu replicas\n", s->n);
    }
    msim_buf_printf(out, "\n");
}

typedef struct figure_row {
    const char *label;
    size_t offset; /* of the msim_spread in msim_figure_spreads */
    int secs, pct;
} figure_row;

static void phase_rows(msim_buf *out, const msim_set *s)
{
    static const figure_row rows[] = {
        {"offered/s", offsetof(msim_figure_spreads, offered_rps), 0, 0},
        {"goodput/s", offsetof(msim_figure_spreads, goodput_rps), 0, 0},
        {"attempts/request", offsetof(msim_figure_spreads, amplification), 0, 0},
        {"timeouts/s", offsetof(msim_figure_spreads, timeouts_rps), 0, 0},
        {"rejected/s", offsetof(msim_figure_spreads, rejected_rps), 0, 0},
        {"wasted work", offsetof(msim_figure_spreads, wasted_share), 0, 1},
        {"utilisation", offsetof(msim_figure_spreads, utilisation), 0, 1},
        {"queue mean", offsetof(msim_figure_spreads, queue_mean), 0, 0},
        {"latency p50", offsetof(msim_figure_spreads, p50_s), 1, 0},
        {"latency p99", offsetof(msim_figure_spreads, p99_s), 1, 0},
    };
    const msim_phase phases[] = {MSIM_PHASE_BEFORE, MSIM_PHASE_DURING, MSIM_PHASE_AFTER};
    msim_buf_printf(out, "  median [p10, p90]  ");
    for (int p = 0; p < 3; p++)
        msim_buf_printf(out, "%25s", msim_phase_name(phases[p]));
    msim_buf_printf(out, "\n");
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        msim_buf_printf(out, "  %-19s", rows[i].label);
        for (int p = 0; p < 3; p++) {
            msim_spread sp = *(const msim_spread *)((const char *)&s->phase[phases[p]] + rows[i].offset);
            char buf[96];
            if (rows[i].pct)
                snprintf(buf, sizeof buf, "%.0f%% [%.0f%%, %.0f%%]", 100 * sp.p50, 100 * sp.p10, 100 * sp.p90);
            else
                spread_text(buf, sizeof buf, sp, rows[i].secs);
            msim_buf_printf(out, "%25s", isnan(sp.p50) ? "-" : buf);
        }
        msim_buf_printf(out, "\n");
    }
    msim_buf_printf(out, "\n");
}

void msim_report_set_text(const msim_set *s, const msim_text_options *opt, msim_buf *out)
{
    msim_text_options o = opt ? *opt : (msim_text_options){0};
    set_header(out, s);
    verdict_rows(out, s);
    phase_rows(out, s);
    if (!o.no_chart && s->band[MSIM_BAND_GOODPUT].p50) {
        msim_buf_printf(out, "  the median replica:\n");
        msim_chart c = {s->scenario, s->horizon, s->nwin, s->band[MSIM_BAND_GOODPUT].p50,
                        s->band[MSIM_BAND_OFFERED].p50, o.chart_width, o.chart_height};
        msim__chart(out, &c);
    }
}

/* ---- summary.json -------------------------------------------------------------------- */

static void jw_spread(jw *w, const char *key, msim_spread sp)
{
    msim__jw_open(w, key, '{');
    msim__jw_num(w, "p10", sp.p10);
    msim__jw_num(w, "p50", sp.p50);
    msim__jw_num(w, "p90", sp.p90);
    msim__jw_close(w, '}');
}

static void jw_verdicts(jw *w, const msim_set *s)
{
    msim__jw_open(w, "verdicts", '{');
    for (int v = 0; v < MSIM_VERDICT_COUNT; v++) {
        msim__jw_open(w, msim_verdict_name((msim_verdict_kind)v), '{');
        msim__jw_num(w, "count", (double)s->count[v]);
        msim__jw_num(w, "p", s->p[v]);
        msim__jw_num(w, "lo", s->lo[v]);
        msim__jw_num(w, "hi", s->hi[v]);
        msim__jw_close(w, '}');
    }
    msim__jw_close(w, '}');
    msim__jw_open(w, "recovery_s", '{');
    msim__jw_num(w, "replicas", (double)s->count[MSIM_VERDICT_RECOVERED]);
    msim__jw_num(w, "p10", s->recovery_s.p10);
    msim__jw_num(w, "p50", s->recovery_s.p50);
    msim__jw_num(w, "p90", s->recovery_s.p90);
    msim__jw_num(w, "max", s->recovery_max_s);
    msim__jw_close(w, '}');
    jw_spread(w, "degraded_level", s->degraded_level);
    jw_spread(w, "period_s", s->period_s);
    jw_spread(w, "amplitude", s->amplitude);
    msim__jw_open(w, "signals", '{');
    for (size_t i = 0; i < s->nsignals; i++)
        msim__jw_num(w, s->signal_name[i], (double)s->signal_count[i]);
    msim__jw_close(w, '}');
}

void msim_report_set_json(const msim_set *s, msim_buf *out)
{
    jw w = {.out = out};
    const msim_scenario *sc = s->scenario;
    msim__jw_open(&w, NULL, '{');
    msim__jw_str(&w, "format", "metasim-replicas/1");
    msim__jw_str(&w, "metasim_version", MSIM_VERSION);
    msim__jw_open(&w, "scenario", '{');
    msim__jw_str(&w, "name", sc->name);
    msim__jw_str(&w, "file", sc->file);
    msim__jw_num(&w, "seed", (double)s->seed);
    msim__jw_num(&w, "duration_s", msim_time_to_s(s->horizon));
    msim__jw_num(&w, "window_s", msim_time_to_s(s->window));
    msim__jw_close(&w, '}');
    msim__jw_num(&w, "replicas", (double)s->n);
    jw_verdicts(&w, s);
    msim__jw_open(&w, "phases", '{');
    for (int p = 0; p < MSIM_PHASE_COUNT; p++) {
        msim__jw_open(&w, msim_phase_name((msim_phase)p), '{');
#define MSIM_FIGURE_JSON(f) jw_spread(&w, #f, s->phase[p].f);
        MSIM_FIGURE_MAP(MSIM_FIGURE_JSON)
#undef MSIM_FIGURE_JSON
        msim__jw_close(&w, '}');
    }
    msim__jw_close(&w, '}');
    msim__jw_open(&w, "totals", '{');
    msim__jw_num(&w, "events", (double)s->events);
    msim__jw_num(&w, "attempts", (double)s->attempts);
    msim__jw_num(&w, "requests", (double)s->requests);
    msim__jw_close(&w, '}');
    msim__jw_close(&w, '}');
    msim_buf_printf(out, "\n");
}

/* ---- timeseries.csv: bands ------------------------------------------------------------------ */

void msim_report_set_csv(const msim_set *s, msim_buf *out)
{
    msim_buf_printf(out, "window,t_start_s,t_end_s,series,unit,p10,p50,p90\n");
    if (!s->band[0].p50) return;
    for (uint32_t w = 0; w < s->nwin; w++) {
        msim_time t0 = (msim_time)w * s->window;
        msim_time t1 = t0 + s->window < s->horizon ? t0 + s->window : s->horizon;
        char a[32], b[32];
        msim__fmt_num(a, sizeof a, msim_time_to_s(t0));
        msim__fmt_num(b, sizeof b, msim_time_to_s(t1));
        for (int k = 0; k < MSIM_BAND_COUNT; k++) {
            const msim_band *band = &s->band[k];
            char x[32], y[32], z[32];
            msim_buf_printf(out, "%u,%s,%s,%s,%s,%s,%s,%s\n", w, a, b, msim_band_name((msim_band_kind)k),
                            msim_band_unit((msim_band_kind)k), msim__fmt_num(x, sizeof x, band->p10[w]),
                            msim__fmt_num(y, sizeof y, band->p50[w]), msim__fmt_num(z, sizeof z, band->p90[w]));
        }
    }
}

int msim_write_set_outputs(const msim_set *s, const char *dir, msim_error *err)
{
    msim_buf json = {0}, csv = {0};
    msim_report_set_json(s, &json);
    msim_report_set_csv(s, &csv);
    return msim__write_summary_pair(dir, &json, &csv, err);
}
