/* ref.h — plain double-precision CPU references of libdfx's ops.
 *
 * Deliberately naive and obviously correct: the parity tests compare every
 * Vulkan kernel against these.  Inputs are float32 (as on the device), all
 * arithmetic is double.  Not for production use.
 */
#ifndef DFX_REF_H
#define DFX_REF_H

#include <stddef.h>
#include <stdint.h>

void dfx_ref_add (double *out, const float *a, const float *b, size_t n);
void dfx_ref_mul (double *out, const float *a, const float *b, size_t n);
void dfx_ref_axpy (double *y, double alpha, const float *x, const float *y0, size_t n);
void dfx_ref_scale (double *out, double alpha, const float *x, size_t n);
void dfx_ref_silu (double *out, const float *x, size_t n);
double dfx_ref_dot (const float *a, const float *b, size_t n);
double dfx_ref_sumsq (const float *a, size_t n);
/* C = alpha·op(A)·op(B) + beta·C0 (row-major; op transposes when set). */
void dfx_ref_gemm (double *c, uint32_t m, uint32_t n, uint32_t k, int trans_a, int trans_b, double alpha,
                   const float *a, const float *b, double beta, const float *c0);

/* Normalised mean squared error Σ(x−r)² / max(Σ r², tiny). */
double dfx_ref_nmse (const float *x, const double *ref, size_t n);


/* Convolution reference with the same parameters as dfx__conv2d: NCHW input
 * (b, cin, h, w), optional nearest ×2 upsampling, OIHW weight (cout, cin,
 * ks, ks), top/left padding pad_t/pad_l (zeros beyond the far edges), output
 * (b, cout, oh, ow); then out_scale·(conv + bias[co] + temb[n·temb_stride +
 * co] + res).  Optional arrays may be NULL. */
void dfx_ref_conv2d (double *out, const float *in, uint32_t b, uint32_t cin, uint32_t h, uint32_t w, int up,
                     const float *weight, uint32_t cout, uint32_t ks, uint32_t stride, uint32_t pad_t, uint32_t pad_l,
                     uint32_t oh, uint32_t ow, const float *bias, const float *temb, uint32_t temb_stride,
                     const float *res, double out_scale);

/* GroupNorm reference (two-pass double statistics) with optional affine
 * (gamma/beta NULL = none), scale/shift (ss[n·ss_stride + ch], shift at + c)
 * and SiLU. */
void dfx_ref_groupnorm (double *out, const float *in, uint32_t b, uint32_t c, uint32_t hw, uint32_t groups, double eps,
                        const float *gamma, const float *beta, const float *ss, uint32_t ss_stride, int silu);

/* Neighbourhood attention as attn-window.comp (ops-private.h), in double. */
void dfx_ref_attn_window (double *o, const float *q, const float *k, const float *v, uint32_t batch, uint32_t c,
                          uint32_t h, uint32_t w, uint32_t dh, uint32_t wh, uint32_t ww, double scale);

/* Row-wise softmax(scale·x). */
void dfx_ref_softmax (double *out, const float *x, uint32_t rows, uint32_t cols, double scale);

/* Sampling ops (ref-sample.c).  lincomb: out = alpha·x + beta·y + gamma (y
 * NULL: no beta term).  spectral-pack/unpack/mix: see compute/ops/ops-sample.h;
 * complex arrays interleaved (re, im). */
void dfx_ref_lincomb (double *out, double alpha, const float *x, double beta, const float *y, double gamma, size_t n);
void dfx_ref_spectral_pack (double *z, const float *x, const float *m, uint32_t batch, uint32_t channels, uint32_t np,
                            double alpha, double beta);
void dfx_ref_spectral_unpack (double *x, const float *z, const float *m, uint32_t batch, uint32_t channels,
                              uint32_t np, double alpha, double beta);
void dfx_ref_spectral_mix (double *out, const float *z, const float *a, uint32_t batch, uint32_t channels, uint32_t np);

/* One stochastic sampler step: a·x0 + b·x + √(min(v0 + k·clamp(m − x0², 0, cmax), vmax))·z
 * (m unread when k = 0). */
void dfx_ref_ocm_step (double *out, const float *x, const float *x0, const float *m, const float *z, double a, double b,
                       double v0, double k, double cmax, double vmax, size_t n);

/* DF-TM integrand: 1 − clamp(m − x0², cmin, cmax)/σ². */
void dfx_ref_dftm_div (double *out, const float *x0, const float *m, double sigma, double cmin, double cmax,
                       size_t n);

/* Variance-ratio head to second moment: m·σ² + x0² (m the head's ratio). */
void dfx_ref_ratio_moment (double *out, const float *m, const float *x0, double sigma, size_t n);

/* Adam step t: updates z, m, v in place (doubles), as shaders/adam.comp. */
void dfx_ref_adam (double *z, const float *g, double *m, double *v, size_t n, double lr, double b1, double b2,
                   double eps, unsigned t);

#endif /* DFX_REF_H */
