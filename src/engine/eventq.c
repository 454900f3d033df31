/* eventq.c — a 4-ary heap of nodes, FIFO lanes, and a small heap of lane
 * fronts (see eventq.h for the why).
 *
 * Invariants: every live heap event's node has the gen of its one heap entry;
 * a lane is in the lane heap exactly when it holds entries (live or
 * cancelled), and the lane heap is ordered by each lane's current front entry
 * — fronts only move forward, and a lane whose front moves is re-sifted at
 * once.
 */
#include "eventq.h"

#include <string.h>

#define ARITY 4

/* Growth and compaction are rare: out of line, they leave the push and pop
 * paths short. */
#if defined(__GNUC__)
#define RARE __attribute__((noinline, cold))
#else
#define RARE
#endif

static bool key_before(msim_time ta, uint64_t sa, msim_time tb, uint64_t sb)
{
    return ta < tb || (ta == tb && sa < sb);
}

static bool entry_before(const msim__evq_entry *a, const msim__evq_entry *b)
{
    return key_before(a->time, a->seq, b->time, b->seq);
}

static RARE void *grow(msim_allocator al, void *p, size_t *cap, size_t elem, size_t min_cap)
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

static void lane_free(msim__evq *q, msim__lane *l);

void msim__evq_free(msim__evq *q)
{
    for (uint32_t i = 0; i < q->nlanes; i++)
        lane_free(q, &q->lanes[i]);
    void *arrays[] = {q->lanes, q->lheap, q->heap, q->nodes};
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++)
        if (arrays[i]) q->alloc.realloc(q->alloc.ud, arrays[i], 0);
    memset(q, 0, sizeof *q);
}

/* ---- the main heap ------------------------------------------------------------- */

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

/* Drop dead entries and rebuild the heap in O(n). Called when dead entries
 * outnumber live ones, so its cost is amortised over the cancellations. */
static RARE void compact(msim__evq *q)
{
    size_t j = 0;
    for (size_t i = 0; i < q->len; i++)
        if (entry_live(q, &q->heap[i])) q->heap[j++] = q->heap[i];
    q->len = j;
    q->heap_dead = 0;
    for (size_t i = q->len / ARITY + 1; i-- > 0;)
        if (i < q->len) sift_down(q->heap, q->len, i);
}

static void pop_top(msim__evq *q)
{
    q->heap[0] = q->heap[--q->len];
    if (q->len) sift_down(q->heap, q->len, 0);
}

/* ---- nodes --------------------------------------------------------------------- */

static uint32_t node_get(msim__evq *q)
{
    if (q->free_head) {
        uint32_t slot = q->free_head - 1;
        q->free_head = q->nodes[slot].next_free;
        return slot;
    }
    if (q->nnodes == q->cap_nodes) {
        size_t cap = q->cap_nodes;
        if (cap >= MSIM__LANE_HANDLE / 2) return UINT32_MAX;
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
    n->next_free = q->free_head;
    q->free_head = slot + 1;
}

msim_timer msim__evq_push(msim__evq *q, msim_time t, msim_event_fn fn, void *obj, uint64_t arg)
{
    if (q->heap_dead > q->heap_live + 4096) compact(q);
    if (q->len == q->cap) {
        void *np = grow(q->alloc, q->heap, &q->cap, sizeof *q->heap, 1024);
        if (!np) return MSIM_NO_TIMER;
        q->heap = np;
    }
    uint32_t slot = node_get(q);
    if (slot == UINT32_MAX) return MSIM_NO_TIMER;
    msim__evq_node *n = &q->nodes[slot];
    bump_gen(n);
    n->fn = fn;
    n->obj = obj;
    n->arg = arg;
    q->heap[q->len] = (msim__evq_entry){t, q->next_seq++, slot, n->gen};
    sift_up(q->heap, q->len++);
    q->heap_live++;
    q->live++;
    return (msim_timer){slot + 1, n->gen};
}

/* ---- lanes --------------------------------------------------------------------- */

static msim__lane_entry *lane_at(msim__lane *l, uint64_t abs)
{
    uint64_t block = abs >> MSIM__LANE_BLOCK_BITS;
    return &l->blocks[block & (l->nblocks - 1)][abs & (MSIM__LANE_BLOCK - 1)];
}

static msim__lane_entry *lane_front(msim__lane *l)
{
    return l->front;
}

static bool lane_before(msim__evq *q, uint32_t a, uint32_t b)
{
    const msim__lane_entry *x = lane_front(&q->lanes[a]), *y = lane_front(&q->lanes[b]);
    return key_before(x->time, x->seq, y->time, y->seq);
}

/* The lane heap is a binary heap of lane indices: lanes are few. */
static void lheap_sift_up(msim__evq *q, uint32_t i)
{
    uint32_t lane = q->lheap[i];
    while (i > 0 && lane_before(q, lane, q->lheap[(i - 1) / 2])) {
        q->lheap[i] = q->lheap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    q->lheap[i] = lane;
}

static void lheap_sift_down(msim__evq *q, uint32_t i)
{
    uint32_t lane = q->lheap[i], n = q->lheap_len;
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && lane_before(q, q->lheap[c + 1], q->lheap[c])) c++;
        if (!lane_before(q, q->lheap[c], lane)) break;
        q->lheap[i] = q->lheap[c];
        i = c;
    }
    q->lheap[i] = lane;
}

/* The top lane's front moved forward (or the lane emptied): restore order. */
static void lheap_fix_top(msim__evq *q)
{
    msim__lane *l = &q->lanes[q->lheap[0]];
    if (l->len == 0) {
        l->hpos = UINT32_MAX;
        q->lheap[0] = q->lheap[--q->lheap_len];
        if (q->lheap_len == 0) return;
    }
    lheap_sift_down(q, 0);
}

uint32_t msim__evq_lane_new(msim__evq *q)
{
    if (q->nlanes == q->cap_lanes) {
        size_t cap = q->cap_lanes, cap2 = q->cap_lanes;
        void *np = grow(q->alloc, q->lanes, &cap, sizeof *q->lanes, 8);
        if (!np) return UINT32_MAX;
        q->lanes = np;
        void *nh = grow(q->alloc, q->lheap, &cap2, sizeof *q->lheap, 8);
        if (!nh) return UINT32_MAX;
        q->lheap = nh;
        q->cap_lanes = (uint32_t)cap;
    }
    if (q->nlanes >= MSIM__LANE_HANDLE - 1) return UINT32_MAX;
    memset(&q->lanes[q->nlanes], 0, sizeof q->lanes[0]);
    q->lanes[q->nlanes].hpos = UINT32_MAX;
    q->lanes[q->nlanes].last = -MSIM_NEVER;
    return q->nlanes++;
}

/* A lane owns the blocks from its front's to its last entry's — and its
 * front's block even when empty, unless the front sits at a block start (that
 * block was released when the front reached it). */
static void lane_free(msim__evq *q, msim__lane *l)
{
    bool at_start = (l->head & (MSIM__LANE_BLOCK - 1)) == 0;
    if (l->nblocks && (l->len || !at_start)) {
        uint64_t first = l->head >> MSIM__LANE_BLOCK_BITS;
        uint64_t last = (l->len ? l->head + l->len - 1 : l->head) >> MSIM__LANE_BLOCK_BITS;
        for (uint64_t b = first; b <= last; b++)
            q->alloc.realloc(q->alloc.ud, l->blocks[b & (l->nblocks - 1)], 0);
    }
    if (l->spare) q->alloc.realloc(q->alloc.ud, l->spare, 0);
    if (l->blocks) q->alloc.realloc(q->alloc.ud, l->blocks, 0);
}

/* Make room for the block of absolute index `abs` (a new block starts there):
 * grow the pointer ring if the lane would span more blocks than it has slots,
 * then give the slot a block (the spare, or a new one). */
static RARE int lane_add_block(msim__evq *q, msim__lane *l, uint64_t abs)
{
    uint64_t first = l->head >> MSIM__LANE_BLOCK_BITS, block = abs >> MSIM__LANE_BLOCK_BITS;
    if (l->len == 0) first = block;
    if (block - first + 1 > l->nblocks) {
        uint32_t n = l->nblocks ? l->nblocks * 2 : 4;
        msim__lane_entry **nb = q->alloc.realloc(q->alloc.ud, NULL, n * sizeof *nb);
        if (!nb) return -1;
        for (uint64_t b = first; b < block; b++) /* re-place by absolute block index */
            nb[b & (n - 1)] = l->blocks[b & (l->nblocks - 1)];
        if (l->blocks) q->alloc.realloc(q->alloc.ud, l->blocks, 0);
        l->blocks = nb;
        l->nblocks = n;
    }
    msim__lane_entry *e = l->spare;
    l->spare = NULL;
    if (!e) e = q->alloc.realloc(q->alloc.ud, NULL, MSIM__LANE_BLOCK * sizeof *e);
    if (!e) return -1;
    l->blocks[block & (l->nblocks - 1)] = e;
    return 0;
}

/* The front moved past the end of its block: release the block. */
static void lane_drop_block(msim__evq *q, msim__lane *l, uint64_t old_head)
{
    msim__lane_entry *e = l->blocks[(old_head >> MSIM__LANE_BLOCK_BITS) & (l->nblocks - 1)];
    if (!l->spare)
        l->spare = e;
    else
        q->alloc.realloc(q->alloc.ud, e, 0);
}

/* Remove the front entry; a front leaving its block releases the block. */
static void lane_pop_front(msim__evq *q, msim__lane *l)
{
    uint64_t old = l->head++;
    l->len--;
    l->front++;
    if ((l->head & (MSIM__LANE_BLOCK - 1)) == 0) {
        lane_drop_block(q, l, old);
        if (l->len) l->front = lane_at(l, l->head); /* the next block exists: it holds entries */
    }
}

msim_timer msim__evq_lane_push(msim__evq *q, uint32_t lane, msim_time t, msim_event_fn fn,
                               void *obj, uint64_t arg)
{
    msim__lane *l = &q->lanes[lane];
    if (t < l->last) return msim__evq_push(q, t, fn, obj, arg);
    uint64_t abs = l->head + l->len;
    if ((abs & (MSIM__LANE_BLOCK - 1)) == 0) {
        if (lane_add_block(q, l, abs)) return MSIM_NO_TIMER;
        l->back = lane_at(l, abs);
    }
    if (l->len++ == 0) l->front = l->back;
    *l->back++ = (msim__lane_entry){t, q->next_seq++, fn, obj, arg};
    l->last = t;
    q->live++;
    if (l->hpos == UINT32_MAX) { /* the lane was empty: it joins the lane heap */
        l->hpos = q->lheap_len;
        q->lheap[q->lheap_len++] = lane;
        lheap_sift_up(q, q->lheap_len - 1);
    }
    return (msim_timer){MSIM__LANE_HANDLE | lane, (uint32_t)abs};
}

/* The entry a lane handle names, if it is still in its lane. */
static msim__lane_entry *lane_entry(const msim__evq *q, msim_timer h)
{
    uint32_t lane = h.slot & ~MSIM__LANE_HANDLE;
    if (lane >= q->nlanes) return NULL;
    msim__lane *l = &q->lanes[lane];
    uint32_t off = h.gen - (uint32_t)l->head;
    if (off >= l->len) return NULL;
    return lane_at(l, l->head + off);
}

/* ---- handles ----------------------------------------------------------------------- */

bool msim__evq_pending(const msim__evq *q, msim_timer h)
{
    if (h.slot & MSIM__LANE_HANDLE) {
        const msim__lane_entry *e = lane_entry(q, h);
        return e && e->fn != NULL;
    }
    return h.slot != 0 && h.slot <= q->nnodes && q->nodes[h.slot - 1].gen == h.gen &&
           q->nodes[h.slot - 1].fn != NULL;
}

bool msim__evq_cancel(msim__evq *q, msim_timer *h)
{
    if (h->slot & MSIM__LANE_HANDLE) {
        msim__lane_entry *e = lane_entry(q, *h);
        bool was = e && e->fn != NULL;
        if (was) {
            e->fn = NULL; /* skipped when it reaches the front */
            q->live--;
        }
        *h = MSIM_NO_TIMER;
        return was;
    }
    bool was = msim__evq_pending(q, *h);
    if (was) {
        node_release(q, h->slot - 1);
        q->heap_live--;
        q->heap_dead++;
        q->live--;
    }
    *h = MSIM_NO_TIMER;
    return was;
}

/* ---- popping ------------------------------------------------------------------------ */

/* The lane holding the earliest live lane event, cancelled fronts skipped. */
static msim__lane *lane_top(msim__evq *q)
{
    while (q->lheap_len) {
        msim__lane *l = &q->lanes[q->lheap[0]];
        if (lane_front(l)->fn) return l;
        while (l->len && !lane_front(l)->fn)
            lane_pop_front(q, l);
        lheap_fix_top(q);
    }
    return NULL;
}

bool msim__evq_pop(msim__evq *q, msim_time limit, msim__evq_fired *out)
{
    while (q->len && !entry_live(q, &q->heap[0])) {
        pop_top(q);
        q->heap_dead--;
    }
    msim__lane *l = lane_top(q);
    if (l) {
        msim__lane_entry *f = lane_front(l);
        if (!q->len || key_before(f->time, f->seq, q->heap[0].time, q->heap[0].seq)) {
            if (f->time >= limit) return false;
            *out = (msim__evq_fired){f->time, f->fn, f->obj, f->arg};
            lane_pop_front(q, l);
            q->live--;
            /* the next entries are due soon: bring their objects into cache */
            if (l->len > 4) __builtin_prefetch(lane_at(l, l->head + 4)->obj);
            lheap_fix_top(q);
            return true;
        }
    }
    if (!q->len || q->heap[0].time >= limit) return false;
    msim__evq_entry top = q->heap[0];
    pop_top(q);
    msim__evq_node *n = &q->nodes[top.slot];
    *out = (msim__evq_fired){top.time, n->fn, n->obj, n->arg};
    node_release(q, top.slot);
    q->heap_live--;
    q->live--;
    return true;
}
