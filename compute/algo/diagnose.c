/* diagnose.c — Fisher information, its rate and the MMSE over a σ grid
 * (see diagnose.h and MATH.md "Fisher information and its rate").
 *
 * Per level σ (τ = σ²) and data image x0: x̃ = x0 + σ ε; one moments
 * evaluation gives x̂0 and m = E[x0⊙x0 | x̃]; then, on the host in double
 * precision (the sums are short next to the network):
 *
 *   tr F   = d/τ − Σ_i C_ii/τ²,  C_ii = clamp(m_i − x̂0_i², 0, cmax)  (identity 3)
 *   ‖s‖²  = ‖x̂0 − x̃‖²/τ²                                          (identity 6: same mean)
 *   ‖F v‖² with F v = v/τ − (M v − x̂0 (x̂0ᵀ v))/τ², v Rademacher   (Hutchinson)
 *   ‖x0 − x̂0‖²                                                     (the MMSE measured)
 *
 * M v − x̂0 (x̂0ᵀ v) = C v comes from, in this order:
 *  - the caller's exact M v (analytic data, the tests);
 *  - the denoiser: C = τ ∂x̂0/∂x̃ (second-order Tweedie), so C v = τ (D(x̃ + h v)
 *    − D(x̃ − h v))/(2h): two more evaluations per probe, exact for a linear
 *    (Gaussian) denoiser and O(h²) otherwise;
 *  - DF-EA: M ≈ x0 x0ᵀ with x0 the very data point x̃ was made from, a draw of
 *    the posterior, so F̂ is unbiased for F but ‖F̂ v‖² is not: E‖F̂ v‖² =
 *    ‖F v‖² + E‖(x0 x0ᵀ − M) v‖²/τ⁴.  With e = x0 − x̂0 the excess holds
 *    ‖x̂0‖² (eᵀv)²/τ⁴ ~ ‖x̂0‖² d/τ³ against ‖F‖_F² ≤ d/τ²: on continuous data
 *    it swamps the FIR at small σ (it is exact only where the posterior is a
 *    point).  Kept for comparison; the denoiser's product is the default.
 * Means with standard errors over the images (the probes of one image
 * averaged first). */
#include "diagnose.h"

#include <math.h>
#include <string.h>

typedef struct acc {
    double s, s2;
    uint32_t n;
} acc;

static void
acc_add (acc *a, double v)
{
    a->s += v, a->s2 += v * v, a->n++;
}

static double
acc_mean (const acc *a)
{
    return a->n ? a->s / a->n : NAN;
}

static double
acc_se (const acc *a)
{
    if (a->n < 2)
        return 0.0;
    double m = a->s / a->n, var = (a->s2 - a->n * m * m) / (a->n - 1);
    return sqrt (fmax (var, 0.0) / a->n);
}

/* The per-item quantities at one level. */
typedef struct item {
    acc jh, js, fir, trc, mmse_direct, rate;
} item;

void
dfx_diagnose_params_defaults (dfx_diagnose_params *p)
{
    memset (p, 0, sizeof *p);
    p->n_sigmas = 12;
    p->probes = 2;
    p->batch = 16;
    p->fir = DFX_FIR_JVP;
}

typedef struct run {
    const dfx__diag_desc *d;
    dfx_ctx *ctx;
    uint32_t dv, bmax;
    dfx_buffer *bx, *bx0, *bm, *bp, *bq;
    float *xt, *x0h, *mh, *vb, *dp, *dq;
    double *mv;
} run;

/* Σ_b ‖F v_b‖² of probe p for the items b0 .. b0 + nbat − 1 at level j into fir[b]. */
static dfx_status
probe (run *r, uint32_t j, uint32_t p, uint32_t b0, uint32_t nbat, double *fir)
{
    const dfx__diag_desc *d = r->d;
    const uint32_t dv = r->dv;
    const size_t nn = (size_t) nbat * dv;
    const double sigma = d->sigmas[j], tau = sigma * sigma, h = fmax (0.02 * sigma, 1e-3);
    dfx_status st = DFX_OK;
    for (uint32_t b = 0; b < nbat; b++) {
        float *v = r->vb + (size_t) b * dv;
        dfx__noise_stream (d->seed, b0 + b, (1u << 24) + j * d->probes + p, dv, v);
        for (uint32_t i = 0; i < dv; i++)
            v[i] = v[i] < 0.0f ? -1.0f : 1.0f;
    }
    const bool jvp = !d->mprod && d->den;
    if (jvp) {
        for (size_t i = 0; i < nn; i++) {
            r->dp[i] = (float) (r->xt[i] + h * r->vb[i]);
            r->dq[i] = (float) (r->xt[i] - h * r->vb[i]);
        }
        if ((st = dfx_buffer_upload (r->ctx, r->bp, 0, r->dp, nn * sizeof (float))) ||
            (st = dfx_buffer_upload (r->ctx, r->bq, 0, r->dq, nn * sizeof (float))) ||
            (st = d->den->denoise (d->den, nbat, d->h, d->w, r->bp, sigma, r->bx0)) ||
            (st = dfx_buffer_download (r->ctx, r->bx0, 0, r->dp, nn * sizeof (float))) ||
            (st = d->den->denoise (d->den, nbat, d->h, d->w, r->bq, sigma, r->bx0)) ||
            (st = dfx_buffer_download (r->ctx, r->bx0, 0, r->dq, nn * sizeof (float))))
            return st;
    }
    for (uint32_t b = 0; b < nbat; b++) {
        const size_t o = (size_t) b * dv;
        const float *x0 = d->data + (size_t) (b0 + b) * dv, *e = r->x0h + o, *v = r->vb + o;
        double f2 = 0.0;
        if (jvp) {
            /* F v = (v − J_D v)/τ */
            for (uint32_t i = 0; i < dv; i++) {
                double f = (v[i] - ((double) r->dp[o + i] - r->dq[o + i]) / (2.0 * h)) / tau;
                f2 += f * f;
            }
        } else {
            double ev = 0.0, xv = 0.0;
            for (uint32_t i = 0; i < dv; i++)
                ev += (double) e[i] * v[i], xv += (double) x0[i] * v[i];
            if (d->mprod) {
                double *vd = r->mv + dv; /* v as doubles after the product's output */
                for (uint32_t i = 0; i < dv; i++)
                    vd[i] = v[i];
                d->mprod (d->mprod_user, sigma, r->xt + o, e, vd, r->mv, dv);
            } else {
                for (uint32_t i = 0; i < dv; i++)
                    r->mv[i] = x0[i] * xv;
            }
            for (uint32_t i = 0; i < dv; i++) {
                double f = v[i] / tau - (r->mv[i] - e[i] * ev) / (tau * tau);
                f2 += f * f;
            }
        }
        fir[b] += f2 / d->probes;
    }
    return DFX_OK;
}

dfx_status
dfx__diagnose (const dfx__diag_desc *d, dfx_diagnose_row *rows)
{
    dfx__moments *mo = d->mo;
    dfx_ctx *ctx = mo->ctx;
    const uint32_t dv = mo->channels * d->h * d->w;
    if (!d->n || !dv || !d->n_sigmas || !d->probes || !d->batch || !d->data || !d->sigmas)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "diagnose: %u images of %u values, %u levels, %u probes",
                           d->n, dv, d->n_sigmas, d->probes);
    for (uint32_t j = 0; j < d->n_sigmas; j++)
        if (!(d->sigmas[j] > 0.0) || !isfinite (d->sigmas[j]))
            return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "diagnose: sigma %g (level %u) is not a number > 0",
                               d->sigmas[j], j);
    run r = {.d = d, .ctx = ctx, .dv = dv, .bmax = d->batch < d->n ? d->batch : d->n};
    const size_t nb = (size_t) r.bmax * dv;
    dfx_status st = DFX_OK;
    double *fir = malloc (r.bmax * sizeof *fir);
    r.xt = malloc (nb * sizeof (float)), r.x0h = malloc (nb * sizeof (float)), r.mh = malloc (nb * sizeof (float));
    r.vb = malloc (nb * sizeof (float)), r.dp = malloc (nb * sizeof (float)), r.dq = malloc (nb * sizeof (float));
    r.mv = malloc (2 * (size_t) dv * sizeof (double));
    if (!fir || !r.xt || !r.x0h || !r.mh || !r.vb || !r.dp || !r.dq || !r.mv) {
        st = dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (diagnose, %zu values)", nb);
        goto cleanup;
    }
    DFX_CHECK (dfx_buffer_create (ctx, nb * sizeof (float), &r.bx));
    DFX_CHECK (dfx_buffer_create (ctx, nb * sizeof (float), &r.bx0));
    DFX_CHECK (dfx_buffer_create (ctx, nb * sizeof (float), &r.bm));
    if (!d->mprod && d->den) {
        DFX_CHECK (dfx_buffer_create (ctx, nb * sizeof (float), &r.bp));
        DFX_CHECK (dfx_buffer_create (ctx, nb * sizeof (float), &r.bq));
    }
    const uint64_t work = (uint64_t) d->n_sigmas * ((d->n + r.bmax - 1) / r.bmax);
    uint64_t done = 0;
    for (uint32_t j = 0; j < d->n_sigmas; j++) {
        const double sigma = d->sigmas[j], tau = sigma * sigma;
        item it;
        memset (&it, 0, sizeof it);
        for (uint32_t b0 = 0; b0 < d->n; b0 += r.bmax) {
            const uint32_t nbat = d->n - b0 < r.bmax ? d->n - b0 : r.bmax;
            const size_t nn = (size_t) nbat * dv;
            for (uint32_t b = 0; b < nbat; b++) {
                const float *x0 = d->data + (size_t) (b0 + b) * dv;
                float *y = r.xt + (size_t) b * dv;
                dfx__noise_stream (d->seed, b0 + b, j + 1, dv, y);
                for (uint32_t i = 0; i < dv; i++)
                    y[i] = (float) (x0[i] + sigma * y[i]);
            }
            DFX_CHECK (dfx_buffer_upload (ctx, r.bx, 0, r.xt, nn * sizeof (float)));
            DFX_CHECK (mo->eval (mo, nbat, d->h, d->w, r.bx, sigma, r.bx0, r.bm));
            DFX_CHECK (dfx_buffer_download (ctx, r.bx0, 0, r.x0h, nn * sizeof (float)));
            DFX_CHECK (dfx_buffer_download (ctx, r.bm, 0, r.mh, nn * sizeof (float)));
            memset (fir, 0, nbat * sizeof *fir);
            for (uint32_t p = 0; p < d->probes; p++)
                DFX_CHECK (probe (&r, j, p, b0, nbat, fir));
            for (uint32_t b = 0; b < nbat; b++) {
                const size_t o = (size_t) b * dv;
                const float *x0 = d->data + (size_t) (b0 + b) * dv, *e = r.x0h + o, *m = r.mh + o, *y = r.xt + o;
                double trc = 0.0, sn = 0.0, err = 0.0;
                for (uint32_t i = 0; i < dv; i++) {
                    double c = (double) m[i] - (double) e[i] * e[i];
                    c = c < 0.0 ? 0.0 : (d->cmax > 0.0 && c > d->cmax ? d->cmax : c);
                    trc += c;
                    sn += ((double) e[i] - y[i]) * ((double) e[i] - y[i]);
                    err += ((double) x0[i] - e[i]) * ((double) x0[i] - e[i]);
                }
                const double jh = dv / tau - trc / (tau * tau);
                acc_add (&it.jh, jh);
                acc_add (&it.trc, trc);
                acc_add (&it.js, sn / (tau * tau));
                acc_add (&it.fir, fir[b]);
                acc_add (&it.mmse_direct, err);
                acc_add (&it.rate, dv - 2.0 * tau * jh + tau * tau * fir[b]);
            }
            done++;
            if (d->progress && d->progress ((double) done / work, d->progress_user)) {
                st = dfx__error (ctx, DFX_ERR_CANCELLED, "diagnose cancelled at level %u of %u", j + 1,
                                 d->n_sigmas);
                goto cleanup;
            }
        }
        dfx_diagnose_row *row = rows + j;
        memset (row, 0, sizeof *row);
        row->sigma = sigma, row->tau = tau;
        row->j_head = acc_mean (&it.jh), row->j_head_se = acc_se (&it.jh);
        row->j_score = acc_mean (&it.js), row->j_score_se = acc_se (&it.js);
        row->fir = acc_mean (&it.fir), row->fir_se = acc_se (&it.fir);
        /* τ d − τ² J_head = E tr C, summed as such (no cancellation at large τ) */
        row->mmse = acc_mean (&it.trc), row->mmse_se = acc_se (&it.trc);
        row->mmse_direct = acc_mean (&it.mmse_direct), row->mmse_direct_se = acc_se (&it.mmse_direct);
        row->mmse_rate = acc_mean (&it.rate), row->mmse_rate_se = acc_se (&it.rate);
        row->rate_d = dv, row->rate_j = -2.0 * tau * row->j_head, row->rate_fir = tau * tau * row->fir;
    }
cleanup:
    dfx_buffer_destroy (ctx, r.bx);
    dfx_buffer_destroy (ctx, r.bx0);
    dfx_buffer_destroy (ctx, r.bm);
    dfx_buffer_destroy (ctx, r.bp);
    dfx_buffer_destroy (ctx, r.bq);
    free (fir), free (r.xt), free (r.x0h), free (r.mh), free (r.vb), free (r.dp), free (r.dq), free (r.mv);
    return st;
}
