/* test-likelihood-image.c — the likelihood of layers of any size
 * (dfx__likelihood_image, the engine of dfx_likelihood) on Gaussian data with
 * the exact posterior moments, where every per-pixel value is closed form
 * (suite algo).
 *
 * Data: independent values, value (c, y, x) of a tile ~ N(μ, λ) with μ, λ
 * per channel (stationary) or per position in the tile (not stationary).
 * Then pixel p of tile t has log N(x_p; μ, λ + σ̃_min²) summed over channels,
 * and with bits = −log p/(C ln 2) + log2 127.5:
 *   1. one tile: the map equals the closed form per pixel (1e-3 bits), the
 *      layer's bits/dim the closed form (1e-4), the map's mean the bits/dim;
 *      the divergence integral per band of σ̃ is Σ_i ½ ln((λ_i + σ̃_hi²)/(λ_i +
 *      σ̃_lo²)) and the prior term −½ (x_i − μ_i)²/(λ_i + σ̃_min²) − ½ ln(2π(λ_i
 *      + σ̃_max²)) (the trajectory is closed form too), in bits/dim (5e-3: the
 *      bands are the trapezoid rule over the stages' nodes; the prior 1e-3);
 *      the Fisher head (m) is evaluated at one stage of six fewer than x̂0;
 *   2. a 29×21 RGBA layer, RGB model, 8×8 tiles, overlap 3: tiles cover the
 *      layer with the overlap asked for, transparent pixels are NaN and
 *      counted, every scored pixel and every tile's figure is closed form;
 *   3. non-stationary data on 20×13: a pixel inside one tile only has that
 *      tile's closed form, one in several lies between theirs (blending);
 *   4. channel matching (grey model: RGB luminance; RGB model: grey copied),
 *      a layer smaller than the tile (5×3), the Heun solver;
 *   5. dequantisation: the same seed gives the same bits, another seed
 *      others, each within the bound a bin of width 2/255 allows;
 *   6. progress reaches 1 and a cancel stops the run; bad input is refused
 *      naming the pixel or the argument, a transparent layer says that no
 *      pixel was scored. */
#include "check-ctx.h"
#include "dfx-private.h"
#include "likelihood/likelihood-private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define T 8 /* tile side */

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

static const double SMIN = 0.01, SMAX = 200.0;

typedef struct gauss_case {
    uint32_t c;
    double mu[3 * T * T], lam[3 * T * T]; /* per tile value */
    double eye[(3 * T * T) * (3 * T * T)];
    dfx__moments *mo;
    dfx__lik_model lm;
} gauss_case;

static void
case_init (dfx_ctx *ctx, gauss_case *g, uint32_t c, int stationary, check_rng *r)
{
    const uint32_t d = c * T * T;
    g->c = c;
    double mc[3], lc[3];
    for (uint32_t k = 0; k < c; k++)
        mc[k] = check_uniform (r, -0.4f, 0.4f), lc[k] = check_uniform (r, 0.05f, 0.3f);
    for (uint32_t i = 0; i < d; i++) {
        g->mu[i] = stationary ? mc[i / (T * T)] : check_uniform (r, -0.4f, 0.4f);
        g->lam[i] = stationary ? lc[i / (T * T)] : check_uniform (r, 0.02f, 0.5f);
    }
    memset (g->eye, 0, sizeof (double) * d * d);
    for (uint32_t i = 0; i < d; i++)
        g->eye[(size_t) i * d + i] = 1.0;
    CHECK (dfx__moments_gauss (ctx, c, d, g->mu, d, g->eye, g->lam, 0.0, &g->mo) == DFX_OK, "moments");
    g->lm = (dfx__lik_model){.mo = g->mo, .tile_w = T, .tile_h = T, .sigma_min = SMIN, .sigma_max = SMAX,
                             .prior_mean = g->mu, .prior_var = g->lam};
}

/* Closed-form bits/dim of model values v[c] (on [-1, 1]) at tile position (y, x). */
static double
bits_at (const gauss_case *g, const double *v, uint32_t y, uint32_t x)
{
    double lp = 0.0;
    for (uint32_t c = 0; c < g->c; c++) {
        const uint32_t i = (c * T + y) * T + x;
        const double s2 = g->lam[i] + SMIN * SMIN, e = v[c] - g->mu[i];
        lp += -0.5 * (e * e / s2 + log (2.0 * M_PI * s2));
    }
    return -lp / (g->c * log (2.0)) + log2 (127.5);
}

/* Random layer in [0, 1] around the data's mean, alpha 0 on about a fifth of the pixels when has_alpha. */
static float *
make_layer (check_rng *r, uint32_t w, uint32_t h, uint32_t ch, int has_alpha, const gauss_case *g)
{
    float *px = malloc (sizeof (float) * w * h * ch);
    for (uint32_t i = 0; i < w * h; i++) {
        for (uint32_t c = 0; c < ch; c++) {
            double m = g->mu[(c < g->c ? c : 0) * T * T];
            px[i * ch + c] = (float) fmin (1.0, fmax (0.0, 0.5 * (m + 1.0) + check_uniform (r, -0.15f, 0.15f)));
        }
        if (has_alpha)
            px[i * ch + ch - 1] = check_uniform (r, 0, 1) < 0.2f ? 0.0f : check_uniform (r, 0.3f, 1.0f);
    }
    return px;
}

static void
params (dfx_likelihood_params *p, int overlap)
{
    dfx_likelihood_params_defaults (p);
    p->solver = DFX_ODE_RK45, p->rtol = p->atol = 1e-6; /* the adaptive solver to its closed-form accuracy */
    p->layout = DFX_LIKELIHOOD_TILES; /* these cases check the tiles; test-likelihood-skip.c the whole layer */
    p->overlap = overlap;
    p->batch = 5;
}

/* The model values (on [-1, 1]) of layer pixel i as dfx.h documents them. */
static void
model_values (const float *px, uint32_t ch, int has_alpha, uint32_t cm, size_t i, double *v)
{
    const float *p = px + i * ch;
    const uint32_t cl = ch - (has_alpha ? 1 : 0);
    if (cm == cl)
        for (uint32_t c = 0; c < cm; c++)
            v[c] = 2.0 * p[c] - 1.0;
    else if (cm == 1)
        v[0] = 2.0 * (0.2126 * p[0] + 0.7152 * p[1] + 0.0722 * p[2]) - 1.0;
    else
        for (uint32_t c = 0; c < 3; c++)
            v[c] = 2.0 * p[0] - 1.0;
}

/* Stationary cases: every scored pixel and every tile against the closed form. */
static void
check_stationary (const char *what, const gauss_case *g, const float *px, uint32_t w, uint32_t h, uint32_t ch,
                  int has_alpha, const dfx_likelihood_result *r)
{
    double worst = 0.0, sum = 0.0, msum = 0.0;
    uint64_t scored = 0, nan_ok = 1;
    for (size_t i = 0; i < (size_t) w * h; i++) {
        if (has_alpha && px[i * ch + ch - 1] == 0.0f) {
            nan_ok &= isnan (r->map[i]);
            continue;
        }
        double v[3];
        model_values (px, ch, has_alpha, g->c, i, v);
        double b = bits_at (g, v, 0, 0);
        worst = fmax (worst, fabs (r->map[i] - b));
        sum += b, msum += r->map[i], scored++;
    }
    CHECK (nan_ok, "%s: transparent pixels are NaN in the map", what);
    CHECK (r->pixels_scored == scored && r->pixels_excluded == (uint64_t) w * h - scored &&
               r->dims == scored * g->c,
           "%s: %llu scored (want %llu), %llu excluded, %llu dims", what, (unsigned long long) r->pixels_scored,
           (unsigned long long) scored, (unsigned long long) r->pixels_excluded, (unsigned long long) r->dims);
    CHECK (worst < 1e-3, "%s: per-pixel bits vs closed form: worst %.3g", what, worst);
    CHECK (fabs (r->bits_per_dim - sum / scored) < 1e-4, "%s: bits/dim %.7f vs closed form %.7f", what,
           r->bits_per_dim, sum / scored);
    CHECK (fabs (r->bits_per_dim - msum / scored) < 1e-6, "%s: bits/dim %.7f is the map's mean %.7f", what,
           r->bits_per_dim, msum / scored);
    CHECK (fabs (r->bits_per_dim - (-r->log_p / (r->dims * log (2.0)) + log2 (127.5))) < 1e-9,
           "%s: bits/dim from log_p", what);
    /* Each tile's figure: the mean closed form over its scored pixels. */
    double tworst = 0.0;
    for (uint32_t t = 0; t < r->tile_count; t++) {
        const dfx_likelihood_tile *tl = &r->tiles[t];
        double s = 0.0;
        uint64_t n = 0;
        for (uint32_t y = tl->y; y < tl->y + tl->height; y++)
            for (uint32_t x = tl->x; x < tl->x + tl->width; x++) {
                size_t i = (size_t) y * w + x;
                if (has_alpha && px[i * ch + ch - 1] == 0.0f)
                    continue;
                double v[3];
                model_values (px, ch, has_alpha, g->c, i, v);
                s += bits_at (g, v, 0, 0), n++;
            }
        CHECK (n == tl->pixels_scored, "%s: tile %u scored %llu of %llu", what, t,
               (unsigned long long) tl->pixels_scored, (unsigned long long) n);
        if (n)
            tworst = fmax (tworst, fabs (tl->bits_per_dim - s / n));
    }
    CHECK (tworst < 1e-3, "%s: tiles' bits/dim vs closed form: worst %.3g", what, tworst);
    printf ("%s: %ux%u, %u tiles (%u×%u), %.6f bits/dim, per-pixel error ≤ %.2g bits, %u evaluations, %u steps\n",
            what, w, h, r->tile_count, r->tiles_x, r->tiles_y, r->bits_per_dim, worst, r->nfe, r->steps);
}

static int
count_progress (double f, void *user)
{
    double *last = user;
    CHECK (f >= last[0] - 1e-12 && f <= 1.0 + 1e-12, "progress %g after %g", f, last[0]);
    last[0] = f;
    last[1] += 1;
    return last[2] > 0 && last[1] >= last[2];
}

int
main (void)
{
    dfx_ctx *ctx = check_ctx_open ();
    dfx_status st;
    check_rng rng = {7};
    static gauss_case g1, g3, gn;
    case_init (ctx, &g1, 1, 1, &rng);
    case_init (ctx, &g3, 3, 1, &rng);
    case_init (ctx, &gn, 1, 0, &rng);
    dfx_likelihood_params p;
    dfx_likelihood_result r;

    /* 1. one tile, grey */
    float *px = make_layer (&rng, T, T, 1, 0, &g1);
    params (&p, -1);
    st = dfx__likelihood_image (&g1.lm, &p, px, T, T, 1, 0, &r);
    CHECK (st == DFX_OK, "one tile: %s", dfx_ctx_errmsg (ctx));
    if (st == DFX_OK) {
        CHECK (r.tile_count == 1 && r.tiles[0].width == T, "one tile: %u tiles", r.tile_count);
        check_stationary ("one tile", &g1, px, T, T, 1, 0, &r);
        double bworst = 0.0, prior = 0.0;
        for (int b = 0; b < DFX_LIKELIHOOD_BANDS; b++) {
            const double lo = r.band_sigma[b], hi = r.band_sigma[b + 1];
            double want = 0.0;
            for (uint32_t i = 0; i < T * T; i++)
                want += 0.5 * log ((g1.lam[i] + hi * hi) / (g1.lam[i] + lo * lo));
            want = -want / (T * T * log (2.0));
            bworst = fmax (bworst, fabs (r.band_bits[b] - want));
        }
        for (uint32_t i = 0; i < T * T; i++) {
            const double e = 2.0 * px[i] - 1.0 - g1.mu[i];
            prior += -0.5 * e * e / (g1.lam[i] + SMIN * SMIN) - 0.5 * log (2.0 * M_PI * (g1.lam[i] + SMAX * SMAX));
        }
        prior = -prior / (T * T * log (2.0));
        CHECK (r.band_sigma[0] == SMIN && r.band_sigma[DFX_LIKELIHOOD_BANDS] == SMAX, "one tile: band edges");
        CHECK (bworst < 5e-3, "one tile: divergence per σ̃ band vs closed form: worst %.3g bits/dim", bworst);
        CHECK (fabs (r.prior_bits - prior) < 1e-3, "one tile: prior term %.6f vs closed form %.6f", r.prior_bits,
               prior);
        CHECK (r.nfe_fisher + r.steps + r.rejected == r.nfe, "one tile: %u Fisher evaluations of %u in %u + %u steps",
               r.nfe_fisher, r.nfe, r.steps, r.rejected);
        printf ("one tile: bands within %.2g bits/dim of the closed form, prior %.6f (closed form %.6f)\n", bworst,
                r.prior_bits, prior);
    }
    dfx_likelihood_result_clear (&r);
    free (px);

    /* 2. RGBA 29×21 on the RGB model, overlap 3 */
    const uint32_t W2 = 29, H2 = 21;
    px = make_layer (&rng, W2, H2, 4, 1, &g3);
    params (&p, 3);
    st = dfx__likelihood_image (&g3.lm, &p, px, W2, H2, 4, 1, &r);
    CHECK (st == DFX_OK, "RGBA: %s", dfx_ctx_errmsg (ctx));
    if (st == DFX_OK) {
        /* Tiles: inside the layer, first at 0, last at the end, neighbours sharing ≥ 3. */
        int ok = r.tiles_x * r.tiles_y == r.tile_count && r.tiles_x >= 5 && r.tiles_y >= 3;
        for (uint32_t t = 0; ok && t < r.tile_count; t++) {
            const dfx_likelihood_tile *tl = &r.tiles[t];
            uint32_t ix = t % r.tiles_x, iy = t / r.tiles_x;
            ok = tl->width == T && tl->height == T && tl->x + T <= W2 && tl->y + T <= H2 &&
                 (ix > 0 || tl->x == 0) && (iy > 0 || tl->y == 0) && (ix + 1 < r.tiles_x || tl->x + T == W2) &&
                 (iy + 1 < r.tiles_y || tl->y + T == H2) && (ix == 0 || tl[-1].x + T >= tl->x + 3) &&
                 (iy == 0 || r.tiles[t - r.tiles_x].y + T >= tl->y + 3);
        }
        CHECK (ok, "RGBA: tile grid %u×%u does not cover the layer with overlap 3", r.tiles_x, r.tiles_y);
        CHECK (r.width == W2 && r.height == H2 && r.channels == 3, "RGBA: result size");
        check_stationary ("RGBA 29x21, RGB model", &g3, px, W2, H2, 4, 1, &r);
    }
    dfx_likelihood_result_clear (&r);
    free (px);

    /* 3. non-stationary data: blending */
    const uint32_t W3 = 20, H3 = 13;
    px = make_layer (&rng, W3, H3, 1, 0, &gn);
    params (&p, 2);
    st = dfx__likelihood_image (&gn.lm, &p, px, W3, H3, 1, 0, &r);
    CHECK (st == DFX_OK, "blending: %s", dfx_ctx_errmsg (ctx));
    if (st == DFX_OK) {
        double single = 0.0, outside = 0.0;
        int singles = 0, multis = 0;
        for (uint32_t y = 0; y < H3; y++)
            for (uint32_t x = 0; x < W3; x++) {
                double lo = INFINITY, hi = -INFINITY, v = 2.0 * px[y * W3 + x] - 1.0;
                int n = 0;
                for (uint32_t t = 0; t < r.tile_count; t++) {
                    const dfx_likelihood_tile *tl = &r.tiles[t];
                    if (x < tl->x || y < tl->y || x >= tl->x + tl->width || y >= tl->y + tl->height)
                        continue;
                    double b = bits_at (&gn, &v, y - tl->y, x - tl->x);
                    lo = fmin (lo, b), hi = fmax (hi, b), n++;
                }
                double m = r.map[y * W3 + x];
                if (n == 1)
                    single = fmax (single, fabs (m - lo)), singles++;
                else
                    outside = fmax (outside, fmax (lo - m, m - hi)), multis++;
            }
        CHECK (singles > 0 && multis > 0 && single < 1e-3, "blending: pixels in one tile: worst %.3g (%d pixels)",
               single, singles);
        CHECK (outside < 1e-3, "blending: a blended pixel lies %.3g outside its tiles' values (%d pixels)", outside,
               multis);
        printf ("non-stationary 20x13: %u tiles; one-tile pixels within %.2g bits, blended ones inside their "
                "tiles' range (%.2g)\n", r.tile_count, single, outside);
    }
    dfx_likelihood_result_clear (&r);
    free (px);

    /* 4. channel matching, a layer smaller than the tile, Heun */
    px = make_layer (&rng, 11, 9, 3, 0, &g1);
    params (&p, -1);
    st = dfx__likelihood_image (&g1.lm, &p, px, 11, 9, 3, 0, &r);
    CHECK (st == DFX_OK, "RGB on grey: %s", dfx_ctx_errmsg (ctx));
    if (st == DFX_OK)
        check_stationary ("RGB layer, grey model (luminance)", &g1, px, 11, 9, 3, 0, &r);
    dfx_likelihood_result_clear (&r);
    free (px);
    px = make_layer (&rng, 10, 8, 2, 1, &g3);
    st = dfx__likelihood_image (&g3.lm, &p, px, 10, 8, 2, 1, &r);
    CHECK (st == DFX_OK, "grey on RGB: %s", dfx_ctx_errmsg (ctx));
    if (st == DFX_OK)
        check_stationary ("grey+alpha layer, RGB model (copied)", &g3, px, 10, 8, 2, 1, &r);
    dfx_likelihood_result_clear (&r);
    free (px);
    px = make_layer (&rng, 5, 3, 1, 0, &g1);
    st = dfx__likelihood_image (&g1.lm, &p, px, 5, 3, 1, 0, &r);
    CHECK (st == DFX_OK, "5x3: %s", dfx_ctx_errmsg (ctx));
    if (st == DFX_OK) {
        CHECK (r.tile_count == 1 && r.tiles[0].width == 5 && r.tiles[0].height == 3, "5x3: one tile, clipped");
        check_stationary ("5x3 layer (padded tile)", &g1, px, 5, 3, 1, 0, &r);
    }
    dfx_likelihood_result_clear (&r);
    p.solver = DFX_ODE_HEUN, p.steps = 200;
    st = dfx__likelihood_image (&g1.lm, &p, px, 5, 3, 1, 0, &r);
    CHECK (st == DFX_OK && r.steps == 200 && r.nfe == 400, "Heun: %s, %u steps, %u evaluations",
           dfx_ctx_errmsg (ctx), r.steps, r.nfe);
    if (st == DFX_OK) {
        double v = 2.0 * px[0] - 1.0;
        CHECK (fabs (r.map[0] - bits_at (&g1, &v, 0, 0)) < 1e-3, "Heun 200 steps: %.6f vs %.6f", r.map[0],
               bits_at (&g1, &v, 0, 0));
    }
    dfx_likelihood_result_clear (&r);
    free (px);

    /* 5. dequantisation */
    px = make_layer (&rng, 16, 16, 1, 0, &g1);
    params (&p, -1);
    double b0 = 0, b1 = 0, b1b = 0, b2 = 0, bound = 0;
    for (int k = 0; k < 4; k++) {
        p.dequantise = k > 0;
        p.seed = k == 3 ? 2 : 1;
        st = dfx__likelihood_image (&g1.lm, &p, px, 16, 16, 1, 0, &r);
        CHECK (st == DFX_OK, "dequantise: %s", dfx_ctx_errmsg (ctx));
        double b = r.bits_per_dim;
        if (k == 0) {
            /* |Δ log N| per value ≤ (|x − μ| Δ/2 + Δ²/8)/s² with Δ = 2/255; the mean of the map over pixels. */
            const double D = 2.0 / 255.0, s2 = g1.lam[0] + SMIN * SMIN;
            for (int i = 0; i < 256; i++)
                bound += (fabs (2.0 * px[i] - 1.0 - g1.mu[0]) * D / 2 + D * D / 8) / s2;
            bound = bound / 256 / log (2.0) + 1e-3;
            b0 = b;
        } else if (k == 1)
            b1 = b;
        else if (k == 2)
            b1b = b;
        else
            b2 = b;
        dfx_likelihood_result_clear (&r);
    }
    CHECK (b1 == b1b, "dequantise: the same seed gives the same bits/dim (%.9f, %.9f)", b1, b1b);
    CHECK (b1 != b2 && b1 != b0, "dequantise: seeds 1, 2 and none give %.9f, %.9f, %.9f", b1, b2, b0);
    CHECK (fabs (b1 - b0) < bound && fabs (b2 - b0) < bound, "dequantise: changes %.3g, %.3g exceed the bound %.3g",
           b1 - b0, b2 - b0, bound);
    printf ("dequantisation: %.6f (none), %.6f (seed 1), %.6f (seed 2) bits/dim; bound %.3g\n", b0, b1, b2, bound);

    /* 6. progress, cancel, bad input */
    double prog[3] = {0, 0, 0};
    p.dequantise = 0, p.progress = count_progress, p.progress_user = prog;
    st = dfx__likelihood_image (&g1.lm, &p, px, 16, 16, 1, 0, &r);
    CHECK (st == DFX_OK && fabs (prog[0] - 1.0) < 1e-9 && prog[1] > 2, "progress: ends at %g after %g reports",
           prog[0], prog[1]);
    dfx_likelihood_result_clear (&r);
    prog[0] = prog[1] = 0, prog[2] = 3;
    st = dfx__likelihood_image (&g1.lm, &p, px, 16, 16, 1, 0, &r);
    CHECK (st == DFX_ERR_CANCELLED && r.map == NULL, "cancel: %s", dfx_status_name (st));
    p.progress = NULL;
    px[5 * 16 + 3] = NAN;
    st = dfx__likelihood_image (&g1.lm, &p, px, 16, 16, 1, 0, &r);
    CHECK (st == DFX_ERR_INVALID_ARGUMENT && strstr (dfx_ctx_errmsg (ctx), "pixel (3, 5)"), "NaN: %s",
           dfx_ctx_errmsg (ctx));
    px[5 * 16 + 3] = 1.5f;
    st = dfx__likelihood_image (&g1.lm, &p, px, 16, 16, 1, 0, &r);
    CHECK (st == DFX_ERR_INVALID_ARGUMENT && strstr (dfx_ctx_errmsg (ctx), "pixel (3, 5)"), "1.5: %s",
           dfx_ctx_errmsg (ctx));
    free (px);
    float ga[2 * 6 * 4];
    for (int i = 0; i < 24; i++)
        ga[2 * i] = 0.5f, ga[2 * i + 1] = 0.0f;
    st = dfx__likelihood_image (&g1.lm, &p, ga, 6, 4, 2, 1, &r);
    CHECK (st == DFX_ERR_INVALID_ARGUMENT && strstr (dfx_ctx_errmsg (ctx), "no pixel was scored"),
           "transparent: %s", dfx_ctx_errmsg (ctx));
    st = dfx__likelihood_image (&g1.lm, &p, ga, 6, 4, 2, 0, &r);
    CHECK (st == DFX_ERR_INVALID_ARGUMENT && strstr (dfx_ctx_errmsg (ctx), "2 channels without alpha"),
           "2 channels, no alpha: %s", dfx_ctx_errmsg (ctx));
    p.overlap = T;
    st = dfx__likelihood_image (&g1.lm, &p, ga, 6, 4, 2, 1, &r);
    CHECK (st == DFX_ERR_INVALID_ARGUMENT && strstr (dfx_ctx_errmsg (ctx), "overlap 8"), "overlap: %s",
           dfx_ctx_errmsg (ctx));
    params (&p, -1);
    p.sigma_min = 300.0;
    st = dfx__likelihood_image (&g1.lm, &p, ga, 6, 4, 2, 1, &r);
    CHECK (st == DFX_ERR_INVALID_ARGUMENT && strstr (dfx_ctx_errmsg (ctx), "sigma_min 300"), "sigma_min: %s",
           dfx_ctx_errmsg (ctx));

    dfx__moments_destroy (g1.mo);
    dfx__moments_destroy (g3.mo);
    dfx__moments_destroy (gn.mo);
    dfx_ctx_destroy (ctx);
    return check_exit ();
}
