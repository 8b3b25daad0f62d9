/* proc-generate-layer.c — the procedure "plug-in-dfx-generate-layer"
 * (Filters ▸ Diffusion ▸ Generate Layer…): new layers in the current image.
 *
 * For: generating at the size of the selection's bounding box (the whole
 * canvas without a selection), then, only when that succeeded, inserting
 * the layers above the active layer at the selection's position in one undo
 * group (image 0 on top).  The model defaults to the grey one for grey
 * images and the colour one otherwise; a model of the other kind is
 * converted by babl (generate.c).  Indexed images are refused.  Returns the
 * new layers, the network evaluations used and libdfx's warning.  On any
 * failure or cancel the image is left exactly as it was.
 * Not for: masking to the selection's shape (the layer is its bounding
 * box), nor the run itself (generate.c).
 */
#include "dfx-plugin.h"

/* The layer the new ones go above: the first selected drawable when it is a
 * layer, else the first selected layer of the image; NULL for the top of
 * the image. */
static GimpLayer *
anchor_layer (GimpImage *image, GimpDrawable **drawables)
{
    GimpLayer **selected;
    GimpLayer *anchor = NULL;

    if (drawables != NULL && drawables[0] != NULL && GIMP_IS_LAYER (drawables[0]))
        return GIMP_LAYER (drawables[0]);
    selected = gimp_image_get_selected_layers (image);
    if (selected != NULL && selected[0] != NULL)
        anchor = selected[0];
    g_free (selected);
    return anchor;
}

static GimpValueArray *
generate_layer_run (GimpProcedure *procedure, GimpRunMode run_mode, GimpImage *image, GimpDrawable **drawables,
                    GimpProcedureConfig *config, gpointer run_data)
{
    GimpImageBaseType base = gimp_image_get_base_type (image);
    gboolean non_empty;
    gint x1, y1, x2, y2;
    DfxGenerateJob job;
    GError *error = NULL;
    GimpLayer *anchor, *parent = NULL, **layers;
    gint position = 0;
    GimpValueArray *values;
    DfxPreload *preload = NULL;

    if (base == GIMP_INDEXED) {
        g_set_error (&error, GIMP_PLUG_IN_ERROR, DFX_ERR_UNSUPPORTED,
                     _ ("dfx generates into RGB and grey images; convert this indexed image first (Image ▸ "
                        "Mode)."));
        return gimp_procedure_new_return_values (procedure, GIMP_PDB_EXECUTION_ERROR, error);
    }
    if (!gimp_selection_bounds (image, &non_empty, &x1, &y1, &x2, &y2) || !non_empty) {
        non_empty = FALSE;
        x1 = y1 = 0;
        x2 = gimp_image_get_width (image);
        y2 = gimp_image_get_height (image);
    }

    if (run_mode == GIMP_RUN_INTERACTIVE && dfx__ui_available (run_mode)) {
        /* The model loads and its kernels compile while the user reads the dialog. */
        DfxPreload *pre = dfx__generate_preload (config, base == GIMP_GRAY, (guint)(x2 - x1), (guint)(y2 - y1));
        gchar *note = non_empty
                          /* TRANSLATORS: the size of the layer the dialog will make, in pixels. */
                          ? g_strdup_printf (_ ("The new layer is %d \u00d7 %d pixels: the size and place of the "
                                                "selection. It goes above the active layer."),
                                             x2 - x1, y2 - y1)
                          : g_strdup_printf (_ ("The new layer is %d \u00d7 %d pixels: the whole canvas (select "
                                                "an area for a smaller one). It goes above the active layer."),
                                             x2 - x1, y2 - y1);
        gboolean go = dfx__generate_dialog (procedure, config, base == GIMP_GRAY, _ ("Generate Layer"), note);

        g_free (note);
        if (!go) {
            dfx__preload_cancel (pre);
            return gimp_procedure_new_return_values (procedure, GIMP_PDB_CANCEL, NULL);
        }
        dfx__trace ("dialog-ok");
        preload = pre;
    }

    if (!dfx__generate_run (config, run_mode, base == GIMP_GRAY, (guint)(x2 - x1), (guint)(y2 - y1),
                            _ ("Generate Layer"), preload, &job, &error)) {
        dfx__generate_job_clear (&job);
        return gimp_procedure_new_return_values (procedure, dfx__generate_error_status (error), error);
    }

    /* Everything that can fail has; from here on only GIMP is written. */
    anchor = anchor_layer (image, drawables);
    if (anchor != NULL) {
        GimpItem *p = gimp_item_get_parent (GIMP_ITEM (anchor));
        parent = p != NULL ? GIMP_LAYER (p) : NULL;
        position = gimp_image_get_item_position (image, GIMP_ITEM (anchor));
    }
    layers = g_new0 (GimpLayer *, job.params.count + 1);
    gimp_image_undo_group_start (image);
    /* Inserted at one position, each new layer lands above the previous
     * one: image 0 ends up on top, right above the anchor's stack. */
    for (guint k = job.params.count; k-- > 0;) {
        gchar *name = dfx__generate_layer_name (&job, k);
        GimpLayer *layer = gimp_layer_new (image, name, (gint)job.params.width, (gint)job.params.height,
                                           base == GIMP_GRAY ? GIMP_GRAYA_IMAGE : GIMP_RGBA_IMAGE, 100.0,
                                           GIMP_LAYER_MODE_NORMAL);
        g_free (name);
        gimp_image_insert_layer (image, layer, parent, position);
        gimp_layer_set_offsets (layer, x1, y1);
        dfx__generate_write_layer (&job, k, layer);
        layers[k] = layer;
    }
    gimp_image_undo_group_end (image);
    if (run_mode != GIMP_RUN_NONINTERACTIVE)
        gimp_displays_flush ();

    values = gimp_procedure_new_return_values (procedure, GIMP_PDB_SUCCESS, NULL);
    GIMP_VALUES_SET_CORE_OBJECT_ARRAY (values, 1, layers);
    GIMP_VALUES_SET_INT (values, 2, (gint)job.result.nfe);
    GIMP_VALUES_SET_STRING (values, 3, job.result.warning);
    g_free (layers);
    dfx__generate_job_clear (&job);
    dfx__trace ("done");
    return values;
}

GimpProcedure *
dfx__proc_generate_layer_new (GimpPlugIn *plug_in)
{
    GimpProcedure *procedure;

    procedure = gimp_image_procedure_new (plug_in, DFX_PROC_GENERATE_LAYER, GIMP_PDB_PROC_TYPE_PLUGIN,
                                          generate_layer_run, NULL, NULL);

    gimp_procedure_set_image_types (procedure, "RGB*, GRAY*");
    /* The layer does not depend on the selected drawables: any number. */
    gimp_procedure_set_sensitivity_mask (procedure, GIMP_PROCEDURE_SENSITIVE_DRAWABLE |
                                                        GIMP_PROCEDURE_SENSITIVE_DRAWABLES |
                                                        GIMP_PROCEDURE_SENSITIVE_NO_DRAWABLES);
    gimp_procedure_set_menu_label (procedure, _ ("Generate _Layer..."));
    gimp_procedure_add_menu_path (procedure, DFX_MENU_PATH);
    gimp_procedure_set_documentation (
        procedure, _ ("Generate new layers with a diffusion model"),
        _ ("Samples images from a diffusion model on dfx's Vulkan device and adds each as a new layer above the "
           "active layer, at the size and place of the selection's bounding box (the whole canvas without a "
           "selection), in one undo step. The default model is the grey one for grey images and the colour one "
           "otherwise; a grey model's image is copied into the three channels of an RGB image, a colour "
           "model's image becomes its luminance in a grey image. Nothing is changed when the generation fails "
           "or is cancelled."),
        DFX_PROC_GENERATE_LAYER);
    gimp_procedure_set_attribution (procedure, "dfx authors", "dfx authors", "2026");

    dfx__generate_add_arguments (procedure);

    gimp_procedure_add_core_object_array_return_value (procedure, "layers", _ ("Layers"),
                                                       _ ("The new layers, the first image first"),
                                                       GIMP_TYPE_LAYER, G_PARAM_READWRITE);
    gimp_procedure_add_int_return_value (procedure, "nfe", _ ("Network evaluations"),
                                         _ ("Network evaluations the generation used (one evaluation runs all the images of the batch)"),
                                         0, G_MAXINT, 0, G_PARAM_READWRITE);
    gimp_procedure_add_string_return_value (procedure, "warning", _ ("Warning"),
                                            _ ("What the user should know about the run (for example that the "
                                               "Gaussian skip fell back to off); empty when nothing"),
                                            "", G_PARAM_READWRITE);
    return procedure;
}
