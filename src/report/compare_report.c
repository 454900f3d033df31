/* compare_report.c — comparisons, diagnoses and searches, in the terminal and
 * as JSON ("metasim-compare/1", "metasim-search/1"; docs/output.md). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "jw.h"

static const char *pct_ci(char *buf, size_t size, const msim_set *s, msim_verdict_kind v)
{
    snprintf(buf, size, "%.0f%% [%.0f, %.0f]", 100 * s->p[v], 100 * s->lo[v], 100 * s->hi[v]);
    return buf;
}

void msim_report_comparison_text(const msim_comparison *c, msim_buf *out)
{
    const msim_set *s0 = c->sets[0];
    msim_buf_printf(out, "%s: %s · %zu replicas per variant, the same seeds for all (common random numbers)\n\n",
                    c->title, s0->scenario->name, s0->n);
    msim_buf_printf(out, "  %-34s %-16s %-16s %-8s %9s %9s %8s %7s %7s\n", "variant", "metastable %",
                    "recovered %", "osc. %", "recovery", "goodput", "attempts", "wasted", "queue");
    msim_buf_printf(out, "  %-34s %-16s %-16s %-8s %9s %9s %8s %7s %7s\n", "", "[95% interval]", "[95% interval]",
                    "", "p50", "after/s", "/request", "after", "max");
    for (size_t i = 0; i < c->n; i++) {
        const msim_set *s = c->sets[i];
        const msim_figure_spreads *a = &s->phase[MSIM_PHASE_AFTER];
        char m[48], r[48], rec[24], good[24], qmax[24];
        msim_buf_printf(out, "  %-34.34s %-16s %-16s %-8.0f %9s %9s %8.2f %6.0f%% %7s\n", c->variants[i].name,
                        pct_ci(m, sizeof m, s, MSIM_VERDICT_METASTABLE), pct_ci(r, sizeof r, s, MSIM_VERDICT_RECOVERED),
                        100 * s->p[MSIM_VERDICT_OSCILLATING], msim__fmt_secs(rec, sizeof rec, s->recovery_s.p50),
                        msim__fmt_count(good, sizeof good, a->goodput_rps.p50), a->amplification.p50,
                        100 * a->wasted_share.p50, msim__fmt_count(qmax, sizeof qmax, a->queue_max.p50));
    }
    if (c->verdict_text[0]) msim_buf_printf(out, "\n%s\n", c->verdict_text);
}

void msim_report_comparison_json(const msim_comparison *c, msim_buf *out)
{
    jw w = {.out = out};
    msim__jw_open(&w, NULL, '{');
    msim__jw_str(&w, "format", "metasim-compare/1");
    msim__jw_str(&w, "kind", c->title);
    msim__jw_str(&w, "scenario", c->sets[0]->scenario->name);
    msim__jw_num(&w, "replicas", (double)c->sets[0]->n);
    msim__jw_num(&w, "seed", (double)c->sets[0]->seed);
    msim__jw_open(&w, "variants", '[');
    for (size_t i = 0; i < c->n; i++) {
        const msim_set *s = c->sets[i];
        const msim_variant *v = &c->variants[i];
        msim__jw_open(&w, NULL, '{');
        msim__jw_str(&w, "name", v->name);
        msim__jw_open(&w, "overrides", '{');
        for (size_t k = 0; k < v->noverrides; k++)
            msim__jw_str(&w, v->overrides[k].path, v->overrides[k].value);
        msim__jw_close(&w, '}');
        msim__jw_open(&w, "verdicts", '{');
        for (int k = 0; k < MSIM_VERDICT_COUNT; k++) {
            msim__jw_open(&w, msim_verdict_name((msim_verdict_kind)k), '{');
            msim__jw_num(&w, "count", (double)s->count[k]);
            msim__jw_num(&w, "p", s->p[k]);
            msim__jw_num(&w, "lo", s->lo[k]);
            msim__jw_num(&w, "hi", s->hi[k]);
            msim__jw_close(&w, '}');
        }
        msim__jw_close(&w, '}');
        msim__jw_num(&w, "recovery_p50_s", s->recovery_s.p50);
        const msim_figure_spreads *a = &s->phase[MSIM_PHASE_AFTER];
        msim__jw_num(&w, "goodput_after_rps", a->goodput_rps.p50);
        msim__jw_num(&w, "amplification_after", a->amplification.p50);
        msim__jw_num(&w, "wasted_share_after", a->wasted_share.p50);
        msim__jw_num(&w, "queue_max_after", a->queue_max.p50);
        msim__jw_close(&w, '}');
    }
    msim__jw_close(&w, ']');
    if (c->verdict_text[0]) msim__jw_str(&w, "diagnosis", c->verdict_text);
    msim__jw_close(&w, '}');
    msim_buf_printf(out, "\n");
}

void msim_report_search_text(const msim_search_result *r, const char *path, msim_verdict_kind v, double level,
                             msim_buf *out)
{
    msim_buf_printf(out, "search: where P(%s) crosses %.0f%% as %s varies\n\n", msim_verdict_name(v), 100 * level,
                    path);
    msim_buf_printf(out, "  %-6s %-14s %-26s %s\n", "probe", "value", "P [95% interval]", "replicas");
    for (size_t i = 0; i < r->nprobes; i++) {
        const msim_probe *p = &r->probes[i];
        char ci[48];
        snprintf(ci, sizeof ci, "%.1f%% [%.1f%%, %.1f%%]", 100 * p->p, 100 * p->lo, 100 * p->hi);
        msim_buf_printf(out, "  %-6zu %-14s %-26s %zu%s\n", i + 1, p->value, ci, p->n,
                        (int)i == r->below || (int)i == r->above ? "   <- bracket" : "");
    }
    msim_buf_printf(out, "\n%s\n", r->reason);
}

void msim_report_search_json(const msim_search_result *r, const char *path, msim_verdict_kind v, double level,
                             msim_buf *out)
{
    jw w = {.out = out};
    msim__jw_open(&w, NULL, '{');
    msim__jw_str(&w, "format", "metasim-search/1");
    msim__jw_str(&w, "param", path);
    msim__jw_str(&w, "verdict", msim_verdict_name(v));
    msim__jw_num(&w, "level", level);
    msim__jw_num(&w, "found", r->found);
    if (r->found) {
        msim__jw_str(&w, "below", r->probes[r->below].value);
        msim__jw_str(&w, "above", r->probes[r->above].value);
        msim__jw_num(&w, "estimate", r->estimate);
        msim__jw_str(&w, "unit", r->unit);
    }
    msim__jw_str(&w, "reason", r->reason);
    msim__jw_open(&w, "probes", '[');
    for (size_t i = 0; i < r->nprobes; i++) {
        const msim_probe *p = &r->probes[i];
        msim__jw_open(&w, NULL, '{');
        msim__jw_str(&w, "value", p->value);
        msim__jw_num(&w, "k", (double)p->k);
        msim__jw_num(&w, "n", (double)p->n);
        msim__jw_num(&w, "p", p->p);
        msim__jw_num(&w, "lo", p->lo);
        msim__jw_num(&w, "hi", p->hi);
        msim__jw_close(&w, '}');
    }
    msim__jw_close(&w, ']');
    msim__jw_close(&w, '}');
    msim_buf_printf(out, "\n");
}
