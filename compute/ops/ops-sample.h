/* ops-sample.h — the ops of the sampling core (compute/sample/): a linear
 * combination with per-operand offsets, and the three passes around the
 * FFTs of the spectral Gaussian skip.  Same conventions as ops-private.h
 * (not included here: its second half has no include guard): offsets and
 * sizes in elements, one dispatch each, recorded (not run). */
#ifndef DFX_OPS_SAMPLE_H
#define DFX_OPS_SAMPLE_H

#include "../dfx-private.h"

/* out[out_off + i] = alpha·x[x_off + i] + beta·y[y_off + i] + gamma, i < n.
 * y may be NULL (the beta term is then absent).  out may be the very range
 * of x or y, not a partly overlapping one. */
dfx_status dfx__lincomb (dfx_ctx *ctx, dfx_buffer *out, size_t out_off, float alpha, dfx_buffer *x, size_t x_off,
                         float beta, dfx_buffer *y, size_t y_off, float gamma, size_t n);

/* z (complex, interleaved) = alpha·x + beta·m[c] (+ 0i) over batch × channels
 * planes of np pixels each; m holds `channels` floats. */
dfx_status dfx__spectral_pack (dfx_ctx *ctx, dfx_buffer *z, dfx_buffer *x, dfx_buffer *m, uint32_t batch,
                               uint32_t channels, uint32_t np, float alpha, float beta);

/* x = alpha·Re z + beta·m[c], the inverse layout change of spectral-pack. */
dfx_status dfx__spectral_unpack (dfx_ctx *ctx, dfx_buffer *x, dfx_buffer *z, dfx_buffer *m, uint32_t batch,
                                 uint32_t channels, uint32_t np, float alpha, float beta);

/* The coefficients of one stochastic sampler step (compute/sample/sampler-ocm.c). */
typedef struct dfx__ocm_coef {
    double a, b;  /* mean a·x̂0 + b·x */
    double v0, k; /* variance v0 + k·clamp(m − x̂0², 0, cmax) ... */
    double cmax;
    double vmax;  /* ... clipped to at most vmax (INFINITY: no clip) */
} dfx__ocm_coef;

/* x[i] ← a·x0[i] + b·x[i] + √(min(v0 + k·clamp(m[i] − x0[i]², 0, cmax), vmax))·z[i]
 * for i < n (shaders/ocm-step.comp).  m may be NULL when k = 0. */
dfx_status dfx__ocm_step (dfx_ctx *ctx, dfx_buffer *x, dfx_buffer *x0, dfx_buffer *m, dfx_buffer *z,
                          const dfx__ocm_coef *c, size_t n);

#define DFX__SPECTRAL_MAX_CHANNELS 16

/* In place, per frequency bin k and item n: z[n][·][k] = A[k] z[n][·][k],
 * A[k] a channels×channels complex matrix (a: np·channels² interleaved
 * complex, row-major per bin); z: batch × channels × np interleaved complex. */
dfx_status dfx__spectral_mix (dfx_ctx *ctx, dfx_buffer *z, dfx_buffer *a, uint32_t batch, uint32_t channels,
                              uint32_t np);

#endif
