/* main.c — the `metasim` program: a thin client of libmetasim.
 *
 *   metasim run SCENARIO [options]     simulate and judge: does it recover?
 *   metasim check SCENARIO [--set ..]  validate; print with every default filled in
 *   metasim list                       component kinds, triggers, distributions
 *
 * Exit codes: 0 done; 1 runtime failure; 2 bad usage or bad scenario;
 * 3 the verdict was one named by --fail-on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "metasim.h"
#include "list.h"

enum { EXIT_DONE = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2, EXIT_VERDICT = 3 };

#define MAX_SETS 256

typedef struct options {
    const char *scenario;
    msim_override sets[MAX_SETS];
    size_t nsets;
    const char *out_dir;
    int json, no_chart, quiet, colour;
    unsigned fail_on; /* bit per verdict */
    uint64_t seed;
    int has_seed;
} options;

static const char *usage_text =
    "usage: metasim <command> [arguments]\n"
    "\n"
    "commands:\n"
    "  run SCENARIO      simulate a scenario and say whether it recovers\n"
    "  check SCENARIO    validate a scenario and print it with every default filled in\n"
    "  list              component kinds, triggers, distributions and their parameters\n"
    "  help [COMMAND]    this text, or a command's options\n"
    "  version           print the version\n";

static const char *run_help =
    "usage: metasim run SCENARIO [options]\n"
    "\n"
    "Simulate SCENARIO once and judge the outcome: stable, recovered (and how fast),\n"
    "metastable (and how degraded), oscillating (period, amplitude), inconclusive,\n"
    "or unhealthy-baseline.\n"
    "\n"
    "options:\n"
    "  --set PATH=VALUE   override a scenario value, e.g. --set clients.web.rate=800/s\n"
    "                     or --set triggers[0].duration=30s (repeatable)\n"
    "  --seed N           master seed (default: the scenario's seed)\n"
    "  --out DIR          write DIR/summary.json and DIR/timeseries.csv\n"
    "  --json             print summary.json to stdout instead of the text summary\n"
    "  --fail-on LIST     exit with 3 if the verdict is in LIST (comma-separated),\n"
    "                     e.g. --fail-on metastable,oscillating\n"
    "  --no-chart         leave out the terminal chart\n"
    "  --color, --no-color  colour the verdict (default: when stdout is a terminal)\n"
    "  -q, --quiet        print only the verdict line\n";

static const char *check_help =
    "usage: metasim check SCENARIO [--set PATH=VALUE ...]\n"
    "\n"
    "Validate SCENARIO and print it as YAML with every default filled in. Errors name\n"
    "file:line:col, the key path, what was expected and the nearest valid key.\n";

static const char *list_help =
    "usage: metasim list [--markdown]\n"
    "\n"
    "Print every component kind, trigger kind and distribution with its parameters,\n"
    "their types, defaults and meaning. --markdown prints the scenario reference\n"
    "(docs/scenario-reference.md is generated this way).\n";

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "metasim: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n(see metasim help)\n");
    return EXIT_USAGE;
}

/* The " (did you mean "x"?)" hint for word among valid, or "". */
static const char *hint(char *buf, size_t size, const char *word, const char *const *valid, size_t n)
{
    const char *near = msim_nearest(word, valid, n);
    if (near)
        snprintf(buf, size, " (did you mean \"%s\"?)", near);
    else
        buf[0] = '\0';
    return buf;
}

static const char *const commands[] = {"run", "check", "list", "help", "version"};
static const char *const run_options[] = {"--set",      "--seed",  "--out",      "--json",
                                          "--fail-on",  "--no-chart", "--color", "--no-color",
                                          "--quiet",    "--help"};

static int unknown_option(const char *arg)
{
    char word[64], h[96];
    snprintf(word, sizeof word, "%.*s", (int)strcspn(arg, "="), arg);
    fprintf(stderr, "metasim: unknown option %s%s\n(see metasim help)\n", arg,
            hint(h, sizeof h, word, run_options, sizeof run_options / sizeof run_options[0]));
    return EXIT_USAGE;
}

static int parse_fail_on(options *o, const char *list)
{
    const char *names[MSIM_VERDICT_COUNT];
    char all[200] = "";
    size_t off = 0;
    for (int v = 0; v < MSIM_VERDICT_COUNT; v++) {
        names[v] = msim_verdict_name((msim_verdict_kind)v);
        off += (size_t)snprintf(all + off, sizeof all - off, "%s%s", v ? ", " : "", names[v]);
    }
    if (!*list) return usage_error("--fail-on needs a comma-separated list of verdicts, e.g. %s", "metastable,oscillating");
    char buf[256];
    snprintf(buf, sizeof buf, "%s", list);
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        int found = 0;
        for (int v = 0; v < MSIM_VERDICT_COUNT; v++)
            if (strcmp(tok, names[v]) == 0) o->fail_on |= 1u << v, found = 1;
        if (!found) {
            char h[96];
            fprintf(stderr, "metasim: --fail-on: unknown verdict \"%s\"; expected one of: %s%s\n(see metasim help)\n",
                    tok, all, hint(h, sizeof h, tok, names, MSIM_VERDICT_COUNT));
            return EXIT_USAGE;
        }
    }
    return 0;
}

static int add_set(options *o, const char *arg)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg) return usage_error("--set expects PATH=VALUE, got \"%s\"", arg);
    if (o->nsets == MAX_SETS) return usage_error("too many --set options%s", "");
    char *path = strdup(arg);
    if (!path) return EXIT_RUNTIME;
    path[eq - arg] = '\0';
    o->sets[o->nsets++] = (msim_override){path, path + (eq - arg) + 1};
    return 0;
}

/* The value of an option given as "--opt VALUE" or "--opt=VALUE". */
static const char *opt_value(int argc, char **argv, int *i, const char *name)
{
    size_t n = strlen(name);
    if (strncmp(argv[*i], name, n) == 0 && argv[*i][n] == '=') return argv[*i] + n + 1;
    if (strcmp(argv[*i], name) != 0) return NULL;
    if (*i + 1 >= argc) return "";
    return argv[++*i];
}

static int parse_args(int argc, char **argv, options *o, int allow_run_opts)
{
    const char *v;
    o->colour = isatty(STDOUT_FILENO);
    for (int i = 0; i < argc; i++) {
        int rc = 0;
        if ((v = opt_value(argc, argv, &i, "--set")))
            rc = *v ? add_set(o, v) : usage_error("--set needs PATH=VALUE%s", "");
        else if (!allow_run_opts && argv[i][0] == '-')
            rc = unknown_option(argv[i]);
        else if ((v = opt_value(argc, argv, &i, "--seed"))) {
            char *end;
            o->seed = strtoull(v, &end, 10);
            o->has_seed = 1;
            if (!*v || *end || *v == '-' || *v == '+')
                rc = usage_error("--seed expects a non-negative integer, got \"%s\"", v);
        } else if ((v = opt_value(argc, argv, &i, "--out")))
            o->out_dir = *v ? v : NULL, rc = *v ? 0 : usage_error("--out needs a directory%s", "");
        else if ((v = opt_value(argc, argv, &i, "--fail-on")))
            rc = parse_fail_on(o, v);
        else if (strcmp(argv[i], "--json") == 0)
            o->json = 1;
        else if (strcmp(argv[i], "--no-chart") == 0)
            o->no_chart = 1;
        else if (strcmp(argv[i], "--color") == 0 || strcmp(argv[i], "--colour") == 0)
            o->colour = 1;
        else if (strcmp(argv[i], "--no-color") == 0 || strcmp(argv[i], "--no-colour") == 0)
            o->colour = 0;
        else if (strcmp(argv[i], "-q") == 0 || strcmp(argv[i], "--quiet") == 0)
            o->quiet = 1;
        else if (argv[i][0] == '-' && argv[i][1])
            rc = unknown_option(argv[i]);
        else if (o->scenario)
            rc = usage_error("one scenario at a time (got a second: %s)", argv[i]);
        else
            o->scenario = argv[i];
        if (rc) return rc;
    }
    if (!o->scenario) return usage_error("no scenario given%s", "");
    return 0;
}

static void free_options(options *o)
{
    for (size_t i = 0; i < o->nsets; i++)
        free((char *)o->sets[i].path);
}

static int report_error(const msim_error *err)
{
    char buf[1400];
    fprintf(stderr, "metasim: %s\n", msim_error_format(err, buf, sizeof buf));
    return err->code == -MSIM_ENOMEM || err->code == -MSIM_ERUNTIME || err->code == -MSIM_EIO
               ? EXIT_RUNTIME
               : EXIT_USAGE;
}

static int load(const options *o, msim_scenario **sc)
{
    msim_error err = {0};
    if (msim_scenario_load(o->scenario, o->sets, o->nsets, sc, &err)) return report_error(&err);
    return 0;
}

static void emit(const msim_buf *buf, FILE *f)
{
    if (buf->data) fwrite(buf->data, 1, buf->len, f);
}

static int print_result(const options *o, const msim_result *r)
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
    emit(&out, stdout);
    int failed = out.failed;
    msim_buf_free(&out);
    return failed ? EXIT_RUNTIME : 0;
}

static int cmd_run(int argc, char **argv)
{
    options o = {0};
    int rc = parse_args(argc, argv, &o, 1);
    msim_scenario *sc = NULL;
    msim_result *r = NULL;
    if (!rc) rc = load(&o, &sc);
    if (!rc) {
        msim_error err = {0};
        msim_run_options ro = {.seed = o.seed, .use_seed = o.has_seed};
        if (msim_run(sc, &ro, &r, &err)) {
            report_error(&err);
            rc = EXIT_RUNTIME;
        }
    }
    if (!rc && o.out_dir) {
        msim_error err = {0};
        if (msim_write_outputs(r, o.out_dir, &err)) rc = report_error(&err);
    }
    if (!rc) rc = print_result(&o, r);
    if (!rc && (o.fail_on & (1u << r->verdict.kind))) rc = EXIT_VERDICT;
    msim_result_free(r);
    msim_scenario_free(sc);
    free_options(&o);
    return rc;
}

static int cmd_check(int argc, char **argv)
{
    options o = {0};
    int rc = parse_args(argc, argv, &o, 0);
    msim_scenario *sc = NULL;
    if (!rc) rc = load(&o, &sc);
    if (!rc) {
        msim_buf out = {0};
        msim_scenario_print(sc, &out);
        emit(&out, stdout);
        msim_buf_free(&out);
    }
    msim_scenario_free(sc);
    free_options(&o);
    return rc;
}

static int cmd_help(int argc, char **argv)
{
    const char *topic = argc > 0 ? argv[0] : "";
    if (strcmp(topic, "run") == 0)
        fputs(run_help, stdout);
    else if (strcmp(topic, "check") == 0)
        fputs(check_help, stdout);
    else if (strcmp(topic, "list") == 0)
        fputs(list_help, stdout);
    else if (!*topic)
        fputs(usage_text, stdout);
    else
        return usage_error("no help on \"%s\"", topic);
    return 0;
}

static int wants_help(int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) return 1;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage_text, stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    int n = argc - 2;
    char **rest = argv + 2;
    if (wants_help(n, rest) && strcmp(cmd, "help") != 0) return cmd_help(1, &argv[1]);
    if (strcmp(cmd, "run") == 0) return cmd_run(n, rest);
    if (strcmp(cmd, "check") == 0) return cmd_check(n, rest);
    if (strcmp(cmd, "list") == 0) {
        if (n == 1 && strcmp(rest[0], "--markdown") == 0) return metasim_list(stdout, 1);
        return n ? usage_error("unknown argument to list: %s", rest[0]) : metasim_list(stdout, 0);
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0)
        return cmd_help(n, rest);
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("metasim %s\n", MSIM_VERSION);
        return 0;
    }
    char h[96];
    fprintf(stderr, "metasim: unknown command \"%s\"%s\n(see metasim help)\n", cmd,
            hint(h, sizeof h, cmd, commands, sizeof commands / sizeof commands[0]));
    return EXIT_USAGE;
}
