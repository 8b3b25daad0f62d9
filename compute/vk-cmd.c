/* vk-cmd.c — the recording: one command buffer per batch, automatic
 * barriers, descriptor sets, dispatch and submit.
 *
 * Ops never touch Vulkan commands themselves: they describe a dispatch
 * (dfx__dispatch_desc) and this file records it, inserting a barrier only when
 * an earlier access in the same batch conflicts (read-after-write,
 * write-after-read, write-after-write).  dfx_ctx_flush submits once and waits.
 */
#include "dfx-private.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static double
seconds (clockid_t clock)
{
    struct timespec ts;
    clock_gettime (clock, &ts);
    return (double) ts.tv_sec + 1e-9 * (double) ts.tv_nsec;
}

#define SETS_PER_POOL 512

static dfx_status
new_desc_pool (dfx_ctx *ctx)
{
    dfx_status st = DFX_OK;
    VkDescriptorPool *np = realloc (ctx->desc_pools, (size_t) (ctx->n_desc_pools + 1) * sizeof *np);
    if (!np)
        return dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (descriptor pools)");
    ctx->desc_pools = np;
    VkDescriptorPoolSize size = {
        .type = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
        .descriptorCount = SETS_PER_POOL * DFX__MAX_BINDINGS,
    };
    VkDescriptorPoolCreateInfo ci = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
        .maxSets = SETS_PER_POOL,
        .poolSizeCount = 1,
        .pPoolSizes = &size,
    };
    DFX_VK_CHECK (ctx, vkCreateDescriptorPool (ctx->device, &ci, NULL, &ctx->desc_pools[ctx->n_desc_pools]));
    ctx->n_desc_pools++;
cleanup:
    return st;
}

static dfx_status
alloc_set (dfx_ctx *ctx, VkDescriptorSetLayout layout, VkDescriptorSet *set)
{
    for (;;) {
        if (ctx->cur_desc_pool >= ctx->n_desc_pools) {
            dfx_status st = new_desc_pool (ctx);
            if (st != DFX_OK)
                return st;
        }
        VkDescriptorSetAllocateInfo ai = {
            .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
            .descriptorPool = ctx->desc_pools[ctx->cur_desc_pool],
            .descriptorSetCount = 1,
            .pSetLayouts = &layout,
        };
        VkResult r = vkAllocateDescriptorSets (ctx->device, &ai, set);
        if (r == VK_SUCCESS)
            return DFX_OK;
        if (r != VK_ERROR_OUT_OF_POOL_MEMORY && r != VK_ERROR_FRAGMENTED_POOL)
            return dfx__vk_error (ctx, r, "vkAllocateDescriptorSets", __FILE__, __LINE__);
        ctx->cur_desc_pool++; /* this pool is full: move to the next */
    }
}

dfx_status
dfx__cmd_begin (dfx_ctx *ctx)
{
    dfx_status st = DFX_OK;
    if (ctx->recording)
        return DFX_OK;
    if (!ctx->device)
        return dfx__error (ctx, DFX_ERR_NO_DEVICE, "no Vulkan device is open");
    VkCommandBufferBeginInfo bi = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
        .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
    };
    DFX_VK_CHECK (ctx, vkBeginCommandBuffer (ctx->cmd, &bi));
    ctx->recording = true;
    ctx->n_recorded = 0;
    dfx__profile_begin_batch (ctx);
    /* Epochs only need to be unique within a batch; a new batch starts past
     * every mark left by the previous one. */
    ctx->epoch++;
cleanup:
    return st;
}

void
dfx__cmd_track (dfx_ctx *ctx, dfx_buffer *const *bufs, uint32_t n, uint32_t write_mask)
{
    bool hazard = false;
    for (uint32_t i = 0; i < n && !hazard; i++) {
        bool writes = write_mask & (1u << i);
        /* RAW / WAW: written since the last barrier.  WAR: read since it. */
        if (bufs[i]->last_write == ctx->epoch || (writes && bufs[i]->last_access == ctx->epoch))
            hazard = true;
    }
    if (hazard) {
        /* Barrier: make earlier shader/transfer writes visible to the next
         * shader/transfer accesses, and order earlier reads before later writes. */
        VkMemoryBarrier mb = {
            .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
            .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
            .dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_READ_BIT |
                             VK_ACCESS_TRANSFER_WRITE_BIT,
        };
        const VkPipelineStageFlags stages = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;
        vkCmdPipelineBarrier (ctx->cmd, stages, stages, 0, 1, &mb, 0, NULL, 0, NULL);
        ctx->epoch++;
    }
    for (uint32_t i = 0; i < n; i++) {
        bufs[i]->last_access = ctx->epoch;
        if (write_mask & (1u << i))
            bufs[i]->last_write = ctx->epoch;
    }
}

dfx_status
dfx__cmd_defer (dfx_ctx *ctx, VkBuffer buffer, VkDeviceMemory memory)
{
    if (ctx->n_deferred == ctx->cap_deferred) {
        int cap = ctx->cap_deferred ? 2 * ctx->cap_deferred : 16;
        dfx__deferred *nd = realloc (ctx->deferred, (size_t) cap * sizeof *nd);
        if (!nd) {
            vkDestroyBuffer (ctx->device, buffer, NULL);
            vkFreeMemory (ctx->device, memory, NULL);
            return dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (staging list)");
        }
        ctx->deferred = nd;
        ctx->cap_deferred = cap;
    }
    ctx->deferred[ctx->n_deferred++] = (dfx__deferred){buffer, memory};
    return DFX_OK;
}

static void
release_batch (dfx_ctx *ctx)
{
    for (int i = 0; i < ctx->n_deferred; i++) {
        vkDestroyBuffer (ctx->device, ctx->deferred[i].buffer, NULL);
        vkFreeMemory (ctx->device, ctx->deferred[i].memory, NULL);
    }
    ctx->n_deferred = 0;
    for (int i = 0; i < ctx->n_desc_pools; i++)
        vkResetDescriptorPool (ctx->device, ctx->desc_pools[i], 0);
    ctx->cur_desc_pool = 0;
}

dfx_status
dfx__dispatch (dfx_ctx *ctx, const dfx__dispatch_desc *d)
{
    dfx_status st = DFX_OK;
    dfx__pipeline *pl;
    VkDescriptorSet set;
    if (d->push_size > DFX__PUSH_MAX || d->n_bufs > DFX__MAX_BINDINGS)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "dispatch of '%s': push constants or bindings too large",
                           d->shader);
    for (int g = 0; g < 3; g++)
        if (d->groups[g] == 0 || d->groups[g] > ctx->props.limits.maxComputeWorkGroupCount[g])
            return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "dispatch of '%s': %u workgroups in dimension %d (limit %u)",
                               d->shader, d->groups[g], g, ctx->props.limits.maxComputeWorkGroupCount[g]);
    for (uint32_t i = 0; i < d->n_bufs; i++)
        if (((d->bufs[i]->size + 15) & ~(size_t) 15) > ctx->props.limits.maxStorageBufferRange)
            return dfx__error (ctx, DFX_ERR_UNSUPPORTED,
                               "dispatch of '%s': a buffer of %zu bytes exceeds the device's storage-buffer range "
                               "(%u bytes) on %s", d->shader, d->bufs[i]->size,
                               ctx->props.limits.maxStorageBufferRange, ctx->props.deviceName);
    DFX_CHECK (dfx__pipeline_get (ctx, d->shader, d->spec, d->n_spec, &pl));
    if (pl->n_bindings != d->n_bufs)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "dispatch of '%s' binds %u buffers, the shader declares %u",
                           d->shader, d->n_bufs, pl->n_bindings);
    /* DFX_PIPELINE_LOG: a pipeline's first dispatch runs alone in its own
     * submit, timed in process CPU (lavapipe compiles the kernel there, in
     * its queue thread, or loads it from Mesa's disk cache). */
    bool timed = ctx->pipeline_log && !pl->used;
    double c0 = 0.0, w0 = 0.0;
    pl->used = true;
    if (timed) {
        DFX_CHECK (dfx_ctx_flush (ctx));
        c0 = seconds (CLOCK_PROCESS_CPUTIME_ID), w0 = seconds (CLOCK_MONOTONIC);
    }
    DFX_CHECK (dfx__cmd_begin (ctx));
    DFX_CHECK (alloc_set (ctx, pl->set_layout, &set));
    VkDescriptorBufferInfo bi[DFX__MAX_BINDINGS];
    VkWriteDescriptorSet w[DFX__MAX_BINDINGS];
    for (uint32_t i = 0; i < d->n_bufs; i++) {
        bi[i] = (VkDescriptorBufferInfo){.buffer = d->bufs[i]->buffer, .offset = 0, .range = VK_WHOLE_SIZE};
        w[i] = (VkWriteDescriptorSet){
            .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
            .dstSet = set,
            .dstBinding = i,
            .descriptorCount = 1,
            .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
            .pBufferInfo = &bi[i],
        };
    }
    vkUpdateDescriptorSets (ctx->device, d->n_bufs, w, 0, NULL);
    dfx__cmd_track (ctx, d->bufs, d->n_bufs, d->write_mask);
    vkCmdBindPipeline (ctx->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pl->pipeline);
    vkCmdBindDescriptorSets (ctx->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pl->layout, 0, 1, &set, 0, NULL);
    if (d->push_size) {
        uint8_t push[DFX__PUSH_MAX] = {0};
        memcpy (push, d->push, d->push_size);
        vkCmdPushConstants (ctx->cmd, pl->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, DFX__PUSH_MAX, push);
    }
    vkCmdDispatch (ctx->cmd, d->groups[0], d->groups[1], d->groups[2]);
    dfx__profile_after_dispatch (ctx, pl->name);
    ctx->n_recorded++;
    if (timed) {
        DFX_CHECK (dfx_ctx_flush (ctx));
        char sp_text[16 * DFX__MAX_SPEC] = "";
        for (uint32_t i = 0, n = 0; i < pl->n_spec && n < sizeof sp_text; i++)
            n += (uint32_t) snprintf (sp_text + n, sizeof sp_text - n, "%s%u", i ? "," : "", pl->spec[i]);
        fprintf (stderr, "dfx first dispatch %-18s [%s] cpu %.3f s wall %.3f s (%u×%u×%u groups)\n", pl->name,
                 sp_text, seconds (CLOCK_PROCESS_CPUTIME_ID) - c0, seconds (CLOCK_MONOTONIC) - w0, d->groups[0],
                 d->groups[1], d->groups[2]);
    }
cleanup:
    return st;
}

dfx_status
dfx_ctx_flush (dfx_ctx *ctx)
{
    dfx_status st = DFX_OK;
    if (!ctx->recording)
        return DFX_OK;
    /* Barrier: device writes of this batch become visible to host reads of
     * mapped memory after the fence. */
    VkMemoryBarrier mb = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
        .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
        .dstAccessMask = VK_ACCESS_HOST_READ_BIT,
    };
    vkCmdPipelineBarrier (ctx->cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                          VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &mb, 0, NULL, 0, NULL);
    ctx->recording = false;
    DFX_VK_CHECK (ctx, vkEndCommandBuffer (ctx->cmd));
    VkSubmitInfo si = {
        .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
        .commandBufferCount = 1,
        .pCommandBuffers = &ctx->cmd,
    };
    DFX_VK_CHECK (ctx, vkQueueSubmit (ctx->queue, 1, &si, ctx->fence));
    DFX_VK_CHECK (ctx, vkWaitForFences (ctx->device, 1, &ctx->fence, VK_TRUE, UINT64_MAX));
    DFX_VK_CHECK (ctx, vkResetFences (ctx->device, 1, &ctx->fence));
    dfx__profile_end_batch (ctx);
    if (ctx->validation_errors) {
        st = dfx__error (ctx, DFX_ERR_VULKAN, "Vulkan validation reported %d error(s); first: %s",
                         ctx->validation_errors, ctx->validation_msg);
        ctx->validation_errors = 0;
    }
cleanup:
    vkResetCommandBuffer (ctx->cmd, 0);
    release_batch (ctx);
    return st;
}

void
dfx__cmd_destroy (dfx_ctx *ctx)
{
    if (ctx->recording) {
        vkEndCommandBuffer (ctx->cmd);
        ctx->recording = false;
    }
    release_batch (ctx);
    for (int i = 0; i < ctx->n_desc_pools; i++)
        vkDestroyDescriptorPool (ctx->device, ctx->desc_pools[i], NULL);
    dfx__profile_destroy (ctx);
    free (ctx->desc_pools);
    free (ctx->deferred);
    ctx->desc_pools = NULL;
    ctx->deferred = NULL;
    ctx->n_desc_pools = 0;
}
