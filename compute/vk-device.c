/* vk-device.c — Vulkan instance, device enumeration, selection and creation.
 *
 * Picks a compute-capable device (discrete GPU > integrated > virtual > CPU,
 * or the one DFX_DEVICE names), creates it with one compute queue and
 * optionally the Khronos validation layer.  Buffers, pipelines and recording
 * live in their own vk-*.c files.
 */
#include "dfx-private.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static VKAPI_ATTR VkBool32 VKAPI_CALL
on_validation (VkDebugUtilsMessageSeverityFlagBitsEXT severity, VkDebugUtilsMessageTypeFlagsEXT type,
               const VkDebugUtilsMessengerCallbackDataEXT *data, void *user)
{
    dfx_ctx *ctx = user;
    if (severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT) {
        if (ctx->validation_errors++ == 0)
            snprintf (ctx->validation_msg, sizeof ctx->validation_msg, "%s", data->pMessage);
        fprintf (stderr, "dfx: validation: %s\n", data->pMessage);
    }
    return VK_FALSE;
}

static bool
has_layer (const char *name)
{
    uint32_t n = 0;
    if (vkEnumerateInstanceLayerProperties (&n, NULL) != VK_SUCCESS || n == 0)
        return false;
    VkLayerProperties *p = dfx__calloc (n, sizeof *p);
    bool found = false;
    if (p && vkEnumerateInstanceLayerProperties (&n, p) == VK_SUCCESS)
        for (uint32_t i = 0; i < n && !found; i++)
            found = strcmp (p[i].layerName, name) == 0;
    dfx__free (p);
    return found;
}

static bool
has_instance_extension (const char *name)
{
    uint32_t n = 0;
    if (vkEnumerateInstanceExtensionProperties (NULL, &n, NULL) != VK_SUCCESS || n == 0)
        return false;
    VkExtensionProperties *p = dfx__calloc (n, sizeof *p);
    bool found = false;
    if (p && vkEnumerateInstanceExtensionProperties (NULL, &n, p) == VK_SUCCESS)
        for (uint32_t i = 0; i < n && !found; i++)
            found = strcmp (p[i].extensionName, name) == 0;
    dfx__free (p);
    return found;
}

static int
compute_family (VkPhysicalDevice pd)
{
    uint32_t n = 0;
    vkGetPhysicalDeviceQueueFamilyProperties (pd, &n, NULL);
    VkQueueFamilyProperties q[32];
    if (n > 32)
        n = 32;
    vkGetPhysicalDeviceQueueFamilyProperties (pd, &n, q);
    int best = -1;
    for (uint32_t i = 0; i < n; i++) {
        if (!(q[i].queueFlags & VK_QUEUE_COMPUTE_BIT))
            continue;
        /* Prefer a dedicated compute family (no graphics). */
        if (best < 0 || !(q[i].queueFlags & VK_QUEUE_GRAPHICS_BIT))
            best = (int) i;
    }
    return best;
}

static int
type_rank (VkPhysicalDeviceType t)
{
    switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return 4;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return 3;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return 2;
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return 1;
    default: return 0;
    }
}

static bool
contains_nocase (const char *hay, const char *needle)
{
    size_t n = strlen (needle);
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i] && tolower ((unsigned char) hay[i]) == tolower ((unsigned char) needle[i]))
            i++;
        if (i == n)
            return true;
    }
    return n == 0;
}

/* Appends "0: name, 1: name" to buf for error messages. */
static void
list_devices (dfx_ctx *ctx, char *buf, size_t size)
{
    buf[0] = 0;
    size_t len = 0;
    for (int i = 0; i < ctx->n_physical && len + 1 < size; i++) {
        VkPhysicalDeviceProperties p;
        vkGetPhysicalDeviceProperties (ctx->physical[i], &p);
        len += (size_t) snprintf (buf + len, size - len, "%s%d: %s", i ? ", " : "", i, p.deviceName);
    }
}

static dfx_status
select_device (dfx_ctx *ctx, const char *want)
{
    char names[512];
    if (want && *want) {
        char *end = NULL;
        long idx = strtol (want, &end, 10);
        bool numeric = end && *end == 0;
        for (int i = 0; i < ctx->n_physical; i++) {
            VkPhysicalDeviceProperties p;
            vkGetPhysicalDeviceProperties (ctx->physical[i], &p);
            if (numeric ? idx == i : contains_nocase (p.deviceName, want)) {
                if (compute_family (ctx->physical[i]) < 0)
                    return dfx__error (ctx, DFX_ERR_NO_DEVICE, "Vulkan device %d (%s) chosen by DFX_DEVICE=%s has no compute queue",
                                       i, p.deviceName, want);
                ctx->device_index = i;
                return DFX_OK;
            }
        }
        list_devices (ctx, names, sizeof names);
        return dfx__error (ctx, DFX_ERR_NO_DEVICE, "no Vulkan device matches DFX_DEVICE=%s (devices: %s)", want,
                           names[0] ? names : "none");
    }
    int best = -1, best_rank = -1;
    for (int i = 0; i < ctx->n_physical; i++) {
        VkPhysicalDeviceProperties p;
        vkGetPhysicalDeviceProperties (ctx->physical[i], &p);
        if (compute_family (ctx->physical[i]) < 0 || p.apiVersion < VK_API_VERSION_1_1)
            continue;
        int r = type_rank (p.deviceType);
        if (r > best_rank) {
            best = i;
            best_rank = r;
        }
    }
    if (best < 0)
        return dfx__error (ctx, DFX_ERR_NO_DEVICE, "no Vulkan device with a compute queue and Vulkan 1.1 was found "
                                                   "(install a Vulkan driver, e.g. mesa-vulkan-drivers for lavapipe)");
    ctx->device_index = best;
    return DFX_OK;
}

static dfx_status
create_instance (dfx_ctx *ctx, const dfx_ctx_options *opt)
{
    dfx_status st = DFX_OK;
    const char *layers[1];
    const char *exts[1];
    uint32_t n_layers = 0, n_exts = 0;
    bool debug = false;
    if (opt->validation && has_layer ("VK_LAYER_KHRONOS_validation")) {
        layers[n_layers++] = "VK_LAYER_KHRONOS_validation";
        if (has_instance_extension (VK_EXT_DEBUG_UTILS_EXTENSION_NAME)) {
            exts[n_exts++] = VK_EXT_DEBUG_UTILS_EXTENSION_NAME;
            debug = true;
        }
    }
    VkApplicationInfo app = {
        .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
        .pApplicationName = "dfx",
        .pEngineName = "libdfx",
        .apiVersion = VK_API_VERSION_1_1,
    };
    VkInstanceCreateInfo ci = {
        .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
        .pApplicationInfo = &app,
        .enabledLayerCount = n_layers,
        .ppEnabledLayerNames = layers,
        .enabledExtensionCount = n_exts,
        .ppEnabledExtensionNames = exts,
    };
    VkResult r = vkCreateInstance (&ci, NULL, &ctx->instance);
    if (r == VK_ERROR_INCOMPATIBLE_DRIVER || r == VK_ERROR_INITIALIZATION_FAILED) {
        ctx->instance = VK_NULL_HANDLE;
        return dfx__error (ctx, DFX_ERR_NO_DEVICE, "no Vulkan driver could be loaded (vkCreateInstance: %s); "
                                                   "install a Vulkan driver, e.g. mesa-vulkan-drivers for lavapipe",
                           dfx__vk_result_name (r));
    }
    DFX_VK_CHECK (ctx, r);
    if (debug) {
        PFN_vkCreateDebugUtilsMessengerEXT create =
            (PFN_vkCreateDebugUtilsMessengerEXT) vkGetInstanceProcAddr (ctx->instance, "vkCreateDebugUtilsMessengerEXT");
        VkDebugUtilsMessengerCreateInfoEXT mi = {
            .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
            .messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT,
            .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT,
            .pfnUserCallback = on_validation,
            .pUserData = ctx,
        };
        if (create)
            DFX_VK_CHECK (ctx, create (ctx->instance, &mi, NULL, &ctx->messenger));
    }
cleanup:
    return st;
}

static dfx_status
create_device (dfx_ctx *ctx)
{
    dfx_status st = DFX_OK;
    ctx->pdev = ctx->physical[ctx->device_index];
    vkGetPhysicalDeviceProperties (ctx->pdev, &ctx->props);
    vkGetPhysicalDeviceMemoryProperties (ctx->pdev, &ctx->mem_props);
    VkPhysicalDeviceMaintenance3Properties m3 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES};
    VkPhysicalDeviceSubgroupProperties sg = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES, .pNext = &m3};
    VkPhysicalDeviceProperties2 p2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &sg};
    vkGetPhysicalDeviceProperties2 (ctx->pdev, &p2);
    ctx->subgroup_size = sg.subgroupSize;
    ctx->max_alloc = m3.maxMemoryAllocationSize;
    ctx->queue_family = (uint32_t) compute_family (ctx->pdev);
    {
        uint32_t nq = 0;
        VkQueueFamilyProperties qp[32];
        vkGetPhysicalDeviceQueueFamilyProperties (ctx->pdev, &nq, NULL);
        nq = nq > 32 ? 32 : nq;
        vkGetPhysicalDeviceQueueFamilyProperties (ctx->pdev, &nq, qp);
        ctx->timestamp_bits = ctx->queue_family < nq ? qp[ctx->queue_family].timestampValidBits : 0;
    }

    float prio = 1.0f;
    VkDeviceQueueCreateInfo qi = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
        .queueFamilyIndex = ctx->queue_family,
        .queueCount = 1,
        .pQueuePriorities = &prio,
    };
    VkDeviceCreateInfo di = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
        .queueCreateInfoCount = 1,
        .pQueueCreateInfos = &qi,
    };
    VkResult r = vkCreateDevice (ctx->pdev, &di, NULL, &ctx->device);
    if (r != VK_SUCCESS) {
        ctx->device = VK_NULL_HANDLE;
        return dfx__error (ctx, r == VK_ERROR_OUT_OF_DEVICE_MEMORY ? DFX_ERR_OUT_OF_DEVICE_MEMORY : DFX_ERR_NO_DEVICE,
                           "Vulkan device %d (%s) could not be created: vkCreateDevice: %s", ctx->device_index,
                           ctx->props.deviceName, dfx__vk_result_name (r));
    }
    vkGetDeviceQueue (ctx->device, ctx->queue_family, 0, &ctx->queue);
    VkCommandPoolCreateInfo pi = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
        .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
        .queueFamilyIndex = ctx->queue_family,
    };
    DFX_VK_CHECK (ctx, vkCreateCommandPool (ctx->device, &pi, NULL, &ctx->cmd_pool));
    VkCommandBufferAllocateInfo ai = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
        .commandPool = ctx->cmd_pool,
        .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
        .commandBufferCount = 1,
    };
    DFX_VK_CHECK (ctx, vkAllocateCommandBuffers (ctx->device, &ai, &ctx->cmd));
    VkFenceCreateInfo fi = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    DFX_VK_CHECK (ctx, vkCreateFence (ctx->device, &fi, NULL, &ctx->fence));
    DFX_CHECK (dfx__pipeline_cache_open (ctx));
cleanup:
    return st;
}

dfx_status
dfx__device_open (dfx_ctx *ctx, const dfx_ctx_options *opt)
{
    dfx_status st = DFX_OK;
    DFX_CHECK (create_instance (ctx, opt));
    uint32_t n = 0;
    DFX_VK_CHECK (ctx, vkEnumeratePhysicalDevices (ctx->instance, &n, NULL));
    if (n > 0) {
        ctx->physical = dfx__calloc (n, sizeof *ctx->physical);
        if (!ctx->physical)
            return dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory listing Vulkan devices");
        DFX_VK_CHECK (ctx, vkEnumeratePhysicalDevices (ctx->instance, &n, ctx->physical));
    }
    ctx->n_physical = (int) n;
    DFX_CHECK (select_device (ctx, opt->device));
    if (opt->enumerate_only)
        return DFX_OK;
    DFX_CHECK (create_device (ctx));
cleanup:
    return st;
}

void
dfx__device_close (dfx_ctx *ctx)
{
    if (ctx->device) {
        if (ctx->fence)
            vkDestroyFence (ctx->device, ctx->fence, NULL);
        if (ctx->cmd_pool)
            vkDestroyCommandPool (ctx->device, ctx->cmd_pool, NULL);
        vkDestroyDevice (ctx->device, NULL);
    }
    if (ctx->messenger) {
        PFN_vkDestroyDebugUtilsMessengerEXT destroy =
            (PFN_vkDestroyDebugUtilsMessengerEXT) vkGetInstanceProcAddr (ctx->instance, "vkDestroyDebugUtilsMessengerEXT");
        if (destroy)
            destroy (ctx->instance, ctx->messenger, NULL);
    }
    if (ctx->instance)
        vkDestroyInstance (ctx->instance, NULL);
    dfx__free (ctx->physical);
}

int
dfx_ctx_device_count (const dfx_ctx *ctx)
{
    return ctx ? ctx->n_physical : 0;
}

int
dfx_ctx_device_index (const dfx_ctx *ctx)
{
    return ctx ? ctx->device_index : -1;
}

const char *
dfx_device_type_name (dfx_device_type type)
{
    switch (type) {
    case DFX_DEVICE_INTEGRATED_GPU: return "integrated GPU";
    case DFX_DEVICE_DISCRETE_GPU: return "discrete GPU";
    case DFX_DEVICE_VIRTUAL_GPU: return "virtual GPU";
    case DFX_DEVICE_CPU: return "CPU";
    default: return "other";
    }
}

dfx_status
dfx_ctx_device_info (dfx_ctx *ctx, int i, dfx_device_info *out)
{
    if (!ctx || i < 0 || i >= ctx->n_physical)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "device index %d out of range (0..%d)", i,
                           ctx ? ctx->n_physical - 1 : -1);
    memset (out, 0, sizeof *out);
    VkPhysicalDevice pd = ctx->physical[i];
    VkPhysicalDeviceDriverProperties drv = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES};
    VkPhysicalDeviceSubgroupProperties sg = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES};
    VkPhysicalDeviceProperties2 p2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &sg};
    VkPhysicalDeviceProperties basic;
    vkGetPhysicalDeviceProperties (pd, &basic);
    if (basic.apiVersion >= VK_API_VERSION_1_2)
        sg.pNext = &drv;
    vkGetPhysicalDeviceProperties2 (pd, &p2);
    const VkPhysicalDeviceProperties *p = &p2.properties;
    snprintf (out->name, sizeof out->name, "%s", p->deviceName);
    snprintf (out->driver_name, sizeof out->driver_name, "%s", drv.driverName);
    snprintf (out->driver_info, sizeof out->driver_info, "%s", drv.driverInfo);
    switch (p->deviceType) {
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: out->type = DFX_DEVICE_INTEGRATED_GPU; break;
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: out->type = DFX_DEVICE_DISCRETE_GPU; break;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: out->type = DFX_DEVICE_VIRTUAL_GPU; break;
    case VK_PHYSICAL_DEVICE_TYPE_CPU: out->type = DFX_DEVICE_CPU; break;
    default: out->type = DFX_DEVICE_OTHER; break;
    }
    out->vendor_id = p->vendorID;
    out->device_id = p->deviceID;
    out->api_version = p->apiVersion;
    out->subgroup_size = sg.subgroupSize;
    out->max_workgroup_invocations = p->limits.maxComputeWorkGroupInvocations;
    out->max_shared_memory = p->limits.maxComputeSharedMemorySize;
    out->compute_capable = compute_family (pd) >= 0;
    VkPhysicalDeviceMemoryProperties mp;
    vkGetPhysicalDeviceMemoryProperties (pd, &mp);
    out->heap_count = (int) (mp.memoryHeapCount < 16 ? mp.memoryHeapCount : 16);
    for (int h = 0; h < out->heap_count; h++) {
        out->heaps[h].size = mp.memoryHeaps[h].size;
        out->heaps[h].device_local = (mp.memoryHeaps[h].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) != 0;
    }
    return DFX_OK;
}
