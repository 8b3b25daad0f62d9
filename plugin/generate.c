/* generate.c — what the two generate procedures share: their arguments,
 * one generation run with progress and cancel, and the pixels into layers.
 *
 * For: turning a procedure config into dfx_generate_params, finding the
 * model folder, running libdfx (in a worker thread under dfx's progress
 * dialog when there is a display, in the plug-in's thread with GIMP's
 * progress otherwise), turning failures into GErrors, and writing the
 * [-1, 1] images into GIMP layers through babl.
 * Not for: creating images or layers, undo groups or return values (the
 * proc-generate*.c files do that, only after a run has succeeded), nor any
 * numerics (dfx_generate does all of it).
 *
 * Threads: job_work() calls libdfx and GLib only, never libgimp or GTK, so
 * it may run in the worker; everything else runs in the plug-in's thread.
 * One dfx_ctx is opened per run and used by one thread only.
 */
#include "dfx-plugin.h"

#include <stdlib.h>
#include <string.h>

void
dfx__generate_add_arguments (GimpProcedure *procedure)
{
    dfx_generate_params d;

    dfx_generate_params_defaults (&d);

    /* A string, not a GFile: GIMP refuses a GFile of a missing folder as
     * a calling error with its own message, before dfx can name the folder
     * and say how to get the models.  The dialog shows a model chooser.
     * Mnemonics: see ui/dialog-settings.c (h r c l s are the dialog's). */
    gimp_procedure_add_string_argument (
        procedure, "model", _ ("_Model"),
        _ ("The diffusion model that paints the image: a model folder (unet/ and scheduler/ inside, optionally "
           "gaussian/). Empty: dfx's default model, the grey one for grey images and the colour one otherwise, "
           "looked up in the folders of $DFX_MODELS, then dfx/models in GIMP's user folder, then the system's "
           "dfx/models folder, then the models folder of dfx's source"),
        "", G_PARAM_READWRITE);

    gimp_procedure_add_choice_argument (
        procedure, "sampler", _ ("Sam_pler"),
        _ ("How each step moves from noise to image. DPM-Solver++ (the default) and Heun give the most detail "
           "for a number of steps, and DPM-Solver++ takes half Heun's time for it; Euler and DDIM are as fast a "
           "step but rougher; the OCM samplers add noise of the optimal covariance and do well with few steps "
           "(they need the model's fisher/ head)"),
        gimp_choice_new_with_values ("heun", DFX_SAMPLER_HEUN, _ ("Heun: most detail a step (two evaluations)"),
                                     NULL, "euler", DFX_SAMPLER_EULER, _ ("Euler: fast steps"), NULL, "ddim",
                                     DFX_SAMPLER_DDIM, _ ("DDIM: fast steps"), NULL, "ddpm", DFX_SAMPLER_DDPM,
                                     _ ("DDPM: with fresh noise each step"), NULL, "ocm-ddpm",
                                     DFX_SAMPLER_OCM_DDPM, _ ("OCM-DDPM: good in few steps (needs fisher/)"),
                                     NULL, "ocm-ddim", DFX_SAMPLER_OCM_DDIM,
                                     _ ("OCM-DDIM: good in few steps (needs fisher/)"), NULL, "dpmpp-2m",
                                     DFX_SAMPLER_DPMPP_2M,
                                     _ ("DPM-Solver++ (2M): Heun's detail at one evaluation a step"), NULL, NULL),
        dfx_sampler_name (d.sampler), G_PARAM_READWRITE);

    gimp_procedure_add_int_argument (procedure, "steps", _ ("_Quality steps"),
                                     _ ("Steps from noise to image: more steps give finer detail and take "
                                        "longer"),
                                     1, DFX_GENERATE_MAX_STEPS, (gint)d.steps, G_PARAM_READWRITE);

    gimp_procedure_add_choice_argument (
        procedure, "skip", _ ("S_kip the noisy start"),
        _ ("Computes the early, noisy part of the way in one go instead of step by step: fewer evaluations "
           "for the same image quality. Needs the model's gaussian/ statistics"),
        gimp_choice_new_with_values ("auto", DFX_SKIP_AUTO, _ ("Automatic (as calibrated for the model)"), NULL,
                                     "pca", DFX_SKIP_PCA, _ ("PCA (the model's own size only)"), NULL, "spectral",
                                     DFX_SKIP_SPECTRAL, _ ("Spectral (any size)"), NULL, "off", DFX_SKIP_OFF,
                                     _ ("Off"), NULL, NULL),
        dfx_skip_name (d.skip), G_PARAM_READWRITE);

    gimp_procedure_add_int_argument (procedure, "seed", _ ("Variation (s_eed)"),
                                     _ ("Which image of the many the model can make: another number, another "
                                        "image; the same number, settings and device give the same image"),
                                     0, G_MAXINT, (gint)d.seed, G_PARAM_READWRITE);

    gimp_procedure_add_int_argument (procedure, "count", _ ("_Number of images"),
                                     _ ("How many images to generate, each as a layer of its own (image k uses "
                                        "the seed's noise number k)"),
                                     1, DFX_GENERATE_MAX_COUNT, (gint)d.count, G_PARAM_READWRITE);
}

gboolean
dfx__generate_dialog (GimpProcedure *procedure, GimpProcedureConfig *config, gboolean grey_image,
                      const gchar *title, const gchar *note)
{
    static const gchar *const names[] = {"width", "height", "seed", "count", NULL};
    static const gchar *const advanced[] = {"sampler", "steps", "skip", NULL};
    DfxUiDialog spec = {
        .title = title,
        .ok_label = _ ("_Generate"),
        .names = names,
        .seed_property = "seed",
        .width_property = "width",
        .height_property = "height",
        .advanced = advanced,
        .note = note,
    };

    return dfx__dialog_run (procedure, config, grey_image, &spec);
}

/* ---- The run ---------------------------------------------------------------- */

/* Opens a context, loads the model and generates into job->pixels.  On
 * failure sets job->error.  libdfx and GLib only (see the file comment). */
static void
job_work (gpointer data)
{
    DfxGenerateJob *job = data;
    dfx_generate_params *p = &job->params;
    dfx_ctx *ctx = NULL;
    dfx_model *model = NULL;
    dfx_status status;
    gsize n = 1;

    dfx__trace ("run-start");
    /* Loading uploads the weights: no fraction yet (a preload past it is
     * preparing the kernels). */
    if (p->progress != NULL && p->progress (dfx__preload_stage (job->preload), p->progress_user)) {
        dfx__preload_cancel (g_steal_pointer (&job->preload));
        g_set_error (&job->error, GIMP_PLUG_IN_ERROR, DFX_ERR_CANCELLED, _ ("Generation cancelled."));
        return;
    }
    /* What the preload has not done yet is done here: it is joined first. */
    if (!dfx__plugin_model_open (g_steal_pointer (&job->preload), job->model_dir, &ctx, &model, &job->error))
        goto out;
    dfx__trace ("run-loaded");
    dfx_model_get_info (model, &job->info);
    if (job->info.channels < 1 || job->info.channels > 4) {
        g_set_error (&job->error, GIMP_PLUG_IN_ERROR, DFX_ERR_UNSUPPORTED,
                     _ ("The model %s makes images of %u channels; dfx puts models of 1 to 4 channels (grey, "
                        "grey and alpha, RGB, RGBA) into GIMP."),
                     job->model_dir, job->info.channels);
        goto out;
    }
    /* The first evaluation compiles the kernels (unless Mesa's cache has them). */
    if (p->progress != NULL && p->progress (DFX_UI_PROGRESS_PREPARING, p->progress_user)) {
        g_set_error (&job->error, GIMP_PLUG_IN_ERROR, DFX_ERR_CANCELLED, _ ("Generation cancelled."));
        goto out;
    }
    if (p->width == 0 || p->height == 0) {
        p->width = job->info.sample_width;
        p->height = job->info.sample_height;
    }

    /* Sizes the library refuses (too large, zero) are left to it, so its
     * message with the limits is the one the user sees; only a buffer it
     * accepts is allocated here. */
    if (!g_size_checked_mul (&n, n, p->count) || !g_size_checked_mul (&n, n, job->info.channels) ||
        !g_size_checked_mul (&n, n, p->width) || !g_size_checked_mul (&n, n, p->height) ||
        n > DFX_GENERATE_MAX_FLOATS || n == 0)
        n = 0;
    if (n > 0 && (job->pixels = g_try_new (gfloat, n)) == NULL) {
        g_set_error (&job->error, GIMP_PLUG_IN_ERROR, DFX_ERR_OUT_OF_HOST_MEMORY,
                     _ ("Not enough memory for %u images of %u×%u."), p->count, p->width, p->height);
        goto out;
    }
    if (n == 0) {
        static gfloat none;
        status = dfx_generate (model, p, &none, &job->result);
        if (status == DFX_OK) /* cannot happen: the library checks the same limits */
            status = DFX_ERR_INVALID_ARGUMENT;
    } else {
        status = dfx_generate (model, p, job->pixels, &job->result);
    }
    if (status == DFX_ERR_CANCELLED)
        g_set_error (&job->error, GIMP_PLUG_IN_ERROR, DFX_ERR_CANCELLED, _ ("Generation cancelled."));
    else if (status != DFX_OK)
        g_set_error (&job->error, GIMP_PLUG_IN_ERROR, (gint)status, _ ("dfx could not generate an image: %s"),
                     dfx_ctx_errmsg (ctx));

out:
    dfx_model_destroy (model);
    dfx_ctx_destroy (ctx);
    dfx__trace ("run-end");
}

void
dfx__generate_params_from_config (GimpProcedureConfig *config, guint width, guint height,
                                  dfx_generate_params *params)
{
    gint steps, seed, count;

    g_object_get (config, "steps", &steps, "seed", &seed, "count", &count, NULL);
    dfx_generate_params_defaults (params);
    params->sampler = (dfx_sampler)gimp_procedure_config_get_choice_id (config, "sampler");
    params->skip = (dfx_skip)gimp_procedure_config_get_choice_id (config, "skip");
    params->steps = (uint32_t)steps;
    params->seed = (uint64_t)seed;
    params->count = (uint32_t)count;
    params->width = width;
    params->height = height;
}

DfxPreload *
dfx__generate_preload (GimpProcedureConfig *config, gboolean grey_image, guint width, guint height)
{
    gchar *model = NULL, *dir;
    dfx_generate_params params;
    DfxPreload *p;

    g_object_get (config, "model", &model, NULL);
    /* A folder that does not resolve: no preload; the run says why. */
    dir = dfx__model_resolve (model, grey_image, NULL);
    if (dir == NULL)
        return NULL;
    dfx__generate_params_from_config (config, width, height, &params);
    p = dfx__preload_generate (dir, &params);
    g_free (dir);
    return p;
}

gboolean
dfx__generate_run (GimpProcedureConfig *config, GimpRunMode run_mode, gboolean grey_image, guint width,
                   guint height, const gchar *title, DfxPreload *preload, DfxGenerateJob *job, GError **error)
{
    gchar *model = NULL;
    const gchar *hook = g_getenv ("DFX_TEST_PRELOAD");
    DfxRunWork w = {.work = job_work, .data = job};

    memset (job, 0, sizeof *job);
    /* The testing hook: the preload path (and its cancel) without a dialog. */
    if (preload == NULL && hook != NULL && g_strcmp0 (hook, "cancel") == 0)
        dfx__preload_cancel (dfx__generate_preload (config, grey_image, width, height));
    else if (preload == NULL && hook != NULL && g_strcmp0 (hook, "1") == 0)
        preload = dfx__generate_preload (config, grey_image, width, height);
    job->preload = preload;
    g_object_get (config, "model", &model, NULL);
    job->model_dir = dfx__model_resolve (model, grey_image, error);
    if (job->model_dir == NULL) {
        dfx__preload_cancel (g_steal_pointer (&job->preload));
        return FALSE;
    }

    dfx__generate_params_from_config (config, width, height, &job->params);
    job->params.progress_user = &w;

    job->params.progress = dfx__run_work_progress;
    dfx__run_work (&w, run_mode, job->model_dir, title, _ ("Generating with the model %s"),
                   _ ("Generating with dfx"));
    job->params.progress = NULL;
    job->params.progress_user = NULL;

    if (job->error != NULL) {
        g_propagate_error (error, job->error);
        job->error = NULL;
        return FALSE;
    }
    /* Something the user should know, e.g. that the skip fell back to off. */
    dfx__run_work_warn (job->result.warning);
    return TRUE;
}

void
dfx__generate_job_clear (DfxGenerateJob *job)
{
    dfx__preload_cancel (g_steal_pointer (&job->preload));
    g_clear_pointer (&job->model_dir, g_free);
    g_clear_pointer (&job->pixels, g_free);
    g_clear_error (&job->error);
}

GimpPDBStatusType
dfx__generate_error_status (const GError *error)
{
    if (error != NULL && error->domain == GIMP_PLUG_IN_ERROR && error->code == DFX_ERR_CANCELLED)
        return GIMP_PDB_CANCEL;
    return GIMP_PDB_EXECUTION_ERROR;
}

/* ---- Pixels ------------------------------------------------------------------ */

static inline gfloat
to_unit (gfloat v)
{
    gfloat u = (v + 1.0f) * 0.5f;

    /* The negated tests send NaN to 0 too. */
    if (!(u > 0.0f))
        return 0.0f;
    if (!(u < 1.0f))
        return 1.0f;
    return u;
}

void
dfx__generate_write_layer (const DfxGenerateJob *job, guint k, GimpLayer *layer)
{
    const guint c = job->info.channels, w = job->params.width, h = job->params.height;
    const gboolean grey = c <= 2, alpha = c == 2 || c == 4;
    const guint colours = grey ? 1 : 3, stride = colours + 1;
    const gsize plane = (gsize)w * h;
    const gfloat *img = job->pixels + (gsize)k * c * plane;
    gfloat *row = g_new (gfloat, (gsize)w * stride);
    GeglBuffer *buffer;

    gegl_init (NULL, NULL);
    buffer = gimp_drawable_get_buffer (GIMP_DRAWABLE (layer));
    /* Row by row: the interleaved copy never needs a second full image. */
    for (guint y = 0; y < h; y++) {
        for (guint x = 0; x < w; x++) {
            const gsize at = (gsize)y * w + x;
            for (guint ch = 0; ch < colours; ch++)
                row[x * stride + ch] = to_unit (img[ch * plane + at]);
            row[x * stride + colours] = alpha ? to_unit (img[colours * plane + at]) : 1.0f;
        }
        gegl_buffer_set (buffer, GEGL_RECTANGLE (0, (gint)y, (gint)w, 1), 0,
                         babl_format (grey ? "Y'A float" : "R'G'B'A float"), row, GEGL_AUTO_ROWSTRIDE);
    }
    g_object_unref (buffer); /* flushes to GIMP */
    g_free (row);
    gimp_drawable_update (GIMP_DRAWABLE (layer), 0, 0, (gint)w, (gint)h);
}

gchar *
dfx__generate_layer_name (const DfxGenerateJob *job, guint k)
{
    /* The seed argument is an int, so it fits. */
    const gint seed = (gint)job->params.seed;

    if (job->params.count == 1)
        /* TRANSLATORS: name of a generated layer. */
        return g_strdup_printf (_ ("Generated (seed %d)"), seed);
    /* TRANSLATORS: name of generated layer k of n. */
    return g_strdup_printf (_ ("Generated %u/%u (seed %d)"), k + 1, job->params.count, seed);
}
