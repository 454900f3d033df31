/* options.h — the command-line options of every command, declared once in a
 * table (options.c) from which parsing, the nearest-option hint and each
 * command's --help are derived. */
#ifndef METASIM_CLI_OPTIONS_H
#define METASIM_CLI_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "metasim.h"

enum { EXIT_DONE = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2, EXIT_VERDICT = 3 };

/* Commands an option belongs to (bit set). */
enum {
    CMD_RUN = 1u << 0,
    CMD_CHECK = 1u << 1,
    CMD_SWEEP = 1u << 2,
    CMD_SEARCH = 1u << 3,
    CMD_COMPARE = 1u << 4,
    CMD_DIAGNOSE = 1u << 5,
};

#define MAX_LIST 256

typedef struct options {
    unsigned cmd;
    const char *scenario;
    msim_override sets[MAX_LIST];
    size_t nsets;
    const char *vary[MAX_LIST]; /* sweep: path=values */
    size_t nvary;
    const char *variants[MAX_LIST]; /* compare: name:path=value,... */
    size_t nvariants;
    const char *out_dir;
    int json, no_chart, quiet, colour, resume;
    unsigned fail_on; /* bit per verdict */
    uint64_t seed;
    int has_seed;
    size_t replicas;
    int has_replicas;
    unsigned jobs;
    const char *param, *range; /* search */
    double level;
    int verdict; /* search: the verdict whose probability crosses the level */
    const char *tolerance;
    int max_probes;
} options;

/* Parse argv (after the command name) for command cmd. Returns 0 or an exit
 * code, having printed the error. */
int parse_options(unsigned cmd, int argc, char **argv, options *o);
void free_options(options *o);

/* Print the options of cmd, for --help. */
void print_options(unsigned cmd, FILE *out);

/* Print "metasim: <message>" and the pointer to help; returns EXIT_USAGE. */
int usage_error(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* Report a library error; returns the exit code it deserves. */
int report_error(const msim_error *err);

/* Load the scenario with the --set overrides. */
int load_scenario(const options *o, msim_scenario **sc);

/* Write a buffer to stdout; returns an exit code. */
int emit(msim_buf *buf);

/* A progress line on stderr while many runs go on (only to a terminal). */
typedef struct progress {
    const char *what;
    double start;
    int active;
} progress;
void progress_start(progress *p, const char *what);
void progress_update(void *p, size_t done, size_t total);
void progress_end(progress *p);

#endif
