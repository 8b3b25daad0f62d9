/* colormap.h — perceptual colour maps for likelihood heatmaps, shared by the
 * CLI and the GIMP plug-in (plain C, no GLib, no numerics of the model).
 *
 * Each map is a table of anchor colours (sRGB-encoded), evenly spaced over
 * [0, 1], interpolated linearly.  Viridis and magma are the perceptually
 * uniform maps of matplotlib (van der Walt and Smith, 2015); the anchors here
 * are their published colours at even steps, sampled, not code.  "grey" is a
 * plain ramp.  Low values are dark: on a bits/dim map, bright means unlikely.
 */
#ifndef DFX_COLORMAP_H
#define DFX_COLORMAP_H

#include <stddef.h>
#include <stdint.h>

typedef enum dfx_colormap { DFX_COLORMAP_VIRIDIS = 0, DFX_COLORMAP_MAGMA, DFX_COLORMAP_GREY } dfx_colormap;

/* "viridis", "magma", "grey"; never NULL. */
const char *dfx_colormap_name (dfx_colormap c);

/* The map of a name; -1 when none. */
int dfx_colormap_from_name (const char *name);

/* rgb[0..2] (0..1, sRGB-encoded) of t, clamped to [0, 1]; NaN gives black. */
void dfx_colormap_eval (dfx_colormap c, double t, float rgb[3]);

/* The colour range of a map of n values (NaN skipped): the 1st and 99th
 * percentile, widened to at least 0.1 around their middle.  Returns 0 when no
 * value is a number. */
int dfx_colormap_range (const float *v, size_t n, double *lo, double *hi);

#endif
