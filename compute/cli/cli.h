/* cli.h — subcommands of the `dfx` command-line front end.
 *
 * Each subcommand parses its own arguments, calls dfx.h functions and prints
 * text or JSON (--json).  No numerics here: the CLI is a thin front end.
 * Exit codes: 0 success, 1 runtime error (message on stderr), 2 usage error.
 */
#ifndef DFX_CLI_H
#define DFX_CLI_H

#include "dfx.h"

#include <stdio.h>

#define DFX_CLI_EXIT_ERROR 1
#define DFX_CLI_EXIT_USAGE 2

int dfx_cli_info (int argc, char **argv);
int dfx_cli_unet (int argc, char **argv);
int dfx_cli_vae (int argc, char **argv);
int dfx_cli_bench (int argc, char **argv);
int dfx_cli_ot_check (int argc, char **argv);
int dfx_cli_generate (int argc, char **argv);
int dfx_cli_likelihood (int argc, char **argv);

/* An image read from a file (cli-image.c): height × width × channels
 * interleaved floats in [0, 1] (16-bit files keep their precision, indexed
 * ones are converted and said so); pixels freed with free(). */
typedef struct dfx_cli_image {
    float *pixels;
    uint32_t width, height, channels; /* 1 grey, 2 grey + alpha, 3 RGB, 4 RGBA */
    int has_alpha, was_indexed, bit_depth;
} dfx_cli_image;

/* Reads a PNG file (palette images become RGB or RGBA).  Returns 0, or -1
 * after printing "dfx CMD: <why>" to stderr. */
int dfx_cli_image_read (const char *cmd, const char *path, dfx_cli_image *img);
int dfx_cli_diagnose (int argc, char **argv);
int dfx_cli_edit (int argc, char **argv);
int dfx_cli_convert (int argc, char **argv);
int dfx_cli_heal (int argc, char **argv);
int dfx_cli_prepare (int argc, char **argv);

/* cli-png.c: 8-bit PNG (1–4 interleaved channels).  0 on success; on failure
 * -1 with the message on stderr, prefixed "dfx <cmd>:".  Read: *pix is
 * malloc'ed (free()). */
int dfx_cli_png_write (const char *cmd, const char *path, const uint8_t *pix, uint32_t w, uint32_t h, uint32_t c);
int dfx_cli_png_read (const char *cmd, const char *path, uint8_t **pix, uint32_t *w, uint32_t *h, uint32_t *c);

/* cli-font.c: pixel (x, y) of character c in the 5×7 bitmap font (lower
 * case drawn as upper case, unknown characters as '?'). */
#define DFX_CLI_FONT_W 5
#define DFX_CLI_FONT_H 7
int dfx_cli_font_pixel (char c, int x, int y);

/* cli-plot.c: the diagnostics as a log-log plot image (two panels: Fisher
 * information and its rate; MMSE and its rate), PNG.  d: values per image. */
int dfx_cli_plot_diagnose (const char *path, const dfx_diagnose_row *rows, uint32_t n, uint32_t d,
                           const char *title);

/* cli-plot.c: any two log-log panels of curves over n points, PNG (the
 * same drawing as dfx_cli_plot_diagnose).  0, or -1 after a message. */
#define DFX_CLI_PANEL_MAX 8
typedef struct dfx_cli_series {
    const char *name;
    uint8_t r, g, b;
    int dash, markers;   /* dash: on/off length in pixels (0 solid); markers: 1 squares */
    const double *x, *y; /* n values; ≤ 0 or not finite left out */
} dfx_cli_series;
typedef struct dfx_cli_panel {
    const char *title, *xlabel, *ylabel;
    const dfx_cli_series *series;
    int n_series; /* ≤ DFX_CLI_PANEL_MAX */
} dfx_cli_panel;
int dfx_cli_plot_two (const char *cmd, const char *path, const char *title, int n, const dfx_cli_panel *left,
                      const dfx_cli_panel *right);

/* cli-diagnose-latent.c: `dfx diagnose --encoder DIR` (dfx_cli_diagnose
 * hands over when it sees --encoder). */
int dfx_cli_diagnose_latent (int argc, char **argv);

/* cli-png-planar.c: PNG ↔ planar floats, for images a model reads.  Read:
 * any PNG converted to `channels` (1 grey, 2 grey + alpha, 3 RGB, 4 RGBA)
 * by libpng's simplified API, 8-bit values mapped linearly to [lo, hi];
 * *out (channels × h × w, free()) and the size.  Write: [-1, 1] to 8-bit,
 * clamped.  Both print the reason to stderr and return -1 on failure, 0 on
 * success. */
int dfx_cli_png_read_planar (const char *path, uint32_t channels, float lo, float hi, float **out, uint32_t *w,
                             uint32_t *h);
int dfx_cli_png_write_planar (const char *path, const float *img, uint32_t channels, uint32_t w, uint32_t h);

/* cli-args.c: an option's value within [lo, hi]; 0 after printing
 * "dfx CMD: OPT 'S' is not ..." to stderr, 1 with *out set. */
int dfx_cli_parse_u32 (const char *cmd, const char *opt, const char *s, uint32_t lo, uint32_t hi, uint32_t *out);
int dfx_cli_parse_double (const char *cmd, const char *opt, const char *s, double lo, double hi, double *out);
/* A seed: a whole number in [0, 2^64) (decimal, 0x hex or 0 octal). */
int dfx_cli_parse_u64 (const char *cmd, const char *opt, const char *s, uint64_t *out);
/* *out = k where s is names[k]; else a message listing the names, and 0. */
int dfx_cli_parse_choice (const char *cmd, const char *opt, const char *s, const char *const *names, int count,
                          int *out);

/* cli-diagnose.c: "S1,S2,..." into out (≤ DFX_DIAGNOSE_MAX_SIGMAS numbers in
 * (0, 1e6]); 0 after a message. */
int dfx_cli_parse_sigmas (const char *s, double *out, uint32_t *n);
/* The noise-level options both diagnose commands take: a = "--levels" (a
 * count; *sigmas = NULL) or "--sigmas" (a list into buf, room for
 * DFX_DIAGNOSE_MAX_SIGMAS; *sigmas = buf) with value v.  1 when a is one of
 * them, 0 when it is not, -1 after a message. */
int dfx_cli_parse_levels (const char *a, const char *v, double *buf, uint32_t *n_sigmas, const double **sigmas);

/* cli-diagnose-args.c: the arguments both diagnose commands share.  The
 * caller sets source_opt ("--model" or "--encoder"), the range and default
 * of count, usage, and n_sigmas, sigmas, batch and seed to its parameters'
 * fields.  parse() reads argv: --json, --help, source_opt, --data, --csv,
 * --plot, --count, --levels or --sigmas (into sigma_buf), --batch, --seed;
 * any other option with a value goes to option (a, v, user), which returns
 * 1 when it took it, 0 after a message about its value, -1 when it is not
 * an option of the command.  Returns -1 to go on, else the exit code the
 * command returns (--help: 0; a usage error after "dfx diagnose: unknown or
 * incomplete argument 'A'" or that source_opt and --data are required, and
 * the usage). */
typedef struct dfx_cli_diagnose_args {
    const char *source_opt;
    uint32_t count_min, count_max, count;
    int (*usage) (FILE *f, int rc);
    uint32_t *n_sigmas, *batch;
    const double **sigmas;
    uint64_t *seed;
    const char *source, *data_dir, *csv, *plot;
    int json;
    double sigma_buf[DFX_DIAGNOSE_MAX_SIGMAS];
} dfx_cli_diagnose_args;
int dfx_cli_diagnose_parse (dfx_cli_diagnose_args *g, int argc, char **argv,
                            int (*option) (const char *a, const char *v, void *user), void *user);

/* The .png files (any case, not hidden) of folder dir in name order into
 * *list (free() each entry and the list); their count, or -1 after
 * "dfx diagnose: cannot read the data folder DIR: <why>". */
struct dirent;
int dfx_cli_scan_pngs (const char *dir, struct dirent ***list);

/* Monotonic wall-clock seconds, for timings. */
double dfx_cli_now (void);
/* CPU seconds of this process, all its threads (lavapipe's workers included). */
double dfx_cli_cpu_now (void);

/* cli-masked.c: what `dfx edit` and `dfx heal` share.  open() makes the
 * context, loads the model, reads IMAGE (and GUIDE unless NULL) as the
 * model's channels on [-1, 1] and MASK as grey on [0, 1], checks that they
 * have one size and allocates out (channels × height × width); 0 or an exit
 * code after a message naming the file.  close() frees what open() made, also
 * after a failed open (s zeroed before).  json_window() adds "window":
 * [x, y, width, height] to o (a cJSON object). */
typedef struct dfx_cli_masked {
    dfx_ctx *ctx;
    dfx_model *model;
    float *image, *guide, *mask, *out;
    uint32_t channels, width, height;
} dfx_cli_masked;
int dfx_cli_masked_open (dfx_cli_masked *s, const char *cmd, const char *model, const char *image, const char *guide,
                         const char *mask);
void dfx_cli_masked_close (dfx_cli_masked *s);
struct cJSON;
void dfx_cli_json_window (struct cJSON *o, uint32_t x, uint32_t y, uint32_t w, uint32_t h);

/* cli-masked-args.c: the command line and the course of `dfx edit` and
 * `dfx heal`.  The caller sets cmd ("edit"), usage, has_guide, raw and
 * global_attention to the fields of its parameters that the flags set to 1,
 * and its three steps with their user pointer:
 * - option (a, v, user) for any option with a value other than IMAGE,
 *   --model, --guide (when has_guide), --mask and -o/--output: returns 1
 *   when it took it, 0 after a message about its value, -1 when it is not
 *   an option of the command;
 * - compute (s, user): the library call, filling s->out;
 * - report (m, s, user): prints the result (text or --json) once OUT.png
 *   is written and returns the run's warning ("" for none), which main()
 *   prints on stderr as "dfx CMD: WARNING".
 * main() parses argv (--help: usage and 0; an unknown argument: "dfx CMD:
 * unknown argument 'A'", the usage and its exit code), prints the usage when
 * a required argument is missing (naming them), opens them
 * (dfx_cli_masked_open()), runs compute (a failure: dfx_cli_fail()),
 * writes -o and reports; it returns the command's exit code and frees
 * what it opened.  json() opens the --json object: model, output, width,
 * height, channels, unchanged. */
typedef struct dfx_cli_masked_args {
    const char *cmd;
    int (*usage) (FILE *f, int rc);
    int has_guide;
    int *raw, *global_attention;
    int (*option) (const char *a, const char *v, void *user);
    dfx_status (*compute) (const dfx_cli_masked *s, void *user);
    const char *(*report) (const struct dfx_cli_masked_args *m, const dfx_cli_masked *s, void *user);
    void *user;
    const char *model, *image, *guide, *mask, *output; /* set by main() */
    int json;                                          /* set by main() */
} dfx_cli_masked_args;
int dfx_cli_masked_main (dfx_cli_masked_args *m, int argc, char **argv);
struct cJSON *dfx_cli_masked_json (const dfx_cli_masked_args *m, const dfx_cli_masked *s, int unchanged);

/* cli-out.c: prints o as formatted JSON on stdout, then frees it
 * (cJSON_Delete). */
void dfx_cli_print_json (struct cJSON *o);
/* Root-mean-square of n values (0 for none). */
double dfx_cli_rms (const float *y, size_t n);
/* A new JSON object opening with {"output_shape": [4 numbers],
 * "output_rms": rms}, for the caller to add to and print. */
struct cJSON *dfx_cli_json_output (const int64_t shape[4], double rms);
/* A text file to write: NULL after "dfx CMD: cannot write PATH: <why>" on
 * stderr.  dfx_cli_close_write() closes it (always) and returns 0, or -1
 * after the same message when the data did not reach the file. */
FILE *dfx_cli_open_write (const char *cmd, const char *path);
int dfx_cli_close_write (const char *cmd, const char *path, FILE *f);

/* cli-model.c: a context with the default options into *ctx and the model
 * folder dir loaded into *m, with its info into *mi (mi may be NULL).  On
 * failure the status, *ctx (if made) holding the message; the caller destroys
 * both (dfx_model_destroy, dfx_ctx_destroy) either way. */
dfx_status dfx_cli_model_open (const char *dir, dfx_ctx **ctx, dfx_model **m, dfx_model_info *mi);

/* Prints "dfx: <msg>" to stderr and returns DFX_CLI_EXIT_ERROR. */
int dfx_cli_fail (dfx_ctx *ctx, dfx_status st);

#endif
