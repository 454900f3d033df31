/* oscillation.c — (to be written) */
#include "../suites.h"

const test_case oscillation_tests[] = {
    {NULL, NULL, 0},
};
