/* request.c — requests and attempts: allocation, the conservation ledger, and
 * movement through the network between components.
 *
 * The network is a delay per hop: the sender's link distribution plus any
 * latency a trigger put on the target's hops. A zero delay delivers at once,
 * by a direct call, which saves an event per hop in the common case.
 */
#include <string.h>

#include "sim.h"

msim_request *msim_request_new(msim_sim *sim, msim_component *origin)
{
    msim_request *r = msim_pool_get(sim->requests);
    if (!r) {
        msim_fail(sim, -MSIM_ENOMEM, "out of memory allocating a request");
        return NULL;
    }
    *r = (msim_request){.start = sim->now, .deadline = MSIM_NEVER, .origin = origin};
    sim->req_started++;
    sim->req_inflight++;
    return r;
}

void msim_request_finish(msim_sim *sim, msim_request *r, int ok)
{
    if (ok)
        sim->req_ok++;
    else
        sim->req_failed++;
    sim->req_inflight--;
    msim_pool_put(sim->requests, r);
}

msim_attempt *msim_attempt_new(msim_sim *sim, msim_request *req, msim_component *from,
                               msim_component *to)
{
    msim_attempt *a = msim_pool_get(sim->attempts);
    if (!a) {
        msim_fail(sim, -MSIM_ENOMEM, "out of memory allocating an attempt");
        return NULL;
    }
    /* Field by field: a memset or a compound literal becomes `rep stos`, whose
     * start-up cost made this function 6% of a retry storm's run time. */
    _Static_assert(sizeof(void *) != 8 || sizeof(msim_attempt) == 120,
                   "a new field of msim_attempt must be initialised here");
    a->req = req;
    a->from = from;
    a->to = to;
    a->expires = MSIM_NEVER;
    a->timeout = a->done = MSIM_NO_TIMER;
    a->ctx = a->hctx = NULL;
    a->slot = a->number = 0;
    a->status = a->flags = a->state = a->cls = 0;
    a->enqueued = a->started = a->due = a->work = 0;
    a->prev = a->next = NULL;
    sim->att_created++;
    if (++sim->att_alive > sim->att_peak) sim->att_peak = sim->att_alive;
    return a;
}

void msim_attempt_free(msim_sim *sim, msim_attempt *a)
{
    sim->att_alive--;
    msim_pool_put(sim->attempts, a);
}

uint64_t msim_attempts_alive(const msim_sim *sim)
{
    return sim->att_alive;
}

/* One hop's delay from a's sender to its target or back. */
static msim_time hop_delay(msim_attempt *a)
{
    msim_component *from = a->from;
    msim_time d = a->to->hop_extra;
    if (from->link) d += msim_dist_sample(from->link, &from->net_rng);
    return d;
}

static void arrive(msim_sim *sim, void *obj, uint64_t arg)
{
    (void)arg;
    msim_attempt *a = obj;
    a->flags |= MSIM_AF_ARRIVED;
    a->to->kind->accept(sim, a->to, a);
}

bool msim_send(msim_sim *sim, msim_attempt *a)
{
    a->flags = 0;
    msim_time d = hop_delay(a);
    if (d > 0) {
        msim_after(sim, d, arrive, a, 0);
        return true;
    }
    /* Deliver at once; a frame on the stack records whether the target
     * answered before returning (sends may nest: a retry inside a response). */
    msim__send_frame frame = {a, false, sim->sending};
    sim->sending = &frame;
    arrive(sim, a, 0);
    sim->sending = frame.outer;
    return !frame.answered;
}

/* Note a synchronous answer to an attempt whose msim_send is still running. */
static void mark_answered(msim_sim *sim, const msim_attempt *a)
{
    for (msim__send_frame *f = sim->sending; f; f = f->outer)
        if (f->a == a) {
            f->answered = true;
            return;
        }
}

/* Work nobody waited for: charge it to the target and release the attempt. */
static void waste(msim_sim *sim, msim_attempt *a)
{
    if (a->work > 0) msim_count(sim, a->to->m_wasted, msim_time_to_s(a->work));
    msim_attempt_free(sim, a);
}

static void response_arrives(msim_sim *sim, void *obj, uint64_t arg)
{
    (void)arg;
    msim_attempt *a = obj;
    a->flags &= (uint8_t)~MSIM_AF_RETURNING;
    if (!a->req) {
        waste(sim, a); /* the sender gave up while the response travelled */
        return;
    }
    a->from->kind->on_response(sim, a->from, a);
}

void msim_respond(msim_sim *sim, msim_attempt *a, msim_status status)
{
    a->status = (uint8_t)status;
    a->flags &= (uint8_t)~MSIM_AF_ARRIVED;
    if (!a->req) {
        waste(sim, a);
        return;
    }
    msim_time d = hop_delay(a);
    if (d <= 0) {
        mark_answered(sim, a);
        a->from->kind->on_response(sim, a->from, a);
    } else {
        a->flags |= MSIM_AF_RETURNING;
        msim_after(sim, d, response_arrives, a, 0);
    }
}

void msim_drop(msim_sim *sim, msim_attempt *a)
{
    a->flags &= (uint8_t)~MSIM_AF_ARRIVED;
    if (!a->req) {
        waste(sim, a);
        return;
    }
    /* Nobody will ever see a response: whatever work it got is wasted now. */
    if (a->work > 0) msim_count(sim, a->to->m_wasted, msim_time_to_s(a->work));
    a->work = 0;
    a->flags |= MSIM_AF_DROPPED; /* released when its sender times out */
}

void msim_abandon(msim_sim *sim, msim_attempt *a)
{
    a->req = NULL;
    if (a->flags & MSIM_AF_DROPPED) {
        msim_attempt_free(sim, a);
        return;
    }
    if ((a->flags & MSIM_AF_ARRIVED) && a->to->kind->on_abandon)
        a->to->kind->on_abandon(sim, a->to, a);
}
