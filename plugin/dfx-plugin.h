/* dfx-plugin.h — declarations shared by the files of the dfx GIMP plug-in.
 *
 * For: the gettext setup (_() and N_() in the plug-in's own domain "dfx"),
 * the PDB names of dfx's procedures, the constructor of each procedure and
 * the helper that opens a libdfx context at the GIMP boundary.
 * Not for: anything numeric or Vulkan-related (that is libdfx, dfx.h), nor
 * GTK dialogs (ui/).
 */
#ifndef DFX_PLUGIN_H
#define DFX_PLUGIN_H

#include <libgimp/gimp.h>

#include "dfx.h"
#include "dfx-ui.h"

/* The plug-in's gettext domain; meson passes GETTEXT_PACKAGE="dfx" so that
 * _() is dgettext ("dfx", ...) whatever textdomain() is current. */
#ifndef GETTEXT_PACKAGE
#error "GETTEXT_PACKAGE must be defined (plugin/meson.build passes it)"
#endif
#include <glib/gi18n-lib.h>

#define DFX_PROC_DEVICE_INFO "plug-in-dfx-device-info"
#define DFX_PROC_GENERATE "plug-in-dfx-generate"
#define DFX_PROC_GENERATE_LAYER "plug-in-dfx-generate-layer"
#define DFX_PROC_LIKELIHOOD "plug-in-dfx-likelihood"
#define DFX_PROC_EDIT "plug-in-dfx-edit"
#define DFX_PROC_HEAL "plug-in-dfx-heal"

/* Menu folder of every dfx procedure that works on an image ... */
#define DFX_MENU_PATH "<Image>/Filters/Diffusion"
/* ... and of those that make a new one (File ▸ Create ▸ Diffusion). */
#define DFX_MENU_PATH_CREATE "<Image>/File/Create/Diffusion"

/* Builds the "plug-in-dfx-device-info" procedure (proc-device-info.c).
 * Returns: a new reference, owned by the caller (GIMP takes it from
 * create_procedure). */
GimpProcedure *dfx__proc_device_info_new (GimpPlugIn *plug_in);

/* Build "plug-in-dfx-generate" (proc-generate.c) and
 * "plug-in-dfx-generate-layer" (proc-generate-layer.c); as above. */
GimpProcedure *dfx__proc_generate_new (GimpPlugIn *plug_in);
GimpProcedure *dfx__proc_generate_layer_new (GimpPlugIn *plug_in);

/* Builds "plug-in-dfx-likelihood" (proc-likelihood.c); as above. */
GimpProcedure *dfx__proc_likelihood_new (GimpPlugIn *plug_in);

/* Builds "plug-in-dfx-edit" (proc-edit.c), the guided edit; as above. */
GimpProcedure *dfx__proc_edit_new (GimpPlugIn *plug_in);

/* Builds "plug-in-dfx-heal" (proc-heal.c), Heal Selection; as above. */
GimpProcedure *dfx__proc_heal_new (GimpPlugIn *plug_in);

/* ---- Preloading while the dialog is open (preload.c, trace.c) ------------- */

/* With DFX_TRACE_TIMES in the environment, writes "dfx-trace: EVENT wall
 * S cpu C" to stderr (monotonic and process CPU seconds); else nothing.
 * Any thread. */
void dfx__trace (const gchar *event);

typedef enum { DFX_PRELOAD_GENERATE, DFX_PRELOAD_LIKELIHOOD } DfxPreloadKind;

/* A context and model being loaded in a thread, the kernels of a run
 * prepared by running its start on stand-in data up to the first network
 * evaluation. */
typedef struct DfxPreload DfxPreload;

/* Starts preloading model_dir for a generation with params (sizes 0: the
 * model's).  Returns the preload, to be ended by dfx__preload_take() or
 * dfx__preload_cancel(); NULL when model_dir is NULL or no thread starts
 * (the run then loads on its own). */
DfxPreload *dfx__preload_generate (const gchar *model_dir, const dfx_generate_params *params);

/* As above for the likelihood of a width × height layer of a grey or
 * colour image with params. */
DfxPreload *dfx__preload_likelihood (const gchar *model_dir, const dfx_likelihood_params *params, guint width,
                                     guint height, gboolean grey);

/* Waits for p's thread and frees p.  When it loaded model_dir (the folder
 * the run resolved), hands its context and model to the caller (TRUE; the
 * caller destroys them, model first) instead of destroying them; FALSE
 * otherwise (the caller opens and loads itself).  p NULL: FALSE.  Any
 * thread, once. */
gboolean dfx__preload_take (DfxPreload *p, const gchar *model_dir, dfx_ctx **ctx, dfx_model **model);

/* The stage a run waiting for p shows: DFX_UI_PROGRESS_PREPARING once the
 * model is loaded (the kernels are being prepared), else
 * DFX_UI_PROGRESS_LOADING (also for NULL).  Any thread. */
double dfx__preload_stage (DfxPreload *p);

/* Asks p's thread to stop at its next progress report, waits for it and
 * frees everything.  Accepts NULL. */
void dfx__preload_cancel (DfxPreload *p);

/* Generation parameters of config (sampler, skip, steps, seed, count) at
 * width × height, as dfx__generate_run() sets them (generate.c). */
void dfx__generate_params_from_config (GimpProcedureConfig *config, guint width, guint height,
                                       dfx_generate_params *params);

/* Starts a preload for the generation config asks for at width × height
 * (generate.c): the model the run would resolve (a missing or bad folder:
 * none).  NULL when there is nothing to preload. */
DfxPreload *dfx__generate_preload (GimpProcedureConfig *config, gboolean grey_image, guint width, guint height);

/* ---- Long work with progress and cancel (run-work.c) ----------------------- */

/* One piece of work that calls libdfx; filled by the caller (work, data),
 * the rest by dfx__run_work(). */
typedef struct {
    void (*work) (gpointer data); /* libdfx and GLib only: may run in a worker */
    gpointer data;
    DfxUiProgress *ui;            /* dfx's progress dialog while it runs; NULL without one */
    gint cancel_after, reports;   /* DFX_TEST_CANCEL_AFTER: cancel at that report; 0: never */
    const gchar *batch;           /* GIMP's progress text without a dialog */
    gboolean staged;              /* without a dialog: GIMP's text shows a stage */
    gboolean evaluated;           /* a fraction above 0 was reported (traced once) */
} DfxRunWork;

/* The dfx_progress_fn of work run by dfx__run_work() (user: the
 * DfxRunWork): reports to dfx's dialog, else to GIMP's progress; returns
 * non-zero when the user (or the testing hook) cancelled.  A negative
 * fraction is a stage (DFX_UI_PROGRESS_LOADING before the model is loaded,
 * DFX_UI_PROGRESS_PREPARING after it, before the first evaluation). */
int dfx__run_work_progress (double fraction, void *user);

/* Runs w->work (w->data): with a display in a worker under dfx's progress
 * dialog titled title, its text running ("... %s", the model folder's
 * name); otherwise in this thread between gimp_progress_init (batch) and
 * gimp_progress_end().  Reads DFX_TEST_CANCEL_AFTER first. */
void dfx__run_work (DfxRunWork *w, GimpRunMode run_mode, const gchar *model_dir, const gchar *title,
                    const gchar *running, const gchar *batch);

/* Shows warning ("dfx: ...") with gimp_message() unless it is empty. */
void dfx__run_work_warn (const char *warning);

/* ---- Shared by edit and heal (region-io.c, region-run.c) ------------------ */

/* Reads w × h of drawable at (x, y) in its own coordinates as `format`
 * (components per pixel: comps) into planar floats mapped by v·scale +
 * shift (region-io.c). */
void dfx__plugin_read_planar (GimpDrawable *drawable, gint x, gint y, guint w, guint h, const gchar *format,
                              guint comps, gfloat scale, gfloat shift, gfloat *out);

/* The item of image with id when it is a layer (want_layer) or a channel or
 * layer mask; NULL when id is 0, the item is gone, belongs to another image
 * or is of another kind.  GIMP remembers ids between runs, not items.  Not
 * a new reference. */
GimpDrawable *dfx__plugin_find_item (GimpImage *image, gint id, gboolean want_layer);

/* Reads the mask of an edit or heal of source (w × h, its own
 * coordinates) into mask ([0, 1]): the channel or layer mask with item id
 * mask_id, or the selection when mask_id is 0.  Returns FALSE and sets
 * *error when mask_id names no channel of image or the selection is empty
 * (mask_id 0). */
gboolean dfx__plugin_read_mask (GimpImage *image, GimpDrawable *source, gint mask_id, guint w, guint h, gfloat *mask,
                                GError **error);

/* Writes out (c × h × w on [-1, 1], c = 1 or 3) into target (w × h) as
 * the source's copy (target may be source): pixels where out equals in
 * keep the source's own values bit for bit, the others are written through
 * babl with the source's alpha.  Returns TRUE. */
gboolean dfx__plugin_write_result (GimpDrawable *source, GimpDrawable *target, guint c, guint w, guint h,
                                   const gfloat *in, const gfloat *out);

typedef struct DfxRegionJob DfxRegionJob;

/* What makes a region run an edit or a heal: its texts (translated) and
 * its libdfx call. */
typedef struct {
    const gchar *title;      /* of the progress dialog, "Guided Edit" */
    const gchar *running;    /* its text, "Editing with the model %s" */
    const gchar *batch;      /* GIMP's progress text, "Editing with dfx" */
    const gchar *cancelled;  /* "Edit cancelled." */
    const gchar *failed;     /* "dfx could not edit the layer: %s" (libdfx's message) */
    const gchar *layer_name; /* "%s (edited)" (the source's name) */
    const gchar *one_layer;  /* "dfx edits one layer at a time: ..." */
    const gchar *indexed;    /* "dfx edits RGB and grey images; ..." */
    gboolean heal;           /* for dfx__plugin_masked_open() */
    /* In the worker, with the model open: fills job->out; libdfx and GLib only. */
    dfx_status (*compute) (DfxRegionJob *job, dfx_model *model, gpointer data);
    /* NULL, or called on the result layer inside the undo group. */
    void (*finish) (DfxRegionJob *job, GimpLayer *result, gpointer data);
    gpointer data;           /* for compute and finish */
} DfxRegionSpec;

/* One edit or heal: the caller sets spec and model_dir; the rest is filled
 * by dfx__region_read() and the run; freed by dfx__region_job_clear(). */
struct DfxRegionJob {
    const DfxRegionSpec *spec;
    gchar *model_dir;
    guint width, height, channels; /* channels: the model's (1 or 3), set by the worker */
    gfloat *image1, *image3;       /* luminance and R'G'B', planar [-1, 1] */
    gfloat *mask;                  /* [0, 1] */
    gfloat *out;                   /* channels × height × width, [-1, 1] */
    gint ox, oy;                   /* the source's offsets */
    DfxRunWork run;                /* run.ui: the progress dialog while it runs */
    GError *error;
};

/* The procedure name running run (region-proc.c): an image procedure on
 * RGB and grey layers under DFX_MENU_PATH with menu_label, blurb and help
 * (translated), and its first argument "model" (a folder; "" the default)
 * described by model_blurb. */
GimpProcedure *dfx__region_procedure_new (GimpPlugIn *plug_in, const gchar *name, GimpRunImageFunc run,
                                          const gchar *menu_label, const gchar *blurb, const gchar *help,
                                          const gchar *model_blurb);

/* The start of an edit's or a heal's run() (j->spec set): NULL to go on
 * when drawables is one layer of an RGB or grey image, the user pressed
 * OK in dialog (interactive runs with a display; dfx__dialog_run()) and
 * the "model" argument resolved into j->model_dir (dfx__model_resolve());
 * else the return values of the calling error spec->one_layer, the
 * execution error spec->indexed, the cancel, or the failure to find the
 * model (j cleared). */
GimpValueArray *dfx__region_start (GimpProcedure *procedure, GimpRunMode run_mode, GimpImage *image,
                                   GimpDrawable **drawables, GimpProcedureConfig *config, DfxUiDialog *dialog,
                                   DfxRegionJob *j);

/* Reads source (both as luminance and as R'G'B'), its offsets and the mask
 * (dfx__plugin_read_mask()) into j.  FALSE with *error set. */
gboolean dfx__region_read (DfxRegionJob *j, GimpImage *image, GimpDrawable *source, gint mask_id, GError **error);

/* Runs the spec's compute with progress and cancel (dfx__run_work()).
 * FALSE with *error set (a cancel: code DFX_ERR_CANCELLED). */
gboolean dfx__region_run (DfxRegionJob *j, GimpRunMode run_mode, GError **error);

/* Unless unchanged, writes the result into source (replace) or a new layer
 * above it named by spec->layer_name, in one undo group, and shows
 * warning.  Returns the success values with that layer (or none) as value
 * 1; the caller sets the others and clears j. */
GimpValueArray *dfx__region_finish (GimpProcedure *procedure, DfxRegionJob *j, GimpImage *image, GimpDrawable *source,
                                    GimpRunMode run_mode, gboolean replace, gboolean unchanged, const char *warning);

/* Clears j and returns the failure values of error (taken). */
GimpValueArray *dfx__region_fail (GimpProcedure *procedure, DfxRegionJob *j, GError *error);

/* Frees what j holds (not j itself). */
void dfx__region_job_clear (DfxRegionJob *j);

/* Opens a libdfx context with the default options (so $DFX_DEVICE applies)
 * (plugin-ctx.c).  On success returns the context, to be freed with
 * dfx_ctx_destroy().  On failure returns NULL and sets *error in the
 * GIMP_PLUG_IN_ERROR domain, code = the dfx_status, with a translated
 * message that contains libdfx's own message. */
dfx_ctx *dfx__plugin_ctx_open (GError **error);

/* The context and model_dir's model for a run: the preload's when it loaded
 * that folder (dfx__preload_take(), which frees it), else opened and loaded
 * here.  FALSE with *error set on failure; *ctx and *model, possibly set,
 * are the caller's to destroy either way (model first). */
gboolean dfx__plugin_model_open (DfxPreload *preload, const gchar *model_dir, dfx_ctx **ctx, dfx_model **model,
                                 GError **error);

/* For Guided Edit and Heal Selection (heal: the message says which): opens
 * the context and loads the model dir (dfx__plugin_model_open() without a
 * preload), checks that it makes grey or RGB images (*channels) and
 * allocates *out for channels × w × h floats (g_free).
 * FALSE with *error set; *ctx and *model (NULL when not made) are the
 * caller's to destroy either way. */
gboolean dfx__plugin_masked_open (const gchar *dir, gboolean heal, guint w, guint h, dfx_ctx **ctx,
                                  dfx_model **model, guint *channels, gfloat **out, GError **error);

/* Runs the settings dialog spec (ui/dfx-ui.h) with its model chooser
 * filled (dialog.c): every installed model by name with its card's line,
 * and the default model for grey or colour images by name.
 * spec->model_property defaults to "model".  Returns TRUE to go on. */
gboolean dfx__dialog_run (GimpProcedure *procedure, GimpProcedureConfig *config, gboolean grey_image,
                          DfxUiDialog *spec);

/* A new layer (not inserted) holding the legend of likelihood heatmaps in
 * colour map cmap spanning lo..hi bits/dim (legend.c): a colour bar, the
 * scale under it and which end is unlikely, as wide as the image (120 to
 * 480 pixels; under 200 in a smaller font) and 52 high, grey with alpha in
 * grey images.  The caller inserts and places it. */
GimpLayer *dfx__legend_layer_new (GimpImage *image, dfx_colormap cmap, double lo, double hi);

/* ---- Generation, shared by both generate procedures (generate.c) --------- */

/* What one generation run asks for and what it produced.  Filled by
 * dfx__generate_run(); freed with dfx__generate_job_clear(). */
typedef struct {
    gchar *model_dir;           /* the model folder used */
    dfx_generate_params params; /* width/height are the size asked for */
    dfx_model_info info;        /* of the model, once loaded */
    gfloat *pixels;             /* count × channels × height × width, [-1, 1], unclamped */
    dfx_generate_result result;
    GError *error;              /* set by the worker on failure */
    DfxPreload *preload;        /* NULL, or taken (and freed) by the worker */
} DfxGenerateJob;

/* Declares the arguments both procedures share, after the ones of their
 * kind (run-mode or image/drawables): model, sampler, steps, skip, seed,
 * count.  Defaults are libdfx's (dfx_generate_params_defaults()). */
void dfx__generate_add_arguments (GimpProcedure *procedure);

/* Shows the settings dialog of a generate procedure (ui/): the model
 * chooser (default for grey_image), then width and height when the
 * procedure has them, the seed with its New seed button, the number of
 * images, the sampler, steps and skip under Advanced, and note (NULL:
 * none) at the bottom.  Returns TRUE to go on. */
gboolean dfx__generate_dialog (GimpProcedure *procedure, GimpProcedureConfig *config, gboolean grey_image,
                               const gchar *title, const gchar *note);

/* Runs one generation from config: resolves the model folder (the
 * argument, else the default for grey or colour images, model-path.c),
 * shows dfx's progress dialog titled title with its Cancel button for interactive runs
 * with a display (the work runs in a worker thread) or reports through
 * gimp_progress_update() otherwise, and leaves the pixels in *job.  Calls
 * nothing that changes an image.  Returns FALSE and sets *error on failure;
 * a cancel is the error code DFX_ERR_CANCELLED.  width/height 0: the
 * model's size.  preload: NULL, or one started before the dialog
 * (dfx__generate_preload()), taken by the worker (its context and model
 * used when they are of the resolved folder) and freed either way; with
 * DFX_TEST_PRELOAD=1 a run without one starts one itself (=cancel: starts
 * and cancels one first), so batch tests reach both paths. */
gboolean dfx__generate_run (GimpProcedureConfig *config, GimpRunMode run_mode, gboolean grey_image, guint width,
                            guint height, const gchar *title, DfxPreload *preload, DfxGenerateJob *job,
                            GError **error);

/* Frees what *job holds (not job itself). */
void dfx__generate_job_clear (DfxGenerateJob *job);

/* Writes image k of job into layer (same size as the images) through
 * babl: "Y'A float" for 1- and 2-channel models, "R'G'B'A float" for 3 and
 * 4, values mapped from [-1, 1] to [0, 1] and clamped.  babl converts to
 * the layer's format: a grey model in an RGB layer is replicated into the
 * three channels, an RGB model in a grey layer becomes its luminance. */
void dfx__generate_write_layer (const DfxGenerateJob *job, guint k, GimpLayer *layer);

/* A layer name for image k of job ("Generated (seed 7)", "Generated 2/4
 * (seed 7)").  Returns a new string (g_free). */
gchar *dfx__generate_layer_name (const DfxGenerateJob *job, guint k);

/* The PDB status of a failed run: GIMP_PDB_CANCEL when the user cancelled,
 * GIMP_PDB_EXECUTION_ERROR otherwise. */
GimpPDBStatusType dfx__generate_error_status (const GError *error);

/* ---- Model folders (model-path.c) ----------------------------------------- */

/* Names of the default models, looked up in each models folder: the grey
 * Fashion-MNIST model and the colour photo model of models/ (issue 18;
 * the Noto-emoji model stays installed and listed). */
#define DFX_MODEL_GREY "fashion-mnist-32"
#define DFX_MODEL_COLOUR "photo-32"

/* Finds the default model for grey (grey_image) or colour images: in each
 * models folder of the search order (dfx__model_search_path()), the
 * preferred model, else the other default (a grey model generates into a
 * colour image and back).  Returns the folder (g_free) or NULL and sets
 * *error with a message naming every folder looked in and how to get the
 * models. */
gchar *dfx__model_default (gboolean grey_image, GError **error);

/* The models folders looked in, in order: $DFX_MODELS (a list separated
 * by G_SEARCHPATH_SEPARATOR), gimp_directory()/dfx/models, the system data
 * folder <datadir>/dfx/models, and the models/ folder of the source tree the
 * plug-in was built from.  Returns a NULL-terminated array (g_strfreev). */
gchar **dfx__model_search_path (void);

/* An installed model, as the dialogs list it (dfx__model_list()). */
typedef struct {
    gchar *name;     /* the folder's name, e.g. "emoji-32" */
    gchar *dir;      /* the folder */
    gchar *label;    /* "photo-32 — dfx's default colour model (32×32, colour)" */
    guint width, height, channels; /* from unet/config.json; 0 when not found */
    gboolean fisher; /* fisher/ is there (likelihood needs it) */
} DfxModelEntry;

/* Every model folder in the models folders of the search order, the first
 * of each name, sorted by name; the label takes the line after the title
 * of the folder's README.md (its model card) when there is one.  Returns a
 * GPtrArray of DfxModelEntry that frees them (g_ptr_array_unref). */
GPtrArray *dfx__model_list (void);

/* The entry of the default model (dfx__model_default()) in list; NULL when
 * dfx found none. */
const DfxModelEntry *dfx__model_list_default (GPtrArray *list, gboolean grey_image);

/* Checks that dir is a model folder (unet/config.json in it).  Returns
 * FALSE and sets *error naming the folder and what is missing. */
gboolean dfx__model_check (const gchar *dir, GError **error);

/* The model folder a run uses: chosen (owned; from the config's "model") when
 * it is set and passes dfx__model_check(), the default model for the image's
 * kind when it is empty; NULL with *error set otherwise (chosen freed). */
gchar *dfx__model_resolve (gchar *chosen, gboolean grey_image, GError **error);

#endif /* DFX_PLUGIN_H */
