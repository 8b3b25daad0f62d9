/* prepare.c — dfx_prepare: a model's gaussian/ folder made by libdfx, from
 * the network itself (prep-jacobian.c) or from images (prep-data.c), with
 * σ̃_skip calibrated (prep-calibrate.c) on images the model generates or on
 * held-out images, and written (prep-write.c).  Checks the folder before any
 * network work. */
#include "prepare-private.h"
#include "../model/config-json.h"
#include "../sample/model-private.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *
dfx_prepare_method_name (dfx_prepare_method m)
{
    return m == DFX_PREPARE_JACOBIAN ? "jacobian" : m == DFX_PREPARE_TOTAL ? "total" : "unknown";
}

/* The method's level when p->sigma is 0. */
static double
method_sigma (const dfx_prepare_params *p, dfx_prepare_method method)
{
    return p->sigma > 0.0 ? p->sigma : method == DFX_PREPARE_JACOBIAN ? 10.0 : 2.0;
}

void
dfx_prepare_params_defaults (dfx_prepare_params *p)
{
    memset (p, 0, sizeof *p);
    p->method = DFX_PREPARE_JACOBIAN;
    p->draws = 2;
    p->jac_points = 1;
    p->sigma = 0.0;
    p->fd_step = 1.0;
    p->rank = 64;
    p->oversample = 16;
    p->power_iters = 2;
    p->mean_pairs = 32;
    p->check_levels = 4;
    p->calib_count = 64;
    p->calib_steps = 18;
    p->n_sigma = 16;
    p->tolerance = 0.1;
    p->batch = 16;
}

/* Refuses an existing gaussian/ without force and a folder we cannot write. */
static dfx_status
check_folder (dfx_ctx *ctx, const char *dir, int force)
{
    char path[4096];
    struct stat sb;
    snprintf (path, sizeof path, "%s/gaussian", dir);
    if (stat (path, &sb) == 0) {
        if (!force)
            return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT,
                               "%s already exists; --force replaces it (dfx_prepare_params.force)", path);
        if (!S_ISDIR (sb.st_mode) || access (path, W_OK) != 0)
            return dfx__error (ctx, DFX_ERR_IO, "%s: cannot write into it (%s)", path,
                               S_ISDIR (sb.st_mode) ? strerror (errno) : "not a folder");
        return DFX_OK;
    }
    if (access (dir, W_OK) != 0)
        return dfx__error (ctx, DFX_ERR_IO, "%s: cannot create gaussian/ in it (%s)", dir, strerror (errno));
    return DFX_OK;
}

static dfx_status
check_params (dfx_ctx *ctx, const dfx_prepare_params *p, size_t d)
{
    if (!(p->sigma >= 0.0) || !isfinite (p->sigma) || !(p->fd_step > 0.0) || !isfinite (p->fd_step))
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT,
                           "prepare: sigma %g must be positive (0: the method's) and fd_step %g positive", p->sigma,
                           p->fd_step);
    if (p->method != DFX_PREPARE_TOTAL && p->method != DFX_PREPARE_JACOBIAN)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "prepare: unknown method %d", (int) p->method);
    if (p->draws < 1)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "prepare: draws must be at least 1");
    if (p->samples && p->samples_count < 2)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "prepare: %u sample image(s); at least 2 are needed",
                           p->samples_count);
    if (p->samples && p->data)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "prepare: data and samples are exclusive");
    if (p->rank < 1 || p->rank >= d)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "prepare: rank %u is outside [1, %zu)", p->rank, d);
    if (p->mean_pairs < 1 || p->calib_count < 1 || p->calib_steps < 1 || p->n_sigma < 1 || p->batch < 1 ||
        p->calib_steps > DFX_GENERATE_MAX_STEPS || p->batch > DFX_GENERATE_MAX_COUNT)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT,
                           "prepare: mean_pairs, calib_count, calib_steps, n_sigma and batch must be at least 1 "
                           "(steps at most %d, batch at most %d)", DFX_GENERATE_MAX_STEPS, DFX_GENERATE_MAX_COUNT);
    if (!(p->tolerance > 0.0) || !isfinite (p->tolerance))
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "prepare: tolerance %g must be positive", p->tolerance);
    if (p->data && p->data_count < 2)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "prepare: %u data image(s); at least 2 are needed",
                           p->data_count);
    return DFX_OK;
}

/* The model's own images: Heun without the skip, clamped to the data range. */
static dfx_status
generate_images (dfx_model *m, const dfx_prepare_params *p, uint32_t n, size_t d, float *x)
{
    dfx_generate_params gp;
    dfx_generate_params_defaults (&gp);
    gp.sampler = DFX_SAMPLER_HEUN;
    gp.skip = DFX_SKIP_OFF;
    gp.steps = p->calib_steps;
    gp.seed = p->seed + 1;
    for (uint32_t i = 0; i < n; i += p->batch) {
        gp.count = n - i < p->batch ? n - i : p->batch;
        gp.first_index = i;
        dfx_status st = dfx_generate (m, &gp, x + i * d, NULL);
        if (st != DFX_OK)
            return st;
    }
    for (size_t i = 0; i < n * d; i++)
        x[i] = x[i] < -1.0f ? -1.0f : x[i] > 1.0f ? 1.0f : x[i];
    return DFX_OK;
}

static cJSON *
numbers (const double *v, uint32_t n)
{
    cJSON *a = cJSON_CreateArray ();
    for (uint32_t i = 0; a && i < n; i++)
        cJSON_AddItemToArray (a, cJSON_CreateNumber (v[i]));
    return a;
}

static cJSON *
extra_fields (const dfx_prepare_params *p, const dfx_prepare_result *r)
{
    cJSON *o = cJSON_CreateObject ();
    if (!o)
        return NULL;
    cJSON_AddStringToObject (o, "made_by", "dfx prepare");
    if (r->from_data) {
        cJSON_AddStringToObject (o, "method", "images: mean, sample-covariance PCA (subspace iteration), spectrum");
        cJSON_AddNumberToObject (o, "num_images", r->images);
    } else {
        if (r->method == DFX_PREPARE_TOTAL) {
            cJSON_AddStringToObject (o, "method", "network and its own samples: law of total covariance, Sigma = "
                                                  "sigma^2 E[A] + Cov(D) over noised samples (subspace iteration, "
                                                  "Hutchinson residual, Fourier blocks)");
            cJSON_AddNumberToObject (o, "samples", r->calib_images);
            cJSON_AddNumberToObject (o, "draws", p->draws);
            cJSON_AddNumberToObject (o, "jacobian_points", p->jac_points);
            cJSON_AddNumberToObject (o, "refine", r->refine);
            if (r->refine)
                cJSON_AddNumberToObject (o, "refine_sigma", r->refine_sigma);
            cJSON_AddNumberToObject (o, "trace_jacobian", r->trace_jacobian);
            cJSON_AddNumberToObject (o, "trace_cov", r->trace_cov);
        } else
            cJSON_AddStringToObject (o, "method", "network: mean output and Jacobian A at sigma, Sigma = sigma^2 A (I - "
                                                  "A)^-1 (subspace iteration, Hutchinson residual, Fourier blocks)");
        cJSON_AddNumberToObject (o, "num_images", 0);
        cJSON_AddNumberToObject (o, "jacobian_sigma", r->sigma);
        cJSON_AddNumberToObject (o, "fd_step", p->fd_step);
        cJSON *lv = cJSON_AddObjectToObject (o, "premise_check");
        if (lv) {
            cJSON_AddItemToObject (lv, "sigma", numbers (r->level_sigma, r->levels));
            cJSON_AddNumberToObject (lv, "spread", r->premise_spread);
            cJSON *ev = cJSON_AddArrayToObject (lv, "top_eigenvalues");
            for (uint32_t i = 0; ev && i < r->levels; i++)
                cJSON_AddItemToArray (ev, numbers (r->level_eigenvalues[i], 4));
        }
    }
    cJSON_AddNumberToObject (o, "total_variance", r->total_variance);
    cJSON_AddStringToObject (o, "calibration_metric",
                             "relative RMS of the noise estimate eps = (x~ - x0_hat)/sigma: "
                             "sqrt(E|D_net - D_G|^2 / E|x~ - D_net|^2)");
    cJSON *cal = cJSON_AddObjectToObject (o, "calibration");
    if (cal) {
        cJSON_AddStringToObject (cal, "images_from", r->from_data ? "held-out data"
                                                     : p->samples ? "the model's samples (given)"
                                                                  : "generated (Heun, no skip)");
        cJSON_AddNumberToObject (cal, "images", r->calib_images);
        if (!r->from_data && !p->samples)
            cJSON_AddNumberToObject (cal, "steps", p->calib_steps);
        cJSON_AddNumberToObject (cal, "seed", (double) p->seed);
    }
    cJSON_AddNumberToObject (o, "network_evaluations",
                             (double) (r->nfe_statistics + r->nfe_samples + r->nfe_calibration));
    cJSON_AddNumberToObject (o, "seconds", round (r->seconds * 10.0) / 10.0);
    return o;
}

/* Statistics from the network by one method (not data): g and the
 * method's part of r (level, premise or identity check, refinement).  gx:
 * scratch for Gaussian draws, allocated on first use (the caller frees). */
static dfx_status
network_statistics (dfx_model *m, const dfx_prepare_params *p, dfx_prepare_method method, dfx__prep_eval *ev,
                    uint32_t n_cal, const float *cal_x, float **gx, dfx__gauss_stats **out, dfx_prepare_result *r)
{
    dfx_ctx *ctx = dfx__model_ctx (m);
    const size_t d = ev->d;
    const double sigma = method_sigma (p, method);
    dfx__gauss_stats *g = NULL;
    dfx_status st = DFX_OK;
    r->levels = 0, r->premise_spread = 0.0, r->refine = 0, r->refine_sigma = 0.0;
    r->trace_jacobian = r->trace_cov = 0.0;
    const dfx__jac_params jp = {sigma, p->fd_step, p->rank, p->oversample, p->power_iters, p->mean_pairs,
                                p->seed, p->jac_points, 0};
    dfx__jac_report rep;
    r->sigma = sigma, r->method = method;
    if (method == DFX_PREPARE_TOTAL) {
        DFX_CHECK (dfx__gauss_from_samples (ev, &jp, n_cal, cal_x, p->draws, &g, &rep));
        /* Fixed point: the same identity on draws x0 ~ N(μ, Σ) of the statistics
         * themselves, at refine_sigma, μ from the network's mean output. */
        for (uint32_t it = 0; it < p->refine; it++) {
            if (!*gx && !(*gx = malloc ((size_t) n_cal * d * sizeof **gx))) {
                st = dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (Gaussian draws)");
                goto cleanup;
            }
            if (dfx__gauss_draws (g, n_cal, p->seed + 50 + it, *gx) != DFX_OK) {
                st = dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (Gaussian draws)");
                goto cleanup;
            }
            dfx__jac_params jr = jp;
            jr.sigma = p->refine_sigma > 0.0 ? p->refine_sigma : sigma, jr.mean_outputs = 1;
            jr.seed = p->seed + 100 + it;
            dfx__gauss_stats *g2 = NULL;
            DFX_CHECK (dfx__gauss_from_samples (ev, &jr, n_cal, *gx, p->draws, &g2, &rep));
            dfx__gauss_stats_free (g);
            g = g2;
            r->refine = it + 1, r->refine_sigma = jr.sigma;
        }
        r->trace_jacobian = rep.trace_jac / (double) d, r->trace_cov = rep.trace_cov / (double) d;
    } else
        DFX_CHECK (dfx__gauss_from_network (ev, &jp, &g, &rep));
    double sum = 0.0;
    for (uint32_t k = 0; k < g->rank; k++)
        sum += g->eigval[k];
    r->total_variance = (sum + g->residual * (double) (d - g->rank)) / (double) d;
    /* The premise (TOTAL: the identity) at other levels: σ̃/4, σ̃/2, 2σ̃, 4σ̃, σ̃/8, 8σ̃, … */
    const dfx__schedule *sched = dfx__model_schedule (m);
    for (uint32_t i = 0; i < p->check_levels && r->levels < DFX_PREPARE_LEVELS; i++) {
        const double f = pow (2.0, (double) (i / 2 + 1)), s = i % 2 ? sigma * f : sigma / f;
        if (s < sched->sigma_min || s > sched->sigma_max)
            continue;
        r->level_sigma[r->levels] = s;
        if (method == DFX_PREPARE_TOTAL)
            DFX_CHECK (dfx__gauss_total_check (ev, g, s, p->fd_step, 4, 4, n_cal, cal_x, p->seed + i,
                                               r->level_eigenvalues[r->levels]));
        else
            DFX_CHECK (dfx__gauss_level_check (ev, g, s, p->fd_step, 4, 4, p->seed + i,
                                               r->level_eigenvalues[r->levels]));
        const double l0 = r->level_eigenvalues[r->levels][0], l1 = g->rank ? g->eigval[0] : 0.0;
        if (f < 2.5 && l0 > 0.0 && l1 > 0.0)
            r->premise_spread = fmax (r->premise_spread, fmax (l0 / l1, l1 / l0));
        r->levels++;
    }
    *out = g;
    g = NULL;
cleanup:
    dfx__gauss_stats_free (g);
    return st;
}

static dfx_status
prepare (dfx_model *m, const dfx_prepare_params *p, dfx_prepare_result *out);

dfx_status
dfx_prepare (dfx_ctx *ctx, const char *model_dir, const dfx_prepare_params *p, dfx_prepare_result *out)
{
    dfx_status st = check_folder (ctx, model_dir, p->force);
    dfx_model *m = NULL;
    if (st == DFX_OK)
        st = dfx__model_load_bare (ctx, model_dir, &m);
    if (st == DFX_OK)
        st = prepare (m, p, out);
    dfx_model_destroy (m);
    return st;
}

static dfx_status
prepare (dfx_model *m, const dfx_prepare_params *p, dfx_prepare_result *out)
{
    dfx_ctx *ctx = dfx__model_ctx (m);
    const char *dir = dfx__model_dir (m);
    const double t0 = dfx__now ();
    dfx_prepare_result r;
    memset (&r, 0, sizeof r);
    dfx_model_info mi;
    dfx_model_get_info (m, &mi);
    const uint32_t c = mi.channels, h = mi.sample_height, w = mi.sample_width;
    if (!h || !w)
        return dfx__error (ctx, DFX_ERR_UNSUPPORTED, "%s: the U-Net config has no sample_size to take the "
                           "statistics on", dir);
    const size_t d = (size_t) c * h * w;
    dfx_status st = check_params (ctx, p, d);
    if (st != DFX_OK)
        return st;

    dfx__prep_eval ev;
    memset (&ev, 0, sizeof ev);
    dfx__gauss_stats *g = NULL;
    float *cal_x = NULL, *gx = NULL;
    dfx__calibration cal;
    memset (&cal, 0, sizeof cal);
    DFX_CHECK (dfx__prep_eval_init (dfx__model_denoiser (m), h, w, p->batch, &ev));

    /* The images: held-out data, the model's given samples or generated ones. */
    const double t1 = dfx__now ();
    uint32_t n_cal = p->samples ? p->samples_count : p->calib_count, n_fit = 0;
    if (p->data) {
        uint32_t held = p->data_count / 20;
        held = held < 1 ? 1 : held > n_cal ? n_cal : held;
        n_fit = p->data_count - held < 2 ? p->data_count : p->data_count - held;
        n_cal = held;
    }
    cal_x = malloc ((size_t) n_cal * d * sizeof *cal_x);
    if (!cal_x) {
        st = dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (%u calibration images)", n_cal);
        goto cleanup;
    }
    if (p->data)
        memcpy (cal_x, p->data + (size_t) (p->data_count - n_cal) * d, (size_t) n_cal * d * sizeof *cal_x);
    else if (p->samples)
        memcpy (cal_x, p->samples, (size_t) n_cal * d * sizeof *cal_x);
    else {
        DFX_CHECK (generate_images (m, p, n_cal, d, cal_x));
        r.nfe_samples = (uint64_t) n_cal * dfx__sampler_nfe (DFX_SAMPLER_HEUN, p->calib_steps);
    }
    r.calib_images = n_cal;
    r.seconds_samples = dfx__now () - t1;

    /* The statistics. */
    const double ts = dfx__now ();
    if (p->data) {
        r.from_data = 1, r.images = n_fit;
        DFX_CHECK (dfx__gauss_from_data (ctx, c, h, w, n_fit, p->data, p->rank, p->seed, &g, &r.total_variance));
        r.total_variance /= (double) d;
    } else
        DFX_CHECK (network_statistics (m, p, p->method, &ev, n_cal, cal_x, &gx, &g, &r));
    r.nfe_statistics = ev.nfe;
    r.rank = g->rank;
    for (uint32_t k = 0; k < g->rank && k < DFX_PREPARE_TOP; k++)
        r.eigenvalues[k] = g->eigval[k];
    r.residual_variance = g->residual;
    r.seconds_statistics = dfx__now () - ts;

    const double t2 = dfx__now ();
    const uint64_t nfe0 = ev.nfe;
    DFX_CHECK (dfx__gauss_calibrate (&ev, dfx__model_schedule (m), g, n_cal, cal_x, p->n_sigma, p->tolerance,
                                     p->seed + 2, &cal));
    r.nfe_calibration = ev.nfe - nfe0;
    r.seconds_calibration = dfx__now () - t2;
    g->sigma_skip_pca = cal.skip_pca, g->sigma_skip_spectral = cal.skip_spectral, g->tolerance = p->tolerance;
    g->mode = cal.skip_pca <= cal.skip_spectral ? DFX_SKIP_PCA : DFX_SKIP_SPECTRAL;
    g->sigma_skip = g->mode == DFX_SKIP_PCA ? cal.skip_pca : cal.skip_spectral;
    r.mode = g->mode, r.sigma_skip = g->sigma_skip, r.sigma_skip_pca = cal.skip_pca;
    r.sigma_skip_spectral = cal.skip_spectral, r.tolerance = p->tolerance;
    r.seconds = dfx__now () - t0;
    DFX_CHECK (dfx__gauss_write (ctx, dir, g, &cal, extra_fields (p, &r)));
    if (out)
        *out = r;
cleanup:
    free (cal_x), free (gx);
    dfx__gauss_stats_free (g);
    dfx__prep_eval_free (&ev);
    return st;
}
