/* units.c — the human units of scenario values, and their canonical printing. */
#include <string.h>

#include "../suites.h"
#include "../../src/scenario/load.h"

static void durations(test_ctx *t)
{
    static const struct {
        const char *text;
        msim_time ns;
    } ok[] = {
        {"250ms", 250 * MSIM_MS}, {"1.5s", 1500 * MSIM_MS},  {"10m", 600 * MSIM_SEC},
        {"2h", 7200 * MSIM_SEC},  {"1m30s", 90 * MSIM_SEC},  {"100us", 100 * MSIM_US},
        {"100µs", 100 * MSIM_US}, {"7ns", 7},                {"0", 0},
        {" 3 s ", 3 * MSIM_SEC},  {"1d", 86400 * MSIM_SEC},  {"2min", 120 * MSIM_SEC},
        {"-5s", -5 * MSIM_SEC},   {"0.5ms", 500 * MSIM_US},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        msim_time v = -1;
        CHECK_MSG(msim__parse_duration(ok[i].text, &v) == 0 && v == ok[i].ns, "\"%s\" -> %lld",
                  ok[i].text, (long long)v);
    }
    static const char *const bad[] = {"", "5", "fast", "5 parsecs", "1e400s", "0x10s", "inf s", "s", "5ms7"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        msim_time v;
        CHECK_MSG(msim__parse_duration(bad[i], &v) != 0, "\"%s\" accepted", bad[i]);
    }
}

static void rates_fractions_factors(test_ctx *t)
{
    double v;
    CHECK(msim__parse_rate("950/s", &v) == 0 && v == 950);
    CHECK(msim__parse_rate("57k/m", &v) == 0 && fabs(v - 950) < 1e-9);
    CHECK(msim__parse_rate("1.2M/h", &v) == 0 && fabs(v - 1.2e6 / 3600) < 1e-9);
    CHECK(msim__parse_rate("100", &v) == 0 && v == 100);
    CHECK(msim__parse_rate("5/ms", &v) == 0 && v == 5000);
    CHECK(msim__parse_rate("5/parsec", &v) != 0);
    CHECK(msim__parse_rate("/s", &v) != 0);
    CHECK(msim__parse_fraction("25%", &v) == 0 && v == 0.25);
    CHECK(msim__parse_fraction("0.5", &v) == 0 && v == 0.5);
    CHECK(msim__parse_fraction("half", &v) != 0);
    CHECK(msim__parse_factor("2x", &v) == 0 && v == 2);
    CHECK(msim__parse_factor("50%", &v) == 0 && v == 0.5);
    CHECK(msim__parse_factor("0.2", &v) == 0 && v == 0.2);
    int64_t i;
    CHECK(msim__parse_int("42", &i) == 0 && i == 42);
    CHECK(msim__parse_int("4.5", &i) != 0);
    bool b;
    CHECK(msim__parse_bool("yes", &b) == 0 && b);
    CHECK(msim__parse_bool("off", &b) == 0 && !b);
    CHECK(msim__parse_bool("maybe", &b) != 0);
}

/* Printing a duration and reading it back gives the same value. */
static void duration_round_trip(test_ctx *t)
{
    msim_rng rng;
    msim_rng_seed(&rng, 3);
    for (int i = 0; i < 10000; i++) {
        msim_time v = (msim_time)(msim_rng_next(&rng) >> (msim_rng_next(&rng) % 40 + 20));
        char buf[64];
        msim_time back;
        msim__format_duration(buf, sizeof buf, v);
        CHECK_MSG(msim__parse_duration(buf, &back) == 0 && back == v, "%lld -> \"%s\" -> %lld",
                  (long long)v, buf, (long long)back);
    }
    char buf[64];
    CHECK(strcmp(msim__format_duration(buf, sizeof buf, 600 * MSIM_SEC), "10m") == 0);
    CHECK(strcmp(msim__format_duration(buf, sizeof buf, 250 * MSIM_MS), "250ms") == 0);
    CHECK(strcmp(msim__format_duration(buf, sizeof buf, MSIM_NEVER), "none") == 0);
}

/* Sizes: decimal and binary units; printing reads back to the same value. */
static void sizes(test_ctx *t)
{
    static const struct {
        const char *text;
        double bytes;
    } ok[] = {
        {"256MiB", 268435456.0}, {"2MB", 2e6}, {"512KiB", 524288.0}, {"100B", 100},
        {"4096", 4096},          {"1.5 GiB", 1.5 * 1073741824.0},  {"3kB", 3000},
        {"1TB", 1e12},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        double v = -1, back = -1;
        char buf[64];
        CHECK_MSG(msim__parse_bytes(ok[i].text, &v) == 0 && v == ok[i].bytes, "\"%s\" -> %g",
                  ok[i].text, v);
        msim__format_bytes(buf, sizeof buf, v);
        CHECK_MSG(msim__parse_bytes(buf, &back) == 0 && back == v, "%g -> \"%s\"", v, buf);
    }
    static const char *const bad[] = {"", "MB", "5 parsecs", "2mb", "1e400B", "3MBs"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        double v;
        CHECK_MSG(msim__parse_bytes(bad[i], &v) != 0, "\"%s\" accepted", bad[i]);
    }
    char buf[64];
    CHECK(strcmp(msim__format_bytes(buf, sizeof buf, 268435456.0), "256MiB") == 0);
    CHECK(strcmp(msim__format_bytes(buf, sizeof buf, 2e6), "2MB") == 0);
    CHECK(strcmp(msim__format_bytes(buf, sizeof buf, 0), "0B") == 0);
}

static void nearest_key(test_ctx *t)
{
    const char *keys[] = {"max_attempts", "retry_on", "backoff"};
    CHECK(strcmp(msim_nearest("max_attempt", keys, 3), "max_attempts") == 0);
    CHECK(strcmp(msim_nearest("retryon", keys, 3), "retry_on") == 0);
    CHECK(strcmp(msim_nearest("bakoff", keys, 3), "backoff") == 0);
    CHECK(msim_nearest("zzz", keys, 3) == NULL);
}

const test_case units_tests[] = {
    {"units_durations", durations, TIER_QUICK},
    {"units_rates_fractions_factors", rates_fractions_factors, TIER_QUICK},
    {"units_duration_round_trip", duration_round_trip, TIER_QUICK},
    {"units_sizes", sizes, TIER_QUICK},
    {"units_nearest_key", nearest_key, TIER_QUICK},
    {NULL, NULL, 0},
};
