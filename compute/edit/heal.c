/* heal.c — dfx_heal(): fill a masked region so that it continues its
 * surroundings under the model (dfx.h "Heal Selection").
 *
 * On a window around the mask's feathered band (region.c), in the EDM view
 * x̃ = x/α over the levels σ_0 = σ̃(strength) > ... > σ_N = σ̃_min:
 *
 *     x ← D + (σ_down/σ_i)(x − D) + σ_up ξ               Euler ancestral to σ_{i+1}
 *     x ← w ⊙ x + (1 − w) ⊙ (y + σ_{i+1} ε)               the known region, noised (RePaint)
 *     x ← x + √(σ_i² − σ_{i+1}²) ξ'                        back up one level, for all but the last pass
 *
 * with σ_up² = σ_{i+1}²(σ_i² − σ_{i+1}²)/σ_i², σ_down² = σ_{i+1}² − σ_up²
 * (the DDPM step), w the feathered mask, y the image, fresh unit noise ξ,
 * ξ', ε per pass from the seed.  The result is D(x_N; σ_N), composited by
 * w.  The masked pixels of y are never read: the start replaces them by
 * a smooth membrane fill of the known pixels around them.
 * Not for: guidance (edit.c), files or GIMP.
 */
#include "edit-private.h"
#include "../ops/ops-sample.h"
#include "../sample/model-private.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
dfx_heal_params_defaults (dfx_heal_params *p)
{
    memset (p, 0, sizeof *p);
    p->steps = 25;
    p->strength = 1.0;
    p->resample = 3;
    p->feather = 3.0;
    p->context = 16;
}

/* start (c × h × w) = y where wt = 0, and inside the membrane (harmonic)
 * interpolation of the known values around it: Jacobi sweeps of the
 * 4-neighbour mean from the known mean, as many as the hole is wide (a
 * smooth fill that the sampler's noise then hides; the hole's own pixels
 * are never read). */
static void
harmonic_fill (const float *y, const float *wt, uint32_t c, uint32_t h, uint32_t w, float *start)
{
    const size_t np = (size_t) h * w;
    float *tmp = malloc (np * sizeof *tmp);
    uint32_t x0 = w, x1 = 0, y0 = h, y1 = 0;
    for (uint32_t r = 0; r < h; r++)
        for (uint32_t q = 0; q < w; q++)
            if (wt[(size_t) r * w + q] > 0.0f)
                x0 = q < x0 ? q : x0, x1 = q > x1 ? q : x1, y0 = r < y0 ? r : y0, y1 = r > y1 ? r : y1;
    const uint32_t sweeps = 2 * ((x1 - x0 > y1 - y0 ? x1 - x0 : y1 - y0) + 1);
    for (uint32_t ch = 0; ch < c; ch++) {
        const float *yc = y + ch * np;
        float *sc = start + ch * np;
        double sum = 0, cnt = 0;
        for (size_t i = 0; i < np; i++)
            if (wt[i] == 0.0f)
                sum += yc[i], cnt += 1;
        for (size_t i = 0; i < np; i++)
            sc[i] = wt[i] == 0.0f ? yc[i] : (float) (cnt > 0 ? sum / cnt : 0.0);
        for (uint32_t k = 0; tmp && k < sweeps; k++) {
            memcpy (tmp, sc, np * sizeof *tmp);
            for (uint32_t r = y0; r <= y1; r++)
                for (uint32_t q = x0; q <= x1; q++) {
                    const size_t i = (size_t) r * w + q;
                    if (wt[i] == 0.0f)
                        continue;
                    float acc = 0;
                    int nn = 0;
                    if (r > 0)
                        acc += tmp[i - w], nn++;
                    if (r + 1 < h)
                        acc += tmp[i + w], nn++;
                    if (q > 0)
                        acc += tmp[i - 1], nn++;
                    if (q + 1 < w)
                        acc += tmp[i + 1], nn++;
                    sc[i] = acc / (float) nn;
                }
        }
    }
    free (tmp);
}

typedef struct heal_state {
    dfx_ctx *ctx;
    dfx__denoiser *den;
    uint32_t h, w;
    size_t n;
    dfx_buffer *x, *d, *y, *wt, *k, *t;
    float *host;       /* n values of noise */
    uint64_t seed;
    uint32_t draws;    /* noise fields drawn */
    dfx__edit_progress pr;
} heal_state;

static dfx_status
noise_into (heal_state *s, dfx_buffer *b)
{
    dfx_generate_noise (s->seed, s->draws++, (uint32_t) (s->n / ((size_t) s->h * s->w)), s->h, s->w, s->host);
    return dfx_buffer_upload (s->ctx, b, 0, s->host, s->n * sizeof (float));
}

static dfx_status
report (heal_state *s)
{
    s->pr.done++;
    if (s->pr.fn && s->pr.fn ((double) s->pr.done / s->pr.total, s->pr.user))
        return dfx__error (s->ctx, DFX_ERR_CANCELLED, "heal cancelled after %u of %u network evaluations",
                           s->pr.done, s->pr.total);
    return DFX_OK;
}

/* x ← w ⊙ x + (1 − w) ⊙ (y + σ ε), ε fresh. */
static dfx_status
replace_known (heal_state *s, double sigma)
{
    dfx_status st = DFX_OK;
    DFX_CHECK (noise_into (s, s->k));
    DFX_CHECK (dfx__lincomb (s->ctx, s->k, 0, 1.0f, s->y, 0, (float) sigma, s->k, 0, 0.0f, s->n));
    DFX_CHECK (dfx__lincomb (s->ctx, s->t, 0, 1.0f, s->x, 0, -1.0f, s->k, 0, 0.0f, s->n));
    DFX_CHECK (dfx_op_mul (s->ctx, s->t, s->wt, s->t, s->n));
    DFX_CHECK (dfx__lincomb (s->ctx, s->x, 0, 1.0f, s->k, 0, 1.0f, s->t, 0, 0.0f, s->n));
cleanup:
    return st;
}

/* The sampler on the padded window: y, wt (per value) on the host; out (n) the result. */
static dfx_status
heal_window (heal_state *s, const dfx_heal_params *p, const double *sig, const float *y, const float *wt,
             const float *start, float *out)
{
    dfx_ctx *ctx = s->ctx;
    dfx_status st = DFX_OK;
    const size_t bytes = s->n * sizeof (float);
    dfx_buffer **bufs[] = {&s->x, &s->d, &s->y, &s->wt, &s->k, &s->t};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++)
        DFX_CHECK (dfx_buffer_create (ctx, bytes, bufs[i]));
    DFX_CHECK (dfx_buffer_upload (ctx, s->y, 0, y, bytes));
    DFX_CHECK (dfx_buffer_upload (ctx, s->wt, 0, wt, bytes));
    /* the start: the known mean in the hole, noised to σ_0 */
    DFX_CHECK (dfx_buffer_upload (ctx, s->t, 0, start, bytes));
    DFX_CHECK (noise_into (s, s->x));
    DFX_CHECK (dfx__lincomb (ctx, s->x, 0, 1.0f, s->t, 0, (float) sig[0], s->x, 0, 0.0f, s->n));
    for (uint32_t i = 0; i < p->steps; i++) {
        const double sa = sig[i], sb = sig[i + 1];
        const double up = sqrt (sb * sb * (sa * sa - sb * sb) / (sa * sa)), down = sqrt (sb * sb - up * up);
        for (uint32_t u = 0; u < p->resample; u++) {
            DFX_CHECK (s->den->denoise (s->den, 1, s->h, s->w, s->x, sa, s->d));
            /* x = D + (down/σ)(x − D) + up ξ  (ξ in k) */
            DFX_CHECK (noise_into (s, s->k));
            DFX_CHECK (dfx__lincomb (ctx, s->x, 0, (float) (down / sa), s->x, 0, (float) (1.0 - down / sa), s->d, 0,
                                     0.0f, s->n));
            DFX_CHECK (dfx__lincomb (ctx, s->x, 0, 1.0f, s->x, 0, (float) up, s->k, 0, 0.0f, s->n));
            DFX_CHECK (replace_known (s, sb));
            if (u + 1 < p->resample) {
                DFX_CHECK (noise_into (s, s->k));
                DFX_CHECK (dfx__lincomb (ctx, s->x, 0, 1.0f, s->x, 0, (float) sqrt (sa * sa - sb * sb), s->k, 0,
                                         0.0f, s->n));
            }
            DFX_CHECK (dfx_ctx_flush (ctx));
            DFX_CHECK (report (s));
        }
    }
    DFX_CHECK (s->den->denoise (s->den, 1, s->h, s->w, s->x, sig[p->steps], s->d));
    DFX_CHECK (dfx_ctx_flush (ctx));
    DFX_CHECK (report (s));
    DFX_CHECK (dfx_buffer_download (ctx, s->d, 0, out, bytes));
cleanup:
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) {
        dfx_buffer_destroy (ctx, *bufs[i]);
        *bufs[i] = NULL;
    }
    return st;
}

dfx_status
dfx_heal (dfx_model *m, const dfx_heal_params *p, uint32_t width, uint32_t height, const float *image,
          const float *mask, float *out, dfx_heal_result *r)
{
    dfx_ctx *ctx = dfx__model_ctx (m);
    dfx_heal_result res;
    memset (&res, 0, sizeof res);
    dfx_model_info mi;
    dfx_model_get_info (m, &mi);
    const uint32_t c = mi.channels, mult = mi.size_multiple ? mi.size_multiple : 1, w = width, h = height;
    const double t0 = dfx__now ();
    dfx__model_set_attention_global (m, p->global_attention);
    if (p->steps < 1 || p->steps > DFX_GENERATE_MAX_STEPS)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "heal: %u steps is outside [1, %d]", p->steps,
                           DFX_GENERATE_MAX_STEPS);
    if (!(p->strength > 0 && p->strength <= 1))
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "heal: strength %g is outside (0, 1]", p->strength);
    if (p->resample < 1 || p->resample > DFX_HEAL_MAX_RESAMPLE)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "heal: %u passes per level is outside [1, %d]", p->resample,
                           DFX_HEAL_MAX_RESAMPLE);
    if (!(p->feather >= 0 && p->feather <= DFX_EDIT_MAX_FEATHER))
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "heal: feather %g is outside [0, %d] pixels", p->feather,
                           DFX_EDIT_MAX_FEATHER);
    if (p->context > DFX_GENERATE_MAX_SIZE)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "heal: context %u is more than %d pixels", p->context,
                           DFX_GENERATE_MAX_SIZE);
    if (!w || !h || w > DFX_GENERATE_MAX_SIZE || h > DFX_GENERATE_MAX_SIZE)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "heal: size %ux%u is outside [1, %d] per side", w, h,
                           DFX_GENERATE_MAX_SIZE);
    if (!image || !mask || !out)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "heal: the image, the mask and the output are needed");
    const size_t np = (size_t) w * h, ni = (size_t) c * np;
    double msum = 0;
    for (size_t i = 0; i < np; i++) {
        if (!(mask[i] >= 0.0f && mask[i] <= 1.0f))
            return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "heal: mask value %g at pixel (%zu, %zu) is outside [0, 1]",
                               (double) mask[i], i % w, i / w);
        msum += mask[i];
    }
    for (size_t i = 0; i < ni; i++)
        if (!isfinite (image[i]))
            return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "heal: the image holds a value that is not a finite number");
    if (msum == 0.0) {
        if (out != image)
            memcpy (out, image, ni * sizeof *out);
        res.unchanged = 1;
        snprintf (res.warning, sizeof res.warning, "the mask is empty: nothing to heal, the image is unchanged");
        if (r)
            *r = res;
        return DFX_OK;
    }

    dfx_status st = DFX_OK;
    heal_state s = {.ctx = ctx, .den = dfx__model_denoiser (m), .seed = p->seed};
    float *wt = malloc (np * sizeof *wt), *cy = NULL, *cw = NULL, *py = NULL, *pw_ = NULL, *ps = NULL, *po = NULL,
          *co = NULL;
    double *sig = malloc ((p->steps + 2) * sizeof *sig);
    if (!wt || !sig) {
        st = dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (heal of %ux%u)", w, h);
        goto cleanup;
    }
    dfx__region_feather (mask, w, h, p->feather, wt);
    size_t known = 0;
    for (size_t i = 0; i < np; i++)
        known += wt[i] == 0.0f;
    if (known == 0) {
        st = dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT,
                         "heal: the mask (with its %g-pixel feather) covers the whole %ux%u image: there is nothing "
                         "around it to heal from; select less", p->feather, w, h);
        goto cleanup;
    }
    dfx__rect win;
    dfx__region_window (wt, w, h, p->context, mi.sample_width, mi.sample_height, &win);
    const uint32_t ph = (win.h + mult - 1) / mult * mult, pwd = (win.w + mult - 1) / mult * mult;
    const size_t nw = (size_t) win.w * win.h, n = (size_t) c * ph * pwd;
    if ((unsigned long long) n > DFX_GENERATE_MAX_FLOATS) {
        st = dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "heal: the window %u × %ux%u (padded) is more than %llu "
                         "values; select a smaller region", c, pwd, ph, (unsigned long long) DFX_GENERATE_MAX_FLOATS);
        goto cleanup;
    }
    if (!(cy = malloc (c * nw * sizeof *cy)) || !(cw = malloc (nw * sizeof *cw)) || !(py = malloc (n * sizeof *py)) ||
        !(pw_ = malloc (n * sizeof *pw_)) || !(ps = malloc (n * sizeof *ps)) || !(po = malloc (n * sizeof *po)) ||
        !(co = malloc (c * nw * sizeof *co)) || !(s.host = malloc (n * sizeof *s.host))) {
        st = dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (heal of %ux%u)", w, h);
        goto cleanup;
    }
    dfx__region_crop (image, c, w, h, &win, cy);
    dfx__region_crop (wt, 1, w, h, &win, cw);
    /* the padding is known (edge values, weight 0); the start holds the known mean in the hole */
    dfx__region_pad_edge (cy, c, win.h, win.w, ph, pwd, py);
    for (uint32_t ch = 0; ch < c; ch++)
        for (uint32_t y = 0; y < ph; y++)
            for (uint32_t x = 0; x < pwd; x++) {
                const size_t at = ((size_t) ch * ph + y) * pwd + x;
                pw_[at] = y < win.h && x < win.w ? cw[(size_t) y * win.w + x] : 0.0f;
            }
    harmonic_fill (py, pw_, c, ph, pwd, ps);
    const dfx__schedule *sched = dfx__model_schedule (m);
    dfx__edit_desc ld = {.den = s.den, .sched = sched, .sampler = DFX_SAMPLER_DDIM, .steps = p->steps,
                         .sigma_start = dfx__schedule_sigma (sched, p->strength * dfx__schedule_t_max (sched)),
                         .sigma_end = sched->sigma_min, .h = ph, .w = pwd};
    if (!(ld.sigma_start > ld.sigma_end)) {
        st = dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "heal: strength %g starts at sigma %g, not above the model's "
                         "sigma_min %g; use a larger strength", p->strength, ld.sigma_start, ld.sigma_end);
        goto cleanup;
    }
    dfx__edit_levels (&ld, sig);
    res.sigma_start = sig[0];
    s.h = ph, s.w = pwd, s.n = n;
    s.pr = (dfx__edit_progress) {p->progress, p->progress_user, 0, p->steps * p->resample + 1};
    DFX_CHECK (heal_window (&s, p, sig, py, pw_, ps, po));
    for (uint32_t ch = 0; ch < c; ch++)
        for (uint32_t y = 0; y < win.h; y++)
            memcpy (co + ((size_t) ch * win.h + y) * win.w, po + ((size_t) ch * ph + y) * pwd, win.w * sizeof *co);
    dfx__region_composite (image, co, wt, c, w, h, &win, p->raw, out);
    res.nfe = s.pr.done;
    res.window_x = win.x, res.window_y = win.y, res.window_width = win.w, res.window_height = win.h;
    res.seconds = dfx__now () - t0;
    if (r)
        *r = res;
cleanup:
    free (wt), free (sig), free (cy), free (cw), free (py), free (pw_), free (ps), free (po), free (co), free (s.host);
    return st;
}
