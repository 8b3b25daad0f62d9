/* edit-map.c — the edit map and its inversion: N Euler updates of the
 * PF-ODE in the EDM view over the levels from σ̃_start down to σ̃_end
 * (edit-private.h), storing what the adjoint needs (the denoiser outputs
 * x̂0_i, or the states x_i for the exact adjoint), and the same levels
 * climbed upwards from an image for the deterministic start.
 * Not for: the adjoint (edit-adjoint.c) nor the optimisation (edit.c). */
#include "edit-private.h"
#include "../ops/ops-sample.h"

#include <math.h>

void
dfx__edit_levels (const dfx__edit_desc *d, double *sig)
{
    const uint32_t N = d->steps;
    const double send = d->sigma_end > 0 ? d->sigma_end : d->sched->sigma_min;
    if (d->sampler == DFX_SAMPLER_EULER) {
        dfx__sigmas_karras (d->sigma_start, send, 7.0, N + 1, sig);
    } else {
        const double t0 = dfx__schedule_timestep (d->sched, d->sigma_start);
        sig[0] = d->sigma_start;
        for (uint32_t i = 1; i < N; i++)
            sig[i] = dfx__schedule_sigma (d->sched, t0 * (double) (N - i) / (double) N);
        sig[N] = send;
        sig[N + 1] = 0.0;
    }
}

static dfx_status
report (dfx_ctx *ctx, dfx__edit_progress *pr)
{
    if (!pr)
        return DFX_OK;
    pr->done++;
    if (pr->fn && pr->fn (pr->total ? (double) pr->done / pr->total : 0.0, pr->user))
        return dfx__error (ctx, DFX_ERR_CANCELLED, "edit cancelled after %u of %u network evaluations", pr->done,
                           pr->total);
    return DFX_OK;
}

dfx_status
dfx__edit_forward (const dfx__edit_desc *d, const double *sig, dfx_buffer *x, dfx_buffer *xbar, dfx_buffer **xhat,
                   dfx_buffer **xs, dfx_buffer *scratch, dfx__edit_progress *pr)
{
    dfx_ctx *ctx = d->den->ctx;
    const size_t n = (size_t) d->den->channels * d->h * d->w;
    dfx_status st = DFX_OK;
    for (uint32_t i = 0; i < d->steps; i++) {
        const double r = sig[i + 1] / sig[i];
        dfx_buffer *den = xhat && xhat[i] ? xhat[i] : scratch;
        if (xs)
            DFX_CHECK (dfx__lincomb (ctx, xs[i], 0, 1.0f, x, 0, 0.0f, NULL, 0, 0.0f, n));
        DFX_CHECK (d->den->denoise (d->den, 1, d->h, d->w, x, sig[i], den));
        /* x + (σ' − σ)(x − D)/σ = r x + (1 − r) D */
        DFX_CHECK (dfx__lincomb (ctx, x, 0, (float) r, x, 0, (float) (1.0 - r), den, 0, 0.0f, n));
        DFX_CHECK (dfx_ctx_flush (ctx));
        DFX_CHECK (report (ctx, pr));
    }
    if (xbar) {
        DFX_CHECK (d->den->denoise (d->den, 1, d->h, d->w, x, sig[d->steps], xbar));
        DFX_CHECK (dfx_ctx_flush (ctx));
        DFX_CHECK (report (ctx, pr));
    }
cleanup:
    return st;
}

dfx_status
dfx__edit_invert (const dfx__edit_desc *d, const double *sig, dfx_buffer *x, dfx_buffer *scratch,
                  dfx__edit_progress *pr)
{
    dfx_ctx *ctx = d->den->ctx;
    const size_t n = (size_t) d->den->channels * d->h * d->w;
    dfx_status st = DFX_OK;
    for (uint32_t i = d->steps; i-- > 0;) {
        /* x_i = x_{i+1} + (σ_i − σ_{i+1})(x_{i+1} − D(x_{i+1}))/σ_{i+1}, i.e. (1/r) x − (1/r − 1) D. */
        const double q = sig[i] / sig[i + 1];
        DFX_CHECK (d->den->denoise (d->den, 1, d->h, d->w, x, sig[i + 1], scratch));
        DFX_CHECK (dfx__lincomb (ctx, x, 0, (float) q, x, 0, (float) (1.0 - q), scratch, 0, 0.0f, n));
        DFX_CHECK (dfx_ctx_flush (ctx));
        DFX_CHECK (report (ctx, pr));
    }
cleanup:
    return st;
}
