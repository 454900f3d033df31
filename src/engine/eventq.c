/* eventq.c — 4-ary heap with lazy cancellation and FIFO lanes (see eventq.h).
 *
 * Invariants: every live node is referenced by exactly one entry, in the heap
 * or in a lane, with the same gen; an entry whose gen differs from its node's
 * is dead. A lane with entries has exactly one token in the heap, keyed no
 * later than its front entry (fronts only move forward; a token that surfaces
 * early is re-keyed).
 */
#include "eventq.h"

#include <string.h>

#define ARITY 4

static bool entry_before(const msim__evq_entry *a, const msim__evq_entry *b)
{
    return a->time < b->time || (a->time == b->time && a->seq < b->seq);
}

static void *grow(msim_allocator al, void *p, size_t *cap, size_t elem, size_t min_cap)
{
    size_t ncap = *cap ? *cap * 2 : min_cap;
    void *np = al.realloc(al.ud, p, ncap * elem);
    if (np) *cap = ncap;
    return np;
}

int msim__evq_init(msim__evq *q, msim_allocator alloc)
{
    memset(q, 0, sizeof *q);
    q->alloc = alloc;
    q->next_seq = 1;
    return 0;
}

void msim__evq_free(msim__evq *q)
{
    for (uint32_t i = 0; i < q->nlanes; i++)
        if (q->lanes[i].ring) q->alloc.realloc(q->alloc.ud, q->lanes[i].ring, 0);
    if (q->lanes) q->alloc.realloc(q->alloc.ud, q->lanes, 0);
    if (q->heap) q->alloc.realloc(q->alloc.ud, q->heap, 0);
    if (q->nodes) q->alloc.realloc(q->alloc.ud, q->nodes, 0);
    memset(q, 0, sizeof *q);
}

/* ---- the heap ------------------------------------------------------------------ */

static void sift_up(msim__evq_entry *h, size_t i)
{
    msim__evq_entry e = h[i];
    while (i > 0) {
        size_t parent = (i - 1) / ARITY;
        if (!entry_before(&e, &h[parent])) break;
        h[i] = h[parent];
        i = parent;
    }
    h[i] = e;
}

/* Move the entry at i down to its place; the "hole" technique copies each
 * entry once instead of swapping. */
static void sift_down(msim__evq_entry *h, size_t len, size_t i)
{
    msim__evq_entry e = h[i];
    for (;;) {
        size_t first = i * ARITY + 1;
        if (first >= len) break;
        size_t last = first + ARITY < len ? first + ARITY : len;
        size_t best = first;
        for (size_t c = first + 1; c < last; c++)
            if (entry_before(&h[c], &h[best])) best = c;
        if (!entry_before(&h[best], &e)) break;
        h[i] = h[best];
        i = best;
    }
    h[i] = e;
}

static bool entry_live(const msim__evq *q, const msim__evq_entry *e)
{
    return q->nodes[e->slot].gen == e->gen;
}

static bool is_token(const msim__evq_entry *e)
{
    return (e->slot & MSIM__LANE_TOKEN) != 0;
}

/* Drop dead entries and rebuild the heap in O(n). Called when dead entries
 * outnumber live ones, so its cost is amortised over the cancellations. */
static void compact(msim__evq *q)
{
    size_t j = 0;
    for (size_t i = 0; i < q->len; i++)
        if (is_token(&q->heap[i]) || entry_live(q, &q->heap[i])) q->heap[j++] = q->heap[i];
    q->len = j;
    q->heap_dead = 0;
    for (size_t i = q->len / ARITY + 1; i-- > 0;)
        if (i < q->len) sift_down(q->heap, q->len, i);
}

static int heap_insert(msim__evq *q, msim__evq_entry e)
{
    if (q->len == q->cap) {
        void *np = grow(q->alloc, q->heap, &q->cap, sizeof *q->heap, 1024);
        if (!np) return -1;
        q->heap = np;
    }
    q->heap[q->len] = e;
    sift_up(q->heap, q->len++);
    return 0;
}

static void pop_top(msim__evq *q)
{
    q->heap[0] = q->heap[--q->len];
    if (q->len) sift_down(q->heap, q->len, 0);
}

/* ---- nodes ----------------------------------------------------------------------- */

static uint32_t node_get(msim__evq *q)
{
    if (q->free_head) {
        uint32_t slot = q->free_head - 1;
        q->free_head = q->nodes[slot].link;
        return slot;
    }
    if (q->nnodes == q->cap_nodes) {
        size_t cap = q->cap_nodes;
        if (cap >= MSIM__LANE_TOKEN / 2) return UINT32_MAX;
        void *np = grow(q->alloc, q->nodes, &cap, sizeof *q->nodes, 1024);
        if (!np) return UINT32_MAX;
        q->nodes = np;
        q->cap_nodes = (uint32_t)cap;
    }
    uint32_t slot = q->nnodes++;
    q->nodes[slot].gen = 0;
    return slot;
}

static void bump_gen(msim__evq_node *n)
{
    if (++n->gen == 0) n->gen = 1; /* 0 stays "never live" after wrap-around */
}

static void node_release(msim__evq *q, uint32_t slot)
{
    msim__evq_node *n = &q->nodes[slot];
    bump_gen(n);
    n->fn = NULL;
    n->link = q->free_head;
    q->free_head = slot + 1;
}

/* A live node for an event; returns its slot or UINT32_MAX. */
static uint32_t node_new(msim__evq *q, msim_event_fn fn, void *obj, uint64_t arg, uint32_t link)
{
    uint32_t slot = node_get(q);
    if (slot == UINT32_MAX) return slot;
    msim__evq_node *n = &q->nodes[slot];
    bump_gen(n);
    n->fn = fn;
    n->obj = obj;
    n->arg = arg;
    n->link = link;
    q->live++;
    return slot;
}

msim_timer msim__evq_push(msim__evq *q, msim_time t, msim_event_fn fn, void *obj, uint64_t arg)
{
    if (q->heap_dead > q->heap_live + 4096) compact(q);
    uint32_t slot = node_new(q, fn, obj, arg, 0);
    if (slot == UINT32_MAX) return MSIM_NO_TIMER;
    uint32_t gen = q->nodes[slot].gen;
    if (heap_insert(q, (msim__evq_entry){t, q->next_seq++, slot, gen})) {
        node_release(q, slot);
        q->live--;
        return MSIM_NO_TIMER;
    }
    q->heap_live++;
    return (msim_timer){slot + 1, gen};
}

bool msim__evq_pending(const msim__evq *q, msim_timer h)
{
    return h.slot != 0 && h.slot <= q->nnodes && q->nodes[h.slot - 1].gen == h.gen &&
           q->nodes[h.slot - 1].fn != NULL;
}

bool msim__evq_cancel(msim__evq *q, msim_timer *h)
{
    bool was = msim__evq_pending(q, *h);
    if (was) {
        if (q->nodes[h->slot - 1].link == 0) {
            q->heap_live--;
            q->heap_dead++;
        }
        node_release(q, h->slot - 1);
        q->live--;
    }
    *h = MSIM_NO_TIMER;
    return was;
}

/* ---- lanes ------------------------------------------------------------------------- */

uint32_t msim__evq_lane_new(msim__evq *q)
{
    if (q->nlanes == q->cap_lanes) {
        size_t cap = q->cap_lanes;
        void *np = grow(q->alloc, q->lanes, &cap, sizeof *q->lanes, 8);
        if (!np) return UINT32_MAX;
        q->lanes = np;
        q->cap_lanes = (uint32_t)cap;
    }
    memset(&q->lanes[q->nlanes], 0, sizeof q->lanes[0]);
    q->lanes[q->nlanes].last = -MSIM_NEVER;
    return q->nlanes++;
}

static msim__evq_entry *lane_front(msim__lane *l)
{
    return &l->ring[l->head];
}

static void lane_pop_front(msim__lane *l)
{
    l->head = (l->head + 1) & (l->cap - 1);
    l->len--;
}

static int lane_append(msim__evq *q, msim__lane *l, msim__evq_entry e)
{
    if (l->len == l->cap) {
        uint32_t cap = l->cap ? l->cap * 2 : 256;
        msim__evq_entry *ring = q->alloc.realloc(q->alloc.ud, NULL, cap * sizeof *ring);
        if (!ring) return -1;
        for (uint32_t i = 0; i < l->len; i++) /* unwrap into the new ring */
            ring[i] = l->ring[(l->head + i) & (l->cap - 1)];
        if (l->ring) q->alloc.realloc(q->alloc.ud, l->ring, 0);
        l->ring = ring;
        l->head = 0;
        l->cap = cap;
    }
    l->ring[(l->head + l->len++) & (l->cap - 1)] = e;
    return 0;
}

msim_timer msim__evq_lane_push(msim__evq *q, uint32_t lane, msim_time t, msim_event_fn fn,
                               void *obj, uint64_t arg)
{
    msim__lane *l = &q->lanes[lane];
    if (t < l->last) return msim__evq_push(q, t, fn, obj, arg);
    uint32_t slot = node_new(q, fn, obj, arg, lane + 1);
    if (slot == UINT32_MAX) return MSIM_NO_TIMER;
    uint32_t gen = q->nodes[slot].gen;
    msim__evq_entry e = {t, q->next_seq++, slot, gen};
    if (lane_append(q, l, e)) goto fail;
    if (!l->in_heap) {
        if (heap_insert(q, (msim__evq_entry){t, e.seq, MSIM__LANE_TOKEN | lane, 0})) {
            l->len--;
            goto fail;
        }
        l->in_heap = true;
    }
    l->last = t;
    return (msim_timer){slot + 1, gen};
fail:
    node_release(q, slot);
    q->live--;
    return MSIM_NO_TIMER;
}

/* ---- popping ------------------------------------------------------------------------- */

static void fire(msim__evq *q, const msim__evq_entry *e, msim__evq_fired *out)
{
    msim__evq_node *n = &q->nodes[e->slot];
    *out = (msim__evq_fired){e->time, n->fn, n->obj, n->arg};
    node_release(q, e->slot);
    q->live--;
}

/* The heap's top is lane l's token. Returns 1 and fills *out if the lane's
 * front is due, 0 if the token was re-keyed or dropped (look again), -1 if the
 * earliest event is at or past the limit. */
static int pop_lane(msim__evq *q, msim__lane *l, msim_time limit, msim__evq_fired *out)
{
    msim__evq_entry *top = &q->heap[0];
    while (l->len && !entry_live(q, lane_front(l)))
        lane_pop_front(l);
    if (!l->len) {
        l->in_heap = false;
        pop_top(q);
        return 0;
    }
    msim__evq_entry f = *lane_front(l);
    if (f.time != top->time || f.seq != top->seq) {
        top->time = f.time;
        top->seq = f.seq;
        sift_down(q->heap, q->len, 0);
        return 0;
    }
    if (f.time >= limit) return -1;
    lane_pop_front(l);
    fire(q, &f, out);
    if (l->len) {
        top->time = lane_front(l)->time;
        top->seq = lane_front(l)->seq;
        sift_down(q->heap, q->len, 0);
    } else {
        l->in_heap = false;
        pop_top(q);
    }
    return 1;
}

bool msim__evq_pop(msim__evq *q, msim_time limit, msim__evq_fired *out)
{
    while (q->len) {
        msim__evq_entry top = q->heap[0];
        if (is_token(&top)) {
            int rc = pop_lane(q, &q->lanes[top.slot & ~MSIM__LANE_TOKEN], limit, out);
            if (rc) return rc > 0;
            continue;
        }
        if (!entry_live(q, &top)) {
            pop_top(q);
            q->heap_dead--;
            continue;
        }
        if (top.time >= limit) return false;
        pop_top(q);
        q->heap_live--;
        fire(q, &top, out);
        return true;
    }
    return false;
}
