/* health.c — how a balancer decides a host is healthy: active health checks
 * and passive outlier detection, with Envoy's fields and state machines.
 *
 * Active checks. Each host has its own probe loop: a probe is an attempt
 * pinned to the host and marked MSIM_CLS_PROBE, so it is real work that waits
 * in the host's queue (service.c decides how the host serves it). A probe
 * fails when it is refused, answered with an error, or not answered within
 * `timeout`; the next probe is sent an interval after the result, as Envoy
 * does. A healthy host is marked unhealthy after `unhealthy_threshold`
 * consecutive failures, an unhealthy one healthy after `healthy_threshold`
 * consecutive successes — except that a host's very first result decides at
 * once: hosts start unhealthy and a single success brings them in (Envoy's
 * startup rule). Intervals: `interval` while healthy, `unhealthy_interval`
 * while unhealthy, the edge intervals for the first probe after a change, plus
 * `interval_jitter` and `interval_jitter_percent` of random jitter.
 *
 * Outlier detection. Every forwarded attempt's outcome is a 5xx or not:
 * an error answer is a 500, a refusal a 503, a client that gave up a 504 (the
 * last two are gateway failures). `consecutive_5xx` in a row (or
 * `consecutive_gateway_failure` gateway failures) eject the host, if the
 * enforcement draw allows and ejecting keeps the ejected share within
 * `max_ejection_percent` (one host is always ejectable). An ejected host comes
 * back at the first sweep (every `interval`) at least
 * min(base_ejection_time x multiplier, max_ejection_time) after its ejection;
 * the multiplier grows by one per ejection and shrinks by one per sweep the
 * host stays in, an interval after its return. A successful active check
 * returns it at once (`successful_active_health_check_uneject_host`).
 */
#include <stddef.h>

#include "balancer.h"

/* ---- parameters ------------------------------------------------------------------ */

static const msim_param health_params[] = {
    {"interval", &msim_type_timeout, offsetof(health_cfg, interval), "none", 1, 1e300,
     "wait between a probe's result and the next probe (none: no active health checking)", NULL,
     NULL},
    {"timeout", &msim_type_duration, offsetof(health_cfg, timeout), "1s", 1, 1e300,
     "a probe not answered within this fails", NULL, NULL},
    {"unhealthy_threshold", &msim_type_int, offsetof(health_cfg, unhealthy_threshold), "2", 1, 1000,
     "consecutive failures that take a healthy host out", NULL, NULL},
    {"healthy_threshold", &msim_type_int, offsetof(health_cfg, healthy_threshold), "2", 1, 1000,
     "consecutive successes that bring an unhealthy host back (at startup one suffices)", NULL,
     NULL},
    {"unhealthy_interval", &msim_type_duration, offsetof(health_cfg, unhealthy_interval), "0s", 0,
     1e300, "interval while a host is unhealthy (0s: interval)", NULL, NULL},
    {"unhealthy_edge_interval", &msim_type_duration, offsetof(health_cfg, unhealthy_edge_interval),
     "0s", 0, 1e300, "interval right after a host is marked unhealthy (0s: unhealthy_interval)",
     NULL, NULL},
    {"healthy_edge_interval", &msim_type_duration, offsetof(health_cfg, healthy_edge_interval),
     "0s", 0, 1e300, "interval right after a host is marked healthy (0s: interval)", NULL, NULL},
    {"interval_jitter", &msim_type_duration, offsetof(health_cfg, interval_jitter), "0s", 0, 1e300,
     "add uniform(0, this) to every interval", NULL, NULL},
    {"interval_jitter_percent", &msim_type_fraction, offsetof(health_cfg, interval_jitter_percent),
     "0%", MSIM_UNBOUNDED, "add uniform(0, this x the interval) to every interval", NULL, NULL},
    {"initial_jitter", &msim_type_duration, offsetof(health_cfg, initial_jitter), "0s", 0, 1e300,
     "delay each host's first probe by uniform(0, this)", NULL, NULL},
};

const msim_schema balancer_health_schema =
    MSIM_SCHEMA("health_check", "active health checking", health_params, health_cfg, NULL);

static const msim_param outlier_params[] = {
    {"enabled", &msim_type_bool, offsetof(outlier_cfg, enabled), "false", MSIM_UNBOUNDED,
     "eject hosts that fail in a row", NULL, NULL},
    {"consecutive_5xx", &msim_type_int, offsetof(outlier_cfg, consecutive_5xx), "5", 1, 1e9,
     "5xx in a row (errors, refusals, timeouts) that eject a host", NULL, NULL},
    {"consecutive_gateway_failure", &msim_type_int,
     offsetof(outlier_cfg, consecutive_gateway_failure), "5", 1, 1e9,
     "gateway failures in a row (refusals 503, timeouts 504) that eject a host", NULL, NULL},
    {"enforcing_consecutive_5xx", &msim_type_fraction,
     offsetof(outlier_cfg, enforcing_consecutive_5xx), "100%", MSIM_UNBOUNDED,
     "chance a consecutive_5xx detection ejects", NULL, NULL},
    {"enforcing_consecutive_gateway_failure", &msim_type_fraction,
     offsetof(outlier_cfg, enforcing_consecutive_gateway_failure), "0%", MSIM_UNBOUNDED,
     "chance a consecutive_gateway_failure detection ejects", NULL, NULL},
    {"interval", &msim_type_duration, offsetof(outlier_cfg, interval), "10s", 1, 1e300,
     "time between sweeps that return ejected hosts", NULL, NULL},
    {"base_ejection_time", &msim_type_duration, offsetof(outlier_cfg, base_ejection_time), "30s", 1,
     1e300, "ejection time = this x times ejected (decaying), capped by max_ejection_time", NULL,
     NULL},
    {"max_ejection_time", &msim_type_duration, offsetof(outlier_cfg, max_ejection_time), "300s", 1,
     1e300, "longest ejection (at least base_ejection_time)", NULL, NULL},
    {"max_ejection_time_jitter", &msim_type_duration,
     offsetof(outlier_cfg, max_ejection_time_jitter), "0s", 0, 1e300,
     "add uniform(0, this) to each ejection", NULL, NULL},
    {"max_ejection_percent", &msim_type_fraction, offsetof(outlier_cfg, max_ejection_percent),
     "10%", MSIM_UNBOUNDED, "most hosts ejected at once (one host is always ejectable)", NULL,
     NULL},
    {"successful_active_health_check_uneject_host", &msim_type_bool,
     offsetof(outlier_cfg, uneject_on_health_check), "true", MSIM_UNBOUNDED,
     "a passed active check returns an ejected host at once", NULL, NULL},
};

const msim_schema balancer_outlier_schema =
    MSIM_SCHEMA("outlier_detection", "passive outlier ejection", outlier_params, outlier_cfg, NULL);

/* ---- active checks ---------------------------------------------------------------- */

static void probe_fire(msim_sim *sim, void *obj, uint64_t i);

static msim_time jittered(balancer *b, msim_time base)
{
    const health_cfg *hc = &b->cfg->health_check;
    double t = (double)base;
    if (hc->interval_jitter_percent > 0)
        t += msim_rng_u01(&b->rng_health) * hc->interval_jitter_percent * (double)base;
    if (hc->interval_jitter > 0) t += msim_rng_u01(&b->rng_health) * (double)hc->interval_jitter;
    return (msim_time)t;
}

/* The wait before the next probe, given the host's state after a result and
 * whether that result changed it. */
static msim_time next_interval(balancer *b, const host *h, bool changed)
{
    const health_cfg *hc = &b->cfg->health_check;
    msim_time unhealthy = hc->unhealthy_interval ? hc->unhealthy_interval : hc->interval;
    msim_time base;
    if (h->hc_failed)
        base = changed && hc->unhealthy_edge_interval ? hc->unhealthy_edge_interval : unhealthy;
    else
        base = changed && hc->healthy_edge_interval ? hc->healthy_edge_interval : hc->interval;
    return jittered(b, base);
}

static void uneject(msim_sim *sim, balancer *b, host *h);

/* One probe result through Envoy's state machine. */
static void health_result(msim_sim *sim, balancer *b, host *h, bool ok)
{
    const health_cfg *hc = &b->cfg->health_check;
    bool changed = false;
    if (ok) {
        h->hc_bad = 0;
        if (h->hc_failed && (h->first_check || ++h->hc_ok >= (uint32_t)hc->healthy_threshold)) {
            h->hc_failed = false;
            h->hc_ok = 0;
            changed = true;
            msim_count(sim, b->m_marked_healthy, 1);
        }
        if (h->ejected && b->cfg->outlier_detection.uneject_on_health_check) uneject(sim, b, h);
    } else {
        msim_count(sim, b->m_probe_failures, 1);
        h->hc_ok = 0;
        if (!h->hc_failed && ++h->hc_bad >= (uint32_t)hc->unhealthy_threshold) {
            h->hc_failed = true;
            h->hc_bad = 0;
            changed = true;
            msim_count(sim, b->m_marked_unhealthy, 1);
        }
    }
    h->first_check = false;
    balancer_update_host(sim, b, h);
    h->check =
        msim_after(sim, next_interval(b, h, changed), probe_fire, b, (uint64_t)(h - b->hosts));
}

static void probe_timeout(msim_sim *sim, void *obj, uint64_t arg)
{
    (void)arg;
    msim_attempt *pa = obj;
    balancer *b = (balancer *)pa->from;
    host *h = pa->ctx;
    pa->timeout = MSIM_NO_TIMER;
    h->probe = NULL;
    msim_count(sim, b->m_probe_timeouts, 1);
    msim_abandon(sim, pa); /* the host may still serve it: wasted work */
    health_result(sim, b, h, false);
}

void health_on_probe(msim_sim *sim, balancer *b, msim_attempt *pa)
{
    host *h = pa->ctx;
    bool ok = pa->status == MSIM_STATUS_OK;
    msim_cancel(sim, &pa->timeout);
    msim_attempt_free(sim, pa);
    h->probe = NULL;
    health_result(sim, b, h, ok);
}

static void probe_fire(msim_sim *sim, void *obj, uint64_t i)
{
    balancer *b = obj;
    host *h = &b->hosts[i];
    h->check = MSIM_NO_TIMER;
    msim_attempt *pa = msim_attempt_new(sim, &b->probe_req, &b->base, h->svc);
    if (!pa) return;
    msim_time expires = msim_now(sim) + b->cfg->health_check.timeout;
    pa->cls = MSIM_CLS_PINNED | MSIM_CLS_PROBE;
    pa->slot = h->replica;
    pa->ctx = h;
    pa->expires = expires;
    h->probe = pa;
    msim_count(sim, b->m_probes, 1);
    /* answered at once (refused): the result is in and the next probe set */
    if (msim_send(sim, pa))
        pa->timeout = msim_lane_at(sim, b->probe_lane, expires, probe_timeout, pa, 0);
}

void health_start(msim_sim *sim, balancer *b)
{
    msim_time jitter = b->cfg->health_check.initial_jitter;
    for (uint32_t i = 0; i < b->nhosts; i++) {
        msim_time d = jitter > 0 ? (msim_time)(msim_rng_u01(&b->rng_health) * (double)jitter) : 0;
        if (!b->hosts[i].absent) b->hosts[i].check = msim_after(sim, d, probe_fire, b, i);
    }
}

/* A new endpoint starts unhealthy and a single success brings it in (the
 * startup rule); its first probe goes out as a host's first probe does. */
void health_host_joined(msim_sim *sim, balancer *b, host *h)
{
    const health_cfg *hc = &b->cfg->health_check;
    if (hc->interval == MSIM_NEVER) return;
    h->hc_failed = h->first_check = true;
    h->hc_ok = h->hc_bad = 0;
    msim_time jitter = hc->initial_jitter;
    msim_time d = jitter > 0 ? (msim_time)(msim_rng_u01(&b->rng_health) * (double)jitter) : 0;
    msim_cancel(sim, &h->check);
    h->check = msim_after(sim, d, probe_fire, b, (uint64_t)(h - b->hosts));
}

/* The probe out, if any, is abandoned: its answer no longer matters. */
void health_host_left(msim_sim *sim, balancer *b, host *h)
{
    msim_cancel(sim, &h->check);
    if (h->probe) {
        msim_attempt *pa = h->probe;
        h->probe = NULL;
        msim_cancel(sim, &pa->timeout);
        msim_abandon(sim, pa);
    }
    if (h->ejected) b->nejected--;
    h->ejected = false;
    h->c5xx = h->cgw = h->backoff = 0;
}

/* ---- outlier detection --------------------------------------------------------------- */

static msim_time ejection_time(const balancer *b, const host *h)
{
    const outlier_cfg *od = &b->cfg->outlier_detection;
    msim_time max = od->max_ejection_time > od->base_ejection_time ? od->max_ejection_time
                                                                   : od->base_ejection_time;
    msim_time t = od->base_ejection_time * (msim_time)h->backoff;
    return (t < max ? t : max) + h->eject_jitter;
}

static void eject(msim_sim *sim, balancer *b, host *h)
{
    const outlier_cfg *od = &b->cfg->outlier_detection;
    /* at least one host is always ejectable; beyond that, the cap holds */
    if (b->nejected > 0 &&
        100.0 * (b->nejected + 1) / b->nhosts > 100 * od->max_ejection_percent + 1e-9)
        return;
    h->ejected = true;
    h->ejected_at = msim_now(sim);
    if ((msim_time)h->backoff * od->base_ejection_time <
        od->max_ejection_time + od->base_ejection_time)
        h->backoff++;
    h->eject_jitter =
        od->max_ejection_time_jitter > 0
            ? (msim_time)(msim_rng_u01(&b->rng_outlier) * (double)od->max_ejection_time_jitter)
            : 0;
    b->nejected++;
    msim_count(sim, b->m_ejections, 1);
    balancer_update_host(sim, b, h);
}

static void uneject(msim_sim *sim, balancer *b, host *h)
{
    h->ejected = false;
    h->unejected_at = msim_now(sim);
    h->c5xx = h->cgw = 0;
    b->nejected--;
    msim_count(sim, b->m_unejections, 1);
    balancer_update_host(sim, b, h);
}

/* A detection: eject if the enforcement draw says so. The streak that fired
 * starts over either way (Envoy resets the counter of that type only). */
static void detected(msim_sim *sim, balancer *b, host *h, uint32_t *streak, double enforcing)
{
    *streak = 0;
    if (enforcing >= 1 || (enforcing > 0 && msim_rng_u01(&b->rng_outlier) < enforcing))
        eject(sim, b, h);
}

void outlier_on_result(msim_sim *sim, balancer *b, host *h, outcome o)
{
    const outlier_cfg *od = &b->cfg->outlier_detection;
    if (!od->enabled || h->ejected || h->absent) return; /* a host that left drains unjudged */
    if (o == OUTCOME_OK) {
        h->c5xx = h->cgw = 0;
        return;
    }
    if (o != OUTCOME_GATEWAY)
        h->cgw = 0;
    else if (++h->cgw == (uint32_t)od->consecutive_gateway_failure)
        detected(sim, b, h, &h->cgw, od->enforcing_consecutive_gateway_failure);
    if (!h->ejected && ++h->c5xx == (uint32_t)od->consecutive_5xx)
        detected(sim, b, h, &h->c5xx, od->enforcing_consecutive_5xx);
}

static void sweep(msim_sim *sim, void *obj, uint64_t arg)
{
    (void)arg;
    balancer *b = obj;
    const outlier_cfg *od = &b->cfg->outlier_detection;
    msim_time now = msim_now(sim);
    for (uint32_t i = 0; i < b->nhosts; i++) {
        host *h = &b->hosts[i];
        if (h->ejected) {
            if (now - h->ejected_at >= ejection_time(b, h)) uneject(sim, b, h);
        } else if (h->backoff > 0 && h->unejected_at >= 0 &&
                   now - h->unejected_at >= od->interval) {
            h->backoff--; /* quiet for an interval since its return */
        }
    }
    b->sweep = msim_after(sim, od->interval, sweep, b, 0);
}

void outlier_start(msim_sim *sim, balancer *b)
{
    b->sweep = msim_after(sim, b->cfg->outlier_detection.interval, sweep, b, 0);
}
