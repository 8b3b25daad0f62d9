/* density.c — the point-set densities of the latent diagnostics: creation,
 * destruction and the posterior's dispatch (see latent.h).  The empirical
 * one lives in density-empirical.c, the Gaussian one in density-gauss.c. */
#include "latent.h"

#include <stdlib.h>
#include <string.h>

void dfx__density_empirical_posterior (const dfx__density *den, const double *x, double tau, double *work,
                                       double *x0hat, double *trc, double *frob2);
void dfx__density_gauss_posterior (const dfx__density *den, const double *x, double tau, double *work, double *x0hat,
                                   double *trc, double *frob2);

dfx_status
dfx__density_create (dfx_ctx *ctx, dfx_density_kind kind, const double *pts, uint32_t n, uint32_t d, dfx__density **out)
{
    *out = NULL;
    if (!pts || n < 1 || d < 1 || (unsigned)kind > DFX_DENSITY_GAUSSIAN)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "latent diagnostics: a density of %u points of %u values", n,
                           d);
    if (kind == DFX_DENSITY_EMPIRICAL && n > DFX__EMPIRICAL_MAX_POINTS)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT,
                           "latent diagnostics: the empirical density takes at most %d points (%u given)",
                           DFX__EMPIRICAL_MAX_POINTS, n);
    dfx__density *den = calloc (1, sizeof *den);
    if (!den || !(den->pts = malloc ((size_t)n * d * sizeof (double)))) {
        free (den);
        return dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (a density of %u × %u)", n, d);
    }
    den->kind = kind, den->n = n, den->d = d;
    memcpy (den->pts, pts, (size_t)n * d * sizeof (double));
    if (kind == DFX_DENSITY_EMPIRICAL) {
        if (!(den->gram = malloc ((size_t)n * n * sizeof (double)))) {
            dfx__density_destroy (den);
            return dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (Gram matrix of %u points)", n);
        }
        for (uint32_t i = 0; i < n; i++)
            for (uint32_t j = 0; j <= i; j++) {
                double g = 0.0;
                for (uint32_t k = 0; k < d; k++)
                    g += den->pts[(size_t)i * d + k] * den->pts[(size_t)j * d + k];
                den->gram[(size_t)i * n + j] = den->gram[(size_t)j * n + i] = g;
            }
    } else {
        dfx_status st = dfx__density_gaussian_init (ctx, den);
        if (st != DFX_OK) {
            dfx__density_destroy (den);
            return st;
        }
    }
    *out = den;
    return DFX_OK;
}

void
dfx__density_destroy (dfx__density *den)
{
    if (!den)
        return;
    free (den->pts), free (den->gram), free (den->mean), free (den->V), free (den->lam);
    free (den);
}

size_t
dfx__density_work (const dfx__density *den)
{
    return den->kind == DFX_DENSITY_EMPIRICAL ? 4 * (size_t)den->n : 2 * (size_t)den->d;
}

void
dfx__density_posterior (const dfx__density *den, const double *x, double tau, double *work, double *x0hat, double *trc,
                        double *frob2)
{
    if (den->kind == DFX_DENSITY_EMPIRICAL)
        dfx__density_empirical_posterior (den, x, tau, work, x0hat, trc, frob2);
    else
        dfx__density_gauss_posterior (den, x, tau, work, x0hat, trc, frob2);
}
