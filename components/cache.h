/* cache.h — the pieces of the `cache` kind that stand on their own: the key
 * popularity (a Zipf sampler) and the store of entries (LRU with TTL). Not
 * API: cache.c and the unit tests include it.
 *
 * Keys are integers: key k (0-based) is the key of popularity rank k + 1, so
 * key 0 is the hottest. Both pieces work on caller-provided memory and touch
 * no run state, which is what lets the tests drive them directly.
 */
#ifndef METASIM_COMPONENTS_CACHE_H
#define METASIM_COMPONENTS_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metasim.h"

/* ---- Zipf popularity --------------------------------------------------------------
 * P(rank k) = k^-s / H(n, s) for k = 1..n. Drawn by rejection-inversion
 * (Hörmann & Derflinger 1996, "Rejection-inversion to generate variates from
 * monotone discrete distributions"; the variant of Apache Commons RNG's
 * RejectionInversionZipfSampler): exact, O(1) expected time (fewer than 1.1
 * uniforms per draw on average) and O(1) memory, so a key space of billions
 * costs nothing — inverse-CDF sampling would need a table of n cumulative
 * weights and a binary search per draw. s = 0 is the uniform distribution. */
typedef struct zipf {
    double n, s;
    double h_x1, h_n; /* H(1.5) - 1 and H(n + 0.5): the range u is drawn from */
    double thr;       /* the squeeze: k - x <= thr accepts without a test */
} zipf;

void zipf_init(zipf *z, uint64_t n, double s);

/* A rank in [1, n]. */
uint64_t zipf_draw(const zipf *z, msim_rng *rng);

/* ---- LRU with TTL -------------------------------------------------------------------
 * A fixed number of entries, a chained hash table from key to entry and an
 * intrusive doubly linked list in recency order: lookup, insert, remove and
 * eviction are O(1). An entry past its expiry time is removed when a lookup
 * finds it (lazily, as memcached does); until then it holds its slot and may
 * be evicted like any other. */
#define LRU_NIL UINT32_MAX

typedef struct lru_entry {
    uint64_t key;
    msim_time expires;   /* MSIM_NEVER: no TTL */
    uint32_t prev, next; /* recency list: prev toward the most recent */
    uint32_t hnext;      /* hash chain */
} lru_entry;

typedef struct lru {
    lru_entry *e;
    uint32_t *bucket; /* head entry of each chain, LRU_NIL if empty */
    uint32_t mask;    /* buckets - 1 (a power of two >= capacity) */
    uint32_t cap, n;
    uint32_t head, tail; /* most and least recently used */
    uint32_t free;       /* unused entries, chained through next */
} lru;

/* Bytes of memory an LRU of this capacity needs (capacity >= 1). */
size_t lru_bytes(uint32_t capacity);

/* Set up an empty LRU in mem (lru_bytes(capacity) bytes, suitably aligned). */
void lru_init(lru *l, void *mem, uint32_t capacity);

/* Look key up at time `now`. A live entry becomes the most recent and true is
 * returned. An expired one is removed (*expired set) and false returned. */
bool lru_get(lru *l, uint64_t key, msim_time now, bool *expired);

/* Store key with an expiry time (it becomes the most recent; an existing
 * entry is refreshed). When the cache is full the least recent entry makes
 * room: returns true and its key in *evicted. */
bool lru_put(lru *l, uint64_t key, msim_time expires, uint64_t *evicted);

/* Remove key if present; returns whether it was. */
bool lru_remove(lru *l, uint64_t key);

/* Is key present (expired or not), without touching recency? */
bool lru_contains(const lru *l, uint64_t key);

/* Remove every entry. */
void lru_clear(lru *l);

#endif
