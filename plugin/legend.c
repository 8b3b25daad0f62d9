/* legend.c — the legend of the likelihood heatmaps: a colour bar with its
 * bits/dim scale, as a layer.
 *
 * For: drawing, with cairo and Pango (both part of GTK, which the plug-in
 * links for its dialogs), a bar of the colour map from its low to its high
 * end over a light ground, the range's ends and middle in bits/dim under it
 * and a line saying which end is unlikely; then handing those pixels to a
 * new layer through babl's "cairo-ARGB32" format.  The colours come from
 * libdfx (dfx_colormap_eval), the same function that colours the heatmaps
 * and the CLI's PNG.
 * Not for: choosing the range (proc-likelihood.c passes the heatmaps' own)
 * or inserting the layer (the caller places it, inside its undo group).
 */
#include "dfx-plugin.h"

#include <pango/pangocairo.h>

/* The width in pixels of text in font. */
static gint
text_width (cairo_t *cr, PangoFontDescription *font, const gchar *text)
{
    PangoLayout *layout = pango_cairo_create_layout (cr);
    gint w, h;

    pango_layout_set_font_description (layout, font);
    pango_layout_set_text (layout, text, -1);
    pango_layout_get_pixel_size (layout, &w, &h);
    g_object_unref (layout);
    return w;
}

/* Draws text with its left (align 0), centre (0.5) or right (1) edge at x. */
static void
draw_text (cairo_t *cr, PangoFontDescription *font, const gchar *text, double x, double y, double align)
{
    PangoLayout *layout = pango_cairo_create_layout (cr);
    gint w, h;

    pango_layout_set_font_description (layout, font);
    pango_layout_set_text (layout, text, -1);
    pango_layout_get_pixel_size (layout, &w, &h);
    cairo_move_to (cr, x - align * w, y);
    pango_cairo_show_layout (cr, layout);
    g_object_unref (layout);
}

GimpLayer *
dfx__legend_layer_new (GimpImage *image, dfx_colormap cmap, double lo, double hi)
{
    /* As wide as the image, so it fits in it (a small image gets a smaller
     * font and a shorter caption), 120 to 480 pixels. */
    const gint width = CLAMP (gimp_image_get_width (image), 120, 480), height = 52, pad = 8;
    const gint bar_x = pad, bar_w = width - 2 * pad, bar_y = 6, bar_h = 16;
    const gboolean grey = gimp_image_get_base_type (image) == GIMP_GRAY;
    cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, width, height);
    cairo_t *cr = cairo_create (surface);
    PangoFontDescription *font = pango_font_description_from_string (width < 200 ? "Sans 7" : "Sans 9");
    /* TRANSLATORS: under the legend's colour bar of the likelihood heatmap. */
    const gchar *caption = _ ("bits/dim: left likely, right unlikely");
    gchar *text, *name;
    GimpLayer *layer;
    GeglBuffer *buffer;

    /* A light ground, so the scale reads over any image. */
    cairo_set_source_rgba (cr, 1.0, 1.0, 1.0, 0.88);
    cairo_paint (cr);

    /* The bar: one column per pixel, left = lo (likely), right = hi. */
    for (gint x = 0; x < bar_w; x++) {
        float rgb[3];
        dfx_colormap_eval (cmap, bar_w > 1 ? (double)x / (bar_w - 1) : 0.0, rgb);
        cairo_set_source_rgb (cr, rgb[0], rgb[1], rgb[2]);
        cairo_rectangle (cr, bar_x + x, bar_y, 1, bar_h);
        cairo_fill (cr);
    }
    cairo_set_source_rgb (cr, 0.2, 0.2, 0.2);
    cairo_set_line_width (cr, 1.0);
    cairo_rectangle (cr, bar_x - 0.5, bar_y - 0.5, bar_w + 1, bar_h + 1);
    cairo_stroke (cr);

    /* The scale: both ends and the middle, then what bright means. */
    cairo_set_source_rgb (cr, 0.0, 0.0, 0.0);
    text = g_strdup_printf ("%.2f", lo);
    draw_text (cr, font, text, bar_x, bar_y + bar_h + 1, 0.0);
    g_free (text);
    text = g_strdup_printf ("%.2f", 0.5 * (lo + hi));
    draw_text (cr, font, text, bar_x + 0.5 * bar_w, bar_y + bar_h + 1, 0.5);
    g_free (text);
    text = g_strdup_printf ("%.2f", hi);
    draw_text (cr, font, text, bar_x + bar_w, bar_y + bar_h + 1, 1.0);
    g_free (text);
    if (text_width (cr, font, caption) > width - 4)
        /* TRANSLATORS: the same, shorter, for legends of narrow images (about 110 pixels in 7 pt). */
        caption = _ ("bits/dim (right: unlikely)");
    draw_text (cr, font, caption, bar_x + 0.5 * bar_w, bar_y + bar_h + 15, 0.5);
    pango_font_description_free (font);
    cairo_destroy (cr);
    cairo_surface_flush (surface);

    /* TRANSLATORS: name of the legend layer: colour map, range in bits/dim. */
    name = g_strdup_printf (_ ("Legend: %s %.2f\u2013%.2f bits/dim"), dfx_colormap_name (cmap), lo, hi);
    layer = gimp_layer_new (image, name, width, height, grey ? GIMP_GRAYA_IMAGE : GIMP_RGBA_IMAGE, 100.0,
                            GIMP_LAYER_MODE_NORMAL);
    g_free (name);
    buffer = gimp_drawable_get_buffer (GIMP_DRAWABLE (layer));
    gegl_buffer_set (buffer, GEGL_RECTANGLE (0, 0, width, height), 0, babl_format ("cairo-ARGB32"),
                     cairo_image_surface_get_data (surface), cairo_image_surface_get_stride (surface));
    g_object_unref (buffer);
    cairo_surface_destroy (surface);
    return layer;
}
