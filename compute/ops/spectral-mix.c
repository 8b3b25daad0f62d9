/* spectral-mix.c — per-frequency channel mixing z[k] ← A[k] z[k] of the
 * spectral Gaussian skip (shaders/spectral-mix.comp); the channel count is a
 * specialization constant, the batch the second grid dimension. */
#include "ops-private.h"
#include "ops-sample.h"

typedef struct push_mix {
    uint32_t np, batch;
} push_mix;
_Static_assert (sizeof (push_mix) == 8, "mirrors spectral-mix.comp's Push block");

dfx_status
dfx__spectral_mix (dfx_ctx *ctx, dfx_buffer *z, dfx_buffer *a, uint32_t batch, uint32_t channels, uint32_t np)
{
    uint64_t total = (uint64_t) batch * channels * np, na = (uint64_t) np * channels * channels;
    if (!z || !a || total == 0 || channels > DFX__SPECTRAL_MAX_CHANNELS || total > UINT32_MAX ||
        z->size / 8 < total || a->size / 8 < na || batch > ctx->props.limits.maxComputeWorkGroupCount[1])
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT,
                           "spectral-mix: %u items × %u channels (at most %d) × %u bins do not fit", batch, channels,
                           DFX__SPECTRAL_MAX_CHANNELS, np);
    push_mix push = {np, batch};
    dfx__dispatch_desc d = {
        .shader = "spectral-mix",
        .spec = {DFX__LOCAL_1D / 4, channels},
        .n_spec = 2,
        .bufs = {z, a},
        .n_bufs = 2,
        .write_mask = 1u,
        .push = &push,
        .push_size = sizeof push,
        .groups = {dfx__groups_1d (ctx, np, DFX__LOCAL_1D / 4), batch, 1},
    };
    return dfx__dispatch (ctx, &d);
}
