/* lik-image.c — the likelihood of an image of any size (dfx.h, "Likelihood"):
 * the layer's pixels become model values (channel matching, alpha, optional
 * dequantisation), are cut into tiles of the networks' size, go through the
 * DF-TM ODE (likelihood.c) a batch of tiles at a time, and the per-pixel
 * bits/dim of the tiles are blended into one map with raised-cosine weights.
 *
 * Not for: the networks (the moments come from the caller: the model's
 * U-Net and Fisher head, or an analytic case in tests), colour maps or files
 * (front ends).
 */
#include "likelihood-private.h"
#include "../sample/sample-private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif
#ifndef M_LN2
#define M_LN2 0.69314718055994530942
#endif

const char *
dfx_ode_solver_name (dfx_ode_solver s)
{
    switch (s) {
    case DFX_ODE_RK45: return "rk45";
    case DFX_ODE_HEUN: return "heun";
    case DFX_ODE_EXP3M: return "exp3m";
    }
    return "unknown";
}

void
dfx_likelihood_params_defaults (dfx_likelihood_params *p)
{
    memset (p, 0, sizeof *p);
    /* exp3m, 16 steps (17 network pairs): on six held-out crops per model at least as close to the
     * converged value as RK45 1e-3 (photo-32 within 0.010 on all six, emoji-32 as RK45 1e-3) with 2.5-4x
     * fewer evaluations (BENCHMARKS.md issue 20, "exp3m on six crops per model") */
    p->solver = DFX_ODE_EXP3M;
    p->rtol = 1e-3;
    p->atol = 1e-3;
    p->steps = 16;
    p->overlap = -1;
    p->batch = 16;
    p->clamp_sigma = 1;
    p->trace = DFX_TRACE_DFTM;
    p->probes = 1;
    p->layout = DFX_LIKELIHOOD_WHOLE;
    p->head_tiles = 0; /* on emoji-32 the head on tiles is further from the network's own divergence (BENCHMARKS.md) */
    p->head_overlap = -1;
    p->skip = DFX_SKIP_OFF; /* on the shipped models the skip moves bits/dim by about 0.1 (BENCHMARKS.md) */
}

const char *
dfx_likelihood_trace_name (dfx_likelihood_trace t)
{
    switch (t) {
    case DFX_TRACE_DFTM: return "dftm";
    case DFX_TRACE_HUTCHINSON: return "hutchinson";
    case DFX_TRACE_EXACT: return "exact";
    }
    return "unknown";
}

void
dfx_likelihood_result_clear (dfx_likelihood_result *r)
{
    if (!r)
        return;
    free (r->map);
    free (r->tiles);
    memset (r, 0, sizeof *r);
}

/* The layer as model values in [0, 1] (c_m planes of h × w) and the mask of
 * scored pixels.  Refuses non-numbers and values outside [0, 1]. */
static dfx_status
layer_values (dfx_ctx *ctx, const float *px, uint32_t w, uint32_t h, uint32_t ch, int has_alpha, uint32_t cm,
              float *val, uint8_t *scored, uint64_t *n_scored)
{
    const uint32_t cl = ch - (has_alpha ? 1 : 0);
    const size_t plane = (size_t) w * h;
    *n_scored = 0;
    for (size_t i = 0; i < plane; i++) {
        const float *p = px + i * ch;
        for (uint32_t c = 0; c < ch; c++)
            if (!isfinite (p[c]) || p[c] < -1e-3f || p[c] > 1.0f + 1e-3f)
                return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT,
                                   "likelihood: pixel (%zu, %zu) channel %u is %g, not a number in [0, 1]", i % w,
                                   i / w, c, (double) p[c]);
        float v[3];
        for (uint32_t c = 0; c < cl; c++)
            v[c] = fminf (1.0f, fmaxf (0.0f, p[c]));
        if (cm == cl) {
            for (uint32_t c = 0; c < cm; c++)
                val[c * plane + i] = v[c];
        } else if (cm == 1) { /* RGB layer, grey model: luminance of the encoded values */
            val[i] = 0.2126f * v[0] + 0.7152f * v[1] + 0.0722f * v[2];
        } else { /* grey layer, RGB model */
            for (uint32_t c = 0; c < 3; c++)
                val[c * plane + i] = v[0];
        }
        scored[i] = !has_alpha || p[ch - 1] > 0.0f;
        *n_scored += scored[i];
    }
    return DFX_OK;
}

/* x += Δ (u − ½), u ~ U[0, 1) from Philox keyed by the seed, counter (i / 4, 1). */
static void
dequantise (float *val, size_t n, uint64_t seed)
{
    const uint32_t key[2] = {(uint32_t) seed, (uint32_t) (seed >> 32)};
    for (size_t i = 0; i < n; i += 4) {
        const uint32_t ctr[4] = {(uint32_t) (i / 4), (uint32_t) ((uint64_t) (i / 4) >> 32), 1, 0};
        uint32_t o[4];
        dfx__philox4x32 (ctr, key, o);
        for (size_t k = 0; k < 4 && i + k < n; k++)
            val[i + k] += (float) (((o[k] >> 8) * (1.0 / 16777216.0) - 0.5) / 255.0);
    }
}

typedef struct gauss_prior {
    dfx_ctx *ctx;
    const dfx__gauss_stats *g;
    dfx_skip mode;
    uint32_t h, w;
} gauss_prior;

static dfx_status
gauss_prior_terms (void *user, uint32_t batch, const float *x, double sigma, double *terms)
{
    const gauss_prior *gp = user;
    return dfx__gauss_log_density (gp->ctx, gp->g, gp->mode, batch, gp->h, gp->w, x, sigma, terms);
}

/* The skip's mode and σ̃ for a canvas of tw × th (OFF: none). */
static dfx_status
skip_choice (dfx_ctx *ctx, const dfx__lik_model *lm, const dfx_likelihood_params *p, uint32_t tw, uint32_t th,
             double smin, double smax, dfx_skip *mode, double *sigma)
{
    const dfx__gauss_stats *g = lm->gauss;
    *mode = DFX_SKIP_OFF, *sigma = smax;
    if (p->skip == DFX_SKIP_OFF || (p->skip == DFX_SKIP_AUTO && !g))
        return DFX_OK;
    if (!g)
        return dfx__error (ctx, DFX_ERR_UNSUPPORTED, "likelihood: the %s Gaussian skip needs the model's gaussian/ "
                           "folder (dfx prepare --model MODEL makes it from the network, python3 models/gaussian_stats.py "
                           "--model MODEL from its data)", dfx_skip_name (p->skip));
    dfx_skip m = p->skip;
    if (m == DFX_SKIP_AUTO) {
        m = tw == g->width && th == g->height && g->channels == lm->mo->channels ? g->mode : DFX_SKIP_SPECTRAL;
        if ((m == DFX_SKIP_PCA && !g->has_pca) || (m == DFX_SKIP_SPECTRAL && !g->has_spectral))
            return DFX_OK;
    }
    if (g->channels != lm->mo->channels)
        return dfx__error (ctx, DFX_ERR_FORMAT, "likelihood: the Gaussian statistics have %u channels, the model %u",
                           g->channels, lm->mo->channels);
    double cal = m == DFX_SKIP_PCA ? g->sigma_skip_pca : g->sigma_skip_spectral;
    if (!(cal > 0.0))
        cal = g->sigma_skip;
    double s = p->sigma_skip > 0.0 ? p->sigma_skip : cal;
    if (!(s > 0.0)) {
        if (p->skip == DFX_SKIP_AUTO)
            return DFX_OK; /* not calibrated */
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "likelihood: the %s skip needs sigma_skip (gaussian/ holds "
                           "no calibrated one)", dfx_skip_name (m));
    }
    if (!(s > smin) || !isfinite (s))
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "likelihood: sigma_skip %g must be above sigma_min %g", s,
                           smin);
    if (s >= smax)
        return DFX_OK;
    *mode = m, *sigma = s;
    return DFX_OK;
}

/* Adds the integral of the profile's integrand (piecewise linear between its
 * nodes, constant beyond them) over each band of u = ln σ̃ to acc. */
static void
add_bands (const dfx__lik_stats *s, const double *edge_u, double *acc)
{
    const uint32_t n = s->profile_count;
    if (!n)
        return;
    for (int b = 0; b < DFX_LIKELIHOOD_BANDS; b++) {
        const double lo = edge_u[b], hi = edge_u[b + 1];
        double sum = 0.0;
        if (lo < s->profile_u[0])
            sum += s->profile_div[0] * (fmin (hi, s->profile_u[0]) - lo);
        if (hi > s->profile_u[n - 1])
            sum += s->profile_div[n - 1] * (hi - fmax (lo, s->profile_u[n - 1]));
        for (uint32_t k = 0; k + 1 < n; k++) {
            const double u0 = s->profile_u[k], u1 = s->profile_u[k + 1];
            const double a = fmax (lo, u0), z = fmin (hi, u1);
            if (!(z > a) || !(u1 > u0))
                continue;
            const double f0 = s->profile_div[k], f1 = s->profile_div[k + 1];
            const double ga = f0 + (f1 - f0) * (a - u0) / (u1 - u0), gz = f0 + (f1 - f0) * (z - u0) / (u1 - u0);
            sum += 0.5 * (ga + gz) * (z - a);
        }
        acc[b] += sum;
    }
}

typedef struct progress_map {
    const dfx_likelihood_params *p;
    uint32_t done, total; /* batches */
} progress_map;

static int
batch_progress (double f, void *user)
{
    progress_map *pm = user;
    return pm->p->progress (((double) pm->done + f) / pm->total, pm->p->progress_user);
}

static dfx_status
check_params (dfx_ctx *ctx, const dfx__lik_model *lm, const dfx_likelihood_params *p, uint32_t w, uint32_t h,
              uint32_t ch, int has_alpha)
{
    if (!(w >= 1 && h >= 1 && w <= DFX_LIKELIHOOD_MAX_SIZE && h <= DFX_LIKELIHOOD_MAX_SIZE))
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "likelihood: size %ux%u is outside [1, %d] per side", w, h,
                           DFX_LIKELIHOOD_MAX_SIZE);
    if (ch < 1 || ch > 4 || (has_alpha != 0) != (ch == 2 || ch == 4))
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT,
                           "likelihood: %u channels %s alpha; give 1 (grey), 2 (grey, alpha), 3 (RGB) or 4 (RGBA)",
                           ch, has_alpha ? "with" : "without");
    if (lm->mo->channels != 1 && lm->mo->channels != 3)
        return dfx__error (ctx, DFX_ERR_UNSUPPORTED, "likelihood: the model has %u channels; dfx scores grey (1) "
                           "and RGB (3) models", lm->mo->channels);
    if ((unsigned) p->solver > DFX_ODE_EXP3M)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "likelihood: unknown solver %d", (int) p->solver);
    if (p->solver == DFX_ODE_RK45 && !(p->rtol > 0.0 && p->rtol <= 1.0 && p->atol > 0.0 && p->atol <= 1.0))
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "likelihood: rtol %g and atol %g must be in (0, 1]",
                           p->rtol, p->atol);
    if (!(p->bits_tol >= 0.0 && p->bits_tol <= 1.0))
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "likelihood: bits_tol %g must be in [0, 1]", p->bits_tol);
    if (p->solver != DFX_ODE_RK45 && (p->steps < 1 || p->steps > 100000))
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "likelihood: %u %s steps is outside [1, 100000]",
                           p->steps, dfx_ode_solver_name (p->solver));
    if ((unsigned) p->trace > DFX_TRACE_EXACT)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "likelihood: unknown trace method %d", (int) p->trace);
    if (p->trace == DFX_TRACE_HUTCHINSON && (p->probes < 1 || p->probes > DFX_LIKELIHOOD_MAX_PROBES))
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "likelihood: %u Hutchinson probes is outside [1, %d]",
                           p->probes, DFX_LIKELIHOOD_MAX_PROBES);
    if (p->batch < 1 || p->batch > DFX_LIKELIHOOD_MAX_BATCH)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "likelihood: batch %u is outside [1, %d]", p->batch,
                           DFX_LIKELIHOOD_MAX_BATCH);
    const uint32_t t = lm->tile_w < lm->tile_h ? lm->tile_w : lm->tile_h;
    if (p->head_overlap < -1 || (p->head_overlap >= 0 && (uint32_t) p->head_overlap >= t))
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "likelihood: head overlap %d must be in [0, %u) (the tile "
                           "is %ux%u)", p->head_overlap, t, lm->tile_w, lm->tile_h);
    if (p->overlap < -1 || (p->overlap >= 0 && (uint32_t) p->overlap >= t))
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "likelihood: overlap %d must be in [0, %u) (the tile is "
                           "%ux%u)", p->overlap, t, lm->tile_w, lm->tile_h);
    double smin = p->sigma_min > 0 ? p->sigma_min : lm->sigma_min, smax = p->sigma_max > 0 ? p->sigma_max : lm->sigma_max;
    if ((unsigned) p->layout > DFX_LIKELIHOOD_TILES)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "likelihood: unknown layout %d", (int) p->layout);
    if ((unsigned) p->skip > DFX_SKIP_OFF || !(p->sigma_skip >= 0.0))
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "likelihood: skip %d with sigma_skip %g (give a mode and "
                           "sigma_skip ≥ 0)", (int) p->skip, p->sigma_skip);
    if (!(p->sigma_min >= 0.0) || !(p->sigma_max >= 0.0) || !(smin > 0.0) || !(smax > smin) || !isfinite (smax))
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "likelihood: sigma_min %g must be above 0 and below "
                           "sigma_max %g", smin, smax);
    return DFX_OK;
}

dfx_status
dfx__likelihood_image (const dfx__lik_model *lm, const dfx_likelihood_params *p, const float *pixels, uint32_t w,
                       uint32_t h, uint32_t ch, int has_alpha, dfx_likelihood_result *r)
{
    dfx_ctx *ctx = lm->mo->ctx;
    const double t0 = dfx__now ();
    memset (r, 0, sizeof *r);
    dfx_status st = check_params (ctx, lm, p, w, h, ch, has_alpha);
    if (st != DFX_OK)
        return st;
    const uint32_t cm = lm->mo->channels;
    uint32_t tw = lm->tile_w, th = lm->tile_h;
    const int whole = p->layout == DFX_LIKELIHOOD_WHOLE;
    if (whole) { /* one tile: the layer, padded to the networks' multiple by repeating its edge */
        const uint32_t mult = lm->multiple ? lm->multiple : 1;
        tw = (w + mult - 1) / mult * mult, th = (h + mult - 1) / mult * mult;
    }
    const int own_prior = tw == lm->tile_w && th == lm->tile_h;
    const uint32_t ov_x = p->overlap >= 0 ? (uint32_t) p->overlap : tw / 4;
    const uint32_t ov_y = p->overlap >= 0 ? (uint32_t) p->overlap : th / 4;
    const size_t plane = (size_t) w * h, dv = (size_t) cm * tw * th;
    const uint32_t nx = dfx__tile_origins (w, tw, ov_x, NULL), ny = dfx__tile_origins (h, th, ov_y, NULL);
    const uint32_t nt = nx * ny, bmax = whole ? 1 : p->batch < nt ? p->batch : nt;
    const double log2_bin = log2 (127.5); /* −log2 of the bin width 2/255 */

    float *val = malloc (plane * cm * sizeof *val), *xb = malloc (bmax * dv * sizeof *xb);
    uint8_t *scored = malloc (plane);
    double *acc = calloc (plane, sizeof *acc), *wsum = calloc (plane, sizeof *wsum);
    double *map = malloc (bmax * dv * sizeof *map), *logp = malloc (bmax * sizeof *logp);
    uint32_t *px = malloc (nx * sizeof *px), *py = malloc (ny * sizeof *py);
    double *wx = malloc ((size_t) nx * tw * sizeof *wx), *wy = malloc ((size_t) ny * th * sizeof *wy);
    r->map = malloc (plane * sizeof *r->map);
    r->tiles = calloc (nt, sizeof *r->tiles);
    dfx_buffer *x = NULL;
    dfx__moments *tiled = NULL;
    if (!val || !xb || !scored || !acc || !wsum || !map || !logp || !px || !py || !wx || !wy || !r->map ||
        !r->tiles) {
        st = dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (likelihood of %ux%u)", w, h);
        goto cleanup;
    }
    uint64_t n_scored;
    DFX_CHECK (layer_values (ctx, pixels, w, h, ch, has_alpha, cm, val, scored, &n_scored));
    if (n_scored == 0) {
        st = dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT,
                         "likelihood: no pixel was scored: all %u pixels of the %ux%u layer are transparent",
                         w * h, w, h);
        goto cleanup;
    }
    if (p->dequantise)
        dequantise (val, plane * cm, p->seed);
    dfx__tile_origins (w, tw, ov_x, px);
    dfx__tile_origins (h, th, ov_y, py);
    for (uint32_t i = 0; i < nx; i++)
        for (uint32_t j = 0; j < tw; j++)
            wx[(size_t) i * tw + j] = dfx__tile_axis_weight (px, nx, i, tw, j);
    for (uint32_t i = 0; i < ny; i++)
        for (uint32_t j = 0; j < th; j++)
            wy[(size_t) i * th + j] = dfx__tile_axis_weight (py, ny, i, th, j);
    DFX_CHECK (dfx_buffer_create (ctx, bmax * dv * sizeof (float), &x));
    /* The Fisher head on tiles of its own size of the whole layer's state. */
    if (whole && p->head_tiles && p->trace == DFX_TRACE_DFTM && tw >= lm->tile_w && th >= lm->tile_h &&
        (tw > lm->tile_w || th > lm->tile_h)) {
        const uint32_t t = lm->tile_w < lm->tile_h ? lm->tile_w : lm->tile_h;
        const uint32_t hov = p->head_overlap >= 0 ? (uint32_t) p->head_overlap : t / 4;
        DFX_CHECK (dfx__moments_tiled (lm->mo, lm->head ? lm->head : lm->mo, lm->tile_w, lm->tile_h, hov, p->batch,
                                       &tiled));
        r->head_tiles_x = dfx__tile_origins (tw, lm->tile_w, hov, NULL);
        r->head_tiles_y = dfx__tile_origins (th, lm->tile_h, hov, NULL);
    }

    const double smin = p->sigma_min > 0 ? p->sigma_min : lm->sigma_min;
    const double smax = p->sigma_max > 0 ? p->sigma_max : lm->sigma_max;
    dfx_skip skip_mode;
    double sigma_end;
    DFX_CHECK (skip_choice (ctx, lm, p, tw, th, smin, smax, &skip_mode, &sigma_end));
    gauss_prior gp = {.ctx = ctx, .g = lm->gauss, .mode = skip_mode, .h = th, .w = tw};
    progress_map pm = {.p = p, .total = (nt + bmax - 1) / bmax};
    dfx__lik_desc d = {
        .mo = tiled ? tiled : lm->mo,
        .h = th,
        .w = tw,
        .sigma_min = smin,
        .sigma_max = sigma_end,
        .solver = p->solver == DFX_ODE_HEUN    ? DFX__ODE_HEUN
                  : p->solver == DFX_ODE_EXP3M ? DFX__ODE_EXP
                                               : DFX__ODE_RK45,
        .ms_order = 3,
        .node_power = DFX__LIK_EXP_NODE_POWER,
        .quad_order = 4,
        .rtol = p->rtol,
        .atol = p->atol,
        .bits_tol = p->bits_tol,
        .steps = p->steps,
        .cmax = 1.0, /* the variance of a value in [-1, 1] */
        .clamp_sigma = p->clamp_sigma,
        .trace = p->trace,
        .probes = p->probes,
        .probe_seed = p->seed ^ 0x50524f424553ull, /* "PROBES": a stream apart from the dequantisation's */
        .prior_mean = own_prior ? lm->prior_mean : NULL,
        .prior_var = own_prior ? lm->prior_var : NULL,
        .prior = skip_mode != DFX_SKIP_OFF ? gauss_prior_terms : NULL,
        .prior_user = &gp,
        .progress = p->progress ? batch_progress : NULL,
        .progress_user = &pm,
    };
    if (p->progress && p->progress (0.0, p->progress_user)) {
        st = dfx__error (ctx, DFX_ERR_CANCELLED, "likelihood cancelled");
        goto cleanup;
    }
    /* Band edges: σ̃_min, then 0.01, 0.03, 0.1, 0.3, 1, 3, 10 inside (σ̃_min, σ̃_end), then σ̃_end. */
    static const double inner[DFX_LIKELIHOOD_BANDS - 1] = {0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0};
    double edge_u[DFX_LIKELIHOOD_BANDS + 1], band[DFX_LIKELIHOOD_BANDS] = {0}, prior_sum = 0.0;
    r->band_sigma[0] = smin, r->band_sigma[DFX_LIKELIHOOD_BANDS] = sigma_end;
    for (int e = 1; e < DFX_LIKELIHOOD_BANDS; e++)
        r->band_sigma[e] = fmin (sigma_end, fmax (smin, inner[e - 1]));
    for (int e = 0; e <= DFX_LIKELIHOOD_BANDS; e++)
        edge_u[e] = log (r->band_sigma[e]);
    uint64_t net_values = 0;
    for (uint32_t t0i = 0; t0i < nt; t0i += bmax, pm.done++) {
        const uint32_t nb = nt - t0i < bmax ? nt - t0i : bmax;
        /* Tiles in model values 2v − 1; a layer smaller than the tile repeats its last row and column. */
        for (uint32_t b = 0; b < nb; b++) {
            const uint32_t ti = t0i + b, ox = px[ti % nx], oy = py[ti / nx];
            for (uint32_t c = 0; c < cm; c++)
                for (uint32_t y = 0; y < th; y++) {
                    const size_t sy = oy + y < h ? oy + y : h - 1;
                    for (uint32_t xx = 0; xx < tw; xx++) {
                        const size_t sx = ox + xx < w ? ox + xx : w - 1;
                        xb[b * dv + ((size_t) c * th + y) * tw + xx] = 2.0f * val[c * plane + sy * w + sx] - 1.0f;
                    }
                }
        }
        DFX_CHECK (dfx_buffer_upload (ctx, x, 0, xb, nb * dv * sizeof (float)));
        d.batch = nb;
        dfx__lik_stats s;
        uint32_t e0 = lm->mo->evals, eh0 = lm->mo->head_evals;
        DFX_CHECK (dfx__likelihood (&d, x, logp, map, &s));
        r->nfe += lm->mo->evals - e0;
        r->nfe_fisher += lm->mo->head_evals - eh0;
        add_bands (&s, edge_u, band);
        prior_sum += s.prior;
        net_values += (uint64_t) nb * dv;
        r->steps += s.steps;
        r->rejected += s.rejected;
        for (uint32_t b = 0; b < nb; b++) {
            const uint32_t ti = t0i + b, ix = ti % nx, iy = ti / nx, ox = px[ix], oy = py[iy];
            dfx_likelihood_tile *tl = &r->tiles[ti];
            tl->x = ox, tl->y = oy;
            tl->width = ox + tw <= w ? tw : w - ox;
            tl->height = oy + th <= h ? th : h - oy;
            double tsum = 0.0;
            for (uint32_t y = 0; y < tl->height; y++)
                for (uint32_t xx = 0; xx < tl->width; xx++) {
                    const size_t at = (size_t) (oy + y) * w + ox + xx;
                    if (!scored[at])
                        continue;
                    double term = 0.0;
                    for (uint32_t c = 0; c < cm; c++)
                        term += map[b * dv + ((size_t) c * th + y) * tw + xx];
                    const double wt = wy[(size_t) iy * th + y] * wx[(size_t) ix * tw + xx];
                    acc[at] += wt * term;
                    wsum[at] += wt;
                    tsum += term;
                    tl->pixels_scored++;
                }
            tl->bits_per_dim = tl->pixels_scored ? -tsum / ((double) cm * tl->pixels_scored * M_LN2) + log2_bin : NAN;
        }
    }
    double lp = 0.0;
    for (size_t i = 0; i < plane; i++) {
        if (!scored[i]) {
            r->map[i] = NAN;
            continue;
        }
        const double term = acc[i] / wsum[i]; /* log-density of the pixel's cm values */
        lp += term;
        r->map[i] = (float) (-term / (cm * M_LN2) + log2_bin);
    }
    r->log_p = lp;
    r->pixels_scored = n_scored;
    r->pixels_excluded = plane - n_scored;
    r->dims = n_scored * cm;
    r->bits_per_dim = -lp / ((double) r->dims * M_LN2) + log2_bin;
    r->width = w, r->height = h, r->channels = cm;
    r->tile_count = nt, r->tile_width = tw, r->tile_height = th, r->tiles_x = nx, r->tiles_y = ny;
    r->sigma_min = d.sigma_min, r->sigma_max = smax;
    r->skip = skip_mode, r->sigma_skip = sigma_end;
    for (int b = 0; b < DFX_LIKELIHOOD_BANDS; b++)
        r->band_bits[b] = -band[b] / ((double) net_values * M_LN2);
    r->prior_bits = -prior_sum / ((double) net_values * M_LN2);
    r->seconds = dfx__now () - t0;
cleanup:
    dfx__moments_destroy (tiled);
    dfx_buffer_destroy (ctx, x);
    free (val), free (xb), free (scored), free (acc), free (wsum), free (map), free (logp);
    free (px), free (py), free (wx), free (wy);
    if (st != DFX_OK)
        dfx_likelihood_result_clear (r);
    return st;
}
