/* metasim/param.h — parameters declared once.
 *
 * Every scenario key is an msim_param row: its name, its type, where it lives
 * in the configuration struct, its default (written in scenario syntax), its
 * range and a one-line doc. The loader binds YAML to structs from these rows;
 * `metasim check` prints the filled-in scenario from them; `metasim list` and
 * docs/scenario.md describe them from them. Nothing else repeats a key name.
 *
 * Ownership: nodes and everything a binder allocates belong to the scenario
 * being loaded and are freed with it.
 */
#ifndef METASIM_PARAM_H
#define METASIM_PARAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base.h"

/* ---- YAML, as the binder sees it ------------------------------------------ */

typedef enum { MSIM_NODE_SCALAR, MSIM_NODE_MAP, MSIM_NODE_SEQ } msim_node_type;

typedef struct msim_node msim_node;
struct msim_node {
    msim_node_type type;
    const char *text;  /* scalar text; NULL for maps and sequences */
    bool quoted;       /* scalar was quoted: never a number or a null */
    size_t len;        /* entries of a map or sequence */
    msim_node **keys;  /* map keys (scalars); NULL for sequences */
    msim_node **items; /* map values or sequence items */
    const char *file;  /* where it was written */
    int line, col;     /* 1-based */
};

/* The value under key in a map node, or NULL. */
const msim_node *msim_node_get(const msim_node *map, const char *key);

/* ---- binding ------------------------------------------------------------- */

typedef struct msim_bind msim_bind;
typedef struct msim_param msim_param;

/* Report an error at a node (NULL: at the current key) and return -code. The
 * key path is filled in from the binder's position. */
int msim_bind_fail(msim_bind *b, const msim_node *at, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* Memory that lives as long as the scenario. Zeroed. */
void *msim_bind_alloc(msim_bind *b, size_t size);
char *msim_bind_strdup(msim_bind *b, const char *s);

/* The directory of the scenario file, for resolving relative paths. */
const char *msim_bind_basedir(const msim_bind *b);

/* Where the value of a bound field came from (NULL for a default). Lets a
 * schema's check hook point at the offending key. */
const msim_node *msim_bind_where(const msim_bind *b, const void *field);

/* A growable text buffer the printers write into. */
typedef struct msim_buf {
    char *data;
    size_t len, cap;
    bool failed; /* an allocation failed; contents are truncated */
    bool flow;   /* printers: writing inside a YAML flow collection {..} or [..] */
} msim_buf;

/* Write text as a YAML scalar that reads back as exactly that text: plain when
 * that is safe, else double-quoted with escapes. */
void msim_print_scalar(msim_buf *out, const char *text);
void msim_buf_printf(msim_buf *buf, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void msim_buf_free(msim_buf *buf);

/* A value type: how to read it from a node and how to write it back. */
typedef struct msim_type {
    const char *name;   /* "duration" */
    const char *expect; /* for errors: "a duration such as 250ms or 1.5s" */
    int (*parse)(msim_bind *b, const msim_node *n, const msim_param *p, void *field);
    void (*print)(msim_buf *out, const msim_param *p, const void *field);
} msim_type;

/* One named choice of an enum (queue discipline, backoff kind, ...). */
typedef struct msim_choice {
    const char *name;
    const char *doc;
} msim_choice;

/* A set of parameters (a component kind, or a nested block such as `retry`). */
typedef struct msim_schema {
    const char *name;
    const char *doc;
    const msim_param *params;
    size_t nparams;
    size_t size; /* sizeof the struct the params describe */
    /* Cross-field validation after every field is bound; may be NULL. */
    int (*check)(msim_bind *b, const msim_node *n, void *cfg);
} msim_schema;

#define MSIM_SCHEMA(nm, doc_, params_, type_, check_)                                              \
    {                                                                                              \
        nm, doc_, params_, sizeof(params_) / sizeof(params_[0]), sizeof(type_), check_             \
    }

struct msim_param {
    const char *name;
    const msim_type *type;
    size_t offset;
    const char *def; /* default in scenario syntax; NULL means required */
    double min, max; /* inclusive bounds in the stored unit; min > max: unbounded */
    const char *doc;
    const void *extra; /* choices (msim_choice[], NULL-terminated), a nested
                          msim_schema, or a ref's required kind role */
    const char *alias; /* an accepted second spelling, or NULL */
};

#define MSIM_UNBOUNDED 1, 0

/* Built-in value types. Stored C types in brackets. */
extern const msim_type msim_type_bool;     /* [bool] true/false */
extern const msim_type msim_type_int;      /* [int64_t] */
extern const msim_type msim_type_count;    /* [int64_t] integer or "unlimited" (-1) */
extern const msim_type msim_type_number;   /* [double] */
extern const msim_type msim_type_fraction; /* [double] 0.25 or 25% */
extern const msim_type msim_type_factor;   /* [double] 0.5, 2x or 50% */
extern const msim_type msim_type_duration; /* [msim_time] 250ms, 1.5s, 10m, 2h */
extern const msim_type msim_type_timeout;  /* [msim_time] a duration, or none (MSIM_NEVER) */
extern const msim_type msim_type_rate;     /* [double, per second] 950/s, 57k/m, 1.2M/h */
extern const msim_type msim_type_bytes;    /* [double, bytes] 256MiB, 2MB, 512KiB */
extern const msim_type msim_type_string;   /* [const char *] */
extern const msim_type msim_type_enum;     /* [int] index into extra (msim_choice[]) */
extern const msim_type msim_type_flags;    /* [unsigned] bit i = choice i; list or one name */
extern const msim_type msim_type_struct;   /* [the nested struct] extra = msim_schema* */
extern const msim_type msim_type_dist;     /* [msim_dist] */
extern const msim_type msim_type_ref;      /* [msim_ref] a component name; extra = roles */
extern const msim_type msim_type_list;     /* [msim_list] a list of maps; extra = item schema */

/* A bound list of structs (items point to n structs of the item schema's size). */
typedef struct msim_list {
    size_t n;
    void *items;
} msim_list;

#define MSIM_UNLIMITED (-1)

/* A reference to another component, resolved after every component is bound. */
typedef struct msim_ref {
    const char *name;
    int32_t index; /* component index in the scenario; -1 until resolved */
} msim_ref;

/* Bind a map node (or NULL for "all defaults") to a struct described by a
 * schema. Used by the scenario loader and by kinds with custom types. */
int msim_bind_struct(msim_bind *b, const msim_schema *s, const msim_node *n, void *out);

/* Print a bound struct as YAML at an indent (used by `metasim check`). */
void msim_print_struct(msim_buf *out, const msim_schema *s, const void *cfg, int indent);

/* Render one parameter's default and type for documentation. */
const char *msim_param_type_name(const msim_param *p);

/* The closest of `n` candidate words to `word` by edit distance, or NULL when
 * nothing is close enough to be a plausible typo. */
const char *msim_nearest(const char *word, const char *const *candidates, size_t n);

#endif
