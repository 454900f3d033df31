/* hist.c — (to be written) */
#include "../suites.h"

const test_case hist_tests[] = {
    {NULL, NULL, 0},
};
