/* sampler-ocm.c — the stochastic samplers (MATH.md "OCM"), one step at a
 * time; sampler.c runs the loop, the skip and the progress.
 *
 * In the EDM view (x̃ = x_t/√ᾱ_t, σ̃² = (1 − ᾱ_t)/ᾱ_t) a step from σ = σ̃_t to
 * σ' = σ̃_s < σ of MATH.md's DDPM and DDIM formulas becomes, with r = σ'²/σ²:
 *
 *   DDPM      x̃' = (1 − r) x̂0 + r x̃ + √(σ'²(1 − r)) z          (β̃/ᾱ_s = σ'²(1 − r))
 *   OCM-DDPM  the same mean, variance σ'²(1 − r) + (1 − r)² diag C
 *   OCM-DDIM  b = √(σ'² − η² v)/σ, v = σ'²(1 − r):  x̃' = (1 − b) x̂0 + b x̃,
 *             variance η² v + (1 − b)² diag C                      (stochastic at η = 0)
 *
 * (the VP coefficients of MATH.md divided by √ᾱ_s; ᾱ drops out, so the same
 * code serves any schedule).  diag C = m − x̂0⊙x̂0 clamped to [0, cmax].  On
 * Gaussian data with exact moments OCM reproduces N(μ, Σ) for a diagonal Σ
 * after any number of steps; the fixed-variance DDPM does not (tests/algo).
 * The last step (σ' = 0) is x̂0 plus noise of variance diag C for OCM (0 for
 * DDPM), its standard deviation clipped to clip_last (Analytic-DPM's rule).
 * The noise is drawn on the host by Philox (rng.c), one stream per step, so
 * image k's result depends on the seed and k only. */
#include "sample-private.h"
#include "../likelihood/likelihood-private.h"
#include "../ops/ops-sample.h"

#include <math.h>

bool
dfx__sampler_stochastic (dfx_sampler s)
{
    return s == DFX_SAMPLER_DDPM || s == DFX_SAMPLER_OCM_DDPM || s == DFX_SAMPLER_OCM_DDIM;
}

void
dfx__sigmas_ddpm (const dfx__schedule *s, double smax, double smin, uint32_t n, double *sig)
{
    const double t0 = dfx__schedule_timestep (s, smax), t1 = dfx__schedule_timestep (s, smin);
    sig[0] = smax;
    for (uint32_t i = 1; i < n; i++)
        sig[i] = i + 1 == n ? smin : dfx__schedule_sigma (s, t1 + (t0 - t1) * (double) (n - 1 - i) / (double) (n - 1));
    sig[n] = 0.0;
}

/* The step's coefficients (see the top of the file). */
static void
coefficients (const dfx__sample_desc *d, double s, double sn, dfx__ocm_coef *c)
{
    const double r = sn * sn / (s * s), v = sn * sn * (1.0 - r);
    c->cmax = d->cmax > 0 ? d->cmax : 1.0;
    c->vmax = sn == 0.0 && d->clip_last > 0 ? d->clip_last * d->clip_last : INFINITY;
    if (d->sampler == DFX_SAMPLER_OCM_DDIM) {
        double b = sqrt (fmax (sn * sn - d->eta * d->eta * v, 0.0)) / s;
        c->a = 1.0 - b, c->b = b;
        c->v0 = d->eta * d->eta * v;
        c->k = (1.0 - b) * (1.0 - b);
    } else {
        c->a = 1.0 - r, c->b = r;
        c->v0 = v;
        c->k = d->sampler == DFX_SAMPLER_OCM_DDPM ? (1.0 - r) * (1.0 - r) : 0.0;
    }
}

dfx_status
dfx__ocm_update (const dfx__sample_desc *d, uint32_t step, double sigma, double sigma_next, dfx_buffer *x,
                 dfx_buffer *x0, dfx_buffer *m, dfx_buffer *z, float *host, size_t per)
{
    dfx_ctx *ctx = d->den ? d->den->ctx : d->mo->ctx;
    dfx__ocm_coef c;
    coefficients (d, sigma, sigma_next, &c);
    const size_t n = per * d->batch;
    if (c.v0 > 0.0 || c.k > 0.0) {
        for (uint32_t b = 0; b < d->batch; b++)
            dfx__noise_stream (d->seed, d->first_index + b, step + 1, per, host + b * per);
        dfx_status st = dfx_buffer_upload (ctx, z, 0, host, n * sizeof (float));
        if (st != DFX_OK)
            return st;
    } else {
        c.v0 = c.k = 0.0; /* deterministic: 0·z with z = x̂0 (finite, unlike a fresh buffer) */
        z = x0;
    }
    return dfx__ocm_step (ctx, x, x0, c.k > 0.0 ? m : NULL, z, &c, n);
}
