/* jw.h — a small streaming JSON writer shared by the report writers (not API).
 *
 * Written by hand rather than taken from a JSON library: outputs are written
 * once, top to bottom, and what matters is exact control of number formatting
 * (the same result must give the same bytes). NAN and infinities become null.
 */
#ifndef METASIM_JW_H
#define METASIM_JW_H

#include <stdbool.h>

#include "format.h"

typedef struct jw {
    msim_buf *out;
    int depth;
    bool need_comma[32];
} jw;

/* Open an object ('{') or array ('['), as member `key` (NULL in arrays and at
 * the top). */
void msim__jw_open(jw *w, const char *key, char bracket);
void msim__jw_close(jw *w, char bracket);
void msim__jw_num(jw *w, const char *key, double v);
void msim__jw_str(jw *w, const char *key, const char *s);

#endif
