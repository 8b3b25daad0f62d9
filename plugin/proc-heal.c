/* proc-heal.c — the procedure "plug-in-dfx-heal" (Filters ▸ Diffusion ▸
 * Heal Selection…): the selected region of a layer filled so that it
 * continues its surroundings under a diffusion model.
 *
 * For: reading the layer as the model's channels on [-1, 1] and the mask
 * (the selection, or a channel or layer mask by item id); running
 * dfx_heal() in a worker under dfx's progress dialog or with GIMP's
 * progress in batch runs; then, only when that succeeded, writing the
 * result (the layer with the fill blended in by the softened selection;
 * outside it the layer's pixels exactly) as a new layer above the source or
 * into the source, in one undo group.  An empty mask changes nothing and
 * says so; a selection that leaves nothing around it is refused (libdfx's
 * message).  On any failure or cancel the image is left as it was.
 * Not for: the numerics (libdfx).
 *
 * The run itself (reading, worker, undo, result layer) is region-run.c's.
 *
 * Threads: heal_compute() calls libdfx and GLib only.
 */
#include "dfx-plugin.h"

#include "dfx-ui.h"

typedef struct {
    DfxRegionJob region;
    dfx_heal_params params;
    dfx_heal_result result;
} HealJob;

static dfx_status
heal_compute (DfxRegionJob *j, dfx_model *model, gpointer data)
{
    HealJob *h = data;

    return dfx_heal (model, &h->params, j->width, j->height, j->channels == 1 ? j->image1 : j->image3, j->mask,
                     j->out, &h->result);
}

static GimpValueArray *
heal_run (GimpProcedure *procedure, GimpRunMode run_mode, GimpImage *image, GimpDrawable **drawables,
          GimpProcedureConfig *config, gpointer run_data)
{
    HealJob h = {0};
    DfxRegionJob *j = &h.region;
    const DfxRegionSpec spec = {
        .title = _ ("Heal Selection"),
        .running = _ ("Healing with the model %s"),
        .batch = _ ("Healing with dfx"),
        .cancelled = _ ("Heal cancelled."),
        .failed = _ ("dfx could not heal the layer: %s"),
        .layer_name = _ ("%s (healed)"),
        .one_layer = _ ("dfx heals one layer at a time: select exactly one layer."),
        .indexed = _ ("dfx heals RGB and grey images; convert this indexed image first (Image ▸ Mode)."),
        .heal = TRUE,
        .compute = heal_compute,
        .data = &h,
    };
    static const gchar *const names[] = {"replace", "seed", NULL};
    static const gchar *const advanced[] = {"feather", "steps", "resample", "context", NULL};
    static const DfxUiItemRow items[] = {{"mask-id", DFX_UI_ITEM_MASK}, {NULL, DFX_UI_ITEM_LAYER}};
    DfxUiDialog dialog = {
        .title = _ ("Heal Selection"),
        /* TRANSLATORS: the OK button; e is its mnemonic: m, k, y, n, d, a, f, p, b, v and GIMP's h, r, c, o,
           l, s are taken in this dialog. */
        .ok_label = _ ("H_eal"),
        .image = image,
        .items = items,
        .names = names,
        .seed_property = "seed",
        .advanced = advanced,
        .note = _ ("The selection is painted anew from what surrounds it. The result comes as a new layer "
                   "above this one; outside the selection and its soft edge every pixel stays exactly as it "
                   "is."),
    };
    GError *error = NULL;
    GimpDrawable *source;
    gdouble feather;
    gint steps, resample, seed, context, mask_id;
    gboolean replace;
    GimpValueArray *values;

    j->spec = &spec;
    values = dfx__region_start (procedure, run_mode, image, drawables, config, &dialog, j);
    if (values != NULL)
        return values;
    source = drawables[0];
    g_object_get (config, "mask-id", &mask_id, "feather", &feather, "steps", &steps, "resample", &resample, "seed",
                  &seed, "context", &context, "replace", &replace, NULL);
    if (mask_id == 0 && gimp_selection_is_empty (image)) {
        g_set_error (&error, GIMP_PLUG_IN_ERROR, DFX_ERR_INVALID_ARGUMENT,
                     _ ("Nothing to heal: select the region to fill, or give a channel or layer mask as the mask. "
                        "The image is unchanged."));
        goto fail;
    }
    if (!dfx__region_read (j, image, source, mask_id, &error))
        goto fail;
    dfx_heal_params_defaults (&h.params);
    h.params.steps = (uint32_t)steps;
    h.params.resample = (uint32_t)resample;
    h.params.seed = (uint64_t)seed;
    h.params.feather = feather;
    h.params.context = (uint32_t)context;
    h.params.progress = dfx__run_work_progress;
    h.params.progress_user = &j->run;
    if (!dfx__region_run (j, run_mode, &error))
        goto fail;

    values = dfx__region_finish (procedure, j, image, source, run_mode, replace, h.result.unchanged, h.result.warning);
    GIMP_VALUES_SET_STRING (values, 2, h.result.warning);
    dfx__region_job_clear (j);
    return values;

fail:
    return dfx__region_fail (procedure, j, error);
}

GimpProcedure *
dfx__proc_heal_new (GimpPlugIn *plug_in)
{
    GimpProcedure *procedure;
    dfx_heal_params d;

    dfx_heal_params_defaults (&d);
    procedure = dfx__region_procedure_new (
        plug_in, DFX_PROC_HEAL, heal_run, _ ("_Heal Selection..."),
        _ ("Fill the selection so that it continues its surroundings, with a diffusion model"),
        _ ("Removes what is inside the selection (or a channel or layer mask) and paints it anew from what surrounds "
           "it: the model samples a window around the selection from noise while the pixels around the selection "
           "are held to the layer at every step. Outside the selection and its soft edge the layer keeps its pixels "
           "exactly. The result is a new layer above the source (or the source itself when asked), in one undo "
           "step. Nothing is changed when the heal fails or is cancelled."),
        _ ("The model that heals: one for the kind of image at hand (empty: dfx's default model)"));
    gimp_procedure_add_int_argument (procedure, "mask-id", _ ("Mas_k"),
                                     _ ("What to heal: the selection, or a saved selection (channel) or layer mask "
                                        "(in scripts: 0 for the selection, else its item id)"),
                                     0, G_MAXINT, 0, G_PARAM_READWRITE);
    gimp_procedure_add_double_argument (procedure, "feather", _ ("Soft edge (_feather)"),
                                        _ ("Width in pixels of the blend around the selection; farther out the layer "
                                           "keeps its pixels exactly. Wider hides the seam, narrower keeps the fill "
                                           "inside its outline"),
                                        0.0, DFX_EDIT_MAX_FEATHER, d.feather, G_PARAM_READWRITE);
    gimp_procedure_add_int_argument (procedure, "seed", _ ("Variatio_n (seed)"),
                                     _ ("Which of the many possible fills: another number, another fill"), 0,
                                     G_MAXINT, 0, G_PARAM_READWRITE);
    gimp_procedure_add_boolean_argument (procedure, "replace", _ ("Replace the la_yer"),
                                         _ ("Write the result into this layer instead of a new layer"), FALSE,
                                         G_PARAM_READWRITE);
    gimp_procedure_add_int_argument (procedure, "steps", _ ("Ste_ps"),
                                     _ ("Denoising steps from noise to the fill: more, finer detail and slower"), 1,
                                     DFX_GENERATE_MAX_STEPS, (gint)d.steps, G_PARAM_READWRITE);
    gimp_procedure_add_int_argument (procedure, "resample", _ ("Seam _blending passes"),
                                     _ ("Passes per level that let the fill agree with its surroundings: more, "
                                        "smoother seams and slower"),
                                     1, DFX_HEAL_MAX_RESAMPLE, (gint)d.resample, G_PARAM_READWRITE);
    gimp_procedure_add_int_argument (procedure, "context", _ ("Surroundings in _view"),
                                     _ ("Pixels around the selection that the model sees to match it: more, a "
                                        "better fit and slower"), 0, DFX_GENERATE_MAX_SIZE,
                                     (gint)d.context, G_PARAM_READWRITE);

    gimp_procedure_add_layer_return_value (procedure, "layer", _ ("Layer"),
                                           _ ("The healed layer (none when there was nothing to heal)"), TRUE,
                                           G_PARAM_READWRITE);
    gimp_procedure_add_string_return_value (procedure, "warning", _ ("Warning"),
                                            _ ("What the user should know about the run; empty when nothing"), "",
                                            G_PARAM_READWRITE);
    return procedure;
}
