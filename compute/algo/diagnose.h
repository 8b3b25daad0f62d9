/* diagnose.h — the core of the Fisher-information diagnostics (MATH.md
 * "Fisher information and its rate"; public front: dfx_diagnose in dfx.h).
 * Works on any posterior-moments object, so analytic Gaussian moments drive
 * the tests and the model's score network + Fisher head drive `dfx diagnose`.
 */
#ifndef DFX_DIAGNOSE_H
#define DFX_DIAGNOSE_H

#include "../likelihood/likelihood-private.h"
#include "../sample/sample-private.h"

/* out (d values) = M v with M = E[x0 x0ᵀ | x̃] at σ for one item (x̃ and its
 * x̂0 given).  Host, double. */
typedef void (*dfx__mprod_fn) (void *user, double sigma, const float *xt, const float *x0hat, const double *v,
                               double *out, uint32_t d);

typedef struct dfx__diag_desc {
    dfx__moments *mo;
    uint32_t h, w;                  /* channels from mo */
    const float *data;              /* n × channels × h × w (host) */
    uint32_t n;
    const double *sigmas;           /* n_sigmas levels, each > 0 */
    uint32_t n_sigmas;
    uint32_t probes, batch;         /* ≥ 1 each */
    uint64_t seed;
    double cmax;                    /* C_ii clamped to [0, cmax]; ≤ 0: only ≥ 0 */
    /* F v = v/τ − (M v − x̂0 (x̂0ᵀ v))/τ², M v from the first of: */
    dfx__mprod_fn mprod;            /* exact M v (analytic data) */
    void *mprod_user;
    dfx__denoiser *den;             /* C v = τ (D(x̃ + h v) − D(x̃ − h v))/(2h), h = max(0.02σ, 1e-3) */
    /* neither: DF-EA, M v ≈ x0 (x0ᵀ v) with x0 the data point */
    dfx_progress_fn progress;
    void *progress_user;
} dfx__diag_desc;

/* Fills rows[0 .. n_sigmas − 1].  Image b's noise at level j is Philox
 * stream j + 1 of index b; its probes are streams 2^24 + j·probes + p. */
dfx_status dfx__diagnose (const dfx__diag_desc *d, dfx_diagnose_row *rows);

#endif
