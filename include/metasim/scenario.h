/* metasim/scenario.h — a scenario: the system, its load, its triggers and how
 * to judge the outcome, loaded from YAML into typed, validated structs.
 *
 * Loading is all-or-nothing: msim_scenario_load either returns a scenario in
 * which every reference is resolved and every value is in range, or an error
 * naming file:line:col, the key path, what was expected and, for an unknown
 * key, the nearest valid one.
 *
 * Ownership: msim_scenario_load returns a scenario the caller frees with
 * msim_scenario_free; everything it points to lives as long as it does.
 */
#ifndef METASIM_SCENARIO_H
#define METASIM_SCENARIO_H

#include <stddef.h>
#include <stdint.h>

#include "base.h"
#include "component.h"
#include "dist.h"
#include "param.h"

/* ---- triggers ---------------------------------------------------------------- */

/* The keys every trigger has. A trigger kind's config struct starts with this
 * (as member `common`) and its schema starts with MSIM_TRIGGER_COMMON_PARAMS. */
typedef struct msim_trigger_common {
    const char *kind;
    msim_ref target;
    msim_time at;
    msim_time length;
} msim_trigger_common;

#define MSIM_TRIGGER_COMMON_PARAMS(type)                                                           \
    {"kind", &msim_type_string, offsetof(type, common.kind), NULL, MSIM_UNBOUNDED,                \
     "what the trigger does (see the trigger kinds)", NULL, NULL},                                  \
    {"target", &msim_type_ref, offsetof(type, common.target), "~", MSIM_UNBOUNDED,               \
     "the component it acts on; left out: every component it can act on",                         \
     (const void *)(uintptr_t)(MSIM_KIND_SOURCE | MSIM_KIND_TARGET), NULL},                         \
    {"at", &msim_type_duration, offsetof(type, common.at), NULL, 0, 1e300,                        \
     "when it starts (simulated time)", NULL, NULL},                                               \
    {"duration", &msim_type_duration, offsetof(type, common.length), NULL, 1, 1e300,              \
     "how long it lasts", NULL, "for"}

/* A trigger kind: its own parameters and how it changes the conditions of its
 * target while it is active. Active triggers are folded in scenario order. */
typedef struct msim_trigger_kind {
    const char *name;          /* "load" */
    const char *doc;
    const msim_schema *schema; /* kind-specific keys (besides kind/target/at/duration) */
    unsigned conditions;       /* MSIM_COND_* group it changes */
    void (*fold)(const void *cfg, msim_conditions *c);
} msim_trigger_kind;

const msim_trigger_kind *const *msim_trigger_kinds(size_t *count);

typedef struct msim_trigger_cfg {
    const msim_trigger_kind *kind;
    msim_ref target;      /* index -1 with name NULL: every component that accepts it */
    msim_time at;         /* start */
    msim_time length;     /* how long it lasts (key `duration`, alias `for`) */
    void *cfg;            /* the kind's schema struct */
    const msim_node *node;
} msim_trigger_cfg;

/* ---- verdict thresholds -------------------------------------------------------- */

typedef struct msim_verdict_cfg {
    msim_time warmup;       /* ignored at the start when forming the baseline */
    double tolerance;       /* healthy: goodput within this fraction of expected */
    msim_time hold;         /* recovered: healthy for this long without a break */
    msim_time observe;      /* minimum time after the last trigger to call metastable */
    double latency_factor;  /* if > 0, healthy also needs p99 <= factor x baseline p99 */
    double noise_sigmas;    /* allowance for Poisson noise, in standard deviations */
    double osc_amplitude;   /* oscillating: minimum swing of goodput (fraction of expected) */
    double osc_correlation; /* oscillating: minimum autocorrelation at the period */
} msim_verdict_cfg;

extern const msim_schema msim_verdict_schema;

/* The fixed top-level keys (scenario, seed, duration, window, network,
 * verdict); component sections and `triggers` come from the registries. */
extern const msim_schema msim_scenario_top_schema;

/* ---- the scenario ---------------------------------------------------------------- */

typedef struct msim_component_cfg {
    const char *name;
    const msim_kind *kind;
    void *cfg; /* the kind's schema struct */
    const msim_node *node;
} msim_component_cfg;

typedef struct msim_scenario {
    const char *name;
    const char *file;        /* as given; "" for text */
    uint64_t seed;
    msim_time duration;      /* simulated horizon */
    msim_time window;        /* metric window */
    msim_dist network_delay; /* default one-way delay on each hop */
    msim_verdict_cfg verdict;
    size_t ncomponents;
    msim_component_cfg *components;
    size_t ntriggers;
    msim_trigger_cfg *triggers;
    const msim_node *sweep;  /* the `sweep:` block as written (read by sweeps), or NULL */
    struct msim__scenario_priv *priv; /* source tree and memory */
} msim_scenario;

/* A `--set path=value` override: path like clients.web.rate or
 * triggers[0].duration; value in YAML (a scalar, or a flow map/list). */
typedef struct msim_override {
    const char *path;
    const char *value;
} msim_override;

/* Load and validate a scenario file, applying overrides in order. */
int msim_scenario_load(const char *path, const msim_override *ov, size_t nov, msim_scenario **out,
                       msim_error *err);

/* The same from text in memory; `name` is used in error positions. */
int msim_scenario_parse(const char *text, size_t len, const char *name, const msim_override *ov,
                        size_t nov, msim_scenario **out, msim_error *err);

/* A new scenario: `base`'s source with more overrides (for sweeps, variants). */
int msim_scenario_derive(const msim_scenario *base, const msim_override *ov, size_t nov,
                         msim_scenario **out, msim_error *err);

void msim_scenario_free(msim_scenario *sc);

/* Print the scenario as YAML with every default filled in. */
void msim_scenario_print(const msim_scenario *sc, msim_buf *out);

/* Index of a component by name, or -1. */
int msim_scenario_find(const msim_scenario *sc, const char *name);

/* Time of the first trigger start and the last trigger end (MSIM_NEVER and 0
 * when there are none). */
msim_time msim_scenario_first_trigger(const msim_scenario *sc);
msim_time msim_scenario_last_trigger_end(const msim_scenario *sc);

#endif
