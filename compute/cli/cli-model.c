/* cli-model.c — the start of the subcommands that run a model folder
 * (diagnose, generate, likelihood): a context with the default options and
 * the model loaded in it.  What runs on the model is each subcommand's
 * business. */
#include "cli.h"

dfx_status
dfx_cli_model_open (const char *dir, dfx_ctx **ctx, dfx_model **m, dfx_model_info *mi)
{
    *m = NULL;
    dfx_status st = dfx_ctx_create (NULL, ctx);
    if (st == DFX_OK)
        st = dfx_model_load (*ctx, dir, m);
    if (st == DFX_OK && mi)
        dfx_model_get_info (*m, mi);
    return st;
}
