/* plugin-ctx.c — opening a libdfx context from inside the plug-in.
 *
 * For: the one place where the plug-in creates a dfx_ctx and where a failed
 * dfx_status with its context message becomes a GError (GIMP_PLUG_IN_ERROR)
 * that run() functions hand to gimp_procedure_new_return_values().
 * dfx__plugin_model_open() loads the model on it (or takes the preload's);
 * dfx__plugin_masked_open() goes on from there to an edit's or a heal's.
 * Not for: device selection logic (libdfx reads $DFX_DEVICE itself) or any
 * use of the context.
 */
#include "dfx-plugin.h"

dfx_ctx *
dfx__plugin_ctx_open (GError **error)
{
    dfx_ctx_options opt;
    dfx_ctx *ctx = NULL;
    dfx_status status;

    dfx_ctx_options_defaults (&opt);
    status = dfx_ctx_create (&opt, &ctx);
    if (status == DFX_OK)
        return ctx;

    /* The library message (English, it names the device or the Vulkan
     * call) is kept whole inside a translated sentence.  A NULL ctx means
     * host memory ran out; dfx_ctx_errmsg (NULL) says so. */
    g_set_error (error, GIMP_PLUG_IN_ERROR, (gint)status, _ ("dfx could not open a Vulkan compute device: %s"),
                 dfx_ctx_errmsg (ctx));
    dfx_ctx_destroy (ctx);
    return NULL;
}

gboolean
dfx__plugin_masked_open (const gchar *dir, gboolean heal, guint w, guint h, dfx_ctx **ctx, dfx_model **model,
                         guint *channels, gfloat **out, GError **error)
{
    dfx_model_info info;

    *model = NULL;
    if (!dfx__plugin_model_open (NULL, dir, ctx, model, error))
        return FALSE;
    dfx_model_get_info (*model, &info);
    if (info.channels != 1 && info.channels != 3) {
        g_set_error (error, GIMP_PLUG_IN_ERROR, DFX_ERR_UNSUPPORTED,
                     heal ? _ ("The model %s makes images of %u channels; dfx heals with grey (1) or RGB (3) models.")
                          : _ ("The model %s makes images of %u channels; dfx edits with grey (1) or RGB (3) models."),
                     dir, info.channels);
        return FALSE;
    }
    *channels = info.channels;
    *out = g_try_new (gfloat, (gsize)info.channels * w * h);
    if (*out == NULL) {
        g_set_error (error, GIMP_PLUG_IN_ERROR, DFX_ERR_OUT_OF_HOST_MEMORY, _ ("Not enough memory for %u×%u."), w,
                     h);
        return FALSE;
    }
    return TRUE;
}

gboolean
dfx__plugin_model_open (DfxPreload *preload, const gchar *model_dir, dfx_ctx **ctx, dfx_model **model,
                        GError **error)
{
    dfx_status status;

    if (dfx__preload_take (preload, model_dir, ctx, model))
        return TRUE;
    *ctx = dfx__plugin_ctx_open (error);
    if (*ctx == NULL)
        return FALSE;
    status = dfx_model_load (*ctx, model_dir, model);
    if (status != DFX_OK) {
        g_set_error (error, GIMP_PLUG_IN_ERROR, (gint)status, _ ("dfx could not load the model %s: %s"), model_dir,
                     dfx_ctx_errmsg (*ctx));
        return FALSE;
    }
    return TRUE;
}
