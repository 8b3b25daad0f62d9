/* test-edit.c — the guided edit's adjoint (compute/edit/, MATH.md "DF-EA")
 * on analytic data, against independent double-precision references:
 *
 *  1. One-point data set: the DF-EA gradient of ℓ(x_N) with respect to the
 *     start point equals the exact adjoint and the closed form
 *     (σ_end/σ_start)·∇ℓ, to float precision (DDIM and Euler levels).
 *  2. The exact adjoint (exact covariance products) equals central finite
 *     differences of the forward map on Gaussian data (linear map) and on a
 *     three-point Dirac mixture (non-linear), coordinate by coordinate.
 *  3. Gaussian data: the DF-EA gradient's relative error against the exact
 *     gradient per σ_start, and the check that it lies under the bound
 *       ‖ĝ − g‖ ≤ Σ_i (Π_{j<i} ‖B̂_j‖) κ_i ‖(Ĉ_i − C_i) a_{i+1}‖
 *                ≤ Σ_i (Π_{j<i} ‖B̂_j‖) κ_i (‖C_i‖ + ‖Ĉ_i‖) ‖a_{i+1}‖,
 *     B̂_j = r_j I + κ_j Ĉ_j, Ĉ = x̄0x̄0ᵀ − x̂0x̂0ᵀ, ‖C_i‖ = σ_i²λ_max/(λ_max + σ_i²),
 *     a_{i+1} the exact adjoint (telescoping the two products).
 *  4. Dirac mixture: DF-EA approaches the exact adjoint as σ_start falls
 *     (the posterior becomes a point mass).
 *  5. The whole edit (dfx__edit_run) on Gaussian data: the masked loss falls
 *     over the iterations with the clamped and plain DF-EA and with the exact
 *     adjoint; a host loss callback computing the same masked loss gives the
 *     same iterates; progress rises to 1, the preview sees every iterate,
 *     a nonzero progress return cancels (DFX_ERR_CANCELLED).
 */
#include "algo-common.h"
#include "algo/dirac.h"
#include "edit/edit-private.h"

#define SIGMA_MAX 80.0
#define SIGMA_MIN 0.01

static const uint32_t C = 2, H = 3, W = 4, D = 24;
static gauss g;
static dfx__schedule sched;

/* ---- exact covariance products (host, double) ------------------------------ */

typedef struct cov_ctx {
    int kind; /* 0 Gaussian, 1 Dirac */
    dfx__dirac dirac;
    uint32_t n_cov;
} cov_ctx;

static void
gauss_cov_apply (double sigma, const double *a, double *out)
{
    int d = g.d;
    for (int i = 0; i < d; i++)
        out[i] = 0.0;
    for (int k = 0; k < d; k++) {
        double p = 0.0, lam = fmax (g.lam[k], 0.0);
        for (int j = 0; j < d; j++)
            p += g.V[j * d + k] * a[j];
        p *= sigma * sigma * lam / (lam + sigma * sigma);
        for (int i = 0; i < d; i++)
            out[i] += g.V[i * d + k] * p;
    }
}

static dfx_status
cov_exact (void *user, uint32_t step, dfx_buffer *x, double sigma, dfx_buffer *a, dfx_buffer *out)
{
    cov_ctx *cc = user;
    (void) step;
    float *xf = download (x, D), *af = download (a, D), of[64];
    double xd[64], ad[64], od[64], Cm[64 * 64], work[16], x0[64];
    for (uint32_t i = 0; i < D; i++)
        xd[i] = xf[i], ad[i] = af[i];
    if (cc->kind == 0) {
        gauss_cov_apply (sigma, ad, od);
    } else {
        dfx__dirac_posterior (&cc->dirac, xd, 1.0, sigma, work, x0, Cm, NULL, NULL);
        for (uint32_t i = 0; i < D; i++) {
            od[i] = 0.0;
            for (uint32_t j = 0; j < D; j++)
                od[i] += Cm[i * D + j] * ad[j];
        }
    }
    for (uint32_t i = 0; i < D; i++)
        of[i] = (float) od[i];
    cc->n_cov++;
    free (xf), free (af);
    return dfx_buffer_upload (ctx, out, 0, of, D * sizeof (float));
}

/* ---- one gradient ------------------------------------------------------------ */

/* ℓ(x) = ½ Σ w_i (x_i − t_i)² with fixed weights and target. */
static float lw[24], lt[24];

static double
loss_host (const float *x, double *grad)
{
    double l = 0.0;
    for (uint32_t i = 0; i < D; i++) {
        double e = (double) x[i] - lt[i];
        l += 0.5 * lw[i] * e * e;
        if (grad)
            grad[i] = lw[i] * e;
    }
    return l;
}

typedef struct run {
    float *xN, *xbar;  /* endpoint and x̄0 (D) */
    float *xhat;       /* N × D stored x̂0 */
    double grad[24];   /* the gradient with respect to the start */
} run;

static void
run_free (run *r)
{
    free (r->xN), free (r->xbar), free (r->xhat);
}

static dfx__edit_cov_gauss_state *gauss_adjoint; /* modes 3, 4 */
static uint8_t hybrid_net[16];                    /* mode 4: the steps with the network's product */
static uint32_t hybrid_evals;                     /* mode 4: network evaluations its products made */

/* mode 0: DF-EA, 1: exact with cc, 2: clamped DF-EA, 3: the Gaussian adjoint of gauss_adjoint, 4: the hybrid of
 * gauss_adjoint and one-sided differences of den at hybrid_net's steps. */
static run
gradient (dfx__denoiser *den, const dfx__edit_desc *md, const double *sig, const float *z, int mode, cov_ctx *cc)
{
    const uint32_t N = md->steps;
    run out = {0};
    dfx_buffer *x = upload (z, D), *xbar = upload (z, D), *a = upload (z, D), *tmp = upload (z, D);
    dfx_buffer **xhat = calloc (N, sizeof *xhat), **xs = calloc (N, sizeof *xs);
    for (uint32_t i = 0; i < N; i++)
        xhat[i] = upload (z, D), xs[i] = upload (z, D);
    dfx_status st = dfx__edit_forward (md, sig, x, xbar, xhat, xs, tmp, NULL);
    CHECK (st == DFX_OK, "forward: %s", dfx_ctx_errmsg (ctx));
    out.xN = download (x, D);
    out.xbar = download (xbar, D);
    out.xhat = malloc ((size_t) N * D * sizeof (float));
    for (uint32_t i = 0; i < N; i++) {
        float *h = download (xhat[i], D);
        memcpy (out.xhat + (size_t) i * D, h, D * sizeof (float));
        free (h);
    }
    double gl[24];
    float gf[24];
    loss_host (out.xN, gl);
    for (uint32_t i = 0; i < D; i++)
        gf[i] = (float) gl[i];
    CHECK (dfx_buffer_upload (ctx, a, 0, gf, sizeof gf) == DFX_OK, "upload");
    if (mode == 0)
        st = dfx__edit_adjoint_dfea (ctx, sig, N, D, xbar, xhat, a, tmp);
    else if (mode == 2)
        st = dfx__edit_adjoint_clamped (ctx, sig, N, D, xbar, xhat, a, tmp);
    else if (mode == 3)
        st = dfx__edit_adjoint_exact (ctx, sig, N, D, xs, dfx__edit_cov_gauss, gauss_adjoint, a, tmp);
    else if (mode == 4) {
        dfx_buffer *xp = upload (z, D), *dp = upload (z, D);
        dfx__edit_cov_fd_state fd = {den, H, W, D, xp, dp, 0, xhat};
        dfx__edit_cov_hybrid_state hs = {gauss_adjoint, &fd, hybrid_net};
        st = dfx__edit_adjoint_exact (ctx, sig, N, D, xs, dfx__edit_cov_hybrid, &hs, a, tmp);
        hybrid_evals = fd.evals;
        dfx_buffer_destroy (ctx, xp), dfx_buffer_destroy (ctx, dp);
    }
    else
        st = dfx__edit_adjoint_exact (ctx, sig, N, D, xs, cov_exact, cc, a, tmp);
    CHECK (st == DFX_OK, "adjoint: %s", dfx_ctx_errmsg (ctx));
    float *ga = download (a, D);
    for (uint32_t i = 0; i < D; i++)
        out.grad[i] = ga[i];
    free (ga);
    for (uint32_t i = 0; i < N; i++)
        dfx_buffer_destroy (ctx, xhat[i]), dfx_buffer_destroy (ctx, xs[i]);
    free (xhat), free (xs);
    dfx_buffer_destroy (ctx, x), dfx_buffer_destroy (ctx, xbar), dfx_buffer_destroy (ctx, a);
    dfx_buffer_destroy (ctx, tmp);
    (void) den;
    return out;
}

/* ℓ(Φ(z)) with the forward map only. */
static double
loss_of (const dfx__edit_desc *md, const double *sig, const double *z)
{
    float zf[24];
    for (uint32_t i = 0; i < D; i++)
        zf[i] = (float) z[i];
    dfx_buffer *x = upload (zf, D), *tmp = upload (zf, D);
    dfx_status st = dfx__edit_forward (md, sig, x, NULL, NULL, NULL, tmp, NULL);
    CHECK (st == DFX_OK, "forward: %s", dfx_ctx_errmsg (ctx));
    float *xN = download (x, D);
    double l = loss_host (xN, NULL);
    free (xN);
    dfx_buffer_destroy (ctx, x), dfx_buffer_destroy (ctx, tmp);
    return l;
}

static double
norm (const double *v, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += v[i] * v[i];
    return sqrt (s);
}

static double
rel_diff (const double *a, const double *b, size_t n)
{
    double e = 0.0;
    for (size_t i = 0; i < n; i++)
        e += (a[i] - b[i]) * (a[i] - b[i]);
    return sqrt (e) / fmax (norm (b, n), 1e-300);
}

static double
cosine (const double *a, const double *b, size_t n)
{
    double ab = 0.0;
    for (size_t i = 0; i < n; i++)
        ab += a[i] * b[i];
    return ab / fmax (norm (a, n) * norm (b, n), 1e-300);
}

static void
start_point (uint32_t seed, const double *centre, double sigma, float *z)
{
    float *e = noise (77, seed, 1, C, H, W);
    for (uint32_t i = 0; i < D; i++)
        z[i] = (float) ((centre ? centre[i] : 0.0) + sigma * e[i]);
    free (e);
}

/* ---- 1. one point ------------------------------------------------------------ */

static void
test_one_point (void)
{
    double y[24];
    check_rng rng = {5};
    for (uint32_t i = 0; i < D; i++)
        y[i] = check_uniform (&rng, -0.8f, 0.8f);
    dfx__denoiser *den = NULL;
    CHECK (dfx__denoiser_dirac (ctx, C, D, 1, y, &den) == DFX_OK, "one-point denoiser");
    cov_ctx cc = {.kind = 1, .dirac = {1, (int) D, y}};
    const dfx_sampler samplers[] = {DFX_SAMPLER_DDIM, DFX_SAMPLER_EULER};
    const double starts[] = {0.3, 2.0, 20.0};
    double worst = 0.0, worst_cf = 0.0, worst_hy = 0.0;
    int evals_ok = 1;
    /* the point's Gaussian statistics: mean y, every variance 0 (identity components) */
    double eig0[24] = {0}, *id = calloc ((size_t) D * D, sizeof *id);
    for (uint32_t i = 0; i < D; i++)
        id[(size_t) i * D + i] = 1.0;
    dfx__gauss_stats pst = {.channels = C, .height = H, .width = W, .has_pca = 1, .mean = y, .rank = D,
                            .eigval = eig0, .comps = id};
    dfx__skip *psk = NULL;
    CHECK (dfx__skip_create (ctx, &pst, &psk) == DFX_OK, "skip: %s", dfx_ctx_errmsg (ctx));
    dfx__edit_cov_gauss_state pgs = {ctx, psk, 1, H, W, D};
    for (int s = 0; s < 2; s++)
        for (int k = 0; k < 3; k++) {
            dfx__edit_desc md = {den, &sched, samplers[s], 8, starts[k], 0.0, H, W};
            double sig[10];
            dfx__edit_levels (&md, sig);
            CHECK (fabs (sig[0] / starts[k] - 1) < 1e-12 && fabs (sig[8] - SIGMA_MIN) < 1e-15, "levels %g..%g", sig[0], sig[8]);
            float z[24];
            start_point (k, y, starts[k], z);
            run a = gradient (den, &md, sig, z, 0, NULL), b = gradient (den, &md, sig, z, 1, &cc),
                cl = gradient (den, &md, sig, z, 2, NULL);
            worst = fmax (worst, rel_diff (cl.grad, b.grad, D));
            run_free (&cl);
            /* the hybrid: the point's Gaussian (C = 0) and the network's product (0: D is constant) at 3 steps */
            dfx__edit_hybrid_steps (sig, 8, 0.5 * starts[k], 3, hybrid_net);
            gauss_adjoint = &pgs;
            run hy = gradient (den, &md, sig, z, 4, NULL);
            worst_hy = fmax (worst_hy, rel_diff (hy.grad, b.grad, D));
            evals_ok &= hybrid_evals == 3;
            gauss_adjoint = NULL;
            run_free (&hy);
            double gl[24], cf[24];
            loss_host (a.xN, gl);
            for (uint32_t i = 0; i < D; i++)
                cf[i] = SIGMA_MIN / starts[k] * gl[i];
            double e = rel_diff (a.grad, b.grad, D), e2 = rel_diff (a.grad, cf, D);
            worst = fmax (worst, e), worst_cf = fmax (worst_cf, e2);
            run_free (&a), run_free (&b);
        }
    printf ("one point: DF-EA and clamped DF-EA vs exact adjoint %.2g, vs (sigma_end/sigma_start) grad l %.2g (max over 2 samplers x "
            "3 starts)\n", worst, worst_cf);
    CHECK (worst <= 1e-5, "one point: DF-EA differs from the exact adjoint by %.3g", worst);
    CHECK (worst_cf <= 1e-5, "one point: DF-EA differs from the closed form by %.3g", worst_cf);
    printf ("one point: the hybrid adjoint (Gaussian of the point, network's product at 3 of 8 steps) vs exact "
            "adjoint %.2g\n", worst_hy);
    CHECK (worst_hy <= 1e-5 && evals_ok, "one point: the hybrid adjoint differs from the exact one by %.3g (or "
           "made other than 3 evaluations)", worst_hy);
    dfx__skip_destroy (psk);
    free (id);
    dfx__denoiser_destroy (den);
}

/* ---- 2. exact adjoint = finite differences -------------------------------- */

static void
check_fd (dfx__denoiser *den, cov_ctx *cc, double sigma_start, const double *centre, double h, double tol,
          const char *what)
{
    dfx__edit_desc md = {den, &sched, DFX_SAMPLER_DDIM, 6, sigma_start, 0.0, H, W};
    double sig[8];
    dfx__edit_levels (&md, sig);
    float z[24];
    start_point (3, centre, sigma_start, z);
    run a = gradient (den, &md, sig, z, 1, cc);
    double fd[24], zd[24];
    for (uint32_t i = 0; i < D; i++)
        zd[i] = z[i];
    for (uint32_t i = 0; i < D; i++) {
        double keep = zd[i];
        zd[i] = keep + h;
        double lp = loss_of (&md, sig, zd);
        zd[i] = keep - h;
        double lm = loss_of (&md, sig, zd);
        zd[i] = keep;
        fd[i] = (lp - lm) / (2 * h);
    }
    double e = rel_diff (a.grad, fd, D);
    printf ("%s: exact adjoint vs central differences (h %g): rel error %.2g (|g| %.3g)\n", what, h, e,
            norm (fd, D));
    CHECK (e <= tol, "%s: exact adjoint vs finite differences %.3g > %.3g", what, e, tol);
    run_free (&a);
}

/* ---- 3. Gaussian: DF-EA error against σ_start and the bound --------------------- */

/* ‖r I + κ (uuᵀ − vvᵀ)‖₂ over d > 2 dimensions. */
static double
bhat_norm (double r, double kappa, const double *u, const double *v, uint32_t d)
{
    double uu = 0, vv = 0, uv = 0;
    for (uint32_t i = 0; i < d; i++)
        uu += u[i] * u[i], vv += v[i] * v[i], uv += u[i] * v[i];
    double disc = sqrt (fmax ((uu + vv) * (uu + vv) - 4 * uv * uv, 0.0));
    double m1 = 0.5 * (uu - vv + disc), m2 = 0.5 * (uu - vv - disc);
    return fmax (fabs (r), fmax (fabs (r + kappa * m1), fabs (r + kappa * m2)));
}

static void
test_gauss_error (dfx__denoiser *den)
{
    cov_ctx cc = {.kind = 0};
    const uint32_t N = 10;
    const double starts[] = {0.05, 0.2, 0.5, 1.0, 2.0, 5.0, 20.0};
    double lam_max = 0.0;
    for (int k = 0; k < g.d; k++)
        lam_max = fmax (lam_max, g.lam[k]);
    printf ("Gaussian data (d = %u, lambda in [%.3g, %.3g]), DDIM %u steps to sigma %g:\n", D, 0.02, lam_max, N,
            SIGMA_MIN);
    printf ("  sigma_start  |g|        rel err DF-EA  bound (sharp)  bound (|C|)  cosine  | clamped: rel err  cosine\n");
    for (size_t k = 0; k < sizeof starts / sizeof starts[0]; k++) {
        dfx__edit_desc md = {den, &sched, DFX_SAMPLER_DDIM, N, starts[k], 0.0, H, W};
        double sig[12];
        dfx__edit_levels (&md, sig);
        float z[24];
        start_point (10 + k, g.mean, starts[k], z);
        run a = gradient (den, &md, sig, z, 0, NULL), b = gradient (den, &md, sig, z, 1, &cc),
            cl = gradient (den, &md, sig, z, 2, NULL);
        /* The exact adjoints a_{i+1} in double, from ∇ℓ(x_N) down. */
        double adj[12][24], xb[24], xh[24], ca[24], ch[24];
        loss_host (b.xN, adj[N]);
        for (uint32_t i = N; i-- > 0;) {
            double r = sig[i + 1] / sig[i], kap = (1 - r) / (sig[i] * sig[i]);
            gauss_cov_apply (sig[i], adj[i + 1], ca);
            for (uint32_t j = 0; j < D; j++)
                adj[i][j] = r * adj[i + 1][j] + kap * ca[j];
        }
        for (uint32_t j = 0; j < D; j++)
            xb[j] = a.xbar[j];
        double sharp = 0.0, loose = 0.0, prod = 1.0;
        for (uint32_t i = 0; i < N; i++) {
            double r = sig[i + 1] / sig[i], kap = (1 - r) / (sig[i] * sig[i]);
            for (uint32_t j = 0; j < D; j++)
                xh[j] = a.xhat[(size_t) i * D + j];
            const double *ai = adj[i + 1];
            double pb = 0, ph = 0;
            for (uint32_t j = 0; j < D; j++)
                pb += xb[j] * ai[j], ph += xh[j] * ai[j];
            gauss_cov_apply (sig[i], ai, ca);
            for (uint32_t j = 0; j < D; j++)
                ch[j] = xb[j] * pb - xh[j] * ph - ca[j];
            double cnorm = sig[i] * sig[i] * lam_max / (lam_max + sig[i] * sig[i]);
            /* ‖Ĉ‖ = max |eigenvalue| of uuᵀ − vvᵀ */
            double chat = (bhat_norm (0.0, 1.0, xb, xh, D));
            sharp += prod * kap * norm (ch, D);
            loose += prod * kap * (cnorm + chat) * norm (ai, D);
            prod *= bhat_norm (r, kap, xb, xh, D);
        }
        double gn = norm (b.grad, D), err = rel_diff (a.grad, b.grad, D) * gn;
        const double ecl = rel_diff (cl.grad, b.grad, D);
        printf ("  %-11g  %-9.3g  %-13.3g  %-13.3g  %-11.3g  %-6.3f  |          %-8.3g  %.3f\n", starts[k], gn,
                err / gn, sharp / gn, loose / gn, cosine (a.grad, b.grad, D), ecl, cosine (cl.grad, b.grad, D));
        /* the clamped product never amplifies: its gradient is at most |∇ℓ| */
        CHECK (norm (cl.grad, D) <= norm (adj[N], D) * (1 + 1e-5), "clamped gradient %.4g above |grad l| %.4g",
               norm (cl.grad, D), norm (adj[N], D));
        run_free (&cl);
        /* float32 gradients: allow their rounding on top of the bound */
        CHECK (err <= sharp * (1 + 1e-3) + 1e-5 * gn, "sigma_start %g: DF-EA error %.4g above the bound %.4g",
               starts[k], err, sharp);
        CHECK (sharp <= loose * (1 + 1e-9), "sigma_start %g: sharp bound %.4g above the |C| bound %.4g", starts[k],
               sharp, loose);
        run_free (&a), run_free (&b);
    }
    CHECK (cc.n_cov > 0, "exact covariance products used");
}

/* ---- 4. Dirac mixture: DF-EA → exact as the posterior concentrates ---------- */

/* The device product C_G a of the Gaussian adjoint (downloaded, free()) and its relative L2 error. */
static float *
device_cov (dfx__edit_cov_gauss_state *gs, double sigma, dfx_buffer *a, dfx_buffer *o)
{
    CHECK (dfx__edit_cov_gauss (gs, 0, NULL, sigma, a, o) == DFX_OK && dfx_ctx_flush (ctx) == DFX_OK,
           "Gaussian covariance product (%s): %s", gs->pca ? "PCA" : "spectral", dfx_ctx_errmsg (ctx));
    return download (o, D);
}

static double
rel_l2 (const float *x, const double *ref)
{
    double num = 0, den = 0;
    for (uint32_t i = 0; i < D; i++)
        num += (x[i] - ref[i]) * (x[i] - ref[i]), den += ref[i] * ref[i];
    return sqrt (num / den);
}

/* The stationary case: per frequency bin k of the unitary DFT on H × W a real symmetric 2 × 2 channel
 * covariance S(k) = S(−k) (so the pixel covariance is real); the device product (the spectral path,
 * VkFFT) against σ² S (S + σ² I)⁻¹ applied bin by bin to a naive double-precision DFT on the host. */
static void
test_gauss_adjoint_spectral (void)
{
    const uint32_t np = H * W;
    double *spec = calloc ((size_t) np * C * C * 2, sizeof *spec), smean[2] = {0.1, -0.2};
    for (uint32_t ky = 0; ky < H; ky++)
        for (uint32_t kx = 0; kx < W; kx++) {
            /* |k| symmetric in ±k */
            const uint32_t ay = ky <= H / 2 ? ky : H - ky, ax = kx <= W / 2 ? kx : W - kx;
            const double a = 1.0 / (1 + ay + ax), b = 0.5 / (1 + ay * ay + ax), c = 0.3 * a * b / (a + b);
            double *sk = spec + ((size_t) ky * W + kx) * C * C * 2;
            sk[0] = a, sk[2] = c, sk[4] = c, sk[6] = b; /* [[a, c], [c, b]], imaginary parts 0 */
        }
    dfx__gauss_stats st = {.channels = C, .height = H, .width = W, .has_spectral = 1, .spec_mean = smean,
                           .spec_cov = spec};
    dfx__skip *sk = NULL;
    CHECK (dfx__skip_create (ctx, &st, &sk) == DFX_OK, "skip: %s", dfx_ctx_errmsg (ctx));
    float av[24];
    for (uint32_t i = 0; i < D; i++)
        av[i] = (float) cos (0.4 + 1.3 * i);
    dfx_buffer *a = upload (av, D), *o = upload (av, D);
    dfx__edit_cov_gauss_state gs = {ctx, sk, 0, H, W, D};
    double worst = 0.0;
    /* each level twice: the second product comes from the matrices the skip kept for that level */
    for (int q = 0; q < 6; q++) {
        const double sigma = q % 3 == 0 ? 0.1 : q % 3 == 1 ? 0.6 : 4.0, s2 = sigma * sigma;
        float *of = device_cov (&gs, sigma, a, o);
        double ref[24] = {0};
        for (uint32_t ky = 0; ky < H; ky++)
            for (uint32_t kx = 0; kx < W; kx++) {
                double zr[2] = {0}, zi[2] = {0};
                for (uint32_t ch = 0; ch < C; ch++)
                    for (uint32_t y = 0; y < H; y++)
                        for (uint32_t x = 0; x < W; x++) {
                            const double ph = -2 * M_PI * ((double) ky * y / H + (double) kx * x / W);
                            zr[ch] += av[(ch * H + y) * W + x] * cos (ph) / sqrt (np);
                            zi[ch] += av[(ch * H + y) * W + x] * sin (ph) / sqrt (np);
                        }
                const double *sk2 = spec + ((size_t) ky * W + kx) * C * C * 2;
                const double sa = sk2[0], sc = sk2[2], sb = sk2[6];
                /* F = σ² S (S + σ² I)⁻¹ for 2 × 2 symmetric S */
                const double pa = sa + s2, pb = sb + s2, det = pa * pb - sc * sc;
                const double ia = pb / det, ib = pa / det, ic = -sc / det;
                const double f00 = s2 * (sa * ia + sc * ic), f01 = s2 * (sa * ic + sc * ib),
                             f10 = s2 * (sc * ia + sb * ic), f11 = s2 * (sc * ic + sb * ib);
                const double wr[2] = {f00 * zr[0] + f01 * zr[1], f10 * zr[0] + f11 * zr[1]},
                             wi[2] = {f00 * zi[0] + f01 * zi[1], f10 * zi[0] + f11 * zi[1]};
                for (uint32_t ch = 0; ch < C; ch++)
                    for (uint32_t y = 0; y < H; y++)
                        for (uint32_t x = 0; x < W; x++) {
                            const double ph = 2 * M_PI * ((double) ky * y / H + (double) kx * x / W);
                            ref[(ch * H + y) * W + x] += (wr[ch] * cos (ph) - wi[ch] * sin (ph)) / sqrt (np);
                        }
            }
        worst = fmax (worst, rel_l2 (of, ref));
        free (of);
    }
    printf ("Gaussian adjoint, stationary spectrum on %ux%u, %u channels: the device product against a host DFT at "
            "sigma 0.1, 0.6, 4 (each twice, the second from the kept matrices): worst relative error %.2e\n", W, H, C, worst);
    CHECK (worst < 1e-5, "spectral Gaussian covariance product off by %.2e", worst);
    dfx_buffer_destroy (ctx, a), dfx_buffer_destroy (ctx, o);
    dfx__skip_destroy (sk);
    free (spec);
}

/* ---- 3b. the Gaussian adjoint (gaussian/'s PCA on the device) ------------------- */

/* The statistics of g as gaussian/ holds them, the top `rank` eigenpairs and the mean of the others as the
 * residual; the device product against the host formula at three noise levels, and with full rank the
 * whole adjoint against the exact one (it is exact on Gaussian data). */
static void
test_gauss_adjoint (dfx__denoiser *den)
{
    for (int pass = 0; pass < 2; pass++) {
        const uint32_t rank = pass == 0 ? D : D - 6;
        dfx__gauss_stats st = {.channels = C, .height = H, .width = W, .has_pca = 1, .rank = rank};
        st.mean = g.mean, st.eigval = malloc (rank * sizeof (double)), st.comps = malloc ((size_t) rank * D *
                                                                                          sizeof (double));
        /* dfx__eigh's order, descending or not, does not matter: pick the largest `rank` */
        int *order = malloc (D * sizeof *order);
        for (uint32_t k = 0; k < D; k++)
            order[k] = (int) k;
        for (uint32_t i = 0; i < D; i++)
            for (uint32_t j = i + 1; j < D; j++)
                if (g.lam[order[j]] > g.lam[order[i]]) {
                    int t = order[i];
                    order[i] = order[j], order[j] = t;
                }
        double rest = 0.0;
        for (uint32_t k = 0; k < D; k++) {
            if (k < rank) {
                st.eigval[k] = g.lam[order[k]];
                for (uint32_t j = 0; j < D; j++)
                    st.comps[(size_t) k * D + j] = g.V[j * D + order[k]];
            } else
                rest += g.lam[order[k]];
        }
        st.residual = rank < D ? rest / (D - rank) : 0.0;
        dfx__skip *sk = NULL;
        CHECK (dfx__skip_create (ctx, &st, &sk) == DFX_OK, "skip: %s", dfx_ctx_errmsg (ctx));
        float av[24];
        for (uint32_t i = 0; i < D; i++)
            av[i] = (float) sin (1.0 + 0.7 * i);
        dfx_buffer *a = upload (av, D), *o = upload (av, D);
        dfx__edit_cov_gauss_state gs = {ctx, sk, 1, H, W, D};
        double worst = 0.0;
        for (int q = 0; q < 3; q++) {
            const double sigma = q == 0 ? 0.05 : q == 1 ? 0.7 : 9.0, s2 = sigma * sigma;
            float *of = device_cov (&gs, sigma, a, o);
            /* host: Σ_k w_k (v_kᵀa) v_k + w_r (a − Σ_k (v_kᵀa) v_k), w = σ² λ/(λ + σ²) */
            double ref[24];
            const double wr = s2 * st.residual / (st.residual + s2);
            for (uint32_t i = 0; i < D; i++)
                ref[i] = wr * av[i];
            for (uint32_t k = 0; k < rank; k++) {
                double pk = 0;
                for (uint32_t j = 0; j < D; j++)
                    pk += st.comps[(size_t) k * D + j] * av[j];
                const double wk = s2 * st.eigval[k] / (st.eigval[k] + s2) - wr;
                for (uint32_t i = 0; i < D; i++)
                    ref[i] += wk * pk * st.comps[(size_t) k * D + i];
            }
            worst = fmax (worst, rel_l2 (of, ref));
            free (of);
        }
        printf ("Gaussian adjoint, PCA rank %u of %u: the device product against the host formula at sigma 0.05, "
                "0.7, 9: worst relative error %.2e\n", rank, D, worst);
        CHECK (worst < 2e-5, "rank %u: Gaussian covariance product off by %.2e", rank, worst);
        if (rank == D) {
            /* on Gaussian data the Gaussian adjoint is the exact adjoint */
            dfx__edit_desc md = {den, &sched, DFX_SAMPLER_DDIM, 8, 1.5, 0.0, H, W};
            double sig[16];
            dfx__edit_levels (&md, sig);
            float z[24];
            for (uint32_t i = 0; i < D; i++)
                z[i] = (float) (g.mean[i] + 1.5 * cos (0.3 * i));
            cov_ctx cg = {.kind = 0};
            gauss_adjoint = &gs;
            run ge = gradient (den, &md, sig, z, 1, &cg), gg = gradient (den, &md, sig, z, 3, NULL);
            double num = 0, den2 = 0;
            for (uint32_t i = 0; i < D; i++)
                num += (gg.grad[i] - ge.grad[i]) * (gg.grad[i] - ge.grad[i]), den2 += ge.grad[i] * ge.grad[i];
            printf ("Gaussian adjoint on Gaussian data, DDIM 8 steps from sigma 1.5: relative error against the "
                    "exact adjoint %.2e\n", sqrt (num / den2));
            CHECK (sqrt (num / den2) < 1e-4, "the Gaussian adjoint is not exact on Gaussian data: %.2e",
                   sqrt (num / den2));
            /* the hybrid: the network's product by one-sided differences at the first 3 steps below σ̃ 1
             * (chosen by dfx__edit_hybrid_steps, against the rule by hand), the Gaussian's elsewhere: exact
             * too, to the differences' float rounding (the Gaussian denoiser is linear) */
            const uint32_t marked = dfx__edit_hybrid_steps (sig, 8, 1.0, 3, hybrid_net);
            int rule_ok = marked == 3, seen = 0;
            for (uint32_t i = 0; i < 8; i++) {
                const int want = sig[i] < 1.0 && seen < 3;
                seen += want;
                rule_ok &= hybrid_net[i] == want;
            }
            uint8_t tail[16];
            rule_ok &= dfx__edit_hybrid_steps (sig, 8, 0.02, 3, tail) == 3 && tail[5] && tail[6] && tail[7] &&
                       !tail[4] && dfx__edit_hybrid_steps (sig, 8, 1.0, 20, tail) == 8 && tail[0] && tail[7];
            CHECK (rule_ok, "dfx__edit_hybrid_steps: not the first 3 steps below sigma 1 (or, where fewer lie "
                   "below, the last 3; or all when asked for more than there are)");
            run gh = gradient (den, &md, sig, z, 4, NULL);
            num = den2 = 0;
            for (uint32_t i = 0; i < D; i++)
                num += (gh.grad[i] - ge.grad[i]) * (gh.grad[i] - ge.grad[i]), den2 += ge.grad[i] * ge.grad[i];
            printf ("hybrid adjoint on Gaussian data (network's product at 3 of 8 steps, %u evaluations): relative "
                    "error against the exact adjoint %.2e\n", hybrid_evals, sqrt (num / den2));
            CHECK (sqrt (num / den2) < 1e-3 && hybrid_evals == 3, "the hybrid adjoint is not exact on Gaussian "
                   "data: %.2e (%u evaluations)", sqrt (num / den2), hybrid_evals);
            run_free (&gh);
            run_free (&ge), run_free (&gg);
            gauss_adjoint = NULL;
        }
        dfx_buffer_destroy (ctx, a), dfx_buffer_destroy (ctx, o);
        dfx__skip_destroy (sk);
        free (st.eigval), free (st.comps), free (order);
    }
}

static void
test_dirac_limit (void)
{
    double pts[3 * 24];
    check_rng rng = {17};
    for (uint32_t i = 0; i < 3 * D; i++)
        pts[i] = check_uniform (&rng, -1, 1);
    dfx__denoiser *den = NULL;
    CHECK (dfx__denoiser_dirac (ctx, C, D, 3, pts, &den) == DFX_OK, "dirac denoiser");
    cov_ctx cc = {.kind = 1, .dirac = {3, (int) D, pts}};
    check_fd (den, &cc, 0.8, pts, 1e-3, 2e-2, "three points, sigma_start 0.8");
    const double starts[] = {3.0, 1.0, 0.3, 0.1};
    double e[4];
    printf ("three-point data, DDIM 10 steps, start near point 0: DF-EA vs exact adjoint\n");
    for (int k = 0; k < 4; k++) {
        dfx__edit_desc md = {den, &sched, DFX_SAMPLER_DDIM, 10, starts[k], 0.0, H, W};
        double sig[12];
        dfx__edit_levels (&md, sig);
        float z[24];
        start_point (20 + k, pts, starts[k], z);
        run a = gradient (den, &md, sig, z, 0, NULL), b = gradient (den, &md, sig, z, 1, &cc);
        e[k] = rel_diff (a.grad, b.grad, D);
        printf ("  sigma_start %-5g rel err %.3g\n", starts[k], e[k]);
        run_free (&a), run_free (&b);
    }
    CHECK (e[3] <= 1e-4, "sigma_start 0.1 (point-mass posterior): DF-EA error %.3g", e[3]);
    CHECK (e[3] <= e[0], "error grows as the posterior concentrates: %.3g > %.3g", e[3], e[0]);
    dfx__denoiser_destroy (den);
}

/* ---- 5. the whole edit ----------------------------------------------------------- */

static void
test_run (dfx__denoiser *den)
{
    /* image = the mean, guide = the mean + 0.5 on the first 8 values (the mask), 1 − mask elsewhere */
    float image[24], guide[24], mg[24], mp[24], nz[24], out[24];
    for (uint32_t i = 0; i < D; i++) {
        image[i] = (float) g.mean[i];
        mg[i] = i < 8 ? 1.0f : 0.0f;
        mp[i] = 1.0f - mg[i];
        guide[i] = image[i] + 0.5f * mg[i];
    }
    float *e = noise (9, 0, 1, C, H, W);
    memcpy (nz, e, sizeof nz);
    free (e);
    static const struct {
        dfx_edit_adjoint adj;
        dfx_edit_start start;
        double factor;
        const char *name;
    } rows[] = {{DFX_EDIT_ADJOINT_DFEA_CLAMPED, DFX_EDIT_START_INVERT, 0.9, "clamped DF-EA, inverted start"},
                {DFX_EDIT_ADJOINT_FD, DFX_EDIT_START_NOISE, 0.5, "exact, noised start"},
                {DFX_EDIT_ADJOINT_DFEA, DFX_EDIT_START_NOISE, 0.9, "plain DF-EA, noised start"}};
    for (int row = 0; row < 3; row++) {
        const int mode = rows[row].adj == DFX_EDIT_ADJOINT_FD;
        cov_ctx cc = {.kind = 0};
        dfx_edit_params p;
        dfx_edit_params_defaults (&p);
        p.iterations = 15;
        p.step_size = 0.1;
        p.adjoint = rows[row].adj;
        p.start = rows[row].start;
        dfx__edit_run_desc d = {{den, &sched, DFX_SAMPLER_DDIM, 10, 0.0, 0.0, H, W}, &p, W, H,
                                mode ? cov_exact : NULL, mode ? &cc : NULL, NULL, NULL};
        d.map.sigma_start = 1.0;
        dfx_edit_result r;
        memset (&r, 0, sizeof r);
        dfx_status st = dfx__edit_run (&d, image, guide, mg, mp, nz, out, &r);
        CHECK (st == DFX_OK, "edit run: %s", dfx_ctx_errmsg (ctx));
        printf ("edit (%s, Adam 0.1): loss %.4g -> %.4g, guide mse %.4g -> %.4g, outside rms %.3g -> %.3g, "
                "nfe %u\n", rows[row].name, r.loss[0], r.loss[15], r.guide_mse[0], r.guide_mse[15],
                r.outside_rms[0], r.outside_rms[15], r.nfe);
        const uint32_t nfe = 16 * 11 + (rows[row].start == DFX_EDIT_START_INVERT ? 10 : 0);
        CHECK (r.iterations == 15 && r.nfe == nfe, "iterations %u nfe %u", r.iterations, r.nfe);
        CHECK (r.loss[15] < rows[row].factor * r.loss[0], "%s: loss %.4g -> %.4g", rows[row].name, r.loss[0],
               r.loss[15]);
        CHECK (r.guide_mse[15] < r.guide_mse[0], "guide mse did not fall");
        if (mode)
            CHECK (cc.n_cov == 15 * 10, "exact mode: %u covariance products", cc.n_cov);
    }
}

/* ---- 6. callbacks ------------------------------------------------------------ */

typedef struct cb_state {
    const float *guide, *mg, *mp, *image;
    int losses, previews, progresses, cancel_at;
    double last_fraction;
} cb_state;

static int
host_loss (const float *x0, uint32_t c, uint32_t h, uint32_t w, float *grad, double *loss, void *user)
{
    cb_state *s = user;
    double l = 0.0;
    for (size_t i = 0; i < (size_t) c * h * w; i++) {
        double eg = (double) x0[i] - s->guide[i], ey = (double) x0[i] - s->image[i];
        l += 0.5 * (s->mg[i] * eg * eg + s->mp[i] * ey * ey);
        grad[i] = (float) (s->mg[i] * eg + s->mp[i] * ey);
    }
    *loss = l;
    s->losses++;
    return 0;
}

static int
on_preview (uint32_t k, const float *x0, uint32_t c, uint32_t h, uint32_t w, void *user)
{
    cb_state *s = user;
    CHECK (k == (uint32_t) s->previews && c == C && h == H && w == W && isfinite (x0[0]), "preview %u", k);
    s->previews++;
    return 0;
}

static int
on_progress (double f, void *user)
{
    cb_state *s = user;
    CHECK (f >= s->last_fraction && f <= 1.0, "progress %g after %g", f, s->last_fraction);
    s->last_fraction = f;
    return ++s->progresses == s->cancel_at;
}

static void
test_callbacks (dfx__denoiser *den)
{
    float image[24], guide[24], mg[24], mp[24], nz[24], out1[24], out2[24];
    for (uint32_t i = 0; i < D; i++) {
        image[i] = (float) g.mean[i];
        mg[i] = i % 3 == 0 ? 1.0f : 0.0f;
        mp[i] = 1.0f - mg[i];
        guide[i] = image[i] - 0.4f * mg[i];
    }
    float *e = noise (5, 0, 1, C, H, W);
    memcpy (nz, e, sizeof nz);
    free (e);
    cb_state s = {guide, mg, mp, image, 0, 0, 0, 0, 0.0};
    dfx_edit_params p;
    dfx_edit_params_defaults (&p);
    p.iterations = 6;
    p.start = DFX_EDIT_START_NOISE;
    /* host_loss is ½ Σ mg (x0 − guide)² + mp (x0 − image)²: both weights 1 (the default guide weight is 5) */
    p.guide_weight = 1.0, p.preserve_weight = 1.0;
    dfx__edit_run_desc d = {{den, &sched, DFX_SAMPLER_EULER, 7, 2.0, 0.0, H, W}, &p, W, H, NULL, NULL, NULL, NULL};
    dfx_edit_result r1, r2;
    memset (&r1, 0, sizeof r1), memset (&r2, 0, sizeof r2);
    CHECK (dfx__edit_run (&d, image, guide, mg, mp, nz, out1, &r1) == DFX_OK, "built-in loss: %s",
           dfx_ctx_errmsg (ctx));
    p.loss = host_loss, p.loss_user = &s;
    p.preview = on_preview, p.preview_user = &s;
    p.progress = on_progress, p.progress_user = &s;
    CHECK (dfx__edit_run (&d, image, guide, mg, mp, nz, out2, &r2) == DFX_OK, "host loss: %s", dfx_ctx_errmsg (ctx));
    double worst = 0.0, wl = 0.0;
    for (uint32_t i = 0; i < D; i++)
        worst = fmax (worst, fabs (out1[i] - out2[i]));
    for (uint32_t k = 0; k <= 6; k++)
        wl = fmax (wl, fabs (r1.loss[k] - r2.loss[k]) / r1.loss[k]);
    printf ("host loss callback against the built-in loss: results differ by %.2g, losses by %.2g (relative); %d "
            "previews, %d progress reports\n", worst, wl, s.previews, s.progresses);
    CHECK (worst <= 1e-4 && wl <= 1e-5, "host loss: results differ by %.3g, losses by %.3g", worst, wl);
    CHECK (s.losses == 7 && s.previews == 7, "%d losses, %d previews for 6 iterations", s.losses, s.previews);
    CHECK (s.progresses == 7 * 8 && fabs (s.last_fraction - 1.0) < 1e-12, "%d progress reports, last %g",
           s.progresses, s.last_fraction);
    /* cancel at the tenth report */
    cb_state c2 = {guide, mg, mp, image, 0, 0, 0, 10, 0.0};
    p.loss_user = p.preview_user = p.progress_user = &c2;
    dfx_edit_result r3;
    memset (&r3, 0, sizeof r3);
    dfx_status st = dfx__edit_run (&d, image, guide, mg, mp, nz, out2, &r3);
    CHECK (st == DFX_ERR_CANCELLED && c2.progresses == 10, "cancel: status %s after %d reports", dfx_status_name (st),
           c2.progresses);
}

int
main (void)
{
    algo_open ();
    dfx__schedule_continuous (SIGMA_MIN, SIGMA_MAX, &sched);
    check_rng rng = {42};
    gauss_random (&g, (int) D, &rng, 0.3);
    CHECK (gauss_eig (&g) < 1e-9, "eigendecomposition");
    for (uint32_t i = 0; i < D; i++) {
        lw[i] = check_uniform (&rng, 0.2f, 1.0f);
        lt[i] = check_uniform (&rng, -1.0f, 1.0f);
    }
    dfx__denoiser *den = gauss_denoiser (&g, C);

    test_one_point ();
    cov_ctx cg = {.kind = 0};
    check_fd (den, &cg, 1.5, g.mean, 1e-2, 2e-3, "Gaussian, sigma_start 1.5");
    test_gauss_error (den);
    test_gauss_adjoint (den);
    test_gauss_adjoint_spectral ();
    test_dirac_limit ();
    test_run (den);
    test_callbacks (den);

    dfx__denoiser_destroy (den);
    gauss_free (&g);
    dfx_ctx_destroy (ctx);
    return check_exit ();
}
