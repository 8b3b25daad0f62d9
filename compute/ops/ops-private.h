/* ops-private.h — helpers shared by the op wrappers in compute/ops/.
 *
 * An op validates its arguments, fills a push-constant struct mirroring its
 * shader's block and records one dispatch through dfx__dispatch.
 */
#ifndef DFX_OPS_PRIVATE_H
#define DFX_OPS_PRIVATE_H

#include "../dfx-private.h"

#define DFX__LOCAL_1D 256u

/* Push block of the 1-D elementwise shaders: { uint n; float alpha; uint off; }. */
typedef struct dfx__push_n_alpha {
    uint32_t n;
    float alpha;
    uint32_t off;
} dfx__push_n_alpha;
_Static_assert (sizeof (dfx__push_n_alpha) == 12, "mirrors `Push { uint n; float alpha; uint off; }`");

/* Checks that every buffer holds n floats and n fits the kernels' uint. */
dfx_status dfx__check_vectors (dfx_ctx *ctx, const char *op, size_t n, dfx_buffer *const *bufs, int n_bufs);

/* Records a 1-D grid-stride elementwise dispatch of `shader` over elements
 * [off, off + n) of every buffer; binding 0 is written, the others read. */
dfx_status dfx__eltwise (dfx_ctx *ctx, const char *shader, dfx_buffer *const *bufs, uint32_t n_bufs, size_t off,
                         size_t n, float alpha);


/* ---- Internal op descriptors (offsets in elements, for arena tensors) ---- */

/* A strided matrix view: element (i, j) of batch z = (zo, zi) is at
 * off + zo·outer + zi·inner + i·row + j·col. */
typedef struct dfx__mat {
    dfx_buffer *buf;
    uint32_t off, row, col, outer, inner;
} dfx__mat;

typedef enum dfx__bias_mode { DFX__BIAS_NONE = 0, DFX__BIAS_ROW = 1, DFX__BIAS_COL = 2 } dfx__bias_mode;

/* C = out_scale·(alpha·A·B + bias + beta·C + R) for every batch z in
 * [0, batch_outer·batch_inner).  R (optional, buf NULL = none) uses C's
 * strides with its own offset. */
typedef struct dfx__gemm_desc {
    uint32_t m, n, k;
    uint32_t batch_outer, batch_inner; /* 0 means 1 */
    dfx__mat a, b, c;
    dfx_buffer *res;
    uint32_t res_off;
    dfx_buffer *bias;
    uint32_t bias_off;
    dfx__bias_mode bias_mode;
    float alpha, beta, out_scale;
} dfx__gemm_desc;

/* Fills the defaults: alpha 1, beta 0, out_scale 1, batch 1×1. */
void dfx__gemm_desc_init (dfx__gemm_desc *d);
dfx_status dfx__gemm (dfx_ctx *ctx, const dfx__gemm_desc *d);

/* out = out_scale·(conv(x) + bias + temb[n, co] + res), NCHW, OIHW weights.
 * Buffers NULL = that term absent (weight and in/out required). */
typedef struct dfx__conv2d_desc {
    uint32_t batch, cin, h, w;  /* input as stored */
    uint32_t cout, ks, stride;
    uint32_t pad_t, pad_l;      /* the far side pads implicitly up to the output size */
    uint32_t up;                /* 1: nearest ×2 upsample the input first */
    uint32_t oh, ow;            /* output size */
    dfx_buffer *in, *weight, *bias, *temb, *res, *out;
    uint32_t in_off, w_off, bias_off, temb_off, temb_stride, res_off, out_off;
    float out_scale;            /* 0 is taken as 1 */
} dfx__conv2d_desc;

/* Output size of a convolution with symmetric padding `pad`. */
uint32_t dfx__conv2d_out_size (uint32_t in, uint32_t ks, uint32_t stride, uint32_t pad_before, uint32_t pad_after);
dfx_status dfx__conv2d (dfx_ctx *ctx, const dfx__conv2d_desc *d);

/* Kernel variants.  CPU devices with lavapipe's subgroups of 4, 8 or 16
 * lanes (LP_NATIVE_VECTOR_WIDTH 128, 256 = its default, 512) get the
 * lane-shaped kernels (gemm-lvp, conv2d-lvp, groupnorm-lvp, softmax-lvp,
 * attn-window-lvp; the subgroup size is a specialization constant of each)
 * where the views allow; GPUs and
 * every other case the shared-memory tiled ones (gemm, conv2d).
 * DFX_KERNELS=generic (read at context creation) forces the tiled kernels,
 * for A/B comparisons; tests flip ctx->kernels_generic directly.  These name
 * the shader a call would record, for tests and benchmarks. */
bool dfx__lane_kernels (const dfx_ctx *ctx);
const char *dfx__gemm_kernel (const dfx_ctx *ctx, const dfx__gemm_desc *d);
const char *dfx__conv2d_kernel (const dfx_ctx *ctx, const dfx__conv2d_desc *d);

/* GroupNorm (+ affine) (+ h·(1+scale)+shift from ss) (+ SiLU), NCHW. */
typedef struct dfx__groupnorm_desc {
    uint32_t batch, c, hw, groups;
    float eps;
    int silu;
    dfx_buffer *in, *out;
    uint32_t in_off, out_off;
    dfx_buffer *params; /* gamma at gamma_off, beta at beta_off; NULL: no affine */
    uint32_t gamma_off, beta_off;
    dfx_buffer *ss;     /* NULL: none; scale at ss_off + n·ss_stride + ch, shift c further */
    uint32_t ss_off, ss_stride;
} dfx__groupnorm_desc;
dfx_status dfx__groupnorm (dfx_ctx *ctx, const dfx__groupnorm_desc *d);

/* Row-wise softmax(scale·x) in place over rows×cols at off. */
dfx_status dfx__softmax (dfx_ctx *ctx, dfx_buffer *x, uint32_t off, uint32_t rows, uint32_t cols, float scale);

/* Neighbourhood attention (attn-window.c): o = softmax(scale·q·kᵀ) v per
 * head over the wh × ww keys around each query (shifted inward at the
 * borders; a window at least the canvas is global attention).  q, k, v, o:
 * batch × c × h·w, channel = head·dh + j; o must not overlap q, k, v. */
#define DFX__ATTN_WINDOW_MAX_KEYS 1024
typedef struct dfx__attn_window_desc {
    uint32_t batch, c, h, w, dh, wh, ww;
    float scale;
    dfx_buffer *q, *k, *v, *o;
    uint32_t q_off, k_off, v_off, o_off;
} dfx__attn_window_desc;
dfx_status dfx__attn_window (dfx_ctx *ctx, const dfx__attn_window_desc *d);

/* dst[:, coff:coff+cs] = src (NCHW, hw pixels). */
dfx_status dfx__copy_channels (dfx_ctx *ctx, dfx_buffer *dst, uint32_t dst_off, uint32_t cd, uint32_t coff,
                               dfx_buffer *src, uint32_t src_off, uint32_t cs, uint32_t batch, uint32_t hw);

#endif /* DFX_OPS_PRIVATE_H */
