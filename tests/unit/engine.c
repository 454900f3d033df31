/* engine.c — (to be written) */
#include "../suites.h"

const test_case engine_tests[] = {
    {NULL, NULL, 0},
};
