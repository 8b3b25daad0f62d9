/* proc-edit.c — the procedure "plug-in-dfx-edit" (Filters ▸ Diffusion ▸
 * Guided Edit…): a layer edited to follow a guide layer inside a mask.
 *
 * For: reading the layer, the guide layer (same size) and the mask (the
 * selection, or a channel or layer mask given as argument) as the model's
 * channels on [-1, 1]; running dfx_edit() in a worker under dfx's progress
 * dialog (per-iteration progress and a preview of the current estimate) or
 * with GIMP's progress in batch runs; then, only when that succeeded,
 * writing the result as a new layer above the source (or into the source
 * when asked) in one undo group.  An empty mask changes nothing and says
 * so.  On any failure or cancel the image is left exactly as it was.
 * Not for: the numerics (libdfx), nor generation (generate.c).
 *
 * Threads: edit_work() calls libdfx and GLib only.  A grey model edits the
 * luminance: its result is grey (babl replicates it in an RGB layer).
 */
#include "dfx-plugin.h"

#include "dfx-ui.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    gchar *model_dir;
    dfx_edit_params params;
    guint width, height, channels; /* channels: the model's (1 or 3), set by the worker */
    gfloat *image1, *guide1;        /* luminance, planar [-1, 1] */
    gfloat *image3, *guide3;        /* R'G'B', planar [-1, 1] */
    gfloat *mask;                   /* [0, 1] */
    gfloat *out;
    dfx_edit_result result;
    DfxUiProgress *ui;
    gint cancel_after, reports;    /* DFX_TEST_CANCEL_AFTER, as generate.c */
    GError *error;
} EditJob;

static int
edit_progress (double fraction, void *user)
{
    EditJob *j = user;
    int stop = j->cancel_after > 0 && ++j->reports >= j->cancel_after;

    if (j->ui != NULL)
        return dfx__ui_progress_report (j->ui, fraction) || stop;
    if (fraction < 0.0)
        gimp_progress_pulse ();
    else
        gimp_progress_update (fraction);
    return stop;
}

/* The current estimate into the dialog, scaled up to at least 128 pixels. */
static int
edit_preview (uint32_t k, const float *x0, uint32_t c, uint32_t h, uint32_t w, void *user)
{
    EditJob *j = user;
    guint s = MAX (1u, 128u / MAX (w, h)), bpp = c == 1 ? 1 : 3;
    guchar *px;

    if (j->ui == NULL || (gsize)w * h * s * s > 4096u * 4096u)
        return 0;
    px = g_new (guchar, (gsize)w * s * h * s * bpp);
    for (guint y = 0; y < h * s; y++)
        for (guint x = 0; x < w * s; x++)
            for (guint ch = 0; ch < bpp; ch++) {
                gfloat v = (x0[((gsize)ch * h + y / s) * w + x / s] + 1.0f) * 127.5f;
                px[((gsize)y * w * s + x) * bpp + ch] = (guchar)CLAMP (v + 0.5f, 0.0f, 255.0f);
            }
    dfx__ui_progress_preview (j->ui, w * s, h * s, bpp, px);
    g_free (px);
    return 0;
}

static void
edit_work (EditJob *j)
{
    dfx_ctx *ctx;
    dfx_model *model = NULL;
    dfx_model_info info;
    dfx_status status;

    if (edit_progress (-1.0, j)) {
        g_set_error (&j->error, GIMP_PLUG_IN_ERROR, DFX_ERR_CANCELLED, _ ("Edit cancelled."));
        return;
    }
    ctx = dfx__plugin_ctx_open (&j->error);
    if (ctx == NULL)
        return;
    status = dfx_model_load (ctx, j->model_dir, &model);
    if (status != DFX_OK) {
        g_set_error (&j->error, GIMP_PLUG_IN_ERROR, (gint)status, _ ("dfx could not load the model %s: %s"),
                     j->model_dir, dfx_ctx_errmsg (ctx));
        goto out;
    }
    dfx_model_get_info (model, &info);
    if (info.channels != 1 && info.channels != 3) {
        g_set_error (&j->error, GIMP_PLUG_IN_ERROR, DFX_ERR_UNSUPPORTED,
                     _ ("The model %s makes images of %u channels; dfx edits with grey (1) or RGB (3) models."),
                     j->model_dir, info.channels);
        goto out;
    }
    j->channels = info.channels;
    j->out = g_try_new (gfloat, (gsize)j->channels * j->width * j->height);
    if (j->out == NULL) {
        g_set_error (&j->error, GIMP_PLUG_IN_ERROR, DFX_ERR_OUT_OF_HOST_MEMORY, _ ("Not enough memory for %u×%u."),
                     j->width, j->height);
        goto out;
    }
    status = dfx_edit (model, &j->params, j->width, j->height, j->channels == 1 ? j->image1 : j->image3,
                       j->channels == 1 ? j->guide1 : j->guide3, j->mask, j->out, &j->result);
    if (status == DFX_ERR_CANCELLED)
        g_set_error (&j->error, GIMP_PLUG_IN_ERROR, DFX_ERR_CANCELLED, _ ("Edit cancelled."));
    else if (status != DFX_OK)
        g_set_error (&j->error, GIMP_PLUG_IN_ERROR, (gint)status, _ ("dfx could not edit the layer: %s"),
                     dfx_ctx_errmsg (ctx));
out:
    dfx_model_destroy (model);
    dfx_ctx_destroy (ctx);
}

static void
work_ui (DfxUiProgress *progress, gpointer data)
{
    EditJob *j = data;

    j->ui = progress;
    edit_work (j);
}

/* Reads w × h of drawable at (x, y) in its own coordinates as `format`
 * (components per pixel: comps) into planar floats mapped by v·scale + shift. */
static void
read_planar (GimpDrawable *drawable, gint x, gint y, guint w, guint h, const gchar *format, guint comps,
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

/* The result into layer (w × h), keeping the source's alpha. */
static void
write_result (const EditJob *j, GimpDrawable *source, GimpDrawable *target)
{
    const guint c = j->channels, w = j->width, h = j->height, stride = c + 1;
    const gsize np = (gsize)w * h;
    const gchar *fmt = c == 1 ? "Y'A float" : "R'G'B'A float";
    GeglBuffer *src = gimp_drawable_get_buffer (source), *dst;
    gfloat *px = g_new (gfloat, np * stride);

    gegl_buffer_get (src, GEGL_RECTANGLE (0, 0, (gint)w, (gint)h), 1.0, babl_format (fmt), px, GEGL_AUTO_ROWSTRIDE,
                     GEGL_ABYSS_NONE);
    g_object_unref (src);
    for (gsize i = 0; i < np; i++)
        for (guint ch = 0; ch < c; ch++) {
            gfloat u = (j->out[ch * np + i] + 1.0f) * 0.5f;
            px[i * stride + ch] = u > 0.0f ? (u < 1.0f ? u : 1.0f) : 0.0f;
        }
    dst = gimp_drawable_get_buffer (target);
    gegl_buffer_set (dst, GEGL_RECTANGLE (0, 0, (gint)w, (gint)h), 0, babl_format (fmt), px, GEGL_AUTO_ROWSTRIDE);
    g_object_unref (dst);
    g_free (px);
    gimp_drawable_update (target, 0, 0, (gint)w, (gint)h);
}

static void
job_clear (EditJob *j)
{
    g_free (j->model_dir);
    g_free (j->image1);
    g_free (j->guide1);
    g_free (j->image3);
    g_free (j->guide3);
    g_free (j->mask);
    g_free (j->out);
    g_clear_error (&j->error);
}

static GimpValueArray *
edit_fail (GimpProcedure *procedure, EditJob *j, GError *error)
{
    GimpPDBStatusType status = dfx__generate_error_status (error);

    job_clear (j);
    return gimp_procedure_new_return_values (procedure, status, error);
}

static GimpValueArray *
edit_run (GimpProcedure *procedure, GimpRunMode run_mode, GimpImage *image, GimpDrawable **drawables,
          GimpProcedureConfig *config, gpointer run_data)
{
    GimpImageBaseType base = gimp_image_get_base_type (image);
    EditJob j = {0};
    GError *error = NULL;
    GimpDrawable *source;
    GimpLayer *guide_layer = NULL, *result = NULL;
    GimpChannel *mask_channel = NULL;
    gchar *model = NULL;
    gdouble strength, weight;
    gint iterations, steps, seed, ox, oy, mx = 0, my = 0;
    gboolean replace;
    const gchar *hook;
    GimpValueArray *values;

    if (drawables == NULL || drawables[0] == NULL || drawables[1] != NULL || !GIMP_IS_LAYER (drawables[0])) {
        g_set_error (&error, GIMP_PLUG_IN_ERROR, DFX_ERR_INVALID_ARGUMENT,
                     _ ("dfx edits one layer at a time: select exactly one layer."));
        return gimp_procedure_new_return_values (procedure, GIMP_PDB_CALLING_ERROR, error);
    }
    source = drawables[0];
    if (base == GIMP_INDEXED) {
        g_set_error (&error, GIMP_PLUG_IN_ERROR, DFX_ERR_UNSUPPORTED,
                     _ ("dfx edits RGB and grey images; convert this indexed image first (Image ▸ Mode)."));
        return gimp_procedure_new_return_values (procedure, GIMP_PDB_EXECUTION_ERROR, error);
    }
    if (run_mode == GIMP_RUN_INTERACTIVE && dfx__ui_available (run_mode)) {
        static const gchar *const names[] = {"guide", "mask", "strength", "iterations", "steps",
                                             "guidance-weight", "seed", "replace", NULL};
        if (!dfx__ui_settings_dialog (procedure, config, _ ("Guided Edit with dfx"), _ ("_Edit"), names,
                                      "model", NULL))
            return gimp_procedure_new_return_values (procedure, GIMP_PDB_CANCEL, NULL);
    }
    g_object_get (config, "model", &model, "guide", &guide_layer, "mask", &mask_channel, "strength", &strength,
                  "iterations", &iterations, "steps", &steps, "guidance-weight", &weight, "seed", &seed, "replace",
                  &replace, NULL);
    if (model != NULL && *model != '\0') {
        j.model_dir = model;
        if (!dfx__model_check (j.model_dir, &error))
            goto fail;
    } else {
        g_free (model);
        j.model_dir = dfx__model_default (base == GIMP_GRAY, &error);
        if (j.model_dir == NULL)
            goto fail;
    }
    if (guide_layer == NULL) {
        g_set_error (&error, GIMP_PLUG_IN_ERROR, DFX_ERR_INVALID_ARGUMENT,
                     _ ("Choose a guide layer: the colours and shapes the edit should follow."));
        goto fail;
    }
    j.width = (guint)gimp_drawable_get_width (source);
    j.height = (guint)gimp_drawable_get_height (source);
    if ((guint)gimp_drawable_get_width (GIMP_DRAWABLE (guide_layer)) != j.width ||
        (guint)gimp_drawable_get_height (GIMP_DRAWABLE (guide_layer)) != j.height) {
        g_set_error (&error, GIMP_PLUG_IN_ERROR, DFX_ERR_INVALID_ARGUMENT,
                     _ ("The guide layer \"%s\" is %d×%d pixels, the layer \"%s\" %u×%u: the guide must have the "
                        "layer's size."),
                     gimp_item_get_name (GIMP_ITEM (guide_layer)), gimp_drawable_get_width (GIMP_DRAWABLE (guide_layer)),
                     gimp_drawable_get_height (GIMP_DRAWABLE (guide_layer)), gimp_item_get_name (GIMP_ITEM (source)),
                     j.width, j.height);
        goto fail;
    }
    if (mask_channel == NULL && gimp_selection_is_empty (image)) {
        g_set_error (&error, GIMP_PLUG_IN_ERROR, DFX_ERR_INVALID_ARGUMENT,
                     _ ("Nothing to edit: select the region the guide applies to, or give a channel or layer mask "
                        "as the mask. The image is unchanged."));
        goto fail;
    }

    /* Both readings: the worker picks the model's (a grey model sees luminance). */
    {
        const gsize np = (gsize)j.width * j.height;
        j.image1 = g_new (gfloat, np);
        j.guide1 = g_new (gfloat, np);
        j.image3 = g_new (gfloat, 3 * np);
        j.guide3 = g_new (gfloat, 3 * np);
        j.mask = g_new (gfloat, np);
        gegl_init (NULL, NULL);
        read_planar (source, 0, 0, j.width, j.height, "Y' float", 1, 2.0f, -1.0f, j.image1);
        read_planar (source, 0, 0, j.width, j.height, "R'G'B' float", 3, 2.0f, -1.0f, j.image3);
        read_planar (GIMP_DRAWABLE (guide_layer), 0, 0, j.width, j.height, "Y' float", 1, 2.0f, -1.0f, j.guide1);
        read_planar (GIMP_DRAWABLE (guide_layer), 0, 0, j.width, j.height, "R'G'B' float", 3, 2.0f, -1.0f, j.guide3);
        gimp_drawable_get_offsets (source, &ox, &oy);
        if (mask_channel != NULL)
            gimp_drawable_get_offsets (GIMP_DRAWABLE (mask_channel), &mx, &my);
        read_planar (mask_channel != NULL ? GIMP_DRAWABLE (mask_channel)
                                          : GIMP_DRAWABLE (gimp_image_get_selection (image)),
                     ox - mx, oy - my, j.width, j.height, "Y float", 1, 1.0f, 0.0f, j.mask);
        for (gsize i = 0; i < np; i++)
            j.mask[i] = CLAMP (j.mask[i], 0.0f, 1.0f);
    }

    dfx_edit_params_defaults (&j.params);
    j.params.strength = strength;
    j.params.iterations = (uint32_t)iterations;
    j.params.steps = (uint32_t)steps;
    j.params.guide_weight = weight;
    j.params.seed = (uint64_t)seed;
    j.params.progress = edit_progress;
    j.params.progress_user = &j;
    if (dfx__ui_available (run_mode)) { /* batch runs would download every iterate for nothing */
        j.params.preview = edit_preview;
        j.params.preview_user = &j;
    }
    hook = g_getenv ("DFX_TEST_CANCEL_AFTER");
    if (hook != NULL)
        j.cancel_after = atoi (hook);

    if (dfx__ui_available (run_mode)) {
        gchar *basename = g_path_get_basename (j.model_dir);
        gchar *text = g_strdup_printf (_ ("Editing with the model %s"), basename);
        dfx__ui_progress_run (_ ("dfx: Guided Edit"), text, work_ui, &j);
        g_free (text);
        g_free (basename);
    } else {
        gimp_progress_init (_ ("Editing with dfx"));
        edit_work (&j);
        gimp_progress_end ();
    }
    if (j.error != NULL) {
        error = j.error;
        j.error = NULL;
        goto fail;
    }

    /* Everything that can fail has; from here on only GIMP is written. */
    if (!j.result.unchanged) {
        gimp_image_undo_group_start (image);
        if (replace) {
            result = GIMP_LAYER (source);
        } else {
            GimpItem *parent = gimp_item_get_parent (GIMP_ITEM (source));
            gchar *name = g_strdup_printf (_ ("%s (edited)"), gimp_item_get_name (GIMP_ITEM (source)));
            result = gimp_layer_new (image, name, (gint)j.width, (gint)j.height, gimp_drawable_type (source),
                                     100.0, GIMP_LAYER_MODE_NORMAL);
            g_free (name);
            gimp_image_insert_layer (image, result, parent != NULL ? GIMP_LAYER (parent) : NULL,
                                     gimp_image_get_item_position (image, GIMP_ITEM (source)));
            gimp_layer_set_offsets (result, ox, oy);
        }
        write_result (&j, source, GIMP_DRAWABLE (result));
        gimp_image_undo_group_end (image);
        if (run_mode != GIMP_RUN_NONINTERACTIVE)
            gimp_displays_flush ();
    }
    if (j.result.warning[0] != '\0') {
        gchar *text = g_strdup_printf (_ ("dfx: %s"), j.result.warning);
        gimp_message (text);
        g_free (text);
    }
    values = gimp_procedure_new_return_values (procedure, GIMP_PDB_SUCCESS, NULL);
    GIMP_VALUES_SET_LAYER (values, 1, result);
    GIMP_VALUES_SET_DOUBLE (values, 2, j.result.unchanged ? 0.0 : j.result.loss[0]);
    GIMP_VALUES_SET_DOUBLE (values, 3, j.result.unchanged ? 0.0 : j.result.loss[j.result.iterations]);
    GIMP_VALUES_SET_STRING (values, 4, j.result.warning);
    g_clear_object (&guide_layer);
    g_clear_object (&mask_channel);
    job_clear (&j);
    return values;

fail:
    g_clear_object (&guide_layer);
    g_clear_object (&mask_channel);
    return edit_fail (procedure, &j, error);
}

GimpProcedure *
dfx__proc_edit_new (GimpPlugIn *plug_in)
{
    GimpProcedure *procedure;
    dfx_edit_params d;

    dfx_edit_params_defaults (&d);
    procedure = gimp_image_procedure_new (plug_in, DFX_PROC_EDIT, GIMP_PDB_PROC_TYPE_PLUGIN, edit_run, NULL, NULL);
    gimp_procedure_set_image_types (procedure, "RGB*, GRAY*");
    gimp_procedure_set_sensitivity_mask (procedure, GIMP_PROCEDURE_SENSITIVE_DRAWABLE);
    gimp_procedure_set_menu_label (procedure, _ ("Guided _Edit..."));
    gimp_procedure_add_menu_path (procedure, DFX_MENU_PATH);
    gimp_procedure_set_documentation (
        procedure, _ ("Edit a layer to follow a rough guide inside a mask, with a diffusion model"),
        _ ("Optimises the start of the diffusion model's sampling path so that the layer follows the guide layer "
           "(painted colours and shapes) inside the mask (the selection, or a channel or layer mask) and stays "
           "itself outside it, while staying natural under the model. The gradient comes from the DF-EA adjoint, "
           "without network gradients. The result is a new layer above the source (or the source itself when "
           "asked), in one undo step; a grey model edits the luminance. Nothing is changed when the edit fails "
           "or is cancelled."),
        DFX_PROC_EDIT);
    gimp_procedure_set_attribution (procedure, "dfx authors", "dfx authors", "2026");

    gimp_procedure_add_string_argument (procedure, "model", _ ("_Model folder"),
                                        _ ("The model folder; empty: dfx's default model"), "", G_PARAM_READWRITE);
    gimp_procedure_add_layer_argument (procedure, "guide", _ ("_Guide layer"),
                                       _ ("The layer with the rough guide (the source layer's size)"), TRUE,
                                       G_PARAM_READWRITE);
    gimp_procedure_add_channel_argument (procedure, "mask", _ ("Mas_k"),
                                         _ ("A channel or layer mask; none: the selection"), TRUE, G_PARAM_READWRITE);
    gimp_procedure_add_double_argument (procedure, "strength", _ ("_Strength"),
                                        _ ("How far back along the sampling path the edit starts (0..1): more, "
                                           "larger changes"),
                                        0.01, 1.0, d.strength, G_PARAM_READWRITE);
    gimp_procedure_add_int_argument (procedure, "iterations", _ ("_Iterations"),
                                     _ ("Optimisation steps: more, closer to the guide"), 0, DFX_EDIT_MAX_ITERATIONS,
                                     (gint)d.iterations, G_PARAM_READWRITE);
    gimp_procedure_add_int_argument (procedure, "steps", _ ("Ste_ps"), _ ("Sampler steps of each pass"), 1,
                                     DFX_GENERATE_MAX_STEPS, (gint)d.steps, G_PARAM_READWRITE);
    gimp_procedure_add_double_argument (procedure, "guidance-weight", _ ("Guidance _weight"),
                                        _ ("Weight of the guide inside the mask against keeping the layer outside"),
                                        0.0, 1000.0, d.guide_weight, G_PARAM_READWRITE);
    gimp_procedure_add_int_argument (procedure, "seed", _ ("S_eed"), _ ("Random seed of the noised start"), 0,
                                     G_MAXINT, 0, G_PARAM_READWRITE);
    gimp_procedure_add_boolean_argument (procedure, "replace", _ ("_Replace the layer"),
                                         _ ("Write the result into the source layer instead of a new layer"), FALSE,
                                         G_PARAM_READWRITE);

    gimp_procedure_add_layer_return_value (procedure, "layer", _ ("Layer"),
                                           _ ("The edited layer (none when there was nothing to edit)"), TRUE,
                                           G_PARAM_READWRITE);
    gimp_procedure_add_double_return_value (procedure, "loss-start", _ ("Loss at the start"),
                                            _ ("The edit's objective before the first iteration"), 0.0, G_MAXDOUBLE,
                                            0.0, G_PARAM_READWRITE);
    gimp_procedure_add_double_return_value (procedure, "loss-end", _ ("Loss at the end"),
                                            _ ("The edit's objective of the result"), 0.0, G_MAXDOUBLE, 0.0,
                                            G_PARAM_READWRITE);
    gimp_procedure_add_string_return_value (procedure, "warning", _ ("Warning"),
                                            _ ("What the user should know about the run; empty when nothing"), "",
                                            G_PARAM_READWRITE);
    return procedure;
}
