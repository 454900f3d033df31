/* units.c — (to be written) */
#include "../suites.h"

const test_case units_tests[] = {
    {NULL, NULL, 0},
};
