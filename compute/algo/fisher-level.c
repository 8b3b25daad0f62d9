/* fisher-level.c — the Fisher statistics of one density at one noise level
 * (see latent.h, docs/latent-diagnostics.md): Monte Carlo over x_τ, exact
 * posterior quantities per draw, means and standard errors.
 *
 * Per draw, with d the dimension and C = Cov[x0 | x_τ]:
 *   tr F   = d/τ − tr C/τ²                      (J is its mean)
 *   ‖s‖²   = ‖x̂0 − x_τ‖²/τ²                     (the same mean, identity 6)
 *   ‖F‖_F² = d/τ² − 2 tr C/τ³ + ‖C‖_F²/τ⁴        (F = I/τ − C/τ²)
 *   mmse   = tr C,  rate = ‖C‖_F²/τ² (= d − 2τ tr F + τ² ‖F‖_F², summed
 *            without the cancellation of the three terms). */
#include "latent.h"
#include "../sample/sample-private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct acc {
    double s, s2;
    uint32_t n;
} acc;

static void
add (acc *a, double v)
{
    a->s += v, a->s2 += v * v, a->n++;
}

static void
mean_se (const acc *a, double *m, double *se)
{
    *m = a->n ? a->s / a->n : NAN;
    if (a->n < 2) {
        *se = 0.0;
        return;
    }
    double var = (a->s2 - a->n * *m * *m) / (a->n - 1);
    *se = sqrt (fmax (var, 0.0) / a->n);
}

dfx_status
dfx__fisher_level (dfx_ctx *ctx, const dfx__density *den, double tau, uint32_t samples, uint64_t seed, uint32_t stream,
                   dfx_fisher_stats *out)
{
    const uint32_t d = den->d, n = den->n;
    memset (out, 0, sizeof *out);
    if (!(tau > 0.0) || !isfinite (tau) || samples < 1)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "latent diagnostics: level tau %g, %u draws", tau, samples);
    float *eps = malloc (d * sizeof *eps);
    double *x = malloc (2 * (size_t)d * sizeof *x), *work = malloc (dfx__density_work (den) * sizeof *work);
    if (!eps || !x || !work) {
        free (eps), free (x), free (work);
        return dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (Fisher statistics, %u values)", d);
    }
    double *xh = x + d;
    const double st = sqrt (tau);
    acc j = {0}, js = {0}, fir = {0}, mm = {0}, rate = {0};
    for (uint32_t s = 0; s < samples; s++) {
        const double *y = den->pts + (size_t)(s % n) * d;
        dfx__noise_stream (seed, s, stream, d, eps);
        for (uint32_t k = 0; k < d; k++)
            x[k] = y[k] + st * eps[k];
        double trc, f2;
        dfx__density_posterior (den, x, tau, work, xh, &trc, &f2);
        double sn = 0.0;
        for (uint32_t k = 0; k < d; k++)
            sn += (xh[k] - x[k]) * (xh[k] - x[k]);
        add (&j, d / tau - trc / (tau * tau));
        add (&js, sn / (tau * tau));
        add (&fir, d / (tau * tau) - 2.0 * trc / (tau * tau * tau) + f2 / (tau * tau * tau * tau));
        add (&mm, trc);
        add (&rate, f2 / (tau * tau));
    }
    mean_se (&j, &out->j, &out->j_se);
    mean_se (&js, &out->j_score, &out->j_score_se);
    mean_se (&fir, &out->fir, &out->fir_se);
    mean_se (&mm, &out->mmse, &out->mmse_se);
    mean_se (&rate, &out->rate, &out->rate_se);
    out->rate_d = d, out->rate_j = -2.0 * tau * out->j, out->rate_fir = tau * tau * out->fir;
    free (eps), free (x), free (work);
    return DFX_OK;
}
