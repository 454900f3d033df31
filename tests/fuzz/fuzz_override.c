/* fuzz_override.c — a libFuzzer target for `--set PATH=VALUE` overrides.
 *
 * The input is up to 8 lines, each an override "PATH=VALUE" as the CLI would
 * pass it, applied to a fixed small scenario (a client, a service, a trigger).
 * Properties: loading either fails with an error or succeeds; a scenario
 * that loads round-trips through its printed form (roundtrip.h); and
 * msim_scenario_derive of the plain scenario with the same overrides prints
 * the same as loading with them, since the CLI and sweeps take both paths.
 *
 *   make fuzz        builds build/fuzz/fuzz_override too
 *   ./build/fuzz/fuzz_override -dict=tests/fuzz/scenario.dict tests/fuzz/override-corpus
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "roundtrip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char base_text[] = "duration: 10s\n"
                                "clients:\n"
                                "  web: {target: api, rate: 10/s, retry: {retry_on: [timeout]}}\n"
                                "services:\n"
                                "  api: {service_time: 5ms, queue: {capacity: 10}}\n"
                                "triggers:\n"
                                "  - {kind: pause, target: api, at: 2s, for: 1s}\n"
                                "verdict: {warmup: 1s}\n";

enum { MAX_OV = 8 };

/* Cut the input into overrides, in place in `buf` (NUL-terminated). */
static size_t split_overrides(char *buf, msim_override *ov)
{
    size_t n = 0;
    for (char *line = buf; line && *line && n < MAX_OV;) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = '\0';
        char *eq = strchr(line, '=');
        if (eq && eq != line) {
            *eq = '\0';
            ov[n++] = (msim_override){line, eq + 1};
        }
        line = nl ? nl + 1 : NULL;
    }
    return n;
}

static void must_print_same(const msim_scenario *a, const msim_scenario *b)
{
    msim_buf pa = {0}, pb = {0};
    msim_scenario_print(a, &pa);
    msim_scenario_print(b, &pb);
    if (pa.len != pb.len || memcmp(pa.data, pb.data, pa.len) != 0) {
        fprintf(stderr, "derive and load disagree\n--- load:\n%.*s--- derive:\n%.*s",
                (int)pa.len, pa.data, (int)pb.len, pb.data);
        abort();
    }
    msim_buf_free(&pa);
    msim_buf_free(&pb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096) return 0;
    char *buf = malloc(size + 1);
    if (!buf) return 0;
    memcpy(buf, data, size);
    buf[size] = '\0'; /* an embedded NUL ends the input, as it would end argv */
    msim_override ov[MAX_OV];
    size_t nov = split_overrides(buf, ov);
    msim_scenario *loaded = NULL, *base = NULL, *derived = NULL;
    msim_error err = {0}, derr = {0};
    char line[1400];
    int rc = msim_scenario_parse(base_text, sizeof base_text - 1, "fuzz", ov, nov, &loaded, &err);
    if (msim_scenario_parse(base_text, sizeof base_text - 1, "fuzz", NULL, 0, &base, &derr)) abort();
    int drc = msim_scenario_derive(base, ov, nov, &derived, &derr);
    if ((rc == 0) != (drc == 0)) {
        fprintf(stderr, "load %s but derive %s: %s\n", rc ? "fails" : "works", drc ? "fails" : "works",
                msim_error_format(rc ? &err : &derr, line, sizeof line));
        abort();
    }
    if (rc) {
        msim_error_format(&err, line, sizeof line);
    } else {
        must_print_same(loaded, derived);
        msim_buf text = {0};
        char why[8192];
        msim_scenario_print(loaded, &text);
        if (roundtrip_check(text.data, text.len, why, sizeof why) != ROUNDTRIP_OK) {
            fprintf(stderr, "round trip failed: %s\n", why);
            abort();
        }
        msim_buf_free(&text);
    }
    msim_scenario_free(derived);
    msim_scenario_free(base);
    msim_scenario_free(loaded);
    free(buf);
    return 0;
}
