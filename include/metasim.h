/* metasim.h — the public contract of libmetasim.
 *
 * metasim finds metastable failures in request/response systems: load a
 * scenario (metasim/scenario.h), run it (metasim/result.h: msim_run), read the
 * verdict and write reports (metasim/report.h). Component kinds are written
 * against the SDK in metasim/component.h, metasim/request.h, metasim/engine.h
 * and metasim/metrics.h, exactly as the built-in ones are.
 *
 * Conventions: functions return 0 or a negative MSIM_E* code and fill an
 * msim_error; nothing calls exit(); there is no global mutable state, so runs
 * may proceed in parallel threads.
 */
#ifndef METASIM_H
#define METASIM_H

#include "metasim/base.h"
#include "metasim/engine.h"
#include "metasim/dist.h"
#include "metasim/param.h"
#include "metasim/metrics.h"
#include "metasim/hist.h"
#include "metasim/request.h"
#include "metasim/component.h"
#include "metasim/scenario.h"
#include "metasim/result.h"
#include "metasim/report.h"
#include "metasim/analysis.h"

#endif
