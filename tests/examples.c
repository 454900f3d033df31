/* examples.c — every scenario in examples/ runs, and ends with the verdict its
 * header promises (a line "# expect: <verdict>"). An example without that line
 * fails: a story nobody checks is a story that rots. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "suites.h"

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The verdict promised in a file's header, or NULL. */
static const char *expected_verdict(const char *text, char *buf, size_t size)
{
    const char *p = strstr(text, "# expect:");
    if (!p) return NULL;
    p += strlen("# expect:");
    while (*p == ' ')
        p++;
    size_t n = strcspn(p, " \n\r");
    snprintf(buf, size, "%.*s", (int)n, p);
    return buf;
}

static void check_example(test_ctx *t, const char *path, char *report, size_t size, size_t *off)
{
    char *text = test_read_file(path);
    char want[64];
    const char *verdict = text ? expected_verdict(text, want, sizeof want) : NULL;
    free(text);
    if (!verdict) {
        *off += (size_t)snprintf(report + *off, size - *off, "\n  %s: no \"# expect:\" line", path);
        return;
    }
    msim_scenario *sc = NULL;
    msim_result *r = NULL;
    msim_error err = {0};
    char buf[1400];
    if (msim_scenario_load(path, NULL, 0, &sc, &err) || msim_run(sc, NULL, &r, &err)) {
        *off += (size_t)snprintf(report + *off, size - *off, "\n  %s: %s", path,
                                 msim_error_format(&err, buf, sizeof buf));
    } else if (strcmp(msim_verdict_name(r->verdict.kind), verdict) != 0) {
        *off += (size_t)snprintf(report + *off, size - *off, "\n  %s: %s (%s), expected %s", path,
                                 msim_verdict_name(r->verdict.kind), r->verdict.reason, verdict);
    } else if (r->requests != r->succeeded + r->failed + r->in_flight) {
        *off += (size_t)snprintf(report + *off, size - *off, "\n  %s: ledger does not balance", path);
    }
    msim_result_free(r);
    msim_scenario_free(sc);
    if (*off >= size) *off = size - 1;
}

static void every_example_keeps_its_promise(test_ctx *t)
{
    DIR *d = opendir("examples");
    CHECK(d);
    char *names[256];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 256) {
        size_t len = strlen(e->d_name);
        if (len > 5 && strcmp(e->d_name + len - 5, ".yaml") == 0) {
            names[n] = malloc(len + 10);
            snprintf(names[n++], len + 10, "examples/%s", e->d_name);
        }
    }
    closedir(d);
    qsort(names, n, sizeof names[0], cmp_str);
    char report[1800] = "";
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        check_example(t, names[i], report, sizeof report, &off);
        free(names[i]);
    }
    CHECK(n >= 4);
    CHECK_MSG(off == 0, "%zu examples:%s", n, report);
}

const test_case examples_tests[] = {
    {"examples_every_example_keeps_its_promise", every_example_keeps_its_promise, TIER_QUICK},
    {NULL, NULL, 0},
};
