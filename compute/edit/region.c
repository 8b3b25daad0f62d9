/* region.c — where a masked edit or heal may change pixels: the feathered
 * weight of a mask, the window around it that the model sees, crops of
 * planar images to that window, and the composite back.
 *
 * The weight is the mask spread outward by a linear ramp of width F:
 *
 *     w(p) = max_q mask(q) · max(0, 1 − |p − q| / (F + 1)),   |p − q| ≤ F,
 *
 * so w ≥ mask, w = mask for F = 0, and w = 0 (the output is the input, bit
 * for bit) farther than F pixels from any pixel the mask touches.  A soft
 * mask (a feathered GIMP selection) keeps its own softness inside.
 * The composite is out = image + w (result − image), with w = 0 copying the
 * input value itself and w = 1 the result itself.
 * Not for: the numerics of the edit or the heal (edit.c, heal.c).
 */
#include "edit-private.h"

#include <math.h>
#include <string.h>

void
dfx__region_feather (const float *mask, uint32_t w, uint32_t h, double feather, float *wt)
{
    const int R = (int) ceil (feather);
    memcpy (wt, mask, (size_t) w * h * sizeof *wt);
    if (R <= 0)
        return;
    for (uint32_t qy = 0; qy < h; qy++)
        for (uint32_t qx = 0; qx < w; qx++) {
            const float m = mask[(size_t) qy * w + qx];
            if (m <= 0.0f)
                continue;
            for (int dy = -R; dy <= R; dy++) {
                const int py = (int) qy + dy;
                if (py < 0 || py >= (int) h)
                    continue;
                for (int dx = -R; dx <= R; dx++) {
                    const int px = (int) qx + dx;
                    const double d = sqrt ((double) (dx * dx + dy * dy));
                    if (px < 0 || px >= (int) w || d > feather || (dx == 0 && dy == 0))
                        continue;
                    const float v = (float) (m * (1.0 - d / (feather + 1.0)));
                    float *o = wt + (size_t) py * w + px;
                    if (v > *o)
                        *o = v;
                }
            }
        }
}

int
dfx__region_window (const float *wt, uint32_t w, uint32_t h, uint32_t context, uint32_t min_w, uint32_t min_h,
                    dfx__rect *r)
{
    uint32_t x0 = w, y0 = h, x1 = 0, y1 = 0;
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++)
            if (wt[(size_t) y * w + x] > 0.0f) {
                x0 = x < x0 ? x : x0, x1 = x + 1 > x1 ? x + 1 : x1;
                y0 = y < y0 ? y : y0, y1 = y + 1 > y1 ? y + 1 : y1;
            }
    if (x1 == 0)
        return 0;
    /* grow by the context on each side, then to the minimum size around the centre; clip */
    int64_t ax = (int64_t) x0 - context, bx = (int64_t) x1 + context;
    int64_t ay = (int64_t) y0 - context, by = (int64_t) y1 + context;
    if (bx - ax < (int64_t) min_w) {
        const int64_t grow = (int64_t) min_w - (bx - ax);
        ax -= grow / 2, bx += grow - grow / 2;
    }
    if (by - ay < (int64_t) min_h) {
        const int64_t grow = (int64_t) min_h - (by - ay);
        ay -= grow / 2, by += grow - grow / 2;
    }
    /* a window cut by the image's edge moves inwards to keep its size where the image allows */
    if (ax < 0)
        bx -= ax, ax = 0;
    if (bx > (int64_t) w)
        ax -= bx - (int64_t) w, bx = w;
    if (ay < 0)
        by -= ay, ay = 0;
    if (by > (int64_t) h)
        ay -= by - (int64_t) h, by = h;
    ax = ax < 0 ? 0 : ax, ay = ay < 0 ? 0 : ay;
    r->x = (uint32_t) ax, r->y = (uint32_t) ay;
    r->w = (uint32_t) (bx - ax), r->h = (uint32_t) (by - ay);
    return 1;
}

void
dfx__region_crop (const float *src, uint32_t c, uint32_t w, uint32_t h, const dfx__rect *r, float *dst)
{
    for (uint32_t ch = 0; ch < c; ch++)
        for (uint32_t y = 0; y < r->h; y++)
            memcpy (dst + ((size_t) ch * r->h + y) * r->w, src + ((size_t) ch * h + r->y + y) * w + r->x,
                    r->w * sizeof *dst);
}

void
dfx__region_composite (const float *image, const float *res, const float *wt, uint32_t c, uint32_t w, uint32_t h,
                       const dfx__rect *r, int raw, float *out)
{
    if (out != image)
        memcpy (out, image, (size_t) c * w * h * sizeof *out);
    for (uint32_t ch = 0; ch < c; ch++)
        for (uint32_t y = 0; y < r->h; y++)
            for (uint32_t x = 0; x < r->w; x++) {
                const size_t at = ((size_t) ch * h + r->y + y) * w + r->x + x;
                const float v = res[((size_t) ch * r->h + y) * r->w + x];
                const float a = raw ? 1.0f : wt[(size_t) (r->y + y) * w + r->x + x];
                if (a >= 1.0f)
                    out[at] = v;
                else if (a > 0.0f)
                    out[at] = out[at] + a * (v - out[at]);
            }
}

void
dfx_mask_feather (const float *mask, uint32_t w, uint32_t h, double feather, float *wt)
{
    dfx__region_feather (mask, w, h, feather < 0 ? 0 : feather > DFX_EDIT_MAX_FEATHER ? DFX_EDIT_MAX_FEATHER : feather,
                         wt);
}

void
dfx__region_pad_edge (const float *img, uint32_t c, uint32_t h, uint32_t w, uint32_t ph, uint32_t pw, float *out)
{
    for (uint32_t ch = 0; ch < c; ch++)
        for (uint32_t y = 0; y < ph; y++) {
            const float *row = img + ((size_t) ch * h + (y < h ? y : h - 1)) * w;
            float *o = out + ((size_t) ch * ph + y) * pw;
            memcpy (o, row, w * sizeof (float));
            for (uint32_t x = w; x < pw; x++)
                o[x] = row[w - 1];
        }
}
