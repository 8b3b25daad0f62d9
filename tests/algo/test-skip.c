/* test-skip.c — the Gaussian skip on Gaussian data, against the exact
 * PF-ODE solution (MATH.md "Gaussian skip", "Cheap exact test cases"):
 *
 *  1. PCA (rank r with an isotropic residual, exactly the data's covariance):
 *     the jump from σ_max = 80 to σ_skip ∈ {20, 5, 1, 0.2} equals the closed
 *     form computed independently from the dense covariance's eigenbasis, and
 *     Heun solves (analytic denoiser, 100 and 400 steps) converge to it at
 *     second order.
 *  2. Stationary data on the torus (2 channels, 6×5, per-frequency complex
 *     Hermitian channel covariance): the spectral jump (VkFFT) equals the
 *     closed form, and equals the full-rank PCA jump of the same data.
 *  3. A constant spectrum, resampled to other canvas sizes (13×7, 16×16,
 *     1×9): the spectral jump equals the per-pixel closed form.
 *  4. Whole sampling with the skip (Heun, N = 40) reaches the exact x(0) at
 *     least as accurately as without it (within 10 %: the skipped part is
 *     exact, the rest is solved by N − k steps); NFE 2(N − k) − 1, saved 2k.
 */
#include "algo-common.h"

#define SIGMA_MAX 80.0
#define SIGMA_MIN 0.002

static const double skip_sigmas[] = {20.0, 5.0, 1.0, 0.2};

/* Jump x (unit noise scaled by σ_max) on the device with `mode`; returns
 * the worst relative error against the exact flow over the sigmas. */
static double
check_jump (dfx__skip *sk, dfx_skip mode, const gauss *g, uint32_t batch, uint32_t c, uint32_t h, uint32_t w,
            const char *what)
{
    size_t d = (size_t) c * h * w, n = batch * d;
    float *x0 = noise (11, 0, batch, c, h, w);
    for (size_t i = 0; i < n; i++)
        x0[i] *= (float) SIGMA_MAX;
    double *want = malloc (n * sizeof *want), *xd = malloc (d * sizeof *xd), worst = 0.0;
    for (size_t s = 0; s < sizeof skip_sigmas / sizeof skip_sigmas[0]; s++) {
        dfx_buffer *x = upload (x0, n);
        dfx_status st = mode == DFX_SKIP_PCA ? dfx__skip_pca (sk, batch, h, w, x, SIGMA_MAX, skip_sigmas[s])
                                             : dfx__skip_spectral (sk, batch, h, w, x, SIGMA_MAX, skip_sigmas[s]);
        CHECK (st == DFX_OK, "%s jump: %s", what, dfx_ctx_errmsg (ctx));
        float *got = download (x, n);
        for (uint32_t b = 0; b < batch; b++) {
            for (size_t i = 0; i < d; i++)
                xd[i] = x0[b * d + i];
            gauss_flow (g, xd, SIGMA_MAX, skip_sigmas[s], want + b * d);
        }
        double e = rel_err (got, want, n);
        printf ("%s: jump 80 -> %g: rel error %.3g\n", what, skip_sigmas[s], e);
        worst = fmax (worst, e);
        free (got);
        dfx_buffer_destroy (ctx, x);
    }
    free (x0), free (want), free (xd);
    return worst;
}

/* ---- 1. PCA ---- */

static void
test_pca (void)
{
    const uint32_t c = 2, h = 4, w = 5, d = c * h * w, r = 6, batch = 3;
    const double residual = 0.05;
    check_rng rng = {321};
    /* An orthonormal basis Q from a random symmetric matrix. */
    gauss basis = {(int) d, NULL, malloc ((size_t) d * d * sizeof (double)), NULL, NULL};
    for (uint32_t i = 0; i < d; i++)
        for (uint32_t j = 0; j <= i; j++)
            basis.cov[i * d + j] = basis.cov[j * d + i] = check_uniform (&rng, -1, 1);
    CHECK (gauss_eig (&basis) < 1e-9, "eigenbasis of a random symmetric matrix");
    /* Σ = Σ_{k<r} λ_k q_k q_kᵀ + residual (I − QrQrᵀ), λ in [0.2, 3]. */
    gauss g = {(int) d, malloc (d * sizeof (double)), calloc ((size_t) d * d, sizeof (double)), NULL, NULL};
    double lam[6], *comps = malloc ((size_t) r * d * sizeof *comps);
    for (uint32_t k = 0; k < r; k++)
        lam[k] = 3.0 - 0.5 * k + 0.1 * check_uniform (&rng, 0, 1);
    for (uint32_t i = 0; i < d; i++)
        g.mean[i] = check_uniform (&rng, -0.5f, 0.5f);
    for (uint32_t k = 0; k < d; k++) {
        double l = k < r ? lam[k] : residual;
        for (uint32_t i = 0; i < d; i++) {
            if (k < r)
                comps[k * d + i] = basis.V[i * d + k];
            for (uint32_t j = 0; j < d; j++)
                g.cov[i * d + j] += l * basis.V[i * d + k] * basis.V[j * d + k];
        }
    }
    double eig_err = gauss_eig (&g);
    CHECK (eig_err < 1e-9, "eigendecomposition of the dense covariance: residual %.3g", eig_err);

    dfx__gauss_stats st = {.channels = c, .height = h, .width = w, .has_pca = 1, .mean = g.mean, .rank = r,
                           .eigval = lam, .comps = comps, .residual = residual};
    dfx__skip *sk = NULL;
    CHECK (dfx__skip_create (ctx, &st, &sk) == DFX_OK, "skip create");
    double e = check_jump (sk, DFX_SKIP_PCA, &g, batch, c, h, w, "pca rank 6 + residual");
    CHECK (e < 2e-6, "PCA jump equals the closed form: worst rel error %.3g", e);
    /* The PCA skip refuses another canvas size. */
    dfx_buffer *big = NULL;
    dfx_buffer_create (ctx, 4 * d * 4, &big);
    CHECK (dfx__skip_pca (sk, 1, 2 * h, 2 * w, big, SIGMA_MAX, 1.0) == DFX_ERR_UNSUPPORTED &&
               strstr (dfx_ctx_errmsg (ctx), "spectral"),
           "PCA at another size refused: %s", dfx_ctx_errmsg (ctx));
    dfx_buffer_destroy (ctx, big);

    /* The closed form equals a fine Heun solve of the PF-ODE (analytic denoiser). */
    dfx__schedule sched;
    dfx__schedule_continuous (SIGMA_MIN, SIGMA_MAX, &sched);
    dfx__denoiser *den = NULL;
    dfx__denoiser_gauss (ctx, c, d, g.mean, r, comps, lam, residual, &den);
    float *x0 = noise (11, 0, batch, c, h, w);
    double *want = malloc (batch * d * sizeof *want), xd[40];
    const double targets[] = {5.0, 0.2};
    const uint32_t fine[] = {100, 400};
    for (int t = 0; t < 2; t++) {
        double eh[2];
        for (int f = 0; f < 2; f++) {
            dfx__sample_desc sd = {.den = den, .sched = &sched, .sampler = DFX_SAMPLER_HEUN, .steps = fine[f],
                                   .batch = batch, .h = h, .w = w, .sigma_max = SIGMA_MAX,
                                   .sigma_min = targets[t], .skip_mode = DFX_SKIP_OFF, .stop_at_min = 1};
            float *got = run_sampler (&sd, x0, NULL);
            for (uint32_t b = 0; b < batch; b++) {
                for (uint32_t i = 0; i < d; i++)
                    xd[i] = SIGMA_MAX * x0[b * d + i];
                gauss_flow (&g, xd, SIGMA_MAX, targets[t], want + b * d);
            }
            eh[f] = rel_err (got, want, batch * d);
            free (got);
        }
        printf ("Heun 80 -> %g against the closed form: rel error %.3g (%u steps), %.3g (%u steps)\n", targets[t],
                eh[0], fine[0], eh[1], fine[1]);
        /* Second order until float32 rounding (~1e-6) takes over. */
        CHECK (eh[1] < 1e-4 && (eh[0] < 1e-5 || eh[0] / eh[1] > 8),
               "closed form = fine Heun solve at sigma %g: rel error %.3g, %.3g", targets[t], eh[0], eh[1]);
    }

    /* 4. Whole sampling with the PCA skip against the exact x(0). */
    for (uint32_t b = 0; b < batch; b++) {
        for (uint32_t i = 0; i < d; i++)
            xd[i] = SIGMA_MAX * x0[b * d + i];
        gauss_flow (&g, xd, SIGMA_MAX, 0.0, want + b * d);
    }
    const uint32_t N = 40;
    dfx__sample_desc sd = {.den = den, .sched = &sched, .sampler = DFX_SAMPLER_HEUN, .steps = N, .batch = batch,
                           .h = h, .w = w, .sigma_max = SIGMA_MAX, .sigma_min = SIGMA_MIN, .skip = sk};
    dfx_generate_result res;
    float *full = run_sampler (&sd, x0, &res);
    double e_full = rel_err (full, want, batch * d);
    printf ("Heun N=%u without skip: rel error %.3g, NFE %u\n", N, e_full, res.nfe);
    CHECK (res.nfe == 2 * N - 1 && res.nfe_saved == 0, "NFE without skip %u", res.nfe);
    for (size_t s = 0; s < sizeof skip_sigmas / sizeof skip_sigmas[0]; s++) {
        sd.skip_mode = DFX_SKIP_PCA;
        sd.sigma_skip = skip_sigmas[s];
        float *got = run_sampler (&sd, x0, &res);
        double e2 = rel_err (got, want, batch * d);
        printf ("Heun N=%u, PCA skip to %g (k = %u): rel error %.3g, NFE %u, saved %u\n", N, skip_sigmas[s],
               res.steps_skipped, e2, res.nfe, res.nfe_saved);
        CHECK (res.steps_skipped > 0 && res.nfe == 2 * (N - res.steps_skipped) - 1 &&
                   res.nfe_saved == 2 * res.steps_skipped && res.skip == DFX_SKIP_PCA,
               "NFE with skip: k %u, nfe %u, saved %u", res.steps_skipped, res.nfe, res.nfe_saved);
        CHECK (e2 < 1.1 * e_full + 1e-5, "sampling with the PCA skip to %g: rel error %.3g (no skip %.3g)",
               skip_sigmas[s], e2, e_full);
        free (got);
    }
    free (full), free (x0), free (want);
    dfx__denoiser_destroy (den);
    dfx__skip_destroy (sk);
    free (comps);
    gauss_free (&g), gauss_free (&basis);
}

/* ---- 2. stationary data: spectral against closed form and full-rank PCA ---- */

/* S(k) = G(k) G(k)^H + eps I for 3×3 channel-mixing filters g (c × c taps). */
static void
make_stationary (uint32_t c, uint32_t h, uint32_t w, double *spec, check_rng *rng)
{
    double g[3][3][4][4]; /* [dy][dx][c][j], c ≤ 4 */
    for (int dy = 0; dy < 3; dy++)
        for (int dx = 0; dx < 3; dx++)
            for (uint32_t a = 0; a < c; a++)
                for (uint32_t b = 0; b < c; b++)
                    g[dy][dx][a][b] = check_uniform (rng, -0.5f, 0.5f) / (1 + dy + dx);
    for (uint32_t ky = 0; ky < h; ky++)
        for (uint32_t kx = 0; kx < w; kx++) {
            double Gr[4][4] = {{0}}, Gi[4][4] = {{0}};
            for (int dy = 0; dy < 3; dy++)
                for (int dx = 0; dx < 3; dx++) {
                    double ph = -2 * M_PI * ((double) ky * (dy - 1) / h + (double) kx * (dx - 1) / w);
                    for (uint32_t a = 0; a < c; a++)
                        for (uint32_t b = 0; b < c; b++) {
                            Gr[a][b] += g[dy][dx][a][b] * cos (ph);
                            Gi[a][b] += g[dy][dx][a][b] * sin (ph);
                        }
                }
            double *s = spec + ((size_t) ky * w + kx) * c * c * 2;
            for (uint32_t a = 0; a < c; a++)
                for (uint32_t b = 0; b < c; b++) {
                    double re = a == b ? 0.01 : 0.0, im = 0.0; /* Σ_m G[a][m] conj(G[b][m]) */
                    for (uint32_t m = 0; m < c; m++) {
                        re += Gr[a][m] * Gr[b][m] + Gi[a][m] * Gi[b][m];
                        im += Gi[a][m] * Gr[b][m] - Gr[a][m] * Gi[b][m];
                    }
                    s[2 * (a * c + b)] = re, s[2 * (a * c + b) + 1] = im;
                }
        }
}

/* Dense covariance of the stationary process: Σ[(a,p),(b,q)] = (1/N) Σ_k S_ab(k) e^{2πi k·(p−q)/N}. */
static void
stationary_cov (uint32_t c, uint32_t h, uint32_t w, const double *spec, double *cov)
{
    const uint32_t np = h * w, d = c * np;
    for (uint32_t a = 0; a < c; a++)
        for (uint32_t b = 0; b < c; b++)
            for (uint32_t p = 0; p < np; p++)
                for (uint32_t q = 0; q < np; q++) {
                    int dy = (int) (p / w) - (int) (q / w), dx = (int) (p % w) - (int) (q % w);
                    double v = 0.0, vi = 0.0;
                    for (uint32_t ky = 0; ky < h; ky++)
                        for (uint32_t kx = 0; kx < w; kx++) {
                            const double *s = spec + (((size_t) ky * w + kx) * c * c + a * c + b) * 2;
                            double ph = 2 * M_PI * ((double) ky * dy / h + (double) kx * dx / w);
                            v += s[0] * cos (ph) - s[1] * sin (ph);
                            vi += s[0] * sin (ph) + s[1] * cos (ph);
                        }
                    cov[(size_t) (a * np + p) * d + b * np + q] = v / np;
                    CHECK (fabs (vi / np) < 1e-12, "stationary covariance is real");
                }
}

static void
test_spectral (void)
{
    const uint32_t c = 2, h = 6, w = 5, np = h * w, d = c * np, batch = 2;
    check_rng rng = {77};
    double *spec = malloc ((size_t) np * c * c * 2 * sizeof *spec);
    make_stationary (c, h, w, spec, &rng);
    gauss g = {(int) d, malloc (d * sizeof (double)), malloc ((size_t) d * d * sizeof (double)), NULL, NULL};
    double mu[2] = {0.3, -0.2};
    for (uint32_t i = 0; i < d; i++)
        g.mean[i] = mu[i / np];
    stationary_cov (c, h, w, spec, g.cov);
    double eig_err = gauss_eig (&g);
    CHECK (eig_err < 1e-9, "eigendecomposition of the stationary covariance: residual %.3g", eig_err);

    /* Full-rank PCA statistics of the same data (no residual). */
    double *comps = malloc ((size_t) d * d * sizeof *comps), *lam = malloc (d * sizeof *lam);
    for (uint32_t k = 0; k < d; k++) {
        lam[k] = fmax (g.lam[k], 0.0);
        for (uint32_t j = 0; j < d; j++)
            comps[(size_t) k * d + j] = g.V[j * d + k];
    }
    dfx__gauss_stats st = {.channels = c, .height = h, .width = w, .has_pca = 1, .mean = g.mean, .rank = d,
                           .eigval = lam, .comps = comps, .has_spectral = 1, .spec_mean = mu, .spec_cov = spec};
    dfx__skip *sk = NULL;
    CHECK (dfx__skip_create (ctx, &st, &sk) == DFX_OK, "skip create");
    double e_spec = check_jump (sk, DFX_SKIP_SPECTRAL, &g, batch, c, h, w, "spectral 2x6x5");
    CHECK (e_spec < 2e-6, "spectral jump equals the closed form: worst rel error %.3g", e_spec);
    double e_pca = check_jump (sk, DFX_SKIP_PCA, &g, batch, c, h, w, "full-rank pca 2x6x5");
    CHECK (e_pca < 2e-6, "full-rank PCA jump equals the closed form: worst rel error %.3g", e_pca);

    /* PCA and spectral agree with each other directly. */
    float *x0 = noise (5, 0, batch, c, h, w);
    for (size_t i = 0; i < batch * d; i++)
        x0[i] *= (float) SIGMA_MAX;
    dfx_buffer *xa = upload (x0, batch * d), *xb = upload (x0, batch * d);
    dfx__skip_pca (sk, batch, h, w, xa, SIGMA_MAX, 2.0);
    dfx__skip_spectral (sk, batch, h, w, xb, SIGMA_MAX, 2.0);
    float *a = download (xa, batch * d), *b = download (xb, batch * d);
    double *bd = malloc (batch * d * sizeof *bd);
    for (size_t i = 0; i < batch * d; i++)
        bd[i] = b[i];
    double e_ab = rel_err (a, bd, batch * d);
    printf ("stationary data: PCA against spectral jump to 2: rel difference %.3g\n", e_ab);
    CHECK (e_ab < 2e-6, "PCA and spectral skips agree on stationary data: %.3g", e_ab);
    free (a), free (b), free (bd);
    dfx_buffer_destroy (ctx, xa), dfx_buffer_destroy (ctx, xb);

    /* 4. Whole sampling with the spectral skip against the exact x(0). */
    dfx__schedule sched;
    dfx__schedule_continuous (SIGMA_MIN, SIGMA_MAX, &sched);
    dfx__denoiser *den = gauss_denoiser (&g, c);
    double *want = malloc (batch * d * sizeof *want), *xd = malloc (d * sizeof *xd);
    for (uint32_t bb = 0; bb < batch; bb++) {
        for (uint32_t i = 0; i < d; i++)
            xd[i] = x0[bb * d + i];
        gauss_flow (&g, xd, SIGMA_MAX, 0.0, want + bb * d);
    }
    for (size_t i = 0; i < batch * d; i++)
        x0[i] /= (float) SIGMA_MAX; /* back to unit noise for the sampler */
    const uint32_t N = 40;
    dfx__sample_desc sd = {.den = den, .sched = &sched, .sampler = DFX_SAMPLER_HEUN, .steps = N, .batch = batch,
                           .h = h, .w = w, .sigma_max = SIGMA_MAX, .sigma_min = SIGMA_MIN, .skip = sk,
                           .skip_mode = DFX_SKIP_OFF};
    float *full = run_sampler (&sd, x0, NULL);
    double e_full = rel_err (full, want, batch * d);
    sd.skip_mode = DFX_SKIP_SPECTRAL;
    sd.sigma_skip = 3.0;
    dfx_generate_result res;
    float *got = run_sampler (&sd, x0, &res);
    double e2 = rel_err (got, want, batch * d);
    printf ("Heun N=%u: no skip rel error %.3g; spectral skip to 3 (k = %u, NFE %u, saved %u): %.3g\n", N, e_full,
           res.steps_skipped, res.nfe, res.nfe_saved, e2);
    CHECK (res.skip == DFX_SKIP_SPECTRAL && res.nfe == 2 * (N - res.steps_skipped) - 1, "NFE %u", res.nfe);
    CHECK (e2 < 1.1 * e_full + 1e-5, "sampling with the spectral skip: rel error %.3g (no skip %.3g)", e2, e_full);
    free (full), free (got), free (want), free (xd), free (x0);
    dfx__denoiser_destroy (den);
    dfx__skip_destroy (sk);
    free (comps), free (lam), free (spec);
    g.mean = NULL;
    gauss_free (&g);
}

/* ---- 3. the spectral skip at other canvas sizes (resampled spectrum) ---- */

static void
test_resample (void)
{
    const uint32_t c = 3, H = 6, W = 5;
    /* A constant real symmetric PSD channel covariance A: white in space. */
    const double A[9] = {1.0, 0.3, -0.2, 0.3, 0.5, 0.1, -0.2, 0.1, 0.8};
    double *spec = calloc ((size_t) H * W * c * c * 2, sizeof *spec);
    for (uint32_t k = 0; k < H * W; k++)
        for (uint32_t i = 0; i < c * c; i++)
            spec[(size_t) k * c * c * 2 + 2 * i] = A[i];
    double mu[3] = {0.1, -0.4, 0.25};
    dfx__gauss_stats st = {.channels = c, .height = H, .width = W, .has_spectral = 1, .spec_mean = mu,
                           .spec_cov = spec};
    gauss a = {(int) c, mu, malloc (9 * sizeof (double)), NULL, NULL};
    memcpy (a.cov, A, sizeof A);
    CHECK (gauss_eig (&a) < 1e-12, "eig of A");
    dfx__skip *sk = NULL;
    dfx__skip_create (ctx, &st, &sk);
    static const uint32_t sizes[][2] = {{13, 7}, {16, 16}, {1, 9}, {6, 5}};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        uint32_t h = sizes[s][0], w = sizes[s][1], np = h * w, n = c * np;
        float *x0 = noise (3, 0, 1, c, h, w);
        for (uint32_t i = 0; i < n; i++)
            x0[i] *= (float) SIGMA_MAX;
        dfx_buffer *x = upload (x0, n);
        dfx_status rs = dfx__skip_spectral (sk, 1, h, w, x, SIGMA_MAX, 1.5);
        CHECK (rs == DFX_OK, "spectral %ux%u: %s", w, h, dfx_ctx_errmsg (ctx));
        float *got = download (x, n);
        double *want = malloc (n * sizeof *want), px[3], py[3];
        for (uint32_t p = 0; p < np; p++) {
            for (uint32_t i = 0; i < c; i++)
                px[i] = x0[i * np + p];
            gauss_flow (&a, px, SIGMA_MAX, 1.5, py);
            for (uint32_t i = 0; i < c; i++)
                want[i * np + p] = py[i];
        }
        double e = rel_err (got, want, n);
        printf ("spectral skip on a %ux%u canvas from 5x6 statistics: rel error %.3g\n", w, h, e);
        CHECK (e < 2e-6, "spectral skip at %ux%u: rel error %.3g", w, h, e);
        free (got), free (want), free (x0);
        dfx_buffer_destroy (ctx, x);
    }
    dfx__skip_destroy (sk);
    free (spec), free (a.cov), free (a.V), free (a.lam);
}

int
main (void)
{
    algo_open ();
    test_pca ();
    test_spectral ();
    test_resample ();
    dfx_ctx_destroy (ctx);
    return check_exit ();
}
