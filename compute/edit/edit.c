/* edit.c — the guided edit on a denoiser: the start point (the image noised
 * to σ̃_start or inverted by the ODE), then K iterations of forward pass
 * (storing x̂0 per step), loss at the endpoint, adjoint (DF-EA or exact) and
 * an optimiser step on the start point, then the final pass, whose endpoint
 * is the result.  All state on the device; the host sees only the loss
 * values and, when asked, the endpoint for previews and custom losses.
 * Not for: models, sizes and masks from the user (edit-model.c). */
#include "edit-private.h"
#include "../ops/ops-sample.h"

#include <math.h>
#include <string.h>

void
dfx_edit_params_defaults (dfx_edit_params *p)
{
    memset (p, 0, sizeof *p);
    p->sampler = DFX_SAMPLER_DDIM;
    p->steps = 20;
    p->strength = 0.5;
    p->start = DFX_EDIT_START_INVERT;
    p->iterations = 10;
    p->guide_weight = 5.0;
    p->preserve_weight = 1.0;
    p->optimizer = DFX_EDIT_ADAM;
    p->step_size = 0.1;
    p->momentum = 0.9;
    p->adjoint = DFX_EDIT_ADJOINT_AUTO;
    p->network_steps = -1;
    p->feather = 3.0;
    p->context = 16;
}

/* The top-left img_w × img_h of a canvas c × h × w, and back (zeros around). */
static void
crop (const float *canvas, uint32_t c, uint32_t h, uint32_t w, uint32_t ih, uint32_t iw, float *img)
{
    for (uint32_t ch = 0; ch < c; ch++)
        for (uint32_t y = 0; y < ih; y++)
            memcpy (img + ((size_t) ch * ih + y) * iw, canvas + ((size_t) ch * h + y) * w, iw * sizeof (float));
}

static void
uncrop (const float *img, uint32_t c, uint32_t h, uint32_t w, uint32_t ih, uint32_t iw, float *canvas)
{
    memset (canvas, 0, (size_t) c * h * w * sizeof (float));
    for (uint32_t ch = 0; ch < c; ch++)
        for (uint32_t y = 0; y < ih; y++)
            memcpy (canvas + ((size_t) ch * h + y) * w, img + ((size_t) ch * ih + y) * iw, iw * sizeof (float));
}

static dfx_status
upload_new (dfx_ctx *ctx, const float *host, size_t n, dfx_buffer **out, uint64_t *bytes)
{
    dfx_status st = dfx_buffer_create (ctx, n * sizeof (float), out);
    if (st == DFX_OK && host)
        st = dfx_buffer_upload (ctx, *out, 0, host, n * sizeof (float));
    *bytes += n * sizeof (float);
    return st;
}

dfx_status
dfx__edit_run (const dfx__edit_run_desc *d, const float *image, const float *guide, const float *mg, const float *mp,
               const float *noise, float *out, dfx_edit_result *r)
{
    const dfx_edit_params *p = d->p;
    const dfx__edit_desc *md = &d->map;
    dfx_ctx *ctx = md->den->ctx;
    const uint32_t N = md->steps, K = p->iterations, c = md->den->channels;
    const size_t n = (size_t) c * md->h * md->w, ni = (size_t) c * d->img_h * d->img_w;
    const int hybrid = d->hybrid != NULL, exact = p->adjoint == DFX_EDIT_ADJOINT_FD || d->cov || hybrid;
    uint32_t n_net = 0; /* hybrid: the steps with the network's product */
    for (uint32_t i = 0; hybrid && i < N; i++)
        n_net += d->hybrid_net[i] != 0;
    dfx_status st = DFX_OK;
    double t0 = dfx__now (), ta;
    double *sig = malloc ((N + 2) * sizeof *sig);
    dfx_buffer **xhat = calloc (N, sizeof *xhat), **xs = calloc (N, sizeof *xs);
    dfx_buffer *z = NULL, *x = NULL, *xbar = NULL, *a = NULL, *tmp = NULL, *xp = NULL, *dp = NULL;
    dfx__edit_loss_bufs lb = {.wg = p->guide_weight, .wp = p->preserve_weight};
    dfx__edit_opt opt = {.kind = p->optimizer, .lr = p->step_size, .momentum = p->momentum, .beta2 = 0.999,
                         .eps = 1e-8};
    float *host = NULL, *himg = NULL, *hgrad = NULL;
    uint64_t bytes = 0;
    if (!sig || !xhat || !xs || !(host = malloc (n * sizeof *host)) || !(himg = malloc (ni * sizeof *himg)) ||
        !(hgrad = malloc (ni * sizeof *hgrad))) {
        st = dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (edit of %zu values)", n);
        goto cleanup;
    }
    double sum_mg = 0, sum_mp = 0;
    for (size_t i = 0; i < n; i++)
        sum_mg += mg[i], sum_mp += mp[i];
    dfx__edit_levels (md, sig);
    r->sigma_start = sig[0];
    dfx__edit_progress pr = {p->progress, p->progress_user, 0,
                             (N + 1) * (K + 1) + (p->start == DFX_EDIT_START_INVERT ? N : 0) +
                                 (exact && !d->cov ? (hybrid ? n_net : 2 * N) * K : 0)};

    DFX_CHECK (upload_new (ctx, image, n, &z, &bytes));
    DFX_CHECK (upload_new (ctx, NULL, n, &x, &bytes));
    DFX_CHECK (upload_new (ctx, NULL, n, &xbar, &bytes));
    DFX_CHECK (upload_new (ctx, NULL, n, &a, &bytes));
    DFX_CHECK (upload_new (ctx, NULL, n, &tmp, &bytes));
    DFX_CHECK (upload_new (ctx, guide, n, &lb.guide, &bytes));
    DFX_CHECK (upload_new (ctx, image, n, &lb.orig, &bytes));
    DFX_CHECK (upload_new (ctx, mg, n, &lb.mg, &bytes));
    DFX_CHECK (upload_new (ctx, mp, n, &lb.mp, &bytes));
    DFX_CHECK (upload_new (ctx, NULL, n, &lb.t1, &bytes));
    DFX_CHECK (upload_new (ctx, NULL, n, &lb.t2, &bytes));
    for (uint32_t i = 0; i < N && K > 0; i++) {
        if (exact)
            DFX_CHECK (upload_new (ctx, NULL, n, &xs[i], &bytes));
        if (!exact || (hybrid && d->hybrid_net[i])) /* the one-sided product needs D(x_i; σ_i) */
            DFX_CHECK (upload_new (ctx, NULL, n, &xhat[i], &bytes));
    }
    dfx__edit_cov_fd_state fd = {md->den, md->h, md->w, n, NULL, NULL, 0, hybrid ? xhat : NULL};
    dfx__edit_cov_hybrid_state hs = {d->hybrid, &fd, d->hybrid_net};
    if (exact && !d->cov && (!hybrid || n_net) && K > 0) {
        DFX_CHECK (upload_new (ctx, NULL, n, &xp, &bytes));
        DFX_CHECK (upload_new (ctx, NULL, n, &dp, &bytes));
        fd.xp = xp, fd.dp = dp;
    }
    DFX_CHECK (dfx__edit_opt_init (ctx, &opt, n));
    bytes += (opt.m ? n * sizeof (float) : 0) + (opt.v ? n * sizeof (float) : 0);
    r->state_bytes = bytes;

    /* The start point z = x̃ at σ̃_start. */
    ta = dfx__now ();
    if (p->start == DFX_EDIT_START_INVERT) {
        DFX_CHECK (dfx__edit_invert (md, sig, z, tmp, &pr));
        r->nfe += N;
    } else {
        DFX_CHECK (dfx_buffer_upload (ctx, x, 0, noise, n * sizeof (float)));
        DFX_CHECK (dfx__lincomb (ctx, z, 0, 1.0f, z, 0, (float) sig[0], x, 0, 0.0f, n));
    }
    r->seconds_forward += dfx__now () - ta;

    for (uint32_t k = 0;; k++) {
        const int last = k == K;
        ta = dfx__now ();
        DFX_CHECK (dfx__lincomb (ctx, x, 0, 1.0f, z, 0, 0.0f, NULL, 0, 0.0f, n));
        DFX_CHECK (dfx__edit_forward (md, sig, x, xbar, last || (exact && !hybrid) ? NULL : xhat,
                                      last || !exact ? NULL : xs, tmp, &pr));
        r->nfe += N + 1;
        r->seconds_forward += dfx__now () - ta;

        /* The loss and its gradient at the endpoint. */
        ta = dfx__now ();
        double loss = 0, sg = 0, sp = 0;
        DFX_CHECK (dfx__edit_loss (ctx, &lb, n, x, a, &loss, &sg, &sp));
        r->guide_mse[k] = sum_mg > 0 ? sg / sum_mg : 0.0;
        r->outside_rms[k] = sum_mp > 0 ? sqrt (sp / sum_mp) : 0.0;
        if (p->loss) {
            DFX_CHECK (dfx_buffer_download (ctx, x, 0, host, n * sizeof (float)));
            crop (host, c, md->h, md->w, d->img_h, d->img_w, himg);
            if (p->loss (himg, c, d->img_h, d->img_w, hgrad, &loss, p->loss_user)) {
                st = dfx__error (ctx, DFX_ERR_CANCELLED, "edit: the loss callback failed at iterate %u", k);
                goto cleanup;
            }
            uncrop (hgrad, c, md->h, md->w, d->img_h, d->img_w, host);
            DFX_CHECK (dfx_buffer_upload (ctx, a, 0, host, n * sizeof (float)));
        }
        if (p->preview) {
            DFX_CHECK (dfx_buffer_download (ctx, xbar, 0, host, n * sizeof (float)));
            crop (host, c, md->h, md->w, d->img_h, d->img_w, himg);
        }
        r->loss[k] = loss;
        if (p->preview && p->preview (k, himg, c, d->img_h, d->img_w, p->preview_user)) {
            st = dfx__error (ctx, DFX_ERR_CANCELLED, "edit cancelled at iterate %u", k);
            goto cleanup;
        }
        if (last)
            break;

        /* The gradient with respect to the start point, and the step. */
        if (hybrid)
            DFX_CHECK (dfx__edit_adjoint_exact (ctx, sig, N, n, xs, dfx__edit_cov_hybrid, &hs, a, tmp));
        else if (exact)
            DFX_CHECK (dfx__edit_adjoint_exact (ctx, sig, N, n, xs, d->cov ? d->cov : dfx__edit_cov_fd,
                                                d->cov ? d->cov_user : &fd, a, tmp));
        else if (p->adjoint == DFX_EDIT_ADJOINT_DFEA)
            DFX_CHECK (dfx__edit_adjoint_dfea (ctx, sig, N, n, xbar, xhat, a, tmp));
        else
            DFX_CHECK (dfx__edit_adjoint_clamped (ctx, sig, N, n, xbar, xhat, a, tmp));
        DFX_CHECK (dfx__edit_opt_step (ctx, &opt, n, z, a));
        r->iterations = k + 1;
        r->seconds_adjoint += dfx__now () - ta;
        if (fd.evals) {
            r->nfe += fd.evals;
            pr.done += fd.evals;
            fd.evals = 0;
        }
    }
    DFX_CHECK (dfx_buffer_download (ctx, xbar, 0, out, n * sizeof (float)));
    r->seconds = dfx__now () - t0;
cleanup:
    dfx__edit_opt_free (ctx, &opt);
    for (uint32_t i = 0; xhat && xs && i < N; i++) {
        dfx_buffer_destroy (ctx, xhat[i]);
        dfx_buffer_destroy (ctx, xs[i]);
    }
    dfx_buffer_destroy (ctx, z), dfx_buffer_destroy (ctx, x), dfx_buffer_destroy (ctx, xbar), dfx_buffer_destroy (ctx, a);
    dfx_buffer_destroy (ctx, tmp), dfx_buffer_destroy (ctx, xp), dfx_buffer_destroy (ctx, dp);
    dfx_buffer_destroy (ctx, lb.guide), dfx_buffer_destroy (ctx, lb.orig), dfx_buffer_destroy (ctx, lb.mg);
    dfx_buffer_destroy (ctx, lb.mp), dfx_buffer_destroy (ctx, lb.t1), dfx_buffer_destroy (ctx, lb.t2);
    free (sig), free (xhat), free (xs), free (host), free (himg), free (hgrad);
    return st;
}
