/* breaker.c — the classic circuit breaker's parameters and state machine (see
 * breaker.h). Defaults follow Hystrix for the failure-rate rule (10 s window,
 * 20 requests, 50 %, 5 s open, one trial) and gobreaker for consecutive
 * failures (5); the sources and the choices made are in docs/mitigations.md.
 */
#include <stddef.h>
#include <string.h>

#include "breaker.h"

static const msim_choice trips[] = {
    {"none", "no breaker"},
    {"consecutive", "open after consecutive_failures failed attempts in a row"},
    {"rate", "open when failure_rate of at least minimum_requests attempts in `window` failed"},
    {NULL, NULL},
};

static const msim_choice scopes[] = {
    {"all", "while open, every attempt fails at once (the request fails fast)"},
    {"retries", "while open, only retries are refused; first attempts still go"},
    {NULL, NULL},
};

static const msim_param breaker_params[] = {
    {"trip", &msim_type_enum, offsetof(breaker_cfg, trip), "none", MSIM_UNBOUNDED,
     "what opens the breaker", trips, NULL},
    {"consecutive_failures", &msim_type_int, offsetof(breaker_cfg, consecutive_failures), "5", 1,
     1e9, "trip: consecutive — failed attempts in a row that open it", NULL, NULL},
    {"failure_rate", &msim_type_fraction, offsetof(breaker_cfg, failure_rate), "50%", 0, 1,
     "trip: rate — share of failed attempts in the window that opens it", NULL, NULL},
    {"window", &msim_type_duration, offsetof(breaker_cfg, window), "10s", 1e6, 1e300,
     "trip: rate — the rolling window (10 buckets)", NULL, NULL},
    {"minimum_requests", &msim_type_int, offsetof(breaker_cfg, minimum_requests), "20", 1, 1e9,
     "trip: rate — attempts the window must hold before the rate counts", NULL, NULL},
    {"open_duration", &msim_type_duration, offsetof(breaker_cfg, open_duration), "5s", 1e6, 1e300,
     "how long it stays open before a trial (half-open)", NULL, NULL},
    {"half_open_probes", &msim_type_int, offsetof(breaker_cfg, half_open_probes), "1", 1, 1e6,
     "trial attempts let through half-open; all must succeed to close it", NULL, NULL},
    {"scope", &msim_type_enum, offsetof(breaker_cfg, scope), "all", MSIM_UNBOUNDED,
     "what an open breaker refuses", scopes, NULL},
};

const msim_schema breaker_schema =
    MSIM_SCHEMA("breaker", "a classic circuit breaker: closed, open, half-open", breaker_params,
                breaker_cfg, NULL);

/* ---- the rolling window ------------------------------------------------------------- */

static void window_clear(breaker *b, msim_time now)
{
    memset(b->ok, 0, sizeof b->ok);
    memset(b->bad, 0, sizeof b->bad);
    b->sum_ok = b->sum_bad = 0;
    b->head = 0;
    b->bucket_end = now + b->cfg->window / BREAKER_BUCKETS;
}

/* Move the head bucket up to now, dropping buckets older than the window. */
static void window_advance(breaker *b, msim_time now)
{
    msim_time len = b->cfg->window / BREAKER_BUCKETS;
    if (now >= b->bucket_end + b->cfg->window) {
        window_clear(b, now);
        return;
    }
    while (now >= b->bucket_end) {
        b->head = (b->head + 1) % BREAKER_BUCKETS;
        b->sum_ok -= b->ok[b->head];
        b->sum_bad -= b->bad[b->head];
        b->ok[b->head] = b->bad[b->head] = 0;
        b->bucket_end += len;
    }
}

static bool rate_trips(breaker *b)
{
    int64_t total = b->sum_ok + b->sum_bad;
    return total >= b->cfg->minimum_requests &&
           (double)b->sum_bad >= b->cfg->failure_rate * (double)total;
}

/* ---- states ---------------------------------------------------------------------------- */

static int set_state(breaker *b, int state, msim_time now)
{
    b->state = state;
    b->gen++;
    b->consecutive = 0;
    b->probes = b->probe_ok = 0;
    if (state == BREAKER_CLOSED) window_clear(b, now);
    return state;
}

void breaker_init(breaker *b, const breaker_cfg *cfg, msim_time now)
{
    memset(b, 0, sizeof *b);
    b->cfg = cfg;
    b->state = BREAKER_CLOSED;
    window_clear(b, now);
}

bool breaker_allow(breaker *b, bool retry)
{
    if (b->state == BREAKER_CLOSED) return true;
    if (b->cfg->scope == SCOPE_RETRIES && !retry) return true;
    if (b->state == BREAKER_OPEN || b->probes >= b->cfg->half_open_probes) return false;
    b->probes++;
    return true;
}

int breaker_record(breaker *b, uint16_t gen, bool ok, msim_time now)
{
    if (gen != b->gen || b->state == BREAKER_OPEN) return -1;
    if (b->state == BREAKER_HALF_OPEN) {
        if (!ok) return set_state(b, BREAKER_OPEN, now);
        return ++b->probe_ok >= b->cfg->half_open_probes ? set_state(b, BREAKER_CLOSED, now) : -1;
    }
    if (b->cfg->trip == TRIP_CONSECUTIVE) {
        b->consecutive = ok ? 0 : b->consecutive + 1;
        return b->consecutive >= b->cfg->consecutive_failures ? set_state(b, BREAKER_OPEN, now)
                                                              : -1;
    }
    window_advance(b, now);
    if (ok) {
        b->ok[b->head]++;
        b->sum_ok++;
        return -1;
    }
    b->bad[b->head]++;
    b->sum_bad++;
    return rate_trips(b) ? set_state(b, BREAKER_OPEN, now) : -1;
}

void breaker_half_open(breaker *b, uint16_t gen)
{
    if (gen == b->gen && b->state == BREAKER_OPEN) set_state(b, BREAKER_HALF_OPEN, 0);
}
