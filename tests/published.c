/* published.c — published behaviour, reproduced: Marc Brooker's simple
 * collapse model and the retry case of OSDI'22 "Metastable Failures in the
 * Wild". Each assertion is a probability over replicas with fixed seeds; the
 * scenarios are the example files, whose headers explain how each model was
 * translated and the one calibration the OSDI model needed.
 */
#include <stdlib.h>
#include <string.h>

#include "suites.h"

static msim_set *run_set(test_ctx *t, const char *path, const msim_override *ov, size_t nov, size_t replicas)
{
    msim_scenario *sc = NULL;
    msim_error err = {0};
    char buf[1400];
    if (msim_scenario_load(path, ov, nov, &sc, &err)) {
        test_fail(t, __FILE__, __LINE__, "%s", msim_error_format(&err, buf, sizeof buf));
        return NULL;
    }
    msim_set_options so = {.replicas = replicas, .jobs = 2, .no_bands = 1};
    msim_set *s = NULL;
    if (msim_run_set(sc, &so, &s, &err)) {
        test_fail(t, __FILE__, __LINE__, "%s", msim_error_format(&err, buf, sizeof buf));
        msim_scenario_free(sc);
    }
    return s;
}

static void done(msim_set *s)
{
    if (!s) return;
    msim_scenario *sc = (msim_scenario *)s->scenario;
    msim_set_free(s);
    msim_scenario_free(sc);
}

static double p_recovers(const msim_set *s)
{
    return s->p[MSIM_VERDICT_RECOVERED] + s->p[MSIM_VERDICT_STABLE];
}

/* Brooker: base 40/s, a spike to 80/s for 5 s at t = 20 s. Without backoff,
 * goodput stays collapsed through t = 80 s; with exponential backoff and
 * jitter it recovers within about 10 s of the spike. */
static void brooker_spike(test_ctx *t, size_t replicas)
{
    msim_set *none = run_set(t, "examples/brooker-collapse.yaml", NULL, 0, replicas);
    msim_set *backoff = run_set(t, "examples/brooker-collapse-backoff.yaml", NULL, 0, replicas);
    if (none && backoff) {
        CHECK_MSG(none->p[MSIM_VERDICT_METASTABLE] >= 0.6, "P(metastable) without backoff %.2f over %zu",
                  none->p[MSIM_VERDICT_METASTABLE], none->n);
        CHECK_MSG(none->degraded_level.p50 < 0.1, "degraded level %.2f", none->degraded_level.p50);
        CHECK_MSG(p_recovers(backoff) >= 0.9, "P(recovers) with backoff %.2f", p_recovers(backoff));
        CHECK_MSG(isnan(backoff->recovery_s.p90) || backoff->recovery_s.p90 <= 10, "recovery p90 %.1fs",
                  backoff->recovery_s.p90);
    }
    done(none);
    done(backoff);
}

static void brooker_spike_quick(test_ctx *t)
{
    brooker_spike(t, 10);
}

static void brooker_spike_full(test_ctx *t)
{
    brooker_spike(t, 40);
}

/* Brooker: a slow ramp from 40/s to 80/s (25 s) and back down to nothing
 * (50 s) does not recover in either variant: while the load is back below the
 * 40/s that was fine at the start (45 s to 70 s), goodput stays collapsed. */
static void brooker_ramp_does_not_recover(test_ctx *t)
{
    const char *kinds[] = {"none", "exponential"};
    for (int k = 0; k < 2; k++) {
        msim_override ov[] = {
            {"clients.clients.schedule", "[{at: 0s, rate: 80/s, ramp: 25s}, {at: 25s, rate: 0/s, ramp: 50s}]"},
            {"triggers", "[]"},
            {"clients.clients.retry.backoff.kind", kinds[k]},
        };
        msim_scenario *sc = NULL;
        msim_error err = {0};
        CHECK(msim_scenario_load("examples/brooker-collapse.yaml", ov, 3, &sc, &err) == 0);
        for (uint64_t rep = 0; rep < 5; rep++) {
            msim_run_options ro = {.replica = rep};
            msim_result *r = NULL;
            CHECK(msim_run(sc, &ro, &r, &err) == 0);
            double good = 0, offered = 0;
            for (uint32_t w = 45; w < 70; w++)
                good += r->goodput[w], offered += r->offered[w];
            msim_result_free(r);
            CHECK_MSG(offered > 500 && good < 0.1 * offered, "%s backoff, replica %llu: goodput %.0f of %.0f",
                      kinds[k], (unsigned long long)rep, good, offered);
        }
        msim_scenario_free(sc);
    }
}

/* OSDI'22 retry case: the 20% CPU cut for 10 s tips the system; the 9 s cut,
 * a cut to 22.5%, and the 20% cut at 25% less load recover. */
static void osdi_retry(test_ctx *t, size_t replicas)
{
    const struct {
        const char *path, *value;
        int tips;
    } cases[] = {
        {"triggers[0].duration", "10s", 1},
        {"triggers[0].duration", "9s", 0},
        {"triggers[0].speed_factor", "0.225", 0},
        {"clients.client.rate", "1000/s", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        msim_override ov = {cases[i].path, cases[i].value};
        msim_set *s = run_set(t, "examples/osdi22-retry.yaml", &ov, 1, replicas);
        if (!s) return;
        double p = s->p[MSIM_VERDICT_METASTABLE];
        size_t n = s->n;
        done(s);
        if (cases[i].tips)
            CHECK_MSG(p > 0.5, "%s=%s: P(metastable) %.2f over %zu, expected a storm", cases[i].path,
                      cases[i].value, p, n);
        else
            CHECK_MSG(p < 0.5, "%s=%s: P(metastable) %.2f over %zu, expected recovery", cases[i].path,
                      cases[i].value, p, n);
    }
}

static void osdi_retry_quick(test_ctx *t)
{
    osdi_retry(t, 8);
}

static void osdi_retry_full(test_ctx *t)
{
    osdi_retry(t, 30);
}

const test_case published_tests[] = {
    {"published_brooker_spike", brooker_spike_quick, TIER_QUICK},
    {"published_brooker_spike_full", brooker_spike_full, TIER_FULL},
    {"published_brooker_ramp_does_not_recover", brooker_ramp_does_not_recover, TIER_QUICK},
    {"published_osdi_retry", osdi_retry_quick, TIER_QUICK},
    {"published_osdi_retry_full", osdi_retry_full, TIER_FULL},
    {NULL, NULL, 0},
};
