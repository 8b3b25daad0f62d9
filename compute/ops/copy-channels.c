/* copy-channels.c — channel-slice copy for torch.cat along channels
 * (shaders/copy-channels.comp). */
#include "ops-private.h"

typedef struct push_cc {
    uint32_t batch, cs, cd, coff, hw, src_off, dst_off;
} push_cc;
_Static_assert (sizeof (push_cc) == 28, "mirrors copy-channels.comp's Push block");

dfx_status
dfx__copy_channels (dfx_ctx *ctx, dfx_buffer *dst, uint32_t dst_off, uint32_t cd, uint32_t coff, dfx_buffer *src,
                    uint32_t src_off, uint32_t cs, uint32_t batch, uint32_t hw)
{
    uint64_t ns = (uint64_t) batch * cs * hw, nd = (uint64_t) batch * cd * hw;
    if (!src || !dst || !ns || coff + cs > cd || src_off + ns > src->size / 4 || dst_off + nd > dst->size / 4)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "copy-channels: %u channels at %u into %u (batch %u, %u pixels)",
                           cs, coff, cd, batch, hw);
    push_cc push = {batch, cs, cd, coff, hw, src_off, dst_off};
    const uint32_t v4 = hw % 4 == 0 && src_off % 4 == 0 && dst_off % 4 == 0;
    dfx__dispatch_desc dd = {
        .shader = "copy-channels",
        .spec = {DFX__LOCAL_1D, v4},
        .n_spec = 2,
        .bufs = {src, dst},
        .n_bufs = 2,
        .write_mask = 1u << 1,
        .push = &push,
        .push_size = sizeof push,
        .groups = {dfx__groups_1d (ctx, v4 ? ns / 4 : ns, DFX__LOCAL_1D), 1, 1},
    };
    return dfx__dispatch (ctx, &dd);
}
