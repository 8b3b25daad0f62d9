/* test-prepare.c — gaussian/ statistics made by libdfx (compute/prepare/,
 * issue 23) against Gaussian data whose answer is known (suite algo):
 *
 *   1. From the network, PCA: the analytic denoiser of N(μ, Σ), Σ rank 5 plus
 *      an isotropic residual on an 8×8 grey grid, stands in for the network.
 *      The Jacobian at σ̃ = 10 recovers μ, the 5 eigenvalues, their
 *      eigenvectors and the residual (float32 evaluations: 1e-3 relative).
 *      The premise check at σ̃ = 5 and 40 gives the same eigenvalues (a
 *      Gaussian is Gaussian at every level).
 *   2. From the network, stationary: a 2-channel Gaussian on a 6×5 grid
 *      whose covariance is diagonal in the Fourier basis with a complex,
 *      correlated channel block per frequency (the dense covariance and its
 *      eigendecomposition built here from the definition, independently of
 *      the code under test).  The recovered spectrum matches S(k) in every
 *      bin, the top eigenvalues match the dense ones, the per-channel mean
 *      within 2e-3 (the low-rank (I − A)⁻¹ misses part of a full-rank A).
 *   3. From images: 3000 draws of case 1's Gaussian; the PCA by subspace
 *      iteration equals the dense eigendecomposition of the same sample
 *      covariance (1e-6), and is within sampling error of the truth.
 *   4. Calibration: with the exact denoiser and case 1's statistics the
 *      error is rounding at every level (skip down to the grid's smallest
 *      σ̃); with eigenvalues 4× too large the error passes the tolerance at
 *      low σ̃ and the skip point moves up.
 *   5. The law of total covariance (prep-total.c), which needs no Gaussian:
 *      data = three equally likely points in 16 dimensions, the exact
 *      (softmax) denoiser, the points themselves as the "samples".  At a
 *      level where both terms matter, σ̃² E[A] + Cov(D) recovers the points'
 *      covariance (rank 2: eigenvalues within Monte Carlo error, the plane
 *      they span, nothing outside it) and their mean; the Gaussian-premise
 *      estimator on the same denoiser does not (its error is printed). */
#include "check.h"
#include "dfx-private.h"
#include "prepare/prepare-private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

static double
gauss01 (check_rng *r)
{
    double u = check_uniform (r, 1e-7f, 1.0f), v = check_uniform (r, 0.0f, 1.0f);
    return sqrt (-2.0 * log (u)) * cos (2.0 * M_PI * v);
}

/* n random orthonormal rows of d (Gram–Schmidt, independent of the code under test). */
static void
random_orthonormal (check_rng *rng, uint32_t n, uint32_t d, double *u)
{
    for (uint32_t j = 0; j < n; j++) {
        double *v = u + j * d;
        for (uint32_t i = 0; i < d; i++)
            v[i] = gauss01 (rng);
        for (uint32_t k = 0; k < j; k++) {
            double p = 0.0;
            for (uint32_t i = 0; i < d; i++)
                p += v[i] * u[k * d + i];
            for (uint32_t i = 0; i < d; i++)
                v[i] -= p * u[k * d + i];
        }
        double s = 0.0;
        for (uint32_t i = 0; i < d; i++)
            s += v[i] * v[i];
        for (uint32_t i = 0; i < d; i++)
            v[i] /= sqrt (s);
    }
}

static double
rel (double a, double b)
{
    return fabs (a - b) / fmax (fabs (b), 1e-300);
}

enum { D1 = 64, R1 = 5 };
static const double LAM1[R1] = {40.0, 20.0, 10.0, 5.0, 2.5}, RES1 = 0.05;

static void
pca_case (dfx_ctx *ctx, check_rng *rng, double *mu, double *u)
{
    for (uint32_t i = 0; i < D1; i++)
        mu[i] = check_uniform (rng, -0.5f, 0.5f);
    random_orthonormal (rng, R1, D1, u);
    dfx__denoiser *den = NULL;
    dfx__prep_eval ev;
    memset (&ev, 0, sizeof ev);
    dfx__gauss_stats *g = NULL;
    CHECK (dfx__denoiser_gauss (ctx, 1, D1, mu, R1, u, LAM1, RES1, &den) == DFX_OK, "%s", dfx_ctx_errmsg (ctx));
    CHECK (dfx__prep_eval_init (den, 8, 8, 16, &ev) == DFX_OK, "%s", dfx_ctx_errmsg (ctx));
    const dfx__jac_params jp = {10.0, 1.0, R1, 10, 2, 4, 3, 0, 0};
    dfx__jac_report rep;
    dfx_status st = dfx__gauss_from_network (&ev, &jp, &g, &rep);
    CHECK (st == DFX_OK, "%s", dfx_ctx_errmsg (ctx));
    if (st == DFX_OK) {
        double emu = 0.0, nmu = 0.0;
        for (uint32_t i = 0; i < D1; i++)
            emu += (g->mean[i] - mu[i]) * (g->mean[i] - mu[i]), nmu += mu[i] * mu[i];
        CHECK (sqrt (emu / nmu) < 1e-3, "mean: relative error %.3g", sqrt (emu / nmu));
        CHECK (g->rank == R1, "rank %u", g->rank);
        for (uint32_t k = 0; k < R1 && k < g->rank; k++) {
            CHECK (rel (g->eigval[k], LAM1[k]) < 1e-3, "eigenvalue %u: %.6g, truth %.6g", k, g->eigval[k], LAM1[k]);
            double c = 0.0;
            for (uint32_t i = 0; i < D1; i++)
                c += g->comps[k * D1 + i] * u[k * D1 + i];
            CHECK (fabs (c) > 1.0 - 1e-5, "eigenvector %u: |cos| %.8f", k, fabs (c));
        }
        CHECK (rel (g->residual, RES1) < 1e-2, "residual %.6g, truth %.6g", g->residual, RES1);
        printf ("pca: eigenvalues %.5f %.5f %.5f %.5f %.5f residual %.5f (truth 40 20 10 5 2.5, 0.05)\n",
                g->eigval[0], g->eigval[1], g->eigval[2], g->eigval[3], g->eigval[4], g->residual);
        const double levels[2] = {5.0, 40.0};
        for (int l = 0; l < 2; l++) {
            double lam[4] = {0};
            CHECK (dfx__gauss_level_check (&ev, g, levels[l], 1.0, 4, 2, 9, lam) == DFX_OK, "%s",
                   dfx_ctx_errmsg (ctx));
            for (int k = 0; k < 4; k++)
                CHECK (rel (lam[k], LAM1[k]) < 2e-2 * (levels[l] / 5.0) * (levels[l] / 5.0),
                       "premise check at sigma %g: eigenvalue %d %.5g, truth %.5g", levels[l], k, lam[k], LAM1[k]);
        }
        /* 4. the calibration on draws of the Gaussian */
        enum { NCAL = 24 };
        float *x0 = malloc (NCAL * D1 * sizeof *x0);
        for (uint32_t n = 0; n < NCAL; n++) {
            double z[R1];
            for (uint32_t k = 0; k < R1; k++)
                z[k] = gauss01 (rng) * sqrt (LAM1[k]);
            for (uint32_t i = 0; i < D1; i++) {
                double v = mu[i] + sqrt (RES1) * gauss01 (rng);
                for (uint32_t k = 0; k < R1; k++)
                    v += z[k] * u[k * D1 + i];
                x0[n * D1 + i] = (float) v;
            }
        }
        dfx__schedule sched;
        dfx__schedule_continuous (0.01, 100.0, &sched);
        dfx__calibration cal;
        CHECK (dfx__gauss_calibrate (&ev, &sched, g, NCAL, x0, 12, 0.1, 5, &cal) == DFX_OK, "%s",
               dfx_ctx_errmsg (ctx));
        CHECK (cal.n == 12 && cal.pca_ok && fabs (cal.skip_pca - 0.01) < 1e-9, "exact denoiser: %u levels, pca skip %g",
               cal.n, cal.skip_pca);
        double worst = 0.0;
        for (uint32_t l = 0; l < cal.n; l++)
            worst = fmax (worst, cal.err_pca[l]);
        CHECK (worst < 1e-2, "exact denoiser: largest PCA error %.3g", worst);
        for (uint32_t k = 0; k < g->rank; k++)
            g->eigval[k] *= 4.0;
        CHECK (dfx__gauss_calibrate (&ev, &sched, g, NCAL, x0, 12, 0.1, 5, &cal) == DFX_OK, "%s",
               dfx_ctx_errmsg (ctx));
        CHECK (cal.skip_pca > 0.5 && cal.err_pca[cal.n - 1] > 0.1,
               "eigenvalues 4x: the skip point %g should move up (last error %.3g)", cal.skip_pca,
               cal.err_pca[cal.n - 1]);
        printf ("calibration: exact statistics skip to %g (largest error %.2g); eigenvalues 4x skip to %g\n", 0.01,
                worst, cal.skip_pca);
        free (x0);
        dfx__schedule_free (&sched);
    }
    dfx__gauss_stats_free (g);
    dfx__prep_eval_free (&ev);
    dfx__denoiser_destroy (den);
}

/* The stationary case: S(k) per bin of a 6 × 5 grid, 2 channels. */
enum { C2 = 2, H2 = 6, W2 = 5, D2 = C2 * H2 * W2 };

static void
spectrum_true (uint32_t ky, uint32_t kx, double s[C2 * C2 * 2])
{
    const double fy = (ky > H2 / 2 ? (double) ky - H2 : ky) / H2, fx = (kx > W2 / 2 ? (double) kx - W2 : kx) / W2;
    const double g = 6.0 / (1.0 + 25.0 * (fy * fy + fx * fx));
    const double sn = sin (2.0 * M_PI * (double) kx / W2) + 0.5 * sin (2.0 * M_PI * (double) ky / H2);
    s[0] = g, s[1] = 0.0;                        /* S00 */
    s[2] = 0.5 * g, s[3] = 0.3 * g * sn / 1.5;  /* S01 */
    s[4] = 0.5 * g, s[5] = -0.3 * g * sn / 1.5; /* S10 = conj S01 */
    s[6] = 0.8 * g + 0.1, s[7] = 0.0;            /* S11 */
}

static void
spectral_case (dfx_ctx *ctx)
{
    /* Σ[(a,y,x),(b,y',x')] = (1/HW) Σ_k Re(S_ab(k) e^{2πi(ky(y−y')/H + kx(x−x')/W)}). */
    static double sig[D2 * D2], vecs[D2 * D2], vals[D2], mu[D2];
    const uint32_t hw = H2 * W2;
    for (uint32_t a = 0; a < C2; a++)
        for (uint32_t p = 0; p < hw; p++)
            for (uint32_t b = 0; b < C2; b++)
                for (uint32_t q = 0; q < hw; q++) {
                    const int dy = (int) (p / W2) - (int) (q / W2), dx = (int) (p % W2) - (int) (q % W2);
                    double v = 0.0, s[8];
                    for (uint32_t ky = 0; ky < H2; ky++)
                        for (uint32_t kx = 0; kx < W2; kx++) {
                            spectrum_true (ky, kx, s);
                            const double ph = 2.0 * M_PI * ((double) ky * dy / H2 + (double) kx * dx / W2);
                            v += s[2 * (a * C2 + b)] * cos (ph) - s[2 * (a * C2 + b) + 1] * sin (ph);
                        }
                    sig[(a * hw + p) * D2 + b * hw + q] = v / hw;
                }
    for (uint32_t i = 0; i < D2; i++)
        mu[i] = i < hw ? 0.2 : -0.3;
    double *cp = malloc (sizeof sig), *comps = malloc (sizeof sig), *ev = malloc (D2 * sizeof *ev);
    memcpy (cp, sig, sizeof sig);
    dfx__eigh (D2, cp, vals, vecs);
    uint32_t order[D2];
    for (uint32_t i = 0; i < D2; i++)
        order[i] = i;
    for (uint32_t i = 1; i < D2; i++)
        for (uint32_t j = i; j > 0 && vals[order[j]] > vals[order[j - 1]]; j--) {
            const uint32_t t = order[j];
            order[j] = order[j - 1], order[j - 1] = t;
        }
    for (uint32_t k = 0; k < D2; k++) {
        ev[k] = vals[order[k]];
        for (uint32_t i = 0; i < D2; i++)
            comps[k * D2 + i] = vecs[i * D2 + order[k]];
    }
    dfx__denoiser *den = NULL;
    dfx__prep_eval e;
    memset (&e, 0, sizeof e);
    dfx__gauss_stats *g = NULL;
    CHECK (dfx__denoiser_gauss (ctx, C2, D2, mu, D2, comps, ev, 0.0, &den) == DFX_OK, "%s", dfx_ctx_errmsg (ctx));
    CHECK (dfx__prep_eval_init (den, H2, W2, 16, &e) == DFX_OK, "%s", dfx_ctx_errmsg (ctx));
    const dfx__jac_params jp = {5.0, 1.0, 6, 10, 6, 4, 4, 0, 0};
    dfx_status st = dfx__gauss_from_network (&e, &jp, &g, NULL);
    CHECK (st == DFX_OK, "%s", dfx_ctx_errmsg (ctx));
    if (st == DFX_OK) {
        double worst = 0.0, s[8];
        for (uint32_t ky = 0; ky < H2; ky++)
            for (uint32_t kx = 0; kx < W2; kx++) {
                spectrum_true (ky, kx, s);
                const double *e2 = g->spec_cov + (ky * W2 + kx) * 8;
                double num = 0.0, den2 = 0.0;
                for (int i = 0; i < 8; i++)
                    num += (e2[i] - s[i]) * (e2[i] - s[i]), den2 += s[i] * s[i];
                worst = fmax (worst, sqrt (num / den2));
            }
        CHECK (worst < 1e-3, "spectrum: worst bin's relative error %.3g", worst);
        /* μ through the low-rank (I − A)⁻¹ and one Newton step: the full-rank
         * stationary A leaves about 3e-3 relative (1e-2 without the step). */
        CHECK (fabs (g->spec_mean[0] - 0.2) < 2e-3 && fabs (g->spec_mean[1] + 0.3) < 2e-3, "spectral mean %g %g",
               g->spec_mean[0], g->spec_mean[1]);
        for (uint32_t k = 0; k < 4; k++)
            CHECK (rel (g->eigval[k], ev[k]) < 1e-3, "stationary eigenvalue %u: %.6g, truth %.6g", k, g->eigval[k],
                   ev[k]);
        printf ("spectral: worst bin error %.2g; eigenvalues %.4f %.4f %.4f %.4f (truth %.4f %.4f %.4f %.4f)\n", worst,
                g->eigval[0], g->eigval[1], g->eigval[2], g->eigval[3], ev[0], ev[1], ev[2], ev[3]);
    }
    dfx__gauss_stats_free (g);
    dfx__prep_eval_free (&e);
    dfx__denoiser_destroy (den);
    free (cp), free (comps), free (ev);
}

static void
data_case (dfx_ctx *ctx, check_rng *rng, const double *mu, const double *u)
{
    enum { N = 3000 };
    float *x = malloc ((size_t) N * D1 * sizeof *x);
    for (uint32_t n = 0; n < N; n++) {
        double z[R1];
        for (uint32_t k = 0; k < R1; k++)
            z[k] = gauss01 (rng) * sqrt (LAM1[k]);
        for (uint32_t i = 0; i < D1; i++) {
            double v = mu[i] + sqrt (RES1) * gauss01 (rng);
            for (uint32_t k = 0; k < R1; k++)
                v += z[k] * u[k * D1 + i];
            x[n * D1 + i] = (float) v;
        }
    }
    /* The dense sample covariance and its eigenvalues: the reference. */
    static double m[D1], cov[D1 * D1], vals[D1], vecs[D1 * D1];
    for (uint32_t n = 0; n < N; n++)
        for (uint32_t i = 0; i < D1; i++)
            m[i] += x[n * D1 + i] / (double) N;
    for (uint32_t n = 0; n < N; n++)
        for (uint32_t i = 0; i < D1; i++)
            for (uint32_t j = 0; j < D1; j++)
                cov[i * D1 + j] += (x[n * D1 + i] - m[i]) * (x[n * D1 + j] - m[j]) / (N - 1.0);
    double total = 0.0;
    for (uint32_t i = 0; i < D1; i++)
        total += cov[i * D1 + i];
    dfx__eigh (D1, cov, vals, vecs);
    for (uint32_t i = 1; i < D1; i++) /* descending */
        for (uint32_t j = i; j > 0 && vals[j] > vals[j - 1]; j--) {
            const double t = vals[j];
            vals[j] = vals[j - 1], vals[j - 1] = t;
        }
    dfx__gauss_stats *g = NULL;
    double tv = 0.0;
    dfx_status st = dfx__gauss_from_data (ctx, 1, 8, 8, N, x, R1, 1, &g, &tv);
    CHECK (st == DFX_OK, "%s", dfx_ctx_errmsg (ctx));
    if (st == DFX_OK) {
        double top = 0.0;
        for (uint32_t k = 0; k < R1; k++) {
            CHECK (rel (g->eigval[k], vals[k]) < 1e-6, "data eigenvalue %u: %.8g, dense %.8g", k, g->eigval[k],
                   vals[k]);
            CHECK (rel (g->eigval[k], LAM1[k]) < 0.1, "data eigenvalue %u: %.4g, truth %.4g", k, g->eigval[k],
                   LAM1[k]);
            top += vals[k];
        }
        CHECK (rel (tv, total) < 1e-9, "total variance %.8g, dense %.8g", tv, total);
        CHECK (rel (g->residual, (total - top) / (D1 - R1)) < 1e-6, "residual %.6g", g->residual);
        double em = 0.0;
        for (uint32_t i = 0; i < D1; i++)
            em = fmax (em, fabs (g->mean[i] - m[i]));
        CHECK (em < 1e-9, "data mean: max difference %.3g", em);
        printf ("data: eigenvalues %.4f %.4f %.4f %.4f %.4f (dense %.4f %.4f %.4f %.4f %.4f) residual %.4f\n",
                g->eigval[0], g->eigval[1], g->eigval[2], g->eigval[3], g->eigval[4], vals[0], vals[1], vals[2],
                vals[3], vals[4], g->residual);
    }
    dfx__gauss_stats_free (g);
    free (x);
}


/* 5. Three points y_i in 16 dimensions (a 4 × 4 grey canvas). */
enum { D5 = 16, N5 = 3 };

static void
dirac_case (dfx_ctx *ctx, check_rng *rng)
{
    double y[N5 * D5], mean[D5] = {0}, cov[D5 * D5] = {0}, vals[D5], vecs[D5 * D5];
    for (uint32_t i = 0; i < N5 * D5; i++)
        y[i] = 0.2 + 0.7 * gauss01 (rng);
    for (uint32_t p = 0; p < N5; p++)
        for (uint32_t i = 0; i < D5; i++)
            mean[i] += y[p * D5 + i] / N5;
    for (uint32_t p = 0; p < N5; p++) /* the data's covariance: 1/N over the points */
        for (uint32_t i = 0; i < D5; i++)
            for (uint32_t j = 0; j < D5; j++)
                cov[i * D5 + j] += (y[p * D5 + i] - mean[i]) * (y[p * D5 + j] - mean[j]) / N5;
    dfx__eigh (D5, cov, vals, vecs);
    uint32_t order[D5];
    for (uint32_t i = 0; i < D5; i++)
        order[i] = i;
    for (uint32_t i = 1; i < D5; i++)
        for (uint32_t j = i; j > 0 && vals[order[j]] > vals[order[j - 1]]; j--) {
            const uint32_t t = order[j];
            order[j] = order[j - 1], order[j - 1] = t;
        }
    enum { REPS = 64, DRAWS = 32 };
    float *x0 = malloc ((size_t) N5 * REPS * D5 * sizeof *x0);
    for (uint32_t n = 0; n < N5 * REPS; n++)
        for (uint32_t i = 0; i < D5; i++)
            x0[n * D5 + i] = (float) y[(n % N5) * D5 + i];
    dfx__denoiser *den = NULL;
    dfx__prep_eval e;
    memset (&e, 0, sizeof e);
    dfx__gauss_stats *g = NULL, *gj = NULL;
    CHECK (dfx__denoiser_dirac (ctx, 1, D5, N5, y, &den) == DFX_OK, "%s", dfx_ctx_errmsg (ctx));
    CHECK (dfx__prep_eval_init (den, 4, 4, 64, &e) == DFX_OK, "%s", dfx_ctx_errmsg (ctx));
    const double sigma = 1.5;
    const dfx__jac_params jp = {sigma, 0.05, 2, 6, 2, 0, 7, 256, 0};
    dfx__jac_report rep;
    dfx_status st = dfx__gauss_from_samples (&e, &jp, N5 * REPS, x0, DRAWS, &g, &rep);
    CHECK (st == DFX_OK, "%s", dfx_ctx_errmsg (ctx));
    if (st == DFX_OK) {
        const double l1 = vals[order[0]], l2 = vals[order[1]];
        CHECK (g->rank == 2, "rank %u", g->rank);
        /* Both terms carry a good part of the variance (Cov(D) about 2/3 at
         * this level), so neither alone could pass; the Monte Carlo error of
         * the eigenvalues is about 2.5 % (seeds 7-10: -1.9 ... +2.8 %). */
        const double tot = l1 + l2;
        CHECK (rep.trace_cov > 0.2 * tot && rep.trace_cov < 0.8 * tot, "tr Cov(D) %.4g of %.4g", rep.trace_cov, tot);
        CHECK (rel (g->eigval[0], l1) < 0.05 && rel (g->eigval[1], l2) < 0.05,
               "eigenvalues %.5g %.5g, truth %.5g %.5g", g->eigval[0], g->eigval[1], l1, l2);
        for (uint32_t k = 0; k < 2; k++) { /* within the points' plane */
            double in = 0.0;
            for (uint32_t q = 0; q < 2; q++) {
                double c = 0.0;
                for (uint32_t i = 0; i < D5; i++)
                    c += g->comps[k * D5 + i] * vecs[i * D5 + order[q]];
                in += c * c;
            }
            CHECK (in > 1.0 - 1e-4, "component %u: %.6f of it in the points' plane", k, in);
        }
        CHECK (g->residual < 1e-4 * l2, "residual %.3g (truth 0)", g->residual);
        double em = 0.0;
        for (uint32_t i = 0; i < D5; i++)
            em = fmax (em, fabs (g->mean[i] - mean[i]));
        CHECK (em < 1e-6, "mean: max difference %.3g", em);
        /* The identity at another level (one draw per point copy, 64 products per component). */
        double lam[2] = {0};
        CHECK (dfx__gauss_total_check (&e, g, 3.0, 0.05, 2, 64, N5 * REPS, x0, 3, lam) == DFX_OK, "%s",
               dfx_ctx_errmsg (ctx));
        CHECK (rel (lam[0], l1) < 0.1 && rel (lam[1], l2) < 0.1, "identity at sigma 3: %.4g %.4g", lam[0], lam[1]);
        const dfx__jac_params jq = {sigma, 0.05, 2, 6, 2, 8, 7, 0, 0};
        CHECK (dfx__gauss_from_network (&e, &jq, &gj, NULL) == DFX_OK, "%s", dfx_ctx_errmsg (ctx));
        printf ("total covariance (3 points, sigma %g): eigenvalues %.5f %.5f (truth %.5f %.5f; tr Cov(D) %.4f + "
                "tr s^2 E[A] %.4f by Hutchinson), residual %.2g; identity at sigma 3: %.4f %.4f; Gaussian premise: %.4f %.4f\n",
                sigma, g->eigval[0], g->eigval[1], l1, l2, rep.trace_cov, rep.trace_jac, g->residual, lam[0], lam[1],
                gj ? gj->eigval[0] : 0.0, gj ? gj->eigval[1] : 0.0);
    }
    dfx__gauss_stats_free (g);
    dfx__gauss_stats_free (gj);
    dfx__prep_eval_free (&e);
    dfx__denoiser_destroy (den);
    free (x0);
}

int
main (void)
{
    dfx_ctx_options opt;
    dfx_ctx_options_defaults (&opt);
    dfx_ctx *ctx = NULL;
    dfx_status st = dfx_ctx_create (&opt, &ctx);
    if (st == DFX_ERR_NO_DEVICE) {
        printf ("SKIP: %s\n", dfx_ctx_errmsg (ctx));
        dfx_ctx_destroy (ctx);
        return 77;
    }
    check_rng rng = {23};
    static double mu[D1], u[R1 * D1];
    pca_case (ctx, &rng, mu, u);
    spectral_case (ctx);
    data_case (ctx, &rng, mu, u);
    dirac_case (ctx, &rng);
    dfx_ctx_destroy (ctx);
    return check_exit ();
}
