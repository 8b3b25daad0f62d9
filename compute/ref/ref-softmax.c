/* ref-softmax.c — double-precision row-wise softmax. */
#include "ref.h"

#include <math.h>

void
dfx_ref_softmax (double *out, const float *x, uint32_t rows, uint32_t cols, double scale)
{
    for (uint32_t r = 0; r < rows; r++) {
        const float *xr = x + (size_t) r * cols;
        double *o = out + (size_t) r * cols, m = -INFINITY, s = 0.0;
        for (uint32_t i = 0; i < cols; i++)
            m = fmax (m, scale * xr[i]);
        for (uint32_t i = 0; i < cols; i++)
            s += (o[i] = exp (scale * xr[i] - m));
        for (uint32_t i = 0; i < cols; i++)
            o[i] /= s;
    }
}
