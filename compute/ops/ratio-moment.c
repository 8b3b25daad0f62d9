/* ratio-moment.c — a variance-ratio head's output turned into the second
 * moment m = x̂0⊙x̂0 + σ̃² r, in place (shaders/ratio-moment.comp). */
#include "ops-fisher.h"

#include <math.h>

typedef struct push_rm {
    uint32_t n, off_m, off_x0;
    float s2;
} push_rm;
_Static_assert (sizeof (push_rm) == 16, "mirrors ratio-moment.comp's Push block");

dfx_status
dfx__ratio_moment (dfx_ctx *ctx, dfx_buffer *m, size_t m_off, dfx_buffer *x0, size_t x0_off, double sigma, size_t n)
{
    dfx_status st;
    if (n == 0 || !(sigma > 0.0) || !isfinite (sigma * sigma))
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "ratio-moment: n %zu, σ̃ %g", n, sigma);
    if ((st = dfx__fisher_range (ctx, "ratio-moment", m, m_off, n, "ratio")) ||
        (st = dfx__fisher_range (ctx, "ratio-moment", x0, x0_off, n, "x̂0")))
        return st;
    push_rm push = {(uint32_t) n, (uint32_t) m_off, (uint32_t) x0_off, (float) (sigma * sigma)};
    dfx__dispatch_desc d = {
        .shader = "ratio-moment",
        .spec = {256},
        .n_spec = 1,
        .bufs = {m, x0},
        .n_bufs = 2,
        .write_mask = 1u,
        .push = &push,
        .push_size = sizeof push,
        .groups = {dfx__groups_1d (ctx, n, 256), 1, 1},
    };
    return dfx__dispatch (ctx, &d);
}
