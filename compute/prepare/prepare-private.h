/* prepare-private.h — making a model's gaussian/ folder (models/GAUSSIAN.md)
 * in libdfx: from the network alone (MATH.md "Gaussian skip": at high noise
 * the denoiser is the Gaussian one, so its mean output and its Jacobian
 * A = Σ(Σ + σ̃²I)⁻¹ give μ and Σ = σ̃² A(I − A)⁻¹), or from images; the
 * calibration of σ̃_skip; the writer.  Host double precision throughout; the
 * network runs on the device through a dfx__denoiser.  Nothing here is
 * public. */
#ifndef DFX_PREPARE_PRIVATE_H
#define DFX_PREPARE_PRIVATE_H

#include "../sample/sample-private.h"

/* ---- batched network evaluation (prep-eval.c) ------------------------------ */

/* Device scratch for running a denoiser on host batches. */
typedef struct dfx__prep_eval {
    dfx__denoiser *den;
    uint32_t h, w, batch; /* canvas and the most images per dispatch */
    size_t d;             /* channels · h · w */
    dfx_buffer *x, *out;
    float *host;          /* batch · d */
    uint64_t nfe;         /* images through the network so far */
} dfx__prep_eval;

/* Ownership: dfx__prep_eval_free() (accepts a zeroed struct). */
dfx_status dfx__prep_eval_init (dfx__denoiser *den, uint32_t h, uint32_t w, uint32_t batch, dfx__prep_eval *e);
void dfx__prep_eval_free (dfx__prep_eval *e);
/* out[i] = D(in[i]; σ̃) for n images of d values (any n; run in batches). */
dfx_status dfx__prep_eval_run (dfx__prep_eval *e, uint32_t n, const double *in, double sigma, double *out);

/* ---- host DFT and the spectral form (prep-spectrum.c) ----------------------- */

/* Unitary 2-D DFT of an h × w complex plane in place (interleaved re, im;
 * inverse = 1: the conjugate transform).  Naive separable sums: small grids. */
void dfx__dft2 (uint32_t h, uint32_t w, double *z, int inverse, double *scratch /* 4·max(h, w) */);

/* Adds to s (h·w·c·c·2, GAUSSIAN.md layout) the outer products
 * X̂_a(k) conj(X̂_b(k)) of one image x (c·h·w) about the per-channel mean m. */
void dfx__spectrum_accumulate (uint32_t c, uint32_t h, uint32_t w, const double *x, const double *m, double *s,
                               double *work /* 2·h·w·c + 4·max(h, w) */);

/* The per-bin C × C block of F A Fᴴ from n probe pairs (ω_j, y_j = A ω_j),
 * each c·h·w: M(k) = [Σ ŷ ω̂ᴴ][Σ ω̂ ω̂ᴴ]⁻¹, exact for a stationary A once the
 * probes span each bin's channels; made Hermitian.  a: h·w·c·c·2. */
dfx_status dfx__spectrum_from_probes (dfx_ctx *ctx, uint32_t c, uint32_t h, uint32_t w, uint32_t n,
                                      const double *omega, const double *y, double *a);

/* D_G of the spectral form for one image: out = m + Fᴴ S(S + σ̃²I)⁻¹ F (x − m). */
void dfx__spectral_denoise (const dfx__gauss_stats *g, const double *gain /* h·w·c·c·2 */, const double *x,
                            double *out, double *work /* 2·c·h·w + 4·max(h, w) */);
/* gain[k] = S[k](S[k] + σ̃²I)⁻¹ per bin of g's grid. */
void dfx__spectral_gain (const dfx__gauss_stats *g, double sigma, double *gain);

/* ---- the randomised range finder (prep-range.c) ----------------------------- */

/* Applies a symmetric d × d operator to n vectors (rows of d). */
typedef dfx_status (*dfx__prep_op) (void *user, uint32_t n, const double *v, double *out);

typedef struct dfx__range_result {
    uint32_t rank;
    double *vals;    /* rank, descending (the operator's eigenvalues) */
    double *vecs;    /* rank × d, orthonormal rows */
    /* The first pass's Gaussian probes and the operator on them, for the
     * trace (Hutchinson) and the spectrum: probes × d each. */
    uint32_t probes;
    double *omega, *y;
} dfx__range_result;

/* Top `rank` eigenpairs of the operator by subspace iteration: k = rank +
 * oversample Gaussian probes (seed), `iters` further passes, Rayleigh–Ritz.
 * Ownership: dfx__range_result_free(). */
dfx_status dfx__range_find (dfx_ctx *ctx, dfx__prep_op op, void *user, size_t d, uint32_t rank, uint32_t oversample,
                            uint32_t iters, uint64_t seed, dfx__range_result *r);
void dfx__range_result_free (dfx__range_result *r);
/* Hutchinson on the first pass's probes: *tr = Σ ωᵀAω, and over the part of
 * each probe outside the found subspace *trp = Σ (P⊥ω)ᵀAω, *nperp = Σ ‖P⊥ω‖². */
void dfx__range_traces (const dfx__range_result *r, size_t d, double *tr, double *trp, double *nperp);
/* Modified Gram–Schmidt (twice) of n rows of d in place; a row that
 * vanishes is replaced by noise of stream `seed` and orthogonalised again. */
void dfx__orthonormalise (uint32_t n, size_t d, double *v, uint64_t seed);

/* ---- statistics from the network (prep-jacobian.c) -------------------------- */

/* The network's Jacobian A = ∂D/∂x̃ at level σ̃ as a dfx__prep_op: A v by
 * the central difference (D(b + hv̂) − D(b − hv̂))/(2h)·‖v‖ at a base point
 * b = c + σ̃ε, ε fresh for every vector and c cycling through the nbase
 * centres (nbase × d; NULL: the origin), so a block of products sees A
 * averaged over those points; with avg > 1 each product is itself the mean
 * over avg such base points.  Ownership: dfx__jac_op_free() (accepts a
 * zeroed struct); base stays the caller's. */
typedef struct dfx__jac_op {
    dfx__prep_eval *e;
    double sigma, h;
    const double *base;
    uint32_t nbase;
    uint64_t seed;
    uint32_t avg;       /* base points per product, averaged (0: 1) */
    uint32_t counter;   /* base-point index, fresh for every vector */
    double *in, *out;   /* 2·cap × d */
    uint32_t cap;
    float *noise;       /* d */
} dfx__jac_op;

dfx_status dfx__jac_op_init (dfx__jac_op *o, dfx__prep_eval *e, double sigma, double h, const double *base,
                             uint32_t nbase, uint64_t seed);
dfx_status dfx__jac_apply (void *user, uint32_t n, const double *v, double *out);
void dfx__jac_op_free (dfx__jac_op *o);


typedef struct dfx__jac_params {
    double sigma;        /* σ̃ of the level */
    double fd_step;      /* the central difference's step, in units of σ̃ along a unit direction */
    uint32_t rank, oversample, iters;
    uint32_t mean_pairs; /* antithetic noise pairs for the mean */
    uint64_t seed;
    uint32_t avg;        /* base points per Jacobian product (samples; 0: 1) */
    int mean_outputs;    /* samples: μ = the mean of D(x̃) instead of the images' mean */
} dfx__jac_params;

typedef struct dfx__jac_report {
    double trace_a;      /* Hutchinson estimate of tr A (total covariance: of the whole operator) */
    double trace_perp;   /* of tr(P⊥ A), P⊥ the complement of the rank components */
    double a_top, a_res; /* the largest eigenvalue of A and A's mean in the complement */
    /* Total covariance (prep-total.c): tr σ̃² E[A] (Hutchinson) and tr Cov(D). */
    double trace_jac, trace_cov;
} dfx__jac_report;

/* Mean, PCA (rank, residual) and spectrum from the network at one level
 * (channels from the denoiser, grid h × w).  Ownership: *out with
 * dfx__gauss_stats_free(). */
dfx_status dfx__gauss_from_network (dfx__prep_eval *e, const dfx__jac_params *p, dfx__gauss_stats **out,
                                    dfx__jac_report *rep);

/* The premise at another level: λ_k(σ̃) = σ̃² a/(1 − a) with a = u_kᵀ A(σ̃) u_k
 * for the top n components of g (central differences at base points g's
 * mean + σ̃ε, `pairs` of them averaged). */
dfx_status dfx__gauss_level_check (dfx__prep_eval *e, const dfx__gauss_stats *g, double sigma, double fd_step,
                                   uint32_t n, uint32_t pairs, uint64_t seed, double *lambda);

/* ---- statistics from the model's own samples (prep-total.c) ----------------- */

/* The law of total covariance, which holds for any data distribution: with
 * x̃ = x0 + σ̃ε, Cov(x0) = E[Cov(x0 | x̃)] + Cov(E[x0 | x̃]) and, by Tweedie,
 * Cov(x0 | x̃) = σ̃² ∂D/∂x̃, so Σ = σ̃² E[A(x̃)] + Cov(D(x̃)).  On n images x0
 * (the model's samples; c·h·w each, data scale), `draws` noise draws each:
 * μ the images' mean, the top p->rank eigenpairs of that operator (range
 * finder; A by central differences at base points x0_i + σ̃ε, Cov(D)
 * explicit from the n·draws outputs), the residual by Hutchinson, the
 * spectrum from σ̃² F E[A] Fᴴ's blocks plus Cov(D)'s and μ's spectra.  Uses
 * p->sigma, fd_step, rank, oversample, iters, seed (not mean_pairs).
 * Ownership as dfx__gauss_from_network(). */
dfx_status dfx__gauss_from_samples (dfx__prep_eval *e, const dfx__jac_params *p, uint32_t n, const float *x0,
                                    uint32_t draws, dfx__gauss_stats **out, dfx__jac_report *rep);

/* n draws of N(μ, Σ) in g's PCA form (components, residual) as images
 * (x: n × d); DFX_ERR_OUT_OF_HOST_MEMORY without setting a message. */
dfx_status dfx__gauss_draws (const dfx__gauss_stats *g, uint32_t n, uint64_t seed, float *x);

/* The identity at another level: λ_k(σ̃) = σ̃² u_kᵀ E[A] u_k + Var(u_kᵀ D)
 * for the top n components of g, on the same images (one draw each;
 * `pairs` Jacobian products per component).  Equal at every level for the
 * exact denoiser of the images' distribution. */
dfx_status dfx__gauss_total_check (dfx__prep_eval *e, const dfx__gauss_stats *g, double sigma, double fd_step,
                                   uint32_t n, uint32_t pairs, uint32_t n_img, const float *x0, uint64_t seed,
                                   double *lambda);

/* ---- statistics from images (prep-data.c) ----------------------------------- */

/* n images (c·h·w each, data scale): mean, top `rank` PCA eigenpairs of the
 * sample covariance (subspace iteration on Xᵀ X/(n − 1)), exact residual,
 * spectrum about the per-channel mean.  Ownership as above. */
dfx_status dfx__gauss_from_data (dfx_ctx *ctx, uint32_t c, uint32_t h, uint32_t w, uint32_t n, const float *x,
                                 uint32_t rank, uint64_t seed, dfx__gauss_stats **out, double *total_variance);

/* ---- calibration (prep-calibrate.c) ------------------------------------------ */

#define DFX__CAL_MAX_SIGMA 64

typedef struct dfx__calibration {
    uint32_t n;                         /* grid levels measured (descending σ̃) */
    double sigma[DFX__CAL_MAX_SIGMA];
    double err_pca[DFX__CAL_MAX_SIGMA], err_spectral[DFX__CAL_MAX_SIGMA];
    double skip_pca, skip_spectral;     /* σ̃_max of the grid when even that fails */
    int pca_ok, spectral_ok;            /* within tolerance at the grid's top */
} dfx__calibration;

/* GAUSSIAN.md's rule with gaussian_stats.py's metric: on x̃ = x0 + σ̃ε,
 * err(σ̃) = √(E‖D_θ − D_G‖² / E‖x̃ − D_θ‖²) per mode on `n_sigma` levels
 * log-uniform over the schedule (integer timesteps when discrete), the
 * skip point the smallest σ̃ with err ≤ tol there and above.  Stops after
 * the first level where both modes fail. */
dfx_status dfx__gauss_calibrate (dfx__prep_eval *e, const dfx__schedule *sched, const dfx__gauss_stats *g,
                                 uint32_t n, const float *x0, uint32_t n_sigma, double tol, uint64_t seed,
                                 dfx__calibration *cal);

/* ---- the folder (prep-write.c) ------------------------------------------------ */

/* Writes dir/gaussian/config.json and statistics.safetensors; extra (may be
 * NULL) is merged into config.json (informational fields; consumed). */
struct cJSON;
dfx_status dfx__gauss_write (dfx_ctx *ctx, const char *dir, const dfx__gauss_stats *g, const dfx__calibration *cal,
                             struct cJSON *extra);

#endif
