/* region-run.c — what Guided Edit (proc-edit.c) and Heal Selection
 * (proc-heal.c) share in their run(): one layer of an RGB or grey image, the
 * layer and its mask read as the model's channels, the libdfx call in a
 * worker with progress and cancel, and the result written in one undo
 * group.
 *
 * For: the checks of the drawables and the image, the settings dialog
 * (described by the procedure) and the model folder, reading the source
 * and the mask (region-io.c), the worker (context, model, the procedure's
 * own libdfx call through DfxRegionSpec.compute, its errors), the new or
 * replaced layer and the first return value, the warning, and freeing the
 * job.  Each procedure keeps its arguments, dialog contents, own checks,
 * parameters and further return values.
 * Not for: the numerics (libdfx).
 *
 * Threads: region_work() calls libdfx and GLib only (and the spec's
 * compute, which must do the same).
 */
#include "dfx-plugin.h"

/* NULL when drawables is one layer of an RGB or grey image; else the
 * return values of the calling error spec->one_layer or the execution
 * error spec->indexed. */
static GimpValueArray *
check (GimpProcedure *procedure, GimpImage *image, GimpDrawable **drawables, const DfxRegionSpec *spec)
{
    GError *error = NULL;

    if (drawables == NULL || drawables[0] == NULL || drawables[1] != NULL || !GIMP_IS_LAYER (drawables[0])) {
        g_set_error_literal (&error, GIMP_PLUG_IN_ERROR, DFX_ERR_INVALID_ARGUMENT, spec->one_layer);
        return gimp_procedure_new_return_values (procedure, GIMP_PDB_CALLING_ERROR, error);
    }
    if (gimp_image_get_base_type (image) == GIMP_INDEXED) {
        g_set_error_literal (&error, GIMP_PLUG_IN_ERROR, DFX_ERR_UNSUPPORTED, spec->indexed);
        return gimp_procedure_new_return_values (procedure, GIMP_PDB_EXECUTION_ERROR, error);
    }
    return NULL;
}

GimpValueArray *
dfx__region_start (GimpProcedure *procedure, GimpRunMode run_mode, GimpImage *image, GimpDrawable **drawables,
                   GimpProcedureConfig *config, DfxUiDialog *dialog, DfxRegionJob *j)
{
    const gboolean grey = gimp_image_get_base_type (image) == GIMP_GRAY;
    GimpValueArray *values;
    GError *error = NULL;
    gchar *model = NULL;

    values = check (procedure, image, drawables, j->spec);
    if (values != NULL)
        return values;
    if (run_mode == GIMP_RUN_INTERACTIVE && dfx__ui_available (run_mode) &&
        !dfx__dialog_run (procedure, config, grey, dialog))
        return gimp_procedure_new_return_values (procedure, GIMP_PDB_CANCEL, NULL);
    g_object_get (config, "model", &model, NULL);
    j->model_dir = dfx__model_resolve (model, grey, &error);
    if (j->model_dir == NULL)
        return dfx__region_fail (procedure, j, error);
    return NULL;
}

gboolean
dfx__region_read (DfxRegionJob *j, GimpImage *image, GimpDrawable *source, gint mask_id, GError **error)
{
    gsize np;

    j->width = (guint)gimp_drawable_get_width (source);
    j->height = (guint)gimp_drawable_get_height (source);
    np = (gsize)j->width * j->height;
    j->image1 = g_new (gfloat, np);
    j->image3 = g_new (gfloat, 3 * np);
    j->mask = g_new (gfloat, np);
    gegl_init (NULL, NULL);
    if (!dfx__plugin_read_mask (image, source, mask_id, j->width, j->height, j->mask, error))
        return FALSE;
    /* Both readings: the worker picks the model's (a grey model sees luminance). */
    dfx__plugin_read_planar (source, 0, 0, j->width, j->height, "Y' float", 1, 2.0f, -1.0f, j->image1);
    dfx__plugin_read_planar (source, 0, 0, j->width, j->height, "R'G'B' float", 3, 2.0f, -1.0f, j->image3);
    gimp_drawable_get_offsets (source, &j->ox, &j->oy);
    return TRUE;
}

/* The worker: context, model, the procedure's call; errors into j->error. */
static void
region_work (gpointer data)
{
    DfxRegionJob *j = data;
    const DfxRegionSpec *spec = j->spec;
    dfx_ctx *ctx = NULL;
    dfx_model *model = NULL;
    dfx_status status;

    if (dfx__run_work_progress (DFX_UI_PROGRESS_LOADING, &j->run)) {
        g_set_error_literal (&j->error, GIMP_PLUG_IN_ERROR, DFX_ERR_CANCELLED, spec->cancelled);
        return;
    }
    if (!dfx__plugin_masked_open (j->model_dir, spec->heal, j->width, j->height, &ctx, &model, &j->channels, &j->out,
                                  &j->error))
        goto out;
    /* The first evaluation compiles the kernels (unless Mesa's cache has them). */
    if (dfx__run_work_progress (DFX_UI_PROGRESS_PREPARING, &j->run)) {
        g_set_error_literal (&j->error, GIMP_PLUG_IN_ERROR, DFX_ERR_CANCELLED, spec->cancelled);
        goto out;
    }
    status = spec->compute (j, model, spec->data);
    if (status == DFX_ERR_CANCELLED)
        g_set_error_literal (&j->error, GIMP_PLUG_IN_ERROR, DFX_ERR_CANCELLED, spec->cancelled);
    else if (status != DFX_OK)
        g_set_error (&j->error, GIMP_PLUG_IN_ERROR, (gint)status, spec->failed, dfx_ctx_errmsg (ctx));
out:
    dfx_model_destroy (model);
    dfx_ctx_destroy (ctx);
}

gboolean
dfx__region_run (DfxRegionJob *j, GimpRunMode run_mode, GError **error)
{
    j->run.work = region_work;
    j->run.data = j;
    dfx__run_work (&j->run, run_mode, j->model_dir, j->spec->title, j->spec->running, j->spec->batch);
    if (j->error != NULL) {
        g_propagate_error (error, j->error);
        j->error = NULL;
        return FALSE;
    }
    return TRUE;
}

GimpValueArray *
dfx__region_finish (GimpProcedure *procedure, DfxRegionJob *j, GimpImage *image, GimpDrawable *source,
                    GimpRunMode run_mode, gboolean replace, gboolean unchanged, const char *warning)
{
    GimpLayer *result = NULL;
    GimpValueArray *values;

    /* Everything that can fail has; from here on only GIMP is written. */
    if (!unchanged) {
        gimp_image_undo_group_start (image);
        if (replace) {
            result = GIMP_LAYER (source);
        } else {
            GimpItem *parent = gimp_item_get_parent (GIMP_ITEM (source));
            gchar *name = g_strdup_printf (j->spec->layer_name, gimp_item_get_name (GIMP_ITEM (source)));
            result = gimp_layer_new (image, name, (gint)j->width, (gint)j->height, gimp_drawable_type (source),
                                     100.0, GIMP_LAYER_MODE_NORMAL);
            g_free (name);
            gimp_image_insert_layer (image, result, parent != NULL ? GIMP_LAYER (parent) : NULL,
                                     gimp_image_get_item_position (image, GIMP_ITEM (source)));
            gimp_layer_set_offsets (result, j->ox, j->oy);
        }
        dfx__plugin_write_result (source, GIMP_DRAWABLE (result), j->channels, j->width, j->height,
                                  j->channels == 1 ? j->image1 : j->image3, j->out);
        if (j->spec->finish != NULL)
            j->spec->finish (j, result, j->spec->data);
        gimp_image_undo_group_end (image);
        if (run_mode != GIMP_RUN_NONINTERACTIVE)
            gimp_displays_flush ();
    }
    dfx__run_work_warn (warning);
    values = gimp_procedure_new_return_values (procedure, GIMP_PDB_SUCCESS, NULL);
    GIMP_VALUES_SET_LAYER (values, 1, result);
    return values;
}

GimpValueArray *
dfx__region_fail (GimpProcedure *procedure, DfxRegionJob *j, GError *error)
{
    GimpPDBStatusType status = dfx__generate_error_status (error);

    dfx__region_job_clear (j);
    return gimp_procedure_new_return_values (procedure, status, error);
}

void
dfx__region_job_clear (DfxRegionJob *j)
{
    g_clear_pointer (&j->model_dir, g_free);
    g_clear_pointer (&j->image1, g_free);
    g_clear_pointer (&j->image3, g_free);
    g_clear_pointer (&j->mask, g_free);
    g_clear_pointer (&j->out, g_free);
    g_clear_error (&j->error);
}
