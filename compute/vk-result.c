/* vk-result.c — names of VkResult codes and the Vulkan error recorder.
 *
 * Turns a failed Vulkan call into a dfx_status plus a message on the context
 * naming the call, the result and the source line.  Nothing else.
 */
#include "dfx-private.h"

const char *
dfx__vk_result_name (VkResult r)
{
    switch (r) {
#define N(x) case x: return #x;
    N (VK_SUCCESS) N (VK_NOT_READY) N (VK_TIMEOUT) N (VK_INCOMPLETE)
    N (VK_ERROR_OUT_OF_HOST_MEMORY) N (VK_ERROR_OUT_OF_DEVICE_MEMORY)
    N (VK_ERROR_INITIALIZATION_FAILED) N (VK_ERROR_DEVICE_LOST) N (VK_ERROR_MEMORY_MAP_FAILED)
    N (VK_ERROR_LAYER_NOT_PRESENT) N (VK_ERROR_EXTENSION_NOT_PRESENT) N (VK_ERROR_FEATURE_NOT_PRESENT)
    N (VK_ERROR_INCOMPATIBLE_DRIVER) N (VK_ERROR_TOO_MANY_OBJECTS) N (VK_ERROR_FORMAT_NOT_SUPPORTED)
    N (VK_ERROR_FRAGMENTED_POOL) N (VK_ERROR_UNKNOWN) N (VK_ERROR_OUT_OF_POOL_MEMORY)
    N (VK_ERROR_INVALID_EXTERNAL_HANDLE) N (VK_ERROR_FRAGMENTATION)
    N (VK_ERROR_INVALID_SHADER_NV)
#undef N
    default: return "VK_ERROR_(unknown)";
    }
}

dfx_status
dfx__vk_error (dfx_ctx *ctx, VkResult r, const char *what, const char *file, int line)
{
    dfx_status st = DFX_ERR_VULKAN;
    if (r == VK_ERROR_OUT_OF_DEVICE_MEMORY)
        st = DFX_ERR_OUT_OF_DEVICE_MEMORY;
    else if (r == VK_ERROR_OUT_OF_HOST_MEMORY)
        st = DFX_ERR_OUT_OF_HOST_MEMORY;
    /* Keep only the function name of the call text. */
    char fn[96];
    size_t i = 0;
    while (what[i] && what[i] != ' ' && what[i] != '(' && i + 1 < sizeof fn) {
        fn[i] = what[i];
        i++;
    }
    fn[i] = 0;
    return dfx__error (ctx, st, "%s failed: %s (%s:%d)", fn, dfx__vk_result_name (r), file, line);
}
