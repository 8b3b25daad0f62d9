/* lik-model.c — dfx_likelihood(): the likelihood of an image under a model
 * folder, with the model's score network and Fisher head as the moments
 * (compute/sample/model-private.h) and its schedule's σ̃ range.
 * Not for: tiles, alpha, bits/dim (lik-image.c) or the ODE (likelihood.c).
 */
#include "likelihood-private.h"
#include "../sample/model-private.h"

#include <string.h>

dfx_status
dfx_likelihood (dfx_model *m, const dfx_likelihood_params *p, const float *pixels, uint32_t width, uint32_t height,
                uint32_t channels, int has_alpha, dfx_likelihood_result *r)
{
    dfx_ctx *ctx = dfx__model_ctx (m);
    memset (r, 0, sizeof *r);
    if (!p || !pixels)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "likelihood: no parameters or no pixels");
    dfx__moments *mo = NULL, *own = NULL;
    dfx_status st = dfx__model_moments (m, &mo);
    if (st != DFX_OK && p->trace != DFX_TRACE_DFTM) { /* the baselines need the score network only */
        st = dfx__moments_mean (dfx__model_denoiser (m), &own);
        mo = own;
    }
    if (st != DFX_OK)
        return st;
    dfx__model_set_attention_global (m, p->global_attention);
    dfx_model_info mi;
    dfx_model_get_info (m, &mi);
    if (!mi.sample_width || !mi.sample_height)
        return dfx__error (ctx, DFX_ERR_UNSUPPORTED,
                           "likelihood: %s/unet/config.json has no sample_size, the size of the tiles",
                           dfx__model_dir (m));
    const dfx__schedule *s = dfx__model_schedule (m);
    const dfx__lik_model lm = {
        .mo = mo,
        .tile_w = mi.sample_width,
        .tile_h = mi.sample_height,
        .sigma_min = s->sigma_min,
        .sigma_max = s->sigma_max,
        .multiple = mi.size_multiple,
        .gauss = dfx__model_gauss (m),
    };
    st = dfx__likelihood_image (&lm, p, pixels, width, height, channels, has_alpha, r);
    dfx__moments_destroy (own);
    return st;
}
