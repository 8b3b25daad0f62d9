/* prep-range.c — the top eigenpairs of a symmetric operator known only by
 * its action on blocks of vectors: randomised range finding with subspace
 * iteration and a Rayleigh–Ritz step (Halko, Martinsson & Tropp 2011,
 * algorithms 4.4 and 5.3).  The operator is a callback: the network's
 * Jacobian by finite differences (prep-jacobian.c) or a sample covariance
 * (prep-data.c).  Host double precision; d up to a few 10^4, rank + oversample
 * up to a few hundred (the Rayleigh–Ritz matrix goes through cyclic Jacobi). */
#include "prepare-private.h"

#include <math.h>
#include <string.h>

void
dfx__range_result_free (dfx__range_result *r)
{
    if (!r)
        return;
    free (r->vals), free (r->vecs), free (r->omega), free (r->y);
    memset (r, 0, sizeof *r);
}

static void
gaussian_rows (uint32_t n, size_t d, uint64_t seed, uint32_t stream, double *v)
{
    float *tmp = malloc (d * sizeof *tmp);
    for (uint32_t j = 0; j < n; j++) {
        if (tmp)
            dfx__noise_stream (seed, j, stream, d, tmp);
        for (size_t i = 0; i < d; i++)
            v[j * d + i] = tmp ? tmp[i] : (double) ((i * 2654435761u + j * 40503u) % 1000) / 500.0 - 1.0;
    }
    free (tmp);
}

void
dfx__orthonormalise (uint32_t n, size_t d, double *v, uint64_t seed)
{
    for (uint32_t j = 0; j < n; j++) {
        double *vj = v + j * d;
        for (int attempt = 0; attempt < 3; attempt++) {
            double before = 0.0;
            for (size_t i = 0; i < d; i++)
                before += vj[i] * vj[i];
            for (int pass = 0; pass < 2; pass++)
                for (uint32_t k = 0; k < j; k++) {
                    const double *vk = v + k * d;
                    double dot = 0.0;
                    for (size_t i = 0; i < d; i++)
                        dot += vk[i] * vj[i];
                    for (size_t i = 0; i < d; i++)
                        vj[i] -= dot * vk[i];
                }
            double nrm = 0.0;
            for (size_t i = 0; i < d; i++)
                nrm += vj[i] * vj[i];
            if (nrm > 1e-20 * before && nrm > 0.0) {
                nrm = 1.0 / sqrt (nrm);
                for (size_t i = 0; i < d; i++)
                    vj[i] *= nrm;
                break;
            }
            /* The block lost rank here: a fresh direction instead. */
            gaussian_rows (1, d, seed ^ 0x9e3779b97f4a7c15ull, 1000 + j * 3 + attempt, vj);
        }
    }
}

dfx_status
dfx__range_find (dfx_ctx *ctx, dfx__prep_op op, void *user, size_t d, uint32_t rank, uint32_t oversample,
                 uint32_t iters, uint64_t seed, dfx__range_result *r)
{
    memset (r, 0, sizeof *r);
    uint32_t k = rank + oversample;
    if (k > d)
        k = (uint32_t) d;
    if (rank > k)
        rank = k;
    if (rank == 0)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "range finder: rank 0");
    const size_t kd = (size_t) k * d;
    double *q = malloc (kd * sizeof *q), *y = malloc (kd * sizeof *y);
    double *b = malloc ((size_t) k * k * sizeof *b), *ev = malloc (k * sizeof *ev),
           *evec = malloc ((size_t) k * k * sizeof *evec);
    uint32_t *order = malloc (k * sizeof *order);
    r->omega = malloc (kd * sizeof *r->omega), r->y = malloc (kd * sizeof *r->y);
    r->vals = malloc (rank * sizeof *r->vals), r->vecs = calloc ((size_t) rank * d, sizeof *r->vecs);
    dfx_status st = DFX_OK;
    if (!q || !y || !b || !ev || !evec || !order || !r->omega || !r->y || !r->vals || !r->vecs) {
        st = dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (range finder, %u × %zu)", k, d);
        goto cleanup;
    }
    r->probes = k, r->rank = rank;
    gaussian_rows (k, d, seed, 0xA0000000u, r->omega);
    DFX_CHECK (op (user, k, r->omega, r->y));
    memcpy (q, r->y, kd * sizeof *q);
    for (uint32_t it = 0; it < iters; it++) {
        dfx__orthonormalise (k, d, q, seed + it);
        DFX_CHECK (op (user, k, q, y));
        if (it + 1 < iters)
            memcpy (q, y, kd * sizeof *q);
    }
    if (iters == 0) { /* Rayleigh–Ritz needs Q and A Q */
        dfx__orthonormalise (k, d, q, seed);
        DFX_CHECK (op (user, k, q, y));
    }
    for (uint32_t i = 0; i < k; i++) /* B = Qᵀ A Q, symmetrised */
        for (uint32_t j = 0; j < k; j++) {
            double s = 0.0;
            for (size_t l = 0; l < d; l++)
                s += q[i * d + l] * y[j * d + l];
            b[i * k + j] = s;
        }
    for (uint32_t i = 0; i < k; i++)
        for (uint32_t j = i + 1; j < k; j++)
            b[i * k + j] = b[j * k + i] = 0.5 * (b[i * k + j] + b[j * k + i]);
    dfx__eigh ((int) k, b, ev, evec);
    for (uint32_t i = 0; i < k; i++)
        order[i] = i;
    for (uint32_t i = 1; i < k; i++) /* descending eigenvalues */
        for (uint32_t j = i; j > 0 && ev[order[j]] > ev[order[j - 1]]; j--) {
            const uint32_t t = order[j];
            order[j] = order[j - 1], order[j - 1] = t;
        }
    for (uint32_t m = 0; m < rank; m++) {
        const uint32_t col = order[m];
        r->vals[m] = ev[col];
        double *u = r->vecs + m * d;
        for (uint32_t i = 0; i < k; i++) {
            const double c = evec[i * k + col];
            for (size_t l = 0; l < d; l++)
                u[l] += c * q[i * d + l];
        }
    }
cleanup:
    free (q), free (y), free (b), free (ev), free (evec), free (order);
    if (st != DFX_OK)
        dfx__range_result_free (r);
    return st;
}

void
dfx__range_traces (const dfx__range_result *rr, size_t d, double *tr, double *trp, double *nperp)
{
    *tr = *trp = *nperp = 0.0;
    for (uint32_t j = 0; j < rr->probes; j++) {
        const double *om = rr->omega + j * d, *y = rr->y + j * d;
        double t = 0.0, nn = 0.0;
        for (size_t i = 0; i < d; i++)
            t += om[i] * y[i], nn += om[i] * om[i];
        *tr += t;
        for (uint32_t k = 0; k < rr->rank; k++) {
            const double *u = rr->vecs + k * d;
            double a = 0.0, b = 0.0;
            for (size_t i = 0; i < d; i++)
                a += u[i] * om[i], b += u[i] * y[i];
            t -= a * b, nn -= a * a;
        }
        *trp += t, *nperp += nn;
    }
}
