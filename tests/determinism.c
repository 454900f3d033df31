/* determinism.c — same scenario and seed, same bytes; whatever runs beside it.
 *
 * Also common random numbers: a component's draws depend only on (seed,
 * replica, its name, the purpose), so adding an unrelated component leaves
 * every other component's history unchanged. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "suites.h"

static int outputs(test_ctx *t, const char *path, const msim_override *ov, size_t nov, uint64_t replica,
                   msim_buf *json, msim_buf *csv)
{
    msim_scenario *sc = NULL;
    msim_error err = {0};
    char buf[1400];
    if (msim_scenario_load(path, ov, nov, &sc, &err)) {
        test_fail(t, __FILE__, __LINE__, "%s", msim_error_format(&err, buf, sizeof buf));
        return -1;
    }
    msim_result *r = NULL;
    msim_run_options opt = {.replica = replica};
    int rc = msim_run(sc, &opt, &r, &err);
    if (!rc) {
        msim_report_json(r, json);
        if (csv) msim_report_csv(r, csv);
    } else {
        test_fail(t, __FILE__, __LINE__, "%s", msim_error_format(&err, buf, sizeof buf));
    }
    msim_result_free(r);
    msim_scenario_free(sc);
    return rc;
}

static bool same(const msim_buf *a, const msim_buf *b)
{
    return a->len == b->len && a->len > 0 && memcmp(a->data, b->data, a->len) == 0;
}

static void same_seed_same_bytes(test_ctx *t)
{
    msim_buf j1 = {0}, j2 = {0}, c1 = {0}, c2 = {0}, j3 = {0};
    if (outputs(t, "examples/retry-storm.yaml", NULL, 0, 0, &j1, &c1) ||
        outputs(t, "examples/retry-storm.yaml", NULL, 0, 0, &j2, &c2) ||
        outputs(t, "examples/retry-storm.yaml", NULL, 0, 1, &j3, NULL))
        goto done;
    CHECK(same(&j1, &j2));
    CHECK(same(&c1, &c2));
    CHECK_MSG(!same(&j1, &j3), "replica 1 should draw different numbers");
done:
    msim_buf_free(&j1), msim_buf_free(&j2), msim_buf_free(&c1), msim_buf_free(&c2), msim_buf_free(&j3);
}

/* The CLI's output files too: two runs into two directories, byte for byte. */
static void cli_outputs_are_identical(test_ctx *t)
{
    char d1[] = "/tmp/metasim-det-XXXXXX", d2[] = "/tmp/metasim-det-XXXXXX";
    CHECK(mkdtemp(d1) && mkdtemp(d2));
    const char *a1[] = {"run", "examples/goodput-collapse.yaml", "--out", d1, "-q", NULL};
    const char *a2[] = {"run", "examples/goodput-collapse.yaml", "--out", d2, "-q", NULL};
    char *o, *e;
    CHECK(test_exec(t, a1, NULL, &o, &e) == 0);
    free(o), free(e);
    CHECK(test_exec(t, a2, NULL, &o, &e) == 0);
    free(o), free(e);
    const char *files[] = {"summary.json", "timeseries.csv"};
    for (int i = 0; i < 2; i++) {
        char p1[256], p2[256];
        snprintf(p1, sizeof p1, "%s/%s", d1, files[i]);
        snprintf(p2, sizeof p2, "%s/%s", d2, files[i]);
        char *x = test_read_file(p1), *y = test_read_file(p2);
        bool ok = x && y && strlen(x) > 100 && strcmp(x, y) == 0;
        free(x), free(y);
        unlink(p1), unlink(p2);
        CHECK_MSG(ok, "%s differs between two identical runs", files[i]);
    }
    rmdir(d1), rmdir(d2);
}

typedef struct job {
    test_ctx *t;
    msim_buf json;
    int rc;
} job;

static void *run_job(void *arg)
{
    job *j = arg;
    j->rc = outputs(j->t, "examples/retry-storm-fewer-attempts.yaml", NULL, 0, 0, &j->json, NULL);
    return NULL;
}

/* Runs share nothing: two at once in threads give what one alone gives. */
static void parallel_runs_match_serial(test_ctx *t)
{
    job serial = {.t = t}, a = {.t = t}, b = {.t = t};
    run_job(&serial);
    pthread_t ta, tb;
    pthread_create(&ta, NULL, run_job, &a);
    pthread_create(&tb, NULL, run_job, &b);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    if (!serial.rc && !a.rc && !b.rc) {
        CHECK(same(&serial.json, &a.json));
        CHECK(same(&serial.json, &b.json));
    }
    msim_buf_free(&serial.json), msim_buf_free(&a.json), msim_buf_free(&b.json);
}

/* Adding an unrelated client and service does not change the draws of the
 * existing ones: same arrivals, same outcomes, window by window. */
static void unrelated_components_do_not_disturb(test_ctx *t)
{
    const char *base =
        "duration: 30s\nclients:\n  web: {target: api, rate: 300/s, timeout: 50ms, retry: {max_attempts: 3}}\n"
        "services:\n  api: {workers: 4, service_time: exponential(mean=10ms), routing: p2c, replicas: 2}\n";
    char more[1024];
    snprintf(more, sizeof more, "%s%s", base,
             "  other: {service_time: \"lognormal(median=3ms, sigma=1)\"}\n"
             "triggers: [{kind: load, target: batch, at: 15s, duration: 5s, factor: 3}]\n");
    /* the extra client goes in its section: rebuild the text with it */
    char with[1400];
    const char *svc = strstr(more, "services:");
    snprintf(with, sizeof with, "%.*s  batch: {target: other, rate: 50/s}\n%s", (int)(svc - more), more, svc);
    msim_result *r1 = test_run_text(t, base, NULL, 0, 0);
    msim_result *r2 = test_run_text(t, with, NULL, 0, 0);
    if (r1 && r2) {
        const char *cols[][2] = {{"web", "offered"}, {"web", "successes"}, {"web", "attempts"}, {"api", "work"}};
        for (int k = 0; k < 4; k++) {
            int c1 = msim_result_column(r1, cols[k][0], cols[k][1]);
            int c2 = msim_result_column(r2, cols[k][0], cols[k][1]);
            CHECK(c1 >= 0 && c2 >= 0);
            for (uint32_t w = 0; w < r1->nwin; w++)
                CHECK_MSG(msim_result_at(r1, w, c1) == msim_result_at(r2, w, c2), "%s.%s differs in window %u",
                          cols[k][0], cols[k][1], w);
        }
    }
    test_done(r1);
    test_done(r2);
}

const test_case determinism_tests[] = {
    {"determinism_same_seed_same_bytes", same_seed_same_bytes, TIER_QUICK},
    {"determinism_cli_outputs_are_identical", cli_outputs_are_identical, TIER_QUICK},
    {"determinism_parallel_runs_match_serial", parallel_runs_match_serial, TIER_QUICK},
    {"determinism_unrelated_components_do_not_disturb", unrelated_components_do_not_disturb, TIER_QUICK},
    {NULL, NULL, 0},
};
