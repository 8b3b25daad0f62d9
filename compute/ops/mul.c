/* mul.c — out = a ⊙ b (shaders/mul.comp). */
#include "ops-private.h"

dfx_status
dfx_op_mul (dfx_ctx *ctx, dfx_buffer *out, dfx_buffer *a, dfx_buffer *b, size_t n)
{
    dfx_buffer *bufs[] = {out, a, b};
    return dfx__eltwise (ctx, "mul", bufs, 3, 0, n, 0.0f);
}
