/* ref-eltwise.c — double-precision references of the elementwise ops. */
#include "ref.h"

#include <math.h>

void
dfx_ref_add (double *out, const float *a, const float *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = (double) a[i] + (double) b[i];
}

void
dfx_ref_mul (double *out, const float *a, const float *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = (double) a[i] * (double) b[i];
}

void
dfx_ref_axpy (double *y, double alpha, const float *x, const float *y0, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] = (double) y0[i] + alpha * (double) x[i];
}

void
dfx_ref_scale (double *out, double alpha, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = alpha * (double) x[i];
}

void
dfx_ref_silu (double *out, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = (double) x[i] / (1.0 + exp (-(double) x[i]));
}

double
dfx_ref_nmse (const float *x, const double *ref, size_t n)
{
    double num = 0.0, den = 0.0;
    for (size_t i = 0; i < n; i++) {
        double e = (double) x[i] - ref[i];
        num += e * e;
        den += ref[i] * ref[i];
    }
    return num / (den > 1e-300 ? den : 1e-300);
}
