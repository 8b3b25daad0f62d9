/* ref-groupnorm.c — double-precision GroupNorm with the fused extras. */
#include "ref.h"

#include <math.h>

void
dfx_ref_groupnorm (double *out, const float *in, uint32_t b, uint32_t c, uint32_t hw, uint32_t groups, double eps,
                   const float *gamma, const float *beta, const float *ss, uint32_t ss_stride, int silu)
{
    uint32_t cpg = c / groups;
    size_t count = (size_t) cpg * hw;
    for (uint32_t n = 0; n < b; n++)
        for (uint32_t g = 0; g < groups; g++) {
            size_t base = ((size_t) n * c + (size_t) g * cpg) * hw;
            double mean = 0.0, var = 0.0;
            for (size_t i = 0; i < count; i++)
                mean += in[base + i];
            mean /= (double) count;
            for (size_t i = 0; i < count; i++)
                var += (in[base + i] - mean) * (in[base + i] - mean);
            var /= (double) count;
            double rstd = 1.0 / sqrt (var + eps);
            for (size_t i = 0; i < count; i++) {
                uint32_t ch = g * cpg + (uint32_t) (i / hw);
                double y = (in[base + i] - mean) * rstd;
                if (gamma)
                    y = y * gamma[ch] + beta[ch];
                if (ss)
                    y = y * (1.0 + ss[(size_t) n * ss_stride + ch]) + ss[(size_t) n * ss_stride + c + ch];
                if (silu)
                    y = y / (1.0 + exp (-y));
                out[base + i] = y;
            }
        }
}
