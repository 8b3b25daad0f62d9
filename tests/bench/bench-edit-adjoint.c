/* bench-edit-adjoint.c — the measurement behind the hybrid adjoint (BENCHMARKS.md, "The hybrid
 * adjoint"), not a test: on the edit of tests/algo/test-edit-model.c (the same garment, guide, mask
 * and start noise), per step along the exact adjoint a_{i+1} (covariance products by central
 * differences of the network), the Gaussian's product C_G a against the network's C a (cosine, norm
 * ratio), the one-sided difference against the central one, the Fisher head's diagonal as per-pixel
 * variances around the Gaussian's correlations; then the cosine with the exact gradient of adjoints
 * mixing the two: the network's product at one step only / everywhere but one, greedy choices (which
 * know the reference), the first B steps below σ̃_skip, and per-step rescalings.  Host double
 * precision except the network.
 *   bench-edit-adjoint MODEL_DIR [STEPS (8)] [STRENGTH (both 0.3 and 0.6)]
 * Built on request: meson compile -C build tests/algo/bench-edit-adjoint (slow: ~100 network
 * evaluations per step count and strength, 20 steps ~10 min on one core). */
#include "algo-common.h"
#include "edit/edit-private.h"
#include "sample/model-private.h"
#include "likelihood/likelihood-private.h"

static dfx__edit_desc md;
static dfx__moments *mom;
static dfx__gauss_stats *gs;
static double sig[64];
static float *y, *gd, *mk;
static size_t n;
static uint32_t N;
static dfx_buffer **xsb, **xhb, *bx, *ba, *bout, *bxp, *bdp;
static double **xh; /* host xhat */
static int evals;

static double
dotd (const double *a, const double *b)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}
static double
cosd (const double *a, const double *b)
{
    return dotd (a, b) / sqrt (dotd (a, a) * dotd (b, b));
}

static void
up (dfx_buffer *b, const double *a)
{
    float *f = malloc (n * sizeof *f);
    for (size_t i = 0; i < n; i++)
        f[i] = (float) a[i];
    dfx_buffer_upload (ctx, b, 0, f, n * sizeof *f);
    free (f);
}
static void
downd (dfx_buffer *b, double *a)
{
    float *f = download (b, n);
    for (size_t i = 0; i < n; i++)
        a[i] = f[i];
    free (f);
}

/* mode 1 central fd, 2 one-sided fd (x + eps a vs xhat), eps scale */
static void
fdprod (uint32_t i, const double *a, double *out, int mode, double epsrel)
{
    double aa = dotd (a, a);
    const double s = sig[i], eps = epsrel * s / sqrt (aa / (double) n);
    double *t = malloc (n * sizeof *t), *dp = malloc (n * sizeof *dp);
    float *x = download (xsb[i], n);
    for (size_t j = 0; j < n; j++)
        t[j] = x[j] + eps * a[j];
    up (bxp, t);
    md.den->denoise (md.den, 1, md.h, md.w, bxp, s, bdp);
    dfx_ctx_flush (ctx);
    downd (bdp, dp);
    evals++;
    if (mode == 1) {
        for (size_t j = 0; j < n; j++)
            t[j] = x[j] - eps * a[j];
        up (bxp, t);
        md.den->denoise (md.den, 1, md.h, md.w, bxp, s, bdp);
        dfx_ctx_flush (ctx);
        downd (bdp, t);
        evals++;
        for (size_t j = 0; j < n; j++)
            out[j] = s * s * (dp[j] - t[j]) / (2 * eps);
    } else {
        for (size_t j = 0; j < n; j++)
            out[j] = s * s * (dp[j] - xh[i][j]) / eps;
    }
    free (t), free (dp), free (x);
}

static void
gprod (uint32_t i, const double *a, double *ca, double *dg)
{
    const double s2 = sig[i] * sig[i], wr = s2 * gs->residual / (gs->residual + s2);
    for (size_t j = 0; j < n; j++)
        ca[j] = wr * a[j], dg[j] = wr;
    for (uint32_t k = 0; k < gs->rank; k++) {
        const double *u = gs->comps + (size_t) k * n, wk = s2 * gs->eigval[k] / (gs->eigval[k] + s2) - wr;
        double pk = 0;
        for (size_t j = 0; j < n; j++)
            pk += u[j] * a[j];
        for (size_t j = 0; j < n; j++)
            ca[j] += wk * pk * u[j], dg[j] += wk * u[j] * u[j];
    }
}

static double *fisher_c[64];
static double alpha[64], alpha2[64];

static void
fisher (uint32_t i)
{
    if (fisher_c[i])
        return;
    mom->eval (mom, 1, md.h, md.w, xsb[i], sig[i], bxp, bdp);
    dfx_ctx_flush (ctx);
    double *x0 = malloc (n * sizeof *x0), *m2 = malloc (n * sizeof *m2);
    downd (bxp, x0), downd (bdp, m2);
    fisher_c[i] = malloc (n * sizeof (double));
    for (size_t j = 0; j < n; j++)
        fisher_c[i][j] = m2[j] - x0[j] * x0[j];
    free (x0), free (m2);
}

/* policy per step: 0 gauss, 1 fd central, 2 fd one-sided, 3 gauss rescaled by fisher diag (S C S),
 * 4 gauss scaled by the scalar mean(fisher)/mean(diag CG), 5 zero (a <- r a), 6 gauss times the best scalar
 * along the exact adjoint (alpha), 7 gauss times a random probe's trace ratio (alpha2) */
static double *
adjoint (const double *g, const int *pol, double **trace)
{
    double *a = malloc (n * sizeof *a), *ca = malloc (n * sizeof *ca), *dg = malloc (n * sizeof *dg),
           *t = malloc (n * sizeof *t);
    memcpy (a, g, n * sizeof *a);
    for (uint32_t i = N; i-- > 0;) {
        if (trace)
            memcpy (trace[i + 1], a, n * sizeof *a);
        const double r = sig[i + 1] / sig[i], kappa = (1 - r) / (sig[i] * sig[i]);
        switch (pol[i]) {
        case 1: fdprod (i, a, ca, 1, 1e-2); break;
        case 2: fdprod (i, a, ca, 2, 1e-2); break;
        case 3: {
            fisher (i);
            double *sc = malloc (n * sizeof *sc);
            gprod (i, a, ca, dg);
            for (size_t j = 0; j < n; j++)
                sc[j] = sqrt (fmax (fisher_c[i][j], 0) / dg[j]), t[j] = sc[j] * a[j];
            gprod (i, t, ca, dg);
            for (size_t j = 0; j < n; j++)
                ca[j] *= sc[j];
            free (sc);
            break;
        }
        case 4: {
            fisher (i);
            gprod (i, a, ca, dg);
            double sf = 0, sd = 0;
            for (size_t j = 0; j < n; j++)
                sf += fmax (fisher_c[i][j], 0), sd += dg[j];
            for (size_t j = 0; j < n; j++)
                ca[j] *= sf / sd;
            break;
        }
        case 5: memset (ca, 0, n * sizeof *ca); break;
        case 6: gprod (i, a, ca, dg); for (size_t j = 0; j < n; j++) ca[j] *= alpha[i]; break;
        case 7: gprod (i, a, ca, dg); for (size_t j = 0; j < n; j++) ca[j] *= alpha2[i]; break;
        default: gprod (i, a, ca, dg);
        }
        for (size_t j = 0; j < n; j++)
            a[j] = r * a[j] + kappa * ca[j];
    }
    if (trace)
        memcpy (trace[0], a, n * sizeof *a);
    free (ca), free (dg), free (t);
    return a;
}

int
main (int argc, char **argv)
{
    const uint32_t steps = argc > 2 ? (uint32_t) atoi (argv[2]) : 8;
    if (argc < 2 || steps < 1 || steps > 60) {
        fprintf (stderr, "usage: bench-edit-adjoint MODEL_DIR [STEPS 1..60] [STRENGTH]\n");
        return 2;
    }
    algo_open ();
    dfx_model *m = NULL;
    if (dfx_model_load (ctx, argv[1], &m) != DFX_OK || dfx__model_moments (m, &mom) != DFX_OK ||
        dfx__gauss_stats_load (ctx, argv[1], &gs) != DFX_OK || !gs->has_pca) {
        fprintf (stderr, "%s: needs a model with a Fisher head and gaussian/'s PCA: %s\n", argv[1],
                 dfx_ctx_errmsg (ctx));
        return 1;
    }
    const double only = argc > 3 ? atof (argv[3]) : 0;
    dfx_model_info mi;
    dfx_model_get_info (m, &mi);
    const uint32_t H = mi.sample_height, W = mi.sample_width;
    n = (size_t) mi.channels * H * W;
    y = malloc (n * sizeof *y), gd = malloc (n * sizeof *gd), mk = malloc (n * sizeof *mk);
    if (edit_disc_fixture (m, H, W, y, gd, mk) != DFX_OK) {
        fprintf (stderr, "%s: generate: %s\n", argv[1], dfx_ctx_errmsg (ctx));
        return 1;
    }
    N = steps;
    md = (dfx__edit_desc){dfx__model_denoiser (m), dfx__model_schedule (m), DFX_SAMPLER_DDIM, N, 0, 0, H, W};
    const double strengths[] = {0.3, 0.6};
    for (int k = 0; k < 2; k++) {
        if (only > 0 && strengths[k] != only)
            continue;
        md.sigma_start = dfx__schedule_sigma (md.sched, strengths[k] * dfx__schedule_t_max (md.sched));
        dfx__edit_levels (&md, sig);
        float *e = noise (11, (uint32_t) k, 1, mi.channels, H, W), *z = malloc (n * sizeof *z);
        for (size_t i = 0; i < n; i++)
            z[i] = y[i] + (float) md.sigma_start * e[i];
        xsb = calloc (N, sizeof *xsb), xhb = calloc (N, sizeof *xhb), xh = calloc (N, sizeof *xh);
        for (uint32_t i = 0; i < N; i++)
            xsb[i] = upload (z, n), xhb[i] = upload (z, n), xh[i] = malloc (n * sizeof (double));
        bx = upload (z, n), ba = upload (z, n), bout = upload (z, n), bxp = upload (z, n), bdp = upload (z, n);
        dfx__edit_forward (&md, sig, bx, bout, xhb, xsb, ba, NULL);
        dfx_ctx_flush (ctx);
        for (uint32_t i = 0; i < N; i++)
            downd (xhb[i], xh[i]), fisher_c[i] = NULL;
        float *xN = download (bx, n);
        double *g = malloc (n * sizeof *g);
        for (size_t i = 0; i < n; i++)
            g[i] = mk[i] * ((double) xN[i] - gd[i]) + (1 - mk[i]) * ((double) xN[i] - y[i]);
        int pol[64];
        double **tr = malloc ((N + 1) * sizeof *tr);
        for (uint32_t i = 0; i <= N; i++)
            tr[i] = malloc (n * sizeof (double));
        for (uint32_t i = 0; i < N; i++)
            pol[i] = 1;
        evals = 0;
        double *gx = adjoint (g, pol, tr);
        printf ("strength %.1f N %u sigma_start %.3f: exact adjoint %d evals\n", strengths[k], N, sig[0], evals);
        for (uint32_t i = 0; i < N; i++)
            pol[i] = 0;
        double *gg = adjoint (g, pol, NULL);
        printf ("  gaussian everywhere: cos %.3f\n", cosd (gg, gx));
        /* per step along the exact adjoint */
        printf ("  step  sigma    cos(CGa,Ca) |CGa|/|Ca| kappa|Ca|/(r|a|) cos(1-sided,central) cos(fisherS,Ca)\n");
        double *u = malloc (n * sizeof *u), *v = malloc (n * sizeof *v), *dg = malloc (n * sizeof *dg),
               *w = malloc (n * sizeof *w);
        for (uint32_t i = 0; i < N; i++) {
            const double *a = tr[i + 1];
            const double r = sig[i + 1] / sig[i], kappa = (1 - r) / (sig[i] * sig[i]);
            fdprod (i, a, u, 1, 1e-2);
            gprod (i, a, v, dg);
            fdprod (i, a, w, 2, 1e-2);
            const double c1 = cosd (w, u);
            alpha[i] = dotd (u, v) / dotd (v, v);
            {
                float *pr = noise (77, i, 1, 1, md.h, md.w);
                double *pp = malloc (n * sizeof *pp), *pu = malloc (n * sizeof *pu), *pv = malloc (n * sizeof *pv);
                for (size_t j = 0; j < n; j++) pp[j] = pr[j];
                fdprod (i, pp, pu, 1, 1e-2);
                gprod (i, pp, pv, dg);
                alpha2[i] = dotd (pp, pu) / dotd (pp, pv);
                printf ("    alpha oracle %.3f, random-probe trace ratio %.3f, cos(CGp,Cp) %.3f\n", alpha[i], alpha2[i], cosd (pu, pv));
                free (pr), free (pp), free (pu), free (pv);
            }
            /* fisher-rescaled */
            fisher (i);
            double *t = malloc (n * sizeof *t), *sc = malloc (n * sizeof *sc), *q = malloc (n * sizeof *q);
            for (size_t j = 0; j < n; j++)
                sc[j] = sqrt (fmax (fisher_c[i][j], 0) / dg[j]), t[j] = sc[j] * a[j];
            gprod (i, t, q, dg);
            for (size_t j = 0; j < n; j++)
                q[j] *= sc[j];
            printf ("  %-4u  %-7.3f  %-11.3f %-10.3f %-17.3f %-20.3f %.3f\n", i, sig[i], cosd (v, u),
                    sqrt (dotd (v, v) / dotd (u, u)), kappa * sqrt (dotd (u, u)) / (r * sqrt (dotd (a, a))), c1,
                    cosd (q, u));
            free (t), free (sc), free (q);
        }
        printf ("  sigma_skip %.3f rule (one-sided fd at the first B steps below it):", gs->sigma_skip);
        for (uint32_t B = 1; B <= 5; B++) {
            uint32_t cnt = 0;
            for (uint32_t i = 0; i < N; i++) {
                pol[i] = 0;
                if (sig[i] < gs->sigma_skip && cnt < B)
                    pol[i] = 2, cnt++;
            }
            double *g1 = adjoint (g, pol, NULL);
            printf (" B=%u %.3f", B, cosd (g1, gx));
            free (g1);
        }
        printf ("\n");
        /* Gaussian except step j exact, and exact except step j Gaussian */
        printf ("  j   G except j fd   fd except j G\n");
        for (uint32_t j = 0; j < N; j++) {
            for (uint32_t i = 0; i < N; i++)
                pol[i] = i == j;
            double *g1 = adjoint (g, pol, NULL);
            for (uint32_t i = 0; i < N; i++)
                pol[i] = i != j;
            double *g2 = adjoint (g, pol, NULL);
            printf ("  %-3u %-15.3f %.3f\n", j, cosd (g1, gx), cosd (g2, gx));
            free (g1), free (g2);
        }
        /* greedy choice of exact steps (central and one-sided) */
        for (int md2 = 1; md2 <= 2; md2++) {
            for (uint32_t i = 0; i < N; i++)
                pol[i] = 0;
            printf ("  greedy %s:", md2 == 1 ? "central" : "one-sided");
            for (uint32_t b = 0; b < N / 2; b++) {
                double best = -2;
                int bj = -1;
                for (uint32_t j = 0; j < N; j++) {
                    if (pol[j])
                        continue;
                    pol[j] = md2;
                    double *g1 = adjoint (g, pol, NULL);
                    double c = cosd (g1, gx);
                    if (c > best)
                        best = c, bj = (int) j;
                    pol[j] = 0;
                    free (g1);
                }
                pol[bj] = md2;
                printf (" +%d -> %.3f", bj, best);
            }
            printf ("\n");
        }
        /* first b steps exact (lowest noise last?) */
        for (int pl = 3; pl <= 7; pl++) {
            for (uint32_t i = 0; i < N; i++)
                pol[i] = pl;
            double *g1 = adjoint (g, pol, NULL);
            printf ("  policy %d everywhere: %.3f\n", pl, cosd (g1, gx));
            free (g1);
        }
        for (uint32_t i = 0; i < N; i++)
            pol[i] = 2;
        double *g1 = adjoint (g, pol, NULL);
        printf ("  one-sided fd everywhere: %.3f\n", cosd (g1, gx));
        free (g1);
        fflush (stdout);
    }
    return 0;
}
