/* denoiser-unet.c — the score network as a denoiser D(x̃; σ̃) in the EDM
 * view (MATH.md): the network sees x_t = α x̃ at the fractional timestep
 * t(σ̃) of the model's schedule (α = 1/√(1 + σ̃²), the VP relation), and its
 * output becomes x̂0:
 *
 *     epsilon:  D = x̃ − σ̃ ε
 *     v:        D = α² x̃ − α σ̃ v      (v = α ε − σ x0, σ = α σ̃)
 *     sample:   D = output
 *
 * Everything stays on the device: dfx__unet_forward_dev reads x̃ from the
 * sampler's buffer (scaled by α on the way into the arena) and one lincomb
 * per call (per item when the network also outputs a variance) forms D.
 * Nothing is submitted here. */
#include "sample-private.h"
#include "../ops/ops-sample.h"
#include "../unet/unet-private.h"

#include <math.h>

typedef struct unet_den {
    dfx__denoiser base;
    dfx_unet *u;
    const dfx__schedule *sched;
    dfx__prediction pred;
    uint32_t out_c;
    dfx_buffer *net;
    size_t net_floats;
    float *ts;
    uint32_t ts_cap;
} unet_den;

static dfx_status
unet_denoise (dfx__denoiser *d, uint32_t batch, uint32_t h, uint32_t w, dfx_buffer *x, double sigma, dfx_buffer *out)
{
    unet_den *ud = (unet_den *) d;
    dfx_ctx *ctx = d->ctx;
    const uint32_t c = d->channels;
    const size_t hw = (size_t) h * w, need = (size_t) batch * ud->out_c * hw;
    dfx_status st;
    if (ud->net_floats < need) {
        dfx_buffer_destroy (ctx, ud->net);
        ud->net = NULL;
        ud->net_floats = 0;
        if ((st = dfx_buffer_create (ctx, need * sizeof (float), &ud->net)) != DFX_OK)
            return st;
        ud->net_floats = need;
    }
    if (ud->ts_cap < batch) {
        float *nt = realloc (ud->ts, batch * sizeof *nt);
        if (!nt)
            return dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (timesteps)");
        ud->ts = nt;
        ud->ts_cap = batch;
    }
    const double t = dfx__schedule_timestep (ud->sched, sigma), alpha = 1.0 / sqrt (1.0 + sigma * sigma);
    for (uint32_t i = 0; i < batch; i++)
        ud->ts[i] = (float) t;
    if ((st = dfx__unet_forward_dev (ud->u, batch, h, w, x, 0, (float) alpha, ud->ts, ud->net, 0)) != DFX_OK)
        return st;
    double a = 1.0, b = -sigma;
    if (ud->pred == DFX__PREDICT_V)
        a = alpha * alpha, b = -alpha * sigma;
    else if (ud->pred == DFX__PREDICT_SAMPLE)
        a = 0.0, b = 1.0;
    if (ud->out_c == c)
        return dfx__lincomb (ctx, out, 0, (float) a, x, 0, (float) b, ud->net, 0, 0.0f, batch * c * hw);
    for (uint32_t i = 0; i < batch; i++)
        if ((st = dfx__lincomb (ctx, out, i * c * hw, (float) a, x, i * c * hw, (float) b, ud->net,
                                i * ud->out_c * hw, 0.0f, c * hw)) != DFX_OK)
            return st;
    return DFX_OK;
}

static void
unet_destroy (dfx__denoiser *d)
{
    unet_den *ud = (unet_den *) d;
    dfx_buffer_destroy (d->ctx, ud->net);
    free (ud->ts);
    free (ud);
}

dfx_status
dfx__denoiser_unet (dfx_unet *u, const dfx__schedule *sched, dfx__prediction pred, dfx__denoiser **out)
{
    *out = NULL;
    dfx_unet_info info;
    dfx_unet_get_info (u, &info);
    if (info.out_channels != info.in_channels && info.out_channels != 2 * info.in_channels)
        return dfx__error (u->ctx, DFX_ERR_UNSUPPORTED,
                           "the U-Net outputs %u channels for %u input channels; sampling needs as many (or twice "
                           "as many, a learned variance) as it takes", info.out_channels, info.in_channels);
    unet_den *ud = calloc (1, sizeof *ud);
    if (!ud)
        return dfx__error (u->ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (denoiser)");
    ud->base = (dfx__denoiser){u->ctx, info.in_channels, "unet", unet_denoise, unet_destroy};
    ud->u = u;
    ud->sched = sched;
    ud->pred = pred;
    ud->out_c = info.out_channels;
    *out = &ud->base;
    return DFX_OK;
}

void
dfx__denoiser_destroy (dfx__denoiser *d)
{
    if (d)
        d->destroy (d);
}
