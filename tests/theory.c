/* theory.c — the simulator checked against queueing theory.
 *
 * Each test builds a system whose steady state has a closed form (M/M/1,
 * M/M/c, M/M/1/K, M/D/1 and M/G/1, a closed network solved by exact MVA, and
 * the arithmetic of retries on independent errors), runs it on independent
 * replicas of one fixed seed, discards a warm-up, and asserts that the
 * theoretical value lies inside the 99% confidence interval of the replicas'
 * estimates. Every run is also checked against Little's law.
 *
 * What these tests are not: they do not compare against the simulator's own
 * past output (the golden cases do that), and no tolerance here was tuned to
 * make a test pass — each interval comes from the replicas, and each fixed
 * allowance says why it has the size it has.
 *
 * Every formula is checked in the quick tier (fewer, shorter replicas: the
 * quick tier also runs under the sanitizers); the `_full` variants repeat them
 * with six times the simulated time, for intervals 2.5 to 3 times narrower
 * (about 1% of the value or less). Each assertion is a 99% interval, so a
 * test making k of them fails by chance with probability about k%: a failure
 * after a change to the random streams deserves a look at its numbers (run
 * with MSIM_THEORY_VERBOSE=1 to print every comparison), never a new seed
 * picked until it passes.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "suites.h"

/* ---- how much to simulate ------------------------------------------------------ */

enum { MAX_REPS = 24, MAX_EST = 4 };

typedef struct plan {
    uint32_t reps;  /* independent replicas (0 .. reps-1) */
    double seconds; /* simulated horizon of each, whole seconds (windows of 1 s) */
    uint32_t warm;  /* windows discarded at the start */
} plan;

/* The warm-up: the slowest relaxation below (the M/M/1 at rho 0.8) takes about
 * 1 / (mu (1 - sqrt rho)^2) = 0.9 s (Morse 1955), so 20 s leaves the initial
 * empty state far behind. */
static const plan QUICK = {10, 1000, 20};
static const plan FULL = {20, 3000, 20};

/* Every run ends with DRAIN seconds without arrivals (a load trigger with
 * factor 0), left out of the estimates: the system is empty at both ends of
 * the run, which makes Little's law exact over the whole run (see below). */
enum { DRAIN = 5 };

/* One quantity measured on every replica, and its theoretical value. */
typedef struct estimate {
    const char *name;
    double theory;
    double x[MAX_REPS];
} estimate;

/* Fill out[] with one replica's estimates from windows [w0, w1). */
typedef void (*measure_fn)(const msim_result *r, uint32_t w0, uint32_t w1, double *out);

static int verbose(void)
{
    const char *v = getenv("MSIM_THEORY_VERBOSE");
    return v && *v && strcmp(v, "0") != 0;
}

/* ---- reading a run ---------------------------------------------------------------- */

static double window_s(const msim_result *r, uint32_t w)
{
    msim_time a = (msim_time)w * r->window, b = a + r->window;
    return msim_time_to_s((b < r->horizon ? b : r->horizon) - a);
}

static double span_s(const msim_result *r, uint32_t w0, uint32_t w1)
{
    double s = 0;
    for (uint32_t w = w0; w < w1; w++)
        s += window_s(r, w);
    return s;
}

/* Sum of component/metric over windows [w0, w1); NAN if the column is missing. */
static double sum_range(const msim_result *r, const char *component, const char *metric,
                        uint32_t w0, uint32_t w1)
{
    int c = msim_result_column(r, component, metric);
    return c < 0 ? NAN : msim_result_sum(r, c, w0, w1);
}

/* Time-weighted mean of a gauge over windows [w0, w1) (test_gauge_mean stops
 * only at the horizon; the drain must be left out). */
static double gauge_range(const msim_result *r, const char *component, const char *metric,
                          uint32_t w0, uint32_t w1)
{
    int c = msim_result_column(r, component, metric);
    if (c < 0) return NAN;
    double area = 0;
    for (uint32_t w = w0; w < w1; w++)
        area += msim_result_at(r, w, c) * window_s(r, w);
    return area / span_s(r, w0, w1);
}

/* Largest value of a column over windows [w0, w1), skipping empty (NAN) ones. */
static double max_range(const msim_result *r, const char *component, const char *metric,
                        uint32_t w0, uint32_t w1)
{
    int c = msim_result_column(r, component, metric);
    double m = c < 0 ? NAN : 0;
    for (uint32_t w = w0; c >= 0 && w < w1; w++)
        if (msim_result_at(r, w, c) > m) m = msim_result_at(r, w, c);
    return m;
}

/* Mean latency of the client's successful requests, seconds. */
static double mean_latency(const msim_result *r, uint32_t w0, uint32_t w1)
{
    return sum_range(r, "web", "latency_sum", w0, w1) /
           sum_range(r, "web", "latency_count", w0, w1);
}

/* ---- Little's law -------------------------------------------------------------------
 *
 * L = lambda W (Little 1961) is a sample-path identity up to edge terms. Over
 * windows [t0, t1), with N(t) the attempts in the service,
 *   integral of N dt - sum of the sojourns that end in [t0, t1) = A(t0) - A(t1),
 * where A(t) is the summed age of the attempts present at t: those present at
 * t0 bring sojourn from before t0, those present at t1 have not left yet.
 *
 * Over the whole run both edge terms vanish: the run starts empty and the
 * drain empties it before the horizon (checked: the last window's in_system
 * maximum is 0). There L T = sum of sojourns exactly, and the only allowance is
 * floating-point rounding: each sojourn is an integer count of ns turned into
 * seconds (relative error 1.1e-16 each, under 1e6 terms), the gauge areas are
 * exact integers below 2^53 until the final divisions: 1e-9 relative is more
 * than a hundred times the worst case.
 *
 * Over the measurement windows the edge terms are real, and heavy-tailed: A
 * grows like the square of the queue length (an M/D/1 replica once had a busy
 * period at t0 holding 34 attempts aged up to 0.3 s: A = 4.3 s, some sixty
 * times its mean), so a multiple of E[A] is no bound. But both terms are >= 0,
 * so the gap is at most max(A(t0), A(t1)) <= max(N(t0), N(t1)) x the longest
 * sojourn. N at a window's start is at most that window's in_system maximum
 * (the maximum starts from the level at the boundary), and every attempt that
 * departs here ends a successful request (no network delay, no timeouts),
 * whose latency (latency_max is exact) is at least its sojourn. The bound is
 * read from the run itself and needs no distributional assumption; in these
 * runs the observed gaps are below a quarter of it and below 1e-4 of L. */
static int little_range(test_ctx *t, const msim_result *r, uint32_t w0, uint32_t w1, double slack)
{
    double T = span_s(r, w0, w1);
    double L = gauge_range(r, "api", "in_system", w0, w1);
    double dep = sum_range(r, "api", "departures", w0, w1);
    double soj = sum_range(r, "api", "sojourn", w0, w1);
    double lambda = dep / T, W = soj / dep;
    double tol = slack / T + 1e-9 * L;
    if (dep > 0 && fabs(L - lambda * W) <= tol) return 0;
    test_fail(t, __FILE__, __LINE__,
              "Little's law, replica %llu, windows [%u, %u): L = %.9g, lambda W = %.6g x %.6g = "
              "%.9g, allowed gap %.3g",
              (unsigned long long)r->replica, w0, w1, L, lambda, W, lambda * W, tol);
    return -1;
}

static int check_little(test_ctx *t, const msim_result *r, uint32_t w0, uint32_t w1)
{
    double left = max_range(r, "api", "in_system_max", r->nwin - 1, r->nwin);
    if (left != 0) {
        test_fail(t, __FILE__, __LINE__, "replica %llu: %g attempts still held at the horizon",
                  (unsigned long long)r->replica, left);
        return -1;
    }
    if (little_range(t, r, 0, r->nwin, 0)) return -1;
    double n0 = max_range(r, "api", "in_system_max", w0, w0 + 1);
    double n1 = max_range(r, "api", "in_system_max", w1, w1 + 1);
    double longest = max_range(r, "web", "latency_max", 0, r->nwin);
    return little_range(t, r, w0, w1, (n0 > n1 ? n0 : n1) * longest);
}

/* ---- replicas and intervals ---------------------------------------------------------- */

/* Run `yaml` on p->reps replicas; est[k].x[i] gets estimate k of replica i,
 * measured after the warm-up and before the drain. Little's law is checked on
 * every run. */
static int replicate(test_ctx *t, const char *yaml, const plan *p, measure_fn fn, estimate *est,
                     size_t nest)
{
    for (uint32_t i = 0; i < p->reps && i < MAX_REPS; i++) {
        msim_result *r = test_run_text(t, yaml, NULL, 0, i);
        if (!r) return -1;
        uint32_t w1 = r->nwin - DRAIN;
        double out[MAX_EST];
        fn(r, p->warm, w1, out);
        for (size_t k = 0; k < nest; k++)
            est[k].x[i] = out[k];
        int rc = check_little(t, r, p->warm, w1);
        test_done(r);
        if (rc) return -1;
    }
    return 0;
}

/* Assert each theoretical value lies in the 99% interval of its estimates. */
static int check_estimates(test_ctx *t, const estimate *est, size_t nest, uint32_t reps)
{
    for (size_t k = 0; k < nest; k++) {
        double mean, half;
        test_ci99(est[k].x, reps, &mean, &half);
        if (verbose())
            printf("     %-34s theory %-11.6g sim %.6g +- %.3g (%.2f%%)\n", est[k].name,
                   est[k].theory, mean, half, 100 * half / fabs(est[k].theory));
        if (!(fabs(mean - est[k].theory) <= half)) {
            test_fail(t, __FILE__, __LINE__,
                      "%s: theory %.6g outside the 99%% interval %.6g +- %.3g (%u replicas)",
                      est[k].name, est[k].theory, mean, half, reps);
            return -1;
        }
    }
    return 0;
}

/* The scenario text for a plan: a common header, the system, and the drain. */
static void scenario(char *buf, size_t size, int seed, const plan *p, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

static void scenario(char *buf, size_t size, int seed, const plan *p, const char *fmt, ...)
{
    size_t n =
        (size_t)snprintf(buf, size, "seed: %d\nduration: %.0fs\nwindow: 1s\n", seed, p->seconds);
    va_list ap;
    va_start(ap, fmt);
    n += (size_t)vsnprintf(buf + n, size - n, fmt, ap);
    va_end(ap);
    snprintf(buf + n, size - n,
             "triggers:\n  - {kind: load, target: web, at: %.0fs, duration: %ds, factor: 0}\n",
             p->seconds - DRAIN, DRAIN);
}

/* An open-loop Poisson client `web` (no timeout, one attempt) in front of a
 * one-replica service `api`; the arguments fill the client rate, the workers,
 * the queue capacity and the service time. */
static const char OPEN_SYSTEM[] = "clients:\n"
                                  "  web:\n"
                                  "    target: api\n"
                                  "    arrival: poisson\n"
                                  "    rate: %.9g/s\n"
                                  "services:\n"
                                  "  api:\n"
                                  "    replicas: 1\n"
                                  "    workers: %d\n"
                                  "    queue: {capacity: %s}\n"
                                  "    service_time: %s\n";

/* ---- 1. M/M/1 ---------------------------------------------------------------------------
 *
 * Poisson arrivals at lambda, one exponential server at mu, rho = lambda/mu:
 *   W  = 1 / (mu - lambda)          mean response time
 *   Lq = rho^2 / (1 - rho)          mean number waiting
 * (Kleinrock, Queueing Systems vol. 1, 1975, §3.2; Gross & Harris §2.2.) */

static void measure_mm1(const msim_result *r, uint32_t w0, uint32_t w1, double *out)
{
    out[0] = mean_latency(r, w0, w1);
    out[1] = gauge_range(r, "api", "queue", w0, w1);
    out[2] = gauge_range(r, "api", "busy", w0, w1);
}

static void run_mm1(test_ctx *t, const plan *p)
{
    const double mu = 100, lambda = 80, rho = lambda / mu; /* 10 ms service, rho 0.8 */
    char yaml[1024];
    scenario(yaml, sizeof yaml, 101, p, OPEN_SYSTEM, lambda, 1, "unlimited",
             "exponential(mean=10ms)");
    estimate est[] = {
        {"M/M/1 W = 1/(mu-lambda) (s)", 1 / (mu - lambda), {0}},
        {"M/M/1 Lq = rho^2/(1-rho)", rho * rho / (1 - rho), {0}},
        {"M/M/1 utilisation = rho", rho, {0}},
    };
    if (replicate(t, yaml, p, measure_mm1, est, 3)) return;
    check_estimates(t, est, 3, p->reps);
}

static void test_mm1(test_ctx *t)
{
    run_mm1(t, &QUICK);
}

static void test_mm1_full(test_ctx *t)
{
    run_mm1(t, &FULL);
}

/* ---- 2. M/M/c ---------------------------------------------------------------------------
 *
 * c exponential servers at mu each, offered load a = lambda/mu < c. The
 * probability that an arrival waits is Erlang's C formula,
 *   C(c, a) = c B(c, a) / (c - a (1 - B(c, a))),
 * with Erlang B from the recursion B(0) = 1, B(k) = a B(k-1) / (k + a B(k-1)),
 * and the mean wait in queue is Wq = C / (c mu - lambda)
 * (Kleinrock vol. 1 §3.5; Gross & Harris §2.3; the recursion is the standard
 * stable way to evaluate B). By PASTA the share of arrivals that wait equals
 * C, so it is compared with queued / arrivals. Wq is the mean latency minus
 * the mean service time (10 ms). */

static double erlang_c(int c, double a)
{
    double b = 1;
    for (int k = 1; k <= c; k++)
        b = a * b / (k + a * b);
    return c * b / (c - a * (1 - b));
}

static void measure_mmc(const msim_result *r, uint32_t w0, uint32_t w1, double *out)
{
    out[0] = sum_range(r, "api", "queued", w0, w1) / sum_range(r, "api", "arrivals", w0, w1);
    out[1] = mean_latency(r, w0, w1) - 0.010;
    out[2] = gauge_range(r, "api", "queue", w0, w1);
}

static void run_mmc(test_ctx *t, const plan *p)
{
    const int c = 4;
    const double mu = 100, lambda = 300; /* rho = lambda / (c mu) = 0.75 */
    double C = erlang_c(c, lambda / mu), wq = C / (c * mu - lambda);
    char yaml[1024];
    scenario(yaml, sizeof yaml, 202, p, OPEN_SYSTEM, lambda, c, "unlimited",
             "exponential(mean=10ms)");
    estimate est[] = {
        {"M/M/4 P(wait) = Erlang C", C, {0}},
        {"M/M/4 Wq = C/(c mu - lambda) (s)", wq, {0}},
        {"M/M/4 Lq = lambda Wq", lambda * wq, {0}},
    };
    if (replicate(t, yaml, p, measure_mmc, est, 3)) return;
    check_estimates(t, est, 3, p->reps);
}

static void test_mmc(test_ctx *t)
{
    run_mmc(t, &QUICK);
}

static void test_mmc_full(test_ctx *t)
{
    run_mmc(t, &FULL);
}

/* ---- 3. M/M/1/K --------------------------------------------------------------------------
 *
 * One exponential server and room for K attempts in all (1 in service, K-1
 * waiting). The stationary law is truncated geometric, P_n proportional to
 * rho^n for n = 0..K, so an arrival (PASTA) is blocked with probability
 *   P_K = (1 - rho) rho^K / (1 - rho^(K+1))      (rho != 1)
 * and the mean number present is L = sum n P_n (Kleinrock vol. 1 §3.6; Gross &
 * Harris §2.5). Both hold for rho > 1 too, so a case above saturation is run
 * as well as one just below it, each with a K small enough that blocking is
 * material. */

static void mm1k(double rho, int K, double *block, double *mean_n)
{
    double norm = 0, first = 0, pn = 1;
    for (int n = 0; n <= K; n++, pn *= rho) {
        norm += pn;
        first += n * pn;
    }
    *block = (1 - rho) * pow(rho, K) / (1 - pow(rho, K + 1));
    *mean_n = first / norm;
}

static void measure_mm1k(const msim_result *r, uint32_t w0, uint32_t w1, double *out)
{
    out[0] = sum_range(r, "api", "rejected", w0, w1) / sum_range(r, "api", "arrivals", w0, w1);
    out[1] = gauge_range(r, "api", "in_system", w0, w1);
}

static void run_mm1k(test_ctx *t, const plan *p, double lambda, int K, int seed)
{
    const double mu = 100;
    double block, mean_n;
    mm1k(lambda / mu, K, &block, &mean_n);
    char yaml[1024], cap[32];
    snprintf(cap, sizeof cap, "%d", K - 1);
    scenario(yaml, sizeof yaml, seed, p, OPEN_SYSTEM, lambda, 1, cap, "exponential(mean=10ms)");
    estimate est[] = {
        {"M/M/1/K blocking P_K", block, {0}},
        {"M/M/1/K L = sum n P_n", mean_n, {0}},
    };
    if (verbose()) printf("     M/M/1/%d at rho %.3g\n", K, lambda / mu);
    if (replicate(t, yaml, p, measure_mm1k, est, 2)) return;
    check_estimates(t, est, 2, p->reps);
}

static void run_mm1k_both(test_ctx *t, const plan *p)
{
    run_mm1k(t, p, 95, 5, 303); /* rho 0.95, K 5: P_K = 0.146 */
    if (t->failed) return;
    run_mm1k(t, p, 125, 3, 304); /* rho 1.25, K 3: P_K = 0.339 */
}

static void test_mm1k(test_ctx *t)
{
    run_mm1k_both(t, &QUICK);
}

static void test_mm1k_full(test_ctx *t)
{
    run_mm1k_both(t, &FULL);
}

/* ---- 4. M/D/1 and M/G/1 -------------------------------------------------------------------
 *
 * Pollaczek-Khinchine: one server, Poisson arrivals, iid service S of any law,
 *   Wq = lambda E[S^2] / (2 (1 - rho)),   rho = lambda E[S]
 * (Kleinrock vol. 1 §5.7; Gross & Harris §5.1). Deterministic S = d has
 * E[S^2] = d^2. Lognormal(median m, sigma s) is exp(ln m + s Z), so
 * E[S] = m e^(s^2/2) and E[S^2] = m^2 e^(2 s^2). sigma = 1 gives a squared
 * coefficient of variation of e - 1 = 1.72, far enough from the exponential's
 * 1 that a sampler with the wrong shape shows. Wq is checked both as mean
 * latency minus E[S] and as Lq / lambda through Little (the `queue` gauge). */

static void measure_mg1(const msim_result *r, uint32_t w0, uint32_t w1, double *out)
{
    out[0] = mean_latency(r, w0, w1);
    out[1] = gauge_range(r, "api", "queue", w0, w1);
}

static void run_mg1(test_ctx *t, const plan *p, const char *service, double es, double es2,
                    int seed)
{
    const double lambda = 80;
    double rho = lambda * es, wq = lambda * es2 / (2 * (1 - rho));
    char yaml[1024];
    scenario(yaml, sizeof yaml, seed, p, OPEN_SYSTEM, lambda, 1, "unlimited", service);
    estimate est[] = {
        {"P-K W = E[S] + Wq (s)", es + wq, {0}},
        {"P-K Lq = lambda Wq", lambda * wq, {0}},
    };
    if (verbose()) printf("     %s at rho %.4g\n", service, rho);
    if (replicate(t, yaml, p, measure_mg1, est, 2)) return;
    check_estimates(t, est, 2, p->reps);
}

static void run_md1(test_ctx *t, const plan *p)
{
    run_mg1(t, p, "constant(value=10ms)", 0.010, 0.010 * 0.010, 404); /* rho 0.8 */
}

static void run_lognormal(test_ctx *t, const plan *p)
{
    const double m = 0.005, s = 1; /* rho = 80 x 8.24 ms = 0.66 */
    run_mg1(t, p, "lognormal(median=5ms, sigma=1)", m * exp(s * s / 2), m * m * exp(2 * s * s),
            405);
}

static void test_md1(test_ctx *t)
{
    run_md1(t, &QUICK);
}

static void test_md1_full(test_ctx *t)
{
    run_md1(t, &FULL);
}

static void test_mg1(test_ctx *t)
{
    run_lognormal(t, &QUICK);
}

static void test_mg1_full(test_ctx *t)
{
    run_lognormal(t, &FULL);
}

/* ---- 5. A closed network -------------------------------------------------------------------
 *
 * N users alternate an exponential think time of mean Z with a request to one
 * exponential single-server station of mean service S: the machine-repairman
 * model, a product-form network (BCMP 1975). Exact mean value analysis
 * (Reiser & Lavenberg 1980) gives, for n = 1..N from Q(0) = 0,
 *   R(n) = S (1 + Q(n-1)),   X(n) = n / (Z + R(n)),   Q(n) = X(n) R(n).
 * X(N) is compared with successes per second, R(N) with the mean latency. */

static void mva(int N, double S, double Z, double *X, double *R)
{
    double q = 0;
    for (int n = 1; n <= N; n++) {
        *R = S * (1 + q);
        *X = n / (Z + *R);
        q = *X * *R;
    }
}

static void measure_closed(const msim_result *r, uint32_t w0, uint32_t w1, double *out)
{
    out[0] = sum_range(r, "web", "successes", w0, w1) / span_s(r, w0, w1);
    out[1] = mean_latency(r, w0, w1);
}

static const char CLOSED_SYSTEM[] = "clients:\n"
                                    "  web:\n"
                                    "    target: api\n"
                                    "    arrival: closed\n"
                                    "    users: %d\n"
                                    "    think: exponential(mean=100ms)\n"
                                    "services:\n"
                                    "  api:\n"
                                    "    replicas: 1\n"
                                    "    workers: 1\n"
                                    "    service_time: exponential(mean=10ms)\n";

static void run_closed(test_ctx *t, const plan *p)
{
    /* N = 10 sits at the knee, N* = (S + Z) / S = 11, where MVA differs most
     * from both asymptotic bounds (X <= N / (S + Z) = 90.9/s and 1/S = 100/s). */
    const int N = 10;
    double X, R;
    mva(N, 0.010, 0.100, &X, &R);
    char yaml[1024];
    scenario(yaml, sizeof yaml, 505, p, CLOSED_SYSTEM, N);
    estimate est[] = {
        {"MVA X(N) (1/s)", X, {0}},
        {"MVA R(N) (s)", R, {0}},
    };
    if (replicate(t, yaml, p, measure_closed, est, 2)) return;
    check_estimates(t, est, 2, p->reps);
}

static void test_closed(test_ctx *t)
{
    run_closed(t, &QUICK);
}

static void test_closed_full(test_ctx *t)
{
    run_closed(t, &FULL);
}

/* ---- 7. Retry arithmetic -------------------------------------------------------------------
 *
 * Each attempt fails independently with probability p (the service's injected
 * errors) and is retried at once up to n attempts in all. The attempts a
 * request makes, A, are truncated geometric: P(A = k) = p^(k-1) (1 - p) for
 * k < n and P(A = n) = p^(n-1). So
 *   P(success) = 1 - p^n,   E[A] = (1 - p^n) / (1 - p)
 * (the geometric series), and Var A follows from the same law.
 *
 * With unlimited workers nobody waits, and an injected error is answered at
 * once, so a request's attempts, and its failure if it fails, are all counted
 * at its arrival instant, in its arrival window: the counts over any range of
 * windows belong to the same requests, with no edge effect. Given N requests,
 * failures are Binomial(N, p^n) and total attempts a sum of N iid A: both are
 * compared with their exact mean through the normal approximation (N is
 * 200,000 and more, N p^n in the thousands), |z| < 2.576 for 99%. The replicas are pooled: they
 * are independent, so their counts add. */

static const char RETRY_SYSTEM[] = "clients:\n"
                                   "  web:\n"
                                   "    target: api\n"
                                   "    rate: 500/s\n"
                                   "    retry: {max_attempts: %d, retry_on: [error]}\n"
                                   "services:\n"
                                   "  api:\n"
                                   "    workers: unlimited\n"
                                   "    errors: %d%%\n"
                                   "    service_time: exponential(mean=10ms)\n";

/* Mean and variance of the attempts per request. */
static void attempts_law(double p, int n, double *mean, double *var)
{
    double m1 = 0, m2 = 0;
    for (int k = 1; k <= n; k++) {
        double pk = pow(p, k - 1) * (k < n ? 1 - p : 1);
        m1 += k * pk;
        m2 += (double)k * k * pk;
    }
    *mean = m1;
    *var = m2 - m1 * m1;
}

static void measure_retry(const msim_result *r, uint32_t w0, uint32_t w1, double *out)
{
    out[0] = sum_range(r, "web", "offered", w0, w1);
    out[1] = sum_range(r, "web", "failed", w0, w1);
    out[2] = sum_range(r, "web", "attempts", w0, w1);
}

static int check_z(test_ctx *t, const char *what, double observed, double expected, double sd)
{
    double z = (observed - expected) / sd;
    if (verbose())
        printf("     %-32s theory %-12.6g sim %.6g (z = %+.2f)\n", what, expected, observed, z);
    if (fabs(z) < 2.576) return 0;
    test_fail(t, __FILE__, __LINE__, "%s: %.6g observed, %.6g expected (z = %.2f)", what, observed,
              expected, z);
    return -1;
}

static void run_retry(test_ctx *t, const plan *p, int percent, int n, int seed)
{
    double pe = percent / 100.0, q = pow(pe, n), ea, va;
    attempts_law(pe, n, &ea, &va);
    /* The law's mean is the closed form; a slip in attempts_law would show here. */
    CHECK_NEAR(ea, (1 - q) / (1 - pe), 1e-12);
    char yaml[1024];
    scenario(yaml, sizeof yaml, seed, p, RETRY_SYSTEM, n, percent);
    estimate est[3] = {{"offered", 0, {0}}, {"failed", 0, {0}}, {"attempts", 0, {0}}};
    if (verbose()) printf("     p = %.2f, n = %d\n", pe, n);
    if (replicate(t, yaml, p, measure_retry, est, 3)) return;
    double N = 0, F = 0, A = 0;
    for (uint32_t i = 0; i < p->reps; i++)
        N += est[0].x[i], F += est[1].x[i], A += est[2].x[i];
    if (check_z(t, "success = 1 - p^n", 1 - F / N, 1 - q, sqrt(q * (1 - q) / N))) return;
    check_z(t, "attempts/request = (1-p^n)/(1-p)", A / N, ea, sqrt(va / N));
}

/* Nothing queues, so a short warm-up does; the counts are what matter:
 * 200,000 requests per case in the quick tier put p^n within a few percent,
 * 3,000,000 in the full tier within one. */
static const plan RETRY_QUICK = {4, 100, 2};
static const plan RETRY_FULL = {10, 600, 2};

static void run_retry_both(test_ctx *t, const plan *p)
{
    run_retry(t, p, 30, 3, 701);
    if (t->failed) return;
    run_retry(t, p, 60, 4, 702);
}

static void test_retry(test_ctx *t)
{
    run_retry_both(t, &RETRY_QUICK);
}

static void test_retry_full(test_ctx *t)
{
    run_retry_both(t, &RETRY_FULL);
}

/* Little's law (6.) is checked inside every run above, by replicate(). */

const test_case theory_tests[] = {
    {"theory_mm1", test_mm1, TIER_QUICK},
    {"theory_mmc_erlang_c", test_mmc, TIER_QUICK},
    {"theory_mm1k_blocking", test_mm1k, TIER_QUICK},
    {"theory_md1_pollaczek_khinchine", test_md1, TIER_QUICK},
    {"theory_mg1_lognormal", test_mg1, TIER_QUICK},
    {"theory_closed_mva", test_closed, TIER_QUICK},
    {"theory_retry_arithmetic", test_retry, TIER_QUICK},
    {"theory_mm1_full", test_mm1_full, TIER_FULL},
    {"theory_mmc_erlang_c_full", test_mmc_full, TIER_FULL},
    {"theory_mm1k_blocking_full", test_mm1k_full, TIER_FULL},
    {"theory_md1_pollaczek_khinchine_full", test_md1_full, TIER_FULL},
    {"theory_mg1_lognormal_full", test_mg1_full, TIER_FULL},
    {"theory_closed_mva_full", test_closed_full, TIER_FULL},
    {"theory_retry_arithmetic_full", test_retry_full, TIER_FULL},
    {NULL, NULL, 0},
};
