/* test-ocm.c — the stochastic samplers (DDPM, OCM-DDPM, OCM-DDIM) on
 * Gaussian data with exact posterior moments (dfx__moments_gauss):
 *
 *  1. 1-D and diagonal-Gaussian data, 2, 5 and 10 steps: OCM-DDPM and
 *     OCM-DDIM reproduce the data's mean and variance per dimension (MATH.md:
 *     exact for any number of steps); the fixed-variance DDPM misses the
 *     variance by more than the tolerance.  On the continuous EDM schedule
 *     and on a discrete DDPM schedule (linear β, T = 1000, as the models).
 *  2. With the Gaussian PCA skip in front (closed form to σ_skip), OCM still
 *     reproduces the variance: the skip combines with these samplers.
 *  3. The last-step clip: with the last step from σ̃_min = 0.5 to 0 and the
 *     noise std clipped to c, the variance is Var x̂0 + min(C, c²) exactly.
 *  4. Same seed, same bits; item k of a batch equals item k alone; another
 *     seed, other results.
 *
 * Tolerance: with B independent draws the sample variance s² of N(μ, λ) has
 * standard error λ√(2/(B − 1)), the sample mean √(λ/B).  Every item is an
 * independent Philox stream, so at B = 4096 we accept |s²/λ − 1| ≤ 4·√(2/(B − 1))
 * = 0.088 and |mean − μ| ≤ 4√(λ/B) (4 standard errors; the seeds are fixed,
 * so the outcome is deterministic), and require the fixed-variance DDPM to be
 * off by more than that 0.088 (it is off by 40–100 %).
 */
#pragma GCC diagnostic ignored "-Wunused-function" /* algo-common.h helpers this test does not use */
#include "algo-common.h"
#include "likelihood/likelihood-private.h"

#define B 4096u

static const double TOL_VAR = 4.0 * 1.4142135623730951 / 63.992187023104 /* √(B − 1) */;

/* Diagonal Gaussian data over c × h × w values. */
typedef struct diag {
    uint32_t c, h, w, d;
    double mean[8], var[8];
} diag;

static dfx__moments *
diag_moments (const diag *g)
{
    double comps[64] = {0};
    for (uint32_t i = 0; i < g->d; i++)
        comps[i * g->d + i] = 1.0;
    dfx__moments *mo = NULL;
    dfx_status st = dfx__moments_gauss (ctx, g->c, g->d, g->mean, g->d, comps, g->var, 0.0, &mo);
    CHECK (st == DFX_OK, "gaussian moments: %s", dfx_ctx_errmsg (ctx));
    return mo;
}

/* Runs desc on unit noise of seed 7 (items first .. first + batch − 1). */
static float *
sample (dfx__sample_desc *sd, const diag *g, uint32_t first)
{
    size_t n = (size_t) sd->batch * g->d;
    float *x0 = noise (7, first, sd->batch, g->c, g->h, g->w);
    dfx_buffer *x = upload (x0, n);
    sd->first_index = first;
    dfx_generate_result r;
    dfx_status st = dfx__sample (sd, x, &r);
    CHECK (st == DFX_OK, "sampler %s, %u steps: %s", dfx_sampler_name (sd->sampler), sd->steps, dfx_ctx_errmsg (ctx));
    CHECK (st != DFX_OK || r.nfe == sd->steps || r.steps_skipped > 0, "%s: nfe %u for %u steps",
           dfx_sampler_name (sd->sampler), r.nfe, sd->steps);
    float *out = download (x, n);
    dfx_buffer_destroy (ctx, x);
    free (x0);
    return out;
}

/* Largest |s²/λ − 1| and |mean − μ|/√(λ/B) over the dimensions. */
static void
moments_err (const float *x, const diag *g, uint32_t batch, double *var_err, double *mean_z)
{
    *var_err = 0.0, *mean_z = 0.0;
    for (uint32_t i = 0; i < g->d; i++) {
        double s = 0.0, s2 = 0.0;
        for (uint32_t b = 0; b < batch; b++)
            s += x[(size_t) b * g->d + i];
        double mu = s / batch;
        for (uint32_t b = 0; b < batch; b++) {
            double e = x[(size_t) b * g->d + i] - mu;
            s2 += e * e;
        }
        double var = s2 / (batch - 1);
        *var_err = fmax (*var_err, fabs (var / g->var[i] - 1.0));
        *mean_z = fmax (*mean_z, fabs (mu - g->mean[i]) / sqrt (g->var[i] / batch));
    }
}

static void
test_variance (const char *what, const diag *g, const dfx__schedule *sched)
{
    dfx__moments *mo = diag_moments (g);
    static const dfx_sampler samplers[] = {DFX_SAMPLER_OCM_DDPM, DFX_SAMPLER_OCM_DDIM, DFX_SAMPLER_DDPM};
    static const uint32_t steps[] = {2, 5, 10};
    for (size_t s = 0; s < 3; s++)
        for (size_t k = 0; k < 3; k++) {
            dfx__sample_desc sd = {.mo = mo, .sched = sched, .sampler = samplers[s], .steps = steps[k], .batch = B,
                                   .h = g->h, .w = g->w, .skip_mode = DFX_SKIP_OFF, .seed = 11,
                                   .clip_last = DFX__CLIP_LAST_8BIT};
            float *x = sample (&sd, g, 0);
            double ve, mz;
            moments_err (x, g, B, &ve, &mz);
            printf ("%s, %-8s %2u steps: max |var/var_data - 1| %.4f, max |mean - mu| %.2f standard errors\n", what,
                    dfx_sampler_name (samplers[s]), steps[k], ve, mz);
            if (samplers[s] == DFX_SAMPLER_DDPM)
                CHECK (ve > TOL_VAR, "%s: fixed-variance DDPM, %u steps, reproduces the variance (%.4f ≤ %.4f)?",
                       what, steps[k], ve, TOL_VAR);
            else
                CHECK (ve <= TOL_VAR && mz <= 4.0, "%s: %s, %u steps: variance off by %.4f (tol %.4f), mean by %.2f SE",
                       what, dfx_sampler_name (samplers[s]), steps[k], ve, TOL_VAR, mz);
            free (x);
        }
    dfx__moments_destroy (mo);
}

/* OCM-DDPM after the PCA skip of the same Gaussian (exact closed form). */
static void
test_skip (const diag *g, const dfx__schedule *sched)
{
    dfx__moments *mo = diag_moments (g);
    double comps[64] = {0};
    for (uint32_t i = 0; i < g->d; i++)
        comps[i * g->d + i] = 1.0;
    dfx__gauss_stats st = {.channels = g->c, .height = g->h, .width = g->w, .has_pca = 1, .mean = (double *) g->mean,
                           .rank = g->d, .eigval = (double *) g->var, .comps = comps};
    dfx__skip *sk = NULL;
    CHECK (dfx__skip_create (ctx, &st, &sk) == DFX_OK, "skip: %s", dfx_ctx_errmsg (ctx));
    dfx__sample_desc sd = {.mo = mo, .sched = sched, .sampler = DFX_SAMPLER_OCM_DDPM, .steps = 5, .batch = B,
                           .h = g->h, .w = g->w, .skip_mode = DFX_SKIP_PCA, .skip = sk, .sigma_skip = 2.0, .seed = 3};
    float *x = sample (&sd, g, 0);
    double ve, mz;
    moments_err (x, g, B, &ve, &mz);
    printf ("OCM-DDPM 5 steps after the PCA skip to sigma 2: variance off by %.4f, mean by %.2f SE\n", ve, mz);
    CHECK (ve <= TOL_VAR && mz <= 4.0, "OCM after the skip: variance %.4f, mean %.2f SE", ve, mz);
    free (x);
    dfx__skip_destroy (sk);
    dfx__moments_destroy (mo);
}

/* The last step from σ̃_min = 0.5: Var = λ²/(λ + s²) + min(λs²/(λ + s²), c²). */
static void
test_clip (const diag *g, const dfx__schedule *sched)
{
    dfx__moments *mo = diag_moments (g);
    const double smin = 0.5, clip = 0.1;
    for (int clipped = 0; clipped < 2; clipped++) {
        dfx__sample_desc sd = {.mo = mo, .sched = sched, .sampler = DFX_SAMPLER_OCM_DDPM, .steps = 4, .batch = B,
                               .h = g->h, .w = g->w, .sigma_min = smin, .seed = 5, .clip_last = clipped ? clip : 0};
        float *x = sample (&sd, g, 0);
        diag want = *g;
        for (uint32_t i = 0; i < g->d; i++) {
            double l = g->var[i], c = l * smin * smin / (l + smin * smin);
            want.var[i] = l * l / (l + smin * smin) + (clipped ? fmin (c, clip * clip) : c);
        }
        double ve, mz;
        moments_err (x, &want, B, &ve, &mz);
        printf ("last step from sigma %.2g, clip %s: variance off the prediction by %.4f\n", smin,
                clipped ? "0.1" : "off", ve);
        CHECK (ve <= TOL_VAR && mz <= 4.0, "last-step clip %d: variance off by %.4f, mean by %.2f SE", clipped, ve,
               mz);
        free (x);
    }
    dfx__moments_destroy (mo);
}

static void
test_determinism (const diag *g, const dfx__schedule *sched)
{
    dfx__moments *mo = diag_moments (g);
    const uint32_t B3 = 3;
    static const dfx_sampler samplers[] = {DFX_SAMPLER_OCM_DDPM, DFX_SAMPLER_OCM_DDIM, DFX_SAMPLER_DDPM};
    for (size_t s = 0; s < 3; s++) {
        dfx__sample_desc sd = {.mo = mo, .sched = sched, .sampler = samplers[s], .steps = 6, .batch = B3,
                               .h = g->h, .w = g->w, .seed = 99, .clip_last = DFX__CLIP_LAST_8BIT};
        float *a = sample (&sd, g, 0), *b = sample (&sd, g, 0);
        CHECK (memcmp (a, b, B3 * g->d * sizeof (float)) == 0, "%s: same seed, same bits",
               dfx_sampler_name (samplers[s]));
        int same = 1;
        for (uint32_t k = 0; k < B3; k++) {
            sd.batch = 1;
            float *one = sample (&sd, g, k);
            sd.batch = B3;
            same &= memcmp (one, a + k * g->d, g->d * sizeof (float)) == 0;
            free (one);
        }
        CHECK (same, "%s: item k of a batch of 3 equals item k alone", dfx_sampler_name (samplers[s]));
        sd.seed = 100;
        float *c = sample (&sd, g, 0);
        CHECK (memcmp (a, c, B3 * g->d * sizeof (float)) != 0, "%s: another seed, another result",
               dfx_sampler_name (samplers[s]));
        free (a), free (b), free (c);
    }
    /* Refusals: OCM without moments. */
    dfx__denoiser *den = NULL;
    double comps[64] = {0};
    for (uint32_t i = 0; i < g->d; i++)
        comps[i * g->d + i] = 1.0;
    CHECK (dfx__denoiser_gauss (ctx, g->c, g->d, g->mean, g->d, comps, g->var, 0.0, &den) == DFX_OK, "denoiser");
    dfx__sample_desc sd = {.den = den, .sched = sched, .sampler = DFX_SAMPLER_OCM_DDPM, .steps = 3, .batch = 1,
                           .h = g->h, .w = g->w};
    float *x0 = noise (1, 0, 1, g->c, g->h, g->w);
    dfx_buffer *x = upload (x0, g->d);
    CHECK (dfx__sample (&sd, x, NULL) == DFX_ERR_INVALID_ARGUMENT && strstr (dfx_ctx_errmsg (ctx), "moments"),
           "OCM without moments refused: %s", dfx_ctx_errmsg (ctx));
    /* DDPM runs on a plain denoiser and gives the same bits as on the moments. */
    sd.sampler = DFX_SAMPLER_DDPM;
    CHECK (dfx__sample (&sd, x, NULL) == DFX_OK, "DDPM on a denoiser: %s", dfx_ctx_errmsg (ctx));
    float *a = download (x, g->d);
    dfx_buffer_upload (ctx, x, 0, x0, g->d * sizeof (float));
    sd.den = NULL, sd.mo = mo;
    CHECK (dfx__sample (&sd, x, NULL) == DFX_OK, "DDPM on moments: %s", dfx_ctx_errmsg (ctx));
    float *b = download (x, g->d);
    double e = 0.0;
    for (uint32_t i = 0; i < g->d; i++)
        e = fmax (e, fabs (a[i] - b[i]));
    CHECK (e < 1e-5, "DDPM: denoiser and moments agree (%.3g)", e);
    free (a), free (b), free (x0);
    dfx_buffer_destroy (ctx, x);
    dfx__denoiser_destroy (den);
    dfx__moments_destroy (mo);
}

/* A DDPM linear schedule (β from 1e-4 to 0.02 over T = 1000), as a model's. */
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
    free (ab);
}

int
main (void)
{
    algo_open ();
    dfx__schedule edm, ddpm;
    dfx__schedule_continuous (0.002, 80.0, &edm);
    ddpm_schedule (&ddpm);
    /* The levels: N uniform timesteps from σ_max to σ_min, then 0. */
    double sig[6];
    dfx__sigmas_ddpm (&edm, 80.0, 0.002, 5, sig);
    CHECK (sig[0] == 80.0 && fabs (sig[4] - 0.002) < 1e-15 && sig[5] == 0.0 &&
               fabs (sig[2] - sqrt (80.0 * 0.002)) < 1e-9,
           "ddpm levels %g %g %g %g %g %g", sig[0], sig[1], sig[2], sig[3], sig[4], sig[5]);

    const diag one = {.c = 1, .h = 1, .w = 1, .d = 1, .mean = {0.3}, .var = {0.2}};
    const diag eight = {.c = 2, .h = 2, .w = 2, .d = 8,
                        .mean = {-0.4, 0.1, 0.0, 0.25, -0.1, 0.5, 0.2, -0.3},
                        .var = {0.01, 0.03, 0.08, 0.15, 0.25, 0.4, 0.6, 0.9}};
    test_variance ("1-D, EDM schedule", &one, &edm);
    test_variance ("diagonal 8-D, EDM schedule", &eight, &edm);
    test_variance ("diagonal 8-D, DDPM schedule", &eight, &ddpm);
    test_skip (&eight, &edm);
    test_clip (&eight, &edm);
    test_determinism (&eight, &edm);
    dfx__schedule_free (&ddpm);
    dfx_ctx_destroy (ctx);
    return check_exit ();
}
