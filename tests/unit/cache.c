/* cache.c — the `cache` kind and its parts: the LRU with TTL against a
 * brute-force model, the Zipf sampler against its exact distribution
 * (chi-square), and end to end the rules that make a look-aside cache a
 * sustaining mechanism: a miss fills only while its caller still waits,
 * coalescing shares one store call, TTL refills, store timeouts and retries,
 * flush and invalidate triggers, the hit-ratio signal and the mechanisms
 * diagnose switches off.
 *
 * Counts the rules fix exactly are checked exactly; frequencies drawn at
 * random are checked against their distribution at a fixed seed. */
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>

#include "../../components/cache.h"
#include "../suites.h"

/* ---- LRU with TTL ---------------------------------------------------------------------------- */

static lru *lru_new(uint32_t cap)
{
    lru *l = malloc(sizeof *l);
    void *mem = malloc(lru_bytes(cap));
    if (!l || !mem) {
        free(l);
        free(mem);
        return NULL;
    }
    lru_init(l, mem, cap);
    return l;
}

static void lru_free(lru *l)
{
    if (l) free(l->e);
    free(l);
}

static void lru_evicts_least_recent(test_ctx *t)
{
    lru *l = lru_new(3);
    CHECK(l);
    uint64_t ev = 999;
    bool expired;
    CHECK(!lru_put(l, 1, MSIM_NEVER, &ev));
    CHECK(!lru_put(l, 2, MSIM_NEVER, &ev));
    CHECK(!lru_put(l, 3, MSIM_NEVER, &ev));
    CHECK(l->n == 3);
    CHECK(lru_get(l, 1, 0, &expired) && !expired); /* 1 is now the most recent: 2 is oldest */
    CHECK(lru_put(l, 4, MSIM_NEVER, &ev) && ev == 2);
    CHECK(!lru_contains(l, 2) && lru_contains(l, 1) && lru_contains(l, 3) && lru_contains(l, 4));
    CHECK(!lru_put(l, 3, MSIM_NEVER, &ev));           /* a refresh evicts nothing... */
    CHECK(lru_put(l, 5, MSIM_NEVER, &ev) && ev == 1); /* ...and makes 3 recent */
    CHECK(lru_remove(l, 4) && !lru_remove(l, 4) && l->n == 2);
    CHECK(!lru_put(l, 6, MSIM_NEVER, &ev)); /* the freed slot is reused */
    lru_clear(l);
    CHECK(l->n == 0 && !lru_contains(l, 3) && !lru_get(l, 5, 0, &expired));
    lru_free(l);
}

static void lru_expires_entries(test_ctx *t)
{
    lru *l = lru_new(4);
    CHECK(l);
    uint64_t ev;
    bool expired;
    lru_put(l, 7, 100, &ev);
    lru_put(l, 8, MSIM_NEVER, &ev);
    CHECK(lru_get(l, 7, 99, &expired) && !expired);
    CHECK(!lru_get(l, 7, 100, &expired) && expired);  /* expires at its time, not after */
    CHECK(!lru_contains(l, 7) && l->n == 1);          /* and is gone */
    CHECK(!lru_get(l, 7, 101, &expired) && !expired); /* a plain miss now */
    lru_put(l, 7, 200, &ev);                          /* a refill gets a new TTL */
    CHECK(lru_get(l, 7, 150, &expired));
    lru_put(l, 7, 300, &ev); /* a refresh moves the expiry */
    CHECK(lru_get(l, 7, 250, &expired));
    CHECK(lru_get(l, 8, INT64_MAX - 1, &expired));
    lru_free(l);
}

/* A brute-force model: an array in recency order (0 most recent). */
typedef struct model {
    uint64_t key[64];
    msim_time exp[64];
    uint32_t n, cap;
} model;

static int model_find(const model *m, uint64_t key)
{
    for (uint32_t i = 0; i < m->n; i++)
        if (m->key[i] == key) return (int)i;
    return -1;
}

static void model_take(model *m, int i)
{
    memmove(&m->key[i], &m->key[i + 1], (m->n - (uint32_t)i - 1) * sizeof m->key[0]);
    memmove(&m->exp[i], &m->exp[i + 1], (m->n - (uint32_t)i - 1) * sizeof m->exp[0]);
    m->n--;
}

static void model_front(model *m, uint64_t key, msim_time exp)
{
    memmove(&m->key[1], &m->key[0], m->n * sizeof m->key[0]);
    memmove(&m->exp[1], &m->exp[0], m->n * sizeof m->exp[0]);
    m->key[0] = key;
    m->exp[0] = exp;
    m->n++;
}

/* 200,000 random gets, puts and removes over 300 keys against the model:
 * the same hits, expiries, evictions and contents, in the same order. */
static void lru_matches_a_brute_force_model(test_ctx *t)
{
    for (uint32_t cap = 1; cap <= 64; cap *= 4) {
        lru *l = lru_new(cap);
        CHECK(l);
        model m = {.cap = cap};
        msim_rng rng;
        msim_rng_seed(&rng, 42 + cap);
        msim_time now = 0;
        for (int op = 0; op < 200000; op++) {
            now += (msim_time)(msim_rng_next(&rng) % 3);
            uint64_t key = msim_rng_next(&rng) % 300;
            uint32_t what = (uint32_t)(msim_rng_next(&rng) % 10);
            int i = model_find(&m, key);
            if (what < 5) { /* get */
                bool expired, hit = lru_get(l, key, now, &expired);
                bool want = i >= 0 && m.exp[i] > now;
                CHECK_MSG(hit == want && expired == (i >= 0 && !want), "op %d: get %llu", op,
                          (unsigned long long)key);
                if (i >= 0) {
                    msim_time e = m.exp[i];
                    model_take(&m, i);
                    if (want) model_front(&m, key, e);
                }
            } else if (what < 9) { /* put, with a TTL or none */
                msim_time exp =
                    what == 8 ? MSIM_NEVER : now + (msim_time)(msim_rng_next(&rng) % 50);
                uint64_t ev = 0;
                bool evicted = lru_put(l, key, exp, &ev);
                bool want = i < 0 && m.n == m.cap;
                CHECK_MSG(evicted == want && (!want || ev == m.key[m.n - 1]), "op %d: put", op);
                if (i >= 0)
                    model_take(&m, i);
                else if (want)
                    m.n--;
                model_front(&m, key, exp);
            } else { /* remove */
                CHECK(lru_remove(l, key) == (i >= 0));
                if (i >= 0) model_take(&m, i);
            }
            CHECK(l->n == m.n);
        }
        /* the recency lists agree entry by entry */
        uint32_t k = 0;
        for (uint32_t e = l->head; e != LRU_NIL; e = l->e[e].next, k++)
            CHECK(k < m.n && l->e[e].key == m.key[k]);
        CHECK(k == m.n);
        lru_free(l);
    }
}

/* ---- Zipf sampling --------------------------------------------------------------------------- */

/* Chi-square of `draws` ranks against P(k) = k^-s / H(n, s): one cell per
 * rank while the expected count is at least 20, the rest pooled in a tail
 * cell. Passes at the 0.1% level; the seed is fixed, so it is repeatable. */
static void check_zipf(test_ctx *t, uint64_t n, double s, uint64_t seed)
{
    const uint32_t draws = 1000000, max_cells = 2000;
    double h = 0;
    for (uint64_t k = 1; k <= n; k++)
        h += pow((double)k, -s);
    uint32_t cells = 0;
    while (cells < max_cells && cells < n && draws * pow(cells + 1.0, -s) / h >= 20)
        cells++;
    double *count = calloc(cells + 1, sizeof *count);
    CHECK(count);
    zipf z;
    zipf_init(&z, n, s);
    msim_rng rng;
    msim_rng_seed(&rng, seed);
    uint64_t lo = n, hi = 1;
    for (uint32_t i = 0; i < draws; i++) {
        uint64_t k = zipf_draw(&z, &rng);
        lo = k < lo ? k : lo;
        hi = k > hi ? k : hi;
        count[k <= cells ? k - 1 : cells]++;
    }
    double chi = 0, tail_p = 1;
    for (uint32_t k = 1; k <= cells; k++) {
        double e = draws * pow((double)k, -s) / h;
        tail_p -= pow((double)k, -s) / h;
        chi += (count[k - 1] - e) * (count[k - 1] - e) / e;
    }
    uint32_t df = cells - 1;
    if (cells < n && tail_p * draws >= 20) {
        double e = tail_p * draws;
        chi += (count[cells] - e) * (count[cells] - e) / e;
        df++;
    }
    free(count);
    double crit = gsl_cdf_chisq_Qinv(0.001, df);
    CHECK_MSG(lo >= 1 && hi <= n, "n=%llu s=%g: rank out of range [%llu, %llu]",
              (unsigned long long)n, s, (unsigned long long)lo, (unsigned long long)hi);
    CHECK_MSG(chi < crit, "n=%llu s=%g: chi-square %.1f on %u df, critical %.1f",
              (unsigned long long)n, s, chi, df, crit);
}

static void zipf_draws_follow_the_distribution(test_ctx *t)
{
    check_zipf(t, 10, 0, 1);      /* uniform */
    check_zipf(t, 1000, 0.5, 2);  /* mild skew */
    check_zipf(t, 1000, 0.99, 3); /* YCSB's default */
    check_zipf(t, 1000, 1.0, 4);  /* s = 1: the helpers' limit case */
    check_zipf(t, 100000, 1.2, 5);
    check_zipf(t, 2, 3.0, 6); /* two keys, steep */
    if (t->failed) return;
    /* a huge key space costs no memory and stays in range */
    zipf z;
    zipf_init(&z, 4000000000ull, 0.8);
    msim_rng rng;
    msim_rng_seed(&rng, 7);
    for (int i = 0; i < 100000; i++) {
        uint64_t k = zipf_draw(&z, &rng);
        CHECK(k >= 1 && k <= 4000000000ull);
    }
}

/* ---- the cache end to end -------------------------------------------------------------------- */

static double wsum(const msim_result *r, const char *comp, const char *metric, uint32_t w0,
                   uint32_t w1)
{
    int c = msim_result_column(r, comp, metric);
    if (c < 0) return NAN;
    if (w1 > r->nwin) w1 = r->nwin;
    return msim_result_sum(r, c, w0, w1);
}

static bool has_signal(const msim_result *r, const char *name)
{
    for (size_t k = 0; k < r->verdict.nsignals; k++)
        if (strcmp(r->verdict.signals[k].name, name) == 0) return true;
    return false;
}

static void check_ledger(test_ctx *t, const msim_result *r)
{
    CHECK(r->requests == r->succeeded + r->failed + r->in_flight);
}

/* A client c (constant arrivals) in front of cache k in front of store db. */
static msim_result *run_cache(test_ctx *t, const char *duration, const char *client,
                              const char *cache, const char *db, const char *rest)
{
    char yaml[4096];
    snprintf(yaml, sizeof yaml,
             "duration: %s\nverdict: {warmup: 1s, hold: 5s, observe: 10s}\n"
             "clients:\n  c:\n    target: k\n%s\n"
             "caches:\n  k:\n    store: db\n%s\n"
             "services:\n  db:\n%s\n%s",
             duration, client, cache, db, rest);
    return test_run_text(t, yaml, NULL, 0, 0);
}

/* Every store answer comes after the caller's timeout: nothing is ever
 * filled, every fetch is lost, and the store's work is all wasted. A store
 * that answers in time fills; so does a late one with fill_abandoned. */
static void cache_fills_only_while_the_caller_waits(test_ctx *t)
{
    const char *client = "    arrival: constant\n    rate: 200/s\n    timeout: 100ms";
    const char *late = "    workers: unlimited\n    service_time: 150ms";
    const char *cold = "    keys: 50\n    zipf: 0\n    start: cold";
    msim_result *r = run_cache(t, "20s", client, cold, late, "");
    if (!r) return;
    double misses = test_total(r, "k", "misses");
    CHECK(test_total(r, "k", "hits") == 0);
    CHECK(test_total(r, "k", "fills") == 0);
    CHECK(misses == test_total(r, "k", "lookups") && misses > 3900);
    /* every fetch whose caller left was given up; a few are still out */
    CHECK(test_total(r, "k", "fills_lost") >= misses - 40);
    CHECK(test_total(r, "db", "wasted") > 0.99 * test_total(r, "db", "work"));
    check_ledger(t, r);
    test_done(r);

    /* the same store, in time: 50 keys fill once each, then everything hits */
    r = run_cache(t, "20s", client, cold, "    workers: unlimited\n    service_time: 50ms", "");
    if (!r) return;
    CHECK(test_total(r, "k", "fills") == test_total(r, "k", "misses"));
    CHECK(test_total(r, "k", "fills_lost") == 0 && test_total(r, "k", "fills") >= 50);
    CHECK(test_total(r, "k", "hits") ==
          test_total(r, "k", "lookups") - test_total(r, "k", "misses"));
    test_done(r);

    /* late, but filling for callers who left */
    char keep[256];
    snprintf(keep, sizeof keep, "%s\n    fill_abandoned: true", cold);
    r = run_cache(t, "20s", client, keep, late, "");
    if (!r) return;
    CHECK(test_total(r, "k", "fills") == test_total(r, "k", "misses"));
    CHECK(test_total(r, "k", "fills_lost") == 0 && test_total(r, "k", "hits") > 3800);
    test_done(r);
}

/* One key, a store that takes 100 ms, a request every 10 ms: with
 * coalescing the first miss's store call serves the next nine misses too;
 * without, each of the ten misses makes its own call. */
static void cache_coalesces_concurrent_misses(test_ctx *t)
{
    const char *client = "    arrival: constant\n    rate: 100/s\n    timeout: 1s";
    const char *db = "    workers: unlimited\n    service_time: 100ms";
    msim_result *r =
        run_cache(t, "5s", client, "    keys: 1\n    start: cold\n    coalesce: true", db, "");
    if (!r) return;
    CHECK(test_total(r, "db", "arrivals") == 1);
    CHECK(test_total(r, "k", "store_calls") == 1);
    CHECK(test_total(r, "k", "misses") == 10 && test_total(r, "k", "coalesced") == 9);
    CHECK(test_total(r, "k", "fills") == 1);
    CHECK(r->failed == 0);
    check_ledger(t, r);
    test_done(r);

    r = run_cache(t, "5s", client, "    keys: 1\n    start: cold", db, "");
    if (!r) return;
    CHECK(test_total(r, "k", "store_calls") == 10 && test_total(r, "k", "coalesced") == 0);
    CHECK(test_total(r, "k", "fills") == 10); /* the same key, stored ten times */
    test_done(r);

    /* a coalesced fetch lives while any of its callers waits, and fills */
    r = run_cache(t, "5s", "    arrival: constant\n    rate: 100/s\n    timeout: 55ms",
                  "    keys: 1\n    start: cold\n    coalesce: true", db, "");
    if (!r) return;
    /* callers at 10..50 ms leave at 65..105 ms; the one at 60 ms still waits
     * at 110 ms when the store answers: one call, one fill */
    CHECK(test_total(r, "k", "store_calls") == 1 && test_total(r, "k", "fills") == 1);
    test_done(r);
}

/* One key with a 1 s TTL and an instant store: it expires and refills once a
 * second, and every other lookup hits. */
static void cache_ttl_refills(test_ctx *t)
{
    msim_result *r = run_cache(t, "10s", "    arrival: constant\n    rate: 1000/s",
                               "    keys: 1\n    ttl: 1s\n    start: cold",
                               "    workers: unlimited\n    service_time: 0", "");
    if (!r) return;
    double misses = test_total(r, "k", "misses");
    CHECK_MSG(misses >= 10 && misses <= 11, "misses %g", misses);
    CHECK(test_total(r, "k", "expired") == misses - 1);
    CHECK(test_total(r, "k", "hits") == test_total(r, "k", "lookups") - misses);
    test_done(r);
}

/* A store that times out is retried by the cache's own policy; a fetch that
 * fails for good answers its callers with an error. Requests stop at 5 s, so
 * every fetch has ended by the horizon. */
static const char *const five_seconds =
    "    arrival: constant\n    rate: 10/s\n    schedule: [{at: 5s, rate: 0/s}]";

static void cache_store_calls_time_out_and_retry(test_ctx *t)
{
    msim_result *r = run_cache(t, "10s", five_seconds,
                               "    keys: 1000\n    start: cold\n    store_timeout: 100ms\n"
                               "    store_retry: {max_attempts: 3, retry_on: [timeout]}",
                               "    workers: unlimited\n    service_time: 300ms", "");
    if (!r) return;
    double misses = test_total(r, "k", "misses");
    CHECK(misses == r->requests);
    CHECK(test_total(r, "k", "store_timeouts") == 3 * misses);
    CHECK(test_total(r, "k", "store_retries") == 2 * misses);
    CHECK(test_total(r, "c", "errors") == misses && r->failed == r->requests);
    CHECK(test_total(r, "k", "fills") == 0);
    test_done(r);

    /* errors and rejections: retried when listed, relayed as they are */
    r = run_cache(t, "10s", five_seconds,
                  "    keys: 1000\n    start: cold\n"
                  "    store_retry: {max_attempts: 2, retry_on: [error]}",
                  "    workers: unlimited\n    service_time: 1ms\n    errors: 100%", "");
    if (!r) return;
    CHECK(test_total(r, "k", "store_calls") == 2 * r->requests);
    CHECK(test_total(r, "k", "store_failures") == 2 * r->requests);
    CHECK(test_total(r, "c", "errors") == r->requests);
    test_done(r);
}

/* A warm cache flushed for 2 s: everything is lost at once, every lookup
 * misses while it lasts and nothing is stored; after it, the keys refill. */
static void cache_flush_empties_and_keeps_down(test_ctx *t)
{
    msim_result *r =
        run_cache(t, "12s", "    arrival: constant\n    rate: 1000/s",
                  "    keys: 100\n    zipf: 0.5", "    workers: unlimited\n    service_time: 1ms",
                  "triggers:\n  - {kind: flush, target: k, at: 5s, duration: 2s}\n");
    if (!r) return;
    CHECK(wsum(r, "k", "misses", 0, 5) == 0); /* warm: every key is there */
    CHECK(wsum(r, "k", "flushed", 5, 6) == 100);
    CHECK(wsum(r, "k", "hits", 5, 7) == 0);
    /* refused while down, but for the one miss still out when it ends */
    CHECK(wsum(r, "k", "fills_refused", 5, 7) >= wsum(r, "k", "misses", 5, 7) - 1);
    CHECK(wsum(r, "k", "fills", 7, 12) == 100); /* afterwards each key once */
    CHECK(wsum(r, "k", "misses", 7, 12) >= 99);
    CHECK(wsum(r, "k", "hits", 3, 4) == wsum(r, "k", "lookups", 3, 4));
    test_done(r);

    /* half the entries, each independently: a binomial share */
    r = run_cache(
        t, "12s", "    arrival: constant\n    rate: 1000/s", "    keys: 10000\n    capacity: 10000",
        "    workers: unlimited\n    service_time: 1ms",
        "triggers:\n  - {kind: flush, target: k, at: 5s, duration: 1ms, fraction: 50%}\n");
    if (!r) return;
    CHECK_NEAR(wsum(r, "k", "flushed", 5, 6), 5000, 5 * 50);
    test_done(r);
}

/* Invalidating the 10 hottest of 1000 keys (s = 1) for 3 s: they miss while
 * it lasts — a share H(10)/H(1000) of lookups — and are not stored; after
 * it they refill and the rest never missed. */
static void cache_invalidate_top_keys(test_ctx *t)
{
    msim_result *r =
        run_cache(t, "12s", "    arrival: constant\n    rate: 10000/s",
                  "    keys: 1000\n    zipf: 1", "    workers: unlimited\n    service_time: 1ms",
                  "triggers:\n  - {kind: invalidate, target: k, at: 5s, duration: 3s, top: 10}\n");
    if (!r) return;
    double h10 = 0, h1000 = 0;
    for (int k = 1; k <= 1000; k++)
        h1000 += 1.0 / k, h10 += k <= 10 ? 1.0 / k : 0;
    double n = wsum(r, "k", "lookups", 5, 8), p = h10 / h1000;
    CHECK(wsum(r, "k", "flushed", 5, 6) == 10);
    CHECK_NEAR(wsum(r, "k", "misses", 5, 8), n * p, 5 * sqrt(n * p * (1 - p)));
    /* refused while it lasts, but for the few misses out when it ends */
    CHECK(wsum(r, "k", "fills_refused", 5, 8) >= wsum(r, "k", "misses", 5, 8) - 20);
    CHECK(wsum(r, "k", "fills", 8, 12) >= 10);
    CHECK(wsum(r, "k", "misses", 0, 5) == 0 && wsum(r, "k", "misses", 9, 12) == 0);
    CHECK(test_gauge_mean(r, "k", "entries", 11) == 1000);
    test_done(r);
}

/* The look-aside loop in small: after a flush the misses swamp the store,
 * which answers after the callers' 1 s timeout, so nothing refills. The
 * verdict names the hit-ratio drop; switching off lost fills (or warming the
 * cache) after the trigger lets it recover. */
static const char *loop_yaml =
    "duration: 4m\nverdict: {hold: 20s}\n"
    "clients:\n  web: {target: k, rate: 2000/s, timeout: 1s}\n"
    "caches:\n  k: {store: db, keys: 20000, zipf: 1, capacity: 5000, ttl: 1m}\n"
    "services:\n  db: {replicas: 2, workers: 6, queue: {capacity: 1000}, "
    "service_time: exponential(mean=20ms)}\n"
    "triggers:\n  - {kind: flush, target: k, at: 1m, duration: 1ms}\n";

static msim_result *run_loop(test_ctx *t, const char *mechanism)
{
    msim_scenario *sc = NULL;
    msim_error err = {0};
    char buf[1400];
    if (msim_scenario_parse(loop_yaml, strlen(loop_yaml), t->name, NULL, 0, &sc, &err)) {
        test_fail(t, __FILE__, __LINE__, "%s", msim_error_format(&err, buf, sizeof buf));
        return NULL;
    }
    msim_disable off = {msim_scenario_find(sc, "k"), 0, MSIM_NEVER};
    const msim_kind *kind = msim_kind_find("cache");
    for (size_t i = 0; mechanism && i < kind->nmechanisms; i++)
        if (strcmp(kind->mechanisms[i].name, mechanism) == 0) off.mechanism = (uint32_t)i;
    msim_run_options opt = {.disable = &off, .ndisable = mechanism ? 1 : 0};
    msim_result *r = NULL;
    if (msim_run(sc, &opt, &r, &err)) {
        test_fail(t, __FILE__, __LINE__, "%s", msim_error_format(&err, buf, sizeof buf));
        msim_scenario_free(sc);
        return NULL;
    }
    return r;
}

static void cache_flush_loop_and_its_mechanisms(test_ctx *t)
{
    msim_result *r = run_loop(t, NULL);
    if (!r) return;
    CHECK_MSG(r->verdict.kind == MSIM_VERDICT_METASTABLE, "%s", r->verdict.reason);
    CHECK(has_signal(r, "hit_ratio_drop"));
    CHECK(wsum(r, "k", "fills_lost", 60, 240) > 0);
    check_ledger(t, r);
    test_done(r);
    const char *mechs[] = {"lost_fills", "cold_cache"};
    for (int i = 0; i < 2; i++) {
        r = run_loop(t, mechs[i]);
        if (!r) return;
        /* warming at once may leave no degraded window at all */
        CHECK_MSG(r->verdict.kind == MSIM_VERDICT_RECOVERED ||
                      r->verdict.kind == MSIM_VERDICT_STABLE,
                  "%s: %s", mechs[i], r->verdict.reason);
        test_done(r);
    }
}

static void cache_rejects_bad_settings(test_ctx *t)
{
    const char *bad[][2] = {
        {"caches:\n  k: {store: k}\n", "its own store"},
        {"caches:\n  k: {store: db, store_retry: {max_attempts: 2, hedging_delay: 10ms}}\n",
         "unknown key \"hedging_delay\""},
        {"caches:\n  k: {store: db, keys: 100000000}\n", "at most"},
        {"caches:\n  k: {store: nowhere}\n", "unknown component"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char yaml[1024];
        snprintf(yaml, sizeof yaml,
                 "duration: 10s\nclients:\n  c: {target: k, rate: 10/s}\n%s"
                 "services:\n  db: {service_time: 1ms}\n",
                 bad[i][0]);
        msim_scenario *sc = NULL;
        msim_error err = {0};
        char buf[1400] = "";
        int rc = msim_scenario_parse(yaml, strlen(yaml), "bad", NULL, 0, &sc, &err);
        msim_result *r = NULL;
        if (rc == 0) rc = msim_run(sc, NULL, &r, &err);
        msim_error_format(&err, buf, sizeof buf);
        msim_result_free(r);
        msim_scenario_free(sc);
        CHECK_MSG(rc != 0 && strstr(buf, bad[i][1]), "case %zu: %s", i, buf);
    }
}

const test_case cache_tests[] = {
    {"cache_lru_evicts_least_recent", lru_evicts_least_recent, TIER_QUICK},
    {"cache_lru_expires_entries", lru_expires_entries, TIER_QUICK},
    {"cache_lru_matches_a_brute_force_model", lru_matches_a_brute_force_model, TIER_QUICK},
    {"cache_zipf_draws_follow_the_distribution", zipf_draws_follow_the_distribution, TIER_QUICK},
    {"cache_fills_only_while_the_caller_waits", cache_fills_only_while_the_caller_waits,
     TIER_QUICK},
    {"cache_coalesces_concurrent_misses", cache_coalesces_concurrent_misses, TIER_QUICK},
    {"cache_ttl_refills", cache_ttl_refills, TIER_QUICK},
    {"cache_store_calls_time_out_and_retry", cache_store_calls_time_out_and_retry, TIER_QUICK},
    {"cache_flush_empties_and_keeps_down", cache_flush_empties_and_keeps_down, TIER_QUICK},
    {"cache_invalidate_top_keys", cache_invalidate_top_keys, TIER_QUICK},
    {"cache_flush_loop_and_its_mechanisms", cache_flush_loop_and_its_mechanisms, TIER_QUICK},
    {"cache_rejects_bad_settings", cache_rejects_bad_settings, TIER_QUICK},
    {NULL, NULL, 0},
};
