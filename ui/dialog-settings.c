/* dialog-settings.c — the settings dialog of a dfx procedure.
 *
 * For: one GimpProcedureDialog built from the procedure's config (GIMP
 * picks each widget from its argument: a combo box for a choice, a spin
 * scale for an int), in a given order; a folder row for a string argument
 * that holds a folder path (GIMP would show a plain text entry), with a
 * note line under it; and the check whether dialogs can be shown at all.
 * Not for: saving last-used values (GimpProcedureConfig does it) or
 * validating them (the arguments' ranges do, and libdfx).
 */
#include "dfx-ui.h"

#include <glib/gi18n-lib.h>

gboolean
dfx__ui_available (GimpRunMode run_mode)
{
    if (run_mode == GIMP_RUN_NONINTERACTIVE)
        return FALSE;
#if defined(G_OS_UNIX) && !defined(__APPLE__)
    /* gimp-console starts plug-ins without a display; GTK would abort. */
    return g_getenv ("DISPLAY") != NULL || g_getenv ("WAYLAND_DISPLAY") != NULL;
#else
    return TRUE;
#endif
}

/* The folder row: a GtkFileChooserButton and the config's string property
 * kept in step in both directions. */
typedef struct {
    GimpProcedureConfig *config;
    const gchar *property;
    GtkWidget *chooser;
} FolderRow;

static void
folder_to_config (GtkFileChooser *chooser, gpointer user)
{
    FolderRow *row = user;
    gchar *path = gtk_file_chooser_get_filename (chooser);

    g_object_set (row->config, row->property, path != NULL ? path : "", NULL);
    g_free (path);
}

static void
folder_reset (GtkButton *button, gpointer user)
{
    FolderRow *row = user;

    gtk_file_chooser_unselect_all (GTK_FILE_CHOOSER (row->chooser));
    g_object_set (row->config, row->property, "", NULL);
}

static GtkWidget *
folder_row_new (FolderRow *row, const gchar *note)
{
    GParamSpec *pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (row->config), row->property);
    GtkWidget *vbox = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
    GtkWidget *hbox = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
    GtkWidget *label = gtk_label_new_with_mnemonic (g_param_spec_get_nick (pspec));
    GtkWidget *reset = gtk_button_new_with_mnemonic (_ ("_Default"));
    gchar *path = NULL;

    row->chooser = gtk_file_chooser_button_new (g_param_spec_get_nick (pspec), GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER);
    gtk_widget_set_tooltip_text (row->chooser, g_param_spec_get_blurb (pspec));
    gtk_widget_set_tooltip_text (reset, _ ("Use dfx's default model"));
    gtk_label_set_mnemonic_widget (GTK_LABEL (label), row->chooser);
    g_object_get (row->config, row->property, &path, NULL);
    if (path != NULL && *path != '\0')
        gtk_file_chooser_set_filename (GTK_FILE_CHOOSER (row->chooser), path);
    g_free (path);
    g_signal_connect (row->chooser, "selection-changed", G_CALLBACK (folder_to_config), row);
    g_signal_connect (reset, "clicked", G_CALLBACK (folder_reset), row);

    gtk_box_pack_start (GTK_BOX (hbox), label, FALSE, FALSE, 0);
    gtk_box_pack_start (GTK_BOX (hbox), row->chooser, TRUE, TRUE, 0);
    gtk_box_pack_start (GTK_BOX (hbox), reset, FALSE, FALSE, 0);
    gtk_box_pack_start (GTK_BOX (vbox), hbox, FALSE, FALSE, 0);
    if (note != NULL) {
        GtkWidget *text = gtk_label_new (note);
        gtk_label_set_line_wrap (GTK_LABEL (text), TRUE);
        gtk_label_set_max_width_chars (GTK_LABEL (text), 50);
        gtk_label_set_xalign (GTK_LABEL (text), 0.0);
        gimp_label_set_attributes (GTK_LABEL (text), PANGO_ATTR_STYLE, PANGO_STYLE_ITALIC, -1);
        gtk_box_pack_start (GTK_BOX (vbox), text, FALSE, FALSE, 0);
    }
    gtk_widget_show_all (vbox);
    return vbox;
}

gboolean
dfx__ui_settings_dialog (GimpProcedure *procedure, GimpProcedureConfig *config, const gchar *title,
                         const gchar *ok_label, const gchar *const *names, const gchar *folder_name, const gchar *note)
{
    GObjectClass *klass = G_OBJECT_GET_CLASS (config);
    FolderRow row = {config, folder_name, NULL};
    GtkWidget *dialog, *content;
    GList *list = NULL;
    gboolean run;

    gimp_ui_init ("dfx");
    dialog = gimp_procedure_dialog_new (procedure, config, title);
    gimp_procedure_dialog_set_ok_label (GIMP_PROCEDURE_DIALOG (dialog), ok_label != NULL ? ok_label : _ ("_Generate"));

    for (const gchar *const *n = names; *n != NULL; n++)
        if (g_object_class_find_property (klass, *n) != NULL)
            list = g_list_append (list, (gpointer)*n);
    gimp_procedure_dialog_fill_list (GIMP_PROCEDURE_DIALOG (dialog), list);
    g_list_free (list);

    if (folder_name != NULL && g_object_class_find_property (klass, folder_name) != NULL) {
        GtkWidget *folder = folder_row_new (&row, note);
        content = gtk_dialog_get_content_area (GTK_DIALOG (dialog));
        gtk_box_pack_start (GTK_BOX (content), folder, FALSE, FALSE, 0);
        gtk_box_reorder_child (GTK_BOX (content), folder, 0);
    }

    run = gimp_procedure_dialog_run (GIMP_PROCEDURE_DIALOG (dialog));
    gtk_widget_destroy (dialog);
    return run;
}
