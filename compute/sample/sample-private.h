/* sample-private.h — the sampling core of libdfx: noise schedules in the EDM
 * view, denoisers, the deterministic PF-ODE samplers and the stochastic ones
 * (DDPM, OCM), the Gaussian skip and its statistics, the counter-based noise.
 *
 * Notation (MATH.md): the sampler works on x̃ = x_t/α_t at noise level
 * σ̃ = σ_t/α_t, where the PF-ODE is dx̃/dσ̃ = (x̃ − D(x̃; σ̃))/σ̃ and the
 * denoiser D returns x̂0.  A discrete DDPM schedule becomes continuous by
 * interpolating log σ̃ over the timestep index.  State lives in device
 * buffers (batch × channels × height × width floats, contiguous items);
 * updates are dfx__lincomb dispatches.  Nothing here is public.
 */
#ifndef DFX_SAMPLE_PRIVATE_H
#define DFX_SAMPLE_PRIVATE_H

#include "../dfx-private.h"
#include "../model/sched-config.h"

/* ---- noise schedule ------------------------------------------------------ */

/* σ̃(t).  Discrete (n > 0): t ∈ [0, n − 1] is the DDPM timestep index and
 * log σ̃ is linear between integer timesteps, σ̃_t² = (1 − ᾱ_t)/ᾱ_t.
 * Continuous (n == 0, EDM-style analytic cases): t ∈ [0, 1],
 * σ̃(t) = σ_min·(σ_max/σ_min)^t. */
typedef struct dfx__schedule {
    int n;
    double *log_sigma; /* n values, strictly increasing (owned) */
    double sigma_min, sigma_max;
} dfx__schedule;

/* From a parsed scheduler config.  Refuses a schedule whose σ̃ does not
 * increase strictly.  Ownership: free with dfx__schedule_free(). */
dfx_status dfx__schedule_from_config (dfx_ctx *ctx, const dfx__sched_config *c, dfx__schedule *out);
void dfx__schedule_continuous (double sigma_min, double sigma_max, dfx__schedule *out);
void dfx__schedule_free (dfx__schedule *s);
double dfx__schedule_t_max (const dfx__schedule *s);
double dfx__schedule_sigma (const dfx__schedule *s, double t);
/* Inverse of dfx__schedule_sigma, clamped to [0, t_max]. */
double dfx__schedule_timestep (const dfx__schedule *s, double sigma);

/* EDM (Karras) levels: sig[i] = (smax^(1/ρ) + i/(n−1)·(smin^(1/ρ) − smax^(1/ρ)))^ρ
 * for i < n (sig[0] = smax when n == 1), sig[n] = 0.  n + 1 values. */
void dfx__sigmas_karras (double smax, double smin, double rho, uint32_t n, double *sig);
/* DDIM levels: uniform timesteps t_i = t0·(n − i)/n, t0 = t(smax), sig[i] =
 * σ̃(t_i) for i < n, sig[n] = 0 (the last step lands on x̂0). */
void dfx__sigmas_ddim (const dfx__schedule *s, double smax, uint32_t n, double *sig);

/* ---- denoisers -------------------------------------------------------------- */

/* D(x̃; σ̃) = x̂0 for a batch.  x and out hold batch × channels × h × w
 * floats; out must not alias x.  The work is recorded on the context and
 * may or may not have run on return (analytic denoisers run it). */
typedef struct dfx__denoiser dfx__denoiser;
struct dfx__denoiser {
    dfx_ctx *ctx;
    uint32_t channels;
    const char *name;
    dfx_status (*denoise) (dfx__denoiser *d, uint32_t batch, uint32_t h, uint32_t w, dfx_buffer *x, double sigma,
                           dfx_buffer *out);
    void (*destroy) (dfx__denoiser *d);
};

/* Frees any denoiser.  Accepts NULL. */
void dfx__denoiser_destroy (dfx__denoiser *d);

/* The U-Net as a denoiser: t = t(σ̃) (fractional) and α = 1/√(1 + σ̃²) go to
 * the network, which sees α x̃; ε-, v- and sample-prediction outputs become
 * x̂0 (an output with twice the input channels keeps the first half).  u and
 * sched must outlive the denoiser; u stays owned by the caller. */
dfx_status dfx__denoiser_unet (dfx_unet *u, const dfx__schedule *sched, dfx__prediction pred, dfx__denoiser **out);

/* Gaussian data N(μ, Σ), Σ = Σ_k λ_k u_k u_kᵀ + λ_res (I − U Uᵀ) over d =
 * channels·h·w: D = μ + Σ_k λ_k/(λ_k + σ̃²) u_k u_kᵀ y + λ_res/(λ_res + σ̃²)(I − UUᵀ) y,
 * y = x̃ − μ.  comps: rank × d orthonormal rows.  Host double precision; the
 * arrays are copied.  For tests and references. */
dfx_status dfx__denoiser_gauss (dfx_ctx *ctx, uint32_t channels, uint32_t d, const double *mean, uint32_t rank,
                                const double *comps, const double *eigval, double residual, dfx__denoiser **out);

/* Data = n_points Dirac masses y_i (n_points × d): D = Σ w_i y_i with
 * w = softmax_i(−‖x̃ − y_i‖²/(2σ̃²)).  Host double precision; copied. */
dfx_status dfx__denoiser_dirac (dfx_ctx *ctx, uint32_t channels, uint32_t d, uint32_t n_points, const double *points,
                                dfx__denoiser **out);

/* ---- Gaussian statistics (the gaussian/ folder, models/GAUSSIAN.md) --------- */

typedef struct dfx__gauss_stats {
    uint32_t channels, height, width; /* the grid the statistics were taken on */
    /* PCA: mean (c·h·w), rank eigenpairs (descending), isotropic residual. */
    int has_pca;
    double *mean;
    uint32_t rank;
    double *eigval;  /* rank */
    double *comps;   /* rank × c·h·w, orthonormal rows */
    double residual; /* variance in the complement of the components */
    /* Stationary: per-channel mean and, per frequency bin (ky, kx) of the
     * unitary 2-D DFT on height × width, the channel covariance (c × c
     * Hermitian, interleaved complex). */
    int has_spectral;
    double *spec_mean; /* c */
    double *spec_cov;  /* height · width · c · c · 2 */
    /* Calibration. */
    double sigma_skip;                /* 0: none */
    double sigma_skip_pca, sigma_skip_spectral; /* 0: use sigma_skip */
    double tolerance;
    dfx_skip mode;                    /* DFX_SKIP_PCA or DFX_SKIP_SPECTRAL */
} dfx__gauss_stats;

/* Loads dir/gaussian/config.json + statistics.safetensors.  Ownership:
 * *out freed with dfx__gauss_stats_free(). */
dfx_status dfx__gauss_stats_load (dfx_ctx *ctx, const char *model_dir, dfx__gauss_stats **out);
void dfx__gauss_stats_free (dfx__gauss_stats *g);

/* The closed-form factor of one eigen-direction of variance λ from σ_from to σ_to:
 * √((λ + σ_to²)/(λ + σ_from²)). */
double dfx__gauss_factor (double lambda, double sigma_from, double sigma_to);

/* Device state of the skip for one statistics object (uploaded components,
 * FFT plans, scratch), created lazily per mode and shape. */
typedef struct dfx__skip dfx__skip;

/* g must outlive the skip.  Ownership: free with dfx__skip_destroy(). */
dfx_status dfx__skip_create (dfx_ctx *ctx, const dfx__gauss_stats *g, dfx__skip **out);
void dfx__skip_destroy (dfx__skip *s);

/* x (batch × c·h·w on the device) ← the Gaussian PF-ODE solution at σ_to
 * from x at σ_from.  PCA: h × w must be the statistics' grid.  Spectral:
 * any h × w (the spectrum is resampled to that grid).  Recorded, not run. */
dfx_status dfx__skip_pca (dfx__skip *s, uint32_t batch, uint32_t h, uint32_t w, dfx_buffer *x, double sigma_from,
                          double sigma_to);
dfx_status dfx__skip_spectral (dfx__skip *s, uint32_t batch, uint32_t h, uint32_t w, dfx_buffer *x,
                               double sigma_from, double sigma_to);
/* x (one c·h·w image on the device) ← Cov[x0 | x̃] x of the Gaussian at σ̃ =
 * sigma: σ² Σ (Σ + σ² I)⁻¹ x (no mean: it is linear), the posterior
 * covariance the edit's Gaussian adjoint uses.  Same grids as above. */
dfx_status dfx__skip_pca_cov (dfx__skip *s, uint32_t h, uint32_t w, dfx_buffer *x, double sigma);
dfx_status dfx__skip_spectral_cov (dfx__skip *s, uint32_t h, uint32_t w, dfx_buffer *x, double sigma);

/* The per-bin channel matrices A[k] = f(S[k]) with f(λ) = √((λ + σ_to²)/(λ + σ_from²))
 * for an h × w canvas, S resampled from the statistics' grid (bilinear in
 * frequency, periodic).  a: h·w·c·c interleaved complex (host). */
void dfx__spectral_matrices (const dfx__gauss_stats *g, uint32_t h, uint32_t w, double sigma_from, double sigma_to,
                             float *a);

/* S at bin (ky, kx) of an h × w canvas, resampled from the statistics' grid
 * (bilinear in frequency, periodic): c·c interleaved complex into s. */
void dfx__spectral_cov_at (const dfx__gauss_stats *g, uint32_t h, uint32_t w, uint32_t ky, uint32_t kx, double *s);

/* ---- small dense linear algebra (linalg.c) ---------------------------------- */

#define DFX__HERM_MAX 16

/* Eigen-decomposition of the symmetric n × n matrix a (destroyed): vals[k]
 * and column k of vecs (row-major n × n), unsorted.  Cyclic Jacobi. */
void dfx__eigh (int n, double *a, double *vals, double *vecs);

/* out = f(S) for a c × c Hermitian S (c ≤ DFX__HERM_MAX; interleaved complex,
 * row-major), negative eigenvalues clamped to 0 before f. */
void dfx__hermitian_function (int c, const double *s, double (*f) (double, const void *), const void *arg,
                              double *out);

/* ---- FFT (fft.c, VkFFT) ----------------------------------------------------- */

typedef struct dfx__fft dfx__fft;

/* A plan of `batch` 2-D complex-to-complex FFTs of h × w (x fastest) on
 * buf (interleaved complex float, batch·h·w values), normalised inverse.
 * Runs the recorded work first (VkFFT submits on the context's queue while
 * it builds).  Ownership: free with dfx__fft_destroy(); buf must outlive it. */
dfx_status dfx__fft_create (dfx_ctx *ctx, uint32_t h, uint32_t w, uint32_t batch, dfx_buffer *buf, dfx__fft **out);
/* Records the forward (inverse = 0) or inverse transform, in place. */
dfx_status dfx__fft_record (dfx__fft *f, int inverse);
void dfx__fft_destroy (dfx__fft *f);

/* ---- samplers ------------------------------------------------------------------ */

struct dfx__moments; /* likelihood-private.h */

typedef struct dfx__sample_desc {
    dfx__denoiser *den;           /* x̂0; may be NULL when mo is given */
    struct dfx__moments *mo;      /* x̂0 and m = E[x0⊙x0 | x̃]: needed by the OCM samplers */
    const dfx__schedule *sched;
    dfx_sampler sampler;
    uint32_t steps;               /* N ≥ 1 */
    uint32_t batch, h, w;         /* channels from den */
    double sigma_max, sigma_min;  /* 0: the schedule's */
    /* The skip: mode PCA or SPECTRAL with skip non-NULL and sigma_skip > 0, else none. */
    dfx_skip skip_mode;
    dfx__skip *skip;
    double sigma_skip;
    int stop_at_min;              /* 1: end at σ_min, before the last step to σ = 0 (tests) */
    /* The stochastic samplers (DDPM, OCM-DDPM, OCM-DDIM): step j's noise of
     * item b is Philox stream j + 1 of image first_index + b under seed. */
    uint64_t seed;
    uint32_t first_index;
    double eta;                   /* OCM-DDIM: λ² = η² β̃ (0: the DDIM mean) */
    double cmax;                  /* diag C clamped to [0, cmax]; 0: 1 (data in [−1, 1]) */
    double clip_last;             /* > 0: the last step's noise std clipped to it; 0: no clip */
    dfx_progress_fn progress;
    void *progress_user;
} dfx__sample_desc;

/* Runs the sampler.  x holds unit Gaussian noise on entry (batch × c·h·w)
 * and x̂0 on return.  r (may be NULL) receives nfe, nfe_saved, steps_skipped,
 * sigma_skip, skip (seconds untouched). */
dfx_status dfx__sample (const dfx__sample_desc *d, dfx_buffer *x, dfx_generate_result *r);

/* NFE of n steps of a sampler (Heun: 2n − 1; the others: n; an OCM
 * evaluation runs the Fisher head beside the score network). */
uint32_t dfx__sampler_nfe (dfx_sampler s, uint32_t n);

/* ---- the stochastic samplers (sampler-ocm.c) ---------------------------------- */

/* DDPM, OCM-DDPM or OCM-DDIM. */
bool dfx__sampler_stochastic (dfx_sampler s);

/* Their levels: n timesteps uniform from t(smax) down to t(smin) (n = 1:
 * smax alone), then sig[n] = 0; the last step goes from smin to 0.  n + 1
 * values. */
void dfx__sigmas_ddpm (const dfx__schedule *s, double smax, double smin, uint32_t n, double *sig);

/* Draws step `step`'s noise for the batch (host scratch of batch × per
 * floats), uploads it to z and records the update of x from σ to σ' (x0, m
 * the moments at σ; m may be NULL for DDPM). */
dfx_status dfx__ocm_update (const dfx__sample_desc *d, uint32_t step, double sigma, double sigma_next, dfx_buffer *x,
                            dfx_buffer *x0, dfx_buffer *m, dfx_buffer *z, float *host, size_t per);

/* The Analytic-DPM clip of the last step for 8-bit data on [−1, 1]: the
 * noise's mean magnitude σ√(2/π) at most half a quantisation bin (1/255). */
#define DFX__CLIP_LAST_8BIT 0.0049126 /* √(π/2)/255 */

/* ---- noise ------------------------------------------------------------------- */

/* Philox4x32-10 (Salmon et al., SC 2011): out = bijection of ctr under key. */
void dfx__philox4x32 (const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]);

/* n unit normals of image `index`, stream `stream` (0: generation's starting
 * noise, dfx_generate_noise; j + 1: step j of a stochastic sampler). */
void dfx__noise_stream (uint64_t seed, uint32_t index, uint32_t stream, size_t n, float *out);

#endif /* DFX_SAMPLE_PRIVATE_H */
