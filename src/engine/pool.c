/* pool.c — the run's memory: an arena for one-shot allocations and fixed-size
 * object pools for requests and attempts.
 *
 * Both draw from the run's allocator and are released together when the run
 * ends, so components never free what they set up in init, and the event loop
 * never calls the allocator once the pools have grown to the run's peak.
 */
#include <string.h>

#include "sim.h"

struct msim__arena_chunk {
    msim__arena_chunk *next;
    size_t size, used;
    _Alignas(16) unsigned char data[];
};

#define ARENA_CHUNK (64 * 1024)

void *msim__arena_alloc(msim__arena *a, size_t size)
{
    size = (size + 15) & ~(size_t)15;
    msim__arena_chunk *c = a->head;
    if (!c || c->size - c->used < size) {
        size_t cap = size > ARENA_CHUNK ? size : ARENA_CHUNK;
        c = a->alloc.realloc(a->alloc.ud, NULL, sizeof *c + cap);
        if (!c) return NULL;
        c->size = cap;
        c->used = 0;
        /* A big allocation gets its own chunk behind the head, so the head's
         * free space stays usable for small ones. */
        if (a->head && cap == size) {
            c->next = a->head->next;
            a->head->next = c;
        } else {
            c->next = a->head;
            a->head = c;
        }
        a->total += cap;
    }
    void *p = c->data + c->used;
    c->used += size;
    memset(p, 0, size);
    return p;
}

char *msim__arena_strdup(msim__arena *a, const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = msim__arena_alloc(a, n);
    if (p) memcpy(p, s, n);
    return p;
}

void msim__arena_free(msim__arena *a)
{
    msim__arena_chunk *c = a->head;
    while (c) {
        msim__arena_chunk *next = c->next;
        a->alloc.realloc(a->alloc.ud, c, 0);
        c = next;
    }
    a->head = NULL;
    a->total = 0;
}

void *msim_arena_alloc(msim_sim *sim, size_t size)
{
    return msim__arena_alloc(&sim->arena, size);
}

/* ---- pools ---------------------------------------------------------------- */

typedef struct free_obj {
    struct free_obj *next;
} free_obj;

struct msim_pool {
    msim_sim *sim;
    size_t size;           /* object size, rounded to 8 (our objects hold
                              nothing wider than a pointer or a double) */
    free_obj *free;
    unsigned char *carve;  /* next unused object in the newest chunk */
    size_t carve_left;     /* objects left there */
    size_t next_chunk;     /* objects in the next chunk (doubles, capped) */
};

msim_pool *msim_pool_new(msim_sim *sim, size_t object_size)
{
    msim_pool *p = msim_arena_alloc(sim, sizeof *p);
    if (!p) return NULL;
    p->sim = sim;
    p->size = (object_size + 7) & ~(size_t)7;
    if (p->size < sizeof(free_obj)) p->size = sizeof(free_obj);
    p->next_chunk = 256;
    return p;
}

void *msim_pool_get(msim_pool *p)
{
    void *obj;
    if (p->free) {
        obj = p->free;
        p->free = p->free->next;
    } else {
        if (!p->carve_left) {
            p->carve = msim_arena_alloc(p->sim, p->size * p->next_chunk);
            if (!p->carve) return NULL;
            p->carve_left = p->next_chunk;
            if (p->next_chunk < 65536) p->next_chunk *= 2;
        }
        obj = p->carve;
        p->carve += p->size;
        p->carve_left--;
    }
    return obj;
}

void msim_pool_put(msim_pool *p, void *obj)
{
    free_obj *f = obj;
    f->next = p->free;
    p->free = f;
}
