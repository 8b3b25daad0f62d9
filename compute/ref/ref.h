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

#endif
