/* moments-unet.c — posterior moments from a model's two networks (see
 * likelihood-private.h): x̂0 from the score network as the denoiser
 * D(x̃; σ̃), and m = E[x0⊙x0 | x̃] from the Fisher head (MATH.md "The
 * Fisher head"), a UNet2DModel-format network that takes the same input
 * α x̃ at the same fractional timestep t(σ̃) and outputs m on the data scale —
 * or, for a head whose config says "_dfx_fisher_output": "variance_ratio",
 * r ≈ diag C/σ̃², turned into m = x̂0⊙x̂0 + σ̃² r here (ops-fisher.h).  Both
 * are recorded on the context; nothing is submitted here. */
#include "likelihood-private.h"
#include "../ops/ops-fisher.h"
#include "../ops/ops-sample.h"
#include "../sample/sample-private.h"
#include "../unet/unet-private.h"

#include <math.h>
#include <stdlib.h>

typedef struct unet_moments {
    dfx__moments base;
    dfx__denoiser *den;
    dfx_unet *fisher;
    const dfx__schedule *sched;
    float *ts;
    uint32_t ts_cap;
} unet_moments;

/* The head's inputs at σ̃ for a batch: um->ts filled with t(σ̃) (grown as needed), *alpha = 1/√(1+σ̃²). */
static dfx_status
head_timesteps (dfx__moments *mo, uint32_t batch, double sigma, double *alpha)
{
    unet_moments *um = (unet_moments *) mo;
    if (um->ts_cap < batch) {
        float *nt = realloc (um->ts, batch * sizeof *nt);
        if (!nt)
            return dfx__error (mo->ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (timesteps)");
        um->ts = nt;
        um->ts_cap = batch;
    }
    const double t = dfx__schedule_timestep (um->sched, sigma);
    *alpha = 1.0 / sqrt (1.0 + sigma * sigma);
    for (uint32_t i = 0; i < batch; i++)
        um->ts[i] = (float) t;
    return DFX_OK;
}

static dfx_status
unet_moments_eval (dfx__moments *mo, uint32_t batch, uint32_t h, uint32_t w, dfx_buffer *x, double sigma,
                   dfx_buffer *x0, dfx_buffer *m)
{
    unet_moments *um = (unet_moments *) mo;
    dfx_status st;
    if ((st = um->den->denoise (um->den, batch, h, w, x, sigma, x0)) != DFX_OK)
        return st;
    double alpha;
    if ((st = head_timesteps (mo, batch, sigma, &alpha)) != DFX_OK)
        return st;
    if ((st = dfx__unet_forward_dev (um->fisher, batch, h, w, x, 0, (float) alpha, um->ts, m, 0)) != DFX_OK)
        return st;
    if (um->fisher->arch.fisher_output == DFX__FISHER_VARIANCE_RATIO &&
        (st = dfx__ratio_moment (mo->ctx, m, 0, x0, 0, sigma, (size_t) batch * mo->channels * h * w)) != DFX_OK)
        return st;
    mo->evals++;
    mo->head_evals++;
    return DFX_OK;
}

/* diag C from a variance-ratio head alone: σ̃² r (not counted; for head tiles). */
static dfx_status
unet_moments_eval_var (dfx__moments *mo, uint32_t batch, uint32_t h, uint32_t w, dfx_buffer *x, double sigma,
                       dfx_buffer *c)
{
    unet_moments *um = (unet_moments *) mo;
    double alpha;
    dfx_status st = head_timesteps (mo, batch, sigma, &alpha);
    if (st != DFX_OK)
        return st;
    st = dfx__unet_forward_dev (um->fisher, batch, h, w, x, 0, (float) alpha, um->ts, c, 0);
    if (st == DFX_OK)
        st = dfx__lincomb (mo->ctx, c, 0, (float) (sigma * sigma), c, 0, 0.0f, NULL, 0, 0.0f,
                           (size_t) batch * mo->channels * h * w);
    return st;
}

/* The score network's x̂0 alone, counted as an evaluation (both kinds of moments). */
static dfx_status
denoise_counted (dfx__moments *mo, dfx__denoiser *den, uint32_t batch, uint32_t h, uint32_t w, dfx_buffer *x,
                 double sigma, dfx_buffer *x0)
{
    dfx_status st = den->denoise (den, batch, h, w, x, sigma, x0);
    if (st == DFX_OK)
        mo->evals++;
    return st;
}

static dfx_status
unet_moments_eval_mean (dfx__moments *mo, uint32_t batch, uint32_t h, uint32_t w, dfx_buffer *x, double sigma,
                        dfx_buffer *x0)
{
    return denoise_counted (mo, ((unet_moments *) mo)->den, batch, h, w, x, sigma, x0);
}

static void
unet_moments_destroy (dfx__moments *mo)
{
    unet_moments *um = (unet_moments *) mo;
    free (um->ts);
    free (um);
}

dfx_status
dfx__moments_unet (dfx__denoiser *den, dfx_unet *fisher, const dfx__schedule *sched, dfx__moments **out)
{
    *out = NULL;
    dfx_unet_info info;
    dfx_unet_get_info (fisher, &info);
    if (info.in_channels != den->channels || info.out_channels != den->channels)
        return dfx__error (den->ctx, DFX_ERR_FORMAT,
                           "the Fisher head takes %u and outputs %u channels; the score network has %u (both must "
                           "match it)", info.in_channels, info.out_channels, den->channels);
    unet_moments *um = calloc (1, sizeof *um);
    if (!um)
        return dfx__error (den->ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (moments)");
    um->base.ctx = den->ctx;
    um->base.channels = den->channels;
    um->base.name = "unet+fisher";
    um->base.eval = unet_moments_eval;
    um->base.eval_mean = unet_moments_eval_mean;
    um->base.destroy = unet_moments_destroy;
    um->den = den;
    um->fisher = fisher;
    um->base.network_ratio = fisher->arch.fisher_output == DFX__FISHER_VARIANCE_RATIO;
    um->base.eval_var = um->base.network_ratio ? unet_moments_eval_var : NULL;
    um->sched = sched;
    *out = &um->base;
    return DFX_OK;
}

/* ---- the score network alone (the baselines of a model without fisher/) --- */

typedef struct mean_moments {
    dfx__moments base;
    dfx__denoiser *den;
} mean_moments;

static dfx_status
mean_moments_eval (dfx__moments *mo, uint32_t batch, uint32_t h, uint32_t w, dfx_buffer *x, double sigma,
                   dfx_buffer *x0, dfx_buffer *m)
{
    (void) batch, (void) h, (void) w, (void) x, (void) sigma, (void) x0, (void) m;
    return dfx__error (mo->ctx, DFX_ERR_UNSUPPORTED, "likelihood: the model has no Fisher head, so only the "
                       "baselines (trace hutchinson or exact) can score it");
}

static dfx_status
mean_moments_eval_mean (dfx__moments *mo, uint32_t batch, uint32_t h, uint32_t w, dfx_buffer *x, double sigma,
                        dfx_buffer *x0)
{
    return denoise_counted (mo, ((mean_moments *) mo)->den, batch, h, w, x, sigma, x0);
}

static void
mean_moments_destroy (dfx__moments *mo)
{
    free (mo);
}

dfx_status
dfx__moments_mean (dfx__denoiser *den, dfx__moments **out)
{
    mean_moments *mm = calloc (1, sizeof *mm);
    *out = NULL;
    if (!mm)
        return dfx__error (den->ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (moments)");
    mm->base.ctx = den->ctx;
    mm->base.channels = den->channels;
    mm->base.name = "unet";
    mm->base.eval = mean_moments_eval;
    mm->base.eval_mean = mean_moments_eval_mean;
    mm->base.destroy = mean_moments_destroy;
    mm->den = den;
    *out = &mm->base;
    return DFX_OK;
}
