/* dist_parse.c — reading distributions from scenario text.
 *
 *   service_time: 7ms                                  constant
 *   service_time: exponential(mean=10ms)               call form
 *   service_time: {kind: lognormal, median: 7ms, sigma: 0.6}   map form
 *
 * Each kind's arguments are declared in `kinds` below (name and whether it is
 * a duration); the parser, the error messages and `metasim list` read that
 * table. The sampler's internal parameters are computed here, once.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "load.h"

enum { ARG_DURATION, ARG_NUMBER, ARG_TEXT };

typedef struct arg_spec {
    const char *name;
    int type;
} arg_spec;

typedef struct arg {
    const char *key, *value;
    const msim_node *node;
    bool used;
} arg;

typedef struct dist_ctx {
    msim_bind *b;
    const msim_node *node;
    arg args[8];
    size_t nargs;
    msim_dist *d;
} dist_ctx;

#define MAX_SPEC 6
typedef struct kind_spec {
    msim_dist_kind kind;
    arg_spec args[MAX_SPEC];
    int (*make)(dist_ctx *c);
} kind_spec;

/* ---- names ---------------------------------------------------------------------- */

static const msim_dist_info info[] = {
#define MSIM_DIST_INFO(id, name, params, doc) {name, doc, params},
    MSIM_DIST_KIND_MAP(MSIM_DIST_INFO)
#undef MSIM_DIST_INFO
};

static const char *const kind_names[] = {
#define MSIM_DIST_NAME(id, name, params, doc) name,
    MSIM_DIST_KIND_MAP(MSIM_DIST_NAME)
#undef MSIM_DIST_NAME
};

/* ---- argument access ---------------------------------------------------------- */

static arg *find_arg(dist_ctx *c, const char *name)
{
    for (size_t i = 0; i < c->nargs; i++)
        if (strcmp(c->args[i].key, name) == 0) return &c->args[i];
    return NULL;
}

#define fail(c, a, ...)                                                                            \
    msim_bind_fail((c)->b, (a) && (a)->node ? (a)->node : (c)->node, -MSIM_EINVAL, __VA_ARGS__)

/* A duration argument in ns; *present says whether it was given. */
static int get_duration(dist_ctx *c, const char *name, double *out, bool *present)
{
    arg *a = find_arg(c, name);
    *present = a != NULL;
    if (!a) return 0;
    a->used = true;
    msim_time t;
    if (msim__parse_duration(a->value, &t))
        return fail(c, a, "%s must be a duration such as 10ms, got \"%s\"", name, a->value);
    if (t < 0) return fail(c, a, "%s must not be negative, got %s", name, a->value);
    *out = (double)t;
    return 0;
}

static int get_number(dist_ctx *c, const char *name, double *out, bool *present)
{
    arg *a = find_arg(c, name);
    *present = a != NULL;
    if (!a) return 0;
    a->used = true;
    if (msim__parse_number(a->value, out))
        return fail(c, a, "%s must be a number, got \"%s\"", name, a->value);
    return 0;
}

static int need(dist_ctx *c, bool present, const char *what)
{
    if (present) return 0;
    return msim_bind_fail(c->b, c->node, -MSIM_EMISSING, "%s needs %s", kind_names[c->d->kind], what);
}

static int positive(dist_ctx *c, const char *name, double v)
{
    if (v > 0) return 0;
    arg *a = find_arg(c, name);
    return fail(c, a, "%s must be greater than zero, got %s", name, a ? a->value : "0");
}

/* ---- the kinds ----------------------------------------------------------------- */

static int make_constant(dist_ctx *c)
{
    bool has;
    if (get_duration(c, "value", &c->d->a, &has) || need(c, has, "value=")) return -1;
    c->d->mean_ns = c->d->a;
    return 0;
}

static int make_exponential(dist_ctx *c)
{
    bool has;
    if (get_duration(c, "mean", &c->d->a, &has) || need(c, has, "mean=") ||
        positive(c, "mean", c->d->a))
        return -1;
    c->d->mean_ns = c->d->a;
    return 0;
}

/* Lognormal by median and sigma, by mean and sigma, or by mean and p99. For
 * mean+p99, sigma solves  ln(p99/mean) = z99*sigma - sigma^2/2  (smaller root),
 * which needs p99/mean <= exp(z99^2/2) ~ 14.9. */
static int make_lognormal(dist_ctx *c)
{
    const double z99 = 2.3263478740408408;
    double median, sigma, mean, p99;
    bool has_median, has_sigma, has_mean, has_p99;
    if (get_duration(c, "median", &median, &has_median) || get_number(c, "sigma", &sigma, &has_sigma) ||
        get_duration(c, "mean", &mean, &has_mean) || get_duration(c, "p99", &p99, &has_p99))
        return -1;
    if (has_sigma && sigma < 0) return positive(c, "sigma", sigma);
    if (has_median && has_sigma && !has_mean && !has_p99) {
        if (positive(c, "median", median)) return -1;
        c->d->a = log(median);
    } else if (has_mean && has_sigma && !has_median && !has_p99) {
        if (positive(c, "mean", mean)) return -1;
        c->d->a = log(mean) - sigma * sigma / 2;
    } else if (has_mean && has_p99 && !has_median && !has_sigma) {
        if (positive(c, "mean", mean)) return -1;
        double r = log(p99 / mean), disc = z99 * z99 - 2 * r;
        if (!(p99 > mean) || disc < 0)
            return fail(c, find_arg(c, "p99"),
                        "a lognormal needs mean < p99 <= 14.9 x mean");
        sigma = z99 - sqrt(disc);
        c->d->a = log(mean) - sigma * sigma / 2;
    } else {
        return msim_bind_fail(c->b, c->node, -MSIM_EINVAL,
                              "lognormal takes median and sigma, mean and sigma, or mean and p99");
    }
    c->d->b = sigma;
    c->d->mean_ns = exp(c->d->a + sigma * sigma / 2);
    return 0;
}

static int make_gamma(dist_ctx *c)
{
    double shape, mean;
    bool has_shape, has_mean;
    if (get_number(c, "shape", &shape, &has_shape) || get_duration(c, "mean", &mean, &has_mean) ||
        need(c, has_shape && has_mean, "shape= and mean=") || positive(c, "shape", shape) ||
        positive(c, "mean", mean))
        return -1;
    c->d->a = shape;
    c->d->b = mean / shape; /* scale */
    c->d->mean_ns = mean;
    return 0;
}

static int make_erlang(dist_ctx *c)
{
    double k, mean;
    bool has_k, has_mean;
    if (get_number(c, "k", &k, &has_k) || get_duration(c, "mean", &mean, &has_mean) ||
        need(c, has_k && has_mean, "k= and mean="))
        return -1;
    if (k < 1 || k != floor(k))
        return fail(c, find_arg(c, "k"), "%s must be a whole number >= 1, got %s", "k",
                    find_arg(c, "k")->value);
    if (positive(c, "mean", mean)) return -1;
    c->d->a = k;
    c->d->b = mean / k;
    c->d->mean_ns = mean;
    return 0;
}

static int make_uniform(dist_ctx *c)
{
    bool has_min, has_max;
    if (get_duration(c, "min", &c->d->a, &has_min) || get_duration(c, "max", &c->d->b, &has_max) ||
        need(c, has_min && has_max, "min= and max="))
        return -1;
    if (c->d->b < c->d->a)
        return fail(c, find_arg(c, "max"), "%s must not be below min, got %s", "max",
                    find_arg(c, "max")->value);
    c->d->mean_ns = (c->d->a + c->d->b) / 2;
    return 0;
}

static int make_pareto(dist_ctx *c)
{
    double scale, shape;
    bool has_scale, has_shape;
    if (get_duration(c, "scale", &scale, &has_scale) || get_number(c, "shape", &shape, &has_shape) ||
        need(c, has_scale && has_shape, "scale= and shape=") || positive(c, "scale", scale))
        return -1;
    if (!(shape > 1))
        return fail(c, find_arg(c, "shape"), "%s must be above 1 (a finite mean), got %s", "shape",
                    find_arg(c, "shape")->value);
    c->d->a = shape;
    c->d->b = scale;
    c->d->mean_ns = shape * scale / (shape - 1);
    return 0;
}

int msim__dist_load_empirical(dist_ctx *c);
static int make_empirical(dist_ctx *c)
{
    return msim__dist_load_empirical(c);
}

static const kind_spec kinds[] = {
    {MSIM_DIST_CONSTANT, {{"value", ARG_DURATION}}, make_constant},
    {MSIM_DIST_EXPONENTIAL, {{"mean", ARG_DURATION}}, make_exponential},
    {MSIM_DIST_LOGNORMAL,
     {{"median", ARG_DURATION}, {"sigma", ARG_NUMBER}, {"mean", ARG_DURATION}, {"p99", ARG_DURATION}},
     make_lognormal},
    {MSIM_DIST_GAMMA, {{"shape", ARG_NUMBER}, {"mean", ARG_DURATION}}, make_gamma},
    {MSIM_DIST_ERLANG, {{"k", ARG_NUMBER}, {"mean", ARG_DURATION}}, make_erlang},
    {MSIM_DIST_UNIFORM, {{"min", ARG_DURATION}, {"max", ARG_DURATION}}, make_uniform},
    {MSIM_DIST_PARETO, {{"scale", ARG_DURATION}, {"shape", ARG_NUMBER}}, make_pareto},
    {MSIM_DIST_EMPIRICAL,
     {{"file", ARG_TEXT}, {"unit", ARG_TEXT}, {"column", ARG_NUMBER}, {"quantiles", ARG_TEXT}},
     make_empirical},
};

#define NKINDS (sizeof kinds / sizeof kinds[0])

const msim_dist_info *msim_dist_kinds(size_t *count)
{
    *count = MSIM_DIST_KIND_COUNT;
    return info;
}

/* ---- the canonical spec text ----------------------------------------------------------- */

static void write_spec(dist_ctx *c, const kind_spec *k)
{
    msim_dist *d = c->d;
    size_t off = 0, cap = sizeof d->spec;
    if (k->kind == MSIM_DIST_CONSTANT) {
        msim__format_duration(d->spec, cap, (msim_time)d->a);
        return;
    }
    off += (size_t)snprintf(d->spec, cap, "%s(", kind_names[k->kind]);
    int first = 1;
    for (int i = 0; i < MAX_SPEC && k->args[i].name; i++) {
        const arg *a = find_arg(c, k->args[i].name);
        if (!a || off >= cap) continue;
        char val[64];
        msim_time t;
        if (k->args[i].type == ARG_DURATION && !msim__parse_duration(a->value, &t))
            msim__format_duration(val, sizeof val, t);
        else if (k->args[i].type == ARG_TEXT)
            snprintf(val, sizeof val, "\"%s\"", a->value);
        else
            snprintf(val, sizeof val, "%s", a->value);
        off += (size_t)snprintf(d->spec + off, cap - off, "%s%s=%s", first ? "" : ", ", a->key, val);
        first = 0;
    }
    if (off < cap) snprintf(d->spec + off, cap - off, ")");
}

/* ---- reading the two syntaxes -------------------------------------------------------- */

static const kind_spec *find_kind(const char *name)
{
    for (size_t i = 0; i < NKINDS; i++)
        if (strcmp(kind_names[kinds[i].kind], name) == 0) return &kinds[i];
    return NULL;
}

static int unknown_kind(dist_ctx *c, const char *name)
{
    const char *near = msim_nearest(name, kind_names, MSIM_DIST_KIND_COUNT);
    int rc = msim_bind_fail(c->b, c->node, -MSIM_EINVAL,
                            "unknown distribution \"%s\"; expected one of: constant, exponential, "
                            "lognormal, gamma, erlang, uniform, pareto, empirical",
                            name);
    if (near && c->b->err) snprintf(c->b->err->hint, sizeof c->b->err->hint, "did you mean \"%s\"?", near);
    return rc;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    if (e - s >= 2 && (*s == '"' || *s == '\'') && e[-1] == *s) {
        e[-1] = '\0';
        s++;
    }
    return s;
}

/* Split "k=v, k2=\"a, b\"" into args (in place, in an arena copy). */
static int split_args(dist_ctx *c, char *body)
{
    char *p = body;
    while (*p) {
        char *start = p, quote = 0;
        for (; *p && (quote || *p != ','); p++)
            if (*p == '"' || *p == '\'') quote = quote == *p ? 0 : (quote ? quote : *p);
        if (*p) *p++ = '\0';
        char *eq = strchr(start, '=');
        if (!eq) {
            if (*trim(start) == '\0') continue;
            return msim_bind_fail(c->b, c->node, -MSIM_EINVAL,
                                  "expected name=value arguments, got \"%s\"", trim(start));
        }
        *eq = '\0';
        if (c->nargs == sizeof c->args / sizeof c->args[0])
            return msim_bind_fail(c->b, c->node, -MSIM_EINVAL, "too many arguments");
        c->args[c->nargs++] = (arg){trim(start), trim(eq + 1), c->node, false};
    }
    return 0;
}

/* "name(args)" or a bare duration. Sets *k (NULL for a constant). */
static int read_call(dist_ctx *c, const char *text, const kind_spec **k)
{
    const char *open = strchr(text, '(');
    if (!open) {
        msim_time t;
        if (msim__parse_duration(text, &t) || t < 0)
            return msim_bind_fail(c->b, c->node, -MSIM_ETYPE,
                                  "expected a distribution such as 10ms, exponential(mean=10ms) or "
                                  "lognormal(median=7ms, sigma=0.6), got \"%s\"",
                                  text);
        c->args[c->nargs++] = (arg){"value", text, c->node, false};
        *k = &kinds[0];
        return 0;
    }
    char *copy = msim_bind_strdup(c->b, text);
    if (!copy) return -MSIM_ENOMEM;
    char *name = copy, *body = copy + (open - text) + 1, *close = strrchr(body, ')');
    if (!close || *trim(close + 1))
        return msim_bind_fail(c->b, c->node, -MSIM_ESYNTAX, "missing \")\" in \"%s\"", text);
    *close = '\0';
    copy[open - text] = '\0';
    name = trim(name);
    if (!(*k = find_kind(name))) return unknown_kind(c, name);
    return split_args(c, body);
}

static int read_map(dist_ctx *c, const msim_node *n, const kind_spec **k)
{
    const msim_node *kind = msim_node_get(n, "kind");
    if (!kind || kind->type != MSIM_NODE_SCALAR)
        return msim_bind_fail(c->b, n, -MSIM_EMISSING, "a distribution map needs kind:");
    if (!(*k = find_kind(kind->text))) return unknown_kind(c, kind->text);
    for (size_t i = 0; i < n->len; i++) {
        if (strcmp(n->keys[i]->text, "kind") == 0) continue;
        if (n->items[i]->type != MSIM_NODE_SCALAR)
            return msim_bind_fail(c->b, n->items[i], -MSIM_ETYPE, "expected a value");
        if (c->nargs == sizeof c->args / sizeof c->args[0])
            return msim_bind_fail(c->b, n, -MSIM_EINVAL, "too many arguments");
        c->args[c->nargs++] = (arg){n->keys[i]->text, n->items[i]->text, n->items[i], false};
    }
    return 0;
}

/* Every argument must belong to the kind. */
static int check_args(dist_ctx *c, const kind_spec *k)
{
    for (size_t i = 0; i < c->nargs; i++) {
        const char *names[MAX_SPEC];
        size_t n = 0;
        bool ok = false;
        for (int j = 0; j < MAX_SPEC && k->args[j].name; j++) {
            names[n++] = k->args[j].name;
            ok |= strcmp(k->args[j].name, c->args[i].key) == 0;
        }
        if (ok) continue;
        const char *near = msim_nearest(c->args[i].key, names, n);
        int rc = msim_bind_fail(c->b, c->args[i].node, -MSIM_EUNKNOWN_KEY,
                                "%s takes %s; \"%s\" is not one of them", kind_names[k->kind],
                                info[k->kind].params, c->args[i].key);
        if (near && c->b->err) snprintf(c->b->err->hint, sizeof c->b->err->hint, "did you mean \"%s\"?", near);
        return rc;
    }
    return 0;
}

static int parse_dist(msim_bind *b, const msim_node *n, const msim_param *p, void *field)
{
    (void)p;
    msim_dist *d = field;
    memset(d, 0, sizeof *d);
    dist_ctx c = {.b = b, .node = n, .d = d};
    const kind_spec *k = NULL;
    int rc;
    if (n->type == MSIM_NODE_SCALAR)
        rc = read_call(&c, n->text, &k);
    else if (n->type == MSIM_NODE_MAP)
        rc = read_map(&c, n, &k);
    else
        rc = msim_bind_fail(b, n, -MSIM_ETYPE, "expected a distribution, got a list");
    if (rc) return rc;
    d->kind = k->kind;
    if (check_args(&c, k) || k->make(&c)) return b->err ? b->err->code : -MSIM_EINVAL;
    write_spec(&c, k);
    return 0;
}

static void print_dist(msim_buf *out, const msim_param *p, const void *field)
{
    (void)p;
    msim_print_scalar(out, ((const msim_dist *)field)->spec);
}

const msim_type msim_type_dist = {"distribution",
                                  "a distribution such as 10ms or exponential(mean=10ms)",
                                  parse_dist, print_dist};

/* ---- empirical data ----------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int unit_ns(dist_ctx *c, double *ns)
{
    arg *a = find_arg(c, "unit");
    const char *u = a ? a->value : "ms";
    if (a) a->used = true;
    char one[32];
    snprintf(one, sizeof one, "1%s", u);
    msim_time t;
    if (msim__parse_duration(one, &t) || t <= 0)
        return fail(c, a, "unit must be a time unit such as ms or s, got \"%s\"", u);
    *ns = (double)t;
    return 0;
}

/* One value per line from a column of a CSV file; a first line that is not a
 * number is a header. */
static int read_samples(dist_ctx *c, const char *path, int column, double scale)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return msim_bind_fail(c->b, c->node, -MSIM_ENOENT, "cannot open samples file %s: %s", path,
                              strerror(errno));
    size_t n = 0, cap = 1024;
    double *v = malloc(cap * sizeof *v);
    char line[4096];
    int lineno = 0, rc = v ? 0 : -MSIM_ENOMEM;
    while (!rc && fgets(line, sizeof line, f)) {
        lineno++;
        char *field = line;
        for (int col = 1; col < column && field; col++)
            field = (field = strchr(field, ',')) ? field + 1 : NULL;
        if (!field) continue;
        field[strcspn(field, ",\r\n")] = '\0';
        double x;
        if (*trim(field) == '\0') continue;
        if (msim__parse_number(field, &x)) {
            if (lineno == 1) continue;
            rc = msim_bind_fail(c->b, c->node, -MSIM_EINVAL, "%s:%d: expected a number, got \"%s\"",
                                path, lineno, trim(field));
            break;
        }
        if (x < 0) {
            rc = msim_bind_fail(c->b, c->node, -MSIM_EINVAL, "%s:%d: negative sample %g", path,
                                lineno, x);
            break;
        }
        if (n == cap) {
            double *nv = realloc(v, (cap *= 2) * sizeof *nv);
            if (!nv) {
                rc = -MSIM_ENOMEM;
                break;
            }
            v = nv;
        }
        v[n++] = x * scale;
    }
    fclose(f);
    if (!rc && n == 0) rc = msim_bind_fail(c->b, c->node, -MSIM_EINVAL, "%s holds no samples", path);
    double *table = rc ? NULL : msim_bind_alloc(c->b, n * sizeof *table);
    if (!rc && !table) rc = -MSIM_ENOMEM;
    if (!rc) {
        qsort(v, n, sizeof *v, cmp_double);
        memcpy(table, v, n * sizeof *v);
        double sum = 0;
        for (size_t i = 0; i + 1 < n; i++)
            sum += (table[i] + table[i + 1]) / 2;
        c->d->table = table;
        c->d->n = n;
        c->d->mean_ns = n == 1 ? table[0] : sum / (double)(n - 1);
    }
    free(v);
    return rc;
}

/* "0:1ms 0.5:7ms 0.99:60ms 1:200ms" — cumulative probability:value pairs. */
static int read_quantiles(dist_ctx *c, const arg *a)
{
    char *copy = msim_bind_strdup(c->b, a->value);
    double *probs = msim_bind_alloc(c->b, 64 * sizeof *probs);
    double *vals = msim_bind_alloc(c->b, 64 * sizeof *vals);
    if (!copy || !probs || !vals) return -MSIM_ENOMEM;
    size_t n = 0;
    for (char *tok = strtok(copy, " \t"); tok; tok = strtok(NULL, " \t")) {
        char *colon = strchr(tok, ':');
        msim_time t;
        if (n == 64 || !colon) return fail(c, a, "quantiles: expected p:value pairs such as 0.5:7ms, got \"%s\"", tok);
        *colon = '\0';
        if (msim__parse_fraction(tok, &probs[n]) || msim__parse_duration(colon + 1, &t) || t < 0)
            return fail(c, a, "quantiles: expected p:value pairs such as 0.5:7ms, got \"%s\"", tok);
        vals[n] = (double)t;
        if (n && (probs[n] <= probs[n - 1] || vals[n] < vals[n - 1]))
            return fail(c, a, "quantiles must increase in both probability and value");
        n++;
    }
    if (n < 2 || probs[0] != 0 || probs[n - 1] != 1)
        return fail(c, a, "quantiles must start at probability 0 and end at 1");
    double mean = 0;
    for (size_t i = 0; i + 1 < n; i++)
        mean += (probs[i + 1] - probs[i]) * (vals[i] + vals[i + 1]) / 2;
    c->d->table = vals;
    c->d->probs = probs;
    c->d->n = n;
    c->d->mean_ns = mean;
    return 0;
}

int msim__dist_load_empirical(dist_ctx *c)
{
    arg *file = find_arg(c, "file"), *q = find_arg(c, "quantiles");
    if (!file == !q)
        return msim_bind_fail(c->b, c->node, -MSIM_EINVAL,
                              "empirical takes either file= (samples) or quantiles= (a table)");
    if (q) return read_quantiles(c, q);
    double scale = 1, column = 1;
    bool has_col;
    if (unit_ns(c, &scale) || get_number(c, "column", &column, &has_col)) return -1;
    if (column < 1 || column != floor(column))
        return fail(c, find_arg(c, "column"), "column must be a whole number >= 1");
    char path[1024];
    if (file->value[0] == '/')
        snprintf(path, sizeof path, "%s", file->value);
    else
        snprintf(path, sizeof path, "%s/%s", msim_bind_basedir(c->b), file->value);
    return read_samples(c, path, (int)column, scale);
}
