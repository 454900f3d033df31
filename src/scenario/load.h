/* load.h — the scenario loader's insides, shared by src/scenario/ files.
 *
 * The loader reads YAML into a tree of msim_node (yaml.c), applies --set
 * overrides to the tree (override.c), then binds the tree to typed structs
 * through the parameter tables (bind.c, types.c, dist_parse.c) and resolves
 * references between components (scenario.c).
 */
#ifndef METASIM_LOAD_H
#define METASIM_LOAD_H

#include "metasim.h"
#include "../engine/sim.h"

/* yaml.c: parse text into a node tree allocated in `ar`. A document that is
 * empty yields *root == NULL. */
int msim__yaml_parse(msim__arena *ar, const char *text, size_t len, const char *file,
                     msim_node **root, msim_error *err);

/* A scalar node made from text (defaults are parsed through the same code as
 * user values). */
msim_node *msim__node_scalar(msim__arena *ar, const char *text, const char *file);

/* override.c: apply one override to the tree (creating keys as needed). */
int msim__override_apply(msim__arena *ar, msim_node **root, const msim_override *ov, int index,
                         msim_error *err);

/* units.c: scenario value syntax. Each returns 0 or -1 when the text does not
 * match the form. */
int msim__parse_duration(const char *s, msim_time *out);
int msim__parse_rate(const char *s, double *per_second);
int msim__parse_fraction(const char *s, double *out);
int msim__parse_factor(const char *s, double *out);
int msim__parse_number(const char *s, double *out);
int msim__parse_int(const char *s, int64_t *out);
int msim__parse_bool(const char *s, bool *out);
int msim__parse_bytes(const char *s, double *out);
const char *msim__format_bytes(char *buf, size_t size, double bytes);
/* Canonical text of a duration ("250ms", "1.5s", "10m", "none"). */
const char *msim__format_duration(char *buf, size_t size, msim_time t);
const char *msim__format_rate(char *buf, size_t size, double per_second);

/* A reference waiting to be resolved once every component is known. */
typedef struct msim__pending_ref {
    msim_ref *ref;
    const msim_node *node;
    char path[256];
    unsigned roles; /* MSIM_ROLE_* the referenced kind must have */
} msim__pending_ref;

typedef struct msim__where {
    const void *field;
    const msim_node *node;
} msim__where;

struct msim_bind {
    msim__arena *ar;
    msim_error *err;
    const msim_node *map; /* the map whose key is being bound (for "missing key") */
    char path[256];
    size_t pathlen;
    const char *basedir;
    msim__where *where;
    size_t nwhere, capwhere;
    msim__pending_ref *refs;
    size_t nrefs, caprefs;
};

/* Path bookkeeping: push a ".key" or "[i]" segment; pop restores. */
size_t msim__bind_push_key(msim_bind *b, const char *key);
size_t msim__bind_push_index(msim_bind *b, size_t i);
void msim__bind_pop(msim_bind *b, size_t mark);

int msim__bind_note_ref(msim_bind *b, msim_ref *ref, const msim_node *n, unsigned roles);
int msim__bind_note_where(msim_bind *b, const void *field, const msim_node *n);

/* Bind one parameter from a node (NULL: its default). */
int msim__bind_param(msim_bind *b, const msim_param *p, const msim_node *n, void *base);

/* True for a null scalar (`key:` with no value, `~`, `null`). */
bool msim__node_is_null(const msim_node *n);

/* Print a node as a YAML flow value (bind.c). */
void msim__print_node(msim_buf *out, const msim_node *n);

/* Print one value of a parameter (types.c). */
void msim__print_value(msim_buf *out, const msim_param *p, const void *field);

#endif
