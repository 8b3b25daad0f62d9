/* lincomb.c — out = alpha·x + beta·y + gamma with an element offset per
 * operand (shaders/lincomb.comp): the one update op of the samplers. */
#include "ops-private.h"
#include "ops-sample.h"

typedef struct push_lincomb {
    uint32_t n, off_out, off_x, off_y;
    float alpha, beta, gamma;
} push_lincomb;
_Static_assert (sizeof (push_lincomb) == 28, "mirrors lincomb.comp's Push block");

static bool
fits (const dfx_buffer *b, size_t off, size_t n)
{
    return off <= UINT32_MAX && n <= UINT32_MAX - off && b->size / sizeof (float) >= off + n;
}

dfx_status
dfx__lincomb (dfx_ctx *ctx, dfx_buffer *out, size_t out_off, float alpha, dfx_buffer *x, size_t x_off, float beta,
              dfx_buffer *y, size_t y_off, float gamma, size_t n)
{
    if (!y) {
        y = x, y_off = x_off;
        beta = 0.0f;
    }
    if (!out || !x || n == 0 || n > UINT32_MAX || !fits (out, out_off, n) || !fits (x, x_off, n) ||
        !fits (y, y_off, n))
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT,
                           "lincomb: %zu elements at offsets %zu, %zu, %zu do not fit the buffers", n, out_off, x_off,
                           y_off);
    push_lincomb push = {(uint32_t) n, (uint32_t) out_off, (uint32_t) x_off, (uint32_t) y_off, alpha, beta, gamma};
    dfx__dispatch_desc d = {
        .shader = "lincomb",
        .spec = {DFX__LOCAL_1D},
        .n_spec = 1,
        .bufs = {out, x, y},
        .n_bufs = 3,
        .write_mask = 1u,
        .push = &push,
        .push_size = sizeof push,
        .groups = {dfx__groups_1d (ctx, n, DFX__LOCAL_1D), 1, 1},
    };
    return dfx__dispatch (ctx, &d);
}
