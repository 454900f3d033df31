/* roundtrip.h — the property the scenario fuzzer checks, shared with the
 * plain test that replays its corpus (tests/golden.c, fuzz_corpus_replay).
 *
 * For any bytes: msim_scenario_parse either fails with an error that formats
 * safely into buffers of any size, or succeeds; and then the scenario printed
 * by msim_scenario_print ("check" output, every default filled in) must load
 * again and print identically, and a scenario derived from it without
 * overrides must print identically too. Everything is freed, so the
 * sanitizers see leaks.
 *
 * It is a header of one static function because the fuzzer is built from
 * its own Makefile block and the test binary from the files in tests/: both include
 * this file, so the property is written once.
 */
#ifndef METASIM_TESTS_FUZZ_ROUNDTRIP_H
#define METASIM_TESTS_FUZZ_ROUNDTRIP_H

#include <stdio.h>
#include <string.h>

#include "metasim.h"

enum {
    ROUNDTRIP_OK = 0,       /* loaded and round-tripped, or rejected cleanly */
    ROUNDTRIP_RELOAD = 1,   /* the printed scenario does not load again */
    ROUNDTRIP_REPRINT = 2,  /* it loads, but prints differently */
    ROUNDTRIP_DERIVE = 3,   /* msim_scenario_derive failed or printed differently */
    ROUNDTRIP_NOMEM = 4,    /* printing ran out of memory */
    ROUNDTRIP_FORMAT = 5,   /* msim_error_format truncated an error badly */
};

/* Format err into every buffer size up to 64 and into a large one; the
 * short ones must stay NUL-terminated prefixes of the long one. Returns 0,
 * or -1 if a short rendering is not a prefix (a truncation bug). */
static int roundtrip_format_error(const msim_error *err)
{
    char full[1400], small[64];
    msim_error_format(err, full, sizeof full);
    for (size_t size = 1; size <= sizeof small; size++) {
        msim_error_format(err, small, size);
        if (strlen(small) >= size || strncmp(small, full, strlen(small)) != 0) return -1;
    }
    return 0;
}

/* Line n (1-based) of text[0..len), without its newline, into out. */
static const char *roundtrip_line(const char *text, size_t len, int n, char *out, size_t size)
{
    const char *p = text, *end = text + len;
    for (int i = 1; i < n && p < end; i++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        p = nl ? nl + 1 : end;
    }
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    snprintf(out, size, "%.*s", (int)((nl ? nl : end) - p), p);
    return out;
}

/* Say where two printed texts first differ. */
static void roundtrip_differs(const msim_buf *a, const msim_buf *b, const char *what, char *why,
                              size_t whysize)
{
    size_t i = 0, n = a->len < b->len ? a->len : b->len;
    int line = 1;
    for (; i < n && a->data[i] == b->data[i]; i++)
        line += a->data[i] == '\n';
    char la[200], lb[200];
    snprintf(why, whysize, "%s: line %d is \"%s\", then \"%s\"", what, line,
             roundtrip_line(a->data, a->len, line, la, sizeof la),
             b->data ? roundtrip_line(b->data, b->len, line, lb, sizeof lb) : "");
}

/* Run the property on text[0..len). On a failure, writes a one-line reason
 * into why, naming the printed line at fault. */
static int roundtrip_check(const char *text, size_t len, char *why, size_t whysize)
{
    msim_scenario *sc = NULL, *again = NULL, *derived = NULL;
    msim_error err = {0};
    char line[1400], bad[200];
    why[0] = '\0';
    if (msim_scenario_parse(text, len, "fuzz", NULL, 0, &sc, &err)) {
        if (roundtrip_format_error(&err)) {
            snprintf(why, whysize, "msim_error_format truncates badly: %s",
                     msim_error_format(&err, line, sizeof line));
            return ROUNDTRIP_FORMAT;
        }
        return ROUNDTRIP_OK;
    }
    msim_buf first = {0}, second = {0}, third = {0};
    int rc = ROUNDTRIP_OK;
    msim_scenario_print(sc, &first);
    if (first.failed || !first.data) {
        rc = ROUNDTRIP_NOMEM;
        snprintf(why, whysize, "printing the scenario failed");
    } else if (msim_scenario_parse(first.data, first.len, "fuzz", NULL, 0, &again, &err)) {
        rc = ROUNDTRIP_RELOAD;
        snprintf(why, whysize, "the printed scenario does not load: %s; printed line %d is \"%s\"",
                 msim_error_format(&err, line, sizeof line), err.line,
                 roundtrip_line(first.data, first.len, err.line, bad, sizeof bad));
    } else {
        msim_scenario_print(again, &second);
        if (second.len != first.len || memcmp(second.data, first.data, first.len) != 0) {
            rc = ROUNDTRIP_REPRINT;
            roundtrip_differs(&first, &second, "printed, loaded and printed again, it differs",
                              why, whysize);
        }
    }
    if (rc == ROUNDTRIP_OK) {
        if (msim_scenario_derive(sc, NULL, 0, &derived, &err)) {
            rc = ROUNDTRIP_DERIVE;
            snprintf(why, whysize, "deriving without overrides failed: %s",
                     msim_error_format(&err, line, sizeof line));
        } else {
            msim_scenario_print(derived, &third);
            if (third.len != first.len || memcmp(third.data, first.data, first.len) != 0) {
                rc = ROUNDTRIP_DERIVE;
                roundtrip_differs(&first, &third, "a scenario derived without overrides prints differently",
                                  why, whysize);
            }
        }
    }
    msim_buf_free(&first);
    msim_buf_free(&second);
    msim_buf_free(&third);
    msim_scenario_free(derived); /* before sc: a derived scenario shares its base's text */
    msim_scenario_free(again);
    msim_scenario_free(sc);
    return rc;
}

#endif
