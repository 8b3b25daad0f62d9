/* dfx-private.h — internals shared by the files of libdfx.
 *
 * The context, buffer and pipeline structures, the error helpers and the
 * Vulkan recording interface every op uses (dfx__dispatch).  Nothing here is
 * public; front ends include only dfx.h.
 */
#ifndef DFX_PRIVATE_H
#define DFX_PRIVATE_H

#include "dfx.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <vulkan/vulkan.h>

#define DFX__ERRMSG_MAX 1024
#define DFX__MAX_BINDINGS 8
#define DFX__MAX_SPEC 16
#define DFX__PUSH_MAX 128

/* One allocation hook for the whole library (stb habit). */
#define dfx__calloc(n, size) calloc ((n), (size))
#define dfx__free(p) free (p)

/* An embedded SPIR-V module (generated table, see shaders/meson.build). */
typedef struct dfx__spirv {
    const char *name;
    const uint32_t *code;
    size_t size; /* bytes */
} dfx__spirv;

extern const dfx__spirv dfx__spirv_table[];
extern const size_t dfx__spirv_count;

typedef struct dfx__pipeline {
    char name[64];
    uint32_t spec[DFX__MAX_SPEC];
    uint32_t n_spec;
    uint32_t n_bindings;
    bool used;              /* dispatched at least once */
    VkDescriptorSetLayout set_layout;
    VkPipelineLayout layout;
    VkPipeline pipeline;
} dfx__pipeline;

/* Resources that must outlive the submit that uses them. */
typedef struct dfx__deferred {
    VkBuffer buffer;
    VkDeviceMemory memory;
} dfx__deferred;

struct dfx_buffer {
    VkBuffer buffer;
    VkDeviceMemory memory;
    void *mapped;           /* non-NULL when the memory is host-visible and coherent */
    size_t size;
    uint64_t last_write;    /* barrier epoch of the last recorded write, 0 = none */
    uint64_t last_access;   /* barrier epoch of the last recorded read or write */
};

#define DFX__PROFILE_QUERIES 4096
#define DFX__PROFILE_KERNELS 64

typedef struct dfx__profile {
    bool on;
    VkQueryPool pool;
    double period_ns;
    uint32_t n_queries;                 /* written in the current batch */
    int batch_kernel[DFX__PROFILE_QUERIES]; /* kernel index of dispatch i of the batch */
    dfx_profile_entry kernels[DFX__PROFILE_KERNELS];
    int n_kernels;
} dfx__profile;

struct dfx_ctx {
    char errmsg[DFX__ERRMSG_MAX];
    char *cache_dir;
    char *model_variant;    /* weights variant of model folders ("fp16"); NULL: the default rule */

    VkInstance instance;
    VkDebugUtilsMessengerEXT messenger;
    int validation_errors;
    char validation_msg[512];

    int n_physical;
    VkPhysicalDevice *physical;
    int device_index;
    VkPhysicalDevice pdev;
    VkPhysicalDeviceProperties props;
    VkPhysicalDeviceMemoryProperties mem_props;
    uint32_t subgroup_size;
    bool kernels_generic;   /* DFX_KERNELS=generic: no per-device kernel variants (ops-private.h) */
    VkDeviceSize max_alloc;
    VkDevice device;
    uint32_t queue_family;
    VkQueue queue;

    VkPipelineCache pipeline_cache;
    dfx__pipeline *pipelines;
    int n_pipelines, cap_pipelines;
    bool pipeline_log;         /* DFX_PIPELINE_LOG=1: stderr lines on pipeline creation and first dispatch */

    /* The recording: one command buffer, submitted by dfx_ctx_flush. */
    VkCommandPool cmd_pool;
    VkCommandBuffer cmd;
    VkFence fence;
    bool recording;
    uint64_t epoch;         /* incremented by every barrier; starts at 1 */
    int n_recorded;
    VkDescriptorPool *desc_pools;
    int n_desc_pools, cur_desc_pool;
    dfx__deferred *deferred;
    int n_deferred, cap_deferred;
    uint32_t timestamp_bits;   /* of the compute queue; 0: no timestamps */
    dfx__profile *profile;     /* NULL until profiling is first enabled */
};

/* Sets ctx's message and returns status.  printf-style. */
dfx_status dfx__error (dfx_ctx *ctx, dfx_status status, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

/* Records a failed Vulkan call: "<what> failed: VK_ERROR_X (file:line)". */
dfx_status dfx__vk_error (dfx_ctx *ctx, VkResult r, const char *what, const char *file, int line);

const char *dfx__vk_result_name (VkResult r);

/* Vulkan check: on failure record the error and jump to the local label
 * `cleanup` with `st` set.  The enclosing function declares dfx_status st. */
#define DFX_VK_CHECK(ctx, call)                                                   \
    do {                                                                          \
        VkResult vk_r_ = (call);                                                  \
        if (vk_r_ != VK_SUCCESS) {                                                \
            st = dfx__vk_error ((ctx), vk_r_, #call, __FILE__, __LINE__);         \
            goto cleanup;                                                         \
        }                                                                         \
    } while (0)

/* Same for dfx calls returning dfx_status. */
#define DFX_CHECK(call)                                                           \
    do {                                                                          \
        st = (call);                                                              \
        if (st != DFX_OK)                                                         \
            goto cleanup;                                                         \
    } while (0)

/* vk-device.c */
dfx_status dfx__device_open (dfx_ctx *ctx, const dfx_ctx_options *opt);
void dfx__device_close (dfx_ctx *ctx);

/* vk-buffer.c: raw allocation of a VkBuffer with memory of the given flags. */
dfx_status dfx__buffer_alloc (dfx_ctx *ctx, VkDeviceSize size, VkBufferUsageFlags usage,
                              VkMemoryPropertyFlags want, VkMemoryPropertyFlags avoid,
                              VkBuffer *buffer, VkDeviceMemory *memory, void **mapped);

/* vk-pipeline.c */
dfx_status dfx__pipeline_get (dfx_ctx *ctx, const char *shader, const uint32_t *spec, uint32_t n_spec,
                              dfx__pipeline **out);
void dfx__pipelines_destroy (dfx_ctx *ctx);
dfx_status dfx__pipeline_cache_open (dfx_ctx *ctx);
void dfx__pipeline_cache_save (dfx_ctx *ctx);
/* Largest binding index + 1 declared in a SPIR-V module, or -1 if malformed. */
int dfx__spirv_binding_count (const uint32_t *code, size_t size);

/* vk-cmd.c: the recording. */
typedef struct dfx__dispatch_desc {
    const char *shader;
    uint32_t spec[DFX__MAX_SPEC]; /* constant_id i = spec[i] */
    uint32_t n_spec;
    dfx_buffer *bufs[DFX__MAX_BINDINGS]; /* binding i = bufs[i] */
    uint32_t n_bufs;
    uint32_t write_mask;          /* bit i set: binding i is written */
    const void *push;
    uint32_t push_size;
    uint32_t groups[3];
} dfx__dispatch_desc;

dfx_status dfx__dispatch (dfx_ctx *ctx, const dfx__dispatch_desc *d);
dfx_status dfx__cmd_begin (dfx_ctx *ctx);
/* Inserts a barrier before an access of buf if an earlier recorded access
 * conflicts; marks the access.  Used by dispatches and copies alike. */
void dfx__cmd_track (dfx_ctx *ctx, dfx_buffer *const *bufs, uint32_t n, uint32_t write_mask);
dfx_status dfx__cmd_defer (dfx_ctx *ctx, VkBuffer buffer, VkDeviceMemory memory);
void dfx__cmd_destroy (dfx_ctx *ctx);

/* vk-profile.c: timestamps around dispatches (no-ops unless enabled). */
void dfx__profile_begin_batch (dfx_ctx *ctx);
void dfx__profile_after_dispatch (dfx_ctx *ctx, const char *shader);
void dfx__profile_end_batch (dfx_ctx *ctx); /* after the fence */
void dfx__profile_destroy (dfx_ctx *ctx);

/* Number of workgroups covering n items, groups of `per` items, capped to the
 * device limit (kernels loop over the remainder). */
uint32_t dfx__groups_1d (const dfx_ctx *ctx, size_t n, uint32_t per);

/* ctx.c: a monotonic clock in seconds (the results' timings). */
double dfx__now (void);

#endif /* DFX_PRIVATE_H */
