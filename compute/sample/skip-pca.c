/* skip-pca.c — the PCA Gaussian skip on the device (MATH.md "Gaussian
 * skip", EDM form in x̃, σ̃): for data N(μ, U diag(λ) Uᵀ + λ_res (I − UUᵀ)),
 *
 *     x(σ_to) = μ + c_res (x − μ) + Σ_k (c_k − c_res) u_k u_kᵀ (x − μ),
 *     c = √((λ + σ_to²)/(λ + σ_from²)),
 *
 * as y = x − μ (lincomb), P = Y Uᵀ (GEMM), P ⊙= (c_k − c_res) (mul),
 * Y = P U + c_res Y (GEMM), x = y + μ (lincomb).  The same steps without μ
 * and with c = σ² λ/(λ + σ²) apply the Gaussian's posterior covariance
 * Cov[x0 | x̃] = σ² Σ (Σ + σ² I)⁻¹ (dfx__skip_pca_cov, the edit's Gaussian
 * adjoint).  Works only on the grid the statistics were taken on. */
#include "skip-private.h"
#include "../ops/ops-sample.h"

#include <string.h>

static dfx_status
upload_doubles (dfx_ctx *ctx, const double *v, size_t n, dfx_buffer **out)
{
    float *f = malloc (n * sizeof *f);
    if (!f)
        return dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (Gaussian statistics)");
    for (size_t i = 0; i < n; i++)
        f[i] = (float) v[i];
    dfx_status st = dfx_buffer_create (ctx, n * sizeof *f, out);
    if (st == DFX_OK)
        st = dfx_buffer_upload (ctx, *out, 0, f, n * sizeof *f);
    free (f);
    return st;
}

/* c of one variance: the flow map's, or the posterior covariance's at σ = sigma_from (cov) */
static double
factor (int cov, double lambda, double sigma_from, double sigma_to)
{
    const double s2 = sigma_from * sigma_from;
    return cov ? s2 * lambda / (lambda + s2) : dfx__gauss_factor (lambda, sigma_from, sigma_to);
}

static dfx_status
pca_apply (dfx__skip *s, uint32_t batch, uint32_t h, uint32_t w, dfx_buffer *x, double sigma_from, double sigma_to,
           int cov)
{
    dfx_ctx *ctx = s->ctx;
    const dfx__gauss_stats *g = s->g;
    if (!g->has_pca)
        return dfx__error (ctx, DFX_ERR_UNSUPPORTED, "the Gaussian statistics hold no PCA part");
    if (h != g->height || w != g->width)
        return dfx__error (ctx, DFX_ERR_UNSUPPORTED,
                           "the PCA skip works on the statistics' grid %ux%u only, the canvas is %ux%u (the "
                           "spectral skip works at any size)", g->width, g->height, w, h);
    size_t d = (size_t) g->channels * h * w;
    uint32_t r = g->rank;
    dfx_status st = DFX_OK;
    float *wt = NULL;
    if (!s->mean)
        DFX_CHECK (upload_doubles (ctx, g->mean, d, &s->mean));
    if (r && !s->comps)
        DFX_CHECK (upload_doubles (ctx, g->comps, (size_t) r * d, &s->comps));
    if (s->pca_batch != batch) {
        dfx__skip_pca_release (s);
        DFX_CHECK (dfx_buffer_create (ctx, batch * d * sizeof (float), &s->y));
        if (r) {
            DFX_CHECK (dfx_buffer_create (ctx, (size_t) batch * r * sizeof (float), &s->p));
            DFX_CHECK (dfx_buffer_create (ctx, (size_t) batch * r * sizeof (float), &s->wt));
        }
        s->pca_batch = batch;
    }
    const double c_res = factor (cov, g->residual, sigma_from, sigma_to);
    const float mu = cov ? 0.0f : 1.0f; /* the covariance is linear: no mean */
    for (uint32_t b = 0; b < batch; b++)
        DFX_CHECK (dfx__lincomb (ctx, s->y, b * d, 1.0f, x, b * d, -mu, s->mean, 0, 0.0f, d));
    if (r) {
        wt = malloc ((size_t) batch * r * sizeof *wt);
        if (!wt) {
            st = dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (PCA skip)");
            goto cleanup;
        }
        for (uint32_t k = 0; k < r; k++)
            wt[k] = (float) (factor (cov, g->eigval[k], sigma_from, sigma_to) - c_res);
        for (uint32_t b = 1; b < batch; b++)
            memcpy (wt + (size_t) b * r, wt, r * sizeof *wt);
        DFX_CHECK (dfx_buffer_upload (ctx, s->wt, 0, wt, (size_t) batch * r * sizeof *wt));
        dfx_gemm_params gp;
        dfx_gemm_params_defaults (&gp);
        gp.m = batch, gp.n = r, gp.k = (uint32_t) d, gp.trans_b = 1;
        DFX_CHECK (dfx_op_gemm (ctx, &gp, s->y, s->comps, s->p));
        DFX_CHECK (dfx_op_mul (ctx, s->p, s->p, s->wt, (size_t) batch * r));
        dfx_gemm_params_defaults (&gp);
        gp.m = batch, gp.n = (uint32_t) d, gp.k = r, gp.beta = (float) c_res;
        DFX_CHECK (dfx_op_gemm (ctx, &gp, s->p, s->comps, s->y));
        for (uint32_t b = 0; b < batch; b++)
            DFX_CHECK (dfx__lincomb (ctx, x, b * d, 1.0f, s->y, b * d, mu, s->mean, 0, 0.0f, d));
    } else {
        for (uint32_t b = 0; b < batch; b++)
            DFX_CHECK (dfx__lincomb (ctx, x, b * d, (float) c_res, s->y, b * d, mu, s->mean, 0, 0.0f, d));
    }
cleanup:
    free (wt);
    return st;
}

dfx_status
dfx__skip_pca (dfx__skip *s, uint32_t batch, uint32_t h, uint32_t w, dfx_buffer *x, double sigma_from,
               double sigma_to)
{
    return pca_apply (s, batch, h, w, x, sigma_from, sigma_to, 0);
}

dfx_status
dfx__skip_pca_cov (dfx__skip *s, uint32_t h, uint32_t w, dfx_buffer *x, double sigma)
{
    return pca_apply (s, 1, h, w, x, sigma, sigma, 1);
}
