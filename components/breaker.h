/* breaker.h — the classic circuit breaker a client puts around its calls.
 *
 * Closed: every attempt goes through, and its outcome is counted. The breaker
 * trips (opens) on `consecutive_failures` failed attempts in a row, or when
 * over the last `window` at least `minimum_requests` attempts ended and a
 * share `failure_rate` or more of them failed (a rolling window of 10 buckets,
 * as Hystrix keeps it). Open: attempts fail at once without being sent, for
 * `open_duration`. Half-open: `half_open_probes` attempts go through; when
 * that many have succeeded the breaker closes (counts cleared), at the first
 * failure it opens again. With `scope: retries` only retries are refused
 * while open; first attempts always go.
 *
 * Each state change starts a new generation; an outcome counts only in the
 * generation its attempt was sent in (gobreaker), so answers to attempts sent
 * before the breaker opened do not decide a half-open trial.
 */
#ifndef METASIM_COMPONENTS_BREAKER_H
#define METASIM_COMPONENTS_BREAKER_H

#include <stdbool.h>

#include "metasim.h"

enum { TRIP_NONE, TRIP_CONSECUTIVE, TRIP_RATE };
enum { SCOPE_ALL, SCOPE_RETRIES };
enum { BREAKER_CLOSED, BREAKER_HALF_OPEN, BREAKER_OPEN };

typedef struct breaker_cfg {
    int trip;
    int64_t consecutive_failures;
    double failure_rate;
    msim_time window;
    int64_t minimum_requests;
    msim_time open_duration;
    int64_t half_open_probes;
    int scope;
} breaker_cfg;

extern const msim_schema breaker_schema;

#define BREAKER_BUCKETS 10

typedef struct breaker {
    const breaker_cfg *cfg;
    int state;
    uint16_t gen;        /* bumped at every state change */
    int64_t consecutive; /* failures in a row (closed) */
    int64_t ok[BREAKER_BUCKETS], bad[BREAKER_BUCKETS];
    int64_t sum_ok, sum_bad;  /* over the buckets */
    int head;                 /* bucket being written */
    msim_time bucket_end;     /* when the head bucket ends */
    int64_t probes, probe_ok; /* half-open: sent, succeeded */
} breaker;

void breaker_init(breaker *b, const breaker_cfg *cfg, msim_time now);

/* May an attempt go (first attempt or retry)? Counts a half-open probe. */
bool breaker_allow(breaker *b, bool retry);

/* Record an attempt's outcome. `gen` is the generation it was sent in.
 * Returns the new state if the outcome changed it, else -1. */
int breaker_record(breaker *b, uint16_t gen, bool ok, msim_time now);

/* open_duration has passed since the breaker opened (generation `gen`). */
void breaker_half_open(breaker *b, uint16_t gen);

#endif
