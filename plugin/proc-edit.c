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

enum { DFX_RESULT_COMPOSITE, DFX_RESULT_LAYER_MASK };

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
    dfx_ctx *ctx = NULL;
    dfx_model *model = NULL;
    dfx_status status;

    if (edit_progress (-1.0, j)) {
        g_set_error (&j->error, GIMP_PLUG_IN_ERROR, DFX_ERR_CANCELLED, _ ("Edit cancelled."));
        return;
    }
    if (!dfx__plugin_masked_open (j->model_dir, FALSE, j->width, j->height, &ctx, &model, &j->channels, &j->out,
                                  &j->error))
        goto out;
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
    read_planar (mask_drawable != NULL ? mask_drawable : GIMP_DRAWABLE (gimp_image_get_selection (image)), ox - mx,
                 oy - my, w, h, "Y float", 1, 1.0f, 0.0f, mask);
    for (gsize i = 0; i < (gsize)w * h; i++)
        mask[i] = CLAMP (mask[i], 0.0f, 1.0f);
    return TRUE;
}

/* The feathered mask as the layer mask of layer. */
static void
write_layer_mask (const EditJob *j, gdouble feather, GimpLayer *layer)
{
    const gsize np = (gsize)j->width * j->height;
    gfloat *wt = g_new (gfloat, np);
    GimpLayerMask *mask = gimp_layer_create_mask (layer, GIMP_ADD_MASK_BLACK);
    GeglBuffer *buffer;

    gimp_layer_add_mask (layer, mask);
    dfx_mask_feather (j->mask, j->width, j->height, feather, wt);
    buffer = gimp_drawable_get_buffer (GIMP_DRAWABLE (mask));
    gegl_buffer_set (buffer, GEGL_RECTANGLE (0, 0, (gint)j->width, (gint)j->height), 0, babl_format ("Y float"), wt,
                     GEGL_AUTO_ROWSTRIDE);
    g_object_unref (buffer);
    gimp_drawable_update (GIMP_DRAWABLE (mask), 0, 0, (gint)j->width, (gint)j->height);
    g_free (wt);
}

static GimpValueArray *
edit_run (GimpProcedure *procedure, GimpRunMode run_mode, GimpImage *image, GimpDrawable **drawables,
          GimpProcedureConfig *config, gpointer run_data)
{
    GimpImageBaseType base = gimp_image_get_base_type (image);
    EditJob j = {0};
    GError *error = NULL;
    GimpDrawable *source, *guide = NULL;
    GimpLayer *result = NULL;
    gchar *model = NULL;
    gdouble strength, weight, feather;
    gint iterations, steps, seed, context, guide_id, mask_id, ox, oy, kind;
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
        static const gchar *const names[] = {"strength", "result", "replace", "seed", NULL};
        static const gchar *const advanced[] = {"iterations", "steps", "guidance-weight", "feather", "context",
                                                NULL};
        static const DfxUiItemRow items[] = {
            {"guide-id", DFX_UI_ITEM_LAYER}, {"mask-id", DFX_UI_ITEM_MASK}, {NULL, DFX_UI_ITEM_LAYER}};
        DfxUiDialog spec = {
            .title = _ ("Guided Edit"),
            /* TRANSLATORS: the OK button; i is its mnemonic: e, d, k, t, u, y, g, m, a, n, p, w, f, v and
               GIMP's h, r, c, l, s, o are taken in this dialog. */
            .ok_label = _ ("Ed_it"),
            .image = image,
            .items = items,
            .names = names,
            .seed_property = "seed",
            .advanced = advanced,
            .note = _ ("Paint the colours and shapes you want on the guide layer, then select where they go. The "
                       "result comes as a new layer above this one; outside the selection and its soft edge every "
                       "pixel stays exactly as it is."),
        };
        gboolean go = dfx__dialog_run (procedure, config, base == GIMP_GRAY, &spec);
        if (!go)
            return gimp_procedure_new_return_values (procedure, GIMP_PDB_CANCEL, NULL);
    }
    g_object_get (config, "model", &model, "guide-id", &guide_id, "mask-id", &mask_id, "strength", &strength,
                  "iterations", &iterations, "steps", &steps, "guidance-weight", &weight, "seed", &seed, "replace",
                  &replace, "feather", &feather, "context", &context, NULL);
    kind = gimp_procedure_config_get_choice_id (config, "result");
    j.model_dir = dfx__model_resolve (model, base == GIMP_GRAY, &error);
    if (j.model_dir == NULL)
        goto fail;
    guide = dfx__plugin_find_item (image, guide_id, TRUE);
    if (guide_id == 0) {
        g_set_error (&error, GIMP_PLUG_IN_ERROR, DFX_ERR_INVALID_ARGUMENT,
                     _ ("Choose a guide layer: the colours and shapes the edit should follow."));
        goto fail;
    }
    if (guide == NULL) {
        g_set_error (&error, GIMP_PLUG_IN_ERROR, DFX_ERR_INVALID_ARGUMENT,
                     _ ("The guide layer chosen before (item %d) is no longer in this image: choose the guide layer "
                        "again. The image is unchanged."),
                     guide_id);
        goto fail;
    }
    j.width = (guint)gimp_drawable_get_width (source);
    j.height = (guint)gimp_drawable_get_height (source);
    if ((guint)gimp_drawable_get_width (guide) != j.width || (guint)gimp_drawable_get_height (guide) != j.height) {
        g_set_error (&error, GIMP_PLUG_IN_ERROR, DFX_ERR_INVALID_ARGUMENT,
                     _ ("The guide layer \"%s\" is %d×%d pixels, the layer \"%s\" %u×%u: the guide must have the "
                        "layer's size."),
                     gimp_item_get_name (GIMP_ITEM (guide)), gimp_drawable_get_width (guide),
                     gimp_drawable_get_height (guide), gimp_item_get_name (GIMP_ITEM (source)), j.width, j.height);
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
        if (!dfx__plugin_read_mask (image, source, mask_id, j.width, j.height, j.mask, &error))
            goto fail;
        read_planar (source, 0, 0, j.width, j.height, "Y' float", 1, 2.0f, -1.0f, j.image1);
        read_planar (source, 0, 0, j.width, j.height, "R'G'B' float", 3, 2.0f, -1.0f, j.image3);
        read_planar (guide, 0, 0, j.width, j.height, "Y' float", 1, 2.0f, -1.0f, j.guide1);
        read_planar (guide, 0, 0, j.width, j.height, "R'G'B' float", 3, 2.0f, -1.0f, j.guide3);
        gimp_drawable_get_offsets (source, &ox, &oy);
    }

    dfx_edit_params_defaults (&j.params);
    j.params.strength = strength;
    j.params.iterations = (uint32_t)iterations;
    j.params.steps = (uint32_t)steps;
    j.params.guide_weight = weight;
    j.params.seed = (uint64_t)seed;
    j.params.feather = feather;
    j.params.context = (uint32_t)context;
    j.params.raw = kind == DFX_RESULT_LAYER_MASK && !replace;
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
        dfx__ui_progress_run (_ ("Guided Edit"), text, work_ui, &j);
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
        dfx__plugin_write_result (source, GIMP_DRAWABLE (result), j.channels, j.width, j.height,
                                  j.channels == 1 ? j.image1 : j.image3, j.out);
        if (j.params.raw)
            write_layer_mask (&j, feather, result);
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
    job_clear (&j);
    return values;

fail:
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
           "itself outside it, while staying natural under the model. The gradient comes from the model's Gaussian "
           "statistics, with a few more runs of the model where they fit it least (or the DF-EA adjoint), without "
           "network gradients. The result is a new layer above the source (or the source itself when "
           "asked), in one undo step; a grey model edits the luminance. Nothing is changed when the edit fails "
           "or is cancelled."),
        DFX_PROC_EDIT);
    gimp_procedure_set_attribution (procedure, "dfx authors", "dfx authors", "2026");

    gimp_procedure_add_string_argument (procedure, "model", _ ("_Model"),
                                        _ ("The model that edits: one for the kind of image at hand (empty: dfx's "
                                           "default model)"),
                                        "", G_PARAM_READWRITE);
    gimp_procedure_add_int_argument (procedure, "guide-id", _ ("_Guide layer"),
                                     _ ("The layer with the colours and shapes the edit should follow, roughly "
                                        "painted, of this layer's size (by its item id in scripts)"),
                                     0, G_MAXINT, 0, G_PARAM_READWRITE);
    gimp_procedure_add_int_argument (procedure, "mask-id", _ ("Mas_k"),
                                     _ ("Where the edit applies: the selection, or a saved selection (channel) or "
                                        "layer mask (in scripts: 0 for the selection, else its item id)"),
                                     0, G_MAXINT, 0, G_PARAM_READWRITE);
    gimp_procedure_add_double_argument (procedure, "feather", _ ("Soft edge (_feather)"),
                                        _ ("Width in pixels of the blend around the selection; farther out the layer "
                                           "keeps its pixels exactly. Wider hides the seam, narrower keeps the edit "
                                           "inside its outline"),
                                        0.0, DFX_EDIT_MAX_FEATHER, d.feather, G_PARAM_READWRITE);
    gimp_procedure_add_choice_argument (procedure, "result", _ ("Res_ult"),
                                        _ ("Blend the edit into a copy of the layer, or keep the model's whole output "
                                           "in a new layer with the softened selection as its layer mask"),
                                        gimp_choice_new_with_values ("composite", DFX_RESULT_COMPOSITE,
                                                                     _ ("Blended into the layer"), NULL,
                                                                     "layer-mask", DFX_RESULT_LAYER_MASK,
                                                                     _ ("Model output with a layer mask"), NULL,
                                                                     NULL),
                                        "composite", G_PARAM_READWRITE);
    gimp_procedure_add_double_argument (procedure, "strength", _ ("S_trength"),
                                        _ ("How much the selected part may change (0.01 to 1): more lets the edit "
                                           "move further from the layer towards the guide"),
                                        0.01, 1.0, d.strength, G_PARAM_READWRITE);
    gimp_procedure_add_int_argument (procedure, "iterations", _ ("Iteratio_ns"),
                                     _ ("Rounds of refinement towards the guide: more, closer to the guide and "
                                        "slower (each round costs about one pass of the model)"), 0, DFX_EDIT_MAX_ITERATIONS,
                                     (gint)d.iterations, G_PARAM_READWRITE);
    gimp_procedure_add_int_argument (procedure, "steps", _ ("Ste_ps"),
                                     _ ("Denoising steps of each pass: more, finer detail and slower"), 1,
                                     DFX_GENERATE_MAX_STEPS, (gint)d.steps, G_PARAM_READWRITE);
    gimp_procedure_add_double_argument (procedure, "guidance-weight", _ ("Guide _weight"),
                                        _ ("How hard the selection is pulled to the guide against staying natural "
                                           "and keeping its surroundings: more, closer to the guide's colours"),
                                        0.0, 1000.0, d.guide_weight, G_PARAM_READWRITE);
    gimp_procedure_add_int_argument (procedure, "seed", _ ("Variation (s_eed)"),
                                     _ ("Which of the many possible edits: another number, another result"), 0,
                                     G_MAXINT, 0, G_PARAM_READWRITE);
    gimp_procedure_add_int_argument (procedure, "context", _ ("Surroundings in _view"),
                                     _ ("Pixels around the selection that the model sees to match it: more, a "
                                        "better fit and slower"), 0, DFX_GENERATE_MAX_SIZE,
                                     (gint)d.context, G_PARAM_READWRITE);
    gimp_procedure_add_boolean_argument (procedure, "replace", _ ("Replace the la_yer"),
                                         _ ("Write the result into this layer instead of a new layer (always "
                                            "blended)"),
                                         FALSE,
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
