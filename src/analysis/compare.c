/* compare.c — variants side by side, and diagnosis by experiment.
 *
 * Every variant is a replica set of the same replica indices under the same
 * master seed. Random streams are named by (component, purpose), so a variant
 * that does not touch a component leaves its draws — arrivals included —
 * exactly as they were: common random numbers, for free.
 *
 * Diagnosis asks each component kind what can sustain a failure (the
 * mechanisms in its descriptor), switches each off after the last trigger,
 * and sees whether the system then recovers; if no single one is enough, it
 * tries every pair.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "set.h"

/* The end of the PATH=VALUE starting at s: the next comma outside brackets
 * and quotes ({kind: exponential, base: 1s} is one value), or the NUL. */
static char *override_end(char *s)
{
    int depth = 0;
    char quote = 0;
    for (; *s; s++) {
        if (quote) {
            if (*s == quote) quote = 0;
        } else if (*s == '"' || *s == '\'') {
            quote = *s;
        } else if (strchr("{[(", *s)) {
            depth++;
        } else if (strchr("}])", *s) && depth > 0) {
            depth--;
        } else if (*s == ',' && depth == 0) {
            break;
        }
    }
    return s;
}

int msim_variant_parse(char *text, msim_variant *v, msim_error *err)
{
    memset(v, 0, sizeof *v);
    char *colon = strchr(text, ':');
    if (!colon || colon == text)
        return msim_error_set(err, -MSIM_EUSAGE, "--variant expects NAME:PATH=VALUE[,PATH=VALUE], got \"%s\"", text);
    *colon = '\0';
    v->name = text;
    for (char *tok = colon + 1, *end; *tok; tok = end + 1) {
        end = override_end(tok);
        bool last = *end == '\0';
        *end = '\0';
        char *eq = strchr(tok, '=');
        if (!eq || eq == tok)
            return msim_error_set(err, -MSIM_EUSAGE, "variant %s: expected PATH=VALUE, got \"%s\"", v->name, tok);
        if (v->noverrides == sizeof v->overrides / sizeof v->overrides[0])
            return msim_error_set(err, -MSIM_EUSAGE, "variant %s: too many overrides", v->name);
        *eq = '\0';
        v->overrides[v->noverrides++] = (msim_override){tok, eq + 1};
        if (last) break;
    }
    return 0;
}

static msim_comparison *new_comparison(size_t n)
{
    msim_comparison *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->variants = calloc(n, sizeof *c->variants);
    c->sets = calloc(n, sizeof *c->sets);
    c->scenarios = calloc(n, sizeof *c->scenarios);
    if (!c->variants || !c->sets || !c->scenarios) {
        msim_comparison_free(c);
        return NULL;
    }
    c->n = n;
    return c;
}

void msim_comparison_free(msim_comparison *c)
{
    if (!c) return;
    for (size_t i = 0; i < c->n; i++) {
        if (c->sets) msim_set_free(c->sets[i]);
        if (c->scenarios) msim_scenario_free(c->scenarios[i]);
    }
    free(c->variants);
    free(c->sets);
    free(c->scenarios);
    free(c->names);
    free(c);
}

/* Run variant i of c (its scenario derived from sc). */
static int run_variant(msim_comparison *c, size_t i, const msim_scenario *sc, const msim_set_options *set,
                       msim_error *err)
{
    const msim_variant *v = &c->variants[i];
    int rc = msim_scenario_derive(sc, v->overrides, v->noverrides, &c->scenarios[i], err);
    if (rc) {
        snprintf(err->path + strlen(err->path), sizeof err->path - strlen(err->path), " (variant %s)", v->name);
        return rc;
    }
    msim_set_options so = *set;
    so.no_bands = 1;
    so.disable = v->disable;
    so.ndisable = v->ndisable;
    return msim_run_set(c->scenarios[i], &so, &c->sets[i], err);
}

int msim_compare(const msim_scenario *sc, const msim_variant *variants, size_t n,
                 const msim_set_options *set, msim_comparison **out, msim_error *err)
{
    *out = NULL;
    msim_comparison *c = new_comparison(n + 1);
    if (!c) return msim_error_set(err, -MSIM_ENOMEM, "out of memory");
    c->title = "compare";
    c->variants[0].name = "as written";
    for (size_t i = 0; i < n; i++)
        c->variants[i + 1] = variants[i];
    int rc = 0;
    for (size_t i = 0; !rc && i < c->n; i++)
        rc = run_variant(c, i, sc, set, err);
    if (rc) msim_comparison_free(c);
    else *out = c;
    return rc;
}

/* ---- diagnosis ---------------------------------------------------------------------------- */

static double p_failed(const msim_set *s)
{
    return s->p[MSIM_VERDICT_METASTABLE] + s->p[MSIM_VERDICT_OSCILLATING];
}

static double p_recovers(const msim_set *s)
{
    return s->p[MSIM_VERDICT_RECOVERED] + s->p[MSIM_VERDICT_STABLE];
}

/* Every (component, mechanism) the scenario's kinds declare. */
static size_t list_mechanisms(const msim_scenario *sc, msim_disable *out, size_t max)
{
    size_t n = 0;
    for (size_t c = 0; c < sc->ncomponents; c++)
        for (size_t m = 0; m < sc->components[c].kind->nmechanisms && n < max; m++)
            out[n++] = (msim_disable){(int32_t)c, (uint32_t)m, MSIM_NEVER};
    return n;
}

static const char *mechanism_name(const msim_scenario *sc, const msim_disable *d, char *buf, size_t size)
{
    const msim_component_cfg *c = &sc->components[d->component];
    snprintf(buf, size, "%s.%s", c->name, c->kind->mechanisms[d->mechanism].name);
    return buf;
}

/* Names live as long as the comparison: keep them in one block. */
static char *names_block(size_t n)
{
    return calloc(n, 96);
}

/* The diagnosis in one or two sentences. */
static void explain(msim_comparison *c)
{
    const msim_set *base = c->sets[0];
    size_t off = 0, size = sizeof c->verdict_text;
    char *t = c->verdict_text;
    if (p_failed(base) < 0.5) {
        snprintf(t, size, "nothing to diagnose: as written it fails (metastable or oscillating) in only %.0f%% of %zu replicas",
                 100 * p_failed(base), base->n);
        return;
    }
    int found = 0;
    for (size_t i = 1; i < c->n && off < size; i++) {
        if (p_recovers(c->sets[i]) < 0.5) continue;
        off += (size_t)snprintf(t + off, size - off, "%s%s (%.0f%% recover)", found++ ? ", " : "switching off ",
                                c->variants[i].name, 100 * p_recovers(c->sets[i]));
    }
    if (found && off < size)
        snprintf(t + off, size - off, " turns the failure into a recovery: %s what sustains it",
                 found == 1 ? "that is" : "each is enough to break");
    else if (!found)
        snprintf(t, size, "no single mechanism%s lets it recover: the sustaining loop is elsewhere, or needs more",
                 c->n > 1 + (size_t)0 ? " or pair" : "");
}

int msim_diagnose(const msim_scenario *sc, const msim_set_options *set, msim_comparison **out,
                  msim_error *err)
{
    *out = NULL;
    msim_disable mech[32];
    size_t nm = list_mechanisms(sc, mech, 32);
    size_t npairs = nm * (nm - (nm > 0)) / 2;
    msim_comparison *c = new_comparison(1 + nm + npairs);
    char *names = names_block(1 + nm + npairs);
    if (!c || !names) {
        free(names);
        msim_comparison_free(c);
        return msim_error_set(err, -MSIM_ENOMEM, "out of memory");
    }
    c->title = "diagnose";
    c->variants[0].name = "as written";
    int rc = run_variant(c, 0, sc, set, err);
    size_t used = 1;
    for (size_t i = 0; !rc && i < nm; i++, used++) {
        msim_variant *v = &c->variants[used];
        v->name = mechanism_name(sc, &mech[i], names + 96 * used, 96);
        v->disable[v->ndisable++] = mech[i];
        rc = run_variant(c, used, sc, set, err);
        if (!rc && p_recovers(c->sets[used]) >= 0.5) c->diagnosed++;
    }
    /* no single mechanism is enough: try the smallest combinations */
    for (size_t i = 0; !rc && !c->diagnosed && p_failed(c->sets[0]) >= 0.5 && i < nm; i++) {
        for (size_t j = i + 1; !rc && j < nm; j++, used++) {
            msim_variant *v = &c->variants[used];
            char a[48], b[48];
            snprintf(names + 96 * used, 96, "%s + %s", mechanism_name(sc, &mech[i], a, sizeof a),
                     mechanism_name(sc, &mech[j], b, sizeof b));
            v->name = names + 96 * used;
            v->disable[v->ndisable++] = mech[i];
            v->disable[v->ndisable++] = mech[j];
            rc = run_variant(c, used, sc, set, err);
        }
    }
    c->n = rc ? c->n : used;
    if (rc) {
        free(names);
        msim_comparison_free(c);
        return rc;
    }
    c->names = names;
    explain(c);
    *out = c;
    return 0;
}
