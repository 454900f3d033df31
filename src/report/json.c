/* json.c — summary.json of a single run. docs/output.md documents every
 * field. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "jw.h"

/* ---- sections -------------------------------------------------------------------------- */

static void write_scenario(jw *w, const msim_result *r)
{
    const msim_scenario *sc = r->scenario;
    msim__jw_open(w, "scenario", '{');
    msim__jw_str(w, "name", sc->name);
    msim__jw_str(w, "file", sc->file);
    msim__jw_num(w, "seed", (double)r->seed);
    msim__jw_num(w, "replica", (double)r->replica);
    msim__jw_num(w, "duration_s", msim_time_to_s(r->horizon));
    msim__jw_num(w, "window_s", msim_time_to_s(r->window));
    msim__jw_num(w, "windows", r->nwin);
    msim__jw_open(w, "triggers", '[');
    for (size_t i = 0; i < sc->ntriggers; i++) {
        const msim_trigger_cfg *t = &sc->triggers[i];
        msim__jw_open(w, NULL, '{');
        msim__jw_str(w, "kind", t->kind->name);
        msim__jw_str(w, "target", t->target.name);
        msim__jw_num(w, "at_s", msim_time_to_s(t->at));
        msim__jw_num(w, "duration_s", msim_time_to_s(t->length));
        msim__jw_close(w, '}');
    }
    msim__jw_close(w, ']');
    msim__jw_close(w, '}');
}

static void write_verdict(jw *w, const msim_result *r)
{
    const msim_verdict *v = &r->verdict;
    const msim_verdict_cfg *vc = &r->scenario->verdict;
    msim__jw_open(w, "verdict", '{');
    msim__jw_str(w, "verdict", msim_verdict_name(v->kind));
    msim__jw_str(w, "reason", v->reason);
    msim__jw_num(w, "recovery_s", v->recovery_s);
    msim__jw_num(w, "degraded_level", v->degraded_level);
    msim__jw_num(w, "period_s", v->period_s);
    msim__jw_num(w, "amplitude", v->amplitude);
    msim__jw_num(w, "correlation", v->correlation);
    msim__jw_num(w, "baseline_ratio", v->baseline_ratio);
    msim__jw_num(w, "baseline_p99_s", v->baseline_p99_s);
    msim__jw_open(w, "signals", '[');
    for (size_t i = 0; i < v->nsignals; i++) {
        msim__jw_open(w, NULL, '{');
        msim__jw_str(w, "name", v->signals[i].name);
        msim__jw_num(w, "value", v->signals[i].value);
        msim__jw_num(w, "baseline", v->signals[i].baseline);
        msim__jw_str(w, "text", v->signals[i].text);
        msim__jw_close(w, '}');
    }
    msim__jw_close(w, ']');
    msim__jw_open(w, "thresholds", '{');
    msim__jw_num(w, "warmup_s", msim_time_to_s(vc->warmup));
    msim__jw_num(w, "tolerance", vc->tolerance);
    msim__jw_num(w, "hold_s", msim_time_to_s(vc->hold));
    msim__jw_num(w, "observe_s", msim_time_to_s(vc->observe));
    msim__jw_num(w, "latency_factor", vc->latency_factor);
    msim__jw_num(w, "noise_sigmas", vc->noise_sigmas);
    msim__jw_num(w, "osc_amplitude", vc->osc_amplitude);
    msim__jw_num(w, "osc_correlation", vc->osc_correlation);
    msim__jw_close(w, '}');
    msim__jw_close(w, '}');
}

static void write_figures(jw *w, const char *key, const msim_figures *f)
{
    msim__jw_open(w, key, '{');
    msim__jw_num(w, "seconds", f->seconds);
    msim__jw_num(w, "offered_rps", f->offered_rps);
    msim__jw_num(w, "nominal_rps", f->nominal_rps);
    msim__jw_num(w, "goodput_rps", f->goodput_rps);
    msim__jw_num(w, "failed_rps", f->failed_rps);
    msim__jw_num(w, "attempts_rps", f->attempts_rps);
    msim__jw_num(w, "retries_rps", f->retries_rps);
    msim__jw_num(w, "timeouts_rps", f->timeouts_rps);
    msim__jw_num(w, "rejected_rps", f->rejected_rps);
    msim__jw_num(w, "amplification", f->amplification);
    msim__jw_num(w, "wasted_share", f->wasted_share);
    msim__jw_num(w, "utilisation", f->utilisation);
    msim__jw_num(w, "queue_mean", f->queue_mean);
    msim__jw_num(w, "queue_max", f->queue_max);
    msim__jw_num(w, "queue_capacity", f->queue_capacity);
    msim__jw_num(w, "latency_p50_s", f->p50_s);
    msim__jw_num(w, "latency_p90_s", f->p90_s);
    msim__jw_num(w, "latency_p99_s", f->p99_s);
    msim__jw_num(w, "latency_max_s", f->max_s);
    msim__jw_close(w, '}');
}

/* Whole-run totals of every column of one component: sums for counters,
 * time-weighted means for gauges, maxima for maxima. Quantile columns are
 * per-window only and left out. */
static void write_component(jw *w, const msim_result *r, uint32_t comp)
{
    const msim_scenario *sc = r->scenario;
    msim__jw_open(w, sc->components[comp].name, '{');
    msim__jw_str(w, "kind", sc->components[comp].kind->name);
    msim__jw_open(w, "totals", '{');
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
        msim__jw_num(w, col->name, v);
    }
    msim__jw_close(w, '}');
    msim__jw_close(w, '}');
}

static void write_ledger(jw *w, const msim_result *r)
{
    msim__jw_open(w, "ledger", '{');
    msim__jw_num(w, "requests", (double)r->requests);
    msim__jw_num(w, "succeeded", (double)r->succeeded);
    msim__jw_num(w, "failed", (double)r->failed);
    msim__jw_num(w, "in_flight_at_end", (double)r->in_flight);
    msim__jw_num(w, "attempts", (double)r->attempts);
    msim__jw_num(w, "attempts_alive_peak", (double)r->attempts_alive_peak);
    msim__jw_num(w, "events", (double)r->events);
    msim__jw_close(w, '}');
}

void msim_report_json(const msim_result *r, msim_buf *out)
{
    jw w = {.out = out};
    msim__jw_open(&w, NULL, '{');
    msim__jw_str(&w, "format", "metasim-summary/1");
    msim__jw_str(&w, "metasim_version", MSIM_VERSION);
    write_scenario(&w, r);
    write_verdict(&w, r);
    msim__jw_open(&w, "phases", '{');
    for (int p = 0; p < MSIM_PHASE_COUNT; p++)
        write_figures(&w, msim_phase_name((msim_phase)p), &r->phase[p]);
    msim__jw_close(&w, '}');
    msim__jw_open(&w, "components", '{');
    for (uint32_t c = 0; c < r->scenario->ncomponents; c++)
        write_component(&w, r, c);
    msim__jw_close(&w, '}');
    write_ledger(&w, r);
    msim__jw_close(&w, '}');
    msim_buf_printf(out, "\n");
}
