/* plugin-ctx.c — opening a libdfx context from inside the plug-in.
 *
 * For: the one place where the plug-in creates a dfx_ctx and where a failed
 * dfx_status with its context message becomes a GError (GIMP_PLUG_IN_ERROR)
 * that run() functions hand to gimp_procedure_new_return_values().
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
