/* softmax.c — row-wise softmax in place: shaders/softmax.comp (a workgroup
 * per row, tree reductions), or on lavapipe shaders/softmax-lvp.comp (an
 * invocation per row, no barriers). */
#include "ops-private.h"

typedef struct push_sm {
    uint32_t rows, cols, off;
    float scale;
} push_sm;
_Static_assert (sizeof (push_sm) == 16, "mirrors softmax.comp's Push block");

dfx_status
dfx__softmax (dfx_ctx *ctx, dfx_buffer *x, uint32_t off, uint32_t rows, uint32_t cols, float scale)
{
    if (!x || !rows || !cols || off + (uint64_t) rows * cols > x->size / 4)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "softmax: %u×%u at %u outside its buffer", rows, cols, off);
    push_sm push = {rows, cols, off, scale};
    if (dfx__lane_kernels (ctx)) {
        dfx__dispatch_desc dl = {
            .shader = "softmax-lvp",
            .spec = {ctx->subgroup_size},
            .n_spec = 1,
            .bufs = {x},
            .n_bufs = 1,
            .write_mask = 1u,
            .push = &push,
            .push_size = sizeof push,
            .groups = {dfx__groups_1d (ctx, rows, ctx->subgroup_size), 1, 1},
        };
        return dfx__dispatch (ctx, &dl);
    }
    dfx__dispatch_desc dd = {
        .shader = "softmax",
        .spec = {DFX__LOCAL_1D},
        .n_spec = 1,
        .bufs = {x},
        .n_bufs = 1,
        .write_mask = 1u,
        .push = &push,
        .push_size = sizeof push,
        .groups = {rows < 65535 ? rows : 65535, 1, 1},
    };
    return dfx__dispatch (ctx, &dd);
}
