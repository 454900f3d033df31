/* units.c — the human units of scenario values.
 *
 *   durations  250ms  1.5s  10m  2h  1m30s  100us  0      (ns us µs ms s m min h d)
 *   rates      950/s  57k/m  1.2M/h  950                  (a bare number is per second)
 *   fractions  0.25  25%
 *   factors    0.5  2x  50%
 *   sizes      256MiB  2MB  512KiB  100B  4096         (a bare number is bytes)
 *
 * Parsers return 0 on success and -1 when the text is not of the form; range
 * checks are the binder's, which knows the parameter.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "load.h"

/* A finite number at the start of s; *end points after it. Rejects inf/nan
 * and hex, which strtod would take. */
static int leading_number(const char *s, double *out, const char **end)
{
    const char *p = s;
    if (*p == '+' || *p == '-') p++;
    if (!isdigit((unsigned char)*p) && !(*p == '.' && isdigit((unsigned char)p[1]))) return -1;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) return -1;
    char *e;
    double v = strtod(s, &e);
    if (e == s || !isfinite(v)) return -1;
    *out = v;
    *end = e;
    return 0;
}

static const char *skip_space(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

static int all_space(const char *s)
{
    return *skip_space(s) == '\0';
}

int msim__parse_number(const char *s, double *out)
{
    const char *end;
    if (leading_number(skip_space(s), out, &end)) return -1;
    return all_space(end) ? 0 : -1;
}

int msim__parse_int(const char *s, int64_t *out)
{
    double v;
    if (msim__parse_number(s, &v) || v != floor(v) || fabs(v) > 9007199254740992.0) return -1;
    *out = (int64_t)v;
    return 0;
}

int msim__parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"true", "yes", "on"}, *const no[] = {"false", "no", "off"};
    for (int i = 0; i < 3; i++) {
        if (strcmp(s, yes[i]) == 0) return *out = true, 0;
        if (strcmp(s, no[i]) == 0) return *out = false, 0;
    }
    return -1;
}

typedef struct unit {
    const char *name;
    msim_time ns;
} unit;

static const unit time_units[] = {
    {"ns", MSIM_NS}, {"us", MSIM_US},        {"\xc2\xb5s", MSIM_US}, {"ms", MSIM_MS},
    {"s", MSIM_SEC}, {"sec", MSIM_SEC},      {"m", 60 * MSIM_SEC},  {"min", 60 * MSIM_SEC},
    {"h", 3600 * MSIM_SEC}, {"d", 86400 * MSIM_SEC},
};

/* Longest unit name matching at s. */
static const unit *match_unit(const char *s, size_t *len)
{
    const unit *best = NULL;
    size_t best_len = 0;
    for (size_t i = 0; i < sizeof time_units / sizeof time_units[0]; i++) {
        size_t n = strlen(time_units[i].name);
        if (n > best_len && strncmp(s, time_units[i].name, n) == 0 &&
            !isalpha((unsigned char)s[n])) {
            best = &time_units[i];
            best_len = n;
        }
    }
    *len = best_len;
    return best;
}

int msim__parse_duration(const char *s, msim_time *out)
{
    s = skip_space(s);
    double total = 0;
    int parts = 0;
    while (*s) {
        double v;
        const char *end;
        if (leading_number(s, &v, &end)) return -1;
        size_t ulen;
        const unit *u = match_unit(skip_space(end), &ulen);
        if (!u) {
            /* a bare 0 needs no unit; anything else does */
            if (parts == 0 && v == 0 && all_space(end)) return *out = 0, 0;
            return -1;
        }
        total += v * (double)u->ns;
        s = skip_space(skip_space(end) + ulen);
        parts++;
    }
    if (!parts || !(fabs(total) < 9.2e18)) return -1;
    *out = (msim_time)llround(total);
    return 0;
}

/* A number with an optional k/M/G multiplier. */
static int scaled_number(const char *s, double *out, const char **end)
{
    if (leading_number(s, out, end)) return -1;
    switch (**end) {
    case 'k': *out *= 1e3; (*end)++; break;
    case 'M': *out *= 1e6; (*end)++; break;
    case 'G': *out *= 1e9; (*end)++; break;
    default: break;
    }
    return 0;
}

int msim__parse_rate(const char *s, double *per_second)
{
    const char *end;
    double v;
    if (scaled_number(skip_space(s), &v, &end)) return -1;
    end = skip_space(end);
    if (*end == '\0') return *per_second = v, 0;
    if (*end != '/') return -1;
    end = skip_space(end + 1);
    size_t ulen;
    const unit *u = match_unit(end, &ulen);
    if (!u || !all_space(end + ulen)) return -1;
    *per_second = v * (double)MSIM_SEC / (double)u->ns;
    return 0;
}

/* A number with an optional "%" (divided by 100) or, if allowed, "x". */
static int number_with_suffix(const char *s, double *out, bool allow_x)
{
    const char *end;
    double v;
    if (leading_number(skip_space(s), &v, &end)) return -1;
    end = skip_space(end);
    if (*end == '%') {
        v /= 100;
        end++;
    } else if (allow_x && *end == 'x') {
        end++;
    }
    if (!all_space(end)) return -1;
    *out = v;
    return 0;
}

int msim__parse_fraction(const char *s, double *out)
{
    return number_with_suffix(s, out, false);
}

int msim__parse_factor(const char *s, double *out)
{
    return number_with_suffix(s, out, true);
}

/* Decimal (kB, MB, GB, TB) and binary (KiB, MiB, GiB, TiB) sizes: a JVM's
 * -Xmx256m is 256MiB. */
static const struct {
    const char *name;
    double bytes;
} size_units[] = {
    {"TiB", 1099511627776.0}, {"GiB", 1073741824.0}, {"MiB", 1048576.0}, {"KiB", 1024.0},
    {"TB", 1e12},             {"GB", 1e9},           {"MB", 1e6},        {"kB", 1e3},
    {"KB", 1e3},              {"B", 1},
};

int msim__parse_bytes(const char *s, double *out)
{
    const char *end;
    double v;
    if (leading_number(skip_space(s), &v, &end)) return -1;
    end = skip_space(end);
    double scale = 1;
    for (size_t i = 0; *end && i < sizeof size_units / sizeof size_units[0]; i++) {
        size_t n = strlen(size_units[i].name);
        if (strncmp(end, size_units[i].name, n) == 0 && all_space(end + n)) {
            scale = size_units[i].bytes;
            end += n;
            break;
        }
    }
    if (!all_space(end)) return -1;
    *out = v * scale;
    return 0;
}

const char *msim__format_bytes(char *buf, size_t size, double bytes)
{
    for (size_t i = 0; i < sizeof size_units / sizeof size_units[0]; i++) {
        double q = bytes / size_units[i].bytes;
        if (bytes != 0 && q >= 1 && q == floor(q) && q < 1e15) {
            snprintf(buf, size, "%.15g%s", q, size_units[i].name);
            return buf;
        }
    }
    snprintf(buf, size, "%.15gB", bytes);
    return buf;
}

const char *msim__format_duration(char *buf, size_t size, msim_time t)
{
    static const unit exact[] = {{"h", 3600 * MSIM_SEC}, {"m", 60 * MSIM_SEC}, {"s", MSIM_SEC},
                                 {"ms", MSIM_MS},        {"us", MSIM_US},      {"ns", MSIM_NS}};
    if (t == MSIM_NEVER) return snprintf(buf, size, "none"), buf;
    if (t == 0) return snprintf(buf, size, "0s"), buf;
    msim_time mag = t < 0 ? -t : t;
    /* the largest unit that divides it exactly, if that reads well ... */
    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++) {
        if (mag % exact[i].ns == 0 && mag / exact[i].ns < 100000) {
            snprintf(buf, size, "%lld%s", (long long)(t / exact[i].ns), exact[i].name);
            return buf;
        }
    }
    /* ... else a decimal of the largest unit below it */
    const unit *u = mag >= MSIM_SEC ? &exact[2] : mag >= MSIM_MS ? &exact[3] : &exact[4];
    snprintf(buf, size, "%.15g%s", (double)t / (double)u->ns, u->name);
    return buf;
}

const char *msim__format_rate(char *buf, size_t size, double per_second)
{
    snprintf(buf, size, "%.15g/s", per_second);
    return buf;
}
