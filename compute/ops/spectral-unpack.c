/* spectral-unpack.c — the real part of complex planes back into NCHW after
 * the inverse FFT of the spectral Gaussian skip (shaders/spectral-unpack.comp). */
#include "ops-private.h"
#include "ops-sample.h"

typedef struct push_unpack {
    uint32_t total, np, channels;
    float alpha, beta;
} push_unpack;
_Static_assert (sizeof (push_unpack) == 20, "mirrors spectral-unpack.comp's Push block");

dfx_status
dfx__spectral_unpack (dfx_ctx *ctx, dfx_buffer *x, dfx_buffer *z, dfx_buffer *m, uint32_t batch, uint32_t channels,
                      uint32_t np, float alpha, float beta)
{
    uint64_t total = (uint64_t) batch * channels * np;
    if (!z || !x || !m || total == 0 || total > UINT32_MAX || x->size / 4 < total || z->size / 8 < total ||
        m->size / 4 < channels)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "spectral-unpack: %u × %u planes of %u pixels do not fit",
                           batch, channels, np);
    push_unpack push = {(uint32_t) total, np, channels, alpha, beta};
    dfx__dispatch_desc d = {
        .shader = "spectral-unpack",
        .spec = {DFX__LOCAL_1D},
        .n_spec = 1,
        .bufs = {x, z, m},
        .n_bufs = 3,
        .write_mask = 1u,
        .push = &push,
        .push_size = sizeof push,
        .groups = {dfx__groups_1d (ctx, total, DFX__LOCAL_1D), 1, 1},
    };
    return dfx__dispatch (ctx, &d);
}
