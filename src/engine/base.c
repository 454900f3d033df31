/* base.c — error records, the default allocator, small time helpers. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metasim/base.h"

static void *default_realloc(void *ud, void *p, size_t size)
{
    (void)ud;
    if (size == 0) {
        free(p);
        return NULL;
    }
    return realloc(p, size);
}

const msim_allocator msim_default_allocator = {default_realloc, NULL};

static const char *const error_text[] = {
    "success",
#define MSIM_ERRNO_TEXT(name, text) text,
    MSIM_ERRNO_MAP(MSIM_ERRNO_TEXT)
#undef MSIM_ERRNO_TEXT
};

const char *msim_strerror(int code)
{
    int i = code < 0 ? -code : code;
    if (i >= (int)(sizeof error_text / sizeof error_text[0])) return "unknown error";
    return error_text[i];
}

int msim_error_set(msim_error *err, int code, const char *fmt, ...)
{
    if (err) {
        err->code = code;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

const char *msim_error_format(const msim_error *err, char *buf, size_t size)
{
    size_t n = 0;
    buf[0] = '\0';
#define APPEND(...)                                                                                \
    do {                                                                                           \
        if (n < size) {                                                                            \
            int k = snprintf(buf + n, size - n, __VA_ARGS__);                                      \
            if (k > 0) n += (size_t)k;                                                             \
        }                                                                                          \
    } while (0)
    if (err->file[0]) {
        APPEND("%s", err->file);
        if (err->line > 0) APPEND(":%d:%d", err->line, err->col);
        APPEND(": ");
    }
    if (err->path[0]) APPEND("%s: ", err->path);
    APPEND("%s", err->msg[0] ? err->msg : msim_strerror(err->code));
    if (err->hint[0]) APPEND(" (%s)", err->hint);
#undef APPEND
    return buf;
}

msim_time msim_time_from_s(double seconds)
{
    double ns = seconds * 1e9;
    if (!(ns < 9.2e18)) return MSIM_NEVER;
    if (ns <= -9.2e18) return -MSIM_NEVER;
    return (msim_time)(ns < 0 ? ns - 0.5 : ns + 0.5); /* round half away from zero */
}
