/* test-likelihood-head-tiles.c — the Fisher head on tiles of the whole
 * layer's state (dfx__moments_tiled, BENCHMARKS.md issue 20) against closed
 * forms (suite algo).
 *
 *   1. Placement and blending: a score "network" x̂0 = x̃/2 on the canvas
 *      and a head whose posterior variance is elementwise, C_i = 0.01 + x̃_i²
 *      (with x̂0 = x̃/4 on the tile), so that every tile agrees with every
 *      other on every value and the blend must give, at every value of a
 *      batch of two 21×13 RGB canvases in 8×8 tiles (overlap 3, 5 tiles per
 *      head call, so that a call spans both canvases), m = x̃²/4 + 0.01 + x̃²
 *      (relative 1e-5: float) — through the head's full moments (m − x̂0²)
 *      and through its variance alone (eval_var).  A tile put in the wrong
 *      place, a channel mixed up or weights that do not sum to one show.
 *   2. The likelihood of Gaussian data (independent values, zero mean,
 *      variance λ_c per channel) of a 20×13 RGB layer, whole layout, the
 *      head the exact posterior of an 8×8 tile: every pixel's bits is
 *      −Σ_c log N(v_c; 0, λ_c + σ̃_min²)/(3 ln 2) + log2 127.5 (1e-3 bits;
 *      the layer 1e-4), the same as with the head on the whole layer (the
 *      exact posterior of the canvas), and the result says how many head
 *      tiles ran.  (The prior at σ̃_max = 200 is N(0, 1 + σ̃²) for a canvas
 *      larger than the model: 2e-5 nats per value from the data's.)
 *   3. Error control on the integral (p.bits_tol): the same data on one 8×8
 *      tile with a state tolerance of 0.3, which alone leaves the bits/dim
 *      off the closed form; with bits_tol 1e-4 the step control also bounds
 *      each step's error estimate of the log-density integral, and the
 *      figure is within 2e-3 bits/dim of the closed form (more steps). */
#include "check-ctx.h"
#include "dfx-private.h"
#include "likelihood/likelihood-private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* ---- 1. an elementwise head --------------------------------------------- */

typedef struct elem {
    dfx__moments base;
    double scale; /* x̂0 = scale · x̃, m = x̂0² + 0.01 + x̃² */
} elem;

static dfx_status
elem_eval (dfx__moments *mo, uint32_t batch, uint32_t h, uint32_t w, dfx_buffer *x, double sigma, dfx_buffer *x0,
           dfx_buffer *m)
{
    elem *e = (elem *) mo;
    const size_t n = (size_t) batch * mo->channels * h * w;
    float *hx = malloc (n * sizeof *hx), *ho = malloc (n * sizeof *ho);
    dfx_status st = dfx_buffer_download (mo->ctx, x, 0, hx, n * sizeof (float));
    for (size_t i = 0; i < n && st == DFX_OK; i++)
        ho[i] = (float) (e->scale * hx[i]);
    if (st == DFX_OK && x0)
        st = dfx_buffer_upload (mo->ctx, x0, 0, ho, n * sizeof (float));
    for (size_t i = 0; i < n && st == DFX_OK; i++)
        ho[i] = (float) (e->scale * e->scale * hx[i] * hx[i] + 0.01 + (double) hx[i] * hx[i]);
    if (st == DFX_OK && m)
        st = dfx_buffer_upload (mo->ctx, m, 0, ho, n * sizeof (float));
    free (hx), free (ho);
    mo->evals++;
    (void) sigma;
    return st;
}

static dfx_status
elem_eval_mean (dfx__moments *mo, uint32_t batch, uint32_t h, uint32_t w, dfx_buffer *x, double sigma,
                dfx_buffer *x0)
{
    return elem_eval (mo, batch, h, w, x, sigma, x0, NULL);
}

static dfx_status
elem_eval_var (dfx__moments *mo, uint32_t batch, uint32_t h, uint32_t w, dfx_buffer *x, double sigma, dfx_buffer *c)
{
    const size_t n = (size_t) batch * mo->channels * h * w;
    float *hx = malloc (n * sizeof *hx);
    dfx_status st = dfx_buffer_download (mo->ctx, x, 0, hx, n * sizeof (float));
    for (size_t i = 0; i < n; i++)
        hx[i] = (float) (0.01 + (double) hx[i] * hx[i]);
    if (st == DFX_OK)
        st = dfx_buffer_upload (mo->ctx, c, 0, hx, n * sizeof (float));
    free (hx);
    (void) sigma;
    return st;
}

static void
check_placement (dfx_ctx *ctx, int with_var)
{
    enum { B = 2, C = 3, W = 21, H = 13, T = 8 };
    const size_t n = (size_t) B * C * W * H;
    elem whole = {.base = {.ctx = ctx, .channels = C, .eval = elem_eval, .eval_mean = elem_eval_mean}, .scale = 0.5};
    elem head = {.base = {.ctx = ctx, .channels = C, .eval = elem_eval, .eval_mean = elem_eval_mean,
                          .eval_var = with_var ? elem_eval_var : NULL},
                 .scale = 0.25};
    dfx__moments *mo = NULL;
    CHECK (dfx__moments_tiled (&whole.base, &head.base, T, T, 3, 5, &mo) == DFX_OK, "tiled moments: %s",
           dfx_ctx_errmsg (ctx));
    float *hx = malloc (n * sizeof *hx), *hm = malloc (n * sizeof *hm), *h0 = malloc (n * sizeof *h0);
    check_rng rng = {11};
    check_fill (&rng, hx, n, -2.0f, 2.0f);
    dfx_buffer *x = NULL, *x0 = NULL, *m = NULL;
    CHECK (dfx_buffer_create (ctx, n * sizeof (float), &x) == DFX_OK &&
               dfx_buffer_create (ctx, n * sizeof (float), &x0) == DFX_OK &&
               dfx_buffer_create (ctx, n * sizeof (float), &m) == DFX_OK,
           "buffers");
    CHECK (dfx_buffer_upload (ctx, x, 0, hx, n * sizeof (float)) == DFX_OK, "upload");
    CHECK (mo->eval (mo, B, H, W, x, 0.7, x0, m) == DFX_OK, "eval: %s", dfx_ctx_errmsg (ctx));
    CHECK (dfx_buffer_download (ctx, m, 0, hm, n * sizeof (float)) == DFX_OK &&
               dfx_buffer_download (ctx, x0, 0, h0, n * sizeof (float)) == DFX_OK,
           "download");
    double worst = 0.0, worst0 = 0.0;
    for (size_t i = 0; i < n; i++) {
        const double v = hx[i], want = 0.25 * v * v + 0.01 + v * v;
        worst = fmax (worst, fabs (hm[i] - want) / want);
        worst0 = fmax (worst0, fabs (h0[i] - 0.5 * v));
    }
    CHECK (worst < 1e-5, "head tiles (%s): m off by %.3g (relative)", with_var ? "eval_var" : "eval", worst);
    CHECK (worst0 == 0.0, "head tiles: x̂0 is the whole canvas's (off by %.3g)", worst0);
    CHECK (whole.base.evals == 1 && whole.base.head_evals == 1, "counts: %u evaluations, %u with the head",
           whole.base.evals, whole.base.head_evals);
    /* 21 = 8 + 5 + 5 + 3: 4 tiles across (stride ≤ 5), 13: 2 down; 16 tiles in 4 calls of ≤ 5 */
    CHECK (with_var ? head.base.evals == 0 : head.base.evals == 4, "head calls: %u", head.base.evals);
    printf ("placement (%s): m within %.2g (relative) of the closed form at all %zu values, %u head calls\n",
            with_var ? "variance alone" : "full moments", worst, n, head.base.evals);
    dfx_buffer_destroy (ctx, x), dfx_buffer_destroy (ctx, x0), dfx_buffer_destroy (ctx, m);
    free (hx), free (hm), free (h0);
    dfx__moments_destroy (mo);
}

/* ---- 2. Gaussian data through the likelihood ------------------------------- */

static void
check_gauss (dfx_ctx *ctx)
{
    enum { C = 3, W = 20, H = 13, T = 8 };
    const double SMIN = 0.01, SMAX = 200.0, lam[C] = {0.05, 0.12, 0.3};
    const uint32_t dw = C * W * H, dt = C * T * T;
    double *mu = calloc (dw, sizeof *mu), *lw = malloc (dw * sizeof *lw), *lt = malloc (dt * sizeof *lt);
    double *eye = calloc ((size_t) dw * dw, sizeof *eye), *eyt = calloc ((size_t) dt * dt, sizeof *eyt);
    for (uint32_t i = 0; i < dw; i++)
        lw[i] = lam[i / (W * H)], eye[(size_t) i * dw + i] = 1.0;
    for (uint32_t i = 0; i < dt; i++)
        lt[i] = lam[i / (T * T)], eyt[(size_t) i * dt + i] = 1.0;
    dfx__moments *mw = NULL, *mt = NULL;
    CHECK (dfx__moments_gauss (ctx, C, dw, mu, dw, eye, lw, 0.0, &mw) == DFX_OK, "canvas moments");
    CHECK (dfx__moments_gauss (ctx, C, dt, mu, dt, eyt, lt, 0.0, &mt) == DFX_OK, "tile moments");
    const dfx__lik_model lm = {.mo = mw, .head = mt, .tile_w = T, .tile_h = T, .sigma_min = SMIN, .sigma_max = SMAX,
                               .multiple = 1};
    float *px = malloc (sizeof (float) * W * H * C);
    check_rng rng = {5};
    check_fill (&rng, px, (size_t) W * H * C, 0.35f, 0.65f);
    dfx_likelihood_params p;
    dfx_likelihood_params_defaults (&p);
    p.solver = DFX_ODE_RK45, p.rtol = p.atol = 1e-6; /* the adaptive solver to its closed-form accuracy */
    p.batch = 3;
    p.head_tiles = 1;
    p.head_overlap = 3;
    dfx_likelihood_result r, rw;
    CHECK (dfx__likelihood_image (&lm, &p, px, W, H, C, 0, &r) == DFX_OK, "head tiles: %s", dfx_ctx_errmsg (ctx));
    p.head_tiles = 0;
    CHECK (dfx__likelihood_image (&lm, &p, px, W, H, C, 0, &rw) == DFX_OK, "head whole: %s", dfx_ctx_errmsg (ctx));
    double worst = 0.0, sum = 0.0;
    for (uint32_t i = 0; i < W * H; i++) {
        double lp = 0.0;
        for (uint32_t c = 0; c < C; c++) {
            const double v = 2.0 * px[i * C + c] - 1.0, s2 = lam[c] + SMIN * SMIN;
            lp += -0.5 * (v * v / s2 + log (2.0 * M_PI * s2));
        }
        const double b = -lp / (C * log (2.0)) + log2 (127.5);
        worst = fmax (worst, fabs (r.map[i] - b));
        sum += b;
    }
    CHECK (r.head_tiles_x == 4 && r.head_tiles_y == 2 && rw.head_tiles_x == 0,
           "head tiles %u×%u (want 4×2), none with the head on the whole layer (%u)", r.head_tiles_x,
           r.head_tiles_y, rw.head_tiles_x);
    CHECK (worst < 1e-3, "head tiles: per-pixel bits vs closed form: worst %.3g", worst);
    CHECK (fabs (r.bits_per_dim - sum / (W * H)) < 1e-4, "head tiles: bits/dim %.7f vs closed form %.7f",
           r.bits_per_dim, sum / (W * H));
    CHECK (fabs (r.bits_per_dim - rw.bits_per_dim) < 1e-4, "head tiles %.7f vs head on the whole layer %.7f",
           r.bits_per_dim, rw.bits_per_dim);
    printf ("gaussian %ux%u RGB, head on %u×%u tiles: %.6f bits/dim (closed form %.6f, head whole %.6f), per-pixel "
            "error ≤ %.2g bits, %u evaluations\n",
            W, H, r.head_tiles_x, r.head_tiles_y, r.bits_per_dim, sum / (W * H), rw.bits_per_dim, worst, r.nfe);
    dfx_likelihood_result_clear (&r), dfx_likelihood_result_clear (&rw);

    /* 3. one tile, a loose state tolerance, with and without the integral's bound */
    const dfx__lik_model lt1 = {.mo = mt, .tile_w = T, .tile_h = T, .sigma_min = SMIN, .sigma_max = SMAX,
                                .prior_mean = mu, .prior_var = lt, .multiple = 1};
    double cf = 0.0;
    for (uint32_t y = 0; y < T; y++)
        for (uint32_t x = 0; x < T; x++)
            for (uint32_t c = 0; c < C; c++) {
                const double v = 2.0 * px[((size_t) y * W + x) * C + c] - 1.0, s2 = lam[c] + SMIN * SMIN;
                cf += -0.5 * (v * v / s2 + log (2.0 * M_PI * s2));
            }
    cf = -cf / (C * T * T * log (2.0)) + log2 (127.5);
    float *crop = malloc (sizeof (float) * T * T * C);
    for (uint32_t y = 0; y < T; y++)
        memcpy (crop + (size_t) y * T * C, px + (size_t) y * W * C, sizeof (float) * T * C);
    dfx_likelihood_result loose, bound;
    p.solver = DFX_ODE_RK45, p.rtol = p.atol = 0.3;
    p.bits_tol = 0.0;
    CHECK (dfx__likelihood_image (&lt1, &p, crop, T, T, C, 0, &loose) == DFX_OK, "loose: %s", dfx_ctx_errmsg (ctx));
    p.bits_tol = 1e-4;
    CHECK (dfx__likelihood_image (&lt1, &p, crop, T, T, C, 0, &bound) == DFX_OK, "bound: %s", dfx_ctx_errmsg (ctx));
    CHECK (fabs (bound.bits_per_dim - cf) < 2e-3, "bits_tol 1e-4: %.6f vs closed form %.6f", bound.bits_per_dim, cf);
    CHECK (bound.steps > loose.steps, "bits_tol 1e-4: %u steps, no more than the state's tolerance alone (%u)",
           bound.steps, loose.steps);
    printf ("rtol = atol = 0.3 on 8x8: %.6f bits/dim in %u steps (closed form %.6f); with bits_tol 1e-4: %.6f in %u "
            "steps\n", loose.bits_per_dim, loose.steps, cf, bound.bits_per_dim, bound.steps);
    dfx_likelihood_result_clear (&loose), dfx_likelihood_result_clear (&bound);
    free (crop);
    dfx__moments_destroy (mw), dfx__moments_destroy (mt);
    free (mu), free (lw), free (lt), free (eye), free (eyt), free (px);
}

int
main (void)
{
    dfx_ctx *ctx = check_ctx_open ();
    check_placement (ctx, 0);
    check_placement (ctx, 1);
    check_gauss (ctx);
    dfx_ctx_destroy (ctx);
    return check_exit ();
}
