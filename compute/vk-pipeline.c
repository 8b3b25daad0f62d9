/* vk-pipeline.c — compute pipelines from the embedded SPIR-V table.
 *
 * A pipeline is keyed by (shader name, specialization constants) and created
 * once per context; the VkPipelineCache is loaded from and saved to disk per
 * device so later runs skip shader compilation (lavapipe keeps nothing in it:
 * it compiles a variant at its first dispatch and Mesa's own disk cache is
 * what saves that; DFX_PIPELINE_LOG=1 times both, see vk-cmd.c).
 * Descriptor layouts come from the bindings the SPIR-V declares (all storage
 * buffers, set 0).
 */
#include "dfx-private.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double
seconds (clockid_t clock)
{
    struct timespec ts;
    clock_gettime (clock, &ts);
    return (double) ts.tv_sec + 1e-9 * (double) ts.tv_nsec;
}

int
dfx__spirv_binding_count (const uint32_t *code, size_t size)
{
    size_t n = size / 4;
    if (n < 5 || code[0] != 0x07230203u)
        return -1;
    int count = 0;
    for (size_t i = 5; i < n;) {
        uint32_t words = code[i] >> 16, op = code[i] & 0xffffu;
        if (words == 0 || i + words > n)
            return -1;
        /* OpDecorate <id> Binding <n> */
        if (op == 71 && words >= 4 && code[i + 2] == 33 && code[i + 3] + 1 > (uint32_t) count)
            count = (int) code[i + 3] + 1;
        i += words;
    }
    return count;
}

static const dfx__spirv *
find_spirv (const char *name)
{
    for (size_t i = 0; i < dfx__spirv_count; i++)
        if (strcmp (dfx__spirv_table[i].name, name) == 0)
            return &dfx__spirv_table[i];
    return NULL;
}

/* One cache file per device, driver build (the cache UUID) and subgroup
 * size: lavapipe's subgroup size follows LP_NATIVE_VECTOR_WIDTH (8 lanes by
 * default, 16 at 512) with the same UUID, and its code for one width must
 * not be offered to a process running at the other. */
static void
cache_path (const dfx_ctx *ctx, char *buf, size_t size)
{
    char uuid[2 * VK_UUID_SIZE + 1];
    for (unsigned i = 0; i < VK_UUID_SIZE; i++)
        snprintf (uuid + 2 * i, 3, "%02x", ctx->props.pipelineCacheUUID[i]);
    snprintf (buf, size, "%s/pipelines-%04x-%04x-%s-sg%u.bin", ctx->cache_dir, ctx->props.vendorID,
              ctx->props.deviceID, uuid, ctx->subgroup_size);
}

static void
mkdir_p (const char *dir)
{
    char tmp[4096];
    snprintf (tmp, sizeof tmp, "%s", dir);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            mkdir (tmp, 0755);
            *p = '/';
        }
    mkdir (tmp, 0755);
}

dfx_status
dfx__pipeline_cache_open (dfx_ctx *ctx)
{
    dfx_status st = DFX_OK;
    void *data = NULL;
    size_t size = 0;
    if (ctx->cache_dir) {
        char path[4352];
        cache_path (ctx, path, sizeof path);
        FILE *f = fopen (path, "rb");
        if (f) {
            if (fseek (f, 0, SEEK_END) == 0) {
                long len = ftell (f);
                if (len > 0 && len < (64l << 20) && fseek (f, 0, SEEK_SET) == 0 && (data = malloc ((size_t) len))) {
                    size = fread (data, 1, (size_t) len, f);
                    if (size != (size_t) len)
                        size = 0;
                }
            }
            fclose (f);
        }
    }
    VkPipelineCacheCreateInfo ci = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO,
        .initialDataSize = size,
        .pInitialData = data,
    };
    VkResult r = vkCreatePipelineCache (ctx->device, &ci, NULL, &ctx->pipeline_cache);
    if (r != VK_SUCCESS && size) {
        /* A stale or foreign cache file: start empty. */
        ci.initialDataSize = 0;
        ci.pInitialData = NULL;
        r = vkCreatePipelineCache (ctx->device, &ci, NULL, &ctx->pipeline_cache);
    }
    free (data);
    DFX_VK_CHECK (ctx, r);
cleanup:
    return st;
}

void
dfx__pipeline_cache_save (dfx_ctx *ctx)
{
    if (!ctx->pipeline_cache)
        return;
    size_t size = 0;
    void *data = NULL;
    if (ctx->cache_dir && vkGetPipelineCacheData (ctx->device, ctx->pipeline_cache, &size, NULL) == VK_SUCCESS && size &&
        (data = malloc (size)) && vkGetPipelineCacheData (ctx->device, ctx->pipeline_cache, &size, data) == VK_SUCCESS) {
        char path[4352], tmp[4400];
        mkdir_p (ctx->cache_dir);
        cache_path (ctx, path, sizeof path);
        snprintf (tmp, sizeof tmp, "%s.%ld.tmp", path, (long) getpid ());
        FILE *f = fopen (tmp, "wb");
        /* Best effort: a cache that cannot be written only costs compile time. */
        if (f) {
            bool ok = fwrite (data, 1, size, f) == size;
            ok = fclose (f) == 0 && ok;
            if (!ok || rename (tmp, path) != 0)
                remove (tmp);
        }
    }
    free (data);
    vkDestroyPipelineCache (ctx->device, ctx->pipeline_cache, NULL);
    ctx->pipeline_cache = VK_NULL_HANDLE;
}

static dfx_status
create_pipeline (dfx_ctx *ctx, const dfx__spirv *sp, const uint32_t *spec, uint32_t n_spec, dfx__pipeline *pl)
{
    dfx_status st = DFX_OK;
    VkShaderModule module = VK_NULL_HANDLE;
    int nb = dfx__spirv_binding_count (sp->code, sp->size);
    if (nb < 0 || nb > DFX__MAX_BINDINGS)
        return dfx__error (ctx, DFX_ERR_SHADER, "embedded shader '%s' is not valid SPIR-V (or has %d bindings)", sp->name,
                           nb);
    pl->n_bindings = (uint32_t) nb;
    VkShaderModuleCreateInfo mi = {
        .sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
        .codeSize = sp->size,
        .pCode = sp->code,
    };
    VkResult r = vkCreateShaderModule (ctx->device, &mi, NULL, &module);
    if (r != VK_SUCCESS)
        return dfx__error (ctx, DFX_ERR_SHADER, "shader '%s' failed to load: vkCreateShaderModule: %s", sp->name,
                           dfx__vk_result_name (r));
    VkDescriptorSetLayoutBinding b[DFX__MAX_BINDINGS];
    for (int i = 0; i < nb; i++)
        b[i] = (VkDescriptorSetLayoutBinding){
            .binding = (uint32_t) i,
            .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
            .descriptorCount = 1,
            .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
        };
    VkDescriptorSetLayoutCreateInfo li = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
        .bindingCount = (uint32_t) nb,
        .pBindings = b,
    };
    DFX_VK_CHECK (ctx, vkCreateDescriptorSetLayout (ctx->device, &li, NULL, &pl->set_layout));
    VkPushConstantRange pc = {.stageFlags = VK_SHADER_STAGE_COMPUTE_BIT, .offset = 0, .size = DFX__PUSH_MAX};
    VkPipelineLayoutCreateInfo pli = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
        .setLayoutCount = 1,
        .pSetLayouts = &pl->set_layout,
        .pushConstantRangeCount = 1,
        .pPushConstantRanges = &pc,
    };
    DFX_VK_CHECK (ctx, vkCreatePipelineLayout (ctx->device, &pli, NULL, &pl->layout));
    VkSpecializationMapEntry entries[DFX__MAX_SPEC];
    for (uint32_t i = 0; i < n_spec; i++)
        entries[i] = (VkSpecializationMapEntry){.constantID = i, .offset = 4 * i, .size = 4};
    VkSpecializationInfo si = {
        .mapEntryCount = n_spec,
        .pMapEntries = entries,
        .dataSize = 4 * n_spec,
        .pData = spec,
    };
    VkComputePipelineCreateInfo ci = {
        .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
        .stage =
            {
                .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
                .stage = VK_SHADER_STAGE_COMPUTE_BIT,
                .module = module,
                .pName = "main",
                .pSpecializationInfo = n_spec ? &si : NULL,
            },
        .layout = pl->layout,
    };
    /* Vulkan has no compile timer: the creating thread's CPU time and the
     * wall time around the call (lavapipe compiles inside it, or hits
     * Mesa's disk cache). */
    double c0 = seconds (CLOCK_THREAD_CPUTIME_ID), w0 = seconds (CLOCK_MONOTONIC);
    r = vkCreateComputePipelines (ctx->device, ctx->pipeline_cache, 1, &ci, NULL, &pl->pipeline);
    double dc = seconds (CLOCK_THREAD_CPUTIME_ID) - c0, dw = seconds (CLOCK_MONOTONIC) - w0;
    if (ctx->pipeline_log) {
        char sp_text[16 * DFX__MAX_SPEC] = "";
        for (uint32_t i = 0, n = 0; i < n_spec && n < sizeof sp_text; i++)
            n += (uint32_t) snprintf (sp_text + n, sizeof sp_text - n, "%s%u", i ? "," : "", spec[i]);
        fprintf (stderr, "dfx pipeline %-18s [%s] cpu %.3f s wall %.3f s\n", sp->name, sp_text, dc, dw);
    }
    if (r != VK_SUCCESS) {
        pl->pipeline = VK_NULL_HANDLE;
        st = dfx__error (ctx, DFX_ERR_SHADER, "shader '%s' failed to compile on %s: vkCreateComputePipelines: %s",
                         sp->name, ctx->props.deviceName, dfx__vk_result_name (r));
    }
cleanup:
    vkDestroyShaderModule (ctx->device, module, NULL);
    return st;
}

static void
pipeline_release (dfx_ctx *ctx, dfx__pipeline *pl)
{
    if (pl->pipeline)
        vkDestroyPipeline (ctx->device, pl->pipeline, NULL);
    if (pl->layout)
        vkDestroyPipelineLayout (ctx->device, pl->layout, NULL);
    if (pl->set_layout)
        vkDestroyDescriptorSetLayout (ctx->device, pl->set_layout, NULL);
}

dfx_status
dfx__pipeline_get (dfx_ctx *ctx, const char *shader, const uint32_t *spec, uint32_t n_spec, dfx__pipeline **out)
{
    if (n_spec > DFX__MAX_SPEC || strlen (shader) >= sizeof ((dfx__pipeline *) 0)->name)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "shader '%s': too many specialization constants", shader);
    for (int i = 0; i < ctx->n_pipelines; i++) {
        dfx__pipeline *p = &ctx->pipelines[i];
        if (p->n_spec == n_spec && strcmp (p->name, shader) == 0 && memcmp (p->spec, spec, 4 * n_spec) == 0) {
            *out = p;
            return DFX_OK;
        }
    }
    const dfx__spirv *sp = find_spirv (shader);
    if (!sp)
        return dfx__error (ctx, DFX_ERR_SHADER, "shader '%s' is not in libdfx's embedded SPIR-V table", shader);
    if (ctx->n_pipelines == ctx->cap_pipelines) {
        int cap = ctx->cap_pipelines ? 2 * ctx->cap_pipelines : 32;
        dfx__pipeline *np = realloc (ctx->pipelines, (size_t) cap * sizeof *np);
        if (!np)
            return dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory creating pipeline '%s'", shader);
        ctx->pipelines = np;
        ctx->cap_pipelines = cap;
    }
    dfx__pipeline pl;
    memset (&pl, 0, sizeof pl);
    snprintf (pl.name, sizeof pl.name, "%s", shader);
    memcpy (pl.spec, spec, 4 * n_spec);
    pl.n_spec = n_spec;
    dfx_status st = create_pipeline (ctx, sp, spec, n_spec, &pl);
    if (st != DFX_OK) {
        pipeline_release (ctx, &pl);
        return st;
    }
    ctx->pipelines[ctx->n_pipelines] = pl;
    *out = &ctx->pipelines[ctx->n_pipelines++];
    return DFX_OK;
}

void
dfx__pipelines_destroy (dfx_ctx *ctx)
{
    for (int i = 0; i < ctx->n_pipelines; i++)
        pipeline_release (ctx, &ctx->pipelines[i]);
    free (ctx->pipelines);
    ctx->pipelines = NULL;
    ctx->n_pipelines = ctx->cap_pipelines = 0;
}
