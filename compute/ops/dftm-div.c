/* dftm-div.c — the per-pixel DF-TM divergence integrand (shaders/dftm-div.comp). */
#include "ops-fisher.h"

#include <float.h>
#include <math.h>

typedef struct push_div {
    uint32_t n, off_out, off_x0, off_m;
    float inv_s2, cmin, cmax;
} push_div;
_Static_assert (sizeof (push_div) == 28, "mirrors dftm-div.comp's Push block");

dfx_status
dfx__dftm_div (dfx_ctx *ctx, dfx_buffer *out, size_t out_off, dfx_buffer *x0, size_t x0_off, dfx_buffer *m,
               size_t m_off, double sigma, double cmin, double cmax, size_t n)
{
    dfx_status st;
    if (n == 0 || !(sigma > 0.0) || !(cmin <= cmax) || !(cmin <= 0.0) || !(cmax >= 0.0))
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "dftm-div: n %zu, σ̃ %g, clamp [%g, %g]", n, sigma, cmin,
                           cmax);
    if ((st = dfx__fisher_range (ctx, "dftm-div", out, out_off, n, "output")) ||
        (st = dfx__fisher_range (ctx, "dftm-div", x0, x0_off, n, "x̂0")) ||
        (st = dfx__fisher_range (ctx, "dftm-div", m, m_off, n, "second moment")))
        return st;
    push_div push = {(uint32_t) n, (uint32_t) out_off, (uint32_t) x0_off, (uint32_t) m_off,
                     (float) (1.0 / (sigma * sigma)), (float) fmax (cmin, -FLT_MAX), (float) fmin (cmax, FLT_MAX)};
    dfx__dispatch_desc d = {
        .shader = "dftm-div",
        .spec = {256},
        .n_spec = 1,
        .bufs = {out, x0, m},
        .n_bufs = 3,
        .write_mask = 1u,
        .push = &push,
        .push_size = sizeof push,
        .groups = {dfx__groups_1d (ctx, n, 256), 1, 1},
    };
    return dfx__dispatch (ctx, &d);
}
