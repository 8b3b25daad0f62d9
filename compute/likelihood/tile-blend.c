/* tile-blend.c — where the tiles of the likelihood go and how their per-value
 * outputs are blended (see likelihood-private.h): tiles of the networks' size,
 * evenly spread over an axis, and raised-cosine weights over their overlaps.
 * Used by the tiled layout (lik-image.c) and by the Fisher head on tiles of the
 * whole layer's state (moments-tiled.c). */
#include "likelihood-private.h"

#include <math.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

uint32_t
dfx__tile_origins (uint32_t len, uint32_t t, uint32_t ov, uint32_t *pos)
{
    if (len <= t) {
        if (pos)
            pos[0] = 0;
        return 1;
    }
    const uint32_t stride = t - ov; /* ov < t */
    const uint32_t n = (len - t + stride - 1) / stride + 1;
    for (uint32_t i = 0; pos && i < n; i++)
        pos[i] = (uint32_t) (((uint64_t) i * (len - t) * 2 + (n - 1)) / (2 * (uint64_t) (n - 1)));
    return n;
}

double
dfx__tile_axis_weight (const uint32_t *pos, uint32_t n, uint32_t i, uint32_t t, uint32_t j)
{
    double w = 1.0;
    if (i > 0) {
        uint32_t ov = pos[i - 1] + t - pos[i];
        if (j < ov) {
            double s = sin (0.5 * M_PI * (j + 0.5) / ov);
            w *= s * s;
        }
    }
    if (i + 1 < n) {
        uint32_t ov = pos[i] + t - pos[i + 1];
        if (j >= t - ov) {
            double s = sin (0.5 * M_PI * (t - j - 0.5) / ov);
            w *= s * s;
        }
    }
    return w;
}
