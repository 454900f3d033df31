/* list.h — `metasim list`: the registries, printed from their declarations. */
#ifndef METASIM_CLI_LIST_H
#define METASIM_CLI_LIST_H

#include <stdio.h>

/* Print every kind, trigger and distribution; markdown: as the scenario
 * reference document. Returns an exit code. */
int metasim_list(FILE *out, int markdown);

#endif
