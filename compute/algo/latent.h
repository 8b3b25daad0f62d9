/* latent.h — the latent diagnostics' internals (docs/latent-diagnostics.md;
 * public front: dfx_latent_diagnose in dfx.h).
 *
 * A "density" answers, for a point x of its space and a noise level τ (VE,
 * x_τ = x0 + √τ ε), the exact posterior quantities the Fisher identities need:
 * x̂0 = E[x0 | x_τ], tr C and ‖C‖_F² with C = Cov[x0 | x_τ].  Two kinds, both
 * built from a finite point set:
 *  - empirical: the Dirac mixture of the points (exact scores of the data set
 *    itself, as dirac.c, but for any dimension: posterior weights by softmax,
 *    ‖C‖_F² through the points' Gram matrix);
 *  - gaussian: N(mean, cov) of the points' own moments (1/n), C = τΣ(Σ + τI)⁻¹
 *    the same at every x — the closed-form path of the tests.
 * Host double precision; nothing here touches the device. */
#ifndef DFX_LATENT_H
#define DFX_LATENT_H

#include "../dfx-private.h"

typedef struct dfx__density {
    dfx_density_kind kind;
    uint32_t n, d;
    double *pts; /* n × d (a copy) */
    /* empirical */
    double *gram; /* n × n, pts ptsᵀ */
    /* gaussian: Σ = V diag(lam) Vᵀ, V's columns the eigenvectors (d × d) */
    double *mean, *V, *lam;
} dfx__density;

/* Builds a density of kind over n points of dimension d (row-major, copied).
 * Empirical: n ≤ DFX__EMPIRICAL_MAX_POINTS (the Gram matrix is n² doubles).
 * Ownership: *out is freed with dfx__density_destroy(). */
#define DFX__EMPIRICAL_MAX_POINTS 8192
dfx_status dfx__density_create (dfx_ctx *ctx, dfx_density_kind kind, const double *pts, uint32_t n, uint32_t d,
                                dfx__density **out);
dfx_status dfx__density_gaussian_init (dfx_ctx *ctx, dfx__density *den);
void dfx__density_destroy (dfx__density *den);

/* Doubles of scratch dfx__density_posterior needs. */
size_t dfx__density_work (const dfx__density *den);

/* x̂0 (d values), tr C and ‖C‖_F² at x for level τ.  Thread-compatible (work
 * is the caller's). */
void dfx__density_posterior (const dfx__density *den, const double *x, double tau, double *work, double *x0hat,
                             double *trc, double *frob2);

/* The Fisher statistics of den at level τ by Monte Carlo over x_τ: sample s
 * (0 .. samples − 1) is point s mod n plus √τ·(Philox stream `stream`, index
 * s) — a draw of the noisy empirical distribution, which is also the right
 * sampling distribution for the moment-matched Gaussian's J, FIR (constant in
 * x there) and E‖s‖² (its expectation only needs the first two moments). */
dfx_status dfx__fisher_level (dfx_ctx *ctx, const dfx__density *den, double tau, uint32_t samples, uint64_t seed,
                              uint32_t stream, dfx_fisher_stats *out);

/* The extreme singular values of the encoder's Jacobian at x (dx values):
 * the dz × dx Jacobian column by column from central differences
 * (E(x + h e_k) − E(x − h e_k))/(2h), batch columns per encoder call (2·batch
 * inputs), then the eigenvalues of the smaller Gram matrix (J Jᵀ or JᵀJ) by
 * Jacobi: smin = √λ_min (the smallest of the min(dx, dz) singular values),
 * smax = √λ_max.  scratch: see the .c. */
dfx_status dfx__jacobian_extremes (dfx_ctx *ctx, dfx_encoder_fn enc, void *user, const double *x, uint32_t dx,
                                   uint32_t dz, double h, uint32_t batch, double *smin, double *smax);

/* The secant (pairwise) constants min and max of ‖z_i − z_j‖/‖x_i − x_j‖
 * over the pairs of the first n points with x_i ≠ x_j; *pairs counted. */
void dfx__secant_extremes (const double *x, const double *z, uint32_t n, uint32_t dx, uint32_t dz, double *lo,
                           double *hi, uint64_t *pairs);

#endif
