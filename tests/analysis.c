/* analysis.c — replica sets, sweeps, search, compare and diagnose: the
 * statistics, determinism across threads, the bisection on a synthetic
 * monotone case, and a sweep killed and resumed. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "suites.h"

/* ---- statistics ------------------------------------------------------------------ */

static void wilson_known_values(test_ctx *t)
{
    /* reference values from the closed form (Wilson 1927), z = 1.96 */
    double lo, hi;
    msim_wilson(0, 10, &lo, &hi);
    CHECK(lo == 0);
    CHECK_NEAR(hi, 0.27753, 1e-4);
    msim_wilson(5, 10, &lo, &hi);
    CHECK_NEAR(lo, 0.23659, 1e-4);
    CHECK_NEAR(hi, 0.76341, 1e-4);
    msim_wilson(93, 100, &lo, &hi);
    CHECK_NEAR(lo, 0.86250, 1e-4);
    CHECK_NEAR(hi, 0.96567, 1e-4);
    msim_wilson(10, 10, &lo, &hi);
    CHECK(hi == 1);
    CHECK_NEAR(lo, 0.72247, 1e-4);
}

static void quantiles_interpolate(test_ctx *t)
{
    double v[] = {5, 1, 4, 2, 3};
    CHECK_NEAR(msim_quantile(v, 5, 0.5), 3, 1e-12);
    CHECK_NEAR(msim_quantile(v, 5, 0.1), 1.4, 1e-12); /* type 7: 1 + 0.4 x (2 - 1) */
    CHECK_NEAR(msim_quantile(v, 5, 1), 5, 1e-12);
    CHECK(isnan(msim_quantile(v, 0, 0.5)));
}

/* ---- determinism across threads ----------------------------------------------------------- */

static const char *small_storm =
    "scenario: small-storm\nduration: 90s\nverdict: {warmup: 5s, hold: 10s, observe: 20s}\n"
    "clients:\n  web: {target: api, rate: 600/s, timeout: 500ms, retry: {max_attempts: 4}}\n"
    "services:\n  api: {workers: 8, queue: {capacity: 2000}, service_time: exponential(mean=6ms)}\n"
    "triggers: [{kind: capacity, target: api, at: 30s, duration: 8s, speed_factor: 0.2}]\n";

static int set_outputs(test_ctx *t, unsigned jobs, msim_buf *json, msim_buf *csv)
{
    msim_scenario *sc = NULL;
    msim_error err = {0};
    if (msim_scenario_parse(small_storm, strlen(small_storm), "small", NULL, 0, &sc, &err)) return -1;
    msim_set_options so = {.replicas = 12, .jobs = jobs};
    msim_set *s = NULL;
    int rc = msim_run_set(sc, &so, &s, &err);
    if (!rc) {
        msim_report_set_json(s, json);
        msim_report_set_csv(s, csv);
    } else {
        test_fail(t, __FILE__, __LINE__, "%s", err.msg);
    }
    msim_set_free(s);
    msim_scenario_free(sc);
    return rc;
}

static void sets_are_identical_for_any_jobs(test_ctx *t)
{
    msim_buf j1 = {0}, c1 = {0}, j2 = {0}, c2 = {0}, j3 = {0}, c3 = {0};
    if (!set_outputs(t, 1, &j1, &c1) && !set_outputs(t, 2, &j2, &c2) && !set_outputs(t, 5, &j3, &c3)) {
        CHECK(j1.len > 100 && j1.len == j2.len && memcmp(j1.data, j2.data, j1.len) == 0);
        CHECK(c1.len > 100 && c1.len == c2.len && memcmp(c1.data, c2.data, c1.len) == 0);
        CHECK(j1.len == j3.len && memcmp(j1.data, j3.data, j1.len) == 0);
    }
    msim_buf_free(&j1), msim_buf_free(&c1), msim_buf_free(&j2), msim_buf_free(&c2);
    msim_buf_free(&j3), msim_buf_free(&c3);
}

/* ---- search ----------------------------------------------------------------------------------- */

typedef struct synthetic {
    double x0, width;
    int increasing;
    msim_rng rng;
} synthetic;

/* 200 Bernoulli draws of a logistic probability centred on x0. */
static int synthetic_probe(void *ctx, double x, const char *value, size_t *k, size_t *n, msim_error *err)
{
    (void)value, (void)err;
    synthetic *s = ctx;
    double z = (x - s->x0) / s->width, p = 1 / (1 + exp(s->increasing ? -z : z));
    *n = 200;
    *k = 0;
    for (size_t i = 0; i < *n; i++)
        *k += msim_rng_u01(&s->rng) < p;
    return 0;
}

static void bisection_converges_on_a_monotone_case(test_ctx *t)
{
    for (int inc = 0; inc < 2; inc++) {
        synthetic s = {.x0 = 7.3, .width = 0.3, .increasing = inc};
        msim_rng_seed(&s.rng, 11 + (uint64_t)inc);
        msim_search_options o = {.range = "0s..20s", .level = 0.5, .tolerance = 0.05, .max_probes = 20};
        msim_search_result r;
        msim_error err = {0};
        CHECK(msim_bisect(&o, synthetic_probe, &s, &r, &err) == 0);
        CHECK(r.found && r.increasing == inc);
        double a = r.probes[r.below].x, b = r.probes[r.above].x;
        CHECK_MSG(fabs(a - b) <= 0.05 + 1e-9, "bracket %.3f..%.3f", a, b);
        CHECK_MSG(fabs(r.estimate - 7.3) < 0.15, "estimate %.3f, true 7.3", r.estimate);
        CHECK(strcmp(r.unit, "s") == 0);
    }
    /* a level outside the range's probabilities: no crossing, said so */
    synthetic s = {.x0 = 50, .width = 0.3, .increasing = 1};
    msim_rng_seed(&s.rng, 3);
    msim_search_options o = {.range = "0s..20s", .level = 0.5};
    msim_search_result r;
    msim_error err = {0};
    CHECK(msim_bisect(&o, synthetic_probe, &s, &r, &err) == 0);
    CHECK(!r.found && r.nprobes == 2 && strstr(r.reason, "no crossing"));
}

/* ---- compare and diagnose --------------------------------------------------------------------- */

static void variants_parse_flow_values(test_ctx *t)
{
    char text[] = "gentle:clients.web.retry.backoff={kind: exponential, base: 1s},clients.web.timeout=2s";
    msim_variant v;
    msim_error err = {0};
    CHECK(msim_variant_parse(text, &v, &err) == 0);
    CHECK(strcmp(v.name, "gentle") == 0 && v.noverrides == 2);
    CHECK(strcmp(v.overrides[0].path, "clients.web.retry.backoff") == 0);
    CHECK(strcmp(v.overrides[0].value, "{kind: exponential, base: 1s}") == 0);
    CHECK(strcmp(v.overrides[1].value, "2s") == 0);
    char bad[] = "no-colon";
    CHECK(msim_variant_parse(bad, &v, &err) != 0);
}

static void diagnose_names_the_retries(test_ctx *t)
{
    msim_scenario *sc = NULL;
    msim_error err = {0};
    CHECK(msim_scenario_parse(small_storm, strlen(small_storm), "small", NULL, 0, &sc, &err) == 0);
    msim_set_options so = {.replicas = 6, .jobs = 2};
    msim_comparison *c = NULL;
    int rc = msim_diagnose(sc, &so, &c, &err);
    if (rc) msim_scenario_free(sc);
    CHECK_MSG(rc == 0, "%s", err.msg);
    CHECK_MSG(c->sets[0]->p[MSIM_VERDICT_METASTABLE] >= 0.5, "the base must fail: %.2f",
              c->sets[0]->p[MSIM_VERDICT_METASTABLE]);
    bool retries = false;
    for (size_t i = 1; i < c->n; i++)
        if (strcmp(c->variants[i].name, "web.retries") == 0)
            retries = c->sets[i]->p[MSIM_VERDICT_RECOVERED] + c->sets[i]->p[MSIM_VERDICT_STABLE] >= 0.5;
    CHECK(retries && c->diagnosed >= 1 && strstr(c->verdict_text, "web.retries"));
    msim_comparison_free(c);
    msim_scenario_free(sc);
}

/* A variant that changes only the service leaves the client's arrivals as
 * they were: common random numbers. */
static void variants_share_arrivals(test_ctx *t)
{
    msim_override ov = {"services.api.workers", "4"};
    msim_result *a = test_run_text(t, small_storm, NULL, 0, 3);
    msim_result *b = test_run_text(t, small_storm, &ov, 1, 3);
    if (a && b) {
        int ca = msim_result_column(a, "web", "offered"), cb = msim_result_column(b, "web", "offered");
        for (uint32_t w = 0; w < a->nwin; w++)
            CHECK(msim_result_at(a, w, ca) == msim_result_at(b, w, cb));
        CHECK(test_total(a, "web", "successes") != test_total(b, "web", "successes"));
    }
    test_done(a);
    test_done(b);
}

/* ---- sweeps: kill, resume, same bytes ----------------------------------------------------------- */

static char *write_temp_scenario(char *dir_template)
{
    if (!mkdtemp(dir_template)) return NULL;
    static char path[256];
    snprintf(path, sizeof path, "%s/storm.yaml", dir_template);
    FILE *f = fopen(path, "w");
    if (!f) return NULL;
    fputs(small_storm, f);
    fputs("sweep: {replicas: 3, vary: {clients.web.rate: [300/s, 500/s, 700/s], "
          "\"triggers[0].duration\": \"2s..8s:step=2s\"}}\n", f);
    fclose(f);
    return path;
}

static size_t count_lines(const char *path)
{
    char *text = test_read_file(path);
    size_t n = 0;
    for (char *p = text; p && *p; p++)
        n += *p == '\n';
    free(text);
    return n;
}

static void sweep_resumes_after_a_kill(test_ctx *t)
{
    char dir[] = "/tmp/metasim-sweep-XXXXXX";
    const char *scenario = write_temp_scenario(dir);
    CHECK(scenario);
    char whole[300], cut[300], csv_whole[340], csv_cut[340];
    snprintf(whole, sizeof whole, "%s/whole", dir);
    snprintf(cut, sizeof cut, "%s/cut", dir);
    snprintf(csv_whole, sizeof csv_whole, "%s/sweep.csv", whole);
    snprintf(csv_cut, sizeof csv_cut, "%s/sweep.csv", cut);
    const char *full[] = {"sweep", scenario, "--out", whole, "--jobs", "2", NULL};
    char *o, *e;
    CHECK(test_exec(t, full, NULL, &o, &e) == 0);
    free(o), free(e);
    /* the same sweep, killed once some points are on disk */
    pid_t pid = fork();
    if (pid == 0) {
        execl(t->bin, t->bin, "sweep", scenario, "--out", cut, "--jobs", "1", (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 3000 && count_lines(csv_cut) < 4; i++)
        nanosleep(&(struct timespec){0, 2000000}, NULL);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    size_t kept = count_lines(csv_cut);
    CHECK_MSG(kept >= 2 && kept < 13, "killed with %zu lines", kept);
    /* a torn last line, as a kill mid-write would leave */
    FILE *f = fopen(csv_cut, "a");
    fputs("7,deadbeef,500/s,4s,3,0.1", f);
    fclose(f);
    const char *resume[] = {"sweep", scenario, "--out", cut, "--resume", "--jobs", "2", NULL};
    CHECK(test_exec(t, resume, NULL, &o, &e) == 0);
    CHECK_MSG(strstr(o, "resumed"), "%s", o);
    free(o), free(e);
    char *a = test_read_file(csv_whole), *b = test_read_file(csv_cut);
    bool same = a && b && strcmp(a, b) == 0 && count_lines(csv_whole) == 13;
    free(a), free(b);
    CHECK_MSG(same, "the resumed sweep.csv differs from the uninterrupted one");
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
}

const test_case analysis_tests[] = {
    {"analysis_wilson_known_values", wilson_known_values, TIER_QUICK},
    {"analysis_quantiles_interpolate", quantiles_interpolate, TIER_QUICK},
    {"analysis_sets_are_identical_for_any_jobs", sets_are_identical_for_any_jobs, TIER_QUICK},
    {"analysis_bisection_converges_on_a_monotone_case", bisection_converges_on_a_monotone_case, TIER_QUICK},
    {"analysis_variants_parse_flow_values", variants_parse_flow_values, TIER_QUICK},
    {"analysis_variants_share_arrivals", variants_share_arrivals, TIER_QUICK},
    {"analysis_diagnose_names_the_retries", diagnose_names_the_retries, TIER_QUICK},
    {"analysis_sweep_resumes_after_a_kill", sweep_resumes_after_a_kill, TIER_QUICK},
    {NULL, NULL, 0},
};
