/* cli.h — subcommands of the `dfx` command-line front end.
 *
 * Each subcommand parses its own arguments, calls dfx.h functions and prints
 * text or JSON (--json).  No numerics here: the CLI is a thin front end.
 * Exit codes: 0 success, 1 runtime error (message on stderr), 2 usage error.
 */
#ifndef DFX_CLI_H
#define DFX_CLI_H

#include "dfx.h"

#define DFX_CLI_EXIT_ERROR 1
#define DFX_CLI_EXIT_USAGE 2

int dfx_cli_info (int argc, char **argv);
int dfx_cli_unet (int argc, char **argv);
int dfx_cli_bench (int argc, char **argv);
int dfx_cli_ot_check (int argc, char **argv);
int dfx_cli_generate (int argc, char **argv);
int dfx_cli_likelihood (int argc, char **argv);

/* An image read from a file (cli-image.c): height × width × channels
 * interleaved floats in [0, 1]; pixels freed with free(). */
typedef struct dfx_cli_image {
    float *pixels;
    uint32_t width, height, channels; /* 1 grey, 2 grey + alpha, 3 RGB, 4 RGBA */
    int has_alpha, was_indexed, bit_depth;
} dfx_cli_image;

/* Reads a PNG file (palette images become RGB or RGBA).  Returns 0, or -1
 * after printing "dfx CMD: <why>" to stderr. */
int dfx_cli_png_read (const char *cmd, const char *path, dfx_cli_image *img);

/* Writes w × h 8-bit RGBA pixels as an sRGB PNG.  Returns 0 or -1 (printed). */
int dfx_cli_png_write_rgba (const char *cmd, const char *path, const uint8_t *pix, uint32_t w, uint32_t h);

/* Monotonic wall-clock seconds, for timings. */
double dfx_cli_now (void);

/* Prints "dfx: <msg>" to stderr and returns DFX_CLI_EXIT_ERROR. */
int dfx_cli_fail (dfx_ctx *ctx, dfx_status st);

#endif
