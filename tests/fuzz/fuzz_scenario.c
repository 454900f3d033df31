/* fuzz_scenario.c — a libFuzzer target for the scenario loader.
 *
 * Feeds arbitrary bytes to msim_scenario_parse and checks the property in
 * roundtrip.h: a clean error, or a scenario whose printed form loads again
 * and prints identically. A violated property aborts, so libFuzzer saves the
 * input; crashes, leaks and undefined behaviour are the sanitizers' to catch.
 *
 *   make fuzz                       build build/fuzz/fuzz_scenario
 *   make fuzz-run FUZZ_TIME=300     fuzz from tests/fuzz/corpus/
 *
 * Inputs that failed go to tests/fuzz/crashes/, which the plain test suite
 * replays (fuzz_corpus_replay in tests/golden.c) so they stay fixed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "roundtrip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* 64 KiB is far beyond any scenario; longer inputs only slow the search */
    if (size > 65536) return 0;
    char why[8192];
    if (roundtrip_check((const char *)data, size, why, sizeof why) != ROUNDTRIP_OK) {
        fprintf(stderr, "round trip failed: %s\n", why);
        abort();
    }
    return 0;
}
