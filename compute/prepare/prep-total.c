/* prep-total.c — Gaussian statistics from the network and its own samples,
 * without the Gaussian premise (issue 23).
 *
 * For x̃ = x0 + σ̃ε and the exact denoiser D(x̃) = E[x0 | x̃], the law of
 * total covariance and Tweedie's second-order formula Cov(x0 | x̃) = σ̃² ∂D/∂x̃
 * give, for ANY data distribution and at every level σ̃,
 *     Cov(x0) = σ̃² E[A(x̃)] + Cov(D(x̃)),   A = ∂D/∂x̃.
 * (For Gaussian data σ̃² A = σ̃² Σ(Σ + σ̃²I)⁻¹ and Cov(D) = Σ(Σ + σ̃²I)⁻¹Σ,
 * which add up to Σ; prep-jacobian.c's σ̃² A(I − A)⁻¹ needs that premise,
 * this does not.)
 * On images x0_i the model generated, `draws` noised copies each:
 *   - μ: the images' mean;
 *   - D_j = D(x̃_j) for all copies, centred on their mean: Cov(D) explicit;
 *   - the operator v ↦ σ̃² A(x̃) v + Cov(D) v, A v by central differences at
 *     base points x0_i + σ̃ε (fresh ε per vector, cycling through the
 *     images), its top eigenpairs by subspace iteration (prep-range.c);
 *   - the residual from the ratio form of Hutchinson's estimate on the
 *     first pass's probes;
 *   - the spectrum: the per-bin blocks of σ̃² F E[A] Fᴴ from the probes
 *     (the Cov(D) part taken out first), plus the spectra of the centred D_j
 *     and of μ about its per-channel mean. */
#include "prepare-private.h"

#include <math.h>
#include <string.h>

typedef struct total_op {
    dfx__jac_op jac;
    double s2;
    uint32_t m;        /* outputs */
    const double *dc;  /* m × d, centred */
} total_op;

/* out += Cov(D) v = Σ_j dc_j (dc_j · v)/(m − 1) for n vectors. */
static void
cov_add (const total_op *o, size_t d, uint32_t n, const double *v, double *out, double sign)
{
    for (uint32_t k = 0; k < n; k++)
        for (uint32_t j = 0; j < o->m; j++) {
            const double *dj = o->dc + (size_t) j * d;
            double p = 0.0;
            for (size_t i = 0; i < d; i++)
                p += dj[i] * v[k * d + i];
            p *= sign / (double) (o->m - 1);
            for (size_t i = 0; i < d; i++)
                out[k * d + i] += p * dj[i];
        }
}

static dfx_status
total_apply (void *user, uint32_t n, const double *v, double *out)
{
    total_op *o = user;
    const size_t d = o->jac.e->d;
    dfx_status st = dfx__jac_apply (&o->jac, n, v, out);
    if (st != DFX_OK)
        return st;
    for (size_t i = 0; i < n * d; i++)
        out[i] *= o->s2;
    cov_add (o, d, n, v, out, 1.0);
    return DFX_OK;
}

static double
nonnegative (double a, const void *arg)
{
    (void) arg;
    return a > 0.0 ? a : 0.0;
}

/* The images as doubles, the noised copies and the network on them: m
 * outputs centred on their mean (dc), that mean removed. */
static dfx_status
denoised_copies (dfx__prep_eval *e, double sigma, uint32_t n, const float *x0, uint32_t draws, uint64_t seed,
                 double *dc, float *noise, double *mean_out)
{
    const size_t d = e->d;
    const uint32_t m = n * draws, b = e->batch;
    double *in = malloc ((size_t) b * d * sizeof *in), *mean = calloc (d, sizeof *mean);
    dfx_status st = DFX_OK;
    if (!in || !mean) {
        st = dfx__error (e->den->ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (denoised copies)");
        goto cleanup;
    }
    for (uint32_t j0 = 0; j0 < m; j0 += b) {
        const uint32_t nb = m - j0 < b ? m - j0 : b;
        for (uint32_t j = 0; j < nb; j++) {
            const float *x = x0 + (size_t) ((j0 + j) % n) * d;
            dfx__noise_stream (seed, j0 + j, 11, d, noise);
            for (size_t i = 0; i < d; i++)
                in[j * d + i] = x[i] + sigma * noise[i];
        }
        DFX_CHECK (dfx__prep_eval_run (e, nb, in, sigma, dc + (size_t) j0 * d));
    }
    for (uint32_t j = 0; j < m; j++)
        for (size_t i = 0; i < d; i++)
            mean[i] += dc[(size_t) j * d + i] / m;
    for (uint32_t j = 0; j < m; j++)
        for (size_t i = 0; i < d; i++)
            dc[(size_t) j * d + i] -= mean[i];
    if (mean_out)
        memcpy (mean_out, mean, d * sizeof *mean);
cleanup:
    free (in), free (mean);
    return st;
}

static double *
image_centres (uint32_t n, size_t d, const float *x0)
{
    double *c = malloc ((size_t) n * d * sizeof *c);
    for (size_t i = 0; c && i < n * d; i++)
        c[i] = x0[i];
    return c;
}

dfx_status
dfx__gauss_from_samples (dfx__prep_eval *e, const dfx__jac_params *p, uint32_t n, const float *x0, uint32_t draws,
                         dfx__gauss_stats **out, dfx__jac_report *rep)
{
    *out = NULL;
    dfx_ctx *ctx = e->den->ctx;
    const uint32_t c = e->den->channels, h = e->h, w = e->w;
    const size_t d = e->d, hw = (size_t) h * w;
    if (!(p->sigma > 0.0) || !(p->fd_step > 0.0) || p->rank == 0 || p->rank >= d || draws == 0 || n * draws < 2)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT,
                           "statistics from samples: sigma %g, step %g, rank %u (of %zu) and %u images x %u draws "
                           "must be positive, the rank below the dimension, at least 2 copies", p->sigma,
                           p->fd_step, p->rank, d, n, draws);
    const uint32_t m = n * draws;
    dfx__range_result rr;
    memset (&rr, 0, sizeof rr);
    total_op op;
    memset (&op, 0, sizeof op);
    dfx__gauss_stats *g = calloc (1, sizeof *g);
    double *dc = malloc ((size_t) m * d * sizeof *dc), *centres = image_centres (n, d, x0), *ya = NULL, *aspec = NULL,
           *work = NULL;
    float *noise = malloc (d * sizeof *noise);
    double *dmean = malloc (d * sizeof *dmean);
    dfx_status st = DFX_OK;
    if (!g || !dc || !centres || !noise || !dmean) {
        st = dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (statistics of %u images)", n);
        goto cleanup;
    }
    DFX_CHECK (denoised_copies (e, p->sigma, n, x0, draws, p->seed ^ 0x7f4a7c15u, dc, noise, dmean));
    DFX_CHECK (dfx__jac_op_init (&op.jac, e, p->sigma, p->fd_step * p->sigma, centres, n, p->seed));
    op.jac.avg = p->avg;
    op.s2 = p->sigma * p->sigma, op.m = m, op.dc = dc;
    DFX_CHECK (dfx__range_find (ctx, total_apply, &op, d, p->rank, p->oversample, p->iters, p->seed, &rr));
    const uint32_t r = rr.rank;

    /* Hutchinson on the first pass, as in prep-jacobian.c; and the two traces. */
    double tr, trp, nperp;
    dfx__range_traces (&rr, d, &tr, &trp, &nperp);
    double trc = 0.0;
    for (size_t i = 0; i < (size_t) m * d; i++)
        trc += dc[i] * dc[i];
    trc /= (double) (m - 1);

    g->channels = c, g->height = h, g->width = w, g->rank = r, g->has_pca = 1, g->mode = DFX_SKIP_PCA;
    g->eigval = rr.vals, g->comps = rr.vecs, rr.vals = rr.vecs = NULL;
    for (uint32_t k = 0; k < r; k++)
        g->eigval[k] = g->eigval[k] > 0.0 ? g->eigval[k] : 0.0;
    g->residual = nperp > 0.0 && trp > 0.0 ? trp / nperp : 0.0;
    if (!(g->mean = calloc (d, sizeof *g->mean))) {
        st = dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (statistics)");
        goto cleanup;
    }
    if (p->mean_outputs) /* E[D(x̃)] = E[x0] (the tower property) */
        memcpy (g->mean, dmean, d * sizeof *dmean);
    else
        for (uint32_t j = 0; j < n; j++)
            for (size_t i = 0; i < d; i++)
                g->mean[i] += centres[(size_t) j * d + i] / n;

    /* The stationary form: σ̃² A's blocks from the probes, y − Cov(D) ω. */
    const size_t cc2 = 2 * (size_t) c * c, mx = h > w ? h : w;
    ya = malloc ((size_t) rr.probes * d * sizeof *ya), aspec = malloc (hw * cc2 * sizeof *aspec);
    work = malloc ((2 * hw * c + 4 * mx) * sizeof *work);
    g->spec_cov = calloc (hw * cc2, sizeof *g->spec_cov), g->spec_mean = calloc (c, sizeof *g->spec_mean);
    if (!ya || !aspec || !work || !g->spec_cov || !g->spec_mean) {
        st = dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (spectrum)");
        goto cleanup;
    }
    memcpy (ya, rr.y, (size_t) rr.probes * d * sizeof *ya);
    cov_add (&op, d, rr.probes, rr.omega, ya, -1.0);
    double trj = 0.0;
    for (size_t i = 0; i < (size_t) rr.probes * d; i++)
        trj += rr.omega[i] * ya[i];
    DFX_CHECK (dfx__spectrum_from_probes (ctx, c, h, w, rr.probes, rr.omega, ya, aspec));
    for (size_t k = 0; k < hw; k++)
        dfx__hermitian_function ((int) c, aspec + k * cc2, nonnegative, NULL, g->spec_cov + k * cc2);
    double *tmp = calloc (hw * cc2, sizeof *tmp);
    if (!tmp) {
        st = dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (spectrum)");
        goto cleanup;
    }
    for (uint32_t j = 0; j < m; j++)
        dfx__spectrum_accumulate (c, h, w, dc + (size_t) j * d, NULL, tmp, work);
    for (size_t i = 0; i < hw * cc2; i++)
        g->spec_cov[i] += tmp[i] / (double) (m - 1);
    free (tmp);
    for (uint32_t a = 0; a < c; a++) {
        for (size_t i = 0; i < hw; i++)
            g->spec_mean[a] += g->mean[a * hw + i];
        g->spec_mean[a] /= (double) hw;
    }
    dfx__spectrum_accumulate (c, h, w, g->mean, g->spec_mean, g->spec_cov, work);
    g->has_spectral = 1;
    if (rep) {
        memset (rep, 0, sizeof *rep);
        rep->trace_a = tr / rr.probes, rep->trace_perp = trp / rr.probes;
        rep->trace_cov = trc, rep->trace_jac = trj / rr.probes;
    }
    *out = g;
    g = NULL;
cleanup:
    dfx__gauss_stats_free (g);
    dfx__range_result_free (&rr);
    dfx__jac_op_free (&op.jac);
    free (dc), free (centres), free (ya), free (aspec), free (work), free (noise), free (dmean);
    return st;
}

dfx_status
dfx__gauss_draws (const dfx__gauss_stats *g, uint32_t n, uint64_t seed, float *x)
{
    const size_t d = (size_t) g->channels * g->height * g->width;
    const double sres = sqrt (g->residual > 0.0 ? g->residual : 0.0);
    float *z = malloc (d * sizeof *z);
    double *v = malloc (d * sizeof *v);
    if (!z || !v) {
        free (z), free (v);
        return DFX_ERR_OUT_OF_HOST_MEMORY;
    }
    for (uint32_t j = 0; j < n; j++) {
        dfx__noise_stream (seed, j, 13, d, z);
        for (size_t i = 0; i < d; i++)
            v[i] = g->mean[i] + sres * z[i];
        for (uint32_t k = 0; k < g->rank; k++) {
            const double *u = g->comps + k * d;
            double pk = 0.0;
            for (size_t i = 0; i < d; i++)
                pk += u[i] * z[i];
            pk *= sqrt (g->eigval[k] > 0.0 ? g->eigval[k] : 0.0) - sres;
            for (size_t i = 0; i < d; i++)
                v[i] += pk * u[i];
        }
        for (size_t i = 0; i < d; i++)
            x[(size_t) j * d + i] = (float) v[i];
    }
    free (z), free (v);
    return DFX_OK;
}

dfx_status
dfx__gauss_total_check (dfx__prep_eval *e, const dfx__gauss_stats *g, double sigma, double fd_step, uint32_t n,
                        uint32_t pairs, uint32_t n_img, const float *x0, uint64_t seed, double *lambda)
{
    dfx_ctx *ctx = e->den->ctx;
    const size_t d = e->d;
    if (n > g->rank)
        n = g->rank;
    if (pairs == 0)
        pairs = 1;
    const uint32_t rows = n * pairs;
    dfx__jac_op op;
    memset (&op, 0, sizeof op);
    double *centres = image_centres (n_img, d, x0), *v = malloc ((size_t) rows * d * sizeof *v),
           *y = malloc ((size_t) rows * d * sizeof *y), *dc = malloc ((size_t) n_img * d * sizeof *dc);
    float *noise = malloc (d * sizeof *noise);
    dfx_status st = DFX_OK;
    if (!centres || !v || !y || !dc || !noise || n_img < 2) {
        st = dfx__error (ctx, n_img < 2 ? DFX_ERR_INVALID_ARGUMENT : DFX_ERR_OUT_OF_HOST_MEMORY,
                         n_img < 2 ? "identity check: at least 2 images" : "out of host memory (identity check)");
        goto cleanup;
    }
    DFX_CHECK (denoised_copies (e, sigma, n_img, x0, 1, seed ^ 0x2545f491u, dc, noise, NULL));
    DFX_CHECK (dfx__jac_op_init (&op, e, sigma, fd_step * sigma, centres, n_img, seed ^ 0x5bd1e995u));
    for (uint32_t j = 0; j < rows; j++)
        memcpy (v + j * d, g->comps + (j % n) * d, d * sizeof *v);
    DFX_CHECK (dfx__jac_apply (&op, rows, v, y));
    for (uint32_t k = 0; k < n; k++) {
        double a = 0.0, var = 0.0;
        for (uint32_t j = k; j < rows; j += n)
            for (size_t i = 0; i < d; i++)
                a += v[j * d + i] * y[j * d + i];
        for (uint32_t j = 0; j < n_img; j++) {
            double pj = 0.0;
            for (size_t i = 0; i < d; i++)
                pj += g->comps[k * d + i] * dc[(size_t) j * d + i];
            var += pj * pj;
        }
        lambda[k] = sigma * sigma * a / pairs + var / (n_img - 1);
    }
cleanup:
    dfx__jac_op_free (&op);
    free (centres), free (v), free (y), free (dc), free (noise);
    return st;
}
