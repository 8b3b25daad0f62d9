/* latent-vae.c — dfx_latent_diagnose_vae: the latent diagnostics with an
 * AutoencoderKL's encoder (dfx.h).  The encoder callback converts the
 * driver's doubles to the float images dfx_vae_encode takes, in chunks of
 * 2·batch, and returns the posterior mean as a latent diffusion model sees
 * it, (mean − shift_factor)·scaling_factor.  No numerics of its own. */
#include "latent.h"

#include <stdlib.h>

typedef struct vae_enc {
    dfx_vae *v;
    dfx_vae_info vi;
    uint32_t h, w, dx, dz, cap;
    float *in, *out;
} vae_enc;

static dfx_status
encode (void *user, uint32_t n, const double *x, double *z)
{
    vae_enc *e = user;
    for (uint32_t b0 = 0; b0 < n; b0 += e->cap) {
        const uint32_t nb = n - b0 < e->cap ? n - b0 : e->cap;
        for (size_t i = 0; i < (size_t)nb * e->dx; i++)
            e->in[i] = (float)x[(size_t)b0 * e->dx + i];
        dfx_status st = dfx_vae_encode (e->v, nb, e->h, e->w, e->in, e->out, NULL);
        if (st != DFX_OK)
            return st;
        for (size_t i = 0; i < (size_t)nb * e->dz; i++)
            z[(size_t)b0 * e->dz + i] = ((double)e->out[i] - e->vi.shift_factor) * e->vi.scaling_factor;
    }
    return DFX_OK;
}

dfx_status
dfx_latent_diagnose_vae (dfx_ctx *ctx, dfx_vae *v, const dfx_latent_params *p, const float *images, uint32_t n,
                         uint32_t h, uint32_t w, dfx_latent_row *rows, dfx_latent_summary *summary)
{
    if (!v || !p)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "latent diagnostics: no autoencoder or no parameters");
    vae_enc e = {.v = v, .h = h, .w = w};
    dfx_vae_get_info (v, &e.vi);
    const uint32_t s = e.vi.downscale ? e.vi.downscale : 1;
    if (!h || !w || h % s || w % s || h > 4096 || w > 4096)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT,
                           "latent diagnostics: images of %ux%u; the autoencoder takes multiples of %u up to 4096", w,
                           h, s);
    e.dx = e.vi.in_channels * h * w;
    e.dz = e.vi.latent_channels * (h / s) * (w / s);
    e.cap = 2 * (p->batch ? p->batch : 1);
    e.in = malloc ((size_t)e.cap * e.dx * sizeof (float));
    e.out = malloc ((size_t)e.cap * e.dz * sizeof (float));
    dfx_status st;
    if (!e.in || !e.out)
        st = dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (encoder batches of %u images)", e.cap);
    else
        st = dfx_latent_diagnose (ctx, p, images, n, e.dx, e.dz, encode, &e, rows, summary);
    free (e.in), free (e.out);
    return st;
}
