/* main.c — the `metasim` program: a thin client of libmetasim.
 *
 *   metasim run SCENARIO [options]       simulate and judge: does it recover?
 *   metasim sweep SCENARIO [options]     replica sets over a grid of parameters
 *   metasim search SCENARIO [options]    the tipping point of a parameter
 *   metasim compare SCENARIO [options]   variants side by side
 *   metasim diagnose SCENARIO [options]  what sustains the failure?
 *   metasim check SCENARIO [--set ..]    validate; print with every default filled in
 *   metasim list [--markdown]            component kinds, triggers, distributions
 *
 * Exit codes: 0 done; 1 runtime failure; 2 bad usage or bad scenario;
 * 3 the verdict was one named by --fail-on.
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "list.h"
#include "options.h"

typedef struct command {
    const char *name;
    unsigned id; /* CMD_* bit, for its options; 0: none */
    int (*fn)(int argc, char **argv);
    const char *brief;    /* one line, for `metasim help` */
    const char *synopsis;
    const char *about;
} command;

static const command commands[] = {
    {"run", CMD_RUN, cmd_run, "simulate a scenario and say whether it recovers", "run SCENARIO [options]",
     "Simulate SCENARIO and judge the outcome: stable, recovered (and how fast), metastable\n"
     "(and how degraded), oscillating (period, amplitude), inconclusive or unhealthy-baseline.\n"
     "With --replicas N: the probability of each verdict over N replicas, with 95% Wilson\n"
     "intervals, recovery-time quantiles and per-window bands; identical for any --jobs."},
    {"sweep", CMD_SWEEP, cmd_sweep, "replica sets over a grid of parameter values; a phase map", "sweep SCENARIO [--vary PATH=VALUES]... [options]",
     "Replica sets over a grid of parameter values (the scenario's sweep: block, or --vary).\n"
     "Writes DIR/sweep.csv, one row per point, appended as points finish (--resume skips\n"
     "them), and for two parameters a phase map of P(metastable)."},
    {"search", CMD_SEARCH, cmd_search, "the tipping point: where a verdict's probability crosses a level", "search SCENARIO --param PATH --range LO..HI [options]",
     "Bisection for the value of PATH at which the probability of a verdict (default:\n"
     "metastable) crosses a level (default 50%), with replicas at each probe."},
    {"compare", CMD_COMPARE, cmd_compare, "variants side by side, with common random numbers", "compare SCENARIO --variant NAME:PATH=VALUE[,...]... [options]",
     "The scenario and its variants side by side, with common random numbers: every variant\n"
     "sees the same arrivals and draws wherever it does not change a component."},
    {"diagnose", CMD_DIAGNOSE, cmd_diagnose, "what sustains the failure: mechanisms switched off in turn", "diagnose SCENARIO [options]",
     "Name the sustaining effect by experiment: re-run with each mechanism the components\n"
     "declare (retries, work on abandoned attempts, long queues, ...) switched off after the\n"
     "trigger, and report which change turns the failure into a recovery."},
    {"check", CMD_CHECK, cmd_check, "validate a scenario; print it with every default filled in", "check SCENARIO [--set PATH=VALUE]...",
     "Validate SCENARIO and print it as YAML with every default filled in. Errors name\n"
     "file:line:col, the key path, what was expected and the nearest valid key."},
    {"list", 0, NULL, "component kinds, triggers, distributions and their parameters", "list [--markdown]",
     "Print every component kind, trigger kind and distribution with its parameters,\n"
     "their types, defaults and meaning. --markdown prints docs/scenario-reference.md."},
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *out)
{
    fprintf(out, "usage: metasim <command> [arguments]\n\ncommands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].brief);
    fprintf(out, "  %-10s %s\n  %-10s %s\n\nmetasim help COMMAND shows a command's usage and options.\n", "help",
            "this text, or a command's usage and options", "version", "print the version");
}

static const command *find_command(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0) return &commands[i];
    return NULL;
}

static int help(const char *topic)
{
    if (!topic) {
        usage(stdout);
        return 0;
    }
    const command *c = find_command(topic);
    if (!c) return usage_error("no help on \"%s\"", topic);
    printf("usage: metasim %s\n\n%s\n\n", c->synopsis, c->about);
    if (c->id) print_options(c->id, stdout);
    return 0;
}

static int wants_help(int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) return 1;
    return 0;
}

static int list(int argc, char **argv)
{
    if (argc == 1 && strcmp(argv[0], "--markdown") == 0) return metasim_list(stdout, 1);
    if (argc) return usage_error("unknown argument to list: %s", argv[0]);
    return metasim_list(stdout, 0);
}

static int unknown_command(const char *cmd)
{
    const char *names[NCOMMANDS + 2];
    for (size_t i = 0; i < NCOMMANDS; i++)
        names[i] = commands[i].name;
    names[NCOMMANDS] = "help";
    names[NCOMMANDS + 1] = "version";
    const char *near = msim_nearest(cmd, names, NCOMMANDS + 2);
    if (near) return usage_error("unknown command \"%s\" (did you mean \"%s\"?)", cmd, near);
    return usage_error("unknown command \"%s\"", cmd);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    int n = argc - 2;
    char **rest = argv + 2;
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0)
        return help(n ? rest[0] : NULL);
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("metasim %s\n", MSIM_VERSION);
        return 0;
    }
    const command *c = find_command(cmd);
    if (!c) return unknown_command(cmd);
    if (wants_help(n, rest)) return help(cmd);
    return c->fn ? c->fn(n, rest) : list(n, rest);
}
