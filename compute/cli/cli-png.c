/* cli-png.c — 8-bit PNG files for the CLI (libpng): writing generated
 * images and plots, reading data folders.  Interleaved rows, 1–4 channels
 * (grey, grey + alpha, RGB, RGBA). */
#include "cli.h"

#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
dfx_cli_png_write (const char *cmd, const char *path, const uint8_t *pix, uint32_t w, uint32_t h, uint32_t c)
{
    FILE *f = fopen (path, "wb");
    if (!f) {
        fprintf (stderr, "dfx %s: cannot write %s: %s\n", cmd, path, strerror (errno));
        return -1;
    }
    png_structp png = png_create_write_struct (PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct (png) : NULL;
    if (!png || !info || setjmp (png_jmpbuf (png))) {
        png_destroy_write_struct (&png, &info);
        fclose (f);
        fprintf (stderr, "dfx %s: libpng failed writing %s\n", cmd, path);
        return -1;
    }
    static const int types[] = {0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_COLOR_TYPE_RGB,
                                PNG_COLOR_TYPE_RGB_ALPHA};
    png_init_io (png, f);
    png_set_IHDR (png, info, w, h, 8, types[c], PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                  PNG_FILTER_TYPE_DEFAULT);
    png_set_sRGB (png, info, PNG_sRGB_INTENT_PERCEPTUAL);
    png_write_info (png, info);
    for (uint32_t y = 0; y < h; y++)
        png_write_row (png, (png_const_bytep) (pix + (size_t) y * w * c));
    png_write_end (png, NULL);
    png_destroy_write_struct (&png, &info);
    if (fclose (f) != 0) {
        fprintf (stderr, "dfx %s: cannot write %s: %s\n", cmd, path, strerror (errno));
        return -1;
    }
    return 0;
}

int
dfx_cli_png_read (const char *cmd, const char *path, uint8_t **pix, uint32_t *w, uint32_t *h, uint32_t *c)
{
    *pix = NULL;
    FILE *f = fopen (path, "rb");
    if (!f) {
        fprintf (stderr, "dfx %s: cannot read %s: %s\n", cmd, path, strerror (errno));
        return -1;
    }
    uint8_t sig[8];
    if (fread (sig, 1, 8, f) != 8 || png_sig_cmp (sig, 0, 8)) {
        fclose (f);
        fprintf (stderr, "dfx %s: %s is not a PNG file\n", cmd, path);
        return -1;
    }
    png_structp png = png_create_read_struct (PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct (png) : NULL;
    uint8_t *volatile buf = NULL;
    if (!png || !info || setjmp (png_jmpbuf (png))) {
        png_destroy_read_struct (&png, &info, NULL);
        fclose (f);
        free (buf);
        fprintf (stderr, "dfx %s: %s is a damaged PNG file\n", cmd, path);
        return -1;
    }
    png_init_io (png, f);
    png_set_sig_bytes (png, 8);
    png_read_info (png, info);
    /* palette → RGB, low bit depths → 8, 16 bits → 8, tRNS → alpha */
    png_set_expand (png);
    png_set_strip_16 (png);
    png_set_interlace_handling (png);
    png_read_update_info (png, info);
    const uint32_t pw = png_get_image_width (png, info), ph = png_get_image_height (png, info);
    const uint32_t pc = png_get_channels (png, info);
    if (pw == 0 || ph == 0 || pw > 16384 || ph > 16384 || pc < 1 || pc > 4 ||
        png_get_rowbytes (png, info) != (size_t) pw * pc) {
        png_destroy_read_struct (&png, &info, NULL);
        fclose (f);
        fprintf (stderr, "dfx %s: %s: unsupported PNG (%ux%u, %u channels)\n", cmd, path, pw, ph, pc);
        return -1;
    }
    buf = malloc ((size_t) pw * ph * pc);
    png_bytep *rows = buf ? malloc (ph * sizeof *rows) : NULL;
    if (!rows) {
        png_destroy_read_struct (&png, &info, NULL);
        fclose (f);
        free (buf);
        fprintf (stderr, "dfx %s: out of host memory reading %s\n", cmd, path);
        return -1;
    }
    for (uint32_t y = 0; y < ph; y++)
        rows[y] = buf + (size_t) y * pw * pc;
    png_read_image (png, rows);
    png_read_end (png, NULL);
    png_destroy_read_struct (&png, &info, NULL);
    free (rows);
    fclose (f);
    *pix = buf, *w = pw, *h = ph, *c = pc;
    return 0;
}
