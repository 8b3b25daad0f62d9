/* dialog-items.c — a settings-dialog row that chooses a layer or a channel
 * of the image for an int argument holding the item's id.
 *
 * For: GIMP 3.0 cannot serialise a GimpLayer argument, so Repeat and
 * Re-Show would lose it; an int id survives, and the plug-in re-finds the
 * item by it.  This row shows the image's layers (or channels and layer
 * masks, with "The selection" as 0) by name and writes the chosen id into
 * the config.
 * Not for: checking that the item still exists at run time (the plug-in
 * does that and says so).
 */
#include "dfx-ui.h"

#include <glib/gi18n-lib.h>

static gboolean
same_image (GimpImage *image, GimpItem *item, gpointer data)
{
    (void)item;
    return data == NULL || image == data;
}

typedef struct {
    GimpProcedureConfig *config;
    gchar *property;
} ItemRow;

static void
item_row_free (gpointer data)
{
    ItemRow *row = data;

    g_free (row->property);
    g_free (row);
}

static void
item_to_config (GtkWidget *combo, gpointer data)
{
    ItemRow *row = data;
    gint id = 0;

    if (gimp_int_combo_box_get_active (GIMP_INT_COMBO_BOX (combo), &id))
        g_object_set (row->config, row->property, id, NULL);
}

GtkWidget *
dfx__ui_item_row_new (GimpProcedureConfig *config, GimpImage *image, const DfxUiItemRow *item)
{
    GParamSpec *pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (config), item->property);
    GtkWidget *hbox = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
    GtkWidget *label = gtk_label_new_with_mnemonic (g_param_spec_get_nick (pspec));
    GtkWidget *combo;
    ItemRow *row = g_new0 (ItemRow, 1);
    gint id = 0;

    row->config = config;
    row->property = g_strdup (item->property);
    if (item->kind == DFX_UI_ITEM_LAYER) {
        combo = gimp_layer_combo_box_new (same_image, image, NULL);
    } else {
        combo = gimp_channel_combo_box_new (same_image, image, NULL);
        gimp_int_combo_box_prepend (GIMP_INT_COMBO_BOX (combo), GIMP_INT_STORE_VALUE, 0, GIMP_INT_STORE_LABEL,
                                    _ ("The selection"), -1);
    }
    g_object_get (config, item->property, &id, NULL);
    /* a remembered id of an item that is gone: the first entry instead */
    if (id != 0 && !gimp_int_combo_box_set_active (GIMP_INT_COMBO_BOX (combo), id))
        id = 0;
    gimp_int_combo_box_connect (GIMP_INT_COMBO_BOX (combo), id, G_CALLBACK (item_to_config), row, item_row_free);
    gtk_widget_set_tooltip_text (combo, g_param_spec_get_blurb (pspec));
    gtk_label_set_mnemonic_widget (GTK_LABEL (label), combo);
    gtk_label_set_xalign (GTK_LABEL (label), 0.0);
    dfx__ui_row_label_mark (label);
    gtk_box_pack_start (GTK_BOX (hbox), label, FALSE, FALSE, 0);
    gtk_box_pack_start (GTK_BOX (hbox), combo, TRUE, TRUE, 0);
    gtk_widget_show_all (hbox);
    return hbox;
}
