/* conv2d.c — 2-D convolution with fused upsample, bias, time-embedding and
 * residual epilogue.  Validates the geometry and the buffer extents, fills the
 * push block (shared by both kernels) and records one dispatch of
 * shaders/conv2d-lvp.comp on lavapipe-like CPU devices where it applies, of
 * the tiled shaders/conv2d.comp otherwise. */
#include "ops-private.h"

#include <string.h>

#define LX 16u
#define LY 16u
#define TM 4u
#define TN 4u
#define BK 16u

typedef struct push_conv {
    uint32_t batch, cin, h, w, cout, oh, ow, ks, stride, pad_t, pad_l, up;
    uint32_t in_off, w_off, bias_off, out_off, temb_off, temb_stride, res_off, flags;
    float out_scale;
} push_conv;
_Static_assert (sizeof (push_conv) == 84, "mirrors conv2d.comp's Push block");

uint32_t
dfx__conv2d_out_size (uint32_t in, uint32_t ks, uint32_t stride, uint32_t pad_before, uint32_t pad_after)
{
    if (in + pad_before + pad_after < ks || stride == 0)
        return 0;
    return (in + pad_before + pad_after - ks) / stride + 1;
}

static dfx_status
need (dfx_ctx *ctx, dfx_buffer *b, uint64_t n, const char *what)
{
    if (!b)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "conv2d: %s buffer is NULL", what);
    if (n > b->size / sizeof (float))
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "conv2d: %s buffer holds %zu floats, %llu needed", what,
                           b->size / sizeof (float), (unsigned long long) n);
    return DFX_OK;
}

bool
dfx__lane_kernels (const dfx_ctx *ctx)
{
    uint32_t sg = ctx->subgroup_size;
    return !ctx->kernels_generic && ctx->props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU &&
           (sg == 4 || sg == 8 || sg == 16);
}

/* conv2d-lvp's shape (its specialization constants; see the shader). */
typedef struct lane_shape {
    uint32_t co, yr, edge, wv;
} lane_shape;

static lane_shape
lane_shape_of (const dfx_ctx *ctx, const dfx__conv2d_desc *d)
{
    lane_shape s;
    const uint32_t px = 4 * ctx->subgroup_size; /* pixels per subgroup */
    /* 3×3: 8 channels × 2 rows × 4 pixels per lane measured best (one row
     * or 16 channels spill more than they save); stride 2 reuses less of an
     * input row pair and 1×1 none, so one row there (16 channels for 1×1). */
    s.co = d->ks == 3 ? 8 : 16;
    s.yr = d->ks == 3 && d->stride == 1 ? 2 : 1;
    /* a subgroup's pixels hold whole rows: neighbours come from lanes only */
    s.edge = !(d->ow <= px && px % d->ow == 0);
    s.wv = d->cin % 4 == 0 && d->w_off % 4 == 0;
    return s;
}

const char *
dfx__conv2d_kernel (const dfx_ctx *ctx, const dfx__conv2d_desc *d)
{
    uint32_t he = d->h << d->up, we = d->w << d->up;
    /* vec4 input rows (vec2 before upsampling), output and residual rows
     * must be aligned */
    bool aligned = d->ow % 4 == 0 && d->in_off % (d->up ? 2 : 4) == 0 && d->out_off % 4 == 0 &&
                   (!d->res || d->res_off % 4 == 0);
    /* stride 1: "same" 3×3 or 1×1, upsampled or not */
    bool same = d->stride == 1 && d->oh == he && d->ow == we &&
                (d->ks == 3 ? d->pad_t == 1 && d->pad_l == 1 : d->pad_t == 0 && d->pad_l == 0);
    /* stride 2: 3×3 halving the width, padding 0 (right and bottom) or 1;
     * rows outside the input read as zero, so any oh */
    bool down = d->stride == 2 && d->ks == 3 && !d->up && d->pad_t == d->pad_l && d->pad_t <= 1 && d->w == 2 * d->ow;
    if (dfx__lane_kernels (ctx) && (same || down) && aligned)
        return "conv2d-lvp";
    return "conv2d";
}

dfx_status
dfx__conv2d (dfx_ctx *ctx, const dfx__conv2d_desc *d)
{
    dfx_status st;
    if (!d->batch || !d->cin || !d->h || !d->w || !d->cout || !d->oh || !d->ow || !d->stride ||
        (d->ks != 1 && d->ks != 3) || d->up > 1)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT,
                           "conv2d: bad geometry (batch %u, %u×%u×%u → %u×%u×%u, kernel %u, stride %u)", d->batch,
                           d->cin, d->h, d->w, d->cout, d->oh, d->ow, d->ks, d->stride);
    uint64_t nin = (uint64_t) d->batch * d->cin * d->h * d->w;
    uint64_t nout = (uint64_t) d->batch * d->cout * d->oh * d->ow;
    uint64_t npix = (uint64_t) d->batch * d->oh * d->ow;
    if (npix * 1 > (uint64_t) UINT32_MAX || nin > UINT32_MAX || nout > UINT32_MAX)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "conv2d: tensor of more than 2^32 elements");
    if ((st = need (ctx, d->in, d->in_off + nin, "input")) != DFX_OK ||
        (st = need (ctx, d->weight, d->w_off + (uint64_t) d->cout * d->cin * d->ks * d->ks, "weight")) != DFX_OK ||
        (st = need (ctx, d->out, d->out_off + nout, "output")) != DFX_OK)
        return st;
    if (d->bias && (st = need (ctx, d->bias, d->bias_off + (uint64_t) d->cout, "bias")) != DFX_OK)
        return st;
    if (d->temb &&
        (st = need (ctx, d->temb, d->temb_off + (uint64_t) (d->batch - 1) * d->temb_stride + d->cout, "temb")) != DFX_OK)
        return st;
    if (d->res && (st = need (ctx, d->res, d->res_off + nout, "residual")) != DFX_OK)
        return st;
    if ((d->out == d->in && d->out_off < d->in_off + nin && d->in_off < d->out_off + nout) || d->out == d->weight)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "conv2d: output must not overlap the input or weight");
    push_conv push = {
        .batch = d->batch, .cin = d->cin, .h = d->h, .w = d->w, .cout = d->cout, .oh = d->oh, .ow = d->ow,
        .ks = d->ks, .stride = d->stride, .pad_t = d->pad_t, .pad_l = d->pad_l, .up = d->up,
        .in_off = d->in_off, .w_off = d->w_off, .bias_off = d->bias_off, .out_off = d->out_off,
        .temb_off = d->temb_off, .temb_stride = d->temb_stride, .res_off = d->res_off,
        .flags = (d->bias ? 1u : 0u) | (d->temb ? 2u : 0u) | (d->res ? 4u : 0u),
        .out_scale = d->out_scale != 0.0f ? d->out_scale : 1.0f,
    };
    /* Bindings are the same for both kernels; unused terms bind a live buffer. */
    dfx__dispatch_desc dd = {
        .shader = "conv2d",
        .spec = {LX, LY, TM, TN, BK},
        .n_spec = 5,
        .bufs = {d->in, d->weight, d->bias ? d->bias : d->weight, d->temb ? d->temb : d->weight,
                 d->res ? d->res : d->in, d->out},
        .n_bufs = 6,
        .write_mask = 1u << 5,
        .push = &push,
        .push_size = sizeof push,
        .groups = {(uint32_t) ((npix + LX * TN - 1) / (LX * TN)), (d->cout + LY * TM - 1) / (LY * TM), 1},
    };
    if (strcmp (dfx__conv2d_kernel (ctx, d), "conv2d-lvp") == 0) {
        lane_shape ls = lane_shape_of (ctx, d);
        const uint32_t sg = ctx->subgroup_size; /* one subgroup per workgroup */
        uint32_t nq = d->batch * ((d->oh + ls.yr - 1) / ls.yr) * (d->ow / 4);
        const uint32_t spec[10] = {sg, ls.co, d->ks, ls.yr, d->up, ls.edge, ls.wv, d->stride, d->pad_t, sg};
        dd.shader = "conv2d-lvp";
        memcpy (dd.spec, spec, sizeof spec);
        dd.n_spec = 10;
        dd.groups[0] = (nq + sg - 1) / sg;
        dd.groups[1] = (d->cout + ls.co - 1) / ls.co;
    }
    return dfx__dispatch (ctx, &dd);
}
