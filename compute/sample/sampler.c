/* sampler.c — the deterministic PF-ODE samplers in the EDM view
 * (dx̃/dσ̃ = (x̃ − D)/σ̃), with the Gaussian skip in front:
 *
 *   Euler  x ← x + (σ' − σ) d,  d = (x − D(x; σ))/σ            NFE N
 *   Heun   Euler predictor x', then x ← x + (σ' − σ)(d + d')/2,
 *          an Euler step where σ' = 0 (EDM)                     NFE 2N − 1
 *   DDIM   η = 0: the Euler update at σ̃ of uniform timesteps of the
 *          model's schedule (DDIM is Euler in x̃ = x/α)          NFE N
 *   DPM-Solver++(2M) (Lu et al. 2022, multistep, data prediction), in
 *          λ = −log σ̃ with h = λ' − λ, r = h_prev/h:
 *          x ← (σ'/σ) x + (1 − σ'/σ) ((1 + 1/2r) D − (1/2r) D_prev),
 *          first order (D alone) at the first step and the last (σ' = 0)
 *                                                               NFE N
 *
 * Heun and Euler use the EDM levels (ρ = 7) between the schedule's σ̃_max and
 * σ̃_min, then 0.  With a skip to σ_skip, the k levels of the N-step schedule
 * above σ_skip are replaced by the closed form from σ_max to σ_skip, and a
 * fresh schedule of N − k steps runs from σ_skip (the published method).
 * The state stays on the device: lincomb updates, one submit per step (for
 * progress and cancelling).
 *
 * The stochastic samplers (DDPM, OCM-DDPM, OCM-DDIM; sampler-ocm.c) share
 * this loop and the skip: the skip's closed form moves x̃ along the PF-ODE,
 * which keeps the marginal at σ_skip, so a stochastic sampler may start there
 * as well as at σ_max. */
#include "sample-private.h"
#include "../likelihood/likelihood-private.h"
#include "../ops/ops-sample.h"

#include <math.h>

uint32_t
dfx__sampler_nfe (dfx_sampler s, uint32_t n)
{
    return s == DFX_SAMPLER_HEUN ? 2 * n - 1 : n; /* DPM-Solver++(2M) reuses the previous D */
}

static void
levels (const dfx__sample_desc *d, double smax, double smin, uint32_t n, double *sig)
{
    if (d->sampler == DFX_SAMPLER_DDIM)
        dfx__sigmas_ddim (d->sched, smax, n, sig);
    else if (dfx__sampler_stochastic (d->sampler))
        dfx__sigmas_ddpm (d->sched, smax, smin, n, sig);
    else
        dfx__sigmas_karras (smax, smin, 7.0, n, sig);
}

dfx_status
dfx__sample (const dfx__sample_desc *d, dfx_buffer *x, dfx_generate_result *r)
{
    if (!d->den && !d->mo)
        return DFX_ERR_INVALID_ARGUMENT; /* programmer error: no context to report on */
    dfx_ctx *ctx = d->den ? d->den->ctx : d->mo->ctx;
    const uint32_t N = d->steps;
    const size_t per = (size_t) (d->den ? d->den->channels : d->mo->channels) * d->h * d->w, n = per * d->batch;
    const bool stoch = dfx__sampler_stochastic (d->sampler), ocm = stoch && d->sampler != DFX_SAMPLER_DDPM;
    if (((ocm || !d->den) && !d->mo) || (!stoch && !d->den))
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "sampler %s needs %s", dfx_sampler_name (d->sampler),
                           ocm ? "the posterior moments (x̂0 and the Fisher head's m)" : "a denoiser");
    const double smax = d->sigma_max > 0 ? d->sigma_max : d->sched->sigma_max;
    const double smin = d->sigma_min > 0 ? d->sigma_min : d->sched->sigma_min;
    if (N < 1 || N > DFX_GENERATE_MAX_STEPS || !(smax > smin) || !(smin > 0) || n == 0 ||
        x->size / sizeof (float) < n)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT,
                           "sampler: %u steps over sigma [%g, %g] on %zu values (buffer %zu bytes)", N, smin, smax, n,
                           x->size);
    dfx_status st = DFX_OK;
    dfx_buffer *den = NULL, *g = NULL, *xp = NULL, *mb = NULL, *z = NULL, *prev = NULL;
    float *host = NULL;
    double *sig = malloc ((N + 1) * sizeof *sig);
    if (!sig)
        return dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (sampler)");
    levels (d, smax, smin, N, sig);

    /* The skip: k levels above σ_skip go; a fresh schedule of N − k steps. */
    uint32_t k = 0, steps = N;
    bool skip = (d->skip_mode == DFX_SKIP_PCA || d->skip_mode == DFX_SKIP_SPECTRAL) && d->skip &&
                d->sigma_skip > 0 && d->sigma_skip < smax;
    if (skip) {
        if (!(d->sigma_skip > smin)) {
            st = dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "sigma_skip %g is not above the sampler's sigma_min %g",
                             d->sigma_skip, smin);
            goto cleanup;
        }
        while (k < N - 1 && sig[k] > d->sigma_skip)
            k++;
        skip = k > 0;
    }
    if (skip) {
        steps = N - k;
        levels (d, d->sigma_skip, smin, steps, sig);
    }
    if (r) {
        r->nfe = 0;
        r->steps_skipped = skip ? k : 0;
        r->nfe_saved = dfx__sampler_nfe (d->sampler, N) - dfx__sampler_nfe (d->sampler, steps);
        r->skip = skip ? d->skip_mode : DFX_SKIP_OFF;
        r->sigma_skip = skip ? d->sigma_skip : 0.0;
        r->sigma_max = smax;
    }
    const uint32_t nfe_total = dfx__sampler_nfe (d->sampler, steps);
    uint32_t nfe = 0;

    DFX_CHECK (dfx_buffer_create (ctx, n * sizeof (float), &den));
    if (d->sampler == DFX_SAMPLER_HEUN) {
        DFX_CHECK (dfx_buffer_create (ctx, n * sizeof (float), &g));
        DFX_CHECK (dfx_buffer_create (ctx, n * sizeof (float), &xp));
    }
    if (d->sampler == DFX_SAMPLER_DPMPP_2M) {
        DFX_CHECK (dfx_buffer_create (ctx, n * sizeof (float), &g));
        DFX_CHECK (dfx_buffer_create (ctx, n * sizeof (float), &prev));
    }
    if (stoch) {
        DFX_CHECK (dfx_buffer_create (ctx, n * sizeof (float), &z));
        if (d->mo)
            DFX_CHECK (dfx_buffer_create (ctx, n * sizeof (float), &mb));
        if (!(host = malloc (n * sizeof *host))) {
            st = dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (sampler noise, %zu values)", n);
            goto cleanup;
        }
    }
    /* x̃_T = σ_max ε, then the closed form down to σ_skip. */
    DFX_CHECK (dfx__lincomb (ctx, x, 0, (float) smax, x, 0, 0.0f, NULL, 0, 0.0f, n));
    if (skip) {
        if (d->skip_mode == DFX_SKIP_PCA)
            DFX_CHECK (dfx__skip_pca (d->skip, d->batch, d->h, d->w, x, smax, d->sigma_skip));
        else
            DFX_CHECK (dfx__skip_spectral (d->skip, d->batch, d->h, d->w, x, smax, d->sigma_skip));
    }
    for (uint32_t i = 0; i < steps; i++) {
        const double s = sig[i], sn = sig[i + 1], h = sn - s;
        if (d->stop_at_min && sn == 0.0)
            break;
        if (stoch) {
            /* DDPM needs x̂0 only: the denoiser when there is one */
            if (ocm || !d->den)
                DFX_CHECK (d->mo->eval (d->mo, d->batch, d->h, d->w, x, s, den, mb));
            else
                DFX_CHECK (d->den->denoise (d->den, d->batch, d->h, d->w, x, s, den));
            nfe++;
            DFX_CHECK (dfx__ocm_update (d, i, s, sn, x, den, ocm ? mb : NULL, z, host, per));
        } else if (d->sampler == DFX_SAMPLER_DPMPP_2M) {
            DFX_CHECK (d->den->denoise (d->den, d->batch, d->h, d->w, x, s, den));
            nfe++;
            dfx_buffer *dh = den; /* D̂: D, or the second-order combination with D_prev */
            if (i > 0 && sn > 0.0) {
                const double r2 = 2.0 * log (sig[i - 1] / s) / log (s / sn);
                DFX_CHECK (dfx__lincomb (ctx, g, 0, (float) (1.0 + 1.0 / r2), den, 0, (float) (-1.0 / r2), prev, 0,
                                         0.0f, n));
                dh = g;
            }
            DFX_CHECK (dfx__lincomb (ctx, x, 0, (float) (sn / s), x, 0, (float) (1.0 - sn / s), dh, 0, 0.0f, n));
            dfx_buffer *t = prev;
            prev = den, den = t;
        } else if (d->sampler != DFX_SAMPLER_HEUN || sn == 0.0) {
            DFX_CHECK (d->den->denoise (d->den, d->batch, d->h, d->w, x, s, den));
            nfe++;
            /* x + h (x − D)/σ = (σ'/σ) x + (1 − σ'/σ) D */
            DFX_CHECK (dfx__lincomb (ctx, x, 0, (float) (sn / s), x, 0, (float) (1.0 - sn / s), den, 0, 0.0f, n));
        } else {
            DFX_CHECK (d->den->denoise (d->den, d->batch, d->h, d->w, x, s, den));
            nfe++;
            DFX_CHECK (dfx__lincomb (ctx, g, 0, (float) (1.0 / s), x, 0, (float) (-1.0 / s), den, 0, 0.0f, n));
            DFX_CHECK (dfx__lincomb (ctx, xp, 0, 1.0f, x, 0, (float) h, g, 0, 0.0f, n));
            DFX_CHECK (d->den->denoise (d->den, d->batch, d->h, d->w, xp, sn, den));
            nfe++;
            DFX_CHECK (dfx__lincomb (ctx, x, 0, 1.0f, x, 0, (float) (0.5 * h), g, 0, 0.0f, n));
            DFX_CHECK (dfx__lincomb (ctx, g, 0, (float) (1.0 / sn), xp, 0, (float) (-1.0 / sn), den, 0, 0.0f, n));
            DFX_CHECK (dfx__lincomb (ctx, x, 0, 1.0f, x, 0, (float) (0.5 * h), g, 0, 0.0f, n));
        }
        DFX_CHECK (dfx_ctx_flush (ctx));
        if (d->progress && d->progress ((double) nfe / nfe_total, d->progress_user)) {
            st = dfx__error (ctx, DFX_ERR_CANCELLED, "generation cancelled after %u of %u network evaluations", nfe,
                             nfe_total);
            goto cleanup;
        }
    }
    DFX_CHECK (dfx_ctx_flush (ctx));
    if (r)
        r->nfe = nfe;
cleanup:
    dfx_buffer_destroy (ctx, den);
    dfx_buffer_destroy (ctx, g);
    dfx_buffer_destroy (ctx, xp);
    dfx_buffer_destroy (ctx, mb);
    dfx_buffer_destroy (ctx, z);
    dfx_buffer_destroy (ctx, prev);
    free (host);
    free (sig);
    return st;
}
