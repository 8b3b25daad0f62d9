/* cli-diagnose.c — `dfx diagnose`: Fisher information, its rate and the
 * MMSE of a model over a σ grid, on a folder of data images.
 *
 *   dfx diagnose --model DIR --data DIR [--count N] [--levels K | --sigmas S1,S2,...]
 *                [--probes P] [--fir jvp|dfea] [--seed S] [--batch B]
 *                [--json] [--csv FILE] [--plot OUT.png]
 *
 * The data folder's *.png files (sorted by name, the first N) must have the
 * model's channels (grey, grey + alpha, RGB, RGBA) and its sample size; 8-bit
 * values map to [−1, 1].  Output: CSV on stdout (or --csv FILE), JSON with
 * --json, a plot image with --plot.  No numerics here: dfx_diagnose() does
 * them. */
#include "cli.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int
usage (FILE *f, int rc)
{
    fprintf (f,
             "usage: dfx diagnose --model DIR --data DIR [--count N] [--levels K | --sigmas S1,S2,...]\n"
             "                    [--probes P] [--fir jvp|dfea] [--seed S] [--batch B] [--json] [--csv FILE]\n"
             "                    [--plot OUT.png]\n\n"
             "Over a grid of noise levels sigma (x~ = x0 + sigma eps, tau = sigma^2) and the first N (default 64)\n"
             "PNG images of the data folder: the Fisher information J = E tr F from the Fisher head and, as a check,\n"
             "E|score|^2; the Fisher information rate E|F|_F^2 by Hutchinson with P (default 2) Rademacher probes,\n"
             "F v from the outer-product form with C v = tau dx0^/dx~ v by a central difference of the score network\n"
             "(--fir jvp, default) or DF-EA with the data point (--fir dfea, biased upward at small sigma); the MMSE\n"
             "tau d - tau^2 J = E tr C, the measured E|x0 - x0^|^2, and the MMSE rate d - 2 tau J + tau^2 E|F|_F^2.\n"
             "K (default 12) levels log-spaced over the model's sigma range, or the given ones.  Needs DIR/fisher.\n"
             "The images must have the model's channels and sample size.  Prints CSV (or JSON with --json);\n"
             "--csv writes the CSV to a file, --plot a log-log plot of the curves.\n\n"
             "dfx diagnose --encoder DIR --data DIR ...: the latent diagnostics of an autoencoder (see\n"
             "dfx diagnose --encoder x --help).\n");
    return rc;
}

int
dfx_cli_parse_sigmas (const char *s, double *out, uint32_t *n)
{
    *n = 0;
    const char *p = s;
    while (*p) {
        char *end = NULL;
        double v = strtod (p, &end);
        if (end == p || !isfinite (v) || v <= 0.0 || v > 1e6 || *n >= DFX_DIAGNOSE_MAX_SIGMAS ||
            (*end && *end != ',')) {
            fprintf (stderr, "dfx diagnose: --sigmas '%s' is not a comma-separated list of 1..%d numbers in (0, 1e6]\n",
                     s, DFX_DIAGNOSE_MAX_SIGMAS);
            return 0;
        }
        out[(*n)++] = v;
        p = *end ? end + 1 : end;
    }
    if (*n == 0) {
        fprintf (stderr, "dfx diagnose: --sigmas is empty\n");
        return 0;
    }
    return 1;
}

int
dfx_cli_parse_levels (const char *a, const char *v, double *buf, uint32_t *n_sigmas, const double **sigmas)
{
    if (strcmp (a, "--levels") == 0) {
        if (!dfx_cli_parse_u32 ("diagnose", a, v, 1, DFX_DIAGNOSE_MAX_SIGMAS, n_sigmas))
            return -1;
        *sigmas = NULL;
        return 1;
    }
    if (strcmp (a, "--sigmas") == 0) {
        if (!dfx_cli_parse_sigmas (v, buf, n_sigmas))
            return -1;
        *sigmas = buf;
        return 1;
    }
    return 0;
}

static int
is_png (const struct dirent *e)
{
    size_t l = strlen (e->d_name);
    return e->d_name[0] != '.' && l > 4 && strcasecmp (e->d_name + l - 4, ".png") == 0;
}

int
dfx_cli_scan_pngs (const char *dir, struct dirent ***list)
{
    *list = NULL;
    int k = scandir (dir, list, is_png, alphasort);
    if (k < 0)
        fprintf (stderr, "dfx diagnose: cannot read the data folder %s: %s\n", dir, strerror (errno));
    return k;
}

static const char *
channel_name (uint32_t c)
{
    static const char *names[] = {"?", "grey", "grey + alpha", "RGB", "RGBA"};
    return c <= 4 ? names[c] : "?";
}

/* Reads up to max images of c × h × w into *data ([−1, 1], NCHW); *n the
 * count.  0 on success; messages on stderr. */
static int
read_data (const char *dir, uint32_t max, uint32_t c, uint32_t h, uint32_t w, float **data, uint32_t *n)
{
    struct dirent **list = NULL;
    int k = dfx_cli_scan_pngs (dir, &list);
    *data = NULL, *n = 0;
    if (k < 0)
        return -1;
    int rc = 0;
    if (k == 0) {
        fprintf (stderr, "dfx diagnose: the data folder %s holds no .png images\n", dir);
        rc = -1;
    }
    const uint32_t count = (uint32_t) k < max ? (uint32_t) k : max;
    const size_t per = (size_t) c * h * w;
    if (!rc && !(*data = malloc (count * per * sizeof (float)))) {
        fprintf (stderr, "dfx diagnose: out of host memory for %u images\n", count);
        rc = -1;
    }
    for (uint32_t i = 0; !rc && i < count; i++) {
        char path[4096];
        snprintf (path, sizeof path, "%s/%s", dir, list[i]->d_name);
        uint8_t *pix = NULL;
        uint32_t pw, ph, pc;
        if (dfx_cli_png_read ("diagnose", path, &pix, &pw, &ph, &pc) != 0) {
            rc = -1;
            break;
        }
        if (pc != c) {
            fprintf (stderr, "dfx diagnose: %s is %s (%u channel%s), the model takes %s (%u channel%s)\n", path,
                     channel_name (pc), pc, pc == 1 ? "" : "s", channel_name (c), c, c == 1 ? "" : "s");
            rc = -1;
        } else if (pw != w || ph != h) {
            fprintf (stderr, "dfx diagnose: %s is %ux%u, the model takes %ux%u images\n", path, pw, ph, w, h);
            rc = -1;
        } else {
            float *x = *data + i * per;
            for (uint32_t ch = 0; ch < c; ch++)
                for (size_t p = 0; p < (size_t) h * w; p++)
                    x[ch * (size_t) h * w + p] = (float) (pix[p * c + ch] / 127.5 - 1.0);
        }
        free (pix);
    }
    for (int i = 0; i < k; i++)
        free (list[i]);
    free (list);
    if (rc) {
        free (*data);
        *data = NULL;
        return rc;
    }
    *n = count;
    return 0;
}

static const char *columns[] = {"sigma", "tau", "j_head", "j_head_se", "j_score", "j_score_se", "fir", "fir_se",
                                "mmse", "mmse_se", "mmse_direct", "mmse_direct_se", "mmse_rate", "mmse_rate_se",
                                "rate_d", "rate_j", "rate_fir"};

static void
row_values (const dfx_diagnose_row *r, double *v)
{
    const double a[] = {r->sigma,       r->tau,     r->j_head,      r->j_head_se,      r->j_score,   r->j_score_se,
                        r->fir,         r->fir_se,  r->mmse,        r->mmse_se,        r->mmse_direct,
                        r->mmse_direct_se, r->mmse_rate, r->mmse_rate_se, r->rate_d, r->rate_j, r->rate_fir};
    memcpy (v, a, sizeof a);
}

#define NCOL (sizeof columns / sizeof columns[0])

static void
write_csv (FILE *f, const dfx_diagnose_row *rows, uint32_t n)
{
    for (size_t c = 0; c < NCOL; c++)
        fprintf (f, "%s%s", columns[c], c + 1 < NCOL ? "," : "\n");
    for (uint32_t j = 0; j < n; j++) {
        double v[NCOL];
        row_values (rows + j, v);
        for (size_t c = 0; c < NCOL; c++)
            fprintf (f, "%.9g%s", v[c], c + 1 < NCOL ? "," : "\n");
    }
}

/* The options of the model's diagnose alone (dfx_cli_diagnose_parse()). */
static int
option (const char *a, const char *v, void *user)
{
    dfx_diagnose_params *p = user;

    if (strcmp (a, "--probes") == 0)
        return dfx_cli_parse_u32 ("diagnose", "--probes", v, 1, 64, &p->probes);
    if (strcmp (a, "--fir") == 0) {
        static const char *const firs[] = {"jvp", "dfea"};
        static const dfx_fir_method fir_values[] = {DFX_FIR_JVP, DFX_FIR_DFEA};
        int k;
        if (!dfx_cli_parse_choice ("diagnose", a, v, firs, 2, &k))
            return 0;
        p->fir = fir_values[k];
        return 1;
    }
    return -1;
}

int
dfx_cli_diagnose (int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp (argv[i], "--encoder") == 0)
            return dfx_cli_diagnose_latent (argc, argv);
    dfx_diagnose_params p;
    dfx_diagnose_params_defaults (&p);
    dfx_cli_diagnose_args g = {.source_opt = "--model", .count_min = 1, .count_max = 100000, .count = 64,
                               .usage = usage, .n_sigmas = &p.n_sigmas, .batch = &p.batch, .sigmas = &p.sigmas,
                               .seed = &p.seed};
    int done = dfx_cli_diagnose_parse (&g, argc, argv, option, &p);
    if (done >= 0)
        return done;
    const char *model = g.source, *data_dir = g.data_dir, *csv = g.csv, *plot = g.plot;

    dfx_ctx *ctx = NULL;
    dfx_model *m = NULL;
    float *data = NULL;
    dfx_diagnose_row *rows = NULL;
    int rc = 0;
    dfx_model_info mi;
    dfx_status st = dfx_cli_model_open (model, &ctx, &m, &mi);
    if (st != DFX_OK)
        goto fail;
    if (!mi.sample_width || !mi.sample_height) {
        fprintf (stderr, "dfx diagnose: the model's config has no sample_size\n");
        rc = DFX_CLI_EXIT_ERROR;
        goto out;
    }
    uint32_t n = 0;
    if (read_data (data_dir, g.count, mi.channels, mi.sample_height, mi.sample_width, &data, &n) != 0) {
        rc = DFX_CLI_EXIT_USAGE;
        goto out;
    }
    if (!(rows = calloc (p.n_sigmas, sizeof *rows))) {
        fprintf (stderr, "dfx diagnose: out of host memory\n");
        rc = DFX_CLI_EXIT_ERROR;
        goto out;
    }
    const double t0 = dfx_cli_now ();
    if ((st = dfx_diagnose (m, &p, data, n, mi.sample_height, mi.sample_width, rows)) != DFX_OK)
        goto fail;
    const double secs = dfx_cli_now () - t0;
    const uint32_t d = mi.channels * mi.sample_height * mi.sample_width;
    if (csv) {
        FILE *f = dfx_cli_open_write ("diagnose", csv);
        if (f)
            write_csv (f, rows, p.n_sigmas);
        if (!f || dfx_cli_close_write ("diagnose", csv, f) != 0) {
            rc = DFX_CLI_EXIT_ERROR;
            goto out;
        }
    }
    if (plot) {
        char title[512];
        snprintf (title, sizeof title, "%s on %u images of %s (probes %u, fir %s)", model, n, data_dir, p.probes,
                  p.fir == DFX_FIR_JVP ? "jvp" : "dfea");
        if (dfx_cli_plot_diagnose (plot, rows, p.n_sigmas, d, title) != 0) {
            rc = DFX_CLI_EXIT_ERROR;
            goto out;
        }
    }
    if (g.json) {
        cJSON *o = cJSON_CreateObject ();
        cJSON_AddStringToObject (o, "model", model);
        cJSON_AddStringToObject (o, "data", data_dir);
        cJSON_AddNumberToObject (o, "images", n);
        cJSON_AddNumberToObject (o, "values_per_image", d);
        cJSON_AddNumberToObject (o, "probes", p.probes);
        cJSON_AddStringToObject (o, "fir_method", p.fir == DFX_FIR_JVP ? "jvp" : "dfea");
        cJSON_AddNumberToObject (o, "seed", (double) p.seed);
        cJSON_AddNumberToObject (o, "seconds", secs);
        if (plot)
            cJSON_AddStringToObject (o, "plot", plot);
        cJSON *arr = cJSON_AddArrayToObject (o, "rows");
        for (uint32_t j = 0; j < p.n_sigmas; j++) {
            double v[NCOL];
            row_values (rows + j, v);
            cJSON *r = cJSON_CreateObject ();
            for (size_t c = 0; c < NCOL; c++)
                cJSON_AddNumberToObject (r, columns[c], v[c]);
            cJSON_AddItemToArray (arr, r);
        }
        dfx_cli_print_json (o);
    } else if (!csv) {
        write_csv (stdout, rows, p.n_sigmas);
    } else {
        printf ("%u levels on %u images in %.1f s: wrote %s%s%s\n", p.n_sigmas, n, secs, csv, plot ? " and " : "",
                plot ? plot : "");
    }
    goto out;
fail:
    rc = dfx_cli_fail (ctx, st);
out:
    free (data), free (rows);
    dfx_model_destroy (m);
    dfx_ctx_destroy (ctx);
    return rc;
}
