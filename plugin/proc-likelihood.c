/* proc-likelihood.c — the procedure "plug-in-dfx-likelihood" (Filters ▸
 * Diffusion ▸ Likelihood Heatmap…): how likely the selected layers' pixels
 * are under a diffusion model.
 *
 * For: reading each selected layer (with its alpha: transparent pixels are
 * not scored), running dfx_likelihood() on all of them (progress per tile, in
 * a worker under dfx's dialog when there is a display), then, only when every
 * layer succeeded, adding a layer group "Likelihood" at the top of the layer
 * stack, where it is seen, with one heatmap per input layer — same size and
 * place, named with the input's name, its bits/dim and the colour range, one
 * range shared by all — and a legend layer (colour bar with the bits/dim
 * scale, legend.c) on top, in one undo group, and returning the bits/dim as
 * a double array.  Output: a perceptual colour map (bright = unlikely) or a
 * grey map (the same range, linear).  A grey image is converted to RGB
 * (in the same undo step, and the dialog says so) when the heatmap has
 * colours, so the colour map is not lost.  On any failure or cancel the
 * image is left exactly as it was.
 * Not for: numerics (libdfx) or colour tables (libdfx's dfx_colormap_*).
 */
#include "dfx-plugin.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef enum { OUTPUT_HEATMAP = 0, OUTPUT_GREY } OutputKind;

typedef struct {
    gchar *name;
    guint width, height;
    gint x, y;
    gfloat *pixels; /* height × width × (colours + 1), alpha last */
    dfx_likelihood_result result;
} LayerJob;

typedef struct {
    gchar *model_dir;
    gboolean grey;       /* image base type */
    guint n;
    LayerJob *layers;
    dfx_likelihood_params params;
    guint done;          /* layers finished, for the progress fraction */
    DfxUiProgress *ui;
    gint cancel_after, reports; /* DFX_TEST_CANCEL_AFTER, as in generate.c */
    gboolean staged;     /* without a dialog: GIMP's text shows a stage */
    gboolean evaluated;  /* a fraction above 0 was reported (traced once) */
    DfxPreload *preload; /* NULL, or taken (and freed) by job_work() */
    GError *error;
} Job;

static int
report (double fraction, void *user)
{
    Job *job = user;
    double f = fraction < 0.0 ? fraction : ((double)job->done + fraction) / job->n;
    int stop = 0;

    if (f > 0.0 && !job->evaluated) {
        job->evaluated = TRUE;
        dfx__trace ("first-eval");
    }
    if (job->ui != NULL) {
        stop = dfx__ui_progress_report (job->ui, f);
    } else if (f < 0.0) {
        gimp_progress_set_text (dfx__ui_progress_stage_text (f));
        job->staged = TRUE;
        gimp_progress_pulse ();
    } else if (f > 0.0 || !job->staged) {
        if (job->staged)
            gimp_progress_set_text (_ ("Scoring the layers with dfx"));
        job->staged = FALSE;
        gimp_progress_update (f);
    }
    /* The preparing stage is not counted by DFX_TEST_CANCEL_AFTER (as in run-work.c). */
    if (fraction == DFX_UI_PROGRESS_PREPARING)
        return stop;
    return stop || (job->cancel_after > 0 && ++job->reports >= job->cancel_after);
}

/* libdfx and GLib only: may run in the worker thread. */
static void
job_work (Job *job)
{
    dfx_ctx *ctx = NULL;
    dfx_model *model = NULL;
    dfx_status status;

    dfx__trace ("run-start");
    /* A preload past loading is preparing the kernels. */
    if (report (dfx__preload_stage (job->preload), job)) {
        dfx__preload_cancel (g_steal_pointer (&job->preload));
        g_set_error (&job->error, GIMP_PLUG_IN_ERROR, DFX_ERR_CANCELLED, _ ("Likelihood cancelled."));
        return;
    }
    /* What the preload has not done yet is done here: it is joined first. */
    if (!dfx__plugin_model_open (g_steal_pointer (&job->preload), job->model_dir, &ctx, &model, &job->error))
        goto out;
    dfx__trace ("run-loaded");
    /* The first evaluation compiles the kernels (unless Mesa's cache has them). */
    if (report (DFX_UI_PROGRESS_PREPARING, job)) {
        g_set_error (&job->error, GIMP_PLUG_IN_ERROR, DFX_ERR_CANCELLED, _ ("Likelihood cancelled."));
        goto out;
    }
    job->params.progress = report;
    job->params.progress_user = job;
    for (job->done = 0; job->done < job->n; job->done++) {
        LayerJob *l = &job->layers[job->done];
        status = dfx_likelihood (model, &job->params, l->pixels, l->width, l->height, job->grey ? 2 : 4, 1,
                                 &l->result);
        if (status == DFX_ERR_CANCELLED) {
            g_set_error (&job->error, GIMP_PLUG_IN_ERROR, DFX_ERR_CANCELLED, _ ("Likelihood cancelled."));
            break;
        }
        if (status != DFX_OK) {
            g_set_error (&job->error, GIMP_PLUG_IN_ERROR, (gint)status,
                         _ ("dfx could not score the layer \"%s\": %s"), l->name, dfx_ctx_errmsg (ctx));
            break;
        }
    }
out:
    dfx_model_destroy (model);
    dfx_ctx_destroy (ctx);
    dfx__trace ("run-end");
}

static void
work_ui (DfxUiProgress *progress, gpointer data)
{
    Job *job = data;

    job->ui = progress;
    job_work (job);
}

static void
job_clear (Job *job)
{
    for (guint i = 0; i < job->n && job->layers != NULL; i++) {
        g_free (job->layers[i].name);
        g_free (job->layers[i].pixels);
        dfx_likelihood_result_clear (&job->layers[i].result);
    }
    dfx__preload_cancel (g_steal_pointer (&job->preload));
    g_free (job->layers);
    g_free (job->model_dir);
    g_clear_error (&job->error);
}

/* Reads the layer's pixels with alpha ("Y'A float" or "R'G'B'A float"). */
static gboolean
read_layer (GimpDrawable *d, gboolean grey, LayerJob *l, GError **error)
{
    GeglBuffer *buffer;
    gsize n = 1;

    l->name = g_strdup (gimp_item_get_name (GIMP_ITEM (d)));
    l->width = (guint)gimp_drawable_get_width (d);
    l->height = (guint)gimp_drawable_get_height (d);
    gimp_drawable_get_offsets (d, &l->x, &l->y);
    if (!g_size_checked_mul (&n, n, l->width) || !g_size_checked_mul (&n, n, l->height) ||
        !g_size_checked_mul (&n, n, grey ? 2 : 4) || l->width > DFX_LIKELIHOOD_MAX_SIZE ||
        l->height > DFX_LIKELIHOOD_MAX_SIZE || (l->pixels = g_try_new (gfloat, n)) == NULL) {
        g_set_error (error, GIMP_PLUG_IN_ERROR, DFX_ERR_OUT_OF_HOST_MEMORY,
                     _ ("The layer \"%s\" (%u×%u) is too large for dfx (at most %d pixels a side)."), l->name,
                     l->width, l->height, DFX_LIKELIHOOD_MAX_SIZE);
        return FALSE;
    }
    buffer = gimp_drawable_get_buffer (d);
    gegl_buffer_get (buffer, GEGL_RECTANGLE (0, 0, (gint)l->width, (gint)l->height), 1.0,
                     babl_format (grey ? "Y'A float" : "R'G'B'A float"), l->pixels, GEGL_AUTO_ROWSTRIDE,
                     GEGL_ABYSS_NONE);
    g_object_unref (buffer);
    return TRUE;
}

static void
write_heatmap (const LayerJob *l, GimpLayer *layer, gboolean grey, OutputKind kind, dfx_colormap cmap, double lo,
               double hi)
{
    const guint w = l->width, h = l->height, stride = grey ? 2 : 4;
    gfloat *row = g_new (gfloat, (gsize)w * stride);
    GeglBuffer *buffer = gimp_drawable_get_buffer (GIMP_DRAWABLE (layer));

    for (guint y = 0; y < h; y++) {
        for (guint x = 0; x < w; x++) {
            const float v = l->result.map[(gsize)y * w + x];
            const double t = (v - lo) / (hi - lo);
            float rgb[3];
            gfloat *p = row + (gsize)x * stride;

            if (kind == OUTPUT_GREY)
                rgb[0] = rgb[1] = rgb[2] = (float)CLAMP (t, 0.0, 1.0);
            else
                dfx_colormap_eval (cmap, t, rgb);
            if (grey)
                p[0] = 0.2126f * rgb[0] + 0.7152f * rgb[1] + 0.0722f * rgb[2];
            else
                p[0] = rgb[0], p[1] = rgb[1], p[2] = rgb[2];
            p[stride - 1] = isnan (v) ? 0.0f : 1.0f; /* not scored: transparent */
        }
        gegl_buffer_set (buffer, GEGL_RECTANGLE (0, (gint)y, (gint)w, 1), 0,
                         babl_format (grey ? "Y'A float" : "R'G'B'A float"), row, GEGL_AUTO_ROWSTRIDE);
    }
    g_object_unref (buffer);
    g_free (row);
    gimp_drawable_update (GIMP_DRAWABLE (layer), 0, 0, (gint)w, (gint)h);
}

/* The colour range shared by all the heatmaps (so their colours compare),
 * from every scored pixel of every layer; the layer's bits/dim ± 0.05 when
 * no pixel is a number. */
static void
shared_range (const Job *job, double *lo, double *hi)
{
    gsize total = 0, at = 0;
    gfloat *all;

    for (guint i = 0; i < job->n; i++)
        total += (gsize)job->layers[i].width * job->layers[i].height;
    all = g_new (gfloat, MAX (total, 1));
    for (guint i = 0; i < job->n; i++) {
        const LayerJob *l = &job->layers[i];
        memcpy (all + at, l->result.map, (gsize)l->width * l->height * sizeof *all);
        at += (gsize)l->width * l->height;
    }
    if (!dfx_colormap_range (all, total, lo, hi))
        *lo = job->layers[0].result.bits_per_dim - 0.05, *hi = job->layers[0].result.bits_per_dim + 0.05;
    g_free (all);
}

/* The likelihood parameters of config, as the run uses them. */
static void
params_from_config (GimpProcedureConfig *config, dfx_likelihood_params *p)
{
    gint overlap, steps;
    gdouble tolerance;

    g_object_get (config, "overlap", &overlap, "tolerance", &tolerance, "steps", &steps, NULL);
    dfx_likelihood_params_defaults (p);
    p->layout = (dfx_likelihood_layout)gimp_procedure_config_get_choice_id (config, "layout");
    p->overlap = overlap;
    p->rtol = p->atol = tolerance;
    /* both choices set by name: "fixed" is the library's default, exp3m (BENCHMARKS.md issue 20) */
    p->solver = (dfx_ode_solver)gimp_procedure_config_get_choice_id (config, "solver");
    if (p->solver == DFX_ODE_EXP3M)
        p->steps = (uint32_t)steps;
}

/* A preload (preload.c) of the model config would resolve, for the first
 * layer's size; NULL when it does not resolve. */
static DfxPreload *
preload_start (GimpProcedureConfig *config, gboolean grey, GimpDrawable *first)
{
    gchar *model = NULL, *dir;
    dfx_likelihood_params params;
    DfxPreload *p;

    g_object_get (config, "model", &model, NULL);
    dir = dfx__model_resolve (model, grey, NULL);
    if (dir == NULL)
        return NULL;
    params_from_config (config, &params);
    p = dfx__preload_likelihood (dir, &params, (guint)gimp_drawable_get_width (first),
                                 (guint)gimp_drawable_get_height (first), grey);
    g_free (dir);
    return p;
}

static GimpValueArray *
likelihood_run (GimpProcedure *procedure, GimpRunMode run_mode, GimpImage *image, GimpDrawable **drawables,
                GimpProcedureConfig *config, gpointer run_data)
{
    GimpImageBaseType base = gimp_image_get_base_type (image);
    const gboolean grey = base == GIMP_GRAY;
    guint n = drawables != NULL ? (guint)gimp_core_object_array_get_length ((GObject **)drawables) : 0;
    Job job = {0};
    GError *error = NULL;
    gchar *model = NULL;
    gboolean legend;
    OutputKind kind;
    dfx_colormap cmap;
    const gchar *hook;

    if (base == GIMP_INDEXED) {
        g_set_error (&error, GIMP_PLUG_IN_ERROR, DFX_ERR_UNSUPPORTED,
                     _ ("dfx scores RGB and grey images; convert this indexed image first (Image ▸ Mode ▸ RGB)."));
        return gimp_procedure_new_return_values (procedure, GIMP_PDB_EXECUTION_ERROR, error);
    }
    if (n == 0) {
        g_set_error (&error, GIMP_PLUG_IN_ERROR, DFX_ERR_INVALID_ARGUMENT, _ ("Select one or more layers to score."));
        return gimp_procedure_new_return_values (procedure, GIMP_PDB_CALLING_ERROR, error);
    }
    for (guint i = 0; i < n; i++)
        if (!GIMP_IS_LAYER (drawables[i]) || GIMP_IS_LAYER_MASK (drawables[i])) {
            g_set_error (&error, GIMP_PLUG_IN_ERROR, DFX_ERR_INVALID_ARGUMENT,
                         _ ("\"%s\" is not a layer: dfx scores layers."), gimp_item_get_name (GIMP_ITEM (drawables[i])));
            return gimp_procedure_new_return_values (procedure, GIMP_PDB_CALLING_ERROR, error);
        }

    if (run_mode == GIMP_RUN_INTERACTIVE && dfx__ui_available (run_mode)) {
        static const gchar *const names[] = {"colormap", "output", "legend", NULL};
        static const gchar *const advanced[] = {"solver", "tolerance", "steps", "layout", "overlap", NULL};
        DfxUiDialog spec = {
            .title = _ ("Likelihood Heatmap"),
            .ok_label = _ ("Sc_ore"),
            .names = names,
            .advanced = advanced,
            .note = grey ? _ ("This image is grey: to keep the colours of the heatmap, dfx converts it to RGB "
                              "(one undo step undoes it). Show the grey map to keep the image grey.")
                         : _ ("The heatmaps and their legend go into a new layer group at the top of the "
                              "layer stack: bright = unlikely under the model."),
        };
        /* The model loads and its kernels compile while the user reads the dialog. */
        job.preload = preload_start (config, grey, drawables[0]);
        if (!dfx__dialog_run (procedure, config, grey, &spec)) {
            job_clear (&job);
            return gimp_procedure_new_return_values (procedure, GIMP_PDB_CANCEL, NULL);
        }
        dfx__trace ("dialog-ok");
    }
    hook = g_getenv ("DFX_TEST_PRELOAD");
    /* The testing hook, as in generate.c: the preload path without a dialog. */
    if (job.preload == NULL && g_strcmp0 (hook, "cancel") == 0)
        dfx__preload_cancel (preload_start (config, grey, drawables[0]));
    else if (job.preload == NULL && g_strcmp0 (hook, "1") == 0)
        job.preload = preload_start (config, grey, drawables[0]);

    g_object_get (config, "model", &model, "legend", &legend, NULL);
    kind = (OutputKind)gimp_procedure_config_get_choice_id (config, "output");
    cmap = (dfx_colormap)gimp_procedure_config_get_choice_id (config, "colormap");
    if ((job.model_dir = dfx__model_resolve (model, grey, &error)) == NULL) {
        job_clear (&job);
        return gimp_procedure_new_return_values (procedure, GIMP_PDB_EXECUTION_ERROR, error);
    }
    job.grey = grey;
    job.n = n;
    job.layers = g_new0 (LayerJob, n);
    params_from_config (config, &job.params);
    hook = g_getenv ("DFX_TEST_CANCEL_AFTER");
    if (hook != NULL)
        job.cancel_after = atoi (hook);

    gegl_init (NULL, NULL);
    for (guint i = 0; i < n; i++)
        if (!read_layer (drawables[i], grey, &job.layers[i], &error)) {
            job_clear (&job);
            return gimp_procedure_new_return_values (procedure, GIMP_PDB_EXECUTION_ERROR, error);
        }

    if (dfx__ui_available (run_mode)) {
        gchar *b = g_path_get_basename (job.model_dir);
        gchar *text = g_strdup_printf (_ ("Scoring %u layer(s) with the model %s"), n, b);
        dfx__ui_progress_run (_ ("Likelihood Heatmap"), text, work_ui, &job);
        g_free (text);
        g_free (b);
    } else {
        gimp_progress_init (_ ("Scoring the layers with dfx"));
        job_work (&job);
        gimp_progress_end ();
    }
    if (job.error != NULL) {
        GimpPDBStatusType status =
            job.error->code == DFX_ERR_CANCELLED ? GIMP_PDB_CANCEL : GIMP_PDB_EXECUTION_ERROR;
        error = job.error;
        job.error = NULL;
        job_clear (&job);
        return gimp_procedure_new_return_values (procedure, status, error);
    }

    /* Everything that can fail has; from here on only GIMP is written. */
    gdouble *bpd = g_new (gdouble, n);
    const gboolean to_rgb = grey && kind == OUTPUT_HEATMAP && cmap != DFX_COLORMAP_GREY;
    const gboolean grey_out = grey && !to_rgb;
    GimpLayer *group;
    double lo, hi;

    shared_range (&job, &lo, &hi);
    gimp_image_undo_group_start (image);
    if (to_rgb)
        gimp_image_convert_rgb (image);
    /* At the top of the stack: nothing the user has hides it. */
    group = GIMP_LAYER (gimp_group_layer_new (image, _ ("Likelihood")));
    gimp_image_insert_layer (image, group, NULL, 0);
    for (guint i = n; i-- > 0;) {
        LayerJob *l = &job.layers[i];
        gchar *name;
        GimpLayer *layer;

        bpd[i] = l->result.bits_per_dim;
        if (kind == OUTPUT_GREY)
            /* TRANSLATORS: heatmap layer name: input layer, bits/dim, the grey range */
            name = g_strdup_printf (_ ("%s: %.3f bits/dim (grey %.2f–%.2f bits/dim, white = unlikely)"), l->name,
                                    l->result.bits_per_dim, lo, hi);
        else
            /* TRANSLATORS: heatmap layer name: input layer, bits/dim, colour map, range */
            name = g_strdup_printf (_ ("%s: %.3f bits/dim (%s %.2f–%.2f bits/dim, bright = unlikely)"), l->name,
                                    l->result.bits_per_dim, dfx_colormap_name (cmap), lo, hi);
        layer = gimp_layer_new (image, name, (gint)l->width, (gint)l->height,
                                grey_out ? GIMP_GRAYA_IMAGE : GIMP_RGBA_IMAGE, 100.0, GIMP_LAYER_MODE_NORMAL);
        g_free (name);
        gimp_image_insert_layer (image, layer, group, 0);
        gimp_layer_set_offsets (layer, l->x, l->y);
        write_heatmap (l, layer, grey_out, kind, cmap, lo, hi);
    }
    if (legend) {
        /* On top of the heatmaps, at the canvas's bottom left corner. */
        GimpLayer *key = dfx__legend_layer_new (image, kind == OUTPUT_GREY ? DFX_COLORMAP_GREY : cmap, lo, hi);
        gimp_image_insert_layer (image, key, group, 0);
        gimp_layer_set_offsets (key, 0,
                                MAX (0, gimp_image_get_height (image) -
                                            gimp_drawable_get_height (GIMP_DRAWABLE (key))));
    }
    gimp_image_undo_group_end (image);
    if (run_mode != GIMP_RUN_NONINTERACTIVE)
        gimp_displays_flush ();

    GimpValueArray *values = gimp_procedure_new_return_values (procedure, GIMP_PDB_SUCCESS, NULL);
    gimp_value_set_double_array (gimp_value_array_index (values, 1), bpd, n);
    GIMP_VALUES_SET_LAYER (values, 2, group);
    g_free (bpd);
    job_clear (&job);
    dfx__trace ("done");
    return values;
}

GimpProcedure *
dfx__proc_likelihood_new (GimpPlugIn *plug_in)
{
    GimpProcedure *procedure;
    dfx_likelihood_params d;

    dfx_likelihood_params_defaults (&d);
    procedure = gimp_image_procedure_new (plug_in, DFX_PROC_LIKELIHOOD, GIMP_PDB_PROC_TYPE_PLUGIN, likelihood_run,
                                          NULL, NULL);
    gimp_procedure_set_image_types (procedure, "RGB*, GRAY*");
    gimp_procedure_set_sensitivity_mask (procedure,
                                         GIMP_PROCEDURE_SENSITIVE_DRAWABLE | GIMP_PROCEDURE_SENSITIVE_DRAWABLES);
    gimp_procedure_set_menu_label (procedure, _ ("_Likelihood Heatmap..."));
    gimp_procedure_add_menu_path (procedure, DFX_MENU_PATH);
    gimp_procedure_set_documentation (
        procedure, _ ("How likely the selected layers are under a diffusion model"),
        _ ("Scores each selected layer under a diffusion model with a Fisher head (the probability-flow ODE "
           "log-likelihood, DF-TM) and adds a layer group \"Likelihood\" with one heatmap per layer: the bits per "
           "dimension of each pixel (bright = unlikely), with the layer's bits/dim and the colour range in its "
           "name. Layers of any size are scored whole, or in overlapping tiles of the model's size; transparent pixels are "
           "not scored. Returns the bits/dim of each layer. Nothing is changed when scoring fails or is "
           "cancelled."),
        DFX_PROC_LIKELIHOOD);
    gimp_procedure_set_attribution (procedure, "dfx authors", "dfx authors", "2026");

    /* Mnemonics: see ui/dialog-settings.c (h r c l s are the dialog's, o
     * the OK button's "Sc_ore"). */
    gimp_procedure_add_string_argument (
        procedure, "model", _ ("_Model"),
        _ ("The diffusion model that judges the pixels: a model folder (unet/, scheduler/ and fisher/ inside). "
           "Empty: dfx's default model, the grey one for grey images and the colour one otherwise"),
        "", G_PARAM_READWRITE);
    gimp_procedure_add_choice_argument (
        procedure, "colormap", _ ("Colour _palette"), _ ("The colours of the heatmap, from likely to unlikely"),
        gimp_choice_new_with_values ("viridis", DFX_COLORMAP_VIRIDIS, _ ("Viridis (blue to yellow)"), NULL,
                                     "magma", DFX_COLORMAP_MAGMA, _ ("Magma (black to pale yellow)"), NULL, "grey",
                                     DFX_COLORMAP_GREY, _ ("Grey (black to white)"), NULL, NULL),
        "viridis", G_PARAM_READWRITE);
    gimp_procedure_add_choice_argument (
        procedure, "output", _ ("Sho_w"), _ ("What the new layers show"),
        gimp_choice_new_with_values ("heatmap", OUTPUT_HEATMAP, _ ("Heatmap in the palette"), NULL, "grey-map",
                                     OUTPUT_GREY, _ ("Grey map (keeps a grey image grey)"), NULL, NULL),
        "heatmap", G_PARAM_READWRITE);
    gimp_procedure_add_boolean_argument (procedure, "legend", _ ("Add a le_gend"),
                                         _ ("A layer with the colour bar and its bits/dim scale on top of the "
                                            "heatmaps, at the bottom left of the canvas"),
                                         TRUE, G_PARAM_READWRITE);
    gimp_procedure_add_choice_argument (
        procedure, "solver", _ ("_Integration"),
        _ ("How the model's path from the layer to noise is followed: a fixed number of steps, one evaluation "
           "of the model each (as `dfx likelihood --solver exp3m --steps N`), or adaptive steps until the "
           "tolerance is met (3 to 4 times the evaluations, about as exact)"),
        gimp_choice_new_with_values ("fixed", DFX_ODE_EXP3M, _ ("Fixed steps (fast)"), NULL, "adaptive",
                                     DFX_ODE_RK45, _ ("Adaptive (to the tolerance, slower)"), NULL, NULL),
        "fixed", G_PARAM_READWRITE);
    gimp_procedure_add_double_argument (procedure, "tolerance", _ ("_Tolerance"),
                                        _ ("Of the adaptive integration: smaller is more exact and slower"),
                                        1e-6, 1e-1, d.rtol, G_PARAM_READWRITE);
    gimp_procedure_add_int_argument (procedure, "steps", _ ("_Fixed steps"),
                                     _ ("Steps of the fixed-step integration: more is more exact and slower"), 1,
                                     100000, (gint)d.steps, G_PARAM_READWRITE);
    gimp_procedure_add_choice_argument (
        procedure, "layout", _ ("Scop_e"),
        _ ("How a layer larger than the model is scored: all at once (the model sees the whole layer), or in "
           "overlapping tiles of the model's own size, blended (`dfx likelihood --overlap N`)"),
        gimp_choice_new_with_values ("whole", DFX_LIKELIHOOD_WHOLE, _ ("The whole layer at once"), NULL, "tiles",
                                     DFX_LIKELIHOOD_TILES, _ ("Tiles of the model's size"), NULL, NULL),
        "whole", G_PARAM_READWRITE);
    gimp_procedure_add_int_argument (procedure, "overlap", _ ("Tile o_verlap"),
                                     _ ("With tiles: the pixels that neighbouring tiles share: more overlap, "
                                        "smoother seams, more time (8 is a quarter of the default models' "
                                        "32-pixel tiles)"),
                                     0, 1024, 8, G_PARAM_READWRITE);

    gimp_procedure_add_double_array_return_value (procedure, "bits-per-dim", _ ("Bits per dimension"),
                                                  _ ("The bits/dim of each selected layer, in their order"),
                                                  G_PARAM_READWRITE);
    gimp_procedure_add_layer_return_value (procedure, "group", _ ("Group"),
                                           _ ("The new layer group \"Likelihood\" holding the heatmaps"), FALSE,
                                           G_PARAM_READWRITE);
    return procedure;
}
