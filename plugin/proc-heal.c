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
 * Threads: heal_work() calls libdfx and GLib only.
 */
#include "dfx-plugin.h"

#include "dfx-ui.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    gchar *model_dir;
    dfx_heal_params params;
    guint width, height, channels;
    gfloat *image1, *image3, *mask, *out;
    dfx_heal_result result;
    DfxUiProgress *ui;
    gint cancel_after, reports; /* DFX_TEST_CANCEL_AFTER, as generate.c */
    GError *error;
} HealJob;

static int
heal_progress (double fraction, void *user)
{
    HealJob *j = user;
    int stop = j->cancel_after > 0 && ++j->reports >= j->cancel_after;

    if (j->ui != NULL)
        return dfx__ui_progress_report (j->ui, fraction) || stop;
    if (fraction < 0.0)
        gimp_progress_pulse ();
    else
        gimp_progress_update (fraction);
    return stop;
}

static void
heal_work (HealJob *j)
{
    dfx_ctx *ctx = NULL;
    dfx_model *model = NULL;
    dfx_status status;

    if (heal_progress (-1.0, j)) {
        g_set_error (&j->error, GIMP_PLUG_IN_ERROR, DFX_ERR_CANCELLED, _ ("Heal cancelled."));
        return;
    }
    if (!dfx__plugin_masked_open (j->model_dir, TRUE, j->width, j->height, &ctx, &model, &j->channels, &j->out,
                                  &j->error))
        goto out;
    status = dfx_heal (model, &j->params, j->width, j->height, j->channels == 1 ? j->image1 : j->image3, j->mask,
                       j->out, &j->result);
    if (status == DFX_ERR_CANCELLED)
        g_set_error (&j->error, GIMP_PLUG_IN_ERROR, DFX_ERR_CANCELLED, _ ("Heal cancelled."));
    else if (status != DFX_OK)
        g_set_error (&j->error, GIMP_PLUG_IN_ERROR, (gint)status, _ ("dfx could not heal the layer: %s"),
                     dfx_ctx_errmsg (ctx));
out:
    dfx_model_destroy (model);
    dfx_ctx_destroy (ctx);
}

static void
work_ui (DfxUiProgress *progress, gpointer data)
{
    HealJob *j = data;

    j->ui = progress;
    heal_work (j);
}

/* w × h of drawable as `format` (comps per pixel) into planar floats v·scale + shift. */
static void
read_planar (GimpDrawable *drawable, guint w, guint h, const gchar *format, guint comps, gfloat *out)
{
    GeglBuffer *buffer = gimp_drawable_get_buffer (drawable);
    gfloat *px = g_new (gfloat, (gsize)w * h * comps);
    const gsize np = (gsize)w * h;

    gegl_buffer_get (buffer, GEGL_RECTANGLE (0, 0, (gint)w, (gint)h), 1.0, babl_format (format), px,
                     GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
    for (gsize i = 0; i < np; i++)
        for (guint c = 0; c < comps; c++)
            out[c * np + i] = px[i * comps + c] * 2.0f - 1.0f;
    g_object_unref (buffer);
    g_free (px);
}

gboolean
dfx__plugin_write_result (GimpDrawable *source, GimpDrawable *target, guint c, guint w, guint h, const gfloat *in,
                          const gfloat *out)
{
    const guint stride = c + 1;
    const gsize np = (gsize)w * h;
    const gchar *fmt = c == 1 ? "Y'A float" : "R'G'B'A float";
    GeglBuffer *src = gimp_drawable_get_buffer (source), *dst = gimp_drawable_get_buffer (target);
    gfloat *px = g_new (gfloat, np * stride);
    gboolean *changed = g_new0 (gboolean, np);

    if (source != target)
        gegl_buffer_copy (src, NULL, GEGL_ABYSS_NONE, dst, NULL);
    gegl_buffer_get (src, GEGL_RECTANGLE (0, 0, (gint)w, (gint)h), 1.0, babl_format (fmt), px, GEGL_AUTO_ROWSTRIDE,
                     GEGL_ABYSS_NONE);
    for (gsize i = 0; i < np; i++)
        for (guint ch = 0; ch < c; ch++)
            if (out[ch * np + i] != in[ch * np + i]) {
                changed[i] = TRUE;
                break;
            }
    for (gsize i = 0; i < np; i++)
        for (guint ch = 0; changed[i] && ch < c; ch++) {
            gfloat u = (out[ch * np + i] + 1.0f) * 0.5f;
            px[i * stride + ch] = u > 0.0f ? (u < 1.0f ? u : 1.0f) : 0.0f;
        }
    /* runs of changed pixels only: the others keep the source's own values, whatever its precision */
    for (guint y = 0; y < h; y++)
        for (guint x = 0; x < w;) {
            guint e = x;
            if (!changed[(gsize)y * w + x]) {
                x++;
                continue;
            }
            while (e < w && changed[(gsize)y * w + e])
                e++;
            gegl_buffer_set (dst, GEGL_RECTANGLE ((gint)x, (gint)y, (gint)(e - x), 1), 0, babl_format (fmt),
                             px + ((gsize)y * w + x) * stride, GEGL_AUTO_ROWSTRIDE);
            x = e;
        }
    g_object_unref (src);
    g_object_unref (dst);
    g_free (px);
    g_free (changed);
    gimp_drawable_update (target, 0, 0, (gint)w, (gint)h);
    return TRUE;
}

static void
job_clear (HealJob *j)
{
    g_free (j->model_dir);
    g_free (j->image1);
    g_free (j->image3);
    g_free (j->mask);
    g_free (j->out);
    g_clear_error (&j->error);
}

static GimpValueArray *
heal_run (GimpProcedure *procedure, GimpRunMode run_mode, GimpImage *image, GimpDrawable **drawables,
          GimpProcedureConfig *config, gpointer run_data)
{
    GimpImageBaseType base = gimp_image_get_base_type (image);
    HealJob j = {0};
    GError *error = NULL;
    GimpDrawable *source;
    GimpLayer *result = NULL;
    gchar *model = NULL;
    gdouble feather;
    gint steps, resample, seed, context, mask_id, ox, oy;
    gboolean replace;
    const gchar *hook;
    GimpValueArray *values;

    if (drawables == NULL || drawables[0] == NULL || drawables[1] != NULL || !GIMP_IS_LAYER (drawables[0])) {
        g_set_error (&error, GIMP_PLUG_IN_ERROR, DFX_ERR_INVALID_ARGUMENT,
                     _ ("dfx heals one layer at a time: select exactly one layer."));
        return gimp_procedure_new_return_values (procedure, GIMP_PDB_CALLING_ERROR, error);
    }
    source = drawables[0];
    if (base == GIMP_INDEXED) {
        g_set_error (&error, GIMP_PLUG_IN_ERROR, DFX_ERR_UNSUPPORTED,
                     _ ("dfx heals RGB and grey images; convert this indexed image first (Image ▸ Mode)."));
        return gimp_procedure_new_return_values (procedure, GIMP_PDB_EXECUTION_ERROR, error);
    }
    if (run_mode == GIMP_RUN_INTERACTIVE && dfx__ui_available (run_mode)) {
        static const gchar *const names[] = {"replace", "seed", NULL};
        static const gchar *const advanced[] = {"feather", "steps", "resample", "context", NULL};
        static const DfxUiItemRow items[] = {{"mask-id", DFX_UI_ITEM_MASK}, {NULL, DFX_UI_ITEM_LAYER}};
        DfxUiDialog spec = {
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
        gboolean go = dfx__dialog_run (procedure, config, base == GIMP_GRAY, &spec);
        if (!go)
            return gimp_procedure_new_return_values (procedure, GIMP_PDB_CANCEL, NULL);
    }
    g_object_get (config, "model", &model, "mask-id", &mask_id, "feather", &feather, "steps", &steps, "resample",
                  &resample, "seed", &seed, "context", &context, "replace", &replace, NULL);
    j.model_dir = dfx__model_resolve (model, base == GIMP_GRAY, &error);
    if (j.model_dir == NULL)
        goto fail;
    if (mask_id == 0 && gimp_selection_is_empty (image)) {
        g_set_error (&error, GIMP_PLUG_IN_ERROR, DFX_ERR_INVALID_ARGUMENT,
                     _ ("Nothing to heal: select the region to fill, or give a channel or layer mask as the mask. "
                        "The image is unchanged."));
        goto fail;
    }
    j.width = (guint)gimp_drawable_get_width (source);
    j.height = (guint)gimp_drawable_get_height (source);
    {
        const gsize np = (gsize)j.width * j.height;
        j.image1 = g_new (gfloat, np);
        j.image3 = g_new (gfloat, 3 * np);
        j.mask = g_new (gfloat, np);
        gegl_init (NULL, NULL);
        if (!dfx__plugin_read_mask (image, source, mask_id, j.width, j.height, j.mask, &error))
            goto fail;
        read_planar (source, j.width, j.height, "Y' float", 1, j.image1);
        read_planar (source, j.width, j.height, "R'G'B' float", 3, j.image3);
        gimp_drawable_get_offsets (source, &ox, &oy);
    }
    dfx_heal_params_defaults (&j.params);
    j.params.steps = (uint32_t)steps;
    j.params.resample = (uint32_t)resample;
    j.params.seed = (uint64_t)seed;
    j.params.feather = feather;
    j.params.context = (uint32_t)context;
    j.params.progress = heal_progress;
    j.params.progress_user = &j;
    hook = g_getenv ("DFX_TEST_CANCEL_AFTER");
    if (hook != NULL)
        j.cancel_after = atoi (hook);

    if (dfx__ui_available (run_mode)) {
        gchar *basename = g_path_get_basename (j.model_dir);
        gchar *text = g_strdup_printf (_ ("Healing with the model %s"), basename);
        dfx__ui_progress_run (_ ("Heal Selection"), text, work_ui, &j);
        g_free (text);
        g_free (basename);
    } else {
        gimp_progress_init (_ ("Healing with dfx"));
        heal_work (&j);
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
            gchar *name = g_strdup_printf (_ ("%s (healed)"), gimp_item_get_name (GIMP_ITEM (source)));
            result = gimp_layer_new (image, name, (gint)j.width, (gint)j.height, gimp_drawable_type (source), 100.0,
                                     GIMP_LAYER_MODE_NORMAL);
            g_free (name);
            gimp_image_insert_layer (image, result, parent != NULL ? GIMP_LAYER (parent) : NULL,
                                     gimp_image_get_item_position (image, GIMP_ITEM (source)));
            gimp_layer_set_offsets (result, ox, oy);
        }
        dfx__plugin_write_result (source, GIMP_DRAWABLE (result), j.channels, j.width, j.height,
                                  j.channels == 1 ? j.image1 : j.image3, j.out);
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
    GIMP_VALUES_SET_STRING (values, 2, j.result.warning);
    job_clear (&j);
    return values;

fail:
    job_clear (&j);
    return gimp_procedure_new_return_values (procedure, dfx__generate_error_status (error), error);
}

GimpProcedure *
dfx__proc_heal_new (GimpPlugIn *plug_in)
{
    GimpProcedure *procedure;
    dfx_heal_params d;

    dfx_heal_params_defaults (&d);
    procedure = gimp_image_procedure_new (plug_in, DFX_PROC_HEAL, GIMP_PDB_PROC_TYPE_PLUGIN, heal_run, NULL, NULL);
    gimp_procedure_set_image_types (procedure, "RGB*, GRAY*");
    gimp_procedure_set_sensitivity_mask (procedure, GIMP_PROCEDURE_SENSITIVE_DRAWABLE);
    gimp_procedure_set_menu_label (procedure, _ ("_Heal Selection..."));
    gimp_procedure_add_menu_path (procedure, DFX_MENU_PATH);
    gimp_procedure_set_documentation (
        procedure, _ ("Fill the selection so that it continues its surroundings, with a diffusion model"),
        _ ("Removes what is inside the selection (or a channel or layer mask) and paints it anew from what surrounds "
           "it: the model samples a window around the selection from noise while the pixels around the selection "
           "are held to the layer at every step. Outside the selection and its soft edge the layer keeps its pixels "
           "exactly. The result is a new layer above the source (or the source itself when asked), in one undo "
           "step. Nothing is changed when the heal fails or is cancelled."),
        DFX_PROC_HEAL);
    gimp_procedure_set_attribution (procedure, "dfx authors", "dfx authors", "2026");

    gimp_procedure_add_string_argument (procedure, "model", _ ("_Model"),
                                        _ ("The model that heals: one for the kind of image at hand (empty: dfx's "
                                           "default model)"),
                                        "", G_PARAM_READWRITE);
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
