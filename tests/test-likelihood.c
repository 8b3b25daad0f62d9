/* test-likelihood.c — the DF-TM likelihood on Gaussian data, where the
 * answer is closed form (suite algo).
 *
 * With the exact posterior moments (x̂0 and E[x0⊙x0 | x̃]) the PF-ODE
 * log-likelihood must equal log N(x̃_0; μ, Σ + σ̃_min² I):
 *   1. diagonal Σ: to 1e-4 bits/dim with RK45, and every per-pixel map value
 *      equals log N(x_i; μ_i, λ_i + σ̃_min²) (the map sums to the total);
 *   2. a rotated full-rank Σ (non-separable): the total to 1e-4 bits/dim;
 *   3. fixed-step Heun converges to it at second order (within 1e-2 bits/dim at 100 steps);
 *   4. a batch of two gives each item's own value;
 *   6. the exponential multistep solver (lik-exp.c): its quadrature weights
 *      integrate polynomials exactly on uneven nodes (cubics at order 4,
 *      lines at order 2); on the diagonal Σ (where C does not depend on x̃,
 *      so only the trajectory's end and the quadrature can err) the 2M
 *      form converges at second order (error ratio above 3 per doubling of
 *      8, 16, 32 steps of uniform nodes), the 3M form at third (above 6);
 *      on exp3m's nodes (power 1.5) 3M is within 0.02 bits/dim at 8 steps
 *      and 1e-3 at 16 and 32; all closer at 8 steps (9 evaluations) than
 *      Heun at 4 (8); as a variance-ratio head, whose variance alone
 *      (eval_var) serves the last node, the same figure (1e-6 bits/dim)
 *      with 16 score evaluations instead of 17;
 *   5. the benchmark baselines (trace-fd.c) on the rotated Σ, where x̂0 is
 *      linear and finite differences are exact up to float rounding: the
 *      exact-trace divergence gives the closed form (1e-3 bits/dim), and
 *      Hutchinson is unbiased with a probe spread: one-probe runs of 12 seeds
 *      scatter (> 1e-3 bits/dim) around it (mean within 4 standard errors), and
 *      with 256 probes it is within 0.01 bits/dim. */
#include "check-ctx.h"
#include "dfx-private.h"
#include "likelihood/likelihood-private.h"

#include <math.h>
#include <stdlib.h>

#define D 16

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

static double
log_normal_full (const double *x, const double *mu, const double *U, const double *lam, int d, double s2)
{
    /* Σ + s2 I = U diag(lam + s2) Uᵀ with U's rows the eigenvectors */
    double q = 0.0, ld = 0.0;
    for (int k = 0; k < d; k++) {
        double p = 0.0;
        for (int i = 0; i < d; i++)
            p += U[k * d + i] * (x[i] - mu[i]);
        q += p * p / (lam[k] + s2);
        ld += log (2.0 * M_PI * (lam[k] + s2));
    }
    return -0.5 * (q + ld);
}

static double
run_lik (dfx_ctx *ctx, dfx__moments *mo, dfx__ode_solver solver, uint32_t steps, double smin, double smax,
         const double *pmean, const double *pvar, const float *x, uint32_t batch, double *logp, double *map,
         dfx__lik_stats *stats)
{
    dfx_buffer *b = NULL;
    dfx_buffer_create (ctx, (size_t) batch * D * sizeof (float), &b);
    dfx_buffer_upload (ctx, b, 0, x, (size_t) batch * D * sizeof (float));
    dfx__lik_desc d = {.mo = mo, .batch = batch, .h = 4, .w = 4, .sigma_min = smin, .sigma_max = smax,
                       .solver = solver, .rtol = 1e-7, .atol = 1e-7, .steps = steps, .cmax = 1e9,
                       .prior_mean = pmean, .prior_var = pvar};
    dfx_status st = dfx__likelihood (&d, b, logp, map, stats);
    CHECK (st == DFX_OK, "likelihood: %s", dfx_ctx_errmsg (ctx));
    dfx_buffer_destroy (ctx, b);
    return logp[0];
}

/* The exponential multistep solver (lik-exp.c) of order ms with nodes of the power. */
static void
run_exp (dfx_ctx *ctx, dfx__moments *mo, uint32_t steps, uint32_t ms, double power, double smin, double smax,
         const double *pmean, const double *pvar, const float *x, double *logp, dfx__lik_stats *stats)
{
    dfx_buffer *b = NULL;
    dfx_buffer_create (ctx, D * sizeof (float), &b);
    dfx_buffer_upload (ctx, b, 0, x, D * sizeof (float));
    dfx__lik_desc d = {.mo = mo, .batch = 1, .h = 4, .w = 4, .sigma_min = smin, .sigma_max = smax,
                       .solver = DFX__ODE_EXP, .steps = steps, .ms_order = ms, .node_power = power, .cmax = 1e9,
                       .prior_mean = pmean, .prior_var = pvar};
    dfx_status st = dfx__likelihood (&d, b, logp, NULL, stats);
    CHECK (st == DFX_OK, "likelihood (exp %uM): %s", ms, dfx_ctx_errmsg (ctx));
    dfx_buffer_destroy (ctx, b);
}

static double
run_trace (dfx_ctx *ctx, dfx__moments *mo, dfx_likelihood_trace trace, uint32_t probes, uint64_t seed, double smin,
           double smax, const double *pmean, const double *pvar, const float *x)
{
    dfx_buffer *b = NULL;
    double logp = NAN;
    dfx_buffer_create (ctx, D * sizeof (float), &b);
    dfx_buffer_upload (ctx, b, 0, x, D * sizeof (float));
    dfx__lik_desc d = {.mo = mo, .batch = 1, .h = 4, .w = 4, .sigma_min = smin, .sigma_max = smax,
                       .solver = DFX__ODE_RK45, .rtol = 1e-6, .atol = 1e-6, .cmax = 1e9, .trace = trace,
                       .probes = probes, .probe_seed = seed, .prior_mean = pmean, .prior_var = pvar};
    dfx_status st = dfx__likelihood (&d, b, &logp, NULL, NULL);
    CHECK (st == DFX_OK, "likelihood (%s): %s", dfx_likelihood_trace_name (trace), dfx_ctx_errmsg (ctx));
    dfx_buffer_destroy (ctx, b);
    return logp;
}

int
main (void)
{
    dfx_ctx *ctx = check_ctx_open ();
    check_rng r = {31};
    double mu[D], lam[D], I[D * D] = {0};
    float x[2 * D];
    for (int i = 0; i < D; i++) {
        mu[i] = check_uniform (&r, -0.5f, 0.5f);
        lam[i] = check_uniform (&r, 0.05f, 1.0f);
        I[i * D + i] = 1.0;
        x[i] = (float) (mu[i] + sqrt (lam[i]) * check_uniform (&r, -1.5f, 1.5f));
        x[D + i] = (float) (mu[i] + sqrt (lam[i]) * check_uniform (&r, -1.5f, 1.5f));
    }
    const double smin = 0.01, smax = 200.0, bpd = 1.0 / (D * log (2.0));
    double xd[D];
    for (int i = 0; i < D; i++)
        xd[i] = x[i];

    /* 1. diagonal Σ with the exact separable prior */
    dfx__moments *mo = NULL;
    CHECK (dfx__moments_gauss (ctx, 1, D, mu, D, I, lam, 0.0, &mo) == DFX_OK, "moments");
    double logp[2], map[2 * D];
    dfx__lik_stats s;
    run_lik (ctx, mo, DFX__ODE_RK45, 0, smin, smax, mu, lam, x, 1, logp, map, &s);
    double want = log_normal_full (xd, mu, I, lam, D, smin * smin);
    CHECK (fabs (logp[0] - want) * bpd < 1e-4, "diagonal: %.8f vs %.8f nats (%.2e bits/dim), %u steps, %u evals",
           logp[0], want, fabs (logp[0] - want) * bpd, s.steps, s.evals);
    printf ("diagonal Gaussian: DF-TM %.8f, closed form %.8f nats; error %.2e bits/dim; RK45 %u steps (%u rejected), "
            "%u evaluations\n",
            logp[0], want, fabs (logp[0] - want) * bpd, s.steps, s.rejected, s.evals);
    double worst = 0.0, sum = 0.0;
    for (int i = 0; i < D; i++) {
        double wi = -0.5 * ((xd[i] - mu[i]) * (xd[i] - mu[i]) / (lam[i] + smin * smin) +
                            log (2.0 * M_PI * (lam[i] + smin * smin)));
        worst = fmax (worst, fabs (map[i] - wi));
        sum += map[i];
    }
    CHECK (worst < 1e-3, "per-pixel map vs closed form: worst %.3g nats", worst);
    CHECK (fabs (sum - logp[0]) < 1e-9, "map sums to the total");

    /* 4. batch of two */
    double lb[2];
    run_lik (ctx, mo, DFX__ODE_RK45, 0, smin, smax, mu, lam, x, 2, lb, NULL, NULL);
    double xd2[D];
    for (int i = 0; i < D; i++)
        xd2[i] = x[D + i];
    double want2 = log_normal_full (xd2, mu, I, lam, D, smin * smin);
    CHECK (fabs (lb[0] - want) * bpd < 1e-4 && fabs (lb[1] - want2) * bpd < 1e-4, "batch: %.6f/%.6f vs %.6f/%.6f",
           lb[0], lb[1], want, want2);

    /* 3. Heun: second order */
    double e[3];
    const uint32_t steps[3] = {25, 50, 100};
    for (int k = 0; k < 3; k++) {
        double l[1];
        run_lik (ctx, mo, DFX__ODE_HEUN, steps[k], smin, smax, mu, lam, x, 1, l, NULL, NULL);
        e[k] = fabs (l[0] - want);
    }
    CHECK (e[1] < e[0] / 3.0 && e[2] < e[1] / 3.0, "Heun errors %.3g, %.3g, %.3g (25, 50, 100 steps)", e[0], e[1],
           e[2]);
    CHECK (e[2] * bpd < 1e-2, "Heun 100 steps within 1e-2 bits/dim (%.3g)", e[2] * bpd);

    /* 6. the exponential multistep solver: the quadrature weights, then its order on the diagonal Σ */
    {
        double un[8], w[8];
        dfx__lik_exp_nodes (-4.6, 5.0, 7, 1.7, un);
        for (uint32_t order = 2; order <= 4; order += 2) {
            dfx__lik_quad_weights (un, 7, order, w);
            for (int deg = 0; deg <= (order == 4 ? 3 : 1); deg++) {
                double q = 0.0, exact = (pow (un[7], deg + 1) - pow (un[0], deg + 1)) / (deg + 1);
                for (int j = 0; j < 8; j++)
                    q += w[j] * pow (un[j], deg);
                CHECK (fabs (q - exact) < 1e-10 * fmax (1.0, fabs (exact)),
                       "quadrature order %u on u^%d over uneven nodes: %.12g, exact %.12g", order, deg, q, exact);
            }
        }
        const uint32_t xs[3] = {8, 16, 32};
        double ex[3][3]; /* 2M and 3M on uniform nodes, 3M on exp3m's */
        for (int v = 0; v < 3; v++)
            for (int k = 0; k < 3; k++) {
                double l[1];
                run_exp (ctx, mo, xs[k], v ? 3 : 2, v == 2 ? DFX__LIK_EXP_NODE_POWER : 1.0, smin, smax, mu, lam,
                         x, l, &s);
                ex[v][k] = fabs (l[0] - want) * bpd;
                CHECK (s.evals == xs[k] + 1, "exp %s %u steps: %u evaluations", v ? "3M" : "2M", xs[k], s.evals);
            }
        double l[1];
        run_lik (ctx, mo, DFX__ODE_HEUN, 4, smin, smax, mu, lam, x, 1, l, NULL, NULL);
        const double eh = fabs (l[0] - want) * bpd;
        static const char *const names[3] = {"2M, uniform nodes", "3M, uniform nodes", "3M, exp3m's nodes"};
        for (int v = 0; v < 3; v++)
            printf ("exp %s on the diagonal Gaussian: %.3g, %.3g, %.3g bits/dim at 8, 16, 32 steps (ratios %.2f, "
                    "%.2f)\n", names[v], ex[v][0], ex[v][1], ex[v][2], ex[v][0] / ex[v][1], ex[v][1] / ex[v][2]);
        printf ("Heun 4 steps (8 evaluations): %.3g bits/dim\n", eh);
        CHECK (ex[0][1] < ex[0][0] / 3.0 && ex[0][2] < ex[0][1] / 3.0, "2M: second order: %.3g, %.3g, %.3g",
               ex[0][0], ex[0][1], ex[0][2]);
        CHECK (ex[1][1] < ex[1][0] / 6.0 && ex[1][2] < ex[1][1] / 6.0, "3M: third order: %.3g, %.3g, %.3g",
               ex[1][0], ex[1][1], ex[1][2]);
        CHECK (ex[2][0] < 0.02 && ex[2][1] < 1e-3 && ex[2][2] < 1e-3,
               "exp3m within 0.02 bits/dim at 8 steps (%.3g), 1e-3 at 16 (%.3g) and 32 (%.3g)", ex[2][0], ex[2][1],
               ex[2][2]);
        CHECK (ex[0][0] < eh && ex[1][0] < eh && ex[2][0] < eh,
               "8 steps (9 evaluations) closer than Heun 4 steps (8): %.3g, %.3g, %.3g, Heun %.3g", ex[0][0], ex[1][0],
               ex[2][0], eh);
        /* as a variance-ratio head: the last node's divergence from the head alone (eval_var) gives the same
         * figure with one score evaluation fewer than through the full moments */
        double lv[1], lf[1];
        uint32_t ev[2], hv[2];
        dfx_status (*var) (dfx__moments *, uint32_t, uint32_t, uint32_t, dfx_buffer *, double, dfx_buffer *) =
            mo->eval_var;
        mo->network_ratio = 1;
        for (int v = 0; v < 2; v++) {
            const uint32_t h0 = mo->head_evals;
            mo->eval_var = v ? NULL : var;
            run_exp (ctx, mo, 16, 3, DFX__LIK_EXP_NODE_POWER, smin, smax, mu, lam, x, v ? lf : lv, &s);
            ev[v] = s.evals, hv[v] = mo->head_evals - h0;
        }
        mo->eval_var = var, mo->network_ratio = 0;
        printf ("exp3m 16 steps, the last node from the head alone: %.9g against %.9g nats; %u and %u score, %u and "
                "%u head evaluations\n", lv[0], lf[0], ev[0], ev[1], hv[0], hv[1]);
        CHECK (fabs (lv[0] - lf[0]) * bpd < 1e-6 && ev[0] == 16 && ev[1] == 17 && hv[0] == 17 && hv[1] == 17,
               "last node from the head alone: %.9g vs %.9g nats, %u/%u score and %u/%u head evaluations", lv[0],
               lf[0], ev[0], ev[1], hv[0], hv[1]);
    }
    dfx__moments_destroy (mo);

    /* 2. rotated full-rank Σ: non-separable; prior N(μ, mean λ + σ̃²) at a large σ̃_max */
    double U[D * D];
    for (int k = 0; k < D * D; k++)
        U[k] = check_uniform (&r, -1, 1);
    for (int k = 0; k < D; k++) { /* Gram–Schmidt */
        for (int j = 0; j < k; j++) {
            double p = 0;
            for (int i = 0; i < D; i++)
                p += U[k * D + i] * U[j * D + i];
            for (int i = 0; i < D; i++)
                U[k * D + i] -= p * U[j * D + i];
        }
        double nn = 0;
        for (int i = 0; i < D; i++)
            nn += U[k * D + i] * U[k * D + i];
        for (int i = 0; i < D; i++)
            U[k * D + i] /= sqrt (nn);
    }
    CHECK (dfx__moments_gauss (ctx, 1, D, mu, D, U, lam, 0.0, &mo) == DFX_OK, "rotated moments");
    double lbar = 0.0, pv[D];
    for (int i = 0; i < D; i++)
        lbar += lam[i] / D;
    for (int i = 0; i < D; i++)
        pv[i] = lbar;
    run_lik (ctx, mo, DFX__ODE_RK45, 0, smin, 1e4, mu, pv, x, 1, logp, NULL, &s);
    want = log_normal_full (xd, mu, U, lam, D, smin * smin);
    CHECK (fabs (logp[0] - want) * bpd < 1e-4, "rotated: %.8f vs %.8f nats (%.2e bits/dim)", logp[0], want,
           fabs (logp[0] - want) * bpd);
    printf ("rotated Gaussian: DF-TM %.8f, closed form %.8f nats; error %.2e bits/dim; %u steps\n", logp[0], want,
            fabs (logp[0] - want) * bpd, s.steps);

    /* 5. the baselines: the network's (here the exact denoiser's) Jacobian by finite differences */
    double ex = run_trace (ctx, mo, DFX_TRACE_EXACT, 0, 0, smin, 1e4, mu, pv, x);
    CHECK (fabs (ex - want) * bpd < 1e-3, "exact-trace baseline: %.6f vs %.6f nats (%.2e bits/dim)", ex, want,
           fabs (ex - want) * bpd);
    double h1[12], hm = 0.0, hv = 0.0;
    for (int k = 0; k < 12; k++)
        hm += (h1[k] = run_trace (ctx, mo, DFX_TRACE_HUTCHINSON, 1, 1000 + k, smin, 1e4, mu, pv, x)) / 12;
    for (int k = 0; k < 12; k++)
        hv += (h1[k] - hm) * (h1[k] - hm) / 11;
    double hse = sqrt (hv / 12);
    CHECK (sqrt (hv) * bpd > 1e-3, "Hutchinson, 1 probe: spread %.3g bits/dim over 12 seeds", sqrt (hv) * bpd);
    CHECK (fabs (hm - want) < 4 * hse, "Hutchinson, 1 probe: mean %.6f vs %.6f nats, standard error %.3g", hm,
           want, hse);
    double h256 = run_trace (ctx, mo, DFX_TRACE_HUTCHINSON, 256, 7, smin, 1e4, mu, pv, x);
    CHECK (fabs (h256 - want) * bpd < 1e-2, "Hutchinson, 256 probes: %.6f vs %.6f nats (%.2e bits/dim)", h256, want,
           fabs (h256 - want) * bpd);
    printf ("baselines: exact trace %.2e bits/dim off; Hutchinson 1 probe mean %.2e off, spread %.3g bits/dim; "
            "256 probes %.2e off\n", fabs (ex - want) * bpd, fabs (hm - want) * bpd, sqrt (hv) * bpd,
            fabs (h256 - want) * bpd);
    dfx__moments_destroy (mo);
    dfx_ctx_destroy (ctx);
    return check_exit ();
}
