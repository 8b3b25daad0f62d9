/* secant-extremes.c — the encoder's secant (pairwise) distortion over the
 * data: min and max of ‖z_i − z_j‖/‖x_i − x_j‖ over the pairs of distinct
 * points (see latent.h).  The global counterpart of the Jacobian's local
 * constants; it is what the encoder does to the Dirac mixture's geometry.
 * O(n² (dx + dz)); the caller limits n. */
#include "latent.h"

#include <math.h>

void
dfx__secant_extremes (const double *x, const double *z, uint32_t n, uint32_t dx, uint32_t dz, double *lo, double *hi,
                      uint64_t *pairs)
{
    double a = INFINITY, b = 0.0;
    uint64_t np = 0;
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t j = i + 1; j < n; j++) {
            double rx = 0.0, rz = 0.0;
            for (uint32_t k = 0; k < dx; k++)
                rx += (x[(size_t)i * dx + k] - x[(size_t)j * dx + k]) * (x[(size_t)i * dx + k] - x[(size_t)j * dx + k]);
            if (!(rx > 0.0))
                continue;
            for (uint32_t k = 0; k < dz; k++)
                rz += (z[(size_t)i * dz + k] - z[(size_t)j * dz + k]) * (z[(size_t)i * dz + k] - z[(size_t)j * dz + k]);
            double r = sqrt (rz / rx);
            a = fmin (a, r), b = fmax (b, r);
            np++;
        }
    *lo = np ? a : NAN, *hi = np ? b : NAN, *pairs = np;
}
