/* sim.h — the inside of a run (struct msim_sim), shared by the engine's files.
 *
 * Nothing here is API: components see msim_sim only through include/. The run
 * owns everything it allocates through an arena (one-shot allocations) and
 * pools (requests, attempts), all released in one step at the end.
 */
#ifndef METASIM_SIM_H
#define METASIM_SIM_H

#include <stdbool.h>
#include <stdint.h>

#include "metasim.h"
#include "eventq.h"
#include "metasim/hist.h"

/* ---- arena: one-shot allocations released together ------------------------ */
typedef struct msim__arena_chunk msim__arena_chunk;
typedef struct msim__arena {
    msim__arena_chunk *head;
    msim_allocator alloc;
    size_t total;
} msim__arena;

void *msim__arena_alloc(msim__arena *a, size_t size);
char *msim__arena_strdup(msim__arena *a, const char *s);
void msim__arena_free(msim__arena *a);

/* ---- metrics state ----------------------------------------------------------- */
typedef struct msim__col {
    uint32_t comp;   /* component index */
    const char *name;
    const char *unit;
    msim_role role;
    msim_agg agg;
} msim__col;

typedef struct msim__gauge_state {
    double value, area, max;
    double total; /* area of the closed windows (value x ns), for msim_gauge_area */
    msim_time since;
    uint32_t mean_col, max_col;
} msim__gauge_state;

typedef struct msim__latency_state {
    msim_hist window;               /* this window only */
    msim_hist phase[MSIM_PHASE_COUNT];
    uint32_t col_p50, col_p90, col_p99, col_max, col_sum, col_n;
    uint32_t comp;
    msim_role role;
    const char *name;
} msim__latency_state;

typedef struct msim__metrics {
    msim__col *cols;
    uint32_t ncols, cap_cols;
    msim__gauge_state *gauges;
    uint32_t ngauges, cap_gauges;
    msim__latency_state *lats;
    uint32_t nlats, cap_lats;
    double *table; /* nwin x ncols, row-major */
    uint32_t nwin;
    uint32_t win;  /* current window index */
    bool frozen;   /* no registration after start */
} msim__metrics;

/* ---- synchronous sends in progress (msim_send), innermost first ----------- */
typedef struct msim__send_frame {
    const msim_attempt *a;
    bool answered;
    struct msim__send_frame *outer;
} msim__send_frame;

/* ---- one active trigger ------------------------------------------------------ */
typedef struct msim__trigger_state {
    const msim_trigger_cfg *cfg;
    bool active;
} msim__trigger_state;

struct msim_sim {
    msim_time now;
    msim_time horizon;
    msim_time window;
    msim_time next_tick; /* end of the current metric window */
    double *row;         /* current window's row in the metrics table */
    msim__evq q;

    uint64_t seed, replica;
    const msim_scenario *sc;
    msim_allocator alloc;
    msim__arena arena;

    msim_component **comps;
    uint32_t ncomps;
    msim__trigger_state *trig;
    uint32_t ntrig;
    msim_time first_trigger, last_trigger_end, warmup_end;

    msim_pool *requests;
    msim_pool *attempts;
    msim__send_frame *sending;
    msim__metrics m;

    /* conservation ledger */
    uint64_t req_started, req_ok, req_failed, req_inflight;
    uint64_t att_created, att_alive, att_peak;
    uint64_t events;

    const msim_run_options *opt;

    int fail_code;
    char fail_msg[256];
};

/* metrics.c */
int msim__metrics_start(msim_sim *sim);
void msim__metrics_window_end(msim_sim *sim, msim_time t0, msim_time t1);
void msim__metrics_free(msim_sim *sim);
msim_phase msim__phase_of(const msim_sim *sim, msim_time t0, msim_time t1);
/* The phase of window [t0, t1) given the warm-up end and the trigger span
 * (first == MSIM_NEVER: no triggers). One rule for the engine and the analysis. */
msim_phase msim__phase_for(msim_time t0, msim_time t1, msim_time warmup_end, msim_time first,
                           msim_time last_end);

/* result.c */
int msim__result_from_sim(const msim_sim *sim, msim_result **out);

/* pool.c */
void msim__pools_free(msim_sim *sim);

/* Debug-build invariant checks after each event (MSIM_DEBUG). */
void msim__check_invariants(msim_sim *sim, msim_time prev);

#endif
