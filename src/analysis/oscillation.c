/* oscillation.c — is a series swinging with a dominant period?
 *
 * The CDN incident behind this project "rang": health checks moved load from
 * one pool to another and back, and goodput swung with it long after the
 * trigger. We look for that in the post-trigger goodput series with the
 * autocorrelation function: past its first zero crossing, a periodic series
 * has a clear peak at its period; noise has only small ones. The swing must
 * also be large (amplitude) and still there at the end (a ringing that decays
 * is a recovery, not an oscillation).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metasim.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Half the spread between the 10th and 90th percentiles: robust to spikes. */
static double half_swing(const double *x, size_t n)
{
    double *s = malloc(n * sizeof *s);
    if (!s) return 0;
    memcpy(s, x, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_double);
    double lo = s[(size_t)(0.1 * (double)(n - 1))], hi = s[(size_t)(0.9 * (double)(n - 1) + 0.5)];
    free(s);
    return (hi - lo) / 2;
}

/* Biased autocorrelation r(k) = sum d_i d_(i+k) / sum d_i^2. */
static double autocorr(const double *x, size_t n, double mean, double denom, size_t k)
{
    double s = 0;
    for (size_t i = 0; i + k < n; i++)
        s += (x[i] - mean) * (x[i + k] - mean);
    return s / denom;
}

msim_oscillation msim_detect_oscillation(const double *x, size_t n, double min_amp,
                                         double min_corr)
{
    msim_oscillation res = {0, NAN, NAN, NAN};
    if (n < 8) return res;
    double mean = 0, denom = 0;
    for (size_t i = 0; i < n; i++)
        mean += x[i];
    mean /= (double)n;
    for (size_t i = 0; i < n; i++)
        denom += (x[i] - mean) * (x[i] - mean);
    if (denom <= 1e-12 * (double)n) return res;

    size_t maxlag = n / 2, k = 1;
    while (k <= maxlag && autocorr(x, n, mean, denom, k) >= 0)
        k++;
    if (k > maxlag) return res; /* never crosses zero: a trend, not a swing */
    size_t best = 0;
    double best_r = -1;
    for (; k <= maxlag; k++) {
        double r = autocorr(x, n, mean, denom, k);
        if (r > best_r) {
            best_r = r;
            best = k;
        }
    }
    if (best_r < min_corr) return res;

    /* refine the period by a parabola through the peak and its neighbours */
    double period = (double)best;
    if (best > 1 && best < maxlag) {
        double a = autocorr(x, n, mean, denom, best - 1), c = autocorr(x, n, mean, denom, best + 1);
        double curv = a - 2 * best_r + c;
        if (curv < 0) period += 0.5 * (a - c) / curv;
    }
    size_t tail = (size_t)ceil(2 * period);
    double amp = half_swing(x, n);
    if ((double)n < 2 * period || amp < min_amp || tail > n) return res;
    if (half_swing(x + n - tail, tail) < min_amp) return res; /* it died down */
    res = (msim_oscillation){1, period, amp, best_r};
    return res;
}
