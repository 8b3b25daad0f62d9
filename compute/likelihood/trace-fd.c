/* trace-fd.c — the likelihood's baselines (see likelihood-private.h): the
 * divergence of the PF-ODE drift x̃ − x̂0(x̃) from the score network's own
 * Jacobian J = ∂x̂0/∂x̃, by central finite differences of the network
 * (Jacobian-vector products without a backward pass):
 *
 *     J v ≈ (x̂0(x̃ + εv) − x̂0(x̃ − εv)) / 2ε,   ε = DFX__TRACE_FD_REL · σ̃,
 *
 * the step relative to σ̃ because x̂0 varies on that scale.  Hutchinson:
 * K fixed Rademacher probes z (Philox of the seed, the same for the whole
 * ODE solve), div_i = 1 − (1/K) Σ_k z_ki (J z_k)_i — per value an unbiased
 * estimate of 1 − J_ii, so its map sums to the estimate of the total.
 * Exact: J_ii from the basis vectors, d pairs of evaluations per image and
 * stage.  The perturbed images go through the network eval_batch at a time
 * on the host's side of the buffers; both are benchmark baselines, not a
 * fast path.  Nothing is clamped: this is the network's divergence.
 */
#include "likelihood-private.h"
#include "../ops/ops-sample.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct dfx__trace_fd {
    dfx__moments *mo;
    dfx_likelihood_trace method;
    uint32_t batch, h, w, probes, eval_batch;
    size_t dv, n;        /* values per image, batch · dv */
    signed char *z;      /* probes × n, ±1 (Hutchinson) */
    float *hx;           /* x̃ (n) */
    float *hin, *hout;   /* eval_batch × dv each */
    double *acc;         /* n */
    dfx_buffer *in, *out, *scratch_m;
};

/* A counter-based generator for the probes (SplitMix64 of seed ⊕ counter):
 * reproducible by seed, independent of the evaluation order. */
static uint64_t
mix (uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

void
dfx__trace_fd_destroy (dfx__trace_fd *t)
{
    if (!t)
        return;
    dfx_ctx *ctx = t->mo->ctx;
    dfx_buffer_destroy (ctx, t->in);
    dfx_buffer_destroy (ctx, t->out);
    dfx_buffer_destroy (ctx, t->scratch_m);
    free (t->z), free (t->hx), free (t->hin), free (t->hout), free (t->acc);
    free (t);
}

dfx_status
dfx__trace_fd_create (dfx__moments *mo, dfx_likelihood_trace method, uint32_t probes, uint64_t seed, uint32_t batch,
                      uint32_t h, uint32_t w, dfx__trace_fd **out)
{
    dfx_ctx *ctx = mo->ctx;
    *out = NULL;
    if ((method != DFX_TRACE_HUTCHINSON && method != DFX_TRACE_EXACT) ||
        (method == DFX_TRACE_HUTCHINSON && (probes < 1 || probes > DFX_LIKELIHOOD_MAX_PROBES)))
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "likelihood: trace method %d with %u probes (1..%u)",
                           (int) method, probes, DFX_LIKELIHOOD_MAX_PROBES);
    dfx__trace_fd *t = calloc (1, sizeof *t);
    if (!t)
        return dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (trace baseline)");
    t->mo = mo, t->method = method, t->batch = batch, t->h = h, t->w = w, t->probes = probes;
    t->dv = (size_t) mo->channels * h * w;
    t->n = t->dv * batch;
    /* Pairs (x̃ + εv, x̃ − εv) stay in one evaluation: an even batch. */
    t->eval_batch = t->dv <= 4096 ? 32 : 8;
    const size_t eb = (size_t) t->eval_batch * t->dv;
    t->hx = malloc (t->n * sizeof (float));
    t->hin = malloc (eb * sizeof (float));
    t->hout = malloc (eb * sizeof (float));
    t->acc = malloc (t->n * sizeof (double));
    if (method == DFX_TRACE_HUTCHINSON)
        t->z = malloc ((size_t) probes * t->n);
    dfx_status st = DFX_OK;
    if (!t->hx || !t->hin || !t->hout || !t->acc || (method == DFX_TRACE_HUTCHINSON && !t->z))
        st = dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (trace baseline)");
    if (st == DFX_OK)
        st = dfx_buffer_create (ctx, eb * sizeof (float), &t->in);
    if (st == DFX_OK)
        st = dfx_buffer_create (ctx, eb * sizeof (float), &t->out);
    if (st == DFX_OK && !mo->eval_mean)
        st = dfx_buffer_create (ctx, eb * sizeof (float), &t->scratch_m);
    if (st != DFX_OK) {
        dfx__trace_fd_destroy (t);
        return st;
    }
    if (t->z)
        for (size_t i = 0; i < (size_t) probes * t->n; i++)
            t->z[i] = (mix (seed ^ mix (i / 64)) >> (i % 64)) & 1 ? 1 : -1;
    *out = t;
    return DFX_OK;
}

/* x̂0 of count images of t->hin (count ≤ eval_batch) into t->hout. */
static dfx_status
eval_images (dfx__trace_fd *t, uint32_t count, double sigma)
{
    dfx_ctx *ctx = t->mo->ctx;
    const size_t bytes = (size_t) count * t->dv * sizeof (float);
    dfx_status st = dfx_buffer_upload (ctx, t->in, 0, t->hin, bytes);
    if (st == DFX_OK)
        st = t->mo->eval_mean ? t->mo->eval_mean (t->mo, count, t->h, t->w, t->in, sigma, t->out)
                              : t->mo->eval (t->mo, count, t->h, t->w, t->in, sigma, t->out, t->scratch_m);
    if (st == DFX_OK)
        st = dfx_buffer_download (ctx, t->out, 0, t->hout, bytes);
    return st;
}

/* The pair j of the current evaluation: image `item`, direction (probe k or
 * basis value i). */
typedef struct pair {
    uint32_t item, dir;
} pair;

/* Fills the inputs of `count` pairs, evaluates, and adds their estimates of
 * J_ii (times 1/K for Hutchinson) to acc. */
static dfx_status
run_pairs (dfx__trace_fd *t, const pair *p, uint32_t count, double eps, double sigma)
{
    const size_t dv = t->dv;
    for (uint32_t j = 0; j < count; j++) {
        const float *x = t->hx + (size_t) p[j].item * dv;
        float *plus = t->hin + (size_t) (2 * j) * dv, *minus = plus + dv;
        if (t->method == DFX_TRACE_HUTCHINSON) {
            const signed char *z = t->z + (size_t) p[j].dir * t->n + (size_t) p[j].item * dv;
            for (size_t i = 0; i < dv; i++) {
                plus[i] = (float) (x[i] + eps * z[i]);
                minus[i] = (float) (x[i] - eps * z[i]);
            }
        } else {
            memcpy (plus, x, dv * sizeof (float));
            memcpy (minus, x, dv * sizeof (float));
            plus[p[j].dir] = (float) (x[p[j].dir] + eps);
            minus[p[j].dir] = (float) (x[p[j].dir] - eps);
        }
    }
    dfx_status st = eval_images (t, 2 * count, sigma);
    if (st != DFX_OK)
        return st;
    for (uint32_t j = 0; j < count; j++) {
        const float *in_p = t->hin + (size_t) (2 * j) * dv, *in_m = in_p + dv;
        const float *out_p = t->hout + (size_t) (2 * j) * dv, *out_m = out_p + dv;
        double *acc = t->acc + (size_t) p[j].item * dv;
        if (t->method == DFX_TRACE_HUTCHINSON) {
            const signed char *z = t->z + (size_t) p[j].dir * t->n + (size_t) p[j].item * dv;
            const double f = 1.0 / (2.0 * eps * t->probes);
            for (size_t i = 0; i < dv; i++)
                acc[i] += z[i] * ((double) out_p[i] - out_m[i]) * f;
        } else {
            /* The realised step: x ± ε rounded to float. */
            const uint32_t i = p[j].dir;
            acc[i] += ((double) out_p[i] - out_m[i]) / ((double) in_p[i] - in_m[i]);
        }
    }
    return DFX_OK;
}

dfx_status
dfx__trace_fd_div (dfx__trace_fd *t, dfx_buffer *x, double sigma, dfx_buffer *K, size_t k_off)
{
    dfx_ctx *ctx = t->mo->ctx;
    const double eps = DFX__TRACE_FD_REL * sigma;
    dfx_status st = dfx_buffer_download (ctx, x, 0, t->hx, t->n * sizeof (float));
    if (st != DFX_OK)
        return st;
    memset (t->acc, 0, t->n * sizeof (double));
    const uint32_t per = t->eval_batch / 2;
    pair p[64];
    uint32_t count = 0;
    const uint32_t dirs = t->method == DFX_TRACE_HUTCHINSON ? t->probes : (uint32_t) t->dv;
    for (uint32_t b = 0; b < t->batch && st == DFX_OK; b++)
        for (uint32_t k = 0; k < dirs && st == DFX_OK; k++) {
            p[count++] = (pair){b, k};
            if (count == per) {
                st = run_pairs (t, p, count, eps, sigma);
                count = 0;
            }
        }
    if (st == DFX_OK && count)
        st = run_pairs (t, p, count, eps, sigma);
    if (st != DFX_OK)
        return st;
    /* K[k_off + i] = 1 − J_ii estimate; hx is free again for the floats. */
    for (size_t i = 0; i < t->n; i++)
        t->hx[i] = (float) (1.0 - t->acc[i]);
    return dfx_buffer_upload (ctx, K, k_off * sizeof (float), t->hx, t->n * sizeof (float));
}
