/* lik-exp.c — a fixed-step exponential multistep solver for the likelihood
 * ODE (likelihood-private.h), in data-prediction form: DPM-Solver++(2M) and
 * its third-order sibling run in the encoding direction, upward in
 * u = ln σ̃.
 *
 * dx̃/du = x̃ − x̂0 is linear in x̃ but for x̂0, so over a step of h in u,
 *   x̃(u + h) = e^h x̃(u) − ∫_0^h e^(h−τ) x̂0(u + τ) dτ
 * exactly.  With x̂0 a polynomial in τ through this node's and the previous
 * nodes' values (Newton form, divided differences f[i,i−1], f[i,i−1,i−2]
 * over the uneven nodes), the integral is closed form:
 *   ∫ e^(h−τ) dτ = e^h − 1,  ∫ e^(h−τ) τ dτ = e^h − 1 − h,
 *   ∫ e^(h−τ) τ (τ + a) dτ = 2 (e^h − 1 − h − h²/2) + a (e^h − 1 − h)
 * (a the previous step).  Order 2 uses one previous node, order 3 two; the
 * first steps use what there is.  One network pair per node: steps + 1
 * evaluations, the last one for the divergence only (the Fisher head alone
 * where it is a variance-ratio head: steps score-network evaluations).  The divergence
 * integral ∫ (1 − C/σ̃²) du is a quadrature over the same nodes, accumulated
 * node by node with weights known before the run (the grid is fixed).
 *
 * Why not Heun (BENCHMARKS.md issue 20): the Fisher head's C depends on x̃,
 * and Heun's predictor stage lands 30–45 % of σ̃ off the trajectory with
 * large steps; its divergence there enters the integral.  Here every
 * evaluation is on the solver's trajectory.
 *
 * Not for: error control (the steps are fixed; RK45 is likelihood.c).
 */
#include "likelihood-private.h"
#include "../ops/ops-sample.h"

#include <math.h>
#include <stdlib.h>

void
dfx__lik_exp_nodes (double u0, double u1, uint32_t steps, double power, double *u)
{
    const double p = power > 0.0 ? power : 1.0;
    for (uint32_t i = 0; i <= steps; i++)
        u[i] = u0 + (u1 - u0) * pow ((double) i / steps, p);
    u[steps] = u1;
}

/* ∫ over [a, b] of the Lagrange basis polynomials on the k nodes x[0..k-1]
 * (k ≤ 4), added to w[0..k-1]: 2-point Gauss–Legendre, exact for cubics. */
static void
lagrange_integral (const double *x, int k, double a, double b, double *w)
{
    const double g = 0.5 / sqrt (3.0), mid = 0.5 * (a + b), half = b - a;
    const double t[2] = {mid - g * half, mid + g * half};
    for (int q = 0; q < 2; q++)
        for (int j = 0; j < k; j++) {
            double l = 1.0;
            for (int m = 0; m < k; m++)
                if (m != j)
                    l *= (t[q] - x[m]) / (x[j] - x[m]);
            w[j] += 0.5 * half * l;
        }
}

void
dfx__lik_quad_weights (const double *u, uint32_t steps, uint32_t order, double *w)
{
    for (uint32_t i = 0; i <= steps; i++)
        w[i] = 0.0;
    const int k = order == 2 || steps < 3 ? 2 : 4;
    for (uint32_t i = 0; i < steps; i++) {
        /* the k nodes nearest the interval [u_i, u_(i+1)], as centred as the ends allow */
        int j0 = (int) i - (k - 2) / 2;
        if (j0 < 0)
            j0 = 0;
        if (j0 + k - 1 > (int) steps)
            j0 = (int) steps - k + 1;
        lagrange_integral (u + j0, k, u[i], u[i + 1], w + j0);
    }
}

/* Y's x̃ half += c·b over n values (c = 0: nothing). */
static dfx_status
axpy (dfx__lik_run *r, double c, dfx_buffer *b)
{
    return c == 0.0 ? DFX_OK : dfx__lincomb (r->ctx, r->Y, 0, 1.0f, r->Y, 0, (float) c, b, 0, 0.0f, r->n);
}

dfx_status
dfx__lik_integrate_exp (dfx__lik_run *r, double u0, double u1, dfx__lik_stats *s)
{
    const dfx__lik_desc *d = r->d;
    const uint32_t N = d->steps, order = d->ms_order == 2 ? 2 : 3;
    const size_t n = r->n;
    double *u = malloc ((N + 1) * sizeof *u), *w = malloc ((N + 1) * sizeof *w);
    if (!u || !w) {
        free (u), free (w);
        return dfx__error (r->ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (likelihood nodes)");
    }
    dfx__lik_exp_nodes (u0, u1, N, d->node_power, u);
    dfx__lik_quad_weights (u, N, d->quad_order ? d->quad_order : 4, w);
    dfx_buffer *p1 = r->K[1], *p2 = r->K[2]; /* x̂0 at the previous node and the one before */
    dfx_status st = DFX_OK;
    for (uint32_t i = 0; i <= N && st == DFX_OK; i++) {
        /* K[0] = [x̃ − x̂0 | 1 − C/σ̃²], x̂0 in r->x0; at the last node, which no step follows, the divergence
         * alone where the head gives it without the score network */
        st = i < N ? dfx__lik_stage (r, r->Y, u[i], r->K[0]) : dfx__lik_stage_div (r, r->Y, u[i], r->K[0]);
        if (st == DFX_OK) /* the integrals: a += w_i (1 − C/σ̃²) */
            st = dfx__lincomb (r->ctx, r->Y, n, 1.0f, r->Y, n, (float) w[i], r->K[0], n, 0.0f, n);
        if (st == DFX_OK)
            st = dfx__lik_profile (r, u[i], r->K[0], s);
        if (st != DFX_OK || i == N)
            break;
        /* x̃ += (e^h − 1)(x̃ − x̂0_i) − Σ_j c_j x̂0_(i−j): the coefficients of the Newton terms on the nodes */
        const double h = u[i + 1] - u[i], e1 = expm1 (h), A = e1 - h;
        double c0 = 0.0, c1 = 0.0, c2 = 0.0;
        if (i >= 1) { /* A f[i,i−1] */
            const double a = u[i] - u[i - 1];
            c0 += A / a, c1 -= A / a;
            if (order >= 3 && i >= 2) { /* B f[i,i−1,i−2] */
                const double b = u[i - 1] - u[i - 2], B = 2.0 * (A - 0.5 * h * h) + a * A;
                c0 += B / (a * (a + b)), c1 -= B / (a * (a + b)) + B / (b * (a + b)), c2 += B / (b * (a + b));
            }
        }
        st = dfx__lincomb (r->ctx, r->Y, 0, 1.0f, r->Y, 0, (float) e1, r->K[0], 0, 0.0f, n);
        if (st == DFX_OK)
            st = axpy (r, -c0, r->x0);
        if (st == DFX_OK)
            st = axpy (r, -c1, p1);
        if (st == DFX_OK)
            st = axpy (r, -c2, p2);
        /* p2 ← p1, p1 ← x̂0_i */
        dfx_buffer *t = p2;
        p2 = p1, p1 = t;
        if (st == DFX_OK)
            st = dfx__lincomb (r->ctx, p1, 0, 1.0f, r->x0, 0, 0.0f, NULL, 0, 0.0f, n);
        if (st == DFX_OK) {
            s->steps++;
            if (d->progress && d->progress ((double) (i + 1) / N, d->progress_user))
                st = dfx__error (r->ctx, DFX_ERR_CANCELLED, "likelihood cancelled");
        }
    }
    free (u), free (w);
    return st;
}
