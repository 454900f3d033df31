/* theory.c — (to be written) */
#include "suites.h"

const test_case theory_tests[] = {
    {NULL, NULL, 0},
};
