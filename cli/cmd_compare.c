/* cmd_compare.c — `metasim search`, `metasim compare`, `metasim diagnose`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "options.h"

static msim_set_options set_options(const options *o, progress *pr)
{
    return (msim_set_options){.replicas = o->has_replicas ? o->replicas : 50, .jobs = o->jobs, .seed = o->seed,
                              .use_seed = o->has_seed, .progress = pr && pr->active ? progress_update : NULL,
                              .progress_ud = pr};
}

/* Print (and with --out, also write) a report in text or JSON. */
static int finish(const options *o, msim_buf *text, msim_buf *json, const char *file)
{
    int rc = 0;
    if (o->out_dir) {
        msim_error err = {0};
        const msim_buf *bufs[] = {json};
        const char *names[] = {file};
        if (msim_write_dir_files(o->out_dir, names, bufs, 1, &err)) rc = report_error(&err);
    }
    if (!rc) rc = emit(o->json ? json : text);
    msim_buf_free(text);
    msim_buf_free(json);
    return rc;
}

int cmd_search(int argc, char **argv)
{
    options o = {0};
    msim_scenario *sc = NULL;
    int rc = parse_options(CMD_SEARCH, argc, argv, &o);
    if (!rc && (!o.param || !o.range)) rc = usage_error("search needs --param PATH and --range LO..HI");
    if (!rc) rc = load_scenario(&o, &sc);
    if (!rc) {
        msim_error err = {0};
        double tol = o.tolerance ? strtod(o.tolerance, NULL) : 0;
        msim_search_options so = {.range = o.range, .level = o.level, .tolerance = tol, .max_probes = o.max_probes};
        msim_set_options set = set_options(&o, NULL);
        msim_search_result *r = calloc(1, sizeof *r);
        if (!r || msim_search(sc, o.param, (msim_verdict_kind)o.verdict, &so, &set, r, &err)) {
            rc = r ? report_error(&err) : EXIT_RUNTIME;
        } else {
            msim_buf text = {0}, json = {0};
            msim_report_search_text(r, o.param, (msim_verdict_kind)o.verdict, o.level, &text);
            msim_report_search_json(r, o.param, (msim_verdict_kind)o.verdict, o.level, &json);
            rc = finish(&o, &text, &json, "search.json");
        }
        free(r);
    }
    msim_scenario_free(sc);
    free_options(&o);
    return rc;
}

static int report_comparison(const options *o, msim_comparison *c, const char *file)
{
    msim_buf text = {0}, json = {0};
    msim_report_comparison_text(c, &text);
    msim_report_comparison_json(c, &json);
    return finish(o, &text, &json, file);
}

int cmd_compare(int argc, char **argv)
{
    options o = {0};
    msim_scenario *sc = NULL;
    msim_variant v[MAX_LIST];
    char *texts[MAX_LIST] = {0};
    msim_error err = {0};
    int rc = parse_options(CMD_COMPARE, argc, argv, &o);
    if (!rc && !o.nvariants) rc = usage_error("compare needs at least one --variant NAME:PATH=VALUE");
    for (size_t i = 0; !rc && i < o.nvariants; i++) {
        texts[i] = strdup(o.variants[i]);
        if (!texts[i] || msim_variant_parse(texts[i], &v[i], &err)) rc = report_error(&err);
    }
    if (!rc) rc = load_scenario(&o, &sc);
    if (!rc) {
        progress pr;
        progress_start(&pr, "replica sets");
        msim_set_options set = set_options(&o, NULL);
        msim_comparison *c = NULL;
        if (msim_compare(sc, v, o.nvariants, &set, &c, &err))
            rc = report_error(&err);
        else
            rc = report_comparison(&o, c, "compare.json");
        msim_comparison_free(c);
    }
    for (size_t i = 0; i < o.nvariants; i++)
        free(texts[i]);
    msim_scenario_free(sc);
    free_options(&o);
    return rc;
}

int cmd_diagnose(int argc, char **argv)
{
    options o = {0};
    msim_scenario *sc = NULL;
    int rc = parse_options(CMD_DIAGNOSE, argc, argv, &o);
    if (!rc) rc = load_scenario(&o, &sc);
    if (!rc) {
        msim_error err = {0};
        msim_set_options set = set_options(&o, NULL);
        msim_comparison *c = NULL;
        if (msim_diagnose(sc, &set, &c, &err))
            rc = report_error(&err);
        else
            rc = report_comparison(&o, c, "diagnose.json");
        msim_comparison_free(c);
    }
    msim_scenario_free(sc);
    free_options(&o);
    return rc;
}
