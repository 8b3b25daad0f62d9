/* prep-eval.c — runs a denoiser on host batches of double images for the
 * statistics and the calibration: uploads as float, denoises, downloads.
 * Keeps its device buffers between calls and counts the images it ran.
 * Does not choose what to evaluate; prep-jacobian.c and prep-calibrate.c do. */
#include "prepare-private.h"

#include <string.h>

void
dfx__prep_eval_free (dfx__prep_eval *e)
{
    if (!e || !e->den)
        return;
    dfx_buffer_destroy (e->den->ctx, e->x);
    dfx_buffer_destroy (e->den->ctx, e->out);
    free (e->host);
    memset (e, 0, sizeof *e);
}

dfx_status
dfx__prep_eval_init (dfx__denoiser *den, uint32_t h, uint32_t w, uint32_t batch, dfx__prep_eval *e)
{
    dfx_ctx *ctx = den->ctx;
    memset (e, 0, sizeof *e);
    e->den = den, e->h = h, e->w = w, e->batch = batch ? batch : 1;
    e->d = (size_t) den->channels * h * w;
    const size_t bytes = e->batch * e->d * sizeof (float);
    dfx_status st = DFX_OK;
    e->host = malloc (bytes);
    if (!e->host) {
        st = dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (%zu bytes of images)", bytes);
        goto cleanup;
    }
    DFX_CHECK (dfx_buffer_create (ctx, bytes, &e->x));
    DFX_CHECK (dfx_buffer_create (ctx, bytes, &e->out));
    return DFX_OK;
cleanup:
    dfx__prep_eval_free (e);
    return st;
}

dfx_status
dfx__prep_eval_run (dfx__prep_eval *e, uint32_t n, const double *in, double sigma, double *out)
{
    dfx_ctx *ctx = e->den->ctx;
    dfx_status st = DFX_OK;
    for (uint32_t i0 = 0; i0 < n; i0 += e->batch) {
        const uint32_t b = n - i0 < e->batch ? n - i0 : e->batch;
        const size_t m = (size_t) b * e->d;
        for (size_t i = 0; i < m; i++)
            e->host[i] = (float) in[i0 * e->d + i];
        DFX_CHECK (dfx_buffer_upload (ctx, e->x, 0, e->host, m * sizeof (float)));
        DFX_CHECK (e->den->denoise (e->den, b, e->h, e->w, e->x, sigma, e->out));
        DFX_CHECK (dfx_buffer_download (ctx, e->out, 0, e->host, m * sizeof (float)));
        for (size_t i = 0; i < m; i++)
            out[i0 * e->d + i] = e->host[i];
        e->nfe += b;
    }
cleanup:
    return st;
}
