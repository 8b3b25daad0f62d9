/* cli-generate.c — `dfx generate`: images from a model with the Gaussian skip.
 *
 *   dfx generate --model DIR [--steps N] [--sampler heun|euler|ddim|ddpm|ocm-ddpm|ocm-ddim|dpmpp-2m]
 *                [--skip auto|pca|spectral|off] [--sigma-skip S] [--seed S]
 *                [--size WxH] [--count K] [--grid] -o OUT.png
 *                [--tensor FILE.safetensors] [--noise FILE.safetensors] [--json]
 *
 * PNG: the model's [-1, 1] values map linearly to 8-bit (clamped) and are
 * tagged sRGB (the training images were 8-bit sRGB); 1 channel is grey, 2
 * grey + alpha, 3 RGB, 4 RGBA.  Several images are OUT-0.png, OUT-1.png, ...
 * (the index before the extension), or one grid with --grid (ceil(√K)
 * columns, 2-pixel black gaps).  --tensor also writes the float output as
 * tensor `sample` (K × C × H × W), --noise the unit noise it started from as
 * tensor `noise` (K × C × canvas), for references (models/sample_ref.py).
 * No numerics here: everything is dfx_generate().
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
             "usage: dfx generate --model DIR [--steps N] [--sampler heun|euler|ddim|ddpm|ocm-ddpm|ocm-ddim|dpmpp-2m]\n"
             "                    [--skip auto|pca|spectral|off] [--sigma-skip S] [--seed S] [--size WxH]\n"
             "                    [--count K] [--grid] -o OUT.png\n"
             "                    [--tensor FILE.safetensors] [--noise FILE.safetensors] [--json]\n\n"
             "Generates K images (default 1) of the model's size or WxH (each side 1..%d, padded internally to\n"
             "the U-Net's multiple) with N sampler steps (1..%d, default 18; sampler default dpmpp-2m, one\n"
             "network evaluation a step, heun two).  --skip auto (default) uses the calibrated Gaussian skip\n"
             "of DIR/gaussian when there is one; --sigma-skip overrides its sigma.\n"
             "K images (1..%d) are OUT-0.png ... OUT-<K-1>.png, or one grid with --grid.  --tensor writes the\n"
             "float images (tensor `sample`), --noise the unit noise they started from (tensor `noise`).\n"
             "ddpm, ocm-ddpm and ocm-ddim are stochastic (step noise from the seed); the OCM samplers need the\n"
             "model's Fisher head DIR/fisher (python3 models/train_fisher.py DIR makes it).\n",
             DFX_GENERATE_MAX_SIZE, DFX_GENERATE_MAX_STEPS, DFX_GENERATE_MAX_COUNT);
    return rc;
}

static int
parse_size (const char *s, uint32_t *w, uint32_t *h)
{
    char *x = strchr (s, 'x');
    char buf[64];
    if (!x || (size_t) (x - s) >= sizeof buf) {
        fprintf (stderr, "dfx generate: --size '%s' is not WxH\n", s);
        return 0;
    }
    memcpy (buf, s, (size_t) (x - s));
    buf[x - s] = '\0';
    return dfx_cli_parse_u32 ("generate", "--size width", buf, 1, DFX_GENERATE_MAX_SIZE, w) &&
           dfx_cli_parse_u32 ("generate", "--size height", x + 1, 1, DFX_GENERATE_MAX_SIZE, h);
}

/* "out.png", k → "out-k.png"; "out" → "out-k.png". */
static void
indexed_name (const char *base, uint32_t k, char *buf, size_t size)
{
    const char *dot = strrchr (base, '.'), *slash = strrchr (base, '/');
    if (dot && (!slash || dot > slash))
        snprintf (buf, size, "%.*s-%u%s", (int) (dot - base), base, k, dot);
    else
        snprintf (buf, size, "%s-%u.png", base, k);
}

static uint8_t
to8 (float v)
{
    double u = ((double) v + 1.0) * 127.5;
    return (uint8_t) (u <= 0.0 ? 0 : u >= 255.0 ? 255 : lround (u));
}

/* Image k of NCHW data into interleaved 8-bit at (x0, y0) of a canvas cw wide. */
static void
place (const float *img, uint32_t c, uint32_t w, uint32_t h, uint8_t *canvas, uint32_t cw, uint32_t x0, uint32_t y0)
{
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++)
            for (uint32_t ch = 0; ch < c; ch++)
                canvas[(((size_t) (y0 + y) * cw) + x0 + x) * c + ch] = to8 (img[((size_t) ch * h + y) * w + x]);
}

int
dfx_cli_generate (int argc, char **argv)
{
    const char *model = NULL, *output = NULL, *tensor = NULL, *noise_out = NULL;
    int json = 0, grid = 0;
    dfx_generate_params p;
    dfx_generate_params_defaults (&p);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp (a, "--json") == 0)
            json = 1;
        else if (strcmp (a, "--grid") == 0)
            grid = 1;
        else if (strcmp (a, "--help") == 0 || strcmp (a, "-h") == 0)
            return usage (stdout, 0);
        else if (v && strcmp (a, "--model") == 0)
            model = v, i++;
        else if (v && (strcmp (a, "-o") == 0 || strcmp (a, "--output") == 0))
            output = v, i++;
        else if (v && strcmp (a, "--tensor") == 0)
            tensor = v, i++;
        else if (v && strcmp (a, "--noise") == 0)
            noise_out = v, i++;
        else if (v && strcmp (a, "--steps") == 0) {
            if (!dfx_cli_parse_u32 ("generate", "--steps", v, 1, DFX_GENERATE_MAX_STEPS, &p.steps))
                return DFX_CLI_EXIT_USAGE;
            i++;
        } else if (v && strcmp (a, "--count") == 0) {
            if (!dfx_cli_parse_u32 ("generate", "--count", v, 1, DFX_GENERATE_MAX_COUNT, &p.count))
                return DFX_CLI_EXIT_USAGE;
            i++;
        } else if (v && strcmp (a, "--size") == 0) {
            if (!parse_size (v, &p.width, &p.height))
                return DFX_CLI_EXIT_USAGE;
            i++;
        } else if (v && strcmp (a, "--seed") == 0) {
            if (!dfx_cli_parse_u64 ("generate", a, v, &p.seed))
                return DFX_CLI_EXIT_USAGE;
            i++;
        } else if (v && strcmp (a, "--sigma-skip") == 0) {
            char *end = NULL;
            double s = strtod (v, &end);
            if (!end || *end || !isfinite (s) || s <= 0.0 || s > 1e6) {
                fprintf (stderr, "dfx generate: --sigma-skip '%s' is not a number in (0, 1e6]\n", v);
                return DFX_CLI_EXIT_USAGE;
            }
            p.sigma_skip = s, i++;
        } else if (v && strcmp (a, "--sampler") == 0) {
            dfx_sampler s;
            for (s = DFX_SAMPLER_HEUN; s <= DFX_SAMPLER_LAST; s++)
                if (strcmp (v, dfx_sampler_name (s)) == 0)
                    break;
            if (s > DFX_SAMPLER_LAST) {
                fprintf (stderr, "dfx generate: --sampler '%s' is not heun, euler, ddim, ddpm, ocm-ddpm, ocm-ddim or dpmpp-2m\n",
                         v);
                return DFX_CLI_EXIT_USAGE;
            }
            p.sampler = s, i++;
        } else if (v && strcmp (a, "--skip") == 0) {
            dfx_skip s;
            for (s = DFX_SKIP_AUTO; s <= DFX_SKIP_OFF; s++)
                if (strcmp (v, dfx_skip_name (s)) == 0)
                    break;
            if (s > DFX_SKIP_OFF) {
                fprintf (stderr, "dfx generate: --skip '%s' is not auto, pca, spectral or off\n", v);
                return DFX_CLI_EXIT_USAGE;
            }
            p.skip = s, i++;
        } else {
            fprintf (stderr, "dfx generate: unknown or incomplete argument '%s'\n", a);
            return usage (stderr, DFX_CLI_EXIT_USAGE);
        }
    }
    if (!model || (!output && !tensor)) {
        fprintf (stderr, "dfx generate: --model and -o (or --tensor) are required\n");
        return usage (stderr, DFX_CLI_EXIT_USAGE);
    }

    dfx_ctx *ctx = NULL;
    dfx_model *m = NULL;
    float *img = NULL, *noise = NULL;
    uint8_t *pix = NULL;
    cJSON *names = cJSON_CreateArray ();
    int rc = 0;
    dfx_model_info mi;
    dfx_status st = dfx_cli_model_open (model, &ctx, &m, &mi);
    if (st != DFX_OK)
        goto fail;
    const uint32_t c = mi.channels, w = p.width ? p.width : mi.sample_width, h = p.height ? p.height : mi.sample_height;
    if (output && (c < 1 || c > 4)) {
        fprintf (stderr, "dfx generate: the model has %u channels; PNG takes 1 to 4 (use --tensor only)\n", c);
        rc = DFX_CLI_EXIT_USAGE;
        goto out;
    }
    const size_t per = (size_t) c * (w ? w : 1) * (h ? h : 1);
    if ((unsigned long long) per * p.count > DFX_GENERATE_MAX_FLOATS) {
        fprintf (stderr, "dfx generate: %u images of %u × %ux%u are more values than the limit %llu\n", p.count, c,
                 w, h, (unsigned long long) DFX_GENERATE_MAX_FLOATS);
        rc = DFX_CLI_EXIT_USAGE;
        goto out;
    }
    if (!(img = malloc (per * p.count * sizeof *img))) {
        fprintf (stderr, "dfx generate: out of host memory for %u images of %ux%u\n", p.count, w, h);
        rc = DFX_CLI_EXIT_ERROR;
        goto out;
    }
    dfx_generate_result r;
    if ((st = dfx_generate (m, &p, img, &r)) != DFX_OK)
        goto fail;
    if (r.warning[0])
        fprintf (stderr, "dfx generate: warning: %s\n", r.warning);

    if (output) {
        uint32_t cols = 1, rows = 1, gap = 2;
        if (grid) {
            while (cols * cols < p.count)
                cols++;
            rows = (p.count + cols - 1) / cols;
        }
        uint32_t cw = grid ? cols * w + (cols - 1) * gap : w, ch = grid ? rows * h + (rows - 1) * gap : h;
        if (!(pix = calloc ((size_t) cw * ch * c, 1))) {
            fprintf (stderr, "dfx generate: out of host memory for the PNG\n");
            rc = DFX_CLI_EXIT_ERROR;
            goto out;
        }
        for (uint32_t k = 0; k < p.count; k++) {
            char name[4096];
            if (grid || p.count == 1)
                snprintf (name, sizeof name, "%s", output);
            else
                indexed_name (output, k, name, sizeof name);
            place (img + k * per, c, w, h, pix, cw, grid ? (k % cols) * (w + gap) : 0,
                   grid ? (k / cols) * (h + gap) : 0);
            if (!grid || k + 1 == p.count) {
                if (dfx_cli_png_write ("generate", name, pix, cw, ch, c) != 0) {
                    rc = DFX_CLI_EXIT_ERROR;
                    goto out;
                }
                cJSON_AddItemToArray (names, cJSON_CreateString (name));
            }
        }
    }
    if (tensor) {
        const int64_t ss[4] = {p.count, c, h, w};
        if ((st = dfx_tensor_write (ctx, tensor, "sample", 4, ss, img)) != DFX_OK)
            goto fail;
    }
    if (noise_out) {
        const size_t np = (size_t) c * r.canvas_width * r.canvas_height;
        if (!(noise = malloc (np * p.count * sizeof *noise))) {
            fprintf (stderr, "dfx generate: out of host memory for the noise\n");
            rc = DFX_CLI_EXIT_ERROR;
            goto out;
        }
        for (uint32_t k = 0; k < p.count; k++)
            dfx_generate_noise (p.seed, p.first_index + k, c, r.canvas_height, r.canvas_width, noise + k * np);
        const int64_t ns[4] = {p.count, c, r.canvas_height, r.canvas_width};
        if ((st = dfx_tensor_write (ctx, noise_out, "noise", 4, ns, noise)) != DFX_OK)
            goto fail;
    }
    if (json) {
        cJSON *o = cJSON_CreateObject ();
        cJSON_AddStringToObject (o, "model", model);
        cJSON_AddItemToObject (o, "images", names);
        names = NULL;
        if (tensor)
            cJSON_AddStringToObject (o, "tensor", tensor);
        cJSON_AddNumberToObject (o, "count", p.count);
        cJSON_AddNumberToObject (o, "channels", c);
        cJSON_AddNumberToObject (o, "width", w);
        cJSON_AddNumberToObject (o, "height", h);
        cJSON_AddNumberToObject (o, "canvas_width", r.canvas_width);
        cJSON_AddNumberToObject (o, "canvas_height", r.canvas_height);
        cJSON_AddNumberToObject (o, "seed", (double) p.seed);
        cJSON_AddStringToObject (o, "sampler", dfx_sampler_name (p.sampler));
        cJSON_AddNumberToObject (o, "steps", p.steps);
        cJSON_AddStringToObject (o, "skip_requested", dfx_skip_name (p.skip));
        cJSON_AddStringToObject (o, "skip", dfx_skip_name (r.skip));
        cJSON_AddNumberToObject (o, "sigma_skip", r.sigma_skip);
        cJSON_AddNumberToObject (o, "sigma_max", r.sigma_max);
        cJSON_AddNumberToObject (o, "steps_skipped", r.steps_skipped);
        cJSON_AddNumberToObject (o, "nfe", r.nfe);
        cJSON_AddNumberToObject (o, "nfe_saved", r.nfe_saved);
        cJSON_AddNumberToObject (o, "seconds", r.seconds);
        cJSON_AddStringToObject (o, "warning", r.warning);
        dfx_cli_print_json (o);
    } else {
        printf ("%u image%s of %ux%u: %s, %u steps, skip %s", p.count, p.count == 1 ? "" : "s", w, h,
                dfx_sampler_name (p.sampler), p.steps, dfx_skip_name (r.skip));
        if (r.skip != DFX_SKIP_OFF)
            printf (" to sigma %.4g (%u steps skipped)", r.sigma_skip, r.steps_skipped);
        printf ("; %u network evaluations, %u saved; %.2f s\n", r.nfe, r.nfe_saved, r.seconds);
        for (int i = 0; names && i < cJSON_GetArraySize (names); i++)
            printf ("wrote %s\n", cJSON_GetArrayItem (names, i)->valuestring);
    }
    goto out;
fail:
    rc = dfx_cli_fail (ctx, st);
out:
    cJSON_Delete (names);
    free (img), free (noise), free (pix);
    dfx_model_destroy (m);
    dfx_ctx_destroy (ctx);
    return rc;
}
