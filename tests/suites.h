/* suites.h — every suite of the test binary; main.c lists them in order. Each
 * suite is a NULL-terminated array of test_case in its own file. */
#ifndef METASIM_TESTS_SUITES_H
#define METASIM_TESTS_SUITES_H

#include "harness.h"

extern const test_case eventq_tests[];      /* unit/eventq.c */
extern const test_case units_tests[];       /* unit/units.c */
extern const test_case dist_tests[];        /* unit/dist.c */
extern const test_case hist_tests[];        /* unit/hist.c */
extern const test_case oscillation_tests[]; /* unit/oscillation.c */
extern const test_case engine_tests[];      /* unit/engine.c: retries, triggers, ledger */
extern const test_case balancer_tests[];    /* unit/balancer.c: pick policies, health checks, panic, ejection, CDN */
extern const test_case mitigations_tests[]; /* unit/mitigations.c: budgets, throttles, breakers, hedging */
extern const test_case admission_tests[];   /* unit/admission.c: limits, CoDel, LIFO, shedding */
extern const test_case memory_tests[];      /* unit/memory.c: heaps, GC stretch, out of memory */
extern const test_case calls_tests[];       /* unit/calls.c: call graphs, amplification across layers */
extern const test_case torture_tests[];     /* unit/torture.c: allocation failures */
extern const test_case theory_tests[];      /* theory.c: queueing theory through CIs */
extern const test_case determinism_tests[]; /* determinism.c */
extern const test_case golden_tests[];      /* golden.c: tests/cases/NNNN-name/ */
extern const test_case analysis_tests[];    /* analysis.c: sets, sweeps, search, compare, diagnose */
extern const test_case published_tests[];   /* published.c: Brooker's collapse, OSDI'22 retry case */
extern const test_case cache_tests[];       /* unit/cache.c: LRU + TTL, Zipf, fills, coalescing, flush */
extern const test_case jobqueue_tests[];    /* unit/jobqueue.c: policies' order, pools, SLO accounting */
extern const test_case autoscaler_tests[];  /* unit/autoscaler.c: HPA arithmetic, windows, policies, warm-up, drain */
extern const test_case channel_tests[];     /* unit/channel.c: gRPC backoff, re-resolution, redeploys, max age, the storm */
extern const test_case examples_tests[];    /* examples.c: every example scenario, verdict asserted */

#endif
