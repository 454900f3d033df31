/* stats.c — the statistics of replica sets: Wilson intervals for the
 * probability of a verdict, quantiles over replicas (GSL). */
#include <math.h>
#include <stdlib.h>

#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include "metasim/analysis.h"

void msim_wilson(size_t k, size_t n, double *lo, double *hi)
{
    if (n == 0) {
        *lo = 0;
        *hi = 1;
        return;
    }
    const double z = 1.959963984540054; /* the 97.5th percentile of the normal */
    double p = (double)k / (double)n, nn = (double)n, z2 = z * z;
    double center = (p + z2 / (2 * nn)) / (1 + z2 / nn);
    double half = z / (1 + z2 / nn) * sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn));
    *lo = fmax(0, center - half);
    *hi = fmin(1, center + half);
    if (k == 0) *lo = 0; /* exact at the edges, not 1e-17 */
    if (k == n) *hi = 1;
}

double msim_quantile(double *v, size_t n, double q)
{
    if (n == 0) return NAN;
    gsl_sort(v, 1, n);
    return gsl_stats_quantile_from_sorted_data(v, 1, n, q);
}
