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
 * The run itself (reading, worker, undo, result layer) is region-run.c's.
 *
 * Threads: edit_compute() calls libdfx and GLib only.  A grey model edits the
 * luminance: its result is grey (babl replicates it in an RGB layer).
 */
#include "dfx-plugin.h"

#include "dfx-ui.h"

enum { DFX_RESULT_COMPOSITE, DFX_RESULT_LAYER_MASK };

typedef struct {
    DfxRegionJob region;
    dfx_edit_params params;
    gfloat *guide1, *guide3; /* the guide as luminance and R'G'B', planar [-1, 1] */
    gdouble feather;
    dfx_edit_result result;
} EditJob;

/* The current estimate into the dialog, scaled up to at least 128 pixels. */
static int
edit_preview (uint32_t k, const float *x0, uint32_t c, uint32_t h, uint32_t w, void *user)
{
    DfxUiProgress *ui = ((EditJob *)user)->region.run.ui;
    guint s = MAX (1u, 128u / MAX (w, h)), bpp = c == 1 ? 1 : 3;
    guchar *px;

    if (ui == NULL || (gsize)w * h * s * s > 4096u * 4096u)
        return 0;
    px = g_new (guchar, (gsize)w * s * h * s * bpp);
    for (guint y = 0; y < h * s; y++)
        for (guint x = 0; x < w * s; x++)
            for (guint ch = 0; ch < bpp; ch++) {
                gfloat v = (x0[((gsize)ch * h + y / s) * w + x / s] + 1.0f) * 127.5f;
                px[((gsize)y * w * s + x) * bpp + ch] = (guchar)CLAMP (v + 0.5f, 0.0f, 255.0f);
            }
    dfx__ui_progress_preview (ui, w * s, h * s, bpp, px);
    g_free (px);
    return 0;
}

static dfx_status
edit_compute (DfxRegionJob *j, dfx_model *model, gpointer data)
{
    EditJob *e = data;

    return dfx_edit (model, &e->params, j->width, j->height, j->channels == 1 ? j->image1 : j->image3,
                     j->channels == 1 ? e->guide1 : e->guide3, j->mask, j->out, &e->result);
}

static void
job_clear (EditJob *e)
{
    g_clear_pointer (&e->guide1, g_free);
    g_clear_pointer (&e->guide3, g_free);
    dfx__region_job_clear (&e->region);
}

/* The feathered mask as the layer mask of layer (the "layer-mask" result). */
static void
write_layer_mask (DfxRegionJob *j, GimpLayer *layer, gpointer data)
{
    const EditJob *e = data;
    const gsize np = (gsize)j->width * j->height;
    gfloat *wt;
    GimpLayerMask *mask;
    GeglBuffer *buffer;

    if (!e->params.raw)
        return;
    wt = g_new (gfloat, np);
    mask = gimp_layer_create_mask (layer, GIMP_ADD_MASK_BLACK);
    gimp_layer_add_mask (layer, mask);
    dfx_mask_feather (j->mask, j->width, j->height, e->feather, wt);
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
    EditJob e = {0};
    DfxRegionJob *j = &e.region;
    const DfxRegionSpec spec = {
        .title = _ ("Guided Edit"),
        .running = _ ("Editing with the model %s"),
        .batch = _ ("Editing with dfx"),
        .cancelled = _ ("Edit cancelled."),
        .failed = _ ("dfx could not edit the layer: %s"),
        .layer_name = _ ("%s (edited)"),
        .one_layer = _ ("dfx edits one layer at a time: select exactly one layer."),
        .indexed = _ ("dfx edits RGB and grey images; convert this indexed image first (Image ▸ Mode)."),
        .heal = FALSE,
        .compute = edit_compute,
        .finish = write_layer_mask,
        .data = &e,
    };
    static const gchar *const names[] = {"strength", "result", "replace", "seed", NULL};
    static const gchar *const advanced[] = {"iterations", "steps", "guidance-weight", "feather", "context", NULL};
    static const DfxUiItemRow items[] = {
        {"guide-id", DFX_UI_ITEM_LAYER}, {"mask-id", DFX_UI_ITEM_MASK}, {NULL, DFX_UI_ITEM_LAYER}};
    DfxUiDialog dialog = {
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
    GError *error = NULL;
    GimpDrawable *source, *guide = NULL;
    gdouble strength, weight, feather;
    gint iterations, steps, seed, context, guide_id, mask_id, kind;
    guint width, height;
    gboolean replace;
    GimpValueArray *values;

    j->spec = &spec;
    values = dfx__region_start (procedure, run_mode, image, drawables, config, &dialog, j);
    if (values != NULL)
        return values;
    source = drawables[0];
    g_object_get (config, "guide-id", &guide_id, "mask-id", &mask_id, "strength", &strength, "iterations", &iterations,
                  "steps", &steps, "guidance-weight", &weight, "seed", &seed, "replace", &replace, "feather", &feather,
                  "context", &context, NULL);
    kind = gimp_procedure_config_get_choice_id (config, "result");
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
    width = (guint)gimp_drawable_get_width (source);
    height = (guint)gimp_drawable_get_height (source);
    if ((guint)gimp_drawable_get_width (guide) != width || (guint)gimp_drawable_get_height (guide) != height) {
        g_set_error (&error, GIMP_PLUG_IN_ERROR, DFX_ERR_INVALID_ARGUMENT,
                     _ ("The guide layer \"%s\" is %d×%d pixels, the layer \"%s\" %u×%u: the guide must have the "
                        "layer's size."),
                     gimp_item_get_name (GIMP_ITEM (guide)), gimp_drawable_get_width (guide),
                     gimp_drawable_get_height (guide), gimp_item_get_name (GIMP_ITEM (source)), width, height);
        goto fail;
    }
    if (!dfx__region_read (j, image, source, mask_id, &error))
        goto fail;
    /* Both readings of the guide too: the worker picks the model's. */
    e.guide1 = g_new (gfloat, (gsize)width * height);
    e.guide3 = g_new (gfloat, 3 * (gsize)width * height);
    dfx__plugin_read_planar (guide, 0, 0, width, height, "Y' float", 1, 2.0f, -1.0f, e.guide1);
    dfx__plugin_read_planar (guide, 0, 0, width, height, "R'G'B' float", 3, 2.0f, -1.0f, e.guide3);

    dfx_edit_params_defaults (&e.params);
    e.params.strength = strength;
    e.params.iterations = (uint32_t)iterations;
    e.params.steps = (uint32_t)steps;
    e.params.guide_weight = weight;
    e.params.seed = (uint64_t)seed;
    e.params.feather = feather;
    e.params.context = (uint32_t)context;
    e.params.raw = kind == DFX_RESULT_LAYER_MASK && !replace;
    e.params.progress = dfx__run_work_progress;
    e.params.progress_user = &j->run;
    if (dfx__ui_available (run_mode)) { /* batch runs would download every iterate for nothing */
        e.params.preview = edit_preview;
        e.params.preview_user = &e;
    }
    e.feather = feather;
    if (!dfx__region_run (j, run_mode, &error))
        goto fail;

    values = dfx__region_finish (procedure, j, image, source, run_mode, replace, e.result.unchanged, e.result.warning);
    GIMP_VALUES_SET_DOUBLE (values, 2, e.result.unchanged ? 0.0 : e.result.loss[0]);
    GIMP_VALUES_SET_DOUBLE (values, 3, e.result.unchanged ? 0.0 : e.result.loss[e.result.iterations]);
    GIMP_VALUES_SET_STRING (values, 4, e.result.warning);
    job_clear (&e);
    return values;

fail:
    g_clear_pointer (&e.guide1, g_free);
    g_clear_pointer (&e.guide3, g_free);
    return dfx__region_fail (procedure, j, error);
}

GimpProcedure *
dfx__proc_edit_new (GimpPlugIn *plug_in)
{
    GimpProcedure *procedure;
    dfx_edit_params d;

    dfx_edit_params_defaults (&d);
    procedure = dfx__region_procedure_new (
        plug_in, DFX_PROC_EDIT, edit_run, _ ("Guided _Edit..."),
        _ ("Edit a layer to follow a rough guide inside a mask, with a diffusion model"),
        _ ("Optimises the start of the diffusion model's sampling path so that the layer follows the guide layer "
           "(painted colours and shapes) inside the mask (the selection, or a channel or layer mask) and stays "
           "itself outside it, while staying natural under the model. The gradient comes from the model's Gaussian "
           "statistics, with a few more runs of the model where they fit it least (or the DF-EA adjoint), without "
           "network gradients. The result is a new layer above the source (or the source itself when "
           "asked), in one undo step; a grey model edits the luminance. Nothing is changed when the edit fails "
           "or is cancelled."),
        _ ("The model that edits: one for the kind of image at hand (empty: dfx's default model)"));
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
