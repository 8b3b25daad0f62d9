/* model.c — a model folder (unet/, scheduler/, optional gaussian/) and
 * generation with it: parameter checks, the choice of skip mode, the noise,
 * the padded canvas, then the sampler (sampler.c) on the U-Net denoiser.
 * The front ends (CLI, plug-in) call only this. */
#include "model-private.h"
#include "../model/model-files.h"
#include "../unet/unet-private.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

struct dfx_model {
    dfx_ctx *ctx;
    char *dir;
    dfx_unet *unet;
    dfx__sched_config *sc;
    dfx__schedule sched;
    dfx__gauss_stats *gauss; /* NULL without gaussian/ */
    dfx__denoiser *den;
    dfx__skip *skip;         /* created on first use */
    int has_fisher;          /* fisher/ holds a config and weights */
    dfx_unet *fisher;        /* loaded on first use */
    dfx__moments *moments;
};

const char *
dfx_sampler_name (dfx_sampler s)
{
    switch (s) {
    case DFX_SAMPLER_HEUN: return "heun";
    case DFX_SAMPLER_EULER: return "euler";
    case DFX_SAMPLER_DDIM: return "ddim";
    case DFX_SAMPLER_DDPM: return "ddpm";
    case DFX_SAMPLER_OCM_DDPM: return "ocm-ddpm";
    case DFX_SAMPLER_OCM_DDIM: return "ocm-ddim";
    case DFX_SAMPLER_DPMPP_2M: return "dpmpp-2m";
    }
    return "unknown";
}

const char *
dfx_skip_name (dfx_skip s)
{
    switch (s) {
    case DFX_SKIP_AUTO: return "auto";
    case DFX_SKIP_PCA: return "pca";
    case DFX_SKIP_SPECTRAL: return "spectral";
    case DFX_SKIP_OFF: return "off";
    }
    return "unknown";
}

void
dfx_model_destroy (dfx_model *m)
{
    if (!m)
        return;
    dfx__moments_destroy (m->moments);
    dfx_unet_destroy (m->fisher);
    dfx__skip_destroy (m->skip);
    dfx__denoiser_destroy (m->den);
    dfx__gauss_stats_free (m->gauss);
    dfx__schedule_free (&m->sched);
    dfx__sched_config_destroy (m->sc);
    dfx_unet_destroy (m->unet);
    free (m->dir);
    free (m);
}

static dfx_status
model_load (dfx_ctx *ctx, const char *dir, int with_gaussian, dfx_model **out)
{
    *out = NULL;
    dfx_model *m = calloc (1, sizeof *m);
    if (!m || !(m->dir = strdup (dir))) {
        free (m);
        return dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory loading %s", dir);
    }
    m->ctx = ctx;
    char path[4096];
    struct stat sb;
    dfx_status st;
    DFX_CHECK (dfx_unet_load (ctx, dir, &m->unet));
    dfx__model_files *mf = NULL;
    DFX_CHECK (dfx__model_files_find (ctx, dir, "unet", ctx->model_variant, &mf));
    st = dfx__sched_config_load (ctx, mf->scheduler, &m->sc);
    dfx__model_files_free (mf);
    if (st != DFX_OK)
        goto cleanup;
    DFX_CHECK (dfx__schedule_from_config (ctx, m->sc, &m->sched));
    DFX_CHECK (dfx__denoiser_unet (m->unet, &m->sched, m->sc->prediction_type, &m->den));
    snprintf (path, sizeof path, "%s/fisher/config.json", dir);
    m->has_fisher = stat (path, &sb) == 0;
    snprintf (path, sizeof path, "%s/gaussian", dir);
    if (with_gaussian && stat (path, &sb) == 0) {
        DFX_CHECK (dfx__gauss_stats_load (ctx, dir, &m->gauss));
        if (m->gauss->channels != m->den->channels) {
            st = dfx__error (ctx, DFX_ERR_FORMAT, "%s/config.json: %u channels, the U-Net has %u", path,
                             m->gauss->channels, m->den->channels);
            goto cleanup;
        }
    }
    *out = m;
    return DFX_OK;
cleanup:
    dfx_model_destroy (m);
    return st;
}

dfx_status
dfx_model_load (dfx_ctx *ctx, const char *dir, dfx_model **out)
{
    return model_load (ctx, dir, 1, out);
}

dfx_status
dfx__model_load_bare (dfx_ctx *ctx, const char *dir, dfx_model **out)
{
    return model_load (ctx, dir, 0, out);
}

dfx_ctx *
dfx__model_ctx (const dfx_model *m)
{
    return m->ctx;
}

const char *
dfx__model_dir (const dfx_model *m)
{
    return m->dir;
}

dfx__denoiser *
dfx__model_denoiser (dfx_model *m)
{
    return m->den;
}

const dfx__schedule *
dfx__model_schedule (const dfx_model *m)
{
    return &m->sched;
}

const dfx__gauss_stats *
dfx__model_gauss (const dfx_model *m)
{
    return m->gauss;
}

dfx_status
dfx__model_moments (dfx_model *m, dfx__moments **out)
{
    *out = NULL;
    if (!m->moments) {
        if (!m->has_fisher)
            return dfx__error (m->ctx, DFX_ERR_UNSUPPORTED,
                               "%s has no Fisher head (%s/fisher/config.json is missing); train it with: %s %s",
                               m->dir, m->dir, DFX__MAKE_FISHER, m->dir);
        dfx_status st;
        if (!m->fisher && (st = dfx_unet_load_part (m->ctx, m->dir, "fisher", &m->fisher)) != DFX_OK)
            return st;
        if ((st = dfx__moments_unet (m->den, m->fisher, &m->sched, &m->moments)) != DFX_OK)
            return st;
    }
    *out = m->moments;
    return DFX_OK;
}

void
dfx__model_set_attention_global (dfx_model *m, int global)
{
    dfx__unet_set_attention_global (m->unet, global);
    if (m->fisher)
        dfx__unet_set_attention_global (m->fisher, global);
}

static double
calibrated_sigma (const dfx__gauss_stats *g, dfx_skip mode)
{
    double s = mode == DFX_SKIP_PCA ? g->sigma_skip_pca : g->sigma_skip_spectral;
    return s > 0 ? s : g->sigma_skip;
}

void
dfx_model_get_info (const dfx_model *m, dfx_model_info *info)
{
    memset (info, 0, sizeof *info);
    dfx_unet_info ui;
    dfx_unet_get_info (m->unet, &ui);
    info->channels = ui.in_channels;
    info->sample_height = ui.sample_height;
    info->sample_width = ui.sample_width;
    info->size_multiple = ui.size_multiple;
    info->prediction = m->sc->prediction_type == DFX__PREDICT_V        ? DFX_PREDICTION_V
                       : m->sc->prediction_type == DFX__PREDICT_SAMPLE ? DFX_PREDICTION_SAMPLE
                                                                       : DFX_PREDICTION_EPSILON;
    info->train_timesteps = (uint32_t) m->sc->num_train_timesteps;
    info->sigma_min = m->sched.sigma_min;
    info->sigma_max = m->sched.sigma_max;
    info->gaussian_mode = DFX_SKIP_OFF;
    info->has_fisher = m->has_fisher;
    if (m->gauss) {
        info->has_gaussian = 1;
        info->gaussian_pca = m->gauss->has_pca;
        info->gaussian_spectral = m->gauss->has_spectral;
        info->gaussian_rank = m->gauss->rank;
        info->gaussian_mode = m->gauss->mode;
        info->sigma_skip = calibrated_sigma (m->gauss, m->gauss->mode);
    }
}

void
dfx_generate_params_defaults (dfx_generate_params *p)
{
    memset (p, 0, sizeof *p);
    p->sampler = DFX_SAMPLER_DPMPP_2M;
    p->steps = 18;
    p->skip = DFX_SKIP_AUTO;
    p->count = 1;
}

/* How to make gaussian/: from the network (no data needed), or from the data. */
#define MAKE_STATS "dfx prepare --model %s (or from its data: python3 models/gaussian_stats.py --model %s)"

/* Decides the skip mode and σ_skip for a canvas of ph × pw.  Explicit modes
 * the model cannot do are errors; auto falls back with a warning. */
static dfx_status
resolve_skip (dfx_model *m, const dfx_generate_params *p, uint32_t ph, uint32_t pw, dfx_skip *mode, double *sigma,
              char *warn, size_t warn_size)
{
    dfx_ctx *ctx = m->ctx;
    const dfx__gauss_stats *g = m->gauss;
    *mode = DFX_SKIP_OFF;
    *sigma = 0.0;
    if (p->skip == DFX_SKIP_OFF)
        return DFX_OK;
    if (!g) {
        if (p->skip == DFX_SKIP_AUTO) {
            snprintf (warn, warn_size, "%s has no gaussian/ statistics: Gaussian skip off (make them with: dfx "
                      "prepare --model %s)", m->dir, m->dir);
            return DFX_OK;
        }
        return dfx__error (ctx, DFX_ERR_UNSUPPORTED,
                           "the %s skip needs the model's Gaussian statistics, but %s has no gaussian/ folder; make "
                           "it with: " MAKE_STATS, dfx_skip_name (p->skip), m->dir, m->dir, m->dir);
    }
    bool native = ph == g->height && pw == g->width;
    dfx_skip want = p->skip;
    if (want == DFX_SKIP_AUTO) {
        want = g->mode;
        if (want == DFX_SKIP_PCA && (!g->has_pca || !native))
            want = g->has_spectral ? DFX_SKIP_SPECTRAL : DFX_SKIP_OFF;
        if (want == DFX_SKIP_SPECTRAL && !g->has_spectral)
            want = g->has_pca && native ? DFX_SKIP_PCA : DFX_SKIP_OFF;
        if (want == DFX_SKIP_OFF) {
            snprintf (warn, warn_size,
                      "%s/gaussian holds only PCA statistics for %ux%u, the canvas is %ux%u: Gaussian skip off",
                      m->dir, g->width, g->height, pw, ph);
            return DFX_OK;
        }
    } else if (want == DFX_SKIP_PCA && !g->has_pca) {
        return dfx__error (ctx, DFX_ERR_UNSUPPORTED,
                           "%s/gaussian holds no PCA statistics (tensor pca_components); make them with: " MAKE_STATS,
                           m->dir, m->dir, m->dir);
    } else if (want == DFX_SKIP_PCA && !native) {
        return dfx__error (ctx, DFX_ERR_UNSUPPORTED,
                           "the PCA skip works at the statistics' size %ux%u only, the canvas is %ux%u; use the "
                           "spectral skip for other sizes", g->width, g->height, pw, ph);
    } else if (want == DFX_SKIP_SPECTRAL && !g->has_spectral) {
        return dfx__error (ctx, DFX_ERR_UNSUPPORTED,
                           "%s/gaussian holds no spectral statistics (tensor spectral_covariance); make them with: "
                           MAKE_STATS, m->dir, m->dir, m->dir);
    }
    double s = p->sigma_skip > 0 ? p->sigma_skip : calibrated_sigma (g, want);
    if (!(s > 0)) {
        if (p->skip == DFX_SKIP_AUTO) {
            snprintf (warn, warn_size, "%s/gaussian has no calibrated sigma_skip: Gaussian skip off", m->dir);
            return DFX_OK;
        }
        return dfx__error (ctx, DFX_ERR_UNSUPPORTED,
                           "%s/gaussian has no calibrated sigma_skip for the %s skip; give one (sigma_skip)", m->dir,
                           dfx_skip_name (want));
    }
    *mode = want;
    *sigma = s;
    return DFX_OK;
}

dfx_status
dfx_generate (dfx_model *m, const dfx_generate_params *p, float *out, dfx_generate_result *r)
{
    dfx_ctx *ctx = m->ctx;
    const double t0 = dfx__now ();
    dfx_generate_result res;
    memset (&res, 0, sizeof res);
    dfx_model_info mi;
    dfx_model_get_info (m, &mi);
    const uint32_t c = mi.channels, mult = mi.size_multiple ? mi.size_multiple : 1;
    uint32_t h = p->height ? p->height : mi.sample_height, w = p->width ? p->width : mi.sample_width;
    if ((unsigned) p->sampler > DFX_SAMPLER_LAST || (unsigned) p->skip > DFX_SKIP_OFF)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "generate: unknown sampler %d or skip mode %d",
                           (int) p->sampler, (int) p->skip);
    if (p->steps < 1 || p->steps > DFX_GENERATE_MAX_STEPS)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "generate: %u steps is outside [1, %d]", p->steps,
                           DFX_GENERATE_MAX_STEPS);
    if (!h || !w)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT,
                           "generate: the model's config has no sample_size; give the width and height");
    if (h > DFX_GENERATE_MAX_SIZE || w > DFX_GENERATE_MAX_SIZE)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "generate: size %ux%u is outside [1, %d] per side", w, h,
                           DFX_GENERATE_MAX_SIZE);
    if (p->count < 1 || p->count > DFX_GENERATE_MAX_COUNT)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "generate: count %u is outside [1, %d]", p->count,
                           DFX_GENERATE_MAX_COUNT);
    if (!(p->sigma_skip >= 0) || !isfinite (p->sigma_skip))
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "generate: sigma_skip %g is not a number >= 0",
                           p->sigma_skip);
    const uint32_t ph = (h + mult - 1) / mult * mult, pw = (w + mult - 1) / mult * mult;
    const size_t d = (size_t) c * ph * pw, n = d * p->count;
    if ((unsigned long long) n > DFX_GENERATE_MAX_FLOATS)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT,
                           "generate: %u images of %u × %ux%u (padded) are %zu values, more than the limit %llu",
                           p->count, c, pw, ph, n, (unsigned long long) DFX_GENERATE_MAX_FLOATS);
    dfx_skip mode;
    double sigma_skip;
    dfx_status st = resolve_skip (m, p, ph, pw, &mode, &sigma_skip, res.warning, sizeof res.warning);
    if (st != DFX_OK)
        return st;
    if (mode != DFX_SKIP_OFF && !(sigma_skip > m->sched.sigma_min))
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "generate: sigma_skip %g must be above the model's "
                           "sigma_min %g", sigma_skip, m->sched.sigma_min);
    if (mode != DFX_SKIP_OFF && !m->skip && (st = dfx__skip_create (ctx, m->gauss, &m->skip)) != DFX_OK)
        return st;

    /* The OCM samplers need the Fisher head; without fisher/ the message
     * names the folder and the command that trains it. */
    dfx__moments *mo = NULL;
    if ((p->sampler == DFX_SAMPLER_OCM_DDPM || p->sampler == DFX_SAMPLER_OCM_DDIM) &&
        (st = dfx__model_moments (m, &mo)) != DFX_OK)
        return st;

    dfx_buffer *x = NULL;
    float *host = malloc (n * sizeof *host);
    if (!host)
        return dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (%zu values)", n);
    for (uint32_t k = 0; k < p->count; k++)
        dfx_generate_noise (p->seed, p->first_index + k, c, ph, pw, host + k * d);
    DFX_CHECK (dfx_buffer_create (ctx, n * sizeof (float), &x));
    DFX_CHECK (dfx_buffer_upload (ctx, x, 0, host, n * sizeof (float)));
    dfx__sample_desc sd = {
        .den = m->den,
        .mo = mo,
        .sched = &m->sched,
        .sampler = p->sampler,
        .steps = p->steps,
        .batch = p->count,
        .h = ph,
        .w = pw,
        .skip_mode = mode,
        .skip = m->skip,
        .sigma_skip = sigma_skip,
        .progress = p->progress,
        .progress_user = p->progress_user,
        .seed = p->seed,
        .first_index = p->first_index,
        .cmax = 1.0,                          /* [−1, 1] data: Var ≤ 1 */
        .clip_last = DFX__CLIP_LAST_8BIT,
    };
    DFX_CHECK (dfx__sample (&sd, x, &res));
    if (mode != DFX_SKIP_OFF && res.skip == DFX_SKIP_OFF && !res.warning[0])
        snprintf (res.warning, sizeof res.warning,
                  "no step skipped: the %s skip needs sigma_skip (%g) below sigma_max (%g) and 2 or more steps (%u)",
                  dfx_skip_name (mode), sigma_skip, res.sigma_max, p->steps);
    DFX_CHECK (dfx_buffer_download (ctx, x, 0, host, n * sizeof (float)));
    /* The canvas is padded at the right and bottom: the image is its top-left corner. */
    for (uint32_t k = 0; k < p->count; k++)
        for (uint32_t ch = 0; ch < c; ch++)
            for (uint32_t y = 0; y < h; y++)
                memcpy (out + (((size_t) k * c + ch) * h + y) * w, host + k * d + ((size_t) ch * ph + y) * pw,
                        w * sizeof (float));
    res.canvas_width = pw;
    res.canvas_height = ph;
    res.seconds = dfx__now () - t0;
    if (r)
        *r = res;
cleanup:
    dfx_buffer_destroy (ctx, x);
    free (host);
    return st;
}
