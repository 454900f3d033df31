/* format.h — number and time formatting shared by the report writers (not API). */
#ifndef METASIM_FORMAT_H
#define METASIM_FORMAT_H

#include <stddef.h>

#include "metasim.h"

/* 950, 12.3k, 4.56M; "-" for NaN. */
const char *msim__fmt_count(char *buf, size_t size, double v);

/* 9.1ms, 1.5s, 2m20s; "-" for NaN. */
const char *msim__fmt_secs(char *buf, size_t size, double seconds);

/* 12%, 0.3%; "-" for NaN. */
const char *msim__fmt_pct(char *buf, size_t size, double fraction);

/* A JSON-safe or CSV-safe number: %.9g, or "" for NaN. */
const char *msim__fmt_num(char *buf, size_t size, double v);

/* files.c: write n bytes to fd, retrying short writes; 0 or -1. */
int msim__write_all(int fd, const char *p, size_t n);

/* files.c: write summary.json and timeseries.csv into dir, then free both. */
int msim__write_summary_pair(const char *dir, msim_buf *json, msim_buf *csv, msim_error *err);

#endif
