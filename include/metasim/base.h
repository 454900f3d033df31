/* metasim/base.h — the vocabulary every other header uses: simulated time,
 * error codes and records, and the allocation funnel.
 *
 * Ownership: an msim_error is caller-owned storage the library fills in; it
 * holds no pointers to free. Memory obtained through msim_allocator is released
 * through the same allocator.
 */
#ifndef METASIM_BASE_H
#define METASIM_BASE_H

#include <stddef.h>
#include <stdint.h>

#define MSIM_VERSION "0.1.0"

/* Simulated time is an integer count of nanoseconds since the start of a run.
 * Integers keep event order exact and runs reproducible across compilers. */
typedef int64_t msim_time;

#define MSIM_NS    ((msim_time)1)
#define MSIM_US    ((msim_time)1000)
#define MSIM_MS    ((msim_time)1000000)
#define MSIM_SEC   ((msim_time)1000000000)
#define MSIM_NEVER INT64_MAX

static inline double msim_time_to_s(msim_time t)
{
    return (double)t / 1e9;
}
msim_time msim_time_from_s(double seconds);

/* Error codes: 0 is success, library functions return the negative value. */
#define MSIM_ERRNO_MAP(X)                                                                          \
    X(NOMEM, "out of memory")                                                                      \
    X(INVAL, "invalid value")                                                                      \
    X(SYNTAX, "malformed YAML")                                                                    \
    X(TYPE, "wrong type")                                                                          \
    X(UNKNOWN_KEY, "unknown key")                                                                  \
    X(MISSING, "missing required key")                                                             \
    X(REF, "unknown reference")                                                                    \
    X(NOENT, "no such file")                                                                       \
    X(IO, "input/output error")                                                                    \
    X(USAGE, "bad usage")                                                                          \
    X(RUNTIME, "runtime failure")

typedef enum {
    MSIM_OK = 0,
#define MSIM_ERRNO_ENUM(name, text) MSIM_E##name,
    MSIM_ERRNO_MAP(MSIM_ERRNO_ENUM)
#undef MSIM_ERRNO_ENUM
        MSIM_E_COUNT
} msim_errno_pos;

/* Library functions return -MSIM_Exxx; msim_strerror names it. */
const char *msim_strerror(int code);

/* The human side of an error: where it is, which key, what was expected, and
 * a hint such as the nearest valid key. Any field may be empty. */
typedef struct msim_error {
    int code;        /* negative MSIM_E* */
    char file[256];  /* scenario file, "<--set 2>", or empty */
    int line, col;   /* 1-based; 0 when unknown */
    char path[256];  /* key path, e.g. "clients.web.retry.max_attempts" */
    char msg[512];   /* what went wrong and what was expected */
    char hint[160];  /* e.g. "did you mean \"max_attempts\"?" */
} msim_error;

/* Fill err (which may be NULL) and return code. printf-style message. */
int msim_error_set(msim_error *err, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Render "file:line:col: path: msg (hint)" into buf. Returns buf. */
const char *msim_error_format(const msim_error *err, char *buf, size_t size);

/* The allocation funnel. realloc-style: p == NULL allocates, size == 0 frees.
 * A run and a scenario each take one, so tests can inject failures. */
typedef struct msim_allocator {
    void *(*realloc)(void *ud, void *p, size_t size);
    void *ud;
} msim_allocator;

/* The default allocator: the C library's realloc/free. */
extern const msim_allocator msim_default_allocator;

#endif
