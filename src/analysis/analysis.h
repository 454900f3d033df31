/* analysis.h — shared by the files of src/analysis (not API). */
#ifndef METASIM_ANALYSIS_INTERNAL_H
#define METASIM_ANALYSIS_INTERNAL_H

#include "metasim.h"

/* Key figures over windows [w0, w1); lat: the latency histogram of the same
 * span (NULL: none). */
msim_figures msim__figures(const msim_result *r, uint32_t w0, uint32_t w1, const msim_hist *lat);

/* Add the sustaining signals visible in `now` compared with `base`. */
void msim__signals(msim_verdict *v, const msim_figures *now, const msim_figures *base);

/* Add signals about client-side mitigations over windows [w0, w1): a retry
 * budget that refused many retries, a breaker that stayed open, requests
 * failed fast (roles RETRIES_DENIED, BREAKER_OPEN, FAST_FAILED). */
void msim__mitigation_signals(msim_verdict *v, const msim_result *r, uint32_t w0, uint32_t w1);

#endif
