/* types.c — the built-in value types: how each reads a node, checks its range
 * and prints itself back in scenario syntax (so `metasim check` output loads
 * again to the same scenario).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "load.h"

static bool has_range(const msim_param *p)
{
    return p->min <= p->max;
}

static const char *node_shape(const msim_node *n)
{
    return n->type == MSIM_NODE_MAP ? "a map" : n->type == MSIM_NODE_SEQ ? "a list" : "a value";
}

/* What a parameter expects, in words; for a choice, the choices. */
static const char *expectation(const msim_param *p, char *buf, size_t size)
{
    if (p->type != &msim_type_enum && p->type != &msim_type_flags) return p->type->expect;
    size_t off = (size_t)snprintf(buf, size, "%s", p->type == &msim_type_enum ? "one of: " : "a list of: ");
    for (const msim_choice *c = p->extra; c->name && off < size; c++)
        off += (size_t)snprintf(buf + off, size - off, "%s%s", c == p->extra ? "" : ", ", c->name);
    return buf;
}

static int wrong(msim_bind *b, const msim_node *n, const msim_param *p)
{
    char buf[200];
    const char *what = expectation(p, buf, sizeof buf);
    if (n->type != MSIM_NODE_SCALAR)
        return msim_bind_fail(b, n, -MSIM_ETYPE, "expected %s, got %s", what, node_shape(n));
    return msim_bind_fail(b, n, -MSIM_ETYPE, "expected %s, got \"%s\"", what, n->text);
}

/* Range check with values shown by `show` in the parameter's own units. */
static int check_range(msim_bind *b, const msim_node *n, const msim_param *p, double v,
                       void (*show)(char *, size_t, double))
{
    if (!has_range(p) || (v >= p->min && v <= p->max)) return 0;
    char lo[48], hi[48], got[48];
    show(lo, sizeof lo, p->min);
    show(hi, sizeof hi, p->max);
    show(got, sizeof got, v);
    if (p->max >= 1e300)
        return msim_bind_fail(b, n, -MSIM_EINVAL, "must be at least %s, got %s", lo, got);
    return msim_bind_fail(b, n, -MSIM_EINVAL, "must be between %s and %s, got %s", lo, hi, got);
}

static void show_number(char *buf, size_t size, double v)
{
    snprintf(buf, size, "%g", v);
}

static void show_duration(char *buf, size_t size, double v)
{
    if (!(fabs(v) < 9e18)) { /* an open bound (1e300) is no time at all */
        snprintf(buf, size, "%s", v > 0 ? "forever" : "-forever");
        return;
    }
    msim__format_duration(buf, size, (msim_time)v);
}

static void show_rate(char *buf, size_t size, double v)
{
    msim__format_rate(buf, size, v);
}

static void show_percent(char *buf, size_t size, double v)
{
    snprintf(buf, size, "%g%%", v * 100);
}

/* ---- bool ----------------------------------------------------------------- */

static int parse_bool(msim_bind *b, const msim_node *n, const msim_param *p, void *field)
{
    if (n->type != MSIM_NODE_SCALAR || msim__parse_bool(n->text, field)) return wrong(b, n, p);
    return 0;
}

static void print_bool(msim_buf *out, const msim_param *p, const void *field)
{
    (void)p;
    msim_buf_printf(out, "%s", *(const bool *)field ? "true" : "false");
}

const msim_type msim_type_bool = {"bool", "true or false", parse_bool, print_bool};

/* ---- integers and numbers --------------------------------------------------- */

static int parse_int(msim_bind *b, const msim_node *n, const msim_param *p, void *field)
{
    int64_t v;
    if (n->type != MSIM_NODE_SCALAR || msim__parse_int(n->text, &v)) return wrong(b, n, p);
    *(int64_t *)field = v;
    return check_range(b, n, p, (double)v, show_number);
}

static void print_int(msim_buf *out, const msim_param *p, const void *field)
{
    (void)p;
    msim_buf_printf(out, "%lld", (long long)*(const int64_t *)field);
}

const msim_type msim_type_int = {"integer", "an integer", parse_int, print_int};

static bool is_unlimited(const char *s)
{
    return strcmp(s, "unlimited") == 0 || strcmp(s, "inf") == 0 || strcmp(s, "infinite") == 0;
}

static int parse_count(msim_bind *b, const msim_node *n, const msim_param *p, void *field)
{
    if (n->type == MSIM_NODE_SCALAR && is_unlimited(n->text)) {
        *(int64_t *)field = MSIM_UNLIMITED;
        return 0;
    }
    return parse_int(b, n, p, field);
}

static void print_count(msim_buf *out, const msim_param *p, const void *field)
{
    if (*(const int64_t *)field == MSIM_UNLIMITED)
        msim_buf_printf(out, "unlimited");
    else
        print_int(out, p, field);
}

const msim_type msim_type_count = {"count", "an integer or \"unlimited\"", parse_count, print_count};

static int parse_number(msim_bind *b, const msim_node *n, const msim_param *p, void *field)
{
    double v;
    if (n->type != MSIM_NODE_SCALAR || msim__parse_number(n->text, &v)) return wrong(b, n, p);
    *(double *)field = v;
    return check_range(b, n, p, v, show_number);
}

static void print_number(msim_buf *out, const msim_param *p, const void *field)
{
    (void)p;
    msim_buf_printf(out, "%.15g", *(const double *)field);
}

const msim_type msim_type_number = {"number", "a number", parse_number, print_number};

static int parse_fraction(msim_bind *b, const msim_node *n, const msim_param *p, void *field)
{
    double v;
    if (n->type != MSIM_NODE_SCALAR || msim__parse_fraction(n->text, &v)) return wrong(b, n, p);
    *(double *)field = v;
    if (v < 0 || v > 1)
        return msim_bind_fail(b, n, -MSIM_EINVAL, "must be a fraction between 0 and 1 (0%%-100%%)");
    return check_range(b, n, p, v, show_percent);
}

static void print_fraction(msim_buf *out, const msim_param *p, const void *field)
{
    (void)p;
    msim_buf_printf(out, "%.15g%%", *(const double *)field * 100);
}

const msim_type msim_type_fraction = {"fraction", "a fraction such as 0.25 or 25%",
                                      parse_fraction, print_fraction};

static int parse_factor(msim_bind *b, const msim_node *n, const msim_param *p, void *field)
{
    double v;
    if (n->type != MSIM_NODE_SCALAR || msim__parse_factor(n->text, &v)) return wrong(b, n, p);
    *(double *)field = v;
    return check_range(b, n, p, v, show_number);
}

const msim_type msim_type_factor = {"factor", "a factor such as 0.5, 2x or 50%", parse_factor,
                                    print_number};

/* ---- durations and rates ------------------------------------------------------ */

static int parse_duration(msim_bind *b, const msim_node *n, const msim_param *p, void *field)
{
    msim_time t;
    if (n->type != MSIM_NODE_SCALAR || msim__parse_duration(n->text, &t)) return wrong(b, n, p);
    *(msim_time *)field = t;
    return check_range(b, n, p, (double)t, show_duration);
}

static void print_duration(msim_buf *out, const msim_param *p, const void *field)
{
    (void)p;
    char buf[48];
    msim_buf_printf(out, "%s", msim__format_duration(buf, sizeof buf, *(const msim_time *)field));
}

const msim_type msim_type_duration = {"duration", "a duration such as 250ms, 1.5s or 10m",
                                      parse_duration, print_duration};

static int parse_timeout(msim_bind *b, const msim_node *n, const msim_param *p, void *field)
{
    if (n->type == MSIM_NODE_SCALAR && (strcmp(n->text, "none") == 0 || strcmp(n->text, "never") == 0)) {
        *(msim_time *)field = MSIM_NEVER;
        return 0;
    }
    return parse_duration(b, n, p, field);
}

const msim_type msim_type_timeout = {"duration or none", "a duration such as 1s, or none",
                                     parse_timeout, print_duration};

static int parse_rate(msim_bind *b, const msim_node *n, const msim_param *p, void *field)
{
    double v;
    if (n->type != MSIM_NODE_SCALAR || msim__parse_rate(n->text, &v)) return wrong(b, n, p);
    *(double *)field = v;
    return check_range(b, n, p, v, show_rate);
}

static void print_rate(msim_buf *out, const msim_param *p, const void *field)
{
    (void)p;
    char buf[48];
    msim_buf_printf(out, "%s", msim__format_rate(buf, sizeof buf, *(const double *)field));
}

const msim_type msim_type_rate = {"rate", "a rate such as 950/s or 57k/m", parse_rate, print_rate};

static void show_bytes(char *buf, size_t size, double v)
{
    msim__format_bytes(buf, size, v);
}

static int parse_bytes(msim_bind *b, const msim_node *n, const msim_param *p, void *field)
{
    double v;
    if (n->type != MSIM_NODE_SCALAR || msim__parse_bytes(n->text, &v)) return wrong(b, n, p);
    *(double *)field = v;
    return check_range(b, n, p, v, show_bytes);
}

static void print_bytes(msim_buf *out, const msim_param *p, const void *field)
{
    (void)p;
    char buf[48];
    msim_buf_printf(out, "%s", msim__format_bytes(buf, sizeof buf, *(const double *)field));
}

const msim_type msim_type_bytes = {"size", "a size such as 256MiB, 2MB or 512KiB", parse_bytes,
                                   print_bytes};

/* ---- strings, enums, flags ---------------------------------------------------- */

static int parse_string(msim_bind *b, const msim_node *n, const msim_param *p, void *field)
{
    if (n->type != MSIM_NODE_SCALAR) return wrong(b, n, p);
    const char *s = msim_bind_strdup(b, n->text);
    if (!s) return msim_bind_fail(b, n, -MSIM_ENOMEM, "out of memory");
    *(const char **)field = s;
    return 0;
}

/* ---- scalars that survive a round trip ---------------------------------------- */

static bool reserved_word(const char *s)
{
    static const char *const words[] = {"~", "null", "Null", "NULL", "true", "True", "TRUE",
                                        "false", "False", "FALSE", "yes", "Yes", "no", "No",
                                        "on", "On", "off", "Off", "y", "n"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strcmp(s, words[i]) == 0) return true;
    return false;
}

/* Could text be written as a plain scalar and read back unchanged? Errs on
 * the side of quoting. */
static bool plain_safe(const char *s, bool flow)
{
    size_t n = strlen(s);
    if (n == 0 || s[0] == ' ' || s[n - 1] == ' ' || s[n - 1] == ':' || reserved_word(s)) return false;
    if (strchr("?:,[]{}#&*!|>'\"%@`", s[0]) || (s[0] == '-' && (n == 1 || s[1] == ' '))) return false;
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20 || c >= 0x7f) return false;
        if ((c == ':' && p[1] == ' ') || (c == ' ' && p[1] == '#')) return false;
        if (flow && strchr(",[]{}", c)) return false;
    }
    return true;
}

static void print_quoted(msim_buf *out, const char *s)
{
    msim_buf_printf(out, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            msim_buf_printf(out, "\\%c", *p);
        else if (*p == '\n')
            msim_buf_printf(out, "\\n");
        else if (*p == '\t')
            msim_buf_printf(out, "\\t");
        else if (*p < 0x20 || *p == 0x7f)
            msim_buf_printf(out, "\\x%02x", *p);
        else if (p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9)) {
            msim_buf_printf(out, "\\%c", p[2] == 0xa8 ? 'L' : 'P'); /* line/paragraph separator */
            p += 2;
        } else if (p[0] == 0xc2 && p[1] == 0x85) {
            msim_buf_printf(out, "\\N"); /* next line */
            p += 1;
        } else
            msim_buf_printf(out, "%c", *p);
    }
    msim_buf_printf(out, "\"");
}

void msim_print_scalar(msim_buf *out, const char *text)
{
    if (plain_safe(text, out->flow))
        msim_buf_printf(out, "%s", text);
    else
        print_quoted(out, text);
}

static void print_string(msim_buf *out, const msim_param *p, const void *field)
{
    (void)p;
    const char *s = *(const char *const *)field;
    msim_print_scalar(out, s ? s : "");
}

const msim_type msim_type_string = {"string", "a string", parse_string, print_string};

static size_t count_choices(const msim_choice *c)
{
    size_t n = 0;
    while (c[n].name)
        n++;
    return n;
}

/* Index of a choice by name, or an error naming the valid ones. */
static int find_choice(msim_bind *b, const msim_node *n, const msim_param *p, int *out)
{
    const msim_choice *c = p->extra;
    size_t nc = count_choices(c);
    if (n->type != MSIM_NODE_SCALAR) return wrong(b, n, p);
    for (size_t i = 0; i < nc; i++)
        if (strcmp(c[i].name, n->text) == 0) return *out = (int)i, 0;
    const char *names[64];
    size_t off = 0;
    char list[160] = "";
    for (size_t i = 0; i < nc && i < 64; i++) {
        names[i] = c[i].name;
        off += (size_t)snprintf(list + off, off < sizeof list ? sizeof list - off : 0, "%s%s",
                                i ? ", " : "", c[i].name);
    }
    int rc = msim_bind_fail(b, n, -MSIM_EINVAL, "unknown value \"%s\"; expected one of: %s", n->text,
                            list);
    const char *near = msim_nearest(n->text, names, nc < 64 ? nc : 64);
    if (near && b->err) snprintf(b->err->hint, sizeof b->err->hint, "did you mean \"%s\"?", near);
    return rc;
}

static int parse_enum(msim_bind *b, const msim_node *n, const msim_param *p, void *field)
{
    return find_choice(b, n, p, field);
}

static void print_enum(msim_buf *out, const msim_param *p, const void *field)
{
    const msim_choice *c = p->extra;
    msim_buf_printf(out, "%s", c[*(const int *)field].name);
}

const msim_type msim_type_enum = {"choice", "one of the listed choices", parse_enum, print_enum};

static int parse_flags(msim_bind *b, const msim_node *n, const msim_param *p, void *field)
{
    unsigned bits = 0;
    int i;
    if (n->type == MSIM_NODE_SCALAR) {
        if (strcmp(n->text, "[]") != 0 && strcmp(n->text, "none") != 0) {
            if (find_choice(b, n, p, &i)) return b->err ? b->err->code : -MSIM_EINVAL;
            bits = 1u << i;
        }
    } else if (n->type == MSIM_NODE_SEQ) {
        for (size_t k = 0; k < n->len; k++) {
            size_t mark = msim__bind_push_index(b, k);
            int rc = find_choice(b, n->items[k], p, &i);
            msim__bind_pop(b, mark);
            if (rc) return rc;
            bits |= 1u << i;
        }
    } else {
        return wrong(b, n, p);
    }
    *(unsigned *)field = bits;
    return 0;
}

static void print_flags(msim_buf *out, const msim_param *p, const void *field)
{
    const msim_choice *c = p->extra;
    unsigned bits = *(const unsigned *)field;
    msim_buf_printf(out, "[");
    for (size_t i = 0, k = 0; c[i].name; i++)
        if (bits & (1u << i)) msim_buf_printf(out, "%s%s", k++ ? ", " : "", c[i].name);
    msim_buf_printf(out, "]");
}

const msim_type msim_type_flags = {"set", "a list of the listed choices", parse_flags, print_flags};

/* ---- structs, lists, references ----------------------------------------------- */

static int parse_struct(msim_bind *b, const msim_node *n, const msim_param *p, void *field)
{
    return msim_bind_struct(b, p->extra, n, field);
}

static void print_struct_inline(msim_buf *out, const msim_param *p, const void *field)
{
    const msim_schema *s = p->extra;
    bool was = out->flow;
    out->flow = true;
    msim_buf_printf(out, "{");
    for (size_t i = 0; i < s->nparams; i++) {
        msim_buf_printf(out, "%s%s: ", i ? ", " : "", s->params[i].name);
        msim__print_value(out, &s->params[i], (const char *)field + s->params[i].offset);
    }
    msim_buf_printf(out, "}");
    out->flow = was;
}

const msim_type msim_type_struct = {"map", "a map of settings", parse_struct, print_struct_inline};

static int parse_list(msim_bind *b, const msim_node *n, const msim_param *p, void *field)
{
    const msim_schema *s = p->extra;
    msim_list *list = field;
    if (n->type == MSIM_NODE_SCALAR && strcmp(n->text, "[]") == 0) {
        list->n = 0;
        list->items = NULL;
        return 0;
    }
    if (n->type != MSIM_NODE_SEQ) return wrong(b, n, p);
    list->n = n->len;
    list->items = msim_bind_alloc(b, (n->len + 1) * s->size);
    if (!list->items) return msim_bind_fail(b, n, -MSIM_ENOMEM, "out of memory");
    for (size_t i = 0; i < n->len; i++) {
        size_t mark = msim__bind_push_index(b, i);
        int rc = msim_bind_struct(b, s, n->items[i], (char *)list->items + i * s->size);
        msim__bind_pop(b, mark);
        if (rc) return rc;
    }
    return 0;
}

static void print_list(msim_buf *out, const msim_param *p, const void *field)
{
    const msim_schema *s = p->extra;
    const msim_list *list = field;
    msim_param item = {.type = &msim_type_struct, .extra = s};
    msim_buf_printf(out, "[");
    for (size_t i = 0; i < list->n; i++) {
        msim_buf_printf(out, "%s", i ? ", " : "");
        print_struct_inline(out, &item, (const char *)list->items + i * s->size);
    }
    msim_buf_printf(out, "]");
}

const msim_type msim_type_list = {"list", "a list of maps", parse_list, print_list};

static int parse_ref(msim_bind *b, const msim_node *n, const msim_param *p, void *field)
{
    msim_ref *ref = field;
    ref->index = -1;
    if (msim__node_is_null(n)) { /* an optional reference left out */
        ref->name = NULL;
        return 0;
    }
    if (n->type != MSIM_NODE_SCALAR || n->text[0] == '\0') return wrong(b, n, p);
    ref->name = msim_bind_strdup(b, n->text);
    ref->index = -1;
    if (!ref->name || msim__bind_note_ref(b, ref, n, (unsigned)(uintptr_t)p->extra))
        return msim_bind_fail(b, n, -MSIM_ENOMEM, "out of memory");
    return 0;
}

static void print_ref(msim_buf *out, const msim_param *p, const void *field)
{
    (void)p;
    const msim_ref *ref = field;
    msim_buf_printf(out, "%s", ref->name ? ref->name : "~");
}

const msim_type msim_type_ref = {"component", "the name of a component", parse_ref, print_ref};
