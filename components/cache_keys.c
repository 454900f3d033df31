/* cache_keys.c — key popularity and the entry store of the `cache` kind: a
 * Zipf sampler by rejection-inversion and an O(1) LRU with TTL (cache.h says
 * why each is built the way it is). */
#include <math.h>
#include <string.h>

#include "cache.h"

/* ---- Zipf by rejection-inversion ------------------------------------------------------
 * With h(x) = x^-s and H its antiderivative, ranks are drawn by inverting H
 * over [1.5, n + 0.5] (shifted so that rank 1 gets the exact mass h(1)) and
 * accepting rank k for the continuous draw x when x falls in the part of
 * [k - 1/2, k + 1/2] that h(k) covers. The helpers keep H and its inverse
 * accurate where (1 - s) log x is near 0, which includes s = 1. */

static double helper1(double x) /* log(1 + x) / x */
{
    return fabs(x) > 1e-8 ? log1p(x) / x : 1 - x * (0.5 - x * (1.0 / 3 - x * 0.25));
}

static double helper2(double x) /* (exp(x) - 1) / x */
{
    return fabs(x) > 1e-8 ? expm1(x) / x : 1 + x * 0.5 * (1 + x * (1.0 / 3) * (1 + x * 0.25));
}

static double zipf_h(const zipf *z, double x)
{
    return exp(-z->s * log(x));
}

static double zipf_H(const zipf *z, double x)
{
    double lx = log(x);
    return helper2((1 - z->s) * lx) * lx;
}

static double zipf_H_inv(const zipf *z, double x)
{
    double t = x * (1 - z->s);
    if (t < -1) t = -1; /* rounding can push it just past its bound */
    return exp(helper1(t) * x);
}

void zipf_init(zipf *z, uint64_t n, double s)
{
    z->n = (double)n;
    z->s = s;
    z->h_x1 = zipf_H(z, 1.5) - 1;
    z->h_n = zipf_H(z, z->n + 0.5);
    z->thr = 2 - zipf_H_inv(z, zipf_H(z, 2.5) - zipf_h(z, 2));
}

uint64_t zipf_draw(const zipf *z, msim_rng *rng)
{
    for (;;) {
        /* u is uniform on (h_x1, h_n] */
        double u = z->h_n + msim_rng_u01(rng) * (z->h_x1 - z->h_n);
        double x = zipf_H_inv(z, u);
        double k = floor(x + 0.5);
        if (k < 1)
            k = 1;
        else if (k > z->n)
            k = z->n;
        if (k - x <= z->thr || u >= zipf_H(z, k + 0.5) - zipf_h(z, k)) return (uint64_t)k;
    }
}

/* ---- LRU with TTL ---------------------------------------------------------------------------- */

static uint32_t buckets_for(uint32_t capacity)
{
    uint32_t b = 1;
    while (b < capacity && b < (1u << 31))
        b <<= 1;
    return b;
}

size_t lru_bytes(uint32_t capacity)
{
    return (size_t)capacity * sizeof(lru_entry) + (size_t)buckets_for(capacity) * sizeof(uint32_t);
}

/* Fibonacci hashing: the top bits of key x 2^64/phi spread consecutive keys
 * (the hottest keys are 0, 1, 2, ...) over the whole table. */
static uint32_t home(const lru *l, uint64_t key)
{
    return (uint32_t)((key * 0x9E3779B97F4A7C15ull) >> 32) & l->mask;
}

void lru_init(lru *l, void *mem, uint32_t capacity)
{
    l->cap = capacity;
    l->e = mem;
    l->bucket = (uint32_t *)(l->e + capacity);
    l->mask = buckets_for(capacity) - 1;
    lru_clear(l);
}

void lru_clear(lru *l)
{
    memset(l->bucket, 0xff, ((size_t)l->mask + 1) * sizeof *l->bucket);
    for (uint32_t i = 0; i < l->cap; i++)
        l->e[i].next = i + 1 < l->cap ? i + 1 : LRU_NIL;
    l->free = 0;
    l->n = 0;
    l->head = l->tail = LRU_NIL;
}

/* Chains are short: the buckets are at least as many as the entries. */
static uint32_t find(const lru *l, uint64_t key)
{
    uint32_t i = l->bucket[home(l, key)];
    while (i != LRU_NIL && l->e[i].key != key)
        i = l->e[i].hnext;
    return i;
}

bool lru_contains(const lru *l, uint64_t key)
{
    return find(l, key) != LRU_NIL;
}

static void unlink_recency(lru *l, uint32_t i)
{
    lru_entry *e = &l->e[i];
    if (e->prev != LRU_NIL)
        l->e[e->prev].next = e->next;
    else
        l->head = e->next;
    if (e->next != LRU_NIL)
        l->e[e->next].prev = e->prev;
    else
        l->tail = e->prev;
}

static void push_front(lru *l, uint32_t i)
{
    lru_entry *e = &l->e[i];
    e->prev = LRU_NIL;
    e->next = l->head;
    if (l->head != LRU_NIL)
        l->e[l->head].prev = i;
    else
        l->tail = i;
    l->head = i;
}

static void unlink_hash(lru *l, uint32_t i)
{
    uint32_t *p = &l->bucket[home(l, l->e[i].key)];
    while (*p != i)
        p = &l->e[*p].hnext;
    *p = l->e[i].hnext;
}

/* Take entry i out of both structures and onto the free list. */
static void release(lru *l, uint32_t i)
{
    unlink_hash(l, i);
    unlink_recency(l, i);
    l->e[i].next = l->free;
    l->free = i;
    l->n--;
}

/* Expiry is checked on the way in: `expires <= now` means an entry filled
 * at t with ttl d serves lookups in [t, t + d) exactly. */
bool lru_get(lru *l, uint64_t key, msim_time now, bool *expired)
{
    *expired = false;
    uint32_t i = find(l, key);
    if (i == LRU_NIL) return false;
    if (l->e[i].expires <= now) {
        release(l, i);
        *expired = true;
        return false;
    }
    if (l->head != i) {
        unlink_recency(l, i);
        push_front(l, i);
    }
    return true;
}

/* Room is made at the tail, as memcached makes it (it reuses an expired item
 * it finds there, else evicts the tail); an expired entry elsewhere keeps
 * its slot until a lookup finds it. */
bool lru_put(lru *l, uint64_t key, msim_time expires, uint64_t *evicted)
{
    uint32_t i = find(l, key);
    bool out = false;
    if (i != LRU_NIL) { /* refresh */
        l->e[i].expires = expires;
        unlink_recency(l, i);
        push_front(l, i);
        return false;
    }
    if (l->free == LRU_NIL) { /* full: the least recent makes room */
        *evicted = l->e[l->tail].key;
        release(l, l->tail);
        out = true;
    }
    i = l->free;
    l->free = l->e[i].next;
    lru_entry *e = &l->e[i];
    e->key = key;
    e->expires = expires;
    uint32_t *b = &l->bucket[home(l, key)];
    e->hnext = *b;
    *b = i;
    push_front(l, i);
    l->n++;
    return out;
}

bool lru_remove(lru *l, uint64_t key)
{
    uint32_t i = find(l, key);
    if (i == LRU_NIL) return false;
    release(l, i);
    return true;
}
