/* gemm.c — batched, strided GEMM with fused bias, residual and scale, and the
 * public plain dfx_op_gemm on top of it.  One push block for both kernels:
 * shaders/gemm-lvp.comp on lavapipe-like CPU devices when A and B can be read
 * as aligned vec4s, the tiled shaders/gemm.comp otherwise (and on GPUs).
 */
#include "ops-private.h"

#define LX 16u
#define LY 16u
#define TM 4u
#define TN 4u
#define BK 16u
/* gemm-lvp: rows of C per subgroup, a multiple of the subgroup size, and
 * columns per lane (16 × 4 measured best at 8 lanes: 32 rows or 8 columns
 * per lane spill); one subgroup per workgroup */
#define LANE_RM 16u
#define LANE_CN 4u
/* gemm-rows: columns of C per workgroup */
#define ROWS_LX 32u

typedef struct push_mat {
    uint32_t off, row, col, outer, inner;
} push_mat;

typedef struct push_gemm {
    uint32_t m, n, k, inner_count;
    push_mat a, b, c;
    uint32_t r_off, bias_off, bias_mode, has_res;
    float alpha, beta, out_scale;
} push_gemm;
_Static_assert (sizeof (push_gemm) == 104, "mirrors gemm.comp's Push block");

void
dfx__gemm_desc_init (dfx__gemm_desc *d)
{
    *d = (dfx__gemm_desc){.alpha = 1.0f, .out_scale = 1.0f, .batch_outer = 1, .batch_inner = 1};
}

/* Largest element index + 1 a view touches. */
static uint64_t
extent (const dfx__mat *v, uint32_t rows, uint32_t cols, uint32_t bo, uint32_t bi)
{
    return (uint64_t) v->off + (uint64_t) (bo - 1) * v->outer + (uint64_t) (bi - 1) * v->inner +
           (uint64_t) (rows - 1) * v->row + (uint64_t) (cols - 1) * v->col + 1;
}

static dfx_status
check_view (dfx_ctx *ctx, const dfx__mat *v, const char *name, uint32_t rows, uint32_t cols, uint32_t bo, uint32_t bi)
{
    if (!v->buf)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "gemm: buffer %s is NULL", name);
    uint64_t need = extent (v, rows, cols, bo, bi);
    if (need > v->buf->size / sizeof (float))
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "gemm: buffer %s holds %zu floats, %llu needed", name,
                           v->buf->size / sizeof (float), (unsigned long long) need);
    return DFX_OK;
}

/* The view's batch bases (offset, outer, inner) all multiples of 4. */
static bool
bases_aligned (const dfx__mat *v, uint32_t bo, uint32_t bi)
{
    return v->off % 4 == 0 && (bo == 1 || v->outer % 4 == 0) && (bi == 1 || v->inner % 4 == 0);
}

/* gemm-lvp's layouts (AT, BT; see the shader), or false when it can't run. */
static bool
lane_layout (const dfx__gemm_desc *d, uint32_t *at, uint32_t *bt)
{
    uint32_t bo = d->batch_outer ? d->batch_outer : 1, bi = d->batch_inner ? d->batch_inner : 1;
    if (!bases_aligned (&d->a, bo, bi) || !bases_aligned (&d->b, bo, bi))
        return false;
    if (d->a.col == 1 && d->a.row % 4 == 0 && d->k % 4 == 0)
        *at = 0; /* vec4 along k */
    else if (d->a.row == 1 && d->a.col % 4 == 0 && d->m % 4 == 0 && d->k % 4 == 0)
        *at = 1; /* vec4 along m */
    else
        return false;
    if (d->b.col == 1 && d->b.row % 4 == 0 && d->n % 4 == 0)
        *bt = 0; /* vec4 along n */
    else if (d->b.row == 1 && d->b.col % 4 == 0 && d->k % 4 == 0)
        *bt = 1; /* vec4 along k */
    else
        return false;
    return true;
}

/* Fewer rows than half of gemm-lvp's tile (the time-embedding projections,
 * m = batch): gemm-rows, one invocation per element, compiles in about 0.1 s
 * where a gemm-lvp variant takes 3-4 s on a first run (lavapipe compiles
 * each variant at its first dispatch), and at such sizes runs as fast. */
static bool
few_rows (const dfx_ctx *ctx, const dfx__gemm_desc *d)
{
    return dfx__lane_kernels (ctx) && d->m < LANE_RM / 2;
}

const char *
dfx__gemm_kernel (const dfx_ctx *ctx, const dfx__gemm_desc *d)
{
    uint32_t at, bt;
    if (few_rows (ctx, d))
        return "gemm-rows";
    return dfx__lane_kernels (ctx) && lane_layout (d, &at, &bt) ? "gemm-lvp" : "gemm";
}

dfx_status
dfx__gemm (dfx_ctx *ctx, const dfx__gemm_desc *d)
{
    dfx_status st;
    uint32_t bo = d->batch_outer ? d->batch_outer : 1, bi = d->batch_inner ? d->batch_inner : 1;
    if (d->m == 0 || d->n == 0 || d->k == 0)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "gemm: sizes m=%u n=%u k=%u must be positive", d->m, d->n,
                           d->k);
    if ((uint64_t) bo * bi > ctx->props.limits.maxComputeWorkGroupCount[2])
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "gemm: batch %u×%u exceeds the device limit", bo, bi);
    if ((st = check_view (ctx, &d->a, "A", d->m, d->k, bo, bi)) != DFX_OK ||
        (st = check_view (ctx, &d->b, "B", d->k, d->n, bo, bi)) != DFX_OK ||
        (st = check_view (ctx, &d->c, "C", d->m, d->n, bo, bi)) != DFX_OK)
        return st;
    if (d->res) {
        dfx__mat r = d->c;
        r.buf = d->res, r.off = d->res_off;
        if ((st = check_view (ctx, &r, "residual", d->m, d->n, bo, bi)) != DFX_OK)
            return st;
    }
    if (d->bias_mode != DFX__BIAS_NONE) {
        uint64_t need = (uint64_t) d->bias_off + (d->bias_mode == DFX__BIAS_ROW ? d->m : d->n);
        if (!d->bias || need > d->bias->size / sizeof (float))
            return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "gemm: bias buffer too small (%llu floats needed)",
                               (unsigned long long) need);
    }
    uint64_t c_end = extent (&d->c, d->m, d->n, bo, bi);
    if ((d->c.buf == d->a.buf && d->c.off < extent (&d->a, d->m, d->k, bo, bi) && d->a.off < c_end) ||
        (d->c.buf == d->b.buf && d->c.off < extent (&d->b, d->k, d->n, bo, bi) && d->b.off < c_end))
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "gemm: C must not overlap A or B");
    push_gemm push = {
        .m = d->m, .n = d->n, .k = d->k, .inner_count = bi,
        .a = {d->a.off, d->a.row, d->a.col, d->a.outer, d->a.inner},
        .b = {d->b.off, d->b.row, d->b.col, d->b.outer, d->b.inner},
        .c = {d->c.off, d->c.row, d->c.col, d->c.outer, d->c.inner},
        .r_off = d->res_off, .bias_off = d->bias_off, .bias_mode = (uint32_t) d->bias_mode,
        .has_res = d->res != NULL,
        .alpha = d->alpha, .beta = d->beta, .out_scale = d->out_scale,
    };
    /* one set of buffers and push constants; the kernel sets its shader,
     * specialisation and grid */
    dfx__dispatch_desc dd = {
        .bufs = {d->a.buf, d->b.buf, d->c.buf, d->bias ? d->bias : d->c.buf, d->res ? d->res : d->c.buf},
        .n_bufs = 5,
        .write_mask = 1u << 2,
        .push = &push,
        .push_size = sizeof push,
    };
    uint32_t at, bt;
    if (few_rows (ctx, d)) {
        dd.shader = "gemm-rows";
        dd.spec[0] = ROWS_LX, dd.n_spec = 1;
        dd.groups[0] = (d->n + ROWS_LX - 1) / ROWS_LX, dd.groups[1] = d->m;
    } else if (dfx__lane_kernels (ctx) && lane_layout (d, &at, &bt)) {
        const uint32_t sg = ctx->subgroup_size, cols = LANE_CN * sg;
        dd.shader = "gemm-lvp";
        dd.spec[0] = sg, dd.spec[1] = LANE_RM, dd.spec[2] = at, dd.spec[3] = bt, dd.spec[4] = sg, dd.n_spec = 5;
        /* x over row blocks: neighbouring workgroups share the B panel */
        dd.groups[0] = (d->m + LANE_RM - 1) / LANE_RM, dd.groups[1] = (d->n + cols - 1) / cols;
    } else {
        dd.shader = "gemm";
        dd.spec[0] = LX, dd.spec[1] = LY, dd.spec[2] = TM, dd.spec[3] = TN, dd.spec[4] = BK, dd.n_spec = 5;
        dd.groups[0] = (d->n + LX * TN - 1) / (LX * TN), dd.groups[1] = (d->m + LY * TM - 1) / (LY * TM);
    }
    dd.groups[2] = bo * bi;
    return dfx__dispatch (ctx, &dd);
}

void
dfx_gemm_params_defaults (dfx_gemm_params *p)
{
    *p = (dfx_gemm_params){.alpha = 1.0f, .beta = 0.0f};
}

dfx_status
dfx_op_gemm (dfx_ctx *ctx, const dfx_gemm_params *p, dfx_buffer *a, dfx_buffer *b, dfx_buffer *c)
{
    if ((uint64_t) p->m * p->k > UINT32_MAX || (uint64_t) p->k * p->n > UINT32_MAX ||
        (uint64_t) p->m * p->n > UINT32_MAX)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "gemm: a matrix of more than 2^32 elements");
    dfx__gemm_desc d;
    dfx__gemm_desc_init (&d);
    d.m = p->m, d.n = p->n, d.k = p->k;
    d.a = (dfx__mat){a, 0, p->trans_a ? 1 : p->k, p->trans_a ? p->m : 1, 0, 0};
    d.b = (dfx__mat){b, 0, p->trans_b ? 1 : p->n, p->trans_b ? p->k : 1, 0, 0};
    d.c = (dfx__mat){c, 0, p->n, 1, 0, 0};
    d.alpha = p->alpha, d.beta = p->beta;
    return dfx__gemm (ctx, &d);
}
