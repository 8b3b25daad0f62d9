/* test-samplers.c — the PF-ODE samplers on analytic data:
 *
 *  1. Convergence order on Gaussian data (exact x(0) known): Heun's and
 *     DPM-Solver++(2M)'s error falls as N^-2, Euler's and DDIM's as N^-1
 *     (observed order from N to 2N).  DPM-Solver++(2M) step by step against
 *     a float64 host solve of the same scheme (Lu et al. 2022, Algorithm 2)
 *     with the Gaussian's exact denoiser, with and without the PCA skip
 *     (there the exact flow to σ̃_skip, then a fresh schedule).
 *  2. DDIM on a discrete DDPM schedule (linear β, T = 1000, log σ̃
 *     interpolated over the timestep index) converges to the same x(0).
 *  3. Same seed → same result bit for bit; item k of a batch equals the same
 *     item sampled alone (analytic denoiser, with and without the PCA skip).
 *  4. Dirac-mixture data: a fine Heun solve ends on a data point.
 *  5. Philox4x32-10 known answers (Random123) and the moments of the noise;
 *     the schedule's σ̃(t) and t(σ̃) are inverse and match ᾱ at integers.
 *  6. Progress rises to 1 once per step; a nonzero return cancels
 *     (DFX_ERR_CANCELLED).
 */
#include "algo-common.h"

#define SIGMA_MAX 80.0
#define SIGMA_MIN 0.002

static gauss g;
static const uint32_t C = 2, H = 3, W = 4, D = 24, BATCH = 2;

static void
make_gauss (void)
{
    check_rng rng = {99};
    /* Σ = B Bᵀ/D + 0.02 I: eigenvalues spread over two decades. */
    gauss_random (&g, (int) D, &rng, 1.0);
    CHECK (gauss_eig (&g) < 1e-9, "eigendecomposition");
}

static double *
exact_x0 (const float *unit)
{
    double *want = malloc (BATCH * D * sizeof *want), xd[24];
    for (uint32_t b = 0; b < BATCH; b++) {
        for (uint32_t i = 0; i < D; i++)
            xd[i] = SIGMA_MAX * unit[b * D + i];
        gauss_flow (&g, xd, SIGMA_MAX, 0.0, want + b * D);
    }
    return want;
}

static void
test_orders (dfx__denoiser *den, const dfx__schedule *sched, const float *x0, const double *want)
{
    static const struct {
        dfx_sampler s;
        double lo, hi;
    } rows[] = {{DFX_SAMPLER_HEUN, 1.8, 2.4},
                {DFX_SAMPLER_EULER, 0.85, 1.3},
                {DFX_SAMPLER_DDIM, 0.85, 1.3},
                {DFX_SAMPLER_DPMPP_2M, 1.7, 2.4}};
    const uint32_t ns[] = {16, 32, 64};
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        double e[3];
        for (int i = 0; i < 3; i++) {
            dfx__sample_desc sd = {.den = den, .sched = sched, .sampler = rows[r].s, .steps = ns[i],
                                   .batch = BATCH, .h = H, .w = W, .skip_mode = DFX_SKIP_OFF};
            dfx_generate_result res;
            float *got = run_sampler (&sd, x0, &res);
            e[i] = rel_err (got, want, BATCH * D);
            CHECK (res.nfe == dfx__sampler_nfe (rows[r].s, ns[i]), "%s nfe %u", dfx_sampler_name (rows[r].s),
                   res.nfe);
            free (got);
        }
        double p1 = log2 (e[0] / e[1]), p2 = log2 (e[1] / e[2]);
        printf ("%s: rel error %.3g (N=16) %.3g (N=32) %.3g (N=64); observed order %.2f, %.2f\n",
                dfx_sampler_name (rows[r].s), e[0], e[1], e[2], p1, p2);
        CHECK (p2 >= rows[r].lo && p2 <= rows[r].hi, "%s: observed order %.2f outside [%.2f, %.2f]",
               dfx_sampler_name (rows[r].s), p2, rows[r].lo, rows[r].hi);
        CHECK (e[2] < (rows[r].s == DFX_SAMPLER_HEUN || rows[r].s == DFX_SAMPLER_DPMPP_2M ? 5e-3 : 5e-2),
               "%s at N=64: rel error %.3g",
               dfx_sampler_name (rows[r].s), e[2]);
    }
}

/* The Gaussian's exact denoiser in float64: μ + V diag(λ/(λ + σ²)) Vᵀ (x − μ). */
static void
host_denoise (const double *x, double sigma, double *out)
{
    for (uint32_t i = 0; i < D; i++)
        out[i] = g.mean[i];
    for (uint32_t k = 0; k < D; k++) {
        double p = 0.0, l = fmax (g.lam[k], 0.0);
        for (uint32_t j = 0; j < D; j++)
            p += g.V[j * D + k] * (x[j] - g.mean[j]);
        p *= l / (l + sigma * sigma);
        for (uint32_t i = 0; i < D; i++)
            out[i] += g.V[i * D + k] * p;
    }
}

/* EDM levels (ρ = 7) from smax to smin in n steps, then 0, written out here
 * rather than taken from the library. */
static void
host_levels (double smax, double smin, uint32_t n, double *sig)
{
    for (uint32_t i = 0; i < n; i++)
        sig[i] = n == 1 ? smax
                        : pow (pow (smax, 1 / 7.0) + (double) i / (n - 1) * (pow (smin, 1 / 7.0) - pow (smax, 1 / 7.0)),
                               7.0);
    sig[n] = 0.0;
}

/* DPM-Solver++(2M) in float64 (Lu et al. 2022, Algorithm 2, in the data
 * prediction form with λ = −log σ̃ and α̃ = 1): the exact Gaussian flow to
 * sigma_skip first when it is > 0, then N − k steps from there. */
static void
host_dpmpp_2m (const float *unit, uint32_t n, double sigma_skip, double *out)
{
    double sig[65], x[24], d0[24], d1[24], u[24];
    host_levels (SIGMA_MAX, SIGMA_MIN, n, sig);
    uint32_t k = 0;
    while (sigma_skip > 0 && k < n - 1 && sig[k] > sigma_skip)
        k++;
    for (uint32_t i = 0; i < D; i++)
        x[i] = u[i] = SIGMA_MAX * unit[i];
    if (k > 0) {
        gauss_flow (&g, u, SIGMA_MAX, sigma_skip, x);
        host_levels (sigma_skip, SIGMA_MIN, n - k, sig);
    }
    for (uint32_t i = 0; i < n - k; i++) {
        host_denoise (x, sig[i], d0);
        double lam = -log (sig[i]), h = sig[i + 1] > 0 ? -log (sig[i + 1]) - lam : INFINITY;
        for (uint32_t j = 0; j < D; j++) {
            double dh = d0[j];
            if (i > 0 && sig[i + 1] > 0) {
                double r = (lam + log (sig[i - 1])) / h;
                dh = (1 + 1 / (2 * r)) * d0[j] - 1 / (2 * r) * d1[j];
            }
            x[j] = exp (-h) * x[j] - expm1 (-h) * dh;
        }
        memcpy (d1, d0, sizeof d0);
    }
    memcpy (out, x, sizeof x);
}

/* The device's DPM-Solver++(2M) against the float64 host solve, N = 5, 12, 40,
 * with and without the skip (PCA statistics of g, full rank: exact). */
static void
test_dpmpp_host (dfx__denoiser *den, const dfx__schedule *sched, const float *x0)
{
    double *comps = malloc ((size_t) D * D * sizeof *comps), *lam = malloc (D * sizeof *lam);
    for (uint32_t k = 0; k < D; k++) {
        lam[k] = fmax (g.lam[k], 0.0);
        for (uint32_t j = 0; j < D; j++)
            comps[(size_t) k * D + j] = g.V[j * D + k];
    }
    dfx__gauss_stats st = {.channels = C, .height = H, .width = W, .has_pca = 1, .mean = g.mean, .rank = D,
                           .eigval = lam, .comps = comps};
    dfx__skip *sk = NULL;
    CHECK (dfx__skip_create (ctx, &st, &sk) == DFX_OK, "skip: %s", dfx_ctx_errmsg (ctx));
    static const uint32_t ns[] = {5, 12, 40};
    double want[2 * 24];
    for (int with_skip = 0; with_skip < 2; with_skip++)
        for (size_t t = 0; t < 3; t++) {
            const double ss = with_skip ? 2.0 : 0.0;
            dfx__sample_desc sd = {.den = den, .sched = sched, .sampler = DFX_SAMPLER_DPMPP_2M, .steps = ns[t],
                                   .batch = BATCH, .h = H, .w = W, .skip = sk,
                                   .skip_mode = with_skip ? DFX_SKIP_PCA : DFX_SKIP_OFF, .sigma_skip = ss};
            dfx_generate_result res;
            float *got = run_sampler (&sd, x0, &res);
            for (uint32_t b = 0; b < BATCH; b++)
                host_dpmpp_2m (x0 + b * D, ns[t], ss, want + b * D);
            double e = rel_err (got, want, BATCH * D);
            printf ("dpmpp-2m against float64, N = %u, skip %s (k = %u, NFE %u): rel error %.3g\n", ns[t],
                    with_skip ? "pca" : "off", res.steps_skipped, res.nfe, e);
            CHECK (e < 2e-6, "dpmpp-2m N = %u skip %d: rel error %.3g against float64", ns[t], with_skip, e);
            CHECK (res.nfe == ns[t] - res.steps_skipped && (with_skip ? res.steps_skipped > 0 : 1),
                   "dpmpp-2m N = %u: nfe %u, k %u", ns[t], res.nfe, res.steps_skipped);
            free (got);
        }
    dfx__skip_destroy (sk);
    free (comps), free (lam);
}

/* A DDPM linear schedule as a scheduler config would give it. */
static void
ddpm_schedule (dfx__schedule *s)
{
    const int T = 1000;
    double *ab = malloc (T * sizeof *ab), prod = 1.0;
    for (int t = 0; t < T; t++) {
        prod *= 1.0 - (1e-4 + (0.02 - 1e-4) * t / (T - 1));
        ab[t] = prod;
    }
    dfx__sched_config c = {.num_train_timesteps = T, .alphas_cumprod = ab};
    CHECK (dfx__schedule_from_config (ctx, &c, s) == DFX_OK, "schedule: %s", dfx_ctx_errmsg (ctx));
    /* σ̃ at integer timesteps is √((1 − ᾱ)/ᾱ); t(σ̃(t)) = t for fractional t. */
    double worst = 0.0, worst_t = 0.0;
    for (int t = 0; t < T; t += 37)
        worst = fmax (worst, fabs (dfx__schedule_sigma (s, t) / sqrt ((1 - ab[t]) / ab[t]) - 1.0));
    for (double t = 0.0; t <= T - 1; t += 12.345)
        worst_t = fmax (worst_t, fabs (dfx__schedule_timestep (s, dfx__schedule_sigma (s, t)) - t));
    CHECK (worst < 1e-12 && worst_t < 1e-9, "schedule: sigma %.3g, inverse %.3g", worst, worst_t);
    CHECK (fabs (s->sigma_max - sqrt ((1 - ab[T - 1]) / ab[T - 1])) < 1e-9, "sigma_max %g", s->sigma_max);
    free (ab);
}

static void
test_ddim_ddpm (dfx__denoiser *den, const float *x0u)
{
    dfx__schedule s;
    ddpm_schedule (&s);
    printf ("DDPM linear schedule: sigma~ in [%.5g, %.5g]\n", s.sigma_min, s.sigma_max);
    /* Exact x(0) from x̃_T = σ̃_max ε. */
    double *want = malloc (BATCH * D * sizeof *want), xd[24];
    for (uint32_t b = 0; b < BATCH; b++) {
        for (uint32_t i = 0; i < D; i++)
            xd[i] = s.sigma_max * x0u[b * D + i];
        gauss_flow (&g, xd, s.sigma_max, 0.0, want + b * D);
    }
    double e[2];
    const uint32_t ns[2] = {50, 200};
    for (int i = 0; i < 2; i++) {
        dfx__sample_desc sd = {.den = den, .sched = &s, .sampler = DFX_SAMPLER_DDIM, .steps = ns[i], .batch = BATCH,
                               .h = H, .w = W, .skip_mode = DFX_SKIP_OFF};
        float *got = run_sampler (&sd, x0u, NULL);
        e[i] = rel_err (got, want, BATCH * D);
        free (got);
    }
    printf ("DDIM on the DDPM schedule: rel error %.3g (N=50), %.3g (N=200)\n", e[0], e[1]);
    CHECK (e[1] < e[0] && e[1] < 0.02, "DDIM converges on the DDPM schedule: %.3g, %.3g", e[0], e[1]);
    /* Heun over the same schedule's σ̃ range. */
    dfx__sample_desc sd = {.den = den, .sched = &s, .sampler = DFX_SAMPLER_HEUN, .steps = 64, .batch = BATCH,
                           .h = H, .w = W, .skip_mode = DFX_SKIP_OFF};
    float *got = run_sampler (&sd, x0u, NULL);
    double eh = rel_err (got, want, BATCH * D);
    printf ("Heun N=64 on the DDPM schedule's sigma range: rel error %.3g\n", eh);
    CHECK (eh < 5e-3, "Heun on the DDPM range: %.3g", eh);
    free (got), free (want);
    dfx__schedule_free (&s);
}

static void
test_determinism (dfx__denoiser *den, const dfx__schedule *sched)
{
    /* PCA statistics of g (full rank) for the skip. */
    double *comps = malloc ((size_t) D * D * sizeof *comps), *lam = malloc (D * sizeof *lam);
    for (uint32_t k = 0; k < D; k++) {
        lam[k] = fmax (g.lam[k], 0.0);
        for (uint32_t j = 0; j < D; j++)
            comps[(size_t) k * D + j] = g.V[j * D + k];
    }
    dfx__gauss_stats st = {.channels = C, .height = H, .width = W, .has_pca = 1, .mean = g.mean, .rank = D,
                           .eigval = lam, .comps = comps};
    dfx__skip *sk = NULL;
    dfx__skip_create (ctx, &st, &sk);
    for (int with_skip = 0; with_skip < 2; with_skip++) {
        const uint32_t B3 = 3;
        float *x3 = noise (1234, 0, B3, C, H, W);
        dfx__sample_desc sd = {.den = den, .sched = sched, .sampler = DFX_SAMPLER_HEUN, .steps = 12, .batch = B3,
                               .h = H, .w = W, .skip = sk, .skip_mode = with_skip ? DFX_SKIP_PCA : DFX_SKIP_OFF,
                               .sigma_skip = 2.0};
        float *a = run_sampler (&sd, x3, NULL), *b = run_sampler (&sd, x3, NULL);
        CHECK (memcmp (a, b, B3 * D * sizeof (float)) == 0, "same seed, same bits (skip %d)", with_skip);
        int same = 1;
        for (uint32_t k = 0; k < B3; k++) {
            float *x1 = noise (1234, k, 1, C, H, W);
            CHECK (memcmp (x1, x3 + k * D, D * sizeof (float)) == 0, "noise of item %u independent of batch", k);
            sd.batch = 1;
            float *one = run_sampler (&sd, x1, NULL);
            sd.batch = B3;
            same &= memcmp (one, a + k * D, D * sizeof (float)) == 0;
            free (x1), free (one);
        }
        printf ("batch of 3 against items alone (skip %s): %s\n", with_skip ? "pca" : "off",
                same ? "bit for bit" : "DIFFERENT");
        CHECK (same, "item k of a batch of 3 equals item k alone, bit for bit (skip %d)", with_skip);
        float *other = noise (1235, 0, B3, C, H, W);
        float *c = run_sampler (&sd, other, NULL);
        CHECK (memcmp (a, c, B3 * D * sizeof (float)) != 0, "another seed, another result");
        free (a), free (b), free (c), free (x3), free (other);
    }
    dfx__skip_destroy (sk);
    free (comps), free (lam);
}

static void
test_dirac (const dfx__schedule *sched)
{
    const double pts[4][2] = {{-1.0, -1.0}, {1.0, 0.5}, {0.2, 1.0}, {0.8, -0.9}};
    dfx__denoiser *den = NULL;
    CHECK (dfx__denoiser_dirac (ctx, 2, 2, 4, &pts[0][0], &den) == DFX_OK, "dirac denoiser");
    const uint32_t B = 8;
    float *x0 = noise (42, 0, B, 2, 1, 1);
    dfx__sample_desc sd = {.den = den, .sched = sched, .sampler = DFX_SAMPLER_HEUN, .steps = 100, .batch = B,
                           .h = 1, .w = 1, .skip_mode = DFX_SKIP_OFF};
    float *got = run_sampler (&sd, x0, NULL);
    double worst = 0.0;
    for (uint32_t b = 0; b < B; b++) {
        double best = 1e9;
        for (int i = 0; i < 4; i++)
            best = fmin (best, hypot (got[2 * b] - pts[i][0], got[2 * b + 1] - pts[i][1]));
        worst = fmax (worst, best);
    }
    printf ("Dirac mixture, Heun N=100: farthest sample is %.3g from a data point\n", worst);
    CHECK (worst < 1e-3, "samples end on data points: %.3g", worst);
    free (got), free (x0);
    dfx__denoiser_destroy (den);
}

typedef struct progress_log {
    int calls, cancel_at;
    double last;
    int monotone;
} progress_log;

static int
on_progress (double fraction, void *user)
{
    progress_log *l = user;
    l->monotone &= fraction > l->last && fraction <= 1.0;
    l->last = fraction;
    return ++l->calls == l->cancel_at;
}

/* Progress reports rise to 1 once per step; a nonzero return cancels. */
static void
test_progress (dfx__denoiser *den, const dfx__schedule *sched, const float *x0)
{
    progress_log l = {0, -1, 0.0, 1};
    dfx__sample_desc sd = {.den = den, .sched = sched, .sampler = DFX_SAMPLER_HEUN, .steps = 6, .batch = BATCH,
                           .h = H, .w = W, .skip_mode = DFX_SKIP_OFF, .progress = on_progress, .progress_user = &l};
    free (run_sampler (&sd, x0, NULL));
    CHECK (l.calls == 6 && l.monotone && l.last == 1.0, "progress: %d calls, last %g", l.calls, l.last);
    l = (progress_log){0, 2, 0.0, 1};
    dfx_buffer *x = upload (x0, BATCH * D);
    dfx_status st = dfx__sample (&sd, x, NULL);
    CHECK (st == DFX_ERR_CANCELLED && l.calls == 2 && strstr (dfx_ctx_errmsg (ctx), "cancelled"),
           "cancel after 2 steps: %s (%d calls)", dfx_ctx_errmsg (ctx), l.calls);
    dfx_buffer_destroy (ctx, x);
}

static void
test_rng (void)
{
    /* Known answers of Philox4x32-10 (Random123's kat_vectors). */
    static const uint32_t kat[3][10] = {
        {0, 0, 0, 0, 0, 0, 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
        {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0x408f276d, 0x41c83b0e, 0xa20bc7c6,
         0x6d5451fd},
        {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, 0xd16cfe09, 0x94fdcceb, 0x5001e420,
         0x24126ea1},
    };
    for (int i = 0; i < 3; i++) {
        uint32_t out[4];
        dfx__philox4x32 (kat[i], kat[i] + 4, out);
        CHECK (memcmp (out, kat[i] + 6, sizeof out) == 0, "philox KAT %d: %08x %08x %08x %08x", i, out[0], out[1],
               out[2], out[3]);
    }
    const uint32_t n = 1u << 18;
    float *z = malloc (n * sizeof *z);
    dfx_generate_noise (7, 3, 1, 512, 512, z);
    double m = 0, v = 0, k4 = 0;
    for (uint32_t i = 0; i < n; i++)
        m += z[i];
    m /= n;
    for (uint32_t i = 0; i < n; i++)
        v += (z[i] - m) * (z[i] - m), k4 += pow (z[i] - m, 4);
    v /= n, k4 /= n * v * v;
    printf ("noise moments over %u values: mean %.4f, variance %.4f, kurtosis %.3f\n", n, m, v, k4);
    CHECK (fabs (m) < 0.01 && fabs (v - 1) < 0.01 && fabs (k4 - 3) < 0.05, "N(0,1) moments");
    free (z);
}

int
main (void)
{
    algo_open ();
    test_rng ();
    make_gauss ();
    dfx__schedule sched;
    dfx__schedule_continuous (SIGMA_MIN, SIGMA_MAX, &sched);
    dfx__denoiser *den = gauss_denoiser (&g, C);
    float *x0 = noise (2025, 0, BATCH, C, H, W);
    double *want = exact_x0 (x0);
    test_orders (den, &sched, x0, want);
    test_dpmpp_host (den, &sched, x0);
    test_ddim_ddpm (den, x0);
    test_determinism (den, &sched);
    test_dirac (&sched);
    test_progress (den, &sched, x0);
    free (x0), free (want);
    dfx__denoiser_destroy (den);
    gauss_free (&g);
    dfx_ctx_destroy (ctx);
    return check_exit ();
}
