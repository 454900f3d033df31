/* format.c — numbers and times for people (terminal) and programs (files). */
#include <math.h>
#include <stdio.h>

#include "format.h"

const char *msim__fmt_count(char *buf, size_t size, double v)
{
    double a = fabs(v);
    if (isnan(v))
        snprintf(buf, size, "-");
    else if (a >= 1e9)
        snprintf(buf, size, "%.3gG", v / 1e9);
    else if (a >= 1e6)
        snprintf(buf, size, "%.3gM", v / 1e6);
    else if (a >= 1e4)
        snprintf(buf, size, "%.3gk", v / 1e3);
    else if (a >= 100 || v == floor(v))
        snprintf(buf, size, "%.0f", v);
    else if (a < 0.01)
        snprintf(buf, size, "%s0.01", v < 0 ? ">-" : "<");
    else
        snprintf(buf, size, "%.3g", v);
    return buf;
}

const char *msim__fmt_secs(char *buf, size_t size, double s)
{
    if (isnan(s))
        snprintf(buf, size, "-");
    else if (s == 0)
        snprintf(buf, size, "0s");
    else if (s < 1e-3)
        snprintf(buf, size, "%.3gus", s * 1e6);
    else if (s < 1)
        snprintf(buf, size, "%.3gms", s * 1e3);
    else if (s < 60)
        snprintf(buf, size, "%.3gs", s);
    else if (s < 3600) {
        int m = (int)(s / 60);
        double rest = s - 60 * m;
        if (rest < 0.5)
            snprintf(buf, size, "%dm", m);
        else
            snprintf(buf, size, "%dm%.0fs", m, rest);
    } else {
        int h = (int)(s / 3600), m = (int)((s - 3600 * h) / 60);
        snprintf(buf, size, m ? "%dh%dm" : "%dh", h, m);
    }
    return buf;
}

const char *msim__fmt_pct(char *buf, size_t size, double f)
{
    if (isnan(f))
        snprintf(buf, size, "-");
    else if (f != 0 && fabs(f) < 0.01)
        snprintf(buf, size, "%.1f%%", 100 * f);
    else
        snprintf(buf, size, "%.0f%%", 100 * f);
    return buf;
}

const char *msim__fmt_num(char *buf, size_t size, double v)
{
    if (v == 0) v = 0; /* no "-0" */
    if (isnan(v) || isinf(v))
        buf[0] = '\0';
    else if (v == floor(v) && fabs(v) < 1e15)
        snprintf(buf, size, "%.0f", v);
    else
        snprintf(buf, size, "%.9g", v);
    return buf;
}
