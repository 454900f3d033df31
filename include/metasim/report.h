/* metasim/report.h — turning a result into something a person or a program
 * reads: the terminal summary with its chart, summary.json, timeseries.csv.
 *
 * Every writer here is deterministic: the same result gives the same bytes.
 * Wall-clock figures appear only in the terminal summary, never in files.
 * Files are written atomically (a temporary file renamed into place), so a
 * crash never leaves a half-written output.
 */
#ifndef METASIM_REPORT_H
#define METASIM_REPORT_H

#include <stdio.h>

#include "analysis.h"
#include "param.h"
#include "result.h"

typedef struct msim_text_options {
    int chart_width;   /* columns of the terminal chart; 0: default (60) */
    int chart_height;  /* rows; 0: default (8) */
    int no_chart;
    int color;         /* ANSI colour for the verdict line */
} msim_text_options;

/* The terminal summary. */
void msim_report_text(const msim_result *r, const msim_text_options *opt, msim_buf *out);

/* summary.json: scenario, verdict, signals, figures per phase, ledger. */
void msim_report_json(const msim_result *r, msim_buf *out);

/* timeseries.csv, tidy: window,t_start_s,t_end_s,phase,component,kind,metric,unit,value. */
void msim_report_csv(const msim_result *r, msim_buf *out);

/* Write buf to path atomically (temp file, fsync, rename). */
int msim_write_file_atomic(const char *path, const msim_buf *buf, msim_error *err);

/* Create dir if needed and write summary.json and timeseries.csv into it. */
int msim_write_outputs(const msim_result *r, const char *dir, msim_error *err);

/* Create dir if needed and write n named buffers into it, each atomically. */
int msim_write_dir_files(const char *dir, const char *const *names, const msim_buf *const *bufs,
                         size_t n, msim_error *err);

/* ---- replica sets ---- */

/* The terminal summary of a replica set: verdict probabilities with Wilson
 * intervals, recovery times, figures as medians with p10-p90, the median run. */
void msim_report_set_text(const msim_set *s, const msim_text_options *opt, msim_buf *out);

/* summary.json of a replica set ("format": "metasim-replicas/1"). */
void msim_report_set_json(const msim_set *s, msim_buf *out);

/* timeseries.csv of a replica set: window,t_start_s,t_end_s,series,unit,p10,p50,p90. */
void msim_report_set_csv(const msim_set *s, msim_buf *out);

int msim_write_set_outputs(const msim_set *s, const char *dir, msim_error *err);

/* ---- sweeps ---- */

/* A sweep in the terminal: a table for one parameter, a phase map of
 * P(metastable) for two. */
void msim_report_sweep_text(const msim_sweep_result *res, const char *dir, msim_buf *out);

/* ---- comparisons, diagnoses, searches ---- */

void msim_report_comparison_text(const msim_comparison *c, msim_buf *out);
void msim_report_comparison_json(const msim_comparison *c, msim_buf *out);
void msim_report_search_text(const msim_search_result *r, const char *path, msim_verdict_kind v,
                             double level, msim_buf *out);
void msim_report_search_json(const msim_search_result *r, const char *path, msim_verdict_kind v,
                             double level, msim_buf *out);

#endif
