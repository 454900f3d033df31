/* yaml.c — YAML text to a tree of msim_node, with positions.
 *
 * libyaml does the parsing; this file only builds the tree from its event
 * stream, keeping the line and column of every node so that any later error
 * can point at the exact place. Anchors and aliases are resolved by sharing the
 * anchored node. Duplicate keys are an error: YAML allows the last one to win
 * silently, which hides typos in long scenarios.
 */
#include <string.h>

#include <yaml.h>

#include "load.h"

typedef struct builder {
    msim_node *node;
    const char *anchor; /* registered when the collection closes, so that an
                           alias inside it cannot make the tree a cycle */
    msim_node **keys, **items; /* growing children (heap), copied on close */
    size_t len, cap;
    msim_node *pending_key; /* map: key read, value not yet */
} builder;

typedef struct anchor {
    char *name;
    msim_node *node;
} anchor;

typedef struct tree_state {
    msim__arena *ar;
    const char *file;
    msim_error *err;
    builder stack[64];
    int depth;
    anchor *anchors;
    size_t nanchors, capanchors;
    msim_node *root;
} tree_state;

static int fail_at(tree_state *st, int line, int col, int code, const char *msg)
{
    msim_error *e = st->err;
    msim_error_set(e, code, "%s", msg);
    if (e) {
        snprintf(e->file, sizeof e->file, "%s", st->file);
        e->line = line;
        e->col = col;
    }
    return code;
}

static msim_node *new_node(tree_state *st, msim_node_type type, const yaml_mark_t *m)
{
    msim_node *n = msim__arena_alloc(st->ar, sizeof *n);
    if (!n) return NULL;
    n->type = type;
    n->file = st->file;
    n->line = (int)m->line + 1;
    n->col = (int)m->column + 1;
    return n;
}

msim_node *msim__node_scalar(msim__arena *ar, const char *text, const char *file)
{
    msim_node *n = msim__arena_alloc(ar, sizeof *n);
    if (!n) return NULL;
    n->type = MSIM_NODE_SCALAR;
    n->text = msim__arena_strdup(ar, text);
    n->file = file;
    return n->text ? n : NULL;
}

static int remember_anchor(tree_state *st, const yaml_char_t *name, msim_node *n)
{
    if (!name) return 0;
    if (st->nanchors == st->capanchors) {
        size_t cap = st->capanchors ? st->capanchors * 2 : 8;
        anchor *na = realloc(st->anchors, cap * sizeof *na);
        if (!na) return -MSIM_ENOMEM;
        st->anchors = na;
        st->capanchors = cap;
    }
    st->anchors[st->nanchors].name = msim__arena_strdup(st->ar, (const char *)name);
    st->anchors[st->nanchors++].node = n;
    return 0;
}

static msim_node *find_anchor(tree_state *st, const yaml_char_t *name)
{
    for (size_t i = st->nanchors; i-- > 0;)
        if (strcmp(st->anchors[i].name, (const char *)name) == 0) return st->anchors[i].node;
    return NULL;
}

/* The key path of the collection being built, plus `last`. */
static void stack_path(const tree_state *st, const char *last, char *buf, size_t size)
{
    size_t off = 0;
    buf[0] = '\0';
    for (int d = 0; d < st->depth - 1 && off < size; d++) {
        const builder *b = &st->stack[d];
        if (b->node->type == MSIM_NODE_SEQ)
            off += (size_t)snprintf(buf + off, size - off, "[%zu]", b->len);
        else if (b->pending_key)
            off += (size_t)snprintf(buf + off, size - off, "%s%s", off ? "." : "", b->pending_key->text);
    }
    if (off < size) snprintf(buf + off, size - off, "%s%s", off ? "." : "", last);
}

static int duplicate_key(tree_state *st, const msim_node *first, const msim_node *again)
{
    char msg[300];
    snprintf(msg, sizeof msg, "duplicate key \"%s\" (the first is at %d:%d)", again->text, first->line,
             first->col);
    int rc = fail_at(st, again->line, again->col, -MSIM_ESYNTAX, msg);
    if (st->err) stack_path(st, again->text, st->err->path, sizeof st->err->path);
    return rc;
}

static int push_child(builder *b, msim_node *key, msim_node *item)
{
    if (b->len == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 8;
        msim_node **nk = realloc(b->keys, cap * sizeof *nk);
        if (!nk) return -MSIM_ENOMEM;
        b->keys = nk;
        msim_node **ni = realloc(b->items, cap * sizeof *ni);
        if (!ni) return -MSIM_ENOMEM;
        b->items = ni;
        b->cap = cap;
    }
    b->keys[b->len] = key;
    b->items[b->len++] = item;
    return 0;
}

/* Attach a finished node to its parent (or make it the root). */
static int attach(tree_state *st, msim_node *n)
{
    if (st->depth == 0) {
        st->root = n;
        return 0;
    }
    builder *parent = &st->stack[st->depth - 1];
    if (parent->node->type == MSIM_NODE_SEQ) return push_child(parent, NULL, n);
    if (!parent->pending_key) {
        if (n->type != MSIM_NODE_SCALAR)
            return fail_at(st, n->line, n->col, -MSIM_ESYNTAX, "a map key must be a plain word");
        for (size_t i = 0; i < parent->len; i++)
            if (strcmp(parent->keys[i]->text, n->text) == 0) return duplicate_key(st, parent->keys[i], n);
        parent->pending_key = n;
        return 0;
    }
    int rc = push_child(parent, parent->pending_key, n);
    parent->pending_key = NULL;
    return rc;
}

static int open_collection(tree_state *st, msim_node_type type, const yaml_event_t *ev,
                           const yaml_char_t *anchor_name)
{
    if (st->depth == (int)(sizeof st->stack / sizeof st->stack[0]))
        return fail_at(st, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1,
                       -MSIM_ESYNTAX, "nesting too deep");
    msim_node *n = new_node(st, type, &ev->start_mark);
    if (!n) return -MSIM_ENOMEM;
    memset(&st->stack[st->depth], 0, sizeof st->stack[0]);
    st->stack[st->depth].node = n;
    if (anchor_name) {
        st->stack[st->depth].anchor = msim__arena_strdup(st->ar, (const char *)anchor_name);
        if (!st->stack[st->depth].anchor) return -MSIM_ENOMEM;
    }
    st->depth++;
    return 0;
}

static int close_collection(tree_state *st)
{
    builder *b = &st->stack[--st->depth];
    msim_node *n = b->node;
    n->len = b->len;
    n->items = msim__arena_alloc(st->ar, (b->len + 1) * sizeof *n->items);
    if (n->type == MSIM_NODE_MAP) n->keys = msim__arena_alloc(st->ar, (b->len + 1) * sizeof *n->keys);
    int rc = (!n->items || (n->type == MSIM_NODE_MAP && !n->keys)) ? -MSIM_ENOMEM : 0;
    if (!rc && b->len) { /* an empty {} or [] has no child arrays to copy */
        memcpy(n->items, b->items, b->len * sizeof *n->items);
        if (n->keys) memcpy(n->keys, b->keys, b->len * sizeof *n->keys);
    }
    free(b->keys);
    free(b->items);
    if (!rc && b->anchor) rc = remember_anchor(st, (const yaml_char_t *)b->anchor, n);
    return rc ? rc : attach(st, n);
}

static int on_scalar(tree_state *st, const yaml_event_t *ev)
{
    msim_node *n = new_node(st, MSIM_NODE_SCALAR, &ev->start_mark);
    if (!n) return -MSIM_ENOMEM;
    n->text = msim__arena_strdup(st->ar, (const char *)ev->data.scalar.value);
    n->quoted = ev->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
                ev->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
    if (!n->text || remember_anchor(st, ev->data.scalar.anchor, n)) return -MSIM_ENOMEM;
    return attach(st, n);
}

static int on_event(tree_state *st, const yaml_event_t *ev)
{
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        return on_scalar(st, ev);
    case YAML_SEQUENCE_START_EVENT:
        return open_collection(st, MSIM_NODE_SEQ, ev, ev->data.sequence_start.anchor);
    case YAML_MAPPING_START_EVENT:
        return open_collection(st, MSIM_NODE_MAP, ev, ev->data.mapping_start.anchor);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        return close_collection(st);
    case YAML_ALIAS_EVENT: {
        for (int d = 0; d < st->depth; d++)
            if (st->stack[d].anchor && strcmp(st->stack[d].anchor, (const char *)ev->data.alias.anchor) == 0)
                return fail_at(st, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1,
                               -MSIM_ESYNTAX, "an alias cannot refer to the collection it is in");
        msim_node *n = find_anchor(st, ev->data.alias.anchor);
        if (!n)
            return fail_at(st, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1,
                           -MSIM_ESYNTAX, "alias to an unknown anchor");
        return attach(st, n);
    }
    case YAML_DOCUMENT_START_EVENT:
        if (st->root)
            return fail_at(st, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1,
                           -MSIM_ESYNTAX, "a scenario file holds one YAML document");
        return 0;
    default:
        return 0;
    }
}

/* libyaml's complaint, in words a scenario author can act on: a tab in the
 * indentation gets its own message; a construct left open says where it began. */
static int syntax_error(tree_state *st, const yaml_parser_t *p, const char *text, size_t len)
{
    char msg[400];
    size_t at = p->problem_mark.index;
    int line = (int)p->problem_mark.line + 1, col = (int)p->problem_mark.column + 1;
    if (at < len && text[at] == '\t') {
        snprintf(msg, sizeof msg, "malformed YAML: a tab indents this line; YAML indents with spaces only");
        return fail_at(st, line, col, -MSIM_ESYNTAX, msg);
    }
    int n = snprintf(msg, sizeof msg, "malformed YAML: %s", p->problem ? p->problem : "?");
    bool inside_set = strncmp(st->file, "--set ", 6) == 0; /* positions mean nothing there */
    if (p->context && n > 0 && (size_t)n < sizeof msg && !inside_set) {
        int cl = (int)p->context_mark.line + 1, cc = (int)p->context_mark.column + 1;
        if (cl != line || cc != col)
            snprintf(msg + n, sizeof msg - (size_t)n, " %s (it starts at %d:%d)", p->context, cl, cc);
        else
            snprintf(msg + n, sizeof msg - (size_t)n, " %s", p->context);
    } else if (p->context && n > 0 && (size_t)n < sizeof msg) {
        snprintf(msg + n, sizeof msg - (size_t)n, " %s", p->context);
    }
    return fail_at(st, line, col, -MSIM_ESYNTAX, msg);
}

static void cleanup(tree_state *st)
{
    while (st->depth > 0) {
        builder *b = &st->stack[--st->depth];
        free(b->keys);
        free(b->items);
    }
    free(st->anchors);
}

int msim__yaml_parse(msim__arena *ar, const char *text, size_t len, const char *file,
                     msim_node **root, msim_error *err)
{
    tree_state st = {.ar = ar, .file = file, .err = err};
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) return msim_error_set(err, -MSIM_ENOMEM, "out of memory");
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    int rc = 0;
    for (int done = 0; !done && !rc;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            rc = syntax_error(&st, &parser, text, len);
            break;
        }
        done = ev.type == YAML_STREAM_END_EVENT;
        rc = on_event(&st, &ev);
        if (rc == -MSIM_ENOMEM) msim_error_set(err, rc, "out of memory reading YAML");
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&parser);
    cleanup(&st);
    *root = rc ? NULL : st.root;
    return rc;
}
