/* edit-adjoint.c — the discrete adjoint of the edit map (edit-private.h):
 * a_i = r_i a_{i+1} + κ_i C_i a_{i+1}, κ_i = (1 − r_i)/σ_i², from the
 * endpoint back to σ̃_start, with C_i a either the DF-EA product
 * x̄0 (x̄0ᵀa) − x̂0_i (x̂0_iᵀa) (two dot products, two lincombs, no network)
 * or an exact covariance product supplied by the caller, and the
 * finite-difference covariance product of any denoiser, the Gaussian's,
 * and the hybrid of the two.
 * Not for: the forward pass (edit-map.c). */
#include "edit-private.h"
#include "../ops/ops-sample.h"

#include <math.h>

dfx_status
dfx__edit_adjoint_dfea (dfx_ctx *ctx, const double *sig, uint32_t steps, size_t n, dfx_buffer *xbar,
                        dfx_buffer **xhat, dfx_buffer *a, dfx_buffer *tmp)
{
    dfx_status st = DFX_OK;
    for (uint32_t i = steps; i-- > 0;) {
        const double r = sig[i + 1] / sig[i], kappa = (1.0 - r) / (sig[i] * sig[i]);
        double p, q;
        /* x̄0(x̄0ᵀa) − x̂0(x̂0ᵀa) = δ(x̄0ᵀa) + x̂0(δᵀa), δ = x̄0 − x̂0_i: the same
         * product without the cancellation of two large terms (κ ~ 1/σ²), and
         * exactly 0 where x̂0_i = x̄0 (a point-mass posterior). */
        DFX_CHECK (dfx__lincomb (ctx, tmp, 0, 1.0f, xbar, 0, -1.0f, xhat[i], 0, 0.0f, n));
        DFX_CHECK (dfx_op_dot (ctx, xbar, a, n, &p));
        DFX_CHECK (dfx_op_dot (ctx, tmp, a, n, &q));
        /* a ← r a + κ p δ + κ q x̂0_i */
        DFX_CHECK (dfx__lincomb (ctx, a, 0, (float) r, a, 0, (float) (kappa * p), tmp, 0, 0.0f, n));
        DFX_CHECK (dfx__lincomb (ctx, a, 0, 1.0f, a, 0, (float) (kappa * q), xhat[i], 0, 0.0f, n));
    }
    DFX_CHECK (dfx_ctx_flush (ctx));
cleanup:
    return st;
}

dfx_status
dfx__edit_adjoint_clamped (dfx_ctx *ctx, const double *sig, uint32_t steps, size_t n, dfx_buffer *xbar,
                           dfx_buffer **xhat, dfx_buffer *a, dfx_buffer *tmp)
{
    dfx_status st = DFX_OK;
    double uu;
    DFX_CHECK (dfx_op_sumsq (ctx, xbar, n, &uu));
    for (uint32_t i = steps; i-- > 0;) {
        const double r = sig[i + 1] / sig[i], kappa = (1.0 - r) / (sig[i] * sig[i]);
        double du, dd, ua, da;
        /* Ĉ = uuᵀ − vvᵀ = uδᵀ + δuᵀ − δδᵀ (u = x̄0, v = x̂0_i, δ = u − v) acts
         * on span{u, δ} as M = [[δu, δδ], [uu − δu, δu − δδ]]; its eigenvalues
         * are ½(tr ± √(δδ |u + v|²)), one ≥ 0, one ≤ 0. */
        DFX_CHECK (dfx__lincomb (ctx, tmp, 0, 1.0f, xbar, 0, -1.0f, xhat[i], 0, 0.0f, n));
        DFX_CHECK (dfx_op_dot (ctx, tmp, xbar, n, &du));
        DFX_CHECK (dfx_op_sumsq (ctx, tmp, n, &dd));
        const double tr = 2 * du - dd, upv = fmax (4 * uu - 4 * du + dd, 0.0);
        const double mu = 0.5 * (tr + sqrt (dd * upv));
        const double mu_c = fmin (mu, sig[i] * sig[i]);
        const double c1 = dd, c2 = mu - du, ww = c1 * c1 * uu + 2 * c1 * c2 * du + c2 * c2 * dd;
        if (!(mu_c > 0) || !(ww > 0)) {
            DFX_CHECK (dfx__lincomb (ctx, a, 0, (float) r, a, 0, 0.0f, NULL, 0, 0.0f, n));
            continue;
        }
        DFX_CHECK (dfx_op_dot (ctx, xbar, a, n, &ua));
        DFX_CHECK (dfx_op_dot (ctx, tmp, a, n, &da));
        /* a ← r a + κ μ' (wᵀa/|w|²) w, w = c1 u + c2 δ */
        const double s = kappa * mu_c * (c1 * ua + c2 * da) / ww;
        DFX_CHECK (dfx__lincomb (ctx, a, 0, (float) r, a, 0, (float) (s * c1), xbar, 0, 0.0f, n));
        DFX_CHECK (dfx__lincomb (ctx, a, 0, 1.0f, a, 0, (float) (s * c2), tmp, 0, 0.0f, n));
    }
    DFX_CHECK (dfx_ctx_flush (ctx));
cleanup:
    return st;
}

dfx_status
dfx__edit_adjoint_exact (dfx_ctx *ctx, const double *sig, uint32_t steps, size_t n, dfx_buffer **xs,
                         dfx__cov_fn cov, void *cov_user, dfx_buffer *a, dfx_buffer *tmp)
{
    dfx_status st = DFX_OK;
    for (uint32_t i = steps; i-- > 0;) {
        const double r = sig[i + 1] / sig[i], kappa = (1.0 - r) / (sig[i] * sig[i]);
        DFX_CHECK (cov (cov_user, i, xs[i], sig[i], a, tmp));
        DFX_CHECK (dfx__lincomb (ctx, a, 0, (float) r, a, 0, (float) kappa, tmp, 0, 0.0f, n));
    }
    DFX_CHECK (dfx_ctx_flush (ctx));
cleanup:
    return st;
}

dfx_status
dfx__edit_cov_fd (void *user, uint32_t i, dfx_buffer *x, double sigma, dfx_buffer *a, dfx_buffer *out)
{
    dfx__edit_cov_fd_state *s = user;
    dfx_ctx *ctx = s->den->ctx;
    dfx_status st = DFX_OK;
    double aa;
    DFX_CHECK (dfx_op_sumsq (ctx, a, s->n, &aa));
    if (!(aa > 0)) /* C 0 = 0 */
        return dfx__lincomb (ctx, out, 0, 0.0f, a, 0, 0.0f, NULL, 0, 0.0f, s->n);
    const double eps = 1e-2 * sigma / sqrt (aa / (double) s->n);
    DFX_CHECK (dfx__lincomb (ctx, s->xp, 0, 1.0f, x, 0, (float) eps, a, 0, 0.0f, s->n));
    DFX_CHECK (s->den->denoise (s->den, 1, s->h, s->w, s->xp, sigma, s->dp));
    if (s->xhat && s->xhat[i]) {
        s->evals += 1;
        /* out = σ² (D₊ − x̂0_i)/ε */
        DFX_CHECK (dfx__lincomb (ctx, out, 0, (float) (sigma * sigma / eps), s->dp, 0,
                                 (float) (-sigma * sigma / eps), s->xhat[i], 0, 0.0f, s->n));
        goto cleanup;
    }
    DFX_CHECK (dfx__lincomb (ctx, s->xp, 0, 1.0f, x, 0, (float) -eps, a, 0, 0.0f, s->n));
    DFX_CHECK (s->den->denoise (s->den, 1, s->h, s->w, s->xp, sigma, out));
    s->evals += 2;
    /* out = σ² (D₊ − D₋)/(2ε) */
    DFX_CHECK (dfx__lincomb (ctx, out, 0, (float) (-sigma * sigma / (2 * eps)), out, 0,
                             (float) (sigma * sigma / (2 * eps)), s->dp, 0, 0.0f, s->n));
cleanup:
    return st;
}

dfx_status
dfx__edit_cov_gauss (void *user, uint32_t i, dfx_buffer *x, double sigma, dfx_buffer *a, dfx_buffer *out)
{
    const dfx__edit_cov_gauss_state *s = user;
    dfx_status st = DFX_OK;
    (void) i, (void) x; /* the Gaussian's covariance is the same at every state */
    DFX_CHECK (dfx__lincomb (s->ctx, out, 0, 1.0f, a, 0, 0.0f, NULL, 0, 0.0f, s->n));
    if (s->pca)
        DFX_CHECK (dfx__skip_pca_cov (s->skip, s->h, s->w, out, sigma));
    else
        DFX_CHECK (dfx__skip_spectral_cov (s->skip, s->h, s->w, out, sigma));
cleanup:
    return st;
}

dfx_status
dfx__edit_cov_hybrid (void *user, uint32_t i, dfx_buffer *x, double sigma, dfx_buffer *a, dfx_buffer *out)
{
    const dfx__edit_cov_hybrid_state *s = user;
    if (s->net[i])
        return dfx__edit_cov_fd (s->fd, i, x, sigma, a, out);
    return dfx__edit_cov_gauss (s->gauss, i, x, sigma, a, out);
}

uint32_t
dfx__edit_hybrid_steps (const double *sig, uint32_t steps, double sigma_skip, uint32_t B, uint8_t *net)
{
    uint32_t first = steps / 4;
    if (sigma_skip > 0)
        for (first = 0; first < steps && !(sig[first] < sigma_skip); first++)
            ;
    B = B < steps ? B : steps;
    if (first > steps - B)
        first = steps - B;
    for (uint32_t i = 0; i < steps; i++)
        net[i] = i >= first && i < first + B;
    return B;
}

uint32_t
dfx__edit_hybrid_default (uint32_t steps)
{
    return (uint32_t) floor (0.18 * (steps + 1) + 1e-9);
}
