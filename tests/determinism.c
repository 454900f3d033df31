/* determinism.c — (to be written) */
#include "suites.h"

const test_case determinism_tests[] = {
    {NULL, NULL, 0},
};
