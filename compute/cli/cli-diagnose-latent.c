/* cli-diagnose-latent.c — `dfx diagnose --encoder DIR`: is an autoencoder's
 * latent space diffusable?  The latent diagnostics of dfx_latent_diagnose_vae
 * (docs/latent-diagnostics.md) on a folder of data images.
 *
 *   dfx diagnose --encoder DIR --data DIR [--count N] [--levels K | --sigmas S1,S2,...]
 *                [--density empirical|gaussian] [--samples S] [--jacobian-points P]
 *                [--fd-step H] [--batch B] [--seed S] [--json] [--csv FILE] [--plot OUT.png]
 *
 * The data folder's *.png files (sorted by name, the first N) are converted
 * to the autoencoder's input channels and [−1, 1]; all must share one size, a
 * multiple of its downscale.  Output: a table with the two sandwiches'
 * pass/fail and margins per level (the derived one at rescaled levels, the
 * paper summary's at one level) and the encoder's constants (or JSON with --json),
 * CSV with --csv, a plot with --plot.  No numerics here. */
#include "cli.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
usage (FILE *f, int rc)
{
    fprintf (f, "usage: dfx diagnose --encoder DIR --data DIR [--count N] [--levels K | --sigmas S1,S2,...]\n"
                "                    [--density empirical|gaussian] [--samples S] [--jacobian-points P]\n"
                "                    [--fd-step H] [--batch B] [--seed S] [--json] [--csv FILE] [--plot OUT.png]\n\n"
                "Is the latent space of the autoencoder DIR/vae a good place to diffuse?  On the first N (default\n"
                "256) PNG images of the data folder (converted to the encoder's channels, values to [-1, 1]) and\n"
                "their codes (the posterior mean, (mean - shift) * scaling as a latent diffusion model sees it),\n"
                "per noise level sigma (tau = sigma^2): the Fisher information J, its rate FIR = E|F|_F^2 and the\n"
                "MMSE rate d - 2 tau J + tau^2 FIR of the data set's distribution (dimension D) and of the codes'\n"
                "(d), from the exact scores of their empirical distributions (Dirac mixtures; --density gaussian:\n"
                "of their moment-matched Gaussians), by S (default 256) Monte Carlo draws of the noisy point.\n"
                "The encoder's local bi-Lipschitz constants m, L: the extreme singular values of its Jacobian at P\n"
                "(default 8) data points, by central differences of step H (default 0.01), B (default 16) columns\n"
                "per call; the secant constants over the data pairs for comparison.  At every level two sandwiches\n"
                "are checked, pass/fail and the margins (relative to J_z): the one derived in the docs, a theorem\n"
                "for linear maps (levels rescaled by the constants)\n"
                "  J_x(tau/m^2)/L^2 - (D-d) m^2/(tau L^2)  <=  J_z(tau)  <=  J_x(tau/L^2)/m^2\n"
                "and the paper summary's statement read at one level (not a theorem: a scaled rotation breaks it)\n"
                "  J_x(tau)/L^2  <=  J_z(tau)  <=  J_x(tau)/m^2\n"
                "K (default 12) levels log-spaced from\n"
                "0.1x the median nearest-neighbour distance to 3x the RMS radius of the images and of the codes\n"
                "(below, every posterior is one image; above, all are one blob), or the given ones.\n"
                "Formulas: docs/latent-diagnostics.md.\n");
    return rc;
}

/* Up to max images of c channels into *data ([−1, 1], NCHW), one size. */
static int
read_images (const char *dir, uint32_t max, uint32_t c, float **data, uint32_t *n, uint32_t *h, uint32_t *w)
{
    struct dirent **list = NULL;
    int k = dfx_cli_scan_pngs (dir, &list);
    *data = NULL, *n = 0;
    if (k < 0)
        return -1;
    int rc = 0;
    if (k < 2) {
        fprintf (stderr, "dfx diagnose: the data folder %s holds %d .png image%s; the diagnostics need 2 or more\n",
                 dir, k, k == 1 ? "" : "s");
        rc = -1;
    }
    const uint32_t count = (uint32_t)k < max ? (uint32_t)k : max;
    size_t per = 0;
    for (uint32_t i = 0; !rc && i < count; i++) {
        char path[4096];
        snprintf (path, sizeof path, "%s/%s", dir, list[i]->d_name);
        float *img = NULL;
        uint32_t iw, ih;
        if (dfx_cli_png_read_planar (path, c, -1.0f, 1.0f, &img, &iw, &ih) != 0) {
            rc = -1;
            break;
        }
        if (i == 0) {
            *w = iw, *h = ih, per = (size_t)c * ih * iw;
            if (!(*data = malloc (count * per * sizeof (float)))) {
                fprintf (stderr, "dfx diagnose: out of host memory for %u images of %ux%u\n", count, iw, ih);
                rc = -1;
            }
        } else if (iw != *w || ih != *h) {
            fprintf (stderr, "dfx diagnose: %s is %ux%u, the first image is %ux%u; all must have one size\n", path, iw,
                     ih, *w, *h);
            rc = -1;
        }
        if (!rc)
            memcpy (*data + i * per, img, per * sizeof (float));
        free (img);
    }
    for (int i = 0; i < k; i++)
        free (list[i]);
    free (list);
    if (rc) {
        free (*data);
        *data = NULL;
        return -1;
    }
    *n = count;
    return 0;
}

static const char *stat_cols[] = {"j",       "j_se",      "j_score",      "j_score_se", "fir",    "fir_se",  "mmse",
                                  "mmse_se", "mmse_rate", "mmse_rate_se", "rate_d",     "rate_j", "rate_fir"};
#define NSTAT (sizeof stat_cols / sizeof stat_cols[0])

static void
stat_values (const dfx_fisher_stats *s, double *v)
{
    const double a[] = {s->j,       s->j_se, s->j_score, s->j_score_se, s->fir,    s->fir_se,  s->mmse,
                        s->mmse_se, s->rate, s->rate_se, s->rate_d,     s->rate_j, s->rate_fir};
    memcpy (v, a, sizeof a);
}

/* the derived sandwich, then the one-level form (_same); the last two of each are pass flags */
static const char *bound_cols[] = {"j_x_lo",
                                   "j_x_lo_se",
                                   "j_x_hi",
                                   "j_x_hi_se",
                                   "lower",
                                   "upper",
                                   "lower_margin",
                                   "lower_margin_se",
                                   "upper_margin",
                                   "upper_margin_se",
                                   "lower_pass",
                                   "upper_pass",
                                   "lower_same",
                                   "upper_same",
                                   "lower_same_margin",
                                   "lower_same_margin_se",
                                   "upper_same_margin",
                                   "upper_same_margin_se",
                                   "lower_same_pass",
                                   "upper_same_pass"};
#define NBOUND (sizeof bound_cols / sizeof bound_cols[0])

static int
is_flag (size_t c)
{
    return c == 10 || c == 11 || c == 18 || c == 19;
}

static void
bound_values (const dfx_latent_row *r, double *v)
{
    const double a[] = {r->j_x_lo,
                        r->j_x_lo_se,
                        r->j_x_hi,
                        r->j_x_hi_se,
                        r->lower,
                        r->upper,
                        r->lower_margin,
                        r->lower_margin_se,
                        r->upper_margin,
                        r->upper_margin_se,
                        r->lower_pass,
                        r->upper_pass,
                        r->lower_same,
                        r->upper_same,
                        r->lower_same_margin,
                        r->lower_same_margin_se,
                        r->upper_same_margin,
                        r->upper_same_margin_se,
                        r->lower_same_pass,
                        r->upper_same_pass};
    memcpy (v, a, sizeof a);
}

static void
write_csv (FILE *f, const dfx_latent_row *rows, uint32_t n)
{
    fprintf (f, "sigma,tau");
    for (size_t c = 0; c < NSTAT; c++)
        fprintf (f, ",x_%s", stat_cols[c]);
    for (size_t c = 0; c < NSTAT; c++)
        fprintf (f, ",z_%s", stat_cols[c]);
    for (size_t c = 0; c < NBOUND; c++)
        fprintf (f, ",%s", bound_cols[c]);
    fputc ('\n', f);
    for (uint32_t j = 0; j < n; j++) {
        double v[NSTAT > NBOUND ? NSTAT : NBOUND];
        fprintf (f, "%.9g,%.9g", rows[j].sigma, rows[j].tau);
        stat_values (&rows[j].x, v);
        for (size_t c = 0; c < NSTAT; c++)
            fprintf (f, ",%.9g", v[c]);
        stat_values (&rows[j].z, v);
        for (size_t c = 0; c < NSTAT; c++)
            fprintf (f, ",%.9g", v[c]);
        bound_values (rows + j, v);
        for (size_t c = 0; c < NBOUND; c++)
            fprintf (f, ",%.9g", v[c]);
        fputc ('\n', f);
    }
}

static cJSON *
stats_json (const dfx_fisher_stats *s)
{
    cJSON *o = cJSON_CreateObject ();
    double v[NSTAT];
    stat_values (s, v);
    for (size_t c = 0; c < NSTAT; c++)
        cJSON_AddNumberToObject (o, stat_cols[c], v[c]);
    return o;
}

static void
write_table (const dfx_latent_row *rows, uint32_t n)
{
    printf ("%9s %11s %11s %11s %11s %11s %11s %11s %11s  %-16s %-16s  %-16s %-16s\n", "sigma", "J_x", "J_z", "FIR_x",
            "FIR_z", "rate_x", "rate_z", "lower", "upper", "lower (margin)", "upper (margin)", "1-level lower",
            "1-level upper");
    for (uint32_t j = 0; j < n; j++) {
        const dfx_latent_row *r = rows + j;
        char lo[64], hi[64], los[64], his[64];
        snprintf (lo, sizeof lo, "%s %+.3g", r->lower_pass ? "pass" : "FAIL", r->lower_margin);
        snprintf (hi, sizeof hi, "%s %+.3g", r->upper_pass ? "pass" : "FAIL", r->upper_margin);
        snprintf (los, sizeof los, "%s %+.3g", r->lower_same_pass ? "pass" : "FAIL", r->lower_same_margin);
        snprintf (his, sizeof his, "%s %+.3g", r->upper_same_pass ? "pass" : "FAIL", r->upper_same_margin);
        printf ("%9.4g %11.5g %11.5g %11.5g %11.5g %11.5g %11.5g %11.5g %11.5g  %-16s %-16s  %-16s %-16s\n", r->sigma,
                r->x.j, r->z.j, r->x.fir, r->z.fir, r->x.rate, r->z.rate, r->lower, r->upper, lo, hi, los, his);
    }
}

static int
plot (const char *path, const dfx_latent_row *rows, uint32_t n, const char *title)
{
    double *v = malloc ((size_t)n * 11 * sizeof *v);
    if (!v) {
        fprintf (stderr, "dfx diagnose: out of host memory for the plot\n");
        return -1;
    }
    double *sg = v, *jx = v + n, *jz = v + 2 * n, *lo = v + 3 * n, *hi = v + 4 * n, *fx = v + 5 * n, *fz = v + 6 * n,
           *rx = v + 7 * n, *rz = v + 8 * n, *los = v + 9 * n, *his = v + 10 * n;
    for (uint32_t j = 0; j < n; j++) {
        sg[j] = rows[j].sigma, jx[j] = rows[j].x.j, jz[j] = rows[j].z.j, lo[j] = rows[j].lower;
        hi[j] = rows[j].upper, fx[j] = rows[j].x.fir, fz[j] = rows[j].z.fir, rx[j] = rows[j].x.rate;
        rz[j] = rows[j].z.rate, los[j] = rows[j].lower_same, his[j] = rows[j].upper_same;
    }
    const dfx_cli_series left[] = {{"J data", 31, 100, 200, 0, 1, sg, jx},
                                   {"J latent", 230, 120, 20, 0, 1, sg, jz},
                                   {"derived lower bound (rescaled levels)", 120, 120, 120, 6, 0, sg, lo},
                                   {"derived upper bound (rescaled levels)", 60, 60, 60, 12, 0, sg, hi},
                                   {"J data / L^2 (same level, summary)", 200, 60, 60, 4, 0, sg, los},
                                   {"J data / m^2 (same level, summary)", 200, 60, 60, 10, 0, sg, his}};
    const dfx_cli_series right[] = {{"FIR data", 31, 100, 200, 0, 1, sg, fx},
                                    {"FIR latent", 230, 120, 20, 0, 1, sg, fz},
                                    {"MMSE rate data", 30, 150, 60, 8, 1, sg, rx},
                                    {"MMSE rate latent", 140, 60, 170, 8, 1, sg, rz}};
    const dfx_cli_panel pl = {"Fisher information and the sandwiches", "sigma (tau = sigma^2)", "J", left, 6};
    const dfx_cli_panel pr = {"Fisher information rate, MMSE rate", "sigma (tau = sigma^2)", "FIR, d mmse/d tau", right,
                              4};
    int rc = dfx_cli_plot_two ("diagnose", path, title, (int)n, &pl, &pr);
    free (v);
    return rc;
}

/* The options of the autoencoder's diagnose alone (dfx_cli_diagnose_parse()). */
static int
option (const char *a, const char *v, void *user)
{
    dfx_latent_params *p = user;

    if (strcmp (a, "--samples") == 0)
        return dfx_cli_parse_u32 ("diagnose", a, v, 1, 1u << 24, &p->samples);
    if (strcmp (a, "--jacobian-points") == 0)
        return dfx_cli_parse_u32 ("diagnose", a, v, 1, 8192, &p->jacobian_points);
    if (strcmp (a, "--fd-step") == 0)
        return dfx_cli_parse_double ("diagnose", a, v, 1e-6, 1.0, &p->fd_step);
    if (strcmp (a, "--density") == 0) {
        static const char *const names[] = {"empirical", "gaussian"};
        int k;
        if (!dfx_cli_parse_choice ("diagnose", a, v, names, 2, &k))
            return 0;
        p->density = k ? DFX_DENSITY_GAUSSIAN : DFX_DENSITY_EMPIRICAL;
        return 1;
    }
    return -1;
}

int
dfx_cli_diagnose_latent (int argc, char **argv)
{
    dfx_latent_params p;
    dfx_latent_params_defaults (&p);
    dfx_cli_diagnose_args g = {.source_opt = "--encoder", .count_min = 2, .count_max = 8192, .count = 256,
                               .usage = usage, .n_sigmas = &p.n_sigmas, .batch = &p.batch, .sigmas = &p.sigmas,
                               .seed = &p.seed};
    int done = dfx_cli_diagnose_parse (&g, argc, argv, option, &p);
    if (done >= 0)
        return done;
    const char *enc = g.source, *data_dir = g.data_dir, *csv = g.csv, *plot_path = g.plot;
    dfx_ctx *ctx = NULL;
    dfx_vae *v = NULL;
    float *data = NULL;
    dfx_latent_row *rows = NULL;
    int rc = 0;
    dfx_status st = dfx_ctx_create (NULL, &ctx);
    if (st != DFX_OK)
        goto fail;
    if ((st = dfx_vae_load (ctx, enc, &v)) != DFX_OK)
        goto fail;
    dfx_vae_info vi;
    dfx_vae_get_info (v, &vi);
    uint32_t n = 0, h = 0, w = 0;
    if (read_images (data_dir, g.count, vi.in_channels, &data, &n, &h, &w) != 0) {
        rc = DFX_CLI_EXIT_USAGE;
        goto out;
    }
    if (vi.downscale && (h % vi.downscale || w % vi.downscale)) {
        fprintf (stderr, "dfx diagnose: the images are %ux%u; the autoencoder takes multiples of %u\n", w, h,
                 vi.downscale);
        rc = DFX_CLI_EXIT_USAGE;
        goto out;
    }
    if (!(rows = calloc (p.n_sigmas, sizeof *rows))) {
        fprintf (stderr, "dfx diagnose: out of host memory\n");
        rc = DFX_CLI_EXIT_ERROR;
        goto out;
    }
    dfx_latent_summary s;
    const double t0 = dfx_cli_now ();
    if ((st = dfx_latent_diagnose_vae (ctx, v, &p, data, n, h, w, rows, &s)) != DFX_OK)
        goto fail;
    const double secs = dfx_cli_now () - t0;
    const char *density = p.density == DFX_DENSITY_GAUSSIAN ? "gaussian" : "empirical";
    if (csv) {
        FILE *f = dfx_cli_open_write ("diagnose", csv);
        if (f)
            write_csv (f, rows, p.n_sigmas);
        if (!f || dfx_cli_close_write ("diagnose", csv, f) != 0) {
            rc = DFX_CLI_EXIT_ERROR;
            goto out;
        }
    }
    if (plot_path) {
        /* the folders' last names: the title is one line of ~120 characters */
        const char *eb = strrchr (enc, '/'), *db = strrchr (data_dir, '/');
        eb = eb && eb[1] ? eb + 1 : enc, db = db && db[1] ? db + 1 : data_dir;
        char title[512];
        snprintf (title, sizeof title, "%.40s on %u images of %.30s: data %u values, latent %u, m %.3g, L %.3g (%s)",
                  eb, n, db, s.dx, s.dz, s.sv_min, s.sv_max, density);
        if (plot (plot_path, rows, p.n_sigmas, title) != 0) {
            rc = DFX_CLI_EXIT_ERROR;
            goto out;
        }
    }
    if (g.json) {
        cJSON *o = cJSON_CreateObject ();
        cJSON_AddStringToObject (o, "encoder", enc);
        cJSON_AddStringToObject (o, "data", data_dir);
        cJSON_AddNumberToObject (o, "images", n);
        cJSON_AddNumberToObject (o, "width", w);
        cJSON_AddNumberToObject (o, "height", h);
        cJSON_AddNumberToObject (o, "data_dim", s.dx);
        cJSON_AddNumberToObject (o, "latent_dim", s.dz);
        cJSON_AddStringToObject (o, "density", density);
        cJSON_AddNumberToObject (o, "samples", p.samples);
        cJSON_AddNumberToObject (o, "seed", (double)p.seed);
        cJSON_AddNumberToObject (o, "fd_step", p.fd_step);
        cJSON_AddNumberToObject (o, "jacobian_points", s.jacobian_points);
        cJSON_AddNumberToObject (o, "sv_min", s.sv_min);
        cJSON_AddNumberToObject (o, "sv_max", s.sv_max);
        cJSON_AddNumberToObject (o, "sv_min_mean", s.sv_min_mean);
        cJSON_AddNumberToObject (o, "sv_max_mean", s.sv_max_mean);
        cJSON_AddNumberToObject (o, "secant_min", s.secant_min);
        cJSON_AddNumberToObject (o, "secant_max", s.secant_max);
        cJSON_AddNumberToObject (o, "secant_pairs", (double)s.secant_pairs);
        cJSON_AddBoolToObject (o, "lower_is_theorem", s.lower_is_theorem);
        cJSON_AddNumberToObject (o, "levels_passed", s.levels_passed);
        cJSON_AddNumberToObject (o, "levels_passed_same", s.levels_passed_same);
        cJSON_AddNumberToObject (o, "seconds", secs);
        if (plot_path)
            cJSON_AddStringToObject (o, "plot", plot_path);
        cJSON *arr = cJSON_AddArrayToObject (o, "rows");
        for (uint32_t j = 0; j < p.n_sigmas; j++) {
            const dfx_latent_row *r = rows + j;
            cJSON *ro = cJSON_CreateObject ();
            cJSON_AddNumberToObject (ro, "sigma", r->sigma);
            cJSON_AddNumberToObject (ro, "tau", r->tau);
            cJSON_AddItemToObject (ro, "data", stats_json (&r->x));
            cJSON_AddItemToObject (ro, "latent", stats_json (&r->z));
            double bv[NBOUND];
            bound_values (r, bv);
            for (size_t c = 0; c < NBOUND; c++) {
                if (is_flag (c))
                    cJSON_AddBoolToObject (ro, bound_cols[c], bv[c] != 0.0);
                else if (isfinite (bv[c]))
                    cJSON_AddNumberToObject (ro, bound_cols[c], bv[c]);
                else
                    cJSON_AddNullToObject (ro, bound_cols[c]); /* m = 0: no upper side */
            }
            cJSON_AddItemToArray (arr, ro);
        }
        dfx_cli_print_json (o);
    } else {
        printf ("%s on %u images %ux%u of %s (%s density, %u draws per level, seed %llu)\n", enc, n, w, h, data_dir,
                density, p.samples, (unsigned long long)p.seed);
        printf ("data D = %u values, latent d = %u values\n", s.dx, s.dz);
        printf ("encoder Jacobian at %u points: m = min sigma_min %.6g (mean %.6g), L = max sigma_max %.6g (mean "
                "%.6g)\n",
                s.jacobian_points, s.sv_min, s.sv_min_mean, s.sv_max, s.sv_max_mean);
        printf ("secant constants over %llu data pairs: [%.6g, %.6g]\n", (unsigned long long)s.secant_pairs,
                s.secant_min, s.secant_max);
        printf ("sandwich J_x(tau/m^2)/L^2 - (D-d) m^2/(tau L^2) <= J_z(tau) <= J_x(tau/L^2)/m^2 (lower side %s);\n"
                "one-level form J_x(tau)/L^2 <= J_z(tau) <= J_x(tau)/m^2 (the paper summary's statement, not a "
                "theorem)\n",
                s.lower_is_theorem ? "a theorem for linear maps, d = D" : "assumes the data on a d-dimensional set");
        write_table (rows, p.n_sigmas);
        printf ("both sides hold at %u of %u levels (one-level form: %u); %.1f s%s%s%s%s\n", s.levels_passed,
                p.n_sigmas, s.levels_passed_same, secs, csv ? "; wrote " : "", csv ? csv : "",
                plot_path ? "; plot " : "", plot_path ? plot_path : "");
    }
    goto out;
fail:
    rc = dfx_cli_fail (ctx, st);
out:
    free (data), free (rows);
    dfx_vae_destroy (v);
    dfx_ctx_destroy (ctx);
    return rc;
}
