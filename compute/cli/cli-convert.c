/* cli-convert.c — `dfx convert`: a model's PyTorch .bin weights written as
 * safetensors beside them (dfx_model_convert), so later loads map the file.
 *
 *   dfx convert --model DIR [--variant NAME] [--json]
 */
#include "cli.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

static int
usage (FILE *f, int rc)
{
    fprintf (f, "usage: dfx convert --model DIR [--variant NAME] [--json]\n\n"
                "Writes the U-Net weights of DIR as diffusion_pytorch_model[.NAME].safetensors beside its\n"
                "diffusion_pytorch_model[.NAME].bin (or the shards of a .bin.index.json), tensor by tensor in\n"
                "their own precision, so that later loads read the safetensors file directly.  The .bin stays.\n"
                "Nothing is written when the weights already are safetensors.\n");
    return rc;
}

int
dfx_cli_convert (int argc, char **argv)
{
    const char *model = NULL;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp (argv[i], "--json") == 0)
            json = 1;
        else if (strcmp (argv[i], "--help") == 0)
            return usage (stdout, 0);
        else if (i + 1 < argc && strcmp (argv[i], "--model") == 0)
            model = argv[++i];
        else {
            fprintf (stderr, "dfx convert: unknown or incomplete argument '%s'\n", argv[i]);
            return usage (stderr, DFX_CLI_EXIT_USAGE);
        }
    }
    if (!model) {
        fprintf (stderr, "dfx convert: --model is required\n");
        return usage (stderr, DFX_CLI_EXIT_USAGE);
    }
    dfx_ctx_options opt;
    dfx_ctx_options_defaults (&opt);
    opt.offline = 1;
    dfx_ctx *ctx = NULL;
    char *written = NULL;
    dfx_status st = dfx_ctx_create (&opt, &ctx);
    if (st == DFX_OK)
        st = dfx_model_convert (ctx, model, &written);
    if (st != DFX_OK) {
        int rc = dfx_cli_fail (ctx, st);
        dfx_ctx_destroy (ctx);
        return rc;
    }
    if (json) {
        cJSON *o = cJSON_CreateObject ();
        if (o && (written ? cJSON_AddStringToObject (o, "written", written) : cJSON_AddNullToObject (o, "written"))) {
            char *text = cJSON_PrintUnformatted (o);
            if (text)
                printf ("%s\n", text);
            cJSON_free (text);
        }
        cJSON_Delete (o);
    } else if (written)
        printf ("wrote %s\n", written);
    else
        printf ("%s: the weights already are safetensors; nothing to do\n", model);
    dfx_free (written);
    dfx_ctx_destroy (ctx);
    return 0;
}
