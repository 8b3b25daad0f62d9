/* denoiser-analytic.c — exact denoisers of data whose posterior is known in
 * closed form (MATH.md "Cheap exact test cases"), for tests and references:
 *
 *   Gaussian N(μ, Σ), Σ = Σ_k λ_k u_k u_kᵀ + λ_res (I − UUᵀ):
 *       D = μ + Σ (Σ + σ̃² I)⁻¹ (x̃ − μ), diagonal in the eigenbasis;
 *   Dirac mixture {y_i}: D = Σ w_i y_i, w = softmax(−‖x̃ − y_i‖²/(2σ̃²))
 *       (compute/algo/dirac.c, α = 1).
 *
 * Host double precision: each call runs the recorded work, downloads x̃,
 * computes D per item and uploads it.  Small dimensions only. */
#include "sample-private.h"
#include "../algo/dirac.h"

#include <string.h>

typedef struct host_den {
    dfx__denoiser base;
    uint32_t d;
    /* Gaussian */
    double *mean, *comps, *eigval, residual;
    uint32_t rank;
    /* Dirac */
    double *points;
    uint32_t n_points;
    dfx_status (*item) (const struct host_den *h, const double *x, double sigma, double *out, double *work);
} host_den;

static dfx_status
gauss_item (const host_den *h, const double *x, double sigma, double *out, double *work)
{
    const uint32_t d = h->d;
    const double s2 = sigma * sigma, rres = h->residual / (h->residual + s2);
    for (uint32_t i = 0; i < d; i++)
        out[i] = rres * (x[i] - h->mean[i]);
    for (uint32_t k = 0; k < h->rank; k++) {
        const double *u = h->comps + (size_t) k * d;
        double p = 0.0;
        for (uint32_t i = 0; i < d; i++)
            p += u[i] * (x[i] - h->mean[i]);
        p *= h->eigval[k] / (h->eigval[k] + s2) - rres;
        for (uint32_t i = 0; i < d; i++)
            out[i] += p * u[i];
    }
    for (uint32_t i = 0; i < d; i++)
        out[i] += h->mean[i];
    (void) work;
    return DFX_OK;
}

static dfx_status
dirac_item (const host_den *h, const double *x, double sigma, double *out, double *work)
{
    dfx__dirac m = {(int) h->n_points, (int) h->d, h->points};
    dfx__dirac_posterior (&m, x, 1.0, sigma, work, out, NULL, NULL, NULL);
    return DFX_OK;
}

static dfx_status
host_denoise (dfx__denoiser *dn, uint32_t batch, uint32_t hh, uint32_t ww, dfx_buffer *x, double sigma,
              dfx_buffer *out)
{
    host_den *h = (host_den *) dn;
    dfx_ctx *ctx = dn->ctx;
    const size_t d = h->d, n = batch * d;
    if ((size_t) dn->channels * hh * ww != d)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "analytic denoiser of dimension %zu given %u × %ux%u", d,
                           dn->channels, ww, hh);
    float *xf = malloc (n * sizeof *xf);
    double *xd = malloc (d * sizeof *xd), *od = malloc (d * sizeof *od),
           *work = malloc ((h->n_points + 1) * sizeof *work);
    dfx_status st = DFX_OK;
    if (!xf || !xd || !od || !work) {
        st = dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (analytic denoiser)");
        goto cleanup;
    }
    DFX_CHECK (dfx_buffer_download (ctx, x, 0, xf, n * sizeof *xf));
    for (uint32_t b = 0; b < batch; b++) {
        for (size_t i = 0; i < d; i++)
            xd[i] = xf[b * d + i];
        DFX_CHECK (h->item (h, xd, sigma, od, work));
        for (size_t i = 0; i < d; i++)
            xf[b * d + i] = (float) od[i];
    }
    DFX_CHECK (dfx_buffer_upload (ctx, out, 0, xf, n * sizeof *xf));
cleanup:
    free (xf), free (xd), free (od), free (work);
    return st;
}

static void
host_destroy (dfx__denoiser *dn)
{
    host_den *h = (host_den *) dn;
    free (h->mean), free (h->comps), free (h->eigval), free (h->points);
    free (h);
}

static double *
dup (const double *v, size_t n)
{
    double *p = malloc ((n ? n : 1) * sizeof *p);
    if (p && n)
        memcpy (p, v, n * sizeof *p);
    return p;
}

dfx_status
dfx__denoiser_gauss (dfx_ctx *ctx, uint32_t channels, uint32_t d, const double *mean, uint32_t rank,
                     const double *comps, const double *eigval, double residual, dfx__denoiser **out)
{
    *out = NULL;
    host_den *h = calloc (1, sizeof *h);
    if (!h)
        return dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (denoiser)");
    h->base = (dfx__denoiser){ctx, channels, "gauss", host_denoise, host_destroy};
    h->d = d, h->rank = rank, h->residual = residual, h->item = gauss_item;
    h->mean = dup (mean, d), h->comps = dup (comps, (size_t) rank * d), h->eigval = dup (eigval, rank);
    if (!h->mean || !h->comps || !h->eigval) {
        host_destroy (&h->base);
        return dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (denoiser)");
    }
    *out = &h->base;
    return DFX_OK;
}

dfx_status
dfx__denoiser_dirac (dfx_ctx *ctx, uint32_t channels, uint32_t d, uint32_t n_points, const double *points,
                     dfx__denoiser **out)
{
    *out = NULL;
    host_den *h = calloc (1, sizeof *h);
    if (!h)
        return dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (denoiser)");
    h->base = (dfx__denoiser){ctx, channels, "dirac", host_denoise, host_destroy};
    h->d = d, h->n_points = n_points, h->item = dirac_item;
    h->points = dup (points, (size_t) n_points * d);
    if (!h->points) {
        host_destroy (&h->base);
        return dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (denoiser)");
    }
    *out = &h->base;
    return DFX_OK;
}
