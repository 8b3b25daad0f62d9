/* prep-jacobian.c — Gaussian statistics from the network alone (issue 23).
 *
 * If the data were N(μ, Σ), the denoiser at noise σ̃ would be linear,
 * D(x̃) = μ + A(x̃ − μ) with A = Σ(Σ + σ̃²I)⁻¹, and Σ = σ̃² A(I − A)⁻¹ exactly.
 * MATH.md's premise is that a trained network is that denoiser at high
 * noise.  So, at one level σ̃:
 *   - m̂ = mean of (D(σ̃ε) + D(−σ̃ε))/2 over antithetic noise pairs = (I − A)μ
 *     (the linear part cancels pair by pair);
 *   - A v by central differences (D(b + hv̂) − D(b − hv̂))/(2h)·‖v‖, h a
 *     multiple of σ̃, at base points b = m̂ + σ̃ε (fresh ε per vector: the
 *     Jacobian averaged over the noise); its top eigenpairs (a_k, u_k) by
 *     subspace iteration (prep-range.c), λ_k = σ̃² a_k/(1 − a_k);
 *   - tr(P⊥A) by Hutchinson on the first pass's Gaussian probes (in ratio
 *     form), the residual λ_res from its mean a_res over the complement;
 *   - μ = (I − A)⁻¹ m̂ in that low-rank form, refined by one Newton step
 *     with a second mean pass centred there;
 *   - the stationary form: the per-frequency block of F A Fᴴ from the same
 *     probes, S(k) = σ̃² a(k)(I − a(k))⁻¹, plus the spectrum of μ about its
 *     per-channel mean (GAUSSIAN.md takes S about m_c).
 * Exact, up to float32 rounding, for a Gaussian denoiser; for a network its
 * quality is what the premise check and the calibration measure. */
#include "prepare-private.h"

#include <math.h>
#include <string.h>

#define A_MAX (1.0 - 1e-9)

dfx_status
dfx__jac_op_init (dfx__jac_op *o, dfx__prep_eval *e, double sigma, double h, const double *base, uint32_t nbase,
                  uint64_t seed)
{
    memset (o, 0, sizeof *o);
    o->e = e, o->sigma = sigma, o->h = h, o->base = base, o->nbase = nbase ? nbase : 1, o->seed = seed;
    o->noise = malloc (e->d * sizeof *o->noise);
    if (!o->noise)
        return dfx__error (e->den->ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (Jacobian probes)");
    return DFX_OK;
}

dfx_status
dfx__jac_apply (void *user, uint32_t n, const double *v, double *out)
{
    dfx__jac_op *o = user;
    const size_t d = o->e->d;
    const uint32_t avg = o->avg ? o->avg : 1, rows = n * avg;
    dfx_ctx *ctx = o->e->den->ctx;
    if (o->cap < rows) {
        free (o->in), free (o->out);
        o->in = malloc (2 * (size_t) rows * d * sizeof *o->in), o->out = malloc (2 * (size_t) rows * d * sizeof *o->out);
        o->cap = rows;
        if (!o->in || !o->out) {
            o->cap = 0;
            return dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (%u Jacobian probes)", rows);
        }
    }
    double *nrm = malloc (n * sizeof *nrm);
    if (!nrm)
        return dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (%u Jacobian probes)", n);
    for (uint32_t j = 0; j < n; j++) {
        const double *vj = v + j * d;
        double s = 0.0;
        for (size_t i = 0; i < d; i++)
            s += vj[i] * vj[i];
        nrm[j] = sqrt (s);
        const double step = nrm[j] > 0.0 ? o->h / nrm[j] : 0.0;
        for (uint32_t l = 0; l < avg; l++) {
            const double *c = o->base ? o->base + (size_t) (o->counter % o->nbase) * d : NULL;
            dfx__noise_stream (o->seed, o->counter++, 7, d, o->noise);
            double *p = o->in + 2 * ((size_t) j * avg + l) * d, *m = p + d;
            for (size_t i = 0; i < d; i++) {
                const double b = (c ? c[i] : 0.0) + o->sigma * o->noise[i];
                p[i] = b + step * vj[i];
                m[i] = b - step * vj[i];
            }
        }
    }
    dfx_status st = dfx__prep_eval_run (o->e, 2 * rows, o->in, o->sigma, o->out);
    for (uint32_t j = 0; st == DFX_OK && j < n; j++) {
        const double f = nrm[j] > 0.0 ? nrm[j] / (2.0 * o->h * avg) : 0.0;
        double *oj = out + (size_t) j * d;
        memset (oj, 0, d * sizeof *oj);
        for (uint32_t l = 0; l < avg; l++) {
            const double *p = o->out + 2 * ((size_t) j * avg + l) * d, *m = p + d;
            for (size_t i = 0; i < d; i++)
                oj[i] += (p[i] - m[i]) * f;
        }
    }
    free (nrm);
    return st;
}

void
dfx__jac_op_free (dfx__jac_op *o)
{
    free (o->in), free (o->out), free (o->noise);
    memset (o, 0, sizeof *o);
}

/* σ̃² a/(1 − a) for a Jacobian eigenvalue a.  arg: {σ̃², a_max}.  A Gaussian
 * has 0 ≤ a < 1; a network can give a ≥ 1 where its posterior is not
 * Gaussian (a premise failure), so a is clamped to a_max = d/(d + σ̃²): data
 * on [−1, 1] have tr Σ ≤ d, hence no eigenvalue above d. */
static double
sigma2_ratio (double a, const void *arg)
{
    const double s2 = ((const double *) arg)[0], amax = ((const double *) arg)[1];
    a = a < 0.0 ? 0.0 : a > amax ? amax : a;
    return s2 * a / (1.0 - a);
}

/* m̂ = mean over pairs of (D(b + σ̃ε) + D(b − σ̃ε))/2 (b = 0 when NULL). */
static dfx_status
mean_pass (dfx__prep_eval *e, const double *base, double sigma, uint32_t pairs, uint64_t seed, float *noise,
           double *mhat)
{
    const size_t d = e->d;
    dfx_ctx *ctx = e->den->ctx;
    double *in = malloc (2 * d * sizeof *in), *out = malloc (2 * d * sizeof *out);
    dfx_status st = DFX_OK;
    if (!in || !out) {
        st = dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (mean)");
        goto cleanup;
    }
    memset (mhat, 0, d * sizeof *mhat);
    for (uint32_t j = 0; j < pairs; j++) {
        dfx__noise_stream (seed, j, 5, d, noise);
        for (size_t i = 0; i < d; i++)
            in[i] = (base ? base[i] : 0.0) + sigma * noise[i], in[d + i] = (base ? base[i] : 0.0) - sigma * noise[i];
        DFX_CHECK (dfx__prep_eval_run (e, 2, in, sigma, out));
        for (size_t i = 0; i < d; i++)
            mhat[i] += 0.5 * (out[i] + out[d + i]) / pairs;
    }
cleanup:
    free (in), free (out);
    return st;
}

/* out += (I − A)⁻¹ v for A = U diag(a) Uᵀ + a_res (I − UUᵀ):
 * v + U diag(a/(1 − a)) Uᵀ v + c_res (I − UUᵀ) v, c_res = a_res/(1 − a_res). */
static void
inverse_add (uint32_t r, size_t d, const double *u, const double *a, double ares, const double *v, double *out,
             double *proj)
{
    const double cres = ares / (1.0 - ares);
    for (size_t i = 0; i < d; i++)
        out[i] += (1.0 + cres) * v[i];
    for (uint32_t k = 0; k < r; k++) {
        const double *uk = u + k * d, ak = a[k] < 0.0 ? 0.0 : a[k] > A_MAX ? A_MAX : a[k];
        double pk = 0.0;
        for (size_t i = 0; i < d; i++)
            pk += uk[i] * v[i];
        proj[k] = pk * (ak / (1.0 - ak) - cres);
        for (size_t i = 0; i < d; i++)
            out[i] += proj[k] * uk[i];
    }
}

dfx_status
dfx__gauss_from_network (dfx__prep_eval *e, const dfx__jac_params *p, dfx__gauss_stats **out, dfx__jac_report *rep)
{
    *out = NULL;
    dfx_ctx *ctx = e->den->ctx;
    const uint32_t c = e->den->channels, h = e->h, w = e->w;
    const size_t d = e->d, hw = (size_t) h * w;
    if (!(p->sigma > 0.0) || !(p->fd_step > 0.0) || p->mean_pairs == 0 || p->rank == 0 || p->rank >= d)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT,
                           "statistics from the network: sigma %g, step %g, %u mean pairs and rank %u (of %zu) "
                           "must be positive and the rank below the dimension", p->sigma, p->fd_step, p->mean_pairs,
                           p->rank, d);
    dfx__range_result rr;
    memset (&rr, 0, sizeof rr);
    dfx__jac_op op;
    dfx_status st = dfx__jac_op_init (&op, e, p->sigma, p->fd_step * p->sigma, NULL, 1, p->seed);
    dfx__gauss_stats *g = calloc (1, sizeof *g);
    double *mhat = malloc (d * sizeof *mhat), *proj = malloc (p->rank * sizeof *proj), *aspec = NULL, *work = NULL;
    if (st != DFX_OK)
        goto cleanup;
    if (!g || !mhat || !proj) {
        st = dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (statistics of %zu values)", d);
        goto cleanup;
    }
    const double s2 = p->sigma * p->sigma, amax = (double) d / ((double) d + s2), sa[2] = {s2, amax};
    DFX_CHECK (mean_pass (e, NULL, p->sigma, p->mean_pairs, p->seed, op.noise, mhat));
    op.base = mhat;
    DFX_CHECK (dfx__range_find (ctx, dfx__jac_apply, &op, d, p->rank, p->oversample, p->iters, p->seed, &rr));
    const uint32_t r = rr.rank;

    /* Hutchinson on the first pass: ωᵀAω and (P⊥ω)ᵀAω. */
    double tr, trp, nperp;
    dfx__range_traces (&rr, d, &tr, &trp, &nperp);
    /* a_res = Σ (P⊥ω)ᵀAω / Σ ‖P⊥ω‖²: the ratio form of Hutchinson's estimate
     * of tr(P⊥A)/(d − r), exact when A is isotropic in the complement. */
    double ares = nperp > 0.0 ? trp / nperp : 0.0;
    for (uint32_t k = 0; k < rr.rank; k++)
        rr.vals[k] = rr.vals[k] > amax ? amax : rr.vals[k];
    tr /= rr.probes, trp /= rr.probes;
    ares = ares < 0.0 ? 0.0 : ares > amax ? amax : ares;

    g->channels = c, g->height = h, g->width = w, g->rank = r, g->has_pca = 1, g->mode = DFX_SKIP_PCA;
    g->eigval = malloc (r * sizeof *g->eigval), g->comps = rr.vecs, g->mean = malloc (d * sizeof *g->mean);
    rr.vecs = NULL;
    if (!g->eigval || !g->mean) {
        st = dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (statistics)");
        goto cleanup;
    }
    for (uint32_t k = 0; k < r; k++)
        g->eigval[k] = sigma2_ratio (rr.vals[k], sa);
    g->residual = sigma2_ratio (ares, sa);

    /* μ = (I − A)⁻¹ m̂ in the low-rank form, then one Newton step with a
     * second mean pass at that base: F(b) = E D(b + σ̃ε) = μ + A(b − μ), so
     * μ ≈ b + (I − Â)⁻¹(F(b) − b), which leaves the part of A that the
     * low-rank form misses squared instead of linear. */
    memset (g->mean, 0, d * sizeof *g->mean);
    inverse_add (r, d, g->comps, rr.vals, ares, mhat, g->mean, proj);
    DFX_CHECK (mean_pass (e, g->mean, p->sigma, p->mean_pairs, p->seed + 1, op.noise, mhat));
    for (size_t i = 0; i < d; i++)
        mhat[i] -= g->mean[i];
    inverse_add (r, d, g->comps, rr.vals, ares, mhat, g->mean, proj);

    /* The stationary form from the same probes. */
    const size_t cc2 = 2 * (size_t) c * c, m = h > w ? h : w;
    aspec = malloc (hw * cc2 * sizeof *aspec), work = malloc ((2 * hw * c + 4 * m) * sizeof *work);
    g->spec_cov = malloc (hw * cc2 * sizeof *g->spec_cov), g->spec_mean = calloc (c, sizeof *g->spec_mean);
    if (!aspec || !work || !g->spec_cov || !g->spec_mean) {
        st = dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (spectrum)");
        goto cleanup;
    }
    DFX_CHECK (dfx__spectrum_from_probes (ctx, c, h, w, rr.probes, rr.omega, rr.y, aspec));
    for (size_t k = 0; k < hw; k++)
        dfx__hermitian_function ((int) c, aspec + k * cc2, sigma2_ratio, sa, g->spec_cov + k * cc2);
    for (uint32_t a = 0; a < c; a++) {
        for (size_t i = 0; i < hw; i++)
            g->spec_mean[a] += g->mean[a * hw + i];
        g->spec_mean[a] /= (double) hw;
    }
    dfx__spectrum_accumulate (c, h, w, g->mean, g->spec_mean, g->spec_cov, work);
    g->has_spectral = 1;
    if (rep) {
        rep->trace_a = tr, rep->trace_perp = trp, rep->a_top = rr.vals[0], rep->a_res = ares;
    }
    *out = g;
    g = NULL;
cleanup:
    dfx__gauss_stats_free (g);
    dfx__range_result_free (&rr);
    dfx__jac_op_free (&op);
    free (mhat), free (proj), free (aspec), free (work);
    return st;
}

dfx_status
dfx__gauss_level_check (dfx__prep_eval *e, const dfx__gauss_stats *g, double sigma, double fd_step, uint32_t n,
                        uint32_t pairs, uint64_t seed, double *lambda)
{
    dfx_ctx *ctx = e->den->ctx;
    const size_t d = e->d;
    if (n > g->rank)
        n = g->rank;
    const uint32_t rows = n * (pairs ? pairs : 1);
    dfx__jac_op op;
    dfx_status st = dfx__jac_op_init (&op, e, sigma, fd_step * sigma, g->mean, 1, seed ^ 0x5bd1e995u);
    double *v = malloc ((size_t) rows * d * sizeof *v), *y = malloc ((size_t) rows * d * sizeof *y);
    if (st != DFX_OK)
        goto cleanup;
    if (!v || !y) {
        st = dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (level check)");
        goto cleanup;
    }
    for (uint32_t j = 0; j < rows; j++)
        memcpy (v + j * d, g->comps + (j % n) * d, d * sizeof *v);
    DFX_CHECK (dfx__jac_apply (&op, rows, v, y));
    const double sa[2] = {sigma * sigma, (double) d / ((double) d + sigma * sigma)};
    for (uint32_t k = 0; k < n; k++) {
        double a = 0.0;
        for (uint32_t j = k; j < rows; j += n)
            for (size_t i = 0; i < d; i++)
                a += v[j * d + i] * y[j * d + i];
        a /= rows / n;
        lambda[k] = sigma2_ratio (a, sa);
    }
cleanup:
    free (v), free (y);
    dfx__jac_op_free (&op);
    return st;
}
