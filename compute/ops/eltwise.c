/* eltwise.c — the shared recording path of the 1-D elementwise ops
 * (add, mul, axpy, scale, silu): argument checks and one dispatch. */
#include "ops-private.h"

dfx_status
dfx__check_vectors (dfx_ctx *ctx, const char *op, size_t n, dfx_buffer *const *bufs, int n_bufs)
{
    if (n == 0 || n > UINT32_MAX)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "%s: element count %zu out of range [1, %u]", op, n,
                           UINT32_MAX);
    for (int i = 0; i < n_bufs; i++) {
        if (!bufs[i])
            return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "%s: buffer argument %d is NULL", op, i);
        if (bufs[i]->size / sizeof (float) < n)
            return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "%s: buffer argument %d holds %zu floats, %zu needed", op,
                               i, bufs[i]->size / sizeof (float), n);
    }
    return DFX_OK;
}

dfx_status
dfx__eltwise (dfx_ctx *ctx, const char *shader, dfx_buffer *const *bufs, uint32_t n_bufs, size_t off, size_t n,
              float alpha)
{
    if (off > UINT32_MAX - n)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "%s: offset %zu + %zu elements out of range", shader, off, n);
    dfx_status st = dfx__check_vectors (ctx, shader, off + n, bufs, (int) n_bufs);
    if (st != DFX_OK)
        return st;
    dfx__push_n_alpha push = {(uint32_t) n, alpha, (uint32_t) off};
    dfx__dispatch_desc d = {
        .shader = shader,
        .spec = {DFX__LOCAL_1D},
        .n_spec = 1,
        .n_bufs = n_bufs,
        .write_mask = 1u,
        .push = &push,
        .push_size = sizeof push,
        .groups = {dfx__groups_1d (ctx, n, DFX__LOCAL_1D), 1, 1},
    };
    for (uint32_t i = 0; i < n_bufs; i++)
        d.bufs[i] = bufs[i];
    return dfx__dispatch (ctx, &d);
}
