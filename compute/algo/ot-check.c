/* ot-check.c — is the PF-ODE sampling map an optimal-transport map?
 * (MATH.md "OT check").
 *
 * For a Dirac-mixture data set the diffusion Fisher is exact (dirac.c).  We
 * integrate the trajectory and the Jacobian A = ∂x0/∂x_T of the map together
 * and report how far A is from symmetric: ‖Ã − Ãᵀ‖_F / (√2 ‖Ã‖_F), Ã = A with
 * its diagonal zeroed (a Brenier map has a symmetric positive-definite
 * Jacobian).
 *
 * All three schedules are integrated in the EDM view x̃ = x/α, σ̃ = σ/α, with
 * u = ln σ̃ as the time: dx̃/du = x̃ − x̂0 and, since ∂x̂0/∂x̃ = C/σ̃²,
 * dÃ/du = (I − C/σ̃²) Ã — which is MATH.md's dA/dt = (f I + ½ g² F) A after
 * the change of variables (σ² F = I − C/σ̃²); A = (α_0/α_T) Ã.  The schedule
 * sets the σ̃ range and the prior of x̃_T; VE and EDM give the same map over
 * their own ranges.  Fixed-step RK4, uniform in ln σ̃, double precision on the
 * host: d is small (≤ 64) and there is nothing for a GPU to do.
 */
#include "../dfx-private.h"
#include "dirac.h"

#include <math.h>
#include <string.h>

void
dfx_ot_params_defaults (dfx_ot_params *p)
{
    memset (p, 0, sizeof *p);
    p->schedule = DFX_SCHEDULE_EDM;
    p->seeds = 16;
    p->seed = 1;
    p->steps = 2000;
}

/* σ̃ range and the standard deviation of x̃_T for a schedule. */
static void
schedule_range (dfx_schedule_kind s, double *smin, double *smax, double *prior)
{
    switch (s) {
    case DFX_SCHEDULE_VE:
        *smin = 0.01, *smax = 50.0;
        *prior = *smax;
        break;
    case DFX_SCHEDULE_VP: {
        /* β(t) = 0.1 + 19.9 t on t ∈ [1e-3, 1]: α = exp(−¼ t² Δβ − ½ t β_min) */
        double a1 = exp (-0.25 * 19.9 - 0.5 * 0.1), t0 = 1e-3;
        double a0 = exp (-0.25 * t0 * t0 * 19.9 - 0.5 * t0 * 0.1);
        *smin = sqrt (1.0 - a0 * a0) / a0, *smax = sqrt (1.0 - a1 * a1) / a1;
        *prior = 1.0 / a1; /* x_T ~ N(0, I) */
        break;
    }
    default:
        *smin = 0.002, *smax = 80.0;
        *prior = *smax;
        break;
    }
}

/* splitmix64 → standard normals (Box–Muller), deterministic per seed. */
static uint64_t
splitmix (uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double
normal (uint64_t *s)
{
    double u1 = ((double) (splitmix (s) >> 11) + 0.5) / 9007199254740992.0;
    double u2 = ((double) (splitmix (s) >> 11) + 0.5) / 9007199254740992.0;
    return sqrt (-2.0 * log (u1)) * cos (2.0 * 3.14159265358979323846 * u2);
}

typedef struct state {
    const dfx__dirac *m;
    double work[4096];
} state;

/* Derivative of (x̃, Ã) at u = ln σ̃. */
static void
deriv (state *s, double u, const double *y, double *dy)
{
    const int d = s->m->d;
    double sig = exp (u), x0[DFX__DIRAC_MAX_DIM], C[DFX__DIRAC_MAX_DIM * DFX__DIRAC_MAX_DIM];
    dfx__dirac_posterior (s->m, y, 1.0, sig, s->work, x0, C, NULL, NULL);
    for (int k = 0; k < d; k++)
        dy[k] = y[k] - x0[k];
    const double *A = y + d;
    double *dA = dy + d, inv = 1.0 / (sig * sig);
    for (int i = 0; i < d; i++)
        for (int j = 0; j < d; j++) {
            double v = A[i * d + j];
            for (int k = 0; k < d; k++)
                v -= C[i * d + k] * inv * A[k * d + j];
            dA[i * d + j] = v;
        }
}

static double
asymmetry (const double *A, int d)
{
    double num = 0.0, den = 0.0;
    for (int i = 0; i < d; i++)
        for (int j = 0; j < d; j++) {
            if (i == j)
                continue;
            double e = A[i * d + j] - A[j * d + i];
            num += e * e;
            den += A[i * d + j] * A[i * d + j];
        }
    return den > 0.0 ? sqrt (num) / (sqrt (2.0) * sqrt (den)) : 0.0;
}

dfx_status
dfx_ot_check (dfx_ctx *ctx, const dfx_ot_params *p, dfx_ot_result *r)
{
    memset (r, 0, sizeof *r);
    if (!p->points || p->n < 2)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "ot-check needs at least two points (got %d)", p->n);
    if (p->dim < 1 || p->dim > DFX__DIRAC_MAX_DIM)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "ot-check: point dimension %d outside [1, %d]", p->dim,
                           DFX__DIRAC_MAX_DIM);
    if (p->n > 4096)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "ot-check: %d points (at most 4096)", p->n);
    if (p->seeds < 1 || p->seeds > 100000 || p->steps < 10 || p->steps > 10000000)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "ot-check: seeds %d (1..100000) or steps %d (10..10^7) out of range",
                           p->seeds, p->steps);
    for (int i = 0; i < p->n * p->dim; i++)
        if (!isfinite (p->points[i]))
            return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "ot-check: coordinate %d of point %d is not finite",
                               i % p->dim, i / p->dim);
    const int d = p->dim, nv = d + d * d;
    dfx__dirac m = {p->n, d, p->points};
    state *s = dfx__calloc (1, sizeof *s);
    double *y = dfx__calloc ((size_t) nv * 6, sizeof *y);
    if (!s || !y) {
        dfx__free (s);
        dfx__free (y);
        return dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (ot-check)");
    }
    s->m = &m;
    double *k1 = y + nv, *k2 = k1 + nv, *k3 = k2 + nv, *k4 = k3 + nv, *tmp = k4 + nv;
    double smin, smax, prior;
    schedule_range (p->schedule, &smin, &smax, &prior);
    const double u0 = log (smax), u1 = log (smin), h = (u1 - u0) / p->steps;
    double sum = 0.0, sum2 = 0.0;
    r->min = INFINITY;
    r->max = -INFINITY;
    for (int seed = 0; seed < p->seeds; seed++) {
        uint64_t rs = p->seed * 1000003ull + (uint64_t) seed;
        for (int k = 0; k < d; k++)
            y[k] = prior * normal (&rs);
        for (int i = 0; i < d * d; i++)
            y[d + i] = (i % (d + 1) == 0) ? 1.0 : 0.0;
        for (int step = 0; step < p->steps; step++) {
            double u = u0 + step * h;
            deriv (s, u, y, k1);
            for (int i = 0; i < nv; i++)
                tmp[i] = y[i] + 0.5 * h * k1[i];
            deriv (s, u + 0.5 * h, tmp, k2);
            for (int i = 0; i < nv; i++)
                tmp[i] = y[i] + 0.5 * h * k2[i];
            deriv (s, u + 0.5 * h, tmp, k3);
            for (int i = 0; i < nv; i++)
                tmp[i] = y[i] + h * k3[i];
            deriv (s, u + h, tmp, k4);
            for (int i = 0; i < nv; i++)
                y[i] += h / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]);
        }
        double a = asymmetry (y + d, d);
        sum += a;
        sum2 += a * a;
        r->min = fmin (r->min, a);
        r->max = fmax (r->max, a);
    }
    r->seeds = p->seeds;
    r->mean = sum / p->seeds;
    r->std = p->seeds > 1 ? sqrt (fmax (0.0, (sum2 - sum * sum / p->seeds) / (p->seeds - 1))) : 0.0;
    r->sigma_min = smin;
    r->sigma_max = smax;
    dfx__free (y);
    dfx__free (s);
    return DFX_OK;
}
