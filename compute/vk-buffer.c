/* vk-buffer.c — device buffers, their memory, and host upload/download.
 *
 * Device-local storage buffers; when the device-local memory is also host
 * visible (CPU devices, unified memory) it is mapped and copied directly,
 * otherwise a staging buffer carries the data.  No sub-allocation yet: one
 * VkDeviceMemory per buffer.
 */
#include "dfx-private.h"

#include <string.h>

static int
find_memory_type (const dfx_ctx *ctx, uint32_t bits, VkMemoryPropertyFlags want, VkMemoryPropertyFlags avoid)
{
    for (uint32_t i = 0; i < ctx->mem_props.memoryTypeCount; i++) {
        VkMemoryPropertyFlags f = ctx->mem_props.memoryTypes[i].propertyFlags;
        if ((bits & (1u << i)) && (f & want) == want && !(f & avoid))
            return (int) i;
    }
    return -1;
}

dfx_status
dfx__buffer_alloc (dfx_ctx *ctx, VkDeviceSize size, VkBufferUsageFlags usage, VkMemoryPropertyFlags want,
                   VkMemoryPropertyFlags avoid, VkBuffer *buffer, VkDeviceMemory *memory, void **mapped)
{
    dfx_status st = DFX_OK;
    *buffer = VK_NULL_HANDLE;
    *memory = VK_NULL_HANDLE;
    if (mapped)
        *mapped = NULL;
    if (ctx->max_alloc && size > ctx->max_alloc)
        return dfx__error (ctx, DFX_ERR_OUT_OF_DEVICE_MEMORY,
                           "buffer of %llu bytes exceeds the device's largest allocation (%llu bytes) on %s",
                           (unsigned long long) size, (unsigned long long) ctx->max_alloc, ctx->props.deviceName);
    VkBufferCreateInfo bi = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
        .size = size,
        .usage = usage,
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
    };
    DFX_VK_CHECK (ctx, vkCreateBuffer (ctx->device, &bi, NULL, buffer));
    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements (ctx->device, *buffer, &req);
    int type = find_memory_type (ctx, req.memoryTypeBits, want, avoid);
    if (type < 0)
        type = find_memory_type (ctx, req.memoryTypeBits, want, 0);
    if (type < 0) {
        st = dfx__error (ctx, DFX_ERR_VULKAN, "no Vulkan memory type with flags 0x%x for a buffer on %s", want,
                         ctx->props.deviceName);
        goto cleanup;
    }
    uint32_t heap = ctx->mem_props.memoryTypes[type].heapIndex;
    if (req.size > ctx->mem_props.memoryHeaps[heap].size) {
        st = dfx__error (ctx, DFX_ERR_OUT_OF_DEVICE_MEMORY, "buffer of %llu bytes is larger than the device heap (%llu bytes) on %s",
                         (unsigned long long) size, (unsigned long long) ctx->mem_props.memoryHeaps[heap].size,
                         ctx->props.deviceName);
        goto cleanup;
    }
    VkMemoryAllocateInfo ai = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
        .allocationSize = req.size,
        .memoryTypeIndex = (uint32_t) type,
    };
    VkResult r = vkAllocateMemory (ctx->device, &ai, NULL, memory);
    if (r != VK_SUCCESS) {
        *memory = VK_NULL_HANDLE;
        st = dfx__error (ctx, r == VK_ERROR_OUT_OF_HOST_MEMORY ? DFX_ERR_OUT_OF_HOST_MEMORY : DFX_ERR_OUT_OF_DEVICE_MEMORY,
                         "could not allocate %llu bytes of device memory on %s (vkAllocateMemory: %s)",
                         (unsigned long long) size, ctx->props.deviceName, dfx__vk_result_name (r));
        goto cleanup;
    }
    DFX_VK_CHECK (ctx, vkBindBufferMemory (ctx->device, *buffer, *memory, 0));
    VkMemoryPropertyFlags got = ctx->mem_props.memoryTypes[type].propertyFlags;
    const VkMemoryPropertyFlags hv = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    if (mapped && (got & hv) == hv)
        DFX_VK_CHECK (ctx, vkMapMemory (ctx->device, *memory, 0, VK_WHOLE_SIZE, 0, mapped));
    return DFX_OK;
cleanup:
    if (*buffer)
        vkDestroyBuffer (ctx->device, *buffer, NULL);
    if (*memory)
        vkFreeMemory (ctx->device, *memory, NULL);
    *buffer = VK_NULL_HANDLE;
    *memory = VK_NULL_HANDLE;
    return st;
}

dfx_status
dfx_buffer_create (dfx_ctx *ctx, size_t size, dfx_buffer **out)
{
    *out = NULL;
    if (!ctx->device)
        return dfx__error (ctx, DFX_ERR_NO_DEVICE, "no Vulkan device is open");
    if (size == 0)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "buffer size must be positive");
    dfx_buffer *b = dfx__calloc (1, sizeof *b);
    if (!b)
        return dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory");
    /* Storage buffers are bound whole; round to 16 bytes so vec4 kernels may read the tail. */
    VkDeviceSize alloc = (size + 15) & ~(VkDeviceSize) 15;
    dfx_status st = dfx__buffer_alloc (ctx, alloc,
                                       VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
                                           VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                                       VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 0, &b->buffer, &b->memory, &b->mapped);
    if (st != DFX_OK) {
        dfx__free (b);
        return st;
    }
    b->size = size;
    *out = b;
    return DFX_OK;
}

void
dfx_buffer_destroy (dfx_ctx *ctx, dfx_buffer *b)
{
    if (!b)
        return;
    /* Pending recorded work may still use it: run it first. */
    if (ctx->recording)
        dfx_ctx_flush (ctx);
    if (b->mapped)
        vkUnmapMemory (ctx->device, b->memory);
    vkDestroyBuffer (ctx->device, b->buffer, NULL);
    vkFreeMemory (ctx->device, b->memory, NULL);
    dfx__free (b);
}

size_t
dfx_buffer_size (const dfx_buffer *b)
{
    return b->size;
}

/* A host-visible, coherent staging buffer of size bytes, mapped. */
static dfx_status
staging_alloc (dfx_ctx *ctx, size_t size, VkBufferUsageFlags usage, VkBuffer *b, VkDeviceMemory *m, void **map)
{
    return dfx__buffer_alloc (ctx, size, usage, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
                              0, b, m, map);
}

static dfx_status
check_range (dfx_ctx *ctx, const dfx_buffer *b, size_t offset, size_t size, const char *what)
{
    if (offset > b->size || size > b->size - offset)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "%s of [%zu, %zu) is outside the buffer of %zu bytes", what,
                           offset, offset + size, b->size);
    return DFX_OK;
}

dfx_status
dfx_buffer_upload (dfx_ctx *ctx, dfx_buffer *b, size_t offset, const void *data, size_t size)
{
    dfx_status st = check_range (ctx, b, offset, size, "upload");
    if (st != DFX_OK || size == 0)
        return st;
    if (b->mapped && !ctx->recording) {
        memcpy ((char *) b->mapped + offset, data, size);
        return DFX_OK;
    }
    /* Staged copy recorded in order with the other work. */
    VkBuffer sb;
    VkDeviceMemory sm;
    void *map;
    st = staging_alloc (ctx, size, VK_BUFFER_USAGE_TRANSFER_SRC_BIT, &sb, &sm, &map);
    if (st != DFX_OK)
        return st;
    memcpy (map, data, size);
    st = dfx__cmd_defer (ctx, sb, sm);
    if (st != DFX_OK)
        return st;
    if ((st = dfx__cmd_begin (ctx)) != DFX_OK)
        return st;
    dfx__cmd_track (ctx, &b, 1, 1u);
    VkBufferCopy region = {.srcOffset = 0, .dstOffset = offset, .size = size};
    vkCmdCopyBuffer (ctx->cmd, sb, b->buffer, 1, &region);
    return DFX_OK;
}

dfx_status
dfx_buffer_download (dfx_ctx *ctx, dfx_buffer *b, size_t offset, void *data, size_t size)
{
    dfx_status st = check_range (ctx, b, offset, size, "download");
    if (st != DFX_OK || size == 0)
        return st;
    if (b->mapped) {
        if ((st = dfx_ctx_flush (ctx)) != DFX_OK)
            return st;
        memcpy (data, (const char *) b->mapped + offset, size);
        return DFX_OK;
    }
    VkBuffer sb;
    VkDeviceMemory sm;
    void *map;
    st = staging_alloc (ctx, size, VK_BUFFER_USAGE_TRANSFER_DST_BIT, &sb, &sm, &map);
    if (st != DFX_OK)
        return st;
    if ((st = dfx__cmd_begin (ctx)) == DFX_OK) {
        dfx__cmd_track (ctx, &b, 1, 0u);
        VkBufferCopy region = {.srcOffset = offset, .dstOffset = 0, .size = size};
        vkCmdCopyBuffer (ctx->cmd, b->buffer, sb, 1, &region);
        st = dfx_ctx_flush (ctx);
    }
    if (st == DFX_OK)
        memcpy (data, map, size);
    vkDestroyBuffer (ctx->device, sb, NULL);
    vkFreeMemory (ctx->device, sm, NULL);
    return st;
}
