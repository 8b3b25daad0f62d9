/* gemm.c — C = alpha·op(A)·op(B) + beta·C (shaders/gemm.comp).
 *
 * Transposes become strides, so every layout runs the same kernel.  Tile
 * shapes are fixed here for now; per-device variants come with the U-Net.
 */
#include "ops-private.h"

#define LX 16u
#define LY 16u
#define TM 4u
#define TN 4u
#define BK 16u

typedef struct push_gemm {
    uint32_t m, n, k;
    uint32_t a_row, a_col, b_row, b_col;
    float alpha, beta;
} push_gemm;
_Static_assert (sizeof (push_gemm) == 36, "mirrors gemm.comp's Push block");

void
dfx_gemm_params_defaults (dfx_gemm_params *p)
{
    *p = (dfx_gemm_params){.alpha = 1.0f, .beta = 0.0f};
}

dfx_status
dfx_op_gemm (dfx_ctx *ctx, const dfx_gemm_params *p, dfx_buffer *a, dfx_buffer *b, dfx_buffer *c)
{
    if (p->m == 0 || p->n == 0 || p->k == 0)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "gemm: sizes m=%u n=%u k=%u must be positive", p->m, p->n,
                           p->k);
    uint64_t na = (uint64_t) p->m * p->k, nb = (uint64_t) p->k * p->n, nc = (uint64_t) p->m * p->n;
    if (na > UINT32_MAX || nb > UINT32_MAX || nc > UINT32_MAX)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "gemm: a matrix of more than 2^32 elements");
    const struct {
        dfx_buffer *buf;
        uint64_t need;
        const char *name;
    } chk[] = {{a, na, "A"}, {b, nb, "B"}, {c, nc, "C"}};
    for (int i = 0; i < 3; i++) {
        if (!chk[i].buf)
            return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "gemm: buffer %s is NULL", chk[i].name);
        if (chk[i].buf->size / sizeof (float) < chk[i].need)
            return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "gemm: buffer %s holds %zu floats, %llu needed", chk[i].name,
                               chk[i].buf->size / sizeof (float), (unsigned long long) chk[i].need);
    }
    if (c == a || c == b)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "gemm: C must not alias A or B");
    push_gemm push = {
        .m = p->m,
        .n = p->n,
        .k = p->k,
        .a_row = p->trans_a ? 1 : p->k,
        .a_col = p->trans_a ? p->m : 1,
        .b_row = p->trans_b ? 1 : p->n,
        .b_col = p->trans_b ? p->k : 1,
        .alpha = p->alpha,
        .beta = p->beta,
    };
    dfx__dispatch_desc d = {
        .shader = "gemm",
        .spec = {LX, LY, TM, TN, BK},
        .n_spec = 5,
        .bufs = {a, b, c},
        .n_bufs = 3,
        .write_mask = 1u << 2,
        .push = &push,
        .push_size = sizeof push,
        .groups = {(p->n + LX * TN - 1) / (LX * TN), (p->m + LY * TM - 1) / (LY * TM), 1},
    };
    return dfx__dispatch (ctx, &d);
}
