/* batch.c — a pool of threads working through numbered jobs.
 *
 * Jobs are claimed in index order from a shared counter; each writes its
 * output into its own slot, so nothing depends on which thread ran it or
 * when. The pool is the only place in metasim with threads.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "set.h"

typedef struct pool {
    msim__job_fn job;
    void *ctx;
    size_t n;
    atomic_size_t next;
    atomic_bool stop;
    pthread_mutex_t lock; /* guards the error below */
    size_t failed_at;
    msim_error err;
} pool;

static void *worker(void *arg)
{
    pool *p = arg;
    for (;;) {
        size_t i = atomic_fetch_add(&p->next, 1);
        if (i >= p->n || atomic_load(&p->stop)) return NULL;
        msim_error err = {0};
        int rc = p->job(p->ctx, i, &err);
        if (!rc) continue;
        if (!err.code) err.code = rc;
        pthread_mutex_lock(&p->lock);
        if (i < p->failed_at) {
            p->failed_at = i;
            p->err = err;
        }
        pthread_mutex_unlock(&p->lock);
        atomic_store(&p->stop, true);
    }
}

unsigned msim_processors(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1;
}

int msim__batch(size_t n, unsigned threads, msim__job_fn job, void *ctx, msim_error *err)
{
    pool p = {.job = job, .ctx = ctx, .n = n, .failed_at = SIZE_MAX};
    atomic_init(&p.next, 0);
    atomic_init(&p.stop, false);
    pthread_mutex_init(&p.lock, NULL);
    if (threads == 0) threads = msim_processors();
    if (threads > n) threads = n ? (unsigned)n : 1;
    pthread_t *tid = calloc(threads, sizeof *tid);
    unsigned started = 0;
    /* the calling thread is worker 0; extra threads are helpers */
    for (unsigned t = 1; tid && t < threads; t++)
        if (pthread_create(&tid[t], NULL, worker, &p) == 0) started++;
        else break;
    worker(&p);
    for (unsigned t = 1; t <= started; t++)
        pthread_join(tid[t], NULL);
    free(tid);
    pthread_mutex_destroy(&p.lock);
    if (p.failed_at == SIZE_MAX) return 0;
    if (err) *err = p.err;
    return p.err.code;
}
