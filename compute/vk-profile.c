/* vk-profile.c — per-kernel device time from Vulkan timestamps.
 *
 * When enabled, a batch begins with a timestamp and every dispatch is
 * followed by one; after the fence the differences are added to the kernel
 * (shader name) of each dispatch.  Off by default: no queries are written.
 */
#include "dfx-private.h"

#include <string.h>

dfx_status
dfx_ctx_profile (dfx_ctx *ctx, int enable)
{
    if (!ctx->device)
        return dfx__error (ctx, DFX_ERR_NO_DEVICE, "no Vulkan device is open");
    if (enable && ctx->timestamp_bits == 0)
        return dfx__error (ctx, DFX_ERR_UNSUPPORTED, "%s has no compute timestamps: profiling is unavailable",
                           ctx->props.deviceName);
    if (ctx->recording) {
        dfx_status st = dfx_ctx_flush (ctx);
        if (st != DFX_OK)
            return st;
    }
    if (enable && !ctx->profile) {
        dfx__profile *p = dfx__calloc (1, sizeof *p);
        if (!p)
            return dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (profile)");
        VkQueryPoolCreateInfo qi = {
            .sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
            .queryType = VK_QUERY_TYPE_TIMESTAMP,
            .queryCount = DFX__PROFILE_QUERIES,
        };
        VkResult r = vkCreateQueryPool (ctx->device, &qi, NULL, &p->pool);
        if (r != VK_SUCCESS) {
            dfx__free (p);
            return dfx__vk_error (ctx, r, "vkCreateQueryPool", __FILE__, __LINE__);
        }
        p->period_ns = ctx->props.limits.timestampPeriod;
        ctx->profile = p;
    }
    if (ctx->profile) {
        ctx->profile->on = enable != 0;
        ctx->profile->n_kernels = 0;
    }
    return DFX_OK;
}

int
dfx_ctx_profile_count (const dfx_ctx *ctx)
{
    return ctx->profile ? ctx->profile->n_kernels : 0;
}

dfx_status
dfx_ctx_profile_entry (dfx_ctx *ctx, int i, dfx_profile_entry *out)
{
    if (i < 0 || i >= dfx_ctx_profile_count (ctx))
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "profile entry %d out of range", i);
    *out = ctx->profile->kernels[i];
    return DFX_OK;
}

void
dfx__profile_begin_batch (dfx_ctx *ctx)
{
    dfx__profile *p = ctx->profile;
    if (!p || !p->on)
        return;
    vkCmdResetQueryPool (ctx->cmd, p->pool, 0, DFX__PROFILE_QUERIES);
    vkCmdWriteTimestamp (ctx->cmd, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, p->pool, 0);
    p->n_queries = 1;
}

void
dfx__profile_after_dispatch (dfx_ctx *ctx, const char *shader)
{
    dfx__profile *p = ctx->profile;
    if (!p || !p->on || p->n_queries == 0 || p->n_queries >= DFX__PROFILE_QUERIES)
        return; /* batches longer than the pool are timed up to its end */
    int k = 0;
    while (k < p->n_kernels && strcmp (p->kernels[k].kernel, shader) != 0)
        k++;
    if (k == p->n_kernels) {
        if (k == DFX__PROFILE_KERNELS)
            return;
        /* Pipeline names live in ctx->pipelines, which may move: keep names
         * of the embedded table instead (same text, static storage). */
        const char *name = shader;
        for (size_t i = 0; i < dfx__spirv_count; i++)
            if (strcmp (dfx__spirv_table[i].name, shader) == 0)
                name = dfx__spirv_table[i].name;
        p->kernels[k] = (dfx_profile_entry){.kernel = name};
        p->n_kernels++;
    }
    vkCmdWriteTimestamp (ctx->cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, p->pool, p->n_queries);
    p->batch_kernel[p->n_queries] = k;
    p->n_queries++;
}

void
dfx__profile_end_batch (dfx_ctx *ctx)
{
    dfx__profile *p = ctx->profile;
    if (!p || !p->on || p->n_queries < 2)
        return;
    uint64_t ts[DFX__PROFILE_QUERIES];
    if (vkGetQueryPoolResults (ctx->device, p->pool, 0, p->n_queries, sizeof ts, ts, sizeof ts[0],
                               VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT) != VK_SUCCESS)
        return;
    uint64_t mask = ctx->timestamp_bits >= 64 ? ~0ull : ((1ull << ctx->timestamp_bits) - 1);
    for (uint32_t i = 1; i < p->n_queries; i++) {
        dfx_profile_entry *e = &p->kernels[p->batch_kernel[i]];
        e->calls++;
        e->seconds += (double) ((ts[i] - ts[i - 1]) & mask) * p->period_ns * 1e-9;
    }
    p->n_queries = 0;
}

void
dfx__profile_destroy (dfx_ctx *ctx)
{
    if (!ctx->profile)
        return;
    vkDestroyQueryPool (ctx->device, ctx->profile->pool, NULL);
    dfx__free (ctx->profile);
    ctx->profile = NULL;
}
