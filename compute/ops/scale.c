/* scale.c — out = alpha x (shaders/scale.comp). */
#include "ops-private.h"

dfx_status
dfx_op_scale (dfx_ctx *ctx, dfx_buffer *out, float alpha, dfx_buffer *x, size_t n)
{
    dfx_buffer *bufs[] = {out, x};
    return dfx__eltwise (ctx, "scale", bufs, 2, 0, n, alpha);
}
