/* dialog.c — the plug-in's side of the settings dialogs.
 *
 * For: filling the model chooser of a dialog (ui/dialog-settings.c) with
 * the installed models (model-path.c) and the default model's name for the
 * image at hand, so every procedure's dialog lists the same models in the
 * same words.  Any procedure with a "model" string argument can use it.
 * Not for: the widgets (ui/) or the arguments (each proc-*.c).
 */
#include "dfx-plugin.h"

#include <string.h>

gboolean
dfx__dialog_run (GimpProcedure *procedure, GimpProcedureConfig *config, gboolean grey_image, DfxUiDialog *spec)
{
    GPtrArray *list = dfx__model_list ();
    const DfxModelEntry *def = dfx__model_list_default (list, grey_image);
    DfxUiModel *models = g_new0 (DfxUiModel, list->len + 1);
    gboolean run;

    for (guint i = 0; i < list->len; i++) {
        const DfxModelEntry *e = g_ptr_array_index (list, i);
        models[i] = (DfxUiModel){e->label, e->dir, e->width, e->height};
    }
    spec->models = models;
    spec->n_models = list->len;
    spec->default_label = def != NULL ? def->label : NULL;
    if (spec->model_property == NULL)
        spec->model_property = "model";
    /* A size of 0 (a script's "the model's own size") is shown as the
     * number it means: the chosen model's size, else the default's. */
    if (spec->width_property != NULL && spec->height_property != NULL &&
        g_object_class_find_property (G_OBJECT_GET_CLASS (config), spec->width_property) != NULL) {
        gint w = 0, h = 0;
        gchar *model = NULL;
        const DfxModelEntry *size_of = def;

        g_object_get (config, spec->width_property, &w, spec->height_property, &h, spec->model_property, &model,
                      NULL);
        for (guint i = 0; i < list->len && model != NULL && *model != '\0'; i++) {
            const DfxModelEntry *e = g_ptr_array_index (list, i);
            if (strcmp (e->dir, model) == 0)
                size_of = e;
        }
        if ((w <= 0 || h <= 0) && size_of != NULL && size_of->width > 0)
            g_object_set (config, spec->width_property, w > 0 ? w : (gint)size_of->width, spec->height_property,
                          h > 0 ? h : (gint)size_of->height, NULL);
        g_free (model);
    }

    run = dfx__ui_dialog_run (procedure, config, spec);

    spec->models = NULL;
    spec->default_label = NULL;
    g_free (models);
    g_ptr_array_unref (list);
    return run;
}
