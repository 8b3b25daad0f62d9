/* add.c — out = a + b (shaders/add.comp). */
#include "ops-private.h"

dfx_status
dfx_op_add (dfx_ctx *ctx, dfx_buffer *out, dfx_buffer *a, dfx_buffer *b, size_t n)
{
    dfx_buffer *bufs[] = {out, a, b};
    return dfx__eltwise (ctx, "add", bufs, 3, 0, n, 0.0f);
}
