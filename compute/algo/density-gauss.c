/* density-gauss.c — the moment-matched Gaussian N(μ, Σ) of a point set
 * (μ and Σ with 1/n, Σ = V diag(λ) Vᵀ by Jacobi), and its exact posterior:
 *   x̂0 = μ + V diag(λ/(λ + τ)) Vᵀ (x − μ),  C = V diag(τλ/(λ + τ)) Vᵀ,
 * so tr C = Σ τλ_k/(λ_k + τ), ‖C‖_F² = Σ (τλ_k/(λ_k + τ))², the same at every
 * x.  The closed-form path of the tests (J = Σ 1/(λ_k + τ), FIR =
 * Σ 1/(λ_k + τ)²); for images it is d² memory and a d³ eigensolver (d up to a
 * few thousand). */
#include "latent.h"
#include "../sample/sample-private.h"

#include <stdlib.h>
#include <string.h>

#define GAUSS_MAX_DIM 4096

void dfx__density_gauss_posterior (const dfx__density *den, const double *x, double tau, double *work, double *x0hat,
                                   double *trc, double *frob2);

dfx_status
dfx__density_gaussian_init (dfx_ctx *ctx, dfx__density *den)
{
    const uint32_t n = den->n, d = den->d;
    if (d > GAUSS_MAX_DIM)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT,
                           "latent diagnostics: the Gaussian density takes at most %d values per point (%u given)",
                           GAUSS_MAX_DIM, d);
    double *cov = calloc ((size_t)d * d, sizeof *cov);
    den->mean = calloc (d, sizeof (double));
    den->V = malloc ((size_t)d * d * sizeof (double));
    den->lam = malloc (d * sizeof (double));
    if (!cov || !den->mean || !den->V || !den->lam) {
        free (cov);
        return dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (a Gaussian of %u values)", d);
    }
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t k = 0; k < d; k++)
            den->mean[k] += den->pts[(size_t)i * d + k] / n;
    for (uint32_t i = 0; i < n; i++) {
        const double *y = den->pts + (size_t)i * d;
        for (uint32_t a = 0; a < d; a++) {
            double ya = y[a] - den->mean[a];
            for (uint32_t b = 0; b <= a; b++)
                cov[(size_t)a * d + b] += ya * (y[b] - den->mean[b]) / n;
        }
    }
    for (uint32_t a = 0; a < d; a++)
        for (uint32_t b = 0; b < a; b++)
            cov[(size_t)b * d + a] = cov[(size_t)a * d + b];
    dfx__eigh ((int)d, cov, den->lam, den->V);
    for (uint32_t k = 0; k < d; k++)
        if (den->lam[k] < 0.0)
            den->lam[k] = 0.0;
    free (cov);
    return DFX_OK;
}

void
dfx__density_gauss_posterior (const dfx__density *den, const double *x, double tau, double *work, double *x0hat,
                              double *trc, double *frob2)
{
    const uint32_t d = den->d;
    double *p = work; /* Vᵀ (x − μ), scaled */
    double tc = 0.0, f2 = 0.0;
    for (uint32_t k = 0; k < d; k++) {
        double v = 0.0;
        for (uint32_t i = 0; i < d; i++)
            v += den->V[(size_t)i * d + k] * (x[i] - den->mean[i]);
        const double lam = den->lam[k], c = tau * lam / (lam + tau);
        p[k] = v * lam / (lam + tau);
        tc += c, f2 += c * c;
    }
    for (uint32_t i = 0; i < d; i++) {
        double v = den->mean[i];
        for (uint32_t k = 0; k < d; k++)
            v += den->V[(size_t)i * d + k] * p[k];
        x0hat[i] = v;
    }
    *trc = tc, *frob2 = f2;
}
