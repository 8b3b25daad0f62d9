/* moments-gauss.c — exact posterior moments of Gaussian data (see
 * likelihood-private.h), on the host in double precision. */
#include "likelihood-private.h"

#include <stdlib.h>
#include <string.h>

typedef struct gauss {
    dfx__moments base;
    uint32_t d, rank;
    double *mean, *comps, *eigval, residual;
    double *y, *proj;
    float *hx, *hx0, *hm;
    uint32_t cap;
} gauss;

/* x̂0, and m unless it is NULL. */
static dfx_status
gauss_eval (dfx__moments *mo, uint32_t batch, uint32_t h, uint32_t w, dfx_buffer *x, double sigma, dfx_buffer *x0,
            dfx_buffer *m)
{
    gauss *g = (gauss *) mo;
    dfx_ctx *ctx = mo->ctx;
    const uint32_t d = g->d;
    if ((uint64_t) mo->channels * h * w != d)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "gaussian moments: %u×%u×%u is not the data's %u values",
                           mo->channels, h, w, d);
    size_t n = (size_t) batch * d;
    if (g->cap < n) {
        free (g->hx), free (g->hx0), free (g->hm);
        g->hx = malloc (n * sizeof (float)), g->hx0 = malloc (n * sizeof (float)), g->hm = malloc (n * sizeof (float));
        g->cap = (uint32_t) n;
        if (!g->hx || !g->hx0 || !g->hm) {
            g->cap = 0;
            return dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (gaussian moments)");
        }
    }
    dfx_status st = dfx_buffer_download (ctx, x, 0, g->hx, n * sizeof (float));
    if (st != DFX_OK)
        return st;
    const double s2 = sigma * sigma, fr = g->residual / (g->residual + s2);
    for (uint32_t b = 0; b < batch; b++) {
        const float *xb = g->hx + (size_t) b * d;
        for (uint32_t i = 0; i < d; i++)
            g->y[i] = (double) xb[i] - g->mean[i];
        /* x̂0 − μ = fr·y + Σ_k (f_k − fr)(u_kᵀ y) u_k, f = λ/(λ + σ²) */
        for (uint32_t k = 0; k < g->rank; k++) {
            double p = 0.0;
            for (uint32_t i = 0; i < d; i++)
                p += g->comps[(size_t) k * d + i] * g->y[i];
            g->proj[k] = p * (g->eigval[k] / (g->eigval[k] + s2) - fr);
        }
        for (uint32_t i = 0; i < d; i++) {
            double v = fr * g->y[i];
            /* diag C = σ² (Σ_k f_k u_ki² + fr (1 − Σ_k u_ki²)) */
            double c = fr, uu = 0.0;
            for (uint32_t k = 0; k < g->rank; k++) {
                double u = g->comps[(size_t) k * d + i];
                v += g->proj[k] * u;
                c += (g->eigval[k] / (g->eigval[k] + s2) - fr) * u * u;
                uu += u * u;
            }
            (void) uu;
            double xh = g->mean[i] + v;
            g->hx0[(size_t) b * d + i] = (float) xh;
            g->hm[(size_t) b * d + i] = (float) (s2 * c + xh * xh);
        }
    }
    mo->evals++;
    mo->head_evals += m != NULL;
    if ((st = dfx_buffer_upload (ctx, x0, 0, g->hx0, n * sizeof (float))) != DFX_OK || !m)
        return st;
    return dfx_buffer_upload (ctx, m, 0, g->hm, n * sizeof (float));
}

static dfx_status
gauss_eval_mean (dfx__moments *mo, uint32_t batch, uint32_t h, uint32_t w, dfx_buffer *x, double sigma,
                 dfx_buffer *x0)
{
    return gauss_eval (mo, batch, h, w, x, sigma, x0, NULL);
}

/* diag C = σ̃² (Σ_k f_k u_ki² + fr (1 − Σ_k u_ki²)) alone (it does not depend on x̃; not counted). */
static dfx_status
gauss_eval_var (dfx__moments *mo, uint32_t batch, uint32_t h, uint32_t w, dfx_buffer *x, double sigma, dfx_buffer *c)
{
    gauss *g = (gauss *) mo;
    const uint32_t d = g->d;
    (void) x;
    if ((uint64_t) mo->channels * h * w != d)
        return dfx__error (mo->ctx, DFX_ERR_INVALID_ARGUMENT, "gaussian moments: %u×%u×%u is not the data's %u values",
                           mo->channels, h, w, d);
    const size_t n = (size_t) batch * d;
    float *hc = malloc (n * sizeof (float));
    if (!hc)
        return dfx__error (mo->ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (gaussian moments)");
    const double s2 = sigma * sigma, fr = g->residual / (g->residual + s2);
    for (uint32_t i = 0; i < d; i++) {
        double v = fr;
        for (uint32_t k = 0; k < g->rank; k++) {
            const double u = g->comps[(size_t) k * d + i];
            v += (g->eigval[k] / (g->eigval[k] + s2) - fr) * u * u;
        }
        for (uint32_t b = 0; b < batch; b++)
            hc[(size_t) b * d + i] = (float) (s2 * v);
    }
    dfx_status st = dfx_buffer_upload (mo->ctx, c, 0, hc, n * sizeof (float));
    free (hc);
    return st;
}

static void
gauss_destroy (dfx__moments *mo)
{
    gauss *g = (gauss *) mo;
    free (g->mean), free (g->comps), free (g->eigval), free (g->y), free (g->proj);
    free (g->hx), free (g->hx0), free (g->hm);
    free (g);
}

void
dfx__moments_destroy (dfx__moments *mo)
{
    if (mo)
        mo->destroy (mo);
}

dfx_status
dfx__moments_gauss (dfx_ctx *ctx, uint32_t channels, uint32_t d, const double *mean, uint32_t rank,
                    const double *comps, const double *eigval, double residual, dfx__moments **out)
{
    *out = NULL;
    if (!d || !channels || d % channels || rank > d || !(residual >= 0.0))
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "gaussian moments: d %u, channels %u, rank %u", d, channels,
                           rank);
    gauss *g = calloc (1, sizeof *g);
    if (!g)
        return dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (gaussian moments)");
    g->base = (dfx__moments){.ctx = ctx, .channels = channels, .name = "gaussian", .eval = gauss_eval,
                             .eval_mean = gauss_eval_mean, .eval_var = gauss_eval_var, .destroy = gauss_destroy};
    g->d = d, g->rank = rank, g->residual = residual;
    g->mean = malloc (d * sizeof (double));
    g->comps = malloc (((size_t) rank * d + 1) * sizeof (double));
    g->eigval = malloc ((rank + 1) * sizeof (double));
    g->y = malloc (d * sizeof (double));
    g->proj = malloc ((rank + 1) * sizeof (double));
    if (!g->mean || !g->comps || !g->eigval || !g->y || !g->proj) {
        gauss_destroy (&g->base);
        return dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (gaussian moments)");
    }
    memcpy (g->mean, mean, d * sizeof (double));
    if (rank) {
        memcpy (g->comps, comps, (size_t) rank * d * sizeof (double));
        memcpy (g->eigval, eigval, rank * sizeof (double));
    }
    *out = &g->base;
    return DFX_OK;
}
