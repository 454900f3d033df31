/* registry.c — the built-in component kinds, in the order scenarios list their
 * sections and `metasim list` prints them. A new kind is one row here. */
#include <string.h>

#include "metasim.h"

extern const msim_kind msim_client_kind;
extern const msim_kind msim_service_kind;
extern const msim_kind msim_balancer_kind;
extern const msim_kind msim_cache_kind;
extern const msim_kind msim_jobqueue_kind;
extern const msim_kind msim_channel_kind;
extern const msim_kind msim_autoscaler_kind;

/* Instances are set up in this order: a balancer reads its services' replica
 * counts in init, so services come first. */
static const msim_kind *const kinds[] = {
    &msim_client_kind,
    &msim_service_kind,
    &msim_balancer_kind,
    &msim_cache_kind,
    &msim_jobqueue_kind,
    &msim_channel_kind, /* after services: it reads replica counts in init */
    &msim_autoscaler_kind, /* last: it reads its target's load in init */
};

const msim_kind *const *msim_kinds(size_t *count)
{
    *count = sizeof kinds / sizeof kinds[0];
    return kinds;
}

const msim_kind *msim_kind_find(const char *name)
{
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(kinds[i]->name, name) == 0) return kinds[i];
    return NULL;
}
