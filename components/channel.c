/* channel.c — the `channel` kind: the client side of gRPC connections, for a
 * fleet of client processes (`instances`) that call one service's replicas.
 *
 * Clients send their attempts to the channel, as they would to a balancer.
 * Each request belongs to one instance (a hash of its start time and origin,
 * so its retries stay on the process that made it), and the instance forwards
 * the attempt, pinned (MSIM_CLS_PINNED), over one of its READY connections in
 * turn (round_robin). An instance without one queues the attempt while a
 * first connection is being made, or with `wait_for_ready`; otherwise the
 * attempt fails at once (gRPC UNAVAILABLE: the client sees `rejected`).
 *
 * Per instance and per host address, a subchannel follows gRPC's state
 * machine (docs/reconnects.md has the sources):
 *  - a connection attempt succeeds after `connect_time` if its address is a
 *    live host; a host that is down refuses it as fast; an address whose host
 *    was replaced is refused, or (dead_address: blackhole) hangs until the
 *    attempt's deadline, max(backoff deadline, start + min_connect_timeout);
 *  - failed attempts back off as grpc/doc/connection-backoff.md says: the
 *    k-th retry starts no sooner than min(initial x multiplier^k, max) x
 *    (1 +- jitter) after the previous attempt started;
 *  - a READY connection that closes (the host went away, or the server's
 *    max_connection_age sent GOAWAY) goes IDLE and connects again at once;
 *  - every failed attempt and every close asks the resolver for a
 *    re-resolution (round_robin's rule), which is what turns a redeploy into
 *    a flood of lookups.
 * An instance's resolver (grpc-go's DNS watcher) runs one lookup at a time;
 * a request while one waits or runs is kept, once; after a success the next
 * lookup waits for a request and for `min_resolution_interval`; after a
 * failure it is retried with gRPC's default backoff, or at the next request
 * (`lookup_retry`). A lookup is a request made through a client with
 * `arrival: calls` (its timeout and retries are the stub resolver's), to a
 * resolver service with the capacity it has. Its answer is the target's
 * endpoints when it arrives (msim_replica_endpoint: Kubernetes lists ready
 * pods); hosts that joined since are invisible to the instance until it
 * looks up again (grpc-go ignores DNS TTLs).
 *
 * Hosts are (replica slot, generation) pairs (msim_replica_generation): a
 * replica a redeploy replaced has a new generation, so an instance can tell
 * its old address from the new host. Closed connections are noticed by
 * polling the target's replicas every `notice` (the GOAWAY or reset reaching
 * the clients), or at once when an attempt is about to use one.
 *
 * Memory: 16 bytes per instance and host slot (the subchannel), 64 bytes per
 * instance: 500 instances x 100 hosts is 0.8 MB. Events: at most one pending
 * per subchannel (an attempt, a backoff or an age), one lookup per instance.
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "metasim.h"

enum { RETRY_BACKOFF, RETRY_REQUEST };
enum { DEAD_REFUSE, DEAD_BLACKHOLE };

typedef struct conn_backoff_cfg {
    msim_time initial, max, min_connect_timeout;
    double multiplier, jitter;
} conn_backoff_cfg;

typedef struct channel_cfg {
    msim_ref target;
    int64_t instances;
    msim_ref resolver;
    msim_time min_resolution_interval;
    int lookup_retry;
    conn_backoff_cfg backoff;
    msim_dist connect_time;
    int dead_address;
    bool wait_for_ready;
    msim_time max_connection_age;
    msim_time notice;
} channel_cfg;

/* ---- parameters ------------------------------------------------------------------------------ */

static const msim_param backoff_params[] = {
    {"initial_backoff", &msim_type_duration, offsetof(conn_backoff_cfg, initial), "1s", 1e6, 1e300,
     "wait after the first failed attempt (INITIAL_BACKOFF)", NULL, NULL},
    {"multiplier", &msim_type_number, offsetof(conn_backoff_cfg, multiplier), "1.6", 1, 100,
     "growth of the wait after each further failure (MULTIPLIER)", NULL, NULL},
    {"jitter", &msim_type_fraction, offsetof(conn_backoff_cfg, jitter), "0.2", MSIM_UNBOUNDED,
     "each wait but the first is spread uniformly by +- this share (JITTER)", NULL, NULL},
    {"max_backoff", &msim_type_duration, offsetof(conn_backoff_cfg, max), "120s", 1e6, 1e300,
     "cap on the wait (MAX_BACKOFF)", NULL, NULL},
    {"min_connect_timeout", &msim_type_duration, offsetof(conn_backoff_cfg, min_connect_timeout),
     "20s", 1e6, 1e300,
     "an attempt to a host that does not answer gives up after this at the "
     "earliest (MIN_CONNECT_TIMEOUT)",
     NULL, NULL},
};

static int check_backoff(msim_bind *b, const msim_node *n, void *p)
{
    const conn_backoff_cfg *c = p;
    if (c->jitter >= 1)
        return msim_bind_fail(b, msim_node_get(n, "jitter"), -MSIM_EINVAL,
                              "jitter must be below 100%% (a wait of zero or less is no wait)");
    return 0;
}

static const msim_schema backoff_schema =
    MSIM_SCHEMA("connection backoff", "gRPC connection backoff (grpc/doc/connection-backoff.md)",
                backoff_params, conn_backoff_cfg, check_backoff);

static const msim_choice lookup_retries[] = {
    {"backoff", "grpc-go and C-core: a failed lookup is retried after gRPC's default backoff "
                "(1.6 s, 2.56 s, ... +-20%, at most 120 s), whether or not anything asks"},
    {"request", "a failed lookup is retried at the next re-resolution request (a subchannel "
                "failing again), no sooner than min_resolution_interval after it"},
    {NULL, NULL},
};

static const msim_choice dead_addresses[] = {
    {"refuse", "an attempt to the address of a replaced host is refused at once (the address "
               "answers with a reset)"},
    {"blackhole", "it hangs until the attempt's deadline, min_connect_timeout at least (the "
                  "address answers nothing)"},
    {NULL, NULL},
};

static const msim_param channel_params[] = {
    {"target", &msim_type_ref, offsetof(channel_cfg, target), NULL, MSIM_UNBOUNDED,
     "the service whose replicas the instances connect to",
     (const void *)(uintptr_t)MSIM_KIND_TARGET, NULL},
    {"instances", &msim_type_int, offsetof(channel_cfg, instances), "1", 1, 1000000,
     "client processes, each with its own connections and resolver", NULL, NULL},
    {"resolver", &msim_type_ref, offsetof(channel_cfg, resolver), "~", MSIM_UNBOUNDED,
     "a client with arrival: calls through which lookups go to the resolver service (its timeout "
     "and retries are the stub resolver's); left out: lookups are instant and never fail",
     (const void *)(uintptr_t)MSIM_KIND_CALLER, NULL},
    {"min_resolution_interval", &msim_type_duration, offsetof(channel_cfg, min_resolution_interval),
     "30s", 0, 1e300,
     "after a successful lookup, the next waits at least this long (grpc-go "
     "MinResolutionInterval; 0: every request is served at once)",
     NULL, NULL},
    {"lookup_retry", &msim_type_enum, offsetof(channel_cfg, lookup_retry), "backoff",
     MSIM_UNBOUNDED, "when a failed lookup is tried again", lookup_retries, NULL},
    {"backoff", &msim_type_struct, offsetof(channel_cfg, backoff), NULL, MSIM_UNBOUNDED,
     "connection backoff", &backoff_schema, NULL},
    {"connect_time", &msim_type_dist, offsetof(channel_cfg, connect_time), "1ms", MSIM_UNBOUNDED,
     "how long a connection attempt takes to succeed, or to be refused (TCP, TLS, HTTP/2)", NULL,
     NULL},
    {"dead_address", &msim_type_enum, offsetof(channel_cfg, dead_address), "refuse", MSIM_UNBOUNDED,
     "what an attempt to the address of a replaced host meets", dead_addresses, NULL},
    {"wait_for_ready", &msim_type_bool, offsetof(channel_cfg, wait_for_ready), "false",
     MSIM_UNBOUNDED,
     "an attempt finding no READY connection waits for one (until its sender gives up) instead "
     "of failing with UNAVAILABLE",
     NULL, NULL},
    {"max_connection_age", &msim_type_timeout, offsetof(channel_cfg, max_connection_age), "none",
     1e6, 1e300,
     "the servers' MAX_CONNECTION_AGE: each connection is closed (GOAWAY) after this +- 10%, "
     "and the instance reconnects and asks for a re-resolution; attempts in flight finish",
     NULL, NULL},
    {"notice", &msim_type_duration, offsetof(channel_cfg, notice), "100ms", 1e3, 1e300,
     "how soon an instance notices that a host it is connected to went away (hosts are polled "
     "this often)",
     NULL, NULL},
};

static const msim_schema channel_schema =
    MSIM_SCHEMA("channel", "client-side gRPC connections of a fleet of instances", channel_params,
                channel_cfg, NULL);

/* ---- state ----------------------------------------------------------------------------------- */

/* A subchannel's logical state. A failing one stays FAILING through its
 * further attempts until one succeeds (gRPC's sticky TRANSIENT_FAILURE), so an
 * instance whose addresses all fail is in TRANSIENT_FAILURE and fails attempts
 * fast, while one that is connecting for the first time queues them. */
enum { SC_NONE, SC_CONNECTING, SC_READY, SC_FAILING };

/* An attempt held by the channel (msim_attempt.state). */
enum { CA_WAITING = 1, CA_FORWARDED };

/* An instance's resolver. */
enum { LK_IDLE, LK_WAIT, LK_FLIGHT };

typedef struct conn {
    msim_time deadline; /* the running attempt's backoff deadline (gRPC current_deadline) */
    uint32_t addr;      /* the host generation its address points at; 0: no address */
    uint16_t epoch;     /* bumped at every change: an event with an older one is stale */
    uint8_t state;      /* SC_* */
    uint8_t tries;      /* attempts failed since the last READY: the backoff step */
} conn;

typedef struct instance {
    msim_attempt *wait_head, *wait_tail; /* attempts waiting for a connection, in order */
    msim_time next_lookup;               /* the earliest the next lookup may start */
    msim_timer lookup_timer;
    uint32_t nready, nconnecting; /* subchannels READY, and CONNECTING for the first time */
    uint32_t rr;                  /* round robin: the slot to look at next */
    uint8_t lookup;               /* LK_* */
    uint8_t fails;                /* lookups failed in a row */
    bool asked;                   /* a request waits (grpc-go's one-slot rn channel) */
} instance;

typedef struct channel {
    msim_component base;
    const channel_cfg *cfg;
    msim_component *target, *resolver;
    conn *conns;    /* ninst rows of cap slots */
    uint32_t cap;   /* host slots per row */
    uint32_t *seen; /* per slot, as last polled: generation x 2 + up */
    instance *inst;
    uint32_t ninst;
    uint32_t disconnected; /* instances without a READY connection */
    uint32_t waiting;      /* attempts waiting for a connection */
    msim_time min_interval;
    int lookup_retry;
    msim_rng rng_backoff, rng_connect, rng_age, rng_lookup;

    msim_metric m_forwarded, m_unavailable, m_reconnects, m_connect_failures, m_closed;
    msim_metric m_lookups, m_lookup_failures, m_reresolve;
    msim_gauge g_ready, g_disconnected, g_waiting, g_addresses;
} channel;

static conn *conn_at(const channel *ch, uint32_t i, uint32_t slot)
{
    return &ch->conns[(size_t)i * ch->cap + slot];
}

/* Events about one subchannel carry (instance, slot, epoch). */
static uint64_t conn_arg(uint32_t i, uint32_t slot, const conn *c)
{
    return (uint64_t)i << 32 | (uint64_t)slot << 16 | c->epoch;
}

/* The subchannel an event is about, or NULL if the event is stale. */
static conn *conn_of(channel *ch, uint64_t arg, uint32_t *i, uint32_t *slot)
{
    *i = (uint32_t)(arg >> 32);
    *slot = (uint32_t)(arg >> 16) & 0xffffu;
    conn *c = conn_at(ch, *i, *slot);
    return c->epoch == (uint16_t)arg ? c : NULL;
}

/* Is the host at this address alive, and does it answer? */
static bool live(const channel *ch, uint32_t slot, uint32_t addr)
{
    return addr && msim_replica_generation(ch->target, slot) == addr &&
           msim_replica_up(ch->target, slot);
}

/* ---- subchannel states and their counts ------------------------------------------------------ */

static void publish_disconnected(msim_sim *sim, channel *ch)
{
    msim_gauge_set(sim, ch->g_disconnected, (double)ch->disconnected / ch->ninst);
}

/* Every change of a subchannel goes through here: it keeps the instance's
 * counts and the gauges, and makes pending events about it stale. */
static void set_state(msim_sim *sim, channel *ch, instance *in, conn *c, uint8_t st)
{
    c->epoch++;
    if (c->state == st) return;
    if (c->state == SC_READY) {
        msim_gauge_add(sim, ch->g_ready, -1);
        if (--in->nready == 0) ch->disconnected++, publish_disconnected(sim, ch);
    }
    if (c->state == SC_CONNECTING) in->nconnecting--;
    if ((c->state == SC_NONE) != (st == SC_NONE)) msim_gauge_add(sim, ch->g_addresses, st ? 1 : -1);
    if (st == SC_READY) {
        msim_gauge_add(sim, ch->g_ready, 1);
        if (in->nready++ == 0) ch->disconnected--, publish_disconnected(sim, ch);
    }
    if (st == SC_CONNECTING) in->nconnecting++;
    c->state = st;
}

/* ---- the resolver ---------------------------------------------------------------------------- */

static void start_lookup(msim_sim *sim, channel *ch, uint32_t i);
static bool ensure_slots(msim_sim *sim, channel *ch, uint32_t n);
static void instance_changed(msim_sim *sim, channel *ch, uint32_t i);
static void attempt(msim_sim *sim, channel *ch, uint32_t i, uint32_t slot, conn *c);

static void lookup_fire(msim_sim *sim, void *obj, uint64_t i)
{
    channel *ch = obj;
    ch->inst[i].lookup_timer = MSIM_NO_TIMER;
    start_lookup(sim, ch, (uint32_t)i);
}

/* The next lookup goes at `at` (now, if that has passed). */
static void schedule_lookup(msim_sim *sim, channel *ch, uint32_t i, msim_time at)
{
    instance *in = &ch->inst[i];
    in->lookup = LK_WAIT;
    if (at <= msim_now(sim)) {
        start_lookup(sim, ch, i);
        return;
    }
    in->lookup_timer = msim_at(sim, at, lookup_fire, ch, i);
}

/* ResolveNow: served when the resolver is idle, no sooner than its minimum
 * interval allows; while a lookup waits or runs it is kept (once) until a
 * lookup ends in success, or in a failure retried on request. */
static void request_resolution(msim_sim *sim, channel *ch, uint32_t i)
{
    instance *in = &ch->inst[i];
    msim_count(sim, ch->m_reresolve, 1);
    if (in->lookup == LK_IDLE)
        schedule_lookup(sim, ch, i, in->next_lookup);
    else
        in->asked = true;
}

/* grpc-go's DNS resolver retries failed lookups with backoff.DefaultExponential,
 * whatever backoff the channel's connections use: gRPC's constants. */
static const conn_backoff_cfg grpc_backoff = {.initial = MSIM_SEC,
                                              .max = 120 * MSIM_SEC,
                                              .min_connect_timeout = 20 * MSIM_SEC,
                                              .multiplier = 1.6,
                                              .jitter = 0.2};

/* The wait after k failures (k >= 1): step k of the backoff (grpc-go's
 * Backoff(k)), spread by +- jitter. */
static msim_time backoff_step(const conn_backoff_cfg *b, uint32_t k, msim_rng *rng)
{
    double d = (double)b->initial * pow(b->multiplier, k);
    if (d > (double)b->max) d = (double)b->max;
    return (msim_time)(d * (1 + b->jitter * (2 * msim_rng_u01(rng) - 1)));
}

/* Give the instance the addresses of the target's endpoints now. A subchannel whose
 * address left the list is shut down; a new address gets a new subchannel,
 * which connects at once (round_robin connects to every address). Returns
 * how many addresses the answer had. */
static uint32_t apply_answer(msim_sim *sim, channel *ch, uint32_t i)
{
    uint32_t n = msim_replicas(ch->target), count = 0;
    if (!ensure_slots(sim, ch, n)) return 0;
    instance *in = &ch->inst[i];
    for (uint32_t slot = 0; slot < ch->cap; slot++) {
        conn *c = conn_at(ch, i, slot);
        bool listed = slot < n && msim_replica_endpoint(ch->target, slot);
        uint32_t want = listed ? msim_replica_generation(ch->target, slot) : 0;
        count += want != 0;
        if (c->addr == want) continue;
        set_state(sim, ch, in, c, SC_NONE);
        c->addr = want;
        c->tries = 0;
        if (!want) continue;
        set_state(sim, ch, in, c, SC_CONNECTING);
        attempt(sim, ch, i, slot, c);
    }
    instance_changed(sim, ch, i);
    return count;
}

/* A lookup ended. An answer without any host is a failure too: grpc-go's
 * round_robin rejects an empty list and the resolver backs off, whatever
 * lookup_retry says (no subchannel is left to ask again). The lookup counts
 * as running until its answer is applied, so that a request made meanwhile
 * (applying it may close connections) is kept, not served early. */
static void lookup_done(msim_sim *sim, void *ctx, uint64_t tag, msim_status status)
{
    channel *ch = ctx;
    uint32_t i = (uint32_t)tag;
    instance *in = &ch->inst[i];
    msim_time now = msim_now(sim);
    uint32_t hosts = status == MSIM_STATUS_OK ? apply_answer(sim, ch, i) : 0;
    in->lookup = LK_IDLE;
    if (hosts) {
        in->fails = 0;
        in->next_lookup = now + ch->min_interval;
    } else {
        msim_count(sim, ch->m_lookup_failures, 1);
        if (in->fails < 255) in->fails++;
        if (ch->lookup_retry == RETRY_BACKOFF || status == MSIM_STATUS_OK) {
            schedule_lookup(sim, ch, i,
                            now + backoff_step(&grpc_backoff, in->fails, &ch->rng_lookup));
            return;
        }
        in->next_lookup = now + ch->min_interval;
    }
    /* a request kept while it waited or ran is served now */
    if (in->asked) {
        in->asked = false;
        schedule_lookup(sim, ch, i, in->next_lookup);
    }
}

static void start_lookup(msim_sim *sim, channel *ch, uint32_t i)
{
    instance *in = &ch->inst[i];
    in->lookup = LK_FLIGHT;
    msim_count(sim, ch->m_lookups, 1);
    if (!ch->resolver) {
        lookup_done(sim, ch, i, MSIM_STATUS_OK);
        return;
    }
    /* last: the call may end at once, and then the instance has moved on */
    if (ch->resolver->kind->call(sim, ch->resolver, MSIM_NEVER, lookup_done, ch, i))
        msim_fail(sim, -MSIM_ENOMEM, "out of memory making a lookup");
}

/* ---- connection attempts --------------------------------------------------------------------- */

static void attempt_done(msim_sim *sim, void *obj, uint64_t arg);
static void attempt_begin(msim_sim *sim, void *obj, uint64_t arg);
static void age_fire(msim_sim *sim, void *obj, uint64_t arg);

/* The backoff of the attempt after `tries` failures (gRPC current_backoff):
 * the first is INITIAL_BACKOFF as it is, the later ones jittered. */
static msim_time attempt_backoff(channel *ch, uint32_t tries)
{
    const conn_backoff_cfg *b = &ch->cfg->backoff;
    return tries == 0 ? b->initial : backoff_step(b, tries, &ch->rng_backoff);
}

/* TryConnect(max(current_deadline, now + MIN_CONNECT_TIMEOUT)). */
static void attempt(msim_sim *sim, channel *ch, uint32_t i, uint32_t slot, conn *c)
{
    const conn_backoff_cfg *b = &ch->cfg->backoff;
    msim_time now = msim_now(sim);
    c->deadline = now + attempt_backoff(ch, c->tries);
    msim_count(sim, ch->m_reconnects, 1);
    msim_time done = now + msim_dist_sample(&ch->cfg->connect_time, &ch->rng_connect);
    bool replaced = msim_replica_generation(ch->target, slot) != c->addr;
    if (replaced && ch->cfg->dead_address == DEAD_BLACKHOLE)
        done =
            c->deadline > now + b->min_connect_timeout ? c->deadline : now + b->min_connect_timeout;
    msim_at(sim, done, attempt_done, ch, conn_arg(i, slot, c));
}

static void attempt_begin(msim_sim *sim, void *obj, uint64_t arg)
{
    channel *ch = obj;
    uint32_t i, slot;
    conn *c = conn_of(ch, arg, &i, &slot);
    if (c) attempt(sim, ch, i, slot, c);
}

/* A READY connection's life under max_connection_age: the server adds up to
 * +-10% (grpc-go's jitter on MaxConnectionAge). The connections the run
 * starts with are `first`: their ages are spread uniformly. */
static void arm_age(msim_sim *sim, channel *ch, uint32_t i, uint32_t slot, conn *c, bool first)
{
    if (ch->cfg->max_connection_age == MSIM_NEVER) return;
    double a = (double)ch->cfg->max_connection_age, u = msim_rng_u01(&ch->rng_age);
    msim_time life = (msim_time)(first ? a * u : a * (0.9 + 0.2 * u));
    msim_after(sim, life, age_fire, ch, conn_arg(i, slot, c));
}

/* The attempt ended: READY, or a failure that asks for a re-resolution and
 * tries again at the backoff deadline (or at once, if the attempt outlived
 * it). */
static void attempt_done(msim_sim *sim, void *obj, uint64_t arg)
{
    channel *ch = obj;
    uint32_t i, slot;
    conn *c = conn_of(ch, arg, &i, &slot);
    if (!c) return;
    instance *in = &ch->inst[i];
    if (live(ch, slot, c->addr)) {
        c->tries = 0;
        set_state(sim, ch, in, c, SC_READY);
        arm_age(sim, ch, i, slot, c, false);
        instance_changed(sim, ch, i);
        return;
    }
    msim_count(sim, ch->m_connect_failures, 1);
    if (c->tries < 255) c->tries++;
    set_state(sim, ch, in, c, SC_FAILING);
    msim_at(sim, c->deadline > msim_now(sim) ? c->deadline : msim_now(sim), attempt_begin, ch,
            conn_arg(i, slot, c));
    instance_changed(sim, ch, i);
    request_resolution(sim, ch, i); /* last: a lookup may end at once */
}

/* A READY connection closed (GOAWAY, reset): IDLE, and round_robin connects
 * again at once and asks for a re-resolution. */
static void conn_closed(msim_sim *sim, channel *ch, uint32_t i, uint32_t slot, conn *c)
{
    msim_count(sim, ch->m_closed, 1);
    c->tries = 0;
    set_state(sim, ch, &ch->inst[i], c, SC_CONNECTING);
    attempt(sim, ch, i, slot, c);
    instance_changed(sim, ch, i);
    request_resolution(sim, ch, i);
}

static void age_fire(msim_sim *sim, void *obj, uint64_t arg)
{
    channel *ch = obj;
    uint32_t i, slot;
    conn *c = conn_of(ch, arg, &i, &slot);
    if (c && c->state == SC_READY) conn_closed(sim, ch, i, slot, c);
}

/* ---- noticing hosts that went away ----------------------------------------------------------- */

/* Room for n host slots per instance: the target may grow at run time. */
static bool ensure_slots(msim_sim *sim, channel *ch, uint32_t n)
{
    if (n <= ch->cap) return true;
    uint32_t cap = n > 2 * ch->cap ? n : 2 * ch->cap;
    conn *conns = msim_arena_alloc(sim, (size_t)ch->ninst * cap * sizeof *conns);
    uint32_t *seen = msim_arena_alloc(sim, cap * sizeof *seen);
    if (!conns || !seen) {
        msim_fail(sim, -MSIM_ENOMEM, "out of memory for connections");
        return false;
    }
    for (uint32_t i = 0; ch->cap && i < ch->ninst; i++)
        memcpy(&conns[(size_t)i * cap], conn_at(ch, i, 0), ch->cap * sizeof *conns);
    if (ch->cap) memcpy(seen, ch->seen, ch->cap * sizeof *seen);
    ch->conns = conns;
    ch->seen = seen;
    ch->cap = cap;
    return true;
}

static uint32_t host_mark(const channel *ch, uint32_t slot)
{
    return msim_replica_generation(ch->target, slot) * 2u + msim_replica_up(ch->target, slot);
}

/* A host changed: every READY connection to what it was closes. */
static void host_changed(msim_sim *sim, channel *ch, uint32_t slot)
{
    for (uint32_t i = 0; i < ch->ninst; i++) {
        conn *c = conn_at(ch, i, slot);
        if (c->state == SC_READY && !live(ch, slot, c->addr)) conn_closed(sim, ch, i, slot, c);
    }
}

static void poll_hosts(msim_sim *sim, void *obj, uint64_t arg)
{
    (void)arg;
    channel *ch = obj;
    if (!ensure_slots(sim, ch, msim_replicas(ch->target))) return;
    for (uint32_t slot = 0; slot < ch->cap; slot++) {
        uint32_t mark = host_mark(ch, slot);
        if (mark == ch->seen[slot]) continue;
        ch->seen[slot] = mark;
        host_changed(sim, ch, slot);
    }
    msim_after(sim, ch->cfg->notice, poll_hosts, ch, 0);
}

/* ---- attempts -------------------------------------------------------------------------------- */

/* The instance a request belongs to: a hash of its start and origin, so all
 * its attempts go through the same process. */
static uint32_t instance_of(const channel *ch, const msim_request *r)
{
    uint64_t x = (uint64_t)r->start ^ (uint64_t)r->origin->index << 48;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u; /* splitmix64's finaliser */
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
    x ^= x >> 31;
    return (uint32_t)(x % ch->ninst);
}

/* The next READY subchannel in turn whose host is still there; one whose
 * host is gone is noticed now. -1: none. */
static int pick_ready(msim_sim *sim, channel *ch, uint32_t i)
{
    instance *in = &ch->inst[i];
    while (in->nready) {
        uint32_t slot = in->rr;
        for (uint32_t k = 0; k < ch->cap; k++, slot++) {
            if (slot >= ch->cap) slot = 0;
            if (conn_at(ch, i, slot)->state == SC_READY) break;
        }
        conn *c = conn_at(ch, i, slot);
        if (live(ch, slot, c->addr)) {
            in->rr = slot + 1;
            return (int)slot;
        }
        conn_closed(sim, ch, i, slot, c);
    }
    return -1;
}

static void forward(msim_sim *sim, channel *ch, uint32_t slot, msim_attempt *ca)
{
    msim_attempt *fa = msim_attempt_new(sim, ca->req, &ch->base, ch->target);
    if (!fa) { /* out of memory: the run is failing */
        msim_respond(sim, ca, MSIM_STATUS_REJECTED);
        return;
    }
    fa->number = ca->number;
    fa->expires = ca->expires; /* the deadline travels on */
    fa->cls = (uint8_t)(MSIM_CLS_PINNED | (ca->cls & (0xFu << MSIM_CLS_PRIORITY_SHIFT)));
    fa->slot = (uint16_t)slot;
    fa->ctx = ca;
    ca->state = CA_FORWARDED;
    ca->next = fa;
    msim_count(sim, ch->m_forwarded, 1);
    msim_send(sim, fa); /* may answer at once: fa and ca are then gone */
}

static void wait_push(msim_sim *sim, channel *ch, instance *in, msim_attempt *a)
{
    a->state = CA_WAITING;
    a->hctx = in;
    a->next = NULL;
    a->prev = in->wait_tail;
    if (in->wait_tail)
        in->wait_tail->next = a;
    else
        in->wait_head = a;
    in->wait_tail = a;
    msim_gauge_set(sim, ch->g_waiting, ++ch->waiting);
}

static void wait_remove(msim_sim *sim, channel *ch, instance *in, msim_attempt *a)
{
    if (a->prev)
        a->prev->next = a->next;
    else
        in->wait_head = a->next;
    if (a->next)
        a->next->prev = a->prev;
    else
        in->wait_tail = a->prev;
    a->prev = a->next = NULL;
    a->state = 0;
    msim_gauge_set(sim, ch->g_waiting, --ch->waiting);
}

/* Forward over a READY connection; else wait while the instance is
 * connecting for the first time (or with wait_for_ready); else UNAVAILABLE. */
static void route(msim_sim *sim, channel *ch, uint32_t i, msim_attempt *ca)
{
    int slot = pick_ready(sim, ch, i);
    if (slot >= 0) {
        forward(sim, ch, (uint32_t)slot, ca);
        return;
    }
    instance *in = &ch->inst[i];
    if (ch->cfg->wait_for_ready || in->nconnecting) {
        wait_push(sim, ch, in, ca);
        return;
    }
    msim_count(sim, ch->m_unavailable, 1);
    msim_respond(sim, ca, MSIM_STATUS_REJECTED);
}

/* The instance's picker changed: its waiting attempts go now if a connection
 * is READY, or fail if it fell into TRANSIENT_FAILURE without wait_for_ready.
 * The list is taken whole first: forwarding may bring new attempts in. */
static void instance_changed(msim_sim *sim, channel *ch, uint32_t i)
{
    instance *in = &ch->inst[i];
    if (!in->wait_head) return;
    if (!in->nready && (ch->cfg->wait_for_ready || in->nconnecting)) return;
    msim_attempt *a = in->wait_head;
    in->wait_head = in->wait_tail = NULL;
    while (a) {
        msim_attempt *next = a->next;
        a->prev = a->next = NULL;
        a->state = 0;
        msim_gauge_set(sim, ch->g_waiting, --ch->waiting);
        route(sim, ch, i, a);
        a = next;
    }
}

static void channel_accept(msim_sim *sim, msim_component *self, msim_attempt *ca)
{
    channel *ch = (channel *)self;
    if (!ca->req) { /* its sender left while it travelled */
        msim_drop(sim, ca);
        return;
    }
    route(sim, ch, instance_of(ch, ca->req), ca);
}

static void channel_response(msim_sim *sim, msim_component *self, msim_attempt *fa)
{
    (void)self;
    msim_attempt *ca = fa->ctx;
    msim_status status = (msim_status)fa->status;
    msim_attempt_free(sim, fa);
    ca->next = NULL;
    ca->state = 0;
    msim_respond(sim, ca, status);
}

/* The sender gave up: a waiting attempt leaves its queue; a forwarded one is
 * cancelled on its connection (the server may keep working on it). */
static void channel_abandon(msim_sim *sim, msim_component *self, msim_attempt *ca)
{
    channel *ch = (channel *)self;
    if (ca->state == CA_WAITING) {
        wait_remove(sim, ch, ca->hctx, ca);
        msim_drop(sim, ca);
        return;
    }
    msim_attempt *fa = ca->next;
    ca->next = NULL;
    ca->state = 0;
    msim_abandon(sim, fa);
    msim_drop(sim, ca);
}

/* ---- setup ----------------------------------------------------------------------------------- */

static void register_metrics(msim_sim *sim, channel *ch)
{
    msim_component *c = &ch->base;
    ch->m_forwarded = msim_counter(sim, c, "forwarded", "attempts", MSIM_ROLE_NONE);
    ch->m_unavailable = msim_counter(sim, c, "unavailable", "attempts", MSIM_ROLE_NONE);
    ch->m_reconnects = msim_counter(sim, c, "reconnects", "attempts", MSIM_ROLE_NONE);
    ch->m_connect_failures = msim_counter(sim, c, "connect_failures", "attempts", MSIM_ROLE_NONE);
    ch->m_closed = msim_counter(sim, c, "closed", "connections", MSIM_ROLE_NONE);
    ch->m_reresolve = msim_counter(sim, c, "reresolve_requests", "requests", MSIM_ROLE_NONE);
    ch->m_lookups = msim_counter(sim, c, "lookups", "lookups", MSIM_ROLE_LOOKUPS);
    ch->m_lookup_failures = msim_counter(sim, c, "lookup_failures", "lookups", MSIM_ROLE_NONE);
    ch->g_ready = msim_gauge_new(sim, c, "ready_connections", "connections", MSIM_ROLE_NONE);
    ch->g_addresses = msim_gauge_new(sim, c, "addresses", "subchannels", MSIM_ROLE_NONE);
    ch->g_disconnected =
        msim_gauge_new(sim, c, "disconnected", "share of instances", MSIM_ROLE_DISCONNECTED);
    ch->g_waiting = msim_gauge_new(sim, c, "waiting", "attempts", MSIM_ROLE_NONE);
}

static int channel_init(msim_sim *sim, msim_component *self, const void *cfg, msim_error *err)
{
    channel *ch = (channel *)self;
    ch->cfg = cfg;
    ch->target = msim_component_at(sim, ch->cfg->target.index);
    uint32_t hosts = msim_replicas(ch->target);
    if (hosts == 0) {
        snprintf(err->path, sizeof err->path, "%s.target", self->name);
        return msim_error_set(err, -MSIM_EINVAL,
                              "\"%s\" is not a service: a channel connects to the replicas of a "
                              "service",
                              ch->cfg->target.name);
    }
    ch->ninst = (uint32_t)ch->cfg->instances;
    if ((double)ch->ninst * hosts > 2e7)
        return msim_error_set(err, -MSIM_EINVAL,
                              "%u instances x %u hosts is more than 20 million connections",
                              ch->ninst, hosts);
    ch->resolver = ch->cfg->resolver.name ? msim_component_at(sim, ch->cfg->resolver.index) : NULL;
    ch->inst = msim_arena_alloc(sim, ch->ninst * sizeof *ch->inst);
    if (!ch->inst || !ensure_slots(sim, ch, hosts))
        return msim_error_set(err, -MSIM_ENOMEM, "out of memory");
    ch->min_interval = ch->cfg->min_resolution_interval;
    ch->lookup_retry = ch->cfg->lookup_retry;
    ch->rng_backoff = msim_stream(sim, self->name, "backoff");
    ch->rng_connect = msim_stream(sim, self->name, "connect");
    ch->rng_age = msim_stream(sim, self->name, "age");
    ch->rng_lookup = msim_stream(sim, self->name, "lookup");
    register_metrics(sim, ch);
    return 0;
}

/* The fleet has been running for a while: every instance has resolved and
 * holds a READY connection to every endpoint; with max_connection_age their
 * ages are spread uniformly. */
static void channel_start(msim_sim *sim, msim_component *self)
{
    channel *ch = (channel *)self;
    for (uint32_t slot = 0; slot < ch->cap; slot++)
        ch->seen[slot] = host_mark(ch, slot);
    ch->disconnected = ch->ninst;
    publish_disconnected(sim, ch);
    for (uint32_t i = 0; i < ch->ninst; i++) {
        for (uint32_t slot = 0; slot < ch->cap; slot++) {
            conn *c = conn_at(ch, i, slot);
            if (!msim_replica_endpoint(ch->target, slot)) continue;
            c->addr = msim_replica_generation(ch->target, slot);
            set_state(sim, ch, &ch->inst[i], c, SC_READY);
            arm_age(sim, ch, i, slot, c, true);
        }
    }
    msim_after(sim, ch->cfg->notice, poll_hosts, ch, 0);
}

/* ---- mechanisms diagnose can switch off ------------------------------------------------------ */

/* Re-resolve as gRPC does by default from now on: at most once per 30 s, a
 * failed lookup retried with backoff. */
static void limit_re_resolution(msim_sim *sim, msim_component *self)
{
    (void)sim;
    channel *ch = (channel *)self;
    if (ch->min_interval < 30 * MSIM_SEC) ch->min_interval = 30 * MSIM_SEC;
    ch->lookup_retry = RETRY_BACKOFF;
}

static const msim_mechanism channel_mechanisms[] = {
    {"re_resolution",
     "re-resolve as gRPC does by default: at most once per 30 s per instance, failed lookups "
     "retried with backoff",
     limit_re_resolution},
};

const msim_kind msim_channel_kind = {
    .name = "channel",
    .section = "channels",
    .doc = "client-side gRPC connections of a fleet of instances: subchannels with connection "
           "backoff, re-resolution through a resolver with limited capacity, wait_for_ready, "
           "max connection age",
    .schema = &channel_schema,
    .size = sizeof(channel),
    .roles = MSIM_KIND_TARGET,
    .conditions = 0,
    .init = channel_init,
    .start = channel_start,
    .accept = channel_accept,
    .on_response = channel_response,
    .on_abandon = channel_abandon,
    .mechanisms = channel_mechanisms,
    .nmechanisms = sizeof channel_mechanisms / sizeof channel_mechanisms[0],
};
