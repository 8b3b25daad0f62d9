/* silu.c — out = x σ(x) (shaders/silu.comp). */
#include "ops-private.h"

dfx_status
dfx_op_silu (dfx_ctx *ctx, dfx_buffer *out, dfx_buffer *x, size_t n)
{
    dfx_buffer *bufs[] = {out, x};
    return dfx__eltwise (ctx, "silu", bufs, 2, 0, n, 0.0f);
}
