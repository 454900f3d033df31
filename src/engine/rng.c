/* rng.c — seeding and deriving random streams.
 *
 * A stream's seed is a hash of (master seed, replica, component name,
 * purpose). Hashing names rather than numbering streams in creation order is
 * what keeps a component's draws unchanged when another component is added or
 * a variant changes an unrelated setting (common random numbers).
 */
#include <string.h>

#include "sim.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t mix(uint64_t h, uint64_t v)
{
    uint64_t x = h ^ v;
    return splitmix64(&x);
}

/* FNV-1a over the bytes of a name, then mixed. */
static uint64_t hash_name(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; s && *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ull;
    }
    return mix(h, 0x5bd1e995ull);
}

void msim_rng_seed(msim_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
    if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3])) r->s[0] = 1; /* all-zero is a fixed point */
}

uint64_t msim_stream_seed(uint64_t master, uint64_t replica, const char *component,
                          const char *purpose)
{
    uint64_t h = mix(master, 0x6d657461u);
    h = mix(h, replica);
    h = mix(h, hash_name(component));
    return mix(h, hash_name(purpose));
}

msim_rng msim_stream(const msim_sim *sim, const char *component, const char *purpose)
{
    msim_rng r;
    msim_rng_seed(&r, msim_stream_seed(sim->seed, sim->replica, component, purpose));
    return r;
}

uint64_t msim_seed(const msim_sim *sim)
{
    return sim->seed;
}

uint64_t msim_replica(const msim_sim *sim)
{
    return sim->replica;
}
