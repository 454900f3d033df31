/* dist.c — (to be written) */
#include "../suites.h"

const test_case dist_tests[] = {
    {NULL, NULL, 0},
};
