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
 * Built as its own static library with warnings off: the header is not
 * ours.  Nothing else in libdfx includes vkFFT.h.
 */
#define VKFFT_BACKEND 0
#include <vkFFT.h>

#include "sample-private.h"

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
    VkFFTResult r = initializeVkFFT (&f->app, cfg);
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
