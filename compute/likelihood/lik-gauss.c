/* lik-gauss.c — the Gaussian end of the likelihood ODE (MATH.md "Gaussian
 * skip for the likelihood"): per-value terms of log N(x̃; μ, Σ + σ̃² I) for the
 * model's Gaussian statistics (gaussian/, models/GAUSSIAN.md), in double on
 * the host, so that the network ODE can stop at σ̃_skip.
 *
 * The quadratic form splits per value as −½ (x̃ − μ)_i w_i with
 * w = (Σ + σ̃² I)⁻¹ (x̃ − μ); the log-determinant and 2π constant are spread
 * evenly over the values, so the terms sum to the log-density exactly.
 *   PCA:      Σ = U diag(λ) Uᵀ + λ_res (I − UUᵀ) on the statistics' grid.
 *   spectral: Σ block-circulant (stationary, periodic canvas): per DFT bin the
 *             c × c matrix S[k] resampled to the canvas (skip-spectral.c), w by
 *             a unitary 2-D FFT, (S[k] + σ̃² I)⁻¹ per bin, inverse FFT.
 * Not for: the ODE (likelihood.c) or the device skip of generation (sample/).
 */
#include "likelihood-private.h"
#include "../sample/sample-private.h"

#include <complex.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* ---- a small host FFT: radix 2, Bluestein for other lengths ---------------- */

static void
fft_pow2 (double complex *a, size_t n, int inverse)
{
    for (size_t i = 1, j = 0; i < n; i++) {
        size_t bit = n >> 1;
        for (; j & bit; bit >>= 1)
            j ^= bit;
        j ^= bit;
        if (i < j) {
            double complex t = a[i];
            a[i] = a[j], a[j] = t;
        }
    }
    for (size_t len = 2; len <= n; len <<= 1) {
        const double ang = (inverse ? 2.0 : -2.0) * M_PI / (double) len;
        for (size_t i = 0; i < n; i += len)
            for (size_t k = 0; k < len / 2; k++) {
                const double complex wk = cexp (I * ang * (double) k);
                double complex u = a[i + k], v = a[i + k + len / 2] * wk;
                a[i + k] = u + v, a[i + k + len / 2] = u - v;
            }
    }
}

/* Unitary DFT of length n in place (scale 1/√n both ways); scratch holds
 * 2 m complex values, m the power of two ≥ 2n − 1 (unused for n a power of 2). */
static void
fft_any (double complex *a, size_t n, int inverse, double complex *scratch, size_t m)
{
    const double sc = 1.0 / sqrt ((double) n);
    if ((n & (n - 1)) == 0) {
        fft_pow2 (a, n, inverse);
    } else { /* Bluestein: a_k w^{k²/2} convolved with the chirp */
        double complex *u = scratch, *v = scratch + m;
        const double sgn = inverse ? 1.0 : -1.0;
        memset (u, 0, m * sizeof *u), memset (v, 0, m * sizeof *v);
        for (size_t k = 0; k < n; k++) {
            const double complex c = cexp (I * sgn * M_PI * (double) ((k * k) % (2 * n)) / (double) n);
            u[k] = a[k] * c;
            v[k] = conj (c);
            if (k)
                v[m - k] = conj (c);
        }
        fft_pow2 (u, m, 0), fft_pow2 (v, m, 0);
        for (size_t k = 0; k < m; k++)
            u[k] *= v[k];
        fft_pow2 (u, m, 1);
        for (size_t k = 0; k < n; k++)
            a[k] = u[k] / (double) m * cexp (I * sgn * M_PI * (double) ((k * k) % (2 * n)) / (double) n);
    }
    for (size_t k = 0; k < n; k++)
        a[k] *= sc;
}

static size_t
bluestein_len (size_t n)
{
    size_t m = 1;
    while (m < 2 * n - 1)
        m <<= 1;
    return m;
}

/* Unitary 2-D DFT of an h × w plane (x fastest) in place. */
static int
fft2 (double complex *p, uint32_t h, uint32_t w, int inverse)
{
    const size_t mw = bluestein_len (w), mh = bluestein_len (h), m = mw > mh ? mw : mh;
    double complex *scratch = malloc ((2 * m + h) * sizeof *scratch);
    if (!scratch)
        return -1;
    double complex *col = scratch + 2 * m;
    for (uint32_t y = 0; y < h; y++)
        fft_any (p + (size_t) y * w, w, inverse, scratch, mw);
    for (uint32_t x = 0; x < w; x++) {
        for (uint32_t y = 0; y < h; y++)
            col[y] = p[(size_t) y * w + x];
        fft_any (col, h, inverse, scratch, mh);
        for (uint32_t y = 0; y < h; y++)
            p[(size_t) y * w + x] = col[y];
    }
    free (scratch);
    return 0;
}

/* ---- the two Gaussians -------------------------------------------------------- */

static double
inv_fn (double lambda, const void *arg)
{
    return 1.0 / (lambda + *(const double *) arg);
}

static double
log_fn (double lambda, const void *arg)
{
    return log (lambda + *(const double *) arg);
}

static dfx_status
pca_terms (dfx_ctx *ctx, const dfx__gauss_stats *g, uint32_t batch, const float *x, double s2, double *terms)
{
    const size_t d = (size_t) g->channels * g->height * g->width;
    const double rr = 1.0 / (g->residual + s2);
    double *e = malloc (d * sizeof *e), *wv = malloc (d * sizeof *wv);
    if (!e || !wv) {
        free (e), free (wv);
        return dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (Gaussian likelihood)");
    }
    double logdet = (double) (d - g->rank) * log (g->residual + s2);
    for (uint32_t k = 0; k < g->rank; k++)
        logdet += log (fmax (g->eigval[k], 0.0) + s2);
    const double cst = -0.5 * (logdet + (double) d * log (2.0 * M_PI)) / (double) d;
    for (uint32_t b = 0; b < batch; b++) {
        const float *xb = x + b * d;
        for (size_t i = 0; i < d; i++)
            e[i] = xb[i] - g->mean[i], wv[i] = rr * e[i];
        for (uint32_t k = 0; k < g->rank; k++) {
            const double *u = g->comps + k * d;
            double p = 0.0;
            for (size_t i = 0; i < d; i++)
                p += u[i] * e[i];
            p *= 1.0 / (fmax (g->eigval[k], 0.0) + s2) - rr;
            for (size_t i = 0; i < d; i++)
                wv[i] += p * u[i];
        }
        for (size_t i = 0; i < d; i++)
            terms[b * d + i] = -0.5 * e[i] * wv[i] + cst;
    }
    free (e), free (wv);
    return DFX_OK;
}

static dfx_status
spectral_terms (dfx_ctx *ctx, const dfx__gauss_stats *g, uint32_t batch, uint32_t h, uint32_t w, const float *x,
                double s2, double *terms)
{
    const uint32_t c = g->channels;
    const size_t np = (size_t) h * w, d = c * np, cc2 = 2 * (size_t) c * c;
    double complex *z = malloc (d * sizeof *z);
    double *a = malloc (np * cc2 * sizeof *a);
    dfx_status st = DFX_OK;
    if (!z || !a) {
        st = dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (Gaussian likelihood, %ux%u)", w, h);
        goto cleanup;
    }
    /* Per bin: (S + σ̃² I)⁻¹ and log det (S + σ̃² I). */
    double logdet = 0.0;
    for (uint32_t ky = 0; ky < h; ky++)
        for (uint32_t kx = 0; kx < w; kx++) {
            double s[2 * DFX__HERM_MAX * DFX__HERM_MAX], l[2 * DFX__HERM_MAX * DFX__HERM_MAX];
            dfx__spectral_cov_at (g, h, w, ky, kx, s);
            dfx__hermitian_function ((int) c, s, inv_fn, &s2, a + ((size_t) ky * w + kx) * cc2);
            dfx__hermitian_function ((int) c, s, log_fn, &s2, l);
            for (uint32_t i = 0; i < c; i++)
                logdet += l[2 * (i * c + i)];
        }
    const double cst = -0.5 * (logdet + (double) d * log (2.0 * M_PI)) / (double) d;
    for (uint32_t b = 0; b < batch; b++) {
        const float *xb = x + b * d;
        for (uint32_t ch = 0; ch < c; ch++) {
            for (size_t i = 0; i < np; i++)
                z[ch * np + i] = xb[ch * np + i] - g->spec_mean[ch];
            if (fft2 (z + ch * np, h, w, 0)) {
                st = dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (FFT of %ux%u)", w, h);
                goto cleanup;
            }
        }
        for (size_t k = 0; k < np; k++) {
            const double *ak = a + k * cc2;
            double complex v[DFX__HERM_MAX];
            for (uint32_t i = 0; i < c; i++) {
                v[i] = 0;
                for (uint32_t j = 0; j < c; j++)
                    v[i] += (ak[2 * (i * c + j)] + I * ak[2 * (i * c + j) + 1]) * z[j * np + k];
            }
            for (uint32_t i = 0; i < c; i++)
                z[i * np + k] = v[i];
        }
        for (uint32_t ch = 0; ch < c; ch++) {
            if (fft2 (z + ch * np, h, w, 1)) {
                st = dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (FFT of %ux%u)", w, h);
                goto cleanup;
            }
            for (size_t i = 0; i < np; i++) {
                const double e = xb[ch * np + i] - g->spec_mean[ch];
                terms[b * d + ch * np + i] = -0.5 * e * creal (z[ch * np + i]) + cst;
            }
        }
    }
cleanup:
    free (z), free (a);
    return st;
}

dfx_status
dfx__gauss_log_density (dfx_ctx *ctx, const dfx__gauss_stats *g, dfx_skip mode, uint32_t batch, uint32_t h,
                        uint32_t w, const float *x, double sigma, double *terms)
{
    if (mode == DFX_SKIP_PCA) {
        if (!g->has_pca || h != g->height || w != g->width)
            return dfx__error (ctx, DFX_ERR_UNSUPPORTED,
                               "the PCA Gaussian is defined on the statistics' %ux%u grid only, not %ux%u%s", g->width,
                               g->height, w, h, g->has_pca ? "" : " (and the statistics hold no PCA part)");
        return pca_terms (ctx, g, batch, x, sigma * sigma, terms);
    }
    if (mode != DFX_SKIP_SPECTRAL || !g->has_spectral)
        return dfx__error (ctx, DFX_ERR_UNSUPPORTED, "the Gaussian statistics hold no %s part",
                           dfx_skip_name (mode));
    if (g->channels > DFX__HERM_MAX)
        return dfx__error (ctx, DFX_ERR_UNSUPPORTED, "the spectral Gaussian handles at most %d channels, not %u",
                           DFX__HERM_MAX, g->channels);
    return spectral_terms (ctx, g, batch, h, w, x, sigma * sigma, terms);
}
