/* test-diagnose.c — the Fisher-information diagnostics (compute/algo/
 * diagnose.c) on Gaussian data N(μ, Σ) with a dense Σ (6 values, eigenvalues
 * over two decades), where every curve has a closed form (MATH.md: F =
 * (Σ + τI)⁻¹ exactly):
 *
 *   J(τ) = Σ_k 1/(λ_k + τ),  E‖F‖_F² = Σ_k 1/(λ_k + τ)²,
 *   mmse(τ) = Σ_k λ_k τ/(λ_k + τ),  d mmse/dτ = Σ_k λ_k²/(λ_k + τ)².
 *
 * 2000 data draws, exact posterior moments (dfx__moments_gauss), 5 levels.
 * Tolerances: J from the head and the MMSE are exact per image (F does not
 * depend on x̃ here), up to float storage of x̂0 and m: 1e-5 + 1e-4·mmse in
 * tr C.  The score-norm J, the measured MMSE, the FIR (Hutchinson) and the
 * MMSE rate are Monte-Carlo means: within 4 standard errors as reported
 * (plus the same float slack).  The FIR is checked with exact M v products
 * and with the central-difference product of the denoiser (exact for the
 * linear Gaussian denoiser); DF-EA must not fall below the exact FIR (its
 * bias is E‖(x0x0ᵀ − M)v‖²/τ⁴ ≥ 0) and is exact on one-point data.
 */
#pragma GCC diagnostic ignored "-Wunused-function" /* algo-common.h helpers this test does not use */
#include "algo-common.h"
#include "algo/diagnose.h"

#define D 6
#define N 2000

static gauss g;
static double comps[D * D];

/* Exact M v = C v + x̂0 (x̂0ᵀ v), C = Σ_k λ_k τ/(λ_k + τ) u_k u_kᵀ. */
static void
mprod (void *user, double sigma, const float *xt, const float *x0hat, const double *v, double *out, uint32_t d)
{
    (void) user, (void) xt;
    const double tau = sigma * sigma;
    double ev = 0.0;
    for (uint32_t i = 0; i < d; i++)
        ev += x0hat[i] * v[i], out[i] = 0.0;
    for (uint32_t k = 0; k < d; k++) {
        double p = 0.0, c = g.lam[k] * tau / (g.lam[k] + tau);
        for (uint32_t i = 0; i < d; i++)
            p += comps[k * d + i] * v[i];
        for (uint32_t i = 0; i < d; i++)
            out[i] += c * p * comps[k * d + i];
    }
    for (uint32_t i = 0; i < d; i++)
        out[i] += x0hat[i] * ev;
}

static int
within (double got, double want, double tol, const char *what, double sigma)
{
    int ok = fabs (got - want) <= tol;
    CHECK (ok, "sigma %g, %s: %.6g against the closed form %.6g (tolerance %.3g)", sigma, what, got, want, tol);
    return ok;
}

int
main (void)
{
    algo_open ();
    check_rng rng = {31};
    g.d = D;
    g.mean = malloc (D * sizeof (double));
    g.cov = calloc (D * D, sizeof (double));
    double b[D * D];
    for (int i = 0; i < D * D; i++)
        b[i] = check_uniform (&rng, -1, 1);
    for (int i = 0; i < D; i++) {
        g.mean[i] = check_uniform (&rng, -0.5f, 0.5f);
        for (int j = 0; j < D; j++) {
            double v = i == j ? 0.01 : 0.0;
            for (int k = 0; k < D; k++)
                v += 0.3 * b[i * D + k] * b[j * D + k] / D;
            g.cov[i * D + j] = v;
        }
    }
    CHECK (gauss_eig (&g) < 1e-9, "eigendecomposition");
    for (int k = 0; k < D; k++)
        for (int j = 0; j < D; j++)
            comps[k * D + j] = g.V[j * D + k];
    printf ("eigenvalues:");
    for (int k = 0; k < D; k++)
        printf (" %.4g", g.lam[k]);
    printf ("\n");

    /* Data: x0 = μ + Σ_k √λ_k z_k u_k. */
    float *data = malloc ((size_t) N * D * sizeof *data), z[D];
    for (uint32_t n = 0; n < N; n++) {
        dfx__noise_stream (4242, n, 0, D, z);
        for (int i = 0; i < D; i++) {
            double x = g.mean[i];
            for (int k = 0; k < D; k++)
                x += sqrt (g.lam[k]) * z[k] * comps[k * D + i];
            data[(size_t) n * D + i] = (float) x;
        }
    }
    dfx__moments *mo = NULL;
    dfx__denoiser *den = NULL;
    CHECK (dfx__moments_gauss (ctx, 1, D, g.mean, D, comps, g.lam, 0.0, &mo) == DFX_OK, "moments");
    CHECK (dfx__denoiser_gauss (ctx, 1, D, g.mean, D, comps, g.lam, 0.0, &den) == DFX_OK, "denoiser");

    static const double sigmas[] = {0.1, 0.3, 1.0, 3.0, 10.0};
    const uint32_t ns = sizeof sigmas / sizeof sigmas[0];
    dfx_diagnose_row exact[5], jvp[5], dfea[5];
    dfx__diag_desc dd = {.mo = mo, .h = 2, .w = 3, .data = data, .n = N, .sigmas = sigmas, .n_sigmas = ns,
                         .probes = 2, .batch = 500, .seed = 9, .mprod = mprod};
    CHECK (dfx__diagnose (&dd, exact) == DFX_OK, "diagnose (exact products): %s", dfx_ctx_errmsg (ctx));
    dd.mprod = NULL, dd.den = den;
    CHECK (dfx__diagnose (&dd, jvp) == DFX_OK, "diagnose (denoiser products): %s", dfx_ctx_errmsg (ctx));
    dd.den = NULL;
    CHECK (dfx__diagnose (&dd, dfea) == DFX_OK, "diagnose (DF-EA): %s", dfx_ctx_errmsg (ctx));

    printf ("sigma  J closed   J head     J score (se)      FIR closed  FIR exact (se)   FIR jvp     FIR DF-EA   "
            "mmse closed mmse head  mmse meas.  rate closed rate (se)\n");
    for (uint32_t j = 0; j < ns; j++) {
        const double s = sigmas[j], tau = s * s;
        double J = 0, fir = 0, mmse = 0, rate = 0;
        for (int k = 0; k < D; k++) {
            double l = g.lam[k];
            J += 1 / (l + tau), fir += 1 / ((l + tau) * (l + tau)), mmse += l * tau / (l + tau);
            rate += l * l / ((l + tau) * (l + tau));
        }
        const dfx_diagnose_row *r = &exact[j];
        printf ("%-6g %-10.5g %-10.5g %-8.5g (%.2g) %-11.5g %-8.5g (%.2g) %-11.5g %-11.5g %-11.5g %-10.5g %-11.5g "
                "%-11.5g %.5g (%.2g)\n",
                s, J, r->j_head, r->j_score, r->j_score_se, fir, r->fir, r->fir_se, jvp[j].fir, dfea[j].fir, mmse,
                r->mmse, r->mmse_direct, rate, r->mmse_rate, r->mmse_rate_se);
        const double ftrc = 1e-5 + 1e-4 * mmse; /* float slack of tr C */
        within (r->mmse, mmse, ftrc, "mmse (head)", s);
        within (r->j_head, J, ftrc / (tau * tau) + 1e-6 * J, "J (head)", s);
        within (r->j_score, J, 4 * r->j_score_se + 1e-4 * J, "J (score norm)", s);
        within (r->mmse_direct, mmse, 4 * r->mmse_direct_se + ftrc, "mmse (measured)", s);
        within (r->fir, fir, 4 * r->fir_se + 1e-6 * fir, "FIR (exact products)", s);
        within (jvp[j].fir, fir, 4 * jvp[j].fir_se + 1e-3 * fir, "FIR (denoiser products)", s);
        within (r->mmse_rate, rate, 4 * r->mmse_rate_se + 2 * ftrc / tau + 1e-9 * D, "mmse rate", s);
        within (r->rate_d + r->rate_j + r->rate_fir, r->mmse_rate, 1e-9 * D + 1e-9 * fabs (r->rate_j),
                "the rate's terms", s);
        CHECK (dfea[j].fir >= fir - 4 * dfea[j].fir_se, "sigma %g: DF-EA FIR %.6g below the exact %.6g", s,
               dfea[j].fir, fir);
        CHECK (fabs (jvp[j].j_head - r->j_head) < 1e-12 * J, "J does not depend on the FIR method");
    }

    /* One data point (a point-mass posterior): DF-EA is exact, E‖F‖² = d/τ². */
    dfx__moments *pt = NULL;
    CHECK (dfx__moments_gauss (ctx, 1, D, g.mean, 0, NULL, NULL, 0.0, &pt) == DFX_OK, "point moments");
    float one[D];
    for (int i = 0; i < D; i++)
        one[i] = (float) g.mean[i];
    dfx_diagnose_row pr[5];
    dfx__diag_desc dp = {.mo = pt, .h = 2, .w = 3, .data = one, .n = 1, .sigmas = sigmas, .n_sigmas = ns,
                         .probes = 3, .batch = 1, .seed = 1};
    CHECK (dfx__diagnose (&dp, pr) == DFX_OK, "diagnose (one point): %s", dfx_ctx_errmsg (ctx));
    for (uint32_t j = 0; j < ns; j++) {
        double tau = sigmas[j] * sigmas[j];
        within (pr[j].fir, D / (tau * tau), 1e-4 * D / (tau * tau), "one point: DF-EA FIR", sigmas[j]);
        within (pr[j].j_head, D / tau, 1e-4 * D / tau, "one point: J", sigmas[j]);
    }

    /* Bad input: a level that is not > 0. */
    const double bad[] = {0.5, -1.0};
    dd.sigmas = bad, dd.n_sigmas = 2;
    CHECK (dfx__diagnose (&dd, exact) == DFX_ERR_INVALID_ARGUMENT && strstr (dfx_ctx_errmsg (ctx), "sigma -1"),
           "negative sigma refused: %s", dfx_ctx_errmsg (ctx));

    dfx__moments_destroy (pt);
    dfx__moments_destroy (mo);
    dfx__denoiser_destroy (den);
    free (data);
    gauss_free (&g);
    dfx_ctx_destroy (ctx);
    return check_exit ();
}
