/* scaling.c — the engine's part in resizing: how big a target may grow, and
 * telling the components that pick replicas when a target's endpoints change.
 *
 * Both are lookups over the run's components through their kinds' hooks
 * (msim_kind.scale_limit, msim_kind.on_endpoints), so neither the engine nor
 * the target knows what kind resizes it or routes to it. They run rarely (in
 * init, and when an autoscaler acts), so a scan of the components is fine.
 */
#include "sim.h"

uint32_t msim_scale_limit(const msim_sim *sim, const msim_component *target)
{
    uint32_t limit = 0;
    for (size_t i = 0; i < sim->sc->ncomponents; i++) {
        const msim_component_cfg *cc = &sim->sc->components[i];
        if (!cc->kind->scale_limit) continue;
        uint32_t n = cc->kind->scale_limit(cc->cfg, target->index);
        if (n > limit) limit = n;
    }
    return limit;
}

void msim_endpoints_changed(msim_sim *sim, msim_component *target)
{
    for (uint32_t i = 0; i < sim->ncomps; i++) {
        msim_component *c = sim->comps[i];
        if (c->kind->on_endpoints) c->kind->on_endpoints(sim, c, target);
    }
}
