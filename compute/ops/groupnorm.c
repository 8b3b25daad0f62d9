/* groupnorm.c — GroupNorm with fused scale/shift and SiLU
 * (shaders/groupnorm.comp; on lavapipe shaders/groupnorm-lvp.comp). */
#include "ops-private.h"

typedef struct push_gn {
    uint32_t batch, c, hw, groups, in_off, out_off, gamma_off, beta_off, ss_off, ss_stride, flags;
    float eps;
} push_gn;
_Static_assert (sizeof (push_gn) == 48, "mirrors groupnorm.comp's Push block");

dfx_status
dfx__groupnorm (dfx_ctx *ctx, const dfx__groupnorm_desc *d)
{
    if (!d->batch || !d->c || !d->hw || !d->groups || d->c % d->groups || !d->in || !d->out)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "groupnorm: %u channels in %u groups (batch %u, %u pixels)",
                           d->c, d->groups, d->batch, d->hw);
    uint64_t n = (uint64_t) d->batch * d->c * d->hw;
    if (d->in_off + n > d->in->size / 4 || d->out_off + n > d->out->size / 4)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "groupnorm: tensor of %llu floats outside its buffer",
                           (unsigned long long) n);
    if (d->params && (d->gamma_off + (uint64_t) d->c > d->params->size / 4 || d->beta_off + (uint64_t) d->c > d->params->size / 4))
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "groupnorm: gamma/beta outside their buffer");
    if (d->ss && d->ss_off + (uint64_t) (d->batch - 1) * d->ss_stride + 2ull * d->c > d->ss->size / 4)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "groupnorm: scale/shift outside their buffer");
    push_gn push = {
        .batch = d->batch, .c = d->c, .hw = d->hw, .groups = d->groups,
        .in_off = d->in_off, .out_off = d->out_off, .gamma_off = d->gamma_off, .beta_off = d->beta_off,
        .ss_off = d->ss_off, .ss_stride = d->ss_stride,
        .flags = (d->silu ? 1u : 0u) | (d->ss ? 2u : 0u) | (d->params ? 4u : 0u),
        .eps = d->eps,
    };
    /* lavapipe: one subgroup per workgroup, reductions without barriers. */
    int lane = dfx__lane_kernels (ctx);
    dfx__dispatch_desc dd = {
        .shader = lane ? "groupnorm-lvp" : "groupnorm",
        .spec = {lane ? ctx->subgroup_size : DFX__LOCAL_1D,
                 /* groupnorm-lvp's vec4 passes */
                 d->hw % 4 == 0 && d->in_off % 4 == 0 && d->out_off % 4 == 0},
        .n_spec = lane ? 2 : 1,
        .bufs = {d->in, d->params ? d->params : d->in, d->ss ? d->ss : d->in, d->out},
        .n_bufs = 4,
        .write_mask = 1u << 3,
        .push = &push,
        .push_size = sizeof push,
        .groups = {d->groups, d->batch, 1},
    };
    return dfx__dispatch (ctx, &dd);
}
