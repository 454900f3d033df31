/* options.c — the option table and what the commands share: loading the
 * scenario, reporting errors, progress on a terminal. */
#include <math.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "options.h"

#define ALL_RUNS (CMD_RUN | CMD_SWEEP | CMD_SEARCH | CMD_COMPARE | CMD_DIAGNOSE)

typedef struct option_spec {
    const char *name;  /* "--seed" */
    const char *alias; /* "-q", or NULL */
    const char *arg;   /* the value's name, or NULL for a flag */
    unsigned cmds;
    const char *doc;
    int (*apply)(options *o, const char *value);
} option_spec;

/* ---- appliers ------------------------------------------------------------------- */

int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "metasim: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n(see metasim help)\n");
    va_end(ap);
    return EXIT_USAGE;
}

static int parse_count(const char *opt, const char *v, size_t lo, size_t hi, size_t *out)
{
    char *end;
    unsigned long long n = strtoull(v, &end, 10);
    if (!*v || *end || *v == '-' || *v == '+' || n < lo || n > hi)
        return usage_error("%s expects a whole number from %zu to %zu, got \"%s\"", opt, lo, hi, v);
    *out = (size_t)n;
    return 0;
}

static int opt_set(options *o, const char *v)
{
    const char *eq = strchr(v, '=');
    if (!eq || eq == v) return usage_error("--set expects PATH=VALUE, got \"%s\"", v);
    if (o->nsets == MAX_LIST) return usage_error("too many --set options");
    char *path = strdup(v);
    if (!path) return EXIT_RUNTIME;
    path[eq - v] = '\0';
    o->sets[o->nsets++] = (msim_override){path, path + (eq - v) + 1};
    return 0;
}

static int opt_seed(options *o, const char *v)
{
    char *end;
    o->seed = strtoull(v, &end, 10);
    o->has_seed = 1;
    if (!*v || *end || *v == '-' || *v == '+')
        return usage_error("--seed expects a non-negative integer, got \"%s\"", v);
    return 0;
}

static int opt_replicas(options *o, const char *v)
{
    o->has_replicas = 1;
    return parse_count("--replicas", v, 1, 1000000, &o->replicas);
}

static int opt_jobs(options *o, const char *v)
{
    size_t n;
    int rc = parse_count("--jobs", v, 1, 1024, &n);
    o->jobs = (unsigned)n;
    return rc;
}

static int opt_out(options *o, const char *v)
{
    if (!*v) return usage_error("--out needs a directory");
    o->out_dir = v;
    return 0;
}

static int verdict_index(const char *name)
{
    for (int v = 0; v < MSIM_VERDICT_COUNT; v++)
        if (strcmp(name, msim_verdict_name((msim_verdict_kind)v)) == 0) return v;
    return -1;
}

static int unknown_verdict(const char *opt, const char *name)
{
    const char *names[MSIM_VERDICT_COUNT];
    char all[200] = "";
    size_t off = 0;
    for (int v = 0; v < MSIM_VERDICT_COUNT; v++) {
        names[v] = msim_verdict_name((msim_verdict_kind)v);
        off += (size_t)snprintf(all + off, sizeof all - off, "%s%s", v ? ", " : "", names[v]);
    }
    const char *near = msim_nearest(name, names, MSIM_VERDICT_COUNT);
    char hint[80] = "";
    if (near) snprintf(hint, sizeof hint, " (did you mean \"%s\"?)", near);
    return usage_error("%s: unknown verdict \"%s\"; expected one of: %s%s", opt, name, all, hint);
}

static int opt_fail_on(options *o, const char *v)
{
    if (!*v) return usage_error("--fail-on needs a comma-separated list of verdicts, e.g. metastable,oscillating");
    char buf[256];
    snprintf(buf, sizeof buf, "%s", v);
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        int k = verdict_index(tok);
        if (k < 0) return unknown_verdict("--fail-on", tok);
        o->fail_on |= 1u << k;
    }
    return 0;
}

static int opt_verdict(options *o, const char *v)
{
    o->verdict = verdict_index(v);
    return o->verdict < 0 ? unknown_verdict("--verdict", v) : 0;
}

static int opt_level(options *o, const char *v)
{
    char *end;
    o->level = strtod(v, &end);
    if (*end == '%') o->level /= 100, end++;
    if (!*v || *end || !(o->level > 0 && o->level < 1))
        return usage_error("--level expects a probability between 0 and 1 (e.g. 0.5 or 50%%), got \"%s\"", v);
    return 0;
}

static int opt_probes(options *o, const char *v)
{
    size_t n;
    int rc = parse_count("--max-probes", v, 2, 100, &n);
    o->max_probes = (int)n;
    return rc;
}

static int opt_list(const char **list, size_t *n, const char *name, const char *v)
{
    if (!*v) return usage_error("%s needs a value", name);
    if (*n == MAX_LIST) return usage_error("too many %s options", name);
    list[(*n)++] = v;
    return 0;
}

static int opt_vary(options *o, const char *v)
{
    return opt_list(o->vary, &o->nvary, "--vary", v);
}

static int opt_variant(options *o, const char *v)
{
    return opt_list(o->variants, &o->nvariants, "--variant", v);
}

#define FLAG(field)                                                                                \
    static int opt_##field(options *o, const char *v)                                              \
    {                                                                                              \
        (void)v;                                                                                   \
        o->field = 1;                                                                              \
        return 0;                                                                                  \
    }
FLAG(json)
FLAG(no_chart)
FLAG(quiet)
FLAG(resume)

static int opt_colour(options *o, const char *v)
{
    (void)v;
    o->colour = 1;
    return 0;
}

static int opt_no_colour(options *o, const char *v)
{
    (void)v;
    o->colour = 0;
    return 0;
}

static int opt_param(options *o, const char *v)
{
    o->param = v;
    return 0;
}

static int opt_range(options *o, const char *v)
{
    o->range = v;
    return 0;
}

static int opt_tolerance(options *o, const char *v)
{
    o->tolerance = v;
    return 0;
}

/* ---- the table ------------------------------------------------------------------------- */

static const option_spec specs[] = {
    {"--set", NULL, "PATH=VALUE", ALL_RUNS | CMD_CHECK,
     "override a scenario value, e.g. clients.web.rate=800/s or 'triggers[0].duration=30s' (repeatable)", opt_set},
    {"--seed", NULL, "N", ALL_RUNS, "master seed (default: the scenario's)", opt_seed},
    {"--replicas", NULL, "N", ALL_RUNS,
     "independent replicas (seeds derived from the master seed and the replica index)", opt_replicas},
    {"--jobs", NULL, "N", ALL_RUNS, "threads (default: the number of processors); outputs do not depend on it",
     opt_jobs},
    {"--out", NULL, "DIR", ALL_RUNS, "write the output files into DIR", opt_out},
    {"--json", NULL, NULL, CMD_RUN | CMD_COMPARE | CMD_DIAGNOSE | CMD_SEARCH, "print JSON instead of text", opt_json},
    {"--fail-on", NULL, "LIST", CMD_RUN,
     "exit 3 if the verdict is in LIST (with --replicas: if one of them has probability >= 50%)", opt_fail_on},
    {"--no-chart", NULL, NULL, CMD_RUN, "leave out the terminal chart", opt_no_chart},
    {"--color", "--colour", NULL, CMD_RUN, "colour the verdict (default: when stdout is a terminal)", opt_colour},
    {"--no-color", "--no-colour", NULL, CMD_RUN, "do not colour the verdict", opt_no_colour},
    {"--quiet", "-q", NULL, CMD_RUN, "print only the verdict line", opt_quiet},
    {"--vary", NULL, "PATH=VALUES", CMD_SWEEP,
     "a parameter to sweep: v1,v2,... or a range LO..HI:step=S or LO..HI:n=N (repeatable)", opt_vary},
    {"--resume", NULL, NULL, CMD_SWEEP, "keep the points already in DIR/sweep.csv and run the rest", opt_resume},
    {"--param", NULL, "PATH", CMD_SEARCH, "the parameter to search, e.g. 'triggers[0].duration'", opt_param},
    {"--range", NULL, "LO..HI", CMD_SEARCH, "where to search, e.g. 0s..30s or 500/s..3000/s", opt_range},
    {"--level", NULL, "P", CMD_SEARCH, "the probability the search looks for (default 0.5)", opt_level},
    {"--verdict", NULL, "V", CMD_SEARCH, "whose probability crosses the level (default metastable)", opt_verdict},
    {"--tolerance", NULL, "X", CMD_SEARCH, "stop when the bracket is this narrow (default: range/64)", opt_tolerance},
    {"--max-probes", NULL, "N", CMD_SEARCH, "at most this many probes (default 12)", opt_probes},
    {"--variant", NULL, "NAME:PATH=VALUE[,PATH=VALUE]", CMD_COMPARE,
     "a variant to compare with the scenario as written (repeatable)", opt_variant},
};

#define NSPECS (sizeof specs / sizeof specs[0])

static const option_spec *find_spec(const char *name, unsigned cmd)
{
    for (size_t i = 0; i < NSPECS; i++)
        if ((specs[i].cmds & cmd) &&
            (strcmp(specs[i].name, name) == 0 || (specs[i].alias && strcmp(specs[i].alias, name) == 0)))
            return &specs[i];
    return NULL;
}

static int unknown_option(unsigned cmd, const char *arg)
{
    const char *names[NSPECS];
    size_t n = 0;
    for (size_t i = 0; i < NSPECS; i++)
        if (specs[i].cmds & cmd) names[n++] = specs[i].name;
    char word[64];
    snprintf(word, sizeof word, "%.*s", (int)strcspn(arg, "="), arg);
    const char *near = msim_nearest(word, names, n);
    if (near) return usage_error("unknown option %s (did you mean \"%s\"?)", arg, near);
    return usage_error("unknown option %s", arg);
}

int parse_options(unsigned cmd, int argc, char **argv, options *o)
{
    o->cmd = cmd;
    o->colour = isatty(STDOUT_FILENO);
    o->level = 0.5;
    o->verdict = MSIM_VERDICT_METASTABLE;
    o->max_probes = 12;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (arg[0] != '-' || !arg[1]) {
            if (o->scenario) return usage_error("one scenario at a time (got a second: %s)", arg);
            o->scenario = arg;
            continue;
        }
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)strcspn(arg, "="), arg);
        const option_spec *sp = find_spec(name, cmd);
        if (!sp) return unknown_option(cmd, arg);
        const char *value = strchr(arg, '=') ? strchr(arg, '=') + 1 : NULL;
        if (sp->arg && !value) value = i + 1 < argc ? argv[++i] : "";
        if (!sp->arg && value) return usage_error("%s takes no value", sp->name);
        int rc = sp->apply(o, value ? value : "");
        if (rc) return rc;
    }
    if (!o->scenario) return usage_error("no scenario given");
    return 0;
}

void free_options(options *o)
{
    for (size_t i = 0; i < o->nsets; i++)
        free((char *)o->sets[i].path);
}

/* The doc of an option, wrapped to fit beside a 24-column head. */
static void print_wrapped(FILE *out, const char *doc)
{
    const int width = 72;
    int col = 0;
    while (*doc) {
        int word = (int)strcspn(doc, " ");
        if (col && col + 1 + word > width) {
            fprintf(out, "\n%28s", "");
            col = 0;
        } else if (col) {
            fputc(' ', out);
            col++;
        }
        fprintf(out, "%.*s", word, doc);
        col += word;
        doc += word;
        while (*doc == ' ')
            doc++;
    }
    fputc('\n', out);
}

void print_options(unsigned cmd, FILE *out)
{
    fprintf(out, "options:\n");
    for (size_t i = 0; i < NSPECS; i++) {
        const option_spec *sp = &specs[i];
        if (!(sp->cmds & cmd)) continue;
        char head[80];
        bool short_alias = sp->alias && sp->alias[1] != '-'; /* "-q, --quiet" but "--color, --colour" */
        snprintf(head, sizeof head, "%s%s%s%s%s%s%s", short_alias ? sp->alias : "", short_alias ? ", " : "",
                 sp->name, sp->alias && !short_alias ? ", " : "", sp->alias && !short_alias ? sp->alias : "",
                 sp->arg ? " " : "", sp->arg ? sp->arg : "");
        if (strlen(head) > 24)
            fprintf(out, "  %s\n%28s", head, "");
        else
            fprintf(out, "  %-24s  ", head);
        print_wrapped(out, sp->doc);
    }
}

/* ---- shared by the commands ---------------------------------------------------------------- */

int report_error(const msim_error *err)
{
    char buf[1400];
    fprintf(stderr, "metasim: %s\n", msim_error_format(err, buf, sizeof buf));
    return err->code == -MSIM_ENOMEM || err->code == -MSIM_ERUNTIME || err->code == -MSIM_EIO
               ? EXIT_RUNTIME
               : EXIT_USAGE;
}

int load_scenario(const options *o, msim_scenario **sc)
{
    msim_error err = {0};
    if (msim_scenario_load(o->scenario, o->sets, o->nsets, sc, &err)) return report_error(&err);
    return 0;
}

int emit(msim_buf *buf)
{
    int failed = buf->failed;
    if (buf->data) fwrite(buf->data, 1, buf->len, stdout);
    msim_buf_free(buf);
    return failed || ferror(stdout) ? EXIT_RUNTIME : 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void progress_start(progress *p, const char *what)
{
    p->what = what;
    p->start = now_s();
    p->active = isatty(STDERR_FILENO);
}

void progress_update(void *ud, size_t done, size_t total)
{
    progress *p = ud;
    if (!p->active) return;
    double t = now_s() - p->start, rate = t > 0 ? (double)done / t : 0;
    double eta = rate > 0 ? (double)(total - done) / rate : NAN;
    fprintf(stderr, "\r  %s %zu/%zu · %.1f/s · ETA %.0fs   ", p->what, done, total, rate, isnan(eta) ? 0 : eta);
    fflush(stderr);
}

void progress_end(progress *p)
{
    if (p->active) fprintf(stderr, "\r%60s\r", "");
}
