/* colormap.c — the colour maps of likelihood heatmaps (declared in dfx.h).
 *
 * For: turning a value in [0, 1] into an sRGB colour of viridis, magma or a
 * grey ramp, and the robust range (1st..99th percentile) a heatmap spans.
 * Used by the CLI's heatmap PNG and by the plug-in's heatmap layers and
 * their legend, so that both show the same colours.
 * Not for: computing likelihoods (likelihood.c) or writing images.
 */
#include "dfx.h"

#include <math.h>
#include <stdlib.h>

/* Anchors at t = 0, 1/8, ..., 1 (hex sRGB). */
static const uint32_t viridis[9] = {0x440154, 0x472d7b, 0x3b528b, 0x2c728e, 0x21918c,
                                    0x28ae80, 0x5ec962, 0xaddc30, 0xfde725};
static const uint32_t magma[9] = {0x000004, 0x1c1044, 0x4f127b, 0x812581, 0xb5367a,
                                  0xe55064, 0xfb8761, 0xfec287, 0xfcfdbf};

const char *
dfx_colormap_name (dfx_colormap c)
{
    switch (c) {
    case DFX_COLORMAP_VIRIDIS: return "viridis";
    case DFX_COLORMAP_MAGMA: return "magma";
    case DFX_COLORMAP_GREY: return "grey";
    }
    return "unknown";
}

int
dfx_colormap_from_name (const char *name)
{
    for (int c = DFX_COLORMAP_VIRIDIS; c <= DFX_COLORMAP_GREY; c++) {
        const char *n = dfx_colormap_name ((dfx_colormap) c);
        size_t i = 0;
        while (n[i] && name[i] == n[i])
            i++;
        if (!n[i] && !name[i])
            return c;
    }
    return -1;
}

void
dfx_colormap_eval (dfx_colormap c, double t, float rgb[3])
{
    if (isnan (t)) {
        rgb[0] = rgb[1] = rgb[2] = 0.0f;
        return;
    }
    t = t < 0.0 ? 0.0 : t > 1.0 ? 1.0 : t;
    if (c == DFX_COLORMAP_GREY) {
        rgb[0] = rgb[1] = rgb[2] = (float) t;
        return;
    }
    const uint32_t *tab = c == DFX_COLORMAP_MAGMA ? magma : viridis;
    double s = t * 8.0;
    int i = (int) s;
    if (i > 7)
        i = 7;
    double f = s - i;
    for (int k = 0; k < 3; k++) {
        int sh = 16 - 8 * k;
        double a = (tab[i] >> sh) & 0xff, b = (tab[i + 1] >> sh) & 0xff;
        rgb[k] = (float) ((a + f * (b - a)) / 255.0);
    }
}

static int
cmp_float (const void *a, const void *b)
{
    float x = *(const float *) a, y = *(const float *) b;
    return (x > y) - (x < y);
}

int
dfx_colormap_range (const float *v, size_t n, double *lo, double *hi)
{
    float *s = malloc ((n ? n : 1) * sizeof *s);
    size_t m = 0;
    if (!s)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite (v[i]))
            s[m++] = v[i];
    if (m == 0) {
        free (s);
        return 0;
    }
    qsort (s, m, sizeof *s, cmp_float);
    *lo = s[(size_t) floor (0.01 * (m - 1))];
    *hi = s[(size_t) ceil (0.99 * (m - 1))];
    free (s);
    if (*hi - *lo < 0.1) {
        double mid = 0.5 * (*lo + *hi);
        *lo = mid - 0.05, *hi = mid + 0.05;
    }
    return 1;
}
