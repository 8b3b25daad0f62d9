/* likelihood.c — the DF-TM PF-ODE log-likelihood (see likelihood-private.h):
 * Dormand–Prince 5(4) with step-size control, or fixed-step Heun, over
 * u = ln σ̃ from σ̃_min to σ̃_max (the exponential multistep solver is
 * lik-exp.c).
 *
 * The state Y = [x̃ | a] (2n floats, n = batch·d) holds the trajectory and the
 * per-value divergence integrals a_i = ∫ (1 − C_ii/σ̃²) du; a stage K = [x̃ −
 * x̂0 | 1 − C/σ̃²] needs one moments evaluation (network + Fisher head).  Every
 * vector update is a lincomb dispatch; the error norm reads two sums.
 */
#include "likelihood-private.h"
#include "../ops/ops-fisher.h"
#include "../ops/ops-sample.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif
#ifndef M_LN2
#define M_LN2 0.69314718055994530942
#endif

typedef dfx__lik_run run;

/* Appends (u, Σ_i K_i) over the divergence half of the stage K to the
 * profile (reads it back). */
dfx_status
dfx__lik_profile (run *r, double u, dfx_buffer *K, dfx__lik_stats *s)
{
    if (s->profile_count >= DFX__LIK_PROFILE_MAX)
        return DFX_OK;
    dfx_status st = dfx_buffer_download (r->ctx, K, r->n * sizeof (float), r->host, r->n * sizeof (float));
    if (st != DFX_OK)
        return st;
    double sum = 0.0;
    for (size_t i = 0; i < r->n; i++)
        sum += r->host[i];
    s->profile_u[s->profile_count] = u;
    s->profile_div[s->profile_count++] = sum;
    return DFX_OK;
}

/* K ← f(Y) at u.  div 0: the drift x̃ − x̂0 alone (the score network; the
 * divergence half of K zeroed), for a stage whose divergence no quadrature
 * weight uses; div 2: the divergence half alone where a variance-ratio head
 * gives C without the score network (the drift half left as it was), else
 * both. */
static dfx_status
stage_div (run *r, dfx_buffer *Yin, double u, dfx_buffer *K, int div)
{
    const dfx__lik_desc *d = r->d;
    double sigma = exp (u);
    dfx_status st;
    if (div == 2 && !r->fd && d->mo->eval_var && d->mo->network_ratio) {
        /* the divergence alone, from a variance-ratio head: 1 − C/σ̃², C = σ̃² r in r->m */
        st = d->mo->eval_var (d->mo, d->batch, d->h, d->w, Yin, sigma, r->m);
        if (st == DFX_OK)
            d->mo->head_evals++;
        if (st == DFX_OK)
            st = dfx__lincomb (r->ctx, K, r->n, (float) (-1.0 / (sigma * sigma)), r->m, 0, 0.0f, NULL, 0, 1.0f, r->n);
        return st;
    }
    if (!div && d->mo->eval_mean) {
        st = d->mo->eval_mean (d->mo, d->batch, d->h, d->w, Yin, sigma, r->x0);
        if (st == DFX_OK)
            st = dfx__lincomb (r->ctx, K, 0, 1.0f, Yin, 0, -1.0f, r->x0, 0, 0.0f, r->n);
        if (st == DFX_OK)
            st = dfx__lincomb (r->ctx, K, r->n, 0.0f, K, r->n, 0.0f, NULL, 0, 0.0f, r->n);
        return st;
    }
    if (r->fd) {
        st = d->mo->eval_mean ? d->mo->eval_mean (d->mo, d->batch, d->h, d->w, Yin, sigma, r->x0)
                              : d->mo->eval (d->mo, d->batch, d->h, d->w, Yin, sigma, r->x0, r->m);
        if (st == DFX_OK)
            st = dfx__lincomb (r->ctx, K, 0, 1.0f, Yin, 0, -1.0f, r->x0, 0, 0.0f, r->n);
        if (st == DFX_OK)
            st = dfx__trace_fd_div (r->fd, Yin, sigma, K, r->n);
        return st;
    }
    st = d->mo->eval (d->mo, d->batch, d->h, d->w, Yin, sigma, r->x0, r->m);
    if (st == DFX_OK)
        st = dfx__lincomb (r->ctx, K, 0, 1.0f, Yin, 0, -1.0f, r->x0, 0, 0.0f, r->n);
    if (st == DFX_OK)
        st = d->mo->network_ratio
                 ? dfx__dftm_div (r->ctx, K, r->n, r->x0, 0, r->m, 0, sigma, -INFINITY, INFINITY, r->n)
                 : dfx__dftm_div (r->ctx, K, r->n, r->x0, 0, r->m, 0, sigma, 0.0,
                                  d->clamp_sigma ? fmin (d->cmax, sigma * sigma) : d->cmax, r->n);
    return st;
}

dfx_status
dfx__lik_stage (run *r, dfx_buffer *Yin, double u, dfx_buffer *K)
{
    return stage_div (r, Yin, u, K, 1);
}

dfx_status
dfx__lik_stage_div (run *r, dfx_buffer *Yin, double u, dfx_buffer *K)
{
    return stage_div (r, Yin, u, K, 2);
}

/* out = Y + h Σ_j a[j] K[j] over the stages with a[j] ≠ 0. */
static dfx_status
combine (run *r, dfx_buffer *out, dfx_buffer *Y, double h, const double *a, int count)
{
    dfx_status st = dfx__lincomb (r->ctx, out, 0, 1.0f, Y, 0, 0.0f, NULL, 0, 0.0f, 2 * r->n);
    for (int j = 0; j < count && st == DFX_OK; j++)
        if (a[j] != 0.0)
            st = dfx__lincomb (r->ctx, out, 0, 1.0f, out, 0, (float) (h * a[j]), r->K[j], 0, 0.0f, 2 * r->n);
    return st;
}

/* The error estimate of the step's divergence integral (E's second half)
 * summed over each item's values, in bits/dim of that item: the largest
 * over the batch.  The state's RMS norm cannot see it: at large σ̃ it is
 * set by x̃ ≈ σ̃ (BENCHMARKS.md issue 20). */
static dfx_status
integral_error (run *r, double *bits)
{
    const size_t dv = r->n / r->d->batch;
    dfx_status st = dfx_buffer_download (r->ctx, r->E, r->n * sizeof (float), r->host, r->n * sizeof (float));
    *bits = 0.0;
    for (uint32_t b = 0; b < r->d->batch && st == DFX_OK; b++) {
        double sum = 0.0;
        for (size_t i = 0; i < dv; i++)
            sum += r->host[b * dv + i];
        *bits = fmax (*bits, fabs (sum) / ((double) dv * M_LN2));
    }
    return st;
}

/* Dormand–Prince 5(4) tableau. */
static const double C[7] = {0, 1.0 / 5, 3.0 / 10, 4.0 / 5, 8.0 / 9, 1, 1};
static const double A[7][6] = {
    {0},
    {1.0 / 5},
    {3.0 / 40, 9.0 / 40},
    {44.0 / 45, -56.0 / 15, 32.0 / 9},
    {19372.0 / 6561, -25360.0 / 2187, 64448.0 / 6561, -212.0 / 729},
    {9017.0 / 3168, -355.0 / 33, 46732.0 / 5247, 49.0 / 176, -5103.0 / 18656},
    {35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84},
};
static const double B5[7] = {35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84, 0};
static const double B4[7] = {5179.0 / 57600, 0, 7571.0 / 16695, 393.0 / 640, -92097.0 / 339200, 187.0 / 2100,
                             1.0 / 40};

static dfx_status
integrate_rk45 (run *r, double u0, double u1, dfx__lik_stats *s)
{
    const dfx__lik_desc *d = r->d;
    dfx_status st = dfx__lik_stage (r, r->Y, u0, r->K[0]);
    double u = u0, h = (u1 - u0) / 64.0;
    double berr[7];
    for (int j = 0; j < 7; j++)
        berr[j] = B5[j] - B4[j];
    while (st == DFX_OK && u < u1 - 1e-12 * fabs (u1)) {
        if (u + h > u1)
            h = u1 - u;
        for (int i = 1; i < 7 && st == DFX_OK; i++) {
            st = combine (r, r->T, r->Y, h, A[i], i);
            /* Neither the 5th- nor the 4th-order weights use stage 2's divergence. */
            if (st == DFX_OK)
                st = stage_div (r, r->T, u + C[i] * h, r->K[i], B5[i] != 0.0 || B4[i] != 0.0);
        }
        /* T holds the 5th-order solution (stage 7 is evaluated there: FSAL). */
        double e2 = 0.0, y2 = 0.0;
        if (st == DFX_OK) {
            st = dfx__lincomb (r->ctx, r->E, 0, 0.0f, r->E, 0, 0.0f, NULL, 0, 0.0f, 2 * r->n);
            for (int j = 0; j < 7 && st == DFX_OK; j++)
                if (berr[j] != 0.0)
                    st = dfx__lincomb (r->ctx, r->E, 0, 1.0f, r->E, 0, (float) (h * berr[j]), r->K[j], 0, 0.0f,
                                       2 * r->n);
        }
        if (st == DFX_OK)
            st = dfx_op_sumsq (r->ctx, r->E, 2 * r->n, &e2);
        if (st == DFX_OK)
            st = dfx_op_sumsq (r->ctx, r->T, 2 * r->n, &y2);
        if (st != DFX_OK)
            break;
        double scale = d->atol + d->rtol * sqrt (y2 / (2.0 * r->n));
        double err = sqrt (e2 / (2.0 * r->n)) / scale;
        if (d->bits_tol > 0.0) {
            double eb;
            st = integral_error (r, &eb);
            if (st != DFX_OK)
                break;
            err = fmax (err, eb / d->bits_tol);
        }
        if (!isfinite (err)) {
            st = dfx__error (r->ctx, DFX_ERR_INVALID_ARGUMENT, "likelihood ODE diverged at σ̃ = %g", exp (u));
            break;
        }
        if (err <= 1.0) {
            /* The integrand at the step's nodes (stage 2's divergence is not computed). */
            for (int j = s->steps ? 2 : 0; j < 7 && st == DFX_OK; j += j ? 1 : 2)
                st = dfx__lik_profile (r, u + C[j] * h, r->K[j], s);
            if (st != DFX_OK)
                break;
            /* Accept: Y ← T, K[0] ← K[6]. */
            dfx_buffer *t = r->Y;
            r->Y = r->T, r->T = t;
            t = r->K[0];
            r->K[0] = r->K[6], r->K[6] = t;
            u += h;
            s->steps++;
            if (d->progress && d->progress ((u - u0) / (u1 - u0), d->progress_user)) {
                st = dfx__error (r->ctx, DFX_ERR_CANCELLED, "likelihood cancelled");
                break;
            }
        } else {
            s->rejected++;
        }
        double fac = err > 0.0 ? 0.9 * pow (err, -0.2) : 5.0;
        h *= fmin (5.0, fmax (0.2, fac));
        if (s->steps + s->rejected > 100000) {
            st = dfx__error (r->ctx, DFX_ERR_INVALID_ARGUMENT, "likelihood ODE needs more than 100000 steps");
            break;
        }
    }
    return st;
}

static dfx_status
integrate_heun (run *r, double u0, double u1, dfx__lik_stats *s)
{
    const uint32_t n = r->d->steps;
    const double h = (u1 - u0) / n;
    dfx_status st = DFX_OK;
    for (uint32_t i = 0; i < n && st == DFX_OK; i++) {
        double u = u0 + i * h;
        static const double a1[1] = {1.0}, a2[2] = {0.5, 0.5};
        st = dfx__lik_stage (r, r->Y, u, r->K[0]);
        if (st == DFX_OK)
            st = combine (r, r->T, r->Y, h, a1, 1);
        if (st == DFX_OK)
            st = dfx__lik_stage (r, r->T, u + h, r->K[1]);
        if (st == DFX_OK)
            st = combine (r, r->T, r->Y, h, a2, 2);
        if (st == DFX_OK) {
            dfx_buffer *t = r->Y;
            r->Y = r->T, r->T = t;
            s->steps++;
            st = dfx__lik_profile (r, u, r->K[0], s);
            if (st == DFX_OK)
                st = dfx__lik_profile (r, u + h, r->K[1], s);
            if (st == DFX_OK && r->d->progress && r->d->progress ((double) (i + 1) / n, r->d->progress_user))
                st = dfx__error (r->ctx, DFX_ERR_CANCELLED, "likelihood cancelled");
        }
    }
    return st;
}

dfx_status
dfx__likelihood (const dfx__lik_desc *d, dfx_buffer *x, double *logp, double *map, dfx__lik_stats *stats)
{
    dfx_ctx *ctx = d->mo->ctx;
    dfx__lik_stats local = {0};
    dfx__lik_stats *s = stats ? stats : &local;
    memset (s, 0, sizeof *s);
    const uint64_t dv = (uint64_t) d->mo->channels * d->h * d->w;
    const uint64_t n = dv * d->batch;
    if (!d->batch || !dv || n > (1u << 28) || !(d->sigma_min > 0.0) || !(d->sigma_max > d->sigma_min) ||
        ((d->solver == DFX__ODE_HEUN || d->solver == DFX__ODE_EXP) && (d->steps < 1 || d->steps > 100000)) ||
        (d->solver == DFX__ODE_RK45 && !(d->rtol > 0.0 && d->atol > 0.0)))
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT,
                           "likelihood: batch %u of %llu values, σ̃ %g…%g, steps %u, rtol %g, atol %g", d->batch,
                           (unsigned long long) dv, d->sigma_min, d->sigma_max, d->steps, d->rtol, d->atol);
    run r = {.d = d, .ctx = ctx, .n = (size_t) n};
    dfx_status st = DFX_OK;
    float *host = NULL;
    double *pterm = NULL;
    dfx_buffer *bufs[12] = {0};
    int nb = 0;
    uint32_t evals0 = d->mo->evals;
    const size_t sizes[12] = {n, n, 2 * n, 2 * n, 2 * n, 2 * n, 2 * n, 2 * n, 2 * n, 2 * n, 2 * n, 2 * n};
    for (nb = 0; nb < 12 && st == DFX_OK; nb++)
        st = dfx_buffer_create (ctx, sizes[nb] * sizeof (float), &bufs[nb]);
    if (st != DFX_OK)
        goto cleanup;
    r.x0 = bufs[0], r.m = bufs[1], r.Y = bufs[2], r.T = bufs[3], r.E = bufs[4];
    if (d->trace != DFX_TRACE_DFTM)
        DFX_CHECK (dfx__trace_fd_create (d->mo, d->trace, d->probes, d->probe_seed, d->batch, d->h, d->w, &r.fd));
    for (int j = 0; j < 7; j++)
        r.K[j] = bufs[5 + j];
    /* Y = [x | 0] */
    DFX_CHECK (dfx__lincomb (ctx, r.Y, 0, 1.0f, x, 0, 0.0f, NULL, 0, 0.0f, r.n));
    DFX_CHECK (dfx__lincomb (ctx, r.Y, r.n, 0.0f, r.Y, r.n, 0.0f, NULL, 0, 0.0f, r.n));
    const double u0 = log (d->sigma_min), u1 = log (d->sigma_max);
    if (!(r.host = malloc (r.n * sizeof *r.host))) {
        st = dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (likelihood profile)");
        goto cleanup;
    }
    DFX_CHECK (d->solver == DFX__ODE_HEUN  ? integrate_heun (&r, u0, u1, s)
               : d->solver == DFX__ODE_EXP ? dfx__lik_integrate_exp (&r, u0, u1, s)
                                           : integrate_rk45 (&r, u0, u1, s));
    s->evals = d->mo->evals - evals0;
    host = malloc (2 * r.n * sizeof (float));
    if (!host) {
        st = dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (likelihood)");
        goto cleanup;
    }
    DFX_CHECK (dfx_buffer_download (ctx, r.Y, 0, host, 2 * r.n * sizeof (float)));
    DFX_CHECK (dfx__lincomb (ctx, x, 0, 1.0f, r.Y, 0, 0.0f, NULL, 0, 0.0f, r.n));
    const double s2 = d->sigma_max * d->sigma_max;
    if (d->prior) {
        pterm = malloc (r.n * sizeof *pterm);
        if (!pterm) {
            st = dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (likelihood)");
            goto cleanup;
        }
        DFX_CHECK (d->prior (d->prior_user, d->batch, host, d->sigma_max, pterm));
    }
    for (uint32_t b = 0; b < d->batch; b++) {
        double total = 0.0;
        for (uint64_t i = 0; i < dv; i++) {
            size_t k = (size_t) (b * dv + i);
            double term;
            double prior;
            if (pterm) {
                prior = pterm[k];
            } else {
                double mu = d->prior_mean ? d->prior_mean[i] : 0.0;
                double var = (d->prior_var ? d->prior_var[i] : 1.0) + s2;
                double e = host[k] - mu;
                prior = -0.5 * (e * e / var + log (2.0 * M_PI * var));
            }
            s->prior += prior;
            term = prior + host[r.n + k];
            if (map)
                map[k] = term;
            total += term;
        }
        logp[b] = total;
    }
    DFX_CHECK (dfx_ctx_flush (ctx));
cleanup:
    free (host);
    free (pterm);
    free (r.host);
    dfx__trace_fd_destroy (r.fd);
    for (int i = 0; i < 12; i++)
        dfx_buffer_destroy (ctx, bufs[i]);
    return st;
}
