/* tight_loop.c — the model of bench/retry-storm.yaml written as the fastest
 * straightforward C we could think of: plain arrays, one model, no generality.
 * bench/run.sh divides metasim's simulated attempts per wall-clock second by
 * this program's to say what metasim's generality costs. It is a yardstick,
 * not part of metasim, and deliberately uses nothing from it.
 *
 * THE MODEL (metasim's `client` and `service` kinds with the scenario's
 * settings; components/client.c and components/service.c are the reference):
 *
 *  - Requests arrive as a Poisson process at `rate`. A request makes at most
 *    `max_attempts` attempts, the first included.
 *  - An attempt goes to the next up replica in round-robin order. Each replica
 *    has `workers` workers and its own FIFO queue of `queue` places. The attempt
 *    starts service at once if a worker is free and nobody waits, else joins the
 *    queue, else (queue full) is rejected at once.
 *  - Service takes a lognormal time exp(ln(median) + sigma Z), drawn when the
 *    attempt starts, rounded to the nanosecond.
 *  - Every accepted attempt has a timeout `timeout` after it was sent. When it
 *    fires the client abandons the attempt, but the replica keeps it: it is
 *    still queued and served, and that work is wasted (what real servers do).
 *  - A timeout or a rejection is retried at once (no backoff) while the request
 *    has attempts left; otherwise the request fails.
 *  - A completed attempt whose client still waits is a success; a completed
 *    abandoned attempt just disappears. A completion frees a worker, which takes
 *    the head of its replica's queue before the response is delivered.
 *  - The capacity trigger takes the highest-numbered `down` replicas out during
 *    [trigger_at, trigger_at + trigger_len). Routing skips them from that
 *    instant; every attempt they hold, in service then queued, fails at once
 *    with an error, which is not retried: its request fails (an abandoned one
 *    just vanishes). The replicas come back empty.
 *  - Nothing fires at or after the horizon `duration`.
 *
 * HOW (the choices a careful hand-written loop would make):
 *  - Attempts live in one array of small structs reached by index, recycled
 *    through a free stack. A request has no object of its own: its arrival time
 *    and attempt count ride on its current attempt and are copied to the next.
 *  - Completions sit in a 4-ary min-heap of (time, attempt, generation).
 *  - Timeouts all have the same length, so they are created in time order and
 *    a FIFO ring holds them (the equivalent of a heap, at O(1)). Cancelling is
 *    lazy: freeing an attempt bumps its generation, and an entry whose
 *    generation no longer matches is skipped when it reaches the front. A
 *    rejected attempt never gets a timeout at all.
 *  - The next arrival and the two trigger edges are plain variables; the loop
 *    takes the earliest of the four sources. Ties between sources (equal
 *    nanoseconds) are broken arbitrarily; metasim breaks them by insertion
 *    order, which only matters with probability ~0.
 *  - xoshiro256++ seeded by splitmix64; exponential gaps by -log(u); normals by
 *    Marsaglia's polar method (Box–Muller without the trigonometry), two per
 *    round.
 *  - Replicas going down are always the highest-numbered ones, so the up set
 *    is the prefix [0, nup) and round robin is a wrapping counter.
 *
 * The random streams differ from metasim's (metasim hashes component names
 * into stream seeds and draws normals by GSL's ziggurat), so the two programs
 * agree in distribution, not draw for draw: totals match within noise.
 *
 * Usage: tight_loop [key=value ...], keys as in `params` below (durations in
 * seconds). Prints one line of JSON with the totals and the wall time.
 */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700 /* clock_gettime under -std=c11 */
#endif
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef int64_t ns; /* simulated time, nanoseconds */
#define SEC   1000000000.0

/* The defaults are bench/retry-storm.yaml's values. */
typedef struct params {
    double rate;         /* requests per second */
    double timeout;      /* s, per attempt */
    int max_attempts;    /* the first included */
    int replicas, workers;
    int queue;           /* places per replica */
    double median;       /* s, lognormal service time */
    double sigma;
    double trigger_at;   /* s */
    double trigger_len;  /* s */
    int down;            /* replicas down during the trigger */
    double duration;     /* s, the horizon */
    uint64_t seed;
} params;

static const params defaults = {
    .rate = 2600, .timeout = 1, .max_attempts = 4, .replicas = 4, .workers = 8,
    .queue = 2000, .median = 0.007, .sigma = 0.6, .trigger_at = 120,
    .trigger_len = 20, .down = 2, .duration = 1500, .seed = 7,
};

/* ---- random numbers --------------------------------------------------------- */

typedef struct rng {
    uint64_t s[4];
} rng;

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static inline uint64_t rng_next(rng *r)
{
    uint64_t *s = r->s;
    uint64_t out = rotl(s[0] + s[3], 23) + s[0];
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

/* Uniform in (0, 1]: safe to take the logarithm of. */
static inline double u01_open0(rng *r)
{
    return (double)((rng_next(r) >> 11) + 1) * 0x1.0p-53;
}

static void rng_seed(rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++) { /* splitmix64 */
        uint64_t z = (seed += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        r->s[i] = z ^ (z >> 31);
    }
}

/* ---- state ------------------------------------------------------------------- */

typedef struct att {
    ns start;        /* its request's arrival */
    uint32_t gen;    /* bumped on free: heap and ring entries check it */
    uint8_t tries;   /* attempts of its request so far, this one included */
    uint8_t waiting; /* 1 while its client waits for it; 0 once abandoned */
    uint8_t rep;     /* the replica holding it */
    uint8_t wslot;   /* its place in the replica's `serving` while in service */
} att;

typedef struct entry { /* a completion (heap) or a timeout (ring) */
    ns t;
    uint32_t id, gen;
} entry;

typedef struct totals {
    uint64_t requests, succeeded, failed, failed_timeout, failed_rejected, failed_error;
    uint64_t attempts, timeouts, rejections, errors, events;
    uint64_t alive, alive_peak;
    double latency_sum; /* s, successes */
} totals;

typedef struct sim {
    params p;
    ns now, timeout, mean_gap;
    double ln_median;
    rng arrivals, service;
    double spare; /* the polar method's second normal */
    int has_spare;

    att *att;           /* attempts by index */
    uint32_t *free_ids; /* stack of free indices */
    uint32_t natt, nfree;

    entry *heap; /* completions, 4-ary min-heap on t */
    uint32_t hlen, hcap;

    entry *ring; /* timeouts in time order */
    uint32_t rhead, rlen, rcap; /* rcap a power of two */

    uint32_t *queue; /* replica r's ring: queue[r*qcap ...], qcap a power of two */
    uint32_t *qhead, *qlen, qcap;
    uint32_t *serving; /* replica r's in-service attempts: serving[r*workers ...] */
    uint32_t *busy, workers;
    uint32_t nup, rr;

    totals tot;
} sim;

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n);
    if (!p) {
        fprintf(stderr, "tight_loop: out of memory\n");
        exit(1);
    }
    return p;
}

static void *xcalloc(size_t n, size_t size)
{
    return memset(xrealloc(NULL, n * size), 0, n * size);
}

/* ---- attempts ------------------------------------------------------------------ */

static uint32_t att_new(sim *s, ns start, uint8_t tries)
{
    if (!s->nfree) { /* grow: the new half of the array joins the free stack */
        uint32_t n = s->natt ? s->natt * 2 : 1024;
        s->att = xrealloc(s->att, n * sizeof *s->att);
        s->free_ids = xrealloc(s->free_ids, n * sizeof *s->free_ids);
        for (uint32_t i = n; i-- > s->natt;) {
            s->att[i].gen = 0;
            s->free_ids[s->nfree++] = i;
        }
        s->natt = n;
    }
    uint32_t id = s->free_ids[--s->nfree];
    att *a = &s->att[id];
    a->start = start;
    a->tries = tries;
    a->waiting = 1;
    if (++s->tot.alive > s->tot.alive_peak) s->tot.alive_peak = s->tot.alive;
    return id;
}

static void att_free(sim *s, uint32_t id)
{
    s->att[id].gen++;
    s->free_ids[s->nfree++] = id;
    s->tot.alive--;
}

/* ---- the completion heap --------------------------------------------------------- */

static void heap_push(sim *s, entry e)
{
    if (s->hlen == s->hcap) {
        s->hcap = s->hcap ? s->hcap * 2 : 256;
        s->heap = xrealloc(s->heap, s->hcap * sizeof *s->heap);
    }
    entry *h = s->heap;
    uint32_t i = s->hlen++;
    while (i > 0) {
        uint32_t parent = (i - 1) / 4;
        if (h[parent].t <= e.t) break;
        h[i] = h[parent];
        i = parent;
    }
    h[i] = e;
}

static void heap_pop(sim *s)
{
    entry *h = s->heap;
    uint32_t len = --s->hlen, i = 0;
    entry e = h[len];
    for (;;) {
        uint32_t first = 4 * i + 1;
        if (first >= len) break;
        uint32_t last = first + 4 < len ? first + 4 : len, best = first;
        for (uint32_t c = first + 1; c < last; c++)
            if (h[c].t < h[best].t) best = c;
        if (h[best].t >= e.t) break;
        h[i] = h[best];
        i = best;
    }
    h[i] = e;
}

/* ---- the timeout ring -------------------------------------------------------------- */

static void ring_push(sim *s, entry e)
{
    if (s->rlen == s->rcap) { /* grow and unwrap */
        uint32_t n = s->rcap ? s->rcap * 2 : 4096;
        entry *r = xrealloc(NULL, n * sizeof *r);
        for (uint32_t i = 0; i < s->rlen; i++)
            r[i] = s->ring[(s->rhead + i) & (s->rcap - 1)];
        free(s->ring);
        s->ring = r;
        s->rhead = 0;
        s->rcap = n;
    }
    s->ring[(s->rhead + s->rlen++) & (s->rcap - 1)] = e;
}

/* ---- the service --------------------------------------------------------------------- */

static double normal(sim *s)
{
    if (s->has_spare) {
        s->has_spare = 0;
        return s->spare;
    }
    double u, v, q;
    do {
        u = 2 * u01_open0(&s->service) - 1;
        v = 2 * u01_open0(&s->service) - 1;
        q = u * u + v * v;
    } while (q >= 1 || q == 0);
    double f = sqrt(-2 * log(q) / q);
    s->spare = v * f;
    s->has_spare = 1;
    return u * f;
}

static void start_service(sim *s, uint32_t r, uint32_t id)
{
    uint32_t k = s->busy[r]++;
    s->serving[r * s->workers + k] = id;
    att *a = &s->att[id];
    a->rep = (uint8_t)r;
    a->wslot = (uint8_t)k;
    ns work = (ns)(exp(s->ln_median + s->p.sigma * normal(s)) + 0.5);
    heap_push(s, (entry){s->now + work, id, a->gen});
}

static void enqueue(sim *s, uint32_t r, uint32_t id)
{
    s->att[id].rep = (uint8_t)r;
    s->queue[r * s->qcap + ((s->qhead[r] + s->qlen[r]++) & (s->qcap - 1))] = id;
}

static uint32_t dequeue(sim *s, uint32_t r)
{
    uint32_t id = s->queue[r * s->qcap + s->qhead[r]];
    s->qhead[r] = (s->qhead[r] + 1) & (s->qcap - 1);
    s->qlen[r]--;
    return id;
}

/* Send attempt `id` (tries already counts it); a rejection retries at once in
 * the same slot, since nothing else refers to a rejected attempt. */
static void send(sim *s, uint32_t id)
{
    for (;;) {
        s->tot.attempts++;
        uint32_t r = s->rr;
        if (++s->rr >= s->nup) s->rr = 0;
        if (s->busy[r] < s->workers) {
            if (s->qlen[r] == 0)
                start_service(s, r, id);
            else
                enqueue(s, r, id);
            break;
        }
        if (s->qlen[r] < (uint32_t)s->p.queue) {
            enqueue(s, r, id);
            break;
        }
        s->tot.rejections++;
        att *a = &s->att[id];
        if (a->tries >= s->p.max_attempts) {
            s->tot.failed++;
            s->tot.failed_rejected++;
            att_free(s, id);
            return;
        }
        a->tries++;
    }
    ring_push(s, (entry){s->now + s->timeout, id, s->att[id].gen});
}

/* ---- events ---------------------------------------------------------------------------- */

static void on_arrival(sim *s)
{
    s->tot.requests++;
    send(s, att_new(s, s->now, 1));
}

static void on_complete(sim *s, uint32_t id)
{
    att *a = &s->att[id];
    uint32_t r = a->rep;
    uint32_t *serv = &s->serving[r * s->workers];
    uint32_t last = serv[--s->busy[r]]; /* swap-remove from the workers */
    serv[a->wslot] = last;
    s->att[last].wslot = a->wslot;
    if (s->qlen[r]) start_service(s, r, dequeue(s, r)); /* before responding */
    if (a->waiting) {
        s->tot.succeeded++;
        s->tot.latency_sum += (double)(s->now - a->start) / SEC;
    }
    att_free(s, id);
}

static void on_timeout(sim *s, uint32_t id)
{
    att *a = &s->att[id];
    s->tot.timeouts++;
    a->waiting = 0; /* abandoned: its replica keeps it */
    if (a->tries >= s->p.max_attempts) {
        s->tot.failed++;
        s->tot.failed_timeout++;
        return;
    }
    send(s, att_new(s, a->start, (uint8_t)(a->tries + 1)));
}

/* A held attempt fails with an error: its request fails for good. */
static void fail_held(sim *s, uint32_t id)
{
    if (s->att[id].waiting) {
        s->tot.errors++;
        s->tot.failed++;
        s->tot.failed_error++;
    }
    att_free(s, id); /* its completion or timeout entry goes stale */
}

static void replicas_down(sim *s, uint32_t down)
{
    uint32_t n = (uint32_t)s->p.replicas;
    s->nup = n - down;
    if (s->rr >= s->nup) s->rr = 0;
    for (uint32_t r = s->nup; r < n; r++) {
        for (uint32_t k = 0; k < s->busy[r]; k++)
            fail_held(s, s->serving[r * s->workers + k]);
        s->busy[r] = 0;
        while (s->qlen[r])
            fail_held(s, dequeue(s, r));
    }
}

static ns next_gap(sim *s)
{
    return (ns)(-log(u01_open0(&s->arrivals)) * (double)s->mean_gap + 0.5);
}

static void run(sim *s)
{
    ns horizon = (ns)llround(s->p.duration * SEC);
    ns edge[2] = {(ns)llround(s->p.trigger_at * SEC),
                  (ns)llround((s->p.trigger_at + s->p.trigger_len) * SEC)};
    int nedge = s->p.down > 0 ? 0 : 2;
    ns arrival = next_gap(s);
    for (;;) {
        while (s->hlen && s->heap[0].gen != s->att[s->heap[0].id].gen)
            heap_pop(s); /* cancelled completions */
        while (s->rlen) { /* answered (freed) or re-used attempts */
            entry *f = &s->ring[s->rhead];
            if (f->gen == s->att[f->id].gen) break;
            s->rhead = (s->rhead + 1) & (s->rcap - 1);
            s->rlen--;
        }
        ns t = arrival;
        int kind = 0;
        if (s->hlen && s->heap[0].t < t) t = s->heap[0].t, kind = 1;
        if (s->rlen && s->ring[s->rhead].t < t) t = s->ring[s->rhead].t, kind = 2;
        if (nedge < 2 && edge[nedge] <= t) t = edge[nedge], kind = 3;
        if (t >= horizon) break;
        s->now = t;
        s->tot.events++;
        if (kind == 0) {
            on_arrival(s);
            arrival = t + next_gap(s);
        } else if (kind == 1) {
            uint32_t id = s->heap[0].id;
            heap_pop(s);
            on_complete(s, id);
        } else if (kind == 2) {
            uint32_t id = s->ring[s->rhead].id;
            s->rhead = (s->rhead + 1) & (s->rcap - 1);
            s->rlen--;
            on_timeout(s, id);
        } else {
            replicas_down(s, nedge == 0 ? (uint32_t)s->p.down : 0);
            nedge++;
        }
    }
}

/* ---- setup and report ------------------------------------------------------------------ */

static int parse_arg(params *p, const char *arg)
{
    const char *eq = strchr(arg, '=');
    if (!eq) return -1;
    size_t n = (size_t)(eq - arg);
    double v = atof(eq + 1);
#define KEY(name) (n == sizeof #name - 1 && strncmp(arg, #name, n) == 0)
    if (KEY(rate)) p->rate = v;
    else if (KEY(timeout)) p->timeout = v;
    else if (KEY(max_attempts)) p->max_attempts = (int)v;
    else if (KEY(replicas)) p->replicas = (int)v;
    else if (KEY(workers)) p->workers = (int)v;
    else if (KEY(queue)) p->queue = (int)v;
    else if (KEY(median)) p->median = v;
    else if (KEY(sigma)) p->sigma = v;
    else if (KEY(trigger_at)) p->trigger_at = v;
    else if (KEY(trigger_len)) p->trigger_len = v;
    else if (KEY(down)) p->down = (int)v;
    else if (KEY(duration)) p->duration = v;
    else if (KEY(seed)) p->seed = strtoull(eq + 1, NULL, 10);
    else return -1;
#undef KEY
    return 0;
}

static int check(const params *p)
{
    return p->rate > 0 && p->timeout > 0 && p->max_attempts >= 1 && p->max_attempts < 255 &&
           p->replicas >= 1 && p->replicas <= 255 && p->workers >= 1 && p->workers <= 256 &&
           p->queue >= 0 && p->median > 0 && p->sigma >= 0 && p->down >= 0 &&
           p->down <= p->replicas && p->duration > 0;
}

static void setup(sim *s, const params *p)
{
    memset(s, 0, sizeof *s);
    s->p = *p;
    s->timeout = (ns)llround(p->timeout * SEC);
    s->mean_gap = (ns)llround(SEC / p->rate);
    s->ln_median = log(p->median * SEC);
    rng_seed(&s->arrivals, p->seed ^ 0x61727269766c73ull);
    rng_seed(&s->service, p->seed ^ 0x73657276696365ull);
    uint32_t n = (uint32_t)p->replicas;
    s->qcap = 1;
    while (s->qcap < (uint32_t)p->queue) s->qcap *= 2;
    s->queue = xrealloc(NULL, (size_t)n * s->qcap * sizeof *s->queue);
    s->qhead = xcalloc(n, sizeof *s->qhead);
    s->qlen = xcalloc(n, sizeof *s->qlen);
    s->busy = xcalloc(n, sizeof *s->busy);
    s->serving = xcalloc((size_t)n * (size_t)p->workers, sizeof *s->serving);
    s->workers = (uint32_t)p->workers;
    s->nup = n;
}

static double wall_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    params p = defaults;
    for (int i = 1; i < argc; i++) {
        if (parse_arg(&p, argv[i])) {
            fprintf(stderr, "usage: tight_loop [key=value ...] (unknown: %s)\n", argv[i]);
            return 2;
        }
    }
    if (!check(&p)) {
        fprintf(stderr, "tight_loop: a parameter is out of range\n");
        return 2;
    }
    static sim s;
    setup(&s, &p);
    double t0 = wall_seconds();
    run(&s);
    double wall = wall_seconds() - t0;
    const totals *t = &s.tot;
    printf("{\"requests\": %llu, \"succeeded\": %llu, \"failed\": %llu, \"in_flight_at_end\": %llu, "
           "\"failed_timeout\": %llu, \"failed_rejected\": %llu, \"failed_error\": %llu, "
           "\"attempts\": %llu, \"timeouts\": %llu, \"rejections\": %llu, \"errors\": %llu, "
           "\"attempts_alive_peak\": %llu, \"events\": %llu, \"latency_mean_s\": %.6f, "
           "\"loop_wall_s\": %.6f, \"attempts_per_s\": %.0f}\n",
           (unsigned long long)t->requests, (unsigned long long)t->succeeded,
           (unsigned long long)t->failed,
           (unsigned long long)(t->requests - t->succeeded - t->failed),
           (unsigned long long)t->failed_timeout, (unsigned long long)t->failed_rejected,
           (unsigned long long)t->failed_error, (unsigned long long)t->attempts,
           (unsigned long long)t->timeouts, (unsigned long long)t->rejections,
           (unsigned long long)t->errors, (unsigned long long)t->alive_peak,
           (unsigned long long)t->events, t->succeeded ? t->latency_sum / (double)t->succeeded : 0,
           wall, (double)t->attempts / wall);
    return 0;
}
