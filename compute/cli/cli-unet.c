/* cli-unet.c — `dfx unet`: evaluate the score network on a tensor file.
 *
 *   dfx unet --model DIR [--part unet|fisher] --input X.safetensors
 *            [--timestep T] [--output Y.safetensors] [--json]
 *
 * X holds `sample` (N, C, H, W float32) and optionally `timestep` (N or a
 * scalar); --timestep overrides it.  Y receives `sample`, the network output.
 * The debugging tool for users and the Vulkan side of the parity tests.
 */
#include "cli.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
usage (FILE *f, int rc)
{
    fprintf (f, "usage: dfx unet --model DIR [--part unet|fisher] --input X.safetensors [--timestep T]\n"
                "                [--output Y.safetensors] [--global-attention] [--json]\n\n"
                "Evaluates DIR/unet (or DIR/PART, e.g. the Fisher head fisher/) on tensor `sample` (N,C,H,W) of X at timestep T (or X's `timestep`)\n"
                "and writes the output as tensor `sample` of Y.  On inputs larger than the model's sample_size each\n"
                "attention query sees a window of that size around it; --global-attention: the whole input.\n");
    return rc;
}

int
dfx_cli_unet (int argc, char **argv)
{
    const char *model = NULL, *input = NULL, *output = NULL, *tstr = NULL, *part = "unet";
    int json = 0, global = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp (argv[i], "--json") == 0)
            json = 1;
        else if (strcmp (argv[i], "--global-attention") == 0)
            global = 1;
        else if (strcmp (argv[i], "--help") == 0)
            return usage (stdout, 0);
        else if (i + 1 < argc && strcmp (argv[i], "--model") == 0)
            model = argv[++i];
        else if (i + 1 < argc && strcmp (argv[i], "--part") == 0)
            part = argv[++i];
        else if (i + 1 < argc && strcmp (argv[i], "--input") == 0)
            input = argv[++i];
        else if (i + 1 < argc && strcmp (argv[i], "--output") == 0)
            output = argv[++i];
        else if (i + 1 < argc && strcmp (argv[i], "--timestep") == 0)
            tstr = argv[++i];
        else {
            fprintf (stderr, "dfx unet: unknown or incomplete argument '%s'\n", argv[i]);
            return usage (stderr, DFX_CLI_EXIT_USAGE);
        }
    }
    if (!model || !input) {
        fprintf (stderr, "dfx unet: --model and --input are required\n");
        return usage (stderr, DFX_CLI_EXIT_USAGE);
    }
    double tval = 0.0;
    if (tstr) {
        char *end = NULL;
        tval = strtod (tstr, &end);
        if (!end || *end || !isfinite (tval) || tval < 0.0 || tval > 1e6) {
            fprintf (stderr, "dfx unet: --timestep '%s' is not a number in [0, 1e6]\n", tstr);
            return DFX_CLI_EXIT_USAGE;
        }
    }
    if (strcmp (part, "unet") != 0 && strcmp (part, "fisher") != 0) {
        fprintf (stderr, "dfx unet: --part '%s' is not unet or fisher\n", part);
        return DFX_CLI_EXIT_USAGE;
    }
    dfx_ctx *ctx = NULL;
    dfx_unet *u = NULL;
    float *x = NULL, *t = NULL, *y = NULL, *tfile = NULL;
    int rc = 0, ndim = 0, tndim = 0;
    int64_t shape[8], tshape[8];
    dfx_status st = dfx_ctx_create (NULL, &ctx);
    if (st != DFX_OK)
        goto fail;
    double t0 = dfx_cli_now ();
    if ((st = dfx_unet_load_part (ctx, model, part, &u)) != DFX_OK)
        goto fail;
    double t_load = dfx_cli_now () - t0;
    dfx_unet_set_global_attention (u, global);
    if ((st = dfx_tensor_read (ctx, input, "sample", &ndim, shape, &x)) != DFX_OK)
        goto fail;
    dfx_unet_info info;
    dfx_unet_get_info (u, &info);
    if (ndim != 4 || shape[1] != info.in_channels || shape[0] < 1 || shape[0] > 4096 || shape[2] < 1 ||
        shape[3] < 1 || shape[2] > 8192 || shape[3] > 8192) {
        fprintf (stderr, "dfx unet: tensor 'sample' of %s must be (N, %u, H, W) with N ≤ 4096 and H, W ≤ 8192\n", input,
                 info.in_channels);
        rc = DFX_CLI_EXIT_USAGE;
        goto out;
    }
    uint32_t n = (uint32_t) shape[0], h = (uint32_t) shape[2], w = (uint32_t) shape[3];
    t = malloc (n * sizeof (float));
    y = malloc ((size_t) n * info.out_channels * h * w * sizeof (float));
    if (!t || !y) {
        fprintf (stderr, "dfx unet: out of host memory\n");
        rc = DFX_CLI_EXIT_ERROR;
        goto out;
    }
    if (tstr) {
        for (uint32_t i = 0; i < n; i++)
            t[i] = (float) tval;
    } else {
        if ((st = dfx_tensor_read (ctx, input, "timestep", &tndim, tshape, &tfile)) != DFX_OK) {
            fprintf (stderr, "dfx unet: give --timestep or a tensor 'timestep' in %s (%s)\n", input,
                     dfx_ctx_errmsg (ctx));
            rc = DFX_CLI_EXIT_USAGE;
            goto out;
        }
        int scalar = tndim == 0 || (tndim == 1 && tshape[0] == 1);
        if (!scalar && !(tndim == 1 && tshape[0] == n)) {
            fprintf (stderr, "dfx unet: tensor 'timestep' of %s must be a scalar or hold %u values\n", input, n);
            rc = DFX_CLI_EXIT_USAGE;
            goto out;
        }
        for (uint32_t i = 0; i < n; i++)
            t[i] = tfile[scalar ? 0 : i];
    }
    double t1 = dfx_cli_now ();
    if ((st = dfx_unet_forward (u, n, h, w, x, t, y)) != DFX_OK)
        goto fail;
    double t_first = dfx_cli_now () - t1;
    int64_t oshape[4] = {n, info.out_channels, h, w};
    if (output && (st = dfx_tensor_write (ctx, output, "sample", 4, oshape, y)) != DFX_OK)
        goto fail;
    dfx_unet_get_info (u, &info);
    const double rms = dfx_cli_rms (y, (size_t) n * info.out_channels * h * w);
    if (json) {
        cJSON *o = dfx_cli_json_output (oshape, rms);
        cJSON_AddNumberToObject (o, "parameters", (double) info.parameters);
        cJSON_AddNumberToObject (o, "weight_bytes", (double) info.weight_bytes);
        cJSON_AddNumberToObject (o, "activation_bytes", (double) info.activation_bytes);
        cJSON_AddNumberToObject (o, "dispatches", info.dispatches);
        cJSON_AddNumberToObject (o, "load_seconds", t_load);
        cJSON_AddNumberToObject (o, "forward_seconds", t_first);
        if (output)
            cJSON_AddStringToObject (o, "output", output);
        dfx_cli_print_json (o);
    } else {
        printf ("output (%u, %u, %u, %u), rms %.6g; %llu parameters; forward %.3f s (plan included)%s%s\n", n,
                info.out_channels, h, w, rms, (unsigned long long) info.parameters, t_first,
                output ? "; written to " : "", output ? output : "");
    }
    goto out;
fail:
    rc = dfx_cli_fail (ctx, st);
out:
    free (x), free (t), free (y);
    dfx_free (tfile);
    dfx_unet_destroy (u);
    dfx_ctx_destroy (ctx);
    return rc;
}
