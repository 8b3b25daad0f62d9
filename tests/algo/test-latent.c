/* test-latent.c — the latent diagnostics (compute/algo/latent-diagnose.c and
 * its parts) against closed forms and exact references.
 *
 * Gaussian data N(0, Σ), D = 6, dense Σ with eigenvalues over two decades,
 * N = 4000 draws, under three linear encoders z = A x + b:
 *   pca     A = the top 3 eigenvectors of Σ (3 × 6): m = L = 1
 *   orth    A = 1.7·Q, Q a random rotation: m = L = 1.7 (the bound is tight)
 *   aniso   A = Q₂ diag(0.3, 0.5, 1, 1.5, 2, 3) Q₁ᵀ: m = 0.3, L = 3
 * With the Gaussian density (moments of the points, 1/n), for G = N(0, S):
 *   J = tr (S + τI)⁻¹,  FIR = ‖(S + τI)⁻¹‖_F²,  mmse = τD − τ²J,
 *   d mmse/dτ = ‖S (S + τI)⁻¹‖_F²,
 * with S the sample's own covariance (and A S Aᵀ for the codes), computed
 * here by Gauss–Jordan inversion, independent of the library's Jacobi path:
 * rel. 1e-9.  Against the population Σ: rel. 0.09, four standard errors of a
 * FIR term (1/λ², twice an eigenvalue's relative sampling error √(2/N)).  The Jacobian's extreme singular values
 * against A's: rel. 1e-8 (central differences are exact on an affine map up to rounding).  The sandwich's sides against
 * their closed forms with the known m, L: rel. 1e-8; every level passes; for `orth` both margins are 0 within 1e-8.
 * The paper summary's one-level form J_x(τ)/L² ≤ J_z(τ) ≤ J_x(τ)/m²: its sides against the closed forms (1e-8), and
 * it fails where it must: `orth`'s upper side and `pca`'s lower side at every level.
 * E‖s‖² (Monte Carlo) within 4 standard errors of J.
 *
 * Empirical density (Dirac mixture): the posterior's x̂0, tr C, ‖C‖_F² against
 * dirac.c's full matrices at random points (1e-10); one point: J = d/τ,
 * FIR = d/τ², mmse 0; at τ = 100 the Dirac mixture's J and FIR agree with
 * the moment-matched Gaussian's to 1e-4 (both are d/τ − tr S/τ² + O(τ⁻³));
 * the sandwich passes at every level under `aniso` on 300 points; and an
 * encoder whose Jacobian is the identity at the data points (a 4 × 4 grid)
 * but contracts the grid by 4 between them fails the lower side at some
 * level — the check can fail, and the secant constant (0.25) shows why.
 * The default levels on that grid under the identity: 0.1 × the nearest-
 * neighbour distance 1 to 3 × the RMS radius √2.5.
 * Bad arguments and an encoder's error are refused with messages.
 */
#pragma GCC diagnostic ignored "-Wunused-function"
#include "algo-common.h"
#include "algo/dirac.h"
#include "algo/latent.h"

#define D  6
#define N  4000
#define NL 7

static const double SIGMAS[NL] = {0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0};

typedef struct lin {
    int dz;
    double A[D * D], b[D];
    int fail; /* 1: report an error */
} lin;

static dfx_status
lin_enc (void *user, uint32_t n, const double *x, double *z)
{
    lin *l = user;
    if (l->fail)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "test encoder: asked to fail");
    for (uint32_t i = 0; i < n; i++)
        for (int r = 0; r < l->dz; r++) {
            double v = l->b[r];
            for (int k = 0; k < D; k++)
                v += l->A[r * D + k] * x[(size_t)i * D + k];
            z[(size_t)i * l->dz + r] = v;
        }
    return DFX_OK;
}

/* Gauss–Jordan inverse of a d × d matrix (partial pivoting), in place. */
static void
invert (int d, double *a)
{
    double inv[D * D];
    for (int i = 0; i < d * d; i++)
        inv[i] = (i / d == i % d);
    for (int c = 0; c < d; c++) {
        int p = c;
        for (int r = c + 1; r < d; r++)
            if (fabs (a[r * d + c]) > fabs (a[p * d + c]))
                p = r;
        for (int k = 0; k < d; k++) {
            double t = a[c * d + k];
            a[c * d + k] = a[p * d + k], a[p * d + k] = t;
            t = inv[c * d + k], inv[c * d + k] = inv[p * d + k], inv[p * d + k] = t;
        }
        double piv = a[c * d + c];
        for (int k = 0; k < d; k++)
            a[c * d + k] /= piv, inv[c * d + k] /= piv;
        for (int r = 0; r < d; r++)
            if (r != c) {
                double f = a[r * d + c];
                for (int k = 0; k < d; k++)
                    a[r * d + k] -= f * a[c * d + k], inv[r * d + k] -= f * inv[c * d + k];
            }
    }
    memcpy (a, inv, (size_t)d * d * sizeof *a);
}

typedef struct closed {
    double j, fir, mmse, rate;
} closed;

/* The closed forms for N(·, S) (d × d) at τ. */
static closed
gauss_closed (int d, const double *S, double tau)
{
    double a[D * D];
    for (int i = 0; i < d * d; i++)
        a[i] = S[i] + (i / d == i % d ? tau : 0.0);
    invert (d, a);
    closed c = {0};
    for (int i = 0; i < d; i++) {
        c.j += a[i * d + i];
        for (int k = 0; k < d; k++) {
            c.fir += a[i * d + k] * a[i * d + k];
            double sa = 0.0; /* (S (S + τI)⁻¹)_ik */
            for (int q = 0; q < d; q++)
                sa += S[i * d + q] * a[q * d + k];
            c.rate += sa * sa;
        }
    }
    c.mmse = tau * d - tau * tau * c.j;
    return c;
}

/* S_z = A S Aᵀ (dz × dz). */
static void
push_cov (const lin *l, const double *S, double *Sz)
{
    for (int a = 0; a < l->dz; a++)
        for (int b = 0; b < l->dz; b++) {
            double v = 0.0;
            for (int i = 0; i < D; i++)
                for (int k = 0; k < D; k++)
                    v += l->A[a * D + i] * S[i * D + k] * l->A[b * D + k];
            Sz[a * l->dz + b] = v;
        }
}

static int
rel_ok (double got, double want, double tol, const char *case_, const char *what, double sigma)
{
    int ok = fabs (got - want) <= tol * fabs (want);
    CHECK (ok, "%s, sigma %g, %s: %.10g against %.10g (rel. %.2g, tolerance %.2g)", case_, sigma, what, got, want,
           fabs (got - want) / fabs (want), tol);
    return ok;
}

static double
gauss_draw (check_rng *r)
{
    double u1 = (check_uniform (r, 0, 1) + 0.5 / 16777216.0), u2 = check_uniform (r, 0, 1);
    return sqrt (-2.0 * log (u1)) * cos (2.0 * M_PI * u2);
}

/* A random rotation: the eigenvectors of a random symmetric matrix. */
static void
rotation (check_rng *r, double *Q)
{
    double a[D * D], vals[D];
    for (int i = 0; i < D; i++)
        for (int k = 0; k <= i; k++)
            a[i * D + k] = a[k * D + i] = check_uniform (r, -1, 1);
    dfx__eigh (D, a, vals, Q);
}

static void
run_gauss_case (const char *name, lin *l, double m, double L, const float *data, const double *S_pop,
                const double *S_emp)
{
    dfx_latent_params p;
    dfx_latent_params_defaults (&p);
    p.sigmas = SIGMAS, p.n_sigmas = NL, p.density = DFX_DENSITY_GAUSSIAN, p.samples = 2000, p.seed = 5;
    dfx_latent_row rows[NL];
    dfx_latent_summary s;
    dfx_status st = dfx_latent_diagnose (ctx, &p, data, N, D, (uint32_t)l->dz, lin_enc, l, rows, &s);
    CHECK (st == DFX_OK, "%s: %s", name, dfx_ctx_errmsg (ctx));
    if (st != DFX_OK)
        return;
    rel_ok (s.sv_min, m, 1e-8, name, "sigma_min of the Jacobian", 0);
    rel_ok (s.sv_max, L, 1e-8, name, "sigma_max of the Jacobian", 0);
    CHECK (s.levels_passed == NL, "%s: the sandwich holds at %u of %d levels", name, s.levels_passed, NL);
    double Sz_emp[D * D], Sz_pop[D * D];
    push_cov (l, S_emp, Sz_emp);
    push_cov (l, S_pop, Sz_pop);
    double worst_pop = 0.0;
    for (int j = 0; j < NL; j++) {
        const dfx_latent_row *r = rows + j;
        const double tau = r->tau, sg = r->sigma;
        closed cx = gauss_closed (D, S_emp, tau), cz = gauss_closed (l->dz, Sz_emp, tau);
        rel_ok (r->x.j, cx.j, 1e-9, name, "J_x", sg);
        rel_ok (r->x.fir, cx.fir, 1e-9, name, "FIR_x", sg);
        rel_ok (r->x.mmse, cx.mmse, 1e-9, name, "mmse_x", sg);
        rel_ok (r->x.rate, cx.rate, 1e-9, name, "mmse rate_x", sg);
        rel_ok (r->z.j, cz.j, 1e-9, name, "J_z", sg);
        rel_ok (r->z.fir, cz.fir, 1e-9, name, "FIR_z", sg);
        rel_ok (r->z.mmse, cz.mmse, 1e-9, name, "mmse_z", sg);
        rel_ok (r->z.rate, cz.rate, 1e-9, name, "mmse rate_z", sg);
        rel_ok (r->z.rate_d + r->z.rate_j + r->z.rate_fir, r->z.rate, 1e-7, name, "terms of the rate_z", sg);
        CHECK (fabs (r->x.j_score - r->x.j) <= 4 * r->x.j_score_se + 1e-12 * r->x.j,
               "%s, sigma %g: E|s|^2 %.6g against J %.6g (se %.2g)", name, sg, r->x.j_score, r->x.j, r->x.j_score_se);
        CHECK (fabs (r->z.j_score - r->z.j) <= 4 * r->z.j_score_se + 1e-12 * r->z.j,
               "%s, sigma %g: E|s_z|^2 %.6g against J_z %.6g (se %.2g)", name, sg, r->z.j_score, r->z.j,
               r->z.j_score_se);
        /* the sides with the known constants */
        double lo = gauss_closed (D, S_emp, tau / (m * m)).j / (L * L) - (double)(D - l->dz) * m * m / (tau * L * L);
        double hi = gauss_closed (D, S_emp, tau / (L * L)).j / (m * m);
        rel_ok (r->lower, lo, 1e-8, name, "lower side", sg);
        rel_ok (r->upper, hi, 1e-8, name, "upper side", sg);
        /* the paper summary's form at one level */
        rel_ok (r->lower_same, cx.j / (L * L), 1e-8, name, "one-level lower side", sg);
        rel_ok (r->upper_same, cx.j / (m * m), 1e-8, name, "one-level upper side", sg);
        const double mlo = (cz.j - cx.j / (L * L)) / cz.j, mhi = (cx.j / (m * m) - cz.j) / cz.j;
        CHECK (fabs (r->lower_same_margin - mlo) <= 1e-8 && fabs (r->upper_same_margin - mhi) <= 1e-8,
               "%s, sigma %g: one-level margins %.10g, %.10g against %.10g, %.10g", name, sg, r->lower_same_margin,
               r->upper_same_margin, mlo, mhi);
        /* against the population */
        closed px = gauss_closed (D, S_pop, tau), pz = gauss_closed (l->dz, Sz_pop, tau);
        worst_pop = fmax (worst_pop, fabs (r->x.j - px.j) / px.j);
        worst_pop = fmax (worst_pop, fabs (r->z.j - pz.j) / pz.j);
        worst_pop = fmax (worst_pop, fabs (r->z.fir - pz.fir) / pz.fir);
    }
    CHECK (worst_pop <= 0.09, "%s: J, FIR against the population's closed form: worst rel. %.3g > 0.09", name,
           worst_pop);
    printf ("%-6s m %.9g L %.9g, secant [%.4g, %.4g]; worst rel. error against the population %.3g; margins at "
            "sigma 1: lower %.3g upper %.3g\n",
            name, s.sv_min, s.sv_max, s.secant_min, s.secant_max, worst_pop, rows[3].lower_margin,
            rows[3].upper_margin);
    if (l->dz == D && fabs (m - L) < 1e-12)
        for (int j = 0; j < NL; j++)
            CHECK (fabs (rows[j].lower_margin) <= 1e-8 && fabs (rows[j].upper_margin) <= 1e-8,
                   "%s, sigma %g: a scaled rotation's margins %.3g, %.3g are not 0", name, rows[j].sigma,
                   rows[j].lower_margin, rows[j].upper_margin);
    /* The one-level form is no theorem.  A scaled rotation c·Q (c > 1) gives
     * J_z(τ) = Σ 1/(c²λ + τ) > Σ 1/(c²λ + c²τ) = J_x(τ)/c²: its upper side
     * fails at every level (its lower side holds).  PCA truncation (m = L = 1)
     * drops the discarded directions' Σ 1/(λ + τ) from J_x: its lower side
     * fails at every level (its upper side holds). */
    const int orth = l->dz == D && fabs (m - L) < 1e-12 && m > 1.0, pca = l->dz < D && m == 1.0 && L == 1.0;
    for (int j = 0; (orth || pca) && j < NL; j++) {
        const dfx_latent_row *r = rows + j;
        if (orth)
            CHECK (r->lower_same_pass && !r->upper_same_pass && r->upper_same_margin < -1e-6,
                   "%s, sigma %g: one-level sides %s (margin %.3g) / %s (margin %.3g), want pass / FAIL", name,
                   r->sigma, r->lower_same_pass ? "pass" : "FAIL", r->lower_same_margin,
                   r->upper_same_pass ? "pass" : "FAIL", r->upper_same_margin);
        else
            CHECK (!r->lower_same_pass && r->upper_same_pass && r->lower_same_margin < -1e-6,
                   "%s, sigma %g: one-level sides %s (margin %.3g) / %s (margin %.3g), want FAIL / pass", name,
                   r->sigma, r->lower_same_pass ? "pass" : "FAIL", r->lower_same_margin,
                   r->upper_same_pass ? "pass" : "FAIL", r->upper_same_margin);
    }
    if (orth || pca)
        CHECK (s.levels_passed_same == 0, "%s: the one-level form holds at %u levels", name, s.levels_passed_same);
    printf ("%-6s one-level form holds at %u of %d levels; margins at sigma 0.03 / 1 / 30: lower %.3g %.3g %.3g, "
            "upper %.3g %.3g %.3g\n",
            name, s.levels_passed_same, NL, rows[0].lower_same_margin, rows[3].lower_same_margin,
            rows[6].lower_same_margin, rows[0].upper_same_margin, rows[3].upper_same_margin, rows[6].upper_same_margin);
}

/* z = x/4 + (3/(8π)) sin(2πx) per coordinate: Jacobian I on the integers,
 * a contraction by 4 between them. */
static dfx_status
wiggle_enc (void *user, uint32_t n, const double *x, double *z)
{
    (void)user;
    for (size_t i = 0; i < (size_t)n * 2; i++)
        z[i] = x[i] / 4 + 3.0 / (8.0 * M_PI) * sin (2.0 * M_PI * x[i]);
    return DFX_OK;
}

static dfx_status
id2_enc (void *user, uint32_t n, const double *x, double *z)
{
    (void)user;
    memcpy (z, x, (size_t)n * 2 * sizeof *z);
    return DFX_OK;
}

static void
empirical_checks (const float *data, check_rng *rng)
{
    /* the posterior against dirac.c */
    enum { NP = 7, DD = 5 };
    double y[NP * DD], work[4 * NP], dwork[NP], x[DD], xh[DD], xr[DD], C[DD * DD];
    for (int i = 0; i < NP * DD; i++)
        y[i] = check_uniform (rng, -1, 1);
    dfx__density *den = NULL;
    CHECK (dfx__density_create (ctx, DFX_DENSITY_EMPIRICAL, y, NP, DD, &den) == DFX_OK, "density");
    dfx__dirac ref = {NP, DD, y};
    double worst = 0.0;
    for (int t = 0; t < 40; t++) {
        const double sigma = 0.05 * pow (1.25, t % 20), tau = sigma * sigma;
        for (int k = 0; k < DD; k++)
            x[k] = check_uniform (rng, -1.3f, 1.3f);
        double trc, f2, rtr = 0.0, rf2 = 0.0;
        dfx__density_posterior (den, x, tau, work, xh, &trc, &f2);
        dfx__dirac_posterior (&ref, x, 1.0, sigma, dwork, xr, C, NULL, NULL);
        for (int a = 0; a < DD; a++) {
            rtr += C[a * DD + a];
            worst = fmax (worst, fabs (xh[a] - xr[a]));
            for (int b = 0; b < DD; b++)
                rf2 += C[a * DD + b] * C[a * DD + b];
        }
        worst = fmax (worst, fmax (fabs (trc - rtr), fabs (f2 - rf2)));
    }
    CHECK (worst <= 1e-10, "empirical posterior against dirac.c: worst abs. error %.3g", worst);
    printf ("empirical posterior against dirac.c: worst abs. error %.3g\n", worst);
    dfx__density_destroy (den);

    /* one point */
    double one[DD] = {0.3, -0.2, 0.1, 0.5, -0.7};
    CHECK (dfx__density_create (ctx, DFX_DENSITY_EMPIRICAL, one, 1, DD, &den) == DFX_OK, "density of one point");
    dfx_fisher_stats fs;
    CHECK (dfx__fisher_level (ctx, den, 0.04, 50, 1, 1, &fs) == DFX_OK, "one point");
    CHECK (fabs (fs.j - DD / 0.04) <= 1e-9 * fs.j && fabs (fs.fir - DD / (0.04 * 0.04)) <= 1e-9 * fs.fir &&
               fs.mmse == 0.0,
           "one point: J %.10g (want %.10g), FIR %.10g (want %.10g), mmse %g", fs.j, DD / 0.04, fs.fir,
           DD / (0.04 * 0.04), fs.mmse);
    dfx__density_destroy (den);

    /* large τ: Dirac mixture against its moment-matched Gaussian */
    double *pts = malloc ((size_t)300 * D * sizeof *pts);
    for (int i = 0; i < 300 * D; i++)
        pts[i] = data[i];
    dfx__density *de = NULL, *dg = NULL;
    CHECK (dfx__density_create (ctx, DFX_DENSITY_EMPIRICAL, pts, 300, D, &de) == DFX_OK, "empirical");
    CHECK (dfx__density_create (ctx, DFX_DENSITY_GAUSSIAN, pts, 300, D, &dg) == DFX_OK, "gaussian");
    dfx_fisher_stats fe, fg;
    dfx__fisher_level (ctx, de, 100.0, 300, 2, 1, &fe);
    dfx__fisher_level (ctx, dg, 100.0, 300, 2, 1, &fg);
    CHECK (fabs (fe.j - fg.j) <= 1e-4 * fg.j && fabs (fe.fir - fg.fir) <= 1e-4 * fg.fir,
           "tau 100: Dirac J %.8g FIR %.8g, Gaussian J %.8g FIR %.8g", fe.j, fe.fir, fg.j, fg.fir);
    printf ("tau 100: Dirac mixture J %.8g FIR %.8g; its Gaussian J %.8g FIR %.8g\n", fe.j, fe.fir, fg.j, fg.fir);
    dfx__density_destroy (de), dfx__density_destroy (dg);
    free (pts);
}

int
main (void)
{
    algo_open ();
    check_rng rng = {77};
    /* Σ = Q diag(λ) Qᵀ, λ over two decades */
    const double lam[D] = {2.0, 0.9, 0.4, 0.15, 0.05, 0.02};
    double Q[D * D], S_pop[D * D], S_emp[D * D] = {0}, Lc[D * D] = {0};
    rotation (&rng, Q);
    for (int i = 0; i < D; i++)
        for (int k = 0; k < D; k++) {
            double v = 0.0;
            for (int q = 0; q < D; q++)
                v += Q[i * D + q] * lam[q] * Q[k * D + q];
            S_pop[i * D + k] = v;
        }
    for (int i = 0; i < D; i++) /* Σ^{1/2} = Q diag(√λ) */
        for (int q = 0; q < D; q++)
            Lc[i * D + q] = Q[i * D + q] * sqrt (lam[q]);
    float *data = malloc ((size_t)N * D * sizeof *data);
    double mean[D] = {0};
    for (int n = 0; n < N; n++) {
        double e[D];
        for (int q = 0; q < D; q++)
            e[q] = gauss_draw (&rng);
        for (int i = 0; i < D; i++) {
            double v = 0.0;
            for (int q = 0; q < D; q++)
                v += Lc[i * D + q] * e[q];
            data[n * D + i] = (float)v;
            mean[i] += (double)data[n * D + i] / N;
        }
    }
    for (int n = 0; n < N; n++)
        for (int i = 0; i < D; i++)
            for (int k = 0; k < D; k++)
                S_emp[i * D + k] += ((double)data[n * D + i] - mean[i]) * ((double)data[n * D + k] - mean[k]) / N;

    lin l = {0};
    /* pca: the eigenvectors of λ 2.0, 0.9, 0.4 */
    l.dz = 3;
    for (int r = 0; r < 3; r++) {
        l.b[r] = 0.1 * r;
        for (int k = 0; k < D; k++)
            l.A[r * D + k] = Q[k * D + r];
    }
    run_gauss_case ("pca", &l, 1.0, 1.0, data, S_pop, S_emp);
    /* orth */
    double R[D * D], R2[D * D];
    rotation (&rng, R);
    rotation (&rng, R2);
    l.dz = D;
    for (int i = 0; i < D * D; i++)
        l.A[i] = 1.7 * R[i];
    for (int r = 0; r < D; r++)
        l.b[r] = -0.2 + 0.05 * r;
    run_gauss_case ("orth", &l, 1.7, 1.7, data, S_pop, S_emp);
    /* aniso: Q₂ diag(a) Q₁ᵀ */
    const double a[D] = {0.3, 0.5, 1.0, 1.5, 2.0, 3.0};
    lin an = {.dz = D};
    for (int i = 0; i < D; i++)
        for (int k = 0; k < D; k++) {
            double v = 0.0;
            for (int q = 0; q < D; q++)
                v += R2[i * D + q] * a[q] * R[k * D + q];
            an.A[i * D + k] = v;
        }
    run_gauss_case ("aniso", &an, 0.3, 3.0, data, S_pop, S_emp);

    empirical_checks (data, &rng);

    /* Dirac mixture under aniso: a theorem for any distribution */
    dfx_latent_params p;
    dfx_latent_params_defaults (&p);
    p.sigmas = SIGMAS, p.n_sigmas = NL, p.samples = 600, p.seed = 9;
    dfx_latent_row rows[NL];
    dfx_latent_summary s;
    dfx_status st = dfx_latent_diagnose (ctx, &p, data, 300, D, D, lin_enc, &an, rows, &s);
    CHECK (st == DFX_OK, "empirical aniso: %s", dfx_ctx_errmsg (ctx));
    CHECK (s.levels_passed == NL, "empirical aniso: the sandwich holds at %u of %d levels", s.levels_passed, NL);
    for (int j = 0; j < NL; j++) {
        const dfx_latent_row *r = rows + j;
        CHECK (fabs (r->z.j_score - r->z.j) <= 4 * r->z.j_score_se + 1e-9 * r->z.j,
               "empirical aniso, sigma %g: E|s_z|^2 %.6g against J_z %.6g (se %.2g)", r->sigma, r->z.j_score, r->z.j,
               r->z.j_score_se);
        printf ("empirical aniso sigma %-5g J_x %-10.5g J_z %-10.5g FIR_z %-10.5g rate_z %-9.4g lower %-10.5g upper "
                "%-10.5g margins %.3g %.3g\n",
                r->sigma, r->x.j, r->z.j, r->z.fir, r->z.rate, r->lower, r->upper, r->lower_margin, r->upper_margin);
    }

    /* the check can fail: local constants 1, a global contraction by 4 */
    float grid[32];
    for (int i = 0; i < 16; i++)
        grid[2 * i] = (float)(i % 4), grid[2 * i + 1] = (float)(i / 4);
    const double ws[5] = {0.05, 0.1, 0.2, 0.4, 0.8};
    p.sigmas = ws, p.n_sigmas = 5, p.samples = 400, p.jacobian_points = 16, p.fd_step = 1e-4;
    st = dfx_latent_diagnose (ctx, &p, grid, 16, 2, 2, wiggle_enc, NULL, rows, &s);
    CHECK (st == DFX_OK, "wiggle: %s", dfx_ctx_errmsg (ctx));
    CHECK (fabs (s.sv_min - 1.0) < 1e-6 && fabs (s.sv_max - 1.0) < 1e-6 && fabs (s.secant_min - 0.25) < 1e-9,
           "wiggle: local constants %.9g %.9g (want 1), secant min %.9g (want 0.25)", s.sv_min, s.sv_max, s.secant_min);
    int failed = 0;
    for (int j = 0; j < 5; j++) {
        failed += !rows[j].lower_pass;
        printf ("wiggle sigma %-5g J_x %-10.5g J_z %-10.5g lower %-10.5g margin %.3g (se %.2g) %s\n", rows[j].sigma,
                rows[j].x.j, rows[j].z.j, rows[j].lower, rows[j].lower_margin, rows[j].lower_margin_se,
                rows[j].lower_pass ? "pass" : "FAIL");
    }
    CHECK (failed > 0, "wiggle: the lower side holds at every level although the encoder contracts the grid by 4");

    /* the default levels on the grid under the identity: nearest neighbours 1, RMS radius √2.5 */
    dfx_latent_params_defaults (&p);
    p.n_sigmas = 6, p.samples = 16;
    dfx_latent_row drows[6];
    st = dfx_latent_diagnose (ctx, &p, grid, 16, 2, 2, id2_enc, NULL, drows, &s);
    CHECK (st == DFX_OK && fabs (drows[0].sigma - 0.1) < 1e-12 && fabs (drows[5].sigma - 3.0 * sqrt (2.5)) < 1e-12,
           "default levels %.12g .. %.12g, want 0.1 .. %.12g (%s)", drows[0].sigma, drows[5].sigma, 3.0 * sqrt (2.5),
           dfx_ctx_errmsg (ctx));

    /* refusals */
    dfx_latent_params_defaults (&p);
    const double bad[1] = {-1.0};
    p.sigmas = bad, p.n_sigmas = 1;
    st = dfx_latent_diagnose (ctx, &p, data, 50, D, D, lin_enc, &an, rows, &s);
    CHECK (st == DFX_ERR_INVALID_ARGUMENT && strstr (dfx_ctx_errmsg (ctx), "sigma"), "sigma -1: %s",
           dfx_ctx_errmsg (ctx));
    dfx_latent_params_defaults (&p);
    p.n_sigmas = 2;
    st = dfx_latent_diagnose (ctx, &p, data, 1, D, D, lin_enc, &an, rows, &s);
    CHECK (st == DFX_ERR_INVALID_ARGUMENT && strstr (dfx_ctx_errmsg (ctx), "1 data points"), "one point: %s",
           dfx_ctx_errmsg (ctx));
    float nan_data[2 * D] = {0};
    nan_data[7] = NAN;
    st = dfx_latent_diagnose (ctx, &p, nan_data, 2, D, D, lin_enc, &an, rows, &s);
    CHECK (st == DFX_ERR_INVALID_ARGUMENT && strstr (dfx_ctx_errmsg (ctx), "data point 1, value 1"), "NaN: %s",
           dfx_ctx_errmsg (ctx));
    an.fail = 1;
    st = dfx_latent_diagnose (ctx, &p, data, 50, D, D, lin_enc, &an, rows, &s);
    CHECK (st == DFX_ERR_INVALID_ARGUMENT && strstr (dfx_ctx_errmsg (ctx), "asked to fail"), "encoder error: %s",
           dfx_ctx_errmsg (ctx));
    free (data);
    dfx_ctx_destroy (ctx);
    return check_exit ();
}
