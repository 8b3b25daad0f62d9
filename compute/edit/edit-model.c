/* edit-model.c — dfx_edit(): the guided edit of one image with a model
 * folder's score network.  Checks the parameters and the mask, pads the
 * image, guide and mask to the U-Net's multiple (edge values for the
 * images, weight 0 for the padding), draws the start noise, maps the
 * strength to σ̃_start on the model's schedule, runs edit.c and crops.
 * Not for: the numerics (edit.c and the files it calls), nor files. */
#include "edit-private.h"
#include "../sample/model-private.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static int
all_finite (const float *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite (v[i]))
            return 0;
    return 1;
}

/* The edit of one window (h × w; the whole image or a crop): pads to the
 * U-Net's multiple, runs edit.c and crops.  keep (h × w, may be NULL:
 * 1 − mask) weights the preservation term.  out (c × h × w) receives the
 * model's endpoint. */
static dfx_status edit_window (dfx_model *m, const dfx_edit_params *p, uint32_t w, uint32_t h, const float *image,
                               const float *guide, const float *mask, const float *keep, float *out,
                               dfx_edit_result *res);

dfx_status
dfx_edit (dfx_model *m, const dfx_edit_params *p, uint32_t width, uint32_t height, const float *image,
          const float *guide, const float *mask, float *out, dfx_edit_result *r)
{
    dfx_ctx *ctx = dfx__model_ctx (m);
    dfx_edit_result res;
    memset (&res, 0, sizeof res);
    dfx_model_info mi;
    dfx_model_get_info (m, &mi);
    const uint32_t c = mi.channels, mult = mi.size_multiple ? mi.size_multiple : 1;
    const uint32_t h = height, w = width;
    dfx__model_set_attention_global (m, p->global_attention);
    if (p->sampler == DFX_SAMPLER_HEUN)
        return dfx__error (ctx, DFX_ERR_UNSUPPORTED,
                           "edit: the Heun sampler has no DF-EA adjoint in dfx; use ddim or euler");
    if (p->sampler != DFX_SAMPLER_DDIM && p->sampler != DFX_SAMPLER_EULER)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "edit: unknown sampler %d", (int) p->sampler);
    if (p->steps < 1 || p->steps > DFX_GENERATE_MAX_STEPS)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "edit: %u steps is outside [1, %d]", p->steps,
                           DFX_GENERATE_MAX_STEPS);
    if (!(p->strength > 0 && p->strength <= 1))
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "edit: strength %g is outside (0, 1]", p->strength);
    if (p->iterations > DFX_EDIT_MAX_ITERATIONS)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "edit: %u iterations is more than %d", p->iterations,
                           DFX_EDIT_MAX_ITERATIONS);
    if (!(p->guide_weight >= 0) || !isfinite (p->guide_weight) || !(p->preserve_weight >= 0) ||
        !isfinite (p->preserve_weight))
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "edit: guide weight %g and preserve weight %g must be "
                           "numbers >= 0", p->guide_weight, p->preserve_weight);
    if (!(p->step_size > 0) || !isfinite (p->step_size) || !(p->momentum >= 0 && p->momentum < 1))
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "edit: step size %g must be > 0 and momentum %g in "
                           "[0, 1)", p->step_size, p->momentum);
    if (!(p->feather >= 0 && p->feather <= DFX_EDIT_MAX_FEATHER))
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "edit: feather %g is outside [0, %d] pixels", p->feather,
                           DFX_EDIT_MAX_FEATHER);
    if (p->context > DFX_GENERATE_MAX_SIZE)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "edit: context %u is more than %d pixels", p->context,
                           DFX_GENERATE_MAX_SIZE);
    if ((unsigned) p->optimizer > DFX_EDIT_SGD || (unsigned) p->adjoint > DFX_EDIT_ADJOINT_AUTO ||
        (unsigned) p->start > DFX_EDIT_START_INVERT)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "edit: unknown optimiser %d, adjoint %d or start %d",
                           (int) p->optimizer, (int) p->adjoint, (int) p->start);
    if (p->network_steps < -1 || p->network_steps > (int32_t) p->steps)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "edit: %d network steps is outside [0, %u] (the steps; -1: "
                           "automatic)", (int) p->network_steps, p->steps);
    if (!w || !h || w > DFX_GENERATE_MAX_SIZE || h > DFX_GENERATE_MAX_SIZE)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "edit: size %ux%u is outside [1, %d] per side", w, h,
                           DFX_GENERATE_MAX_SIZE);
    if (!image || !out || (!p->loss && (!guide || !mask)))
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT,
                           "edit: the image, the output and (without a loss callback) the guide and mask are needed");
    const uint32_t ph = (h + mult - 1) / mult * mult, pw = (w + mult - 1) / mult * mult;
    const size_t n = (size_t) c * ph * pw, ni = (size_t) c * h * w, np = (size_t) h * w;
    if ((unsigned long long) n > DFX_GENERATE_MAX_FLOATS)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "edit: %u × %ux%u (padded) is more than %llu values", c,
                           pw, ph, (unsigned long long) DFX_GENERATE_MAX_FLOATS);
    if (!all_finite (image, ni) || (guide && !all_finite (guide, ni)))
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "edit: the %s holds a value that is not a finite number",
                           !all_finite (image, ni) ? "image" : "guide");
    double msum = 0.0;
    if (mask) {
        for (size_t i = 0; i < np; i++) {
            if (!(mask[i] >= 0.0f && mask[i] <= 1.0f))
                return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT,
                                   "edit: mask value %g at pixel (%zu, %zu) is outside [0, 1]", (double) mask[i],
                                   i % w, i / w);
            msum += mask[i];
        }
    }
    if (!p->loss && msum == 0.0) {
        /* Nothing to follow anywhere: the image is the answer. */
        if (out != image)
            memcpy (out, image, ni * sizeof (float));
        res.unchanged = 1;
        snprintf (res.warning, sizeof res.warning, "the mask is empty: nothing to edit, the image is unchanged");
        if (r)
            *r = res;
        return DFX_OK;
    }
    if (!p->loss && msum == (double) np)
        snprintf (res.warning, sizeof res.warning,
                  "the mask covers the whole image: nothing is preserved, the whole image follows the guide");

    dfx_status st = DFX_OK;
    if (p->loss || !mask) {
        /* a custom loss sees the whole image and its result is the model's */
        st = edit_window (m, p, w, h, image, guide, mask, NULL, out, &res);
        if (st == DFX_OK) {
            res.window_width = w, res.window_height = h;
            if (r)
                *r = res;
        }
        return st;
    }
    float *wt = malloc (np * sizeof *wt), *ci = NULL, *cg = NULL, *cm = NULL, *co = NULL;
    if (!wt) {
        st = dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (edit of %ux%u)", w, h);
        goto done;
    }
    dfx__region_feather (mask, w, h, p->feather, wt);
    dfx__rect win;
    dfx__region_window (wt, w, h, p->context, mi.sample_width, mi.sample_height, &win);
    const size_t nw = (size_t) win.w * win.h;
    if (!(ci = malloc (c * nw * sizeof *ci)) || !(cg = malloc (c * nw * sizeof *cg)) ||
        !(cm = malloc (nw * sizeof *cm)) || !(co = malloc (c * nw * sizeof *co))) {
        st = dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (edit of %ux%u)", w, h);
        goto done;
    }
    dfx__region_crop (image, c, w, h, &win, ci);
    dfx__region_crop (guide, c, w, h, &win, cg);
    dfx__region_crop (mask, 1, w, h, &win, cm);
    /* the preservation term keeps 1 − mask, the band included: the model's output there stays near the
     * image, so the composite's soft edge blends two things that agree (with 1 − wt the band went free
     * and the objective rose on the first Adam steps) */
    DFX_CHECK (edit_window (m, p, win.w, win.h, ci, cg, cm, NULL, co, &res));
    dfx__region_composite (image, co, wt, c, w, h, &win, p->raw, out);
    res.window_x = win.x, res.window_y = win.y, res.window_width = win.w, res.window_height = win.h;
    if (r)
        *r = res;
cleanup:
done:
    free (wt), free (ci), free (cg), free (cm), free (co);
    return st;
}

static dfx_status
edit_window (dfx_model *m, const dfx_edit_params *p, uint32_t w, uint32_t h, const float *image, const float *guide,
             const float *mask, const float *keep, float *out, dfx_edit_result *r)
{
    dfx_ctx *ctx = dfx__model_ctx (m);
    dfx_edit_result res;
    memset (&res, 0, sizeof res);
    memcpy (res.warning, r->warning, sizeof res.warning);
    dfx_model_info mi;
    dfx_model_get_info (m, &mi);
    const uint32_t c = mi.channels, mult = mi.size_multiple ? mi.size_multiple : 1;
    const uint32_t ph = (h + mult - 1) / mult * mult, pw = (w + mult - 1) / mult * mult;
    const size_t n = (size_t) c * ph * pw;
    dfx_status st = DFX_OK;
    uint8_t *net = NULL; /* hybrid: the steps with the network's product */
    double *lv = NULL;
    float *img = malloc (n * sizeof *img), *gd = malloc (n * sizeof *gd), *mg = calloc (n, sizeof *mg),
          *mp = calloc (n, sizeof *mp), *nz = malloc (n * sizeof *nz), *res_canvas = malloc (n * sizeof *res_canvas);
    if (!img || !gd || !mg || !mp || !nz || !res_canvas) {
        st = dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (edit of %zu values)", n);
        goto cleanup;
    }
    dfx__region_pad_edge (image, c, h, w, ph, pw, img);
    if (guide)
        dfx__region_pad_edge (guide, c, h, w, ph, pw, gd);
    else
        memcpy (gd, img, n * sizeof *gd);
    if (mask)
        for (uint32_t ch = 0; ch < c; ch++)
            for (uint32_t y = 0; y < h; y++)
                for (uint32_t x = 0; x < w; x++) {
                    const size_t at = ((size_t) ch * ph + y) * pw + x;
                    mg[at] = mask[(size_t) y * w + x];
                    mp[at] = keep ? keep[(size_t) y * w + x] : 1.0f - mg[at];
                }
    dfx_generate_noise (p->seed, 0, c, ph, pw, nz);

    const dfx__schedule *sched = dfx__model_schedule (m);
    dfx__skip *gskip = NULL;
    dfx__edit_cov_gauss_state gcov;
    dfx__edit_run_desc d = {
        .map = {.den = dfx__model_denoiser (m), .sched = sched, .sampler = p->sampler, .steps = p->steps,
                .sigma_start = dfx__schedule_sigma (sched, p->strength * dfx__schedule_t_max (sched)),
                .sigma_end = sched->sigma_min, .h = ph, .w = pw},
        .p = p,
        .img_w = w,
        .img_h = h,
    };
    if (!(d.map.sigma_start > d.map.sigma_end)) {
        st = dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT,
                         "edit: strength %g starts at sigma %g, not above the model's sigma_min %g; use a larger "
                         "strength", p->strength, d.map.sigma_start, d.map.sigma_end);
        goto cleanup;
    }
    /* the adjoint: the Gaussian of gaussian/ (PCA on the statistics' grid, the stationary spectrum on other
     * canvases) where asked for, with the network's product at a few steps (hybrid) where asked for or by
     * default where the model has gaussian/, else DF-EA as asked */
    const dfx__gauss_stats *g = dfx__model_gauss (m);
    const int pca = g && g->has_pca && g->height == ph && g->width == pw;
    res.adjoint = p->adjoint == DFX_EDIT_ADJOINT_AUTO ? DFX_EDIT_ADJOINT_DFEA_CLAMPED : p->adjoint;
    if (p->adjoint == DFX_EDIT_ADJOINT_GAUSSIAN || p->adjoint == DFX_EDIT_ADJOINT_HYBRID ||
        (p->adjoint == DFX_EDIT_ADJOINT_AUTO && g && (pca || g->has_spectral))) {
        if (!g) {
            st = dfx__error (ctx, DFX_ERR_UNSUPPORTED,
                             "edit: the %s adjoint needs the model's Gaussian statistics, but %s has no "
                             "gaussian/ folder; make it with: dfx prepare --model %s",
                             p->adjoint == DFX_EDIT_ADJOINT_HYBRID ? "hybrid" : "Gaussian", dfx__model_dir (m),
                             dfx__model_dir (m));
            goto cleanup;
        }
        if (!pca && !g->has_spectral) {
            st = dfx__error (ctx, DFX_ERR_UNSUPPORTED,
                             "edit: the Gaussian adjoint needs %s/gaussian's spectrum on a %ux%u canvas (its PCA is "
                             "for %ux%u only); make it with: dfx prepare --model %s --force", dfx__model_dir (m), pw,
                             ph, g->width, g->height, dfx__model_dir (m));
            goto cleanup;
        }
        DFX_CHECK (dfx__skip_create (ctx, g, &gskip));
        gcov = (dfx__edit_cov_gauss_state){ctx, gskip, pca, ph, pw, n};
        if (p->adjoint == DFX_EDIT_ADJOINT_GAUSSIAN) {
            d.cov = dfx__edit_cov_gauss, d.cov_user = &gcov;
            res.adjoint = DFX_EDIT_ADJOINT_GAUSSIAN;
        } else {
            /* the network's product at the first steps below the σ̃ where gaussian/'s calibration found the
             * Gaussian's denoiser departing from the network's */
            const double skip = pca ? (g->sigma_skip_pca > 0 ? g->sigma_skip_pca : g->sigma_skip)
                                    : (g->sigma_skip_spectral > 0 ? g->sigma_skip_spectral : g->sigma_skip);
            if (!(net = calloc (p->steps, 1)) || !(lv = malloc ((p->steps + 2) * sizeof *lv))) {
                st = dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (edit of %u steps)", p->steps);
                goto cleanup;
            }
            dfx__edit_levels (&d.map, lv);
            res.network_steps = dfx__edit_hybrid_steps (
                lv, p->steps, skip,
                p->network_steps < 0 ? dfx__edit_hybrid_default (p->steps) : (uint32_t) p->network_steps, net);
            d.hybrid = &gcov, d.hybrid_net = net;
            res.adjoint = DFX_EDIT_ADJOINT_HYBRID;
        }
    }
    DFX_CHECK (dfx__edit_run (&d, img, gd, mg, mp, p->start == DFX_EDIT_START_NOISE ? nz : NULL, res_canvas, &res));
    for (uint32_t ch = 0; ch < c; ch++)
        for (uint32_t y = 0; y < h; y++)
            memcpy (out + ((size_t) ch * h + y) * w, res_canvas + ((size_t) ch * ph + y) * pw, w * sizeof (float));
    res.canvas_width = pw;
    res.canvas_height = ph;
    if (r)
        *r = res;
cleanup:
    dfx__skip_destroy (gskip);
    free (net), free (lv);
    free (img), free (gd), free (mg), free (mp), free (nz), free (res_canvas);
    return st;
}
