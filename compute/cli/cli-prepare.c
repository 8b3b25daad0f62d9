/* cli-prepare.c — `dfx prepare`: writes a model's gaussian/ folder (the
 * Gaussian skip's statistics, models/GAUSSIAN.md) from the network itself,
 * or from a folder of images with --data, and says what it did.
 *
 *   dfx prepare --model DIR [--data IMAGES_DIR | --samples IMAGES_DIR] [--max-images N] [--force]
 *               [--method jacobian|total] [--draws K] [--sigma S] [--rank R] [--calib-images N] [--calib-steps N]
 *               [--tolerance T] [--seed S] [--batch N] [--json]
 *               [--oversample K] [--iters Q] [--mean-pairs P] [--check-levels L]
 *               [--n-sigma N] [--fd-step F]
 *
 * --data (and --samples, images the model generated) reads the folder's .png
 * files (sorted by name; each must have the model's sample size) as the
 * model's channels on [-1, 1].  No numerics
 * here: everything is dfx_prepare().
 */
#include "cli.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int
usage (FILE *f, int rc)
{
    fprintf (f,
             "usage: dfx prepare --model DIR [--data IMAGES_DIR | --samples IMAGES_DIR] [--max-images N]\n"
             "                   [--force] [--method jacobian|total] [--sigma S] [--rank R] [--draws K]\n"
             "                   [--calib-images N] [--calib-steps N] [--tolerance T] [--seed S] [--batch N]\n"
             "                   [--json] [--oversample K] [--iters Q] [--mean-pairs P] [--check-levels L]\n"
             "                   [--n-sigma N] [--fd-step F] [--jac-points J]\n\n"
             "Writes DIR/gaussian/ (config.json, statistics.safetensors), the statistics the Gaussian skip\n"
             "(dfx generate --skip auto) and the likelihood's skip use, and calibrates where the skip stops.\n"
             "Without --data they come from the network itself and N images it generates (default 64, Heun\n"
             "with 18 steps; --samples: PNG images it generated before), the skip point is calibrated on those\n"
             "images.  --method jacobian takes the network to be the Gaussian denoiser at a high noise level S\n"
             "(default 10): the mean from its output, the top R (default 64) principal components, residual\n"
             "variance and stationary spectrum of Sigma = S^2 A (I - A)^-1 from its Jacobian A, and checks that\n"
             "premise at other levels (the default).  --method total needs no premise: Sigma = S^2 E[A] + Cov(D)\n"
             "over the images noised to S (default 2), D the network's denoised image (the law of total\n"
             "covariance), the mean of the images.  With --data the statistics come from the folder's PNG images (the model's size; at most\n"
             "--max-images of them), 5 %% held out for the calibration.\n"
             "An existing DIR/gaussian/ is kept unless --force.  --tolerance: the calibration's threshold\n"
             "(default 0.1); --batch: images per network dispatch (default 16).\n"
             "Method knobs (without --data): --draws noise draws per image for Cov(D) (total, 2), --jac-points\n"
             "noised images each Jacobian product is averaged over (total, 1), --refine N and --refine-sigma S2\n"
             "fixed-point passes of total on draws of its own Gaussian at S2 (0), --oversample extra probe\n"
             "vectors (16), --iters subspace iterations (2), --mean-pairs noise pairs for the mean (jacobian,\n"
             "32), --check-levels noise levels at which the top eigenvalues are measured again (4; an exact\n"
             "denoiser gives the same numbers at every level), --n-sigma calibration levels (16),\n"
             "--fd-step the finite-difference step in units of S (1).\n");
    return rc;
}

static int
by_name (const void *a, const void *b)
{
    return strcmp (*(char *const *) a, *(char *const *) b);
}

/* The .png files of dir, sorted, as [-1, 1] planar images of c × h × w. */
static int
read_folder (const char *flag, const char *dir, uint32_t c, uint32_t h, uint32_t w, uint32_t max, float **out, uint32_t *count)
{
    DIR *dd = opendir (dir);
    if (!dd) {
        fprintf (stderr, "dfx prepare: %s %s: cannot open the folder\n", flag, dir);
        return -1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = -1;
    float *x = NULL;
    for (struct dirent *e; (e = readdir (dd));) {
        const size_t len = strlen (e->d_name);
        if (len < 5 || strcasecmp (e->d_name + len - 4, ".png") != 0)
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            char **nn = realloc (names, cap * sizeof *nn);
            if (!nn)
                goto finish;
            names = nn;
        }
        if (!(names[n] = strdup (e->d_name)))
            goto finish;
        n++;
    }
    if (n < 2) {
        fprintf (stderr, "dfx prepare: %s %s: %zu PNG image(s); at least 2 are needed\n", flag, dir, n);
        goto finish;
    }
    qsort (names, n, sizeof *names, by_name);
    const size_t use = max && n > max ? max : n, d = (size_t) c * h * w;
    if (!(x = malloc (use * d * sizeof *x))) {
        fprintf (stderr, "dfx prepare: out of memory for %zu images\n", use);
        goto finish;
    }
    for (size_t i = 0; i < use; i++) {
        char path[4096];
        float *img = NULL;
        uint32_t iw = 0, ih = 0;
        snprintf (path, sizeof path, "%s/%s", dir, names[i]);
        if (dfx_cli_png_read_planar (path, c, -1.0f, 1.0f, &img, &iw, &ih) != 0)
            goto finish;
        if (iw != w || ih != h) {
            fprintf (stderr, "dfx prepare: %s is %ux%u; the model's size is %ux%u\n", path, iw, ih, w, h);
            free (img);
            goto finish;
        }
        memcpy (x + i * d, img, d * sizeof *x);
        free (img);
    }
    *out = x, *count = (uint32_t) use;
    x = NULL;
    rc = 0;
finish:
    for (size_t i = 0; i < n && names; i++)
        free (names[i]);
    free (names);
    free (x);
    closedir (dd);
    return rc;
}

static void
print_text (const char *model, const dfx_prepare_result *r)
{
    printf ("dfx prepare: %s/gaussian written from %s\n", model, r->from_data ? "images" : "the network (no data)");
    if (r->from_data)
        printf ("  statistics: %u images, rank %u, %.1f s\n", r->images, r->rank, r->seconds_statistics);
    else if (r->method == DFX_PREPARE_TOTAL)
        printf ("  statistics: S^2 E[A] + Cov(D) on %u of its images noised to sigma %g (per value %.4g + %.4g), "
                "rank %u, %llu network images, %.1f s\n", r->calib_images, r->sigma, r->trace_jacobian,
                r->trace_cov, r->rank, (unsigned long long) r->nfe_statistics, r->seconds_statistics);
    else
        printf ("  statistics: Jacobian at sigma %g, rank %u, %llu network images, %.1f s\n", r->sigma, r->rank,
                (unsigned long long) r->nfe_statistics, r->seconds_statistics);
    printf ("  eigenvalues:");
    for (uint32_t k = 0; k < r->rank && k < DFX_PREPARE_TOP; k++)
        printf (" %.4g", r->eigenvalues[k]);
    printf ("\n  residual variance %.4g, total variance per value %.4g\n", r->residual_variance, r->total_variance);
    for (uint32_t i = 0; i < r->levels; i++)
        printf ("  %s at sigma %8.3f: top eigenvalues %.4g %.4g %.4g %.4g\n",
                r->from_data || r->method == DFX_PREPARE_JACOBIAN ? "premise check" : "identity check",
                r->level_sigma[i],
                r->level_eigenvalues[i][0], r->level_eigenvalues[i][1], r->level_eigenvalues[i][2],
                r->level_eigenvalues[i][3]);
    if (r->premise_spread > 2.0)
        printf ("  note: the top eigenvalue measured at half or twice sigma differs by a factor %.3g: %s, so these\n"
                "  statistics are rough (another --sigma may fit better; the calibration below only lets the skip\n"
                "  go where they match the network)\n",
                r->premise_spread, r->method == DFX_PREPARE_JACOBIAN
                                       ? "the network is not the Gaussian denoiser at these noise levels"
                                       : "the network does not denoise its own images consistently");
    printf ("  calibration on %u %s images (%.1f s to make, %.1f s to measure): sigma_skip pca %.4g, spectral "
            "%.4g, mode %s, tolerance %g\n",
            r->calib_images, r->from_data ? "held-out" : "generated", r->seconds_samples, r->seconds_calibration,
            r->sigma_skip_pca, r->sigma_skip_spectral, dfx_skip_name (r->mode), r->tolerance);
    printf ("  total %.1f s, %llu network images\n", r->seconds,
            (unsigned long long) (r->nfe_statistics + r->nfe_samples + r->nfe_calibration));
}

static void
print_json (const char *model, const dfx_prepare_result *r)
{
    cJSON *o = cJSON_CreateObject ();
    if (!o)
        return;
    char path[4200];
    snprintf (path, sizeof path, "%s/gaussian", model);
    cJSON_AddStringToObject (o, "written", path);
    cJSON_AddStringToObject (o, "from", r->from_data ? "data" : "network");
    if (!r->from_data) {
        cJSON_AddStringToObject (o, "method", dfx_prepare_method_name (r->method));
        cJSON_AddNumberToObject (o, "trace_jacobian", r->trace_jacobian);
        cJSON_AddNumberToObject (o, "trace_cov", r->trace_cov);
        cJSON_AddNumberToObject (o, "refine", r->refine);
        cJSON_AddNumberToObject (o, "refine_sigma", r->refine_sigma);
    }
    cJSON_AddNumberToObject (o, "images", r->images);
    cJSON_AddNumberToObject (o, "sigma", r->sigma);
    cJSON_AddNumberToObject (o, "rank", r->rank);
    cJSON *ev = cJSON_AddArrayToObject (o, "eigenvalues");
    for (uint32_t k = 0; ev && k < r->rank && k < DFX_PREPARE_TOP; k++)
        cJSON_AddItemToArray (ev, cJSON_CreateNumber (r->eigenvalues[k]));
    cJSON_AddNumberToObject (o, "residual_variance", r->residual_variance);
    cJSON_AddNumberToObject (o, "total_variance", r->total_variance);
    cJSON *lv = cJSON_AddArrayToObject (o, "premise_check");
    for (uint32_t i = 0; lv && i < r->levels; i++) {
        cJSON *e = cJSON_CreateObject ();
        if (!e)
            break;
        cJSON_AddNumberToObject (e, "sigma", r->level_sigma[i]);
        cJSON_AddItemToObject (e, "eigenvalues", cJSON_CreateDoubleArray (r->level_eigenvalues[i], 4));
        cJSON_AddItemToArray (lv, e);
    }
    cJSON_AddNumberToObject (o, "premise_spread", r->premise_spread);
    cJSON_AddStringToObject (o, "mode", dfx_skip_name (r->mode));
    cJSON_AddNumberToObject (o, "sigma_skip", r->sigma_skip);
    cJSON_AddNumberToObject (o, "sigma_skip_pca", r->sigma_skip_pca);
    cJSON_AddNumberToObject (o, "sigma_skip_spectral", r->sigma_skip_spectral);
    cJSON_AddNumberToObject (o, "tolerance", r->tolerance);
    cJSON_AddNumberToObject (o, "calib_images", r->calib_images);
    cJSON_AddNumberToObject (o, "nfe_statistics", (double) r->nfe_statistics);
    cJSON_AddNumberToObject (o, "nfe_samples", (double) r->nfe_samples);
    cJSON_AddNumberToObject (o, "nfe_calibration", (double) r->nfe_calibration);
    cJSON_AddNumberToObject (o, "seconds", r->seconds);
    char *text = cJSON_PrintUnformatted (o);
    if (text)
        printf ("%s\n", text);
    cJSON_free (text);
    cJSON_Delete (o);
}

int
dfx_cli_prepare (int argc, char **argv)
{
    const char *model = NULL, *data = NULL, *samples = NULL;
    int json = 0;
    uint32_t max_images = 0;
    dfx_prepare_params p;
    dfx_prepare_params_defaults (&p);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int ok = 1;
        if (strcmp (a, "--json") == 0)
            json = 1;
        else if (strcmp (a, "--force") == 0)
            p.force = 1;
        else if (strcmp (a, "--help") == 0)
            return usage (stdout, 0);
        else if (v && strcmp (a, "--model") == 0)
            model = v, i++;
        else if (v && strcmp (a, "--data") == 0)
            data = v, i++;
        else if (v && strcmp (a, "--samples") == 0)
            samples = v, i++;
        else if (v && strcmp (a, "--method") == 0) {
            if (strcmp (v, "total") == 0)
                p.method = DFX_PREPARE_TOTAL;
            else if (strcmp (v, "jacobian") == 0)
                p.method = DFX_PREPARE_JACOBIAN;
            else {
                fprintf (stderr, "dfx prepare: --method '%s': expected jacobian or total\n", v);
                ok = 0;
            }
            i++;
        } else if (v && strcmp (a, "--draws") == 0)
            ok = dfx_cli_parse_u32 ("prepare", a, v, 1, 64, &p.draws), i++;
        else if (v && strcmp (a, "--refine") == 0)
            ok = dfx_cli_parse_u32 ("prepare", a, v, 0, 16, &p.refine), i++;
        else if (v && strcmp (a, "--refine-sigma") == 0)
            ok = dfx_cli_parse_double ("prepare", a, v, 1e-3, 1e4, &p.refine_sigma), i++;
        else if (v && strcmp (a, "--jac-points") == 0)
            ok = dfx_cli_parse_u32 ("prepare", a, v, 1, 64, &p.jac_points), i++;
        else if (v && strcmp (a, "--max-images") == 0)
            ok = dfx_cli_parse_u32 ("prepare", a, v, 2, 1u << 30, &max_images), i++;
        else if (v && strcmp (a, "--sigma") == 0)
            ok = dfx_cli_parse_double ("prepare", a, v, 1e-3, 1e4, &p.sigma), i++;
        else if (v && strcmp (a, "--rank") == 0)
            ok = dfx_cli_parse_u32 ("prepare", a, v, 1, 4096, &p.rank), i++;
        else if (v && strcmp (a, "--calib-images") == 0)
            ok = dfx_cli_parse_u32 ("prepare", a, v, 1, 4096, &p.calib_count), i++;
        else if (v && strcmp (a, "--calib-steps") == 0)
            ok = dfx_cli_parse_u32 ("prepare", a, v, 1, DFX_GENERATE_MAX_STEPS, &p.calib_steps), i++;
        else if (v && strcmp (a, "--tolerance") == 0)
            ok = dfx_cli_parse_double ("prepare", a, v, 1e-6, 10.0, &p.tolerance), i++;
        else if (v && strcmp (a, "--seed") == 0)
            ok = dfx_cli_parse_u64 ("prepare", a, v, &p.seed), i++;
        else if (v && strcmp (a, "--oversample") == 0)
            ok = dfx_cli_parse_u32 ("prepare", a, v, 0, 1024, &p.oversample), i++;
        else if (v && strcmp (a, "--iters") == 0)
            ok = dfx_cli_parse_u32 ("prepare", a, v, 0, 32, &p.power_iters), i++;
        else if (v && strcmp (a, "--mean-pairs") == 0)
            ok = dfx_cli_parse_u32 ("prepare", a, v, 1, 4096, &p.mean_pairs), i++;
        else if (v && strcmp (a, "--check-levels") == 0)
            ok = dfx_cli_parse_u32 ("prepare", a, v, 0, DFX_PREPARE_LEVELS, &p.check_levels), i++;
        else if (v && strcmp (a, "--n-sigma") == 0)
            ok = dfx_cli_parse_u32 ("prepare", a, v, 1, 64, &p.n_sigma), i++;
        else if (v && strcmp (a, "--fd-step") == 0)
            ok = dfx_cli_parse_double ("prepare", a, v, 1e-3, 10.0, &p.fd_step), i++;
        else if (v && strcmp (a, "--batch") == 0)
            ok = dfx_cli_parse_u32 ("prepare", a, v, 1, DFX_GENERATE_MAX_COUNT, &p.batch), i++;
        else {
            fprintf (stderr, "dfx prepare: unknown or incomplete argument '%s'\n", a);
            return usage (stderr, DFX_CLI_EXIT_USAGE);
        }
        if (!ok)
            return DFX_CLI_EXIT_USAGE;
    }
    if (!model) {
        fprintf (stderr, "dfx prepare: --model is required\n");
        return usage (stderr, DFX_CLI_EXIT_USAGE);
    }
    if (data && samples) {
        fprintf (stderr, "dfx prepare: --data and --samples exclude each other (data: the statistics of the images; "
                         "samples: the model's own images for the network's statistics)\n");
        return DFX_CLI_EXIT_USAGE;
    }
    dfx_ctx *ctx = NULL;
    float *x = NULL;
    int rc = 0;
    dfx_status st = dfx_ctx_create (NULL, &ctx);
    if (st == DFX_OK && (data || samples)) { /* the model's channels and size, for reading the images */
        dfx_unet *u = NULL;
        if ((st = dfx_unet_load (ctx, model, &u)) == DFX_OK) {
            dfx_unet_info ui;
            dfx_unet_get_info (u, &ui);
            dfx_unet_destroy (u);
            uint32_t count = 0;
            if (read_folder (data ? "--data" : "--samples", data ? data : samples, ui.in_channels, ui.sample_height,
                             ui.sample_width, max_images, &x, &count) != 0) {
                rc = DFX_CLI_EXIT_ERROR;
                goto done;
            }
            if (data)
                p.data = x, p.data_count = count;
            else
                p.samples = x, p.samples_count = count;
        }
    }
    dfx_prepare_result r;
    if (st == DFX_OK)
        st = dfx_prepare (ctx, model, &p, &r);
    if (st != DFX_OK) {
        rc = dfx_cli_fail (ctx, st);
        goto done;
    }
    if (json)
        print_json (model, &r);
    else
        print_text (model, &r);
done:
    free (x);
    dfx_ctx_destroy (ctx);
    return rc;
}
