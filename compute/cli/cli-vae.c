/* cli-vae.c — `dfx vae`: run an AutoencoderKL (DIR/vae) on a tensor file.
 *
 *   dfx vae --model DIR --encode --input X.safetensors --output Y.safetensors [--logvar Z.safetensors]
 *           [--repeat N] [--json]
 *   dfx vae --model DIR --decode --input Y.safetensors --output X.safetensors [--repeat N] [--json]
 *
 * --encode reads tensor `sample` (N, C, H, W float32) and writes the
 * posterior mean as `latent` (unscaled, as diffusers' encode(); --logvar also
 * writes the clamped log-variance as `logvar`); --decode reads `latent` and
 * writes `sample`.  --repeat N runs it N more times and reports the best and
 * median seconds (tests/bench/bench-vae.py).  The debugging tool and the
 * Vulkan side of the parity tests.
 */
#include "cli.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
usage (FILE *f, int rc)
{
    fprintf (f, "usage: dfx vae --model DIR (--encode|--decode) --input X.safetensors --output Y.safetensors\n"
                "               [--logvar Z.safetensors] [--repeat N] [--json]\n\n"
                "Runs the AutoencoderKL of DIR/vae.  --encode: tensor `sample` (N,C,H,W) of X → the latent mean as\n"
                "tensor `latent` of Y (unscaled; --logvar writes the log-variance as `logvar` of Z).\n"
                "--decode: tensor `latent` of X → tensor `sample` of Y.\n"
                "--repeat N: N more runs after the first (which plans), best and median seconds reported.\n");
    return rc;
}

int
dfx_cli_vae (int argc, char **argv)
{
    const char *model = NULL, *input = NULL, *output = NULL, *lvpath = NULL;
    int json = 0, mode = 0, repeat = 0; /* mode 1 encode, 2 decode */
    for (int i = 1; i < argc; i++) {
        if (strcmp (argv[i], "--json") == 0)
            json = 1;
        else if (strcmp (argv[i], "--help") == 0)
            return usage (stdout, 0);
        else if (strcmp (argv[i], "--encode") == 0 || strcmp (argv[i], "--decode") == 0) {
            int m = argv[i][2] == 'e' ? 1 : 2;
            if (mode && mode != m) {
                fprintf (stderr, "dfx vae: give one of --encode and --decode\n");
                return usage (stderr, DFX_CLI_EXIT_USAGE);
            }
            mode = m;
        } else if (i + 1 < argc && strcmp (argv[i], "--model") == 0)
            model = argv[++i];
        else if (i + 1 < argc && strcmp (argv[i], "--input") == 0)
            input = argv[++i];
        else if (i + 1 < argc && strcmp (argv[i], "--output") == 0)
            output = argv[++i];
        else if (i + 1 < argc && strcmp (argv[i], "--logvar") == 0)
            lvpath = argv[++i];
        else if (i + 1 < argc && strcmp (argv[i], "--repeat") == 0) {
            char *end = NULL;
            long r = strtol (argv[++i], &end, 10);
            if (!end || *end || r < 0 || r > 1000) {
                fprintf (stderr, "dfx vae: --repeat '%s' is not a count in [0, 1000]\n", argv[i]);
                return DFX_CLI_EXIT_USAGE;
            }
            repeat = (int) r;
        }
        else {
            fprintf (stderr, "dfx vae: unknown or incomplete argument '%s'\n", argv[i]);
            return usage (stderr, DFX_CLI_EXIT_USAGE);
        }
    }
    if (!model || !input || !output || !mode) {
        fprintf (stderr, "dfx vae: --model, --encode or --decode, --input and --output are required\n");
        return usage (stderr, DFX_CLI_EXIT_USAGE);
    }
    if (lvpath && mode != 1) {
        fprintf (stderr, "dfx vae: --logvar goes with --encode\n");
        return usage (stderr, DFX_CLI_EXIT_USAGE);
    }
    const char *in_name = mode == 1 ? "sample" : "latent", *out_name = mode == 1 ? "latent" : "sample";
    dfx_ctx *ctx = NULL;
    dfx_vae *v = NULL;
    float *x = NULL, *y = NULL, *lv = NULL;
    int rc = 0, ndim = 0;
    int64_t shape[8];
    dfx_status st = dfx_ctx_create (NULL, &ctx);
    if (st != DFX_OK)
        goto fail;
    double t0 = dfx_cli_now ();
    if ((st = dfx_vae_load (ctx, model, &v)) != DFX_OK)
        goto fail;
    double t_load = dfx_cli_now () - t0;
    if ((st = dfx_tensor_read (ctx, input, in_name, &ndim, shape, &x)) != DFX_OK)
        goto fail;
    dfx_vae_info info;
    dfx_vae_get_info (v, &info);
    const uint32_t f = info.downscale, cin = mode == 1 ? info.in_channels : info.latent_channels;
    const int64_t lim = mode == 1 ? 8192 : 8192 / f;
    if (ndim != 4 || shape[1] != cin || shape[0] < 1 || shape[0] > 4096 || shape[2] < 1 || shape[3] < 1 ||
        shape[2] > lim || shape[3] > lim || (mode == 1 && (shape[2] % f || shape[3] % f))) {
        fprintf (stderr,
                 "dfx vae: tensor '%s' of %s must be (N, %u, H, W) with N ≤ 4096 and H, W ≤ %lld%s (it is %d-D",
                 in_name, input, cin, (long long) lim, mode == 1 ? ", multiples of the downscale" : "", ndim);
        for (int i = 0; i < ndim; i++)
            fprintf (stderr, "%s%lld", i ? "×" : " ", (long long) shape[i]);
        fprintf (stderr, "; downscale %u)\n", f);
        rc = DFX_CLI_EXIT_USAGE;
        goto out;
    }
    uint32_t n = (uint32_t) shape[0], h = (uint32_t) shape[2], w = (uint32_t) shape[3];
    int64_t oshape[4] = {n, mode == 1 ? info.latent_channels : info.out_channels, mode == 1 ? h / f : h * f,
                         mode == 1 ? w / f : w * f};
    size_t nout = (size_t) (oshape[0] * oshape[1] * oshape[2] * oshape[3]);
    y = malloc (nout * sizeof (float));
    lv = lvpath ? malloc (nout * sizeof (float)) : NULL;
    if (!y || (lvpath && !lv)) {
        fprintf (stderr, "dfx vae: out of host memory\n");
        rc = DFX_CLI_EXIT_ERROR;
        goto out;
    }
    double t1 = dfx_cli_now ();
    st = mode == 1 ? dfx_vae_encode (v, n, h, w, x, y, lv) : dfx_vae_decode (v, n, h, w, x, y);
    if (st != DFX_OK)
        goto fail;
    double t_run = dfx_cli_now () - t1, best = 0.0, median = 0.0;
    if (repeat) {
        double *times = malloc ((size_t) repeat * sizeof *times);
        if (!times) {
            fprintf (stderr, "dfx vae: out of host memory\n");
            rc = DFX_CLI_EXIT_ERROR;
            goto out;
        }
        for (int i = 0; i < repeat && st == DFX_OK; i++) {
            double t2 = dfx_cli_now ();
            st = mode == 1 ? dfx_vae_encode (v, n, h, w, x, y, lv) : dfx_vae_decode (v, n, h, w, x, y);
            times[i] = dfx_cli_now () - t2;
        }
        if (st != DFX_OK) {
            free (times);
            goto fail;
        }
        for (int i = 1; i < repeat; i++) /* insertion sort: a few numbers */
            for (int j = i; j > 0 && times[j] < times[j - 1]; j--) {
                double t = times[j];
                times[j] = times[j - 1], times[j - 1] = t;
            }
        best = times[0], median = times[repeat / 2];
        free (times);
    }
    if ((st = dfx_tensor_write (ctx, output, out_name, 4, oshape, y)) != DFX_OK)
        goto fail;
    if (lvpath && (st = dfx_tensor_write (ctx, lvpath, "logvar", 4, oshape, lv)) != DFX_OK)
        goto fail;
    const double rms = dfx_cli_rms (y, nout);
    if (json) {
        cJSON *o = dfx_cli_json_output (oshape, rms);
        cJSON_AddStringToObject (o, "tensor", out_name);
        cJSON_AddNumberToObject (o, "parameters", (double) info.parameters);
        cJSON_AddNumberToObject (o, "downscale", info.downscale);
        cJSON_AddNumberToObject (o, "scaling_factor", info.scaling_factor);
        cJSON_AddNumberToObject (o, "shift_factor", info.shift_factor);
        cJSON_AddNumberToObject (o, "load_seconds", t_load);
        cJSON_AddNumberToObject (o, "run_seconds", t_run);
        if (repeat) {
            cJSON_AddNumberToObject (o, "best_s", best);
            cJSON_AddNumberToObject (o, "median_s", median);
        }
        cJSON_AddStringToObject (o, "output", output);
        dfx_cli_print_json (o);
    } else {
        printf ("%s (%lld, %lld, %lld, %lld), rms %.6g; %llu parameters; %.3f s (plan included); written to %s\n",
                out_name, (long long) oshape[0], (long long) oshape[1], (long long) oshape[2], (long long) oshape[3],
                rms, (unsigned long long) info.parameters, t_run, output);
    }
    goto out;
fail:
    rc = dfx_cli_fail (ctx, st);
out:
    free (y), free (lv);
    dfx_free (x);
    dfx_vae_destroy (v);
    dfx_ctx_destroy (ctx);
    return rc;
}
