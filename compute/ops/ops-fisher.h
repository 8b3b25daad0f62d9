/* ops-fisher.h — the ops of the Fisher-based algorithms (DF-TM likelihood,
 * DF-EA products).  Same conventions as ops-private.h: offsets and sizes in
 * elements, one dispatch each, recorded (not run). */
#ifndef DFX_OPS_FISHER_H
#define DFX_OPS_FISHER_H

#include "../dfx-private.h"

/* DFX_OK when [off, off + n) floats lie in b and fit the shaders' 32-bit
 * offsets; otherwise DFX_ERR_INVALID_ARGUMENT naming the op and the operand. */
static inline dfx_status
dfx__fisher_range (dfx_ctx *ctx, const char *op, dfx_buffer *b, size_t off, size_t n, const char *what)
{
    if (!b || off > UINT32_MAX || n > UINT32_MAX - off || (off + n) > b->size / sizeof (float))
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "%s: %s range [%zu, %zu) outside its buffer", op, what, off,
                           off + n);
    return DFX_OK;
}

/* out[i] = 1 − clamp(m[i] − x0[i]², cmin, cmax)/σ̃² for i < n: the per-pixel
 * DF-TM divergence integrand with u = ln σ̃ (shaders/dftm-div.comp).
 * cmin ≤ 0 ≤ cmax; ±INFINITY: that side unclamped. */
dfx_status dfx__dftm_div (dfx_ctx *ctx, dfx_buffer *out, size_t out_off, dfx_buffer *x0, size_t x0_off, dfx_buffer *m,
                          size_t m_off, double sigma, double cmin, double cmax, size_t n);

/* m[m_off + i] ← x0[x0_off + i]² + σ̃²·m[m_off + i] for i < n, in place: a
 * variance-ratio Fisher head's output r ≈ diag C/σ̃² as the second moment
 * E[x0⊙x0 | x̃] every consumer reads (shaders/ratio-moment.comp). */
dfx_status dfx__ratio_moment (dfx_ctx *ctx, dfx_buffer *m, size_t m_off, dfx_buffer *x0, size_t x0_off, double sigma,
                              size_t n);

/* One Adam step t ≥ 1 on n values (shaders/adam.comp): m ← b1 m + (1 − b1) g,
 * v ← b2 v + (1 − b2) g², z ← z − lr m̂/(√v̂ + eps) with the bias corrections
 * of step t.  The guided edit's optimiser on its start point. */
dfx_status dfx__adam (dfx_ctx *ctx, dfx_buffer *z, dfx_buffer *g, dfx_buffer *m, dfx_buffer *v, size_t n, double lr,
                      double b1, double b2, double eps, uint32_t t);

#endif
