/* region-io.c — the pixels of Guided Edit and Heal Selection in and out of
 * GIMP: a drawable read as planar floats, the mask (selection, channel or
 * layer mask), and the result written back where it changed.
 *
 * For: the GEGL side of proc-edit.c and proc-heal.c (declared in
 * dfx-plugin.h).  Not for: the run itself (region-run.c), nor numerics.
 */
#include "dfx-plugin.h"

/* Reads w × h of drawable at (x, y) in its own coordinates as `format`
 * (components per pixel: comps) into planar floats mapped by v·scale + shift. */
void
dfx__plugin_read_planar (GimpDrawable *drawable, gint x, gint y, guint w, guint h, const gchar *format, guint comps,
             gfloat scale, gfloat shift, gfloat *out)
{
    GeglBuffer *buffer = gimp_drawable_get_buffer (drawable);
    gfloat *px = g_new (gfloat, (gsize)w * h * comps);
    const gsize np = (gsize)w * h;

    gegl_buffer_get (buffer, GEGL_RECTANGLE (x, y, (gint)w, (gint)h), 1.0, babl_format (format), px,
                     GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
    for (gsize i = 0; i < np; i++)
        for (guint c = 0; c < comps; c++)
            out[c * np + i] = px[i * comps + c] * scale + shift;
    g_object_unref (buffer);
    g_free (px);
}

/* The item of image with id (0: none) when it is a layer (want_layer) or a
 * channel / layer mask; NULL when it is gone or of another kind.  Not a new
 * reference. */
GimpDrawable *
dfx__plugin_find_item (GimpImage *image, gint id, gboolean want_layer)
{
    GimpItem *item = id > 0 ? gimp_item_get_by_id (id) : NULL;

    if (item == NULL || gimp_item_get_image (item) != image)
        return NULL;
    if (want_layer ? !GIMP_IS_LAYER (item) : !GIMP_IS_CHANNEL (item))
        return NULL;
    return GIMP_DRAWABLE (item);
}

gboolean
dfx__plugin_read_mask (GimpImage *image, GimpDrawable *source, gint mask_id, guint w, guint h, gfloat *mask,
                       GError **error)
{
    GimpDrawable *mask_drawable = NULL;
    gint ox, oy, mx = 0, my = 0;

    if (mask_id != 0) {
        mask_drawable = dfx__plugin_find_item (image, mask_id, FALSE);
        if (mask_drawable == NULL) {
            g_set_error (error, GIMP_PLUG_IN_ERROR, DFX_ERR_INVALID_ARGUMENT,
                         _ ("The mask chosen before (item %d) is no longer a channel of this image: choose the mask "
                            "again. The image is unchanged."),
                         mask_id);
            return FALSE;
        }
    } else if (gimp_selection_is_empty (image)) {
        g_set_error (error, GIMP_PLUG_IN_ERROR, DFX_ERR_INVALID_ARGUMENT,
                     _ ("Nothing to edit: select the region the guide applies to, or give a channel or layer mask "
                        "as the mask. The image is unchanged."));
        return FALSE;
    }
    gimp_drawable_get_offsets (source, &ox, &oy);
    if (mask_drawable != NULL)
        gimp_drawable_get_offsets (mask_drawable, &mx, &my);
    dfx__plugin_read_planar (mask_drawable != NULL ? mask_drawable : GIMP_DRAWABLE (gimp_image_get_selection (image)), ox - mx,
                 oy - my, w, h, "Y float", 1, 1.0f, 0.0f, mask);
    for (gsize i = 0; i < (gsize)w * h; i++)
        mask[i] = CLAMP (mask[i], 0.0f, 1.0f);
    return TRUE;
}

gboolean
dfx__plugin_write_result (GimpDrawable *source, GimpDrawable *target, guint c, guint w, guint h, const gfloat *in,
                          const gfloat *out)
{
    const guint stride = c + 1;
    const gsize np = (gsize)w * h;
    const gchar *fmt = c == 1 ? "Y'A float" : "R'G'B'A float";
    GeglBuffer *src = gimp_drawable_get_buffer (source), *dst = gimp_drawable_get_buffer (target);
    gfloat *px = g_new (gfloat, np * stride);
    gboolean *changed = g_new0 (gboolean, np);

    if (source != target)
        gegl_buffer_copy (src, NULL, GEGL_ABYSS_NONE, dst, NULL);
    gegl_buffer_get (src, GEGL_RECTANGLE (0, 0, (gint)w, (gint)h), 1.0, babl_format (fmt), px, GEGL_AUTO_ROWSTRIDE,
                     GEGL_ABYSS_NONE);
    for (gsize i = 0; i < np; i++)
        for (guint ch = 0; ch < c; ch++)
            if (out[ch * np + i] != in[ch * np + i]) {
                changed[i] = TRUE;
                break;
            }
    for (gsize i = 0; i < np; i++)
        for (guint ch = 0; changed[i] && ch < c; ch++) {
            gfloat u = (out[ch * np + i] + 1.0f) * 0.5f;
            px[i * stride + ch] = u > 0.0f ? (u < 1.0f ? u : 1.0f) : 0.0f;
        }
    /* runs of changed pixels only: the others keep the source's own values, whatever its precision */
    for (guint y = 0; y < h; y++)
        for (guint x = 0; x < w;) {
            guint e = x;
            if (!changed[(gsize)y * w + x]) {
                x++;
                continue;
            }
            while (e < w && changed[(gsize)y * w + e])
                e++;
            gegl_buffer_set (dst, GEGL_RECTANGLE ((gint)x, (gint)y, (gint)(e - x), 1), 0, babl_format (fmt),
                             px + ((gsize)y * w + x) * stride, GEGL_AUTO_ROWSTRIDE);
            x = e;
        }
    g_object_unref (src);
    g_object_unref (dst);
    g_free (px);
    g_free (changed);
    gimp_drawable_update (target, 0, 0, (gint)w, (gint)h);
    return TRUE;
}
