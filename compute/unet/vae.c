/* vae.c — the public AutoencoderKL: dfx_vae_load / encode / decode.
 *
 * An autoencoder is a dfx_unet whose program builder makes the encoder or
 * the decoder (unet-graph.c, build_vae) from the same ops: conv (with the
 * right/bottom padding of the downsamplers and the nearest ×2 of the
 * upsamplers fused in), GroupNorm + SiLU, single-head attention.  Weights are
 * uploaded once for both halves; switching halves re-plans the activations.
 * The posterior's log-variance clamp [−30, 20] (diffusers'
 * DiagonalGaussianDistribution) is applied here on the host.  Latent scaling
 * (scaling_factor, shift_factor) is left to the caller, as in diffusers.
 */
#include "unet-private.h"

#include <math.h>
#include <string.h>

struct dfx_vae {
    dfx_unet *net;
};

dfx_status
dfx_vae_load (dfx_ctx *ctx, const char *model_dir, dfx_vae **out)
{
    *out = NULL;
    dfx_vae *v = calloc (1, sizeof *v);
    if (!v)
        return dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory loading %s", model_dir);
    dfx_status st = dfx__net_load (ctx, model_dir, "vae", 1, &v->net);
    if (st != DFX_OK) {
        free (v);
        return st;
    }
    *out = v;
    return DFX_OK;
}

void
dfx_vae_destroy (dfx_vae *v)
{
    if (!v)
        return;
    dfx_unet_destroy (v->net);
    free (v);
}

void
dfx_vae_get_info (const dfx_vae *v, dfx_vae_info *info)
{
    const dfx__vae_config *c = &v->net->vae;
    dfx_unet_info ui;
    dfx_unet_get_info (v->net, &ui);
    memset (info, 0, sizeof *info);
    info->in_channels = (uint32_t) c->in_channels;
    info->out_channels = (uint32_t) c->out_channels;
    info->latent_channels = (uint32_t) c->latent_channels;
    info->downscale = 1u << (c->n_levels - 1);
    info->sample_height = (uint32_t) c->sample_size[0];
    info->sample_width = (uint32_t) c->sample_size[1];
    info->scaling_factor = c->scaling_factor;
    info->shift_factor = c->shift_factor;
    info->parameters = ui.parameters;
}

/* Plans half `net` for (batch, h, w), uploads n_in floats, runs, downloads n_out. */
static dfx_status
run (dfx_vae *v, int net, uint32_t batch, uint32_t h, uint32_t w, const float *in, size_t n_in, float *out,
     size_t n_out)
{
    dfx_unet *u = v->net;
    dfx_ctx *ctx = u->ctx;
    for (size_t i = 0; i < n_in; i++)
        if (!isfinite (in[i]))
            return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "autoencoder %s element %zu is not finite",
                               net == DFX__NET_VAE_ENCODER ? "image" : "latent", i);
    u->net = net;
    dfx_status st;
    DFX_CHECK (dfx__unet_plan (u, batch, h, w));
    DFX_CHECK (dfx_buffer_upload (ctx, u->in_buf, (size_t) u->in_off * 4, in, n_in * sizeof (float)));
    DFX_CHECK (dfx__net_record (u));
    DFX_CHECK (dfx_buffer_download (ctx, u->out_buf, (size_t) u->out_off * 4, out, n_out * sizeof (float)));
cleanup:
    return st;
}

dfx_status
dfx_vae_encode (dfx_vae *v, uint32_t batch, uint32_t height, uint32_t width, const float *image, float *mean,
                float *logvar)
{
    const dfx__vae_config *c = &v->net->vae;
    const uint32_t f = 1u << (c->n_levels - 1), L = (uint32_t) c->latent_channels;
    if (batch == 0 || height == 0 || width == 0 || height % f || width % f || batch > 65536 || height > 65536 ||
        width > 65536)
        return dfx__error (v->net->ctx, DFX_ERR_INVALID_ARGUMENT,
                           "autoencoder image %u×%u (batch %u): height and width must be positive multiples of %u",
                           height, width, batch, f);
    const size_t hw = (size_t) (height / f) * (width / f), n_in = (size_t) batch * c->in_channels * height * width;
    float *moments = malloc ((size_t) batch * 2 * L * hw * sizeof (float));
    if (!moments)
        return dfx__error (v->net->ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory for the latent");
    dfx_status st = run (v, DFX__NET_VAE_ENCODER, batch, height, width, image, n_in, moments, (size_t) batch * 2 * L * hw);
    if (st == DFX_OK)
        for (uint32_t n = 0; n < batch; n++) { /* moments (2L, h, w) = [mean; logvar] per item */
            const float *m = moments + (size_t) n * 2 * L * hw;
            memcpy (mean + (size_t) n * L * hw, m, L * hw * sizeof (float));
            if (logvar)
                for (size_t i = 0; i < L * hw; i++) {
                    float x = m[L * hw + i];
                    logvar[(size_t) n * L * hw + i] = x < -30.0f ? -30.0f : x > 20.0f ? 20.0f : x;
                }
        }
    free (moments);
    return st;
}

dfx_status
dfx_vae_decode (dfx_vae *v, uint32_t batch, uint32_t height, uint32_t width, const float *latent, float *sample)
{
    const dfx__vae_config *c = &v->net->vae;
    const uint32_t f = 1u << (c->n_levels - 1);
    if (batch == 0 || height == 0 || width == 0 || batch > 65536 || height > 65536 / f || width > 65536 / f)
        return dfx__error (v->net->ctx, DFX_ERR_INVALID_ARGUMENT,
                           "autoencoder latent %u×%u (batch %u): sizes must be positive and the image at most 65536",
                           height, width, batch);
    const size_t n_in = (size_t) batch * c->latent_channels * height * width;
    const size_t n_out = (size_t) batch * c->out_channels * height * f * width * f;
    return run (v, DFX__NET_VAE_DECODER, batch, height, width, latent, n_in, sample, n_out);
}
