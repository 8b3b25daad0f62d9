/* ref-attn-window.c — double-precision neighbourhood attention, the
 * reference of shaders/attn-window.comp (window clamped inside the canvas). */
#include "ref.h"

#include <math.h>
#include <stdlib.h>

void
dfx_ref_attn_window (double *o, const float *q, const float *k, const float *v, uint32_t batch, uint32_t c,
                     uint32_t h, uint32_t w, uint32_t dh, uint32_t wh, uint32_t ww, double scale)
{
    const size_t hw = (size_t) h * w;
    const uint32_t eh = wh < h ? wh : h, ew = ww < w ? ww : w, heads = c / dh;
    double *s = malloc ((size_t) eh * ew * sizeof *s);
    for (uint32_t b = 0; b < batch; b++)
        for (uint32_t hd = 0; hd < heads; hd++) {
            const size_t base = ((size_t) b * c + (size_t) hd * dh) * hw;
            for (size_t t = 0; t < hw; t++) {
                const int ty = (int) (t / w), tx = (int) (t % w);
                int y0 = ty - (int) (eh / 2), x0 = tx - (int) (ew / 2);
                y0 = y0 < 0 ? 0 : y0 > (int) (h - eh) ? (int) (h - eh) : y0;
                x0 = x0 < 0 ? 0 : x0 > (int) (w - ew) ? (int) (w - ew) : x0;
                double m = -INFINITY, l = 0.0;
                for (uint32_t i = 0; i < eh * ew; i++) {
                    const size_t key = (size_t) (y0 + i / ew) * w + x0 + i % ew;
                    double a = 0.0;
                    for (uint32_t j = 0; j < dh; j++)
                        a += (double) q[base + j * hw + t] * k[base + j * hw + key];
                    s[i] = a * scale;
                    m = s[i] > m ? s[i] : m;
                }
                for (uint32_t i = 0; i < eh * ew; i++)
                    l += (s[i] = exp (s[i] - m));
                for (uint32_t j = 0; j < dh; j++) {
                    double a = 0.0;
                    for (uint32_t i = 0; i < eh * ew; i++)
                        a += s[i] * v[base + j * hw + (size_t) (y0 + i / ew) * w + x0 + i % ew];
                    o[base + j * hw + t] = a / l;
                }
            }
        }
    free (s);
}
