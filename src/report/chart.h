/* chart.h — the terminal chart of goodput against offered load, with the
 * trigger marked under the time axis (not API). */
#ifndef METASIM_CHART_H
#define METASIM_CHART_H

#include "format.h"

typedef struct msim_chart {
    const msim_scenario *sc; /* for the trigger marks */
    msim_time horizon;
    uint32_t nwin;
    const double *goodput, *offered; /* per second, per window */
    int width, height;              /* 0: 64 x 8 */
} msim_chart;

void msim__chart(msim_buf *out, const msim_chart *c);

#endif
