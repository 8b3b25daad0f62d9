/* cli-masked.c — what `dfx edit` and `dfx heal` share around their one
 * library call: the context and the model, the image (and the guide) read as
 * the model's channels on [-1, 1] and the mask as grey on [0, 1], all of one
 * size, the output buffer, and the window in the JSON report. */
#include "cli.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>

int
dfx_cli_masked_open (dfx_cli_masked *s, const char *cmd, const char *model, const char *image, const char *guide,
                     const char *mask)
{
    dfx_ctx_options opt;
    dfx_ctx_options_defaults (&opt);
    dfx_status st = dfx_ctx_create (&opt, &s->ctx);
    if (st != DFX_OK || (st = dfx_model_load (s->ctx, model, &s->model)) != DFX_OK)
        return dfx_cli_fail (s->ctx, st);
    dfx_model_info mi;
    dfx_model_get_info (s->model, &mi);
    const uint32_t c = s->channels = mi.channels;
    if (c < 1 || c > 4) {
        fprintf (stderr, "dfx %s: the model has %u channels; PNG images have 1 to 4\n", cmd, c);
        return DFX_CLI_EXIT_USAGE;
    }
    uint32_t gw = 0, gh = 0, mw, mh;
    if (dfx_cli_png_read_planar (image, c, -1.0f, 1.0f, &s->image, &s->width, &s->height) ||
        (guide && dfx_cli_png_read_planar (guide, c, -1.0f, 1.0f, &s->guide, &gw, &gh)) ||
        dfx_cli_png_read_planar (mask, 1, 0.0f, 1.0f, &s->mask, &mw, &mh))
        return DFX_CLI_EXIT_ERROR;
    const int bad_guide = guide && (gw != s->width || gh != s->height);
    if (bad_guide || mw != s->width || mh != s->height) {
        fprintf (stderr, "dfx %s: the %s %s is %ux%u, the image %s is %ux%u: %s must have the image's size\n", cmd,
                 bad_guide ? "guide" : "mask", bad_guide ? guide : mask, bad_guide ? gw : mw, bad_guide ? gh : mh,
                 image, s->width, s->height, guide ? "guide and mask" : "the mask");
        return DFX_CLI_EXIT_USAGE;
    }
    if (!(s->out = malloc ((size_t) c * s->width * s->height * sizeof *s->out))) {
        fprintf (stderr, "dfx %s: out of memory\n", cmd);
        return DFX_CLI_EXIT_ERROR;
    }
    return 0;
}

void
dfx_cli_masked_close (dfx_cli_masked *s)
{
    free (s->image), free (s->guide), free (s->mask), free (s->out);
    dfx_model_destroy (s->model);
    dfx_ctx_destroy (s->ctx);
}

void
dfx_cli_json_window (cJSON *o, uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
    cJSON *win = cJSON_CreateArray ();
    const double wv[4] = {x, y, w, h};
    for (int q = 0; q < 4; q++)
        cJSON_AddItemToArray (win, cJSON_CreateNumber (wv[q]));
    cJSON_AddItemToObject (o, "window", win);
}
