/* eventq.c — (to be written) */
#include "../suites.h"

const test_case eventq_tests[] = {
    {NULL, NULL, 0},
};
