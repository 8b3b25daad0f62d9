/* fft.c — 2-D complex FFTs on the device through VkFFT (Debian 13's
 * libvkfft-dev 1.3.4, header-only, Vulkan backend), for the spectral
 * Gaussian skip.
 *
 * VkFFT builds its kernels at plan time with glslang (linked statically,
 * RUNTIME.md) and submits a few command buffers of its own on the context's
 * queue, pool and fence, so plan creation first runs the recorded work.
 * Appending only records into the context's command buffer: the buffer's
 * hazard tracking puts a barrier before the first pass; VkFFT separates its
 * own passes; the buffer is marked written so the next reader waits.  The
 * plan always runs on the one buffer it was made for (VkFFT would rewrite
 * its descriptor sets for another, which a recording must not see).
 *
 * Building a plan compiles GLSL with glslang (about 0.5 s on lavapipe), so
 * the SPIR-V VkFFT generates is kept on disk beside the pipeline cache
 * (vkfft-<device>-<W>x<H>x<batch>.bin, with a checksummed header; a file that
 * does not check out is ignored and rewritten) and loaded by later runs.
 *
 * Built as its own static library with warnings off: the header is not
 * ours.  Nothing else in libdfx includes vkFFT.h.
 */
#define VKFFT_BACKEND 0
#include <vkFFT.h>

#include "sample-private.h"

#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#define CACHE_MAGIC "DFXVKFFT"
#define CACHE_VERSION 1u
#define CACHE_MAX (64u << 20)

typedef struct cache_header {
    char magic[8];
    uint32_t version, vkfft_version;
    uint64_t size, hash;
} cache_header;

static uint64_t
fnv1a (const unsigned char *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

static int
cache_path (const dfx_ctx *ctx, uint32_t h, uint32_t w, uint32_t batch, char *buf, size_t size)
{
    if (!ctx->cache_dir)
        return 0;
    char uuid[2 * VK_UUID_SIZE + 1];
    for (int i = 0; i < VK_UUID_SIZE; i++)
        snprintf (uuid + 2 * i, 3, "%02x", ctx->props.pipelineCacheUUID[i]);
    int n = snprintf (buf, size, "%s/vkfft-%04x-%04x-%s-%ux%ux%u.bin", ctx->cache_dir, ctx->props.vendorID,
                      ctx->props.deviceID, uuid, w, h, batch);
    return n > 0 && (size_t) n < size;
}

/* The cached binaries, or NULL (free with free()). */
static void *
cache_load (const char *path)
{
    FILE *f = fopen (path, "rb");
    if (!f)
        return NULL;
    cache_header hd;
    void *data = NULL;
    if (fread (&hd, sizeof hd, 1, f) == 1 && memcmp (hd.magic, CACHE_MAGIC, 8) == 0 &&
        hd.version == CACHE_VERSION && hd.vkfft_version == (uint32_t) VkFFTGetVersion () && hd.size > 0 &&
        hd.size <= CACHE_MAX && (data = malloc (hd.size)) && fread (data, 1, hd.size, f) == hd.size &&
        fnv1a (data, hd.size) == hd.hash) {
        fclose (f);
        return data;
    }
    free (data);
    fclose (f);
    return NULL;
}

static void
cache_save (const dfx_ctx *ctx, const char *path, const void *data, size_t size)
{
    if (!data || !size || size > CACHE_MAX)
        return;
    mkdir (ctx->cache_dir, 0755); /* the pipeline cache makes the parents; fine if it exists */
    char tmp[4200];
    snprintf (tmp, sizeof tmp, "%s.%ld.tmp", path, (long) getpid ());
    FILE *f = fopen (tmp, "wb");
    if (!f)
        return;
    cache_header hd = {CACHE_MAGIC, CACHE_VERSION, (uint32_t) VkFFTGetVersion (), size, fnv1a (data, size)};
    int ok = fwrite (&hd, sizeof hd, 1, f) == 1 && fwrite (data, 1, size, f) == size;
    ok &= fclose (f) == 0;
    if (!ok || rename (tmp, path) != 0)
        remove (tmp);
}

struct dfx__fft {
    dfx_ctx *ctx;
    dfx_buffer *buf;
    VkBuffer vkbuf;    /* stable storage: VkFFT keeps pointers */
    pfUINT size;
    VkFFTApplication app;
    int ready;
};

dfx_status
dfx__fft_create (dfx_ctx *ctx, uint32_t h, uint32_t w, uint32_t batch, dfx_buffer *buf, dfx__fft **out)
{
    *out = NULL;
    if (!h || !w || !batch || (uint64_t) h * w * batch * 8 > buf->size)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "FFT plan: %u × %ux%u complex values do not fit %zu bytes",
                           batch, w, h, buf->size);
    dfx_status st = dfx_ctx_flush (ctx);
    if (st != DFX_OK)
        return st;
    dfx__fft *f = calloc (1, sizeof *f);
    if (!f)
        return dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (FFT plan)");
    f->ctx = ctx;
    f->buf = buf;
    f->vkbuf = buf->buffer;
    f->size = (pfUINT) h * w * batch * 8;
    VkFFTConfiguration cfg;
    memset (&cfg, 0, sizeof cfg);
    cfg.FFTdim = 2;
    cfg.size[0] = w; /* x fastest */
    cfg.size[1] = h;
    cfg.numberBatches = batch;
    cfg.physicalDevice = &ctx->pdev;
    cfg.device = &ctx->device;
    cfg.queue = &ctx->queue;
    cfg.commandPool = &ctx->cmd_pool;
    cfg.fence = &ctx->fence;
    cfg.buffer = &f->vkbuf;
    cfg.bufferSize = &f->size;
    cfg.normalize = 1; /* the inverse divides by h·w */
    if (ctx->pipeline_cache != VK_NULL_HANDLE)
        cfg.pipelineCache = &ctx->pipeline_cache;
    char path[4096];
    int cached = cache_path (ctx, h, w, batch, path, sizeof path);
    void *bin = cached ? cache_load (path) : NULL;
    VkFFTResult r = VKFFT_ERROR_PLAN_NOT_INITIALIZED;
    if (bin) {
        cfg.loadApplicationFromString = 1;
        cfg.loadApplicationString = bin;
        r = initializeVkFFT (&f->app, cfg);
        cfg.loadApplicationFromString = 0;
        cfg.loadApplicationString = NULL;
        if (r != VKFFT_SUCCESS)
            memset (&f->app, 0, sizeof f->app); /* a stale file: build afresh below */
    }
    if (r != VKFFT_SUCCESS) {
        cfg.saveApplicationToString = cached;
        r = initializeVkFFT (&f->app, cfg);
        if (r == VKFFT_SUCCESS && cached)
            cache_save (ctx, path, f->app.saveApplicationString, (size_t) f->app.applicationStringSize);
    }
    free (bin);
    if (r != VKFFT_SUCCESS) {
        free (f);
        return dfx__error (ctx, DFX_ERR_VULKAN, "VkFFT plan of %u × %ux%u failed: %s (%d)", batch, w, h,
                           getVkFFTErrorString (r), (int) r);
    }
    f->ready = 1;
    *out = f;
    return DFX_OK;
}

dfx_status
dfx__fft_record (dfx__fft *f, int inverse)
{
    dfx_ctx *ctx = f->ctx;
    dfx_status st = dfx__cmd_begin (ctx);
    if (st != DFX_OK)
        return st;
    dfx__cmd_track (ctx, &f->buf, 1, 1u);
    VkFFTLaunchParams lp;
    memset (&lp, 0, sizeof lp);
    lp.commandBuffer = &ctx->cmd;
    lp.buffer = &f->vkbuf;
    VkFFTResult r = VkFFTAppend (&f->app, inverse ? 1 : -1, &lp);
    if (r != VKFFT_SUCCESS)
        return dfx__error (ctx, DFX_ERR_VULKAN, "VkFFT %s transform failed: %s (%d)", inverse ? "inverse" : "forward",
                           getVkFFTErrorString (r), (int) r);
    dfx__profile_after_dispatch (ctx, "vkfft");
    ctx->n_recorded++;
    return DFX_OK;
}

void
dfx__fft_destroy (dfx__fft *f)
{
    if (!f)
        return;
    /* Recorded transforms may still use the plan's pipelines. */
    dfx_ctx_flush (f->ctx);
    if (f->ready)
        deleteVkFFT (&f->app);
    free (f);
}
