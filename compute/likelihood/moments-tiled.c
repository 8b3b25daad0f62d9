/* moments-tiled.c — posterior moments of a canvas larger than the Fisher
 * head's training size (see likelihood-private.h, BENCHMARKS.md issue 20):
 * the score network gives x̂0 on the whole canvas, the head gives diag C on
 * overlapping tiles of its own size cut from the same x̃, and the tiles' C
 * are blended per value with raised-cosine weights (tile-blend.c).
 *
 * Tiles are gathered and blended on the host (the canvas is read back once
 * per evaluation, each tile's C once): a few host passes over the canvas,
 * small next to the networks.  Not for: the ODE (likelihood.c), the tiled
 * layout of the map (lik-image.c).
 */
#include "likelihood-private.h"

#include <stdlib.h>
#include <string.h>

typedef struct tiled {
    dfx__moments base;
    dfx__moments *whole, *head;
    uint32_t tw, th, overlap, batch;
    /* for the canvas of the last call */
    uint32_t cw, ch, nx, ny;
    uint32_t *px, *py;
    double *wx, *wy, *wsum; /* nx·tw, ny·th, ch·cw */
    float *hx, *hx0, *ht, *hc; /* canvas, canvas, tile batch, tile batch */
    double *acc;
    size_t cap_canvas, cap_tiles;
    dfx_buffer *xt, *ct, *x0t; /* tile batch on the device */
} tiled;

static void
free_canvas (tiled *t)
{
    free (t->px), free (t->py), free (t->wx), free (t->wy), free (t->wsum);
    t->px = t->py = NULL, t->wx = t->wy = t->wsum = NULL;
    t->cw = t->ch = 0;
}

/* Tile positions and blend weights for a canvas of w × h. */
static dfx_status
layout (tiled *t, uint32_t h, uint32_t w)
{
    if (t->cw == w && t->ch == h)
        return DFX_OK;
    free_canvas (t);
    t->nx = dfx__tile_origins (w, t->tw, t->overlap, NULL);
    t->ny = dfx__tile_origins (h, t->th, t->overlap, NULL);
    t->px = malloc (t->nx * sizeof *t->px), t->py = malloc (t->ny * sizeof *t->py);
    t->wx = malloc ((size_t) t->nx * t->tw * sizeof *t->wx), t->wy = malloc ((size_t) t->ny * t->th * sizeof *t->wy);
    t->wsum = calloc ((size_t) w * h, sizeof *t->wsum);
    if (!t->px || !t->py || !t->wx || !t->wy || !t->wsum) {
        free_canvas (t);
        return dfx__error (t->base.ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (head tiles)");
    }
    dfx__tile_origins (w, t->tw, t->overlap, t->px);
    dfx__tile_origins (h, t->th, t->overlap, t->py);
    for (uint32_t i = 0; i < t->nx; i++)
        for (uint32_t j = 0; j < t->tw; j++)
            t->wx[(size_t) i * t->tw + j] = dfx__tile_axis_weight (t->px, t->nx, i, t->tw, j);
    for (uint32_t i = 0; i < t->ny; i++)
        for (uint32_t j = 0; j < t->th; j++)
            t->wy[(size_t) i * t->th + j] = dfx__tile_axis_weight (t->py, t->ny, i, t->th, j);
    for (uint32_t iy = 0; iy < t->ny; iy++)
        for (uint32_t ix = 0; ix < t->nx; ix++)
            for (uint32_t y = 0; y < t->th; y++)
                for (uint32_t x = 0; x < t->tw; x++)
                    t->wsum[(size_t) (t->py[iy] + y) * w + t->px[ix] + x] +=
                        t->wy[(size_t) iy * t->th + y] * t->wx[(size_t) ix * t->tw + x];
    t->cw = w, t->ch = h;
    return DFX_OK;
}

static dfx_status
reserve (tiled *t, size_t canvas, size_t tiles)
{
    dfx_ctx *ctx = t->base.ctx;
    if (t->cap_canvas < canvas) {
        free (t->hx), free (t->hx0), free (t->acc);
        t->hx = malloc (canvas * sizeof *t->hx), t->hx0 = malloc (canvas * sizeof *t->hx0);
        t->acc = malloc (canvas * sizeof *t->acc);
        t->cap_canvas = t->hx && t->hx0 && t->acc ? canvas : 0;
        if (!t->cap_canvas)
            return dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (head tiles)");
    }
    if (t->cap_tiles < tiles) {
        free (t->ht), free (t->hc);
        dfx_buffer_destroy (ctx, t->xt), dfx_buffer_destroy (ctx, t->ct), dfx_buffer_destroy (ctx, t->x0t);
        t->xt = t->ct = t->x0t = NULL;
        t->ht = malloc (tiles * sizeof *t->ht), t->hc = malloc (tiles * sizeof *t->hc);
        t->cap_tiles = 0;
        if (!t->ht || !t->hc)
            return dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (head tiles)");
        dfx_status st = dfx_buffer_create (ctx, tiles * sizeof (float), &t->xt);
        if (st == DFX_OK)
            st = dfx_buffer_create (ctx, tiles * sizeof (float), &t->ct);
        if (st == DFX_OK)
            st = dfx_buffer_create (ctx, tiles * sizeof (float), &t->x0t);
        if (st != DFX_OK)
            return st;
        t->cap_tiles = tiles;
    }
    return DFX_OK;
}

/* diag C of the head on nb tiles in xt, into hc (host). */
static dfx_status
tile_var (tiled *t, uint32_t nb, double sigma)
{
    dfx__moments *hd = t->head;
    const size_t n = (size_t) nb * hd->channels * t->th * t->tw;
    dfx_status st;
    if (hd->eval_var)
        st = hd->eval_var (hd, nb, t->th, t->tw, t->xt, sigma, t->ct);
    else
        st = hd->eval (hd, nb, t->th, t->tw, t->xt, sigma, t->x0t, t->ct);
    if (st == DFX_OK)
        st = dfx_buffer_download (t->base.ctx, t->ct, 0, t->hc, n * sizeof (float));
    if (st != DFX_OK || hd->eval_var)
        return st;
    if ((st = dfx_buffer_download (t->base.ctx, t->x0t, 0, t->ht, n * sizeof (float))) != DFX_OK)
        return st;
    for (size_t i = 0; i < n; i++)
        t->hc[i] -= t->ht[i] * t->ht[i];
    return DFX_OK;
}

static dfx_status
tiled_eval (dfx__moments *mo, uint32_t batch, uint32_t h, uint32_t w, dfx_buffer *x, double sigma, dfx_buffer *x0,
            dfx_buffer *m)
{
    tiled *t = (tiled *) mo;
    dfx_ctx *ctx = mo->ctx;
    const uint32_t c = mo->channels;
    const size_t plane = (size_t) w * h, dv = c * plane, n = (size_t) batch * dv, tsz = (size_t) c * t->tw * t->th;
    dfx_status st;
    if (h < t->th || w < t->tw)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "head tiles: the canvas %ux%u is smaller than the tile %ux%u",
                           w, h, t->tw, t->th);
    if ((st = t->whole->eval_mean ? t->whole->eval_mean (t->whole, batch, h, w, x, sigma, x0)
                                   : t->whole->eval (t->whole, batch, h, w, x, sigma, x0, m)) != DFX_OK)
        return st;
    if ((st = layout (t, h, w)) != DFX_OK || (st = reserve (t, n, t->batch * tsz)) != DFX_OK)
        return st;
    if ((st = dfx_buffer_download (ctx, x, 0, t->hx, n * sizeof (float))) != DFX_OK)
        return st;
    memset (t->acc, 0, n * sizeof *t->acc);
    const uint32_t per = t->nx * t->ny, total = batch * per;
    for (uint32_t k0 = 0; k0 < total; k0 += t->batch) {
        const uint32_t nb = total - k0 < t->batch ? total - k0 : t->batch;
        for (uint32_t k = 0; k < nb; k++) {
            const uint32_t b = (k0 + k) / per, ti = (k0 + k) % per, ox = t->px[ti % t->nx], oy = t->py[ti / t->nx];
            for (uint32_t ci = 0; ci < c; ci++)
                for (uint32_t y = 0; y < t->th; y++)
                    memcpy (t->ht + k * tsz + ((size_t) ci * t->th + y) * t->tw,
                            t->hx + b * dv + ci * plane + (size_t) (oy + y) * w + ox, t->tw * sizeof (float));
        }
        if ((st = dfx_buffer_upload (ctx, t->xt, 0, t->ht, nb * tsz * sizeof (float))) != DFX_OK ||
            (st = tile_var (t, nb, sigma)) != DFX_OK)
            return st;
        for (uint32_t k = 0; k < nb; k++) {
            const uint32_t b = (k0 + k) / per, ti = (k0 + k) % per, ix = ti % t->nx, iy = ti / t->nx;
            const uint32_t ox = t->px[ix], oy = t->py[iy];
            for (uint32_t ci = 0; ci < c; ci++)
                for (uint32_t y = 0; y < t->th; y++) {
                    const double wyv = t->wy[(size_t) iy * t->th + y];
                    const float *src = t->hc + k * tsz + ((size_t) ci * t->th + y) * t->tw;
                    double *dst = t->acc + b * dv + ci * plane + (size_t) (oy + y) * w + ox;
                    for (uint32_t xx = 0; xx < t->tw; xx++)
                        dst[xx] += wyv * t->wx[(size_t) ix * t->tw + xx] * (double) src[xx];
                }
        }
    }
    /* m = x̂0⊙x̂0 + C, C the blend */
    if ((st = dfx_buffer_download (ctx, x0, 0, t->hx0, n * sizeof (float))) != DFX_OK)
        return st;
    for (size_t i = 0; i < n; i++) {
        const double v = t->hx0[i];
        t->hx[i] = (float) (v * v + t->acc[i] / t->wsum[i % plane]);
    }
    if ((st = dfx_buffer_upload (ctx, m, 0, t->hx, n * sizeof (float))) != DFX_OK)
        return st;
    t->whole->head_evals++;
    mo->evals++;
    mo->head_evals++;
    return DFX_OK;
}

static dfx_status
tiled_eval_mean (dfx__moments *mo, uint32_t batch, uint32_t h, uint32_t w, dfx_buffer *x, double sigma,
                 dfx_buffer *x0)
{
    tiled *t = (tiled *) mo;
    dfx_status st = t->whole->eval_mean (t->whole, batch, h, w, x, sigma, x0);
    if (st == DFX_OK)
        mo->evals++;
    return st;
}

static void
tiled_destroy (dfx__moments *mo)
{
    tiled *t = (tiled *) mo;
    free_canvas (t);
    free (t->hx), free (t->hx0), free (t->ht), free (t->hc), free (t->acc);
    dfx_buffer_destroy (mo->ctx, t->xt), dfx_buffer_destroy (mo->ctx, t->ct), dfx_buffer_destroy (mo->ctx, t->x0t);
    free (t);
}

dfx_status
dfx__moments_tiled (dfx__moments *whole, dfx__moments *head, uint32_t tile_w, uint32_t tile_h, uint32_t overlap,
                    uint32_t batch, dfx__moments **out)
{
    *out = NULL;
    if (head->channels != whole->channels || !tile_w || !tile_h || !batch ||
        overlap >= (tile_w < tile_h ? tile_w : tile_h))
        return dfx__error (whole->ctx, DFX_ERR_INVALID_ARGUMENT, "head tiles: %ux%u tiles with overlap %u, batch %u, "
                           "%u and %u channels", tile_w, tile_h, overlap, batch, whole->channels, head->channels);
    tiled *t = calloc (1, sizeof *t);
    if (!t)
        return dfx__error (whole->ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (moments)");
    t->base.ctx = whole->ctx;
    t->base.channels = whole->channels;
    t->base.name = "head-tiles";
    t->base.network_ratio = head->network_ratio;
    t->base.eval = tiled_eval;
    t->base.eval_mean = whole->eval_mean ? tiled_eval_mean : NULL;
    t->base.destroy = tiled_destroy;
    t->whole = whole, t->head = head;
    t->tw = tile_w, t->th = tile_h, t->overlap = overlap, t->batch = batch;
    *out = &t->base;
    return DFX_OK;
}
