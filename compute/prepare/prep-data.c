/* prep-data.c — Gaussian statistics from images (`dfx prepare --data`), the
 * method of models/gaussian_stats.py in C: the per-pixel mean, the top
 * eigenpairs of the sample covariance (here by subspace iteration on
 * v ↦ Xᵀ X v/(n − 1), X the centred images, instead of a dense d × d
 * eigendecomposition), the residual from the exact trace, and the spectrum
 * about the per-channel mean.  Does not read files: the caller hands the
 * images over on the model's data scale. */
#include "prepare-private.h"

#include <string.h>

typedef struct cov_op {
    uint32_t n;
    size_t d;
    const float *x;
    const double *mean;
} cov_op;

static dfx_status
cov_apply (void *user, uint32_t k, const double *v, double *out)
{
    const cov_op *o = user;
    const size_t d = o->d;
    memset (out, 0, k * d * sizeof *out);
    for (uint32_t i = 0; i < o->n; i++) {
        const float *xi = o->x + i * d;
        for (uint32_t j = 0; j < k; j++) {
            const double *vj = v + j * d;
            double p = 0.0;
            for (size_t l = 0; l < d; l++)
                p += (xi[l] - o->mean[l]) * vj[l];
            p /= (double) (o->n - 1);
            double *oj = out + j * d;
            for (size_t l = 0; l < d; l++)
                oj[l] += p * (xi[l] - o->mean[l]);
        }
    }
    return DFX_OK;
}

dfx_status
dfx__gauss_from_data (dfx_ctx *ctx, uint32_t c, uint32_t h, uint32_t w, uint32_t n, const float *x, uint32_t rank,
                      uint64_t seed, dfx__gauss_stats **out, double *total_variance)
{
    *out = NULL;
    const size_t hw = (size_t) h * w, d = c * hw, cc2 = 2 * (size_t) c * c, m = h > w ? h : w;
    if (n < 2)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "%u image(s): the covariance needs at least 2", n);
    if (rank == 0 || rank >= d)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "rank %u must be in [1, %zu)", rank, d);
    dfx__range_result rr;
    memset (&rr, 0, sizeof rr);
    dfx__gauss_stats *g = calloc (1, sizeof *g);
    double *xc = malloc (d * sizeof *xc), *work = malloc ((2 * hw * c + 4 * m) * sizeof *work);
    dfx_status st = DFX_OK;
    if (!g || !xc || !work || !(g->mean = calloc (d, sizeof *g->mean)) ||
        !(g->spec_cov = calloc (hw * cc2, sizeof *g->spec_cov)) || !(g->spec_mean = calloc (c, sizeof *g->spec_mean))) {
        st = dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (statistics of %u images)", n);
        goto cleanup;
    }
    for (uint32_t i = 0; i < n; i++)
        for (size_t l = 0; l < d; l++)
            g->mean[l] += x[i * d + l];
    double total = 0.0;
    for (size_t l = 0; l < d; l++)
        g->mean[l] /= n;
    for (uint32_t i = 0; i < n; i++) {
        for (size_t l = 0; l < d; l++) {
            xc[l] = x[i * d + l] - g->mean[l];
            total += xc[l] * xc[l];
        }
        dfx__spectrum_accumulate (c, h, w, xc, NULL, g->spec_cov, work);
    }
    total /= (double) (n - 1);
    for (size_t i = 0; i < hw * cc2; i++)
        g->spec_cov[i] /= (double) (n - 1);
    for (uint32_t a = 0; a < c; a++) {
        for (size_t i = 0; i < hw; i++)
            g->spec_mean[a] += g->mean[a * hw + i];
        g->spec_mean[a] /= (double) hw;
    }
    dfx__spectrum_accumulate (c, h, w, g->mean, g->spec_mean, g->spec_cov, work);
    cov_op op = {n, d, x, g->mean};
    DFX_CHECK (dfx__range_find (ctx, cov_apply, &op, d, rank, rank / 4 + 8, 4, seed, &rr));
    double top = 0.0;
    for (uint32_t k = 0; k < rr.rank; k++) {
        rr.vals[k] = rr.vals[k] < 0.0 ? 0.0 : rr.vals[k];
        top += rr.vals[k];
    }
    g->channels = c, g->height = h, g->width = w, g->rank = rr.rank, g->has_pca = 1, g->has_spectral = 1;
    g->eigval = rr.vals, g->comps = rr.vecs, rr.vals = rr.vecs = NULL;
    g->residual = total > top ? (total - top) / (double) (d - g->rank) : 0.0;
    g->mode = DFX_SKIP_PCA;
    if (total_variance)
        *total_variance = total;
    *out = g;
    g = NULL;
cleanup:
    dfx__gauss_stats_free (g);
    dfx__range_result_free (&rr);
    free (xc), free (work);
    return st;
}
