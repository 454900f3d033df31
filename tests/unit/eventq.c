/* eventq.c — the event queue: total (time, sequence) order, cancellation,
 * lanes, and compaction, checked against a brute-force reference. */
#include <stdlib.h>
#include <string.h>

#include "../suites.h"
#include "../../src/engine/eventq.h"

typedef struct ref_event {
    msim_time t;
    uint64_t seq;
    int live;
    msim_timer h;
} ref_event;

static uint64_t fired_seq[20000];
static size_t nfired;

static void record(msim_sim *sim, void *obj, uint64_t arg)
{
    (void)sim, (void)obj;
    fired_seq[nfired++] = arg;
}

static int cmp_ref(const void *a, const void *b)
{
    const ref_event *x = a, *y = b;
    if (x->t != y->t) return x->t < y->t ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Random pushes (heap and lanes), random cancels; pops must come out in the
 * order of a sort by (time, insertion sequence) of the survivors. */
static void order_matches_reference(test_ctx *t)
{
    msim__evq q;
    msim__evq_init(&q, msim_default_allocator);
    uint32_t lanes[3];
    for (int i = 0; i < 3; i++)
        lanes[i] = msim__evq_lane_new(&q);
    static ref_event ev[20000];
    msim_rng rng;
    msim_rng_seed(&rng, 42);
    msim_time lane_t[3] = {0, 0, 0};
    size_t n = 20000;
    for (size_t i = 0; i < n; i++) {
        ev[i].seq = i;
        ev[i].live = 1;
        int kind = (int)(msim_rng_next(&rng) % 4);
        if (kind < 3 && msim_rng_next(&rng) % 8) {
            lane_t[kind] += (msim_time)(msim_rng_next(&rng) % 50);
            ev[i].t = lane_t[kind];
            ev[i].h = msim__evq_lane_push(&q, lanes[kind], ev[i].t, record, NULL, i);
        } else {
            ev[i].t = (msim_time)(msim_rng_next(&rng) % 100000); /* may be out of lane order */
            ev[i].h = kind < 3 ? msim__evq_lane_push(&q, lanes[kind], ev[i].t, record, NULL, i)
                               : msim__evq_push(&q, ev[i].t, record, NULL, i);
        }
        CHECK(ev[i].h.slot != 0);
    }
    for (size_t i = 0; i < n; i++)
        if (msim_rng_next(&rng) % 3 == 0) {
            CHECK(msim__evq_cancel(&q, &ev[i].h));
            ev[i].live = 0;
            CHECK(!msim__evq_cancel(&q, &ev[i].h)); /* a second cancel is harmless */
        }
    nfired = 0;
    msim__evq_fired f;
    msim_time last = -1;
    while (msim__evq_pop(&q, MSIM_NEVER, &f)) {
        CHECK(f.time >= last);
        last = f.time;
        f.fn(NULL, f.obj, f.arg);
    }
    qsort(ev, n, sizeof ev[0], cmp_ref);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!ev[i].live) continue;
        CHECK_MSG(k < nfired && fired_seq[k] == ev[i].seq, "event %zu: fired seq %llu, expected %llu", k,
                  (unsigned long long)(k < nfired ? fired_seq[k] : 0), (unsigned long long)ev[i].seq);
        k++;
    }
    CHECK(k == nfired);
    CHECK(q.live == 0);
    msim__evq_free(&q);
}

/* Equal times fire in insertion order, across heap and lane. */
static void ties_fire_in_insertion_order(test_ctx *t)
{
    msim__evq q;
    msim__evq_init(&q, msim_default_allocator);
    uint32_t lane = msim__evq_lane_new(&q);
    for (uint64_t i = 0; i < 100; i++) {
        if (i % 2)
            msim__evq_lane_push(&q, lane, 5, record, NULL, i);
        else
            msim__evq_push(&q, 5, record, NULL, i);
    }
    nfired = 0;
    msim__evq_fired f;
    while (msim__evq_pop(&q, MSIM_NEVER, &f))
        f.fn(NULL, f.obj, f.arg);
    CHECK(nfired == 100);
    for (uint64_t i = 0; i < 100; i++)
        CHECK(fired_seq[i] == i);
    msim__evq_free(&q);
}

/* The limit stops at the horizon without consuming the event. */
static void pop_respects_limit(test_ctx *t)
{
    msim__evq q;
    msim__evq_init(&q, msim_default_allocator);
    uint32_t lane = msim__evq_lane_new(&q);
    msim__evq_push(&q, 10, record, NULL, 1);
    msim__evq_lane_push(&q, lane, 20, record, NULL, 2);
    msim__evq_fired f;
    CHECK(msim__evq_pop(&q, 15, &f) && f.arg == 1);
    CHECK(!msim__evq_pop(&q, 15, &f));
    CHECK(msim__evq_pop(&q, 21, &f) && f.arg == 2);
    CHECK(!msim__evq_pop(&q, MSIM_NEVER, &f));
    msim__evq_free(&q);
}

/* Cancelled heap entries are compacted away: memory follows the live count. */
static void cancelled_entries_are_compacted(test_ctx *t)
{
    msim__evq q;
    msim__evq_init(&q, msim_default_allocator);
    msim_timer keep = msim__evq_push(&q, 1000000, record, NULL, 0);
    for (int i = 0; i < 200000; i++) {
        msim_timer h = msim__evq_push(&q, 1000 + i, record, NULL, (uint64_t)i);
        msim__evq_cancel(&q, &h);
    }
    CHECK_MSG(q.len < 10000, "heap holds %zu entries for 1 live event", q.len);
    CHECK(msim__evq_pending(&q, keep));
    msim__evq_fired f;
    CHECK(msim__evq_pop(&q, MSIM_NEVER, &f) && f.arg == 0);
    msim__evq_free(&q);
}

/* A stale handle (its node reused) does not cancel the new event. */
static void stale_handles_are_harmless(test_ctx *t)
{
    msim__evq q;
    msim__evq_init(&q, msim_default_allocator);
    msim_timer a = msim__evq_push(&q, 1, record, NULL, 1);
    msim__evq_fired f;
    CHECK(msim__evq_pop(&q, MSIM_NEVER, &f));
    msim_timer b = msim__evq_push(&q, 2, record, NULL, 2); /* reuses a's node */
    CHECK(!msim__evq_pending(&q, a));
    CHECK(!msim__evq_cancel(&q, &a));
    CHECK(msim__evq_pending(&q, b));
    CHECK(msim__evq_pop(&q, MSIM_NEVER, &f) && f.arg == 2);
    msim__evq_free(&q);
}

const test_case eventq_tests[] = {
    {"eventq_order_matches_reference", order_matches_reference, TIER_QUICK},
    {"eventq_ties_fire_in_insertion_order", ties_fire_in_insertion_order, TIER_QUICK},
    {"eventq_pop_respects_limit", pop_respects_limit, TIER_QUICK},
    {"eventq_cancelled_entries_are_compacted", cancelled_entries_are_compacted, TIER_QUICK},
    {"eventq_stale_handles_are_harmless", stale_handles_are_harmless, TIER_QUICK},
    {NULL, NULL, 0},
};
