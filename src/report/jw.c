/* jw.c — the streaming JSON writer (see jw.h). */
#include <stdio.h>

#include "jw.h"

static void jw_indent(jw *w)
{
    msim_buf_printf(w->out, "\n%*s", 2 * w->depth, "");
}

static void jw_string(jw *w, const char *s)
{
    msim_buf_printf(w->out, "\"");
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            msim_buf_printf(w->out, "\\%c", c);
        else if (c == '\n')
            msim_buf_printf(w->out, "\\n");
        else if (c < 0x20)
            msim_buf_printf(w->out, "\\u%04x", c);
        else
            msim_buf_printf(w->out, "%c", c);
    }
    msim_buf_printf(w->out, "\"");
}

/* Start a member (key may be NULL inside arrays). */
static void jw_key(jw *w, const char *key)
{
    if (w->need_comma[w->depth]) msim_buf_printf(w->out, ",");
    w->need_comma[w->depth] = true;
    jw_indent(w);
    if (key) {
        jw_string(w, key);
        msim_buf_printf(w->out, ": ");
    }
}

void msim__jw_open(jw *w, const char *key, char bracket)
{
    if (w->depth > 0) jw_key(w, key);
    msim_buf_printf(w->out, "%c", bracket);
    w->need_comma[++w->depth] = false;
}

void msim__jw_close(jw *w, char bracket)
{
    bool had = w->need_comma[w->depth--];
    if (had) jw_indent(w);
    msim_buf_printf(w->out, "%c", bracket);
}

void msim__jw_num(jw *w, const char *key, double v)
{
    char buf[48];
    jw_key(w, key);
    msim__fmt_num(buf, sizeof buf, v);
    msim_buf_printf(w->out, "%s", buf[0] ? buf : "null");
}

void msim__jw_str(jw *w, const char *key, const char *s)
{
    jw_key(w, key);
    if (s)
        jw_string(w, s);
    else
        msim_buf_printf(w->out, "null");
}

