/* ref-fisher.c — double-precision references of the Fisher ops. */
#include "ref.h"

#include <math.h>

void
dfx_ref_dftm_div (double *out, const float *x0, const float *m, double sigma, double cmin, double cmax, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        double c = (double) m[i] - (double) x0[i] * x0[i];
        c = c < cmin ? cmin : (c > cmax ? cmax : c);
        out[i] = 1.0 - c / (sigma * sigma);
    }
}

void
dfx_ref_ratio_moment (double *out, const float *m, const float *x0, double sigma, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = (double) x0[i] * x0[i] + sigma * sigma * (double) m[i];
}

void
dfx_ref_adam (double *z, const float *g, double *m, double *v, size_t n, double lr, double b1, double b2, double eps,
              unsigned t)
{
    const double c1 = 1.0 / (1.0 - pow (b1, t)), c2 = 1.0 / (1.0 - pow (b2, t));
    for (size_t i = 0; i < n; i++) {
        m[i] = b1 * m[i] + (1.0 - b1) * g[i];
        v[i] = b2 * v[i] + (1.0 - b2) * (double) g[i] * g[i];
        z[i] -= lr * c1 * m[i] / (sqrt (c2 * v[i]) + eps);
    }
}
