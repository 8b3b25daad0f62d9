/* edit-private.h — guided editing by adjoint optimisation of the start point
 * (MATH.md "DF-EA"), the internals behind dfx_edit().
 *
 * The edit map is the deterministic sampler in the EDM view, one Euler
 * update per level (DDIM is Euler in x̃ = x/α):
 *
 *     x_{i+1} = r_i x_i + (1 − r_i) D(x_i; σ_i),   r_i = σ_{i+1}/σ_i,
 *
 * over levels σ_0 = σ_start > ... > σ_N = σ_end > 0 (σ_end: the schedule's
 * σ_min).  The loss is taken at x_N; the result is the clean endpoint
 * x̄0 = D(x_N; σ_N) (one more network evaluation), within σ_end of x_N.
 * The exact discrete adjoint of one step, with ∂D/∂x̃ = C/σ̃² (C the
 * posterior covariance, symmetric), is
 *
 *     a_i = r_i a_{i+1} + κ_i C_i a_{i+1},   κ_i = (1 − r_i)/σ_i²,
 *
 * and DF-EA replaces C_i a by x̄0 (x̄0ᵀa) − x̂0_i (x̂0_iᵀa), with x̂0_i the
 * denoiser output the forward pass stored: two dot products and two
 * lincombs per step, no network.  With the exact C the adjoint is the exact
 * gradient of the discrete map; for a one-point data set (x̂0_i = x̄0 = the
 * point, C = 0) DF-EA is exact (tests/algo/test-edit.c checks both).  The
 * step to σ = 0 is never part of the map: its Jacobian C/σ² is one DF-EA
 * would zero exactly (x̄0 = x̂0 there), killing the gradient.
 *
 * One item (batch 1) of channels × h × w values; state on the device.
 * Nothing here is public.
 */
#ifndef DFX_EDIT_PRIVATE_H
#define DFX_EDIT_PRIVATE_H

#include "../sample/sample-private.h"

typedef struct dfx__edit_desc {
    dfx__denoiser *den;
    const dfx__schedule *sched;
    dfx_sampler sampler; /* DFX_SAMPLER_DDIM (uniform timesteps) or DFX_SAMPLER_EULER (EDM levels, ρ = 7) */
    uint32_t steps;      /* N ≥ 1 */
    double sigma_start;  /* σ_0 */
    double sigma_end;    /* σ_N, 0 < σ_end < σ_start; 0: the schedule's σ_min */
    uint32_t h, w;       /* channels from den */
} dfx__edit_desc;

/* The N + 1 levels sig[0] = σ_start > ... > sig[N] = σ_end (sig holds
 * N + 2 doubles).  DDIM: σ̃ at timesteps t_start·(N − i)/N, t_start =
 * t(σ_start), then σ_end replaces the last; Euler: the EDM levels. */
void dfx__edit_levels (const dfx__edit_desc *d, double *sig);

/* The forward map: x holds x̃ at sig[0] and receives x_N.  xbar (may be
 * NULL) receives x̄0 = D(x_N; σ_N).  xhat (N buffers, may be NULL, entries
 * may be NULL) receives D(x_i; σ_i) per step, xs (N buffers, may be NULL) x_i itself (for the
 * exact adjoint); scratch (n values) is used when xhat is NULL.  progress (may be NULL) is called after
 * each step with (nfe_done + i + 1)/nfe_total; nonzero cancels. */
typedef struct dfx__edit_progress {
    dfx_progress_fn fn;
    void *user;
    uint32_t done, total; /* network evaluations */
} dfx__edit_progress;

dfx_status dfx__edit_forward (const dfx__edit_desc *d, const double *sig, dfx_buffer *x, dfx_buffer *xbar,
                              dfx_buffer **xhat, dfx_buffer **xs, dfx_buffer *scratch, dfx__edit_progress *pr);

/* The deterministic inversion: x holds the image at sig[N] (≈ σ = 0) and
 * receives x̃ at sig[0], by Euler steps up the same levels, each evaluating
 * D at the lower level.  N network evaluations. */
dfx_status dfx__edit_invert (const dfx__edit_desc *d, const double *sig, dfx_buffer *x, dfx_buffer *scratch,
                             dfx__edit_progress *pr);

/* DF-EA adjoint: a holds ∇ℓ(x_N) and receives ∂ℓ/∂x_0 (n values).  xbar is
 * the endpoint, xhat the N stored denoiser outputs, tmp scratch (n).  No
 * network. */
dfx_status dfx__edit_adjoint_dfea (dfx_ctx *ctx, const double *sig, uint32_t steps, size_t n, dfx_buffer *xbar,
                                   dfx_buffer **xhat, dfx_buffer *a, dfx_buffer *tmp);

/* The DF-EA product made stable: Ĉ restricted to its non-negative
 * eigen-direction in span{x̄0, x̂0_i} with the eigenvalue clamped to σ_i²
 * (the bound C ⪯ σ² I of Gaussian-like posteriors, J = C/σ² ⪯ I).  Exact
 * where DF-EA is (x̂0_i = x̄0 gives 0); never amplifies a by more than 1 per
 * step, where plain DF-EA grows by up to κ‖Ĉ‖ ~ |x̄0||x̄0 − x̂0_i|/σ² and
 * overflows on image data.  Four dot products per step, no network. */
dfx_status dfx__edit_adjoint_clamped (dfx_ctx *ctx, const double *sig, uint32_t steps, size_t n, dfx_buffer *xbar,
                                      dfx_buffer **xhat, dfx_buffer *a, dfx_buffer *tmp);

/* out = C(x; σ) a, the exact posterior covariance times a (n values each), at step i (x = x_i, σ = σ_i). */
typedef dfx_status (*dfx__cov_fn) (void *user, uint32_t i, dfx_buffer *x, double sigma, dfx_buffer *a,
                                   dfx_buffer *out);

/* Exact adjoint with covariance products from cov at the stored states xs. */
dfx_status dfx__edit_adjoint_exact (dfx_ctx *ctx, const double *sig, uint32_t steps, size_t n, dfx_buffer **xs,
                                    dfx__cov_fn cov, void *cov_user, dfx_buffer *a, dfx_buffer *tmp);

/* A covariance product of any denoiser by central differences of D:
 * C a = σ² (D(x + εa) − D(x − εa))/(2ε), ε = 10⁻²·σ/rms(a).  Two network
 * evaluations; for the exact-adjoint comparison on networks without a
 * backward pass.  With xhat (the forward pass's D(x_i; σ_i) per step) and
 * xhat[i] set, the one-sided C a = σ² (D(x + εa) − x̂0_i)/ε: one
 * evaluation (on fashion-mnist-32 its cosine with the central one is
 * ≥ 0.997 at every step).  user: a dfx__edit_cov_fd_state. */
typedef struct dfx__edit_cov_fd_state {
    dfx__denoiser *den;
    uint32_t h, w;
    size_t n;
    dfx_buffer *xp, *dp; /* n values each, owned by the caller */
    uint32_t evals;
    dfx_buffer **xhat;   /* NULL: central differences */
} dfx__edit_cov_fd_state;

dfx_status dfx__edit_cov_fd (void *user, uint32_t i, dfx_buffer *x, double sigma, dfx_buffer *a, dfx_buffer *out);

/* The Gaussian's posterior covariance product C a = σ² Σ (Σ + σ² I)⁻¹ a from
 * gaussian/'s statistics (PCA on their grid, the resampled stationary
 * spectrum on any other): no network, independent of the state x.  user: a
 * dfx__edit_cov_gauss_state. */
typedef struct dfx__edit_cov_gauss_state {
    dfx_ctx *ctx;
    dfx__skip *skip;
    int pca; /* 1: PCA (h × w is the statistics' grid), 0: spectral */
    uint32_t h, w;
    size_t n;
} dfx__edit_cov_gauss_state;

dfx_status dfx__edit_cov_gauss (void *user, uint32_t i, dfx_buffer *x, double sigma, dfx_buffer *a,
                                dfx_buffer *out);

/* The hybrid adjoint's product: the network's own (fd, one-sided where fd->xhat is set) at the steps marked
 * in net, the Gaussian's (gauss) elsewhere.  On fashion-mnist-32 (strength 0.6, DDIM 8 steps) the Gaussian's
 * per-step cosine with the network's product is 0.92 at σ̃ 6, 0.72 at σ̃ 1.2 and 0.89 at σ̃ 0.26, and the steps
 * that matter most are the first below σ̃_skip; the states are the same for every adjoint, so the gradient's
 * error is the products' alone.  user: a dfx__edit_cov_hybrid_state. */
typedef struct dfx__edit_cov_hybrid_state {
    dfx__edit_cov_gauss_state *gauss;
    dfx__edit_cov_fd_state *fd;
    const uint8_t *net; /* per step: 1 the network's product */
} dfx__edit_cov_hybrid_state;

dfx_status dfx__edit_cov_hybrid (void *user, uint32_t i, dfx_buffer *x, double sigma, dfx_buffer *a,
                                 dfx_buffer *out);

/* Marks in net (steps values) the B steps that get the network's product: the first B levels below
 * sigma_skip (all steps' levels sig[0..steps-1] descending), moved back to end at the last step where fewer
 * than B lie below it; sigma_skip 0 (none calibrated): from step ⌊steps/4⌋.  Returns the number marked,
 * min(B, steps). */
uint32_t dfx__edit_hybrid_steps (const double *sig, uint32_t steps, double sigma_skip, uint32_t B, uint8_t *net);

/* The default B: ⌊0.18 (steps + 1)⌋, the most one-sided products that keep an iteration (a pass of steps + 1
 * evaluations plus B) within 1.2× a pass with room for the Gaussian's products and the optimiser. */
uint32_t dfx__edit_hybrid_default (uint32_t steps);

/* ---- the masked loss on the device --------------------------------------- */

/* ℓ = ½ w_g Σ mg⊙(x − g)² + ½ w_p Σ mp⊙(x − y)², mg = mask, mp = 1 − mask
 * (both 0 on padding).  grad = w_g mg⊙(x − g) + w_p mp⊙(x − y).  sum_g and
 * sum_p are Σ mg⊙(x − g)² and Σ mp⊙(x − y)².  t1, t2: scratch of n. */
typedef struct dfx__edit_loss_bufs {
    dfx_buffer *guide, *orig, *mg, *mp, *t1, *t2;
    double wg, wp;
} dfx__edit_loss_bufs;

dfx_status dfx__edit_loss (dfx_ctx *ctx, const dfx__edit_loss_bufs *b, size_t n, dfx_buffer *x, dfx_buffer *grad,
                           double *loss, double *sum_g, double *sum_p);

/* ---- optimiser on the start point ---------------------------------------- */

typedef struct dfx__edit_opt {
    dfx_edit_optimizer kind;
    double lr, momentum, beta2, eps;
    uint32_t t;          /* updates made */
    dfx_buffer *m, *v;   /* moment buffers (n values), owned */
} dfx__edit_opt;

/* Allocates the moment buffers for kind; free with dfx__edit_opt_free. */
dfx_status dfx__edit_opt_init (dfx_ctx *ctx, dfx__edit_opt *o, size_t n);
void dfx__edit_opt_free (dfx_ctx *ctx, dfx__edit_opt *o);
/* z ← z − step(g). */
dfx_status dfx__edit_opt_step (dfx_ctx *ctx, dfx__edit_opt *o, size_t n, dfx_buffer *z, dfx_buffer *g);

/* ---- the whole edit on a denoiser (edit.c) ------------------------------------ */

typedef struct dfx__edit_run_desc {
    dfx__edit_desc map;
    const dfx_edit_params *p;   /* iterations, weights, optimiser, adjoint, start, callbacks */
    uint32_t img_w, img_h;      /* the image: the top-left corner of the map's h × w canvas */
    dfx__cov_fn cov;            /* exact covariance products; NULL: dfx__edit_cov_fd when p->adjoint is FD */
    void *cov_user;
    dfx__edit_cov_gauss_state *hybrid; /* set: the hybrid adjoint, this Gaussian with the network's product at
                                          hybrid_net's steps (cov unused) */
    const uint8_t *hybrid_net;
} dfx__edit_run_desc;

/* Runs K iterations and the final pass.  image, guide, mg (mask), mp (its
 * complement) and noise (the unit noise of the NOISE start; NULL for
 * INVERT) hold canvas values (channels × h × w; mg, mp per value, 0 on
 * padding).  out (canvas) receives the final endpoint.  r must be zeroed by
 * the caller; fills loss/guide_mse/outside_rms, iterations, nfe, times,
 * state_bytes. */
dfx_status dfx__edit_run (const dfx__edit_run_desc *d, const float *image, const float *guide, const float *mg,
                          const float *mp, const float *noise, float *out, dfx_edit_result *r);

/* ---- the region a masked edit or heal may change (region.c) ------------- */

typedef struct dfx__rect {
    uint32_t x, y, w, h;
} dfx__rect;

/* wt (w × h) = the mask spread outward by a linear ramp of feather pixels:
 * max over q of mask(q)·(1 − |p − q|/(feather + 1)) within feather; ≥ mask,
 * 0 farther than feather from the mask. */
void dfx__region_feather (const float *mask, uint32_t w, uint32_t h, double feather, float *wt);

/* The window the model works on: the bounding box of wt > 0 grown by
 * context pixels per side and to at least min_w × min_h, clipped to the
 * image (moved inwards at its edges).  Returns 0 when wt is 0 everywhere. */
int dfx__region_window (const float *wt, uint32_t w, uint32_t h, uint32_t context, uint32_t min_w, uint32_t min_h,
                        dfx__rect *r);

/* dst (c × r->h × r->w) = the window r of src (c × h × w). */
/* Canvas c × ph × pw from an image c × h × w (ph ≥ h, pw ≥ w), the last row and column repeated. */
void dfx__region_pad_edge (const float *img, uint32_t c, uint32_t h, uint32_t w, uint32_t ph, uint32_t pw, float *out);
void dfx__region_crop (const float *src, uint32_t c, uint32_t w, uint32_t h, const dfx__rect *r, float *dst);

/* out (c × h × w; may be image) = image, and inside r image + wt (res −
 * image) with res the window's result (c × r->h × r->w); wt = 0 copies
 * the image's value, wt ≥ 1 (or raw) the result's. */
void dfx__region_composite (const float *image, const float *res, const float *wt, uint32_t c, uint32_t w,
                            uint32_t h, const dfx__rect *r, int raw, float *out);

#endif /* DFX_EDIT_PRIVATE_H */
