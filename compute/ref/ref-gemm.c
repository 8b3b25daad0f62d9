/* ref-gemm.c — double-precision reference GEMM (triple loop). */
#include "ref.h"

void
dfx_ref_gemm (double *c, uint32_t m, uint32_t n, uint32_t k, int trans_a, int trans_b, double alpha, const float *a,
              const float *b, double beta, const float *c0)
{
    for (uint32_t i = 0; i < m; i++)
        for (uint32_t j = 0; j < n; j++) {
            double s = 0.0;
            for (uint32_t q = 0; q < k; q++) {
                double av = trans_a ? a[(size_t) q * m + i] : a[(size_t) i * k + q];
                double bv = trans_b ? b[(size_t) j * k + q] : b[(size_t) q * n + j];
                s += av * bv;
            }
            double v = alpha * s;
            if (beta != 0.0)
                v += beta * (double) c0[(size_t) i * n + j];
            c[(size_t) i * n + j] = v;
        }
}
