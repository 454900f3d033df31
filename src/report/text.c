/* text.c — the terminal summary: what ran, the verdict and why, key figures
 * before/during/after the trigger, and a chart of goodput against offered load
 * with the trigger marked under the time axis.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chart.h"

#define C_RESET "\033[0m"
#define C_BOLD  "\033[1m"

static const char *verdict_colour(msim_verdict_kind k)
{
    switch (k) {
    case MSIM_VERDICT_STABLE:
    case MSIM_VERDICT_RECOVERED: return "\033[1;32m";
    case MSIM_VERDICT_METASTABLE: return "\033[1;31m";
    case MSIM_VERDICT_UNHEALTHY_BASELINE: return "\033[1;35m";
    default: return "\033[1;33m";
    }
}

static void header(msim_buf *out, const msim_result *r)
{
    const msim_scenario *sc = r->scenario;
    char h[32], w[32];
    msim_buf_printf(out, "metasim %s · %s (%s)\n", MSIM_VERSION, sc->name, sc->file);
    msim_buf_printf(out, "seed %llu · horizon %s · window %s · %zu trigger%s\n",
                    (unsigned long long)r->seed, msim__fmt_secs(h, sizeof h, msim_time_to_s(r->horizon)),
                    msim__fmt_secs(w, sizeof w, msim_time_to_s(r->window)), sc->ntriggers,
                    sc->ntriggers == 1 ? "" : "s");
    for (size_t i = 0; i < sc->ntriggers; i++) {
        const msim_trigger_cfg *t = &sc->triggers[i];
        char a[32], d[32];
        msim_buf_printf(out, "  trigger %zu: %s on %s at %s for %s\n", i, t->kind->name,
                        t->target.name ? t->target.name : "all", msim__fmt_secs(a, sizeof a, msim_time_to_s(t->at)),
                        msim__fmt_secs(d, sizeof d, msim_time_to_s(t->length)));
    }
    char ev[32], rate[32], att[32], peak[32], wall[32];
    msim_buf_printf(out, "engine: %s events in %s wall (%s events/s) · %s attempts · peak %s in flight\n\n",
                    msim__fmt_count(ev, sizeof ev, (double)r->events), msim__fmt_secs(wall, sizeof wall, r->wall_s),
                    msim__fmt_count(rate, sizeof rate, r->wall_s > 0 ? (double)r->events / r->wall_s : NAN),
                    msim__fmt_count(att, sizeof att, (double)r->attempts),
                    msim__fmt_count(peak, sizeof peak, (double)r->attempts_alive_peak));
}

static void verdict(msim_buf *out, const msim_result *r, int colour)
{
    const msim_verdict *v = &r->verdict;
    char name[32];
    snprintf(name, sizeof name, "%s", msim_verdict_name(v->kind));
    for (char *p = name; *p; p++)
        if (*p >= 'a' && *p <= 'z') *p = (char)(*p - 'a' + 'A');
    msim_buf_printf(out, "%sVERDICT: %s%s — %s\n", colour ? verdict_colour(v->kind) : "", name,
                    colour ? C_RESET : "", v->reason);
    if (v->nsignals) {
        msim_buf_printf(out, "  %s:\n", v->kind == MSIM_VERDICT_RECOVERED ? "seen during the trigger"
                                                                           : "sustaining signals");
        for (size_t i = 0; i < v->nsignals; i++)
            msim_buf_printf(out, "    · %s\n", v->signals[i].text);
    }
    msim_buf_printf(out, "\n");
}

/* ---- the phase table ---------------------------------------------------------------- */

typedef const char *(*cell_fn)(char *, size_t, const msim_figures *);

#define CELL(name, expr)                                                                           \
    static const char *name(char *b, size_t n, const msim_figures *f)                              \
    {                                                                                              \
        return expr;                                                                               \
    }
CELL(c_offered, msim__fmt_count(b, n, f->offered_rps))
CELL(c_goodput, msim__fmt_count(b, n, f->goodput_rps))
CELL(c_amp, (snprintf(b, n, isnan(f->amplification) ? "-" : "%.2f", f->amplification), b))
CELL(c_timeouts, msim__fmt_count(b, n, f->timeouts_rps))
CELL(c_rejected, msim__fmt_count(b, n, f->rejected_rps))
CELL(c_failed, msim__fmt_count(b, n, f->failed_rps))
CELL(c_wasted, msim__fmt_pct(b, n, f->wasted_share))
CELL(c_util, msim__fmt_pct(b, n, f->utilisation))
CELL(c_p50, msim__fmt_secs(b, n, f->p50_s))
CELL(c_p99, msim__fmt_secs(b, n, f->p99_s))

static const char *c_queue(char *b, size_t n, const msim_figures *f)
{
    char m[24], x[24];
    snprintf(b, n, "%s / %s", msim__fmt_count(m, sizeof m, f->queue_mean),
             msim__fmt_count(x, sizeof x, f->queue_max));
    return b;
}

static void phase_table(msim_buf *out, const msim_result *r)
{
    static const struct {
        const char *label;
        cell_fn fn;
    } rows[] = {
        {"offered/s", c_offered},     {"goodput/s", c_goodput},     {"attempts/request", c_amp},
        {"timeouts/s", c_timeouts},   {"rejected/s", c_rejected},   {"failed/s", c_failed},
        {"wasted work", c_wasted},    {"utilisation", c_util},      {"queue mean / max", c_queue},
        {"latency p50", c_p50},       {"latency p99", c_p99},
    };
    const msim_phase phases[] = {MSIM_PHASE_BEFORE, MSIM_PHASE_DURING, MSIM_PHASE_AFTER};
    msim_buf_printf(out, "  %-18s", "");
    for (int p = 0; p < 3; p++)
        msim_buf_printf(out, "%14s", msim_phase_name(phases[p]));
    msim_buf_printf(out, "\n  %-18s", "span");
    for (int p = 0; p < 3; p++) {
        uint32_t w0, w1;
        msim_result_phase_windows(r, phases[p], &w0, &w1);
        char a[24], b[24], span[52] = "-";
        if (w1 > w0)
            snprintf(span, sizeof span, "%s-%s", msim__fmt_secs(a, sizeof a, msim_time_to_s((msim_time)w0 * r->window)),
                     msim__fmt_secs(b, sizeof b, fmin(msim_time_to_s((msim_time)w1 * r->window), msim_time_to_s(r->horizon))));
        msim_buf_printf(out, "%14s", span);
    }
    msim_buf_printf(out, "\n");
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        msim_buf_printf(out, "  %-18s", rows[i].label);
        for (int p = 0; p < 3; p++) {
            char b[48];
            const msim_figures *f = &r->phase[phases[p]];
            msim_buf_printf(out, "%14s", f->seconds > 0 ? rows[i].fn(b, sizeof b, f) : "-");
        }
        msim_buf_printf(out, "\n");
    }
    msim_buf_printf(out, "\n");
}

/* Goodput and offered load per second, per window, for the chart. */
static void chart_of_result(msim_buf *out, const msim_result *r, const msim_text_options *o)
{
    double *good = malloc((r->nwin + 1) * sizeof *good), *off = malloc((r->nwin + 1) * sizeof *off);
    if (good && off) {
        for (uint32_t w = 0; w < r->nwin; w++) {
            msim_time t0 = (msim_time)w * r->window;
            double len = msim_time_to_s((t0 + r->window < r->horizon ? t0 + r->window : r->horizon) - t0);
            good[w] = r->goodput[w] / len;
            off[w] = r->offered[w] / len;
        }
        msim_chart c = {r->scenario, r->horizon, r->nwin, good, off, o->chart_width, o->chart_height};
        msim__chart(out, &c);
    }
    free(good);
    free(off);
}

void msim_report_text(const msim_result *r, const msim_text_options *opt, msim_buf *out)
{
    msim_text_options o = opt ? *opt : (msim_text_options){0};
    header(out, r);
    verdict(out, r, o.color);
    phase_table(out, r);
    if (!o.no_chart) chart_of_result(out, r, &o);
    msim_buf_printf(out, "requests: %llu started, %llu succeeded, %llu failed, %llu in flight at the end\n",
                    (unsigned long long)r->requests, (unsigned long long)r->succeeded,
                    (unsigned long long)r->failed, (unsigned long long)r->in_flight);
}
