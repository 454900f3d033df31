/* cache.c — the `cache` kind: a look-aside cache in front of a backing store.
 *
 * An attempt that arrives asks for one key, drawn from a Zipf popularity
 * (cache.h). A hit answers after `hit_time`. A miss becomes a *fetch*: the
 * cache sends its own attempt to the store (with its own timeout and retry
 * policy) and, when the store answers, stores the key — but only if someone
 * is still waiting for it. A caller that gives up takes its miss with it: when
 * the last caller waiting for a fetch leaves, the cache abandons the store call
 * (the store may go on working on it, as a service does by default), so its
 * answer never fills the cache. That is the sustaining loop of the OSDI'22
 * look-aside cache case: after a flush the misses overload the store, the
 * store answers after the callers' timeouts, and the cache never refills.
 * `fill_abandoned` (and the `lost_fills` mechanism diagnose switches off)
 * keeps such store calls and fills from them instead.
 *
 * With `coalesce`, concurrent misses for one key share one fetch (request
 * coalescing, "singleflight"); without it every miss has its own.
 *
 * Triggers act on the edges (component.h): a flush drops a share of the
 * entries and keeps the cache down while it lasts; an invalidation drops the
 * hottest keys and keeps them out while it lasts.
 *
 * The hit ratio of a window is hits / lookups: both are counted, under the
 * roles (CACHE_HITS, CACHE_LOOKUPS) from which the verdict reads a hit-ratio
 * drop. A ratio column would be wrong wherever columns are summed.
 *
 * Holder fields of an attempt held here: `state` (HELD_*), and for a caller
 * waiting on a fetch, `due` holds the fetch's index and prev/next link it
 * into the fetch's list of waiters.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "cache.h"
#include "retry.h"

enum { HELD_HIT = 1, HELD_WAIT = 2, HELD_ANSWER = 3 };
enum { START_WARM, START_COLD };

/* Entries are set aside at the start; this bounds that memory (~32 bytes
 * each). */
#define MAX_ENTRIES (1u << 24)

/* The plain part of a client's retry policy (retry.h): budgets, throttles
 * and hedging belong to clients. The rows below mirror retry.c's for these
 * keys, whose schema is private to it. */
typedef struct store_retry_cfg {
    int64_t max_attempts;
    unsigned retry_on; /* bit per msim_cause */
    backoff_cfg backoff;
} store_retry_cfg;

typedef struct cache_cfg {
    msim_ref store;
    int64_t keys;
    double zipf;
    int64_t capacity;
    msim_time ttl;
    msim_dist hit_time;
    int start;
    bool coalesce;
    bool fill_abandoned;
    msim_time store_timeout;
    store_retry_cfg store_retry;
} cache_cfg;

/* ---- parameters ------------------------------------------------------------------------------ */

static const msim_choice starts[] = {
    {"warm", "full at the start: the `capacity` hottest keys, TTLs spread as if filled over the "
             "last `ttl` (a cache that has been running)"},
    {"cold", "empty at the start"},
    {NULL, NULL},
};

static const msim_param store_retry_params[] = {
    {"max_attempts", &msim_type_int, offsetof(store_retry_cfg, max_attempts), "1", 1, 1000,
     "attempts per fetch, the first included; 1 disables retries", NULL, NULL},
    {"retry_on", &msim_type_flags, offsetof(store_retry_cfg, retry_on),
     "[timeout, error, rejected]", MSIM_UNBOUNDED, "failure causes that are retried", retry_causes,
     NULL},
    {"backoff", &msim_type_struct, offsetof(store_retry_cfg, backoff), NULL, MSIM_UNBOUNDED,
     "delay before each retry", &backoff_schema, NULL},
};

static const msim_schema store_retry_schema =
    MSIM_SCHEMA("store_retry", "retries of store calls", store_retry_params, store_retry_cfg, NULL);

static const msim_param cache_params[] = {
    {"store", &msim_type_ref, offsetof(cache_cfg, store), NULL, MSIM_UNBOUNDED,
     "where misses go: the backing store (a service, a balancer, another cache)",
     (const void *)(uintptr_t)MSIM_KIND_TARGET, NULL},
    {"keys", &msim_type_int, offsetof(cache_cfg, keys), "100000", 1, 1e15,
     "number of distinct keys requested", NULL, NULL},
    {"zipf", &msim_type_number, offsetof(cache_cfg, zipf), "0.99", 0, 10,
     "Zipf exponent s of key popularity: the key of rank k is asked for in proportion to "
     "k^-s (0: uniform)",
     NULL, NULL},
    {"capacity", &msim_type_count, offsetof(cache_cfg, capacity), "unlimited", 1, 1e15,
     "entries held; the least recently used makes room (unlimited: every key fits)", NULL, NULL},
    {"ttl", &msim_type_timeout, offsetof(cache_cfg, ttl), "none", 1, 1e300,
     "an entry expires this long after it was filled (none: never)", NULL, NULL},
    {"hit_time", &msim_type_dist, offsetof(cache_cfg, hit_time), "0", MSIM_UNBOUNDED,
     "time to answer a hit", NULL, NULL},
    {"start", &msim_type_enum, offsetof(cache_cfg, start), "warm", MSIM_UNBOUNDED,
     "the cache's contents at the start", starts, NULL},
    {"coalesce", &msim_type_bool, offsetof(cache_cfg, coalesce), "false", MSIM_UNBOUNDED,
     "concurrent misses for one key share one store call (request coalescing)", NULL, NULL},
    {"fill_abandoned", &msim_type_bool, offsetof(cache_cfg, fill_abandoned), "false",
     MSIM_UNBOUNDED,
     "keep the store call of a miss whose callers all gave up, and fill from its answer (else "
     "it is abandoned: a timed-out miss never fills)",
     NULL, NULL},
    {"store_timeout", &msim_type_timeout, offsetof(cache_cfg, store_timeout), "none", 1, 1e300,
     "timeout of each store call (none: wait as long as a caller does)", NULL, NULL},
    {"store_retry", &msim_type_struct, offsetof(cache_cfg, store_retry), NULL, MSIM_UNBOUNDED,
     "retry policy of store calls; a fetch that fails for good answers its callers with the "
     "failure (a store timeout as an error)",
     &store_retry_schema, NULL},
};

static int check_cache(msim_bind *b, const msim_node *n, void *p)
{
    const cache_cfg *c = p;
    int64_t cap = c->capacity == MSIM_UNLIMITED || c->capacity > c->keys ? c->keys : c->capacity;
    if (cap > (int64_t)MAX_ENTRIES)
        return msim_bind_fail(
            b, msim_node_get(n, c->capacity == MSIM_UNLIMITED ? "keys" : "capacity"), -MSIM_EINVAL,
            "a cache holds at most %u entries (memory for them is set aside at "
            "the start); lower capacity",
            MAX_ENTRIES);
    return 0;
}

static const msim_schema cache_schema = MSIM_SCHEMA(
    "cache", "a look-aside cache in front of a store", cache_params, cache_cfg, check_cache);

/* ---- state ----------------------------------------------------------------------------------- */

/* A miss in progress: the store call (or the backoff before its retry) and
 * the callers waiting for it. */
typedef struct fetch {
    uint64_t key;
    msim_attempt *head, *tail; /* waiting callers, linked through prev/next */
    uint32_t nwait;
    uint32_t self;  /* its index */
    uint32_t hnext; /* chain in the pending map, or the free list */
    bool mapped;    /* in the pending map (coalescing) */
    uint16_t attempts;
    msim_attempt *call; /* the store attempt out, or NULL */
    msim_timer backoff; /* the retry waiting, if any */
    msim_time last_backoff;
} fetch;

#define FETCH_SHIFT 10
#define FETCH_CHUNK (1u << FETCH_SHIFT)
#define NIL         UINT32_MAX

typedef struct cache {
    msim_component base;
    const cache_cfg *cfg;
    msim_component *store;
    zipf pop;
    lru lru;
    uint32_t capacity;
    bool hit_instant;    /* hit_time is zero: answer hits synchronously */
    bool fill_abandoned; /* configured, or switched on by diagnose */

    /* trigger state (the conditions last applied) */
    bool down;
    double lose;
    int64_t invalidated;

    /* fetches: records in chunks that never move, found by index */
    fetch **chunks;
    uint32_t nchunks, chunk_cap, free_fetch, nfetch;
    uint32_t *pend; /* pending map: key -> fetch, chained; coalescing only */
    uint32_t pend_mask, npend;

    msim_request store_req; /* store calls ride on it: the cache's own, not in the ledger */
    msim_lane store_lane;   /* store timeouts: a fixed length, so in time order */
    msim_rng rng_keys, rng_hit, rng_flush, rng_backoff, rng_warm;

    msim_metric m_lookups, m_hits, m_misses, m_expired, m_evictions;
    msim_metric m_fills, m_fills_refused, m_fills_lost, m_coalesced, m_flushed;
    msim_metric m_store_calls, m_store_retries, m_store_timeouts, m_store_failures;
    msim_gauge g_entries, g_fetches;
} cache;

/* ---- fetch records --------------------------------------------------------------------------- */

/* Fetch records live in chunks of FETCH_CHUNK that never move, found by
 * index: a caller's attempt can hold the index of its fetch in a time field
 * (`due`), and the free list costs no memory of its own. Chunks are added
 * only when more misses are in progress than ever before, so a run in a
 * steady state allocates nothing. */
static fetch *fetch_at(const cache *k, uint32_t i)
{
    return &k->chunks[i >> FETCH_SHIFT][i & (FETCH_CHUNK - 1)];
}

static bool fetch_grow(msim_sim *sim, cache *k)
{
    if (k->nchunks == k->chunk_cap) {
        uint32_t cap = k->chunk_cap ? 2 * k->chunk_cap : 8;
        fetch **c = msim_arena_alloc(sim, cap * sizeof *c);
        if (!c) return false;
        if (k->nchunks) memcpy(c, k->chunks, k->nchunks * sizeof *c);
        k->chunks = c;
        k->chunk_cap = cap;
    }
    fetch *chunk = msim_arena_alloc(sim, FETCH_CHUNK * sizeof *chunk);
    if (!chunk) return false;
    uint32_t base = k->nchunks << FETCH_SHIFT;
    for (uint32_t i = 0; i < FETCH_CHUNK; i++)
        chunk[i].hnext = i + 1 < FETCH_CHUNK ? base + i + 1 : NIL;
    k->chunks[k->nchunks++] = chunk;
    k->free_fetch = base;
    return true;
}

static fetch *fetch_new(msim_sim *sim, cache *k, uint64_t key)
{
    if (k->free_fetch == NIL && !fetch_grow(sim, k)) {
        msim_fail(sim, -MSIM_ENOMEM, "out of memory for cache misses");
        return NULL;
    }
    uint32_t i = k->free_fetch;
    fetch *f = fetch_at(k, i);
    k->free_fetch = f->hnext;
    *f = (fetch){.key = key, .self = i, .hnext = NIL};
    msim_gauge_set(sim, k->g_fetches, ++k->nfetch);
    return f;
}

static void fetch_free(msim_sim *sim, cache *k, fetch *f)
{
    f->hnext = k->free_fetch;
    k->free_fetch = f->self;
    msim_gauge_set(sim, k->g_fetches, --k->nfetch);
}

/* The callers waiting for a fetch, in arrival order; they are answered in
 * that order. */
static void wait_push(fetch *f, msim_attempt *a)
{
    a->next = NULL;
    a->prev = f->tail;
    if (f->tail)
        f->tail->next = a;
    else
        f->head = a;
    f->tail = a;
    f->nwait++;
}

static void wait_remove(fetch *f, msim_attempt *a)
{
    if (a->prev)
        a->prev->next = a->next;
    else
        f->head = a->next;
    if (a->next)
        a->next->prev = a->prev;
    else
        f->tail = a->prev;
    a->prev = a->next = NULL;
    f->nwait--;
}

/* ---- the pending map (coalescing): key -> fetch, chained through hnext ----------------------- */

/* The same Fibonacci hashing as the LRU (cache_keys.c): hot keys are small
 * consecutive integers, which must not share buckets. */
static uint32_t pend_home(const cache *k, uint64_t key)
{
    return (uint32_t)((key * 0x9E3779B97F4A7C15ull) >> 32) & k->pend_mask;
}

static fetch *pend_find(const cache *k, uint64_t key)
{
    for (uint32_t i = k->pend[pend_home(k, key)]; i != NIL;) {
        fetch *f = fetch_at(k, i);
        if (f->key == key) return f;
        i = f->hnext;
    }
    return NULL;
}

static void pend_link(cache *k, fetch *f)
{
    uint32_t *b = &k->pend[pend_home(k, f->key)];
    f->hnext = *b;
    *b = f->self;
}

/* Double the buckets when there are more fetches than buckets. The old array
 * stays in the arena: growth is geometric and happens only at a new peak. */
static bool pend_grow(msim_sim *sim, cache *k)
{
    uint32_t old_n = k->pend_mask + 1, *old = k->pend;
    uint32_t *nb = msim_arena_alloc(sim, 2 * (size_t)old_n * sizeof *nb);
    if (!nb) return false;
    memset(nb, 0xff, 2 * (size_t)old_n * sizeof *nb);
    k->pend = nb;
    k->pend_mask = 2 * old_n - 1;
    for (uint32_t b = 0; b < old_n; b++)
        for (uint32_t i = old[b]; i != NIL;) {
            fetch *f = fetch_at(k, i);
            i = f->hnext;
            pend_link(k, f);
        }
    return true;
}

static void pend_insert(msim_sim *sim, cache *k, fetch *f)
{
    if (k->npend >= k->pend_mask + 1 && !pend_grow(sim, k)) {
        msim_fail(sim, -MSIM_ENOMEM, "out of memory for coalesced cache misses");
        return;
    }
    pend_link(k, f);
    f->mapped = true;
    k->npend++;
}

static void pend_remove(cache *k, fetch *f)
{
    uint32_t *p = &k->pend[pend_home(k, f->key)];
    while (*p != f->self)
        p = &fetch_at(k, *p)->hnext;
    *p = f->hnext;
    f->mapped = false;
    k->npend--;
}

/* ---- entries --------------------------------------------------------------------------------- */

static void publish_entries(msim_sim *sim, cache *k)
{
    msim_gauge_set(sim, k->g_entries, k->lru.n);
}

/* Store a key a fetch brought back, unless a trigger keeps it out. */
static void fill(msim_sim *sim, cache *k, uint64_t key)
{
    if (k->down || (int64_t)key < k->invalidated) {
        msim_count(sim, k->m_fills_refused, 1);
        return;
    }
    msim_time ttl = k->cfg->ttl;
    uint64_t evicted;
    if (lru_put(&k->lru, key, ttl == MSIM_NEVER ? MSIM_NEVER : msim_now(sim) + ttl, &evicted))
        msim_count(sim, k->m_evictions, 1);
    msim_count(sim, k->m_fills, 1);
    publish_entries(sim, k);
}

/* The hottest keys, hottest last so that it is the most recent; `spread`
 * gives each a TTL as if it had been filled at a random moment of the last
 * ttl (a running cache), else a full TTL from now (a warming job). */
static void warm(msim_sim *sim, cache *k, bool spread)
{
    msim_time now = msim_now(sim), ttl = k->cfg->ttl;
    uint64_t evicted;
    for (uint32_t i = k->capacity; i-- > 0;) {
        msim_time exp = MSIM_NEVER;
        if (ttl != MSIM_NEVER)
            exp =
                now + (spread ? (msim_time)(msim_rng_u01_open0(&k->rng_warm) * (double)ttl) : ttl);
        lru_put(&k->lru, i, exp, &evicted);
    }
    publish_entries(sim, k);
}

/* Each entry is lost with probability f. */
static void lose_entries(msim_sim *sim, cache *k, double f)
{
    uint32_t before = k->lru.n;
    if (f >= 1) {
        lru_clear(&k->lru);
    } else {
        for (uint32_t i = k->lru.head, next; i != LRU_NIL; i = next) {
            next = k->lru.e[i].next;
            if (msim_rng_u01(&k->rng_flush) < f) lru_remove(&k->lru, k->lru.e[i].key);
        }
    }
    msim_count(sim, k->m_flushed, before - k->lru.n);
    publish_entries(sim, k);
}

/* The `top` hottest keys go: by key when they are few, else by a pass over
 * the entries. */
static void invalidate(msim_sim *sim, cache *k, int64_t top)
{
    uint32_t before = k->lru.n;
    if (top <= (int64_t)k->lru.n) {
        for (int64_t key = 0; key < top; key++)
            lru_remove(&k->lru, (uint64_t)key);
    } else {
        for (uint32_t i = k->lru.head, next; i != LRU_NIL; i = next) {
            next = k->lru.e[i].next;
            if ((int64_t)k->lru.e[i].key < top) lru_remove(&k->lru, k->lru.e[i].key);
        }
    }
    msim_count(sim, k->m_flushed, before - k->lru.n);
    publish_entries(sim, k);
}

/* ---- store calls ----------------------------------------------------------------------------- */

static void store_timeout(msim_sim *sim, void *obj, uint64_t arg);

/* Send the fetch's next store call. It rides on the cache's own request, so
 * it outlives any caller; its number is the fetch's attempt count, which is
 * what the store sees as a retry. */
static void store_send(msim_sim *sim, cache *k, fetch *f)
{
    msim_attempt *fa = msim_attempt_new(sim, &k->store_req, &k->base, k->store);
    if (!fa) return; /* out of memory: the run is failing */
    fa->number = ++f->attempts;
    fa->ctx = f;
    f->call = fa;
    msim_time t = k->cfg->store_timeout;
    fa->expires = t == MSIM_NEVER ? MSIM_NEVER : msim_now(sim) + t;
    msim_count(sim, k->m_store_calls, 1);
    if (fa->number > 1) msim_count(sim, k->m_store_retries, 1);
    /* may answer at once, and that may end the fetch: touch neither after */
    if (msim_send(sim, fa) && fa->expires != MSIM_NEVER)
        fa->timeout = msim_lane_at(sim, k->store_lane, fa->expires, store_timeout, fa, 0);
}

/* The fetch is over: fill if someone still waits (or fill_abandoned), then
 * answer every waiter. The record and the map are put right first, since an
 * answer may bring a caller's retry straight back here. */
static void fetch_done(msim_sim *sim, cache *k, fetch *f, msim_status status)
{
    if (f->mapped) pend_remove(k, f);
    if (status == MSIM_STATUS_OK && (f->nwait > 0 || k->fill_abandoned)) fill(sim, k, f->key);
    msim_attempt *a = f->head;
    for (msim_attempt *w = a; w; w = w->next)
        w->state = HELD_ANSWER; /* an abandon now leaves it to us */
    fetch_free(sim, k, f);
    while (a) {
        msim_attempt *next = a->next;
        a->prev = a->next = NULL;
        a->state = 0;
        msim_respond(sim, a, status);
        a = next;
    }
}

static void backoff_fire(msim_sim *sim, void *obj, uint64_t i)
{
    cache *k = obj;
    fetch *f = fetch_at(k, (uint32_t)i);
    f->backoff = MSIM_NO_TIMER;
    store_send(sim, k, f);
}

/* A store call failed with `cause`: retry as the policy says, or end the
 * fetch with the failure (a timeout reaches the callers as an error). */
static void store_failed(msim_sim *sim, cache *k, fetch *f, msim_cause cause)
{
    const store_retry_cfg *p = &k->cfg->store_retry;
    if (f->attempts < p->max_attempts && (p->retry_on & (1u << cause))) {
        const backoff_cfg *b = &p->backoff;
        msim_time d = b->kind == BACKOFF_NONE
                          ? 0
                          : backoff_delay(b, f->attempts, &f->last_backoff, &k->rng_backoff);
        if (d == 0)
            store_send(sim, k, f);
        else
            f->backoff = msim_after(sim, d, backoff_fire, k, f->self);
        return;
    }
    fetch_done(sim, k, f, cause == MSIM_CAUSE_REJECTED ? MSIM_STATUS_REJECTED : MSIM_STATUS_ERROR);
}

static void store_timeout(msim_sim *sim, void *obj, uint64_t arg)
{
    (void)arg;
    msim_attempt *fa = obj;
    cache *k = (cache *)fa->from;
    fetch *f = fa->ctx;
    fa->timeout = MSIM_NO_TIMER;
    f->call = NULL;
    msim_count(sim, k->m_store_timeouts, 1);
    msim_abandon(sim, fa); /* the store may keep working on it: wasted work */
    store_failed(sim, k, f, MSIM_CAUSE_TIMEOUT);
}

/* The store answered a call the cache had not given up on. */
static void cache_response(msim_sim *sim, msim_component *self, msim_attempt *fa)
{
    cache *k = (cache *)self;
    fetch *f = fa->ctx;
    msim_status status = (msim_status)fa->status;
    msim_cancel(sim, &fa->timeout);
    f->call = NULL;
    msim_attempt_free(sim, fa);
    if (status == MSIM_STATUS_OK) {
        fetch_done(sim, k, f, status);
        return;
    }
    msim_count(sim, k->m_store_failures, 1);
    store_failed(sim, k, f,
                 status == MSIM_STATUS_REJECTED ? MSIM_CAUSE_REJECTED : MSIM_CAUSE_ERROR);
}

/* Nobody waits for the fetch any more: its answer would never fill the
 * cache, so the store call is abandoned (a reset) and the fetch forgotten. */
static void fetch_abandon(msim_sim *sim, cache *k, fetch *f)
{
    msim_count(sim, k->m_fills_lost, 1);
    if (f->mapped) pend_remove(k, f);
    msim_cancel(sim, &f->backoff);
    if (f->call) {
        msim_cancel(sim, &f->call->timeout);
        msim_abandon(sim, f->call);
        f->call = NULL;
    }
    fetch_free(sim, k, f);
}

/* ---- lookups --------------------------------------------------------------------------------- */

/* A hit held for its hit_time is answered. */
static void hit_done(msim_sim *sim, void *obj, uint64_t arg)
{
    (void)arg;
    msim_attempt *a = obj;
    a->done = MSIM_NO_TIMER;
    a->state = 0;
    msim_respond(sim, a, MSIM_STATUS_OK);
}

/* A hit costs no capacity, only time: memcached answers in microseconds, so
 * the store is where a look-aside system runs out. */
static void hit(msim_sim *sim, cache *k, msim_attempt *a)
{
    msim_count(sim, k->m_hits, 1);
    if (k->hit_instant) {
        msim_respond(sim, a, MSIM_STATUS_OK);
        return;
    }
    a->state = HELD_HIT;
    a->done = msim_after(sim, msim_dist_sample(&k->cfg->hit_time, &k->rng_hit), hit_done, a, 0);
}

/* A miss joins the fetch in progress for its key (coalescing) or starts its
 * own. The store call goes last: it may be answered before it returns. */
static void miss(msim_sim *sim, cache *k, msim_attempt *a, uint64_t key)
{
    msim_count(sim, k->m_misses, 1);
    fetch *f = k->cfg->coalesce ? pend_find(k, key) : NULL;
    bool fresh = f == NULL;
    if (fresh) {
        f = fetch_new(sim, k, key);
        if (!f) {
            msim_respond(sim, a, MSIM_STATUS_REJECTED);
            return;
        }
        if (k->cfg->coalesce) pend_insert(sim, k, f);
    } else {
        msim_count(sim, k->m_coalesced, 1);
    }
    wait_push(f, a);
    a->state = HELD_WAIT;
    a->due = f->self;
    if (fresh) store_send(sim, k, f);
}

/* One lookup per attempt; a cache that is down (a flush in progress) misses
 * every time without touching its entries. */
static void cache_accept(msim_sim *sim, msim_component *self, msim_attempt *a)
{
    cache *k = (cache *)self;
    if (!a->req) { /* its caller left while it travelled */
        msim_drop(sim, a);
        return;
    }
    uint64_t key = zipf_draw(&k->pop, &k->rng_keys) - 1;
    msim_count(sim, k->m_lookups, 1);
    bool expired = false;
    if (!k->down && lru_get(&k->lru, key, msim_now(sim), &expired)) {
        hit(sim, k, a);
        return;
    }
    if (expired) {
        msim_count(sim, k->m_expired, 1);
        publish_entries(sim, k);
    }
    miss(sim, k, a, key);
}

/* A caller gave up. A hit is answered anyway (into the void); a miss leaves
 * its fetch, and the fetch goes when nobody is left to fill for. */
static void cache_abandon(msim_sim *sim, msim_component *self, msim_attempt *a)
{
    cache *k = (cache *)self;
    if (a->state != HELD_WAIT) return;
    fetch *f = fetch_at(k, (uint32_t)a->due);
    wait_remove(f, a);
    a->state = 0;
    if (f->nwait == 0 && !k->fill_abandoned) fetch_abandon(sim, k, f);
    msim_drop(sim, a); /* abandoned: released here */
}

/* ---- triggers -------------------------------------------------------------------------------- */

/* Conditions are levels, the cache acts on their rises: it remembers what it
 * last applied and acts on the difference. */
static void cache_apply(msim_sim *sim, msim_component *self, const msim_conditions *c)
{
    cache *k = (cache *)self;
    if (c->cache_lose > k->lose) /* the new flush's share of what survived the others */
        lose_entries(sim, k, k->lose < 1 ? 1 - (1 - c->cache_lose) / (1 - k->lose) : 1);
    k->lose = c->cache_lose;
    k->down = c->cache_down > 0;
    if (c->cache_invalidate_top > k->invalidated) {
        int64_t top =
            c->cache_invalidate_top < k->cfg->keys ? c->cache_invalidate_top : k->cfg->keys;
        invalidate(sim, k, top);
    }
    k->invalidated = c->cache_invalidate_top;
}

/* ---- setup ----------------------------------------------------------------------------------- */

static void register_metrics(msim_sim *sim, cache *k)
{
    msim_component *c = &k->base;
    k->m_lookups = msim_counter(sim, c, "lookups", "requests", MSIM_ROLE_CACHE_LOOKUPS);
    k->m_hits = msim_counter(sim, c, "hits", "requests", MSIM_ROLE_CACHE_HITS);
    k->m_misses = msim_counter(sim, c, "misses", "requests", MSIM_ROLE_NONE);
    k->m_expired = msim_counter(sim, c, "expired", "entries", MSIM_ROLE_NONE);
    k->m_evictions = msim_counter(sim, c, "evictions", "entries", MSIM_ROLE_NONE);
    k->m_flushed = msim_counter(sim, c, "flushed", "entries", MSIM_ROLE_NONE);
    k->m_fills = msim_counter(sim, c, "fills", "entries", MSIM_ROLE_NONE);
    k->m_fills_refused = msim_counter(sim, c, "fills_refused", "entries", MSIM_ROLE_NONE);
    k->m_fills_lost = msim_counter(sim, c, "fills_lost", "fetches", MSIM_ROLE_NONE);
    k->m_coalesced = msim_counter(sim, c, "coalesced", "requests", MSIM_ROLE_NONE);
    k->m_store_calls = msim_counter(sim, c, "store_calls", "attempts", MSIM_ROLE_NONE);
    k->m_store_retries = msim_counter(sim, c, "store_retries", "attempts", MSIM_ROLE_NONE);
    k->m_store_timeouts = msim_counter(sim, c, "store_timeouts", "attempts", MSIM_ROLE_NONE);
    k->m_store_failures = msim_counter(sim, c, "store_failures", "attempts", MSIM_ROLE_NONE);
    k->g_entries = msim_gauge_new(sim, c, "entries", "entries", MSIM_ROLE_NONE);
    k->g_fetches = msim_gauge_new(sim, c, "fetches", "fetches", MSIM_ROLE_NONE);
}

/* Every entry is set aside here, so lookups and fills never allocate. */
static int cache_init(msim_sim *sim, msim_component *self, const void *cfg, msim_error *err)
{
    cache *k = (cache *)self;
    k->cfg = cfg;
    k->store = msim_component_at(sim, k->cfg->store.index);
    if (k->store == self) {
        snprintf(err->path, sizeof err->path, "%s.store", self->name);
        return msim_error_set(err, -MSIM_EINVAL, "a cache cannot be its own store");
    }
    int64_t cap = k->cfg->capacity;
    k->capacity = (uint32_t)(cap == MSIM_UNLIMITED || cap > k->cfg->keys ? k->cfg->keys : cap);
    void *mem = msim_arena_alloc(sim, lru_bytes(k->capacity));
    k->pend_mask = 1023;
    k->pend = msim_arena_alloc(sim, (k->pend_mask + 1) * sizeof *k->pend);
    if (!mem || !k->pend) return msim_error_set(err, -MSIM_ENOMEM, "out of memory");
    memset(k->pend, 0xff, (k->pend_mask + 1) * sizeof *k->pend);
    lru_init(&k->lru, mem, k->capacity);
    zipf_init(&k->pop, (uint64_t)k->cfg->keys, k->cfg->zipf);
    k->free_fetch = NIL;
    k->hit_instant = msim_dist_is_zero(&k->cfg->hit_time);
    k->fill_abandoned = k->cfg->fill_abandoned;
    k->store_req = (msim_request){.start = 0, .deadline = MSIM_NEVER, .origin = self};
    k->store_lane = msim_lane_new(sim);
    k->rng_keys = msim_stream(sim, self->name, "keys");
    k->rng_hit = msim_stream(sim, self->name, "hits");
    k->rng_flush = msim_stream(sim, self->name, "flush");
    k->rng_backoff = msim_stream(sim, self->name, "backoff");
    k->rng_warm = msim_stream(sim, self->name, "warm");
    register_metrics(sim, k);
    return 0;
}

/* Warm in start rather than init: the spread expiries need the run's clock
 * and stream, and the gauge its first value. */
static void cache_start(msim_sim *sim, msim_component *self)
{
    cache *k = (cache *)self;
    if (k->cfg->start == START_WARM) warm(sim, k, true);
    publish_entries(sim, k);
}

/* ---- mechanisms diagnose can switch off ------------------------------------------------------ */

/* A timed-out miss fills the cache from now on. */
static void disable_lost_fills(msim_sim *sim, msim_component *self)
{
    (void)sim;
    ((cache *)self)->fill_abandoned = true;
}

/* Warm the cache now, as a warming job would: its capacity's hottest keys. */
static void disable_cold_cache(msim_sim *sim, msim_component *self)
{
    warm(sim, (cache *)self, false);
}

static const msim_mechanism cache_mechanisms[] = {
    {"lost_fills",
     "fill the cache from misses whose callers gave up (keep their store calls) instead of "
     "losing them",
     disable_lost_fills},
    {"cold_cache", "warm the cache with its capacity's hottest keys", disable_cold_cache},
};

const msim_kind msim_cache_kind = {
    .name = "cache",
    .section = "caches",
    .doc = "a look-aside cache in front of a store: Zipf key popularity, LRU capacity, TTL, "
           "fill only for a caller still waiting, optional request coalescing",
    .schema = &cache_schema,
    .size = sizeof(cache),
    .roles = MSIM_KIND_TARGET,
    .conditions = MSIM_COND_CACHE,
    .init = cache_init,
    .start = cache_start,
    .accept = cache_accept,
    .on_response = cache_response,
    .on_abandon = cache_abandon,
    .apply = cache_apply,
    .mechanisms = cache_mechanisms,
    .nmechanisms = sizeof cache_mechanisms / sizeof cache_mechanisms[0],
};
