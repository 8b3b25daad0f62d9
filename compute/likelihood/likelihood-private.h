/* likelihood-private.h — the DF-TM likelihood of libdfx (MATH.md
 * "Identities", "The Fisher head").
 *
 * The PF-ODE is integrated from the data (σ̃_min) to the noise (σ̃_max) in the
 * EDM view with u = ln σ̃ as the time: dx̃/du = x̃ − x̂0, and its divergence is
 * Σ_i (1 − C_ii/σ̃²) with C_ii = m_i − x̂0_i², m = E[x0⊙x0 | x̃] from the Fisher
 * head — no Jacobian products, no probes.  The per-pixel integrals plus the
 * separable prior term give a map that sums to log p(x̃_0).  State lives on
 * the device; the step-size control reads two sums back per step.
 */
#ifndef DFX_LIKELIHOOD_PRIVATE_H
#define DFX_LIKELIHOOD_PRIVATE_H

#include "../dfx-private.h"

/* x̂0 = E[x0 | x̃] and m = E[x0⊙x0 | x̃] at σ̃ for a batch (batch × channels ×
 * h × w floats each, device).  Recorded or run; out buffers must not alias x. */
typedef struct dfx__moments dfx__moments;
struct dfx__moments {
    dfx_ctx *ctx;
    uint32_t channels;
    const char *name;
    uint32_t evals; /* calls made, for NFE reports */
    uint32_t head_evals; /* of them, those that evaluated m too (eval; the Fisher head for a model) */
    /* 1: m comes from a variance-ratio head, which estimates the score
     * network's own ∂x̂0/∂x̃ diagonal (models/FISHER.md) and can be negative
     * or above 1 where the network's is: the likelihood leaves C unclamped. */
    int network_ratio;
    dfx_status (*eval) (dfx__moments *mo, uint32_t batch, uint32_t h, uint32_t w, dfx_buffer *x, double sigma,
                        dfx_buffer *x0, dfx_buffer *m);
    /* x̂0 alone (the score network only), or NULL: eval with a scratch m. */
    dfx_status (*eval_mean) (dfx__moments *mo, uint32_t batch, uint32_t h, uint32_t w, dfx_buffer *x,
                             double sigma, dfx_buffer *x0);
    /* diag C = m − x̂0⊙x̂0 alone, on the data scale (the Fisher head only, for a
     * variance-ratio head: σ̃² r), not counted; or NULL: eval, C from m − x̂0². */
    dfx_status (*eval_var) (dfx__moments *mo, uint32_t batch, uint32_t h, uint32_t w, dfx_buffer *x,
                            double sigma, dfx_buffer *c);
    void (*destroy) (dfx__moments *mo);
};

void dfx__moments_destroy (dfx__moments *mo);

/* Gaussian data N(μ, Σ) with Σ = Σ_k λ_k u_k u_kᵀ + λ_res (I − UUᵀ) over d
 * values (comps: rank × d orthonormal rows): x̂0 = μ + Σ(Σ + σ̃²I)⁻¹(x̃ − μ)
 * and m = diag(C) + x̂0⊙x̂0 with C = σ̃² Σ (Σ + σ̃²I)⁻¹, exactly, in double on
 * the host.  Copies its arrays.  For tests and references. */
dfx_status dfx__moments_gauss (dfx_ctx *ctx, uint32_t channels, uint32_t d, const double *mean, uint32_t rank,
                               const double *comps, const double *eigval, double residual, dfx__moments **out);

typedef struct dfx__denoiser dfx__denoiser;
typedef struct dfx__schedule dfx__schedule;

/* A model's networks: x̂0 from the score network den (sample-private.h) and
 * m from the Fisher head `fisher` (same channels in and out) at the same
 * (α x̃, t(σ̃)).  m is not clamped.  den, fisher and sched are borrowed and
 * must outlive the moments. */
dfx_status dfx__moments_unet (dfx__denoiser *den, dfx_unet *fisher, const dfx__schedule *sched, dfx__moments **out);

/* x̂0 only, from the score network (eval_mean; eval fails): the baselines'
 * moments for a model without a Fisher head.  den is borrowed. */
dfx_status dfx__moments_mean (dfx__denoiser *den, dfx__moments **out);

/* ---- tiles (tile-blend.c) ----------------------------------------------- */

/* Origins along one axis of n tiles of size t over a length len, evenly
 * spread, neighbours sharing at least ov < t values (len ≤ t: one tile at 0);
 * returns n, fills pos unless NULL. */
uint32_t dfx__tile_origins (uint32_t len, uint32_t t, uint32_t ov, uint32_t *pos);

/* Raised-cosine weight of local index j of tile i of n along an axis: ramps
 * over the overlap with each neighbour, 1 elsewhere, never 0. */
double dfx__tile_axis_weight (const uint32_t *pos, uint32_t n, uint32_t i, uint32_t t, uint32_t j);

/* Moments of a canvas larger than the Fisher head's training size (issue 20):
 * x̂0 from `whole` on the whole canvas, diag C from `head` on overlapping
 * tiles of tile_w × tile_h of the same x̃ (neighbours sharing `overlap`
 * values, at most `batch` tiles per evaluation), blended per value with the
 * raised-cosine weights; m = x̂0⊙x̂0 + C.  So the trajectory is the whole
 * canvas's and the head is only asked about its own size.  Counts one
 * evaluation and one head evaluation of `whole` per eval.  whole and head
 * (may be the same) are borrowed. */
dfx_status dfx__moments_tiled (dfx__moments *whole, dfx__moments *head, uint32_t tile_w, uint32_t tile_h,
                               uint32_t overlap, uint32_t batch, dfx__moments **out);

/* ---- baselines: the network's own divergence (trace-fd.c) ------------------ */

/* Central differences of x̂0 with the step ε = DFX__TRACE_FD_REL · σ̃. */
#define DFX__TRACE_FD_REL 1e-2

typedef struct dfx__trace_fd dfx__trace_fd;

/* For a likelihood run of `batch` images of h × w (channels from mo):
 * Hutchinson with `probes` fixed Rademacher probes of the seed, or the exact
 * diagonal (probes ignored). */
dfx_status dfx__trace_fd_create (dfx__moments *mo, dfx_likelihood_trace method, uint32_t probes, uint64_t seed,
                                 uint32_t batch, uint32_t h, uint32_t w, dfx__trace_fd **out);
void dfx__trace_fd_destroy (dfx__trace_fd *t);

/* K[k_off + i] ← 1 − (estimate of J_ii), J = ∂x̂0/∂x̃ at x (batch × d values,
 * device) and σ̃; runs the network (submits). */
dfx_status dfx__trace_fd_div (dfx__trace_fd *t, dfx_buffer *x, double sigma, dfx_buffer *K, size_t k_off);

typedef enum dfx__ode_solver { DFX__ODE_RK45 = 0, DFX__ODE_HEUN, DFX__ODE_EXP } dfx__ode_solver;

typedef struct dfx__lik_desc {
    dfx__moments *mo;
    uint32_t batch, h, w;      /* channels from mo */
    double sigma_min, sigma_max;
    dfx__ode_solver solver;
    double rtol, atol;         /* RK45 */
    double bits_tol;           /* RK45: > 0 also bounds each step's error estimate of the divergence integral,
                                  summed over an item's values, to this many bits/dim; 0: the state's norm only */
    uint32_t steps;            /* Heun: fixed steps uniform in ln σ̃; EXP: fixed steps (steps + 1 evaluations) */
    uint32_t ms_order;         /* EXP: 2 (x̂0 linear through two nodes: DPM-Solver++(2M)) or 3 (quadratic through
                                  three); 0: 3 */
    double node_power;         /* EXP: nodes at u_0 + (u_1 − u_0)·(i/steps)^p, denser near σ̃_min for p > 1;
                                  0: 1 (uniform in ln σ̃) */
    uint32_t quad_order;       /* EXP: quadrature of the divergence over the nodes: 2 trapezoid, 4 local cubic
                                  (Lagrange on the 4 nearest nodes); 0: 4 */
    double cmax;               /* clamp of C_ii (data variance bound; 1 for [-1, 1] data) */
    int clamp_sigma;           /* 1: C_ii ≤ σ̃² too (a posterior no wider than the noise; dfx.h) */
    /* The divergence: DF-TM from m (default), or a baseline from the score
     * network's Jacobian (trace-fd.c; probes and seed for Hutchinson). */
    dfx_likelihood_trace trace;
    uint32_t probes;
    uint64_t probe_seed;
    /* The prior at σ̃_max, separable: N(prior_mean, prior_var + σ̃_max²) per
     * value.  NULL arrays: mean 0, var 1 (the VP prior N(0, (1 + σ̃²) I)). */
    const double *prior_mean, *prior_var; /* d values each (shared by the batch) */
    /* Or a prior of any form: per-value terms of log p_{σ̃_max}(x̃) for the
     * batch (host, batch × d floats in, doubles out) that sum to each item's
     * log-density; NULL: the separable prior above. */
    dfx_status (*prior) (void *user, uint32_t batch, const float *x, double sigma, double *terms);
    void *prior_user;
    /* Called after each accepted step with the fraction of ln σ̃ covered;
     * nonzero stops the run with DFX_ERR_CANCELLED.  May be NULL. */
    int (*progress) (double fraction, void *user);
    void *progress_user;
} dfx__lik_desc;

/* Per-value terms of log N(x̃; μ, Σ + σ̃² I) for the Gaussian statistics g
 * (lik-gauss.c; MATH.md "Gaussian skip for the likelihood"): x is batch × c·h·w
 * floats on the model's scale, terms as many doubles, each item's summing to
 * its log-density.  mode DFX_SKIP_PCA (h × w the statistics' grid) or
 * DFX_SKIP_SPECTRAL (any h × w, periodic canvas). */
struct dfx__gauss_stats;
dfx_status dfx__gauss_log_density (dfx_ctx *ctx, const struct dfx__gauss_stats *g, dfx_skip mode, uint32_t batch,
                                   uint32_t h, uint32_t w, const float *x, double sigma, double *terms);

#define DFX__LIK_PROFILE_MAX 1024

typedef struct dfx__lik_stats {
    uint32_t steps, rejected, evals;
    /* The integrand's profile: at the nodes u = ln σ̃ of the accepted steps
     * (the first DFX__LIK_PROFILE_MAX, in order of u), the divergence summed
     * over the batch's values; and the prior terms summed. */
    uint32_t profile_count;
    double profile_u[DFX__LIK_PROFILE_MAX], profile_div[DFX__LIK_PROFILE_MAX];
    double prior;
} dfx__lik_stats;

/* x holds x̃ at σ̃_min (batch × d) and is overwritten with x̃ at σ̃_max.
 * logp[b] receives log p(x̃_0) of item b in nats (density of x̃ at σ̃_min);
 * map (host, batch × d, may be NULL) its per-value terms, which sum to
 * logp[b].  stats may be NULL. */
dfx_status dfx__likelihood (const dfx__lik_desc *desc, dfx_buffer *x, double *logp, double *map,
                            dfx__lik_stats *stats);

/* ---- the solvers' shared state (likelihood.c, lik-exp.c) ------------------ */

typedef struct dfx__lik_run {
    const dfx__lik_desc *d;
    dfx_ctx *ctx;
    size_t n;                 /* batch · values */
    dfx_buffer *x0, *m;       /* moments, n each */
    dfx_buffer *Y, *T, *E;    /* state, stage input, error (2n each) */
    dfx_buffer *K[7];         /* stages (2n each) */
    dfx__trace_fd *fd;        /* the baselines' divergence, or NULL (DF-TM) */
    float *host;              /* n floats: the divergence integrals read back for the profile */
} dfx__lik_run;

/* K ← [x̃ − x̂0 | 1 − C/σ̃²] at the state Yin (2n) and u = ln σ̃; leaves x̂0 in r->x0. */
dfx_status dfx__lik_stage (dfx__lik_run *r, dfx_buffer *Yin, double u, dfx_buffer *K);

/* The divergence half alone (the drift half undefined) where a variance-ratio head gives it without the
 * score network; else as dfx__lik_stage.  For the last node, whose drift no step uses. */
dfx_status dfx__lik_stage_div (dfx__lik_run *r, dfx_buffer *Yin, double u, dfx_buffer *K);

/* Appends (u, Σ_i K_i) over the divergence half of K to the stats' profile. */
dfx_status dfx__lik_profile (dfx__lik_run *r, double u, dfx_buffer *K, dfx__lik_stats *s);

/* The exponential multistep solver (lik-exp.c): r->Y from u0 to u1 in d->steps fixed steps; uses r->K[0..2]. */
dfx_status dfx__lik_integrate_exp (dfx__lik_run *r, double u0, double u1, dfx__lik_stats *s);

/* The nodes of dfx_likelihood's exp3m: (i/steps)^1.5 of the way up in ln σ̃, denser where the bits are
 * (σ̃ 0.01–0.1 on emoji-32 and photo-32; BENCHMARKS.md issue 20, 2026-12-07 sixth session). */
#define DFX__LIK_EXP_NODE_POWER 1.5

/* Its nodes u[0..steps] (steps + 1 values) and the quadrature weights w[0..steps] of the divergence over them
 * (Σ w = u1 − u0); order 2 or 4 (see dfx__lik_desc).  Host only, for tests too. */
void dfx__lik_exp_nodes (double u0, double u1, uint32_t steps, double power, double *u);
void dfx__lik_quad_weights (const double *u, uint32_t steps, uint32_t order, double *w);

/* ---- images of any size (lik-image.c) ------------------------------------- */

/* What dfx__likelihood_image needs of a model: the moments (channels from
 * mo), the tile size (the networks' sample size) and the σ̃ range. */
typedef struct dfx__lik_model {
    dfx__moments *mo;
    uint32_t tile_w, tile_h;
    double sigma_min, sigma_max;              /* defaults for p->sigma_min/max = 0 */
    const double *prior_mean, *prior_var;     /* per tile value, or NULL (see dfx__lik_desc) */
    uint32_t multiple;                        /* whole layout: the canvas is padded to a multiple of this */
    const struct dfx__gauss_stats *gauss;     /* for the Gaussian skip, or NULL */
    dfx__moments *head;                       /* C on tiles of the whole layout (p->head_tiles), or NULL: mo */
} dfx__lik_model;

/* dfx_likelihood on any moments: channel matching, alpha, dequantisation,
 * tiles with overlap, blending, bits/dim (dfx.h documents the contract). */
dfx_status dfx__likelihood_image (const dfx__lik_model *lm, const dfx_likelihood_params *p, const float *pixels,
                                  uint32_t width, uint32_t height, uint32_t channels, int has_alpha,
                                  dfx_likelihood_result *r);

#endif
