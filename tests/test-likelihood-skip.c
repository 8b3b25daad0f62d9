/* test-likelihood-skip.c — the Gaussian skip of the likelihood (MATH.md
 * "Gaussian skip for the likelihood", lik-gauss.c) and the whole-layer layout,
 * on Gaussian data with the exact posterior moments, where the answer is
 * log N(x; μ, Σ + σ̃_min² I) in closed form (suite algo).
 *
 *   1. PCA Gaussian (rank 5 plus an isotropic residual) on an 8×8 grey grid:
 *      the per-value terms of log N(x; μ, Σ + s² I) sum to the dense closed
 *      form; the likelihood with the skip at σ̃_skip = 0.5 and without it both
 *      give the closed-form bits/dim within 2e-4, the skip with fewer network
 *      evaluations; the map's mean is the bits/dim.
 *   2. Stationary Gaussian on a 6×5 grid (Bluestein FFT lengths), 2 channels
 *      with a correlated channel covariance per frequency: the spectral terms
 *      sum to the dense closed form of the block-circulant covariance; the
 *      likelihood with the spectral skip matches the closed form.
 *   3. Refusals: PCA on another grid, a skip asked for without statistics,
 *      sigma_skip at or below sigma_min. */
#include "check-ctx.h"
#include "dfx-private.h"
#include "likelihood/likelihood-private.h"
#include "sample/sample-private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

static const double SMIN = 0.01, SMAX = 200.0;

/* log N(x; μ, A) for a dense d × d SPD A (destroyed: Cholesky in place). */
static double
dense_logpdf (uint32_t d, double *a, const double *x, const double *mu)
{
    double logdet = 0.0;
    for (uint32_t j = 0; j < d; j++) {
        double s = a[j * d + j];
        for (uint32_t k = 0; k < j; k++)
            s -= a[j * d + k] * a[j * d + k];
        a[j * d + j] = sqrt (s);
        logdet += 2.0 * log (a[j * d + j]);
        for (uint32_t i = j + 1; i < d; i++) {
            double t = a[i * d + j];
            for (uint32_t k = 0; k < j; k++)
                t -= a[i * d + k] * a[j * d + k];
            a[i * d + j] = t / a[j * d + j];
        }
    }
    double *z = malloc (d * sizeof *z), q = 0.0;
    for (uint32_t i = 0; i < d; i++) { /* L z = x − μ */
        double t = x[i] - mu[i];
        for (uint32_t k = 0; k < i; k++)
            t -= a[i * d + k] * z[k];
        z[i] = t / a[i * d + i];
        q += z[i] * z[i];
    }
    free (z);
    return -0.5 * (q + logdet + d * log (2.0 * M_PI));
}

static double
to_bits (double logp, uint32_t d)
{
    return -logp / (d * log (2.0)) + log2 (127.5);
}

/* Random orthonormal rows (Gram–Schmidt). */
static void
orthonormal (check_rng *r, uint32_t rank, uint32_t d, double *u)
{
    for (uint32_t k = 0; k < rank; k++) {
        double *v = u + (size_t) k * d;
        for (uint32_t i = 0; i < d; i++)
            v[i] = check_uniform (r, -1, 1);
        for (uint32_t j = 0; j < k; j++) {
            double p = 0.0;
            for (uint32_t i = 0; i < d; i++)
                p += v[i] * u[(size_t) j * d + i];
            for (uint32_t i = 0; i < d; i++)
                v[i] -= p * u[(size_t) j * d + i];
        }
        double n = 0.0;
        for (uint32_t i = 0; i < d; i++)
            n += v[i] * v[i];
        for (uint32_t i = 0; i < d; i++)
            v[i] /= sqrt (n);
    }
}

/* Grey layer pixels near the mean, and their model values 2v − 1. */
static void
make_values (check_rng *r, uint32_t n, const double *mu, float *px, double *v)
{
    for (uint32_t i = 0; i < n; i++) {
        double t = fmin (1.0, fmax (0.0, 0.5 * (mu[i] + 1.0) + check_uniform (r, -0.2f, 0.2f)));
        px[i] = (float) t;
        v[i] = 2.0 * px[i] - 1.0;
    }
}

static void
pca_case (dfx_ctx *ctx, check_rng *r)
{
    enum { H = 8, W = 8, D = H * W, R = 5 };
    static double mu[D], comps[R * D], lam[R], dense[D * D], v[D], terms[D];
    static float px[D], xf[D];
    const double res = 0.04;
    for (uint32_t i = 0; i < D; i++)
        mu[i] = check_uniform (r, -0.3f, 0.3f);
    orthonormal (r, R, D, comps);
    for (uint32_t k = 0; k < R; k++)
        lam[k] = 0.6 / (k + 1);
    make_values (r, D, mu, px, v);
    for (uint32_t i = 0; i < D; i++)
        xf[i] = (float) v[i];

    dfx__gauss_stats g = {.channels = 1, .height = H, .width = W, .has_pca = 1, .mean = mu, .rank = R,
                          .eigval = lam, .comps = comps, .residual = res, .sigma_skip = 0.5, .mode = DFX_SKIP_PCA};
    /* Terms at s against the dense closed form. */
    const double s = 0.7;
    CHECK (dfx__gauss_log_density (ctx, &g, DFX_SKIP_PCA, 1, H, W, xf, s, terms) == DFX_OK, "pca terms: %s",
           dfx_ctx_errmsg (ctx));
    for (uint32_t i = 0; i < D; i++)
        for (uint32_t j = 0; j < D; j++) {
            double a = (i == j) ? res + s * s : 0.0;
            for (uint32_t k = 0; k < R; k++)
                a += (lam[k] - res) * comps[k * D + i] * comps[k * D + j];
            dense[i * D + j] = a;
        }
    double sum = 0.0;
    for (uint32_t i = 0; i < D; i++)
        sum += terms[i];
    double want = dense_logpdf (D, dense, v, mu);
    CHECK (fabs (sum - want) < 1e-9 * fabs (want) + 1e-9, "pca: terms sum %.12g, closed form %.12g", sum, want);

    /* The likelihood with and without the skip against log N(x; μ, Σ + σ̃_min²). */
    dfx__moments *mo = NULL;
    CHECK (dfx__moments_gauss (ctx, 1, D, mu, R, comps, lam, res, &mo) == DFX_OK, "moments");
    for (uint32_t i = 0; i < D; i++)
        for (uint32_t j = 0; j < D; j++) {
            double a = (i == j) ? res + SMIN * SMIN : 0.0;
            for (uint32_t k = 0; k < R; k++)
                a += (lam[k] - res) * comps[k * D + i] * comps[k * D + j];
            dense[i * D + j] = a;
        }
    const double bits = to_bits (dense_logpdf (D, dense, v, mu), D);
    dfx__lik_model lm = {.mo = mo, .tile_w = W, .tile_h = H, .sigma_min = SMIN, .sigma_max = SMAX, .multiple = 1,
                         .gauss = &g};
    dfx_likelihood_params p;
    dfx_likelihood_params_defaults (&p);
    p.solver = DFX_ODE_RK45, p.rtol = p.atol = 1e-6; /* the adaptive solver to its closed-form accuracy */
    dfx_likelihood_result full, skip;
    p.skip = DFX_SKIP_OFF;
    CHECK (dfx__likelihood_image (&lm, &p, px, W, H, 1, 0, &full) == DFX_OK, "full: %s", dfx_ctx_errmsg (ctx));
    p.skip = DFX_SKIP_AUTO; /* the statistics' mode (PCA) at their grid, calibrated σ̃_skip 0.5 */
    CHECK (dfx__likelihood_image (&lm, &p, px, W, H, 1, 0, &skip) == DFX_OK, "skip: %s", dfx_ctx_errmsg (ctx));
    CHECK (full.skip == DFX_SKIP_OFF && skip.skip == DFX_SKIP_PCA && skip.sigma_skip == 0.5 &&
               full.sigma_skip == SMAX && full.tile_count == 1,
           "pca: modes %s/%s, sigma_skip %g", dfx_skip_name (full.skip), dfx_skip_name (skip.skip), skip.sigma_skip);
    CHECK (fabs (full.bits_per_dim - bits) < 2e-4, "pca: full ODE %.6f bits/dim, closed form %.6f",
           full.bits_per_dim, bits);
    CHECK (fabs (skip.bits_per_dim - bits) < 2e-4, "pca: skip %.6f bits/dim, closed form %.6f", skip.bits_per_dim,
           bits);
    CHECK (skip.nfe < full.nfe, "pca: the skip takes %u evaluations, the full ODE %u", skip.nfe, full.nfe);
    double m = 0.0;
    for (uint32_t i = 0; i < D; i++)
        m += skip.map[i];
    CHECK (fabs (m / D - skip.bits_per_dim) < 1e-6, "pca: map mean %.7f, bits/dim %.7f", m / D, skip.bits_per_dim);
    printf ("pca 8x8 rank %d: closed form %.6f, full ODE %.6f (%u evaluations), skip at 0.5 %.6f (%u)\n", R, bits,
            full.bits_per_dim, full.nfe, skip.bits_per_dim, skip.nfe);

    /* Refusals. */
    float big[16 * 8];
    for (int i = 0; i < 16 * 8; i++)
        big[i] = px[i % D];
    CHECK (dfx__gauss_log_density (ctx, &g, DFX_SKIP_PCA, 1, 8, 16, big, s, terms) == DFX_ERR_UNSUPPORTED &&
               strstr (dfx_ctx_errmsg (ctx), "8x8 grid"),
           "pca on 16x8 refused: %s", dfx_ctx_errmsg (ctx));
    dfx_likelihood_result bad;
    p.skip = DFX_SKIP_SPECTRAL;
    CHECK (dfx__likelihood_image (&lm, &p, px, W, H, 1, 0, &bad) == DFX_ERR_UNSUPPORTED &&
               strstr (dfx_ctx_errmsg (ctx), "no spectral part"),
           "spectral without its part refused: %s", dfx_ctx_errmsg (ctx));
    p.skip = DFX_SKIP_PCA, p.sigma_skip = SMIN;
    CHECK (dfx__likelihood_image (&lm, &p, px, W, H, 1, 0, &bad) == DFX_ERR_INVALID_ARGUMENT &&
               strstr (dfx_ctx_errmsg (ctx), "above sigma_min"),
           "sigma_skip = sigma_min refused: %s", dfx_ctx_errmsg (ctx));
    lm.gauss = NULL, p.sigma_skip = 0.0;
    CHECK (dfx__likelihood_image (&lm, &p, px, W, H, 1, 0, &bad) == DFX_ERR_UNSUPPORTED &&
               strstr (dfx_ctx_errmsg (ctx), "gaussian/"),
           "a skip without statistics refused: %s", dfx_ctx_errmsg (ctx));
    dfx_likelihood_result_clear (&full);
    dfx_likelihood_result_clear (&skip);
    dfx__moments_destroy (mo);
}

/* The spectral Gaussian end for dfx__likelihood (the layer path's callback, for values given directly). */
typedef struct prior_user {
    dfx_ctx *ctx;
    const dfx__gauss_stats *g;
} prior_user;

static dfx_status
spectral_prior (void *u, uint32_t batch, const float *xx, double sigma, double *t)
{
    const prior_user *pu = u;
    return dfx__gauss_log_density (pu->ctx, pu->g, DFX_SKIP_SPECTRAL, batch, pu->g->height, pu->g->width, xx, sigma,
                                   t);
}

static void
spectral_case (dfx_ctx *ctx, check_rng *r)
{
    enum { H = 6, W = 5, C = 2, NP = H * W, D = C * NP };
    static double spec[NP * C * C * 2], mean[C], dense[D * D], evec[D * D], eval[D], comps[D * D], mu[D], v[D],
        terms[D];
    static float xf[D];
    /* S[k] = [[a, b], [b*, c]] with a, c decaying in |k| and a correlation of 0.6, S[−k] = conj S[k]. */
    for (uint32_t ky = 0; ky < H; ky++)
        for (uint32_t kx = 0; kx < W; kx++) {
            const int sy = ky <= H / 2 ? (int) ky : (int) ky - H, sx = kx <= W / 2 ? (int) kx : (int) kx - W;
            const double k2 = sy * sy + sx * sx, a = 0.5 / (1.0 + k2), c = 0.2 / (1.0 + 0.5 * k2);
            const double ph = 0.4 * sx; /* odd in k (W odd: no Nyquist column), so S[−k] = conj S[k] */
            double *s = spec + (ky * W + kx) * C * C * 2;
            s[0] = a, s[1] = 0, s[6] = c, s[7] = 0;
            s[2] = 0.6 * sqrt (a * c) * cos (ph), s[3] = 0.6 * sqrt (a * c) * sin (ph);
            s[4] = s[2], s[5] = -s[3];
        }
    mean[0] = 0.1, mean[1] = -0.2;
    /* Dense covariance: Σ[(a,p),(b,q)] = (1/N) Σ_k S_ab[k] e^{2πi k·(p − q)}. */
    for (uint32_t a = 0; a < C; a++)
        for (uint32_t pi = 0; pi < NP; pi++)
            for (uint32_t b = 0; b < C; b++)
                for (uint32_t qi = 0; qi < NP; qi++) {
                    const int dy = (int) (pi / W) - (int) (qi / W), dx = (int) (pi % W) - (int) (qi % W);
                    double t = 0.0;
                    for (uint32_t ky = 0; ky < H; ky++)
                        for (uint32_t kx = 0; kx < W; kx++) {
                            const double *s = spec + ((ky * W + kx) * C * C + a * C + b) * 2;
                            const double ang = 2.0 * M_PI * ((double) ky * dy / H + (double) kx * dx / W);
                            t += s[0] * cos (ang) - s[1] * sin (ang);
                        }
                    dense[(a * NP + pi) * D + b * NP + qi] = t / NP;
                }
    for (uint32_t i = 0; i < D; i++)
        mu[i] = mean[i / NP];
    dfx__gauss_stats g = {.channels = C, .height = H, .width = W, .has_spectral = 1, .spec_mean = mean,
                          .spec_cov = spec, .sigma_skip = 0.4, .mode = DFX_SKIP_SPECTRAL};
    for (uint32_t i = 0; i < D; i++)
        v[i] = mu[i] + check_uniform (r, -0.5f, 0.5f), xf[i] = (float) v[i];
    const double s = 0.3;
    CHECK (dfx__gauss_log_density (ctx, &g, DFX_SKIP_SPECTRAL, 1, H, W, xf, s, terms) == DFX_OK,
           "spectral terms: %s", dfx_ctx_errmsg (ctx));
    double sum = 0.0;
    for (uint32_t i = 0; i < D; i++) {
        sum += terms[i];
        v[i] = xf[i];
    }
    static double a2[D * D];
    memcpy (a2, dense, sizeof a2);
    for (uint32_t i = 0; i < D; i++)
        a2[i * D + i] += s * s;
    double want = dense_logpdf (D, a2, v, mu);
    CHECK (fabs (sum - want) < 1e-7 * fabs (want) + 1e-7, "spectral: terms sum %.12g, closed form %.12g", sum, want);

    /* The exact moments of the same Gaussian: its eigenpairs. */
    memcpy (a2, dense, sizeof a2);
    dfx__eigh (D, a2, eval, evec);
    for (uint32_t k = 0; k < D; k++)
        for (uint32_t i = 0; i < D; i++)
            comps[k * D + i] = evec[i * D + k];
    dfx__moments *mo = NULL;
    CHECK (dfx__moments_gauss (ctx, C, D, mu, D, comps, eval, 0.0, &mo) == DFX_OK, "moments");
    memcpy (a2, dense, sizeof a2);
    for (uint32_t i = 0; i < D; i++)
        a2[i * D + i] += SMIN * SMIN;
    const double bits = to_bits (dense_logpdf (D, a2, v, mu), D);
    /* The layer path takes pixels; feed the ODE engine the values directly. */
    dfx__lik_desc d = {.mo = mo, .batch = 1, .h = H, .w = W, .sigma_min = SMIN, .sigma_max = 0.4,
                       .solver = DFX__ODE_RK45, .rtol = 1e-6, .atol = 1e-6, .cmax = 1e9, .clamp_sigma = 1};
    dfx_buffer *x = NULL;
    CHECK (dfx_buffer_create (ctx, D * sizeof (float), &x) == DFX_OK, "buffer");
    CHECK (dfx_buffer_upload (ctx, x, 0, xf, D * sizeof (float)) == DFX_OK, "upload");
    prior_user user = {ctx, &g};
    d.prior = spectral_prior, d.prior_user = &user;
    double logp = 0.0;
    static double map[D];
    dfx_status st = dfx__likelihood (&d, x, &logp, map, NULL);
    CHECK (st == DFX_OK, "spectral likelihood: %s", dfx_ctx_errmsg (ctx));
    CHECK (fabs (to_bits (logp, D) - bits) < 2e-4, "spectral: skip %.6f bits/dim, closed form %.6f",
           to_bits (logp, D), bits);
    printf ("spectral 6x5x2: closed form %.6f, skip at 0.4 %.6f bits/dim\n", bits, to_bits (logp, D));
    dfx_buffer_destroy (ctx, x);
    dfx__moments_destroy (mo);
}

int
main (void)
{
    dfx_ctx *ctx = check_ctx_open ();
    check_rng rng = {11};
    pca_case (ctx, &rng);
    spectral_case (ctx, &rng);
    dfx_ctx_destroy (ctx);
    return check_exit ();
}
