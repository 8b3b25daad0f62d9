/* prep-spectrum.c — the stationary (spectral) form on the host: a unitary
 * 2-D DFT, the spectrum of images about their per-channel mean, the per-bin
 * block of an operator from random probes, and the spectral Gaussian
 * denoiser for the calibration.  Naive separable DFT sums with a twiddle
 * table: meant for the model grids (32×32, 64×64), not for large canvases
 * (the sampler's skip uses VkFFT, compute/sample/fft.c). */
#include "prepare-private.h"

#include <math.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* n points of stride `stride` (complex) in place; line and tw: 2n each. */
static void
dft_line (uint32_t n, double *z, size_t stride, int inverse, double *line, double *tw)
{
    const double sgn = inverse ? 1.0 : -1.0, norm = 1.0 / sqrt ((double) n);
    for (uint32_t j = 0; j < n; j++) {
        tw[2 * j] = cos (2.0 * M_PI * j / n);
        tw[2 * j + 1] = sgn * sin (2.0 * M_PI * j / n);
    }
    for (uint32_t k = 0; k < n; k++) {
        double re = 0.0, im = 0.0;
        for (uint32_t j = 0, idx = 0; j < n; j++, idx = (idx + k) % n) {
            const double a = z[2 * j * stride], b = z[2 * j * stride + 1];
            re += a * tw[2 * idx] - b * tw[2 * idx + 1];
            im += a * tw[2 * idx + 1] + b * tw[2 * idx];
        }
        line[2 * k] = re * norm, line[2 * k + 1] = im * norm;
    }
    for (uint32_t k = 0; k < n; k++)
        z[2 * k * stride] = line[2 * k], z[2 * k * stride + 1] = line[2 * k + 1];
}

void
dfx__dft2 (uint32_t h, uint32_t w, double *z, int inverse, double *scratch)
{
    const uint32_t m = h > w ? h : w;
    double *line = scratch, *tw = scratch + 2 * m;
    for (uint32_t y = 0; y < h; y++)
        dft_line (w, z + 2 * (size_t) y * w, 1, inverse, line, tw);
    for (uint32_t x = 0; x < w; x++)
        dft_line (h, z + 2 * (size_t) x, w, inverse, line, tw);
}

/* z (c planes of h·w complex) = DFT of the real planes x − m. */
static void
dft_planes (uint32_t c, uint32_t h, uint32_t w, const double *x, const double *m, double *z, double *scratch)
{
    const size_t hw = (size_t) h * w;
    for (uint32_t a = 0; a < c; a++) {
        double *p = z + 2 * a * hw;
        for (size_t i = 0; i < hw; i++)
            p[2 * i] = x[a * hw + i] - (m ? m[a] : 0.0), p[2 * i + 1] = 0.0;
        dfx__dft2 (h, w, p, 0, scratch);
    }
}

/* s[k][a][b] += u_a(k) conj(v_b(k)) for planes u, v (c × h·w complex). */
static void
outer_accumulate (uint32_t c, size_t hw, const double *u, const double *v, double *s)
{
    for (size_t k = 0; k < hw; k++)
        for (uint32_t a = 0; a < c; a++) {
            const double ur = u[2 * (a * hw + k)], ui = u[2 * (a * hw + k) + 1];
            for (uint32_t b = 0; b < c; b++) {
                const double vr = v[2 * (b * hw + k)], vi = v[2 * (b * hw + k) + 1];
                double *o = s + 2 * ((k * c + a) * c + b);
                o[0] += ur * vr + ui * vi;
                o[1] += ui * vr - ur * vi;
            }
        }
}

void
dfx__spectrum_accumulate (uint32_t c, uint32_t h, uint32_t w, const double *x, const double *m, double *s,
                          double *work)
{
    const size_t hw = (size_t) h * w;
    double *z = work, *scratch = work + 2 * hw * c;
    dft_planes (c, h, w, x, m, z, scratch);
    outer_accumulate (c, hw, z, z, s);
}

/* Inverse of the c × c complex matrix q (destroyed) into inv; -1 when singular. */
static int
cinverse (uint32_t c, double *q, double *inv)
{
    for (uint32_t i = 0; i < c; i++)
        for (uint32_t j = 0; j < c; j++)
            inv[2 * (i * c + j)] = i == j, inv[2 * (i * c + j) + 1] = 0.0;
    double scale = 0.0;
    for (uint32_t i = 0; i < c; i++)
        scale = fmax (scale, hypot (q[2 * (i * c + i)], q[2 * (i * c + i) + 1]));
    for (uint32_t col = 0; col < c; col++) {
        uint32_t piv = col;
        double best = -1.0;
        for (uint32_t r = col; r < c; r++) {
            const double v = hypot (q[2 * (r * c + col)], q[2 * (r * c + col) + 1]);
            if (v > best)
                best = v, piv = r;
        }
        if (!(best > 1e-12 * scale))
            return -1;
        for (uint32_t j = 0; j < 2 * c; j++) {
            double t = q[2 * piv * c + j];
            q[2 * piv * c + j] = q[2 * col * c + j], q[2 * col * c + j] = t;
            t = inv[2 * piv * c + j];
            inv[2 * piv * c + j] = inv[2 * col * c + j], inv[2 * col * c + j] = t;
        }
        const double pr = q[2 * (col * c + col)], pi = q[2 * (col * c + col) + 1], den = pr * pr + pi * pi;
        const double ir = pr / den, ii = -pi / den; /* 1/p */
        for (uint32_t j = 0; j < c; j++) {
            double *a = q + 2 * (col * c + j), *b = inv + 2 * (col * c + j), t;
            t = a[0] * ir - a[1] * ii, a[1] = a[0] * ii + a[1] * ir, a[0] = t;
            t = b[0] * ir - b[1] * ii, b[1] = b[0] * ii + b[1] * ir, b[0] = t;
        }
        for (uint32_t r = 0; r < c; r++) {
            if (r == col)
                continue;
            const double fr = q[2 * (r * c + col)], fi = q[2 * (r * c + col) + 1];
            for (uint32_t j = 0; j < c; j++) {
                const double *a = q + 2 * (col * c + j), *b = inv + 2 * (col * c + j);
                q[2 * (r * c + j)] -= fr * a[0] - fi * a[1];
                q[2 * (r * c + j) + 1] -= fr * a[1] + fi * a[0];
                inv[2 * (r * c + j)] -= fr * b[0] - fi * b[1];
                inv[2 * (r * c + j) + 1] -= fr * b[1] + fi * b[0];
            }
        }
    }
    return 0;
}

dfx_status
dfx__spectrum_from_probes (dfx_ctx *ctx, uint32_t c, uint32_t h, uint32_t w, uint32_t n, const double *omega,
                           const double *y, double *a)
{
    const size_t hw = (size_t) h * w, d = c * hw, cc2 = 2 * (size_t) c * c, m = h > w ? h : w;
    double *p = calloc (hw * cc2, sizeof *p), *q = calloc (hw * cc2, sizeof *q);
    double *zo = malloc (2 * d * sizeof *zo), *zy = malloc (2 * d * sizeof *zy);
    double *scratch = malloc (4 * m * sizeof *scratch), *inv = malloc (cc2 * sizeof *inv);
    dfx_status st = DFX_OK;
    if (!p || !q || !zo || !zy || !scratch || !inv) {
        st = dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (spectrum of %ux%u)", w, h);
        goto cleanup;
    }
    for (uint32_t j = 0; j < n; j++) {
        dft_planes (c, h, w, omega + j * d, NULL, zo, scratch);
        dft_planes (c, h, w, y + j * d, NULL, zy, scratch);
        outer_accumulate (c, hw, zy, zo, p);
        outer_accumulate (c, hw, zo, zo, q);
    }
    for (size_t k = 0; k < hw; k++) {
        double *qk = q + k * cc2, *pk = p + k * cc2, *ak = a + k * cc2;
        if (cinverse (c, qk, inv) != 0) {
            st = dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT,
                             "spectrum: %u probes do not span the %u channels of frequency bin %zu", n, c, k);
            goto cleanup;
        }
        for (uint32_t i = 0; i < c; i++) /* M = P Q⁻¹ */
            for (uint32_t j = 0; j < c; j++) {
                double re = 0.0, im = 0.0;
                for (uint32_t l = 0; l < c; l++) {
                    const double *x = pk + 2 * (i * c + l), *z = inv + 2 * (l * c + j);
                    re += x[0] * z[0] - x[1] * z[1];
                    im += x[0] * z[1] + x[1] * z[0];
                }
                ak[2 * (i * c + j)] = re, ak[2 * (i * c + j) + 1] = im;
            }
        for (uint32_t i = 0; i < c; i++) /* (M + Mᴴ)/2 */
            for (uint32_t j = i; j < c; j++) {
                double *x = ak + 2 * (i * c + j), *z = ak + 2 * (j * c + i);
                const double re = 0.5 * (x[0] + z[0]), im = 0.5 * (x[1] - z[1]);
                x[0] = re, x[1] = im, z[0] = re, z[1] = -im;
            }
    }
cleanup:
    free (p), free (q), free (zo), free (zy), free (scratch), free (inv);
    return st;
}

static double
wiener (double lambda, const void *arg)
{
    const double s2 = *(const double *) arg;
    return lambda / (lambda + s2);
}

void
dfx__spectral_gain (const dfx__gauss_stats *g, double sigma, double *gain)
{
    const size_t hw = (size_t) g->height * g->width, cc2 = 2 * (size_t) g->channels * g->channels;
    const double s2 = sigma * sigma;
    for (size_t k = 0; k < hw; k++)
        dfx__hermitian_function ((int) g->channels, g->spec_cov + k * cc2, wiener, &s2, gain + k * cc2);
}

void
dfx__spectral_denoise (const dfx__gauss_stats *g, const double *gain, const double *x, double *out, double *work)
{
    const uint32_t c = g->channels, h = g->height, w = g->width;
    const size_t hw = (size_t) h * w;
    double *z = work, *scratch = work + 2 * c * hw, v[2 * DFX__HERM_MAX];
    dft_planes (c, h, w, x, g->spec_mean, z, scratch);
    for (size_t k = 0; k < hw; k++) {
        const double *gk = gain + k * 2 * c * c;
        for (uint32_t a = 0; a < c; a++) {
            double re = 0.0, im = 0.0;
            for (uint32_t b = 0; b < c; b++) {
                const double gr = gk[2 * (a * c + b)], gi = gk[2 * (a * c + b) + 1];
                const double zr = z[2 * (b * hw + k)], zi = z[2 * (b * hw + k) + 1];
                re += gr * zr - gi * zi, im += gr * zi + gi * zr;
            }
            v[2 * a] = re, v[2 * a + 1] = im;
        }
        for (uint32_t a = 0; a < c; a++)
            z[2 * (a * hw + k)] = v[2 * a], z[2 * (a * hw + k) + 1] = v[2 * a + 1];
    }
    for (uint32_t a = 0; a < c; a++) {
        dfx__dft2 (h, w, z + 2 * a * hw, 1, scratch);
        for (size_t i = 0; i < hw; i++)
            out[a * hw + i] = g->spec_mean[a] + z[2 * (a * hw + i)];
    }
}
