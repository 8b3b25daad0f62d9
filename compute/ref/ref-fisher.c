/* ref-fisher.c — double-precision references of the Fisher ops. */
#include "ref.h"

void
dfx_ref_dftm_div (double *out, const float *x0, const float *m, double sigma, double cmax, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        double c = (double) m[i] - (double) x0[i] * x0[i];
        c = c < 0.0 ? 0.0 : (c > cmax ? cmax : c);
        out[i] = 1.0 - c / (sigma * sigma);
    }
}
