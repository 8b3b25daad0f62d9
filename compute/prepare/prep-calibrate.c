/* prep-calibrate.c — where the Gaussian skip stops (models/GAUSSIAN.md
 * "Calibration", the metric of models/gaussian_stats.py): on images x0 (the
 * model's own samples, or held-out data), x̃ = x0 + σ̃ε on a descending grid
 * of σ̃, the network's x̂0 against the Gaussian denoiser of each mode,
 *     err(σ̃) = √(E‖D_θ − D_G‖² / E‖x̃ − D_θ‖²),
 * the relative error of the noise estimate the skip replaces.  σ̃_skip of a
 * mode is the smallest grid σ̃ with err ≤ tol there and at every larger one.
 * The grid stops one level after both modes have failed (the curve below
 * that point cannot move either skip point). */
#include "prepare-private.h"

#include <math.h>
#include <string.h>

/* Up to k levels log-uniform from σ̃_max down to σ̃_min, snapped to integer
 * timesteps for a discrete schedule; descending, distinct. */
static uint32_t
sigma_grid (const dfx__schedule *s, uint32_t k, double *out)
{
    uint32_t n = 0;
    const double lo = log (s->n > 0 ? exp (s->log_sigma[0]) : s->sigma_min),
                 hi = log (s->n > 0 ? exp (s->log_sigma[s->n - 1]) : s->sigma_max);
    for (uint32_t i = 0; i < k; i++) {
        const double target = k > 1 ? hi + (lo - hi) * i / (k - 1) : hi;
        double v = exp (target);
        if (s->n > 0) {
            int best = 0;
            for (int t = 1; t < s->n; t++)
                if (fabs (s->log_sigma[t] - target) < fabs (s->log_sigma[best] - target))
                    best = t;
            v = exp (s->log_sigma[best]);
        }
        if (n == 0 || v < out[n - 1])
            out[n++] = v;
    }
    return n;
}

static void
pca_denoise (const dfx__gauss_stats *g, double sigma, const double *x, double *out, double *proj)
{
    const size_t d = (size_t) g->channels * g->height * g->width;
    const double s2 = sigma * sigma, cres = g->residual / (g->residual + s2);
    for (uint32_t k = 0; k < g->rank; k++) {
        const double *u = g->comps + k * d;
        double p = 0.0;
        for (size_t i = 0; i < d; i++)
            p += u[i] * (x[i] - g->mean[i]);
        proj[k] = p * (g->eigval[k] / (g->eigval[k] + s2) - cres);
    }
    for (size_t i = 0; i < d; i++)
        out[i] = g->mean[i] + cres * (x[i] - g->mean[i]);
    for (uint32_t k = 0; k < g->rank; k++) {
        const double *u = g->comps + k * d;
        for (size_t i = 0; i < d; i++)
            out[i] += proj[k] * u[i];
    }
}

dfx_status
dfx__gauss_calibrate (dfx__prep_eval *e, const dfx__schedule *sched, const dfx__gauss_stats *g, uint32_t n,
                      const float *x0, uint32_t n_sigma, double tol, uint64_t seed, dfx__calibration *cal)
{
    dfx_ctx *ctx = e->den->ctx;
    memset (cal, 0, sizeof *cal);
    const size_t d = e->d, hw = (size_t) g->height * g->width;
    if (!g->has_pca || !g->has_spectral || g->height != e->h || g->width != e->w || n == 0)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT,
                           "calibration needs both forms of the statistics on the model's grid and images");
    if (n_sigma > DFX__CAL_MAX_SIGMA)
        n_sigma = DFX__CAL_MAX_SIGMA;
    double grid[DFX__CAL_MAX_SIGMA];
    const uint32_t levels = sigma_grid (sched, n_sigma, grid);
    const uint32_t b = e->batch;
    const size_t m = g->height > g->width ? g->height : g->width;
    double *xt = malloc (b * d * sizeof *xt), *dn = malloc (b * d * sizeof *dn), *dg = malloc (d * sizeof *dg);
    double *gain = malloc (hw * 2 * g->channels * g->channels * sizeof *gain);
    double *work = malloc ((2 * d + 4 * m) * sizeof *work), *proj = malloc ((g->rank + 1) * sizeof *proj);
    float *noise = malloc (d * sizeof *noise);
    dfx_status st = DFX_OK;
    if (!xt || !dn || !dg || !gain || !work || !proj || !noise) {
        st = dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (calibration)");
        goto cleanup;
    }
    int pca_alive = 1, spec_alive = 1;
    for (uint32_t l = 0; l < levels && (pca_alive || spec_alive); l++) {
        const double sig = grid[l];
        double num_p = 0.0, num_s = 0.0, den = 0.0;
        dfx__spectral_gain (g, sig, gain);
        for (uint32_t i0 = 0; i0 < n; i0 += b) {
            const uint32_t nb = n - i0 < b ? n - i0 : b;
            for (uint32_t i = 0; i < nb; i++) {
                dfx__noise_stream (seed, i0 + i, 100 + l, d, noise);
                for (size_t j = 0; j < d; j++)
                    xt[i * d + j] = x0[(i0 + i) * d + j] + sig * noise[j];
            }
            DFX_CHECK (dfx__prep_eval_run (e, nb, xt, sig, dn));
            for (uint32_t i = 0; i < nb; i++) {
                const double *x = xt + i * d, *o = dn + i * d;
                pca_denoise (g, sig, x, dg, proj);
                for (size_t j = 0; j < d; j++)
                    num_p += (o[j] - dg[j]) * (o[j] - dg[j]), den += (x[j] - o[j]) * (x[j] - o[j]);
                dfx__spectral_denoise (g, gain, x, dg, work);
                for (size_t j = 0; j < d; j++)
                    num_s += (o[j] - dg[j]) * (o[j] - dg[j]);
            }
        }
        den = den > 1e-300 ? den : 1e-300;
        cal->sigma[l] = sig, cal->err_pca[l] = sqrt (num_p / den), cal->err_spectral[l] = sqrt (num_s / den);
        cal->n = l + 1;
        if (pca_alive && cal->err_pca[l] <= tol)
            cal->skip_pca = sig, cal->pca_ok = 1;
        else
            pca_alive = 0;
        if (spec_alive && cal->err_spectral[l] <= tol)
            cal->skip_spectral = sig, cal->spectral_ok = 1;
        else
            spec_alive = 0;
    }
    if (!cal->pca_ok)
        cal->skip_pca = grid[0];
    if (!cal->spectral_ok)
        cal->skip_spectral = grid[0];
cleanup:
    free (xt), free (dn), free (dg), free (gain), free (work), free (proj), free (noise);
    return st;
}
