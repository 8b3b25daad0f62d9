/* cli-image.c — reading a PNG file for the CLI as interleaved floats in
 * [0, 1] (cli-png.c reads and writes 8-bit data; this keeps 16-bit
 * precision and says when a palette was converted).
 *
 * Reading keeps grey as grey (1 or 2 channels) and colour as RGB (3 or 4);
 * an indexed (palette) image is converted to RGB, with alpha when it has a
 * transparency chunk; 1-, 2- and 4-bit grey is expanded; 16-bit samples keep
 * their precision (v / 65535).  No colour management: the values are the
 * file's encoded values, which is what the models were trained on.
 */
#include "cli.h"

#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
dfx_cli_image_read (const char *cmd, const char *path, dfx_cli_image *img)
{
    memset (img, 0, sizeof *img);
    FILE *f = fopen (path, "rb");
    if (!f) {
        fprintf (stderr, "dfx %s: cannot open %s: %s\n", cmd, path, strerror (errno));
        return -1;
    }
    uint8_t sig[8];
    if (fread (sig, 1, 8, f) != 8 || png_sig_cmp (sig, 0, 8) != 0) {
        fprintf (stderr, "dfx %s: %s is not a PNG file\n", cmd, path);
        fclose (f);
        return -1;
    }
    png_structp png = png_create_read_struct (PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct (png) : NULL;
    uint8_t *volatile rows = NULL; /* volatile: read after a longjmp */
    png_bytep *volatile rp = NULL;
    if (!png || !info || setjmp (png_jmpbuf (png))) {
        fprintf (stderr, "dfx %s: %s is a damaged or truncated PNG file\n", cmd, path);
        png_destroy_read_struct (&png, &info, NULL);
        free (rows), free (rp), free (img->pixels);
        img->pixels = NULL;
        fclose (f);
        return -1;
    }
    png_init_io (png, f);
    png_set_sig_bytes (png, 8);
    png_read_info (png, info);
    const int type = png_get_color_type (png, info), depth = png_get_bit_depth (png, info);
    const uint32_t w = png_get_image_width (png, info), h = png_get_image_height (png, info);
    if (w < 1 || h < 1 || w > DFX_LIKELIHOOD_MAX_SIZE || h > DFX_LIKELIHOOD_MAX_SIZE) {
        fprintf (stderr, "dfx %s: %s is %ux%u; dfx reads images of 1 to %d pixels a side\n", cmd, path, w, h,
                 DFX_LIKELIHOOD_MAX_SIZE);
        png_destroy_read_struct (&png, &info, NULL);
        fclose (f);
        return -1;
    }
    img->was_indexed = type == PNG_COLOR_TYPE_PALETTE;
    if (type == PNG_COLOR_TYPE_PALETTE)
        png_set_palette_to_rgb (png);
    if (type == PNG_COLOR_TYPE_GRAY && depth < 8)
        png_set_expand_gray_1_2_4_to_8 (png);
    if (png_get_valid (png, info, PNG_INFO_tRNS))
        png_set_tRNS_to_alpha (png);
    if (png_get_interlace_type (png, info) != PNG_INTERLACE_NONE)
        png_set_interlace_handling (png);
    png_read_update_info (png, info);
    const uint32_t c = png_get_channels (png, info), bytes = png_get_bit_depth (png, info) == 16 ? 2 : 1;
    const size_t stride = png_get_rowbytes (png, info);
    rows = malloc (stride * h);
    rp = malloc (h * sizeof *rp);
    img->pixels = malloc ((size_t) w * h * c * sizeof (float));
    if (!rows || !rp || !img->pixels) {
        fprintf (stderr, "dfx %s: out of host memory reading %s (%ux%u)\n", cmd, path, w, h);
        png_destroy_read_struct (&png, &info, NULL);
        free (rows), free (rp), free (img->pixels);
        img->pixels = NULL;
        fclose (f);
        return -1;
    }
    for (uint32_t y = 0; y < h; y++)
        rp[y] = rows + y * stride;
    png_read_image (png, rp);
    png_read_end (png, NULL);
    png_destroy_read_struct (&png, &info, NULL);
    fclose (f);
    for (size_t i = 0; i < (size_t) w * h * c; i++) {
        size_t y = i / ((size_t) w * c), k = i % ((size_t) w * c);
        const uint8_t *p = rows + y * stride + k * bytes;
        img->pixels[i] = bytes == 2 ? (float) ((p[0] << 8 | p[1]) / 65535.0) : (float) (p[0] / 255.0);
    }
    free (rows), free (rp);
    img->width = w, img->height = h, img->channels = c;
    img->has_alpha = c == 2 || c == 4;
    img->bit_depth = bytes * 8;
    return 0;
}
