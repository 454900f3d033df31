/* examples.c — (to be written) */
#include "suites.h"

const test_case examples_tests[] = {
    {NULL, NULL, 0},
};
