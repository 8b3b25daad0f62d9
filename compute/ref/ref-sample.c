/* ref-sample.c — double-precision references of the sampling ops
 * (lincomb, spectral-pack, spectral-unpack, spectral-mix, ocm-step). */
#include "ref.h"

#include <math.h>

void
dfx_ref_lincomb (double *out, double alpha, const float *x, double beta, const float *y, double gamma, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = alpha * (double) x[i] + (y ? beta * (double) y[i] : 0.0) + gamma;
}

void
dfx_ref_spectral_pack (double *z, const float *x, const float *m, uint32_t batch, uint32_t channels, uint32_t np,
                       double alpha, double beta)
{
    for (uint32_t n = 0; n < batch; n++)
        for (uint32_t c = 0; c < channels; c++)
            for (uint32_t k = 0; k < np; k++) {
                size_t q = ((size_t) n * channels + c) * np + k;
                z[2 * q] = alpha * (double) x[q] + beta * (double) m[c];
                z[2 * q + 1] = 0.0;
            }
}

void
dfx_ref_spectral_unpack (double *x, const float *z, const float *m, uint32_t batch, uint32_t channels, uint32_t np,
                         double alpha, double beta)
{
    for (uint32_t n = 0; n < batch; n++)
        for (uint32_t c = 0; c < channels; c++)
            for (uint32_t k = 0; k < np; k++) {
                size_t q = ((size_t) n * channels + c) * np + k;
                x[q] = alpha * (double) z[2 * q] + beta * (double) m[c];
            }
}

void
dfx_ref_spectral_mix (double *out, const float *z, const float *a, uint32_t batch, uint32_t channels, uint32_t np)
{
    for (uint32_t n = 0; n < batch; n++)
        for (uint32_t k = 0; k < np; k++)
            for (uint32_t c = 0; c < channels; c++) {
                double re = 0.0, im = 0.0;
                for (uint32_t j = 0; j < channels; j++) {
                    const float *m = a + 2 * (((size_t) k * channels + c) * channels + j);
                    const float *v = z + 2 * (((size_t) n * channels + j) * np + k);
                    re += (double) m[0] * v[0] - (double) m[1] * v[1];
                    im += (double) m[0] * v[1] + (double) m[1] * v[0];
                }
                size_t q = ((size_t) n * channels + c) * np + k;
                out[2 * q] = re;
                out[2 * q + 1] = im;
            }
}

void
dfx_ref_ocm_step (double *out, const float *x, const float *x0, const float *m, const float *z, double a, double b,
                  double v0, double k, double cmax, double vmax, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        double e = x0[i], v = v0;
        if (k != 0.0) {
            double c = (double) m[i] - e * e;
            v += k * (c < 0.0 ? 0.0 : c > cmax ? cmax : c);
        }
        out[i] = a * e + b * (double) x[i] + sqrt (v < vmax ? v : vmax) * (double) z[i];
    }
}
