/* bind.c — binding YAML maps to structs through parameter tables.
 *
 * For each map: every key must name a parameter (else "unknown key", with the
 * nearest valid one); every parameter takes its value from the map or from its
 * default, through its type's parser, and is range-checked; then the schema's
 * cross-field check runs. The binder keeps the key path and remembers which
 * node each field came from, so every error — including those raised by later
 * checks — names file:line:col and the path.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "load.h"

/* ---- text buffers ------------------------------------------------------------- */

void msim_buf_printf(msim_buf *buf, const char *fmt, ...)
{
    if (buf->failed) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        size_t room = buf->cap - buf->len;
        int n = vsnprintf(buf->data ? buf->data + buf->len : NULL, room, fmt, ap);
        va_end(ap);
        if (n < 0) return;
        if ((size_t)n < room) {
            buf->len += (size_t)n;
            return;
        }
        size_t cap = buf->cap ? buf->cap : 256;
        while (cap - buf->len <= (size_t)n)
            cap *= 2;
        char *nd = realloc(buf->data, cap);
        if (!nd) {
            buf->failed = true;
            return;
        }
        buf->data = nd;
        buf->cap = cap;
    }
}

void msim_buf_free(msim_buf *buf)
{
    free(buf->data);
    memset(buf, 0, sizeof *buf);
}

/* ---- the key path -------------------------------------------------------------- */

size_t msim__bind_push_key(msim_bind *b, const char *key)
{
    size_t mark = b->pathlen;
    int n = snprintf(b->path + mark, sizeof b->path - mark, "%s%s", mark ? "." : "", key);
    if (n > 0) b->pathlen = mark + (size_t)n < sizeof b->path ? mark + (size_t)n : sizeof b->path - 1;
    return mark;
}

size_t msim__bind_push_index(msim_bind *b, size_t i)
{
    size_t mark = b->pathlen;
    int n = snprintf(b->path + mark, sizeof b->path - mark, "[%zu]", i);
    if (n > 0) b->pathlen = mark + (size_t)n < sizeof b->path ? mark + (size_t)n : sizeof b->path - 1;
    return mark;
}

void msim__bind_pop(msim_bind *b, size_t mark)
{
    b->pathlen = mark;
    b->path[mark] = '\0';
}

/* ---- errors and bookkeeping ------------------------------------------------------ */

int msim_bind_fail(msim_bind *b, const msim_node *at, int code, const char *fmt, ...)
{
    msim_error *e = b->err;
    if (!e) return code;
    memset(e, 0, sizeof *e);
    e->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    snprintf(e->path, sizeof e->path, "%s", b->path);
    if (at && at->file) {
        snprintf(e->file, sizeof e->file, "%s", at->file);
        e->line = at->line;
        e->col = at->col;
    }
    return code;
}

void *msim_bind_alloc(msim_bind *b, size_t size)
{
    return msim__arena_alloc(b->ar, size);
}

char *msim_bind_strdup(msim_bind *b, const char *s)
{
    return msim__arena_strdup(b->ar, s);
}

const char *msim_bind_basedir(const msim_bind *b)
{
    return b->basedir ? b->basedir : ".";
}

static int grow(void **arr, size_t *cap, size_t len, size_t elem)
{
    if (len < *cap) return 0;
    size_t ncap = *cap ? *cap * 2 : 16;
    void *np = realloc(*arr, ncap * elem);
    if (!np) return -MSIM_ENOMEM;
    *arr = np;
    *cap = ncap;
    return 0;
}

int msim__bind_note_where(msim_bind *b, const void *field, const msim_node *n)
{
    if (grow((void **)&b->where, &b->capwhere, b->nwhere, sizeof *b->where)) return -MSIM_ENOMEM;
    b->where[b->nwhere++] = (msim__where){field, n};
    return 0;
}

const msim_node *msim_bind_where(const msim_bind *b, const void *field)
{
    for (size_t i = b->nwhere; i-- > 0;)
        if (b->where[i].field == field) return b->where[i].node;
    return NULL;
}

int msim__bind_note_ref(msim_bind *b, msim_ref *ref, const msim_node *n, unsigned roles)
{
    if (grow((void **)&b->refs, &b->caprefs, b->nrefs, sizeof *b->refs)) return -MSIM_ENOMEM;
    msim__pending_ref *r = &b->refs[b->nrefs++];
    r->ref = ref;
    r->node = n;
    r->roles = roles;
    snprintf(r->path, sizeof r->path, "%s", b->path);
    return 0;
}

bool msim__node_is_null(const msim_node *n)
{
    if (!n || n->type != MSIM_NODE_SCALAR || n->quoted) return false;
    return n->text[0] == '\0' || strcmp(n->text, "~") == 0 || strcmp(n->text, "null") == 0;
}

const msim_node *msim_node_get(const msim_node *map, const char *key)
{
    if (!map || map->type != MSIM_NODE_MAP) return NULL;
    for (size_t i = 0; i < map->len; i++)
        if (strcmp(map->keys[i]->text, key) == 0) return map->items[i];
    return NULL;
}

/* ---- nearest key ---------------------------------------------------------------- */

/* Edit distance counting a swap of two neighbours as one edit (optimal string
 * alignment): "mena" is one edit from "mean". */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63) return 64;
    size_t d[64][64];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < best) best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best) best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    }
    return d[la][lb];
}

const char *msim_nearest(const char *word, const char *const *candidates, size_t n)
{
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    for (size_t i = 0; i < n; i++) {
        if (!candidates[i]) continue;
        size_t d = edit_distance(word, candidates[i]);
        /* a prefix of a valid key ("max_attempt") is a likely typo too */
        if (strncmp(word, candidates[i], strlen(word)) == 0 && strlen(word) >= 3) d = d < 2 ? d : 2;
        if (d < best_d) {
            best_d = d;
            best = candidates[i];
        }
    }
    size_t len = strlen(word);
    size_t limit = len <= 4 ? 1 : len <= 8 ? 2 : 3;
    return best_d <= limit ? best : NULL;
}

/* ---- binding ---------------------------------------------------------------------- */

static const msim_param *find_param(const msim_schema *s, const char *key)
{
    for (size_t i = 0; i < s->nparams; i++) {
        const msim_param *p = &s->params[i];
        if (strcmp(p->name, key) == 0 || (p->alias && strcmp(p->alias, key) == 0)) return p;
    }
    return NULL;
}

static int unknown_key(msim_bind *b, const msim_schema *s, const msim_node *key)
{
    const char *names[128];
    size_t n = 0;
    for (size_t i = 0; i < s->nparams && n < 128; i++)
        names[n++] = s->params[i].name;
    const char *near = msim_nearest(key->text, names, n);
    size_t mark = msim__bind_push_key(b, key->text);
    int rc = msim_bind_fail(b, key, -MSIM_EUNKNOWN_KEY, "unknown key \"%s\" in %s", key->text,
                            s->name);
    if (b->err) {
        if (strchr(key->text, '=') && strchr(key->text, ')'))
            snprintf(b->err->hint, sizeof b->err->hint,
                     "inside {...} a comma ends the value: quote a distribution with several "
                     "arguments, e.g. \"lognormal(median=7ms, sigma=0.6)\"");
        else if (near)
            snprintf(b->err->hint, sizeof b->err->hint, "did you mean \"%s\"?", near);
        else {
            size_t off = (size_t)snprintf(b->err->hint, sizeof b->err->hint, "valid keys:");
            for (size_t i = 0; i < n && off < sizeof b->err->hint; i++)
                off += (size_t)snprintf(b->err->hint + off, sizeof b->err->hint - off, "%s %s",
                                        i ? "," : "", names[i]);
        }
    }
    msim__bind_pop(b, mark);
    return rc;
}

/* A default is scenario text too: a flow list or map goes through the YAML
 * reader, anything else is a scalar. */
static const msim_node *default_node(msim_bind *b, const msim_param *p)
{
    if (p->def[0] != '[' && p->def[0] != '{') return msim__node_scalar(b->ar, p->def, "<default>");
    msim_node *root = NULL;
    if (msim__yaml_parse(b->ar, p->def, strlen(p->def), "<default>", &root, NULL)) return NULL;
    return root;
}

int msim__bind_param(msim_bind *b, const msim_param *p, const msim_node *n, void *base)
{
    void *field = (char *)base + p->offset;
    if (msim__node_is_null(n)) n = NULL;
    if (!n && p->type != &msim_type_struct) {
        if (!p->def)
            return msim_bind_fail(b, b->map, -MSIM_EMISSING, "missing required key \"%s\" (%s)",
                                  p->name, p->type->expect);
        n = default_node(b, p);
        if (!n) return msim_bind_fail(b, NULL, -MSIM_ENOMEM, "bad default for %s", p->name);
    } else if (n && msim__bind_note_where(b, field, n)) {
        return msim_bind_fail(b, n, -MSIM_ENOMEM, "out of memory");
    }
    return p->type->parse(b, n, p, field);
}

static bool from_override(const msim_node *key)
{
    return key->file && strncmp(key->file, "--set ", 6) == 0;
}

/* The value of a parameter in map n, under its name or its alias. Both at
 * once is an error — unless one came from --set, which then wins. */
static int param_value(msim_bind *b, const msim_param *p, const msim_node *n, const msim_node **v)
{
    const msim_node *kn = NULL, *ka = NULL;
    for (size_t i = 0; n && i < n->len; i++) {
        if (strcmp(n->keys[i]->text, p->name) == 0) kn = n->keys[i], *v = n->items[i];
        if (p->alias && strcmp(n->keys[i]->text, p->alias) == 0) ka = n->keys[i];
    }
    if (!ka) return 0;
    const msim_node *va = msim_node_get(n, p->alias);
    if (!kn || from_override(ka)) {
        *v = va;
        return 0;
    }
    if (from_override(kn)) return 0;
    return msim_bind_fail(b, ka, -MSIM_EINVAL, "\"%s\" repeats \"%s\" (they are the same key)",
                          ka->text, kn->text);
}

int msim_bind_struct(msim_bind *b, const msim_schema *s, const msim_node *n, void *out)
{
    if (msim__node_is_null(n)) n = NULL;
    if (n && n->type != MSIM_NODE_MAP)
        return msim_bind_fail(b, n, -MSIM_ETYPE, "expected a map of %s settings", s->name);
    for (size_t i = 0; n && i < n->len; i++)
        if (!find_param(s, n->keys[i]->text)) return unknown_key(b, s, n->keys[i]);
    for (size_t i = 0; i < s->nparams; i++) {
        const msim_param *p = &s->params[i];
        const msim_node *v = NULL;
        int rc = param_value(b, p, n, &v);
        size_t mark = msim__bind_push_key(b, p->name);
        const msim_node *outer = b->map;
        b->map = n;
        if (!rc) rc = msim__bind_param(b, p, v, out);
        b->map = outer;
        msim__bind_pop(b, mark);
        if (rc) return rc;
    }
    return s->check ? s->check(b, n, out) : 0;
}

/* ---- printing -------------------------------------------------------------------- */

void msim_print_struct(msim_buf *out, const msim_schema *s, const void *cfg, int indent)
{
    for (size_t i = 0; i < s->nparams; i++) {
        const msim_param *p = &s->params[i];
        const void *field = (const char *)cfg + p->offset;
        msim_buf_printf(out, "%*s%s:", indent, "", p->name);
        if (p->type == &msim_type_struct) {
            msim_buf_printf(out, "\n");
            msim_print_struct(out, p->extra, field, indent + 2);
        } else {
            msim_buf_printf(out, " ");
            msim__print_value(out, p, field);
            msim_buf_printf(out, "\n");
        }
    }
}

void msim__print_value(msim_buf *out, const msim_param *p, const void *field)
{
    p->type->print(out, p, field);
}

void msim__print_node(msim_buf *out, const msim_node *n)
{
    bool was = out->flow;
    out->flow = true;
    if (!n) {
        msim_buf_printf(out, "~");
    } else if (n->type == MSIM_NODE_SCALAR) {
        if (n->quoted || !n->text[0])
            msim_buf_printf(out, "\"%s\"", n->text); /* keep it a string */
        else
            msim_print_scalar(out, n->text);
    } else {
        bool map = n->type == MSIM_NODE_MAP;
        msim_buf_printf(out, map ? "{" : "[");
        for (size_t i = 0; i < n->len; i++) {
            msim_buf_printf(out, "%s", i ? ", " : "");
            if (map) {
                msim_print_scalar(out, n->keys[i]->text);
                msim_buf_printf(out, ": ");
            }
            msim__print_node(out, n->items[i]);
        }
        msim_buf_printf(out, map ? "}" : "]");
    }
    out->flow = was;
}

const char *msim_param_type_name(const msim_param *p)
{
    return p->type->name;
}
