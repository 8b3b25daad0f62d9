/* test-dirac.c — the exact Dirac-mixture Fisher and the OT check (suite algo).
 *
 * 1. For points in 2-D and 3-D, the outer-product Fisher F = I/σ² − (α²/σ⁴) C
 *    equals −∇² log q_t by central finite differences (full matrix, hence its
 *    trace and diagonal), the score equals ∇ log q_t, and Tweedie holds.
 * 2. The OT check: collinear points give a symmetric Jacobian (asymmetry at
 *    rounding level) on every schedule; three non-collinear points give a
 *    clearly positive one, converged in the step count.
 * 3. Points files with too few points, mixed dimensions or non-numbers are
 *    refused with messages naming the file and the point. */
#include "check.h"
#include "dfx.h"
#include "algo/dirac.h"

#include <math.h>
#include <stdlib.h>
#include <unistd.h>

static void
test_fisher_fd (const double *y, int n, int d, double alpha, double sigma, const double *x)
{
    dfx__dirac m = {n, d, y};
    double work[64], x0[8], C[64], F[64], s[8];
    dfx__dirac_posterior (&m, x, alpha, sigma, work, x0, C, F, s);
    const double h = 1e-4 * sigma;
    double xp[8], fmax_err = 0.0, fscale = 0.0, gerr = 0.0, gscale = 0.0;
    for (int a = 0; a < d; a++) {
        /* gradient */
        memcpy (xp, x, sizeof (double) * (size_t) d);
        xp[a] = x[a] + h;
        double lp = dfx__dirac_posterior (&m, xp, alpha, sigma, work, x0, NULL, NULL, NULL);
        xp[a] = x[a] - h;
        double lm = dfx__dirac_posterior (&m, xp, alpha, sigma, work, x0, NULL, NULL, NULL);
        gerr = fmax (gerr, fabs ((lp - lm) / (2 * h) - s[a]));
        gscale = fmax (gscale, fabs (s[a]));
        for (int b = 0; b < d; b++) {
            double v[4];
            const int sa[4] = {1, 1, -1, -1}, sb[4] = {1, -1, 1, -1};
            for (int q = 0; q < 4; q++) {
                memcpy (xp, x, sizeof (double) * (size_t) d);
                xp[a] += sa[q] * h;
                xp[b] += sb[q] * h;
                v[q] = dfx__dirac_posterior (&m, xp, alpha, sigma, work, x0, NULL, NULL, NULL);
            }
            double hess = (v[0] - v[1] - v[2] + v[3]) / (4 * h * h);
            fmax_err = fmax (fmax_err, fabs (-hess - F[a * d + b]));
            fscale = fmax (fscale, fabs (F[a * d + b]));
        }
    }
    CHECK (fmax_err <= 1e-5 * fscale, "F vs −FD Hessian (d=%d, σ=%g): max error %.3g of scale %.3g", d, sigma,
           fmax_err, fscale);
    CHECK (gerr <= 1e-7 * fmax (gscale, 1.0), "score vs FD gradient (d=%d, σ=%g): %.3g", d, sigma, gerr);
    dfx__dirac_posterior (&m, x, alpha, sigma, work, x0, NULL, NULL, s);
    double tw = 0.0;
    for (int a = 0; a < d; a++)
        tw = fmax (tw, fabs ((x[a] + sigma * sigma * s[a]) / alpha - x0[a]));
    CHECK (tw <= 1e-12, "Tweedie: %.3g", tw);
}

static double
asym (dfx_ctx *ctx, const double *pts, int n, int d, dfx_schedule_kind sched, int steps, double *std)
{
    dfx_ot_params p;
    dfx_ot_params_defaults (&p);
    p.points = pts, p.n = n, p.dim = d, p.schedule = sched, p.steps = steps, p.seeds = 8;
    dfx_ot_result r;
    dfx_status st = dfx_ot_check (ctx, &p, &r);
    CHECK (st == DFX_OK, "ot-check: %s", dfx_ctx_errmsg (ctx));
    if (std)
        *std = r.std;
    return r.mean;
}

static void
points_file (dfx_ctx *ctx, const char *dir, const char *name, const char *text, const char *want)
{
    char path[256];
    snprintf (path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen (path, "w");
    fputs (text, f);
    fclose (f);
    double *p = NULL;
    int n = 0, d = 0;
    dfx_status st = dfx_points_load (ctx, path, &p, &n, &d);
    CHECK (st == DFX_ERR_FORMAT && p == NULL && strstr (dfx_ctx_errmsg (ctx), want) &&
               strstr (dfx_ctx_errmsg (ctx), name),
           "%s: %s: %s", name, dfx_status_name (st), dfx_ctx_errmsg (ctx));
    dfx_free (p);
}

int
main (void)
{
    const double tri[] = {0, 0, 1, 0, 0, 1};
    const double x2[] = {0.3, 0.2};
    test_fisher_fd (tri, 3, 2, 1.0, 0.5, x2);
    test_fisher_fd (tri, 3, 2, 0.8, 0.3, x2);
    test_fisher_fd (tri, 3, 2, 0.6, 2.0, x2);
    const double cube[] = {0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1};
    const double x3[] = {0.4, -0.1, 0.7};
    test_fisher_fd (cube, 5, 3, 0.9, 0.7, x3);

    dfx_ctx_options opt;
    dfx_ctx_options_defaults (&opt);
    opt.offline = 1;
    dfx_ctx *ctx = NULL;
    CHECK (dfx_ctx_create (&opt, &ctx) == DFX_OK, "offline context");

    const double line[] = {0, 0, 1, 0.5, 2, 1, -1, -0.5};
    const dfx_schedule_kind sch[] = {DFX_SCHEDULE_EDM, DFX_SCHEDULE_VE, DFX_SCHEDULE_VP};
    for (int i = 0; i < 3; i++) {
        double a = asym (ctx, line, 4, 2, sch[i], 1000, NULL);
        CHECK (a < 1e-12, "collinear points, schedule %d: asymmetry %.3g (must be 0)", i, a);
        double std, t = asym (ctx, tri, 3, 2, sch[i], 1000, &std);
        CHECK (t > 0.05, "triangle, schedule %d: asymmetry %.3g ± %.3g (must be clearly positive)", i, t, std);
    }
    /* Collinear in 3-D too, and converged in the step count for the triangle. */
    const double line3[] = {0, 0, 0, 1, 2, 3, 2, 4, 6};
    CHECK (asym (ctx, line3, 3, 3, DFX_SCHEDULE_EDM, 500, NULL) < 1e-12, "collinear in 3-D");
    double a1 = asym (ctx, tri, 3, 2, DFX_SCHEDULE_EDM, 400, NULL), a2 = asym (ctx, tri, 3, 2, DFX_SCHEDULE_EDM, 3200, NULL);
    CHECK (fabs (a1 - a2) < 1e-6 * a2, "converged: %.9g (400 steps) vs %.9g (3200)", a1, a2);

    /* Bad input. */
    dfx_ot_params p;
    dfx_ot_params_defaults (&p);
    p.points = tri, p.n = 1, p.dim = 2;
    dfx_ot_result r;
    CHECK (dfx_ot_check (ctx, &p, &r) == DFX_ERR_INVALID_ARGUMENT && strstr (dfx_ctx_errmsg (ctx), "two points"),
           "one point: %s", dfx_ctx_errmsg (ctx));
    char dir[] = "/tmp/dfx-points-XXXXXX";
    CHECK (mkdtemp (dir) != NULL, "mkdtemp");
    points_file (ctx, dir, "one.json", "{\"points\": [[1, 2]]}", "at least two");
    points_file (ctx, dir, "mixed.json", "[[1, 2], [3, 4, 5]]", "mixed dimensions");
    points_file (ctx, dir, "text.json", "{\"points\": [[1, 2], [3, \"x\"]]}", "coordinate 1 of point 1");
    points_file (ctx, dir, "broken.json", "{\"points\": [[1, 2], [3", "not valid JSON");
    points_file (ctx, dir, "object.json", "{\"pts\": []}", "expected");
    char path[256];
    snprintf (path, sizeof path, "%s/good.json", dir);
    FILE *f = fopen (path, "w");
    fputs ("{\"points\": [[0, 0], [1, 0.5], [2, 1]]}", f);
    fclose (f);
    double *pts = NULL;
    int n = 0, d = 0;
    CHECK (dfx_points_load (ctx, path, &pts, &n, &d) == DFX_OK && n == 3 && d == 2 && pts[3] == 0.5, "good file");
    dfx_free (pts);
    char cmd[300];
    snprintf (cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK (system (cmd) == 0, "cleanup");
    dfx_ctx_destroy (ctx);
    return check_exit ();
}
