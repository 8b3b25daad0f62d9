/* axpy.c — y += alpha x (shaders/axpy.comp). */
#include "ops-private.h"

dfx_status
dfx_op_axpy (dfx_ctx *ctx, dfx_buffer *y, float alpha, dfx_buffer *x, size_t n)
{
    dfx_buffer *bufs[] = {y, x};
    return dfx__eltwise (ctx, "axpy", bufs, 2, 0, n, alpha);
}
