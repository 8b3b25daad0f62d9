/* cli-png-planar.c — PNG files to and from the model's planar float layout
 * for the CLI subcommands that feed images to a model (edit): libpng's
 * simplified API converts any PNG to grey, grey + alpha, RGB or RGBA 8-bit,
 * and back.  Not for: interleaved 8-bit files (cli-png.c). */
#include "cli.h"

#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static png_uint_32
format_of (uint32_t channels)
{
    static const png_uint_32 f[] = {0, PNG_FORMAT_GRAY, PNG_FORMAT_GA, PNG_FORMAT_RGB, PNG_FORMAT_RGBA};
    return f[channels];
}

int
dfx_cli_png_read_planar (const char *path, uint32_t channels, float lo, float hi, float **out, uint32_t *w, uint32_t *h)
{
    png_image im;
    memset (&im, 0, sizeof im);
    im.version = PNG_IMAGE_VERSION;
    *out = NULL;
    if (channels < 1 || channels > 4) {
        fprintf (stderr, "dfx: %u channels cannot come from a PNG file\n", channels);
        return -1;
    }
    if (!png_image_begin_read_from_file (&im, path)) {
        fprintf (stderr, "dfx: cannot read %s: %s\n", path, im.message);
        return -1;
    }
    im.format = format_of (channels);
    size_t np = (size_t) im.width * im.height, nb = PNG_IMAGE_SIZE (im);
    uint8_t *pix = malloc (nb);
    float *f = malloc (np * channels * sizeof *f);
    if (!pix || !f || !png_image_finish_read (&im, NULL, pix, 0, NULL)) {
        fprintf (stderr, "dfx: cannot read %s: %s\n", path, pix && f ? im.message : "out of memory");
        png_image_free (&im);
        free (pix), free (f);
        return -1;
    }
    for (size_t i = 0; i < np; i++)
        for (uint32_t c = 0; c < channels; c++)
            f[c * np + i] = lo + (hi - lo) * (float) pix[i * channels + c] / 255.0f;
    free (pix);
    *out = f;
    *w = im.width;
    *h = im.height;
    return 0;
}

int
dfx_cli_png_write_planar (const char *path, const float *img, uint32_t channels, uint32_t w, uint32_t h)
{
    png_image im;
    memset (&im, 0, sizeof im);
    im.version = PNG_IMAGE_VERSION;
    im.width = w;
    im.height = h;
    im.format = format_of (channels);
    size_t np = (size_t) w * h;
    uint8_t *pix = malloc (np * channels);
    if (!pix) {
        fprintf (stderr, "dfx: out of memory writing %s\n", path);
        return -1;
    }
    for (size_t i = 0; i < np; i++)
        for (uint32_t c = 0; c < channels; c++) {
            double u = ((double) img[c * np + i] + 1.0) * 127.5;
            pix[i * channels + c] = (uint8_t) (u <= 0.0 ? 0 : u >= 255.0 ? 255 : lround (u));
        }
    int ok = png_image_write_to_file (&im, path, 0, pix, 0, NULL);
    if (!ok)
        fprintf (stderr, "dfx: cannot write %s: %s\n", path, im.message);
    free (pix);
    return ok ? 0 : -1;
}
