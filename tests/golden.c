/* golden.c — golden cases as data (STYLE §14) and the fuzz corpus replayed as
 * a plain test (STYLE §15).
 *
 * A golden case is a directory tests/cases/NNNN-short-name/ holding
 *
 *   args             the arguments after "metasim", one per line (a blank
 *                    line is an empty argument; the last newline ends the list)
 *   expected_exit    the exit status, a number
 *   expected_stdout  compared byte for byte when the file is present
 *   expected_stderr  compared byte for byte when the file is present
 *
 * and whatever files the arguments name (usually scenario.yaml). The binary
 * under test runs with the case directory as its working directory, so
 * messages name files exactly as the arguments do. Cases run in sorted
 * order, all inside one test (suites are static arrays, cases are data);
 * every failing case is printed with a line diff, and the test's message
 * lists them all.
 *
 *   metasim-tests golden fuzz             every case, and the corpus replay
 *   GOLDEN_CASE=0012 metasim-tests golden only cases whose name contains 0012
 *   metasim-tests --update golden         rewrite expected_exit and the
 *                                         expected_* files present (both
 *                                         outputs when neither is) for review
 *
 * The case runner never looks inside the outputs: a run case that must not
 * depend on wall-clock time says so by its arguments (-q or --json) or by
 * leaving out expected_stdout.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "suites.h"
#include "fuzz/roundtrip.h"

#define CASES_DIR   "tests/cases"
#define CORPUS_DIR  "tests/fuzz/corpus"
#define CRASHES_DIR "tests/fuzz/crashes"

/* ---- small file helpers ---------------------------------------------------------- */

enum { PATH_SIZE = 1024 };

/* "a/b" into out (PATH_SIZE bytes); empty if it does not fit, which no
 * fopen or opendir accepts, so an absurdly deep tree fails loudly. */
static const char *join(char *out, const char *a, const char *b)
{
    int n = snprintf(out, PATH_SIZE, "%s/%s", a, b);
    if (n < 0 || n >= PATH_SIZE) out[0] = '\0';
    return out;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in dir (without . and .. and hidden files), sorted; NULL-terminated,
 * or NULL when dir cannot be read. Free with free_names. */
static char **list_dir(const char *dir, size_t *count)
{
    DIR *d = opendir(dir);
    *count = 0;
    if (!d) return NULL;
    size_t cap = 64, n = 0;
    char **names = malloc(cap * sizeof *names);
    struct dirent *e;
    while (names && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        if (n + 1 == cap) {
            char **nn = realloc(names, (cap *= 2) * sizeof *nn);
            if (!nn) break;
            names = nn;
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    if (!names) return NULL;
    names[n] = NULL;
    qsort(names, n, sizeof *names, cmp_str);
    *count = n;
    return names;
}

static void free_names(char **names)
{
    for (size_t i = 0; names && names[i]; i++)
        free(names[i]);
    free(names);
}

/* A whole file as bytes, NUL-terminated for convenience; it may hold NULs
 * (the fuzz corpus does), so its length is returned too. NULL if unreadable. */
static char *read_bytes(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0, k;
    char *buf = malloc(cap);
    while (buf && (k = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += k;
        if (cap - n - 1 > 0) continue;
        char *nb = realloc(buf, cap *= 2);
        if (!nb) free(buf);
        buf = nb;
    }
    int bad = ferror(f);
    fclose(f);
    if (buf && bad) free(buf), buf = NULL;
    if (!buf) return NULL;
    buf[n] = '\0';
    *len = n;
    return buf;
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static int write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t n = strlen(text);
    int bad = fwrite(text, 1, n, f) != n;
    return fclose(f) || bad ? -1 : 0;
}

/* ---- a line diff ------------------------------------------------------------------- */

/* A text cut into lines, each keeping its '\n' (the last may lack it). */
typedef struct lines {
    const char **at;
    size_t *len;
    size_t n;
} lines;

static lines split_lines(const char *s)
{
    lines l = {0};
    size_t cap = 1;
    for (const char *p = s; *p; p++)
        cap += *p == '\n';
    l.at = malloc(cap * sizeof *l.at);
    l.len = malloc(cap * sizeof *l.len);
    while (l.at && l.len && *s) {
        const char *nl = strchr(s, '\n');
        size_t n = nl ? (size_t)(nl - s) + 1 : strlen(s);
        l.at[l.n] = s;
        l.len[l.n++] = n;
        s += n;
    }
    return l;
}

static int same_line(const lines *a, size_t i, const lines *b, size_t j)
{
    return a->len[i] == b->len[j] && memcmp(a->at[i], b->at[j], a->len[i]) == 0;
}

static void diff_line(msim_buf *out, char mark, const lines *l, size_t i)
{
    size_t n = l->len[i];
    int newline = n > 0 && l->at[i][n - 1] == '\n';
    msim_buf_printf(out, "         %c %.*s%s\n", mark, (int)(n - (size_t)newline), l->at[i],
                    newline ? "" : "   (no newline at end)");
}

/* The edit script from `want` to `got` by a longest common subsequence over
 * lines (outputs here are small): ' ' common, '-' only in want, '+' only in
 * got; each op names its line. Returns the number of ops, or 0 if too long. */
typedef struct diff_op {
    char mark;
    const lines *in;
    size_t line;
} diff_op;

static size_t edit_script(const lines *a, const lines *b, diff_op *ops)
{
    size_t w = b->n + 1;
    if ((a->n + 1) * w > 4000000) return 0;
    unsigned *lcs = calloc((a->n + 1) * w, sizeof *lcs);
    if (!lcs) return 0;
    for (size_t i = a->n; i-- > 0;)
        for (size_t j = b->n; j-- > 0;) {
            unsigned down = lcs[(i + 1) * w + j], right = lcs[i * w + j + 1];
            lcs[i * w + j] = same_line(a, i, b, j) ? lcs[(i + 1) * w + j + 1] + 1
                                                   : (down > right ? down : right);
        }
    size_t i = 0, j = 0, n = 0;
    while (i < a->n || j < b->n) {
        if (i < a->n && j < b->n && same_line(a, i, b, j))
            ops[n++] = (diff_op){' ', a, i++}, j++;
        else if (i < a->n && (j == b->n || lcs[(i + 1) * w + j] >= lcs[i * w + j + 1]))
            ops[n++] = (diff_op){'-', a, i++};
        else
            ops[n++] = (diff_op){'+', b, j++};
    }
    free(lcs);
    return n;
}

/* The changes with one common line of context around each, "..." between. */
static void line_diff(msim_buf *out, const char *want, const char *got)
{
    lines a = split_lines(want), b = split_lines(got);
    diff_op *ops = malloc((a.n + b.n + 1) * sizeof *ops);
    size_t n = ops && a.at && b.at ? edit_script(&a, &b, ops) : 0;
    if (n == 0) msim_buf_printf(out, "         (too long to diff)\n");
    if (b.n == 0 && a.n > 3) { /* nothing came: the start of what should have */
        for (size_t k = 0; k < 3; k++)
            diff_line(out, '-', &a, k);
        msim_buf_printf(out, "         ... %zu more lines expected, none came\n", a.n - 3);
        n = 0;
    }
    int skipped = 0;
    for (size_t k = 0; k < n; k++) {
        int near = ops[k].mark != ' ' || (k > 0 && ops[k - 1].mark != ' ') ||
                   (k + 1 < n && ops[k + 1].mark != ' ');
        if (!near) {
            skipped = 1;
            continue;
        }
        if (skipped) msim_buf_printf(out, "         ...\n");
        skipped = 0;
        diff_line(out, ops[k].mark, ops[k].in, ops[k].line);
    }
    free(ops);
    free(a.at), free(a.len), free(b.at), free(b.len);
}

/* ---- one golden case ------------------------------------------------------------------ */

/* The argument vector from the args file, NULL-terminated; args points into
 * `text`, which the caller frees. NULL if there is no args file. */
static const char **read_args(const char *dir, char **text)
{
    char path[PATH_SIZE];
    size_t len;
    *text = read_bytes(join(path, dir, "args"), &len);
    if (!*text) return NULL;
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += (*text)[i] == '\n';
    const char **argv = calloc(n + 2, sizeof *argv);
    if (!argv) return NULL;
    size_t k = 0;
    for (char *p = *text; *p;) {
        char *nl = strchr(p, '\n');
        argv[k++] = p;
        if (!nl) break;
        *nl = '\0';
        p = nl + 1;
    }
    argv[k] = NULL;
    return argv;
}

/* Compare one output with its expected file, if that file exists. */
static int check_output(msim_buf *report, const char *dir, const char *file, const char *which,
                        const char *got)
{
    char path[PATH_SIZE];
    size_t len;
    char *want = read_bytes(join(path, dir, file), &len);
    if (!want) return 0;
    int differs = strlen(want) != len || strcmp(want, got) != 0;
    if (differs) {
        msim_buf_printf(report, "       %s differs (- expected, + actual):\n", which);
        line_diff(report, want, got);
    }
    free(want);
    return differs;
}

/* Rewrite the expectations from what the binary did. */
static int update_case(msim_buf *report, const char *dir, int status, const char *out,
                       const char *err)
{
    char p_exit[PATH_SIZE], p_out[PATH_SIZE], p_err[PATH_SIZE], num[16];
    join(p_exit, dir, "expected_exit");
    join(p_out, dir, "expected_stdout");
    join(p_err, dir, "expected_stderr");
    int has_out = exists(p_out), has_err = exists(p_err);
    if (!has_out && !has_err) has_out = *out != '\0', has_err = *err != '\0' || !has_out;
    snprintf(num, sizeof num, "%d\n", status);
    if (write_file(p_exit, num) || (has_out && write_file(p_out, out)) ||
        (has_err && write_file(p_err, err))) {
        msim_buf_printf(report, "       cannot write the expectations: %s\n", strerror(errno));
        return 1;
    }
    return 0;
}

/* Run one case; on a mismatch, append what differs to report and return 1. */
static int run_case(test_ctx *t, const char *dir, msim_buf *report)
{
    char *argtext = NULL, path[PATH_SIZE];
    const char **argv = read_args(dir, &argtext);
    size_t len;
    char *exit_text = read_bytes(join(path, dir, "expected_exit"), &len);
    char *end = NULL;
    long want_exit = exit_text ? strtol(exit_text, &end, 10) : -1;
    int bad_exit = !exit_text || end == exit_text || (*end && strcmp(end, "\n") != 0);
    free(exit_text);
    if (!argv || (bad_exit && !t->update)) {
        msim_buf_printf(report, "       the case needs an args file and an expected_exit number\n");
        free(argv), free(argtext);
        return 1;
    }
    char *out = NULL, *err = NULL;
    int status = test_exec(t, argv, dir, &out, &err);
    int failed = 0;
    if (status < 0) {
        msim_buf_printf(report, "       metasim did not exit normally (a signal, or it could not run)\n");
        failed = 1;
    } else if (t->update) {
        failed = update_case(report, dir, status, out, err);
    } else {
        if (status != want_exit) {
            msim_buf_printf(report, "       exit status %d, expected %ld\n", status, want_exit);
            failed = 1;
        }
        failed |= check_output(report, dir, "expected_stdout", "stdout", out);
        failed |= check_output(report, dir, "expected_stderr", "stderr", err);
    }
    free(out), free(err), free(argv), free(argtext);
    return failed;
}

/* ---- the tests --------------------------------------------------------------------------- */

/* Append a name to a comma-separated list while it fits. */
static void note_failure(char *list, size_t size, size_t *off, const char *name)
{
    if (*off + 64 >= size) return;
    int n = snprintf(list + *off, size - *off, "%s%s", *off ? ", " : "", name);
    if (n > 0) *off += (size_t)n;
}

static void golden_cases(test_ctx *t)
{
    char root[PATH_SIZE];
    join(root, t->root, CASES_DIR);
    size_t n;
    char **names = list_dir(root, &n);
    if (n == 0) free_names(names), names = NULL;
    CHECK_MSG(names, "no golden cases in %s", root);
    const char *only = getenv("GOLDEN_CASE");
    char failed[1600] = "";
    size_t off = 0, nrun = 0, nfailed = 0;
    for (size_t i = 0; i < n; i++) {
        if (only && !strstr(names[i], only)) continue;
        char dir[PATH_SIZE];
        join(dir, root, names[i]);
        msim_buf report = {0};
        nrun++;
        if (run_case(t, dir, &report)) {
            nfailed++;
            note_failure(failed, sizeof failed, &off, names[i]);
            printf("     golden %s: FAIL\n%.*s", names[i], (int)report.len,
                   report.data ? report.data : "");
        } else if (t->update) {
            printf("     golden %s: expectations rewritten\n", names[i]);
        }
        msim_buf_free(&report);
    }
    fflush(stdout);
    free_names(names);
    CHECK_MSG(nrun > 0, "no golden case matches GOLDEN_CASE=%s", only ? only : "");
    CHECK_MSG(nfailed == 0, "%zu of %zu golden cases failed (diffs above): %s", nfailed, nrun,
              failed);
}

/* Every file of one corpus directory through the fuzzer's property. A missing
 * directory counts as empty (crashes/ is empty when all is well). */
static void replay_dir(test_ctx *t, const char *sub, size_t *nfiles, size_t *nfailed, char *list,
                       size_t size, size_t *off)
{
    char root[PATH_SIZE];
    join(root, t->root, sub);
    size_t n;
    char **names = list_dir(root, &n);
    for (size_t i = 0; i < n; i++) {
        char path[PATH_SIZE], why[4096];
        size_t len;
        char *data = read_bytes(join(path, root, names[i]), &len);
        if (!data) continue;
        (*nfiles)++;
        if (roundtrip_check(data, len, why, sizeof why) != ROUNDTRIP_OK) {
            (*nfailed)++;
            note_failure(list, size, off, names[i]);
            printf("     replay %s/%s: FAIL\n       %s\n", sub, names[i], why);
        }
        free(data);
    }
    free_names(names);
}

static void fuzz_corpus_replay(test_ctx *t)
{
    size_t nfiles = 0, nfailed = 0, off = 0;
    char failed[1600] = "";
    replay_dir(t, CORPUS_DIR, &nfiles, &nfailed, failed, sizeof failed, &off);
    replay_dir(t, CRASHES_DIR, &nfiles, &nfailed, failed, sizeof failed, &off);
    fflush(stdout);
    CHECK_MSG(nfiles > 0, "no inputs in %s/%s", t->root, CORPUS_DIR);
    CHECK_MSG(nfailed == 0, "%zu of %zu fuzz inputs fail the round trip (details above): %s",
              nfailed, nfiles, failed);
}

const test_case golden_tests[] = {
    {"golden_cases", golden_cases, TIER_QUICK},
    {"fuzz_corpus_replay", fuzz_corpus_replay, TIER_QUICK},
    {NULL, NULL, 0},
};
