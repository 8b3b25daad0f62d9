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
int dfx_cli_edit (int argc, char **argv);

/* PNG ↔ planar floats (cli-png.c).  Read: any PNG converted to `channels`
 * (1 grey, 2 grey + alpha, 3 RGB, 4 RGBA) 8-bit values mapped linearly to
 * [lo, hi]; *out (channels × h × w, free()) and the size.  Write: [-1, 1]
 * to 8-bit, clamped.  Both print the reason to stderr and return -1 on
 * failure, 0 on success. */
int dfx_cli_png_read (const char *path, uint32_t channels, float lo, float hi, float **out, uint32_t *w, uint32_t *h);
int dfx_cli_png_write (const char *path, const float *img, uint32_t channels, uint32_t w, uint32_t h);

/* Monotonic wall-clock seconds, for timings. */
double dfx_cli_now (void);

/* Prints "dfx: <msg>" to stderr and returns DFX_CLI_EXIT_ERROR. */
int dfx_cli_fail (dfx_ctx *ctx, dfx_status st);

#endif
