/* cmd_sweep.c — `metasim sweep`. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "options.h"

int cmd_sweep(int argc, char **argv)
{
    options o = {0};
    msim_scenario *sc = NULL;
    msim_sweep *sw = NULL;
    msim_sweep_result *res = NULL;
    msim_error err = {0};
    int rc = parse_options(CMD_SWEEP, argc, argv, &o);
    if (!rc) rc = load_scenario(&o, &sc);
    if (!rc && msim_sweep_parse(sc, o.vary, o.nvary, o.has_replicas ? o.replicas : 0, &sw, &err))
        rc = report_error(&err);
    char dir[1024];
    if (!rc) snprintf(dir, sizeof dir, "%s", o.out_dir ? o.out_dir : "sweep-out");
    if (!rc) {
        progress pr;
        progress_start(&pr, "replicas");
        msim_sweep_options so = {.jobs = o.jobs, .seed = o.seed, .use_seed = o.has_seed, .out_dir = dir,
                                 .resume = o.resume, .progress = progress_update, .progress_ud = &pr};
        if (msim_sweep_run(sc, sw, &so, &res, &err)) rc = report_error(&err);
        progress_end(&pr);
    }
    if (!rc) {
        msim_buf out = {0};
        msim_report_sweep_text(res, dir, &out);
        rc = emit(&out);
    }
    msim_sweep_result_free(res);
    msim_sweep_free(sw);
    msim_scenario_free(sc);
    free_options(&o);
    return rc;
}

