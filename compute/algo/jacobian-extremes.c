/* jacobian-extremes.c — the local bi-Lipschitz constants of an encoder at a
 * point: the smallest and largest singular values of its Jacobian J
 * (dz × dx), see latent.h.
 *
 * Method: every column J e_k by a central difference (E(x + h e_k) −
 * E(x − h e_k))/(2h) — a finite-difference JVP, exact for an affine encoder
 * up to rounding, O(h²) otherwise — batched `batch` columns per encoder call;
 * then the eigenvalues of the smaller Gram matrix (J Jᵀ when dz ≤ dx, else
 * JᵀJ) by the Jacobi solver.  σ_min is the smallest of the min(dx, dz)
 * singular values (for a compressing encoder, the one on its row space).
 * Cost: 2·dx encoder evaluations and a min(dx, dz)³ eigensolve per point;
 * chosen over power iteration on JᵀJ because the Vulkan encoder has no VJP,
 * and a power iteration for σ_min would need one. */
#include "latent.h"
#include "../sample/sample-private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

dfx_status
dfx__jacobian_extremes (dfx_ctx *ctx, dfx_encoder_fn enc, void *user, const double *x, uint32_t dx, uint32_t dz,
                        double h, uint32_t batch, double *smin, double *smax)
{
    const uint32_t g = dz <= dx ? dz : dx;
    double *jac = malloc ((size_t)dz * dx * sizeof *jac);
    double *in = malloc ((size_t)2 * batch * dx * sizeof *in), *outz = malloc ((size_t)2 * batch * dz * sizeof *outz);
    double *gram = malloc ((size_t)g * g * sizeof *gram), *vecs = malloc ((size_t)g * g * sizeof *vecs);
    double *vals = malloc (g * sizeof *vals);
    dfx_status st = DFX_OK;
    if (!jac || !in || !outz || !gram || !vecs || !vals) {
        st = dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (a Jacobian of %u × %u)", dz, dx);
        goto cleanup;
    }
    for (uint32_t k0 = 0; k0 < dx; k0 += batch) {
        const uint32_t nb = dx - k0 < batch ? dx - k0 : batch;
        for (uint32_t b = 0; b < nb; b++) {
            double *p = in + (size_t)(2 * b) * dx, *q = p + dx;
            memcpy (p, x, dx * sizeof *p);
            memcpy (q, x, dx * sizeof *q);
            p[k0 + b] += h, q[k0 + b] -= h;
        }
        DFX_CHECK (enc (user, 2 * nb, in, outz));
        for (uint32_t b = 0; b < nb; b++) {
            const double *zp = outz + (size_t)(2 * b) * dz, *zq = zp + dz;
            for (uint32_t i = 0; i < dz; i++)
                jac[(size_t)i * dx + k0 + b] = (zp[i] - zq[i]) / (2.0 * h);
        }
    }
    for (uint32_t a = 0; a < g; a++)
        for (uint32_t b = 0; b <= a; b++) {
            double v = 0.0;
            if (dz <= dx)
                for (uint32_t k = 0; k < dx; k++)
                    v += jac[(size_t)a * dx + k] * jac[(size_t)b * dx + k];
            else
                for (uint32_t k = 0; k < dz; k++)
                    v += jac[(size_t)k * dx + a] * jac[(size_t)k * dx + b];
            gram[(size_t)a * g + b] = gram[(size_t)b * g + a] = v;
        }
    dfx__eigh ((int)g, gram, vals, vecs);
    double lo = INFINITY, hi = 0.0;
    for (uint32_t k = 0; k < g; k++)
        lo = fmin (lo, vals[k]), hi = fmax (hi, vals[k]);
    *smin = sqrt (fmax (lo, 0.0)), *smax = sqrt (fmax (hi, 0.0));
    if (!isfinite (*smin) || !isfinite (*smax))
        st = dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT,
                         "latent diagnostics: the encoder's Jacobian is not finite (an encoder output is NaN or Inf)");
cleanup:
    free (jac), free (in), free (outz), free (gram), free (vecs), free (vals);
    return st;
}
