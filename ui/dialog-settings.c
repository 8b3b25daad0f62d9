/* dialog-settings.c — the settings dialogs of the dfx procedures.
 *
 * For: one GimpProcedureDialog built from the procedure's config (GIMP
 * makes each widget from its argument: a combo box for a choice, a spin
 * button for a number), laid out as an artist reads it: the model chooser
 * (the installed models by name with a line of their card, "Other
 * folder…"), the main settings, the seed with a "New seed" button, the
 * method's knobs in a closed "Advanced" expander and a note saying what
 * the result will be; rows choosing a layer or mask of the image (edit,
 * heal; dialog-items.c); an information dialog; and the check whether
 * dialogs can be shown at all.
 * Not for: saving last-used values (GimpProcedureConfig does it),
 * validating them (the arguments' ranges do, and libdfx), or finding the
 * models (plugin/model-path.c passes them in).
 *
 * Mnemonics: GimpProcedureDialog's own buttons take h (Help), r (Reset),
 * c (Cancel), l (Load Saved Settings) and s (Save Settings), and GIMP's
 * check counts o for the OK button whatever its label; the labels of the
 * arguments and the OK label are chosen to clash with none of them nor
 * with each other (GIMP prints every clash on the console).
 */
#include "dfx-ui.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

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

/* ---- One widget per argument ---------------------------------------------- */

/* A row: a mnemonic label (the argument's nick, its blurb as tooltip) and
 * widget after it; align_labels() gives the label the width of the
 * dialog's other labels. */
static GtkWidget *
labelled_row (const gchar *nick, const gchar *blurb, GtkWidget *widget)
{
    GtkWidget *hbox = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
    GtkWidget *label = gtk_label_new_with_mnemonic (nick);

    gtk_label_set_xalign (GTK_LABEL (label), 0.0);
    gtk_label_set_mnemonic_widget (GTK_LABEL (label), widget);
    gtk_widget_set_tooltip_text (label, blurb);
    gtk_widget_set_tooltip_text (widget, blurb);
    dfx__ui_row_label_mark (label);
    gtk_box_pack_start (GTK_BOX (hbox), label, FALSE, FALSE, 0);
    gtk_box_pack_start (GTK_BOX (hbox), widget, FALSE, FALSE, 0);
    gtk_widget_show_all (hbox);
    return hbox;
}

void
dfx__ui_row_label_mark (GtkWidget *label)
{
    g_object_set_data (G_OBJECT (label), "dfx-row-label", GINT_TO_POINTER (1));
}

/* Puts the labels of every row under widget into group, so their widgets
 * start in one column: GIMP's own labelled widgets (a combo box, a number
 * with its label) and dfx's rows (dfx__ui_row_label_mark()). */
static void
align_labels (GtkWidget *widget, GtkSizeGroup *group)
{
    GList *children;

    if (GIMP_IS_LABELED (widget)) {
        gtk_size_group_add_widget (group, gimp_labeled_get_label (GIMP_LABELED (widget)));
        return;
    }
    if (GTK_IS_LABEL (widget) && g_object_get_data (G_OBJECT (widget), "dfx-row-label") != NULL) {
        gtk_size_group_add_widget (group, widget);
        return;
    }
    if (!GTK_IS_CONTAINER (widget))
        return;
    children = gtk_container_get_children (GTK_CONTAINER (widget));
    for (GList *c = children; c != NULL; c = c->next)
        align_labels (c->data, group);
    g_list_free (children);
}

/* The widget of one argument.  Numbers of type double get a plain spin
 * button with increments and digits that fit their range and smallest
 * value (GIMP's own label spin asserts on ranges below 1 and shows 0.001
 * clipped); everything else is GIMP's default widget. */
static GtkWidget *
argument_widget (GimpProcedureDialog *dialog, GimpProcedureConfig *config, const gchar *name)
{
    GParamSpec *pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (config), name);

    if (pspec == NULL)
        return NULL;
    if (G_PARAM_SPEC_TYPE (pspec) == G_TYPE_PARAM_DOUBLE) {
        GParamSpecDouble *d = (GParamSpecDouble *)pspec;
        const gdouble range = d->maximum - d->minimum;
        gdouble step = pow (10.0, floor (log10 (range / 100.0)));
        gint digits = (gint)CLAMP (-floor (log10 (step)), 0, 6);
        /* Not through the dialog: its mnemonic check would find no label on
         * a bare spin button and print "no mnemonic" (the row's label has
         * one).  Bound to the config, it follows Reset and Load all the same. */
        GtkWidget *spin = gimp_prop_spin_button_new (G_OBJECT (config), name, step, step * 10.0, digits);

        if (d->minimum > 0.0)
            digits = MAX (digits, (gint)MIN (6.0, ceil (-log10 (d->minimum))));
        gtk_spin_button_set_digits (GTK_SPIN_BUTTON (spin), digits);
        gtk_entry_set_width_chars (GTK_ENTRY (spin), digits + 4);
        return labelled_row (g_param_spec_get_nick (pspec), g_param_spec_get_blurb (pspec), spin);
    }
    return gimp_procedure_dialog_get_widget (dialog, name, G_TYPE_NONE);
}

static void
pack_arguments (GtkBox *box, GimpProcedureDialog *dialog, GimpProcedureConfig *config, const gchar *const *names)
{
    for (const gchar *const *n = names; n != NULL && *n != NULL; n++) {
        GtkWidget *w;

        if ((w = argument_widget (dialog, config, *n)) == NULL)
            continue;
        gtk_box_pack_start (box, w, FALSE, FALSE, 0);
        gtk_widget_show (w);
    }
}

static GtkWidget *
note_label (const gchar *text)
{
    GtkWidget *label = gtk_label_new (text);

    gtk_label_set_line_wrap (GTK_LABEL (label), TRUE);
    gtk_label_set_max_width_chars (GTK_LABEL (label), 56);
    gtk_label_set_xalign (GTK_LABEL (label), 0.0);
    gimp_label_set_attributes (GTK_LABEL (label), PANGO_ATTR_STYLE, PANGO_STYLE_ITALIC, -1);
    gtk_widget_show (label);
    return label;
}

/* ---- The seed and its New seed button ------------------------------------- */

typedef struct {
    GimpProcedureConfig *config;
    const gchar *property;
} SeedRow;

static void
new_seed (GtkButton *button, gpointer user)
{
    SeedRow *row = user;

    g_object_set (row->config, row->property, g_random_int_range (0, G_MAXINT), NULL);
}

static GtkWidget *
seed_row (GimpProcedureDialog *dialog, SeedRow *row)
{
    GtkWidget *hbox = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
    GtkWidget *seed = gimp_procedure_dialog_get_widget (dialog, row->property, G_TYPE_NONE);
    /* TRANSLATORS: button beside the seed; d is its mnemonic, keep it clear of the dialog's others. */
    GtkWidget *button = gtk_button_new_with_mnemonic (_ ("New see_d"));

    gtk_widget_set_tooltip_text (button, _ ("Pick another random seed: another image from the same settings"));
    g_signal_connect (button, "clicked", G_CALLBACK (new_seed), row);
    gtk_box_pack_start (GTK_BOX (hbox), seed, TRUE, TRUE, 0);
    gtk_box_pack_start (GTK_BOX (hbox), button, FALSE, FALSE, 0);
    gtk_widget_show_all (hbox);
    return hbox;
}

/* ---- The model chooser ------------------------------------------------------ */

#define OTHER_ID "\001other"

typedef struct {
    GimpProcedureConfig *config;
    const DfxUiDialog *spec;
    GtkWidget *dialog, *combo;
    gchar *last; /* the id selected before "Other folder…" */
} ModelRow;

static const DfxUiModel *
find_model (const DfxUiDialog *spec, const gchar *path)
{
    for (guint i = 0; i < spec->n_models; i++)
        if (g_strcmp0 (spec->models[i].path, path) == 0)
            return &spec->models[i];
    return NULL;
}

static void
select_model (ModelRow *row, const gchar *id)
{
    const DfxUiModel *m = find_model (row->spec, id);

    g_free (row->last);
    row->last = g_strdup (id);
    g_object_set (row->config, row->spec->model_property, id, NULL);
    /* A model picked by the user brings its own size with it. */
    if (m != NULL && m->width > 0 && m->height > 0 && row->spec->width_property != NULL &&
        row->spec->height_property != NULL)
        g_object_set (row->config, row->spec->width_property, (gint)m->width, row->spec->height_property,
                      (gint)m->height, NULL);
}

static void
model_changed (GtkComboBox *combo, gpointer user)
{
    ModelRow *row = user;
    const gchar *id = gtk_combo_box_get_active_id (combo);
    GtkWidget *chooser;
    gchar *path = NULL;

    if (id == NULL || g_strcmp0 (id, row->last) == 0)
        return;
    if (strcmp (id, OTHER_ID) != 0) {
        select_model (row, id);
        return;
    }
    chooser = gtk_file_chooser_dialog_new (_ ("Choose a Model Folder"), GTK_WINDOW (row->dialog),
                                           GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, _ ("_Cancel"),
                                           GTK_RESPONSE_CANCEL, _ ("_Open"), GTK_RESPONSE_ACCEPT, NULL);
    if (gtk_dialog_run (GTK_DIALOG (chooser)) == GTK_RESPONSE_ACCEPT)
        path = gtk_file_chooser_get_filename (GTK_FILE_CHOOSER (chooser));
    gtk_widget_destroy (chooser);

    g_signal_handlers_block_by_func (combo, model_changed, row);
    if (path != NULL) {
        /* Listed just above "Other folder…", by its path. */
        if (!gtk_combo_box_set_active_id (combo, path)) {
            gint n = gtk_tree_model_iter_n_children (gtk_combo_box_get_model (combo), NULL);
            gtk_combo_box_text_insert (GTK_COMBO_BOX_TEXT (combo), n - 1, path, path);
            gtk_combo_box_set_active_id (combo, path);
        }
        select_model (row, path);
    } else {
        gtk_combo_box_set_active_id (combo, row->last);
    }
    g_signal_handlers_unblock_by_func (combo, model_changed, row);
    g_free (path);
}

static GtkWidget *
model_row_new (ModelRow *row)
{
    const DfxUiDialog *spec = row->spec;
    GParamSpec *pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (row->config), spec->model_property);
    GtkWidget *vbox = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
    GtkWidget *combo = row->combo = gtk_combo_box_text_new ();
    GtkWidget *hbox;
    gchar *current = NULL, *label;

    label = spec->default_label != NULL ? g_strdup_printf (_ ("Default: %s"), spec->default_label)
                                        : g_strdup (_ ("Default (none found: choose a model folder)"));
    gtk_combo_box_text_append (GTK_COMBO_BOX_TEXT (combo), "", label);
    g_free (label);
    for (guint i = 0; i < spec->n_models; i++)
        gtk_combo_box_text_append (GTK_COMBO_BOX_TEXT (combo), spec->models[i].path, spec->models[i].label);

    g_object_get (row->config, spec->model_property, &current, NULL);
    if (current == NULL)
        current = g_strdup ("");
    if (!gtk_combo_box_set_active_id (GTK_COMBO_BOX (combo), current)) {
        gtk_combo_box_text_append (GTK_COMBO_BOX_TEXT (combo), current, current);
        gtk_combo_box_set_active_id (GTK_COMBO_BOX (combo), current);
    }
    row->last = current;
    gtk_combo_box_text_append (GTK_COMBO_BOX_TEXT (combo), OTHER_ID, _ ("Other folder..."));
    gtk_widget_set_hexpand (combo, TRUE);
    g_signal_connect (combo, "changed", G_CALLBACK (model_changed), row);

    hbox = labelled_row (g_param_spec_get_nick (pspec), g_param_spec_get_blurb (pspec), combo);
    gtk_box_set_child_packing (GTK_BOX (hbox), combo, TRUE, TRUE, 0, GTK_PACK_END);
    gtk_box_pack_start (GTK_BOX (vbox), hbox, FALSE, FALSE, 0);
    gtk_widget_show_all (vbox);
    return vbox;
}

gboolean
dfx__ui_dialog_run (GimpProcedure *procedure, GimpProcedureConfig *config, const DfxUiDialog *spec)
{
    GObjectClass *klass = G_OBJECT_GET_CLASS (config);
    GimpProcedureDialog *pd;
    ModelRow model = {config, spec, NULL, NULL, NULL};
    SeedRow seed = {config, spec->seed_property};
    GtkWidget *dialog, *vbox;
    GtkSizeGroup *labels;
    gboolean run;

    gimp_ui_init ("dfx");
    dialog = gimp_procedure_dialog_new (procedure, config, spec->title);
    pd = GIMP_PROCEDURE_DIALOG (dialog);
    model.dialog = dialog;
    gimp_procedure_dialog_set_ok_label (pd, spec->ok_label);

    vbox = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
    gtk_box_pack_start (GTK_BOX (gtk_dialog_get_content_area (GTK_DIALOG (dialog))), vbox, TRUE, TRUE, 0);

    if (spec->model_property != NULL && g_object_class_find_property (klass, spec->model_property) != NULL)
        gtk_box_pack_start (GTK_BOX (vbox), model_row_new (&model), FALSE, FALSE, 0);

    for (const DfxUiItemRow *item = spec->items; spec->image != NULL && item != NULL && item->property != NULL;
         item++)
        if (g_object_class_find_property (klass, item->property) != NULL)
            gtk_box_pack_start (GTK_BOX (vbox), dfx__ui_item_row_new (config, spec->image, item), FALSE, FALSE, 0);

    for (const gchar *const *n = spec->names; n != NULL && *n != NULL; n++) {
        GtkWidget *w;

        if (spec->seed_property != NULL && strcmp (*n, spec->seed_property) == 0 &&
            g_object_class_find_property (klass, *n) != NULL)
            w = seed_row (pd, &seed);
        else
            w = argument_widget (pd, config, *n);
        if (w != NULL) {
            gtk_box_pack_start (GTK_BOX (vbox), w, FALSE, FALSE, 0);
            gtk_widget_show (w);
        }
    }

    if (spec->advanced != NULL && spec->advanced[0] != NULL) {
        GtkWidget *expander = gtk_expander_new_with_mnemonic (_ ("_Advanced"));
        GtkWidget *inner = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);

        gtk_widget_set_margin_start (inner, 12);
        gtk_widget_set_margin_top (inner, 6);
        pack_arguments (GTK_BOX (inner), pd, config, spec->advanced);
        gtk_container_add (GTK_CONTAINER (expander), inner);
        gtk_widget_set_tooltip_text (expander, _ ("How the model computes: change these only to trade time "
                                                  "for quality or to match a script"));
        gtk_box_pack_start (GTK_BOX (vbox), expander, FALSE, FALSE, 0);
        gtk_widget_show_all (expander);
    }

    if (spec->note != NULL)
        gtk_box_pack_start (GTK_BOX (vbox), note_label (spec->note), FALSE, FALSE, 6);
    gtk_widget_show (vbox);
    labels = gtk_size_group_new (GTK_SIZE_GROUP_HORIZONTAL);
    align_labels (vbox, labels);

    run = gimp_procedure_dialog_run (pd);
    gtk_widget_destroy (dialog);
    g_object_unref (labels);
    g_free (model.last);
    return run;
}

/* ---- Information ------------------------------------------------------------ */

void
dfx__ui_info_dialog (const gchar *title, const gchar *heading, const gchar *text)
{
    GtkWidget *dialog, *hbox, *vbox, *icon, *head, *body;
    gchar *markup;

    gimp_ui_init ("dfx");
    dialog = gimp_dialog_new (title, "dfx-info", NULL, 0, NULL, NULL, _ ("_Close"), GTK_RESPONSE_CLOSE, NULL);
    gimp_window_set_transient (GTK_WINDOW (dialog));
    gtk_window_set_resizable (GTK_WINDOW (dialog), FALSE);

    hbox = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
    gtk_container_set_border_width (GTK_CONTAINER (hbox), 12);
    icon = gtk_image_new_from_icon_name ("dialog-information", GTK_ICON_SIZE_DIALOG);
    gtk_widget_set_valign (icon, GTK_ALIGN_START);
    gtk_box_pack_start (GTK_BOX (hbox), icon, FALSE, FALSE, 0);

    vbox = gtk_box_new (GTK_ORIENTATION_VERTICAL, 8);
    head = gtk_label_new (NULL);
    markup = g_markup_printf_escaped ("<b>%s</b>", heading);
    gtk_label_set_markup (GTK_LABEL (head), markup);
    g_free (markup);
    gtk_label_set_xalign (GTK_LABEL (head), 0.0);
    body = gtk_label_new (text);
    gtk_label_set_xalign (GTK_LABEL (body), 0.0);
    gtk_label_set_line_wrap (GTK_LABEL (body), TRUE);
    gtk_label_set_max_width_chars (GTK_LABEL (body), 60);
    gtk_box_pack_start (GTK_BOX (vbox), head, FALSE, FALSE, 0);
    gtk_box_pack_start (GTK_BOX (vbox), body, FALSE, FALSE, 0);
    gtk_box_pack_start (GTK_BOX (hbox), vbox, TRUE, TRUE, 0);
    gtk_box_pack_start (GTK_BOX (gtk_dialog_get_content_area (GTK_DIALOG (dialog))), hbox, TRUE, TRUE, 0);
    gtk_widget_show_all (dialog);

    gimp_dialog_run (GIMP_DIALOG (dialog));
    gtk_widget_destroy (dialog);
}
