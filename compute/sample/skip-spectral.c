/* skip-spectral.c — the spectral Gaussian skip (MATH.md "Gaussian skip",
 * stationary case): a stationary Gaussian is diagonal in the Fourier basis
 * up to its channels, so per frequency bin k the closed form is the c × c
 * matrix A[k] = f(S[k]), f(λ) = √((λ + σ_to²)/(λ + σ_from²)), applied to the
 * channel vector of the unitary DFT of x − μ:
 *
 *     z = x − μ_c (spectral-pack), FFT, z[k] ← A[k] z[k] (spectral-mix),
 *     inverse FFT (normalised), x = Re z + μ_c (spectral-unpack).
 *
 * The FFTs are VkFFT's (fft.c).  Any canvas size: S is resampled from the
 * statistics' grid to the canvas' frequencies, bilinearly and periodically
 * in frequency (a power spectral density, invariant under the unitary DFT's
 * normalisation).  The A[k] are computed on the host, per call (for the
 * covariance once per σ̃ and shape, then kept: skip-private.h).  With
 * f(λ) = σ² λ/(λ + σ²) and no mean the same steps apply the Gaussian's
 * posterior covariance σ² S (S + σ² I)⁻¹ (dfx__skip_spectral_cov). */
#include "skip-private.h"
#include "../ops/ops-sample.h"

#include <math.h>

static double
factor_fn (double lambda, const void *arg)
{
    const double *s = arg;
    return dfx__gauss_factor (lambda, s[0], s[1]);
}

static double
cov_fn (double lambda, const void *arg)
{
    const double s2 = *(const double *) arg * *(const double *) arg;
    return s2 * lambda / (lambda + s2);
}

/* Source position (in bins, in [0, n_src)) of bin k of an n-point DFT. */
static double
src_pos (uint32_t k, uint32_t n, uint32_t n_src)
{
    int64_t ks = k <= n / 2 ? (int64_t) k : (int64_t) k - n; /* signed frequency ks / n */
    double p = (double) (ks * (int64_t) n_src) / (double) n;
    if (p < 0)
        p += n_src;
    return p >= n_src ? p - n_src : p;
}

void
dfx__spectral_cov_at (const dfx__gauss_stats *g, uint32_t h, uint32_t w, uint32_t ky, uint32_t kx, double *s)
{
    const uint32_t c = g->channels, H = g->height, W = g->width;
    const size_t cc2 = 2 * (size_t) c * c;
    double py = src_pos (ky, h, H);
    uint32_t y0 = (uint32_t) py, y1 = (y0 + 1) % H;
    double ty = py - y0;
    double px = src_pos (kx, w, W);
    uint32_t x0 = (uint32_t) px, x1 = (x0 + 1) % W;
    double tx = px - x0;
    const double *s00 = g->spec_cov + ((size_t) y0 * W + x0) * cc2, *s01 = g->spec_cov + ((size_t) y0 * W + x1) * cc2,
                 *s10 = g->spec_cov + ((size_t) y1 * W + x0) * cc2, *s11 = g->spec_cov + ((size_t) y1 * W + x1) * cc2;
    for (size_t i = 0; i < cc2; i++)
        s[i] = (1 - ty) * ((1 - tx) * s00[i] + tx * s01[i]) + ty * ((1 - tx) * s10[i] + tx * s11[i]);
}

static void
matrices (const dfx__gauss_stats *g, uint32_t h, uint32_t w, double (*fn) (double, const void *), const double *arg,
          float *a)
{
    const uint32_t c = g->channels;
    const size_t cc2 = 2 * (size_t) c * c;
    double s[2 * DFX__HERM_MAX * DFX__HERM_MAX], f[2 * DFX__HERM_MAX * DFX__HERM_MAX];
    for (uint32_t ky = 0; ky < h; ky++)
        for (uint32_t kx = 0; kx < w; kx++) {
            dfx__spectral_cov_at (g, h, w, ky, kx, s);
            dfx__hermitian_function ((int) c, s, fn, arg, f);
            float *ak = a + ((size_t) ky * w + kx) * cc2;
            for (size_t i = 0; i < cc2; i++)
                ak[i] = (float) f[i];
        }
}

void
dfx__spectral_matrices (const dfx__gauss_stats *g, uint32_t h, uint32_t w, double sigma_from, double sigma_to,
                        float *a)
{
    const double arg[2] = {sigma_from, sigma_to};
    matrices (g, h, w, factor_fn, arg, a);
}

static dfx_status
spectral_apply (dfx__skip *s, uint32_t batch, uint32_t h, uint32_t w, dfx_buffer *x, double sigma_from,
                double sigma_to, int cov)
{
    dfx_ctx *ctx = s->ctx;
    const dfx__gauss_stats *g = s->g;
    if (!g->has_spectral)
        return dfx__error (ctx, DFX_ERR_UNSUPPORTED, "the Gaussian statistics hold no spectral part");
    const uint32_t c = g->channels;
    if (c > DFX__SPECTRAL_MAX_CHANNELS)
        return dfx__error (ctx, DFX_ERR_UNSUPPORTED, "the spectral skip handles at most %d channels, not %u",
                           DFX__SPECTRAL_MAX_CHANNELS, c);
    const size_t np = (size_t) h * w, nz = (size_t) batch * c * np;
    dfx_status st = DFX_OK;
    float *a = NULL;
    if (!s->spec_mean) {
        float m[DFX__SPECTRAL_MAX_CHANNELS];
        for (uint32_t i = 0; i < c; i++)
            m[i] = (float) g->spec_mean[i];
        DFX_CHECK (dfx_buffer_create (ctx, c * sizeof (float), &s->spec_mean));
        DFX_CHECK (dfx_buffer_upload (ctx, s->spec_mean, 0, m, c * sizeof (float)));
    }
    if (s->fb != batch || s->fh != h || s->fw != w) {
        dfx__skip_spectral_release (s);
        DFX_CHECK (dfx_buffer_create (ctx, nz * 2 * sizeof (float), &s->z));
        DFX_CHECK (dfx_buffer_create (ctx, np * c * c * 2 * sizeof (float), &s->amat));
        DFX_CHECK (dfx__fft_create (ctx, h, w, batch * c, s->z, &s->fft));
        s->fb = batch, s->fh = h, s->fw = w;
    }
    const size_t abytes = np * c * c * 2 * sizeof *a;
    dfx_buffer *amat = s->amat;
    for (uint32_t i = 0; cov && i < s->n_cov && amat == s->amat; i++)
        if (s->cov_sigma[i] == sigma_from)
            amat = s->cov_amat[i];
    if (amat != s->amat)
        goto apply;
    a = malloc (abytes);
    if (!a) {
        st = dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (spectral skip, %ux%u)", w, h);
        goto cleanup;
    }
    if (cov)
        matrices (g, h, w, cov_fn, &sigma_from, a);
    else
        dfx__spectral_matrices (g, h, w, sigma_from, sigma_to, a);
    if (cov && s->n_cov < DFX__SKIP_COV_CACHE && (s->n_cov + 1) * abytes <= DFX__SKIP_COV_CACHE_BYTES) {
        DFX_CHECK (dfx_buffer_create (ctx, abytes, &s->cov_amat[s->n_cov]));
        s->cov_sigma[s->n_cov] = sigma_from;
        amat = s->cov_amat[s->n_cov++];
    }
    DFX_CHECK (dfx_buffer_upload (ctx, amat, 0, a, abytes));
apply:;
    const float mu = cov ? 0.0f : 1.0f; /* the covariance is linear: no mean */
    DFX_CHECK (dfx__spectral_pack (ctx, s->z, x, s->spec_mean, batch, c, (uint32_t) np, 1.0f, -mu));
    DFX_CHECK (dfx__fft_record (s->fft, 0));
    DFX_CHECK (dfx__spectral_mix (ctx, s->z, amat, batch, c, (uint32_t) np));
    DFX_CHECK (dfx__fft_record (s->fft, 1));
    DFX_CHECK (dfx__spectral_unpack (ctx, x, s->z, s->spec_mean, batch, c, (uint32_t) np, 1.0f, mu));
cleanup:
    if (st != DFX_OK && s->fb == 0)
        dfx__skip_spectral_release (s);
    free (a);
    return st;
}

dfx_status
dfx__skip_spectral (dfx__skip *s, uint32_t batch, uint32_t h, uint32_t w, dfx_buffer *x, double sigma_from,
                    double sigma_to)
{
    return spectral_apply (s, batch, h, w, x, sigma_from, sigma_to, 0);
}

dfx_status
dfx__skip_spectral_cov (dfx__skip *s, uint32_t h, uint32_t w, dfx_buffer *x, double sigma)
{
    return spectral_apply (s, 1, h, w, x, sigma, sigma, 1);
}
