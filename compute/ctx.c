/* ctx.c — the dfx context: options, error messages, status names, lifetime.
 *
 * The context owns everything else (device, pipelines, recording); it is the
 * one place errors are stored.  Device work lives in vk-*.c, not here.
 */
#include "dfx-private.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

const char *
dfx_status_name (dfx_status status)
{
    switch (status) {
    case DFX_OK: return "DFX_OK";
    case DFX_ERR_INVALID_ARGUMENT: return "DFX_ERR_INVALID_ARGUMENT";
    case DFX_ERR_NO_DEVICE: return "DFX_ERR_NO_DEVICE";
    case DFX_ERR_VULKAN: return "DFX_ERR_VULKAN";
    case DFX_ERR_OUT_OF_HOST_MEMORY: return "DFX_ERR_OUT_OF_HOST_MEMORY";
    case DFX_ERR_OUT_OF_DEVICE_MEMORY: return "DFX_ERR_OUT_OF_DEVICE_MEMORY";
    case DFX_ERR_SHADER: return "DFX_ERR_SHADER";
    case DFX_ERR_IO: return "DFX_ERR_IO";
    case DFX_ERR_FORMAT: return "DFX_ERR_FORMAT";
    case DFX_ERR_UNSUPPORTED: return "DFX_ERR_UNSUPPORTED";
    case DFX_ERR_CANCELLED: return "DFX_ERR_CANCELLED";
    }
    return "DFX_ERR_UNKNOWN";
}

dfx_status
dfx__error (dfx_ctx *ctx, dfx_status status, const char *fmt, ...)
{
    if (ctx) {
        va_list ap;
        va_start (ap, fmt);
        vsnprintf (ctx->errmsg, sizeof ctx->errmsg, fmt, ap);
        va_end (ap);
    }
    return status;
}

const char *
dfx_ctx_errmsg (const dfx_ctx *ctx)
{
    return ctx ? ctx->errmsg : "out of host memory";
}

void
dfx_ctx_options_defaults (dfx_ctx_options *opt)
{
    memset (opt, 0, sizeof *opt);
    opt->device = getenv ("DFX_DEVICE");
    /* Debug builds validate by default; DFX_VALIDATION=0/1 decides otherwise. */
#ifndef DFX_DEFAULT_VALIDATION
#define DFX_DEFAULT_VALIDATION 0
#endif
    const char *v = getenv ("DFX_VALIDATION");
    opt->validation = v && *v ? strcmp (v, "0") != 0 : DFX_DEFAULT_VALIDATION;
    opt->pipeline_cache_dir = getenv ("DFX_PIPELINE_CACHE");
    opt->model_variant = getenv ("DFX_VARIANT");
}

static char *
default_cache_dir (void)
{
    const char *xdg = getenv ("XDG_CACHE_HOME");
    const char *home = getenv ("HOME");
    char buf[4096];
    if (xdg && *xdg)
        snprintf (buf, sizeof buf, "%s/dfx", xdg);
    else if (home && *home)
        snprintf (buf, sizeof buf, "%s/.cache/dfx", home);
    else
        return NULL;
    return strdup (buf);
}

dfx_status
dfx_ctx_create (const dfx_ctx_options *opt, dfx_ctx **out)
{
    dfx_ctx_options defaults;
    if (!opt) {
        dfx_ctx_options_defaults (&defaults);
        opt = &defaults;
    }
    *out = NULL;
    dfx_ctx *ctx = dfx__calloc (1, sizeof *ctx);
    if (!ctx)
        return DFX_ERR_OUT_OF_HOST_MEMORY;
    *out = ctx;
    ctx->device_index = -1;
    ctx->epoch = 1;
    const char *kernels = getenv ("DFX_KERNELS");
    ctx->kernels_generic = kernels && strcmp (kernels, "generic") == 0;
    const char *plog = getenv ("DFX_PIPELINE_LOG");
    ctx->pipeline_log = plog && *plog && strcmp (plog, "0") != 0;
    if (opt->pipeline_cache_dir)
        ctx->cache_dir = *opt->pipeline_cache_dir ? strdup (opt->pipeline_cache_dir) : NULL;
    else
        ctx->cache_dir = default_cache_dir ();
    if (opt->model_variant && *opt->model_variant && !(ctx->model_variant = strdup (opt->model_variant)))
        return dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory");
    if (opt->offline)
        return DFX_OK;
    dfx_status st = dfx__device_open (ctx, opt);
    /* DFX_MAX_BUFFER=<bytes> lowers the storage-buffer range dfx plans with
     * (never raises it): a device with less room, for tests of the chunked
     * paths and for drivers that misreport it.  At least 1 MiB. */
    const char *maxbuf = getenv ("DFX_MAX_BUFFER");
    if (st == DFX_OK && maxbuf && *maxbuf) {
        char *end = NULL;
        unsigned long long v = strtoull (maxbuf, &end, 10);
        if (*end || v < (1ull << 20))
            return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT,
                               "DFX_MAX_BUFFER='%s' is not a byte count of at least 1048576", maxbuf);
        if (v < ctx->props.limits.maxStorageBufferRange)
            ctx->props.limits.maxStorageBufferRange = (uint32_t) v;
    }
    return st;
}

void
dfx_ctx_destroy (dfx_ctx *ctx)
{
    if (!ctx)
        return;
    if (ctx->device) {
        vkDeviceWaitIdle (ctx->device);
        dfx__cmd_destroy (ctx);
        dfx__pipeline_cache_save (ctx);
        dfx__pipelines_destroy (ctx);
    }
    dfx__device_close (ctx);
    dfx__free (ctx->cache_dir);
    free (ctx->model_variant);
    dfx__free (ctx);
}

uint32_t
dfx__groups_1d (const dfx_ctx *ctx, size_t n, uint32_t per)
{
    size_t g = (n + per - 1) / per;
    size_t max = ctx->props.limits.maxComputeWorkGroupCount[0];
    if (max > 65535)
        max = 65535;
    if (g > max)
        g = max;
    return g ? (uint32_t) g : 1;
}

double
dfx__now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + 1e-9 * (double) ts.tv_nsec;
}
