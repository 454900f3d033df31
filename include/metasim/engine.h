/* metasim/engine.h — the discrete-event core as components see it: the clock,
 * timers, and random streams.
 *
 * A run (msim_sim) is a value: it owns its clock, event queue, pools, random
 * streams and metrics, and nothing outside it is mutable, so many runs can go on
 * in parallel threads. Events fire in (time, insertion sequence) order; there is
 * no other source of order, which is what makes a run reproducible.
 *
 * Ownership: msim_sim is created and destroyed by msim_run (metasim.h); a
 * component never frees it. Timers need no freeing: they are released when they
 * fire or are cancelled.
 */
#ifndef METASIM_ENGINE_H
#define METASIM_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "base.h"

typedef struct msim_sim msim_sim;

/* An event callback. obj and arg are whatever the scheduler passed. */
typedef void (*msim_event_fn)(msim_sim *sim, void *obj, uint64_t arg);

/* A handle on a pending event, used only to cancel it. The zero value is "no
 * timer"; a handle whose event fired or was cancelled is stale and harmless. */
typedef struct msim_timer {
    uint32_t slot;
    uint32_t gen;
} msim_timer;

#define MSIM_NO_TIMER ((msim_timer){0, 0})

/* The current simulated time. */
msim_time msim_now(const msim_sim *sim);

/* The end of the simulated horizon: no event at or after it fires. */
msim_time msim_horizon(const msim_sim *sim);

/* Schedule fn(sim, obj, arg) at absolute time `when` (>= now). Returns a handle
 * for msim_cancel. Events at equal times fire in the order they were scheduled. */
msim_timer msim_at(msim_sim *sim, msim_time when, msim_event_fn fn, void *obj, uint64_t arg);

/* Schedule after a delay (>= 0) from now. */
msim_timer msim_after(msim_sim *sim, msim_time delay, msim_event_fn fn, void *obj, uint64_t arg);

/* A lane: a FIFO for events one component schedules in nondecreasing time
 * order, such as timeouts of a fixed length. Scheduling and firing through a
 * lane cost O(1) instead of O(log n); the order of events is unchanged. */
typedef uint32_t msim_lane;

/* Create a lane (in init). Returns MSIM_NO_LANE if memory ran out. */
msim_lane msim_lane_new(msim_sim *sim);
#define MSIM_NO_LANE UINT32_MAX

/* Like msim_at, through a lane. A time earlier than the lane's latest goes to
 * the general queue, so correctness never depends on the caller's order. */
msim_timer msim_lane_at(msim_sim *sim, msim_lane lane, msim_time when, msim_event_fn fn, void *obj,
                        uint64_t arg);

/* Cancel a pending timer in O(1) and clear the handle. Returns true if the event
 * was still pending. Cancelling a stale or zero handle does nothing. */
bool msim_cancel(msim_sim *sim, msim_timer *t);

/* True if the handle refers to an event that has not fired or been cancelled. */
bool msim_timer_pending(const msim_sim *sim, msim_timer t);

/* ---- random streams ---------------------------------------------------------
 * xoshiro256++ (Blackman & Vigna). We carry our own generator rather than a
 * GSL one because a stream must be derived from (master seed, replica,
 * component, purpose) by hashing — GSL seeds from one integer — and because the
 * draw is on the hot path. msim_rng_gsl() lends a stream to GSL's samplers. */
typedef struct msim_rng {
    uint64_t s[4];
} msim_rng;

static inline uint64_t msim_rng__rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* Next raw 64-bit output. */
static inline uint64_t msim_rng_next(msim_rng *r)
{
    uint64_t *s = r->s;
    uint64_t out = msim_rng__rotl(s[0] + s[3], 23) + s[0];
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = msim_rng__rotl(s[3], 45);
    return out;
}

/* Uniform double in [0, 1) with 53 random bits. */
static inline double msim_rng_u01(msim_rng *r)
{
    return (double)(msim_rng_next(r) >> 11) * 0x1.0p-53;
}

/* Uniform double in (0, 1]: safe to take the logarithm of. */
static inline double msim_rng_u01_open0(msim_rng *r)
{
    return (double)((msim_rng_next(r) >> 11) + 1) * 0x1.0p-53;
}

/* Seed a stream from a 64-bit value (expanded with splitmix64). */
void msim_rng_seed(msim_rng *r, uint64_t seed);

/* The stream for (this run's seed and replica, component name, purpose). The
 * same names give the same stream in every run of the same seed, whatever other
 * components exist: that is what keeps variants comparable. */
msim_rng msim_stream(const msim_sim *sim, const char *component, const char *purpose);

/* Derive a stream seed from a master seed, a replica index and two names. */
uint64_t msim_stream_seed(uint64_t master, uint64_t replica, const char *component,
                          const char *purpose);

/* The master seed and replica index of this run. */
uint64_t msim_seed(const msim_sim *sim);
uint64_t msim_replica(const msim_sim *sim);

/* ---- allocation inside a run --------------------------------------------- */

/* Allocate zeroed memory that lives until the run ends (freed in one step). For
 * per-component state set up in init; not for per-event objects. */
void *msim_arena_alloc(msim_sim *sim, size_t size);

/* Fixed-size object pool: O(1) get/put, memory grows in chunks and is returned
 * when the run ends. Steady-state simulation allocates nothing. */
typedef struct msim_pool msim_pool;
msim_pool *msim_pool_new(msim_sim *sim, size_t object_size);
void *msim_pool_get(msim_pool *pool); /* NOT zeroed (callers set every field); NULL if out of memory */
void msim_pool_put(msim_pool *pool, void *obj);

/* Stop the run with a runtime failure (e.g. memory exhausted); the message is
 * reported by msim_run. Events already queued do not fire. */
void msim_fail(msim_sim *sim, int code, const char *msg);

#endif
