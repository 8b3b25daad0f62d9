/* proc-generate.c — the procedure "plug-in-dfx-generate" (File ▸ Create ▸
 * Diffusion ▸ Generate…): a new image from a diffusion model.
 *
 * For: the new-image front end of generation: its arguments (run-mode
 * first, then the shared ones of generate.c and the size), the dialog for
 * interactive runs, and an image built only after the generation succeeded:
 * grey for 1- and 2-channel models, RGB for 3 and 4, one layer per image,
 * the first image on top.  Returns the image, the network evaluations used
 * and libdfx's warning.
 * Not for: the run itself, progress or pixel conversion (generate.c).
 */
#include "dfx-plugin.h"

static GimpValueArray *
generate_run (GimpProcedure *procedure, GimpProcedureConfig *config, gpointer run_data)
{
    GimpRunMode run_mode;
    gint width, height;
    DfxGenerateJob job;
    GError *error = NULL;
    DfxPreload *pre = NULL;
    GimpImage *image;
    GimpValueArray *values;
    gboolean grey, alpha;

    g_object_get (config, "run-mode", &run_mode, NULL);
    if (run_mode == GIMP_RUN_INTERACTIVE && dfx__ui_available (run_mode)) {
        /* The model loads and its kernels compile while the user reads the
         * dialog, at the size last used (a new size there compiles the
         * rest after OK). */
        g_object_get (config, "width", &width, "height", &height, NULL);
        pre = dfx__generate_preload (config, FALSE, (guint)MAX (width, 0), (guint)MAX (height, 0));
        if (!dfx__generate_dialog (procedure, config, FALSE, _ ("Generate an Image"),
                                   _ ("dfx opens the result as a new image, one layer per image: grey for a grey "
                                      "model, RGB for a colour one."))) {
            dfx__preload_cancel (pre);
            return gimp_procedure_new_return_values (procedure, GIMP_PDB_CANCEL, NULL);
        }
        dfx__trace ("dialog-ok");
    }
    g_object_get (config, "width", &width, "height", &height, NULL);

    /* A new image: the colour model is the default (generate.c falls back
     * to the grey one); the image's mode then follows the model. */
    if (!dfx__generate_run (config, run_mode, FALSE, (guint)width, (guint)height, _ ("Generate an Image"), pre, &job,
                            &error)) {
        dfx__generate_job_clear (&job);
        return gimp_procedure_new_return_values (procedure, dfx__generate_error_status (error), error);
    }

    grey = job.info.channels <= 2;
    alpha = job.info.channels == 2 || job.info.channels == 4;
    image = gimp_image_new ((gint)job.params.width, (gint)job.params.height, grey ? GIMP_GRAY : GIMP_RGB);
    gimp_image_undo_disable (image);
    /* Each layer goes on top, so the last one inserted, image 0, ends up
     * there: the image shown is the one a count of 1 would have made. */
    for (guint k = job.params.count; k-- > 0;) {
        gchar *name = dfx__generate_layer_name (&job, k);
        GimpLayer *layer =
            gimp_layer_new (image, name, (gint)job.params.width, (gint)job.params.height,
                            grey ? (alpha ? GIMP_GRAYA_IMAGE : GIMP_GRAY_IMAGE)
                                 : (alpha ? GIMP_RGBA_IMAGE : GIMP_RGB_IMAGE),
                            100.0, GIMP_LAYER_MODE_NORMAL);
        g_free (name);
        gimp_image_insert_layer (image, layer, NULL, 0);
        dfx__generate_write_layer (&job, k, layer);
    }
    gimp_image_undo_enable (image);
    if (dfx__ui_available (run_mode))
        gimp_display_new (image);

    values = gimp_procedure_new_return_values (procedure, GIMP_PDB_SUCCESS, NULL);
    GIMP_VALUES_SET_IMAGE (values, 1, image);
    GIMP_VALUES_SET_INT (values, 2, (gint)job.result.nfe);
    GIMP_VALUES_SET_STRING (values, 3, job.result.warning);
    dfx__generate_job_clear (&job);
    return values;
}

GimpProcedure *
dfx__proc_generate_new (GimpPlugIn *plug_in)
{
    GimpProcedure *procedure;

    procedure = gimp_procedure_new (plug_in, DFX_PROC_GENERATE, GIMP_PDB_PROC_TYPE_PLUGIN, generate_run, NULL, NULL);

    gimp_procedure_set_menu_label (procedure, _ ("_Generate..."));
    gimp_procedure_add_menu_path (procedure, DFX_MENU_PATH_CREATE);
    gimp_procedure_set_sensitivity_mask (procedure, GIMP_PROCEDURE_SENSITIVE_ALWAYS);
    gimp_procedure_set_documentation (
        procedure, _ ("Generate a new image with a diffusion model"),
        _ ("Samples images from a diffusion model (a diffusers UNet2DModel folder) on dfx's Vulkan device and "
           "opens them as a new image, one layer per image. The image is grey for a grey model and RGB for a "
           "colour one; the model's values [-1, 1] map to black..white. The Gaussian skip replaces the early, "
           "noisy part of sampling by its closed form. The same seed, settings and device give the same image, "
           "the same one the command `dfx generate` makes."),
        DFX_PROC_GENERATE);
    gimp_procedure_set_attribution (procedure, "dfx authors", "dfx authors", "2026");

    /* gimp_procedure_new: run-mode is declared here, as the first argument. */
    gimp_procedure_add_enum_argument (procedure, "run-mode", _ ("Run mode"), _ ("The run mode"), GIMP_TYPE_RUN_MODE,
                                      GIMP_RUN_INTERACTIVE, G_PARAM_READWRITE);
    dfx__generate_add_arguments (procedure);
    /* Real sizes, the default models' own (32); choosing a model in the
     * dialog sets them to that model's size.  0 stays accepted for scripts
     * (the model's own size, as `dfx generate` without --width), but the
     * dialog never shows it (dfx__generate_dialog replaces it). */
    gimp_procedure_add_int_argument (procedure, "width", _ ("_Width"),
                                     _ ("Width of the new image in pixels. Picking a model sets it to the "
                                        "model's own size; other sizes work too (scripts: 0 is the model's "
                                        "own size)"),
                                     0, DFX_GENERATE_MAX_SIZE, 32, G_PARAM_READWRITE);
    gimp_procedure_add_int_argument (procedure, "height", _ ("He_ight"),
                                     _ ("Height of the new image in pixels. Picking a model sets it to the "
                                        "model's own size; other sizes work too (scripts: 0 is the model's "
                                        "own size)"),
                                     0, DFX_GENERATE_MAX_SIZE, 32, G_PARAM_READWRITE);

    gimp_procedure_add_image_return_value (procedure, "image", _ ("Image"), _ ("The generated image"), FALSE,
                                           G_PARAM_READWRITE);
    gimp_procedure_add_int_return_value (procedure, "nfe", _ ("Network evaluations"),
                                         _ ("Network evaluations the generation used (one evaluation runs all the images of the batch)"),
                                         0, G_MAXINT, 0, G_PARAM_READWRITE);
    gimp_procedure_add_string_return_value (procedure, "warning", _ ("Warning"),
                                            _ ("What the user should know about the run (for example that the "
                                               "Gaussian skip fell back to off); empty when nothing"),
                                            "", G_PARAM_READWRITE);
    return procedure;
}
