/* json.c — summary.json.
 *
 * A small streaming writer rather than a JSON library: the summary is written
 * once, top to bottom, and what matters is exact control of number formatting
 * (the same result must give the same bytes on every run). docs/output.md
 * documents every field.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "format.h"

typedef struct jw {
    msim_buf *out;
    int depth;
    bool need_comma[32];
} jw;

static void jw_indent(jw *w)
{
    msim_buf_printf(w->out, "\n%*s", 2 * w->depth, "");
}

static void jw_string(jw *w, const char *s)
{
    msim_buf_printf(w->out, "\"");
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            msim_buf_printf(w->out, "\\%c", c);
        else if (c == '\n')
            msim_buf_printf(w->out, "\\n");
        else if (c < 0x20)
            msim_buf_printf(w->out, "\\u%04x", c);
        else
            msim_buf_printf(w->out, "%c", c);
    }
    msim_buf_printf(w->out, "\"");
}

/* Start a member (key may be NULL inside arrays). */
static void jw_key(jw *w, const char *key)
{
    if (w->need_comma[w->depth]) msim_buf_printf(w->out, ",");
    w->need_comma[w->depth] = true;
    jw_indent(w);
    if (key) {
        jw_string(w, key);
        msim_buf_printf(w->out, ": ");
    }
}

static void jw_open(jw *w, const char *key, char bracket)
{
    if (w->depth > 0) jw_key(w, key);
    msim_buf_printf(w->out, "%c", bracket);
    w->need_comma[++w->depth] = false;
}

static void jw_close(jw *w, char bracket)
{
    bool had = w->need_comma[w->depth--];
    if (had) jw_indent(w);
    msim_buf_printf(w->out, "%c", bracket);
}

static void jw_num(jw *w, const char *key, double v)
{
    char buf[48];
    jw_key(w, key);
    msim__fmt_num(buf, sizeof buf, v);
    msim_buf_printf(w->out, "%s", buf[0] ? buf : "null");
}

static void jw_str(jw *w, const char *key, const char *s)
{
    jw_key(w, key);
    if (s)
        jw_string(w, s);
    else
        msim_buf_printf(w->out, "null");
}

/* ---- sections -------------------------------------------------------------------------- */

static void write_scenario(jw *w, const msim_result *r)
{
    const msim_scenario *sc = r->scenario;
    jw_open(w, "scenario", '{');
    jw_str(w, "name", sc->name);
    jw_str(w, "file", sc->file);
    jw_num(w, "seed", (double)r->seed);
    jw_num(w, "replica", (double)r->replica);
    jw_num(w, "duration_s", msim_time_to_s(r->horizon));
    jw_num(w, "window_s", msim_time_to_s(r->window));
    jw_num(w, "windows", r->nwin);
    jw_open(w, "triggers", '[');
    for (size_t i = 0; i < sc->ntriggers; i++) {
        const msim_trigger_cfg *t = &sc->triggers[i];
        jw_open(w, NULL, '{');
        jw_str(w, "kind", t->kind->name);
        jw_str(w, "target", t->target.name);
        jw_num(w, "at_s", msim_time_to_s(t->at));
        jw_num(w, "duration_s", msim_time_to_s(t->length));
        jw_close(w, '}');
    }
    jw_close(w, ']');
    jw_close(w, '}');
}

static void write_verdict(jw *w, const msim_result *r)
{
    const msim_verdict *v = &r->verdict;
    const msim_verdict_cfg *vc = &r->scenario->verdict;
    jw_open(w, "verdict", '{');
    jw_str(w, "verdict", msim_verdict_name(v->kind));
    jw_str(w, "reason", v->reason);
    jw_num(w, "recovery_s", v->recovery_s);
    jw_num(w, "degraded_level", v->degraded_level);
    jw_num(w, "period_s", v->period_s);
    jw_num(w, "amplitude", v->amplitude);
    jw_num(w, "correlation", v->correlation);
    jw_num(w, "baseline_ratio", v->baseline_ratio);
    jw_num(w, "baseline_p99_s", v->baseline_p99_s);
    jw_open(w, "signals", '[');
    for (size_t i = 0; i < v->nsignals; i++) {
        jw_open(w, NULL, '{');
        jw_str(w, "name", v->signals[i].name);
        jw_num(w, "value", v->signals[i].value);
        jw_num(w, "baseline", v->signals[i].baseline);
        jw_str(w, "text", v->signals[i].text);
        jw_close(w, '}');
    }
    jw_close(w, ']');
    jw_open(w, "thresholds", '{');
    jw_num(w, "warmup_s", msim_time_to_s(vc->warmup));
    jw_num(w, "tolerance", vc->tolerance);
    jw_num(w, "hold_s", msim_time_to_s(vc->hold));
    jw_num(w, "observe_s", msim_time_to_s(vc->observe));
    jw_num(w, "latency_factor", vc->latency_factor);
    jw_num(w, "noise_sigmas", vc->noise_sigmas);
    jw_num(w, "osc_amplitude", vc->osc_amplitude);
    jw_num(w, "osc_correlation", vc->osc_correlation);
    jw_close(w, '}');
    jw_close(w, '}');
}

static void write_figures(jw *w, const char *key, const msim_figures *f)
{
    jw_open(w, key, '{');
    jw_num(w, "seconds", f->seconds);
    jw_num(w, "offered_rps", f->offered_rps);
    jw_num(w, "nominal_rps", f->nominal_rps);
    jw_num(w, "goodput_rps", f->goodput_rps);
    jw_num(w, "failed_rps", f->failed_rps);
    jw_num(w, "attempts_rps", f->attempts_rps);
    jw_num(w, "retries_rps", f->retries_rps);
    jw_num(w, "timeouts_rps", f->timeouts_rps);
    jw_num(w, "rejected_rps", f->rejected_rps);
    jw_num(w, "amplification", f->amplification);
    jw_num(w, "wasted_share", f->wasted_share);
    jw_num(w, "utilisation", f->utilisation);
    jw_num(w, "queue_mean", f->queue_mean);
    jw_num(w, "queue_max", f->queue_max);
    jw_num(w, "queue_capacity", f->queue_capacity);
    jw_num(w, "latency_p50_s", f->p50_s);
    jw_num(w, "latency_p90_s", f->p90_s);
    jw_num(w, "latency_p99_s", f->p99_s);
    jw_num(w, "latency_max_s", f->max_s);
    jw_close(w, '}');
}

/* Whole-run totals of every column of one component: sums for counters,
 * time-weighted means for gauges, maxima for maxima. Quantile columns are
 * per-window only and left out. */
static void write_component(jw *w, const msim_result *r, uint32_t comp)
{
    const msim_scenario *sc = r->scenario;
    jw_open(w, sc->components[comp].name, '{');
    jw_str(w, "kind", sc->components[comp].kind->name);
    jw_open(w, "totals", '{');
    double horizon = msim_time_to_s(r->horizon);
    for (uint32_t c = 0; c < r->ncols; c++) {
        const msim_column *col = &r->cols[c];
        if (col->comp != comp || col->agg == MSIM_AGG_QUANTILE) continue;
        double v = 0;
        for (uint32_t k = 0; k < r->nwin; k++) {
            double x = msim_result_at(r, k, (int)c);
            if (col->agg == MSIM_AGG_MAX)
                v = x > v ? x : v;
            else if (col->agg == MSIM_AGG_MEAN) {
                msim_time t0 = (msim_time)k * r->window;
                msim_time t1 = t0 + r->window < r->horizon ? t0 + r->window : r->horizon;
                v += x * msim_time_to_s(t1 - t0) / horizon;
            } else
                v += x;
        }
        jw_num(w, col->name, v);
    }
    jw_close(w, '}');
    jw_close(w, '}');
}

static void write_ledger(jw *w, const msim_result *r)
{
    jw_open(w, "ledger", '{');
    jw_num(w, "requests", (double)r->requests);
    jw_num(w, "succeeded", (double)r->succeeded);
    jw_num(w, "failed", (double)r->failed);
    jw_num(w, "in_flight_at_end", (double)r->in_flight);
    jw_num(w, "attempts", (double)r->attempts);
    jw_num(w, "attempts_alive_peak", (double)r->attempts_alive_peak);
    jw_num(w, "events", (double)r->events);
    jw_close(w, '}');
}

void msim_report_json(const msim_result *r, msim_buf *out)
{
    jw w = {.out = out};
    jw_open(&w, NULL, '{');
    jw_str(&w, "format", "metasim-summary/1");
    jw_str(&w, "metasim_version", MSIM_VERSION);
    write_scenario(&w, r);
    write_verdict(&w, r);
    jw_open(&w, "phases", '{');
    for (int p = 0; p < MSIM_PHASE_COUNT; p++)
        write_figures(&w, msim_phase_name((msim_phase)p), &r->phase[p]);
    jw_close(&w, '}');
    jw_open(&w, "components", '{');
    for (uint32_t c = 0; c < r->scenario->ncomponents; c++)
        write_component(&w, r, c);
    jw_close(&w, '}');
    write_ledger(&w, r);
    jw_close(&w, '}');
    msim_buf_printf(out, "\n");
}
