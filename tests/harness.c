/* harness.c — helpers shared by the suites: running scenarios from text,
 * reading totals, confidence intervals, running the CLI. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gsl/gsl_cdf.h>

#include "harness.h"

msim_result *test_run_text(test_ctx *t, const char *yaml, const msim_override *ov, size_t nov,
                           uint64_t replica)
{
    msim_scenario *sc = NULL;
    msim_error err = {0};
    char buf[1400];
    if (msim_scenario_parse(yaml, strlen(yaml), t->name, ov, nov, &sc, &err)) {
        test_fail(t, __FILE__, __LINE__, "scenario: %s", msim_error_format(&err, buf, sizeof buf));
        return NULL;
    }
    msim_result *r = NULL;
    msim_run_options opt = {.replica = replica};
    if (msim_run(sc, &opt, &r, &err)) {
        test_fail(t, __FILE__, __LINE__, "run: %s", msim_error_format(&err, buf, sizeof buf));
        msim_scenario_free(sc);
        return NULL;
    }
    return r;
}

msim_result *test_run_file(test_ctx *t, const char *relpath)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", t->root, relpath);
    msim_scenario *sc = NULL;
    msim_error err = {0};
    char buf[1400];
    int rc = msim_scenario_load(path, NULL, 0, &sc, &err);
    msim_result *r = NULL;
    msim_run_options opt = {0};
    if (rc == 0 && msim_run(sc, &opt, &r, &err) != 0) {
        msim_scenario_free(sc);
        rc = -1;
    }
    if (rc) test_fail(t, __FILE__, __LINE__, "%s", msim_error_format(&err, buf, sizeof buf));
    return rc ? NULL : r;
}

typedef struct alloc_budget {
    long calls, fail_at;
} alloc_budget;

static void *failing_realloc(void *ud, void *p, size_t size)
{
    alloc_budget *b = ud;
    if (size == 0) {
        free(p);
        return NULL;
    }
    if (++b->calls == b->fail_at) return NULL;
    return realloc(p, size);
}

/* Run sc with allocation k failing (k = 0: none); *calls gets how many
 * allocations it asked for. When `fails`, it must end in -MSIM_ENOMEM with a
 * message and no result; otherwise succeed. 0 if it did as it should. */
static int run_failing_at(test_ctx *t, const msim_scenario *sc, long k, bool fails, long *calls)
{
    alloc_budget b = {0, k};
    msim_run_options opt = {.alloc = {failing_realloc, &b}};
    msim_result *r = NULL;
    msim_error err = {0};
    int rc = msim_run(sc, &opt, &r, &err);
    *calls = b.calls;
    bool ok = fails ? rc == -MSIM_ENOMEM && r == NULL && err.msg[0]
                    : rc == 0 && r && r->requests == r->succeeded + r->failed + r->in_flight;
    msim_result_free(r);
    if (!ok) test_fail(t, __FILE__, __LINE__, "allocation %ld failing: rc %d (%s)", k, rc, err.msg);
    return ok ? 0 : -1;
}

void test_allocation_failures_are_clean(test_ctx *t, const char *yaml)
{
    msim_scenario *sc = NULL;
    msim_error err = {0};
    char buf[1400];
    if (msim_scenario_parse(yaml, strlen(yaml), t->name, NULL, 0, &sc, &err)) {
        test_fail(t, __FILE__, __LINE__, "scenario: %s", msim_error_format(&err, buf, sizeof buf));
        return;
    }
    long total = 0, calls = 0;
    if (run_failing_at(t, sc, 0, false, &total) == 0 && total <= 10)
        test_fail(t, __FILE__, __LINE__, "only %ld allocations: is the allocator used?", total);
    for (long k = 1; k <= total + 1 && !t->failed; k++)
        run_failing_at(t, sc, k, k <= total, &calls);
    msim_scenario_free(sc);
}

void test_same_bytes_twice(test_ctx *t, const char *yaml)
{
    msim_buf json[2] = {{0}}, csv[2] = {{0}};
    for (int k = 0; k < 2; k++) {
        msim_result *r = test_run_text(t, yaml, NULL, 0, 0);
        if (!r) break;
        msim_report_json(r, &json[k]);
        msim_report_csv(r, &csv[k]);
        test_done(r);
    }
    if (!t->failed && !(json[0].len > 0 && json[0].len == json[1].len &&
                        memcmp(json[0].data, json[1].data, json[0].len) == 0))
        test_fail(t, __FILE__, __LINE__, "summary JSON differs between two identical runs");
    if (!t->failed && !(csv[0].len > 0 && csv[0].len == csv[1].len &&
                        memcmp(csv[0].data, csv[1].data, csv[0].len) == 0))
        test_fail(t, __FILE__, __LINE__, "time series differ between two identical runs");
    for (int k = 0; k < 2; k++)
        msim_buf_free(&json[k]), msim_buf_free(&csv[k]);
}

void test_done(msim_result *r)
{
    if (!r) return;
    msim_scenario *sc = (msim_scenario *)r->scenario;
    msim_result_free(r);
    msim_scenario_free(sc);
}

double test_total(const msim_result *r, const char *component, const char *metric)
{
    int c = msim_result_column(r, component, metric);
    return c < 0 ? -1 : msim_result_sum(r, c, 0, r->nwin);
}

double test_gauge_mean(const msim_result *r, const char *component, const char *metric, uint32_t w0)
{
    int c = msim_result_column(r, component, metric);
    if (c < 0) return NAN;
    double area = 0, len = 0;
    for (uint32_t w = w0; w < r->nwin; w++) {
        msim_time a = (msim_time)w * r->window;
        msim_time b = a + r->window < r->horizon ? a + r->window : r->horizon;
        area += msim_result_at(r, w, c) * msim_time_to_s(b - a);
        len += msim_time_to_s(b - a);
    }
    return len > 0 ? area / len : NAN;
}

void test_ci99(const double *x, size_t n, double *mean, double *half)
{
    double m = 0, v = 0;
    for (size_t i = 0; i < n; i++)
        m += x[i];
    m /= (double)n;
    for (size_t i = 0; i < n; i++)
        v += (x[i] - m) * (x[i] - m);
    v /= (double)(n - 1);
    *mean = m;
    *half = gsl_cdf_tdist_Qinv(0.005, (double)(n - 1)) * sqrt(v / (double)n);
}

char *test_read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t k;
    while (buf && (k = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += k;
        if (cap - len - 1 == 0) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb) {
                free(buf);
                buf = NULL;
            }
            buf = nb;
        }
    }
    fclose(f);
    if (buf) buf[len] = '\0';
    return buf;
}

/* Drain two pipes into two growing buffers until both close. */
static void drain(int fds[2], char *bufs[2])
{
    size_t len[2] = {0, 0}, cap[2] = {0, 0};
    int open_fds = 2;
    while (open_fds) {
        struct pollfd p[2] = {{fds[0], POLLIN, 0}, {fds[1], POLLIN, 0}};
        if (poll(p, 2, -1) < 0 && errno != EINTR) break;
        for (int i = 0; i < 2; i++) {
            if (fds[i] < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            if (cap[i] - len[i] < 4096) {
                cap[i] = cap[i] ? cap[i] * 2 : 8192;
                bufs[i] = realloc(bufs[i], cap[i]);
            }
            ssize_t n = read(fds[i], bufs[i] + len[i], cap[i] - len[i] - 1);
            if (n <= 0) {
                close(fds[i]);
                fds[i] = -1;
                p[i].fd = -1;
                open_fds--;
            } else {
                len[i] += (size_t)n;
            }
        }
    }
    for (int i = 0; i < 2; i++) {
        if (!bufs[i]) bufs[i] = calloc(1, 1);
        else bufs[i][len[i]] = '\0';
    }
}

int test_exec(test_ctx *t, const char *const *argv, const char *cwd, char **out, char **err)
{
    int po[2], pe[2];
    if (pipe(po) || pipe(pe)) return -1;
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        dup2(po[1], 1);
        dup2(pe[1], 2);
        close(po[0]), close(pe[0]), close(po[1]), close(pe[1]);
        if (cwd && chdir(cwd)) _exit(127);
        size_t n = 0;
        while (argv[n])
            n++;
        char **args = calloc(n + 2, sizeof *args);
        args[0] = (char *)t->bin;
        for (size_t i = 0; i < n; i++)
            args[i + 1] = (char *)argv[i];
        execv(t->bin, args);
        _exit(127);
    }
    close(po[1]), close(pe[1]);
    int fds[2] = {po[0], pe[0]};
    char *bufs[2] = {NULL, NULL};
    drain(fds, bufs);
    int status;
    waitpid(pid, &status, 0);
    *out = bufs[0];
    *err = bufs[1];
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
