/* scenario.c — the top level of a scenario file: its fixed keys, one section
 * per component kind (from the registry), the trigger list; then references
 * between components are resolved and cross-checked.
 *
 * The top level is bound through the same parameter machinery as everything
 * else: its schema is assembled at load time from the fixed keys plus one
 * "section" parameter per registered kind, so an unknown top-level key gets
 * the same nearest-key hint as any other.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "load.h"

struct msim__scenario_priv {
    msim__arena arena;
    msim_node *root; /* the tree after overrides: derive() starts from it */
    char *basedir;
};

/* What the fixed top-level keys bind into; sections and triggers reach the
 * scenario being built through `sc`. */
typedef struct top_cfg {
    const char *name;
    int64_t seed;
    msim_time duration, window;
    struct {
        msim_dist delay;
    } network;
    msim_verdict_cfg verdict;
    const msim_node *sweep;
    msim_scenario *sc;
} top_cfg;

static const msim_param network_params[] = {
    {"delay", &msim_type_dist, 0, "0", MSIM_UNBOUNDED,
     "one-way network delay on every hop (client to service and back)", NULL, NULL},
};
static const msim_schema network_schema = {"network", "the network between components",
                                           network_params, 1, sizeof(msim_dist), NULL};

/* ---- the sweep block: kept as written; sweeps interpret it -------------------------------- */

static int parse_raw(msim_bind *b, const msim_node *n, const msim_param *p, void *field)
{
    (void)b, (void)p;
    *(const msim_node **)field = msim__node_is_null(n) ? NULL : n;
    return 0;
}

static void print_raw(msim_buf *out, const msim_param *p, const void *field)
{
    (void)p;
    const msim_node *n = *(const msim_node *const *)field;
    msim__print_node(out, n);
}

static const msim_type raw_type = {"map", "a map", parse_raw, print_raw};

/* ---- sections and triggers ----------------------------------------------------- */

static bool valid_name(const char *s)
{
    if (!*s) return false;
    for (; *s; s++)
        if (!(*s == '_' || *s == '-' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9')))
            return false;
    return true;
}

static int add_component(msim_bind *b, msim_scenario *sc, const msim_kind *kind,
                         const msim_node *key, const msim_node *val)
{
    if (!valid_name(key->text))
        return msim_bind_fail(b, key, -MSIM_EINVAL,
                              "component names use letters, digits, - and _; got \"%s\"", key->text);
    if (msim_scenario_find(sc, key->text) >= 0)
        return msim_bind_fail(b, key, -MSIM_EINVAL, "a component named \"%s\" already exists",
                              key->text);
    msim_component_cfg *arr = msim_bind_alloc(b, (sc->ncomponents + 1) * sizeof *arr);
    void *cfg = msim_bind_alloc(b, kind->schema->size);
    if (!arr || !cfg) return msim_bind_fail(b, key, -MSIM_ENOMEM, "out of memory");
    if (sc->ncomponents) memcpy(arr, sc->components, sc->ncomponents * sizeof *arr);
    arr[sc->ncomponents] = (msim_component_cfg){msim_bind_strdup(b, key->text), kind, cfg, val};
    sc->components = arr;
    sc->ncomponents++;
    return msim_bind_struct(b, kind->schema, val, cfg);
}

static int parse_section(msim_bind *b, const msim_node *n, const msim_param *p, void *field)
{
    msim_scenario *sc = *(msim_scenario **)field;
    const msim_kind *kind = p->extra;
    if (msim__node_is_null(n) || (n->type == MSIM_NODE_SCALAR && strcmp(n->text, "{}") == 0))
        return 0;
    if (n->type != MSIM_NODE_MAP)
        return msim_bind_fail(b, n, -MSIM_ETYPE, "expected a map of %s by name", kind->section);
    for (size_t i = 0; i < n->len; i++) {
        size_t mark = msim__bind_push_key(b, n->keys[i]->text);
        int rc = add_component(b, sc, kind, n->keys[i], n->items[i]);
        msim__bind_pop(b, mark);
        if (rc) return rc;
    }
    return 0;
}

static void print_nothing(msim_buf *out, const msim_param *p, const void *field)
{
    (void)out, (void)p, (void)field;
}

static const msim_type section_type = {"section", "a map of components by name", parse_section,
                                       print_nothing};

static const msim_trigger_kind *find_trigger_kind(msim_bind *b, const msim_node *n)
{
    const msim_node *k = msim_node_get(n, "kind");
    size_t count;
    const msim_trigger_kind *const *kinds = msim_trigger_kinds(&count);
    const char *names[32];
    char list[200] = "";
    size_t off = 0;
    for (size_t i = 0; i < count && i < 32; i++) {
        names[i] = kinds[i]->name;
        off += (size_t)snprintf(list + off, off < sizeof list ? sizeof list - off : 0, "%s%s",
                                i ? ", " : "", kinds[i]->name);
        if (k && k->type == MSIM_NODE_SCALAR && strcmp(k->text, kinds[i]->name) == 0) return kinds[i];
    }
    if (!k) {
        msim_bind_fail(b, n, -MSIM_EMISSING, "a trigger needs kind: one of %s", list);
        return NULL;
    }
    size_t mark = msim__bind_push_key(b, "kind");
    msim_bind_fail(b, k, -MSIM_EINVAL, "unknown trigger kind \"%s\"; expected one of: %s",
                   k->type == MSIM_NODE_SCALAR ? k->text : "?", list);
    const char *near = k->type == MSIM_NODE_SCALAR ? msim_nearest(k->text, names, count) : NULL;
    if (near && b->err) snprintf(b->err->hint, sizeof b->err->hint, "did you mean \"%s\"?", near);
    msim__bind_pop(b, mark);
    return NULL;
}

static int add_trigger(msim_bind *b, msim_scenario *sc, const msim_node *n, size_t i)
{
    if (n->type != MSIM_NODE_MAP)
        return msim_bind_fail(b, n, -MSIM_ETYPE, "expected a trigger (a map with kind:, at:, ...)");
    const msim_trigger_kind *tk = find_trigger_kind(b, n);
    if (!tk) return b->err ? b->err->code : -MSIM_EINVAL;
    void *cfg = msim_bind_alloc(b, tk->schema->size);
    if (!cfg) return msim_bind_fail(b, n, -MSIM_ENOMEM, "out of memory");
    int rc = msim_bind_struct(b, tk->schema, n, cfg);
    if (rc) return rc;
    const msim_trigger_common *common = cfg;
    /* the target is resolved later; check_trigger copies it from common */
    sc->triggers[i] = (msim_trigger_cfg){tk, common->target, common->at, common->length, cfg, n};
    return 0;
}

static int parse_triggers(msim_bind *b, const msim_node *n, const msim_param *p, void *field)
{
    (void)p;
    msim_scenario *sc = *(msim_scenario **)field;
    if (msim__node_is_null(n) || (n->type == MSIM_NODE_SCALAR && strcmp(n->text, "[]") == 0))
        return 0;
    if (n->type != MSIM_NODE_SEQ) return msim_bind_fail(b, n, -MSIM_ETYPE, "expected a list of triggers");
    sc->triggers = msim_bind_alloc(b, (n->len + 1) * sizeof *sc->triggers);
    if (!sc->triggers) return msim_bind_fail(b, n, -MSIM_ENOMEM, "out of memory");
    sc->ntriggers = n->len;
    for (size_t i = 0; i < n->len; i++) {
        size_t mark = msim__bind_push_index(b, i);
        int rc = add_trigger(b, sc, n->items[i], i);
        msim__bind_pop(b, mark);
        if (rc) return rc;
    }
    return 0;
}

static const msim_type triggers_type = {"triggers", "a list of triggers", parse_triggers,
                                        print_nothing};

/* ---- the top-level schema, assembled from the registry ------------------------------ */

#define MAX_TOP 32
#define MAX_WINDOWS 1000000

static const msim_param top_fixed[] = {
    {"scenario", &msim_type_string, offsetof(top_cfg, name), "", MSIM_UNBOUNDED,
     "a name for the scenario (default: the file name)", NULL, NULL},
    {"seed", &msim_type_int, offsetof(top_cfg, seed), "1", 0, 9007199254740992.0,
     "master seed: every random stream is derived from it", NULL, NULL},
    {"duration", &msim_type_duration, offsetof(top_cfg, duration), NULL, 1, 1e300,
     "simulated horizon", NULL, NULL},
    {"window", &msim_type_duration, offsetof(top_cfg, window), "1s", 1000, 1e300,
     "metric window: every metric is reported per window", NULL, NULL},
    {"network", &msim_type_struct, offsetof(top_cfg, network), NULL, MSIM_UNBOUNDED,
     "the network between components", &network_schema, NULL},
    {"verdict", &msim_type_struct, offsetof(top_cfg, verdict), NULL, MSIM_UNBOUNDED,
     "how the outcome is judged", &msim_verdict_schema, NULL},
    {"sweep", &raw_type, offsetof(top_cfg, sweep), "~", MSIM_UNBOUNDED,
     "what `metasim sweep` varies: {replicas: N, vary: {PATH: [v1, v2] or \"LO..HI:step=S\"}}", NULL,
     NULL},
};

const msim_schema msim_scenario_top_schema = {
    "the scenario", "the top level of a scenario file (besides the component sections and triggers)",
    top_fixed, sizeof top_fixed / sizeof top_fixed[0], sizeof(top_cfg), NULL};

static size_t top_params(msim_param *out)
{
    const msim_param *fixed = top_fixed;
    size_t n = 0;
    for (; n < sizeof top_fixed / sizeof top_fixed[0]; n++)
        out[n] = fixed[n];
    size_t nk;
    const msim_kind *const *kinds = msim_kinds(&nk);
    for (size_t i = 0; i < nk && n < MAX_TOP - 1; i++)
        out[n++] = (msim_param){kinds[i]->section, &section_type, offsetof(top_cfg, sc), "~",
                                MSIM_UNBOUNDED, kinds[i]->doc, kinds[i], NULL};
    out[n++] = (msim_param){"triggers", &triggers_type, offsetof(top_cfg, sc), "~", MSIM_UNBOUNDED,
                            "timed changes to the system", NULL, NULL};
    return n;
}

/* ---- references and cross-checks ------------------------------------------------------ */

static const char *kind_article(const msim_kind *k)
{
    return (k->name[0] == 'a' || k->name[0] == 'e' || k->name[0] == 'i' || k->name[0] == 'o' ||
            k->name[0] == 'u') ? "an" : "a";
}

static int resolve_ref(msim_bind *b, msim_scenario *sc, const msim__pending_ref *pr)
{
    msim_ref *ref = pr->ref;
    if (!ref->name) return 0; /* optional and left out */
    int idx = msim_scenario_find(sc, ref->name);
    snprintf(b->path, sizeof b->path, "%s", pr->path);
    b->pathlen = strlen(b->path);
    if (idx < 0) {
        const char *names[256];
        size_t n = 0;
        for (size_t i = 0; i < sc->ncomponents && n < 256; i++)
            names[n++] = sc->components[i].name;
        int rc = msim_bind_fail(b, pr->node, -MSIM_EREF, "unknown component \"%s\"", ref->name);
        const char *near = msim_nearest(ref->name, names, n);
        if (b->err && near) snprintf(b->err->hint, sizeof b->err->hint, "did you mean \"%s\"?", near);
        return rc;
    }
    const msim_kind *k = sc->components[idx].kind;
    if (pr->roles == MSIM_KIND_SCALABLE && !k->scaling)
        return msim_bind_fail(b, pr->node, -MSIM_EREF, "\"%s\" is %s %s, which cannot be resized",
                              ref->name, kind_article(k), k->name);
    if (pr->roles == MSIM_KIND_SCALABLE) {
        ref->index = idx;
        return 0;
    }
    if (pr->roles == MSIM_KIND_CALLER &&
        (!(k->roles & MSIM_KIND_CALLER) || (k->is_caller && !k->is_caller(sc->components[idx].cfg))))
        return msim_bind_fail(b, pr->node, -MSIM_EREF,
                              "\"%s\" is %s %s that makes its own requests; a call goes through a "
                              "client with arrival: calls",
                              ref->name, kind_article(k), k->name);
    if (!(k->roles & pr->roles))
        return msim_bind_fail(b, pr->node, -MSIM_EREF,
                              "\"%s\" is %s %s, which does not accept requests", ref->name,
                              kind_article(k), k->name);
    ref->index = idx;
    return 0;
}

/* A trigger may only act on a component whose kind understands it. */
static void set_path(msim_bind *b, const char *fmt, size_t i, const char *key)
{
    snprintf(b->path, sizeof b->path, fmt, i, key);
    b->pathlen = strlen(b->path);
}

static int check_trigger(msim_bind *b, msim_scenario *sc, size_t i)
{
    msim_trigger_cfg *t = &sc->triggers[i];
    set_path(b, "triggers[%zu]%s", i, "");
    if (t->at >= sc->duration) {
        set_path(b, "triggers[%zu].%s", i, "at");
        return msim_bind_fail(b, msim_node_get(t->node, "at"), -MSIM_EINVAL,
                              "the trigger starts at or after the end of the run");
    }
    t->target = ((const msim_trigger_common *)t->cfg)->target;
    if (t->target.index >= 0) {
        const msim_kind *k = sc->components[t->target.index].kind;
        set_path(b, "triggers[%zu].%s", i, "target");
        if (!(k->conditions & t->kind->conditions))
            return msim_bind_fail(b, msim_node_get(t->node, "target"), -MSIM_EINVAL,
                                  "a %s trigger cannot act on \"%s\" (%s %s)", t->kind->name,
                                  t->target.name, kind_article(k), k->name);
        return 0;
    }
    for (size_t c = 0; c < sc->ncomponents; c++)
        if (sc->components[c].kind->conditions & t->kind->conditions) return 0;
    return msim_bind_fail(b, t->node, -MSIM_EINVAL, "no component for this %s trigger to act on",
                          t->kind->name);
}

/* The baseline is the time between the warm-up and the first trigger: there
 * must be some. Point at the warm-up if the user set it, else at the trigger. */
static int warmup_error(msim_bind *b, const msim_scenario *sc, const msim_node *root)
{
    const msim_node *set = msim_node_get(msim_node_get(root, "verdict"), "warmup");
    const msim_trigger_cfg *first = &sc->triggers[0];
    for (size_t i = 1; i < sc->ntriggers; i++)
        if (sc->triggers[i].at < first->at) first = &sc->triggers[i];
    char w[48], a[48];
    msim__format_duration(w, sizeof w, sc->verdict.warmup);
    msim__format_duration(a, sizeof a, first->at);
    snprintf(b->path, sizeof b->path, "verdict.warmup");
    b->pathlen = strlen(b->path);
    return msim_bind_fail(b, set ? set : msim_node_get(first->node, "at"), -MSIM_EINVAL,
                          "the warm-up must end before the first trigger starts, so that there is "
                          "a baseline to compare with (the %swarm-up is %s; this trigger starts at %s)",
                          set ? "" : "default ", w, a);
}

/* A client that only makes calls for services, which no service calls,
 * would sit idle: most likely a name missing from a `calls.to`. */
static int check_callers_used(msim_bind *b, msim_scenario *sc)
{
    for (size_t c = 0; c < sc->ncomponents; c++) {
        const msim_component_cfg *cc = &sc->components[c];
        if (!cc->kind->is_caller || !cc->kind->is_caller(cc->cfg)) continue;
        bool used = false;
        for (size_t i = 0; i < b->nrefs && !used; i++)
            used = b->refs[i].roles == MSIM_KIND_CALLER && b->refs[i].ref->index == (int32_t)c;
        if (used) continue;
        snprintf(b->path, sizeof b->path, "%s.%s", cc->kind->section, cc->name);
        b->pathlen = strlen(b->path);
        return msim_bind_fail(b, cc->node, -MSIM_EINVAL,
                              "\"%s\" makes calls for services (arrival: calls) but no service's "
                              "calls.to names it",
                              cc->name);
    }
    return 0;
}

static int cross_check(msim_bind *b, msim_scenario *sc, const msim_node *root)
{
    int rc = 0;
    for (size_t i = 0; i < b->nrefs && !rc; i++)
        rc = resolve_ref(b, sc, &b->refs[i]);
    if (!rc) rc = check_callers_used(b, sc);
    for (size_t i = 0; i < sc->ntriggers && !rc; i++)
        rc = check_trigger(b, sc, i);
    if (rc) return rc;
    if (sc->ntriggers && sc->verdict.warmup >= msim_scenario_first_trigger(sc)) return warmup_error(b, sc, root);
    snprintf(b->path, sizeof b->path, "window");
    b->pathlen = strlen(b->path);
    if (sc->window > sc->duration)
        return msim_bind_fail(b, msim_node_get(root, "window"), -MSIM_EINVAL,
                              "the metric window is longer than the run");
    /* Every window is a row of every metric: a typo such as 2000d for 2000s
     * would ask for gigabytes. */
    double windows = (double)sc->duration / (double)sc->window;
    if (windows > MAX_WINDOWS) {
        char d[48], w[48];
        msim_time need = sc->duration / MAX_WINDOWS + 1;
        need = (need + MSIM_SEC - 1) / MSIM_SEC * MSIM_SEC; /* a whole number of seconds */
        msim__format_duration(d, sizeof d, sc->duration);
        msim__format_duration(w, sizeof w, need);
        snprintf(b->path, sizeof b->path, "duration");
        return msim_bind_fail(b, msim_node_get(root, "duration"), -MSIM_EINVAL,
                              "duration %s makes %.0f metric windows; at most %d: shorten the run or "
                              "lengthen the window (window: %s or more)",
                              d, windows, MAX_WINDOWS, w);
    }
    return 0;
}

/* ---- loading ------------------------------------------------------------------------------ */

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static char *dir_of(msim__arena *ar, const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash) return msim__arena_strdup(ar, ".");
    char *d = msim__arena_alloc(ar, (size_t)(slash - path) + 2);
    if (d) memcpy(d, path, slash == path ? 1 : (size_t)(slash - path));
    return d;
}

static int bind_top(msim_bind *b, msim_scenario *sc, const msim_node *root)
{
    msim_param params[MAX_TOP];
    size_t n = top_params(params);
    msim_schema top = {"the scenario", "a metasim scenario", params, n, sizeof(top_cfg), NULL};
    top_cfg cfg = {.sc = sc};
    if (!root) {
        int rc = msim_bind_fail(b, NULL, -MSIM_EMISSING, "the scenario is empty");
        if (b->err) snprintf(b->err->file, sizeof b->err->file, "%s", sc->file);
        return rc;
    }
    int rc = msim_bind_struct(b, &top, root, &cfg);
    if (rc) return rc;
    sc->name = cfg.name[0] ? cfg.name : msim_bind_strdup(b, base_name(sc->file));
    sc->seed = (uint64_t)cfg.seed;
    sc->duration = cfg.duration;
    sc->window = cfg.window;
    sc->network_delay = cfg.network.delay;
    sc->verdict = cfg.verdict;
    sc->sweep = cfg.sweep;
    return cross_check(b, sc, root);
}

static int build(msim_scenario *sc, const msim_override *ov, size_t nov, msim_error *err)
{
    struct msim__scenario_priv *pv = sc->priv;
    for (size_t i = 0; i < nov; i++) {
        int rc = msim__override_apply(&pv->arena, &pv->root, &ov[i], (int)i, err);
        if (rc) return rc;
    }
    msim_bind b = {.ar = &pv->arena, .err = err, .basedir = pv->basedir};
    int rc = bind_top(&b, sc, pv->root);
    free(b.where);
    free(b.refs);
    return rc;
}

static msim_scenario *scenario_new(const char *file)
{
    msim_scenario *sc = calloc(1, sizeof *sc + sizeof(struct msim__scenario_priv));
    if (!sc) return NULL;
    sc->priv = (struct msim__scenario_priv *)(sc + 1);
    sc->priv->arena.alloc = msim_default_allocator;
    sc->file = msim__arena_strdup(&sc->priv->arena, file);
    sc->priv->basedir = dir_of(&sc->priv->arena, file);
    if (!sc->file || !sc->priv->basedir) {
        msim_scenario_free(sc);
        return NULL;
    }
    return sc;
}

static int finish(msim_scenario *sc, int rc, msim_scenario **out)
{
    if (rc) {
        msim_scenario_free(sc);
        return rc;
    }
    *out = sc;
    return 0;
}

int msim_scenario_parse(const char *text, size_t len, const char *name, const msim_override *ov,
                        size_t nov, msim_scenario **out, msim_error *err)
{
    *out = NULL;
    msim_scenario *sc = scenario_new(name);
    if (!sc) return msim_error_set(err, -MSIM_ENOMEM, "out of memory");
    int rc = msim__yaml_parse(&sc->priv->arena, text, len, sc->file, &sc->priv->root, err);
    if (!rc) rc = build(sc, ov, nov, err);
    return finish(sc, rc, out);
}

/* The whole file, raw. A NUL byte is an error (libyaml would stop there and
 * silently ignore the rest); its position is reported. */
static int read_text(const char *path, char **text, size_t *len, msim_error *err)
{
    FILE *f = fopen(path, "rb");
    int rc = 0;
    if (!f) {
        rc = msim_error_set(err, -MSIM_ENOENT, "cannot open scenario: %s", strerror(errno));
    } else {
        size_t cap = 8192, n = 0, k;
        char *buf = malloc(cap);
        while (buf && (k = fread(buf + n, 1, cap - n, f)) > 0) {
            n += k;
            char *nb = n == cap ? realloc(buf, cap *= 2) : buf;
            if (!nb) free(buf);
            buf = nb;
        }
        if (!buf || ferror(f)) rc = msim_error_set(err, -MSIM_EIO, "cannot read scenario");
        fclose(f);
        const char *nul = buf && !rc ? memchr(buf, '\0', n) : NULL;
        if (nul) {
            int line = 1, col = 1;
            for (const char *p = buf; p < nul; p++)
                *p == '\n' ? (line++, col = 1) : col++;
            rc = msim_error_set(err, -MSIM_ESYNTAX, "the file is not text (it holds a NUL byte)");
            if (err) err->line = line, err->col = col;
        }
        if (rc) free(buf);
        else *text = buf, *len = n;
    }
    if (rc && err) snprintf(err->file, sizeof err->file, "%s", path);
    return rc;
}

int msim_scenario_load(const char *path, const msim_override *ov, size_t nov, msim_scenario **out,
                       msim_error *err)
{
    *out = NULL;
    char *text = NULL;
    size_t len = 0;
    int rc = read_text(path, &text, &len, err);
    if (rc) return rc;
    rc = msim_scenario_parse(text, len, path, ov, nov, out, err);
    free(text);
    return rc;
}

static msim_node *copy_tree(msim__arena *ar, const msim_node *n)
{
    if (!n) return NULL;
    msim_node *c = msim__arena_alloc(ar, sizeof *c);
    if (!c) return NULL;
    *c = *n;
    if (n->type == MSIM_NODE_SCALAR) return c; /* text is immutable; share it */
    c->items = msim__arena_alloc(ar, (n->len + 1) * sizeof *c->items);
    c->keys = n->keys ? msim__arena_alloc(ar, (n->len + 1) * sizeof *c->keys) : NULL;
    if (!c->items || (n->keys && !c->keys)) return NULL;
    for (size_t i = 0; i < n->len; i++) {
        if (n->keys) c->keys[i] = n->keys[i];
        if (!(c->items[i] = copy_tree(ar, n->items[i]))) return NULL;
    }
    return c;
}

int msim_scenario_derive(const msim_scenario *base, const msim_override *ov, size_t nov,
                         msim_scenario **out, msim_error *err)
{
    *out = NULL;
    msim_scenario *sc = scenario_new(base->file);
    if (!sc) return msim_error_set(err, -MSIM_ENOMEM, "out of memory");
    /* The base tree's scalars and file names are shared, so the base must
     * outlive the derived scenario; only the structure is copied. */
    sc->priv->root = copy_tree(&sc->priv->arena, base->priv->root);
    int rc = sc->priv->root ? build(sc, ov, nov, err) : msim_error_set(err, -MSIM_ENOMEM, "out of memory");
    return finish(sc, rc, out);
}

void msim_scenario_free(msim_scenario *sc)
{
    if (!sc) return;
    msim__arena_free(&sc->priv->arena);
    free(sc);
}

int msim_scenario_find(const msim_scenario *sc, const char *name)
{
    for (size_t i = 0; i < sc->ncomponents; i++)
        if (strcmp(sc->components[i].name, name) == 0) return (int)i;
    return -1;
}

msim_time msim_scenario_first_trigger(const msim_scenario *sc)
{
    msim_time t = MSIM_NEVER;
    for (size_t i = 0; i < sc->ntriggers; i++)
        if (sc->triggers[i].at < t) t = sc->triggers[i].at;
    return t;
}

msim_time msim_scenario_last_trigger_end(const msim_scenario *sc)
{
    msim_time t = 0;
    for (size_t i = 0; i < sc->ntriggers; i++) {
        msim_time end = sc->triggers[i].at + sc->triggers[i].length;
        if (end > t) t = end;
    }
    return t;
}

/* ---- printing (`metasim check`) ------------------------------------------------------------ */

static void print_sections(msim_buf *out, const msim_scenario *sc)
{
    size_t nk;
    const msim_kind *const *kinds = msim_kinds(&nk);
    for (size_t k = 0; k < nk; k++) {
        bool header = false;
        for (size_t i = 0; i < sc->ncomponents; i++) {
            const msim_component_cfg *c = &sc->components[i];
            if (c->kind != kinds[k]) continue;
            if (!header) msim_buf_printf(out, "%s:\n", kinds[k]->section);
            header = true;
            msim_buf_printf(out, "  %s:\n", c->name);
            msim_print_struct(out, c->kind->schema, c->cfg, 4);
        }
    }
}

static void print_triggers(msim_buf *out, const msim_scenario *sc)
{
    if (!sc->ntriggers) return;
    msim_buf_printf(out, "triggers:\n");
    for (size_t i = 0; i < sc->ntriggers; i++) {
        const msim_trigger_cfg *t = &sc->triggers[i];
        msim_buf p = {0};
        msim_print_struct(&p, t->kind->schema, t->cfg, 4);
        /* turn the first line's indent into the list dash */
        if (p.len >= 4) {
            p.data[2] = '-';
            msim_buf_printf(out, "%s", p.data);
        }
        msim_buf_free(&p);
    }
}

void msim_scenario_print(const msim_scenario *sc, msim_buf *out)
{
    top_cfg cfg = {sc->name,   (int64_t)sc->seed, sc->duration, sc->window, {sc->network_delay},
                   sc->verdict, sc->sweep, NULL};
    msim_param params[MAX_TOP];
    size_t n = top_params(params);
    for (size_t i = 0; i < n; i++) {
        if (params[i].type == &section_type || params[i].type == &triggers_type) continue;
        if (params[i].type == &raw_type && !sc->sweep) continue;
        msim_schema one = {"", "", &params[i], 1, sizeof cfg, NULL};
        msim_print_struct(out, &one, &cfg, 0);
    }
    print_sections(out, sc);
    print_triggers(out, sc);
}
