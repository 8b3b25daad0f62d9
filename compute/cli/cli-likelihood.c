/* cli-likelihood.c — `dfx likelihood`: how likely an image is under a model.
 *
 *   dfx likelihood --model DIR IMAGE.png [--heatmap OUT.png] [--map OUT.safetensors]
 *                  [--solver rk45|heun|exp3m] [--rtol R] [--atol A] [--bits-tol B] [--steps N] [--sigma-min S]
 *                  [--dequantise] [--seed S] [--overlap N] [--batch N]
 *                  [--head whole|tiles] [--head-overlap N]
 *                  [--trace dftm|hutchinson|exact] [--probes K]
 *                  [--colormap viridis|magma|grey] [--range LO:HI] [--json]
 *
 * Prints the bits/dim of the image (and with --json every tile's figure).
 * --heatmap writes the per-pixel bits/dim through a perceptual colour map
 * (bright = unlikely), transparent where a pixel was not scored, at the
 * image's size; the colour range is the map's 1st to 99th percentile unless
 * --range gives one.  --map writes the float map as tensor `bits_per_dim`
 * (height × width, NaN where not scored).  No numerics here: everything is
 * dfx_likelihood(); the colours are libdfx's (dfx_colormap_*).
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
    fprintf (f,
             "usage: dfx likelihood --model DIR IMAGE.png [--heatmap OUT.png] [--map OUT.safetensors] [--json]\n"
             "                      [--solver rk45|heun|exp3m] [--rtol R] [--atol A] [--bits-tol B] [--steps N]\n"
             "                      [--sigma-min S]\n"
             "                      [--dequantise] [--seed S] [--tiles] [--overlap N] [--batch N]\n"
             "                      [--skip auto|pca|spectral|off] [--sigma-skip S] [--global-attention]\n"
             "                      [--head whole|tiles] [--head-overlap N]\n"
             "                      [--trace dftm|hutchinson|exact] [--probes K]\n"
             "                      [--colormap viridis|magma|grey] [--range LO:HI]\n\n"
             "Scores IMAGE under the model DIR (which needs its Fisher head, DIR/fisher): the probability-flow\n"
             "ODE log-likelihood with the divergence from the Fisher head (DF-TM), in bits per dimension of\n"
             "8-bit data (lower is more likely).  Images of any size go through the networks whole (their\n"
             "attention sees a window of the model's size; --global-attention: the whole image), so the map\n"
             "has no tile seams; --tiles (or\n"
             "--overlap N) cuts them into tiles of the model's size that overlap by N pixels (default a\n"
             "quarter tile), blended per pixel, as before.  On an image larger than the model the Fisher head\n"
             "runs on the whole image (--head whole, default) or on tiles of the model's size of the whole\n"
             "image's state, blended (--head tiles; --head-overlap N pixels, default a quarter tile).\n"
             "Transparent pixels are not scored.  --skip: above\n"
             "sigma_skip (gaussian/'s calibrated one, or --sigma-skip) the density is the Gaussian's of\n"
             "gaussian/ in closed form, so the networks run below it only (auto: when gaussian/ is there).\n"
             "  exp3m (default): N fixed steps of an exponential three-step multistep solver (N + 1\n"
             "evaluations, N default 16: within 0.01 bits/dim of the converged value on photo-32's test crops,\n"
             "as close as RK45 1e-3 on emoji-32's), RK45 (--rtol/--atol, default 1e-3; --bits-tol B also bounds\n"
             "each step's error of the log-density to B bits/dim; 3-4x the evaluations), or Heun with N fixed\n"
             "steps (2 evaluations each, N default 64).\n"
             "--heatmap: per-pixel bits/dim in a colour map (bright = unlikely; range: 1st-99th percentile or\n"
             "LO:HI); --map: the float map as tensor `bits_per_dim`.  --json adds every tile's figure.\n"
             "--trace: the divergence from the Fisher head (dftm, default) or, as a benchmark baseline, from\n"
             "the score network's Jacobian by finite differences: Hutchinson with K Rademacher probes of the\n"
             "seed (--probes, default 1) or the exact trace (2·d network images per ODE stage: slow).\n");
    return rc;
}

static int
write_heatmap (const char *path, const dfx_likelihood_result *r, dfx_colormap cmap, double lo, double hi)
{
    const size_t n = (size_t) r->width * r->height;
    uint8_t *pix = malloc (n * 4);
    if (!pix) {
        fprintf (stderr, "dfx likelihood: out of host memory for the heatmap\n");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        float rgb[3];
        const int scored = !isnan (r->map[i]);
        dfx_colormap_eval (cmap, (r->map[i] - lo) / (hi - lo), rgb);
        for (int k = 0; k < 3; k++)
            pix[4 * i + k] = scored ? (uint8_t) lroundf (rgb[k] * 255.0f) : 0;
        pix[4 * i + 3] = scored ? 255 : 0;
    }
    int rc = dfx_cli_png_write ("likelihood", path, pix, r->width, r->height, 4);
    free (pix);
    return rc;
}

int
dfx_cli_likelihood (int argc, char **argv)
{
    const char *model = NULL, *image = NULL, *heatmap = NULL, *map_out = NULL;
    int json = 0, has_range = 0, cmap = DFX_COLORMAP_VIRIDIS, steps_given = 0;
    double lo = 0, hi = 0;
    dfx_likelihood_params p;
    dfx_likelihood_params_defaults (&p);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        uint32_t u;
        if (strcmp (a, "--json") == 0)
            json = 1;
        else if (strcmp (a, "--dequantise") == 0 || strcmp (a, "--dequantize") == 0)
            p.dequantise = 1;
        else if (strcmp (a, "--help") == 0 || strcmp (a, "-h") == 0)
            return usage (stdout, 0);
        else if (v && strcmp (a, "--model") == 0)
            model = v, i++;
        else if (v && strcmp (a, "--heatmap") == 0)
            heatmap = v, i++;
        else if (v && strcmp (a, "--map") == 0)
            map_out = v, i++;
        else if (v && strcmp (a, "--solver") == 0) {
            static const char *const solvers[] = {"rk45", "heun", "exp3m"}; /* dfx_ode_solver order */
            int k;
            if (!dfx_cli_parse_choice ("likelihood", a, v, solvers, 3, &k))
                return DFX_CLI_EXIT_USAGE;
            p.solver = (dfx_ode_solver) k, i++;
        } else if (v && strcmp (a, "--trace") == 0) {
            static const char *const traces[] = {"dftm", "hutchinson", "exact"}; /* dfx_likelihood_trace order */
            int k;
            if (!dfx_cli_parse_choice ("likelihood", a, v, traces, 3, &k))
                return DFX_CLI_EXIT_USAGE;
            p.trace = (dfx_likelihood_trace) k, i++;
        } else if (v && strcmp (a, "--probes") == 0) {
            if (!dfx_cli_parse_u32 ("likelihood", a, v, 1, DFX_LIKELIHOOD_MAX_PROBES, &u))
                return DFX_CLI_EXIT_USAGE;
            p.probes = (uint32_t) u, i++;
        } else if (v && strcmp (a, "--rtol") == 0) {
            if (!dfx_cli_parse_double ("likelihood", a, v, 1e-12, 1.0, &p.rtol))
                return DFX_CLI_EXIT_USAGE;
            i++;
        } else if (v && strcmp (a, "--atol") == 0) {
            if (!dfx_cli_parse_double ("likelihood", a, v, 1e-12, 1.0, &p.atol))
                return DFX_CLI_EXIT_USAGE;
            i++;
        } else if (v && strcmp (a, "--bits-tol") == 0) {
            if (!dfx_cli_parse_double ("likelihood", a, v, 0.0, 1.0, &p.bits_tol))
                return DFX_CLI_EXIT_USAGE;
            i++;
        } else if (v && strcmp (a, "--sigma-min") == 0) {
            if (!dfx_cli_parse_double ("likelihood", a, v, 1e-6, 1e3, &p.sigma_min))
                return DFX_CLI_EXIT_USAGE;
            i++;
        } else if (v && strcmp (a, "--steps") == 0) {
            if (!dfx_cli_parse_u32 ("likelihood", a, v, 1, 100000, &u))
                return DFX_CLI_EXIT_USAGE;
            p.steps = (uint32_t) u, steps_given = 1, i++;
        } else if (strcmp (a, "--global-attention") == 0) {
            p.global_attention = 1;
        } else if (v && strcmp (a, "--head") == 0) {
            static const char *const heads[] = {"whole", "tiles"};
            int k;
            if (!dfx_cli_parse_choice ("likelihood", a, v, heads, 2, &k))
                return DFX_CLI_EXIT_USAGE;
            p.head_tiles = k, i++;
        } else if (v && strcmp (a, "--head-overlap") == 0) {
            if (!dfx_cli_parse_u32 ("likelihood", a, v, 0, 4096, &u))
                return DFX_CLI_EXIT_USAGE;
            p.head_overlap = (int) u, i++;
        } else if (strcmp (a, "--tiles") == 0) {
            p.layout = DFX_LIKELIHOOD_TILES;
        } else if (v && strcmp (a, "--overlap") == 0) {
            if (!dfx_cli_parse_u32 ("likelihood", a, v, 0, 4096, &u))
                return DFX_CLI_EXIT_USAGE;
            p.overlap = (int) u, p.layout = DFX_LIKELIHOOD_TILES, i++;
        } else if (v && strcmp (a, "--skip") == 0) {
            static const char *const skips[] = {"auto", "pca", "spectral", "off"}; /* dfx_skip order */
            int k;
            if (!dfx_cli_parse_choice ("likelihood", a, v, skips, 4, &k))
                return DFX_CLI_EXIT_USAGE;
            p.skip = (dfx_skip) k, i++;
        } else if (v && strcmp (a, "--sigma-skip") == 0) {
            if (!dfx_cli_parse_double ("likelihood", a, v, 1e-6, 1e6, &p.sigma_skip))
                return DFX_CLI_EXIT_USAGE;
            i++;
        } else if (v && strcmp (a, "--batch") == 0) {
            if (!dfx_cli_parse_u32 ("likelihood", a, v, 1, DFX_LIKELIHOOD_MAX_BATCH, &u))
                return DFX_CLI_EXIT_USAGE;
            p.batch = (uint32_t) u, i++;
        } else if (v && strcmp (a, "--seed") == 0) {
            if (!dfx_cli_parse_u64 ("likelihood", a, v, &p.seed))
                return DFX_CLI_EXIT_USAGE;
            i++;
        } else if (v && strcmp (a, "--colormap") == 0) {
            if ((cmap = dfx_colormap_from_name (v)) < 0) {
                fprintf (stderr, "dfx likelihood: --colormap '%s' is not viridis, magma or grey\n", v);
                return DFX_CLI_EXIT_USAGE;
            }
            i++;
        } else if (v && strcmp (a, "--range") == 0) {
            char *end = NULL;
            lo = strtod (v, &end);
            if (!end || *end != ':' || !isfinite (lo) || !(hi = strtod (end + 1, &end), end && !*end) ||
                !isfinite (hi) || !(hi > lo)) {
                fprintf (stderr, "dfx likelihood: --range '%s' is not LO:HI with LO < HI\n", v);
                return DFX_CLI_EXIT_USAGE;
            }
            has_range = 1, i++;
        } else if (a[0] != '-' && !image) {
            image = a;
        } else {
            fprintf (stderr, "dfx likelihood: unknown or incomplete argument '%s'\n", a);
            return usage (stderr, DFX_CLI_EXIT_USAGE);
        }
    }
    if (p.solver == DFX_ODE_HEUN && !steps_given)
        p.steps = 64; /* Heun's error at 16 steps is 0.4 bits/dim on the shipped models (BENCHMARKS.md) */
    if (!model || !image) {
        fprintf (stderr, "dfx likelihood: --model and an IMAGE are required\n");
        return usage (stderr, DFX_CLI_EXIT_USAGE);
    }

    dfx_cli_image img;
    if (dfx_cli_image_read ("likelihood", image, &img) != 0)
        return DFX_CLI_EXIT_ERROR;
    dfx_ctx *ctx = NULL;
    dfx_model *m = NULL;
    dfx_likelihood_result r = {0};
    int rc = 0;
    dfx_status st = dfx_cli_model_open (model, &ctx, &m, NULL);
    if (st != DFX_OK)
        goto fail;
    if ((st = dfx_likelihood (m, &p, img.pixels, img.width, img.height, img.channels, img.has_alpha, &r)) != DFX_OK)
        goto fail;
    if (!has_range && !dfx_colormap_range (r.map, (size_t) r.width * r.height, &lo, &hi))
        lo = r.bits_per_dim - 0.05, hi = r.bits_per_dim + 0.05;
    if (heatmap && write_heatmap (heatmap, &r, (dfx_colormap) cmap, lo, hi) != 0) {
        rc = DFX_CLI_EXIT_ERROR;
        goto out;
    }
    if (map_out) {
        const int64_t shape[2] = {r.height, r.width};
        if ((st = dfx_tensor_write (ctx, map_out, "bits_per_dim", 2, shape, r.map)) != DFX_OK)
            goto fail;
    }
    if (json) {
        cJSON *o = cJSON_CreateObject ();
        cJSON_AddStringToObject (o, "model", model);
        cJSON_AddStringToObject (o, "image", image);
        cJSON_AddNumberToObject (o, "width", r.width);
        cJSON_AddNumberToObject (o, "height", r.height);
        cJSON_AddNumberToObject (o, "image_channels", img.channels);
        cJSON_AddBoolToObject (o, "converted_from_indexed", img.was_indexed);
        cJSON_AddNumberToObject (o, "model_channels", r.channels);
        cJSON_AddNumberToObject (o, "bits_per_dim", r.bits_per_dim);
        cJSON_AddNumberToObject (o, "log_p", r.log_p);
        cJSON_AddNumberToObject (o, "dims", (double) r.dims);
        cJSON_AddNumberToObject (o, "pixels_scored", (double) r.pixels_scored);
        cJSON_AddNumberToObject (o, "pixels_excluded", (double) r.pixels_excluded);
        cJSON_AddStringToObject (o, "solver", dfx_ode_solver_name (p.solver));
        if (p.solver == DFX_ODE_RK45) {
            cJSON_AddNumberToObject (o, "rtol", p.rtol);
            cJSON_AddNumberToObject (o, "atol", p.atol);
            cJSON_AddNumberToObject (o, "bits_tol", p.bits_tol);
        }
        cJSON_AddStringToObject (o, "trace", dfx_likelihood_trace_name (p.trace));
        if (p.trace == DFX_TRACE_HUTCHINSON)
            cJSON_AddNumberToObject (o, "probes", p.probes);
        cJSON_AddNumberToObject (o, "steps", r.steps);
        cJSON_AddNumberToObject (o, "rejected", r.rejected);
        cJSON_AddNumberToObject (o, "nfe", r.nfe);
        cJSON_AddNumberToObject (o, "nfe_fisher", r.nfe_fisher);
        cJSON_AddNumberToObject (o, "sigma_min", r.sigma_min);
        cJSON_AddNumberToObject (o, "sigma_max", r.sigma_max);
        cJSON_AddBoolToObject (o, "dequantise", p.dequantise);
        cJSON_AddNumberToObject (o, "seed", (double) p.seed);
        cJSON_AddStringToObject (o, "layout", p.layout == DFX_LIKELIHOOD_TILES ? "tiles" : "whole");
        cJSON_AddStringToObject (o, "head", r.head_tiles_x ? "tiles" : "whole");
        cJSON_AddNumberToObject (o, "head_tiles_x", r.head_tiles_x);
        cJSON_AddNumberToObject (o, "head_tiles_y", r.head_tiles_y);
        cJSON_AddStringToObject (o, "skip", dfx_skip_name (r.skip));
        cJSON_AddNumberToObject (o, "sigma_skip", r.sigma_skip);
        cJSON *bands = cJSON_AddArrayToObject (o, "bands");
        for (int b = 0; b < DFX_LIKELIHOOD_BANDS; b++) {
            cJSON *e = cJSON_CreateObject ();
            cJSON_AddNumberToObject (e, "sigma_low", r.band_sigma[b]);
            cJSON_AddNumberToObject (e, "sigma_high", r.band_sigma[b + 1]);
            cJSON_AddNumberToObject (e, "bits_per_dim", r.band_bits[b]);
            cJSON_AddItemToArray (bands, e);
        }
        cJSON_AddNumberToObject (o, "prior_bits_per_dim", r.prior_bits);
        cJSON_AddNumberToObject (o, "tile_width", r.tile_width);
        cJSON_AddNumberToObject (o, "tile_height", r.tile_height);
        cJSON_AddNumberToObject (o, "tiles_x", r.tiles_x);
        cJSON_AddNumberToObject (o, "tiles_y", r.tiles_y);
        cJSON *tiles = cJSON_AddArrayToObject (o, "tiles");
        for (uint32_t t = 0; t < r.tile_count; t++) {
            cJSON *e = cJSON_CreateObject ();
            cJSON_AddNumberToObject (e, "x", r.tiles[t].x);
            cJSON_AddNumberToObject (e, "y", r.tiles[t].y);
            cJSON_AddNumberToObject (e, "width", r.tiles[t].width);
            cJSON_AddNumberToObject (e, "height", r.tiles[t].height);
            cJSON_AddNumberToObject (e, "pixels_scored", (double) r.tiles[t].pixels_scored);
            if (r.tiles[t].pixels_scored)
                cJSON_AddNumberToObject (e, "bits_per_dim", r.tiles[t].bits_per_dim);
            else
                cJSON_AddNullToObject (e, "bits_per_dim");
            cJSON_AddItemToArray (tiles, e);
        }
        if (heatmap) {
            cJSON_AddStringToObject (o, "heatmap", heatmap);
            cJSON_AddStringToObject (o, "colormap", dfx_colormap_name ((dfx_colormap) cmap));
        }
        cJSON_AddNumberToObject (o, "range_low", lo);
        cJSON_AddNumberToObject (o, "range_high", hi);
        if (map_out)
            cJSON_AddStringToObject (o, "map", map_out);
        cJSON_AddNumberToObject (o, "seconds", r.seconds);
        dfx_cli_print_json (o);
    } else {
        if (img.was_indexed)
            printf ("%s: indexed colours converted to RGB\n", image);
        printf ("%.4f bits/dim: %s (%ux%u, %llu pixels scored", r.bits_per_dim, image, r.width, r.height,
                (unsigned long long) r.pixels_scored);
        if (r.pixels_excluded)
            printf (", %llu transparent not scored", (unsigned long long) r.pixels_excluded);
        printf (") under %s; %u tile%s of %ux%u, %s, trace %s, skip %s (sigma %.3g), %u network evaluations, "
                "%.1f s\n", model, r.tile_count, r.tile_count == 1 ? "" : "s", r.tile_width, r.tile_height,
                dfx_ode_solver_name (p.solver), dfx_likelihood_trace_name (p.trace), dfx_skip_name (r.skip),
                r.sigma_skip, r.nfe, r.seconds);
        if (heatmap)
            printf ("wrote %s (%s, %.3g to %.3g bits/dim, bright = unlikely)\n", heatmap,
                    dfx_colormap_name ((dfx_colormap) cmap), lo, hi);
        if (map_out)
            printf ("wrote %s (tensor bits_per_dim)\n", map_out);
    }
    goto out;
fail:
    rc = dfx_cli_fail (ctx, st);
out:
    dfx_likelihood_result_clear (&r);
    free (img.pixels);
    dfx_model_destroy (m);
    dfx_ctx_destroy (ctx);
    return rc;
}
