/* cmd_run.c — `metasim run` (one run, or a replica set with --replicas) and
 * `metasim check`. */
#include <stdio.h>

#include "commands.h"
#include "options.h"

static int print_single(const options *o, const msim_result *r)
{
    msim_buf out = {0};
    if (o->json) {
        msim_report_json(r, &out);
    } else if (o->quiet) {
        msim_buf_printf(&out, "%s: %s — %s\n", r->scenario->name, msim_verdict_name(r->verdict.kind),
                        r->verdict.reason);
    } else {
        msim_text_options to = {.no_chart = o->no_chart, .color = o->colour};
        msim_report_text(r, &to, &out);
    }
    return emit(&out);
}

static int run_single(const options *o, const msim_scenario *sc)
{
    msim_error err = {0};
    msim_run_options ro = {.seed = o->seed, .use_seed = o->has_seed};
    msim_result *r = NULL;
    if (msim_run(sc, &ro, &r, &err)) {
        report_error(&err);
        return EXIT_RUNTIME;
    }
    int rc = 0;
    if (o->out_dir && msim_write_outputs(r, o->out_dir, &err)) rc = report_error(&err);
    if (!rc) rc = print_single(o, r);
    if (!rc && (o->fail_on & (1u << r->verdict.kind))) rc = EXIT_VERDICT;
    msim_result_free(r);
    return rc;
}

/* The verdict of a replica set for --fail-on: a listed verdict that half the
 * replicas or more reached. */
static int set_fails(const options *o, const msim_set *s)
{
    for (int v = 0; v < MSIM_VERDICT_COUNT; v++)
        if ((o->fail_on & (1u << v)) && s->p[v] >= 0.5) return 1;
    return 0;
}

static int print_set(const options *o, const msim_set *s)
{
    msim_buf out = {0};
    if (o->json) {
        msim_report_set_json(s, &out);
    } else if (o->quiet) {
        msim_buf_printf(&out, "%s:", s->scenario->name);
        for (int v = 0; v < MSIM_VERDICT_COUNT; v++)
            if (s->count[v])
                msim_buf_printf(&out, " %s %.1f%% [%.1f%%, %.1f%%]", msim_verdict_name((msim_verdict_kind)v),
                                100 * s->p[v], 100 * s->lo[v], 100 * s->hi[v]);
        msim_buf_printf(&out, " (%zu replicas)\n", s->n);
    } else {
        msim_text_options to = {.no_chart = o->no_chart, .color = o->colour};
        msim_report_set_text(s, &to, &out);
    }
    return emit(&out);
}

static int run_set(const options *o, const msim_scenario *sc)
{
    msim_error err = {0};
    progress pr;
    progress_start(&pr, "replicas");
    msim_set_options so = {.replicas = o->replicas, .jobs = o->jobs, .seed = o->seed, .use_seed = o->has_seed,
                           .progress = progress_update, .progress_ud = &pr};
    msim_set *s = NULL;
    int rc = msim_run_set(sc, &so, &s, &err);
    progress_end(&pr);
    if (rc) {
        report_error(&err);
        return EXIT_RUNTIME;
    }
    if (o->out_dir && msim_write_set_outputs(s, o->out_dir, &err)) rc = report_error(&err);
    if (!rc) rc = print_set(o, s);
    if (!rc && set_fails(o, s)) rc = EXIT_VERDICT;
    msim_set_free(s);
    return rc;
}

int cmd_run(int argc, char **argv)
{
    options o = {0};
    msim_scenario *sc = NULL;
    int rc = parse_options(CMD_RUN, argc, argv, &o);
    if (!rc) rc = load_scenario(&o, &sc);
    if (!rc) rc = o.has_replicas ? run_set(&o, sc) : run_single(&o, sc);
    msim_scenario_free(sc);
    free_options(&o);
    return rc;
}

int cmd_check(int argc, char **argv)
{
    options o = {0};
    msim_scenario *sc = NULL;
    int rc = parse_options(CMD_CHECK, argc, argv, &o);
    if (!rc) rc = load_scenario(&o, &sc);
    if (!rc) {
        msim_buf out = {0};
        msim_scenario_print(sc, &out);
        rc = emit(&out);
    }
    msim_scenario_free(sc);
    free_options(&o);
    return rc;
}
