/* density-empirical.c — exact posterior quantities of the Dirac mixture of
 * n points {y_i} in any dimension d (dirac.c does small d with full
 * matrices; here nothing is d × d).
 *
 * At x and τ: w = softmax_i(−‖x − y_i‖²/(2τ)), x̂0 = Σ w_i y_i,
 * C = Σ w_i c_i c_iᵀ with c_i = y_i − x̂0, so
 *   tr C   = Σ w_i ‖c_i‖²                      (direct: no cancellation),
 *   ‖C‖_F² = Σ_ij w_i w_j (c_i·c_j)²,  c_i·c_j = G_ij − a_i − a_j + ‖x̂0‖²
 * with G = the points' Gram matrix (precomputed) and a_i = y_i·x̂0; the
 * diagonal c_i·c_i = ‖c_i‖² is taken from the direct sum (it is the one entry
 * that is small when the posterior is concentrated).  Points of weight below
 * 1e-18 are left out of x̂0, tr C and ‖C‖_F² (their share is below 1e-18 of
 * the spread); cost O(n d + k d + k²) for k points above it. */
#include "latent.h"

#include <math.h>

void dfx__density_empirical_posterior (const dfx__density *den, const double *x, double tau, double *work,
                                       double *x0hat, double *trc, double *frob2);

void
dfx__density_empirical_posterior (const dfx__density *den, const double *x, double tau, double *work, double *x0hat,
                                  double *trc, double *frob2)
{
    const uint32_t n = den->n, d = den->d;
    const double *y = den->pts;
    double *w = work, *act = work + n, *a = work + 2 * (size_t)n, *c2 = work + 3 * (size_t)n;
    double mx = -INFINITY;
    for (uint32_t i = 0; i < n; i++) {
        const double *yi = y + (size_t)i * d;
        double r2 = 0.0;
        for (uint32_t k = 0; k < d; k++)
            r2 += (x[k] - yi[k]) * (x[k] - yi[k]);
        w[i] = -r2 / (2.0 * tau);
        mx = fmax (mx, w[i]);
    }
    double z = 0.0;
    for (uint32_t i = 0; i < n; i++)
        z += (w[i] = exp (w[i] - mx));
    uint32_t k = 0;
    for (uint32_t i = 0; i < n; i++)
        if ((w[i] /= z) >= 1e-18)
            act[k++] = i;
    /* renormalise over the active points so that Σ w = 1 exactly */
    double zs = 0.0;
    for (uint32_t q = 0; q < k; q++)
        zs += w[(uint32_t)act[q]];
    for (uint32_t j = 0; j < d; j++)
        x0hat[j] = 0.0;
    for (uint32_t q = 0; q < k; q++) {
        uint32_t i = (uint32_t)act[q];
        w[i] /= zs;
        const double *yi = y + (size_t)i * d;
        for (uint32_t j = 0; j < d; j++)
            x0hat[j] += w[i] * yi[j];
    }
    double xx = 0.0, tc = 0.0;
    for (uint32_t j = 0; j < d; j++)
        xx += x0hat[j] * x0hat[j];
    for (uint32_t q = 0; q < k; q++) {
        uint32_t i = (uint32_t)act[q];
        const double *yi = y + (size_t)i * d;
        double ai = 0.0, ci = 0.0;
        for (uint32_t j = 0; j < d; j++) {
            ai += yi[j] * x0hat[j];
            ci += (yi[j] - x0hat[j]) * (yi[j] - x0hat[j]);
        }
        a[q] = ai, c2[q] = ci;
        tc += w[i] * ci;
    }
    double f2 = 0.0;
    for (uint32_t q = 0; q < k; q++) {
        uint32_t i = (uint32_t)act[q];
        const double *gi = den->gram + (size_t)i * n;
        f2 += w[i] * w[i] * c2[q] * c2[q];
        for (uint32_t r = q + 1; r < k; r++) {
            uint32_t j = (uint32_t)act[r];
            double cij = gi[j] - a[q] - a[r] + xx;
            f2 += 2.0 * w[i] * w[j] * cij * cij;
        }
    }
    *trc = tc, *frob2 = f2;
}
