/* test-ops.c — parity of every Vulkan op against its double-precision CPU
 * reference (compute/ref), on awkward sizes with a fixed seed, by normalised
 * MSE (reductions: error relative to Σ|a_i b_i|).  Also chains ops without a
 * flush to exercise the automatic barriers.  Skips (77) only when no Vulkan
 * device exists. */
#include "check-ctx.h"
#include "dfx.h"
#include "ops/ops-private.h"
#include "ops/ops-fisher.h"
#include "ops/ops-sample.h"
#include "ref.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static dfx_ctx *ctx;
static bool lane_rows_only; /* --lanes: skip the rows meant for the tiled kernels */

typedef struct vec {
    float *h;
    dfx_buffer *d;
} vec;

static vec
vec_new (check_rng *r, size_t n, float lo, float hi)
{
    vec v = {malloc (n * sizeof (float)), NULL};
    check_fill (r, v.h, n, lo, hi);
    if (dfx_buffer_create (ctx, n * sizeof (float), &v.d) != DFX_OK ||
        dfx_buffer_upload (ctx, v.d, 0, v.h, n * sizeof (float)) != DFX_OK)
        fprintf (stderr, "buffer: %s\n", dfx_ctx_errmsg (ctx));
    return v;
}

static void
vec_free (vec *v)
{
    dfx_buffer_destroy (ctx, v->d);
    free (v->h);
}

static float *
download (dfx_buffer *b, size_t n)
{
    float *h = malloc (n * sizeof (float));
    dfx_status st = dfx_buffer_download (ctx, b, 0, h, n * sizeof (float));
    CHECK (st == DFX_OK, "download: %s", dfx_ctx_errmsg (ctx));
    return h;
}

/* ---- elementwise rows ---- */

typedef enum { OP_ADD, OP_MUL, OP_AXPY, OP_SCALE, OP_SILU } elt_op;
static const struct {
    elt_op op;
    const char *name;
    double tol;
} elt_rows[] = {
    {OP_ADD, "add", 1e-13}, {OP_MUL, "mul", 1e-13}, {OP_AXPY, "axpy", 1e-13},
    {OP_SCALE, "scale", 1e-13}, {OP_SILU, "silu", 1e-11},
};

static void
test_eltwise (size_t n, int in_place)
{
    check_rng r = {0x9e3779b97f4a7c15ull ^ n};
    for (size_t row = 0; row < sizeof elt_rows / sizeof elt_rows[0]; row++) {
        vec a = vec_new (&r, n, -4.0f, 4.0f), b = vec_new (&r, n, -4.0f, 4.0f), o = vec_new (&r, n, -1.0f, 1.0f);
        double *ref = malloc (n * sizeof (double));
        dfx_buffer *out = in_place ? a.d : o.d;
        const float alpha = -1.75f;
        dfx_status st = DFX_OK;
        switch (elt_rows[row].op) {
        case OP_ADD: st = dfx_op_add (ctx, out, a.d, b.d, n); dfx_ref_add (ref, a.h, b.h, n); break;
        case OP_MUL: st = dfx_op_mul (ctx, out, a.d, b.d, n); dfx_ref_mul (ref, a.h, b.h, n); break;
        case OP_AXPY:
            out = a.d; /* y is in place by definition */
            st = dfx_op_axpy (ctx, a.d, alpha, b.d, n);
            dfx_ref_axpy (ref, alpha, b.h, a.h, n);
            break;
        case OP_SCALE: st = dfx_op_scale (ctx, out, alpha, a.d, n); dfx_ref_scale (ref, alpha, a.h, n); break;
        case OP_SILU: st = dfx_op_silu (ctx, out, a.d, n); dfx_ref_silu (ref, a.h, n); break;
        }
        CHECK (st == DFX_OK, "%s n=%zu: %s", elt_rows[row].name, n, dfx_ctx_errmsg (ctx));
        float *got = download (out, n);
        double e = dfx_ref_nmse (got, ref, n);
        CHECK (e <= elt_rows[row].tol, "%s n=%zu%s: nmse %.3g > %.3g", elt_rows[row].name, n,
               in_place ? " in place" : "", e, elt_rows[row].tol);
        free (got);
        free (ref);
        vec_free (&a), vec_free (&b), vec_free (&o);
    }
}

/* ---- reductions ---- */

static void
test_reduce (size_t n)
{
    check_rng r = {0x1234567ull + n};
    vec a = vec_new (&r, n, -1.0f, 1.0f), b = vec_new (&r, n, -1.0f, 1.0f);
    double got = 0.0, abs_sum = 0.0;
    for (size_t i = 0; i < n; i++)
        abs_sum += fabs ((double) a.h[i] * b.h[i]);
    dfx_status st = dfx_op_dot (ctx, a.d, b.d, n, &got);
    double want = dfx_ref_dot (a.h, b.h, n);
    CHECK (st == DFX_OK && fabs (got - want) <= 1e-6 * abs_sum, "dot n=%zu: %.9g vs %.9g (|ab| sum %.3g): %s", n,
           got, want, abs_sum, dfx_ctx_errmsg (ctx));
    st = dfx_op_sumsq (ctx, a.d, n, &got);
    want = dfx_ref_sumsq (a.h, n);
    CHECK (st == DFX_OK && fabs (got - want) <= 1e-6 * want, "sumsq n=%zu: %.9g vs %.9g (rel %.3g): %s", n, got, want,
           fabs (got - want) / want, dfx_ctx_errmsg (ctx));
    vec_free (&a), vec_free (&b);
}

/* ---- GEMM ---- */

/* kern: 'L' the lane-shaped gemm-lvp must run (on lavapipe-like devices),
 * 'R' gemm-rows (there, for m < 8), 'G' the tiled gemm, 0 either. */
static const struct {
    uint32_t m, n, k;
    int ta, tb;
    float alpha, beta;
    char kern;
} gemm_rows[] = {
    {1, 1, 1, 0, 0, 1.0f, 0.0f, 'R'},      {7, 13, 5, 0, 0, 1.0f, 0.0f, 'R'},     {13, 7, 127, 0, 1, 1.0f, 0.0f, 'G'},
    {127, 129, 65, 1, 0, 0.5f, 0.0f, 'G'}, {64, 64, 64, 0, 0, 1.0f, 1.0f, 'L'},   {200, 33, 300, 1, 1, -2.0f, 0.5f, 'L'},
    {1000, 1, 7, 0, 0, 1.0f, 0.0f, 'G'},   {1, 1000, 1000, 0, 1, 1.0f, 0.0f, 'R'}, {257, 255, 129, 0, 0, 1.0f, -1.0f, 'G'},
    /* gemm-lvp in each layout (A along k / along m, B along n / along k), m
     * and n not multiples of its 16 × 4·SG tile; then k % 4 != 0 */
    {37, 44, 20, 0, 0, 1.0f, 0.0f, 'L'},   {36, 52, 24, 1, 0, 0.5f, 0.0f, 'L'},   {21, 13, 40, 0, 1, 1.0f, 1.0f, 'L'},
    {12, 9, 16, 1, 1, -2.0f, 0.5f, 'L'},   {28, 16, 12, 1, 0, 1.0f, 0.0f, 'L'},   {40, 36, 22, 0, 0, 1.0f, 0.0f, 'G'},
};

/* The kernel a lane/generic expectation names, checked against what the op
 * would record. */
static void
check_kernel (const char *got, char kern, const char *lane, const char *generic, const char *what)
{
    const char *want = kern == 'L' && dfx__lane_kernels (ctx) ? lane : kern ? generic : NULL;
    CHECK (!want || strcmp (got, want) == 0, "%s: kernel %s, expected %s%s", what, got, want,
           ctx->kernels_generic ? " (DFX_KERNELS=generic)" : "");
}

static void
test_gemm (void)
{
    check_rng r = {42};
    for (size_t row = 0; row < sizeof gemm_rows / sizeof gemm_rows[0]; row++) {
        if (lane_rows_only && gemm_rows[row].kern != 'L' && gemm_rows[row].kern != 'R')
            continue;
        dfx_gemm_params p;
        dfx_gemm_params_defaults (&p);
        p.m = gemm_rows[row].m, p.n = gemm_rows[row].n, p.k = gemm_rows[row].k;
        p.trans_a = gemm_rows[row].ta, p.trans_b = gemm_rows[row].tb;
        p.alpha = gemm_rows[row].alpha, p.beta = gemm_rows[row].beta;
        size_t nc = (size_t) p.m * p.n;
        vec a = vec_new (&r, (size_t) p.m * p.k, -1, 1), b = vec_new (&r, (size_t) p.k * p.n, -1, 1),
            c = vec_new (&r, nc, -1, 1);
        dfx__gemm_desc d; /* the view dfx_op_gemm builds, to ask which kernel runs */
        dfx__gemm_desc_init (&d);
        d.m = p.m, d.n = p.n, d.k = p.k;
        d.a = (dfx__mat){a.d, 0, p.trans_a ? 1 : p.k, p.trans_a ? p.m : 1, 0, 0};
        d.b = (dfx__mat){b.d, 0, p.trans_b ? 1 : p.n, p.trans_b ? p.k : 1, 0, 0};
        d.c = (dfx__mat){c.d, 0, p.n, 1, 0, 0};
        char what[96];
        snprintf (what, sizeof what, "gemm m=%u n=%u k=%u ta=%d tb=%d", p.m, p.n, p.k, p.trans_a, p.trans_b);
        check_kernel (dfx__gemm_kernel (ctx, &d), gemm_rows[row].kern == 'R' ? 'L' : gemm_rows[row].kern,
                      gemm_rows[row].kern == 'R' ? "gemm-rows" : "gemm-lvp", "gemm", what);
        double *ref = malloc (nc * sizeof (double));
        dfx_ref_gemm (ref, p.m, p.n, p.k, p.trans_a, p.trans_b, p.alpha, a.h, b.h, p.beta, c.h);
        dfx_status st = dfx_op_gemm (ctx, &p, a.d, b.d, c.d);
        CHECK (st == DFX_OK, "%s: %s", what, dfx_ctx_errmsg (ctx));
        float *got = download (c.d, nc);
        double e = dfx_ref_nmse (got, ref, nc);
        CHECK (e <= 1e-11, "%s alpha=%g beta=%g%s: nmse %.3g", what, p.alpha, p.beta,
               ctx->kernels_generic ? " (generic)" : "", e);
        free (got);
        free (ref);
        vec_free (&a), vec_free (&b), vec_free (&c);
    }
}

/* ---- a dependent chain recorded in one batch (barriers) ---- */

static void
test_chain (void)
{
    const size_t n = 100003;
    check_rng r = {7};
    vec x = vec_new (&r, n, -3, 3), t = vec_new (&r, n, 0, 1), u = vec_new (&r, n, 0, 1);
    /* t = 2x; u = t + x; u = silu(u); u += -0.5 t; t = u ⊙ x  (RAW, WAR, WAW) */
    dfx_status st = dfx_op_scale (ctx, t.d, 2.0f, x.d, n);
    st = st ? st : dfx_op_add (ctx, u.d, t.d, x.d, n);
    st = st ? st : dfx_op_silu (ctx, u.d, u.d, n);
    st = st ? st : dfx_op_axpy (ctx, u.d, -0.5f, t.d, n);
    st = st ? st : dfx_op_mul (ctx, t.d, u.d, x.d, n);
    CHECK (st == DFX_OK, "chain: %s", dfx_ctx_errmsg (ctx));
    double *ref = malloc (n * sizeof (double));
    for (size_t i = 0; i < n; i++) {
        double xi = x.h[i], ti = 2 * xi, ui = ti + xi;
        ui = ui / (1 + exp (-ui)) - 0.5 * ti;
        ref[i] = ui * xi;
    }
    float *got = download (t.d, n);
    double e = dfx_ref_nmse (got, ref, n);
    CHECK (e <= 1e-11, "chain of 5 ops in one batch: nmse %.3g", e);
    free (got);
    free (ref);
    vec_free (&x), vec_free (&t), vec_free (&u);
}

/* ---- conv2d ---- */

static const struct {
    uint32_t b, cin, h, w, cout, ks, stride, pad_t, pad_l, pad_b, pad_r;
    int up, bias, temb, res;
    float scale;
    uint32_t in_off, w_off; /* element offsets of input and weights in their buffers */
    char kern;              /* 'L' conv2d-lvp must run (lavapipe-like devices), 'G' conv2d, 0 either */
} conv_rows[] = {
    /* 3×3 same padding, odd sizes */
    {1, 3, 7, 13, 5, 3, 1, 1, 1, 1, 1, 0, 1, 0, 0, 1.0f, 0, 0, 0},
    {2, 13, 9, 11, 7, 3, 1, 1, 1, 1, 1, 0, 1, 1, 1, 0.5f, 0, 0, 0},
    {1, 64, 16, 16, 32, 3, 1, 1, 1, 1, 1, 0, 1, 0, 1, 1.0f, 0, 0, 0},
    /* 1×1 (shortcut), non-square */
    {2, 24, 5, 17, 40, 1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 1.0f, 0, 0, 0},
    /* stride 2, diffusers downsample_padding 0 (pad right/bottom) and 1 */
    {2, 16, 12, 10, 16, 3, 2, 0, 0, 1, 1, 0, 1, 0, 0, 1.0f, 0, 0, 0},
    {1, 8, 13, 7, 8, 3, 2, 1, 1, 1, 1, 0, 1, 0, 0, 1.0f, 0, 0, 0},
    /* nearest ×2 upsample folded in */
    {2, 16, 6, 5, 12, 3, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1.0f, 0, 0, 0},
    /* one pixel, one channel */
    {1, 1, 1, 1, 1, 3, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1.0f, 0, 0, 0},
    /* conv2d-lvp: rows of 4, 8, 16, 32 pixels (whole rows per subgroup),
     * 12, 40 and 64 (neighbours from an extra load), odd heights (its two
     * output rows per lane), cout not a multiple of its 8 channels, cin not
     * a multiple of 4 (scalar weight loads), batch > 1, every epilogue term */
    {1, 64, 16, 16, 32, 3, 1, 1, 1, 1, 1, 0, 1, 0, 1, 1.0f, 0, 0, 'L'},
    {2, 12, 7, 8, 13, 3, 1, 1, 1, 1, 1, 0, 1, 1, 1, 0.5f, 0, 0, 'L'},
    {1, 16, 4, 4, 24, 3, 1, 1, 1, 1, 1, 0, 1, 0, 0, 1.0f, 0, 0, 'L'},
    {3, 8, 5, 32, 9, 3, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1.0f, 0, 0, 'L'},
    {1, 6, 9, 12, 16, 3, 1, 1, 1, 1, 1, 0, 1, 0, 1, 1.0f, 0, 0, 'L'},
    {2, 8, 6, 40, 11, 3, 1, 1, 1, 1, 1, 0, 1, 1, 0, 2.0f, 0, 0, 'L'},
    {1, 4, 3, 64, 8, 3, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1.0f, 0, 0, 'L'},
    /* upsample folded in: 4×8 → 8×16, 5×10 → 10×20 (neighbour loads), 3×2 → 6×4 */
    {2, 16, 4, 8, 12, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0.5f, 0, 0, 'L'},
    {1, 8, 5, 10, 16, 3, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1.0f, 0, 0, 'L'},
    {1, 5, 3, 2, 7, 3, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1.0f, 0, 0, 'L'},
    /* 1×1: cin a multiple of 4 (vec4 weights) or not, cout not a multiple of 16 */
    {2, 24, 5, 16, 40, 1, 1, 0, 0, 0, 0, 0, 1, 0, 1, 1.0f, 0, 0, 'L'},
    {3, 6, 4, 12, 20, 1, 1, 0, 0, 0, 0, 0, 1, 1, 1, 0.5f, 0, 0, 'L'},
    /* offsets: aligned (lane-shaped), unaligned weights (scalar weight
     * loads; output and residual at offsets 4 and 8), unaligned input, and
     * (weight offset 5) output and residual at offsets 3 and 1 (both the
     * tiled kernel: conv2d-lvp stores and loads them as vec4s) */
    {1, 8, 8, 8, 8, 3, 1, 1, 1, 1, 1, 0, 1, 0, 0, 1.0f, 12, 8, 'L'},
    {1, 8, 8, 8, 8, 3, 1, 1, 1, 1, 1, 0, 1, 0, 1, 1.0f, 4, 3, 'L'},
    {1, 8, 8, 8, 8, 3, 1, 1, 1, 1, 1, 0, 1, 0, 0, 1.0f, 2, 0, 'G'},
    {1, 8, 8, 8, 8, 3, 1, 1, 1, 1, 1, 0, 1, 0, 1, 1.0f, 4, 5, 'G'},
    /* stride 2 (downsampling), padding 1 or 0 (right and bottom): rows of 4,
     * 8, 40 and 48 pixels, odd heights */
    {1, 8, 8, 8, 8, 3, 2, 1, 1, 1, 1, 0, 1, 0, 0, 1.0f, 0, 0, 'L'},
    {2, 12, 16, 16, 10, 3, 2, 0, 0, 1, 1, 0, 1, 1, 1, 0.5f, 0, 0, 'L'},
    {1, 8, 13, 16, 8, 3, 2, 1, 1, 1, 1, 0, 1, 0, 0, 1.0f, 0, 0, 'L'},
    {1, 4, 9, 80, 8, 3, 2, 1, 1, 1, 1, 0, 0, 0, 1, 1.0f, 0, 0, 'L'},
    {1, 5, 6, 96, 9, 3, 2, 0, 0, 1, 1, 0, 1, 0, 0, 1.0f, 4, 0, 'L'},
    /* not for conv2d-lvp: width not a multiple of 4, valid padding */
    {1, 8, 8, 10, 8, 3, 1, 1, 1, 1, 1, 0, 1, 0, 0, 1.0f, 0, 0, 'G'},
    {1, 8, 8, 10, 8, 3, 1, 0, 0, 0, 0, 0, 1, 0, 0, 1.0f, 0, 0, 'G'},
};

static void
test_conv2d (void)
{
    check_rng r = {1234};
    for (size_t row = 0; row < sizeof conv_rows / sizeof conv_rows[0]; row++) {
        __typeof__ (conv_rows[0]) c = conv_rows[row];
        if (lane_rows_only && c.kern != 'L')
            continue;
        uint32_t he = c.up ? 2 * c.h : c.h, we = c.up ? 2 * c.w : c.w;
        uint32_t oh = dfx__conv2d_out_size (he, c.ks, c.stride, c.pad_t, c.pad_b);
        uint32_t ow = dfx__conv2d_out_size (we, c.ks, c.stride, c.pad_l, c.pad_r);
        size_t nin = (size_t) c.b * c.cin * c.h * c.w, nout = (size_t) c.b * c.cout * oh * ow;
        size_t nw = (size_t) c.cout * c.cin * c.ks * c.ks;
        const uint32_t tstride = c.cout + 3;
        /* output, residual offsets */
        const uint32_t oo = c.w_off == 3 ? 4 : c.w_off == 5 ? 3 : 0, ro = c.w_off == 3 ? 8 : c.w_off == 5 ? 1 : 0;
        vec in = vec_new (&r, c.in_off + nin, -1, 1), wt = vec_new (&r, c.w_off + nw, -0.5f, 0.5f),
            bias = vec_new (&r, c.cout, -1, 1), temb = vec_new (&r, (size_t) c.b * tstride, -1, 1),
            res = vec_new (&r, ro + nout, -1, 1), out = vec_new (&r, oo + nout, 0, 0);
        dfx__conv2d_desc d = {
            .batch = c.b, .cin = c.cin, .h = c.h, .w = c.w, .cout = c.cout, .ks = c.ks, .stride = c.stride,
            .pad_t = c.pad_t, .pad_l = c.pad_l, .up = (uint32_t) c.up, .oh = oh, .ow = ow,
            .in = in.d, .weight = wt.d, .bias = c.bias ? bias.d : NULL, .temb = c.temb ? temb.d : NULL,
            .res = c.res ? res.d : NULL, .out = out.d, .temb_stride = tstride, .out_scale = c.scale,
            .in_off = c.in_off, .w_off = c.w_off, .out_off = oo, .res_off = ro,
        };
        char what[160];
        snprintf (what, sizeof what, "conv2d row %zu (b%u, %u→%u ch, %ux%u → %ux%u, k%u s%u up%d, offsets %u/%u)%s", row,
                  c.b, c.cin, c.cout, c.h, c.w, oh, ow, c.ks, c.stride, c.up, c.in_off, c.w_off,
                  ctx->kernels_generic ? " generic" : "");
        check_kernel (dfx__conv2d_kernel (ctx, &d), c.kern, "conv2d-lvp", "conv2d", what);
        dfx_status st = dfx__conv2d (ctx, &d);
        CHECK (st == DFX_OK, "%s: %s", what, dfx_ctx_errmsg (ctx));
        double *ref = malloc (nout * sizeof (double));
        dfx_ref_conv2d (ref, in.h + c.in_off, c.b, c.cin, c.h, c.w, c.up, wt.h + c.w_off, c.cout, c.ks, c.stride,
                        c.pad_t, c.pad_l, oh, ow, c.bias ? bias.h : NULL, c.temb ? temb.h : NULL, tstride,
                        c.res ? res.h + ro : NULL, c.scale);
        float *got = download (out.d, oo + nout);
        double e = dfx_ref_nmse (got + oo, ref, nout);
        CHECK (e <= 1e-11, "%s: nmse %.3g", what, e);
        free (got), free (ref);
        vec_free (&in), vec_free (&wt), vec_free (&bias), vec_free (&temb), vec_free (&res), vec_free (&out);
    }
}

/* ---- groupnorm ---- */

static void
test_groupnorm (void)
{
    static const struct {
        uint32_t b, c, hw, groups;
        int affine, ss, silu;
    } rows[] = {
        {1, 32, 1, 32, 1, 0, 0}, {2, 64, 49, 32, 1, 0, 1}, {3, 12, 127, 4, 1, 1, 1},
        {1, 256, 256, 32, 1, 1, 0}, {2, 8, 13, 1, 0, 0, 0},
        /* pixels a multiple of 4 (groupnorm-lvp's vec4 passes), the shipped models' 8 groups */
        {2, 24, 64, 8, 1, 0, 1}, {1, 48, 1024, 8, 1, 1, 1}, {1, 12, 4, 3, 0, 1, 0},
    };
    check_rng r = {99};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        __typeof__ (rows[0]) g = rows[i];
        size_t n = (size_t) g.b * g.c * g.hw;
        const uint32_t ss_stride = 2 * g.c + 1;
        vec in = vec_new (&r, n, 2, 5), prm = vec_new (&r, 2 * (size_t) g.c, -1, 1),
            ss = vec_new (&r, (size_t) g.b * ss_stride, -0.5f, 0.5f), out = vec_new (&r, n, 0, 0);
        dfx__groupnorm_desc d = {
            .batch = g.b, .c = g.c, .hw = g.hw, .groups = g.groups, .eps = 1e-6f, .silu = g.silu,
            .in = in.d, .out = out.d, .params = g.affine ? prm.d : NULL, .gamma_off = 0, .beta_off = g.c,
            .ss = g.ss ? ss.d : NULL, .ss_stride = ss_stride,
        };
        dfx_status st = dfx__groupnorm (ctx, &d);
        CHECK (st == DFX_OK, "groupnorm row %zu: %s", i, dfx_ctx_errmsg (ctx));
        double *ref = malloc (n * sizeof (double));
        dfx_ref_groupnorm (ref, in.h, g.b, g.c, g.hw, g.groups, 1e-6, g.affine ? prm.h : NULL,
                           g.affine ? prm.h + g.c : NULL, g.ss ? ss.h : NULL, ss_stride, g.silu);
        float *got = download (out.d, n);
        double e = dfx_ref_nmse (got, ref, n);
        CHECK (e <= 1e-11, "groupnorm row %zu (b%u c%u hw%u g%u): nmse %.3g", i, g.b, g.c, g.hw, g.groups, e);
        free (got), free (ref);
        vec_free (&in), vec_free (&prm), vec_free (&ss), vec_free (&out);
    }
}

/* ---- neighbourhood attention ---- */

static void
test_attn_window (void)
{
    check_rng r = {23};
    /* batch, c, dh, h, w, wh, ww: a window inside the canvas, one larger than it (global), odd sizes;
     * the U-Net's heads of 32 with an 8×8 window on canvases whose rows are not a multiple of 8;
     * from the 6th row on the offsets are multiples of 4 (attn-window-lvp's vec4 loads where w is too) */
    const uint32_t shapes[][7] = {{2, 6, 3, 13, 7, 5, 4},    {1, 4, 4, 8, 8, 8, 8},    {1, 8, 2, 3, 11, 4, 16},
                                  {1, 3, 3, 17, 5, 16, 16},  {1, 64, 32, 11, 21, 8, 8}, {2, 32, 32, 9, 8, 8, 8},
                                  {1, 6, 3, 6, 19, 3, 11},   {1, 64, 32, 12, 24, 8, 8}, {1, 16, 8, 5, 12, 3, 5},
                                  {1, 32, 32, 4, 20, 16, 16}};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const uint32_t *sh = shapes[i];
        const size_t n = (size_t) sh[0] * sh[1] * sh[3] * sh[4];
        const uint32_t al = i >= 5, qo = al ? 4 : 3, ko = al ? 8 : 1, vo = al ? 4 : 0, oo = al ? 12 : 2;
        vec q = vec_new (&r, n + qo, -2, 2), k = vec_new (&r, n + ko, -2, 2), v = vec_new (&r, n + vo, -1, 1),
            o = vec_new (&r, n + oo, 0, 0);
        const double scale = 1.0 / sqrt ((double) sh[2]);
        dfx__attn_window_desc d = {sh[0], sh[1], sh[3], sh[4], sh[2], sh[5], sh[6], (float) scale,
                                   q.d, k.d, v.d, o.d, qo, ko, vo, oo};
        dfx_status st = dfx__attn_window (ctx, &d);
        CHECK (st == DFX_OK, "attn-window: %s", dfx_ctx_errmsg (ctx));
        double *ref = malloc (n * sizeof (double));
        dfx_ref_attn_window (ref, q.h + qo, k.h + ko, v.h + vo, sh[0], sh[1], sh[3], sh[4], sh[2], sh[5], sh[6],
                             scale);
        float *got = download (o.d, n + oo);
        double e = dfx_ref_nmse (got + oo, ref, n);
        CHECK (e <= 1e-11, "attn-window b%u c%u dh%u %ux%u window %ux%u: nmse %.3g", sh[0], sh[1], sh[2], sh[3], sh[4],
               sh[5], sh[6], e);
        free (got), free (ref);
        vec_free (&q), vec_free (&k), vec_free (&v), vec_free (&o);
    }
    vec a = vec_new (&r, 64, 0, 1);
    dfx__attn_window_desc bad = {1, 4, 4, 4, 3, 2, 2, 1.0f, a.d, a.d, a.d, a.d, 0, 0, 0, 0};
    CHECK (dfx__attn_window (ctx, &bad) == DFX_ERR_INVALID_ARGUMENT && strstr (dfx_ctx_errmsg (ctx), "attn-window"),
           "attn-window: 3 channels in heads of 2 refused: %s", dfx_ctx_errmsg (ctx));
    vec_free (&a);
}

/* ---- softmax and channel copy ---- */

static void
test_softmax_copy (void)
{
    check_rng r = {5};
    const uint32_t shapes[][2] = {{1, 1}, {7, 13}, {256, 256}, {3, 1000}};
    for (size_t i = 0; i < 4; i++) {
        uint32_t rows = shapes[i][0], cols = shapes[i][1];
        size_t n = (size_t) rows * cols;
        vec x = vec_new (&r, n + 5, -8, 8);
        dfx_status st = dfx__softmax (ctx, x.d, 5, rows, cols, 0.37f);
        CHECK (st == DFX_OK, "softmax: %s", dfx_ctx_errmsg (ctx));
        double *ref = malloc (n * sizeof (double));
        dfx_ref_softmax (ref, x.h + 5, rows, cols, 0.37);
        float *got = download (x.d, n + 5);
        double e = dfx_ref_nmse (got + 5, ref, n);
        CHECK (e <= 1e-11 && got[0] == x.h[0], "softmax %ux%u: nmse %.3g", rows, cols, e);
        free (got), free (ref);
        vec_free (&x);
    }
    /* cat([a (b,3,hw), c (b,5,hw)]) along channels; hw = 36 copies vec4s */
    for (uint32_t hw = 36; hw <= 37; hw++) {
        const uint32_t b = 2, ca = 3, cc = 5;
        vec a = vec_new (&r, (size_t) b * ca * hw, -1, 1), c = vec_new (&r, (size_t) b * cc * hw, -1, 1),
            dst = vec_new (&r, (size_t) b * (ca + cc) * hw, 0, 0);
        dfx_status st = dfx__copy_channels (ctx, dst.d, 0, ca + cc, 0, a.d, 0, ca, b, hw);
        st = st ? st : dfx__copy_channels (ctx, dst.d, 0, ca + cc, ca, c.d, 0, cc, b, hw);
        CHECK (st == DFX_OK, "copy-channels: %s", dfx_ctx_errmsg (ctx));
        float *got = download (dst.d, (size_t) b * (ca + cc) * hw);
        int bad = 0;
        for (uint32_t n = 0; n < b; n++)
            for (uint32_t ch = 0; ch < ca + cc; ch++)
                for (uint32_t p = 0; p < hw; p++) {
                    float want = ch < ca ? a.h[(n * ca + ch) * hw + p] : c.h[(n * cc + ch - ca) * hw + p];
                    bad += got[(n * (ca + cc) + ch) * hw + p] != want;
                }
        CHECK (bad == 0, "copy-channels hw %u: %d elements differ", hw, bad);
        free (got);
        vec_free (&a), vec_free (&c), vec_free (&dst);
    }
}

/* ---- strided batched GEMM with bias and residual (attention layouts) ---- */

static void
test_gemm_batched (void)
{
    /* S_{b,h} = Q_hᵀ K_h for Q, K stored (C × HW) per batch, heads of width dh:
     * A(i=p, kk=c) = Q[b][(h·dh + c)·HW + p], B(kk=c, j=p') = K[b][(h·dh + c)·HW + p']. */
    const uint32_t B = 2, heads = 3, dh = 5, C = heads * dh, HW = 19;
    check_rng r = {77};
    vec q = vec_new (&r, (size_t) B * C * HW, -1, 1), k = vec_new (&r, (size_t) B * C * HW, -1, 1),
        s = vec_new (&r, (size_t) B * heads * HW * HW, 0, 0), bias = vec_new (&r, HW, -1, 1),
        res = vec_new (&r, (size_t) B * heads * HW * HW, -1, 1);
    dfx__gemm_desc d;
    dfx__gemm_desc_init (&d);
    d.m = HW, d.n = HW, d.k = dh, d.batch_outer = B, d.batch_inner = heads;
    d.a = (dfx__mat){q.d, 0, 1, HW, C * HW, dh * HW};
    d.b = (dfx__mat){k.d, 0, HW, 1, C * HW, dh * HW};
    d.c = (dfx__mat){s.d, 0, HW, 1, heads * HW * HW, HW * HW};
    d.bias = bias.d, d.bias_mode = DFX__BIAS_COL, d.res = res.d, d.alpha = 0.25f, d.out_scale = 2.0f;
    dfx_status st = dfx__gemm (ctx, &d);
    CHECK (st == DFX_OK, "batched gemm: %s", dfx_ctx_errmsg (ctx));
    size_t n = (size_t) B * heads * HW * HW;
    double *ref = malloc (n * sizeof (double));
    for (uint32_t bb = 0; bb < B; bb++)
        for (uint32_t h = 0; h < heads; h++)
            for (uint32_t i = 0; i < HW; i++)
                for (uint32_t j = 0; j < HW; j++) {
                    double acc = 0;
                    for (uint32_t c = 0; c < dh; c++)
                        acc += (double) q.h[(size_t) bb * C * HW + (h * dh + c) * HW + i] *
                               k.h[(size_t) bb * C * HW + (h * dh + c) * HW + j];
                    size_t o = ((size_t) (bb * heads + h) * HW + i) * HW + j;
                    ref[o] = 2.0 * (0.25 * acc + bias.h[j] + res.h[o]);
                }
    float *got = download (s.d, n);
    double e = dfx_ref_nmse (got, ref, n);
    CHECK (e <= 1e-11, "batched strided gemm (attention scores): nmse %.3g", e);
    free (got), free (ref);
    vec_free (&q), vec_free (&k), vec_free (&s), vec_free (&bias), vec_free (&res);
}

/* ---- sampling ops: lincomb with offsets, the spectral passes ---- */

static void
test_sample_ops (void)
{
    check_rng r = {2024};
    /* lincomb: out, x, y at different offsets of buffers of odd sizes; in place too. */
    static const struct {
        size_t n, oo, ox, oy;
        int has_y, in_place;
    } rows[] = {{1, 0, 0, 0, 1, 0}, {13, 3, 0, 7, 1, 0}, {127, 0, 5, 0, 0, 0}, {100003, 11, 0, 1, 1, 0},
                {1000, 0, 0, 17, 1, 1}};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        size_t n = rows[i].n, size = n + 20;
        vec o = vec_new (&r, size, -1, 1), x = vec_new (&r, size, -3, 3), y = vec_new (&r, size, -3, 3);
        dfx_buffer *out = rows[i].in_place ? x.d : o.d;
        size_t oo = rows[i].in_place ? rows[i].ox : rows[i].oo;
        dfx_status st = dfx__lincomb (ctx, out, oo, 0.75f, x.d, rows[i].ox, -1.5f, rows[i].has_y ? y.d : NULL,
                                      rows[i].oy, 0.25f, n);
        CHECK (st == DFX_OK, "lincomb row %zu: %s", i, dfx_ctx_errmsg (ctx));
        double *ref = malloc (n * sizeof (double));
        dfx_ref_lincomb (ref, 0.75, x.h + rows[i].ox, -1.5, rows[i].has_y ? y.h + rows[i].oy : NULL, 0.25, n);
        float *got = download (out, size);
        double e = dfx_ref_nmse (got + oo, ref, n);
        int outside = 0; /* elements outside [oo, oo + n) keep their values */
        const float *before = rows[i].in_place ? x.h : o.h;
        for (size_t k = 0; k < size; k++)
            outside += (k < oo || k >= oo + n) && got[k] != before[k];
        CHECK (e <= 1e-13 && outside == 0, "lincomb n=%zu offsets %zu/%zu/%zu%s: nmse %.3g, %d outside changed", n,
               oo, rows[i].ox, rows[i].oy, rows[i].in_place ? " in place" : "", e, outside);
        free (got), free (ref);
        vec_free (&o), vec_free (&x), vec_free (&y);
    }
    /* lincomb refuses ranges outside the buffers. */
    vec small = vec_new (&r, 10, 0, 1);
    CHECK (dfx__lincomb (ctx, small.d, 5, 1.0f, small.d, 0, 0.0f, NULL, 0, 0.0f, 6) == DFX_ERR_INVALID_ARGUMENT,
           "lincomb out of range refused");
    vec_free (&small);

    /* spectral pack / mix / unpack on (batch, channels, np) shapes incl. odd ones. */
    static const uint32_t shapes[][3] = {{1, 1, 1}, {2, 3, 35}, {3, 2, 129}, {1, 4, 1000}};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        uint32_t b = shapes[i][0], c = shapes[i][1], np = shapes[i][2];
        size_t nt = (size_t) b * c * np;
        vec x = vec_new (&r, nt, -2, 2), m = vec_new (&r, c, -1, 1), z = vec_new (&r, 2 * nt, -1, 1),
            a = vec_new (&r, 2 * (size_t) np * c * c, -1, 1), xo = vec_new (&r, nt, 0, 0);
        double *ref = malloc (2 * nt * sizeof (double));
        dfx_status st = dfx__spectral_pack (ctx, z.d, x.d, m.d, b, c, np, 1.25f, -0.5f);
        CHECK (st == DFX_OK, "spectral-pack: %s", dfx_ctx_errmsg (ctx));
        dfx_ref_spectral_pack (ref, x.h, m.h, b, c, np, 1.25, -0.5);
        float *got = download (z.d, 2 * nt);
        double e = dfx_ref_nmse (got, ref, 2 * nt);
        CHECK (e <= 1e-13, "spectral-pack %u×%u×%u: nmse %.3g", b, c, np, e);
        free (got);
        /* mix on the original random complex z (uploaded again), in place */
        dfx_buffer_upload (ctx, z.d, 0, z.h, 2 * nt * sizeof (float));
        st = dfx__spectral_mix (ctx, z.d, a.d, b, c, np);
        CHECK (st == DFX_OK, "spectral-mix: %s", dfx_ctx_errmsg (ctx));
        dfx_ref_spectral_mix (ref, z.h, a.h, b, c, np);
        got = download (z.d, 2 * nt);
        e = dfx_ref_nmse (got, ref, 2 * nt);
        CHECK (e <= 1e-12, "spectral-mix %u×%u×%u: nmse %.3g", b, c, np, e);
        /* unpack what mix left */
        st = dfx__spectral_unpack (ctx, xo.d, z.d, m.d, b, c, np, 0.5f, 2.0f);
        CHECK (st == DFX_OK, "spectral-unpack: %s", dfx_ctx_errmsg (ctx));
        dfx_ref_spectral_unpack (ref, got, m.h, b, c, np, 0.5, 2.0);
        free (got);
        got = download (xo.d, nt);
        e = dfx_ref_nmse (got, ref, nt);
        CHECK (e <= 1e-13, "spectral-unpack %u×%u×%u: nmse %.3g", b, c, np, e);
        free (got), free (ref);
        vec_free (&x), vec_free (&m), vec_free (&z), vec_free (&a), vec_free (&xo);
    }
}

/* ---- the U-Net's GEMM views (attention and projections), both kernels ---- */

/* C = out_scale·(alpha·A·B + bias + beta·C + R) on host arrays addressed by
 * the views' strides, in double. */
static void
ref_gemm_views (double *cref, const dfx__gemm_desc *d, const float *a, const float *b, const float *c,
                const float *bias, const float *res)
{
    uint32_t bo = d->batch_outer, bi = d->batch_inner;
    for (uint32_t zo = 0; zo < bo; zo++)
        for (uint32_t zi = 0; zi < bi; zi++)
            for (uint32_t i = 0; i < d->m; i++)
                for (uint32_t j = 0; j < d->n; j++) {
                    double acc = 0;
                    for (uint32_t k = 0; k < d->k; k++)
                        acc += (double) a[d->a.off + zo * d->a.outer + zi * d->a.inner + i * d->a.row + k * d->a.col] *
                               b[d->b.off + zo * d->b.outer + zi * d->b.inner + k * d->b.row + j * d->b.col];
                    size_t o = d->c.off + (size_t) zo * d->c.outer + (size_t) zi * d->c.inner + (size_t) i * d->c.row +
                               (size_t) j * d->c.col;
                    double v = d->alpha * acc + d->beta * c[o];
                    if (d->bias_mode == DFX__BIAS_ROW)
                        v += bias[d->bias_off + i];
                    else if (d->bias_mode == DFX__BIAS_COL)
                        v += bias[d->bias_off + j];
                    if (d->res)
                        v += res[o - d->c.off + d->res_off];
                    cref[o] = d->out_scale * v;
                }
}

static void
test_gemm_views (void)
{
    /* kind 0: projection Y = W·X (+bias per row, +residual) per batch, C × HW;
     * 1: scores S = Qᵀ·K per (batch, head), A along m; 2: O = V·Pᵀ, B along k.
     * off: offset of every operand in its buffer; kern as in gemm_rows. */
    static const struct {
        int kind;
        uint32_t batch, heads, dh, hw, off;
        char kern;
    } rows[] = {
        {0, 2, 1, 24, 20, 0, 'L'}, {0, 1, 1, 12, 18, 0, 'G'}, {0, 2, 1, 16, 16, 4, 'L'}, {0, 1, 1, 16, 16, 1, 'G'},
        {1, 2, 2, 8, 16, 0, 'L'},  {1, 1, 3, 5, 19, 0, 'G'},  {1, 2, 1, 16, 36, 8, 'L'},  {1, 1, 1, 12, 20, 4, 'L'},
        {2, 2, 2, 8, 16, 0, 'L'},  {2, 1, 2, 6, 13, 0, 'R'},  {2, 1, 1, 12, 20, 4, 'L'},
    };
    check_rng r = {2024};
    for (size_t row = 0; row < sizeof rows / sizeof rows[0]; row++) {
        __typeof__ (rows[0]) v = rows[row];
        if (lane_rows_only && v.kern != 'L' && v.kern != 'R')
            continue;
        uint32_t C = v.heads * v.dh, HW = v.hw, B = v.batch, off = v.off;
        size_t nx = (size_t) B * C * HW + off, ns = (size_t) B * v.heads * HW * HW + off, nw = (size_t) C * C + off;
        vec w = vec_new (&r, nw, -1, 1), x = vec_new (&r, nx, -1, 1), y = vec_new (&r, nx, -1, 1),
            s = vec_new (&r, ns, -1, 1), bias = vec_new (&r, C > HW ? C : HW, -1, 1), res = vec_new (&r, ns + nx, -1, 1);
        dfx__gemm_desc d;
        dfx__gemm_desc_init (&d);
        vec *cv = &y;
        size_t nc = nx;
        if (v.kind == 0) {
            d.m = C, d.n = HW, d.k = C, d.batch_outer = B;
            d.a = (dfx__mat){w.d, off, C, 1, 0, 0};
            d.b = (dfx__mat){x.d, off, HW, 1, C * HW, 0};
            d.c = (dfx__mat){y.d, off, HW, 1, C * HW, 0};
            d.bias = bias.d, d.bias_mode = DFX__BIAS_ROW, d.res = res.d, d.res_off = 3, d.out_scale = 0.5f;
        } else if (v.kind == 1) {
            d.m = HW, d.n = HW, d.k = v.dh, d.batch_outer = B, d.batch_inner = v.heads;
            d.a = (dfx__mat){x.d, off, 1, HW, C * HW, v.dh * HW};
            d.b = (dfx__mat){y.d, off, HW, 1, C * HW, v.dh * HW};
            d.c = (dfx__mat){s.d, off, HW, 1, v.heads * HW * HW, HW * HW};
            d.bias = bias.d, d.bias_mode = DFX__BIAS_COL, d.alpha = 0.25f;
            cv = &s, nc = ns;
        } else {
            d.m = v.dh, d.n = HW, d.k = HW, d.batch_outer = B, d.batch_inner = v.heads;
            d.a = (dfx__mat){x.d, off, HW, 1, C * HW, v.dh * HW};
            d.b = (dfx__mat){s.d, off, 1, HW, v.heads * HW * HW, HW * HW};
            d.c = (dfx__mat){y.d, off, HW, 1, C * HW, v.dh * HW};
            d.beta = 1.0f, d.res = res.d, d.res_off = 5;
        }
        const float *ha = v.kind == 0 ? w.h : x.h, *hb = v.kind == 0 ? x.h : v.kind == 1 ? y.h : s.h;
        double *ref = malloc (nc * sizeof (double));
        for (size_t i = 0; i < nc; i++)
            ref[i] = cv->h[i]; /* elements outside the views stay */
        ref_gemm_views (ref, &d, ha, hb, cv->h, bias.h, res.h);
        char what[128];
        snprintf (what, sizeof what, "gemm view %zu (kind %d, batch %u, heads %u × %u, hw %u, offset %u)%s", row,
                  v.kind, B, v.heads, v.dh, HW, off, ctx->kernels_generic ? " generic" : "");
        check_kernel (dfx__gemm_kernel (ctx, &d), v.kern == 'R' ? 'L' : v.kern, v.kern == 'R' ? "gemm-rows" : "gemm-lvp",
                      "gemm", what);
        dfx_status st = dfx__gemm (ctx, &d);
        CHECK (st == DFX_OK, "%s: %s", what, dfx_ctx_errmsg (ctx));
        float *got = download (cv->d, nc);
        double e = dfx_ref_nmse (got, ref, nc);
        CHECK (e <= 1e-11, "%s: nmse %.3g", what, e);
        free (got), free (ref);
        vec_free (&w), vec_free (&x), vec_free (&y), vec_free (&s), vec_free (&bias), vec_free (&res);
    }
}

/* ---- DF-TM divergence integrand ---- */

static void
test_dftm_div (void)
{
    check_rng r = {2718};
    const size_t sizes[] = {1, 13, 1000003};
    /* clamped as for a second-moment head, and unclamped (±∞) as for a variance-ratio head */
    const double lo[] = {0.0, -INFINITY, -0.05}, hi[] = {1.0, INFINITY, 0.3};
    for (size_t k = 0; k < 3; k++) {
        size_t n = sizes[k];
        vec x0 = vec_new (&r, n + 3, -1, 1), m = vec_new (&r, n + 5, 0, 1.2f), out = vec_new (&r, n + 7, 0, 0);
        dfx_status st = dfx__dftm_div (ctx, out.d, 7, x0.d, 3, m.d, 5, 0.37, lo[k], hi[k], n);
        CHECK (st == DFX_OK, "dftm-div: %s", dfx_ctx_errmsg (ctx));
        double *ref = malloc (n * sizeof (double));
        dfx_ref_dftm_div (ref, x0.h + 3, m.h + 5, 0.37, lo[k], hi[k], n);
        float *got = download (out.d, n + 7);
        double e = dfx_ref_nmse (got + 7, ref, n);
        CHECK (e <= 1e-10, "dftm-div n=%zu clamp [%g, %g]: nmse %.3g", n, lo[k], hi[k], e);
        free (got), free (ref);
        vec_free (&x0), vec_free (&m), vec_free (&out);
    }
    vec a = vec_new (&r, 4, 0, 1), o = vec_new (&r, 4, 0, 0);
    CHECK (dfx__dftm_div (ctx, o.d, 0, a.d, 0, a.d, 0, 1.0, 0.1, 1.0, 4) == DFX_ERR_INVALID_ARGUMENT,
           "dftm-div: a lower clamp above 0 accepted");
    vec_free (&a), vec_free (&o);
}

/* ---- variance-ratio head to second moment ---- */

static void
test_ratio_moment (void)
{
    check_rng r = {5772};
    const size_t sizes[] = {1, 13, 1000003};
    const double sigmas[] = {0.01, 0.37, 80.0};
    for (size_t k = 0; k < 3; k++) {
        size_t n = sizes[k];
        vec x0 = vec_new (&r, n + 3, -1, 1), m = vec_new (&r, n + 5, -0.1f, 1.1f);
        double *ref = malloc (n * sizeof (double));
        dfx_ref_ratio_moment (ref, m.h + 5, x0.h + 3, sigmas[k], n);
        dfx_status st = dfx__ratio_moment (ctx, m.d, 5, x0.d, 3, sigmas[k], n);
        CHECK (st == DFX_OK, "ratio-moment: %s", dfx_ctx_errmsg (ctx));
        float *got = download (m.d, n + 5);
        double e = dfx_ref_nmse (got + 5, ref, n);
        CHECK (e <= 1e-12, "ratio-moment n=%zu σ̃=%g: nmse %.3g", n, sigmas[k], e);
        /* the elements before the range are untouched */
        for (size_t i = 0; i < 5; i++)
            CHECK (got[i] == m.h[i], "ratio-moment wrote element %zu before its range", i);
        /* at σ̃ = 0.01 the ratio survives the rounding of m: recovered to 1e-3 per element */
        if (sigmas[k] < 0.1) {
            double worst = 0.0;
            for (size_t i = 0; i < n; i++) {
                double back = ((double) got[5 + i] - (double) x0.h[3 + i] * x0.h[3 + i]) / (sigmas[k] * sigmas[k]);
                worst = fmax (worst, fabs (back - m.h[5 + i]));
            }
            CHECK (worst <= 1e-3, "ratio-moment σ̃=%g: ratio back from m off by %.3g", sigmas[k], worst);
        }
        CHECK (dfx__ratio_moment (ctx, m.d, 5, x0.d, 3, 0.0, n) == DFX_ERR_INVALID_ARGUMENT, "σ̃ = 0 accepted");
        CHECK (dfx__ratio_moment (ctx, m.d, 6, x0.d, 3, 1.0, n) == DFX_ERR_INVALID_ARGUMENT, "range past m accepted");
        free (got), free (ref);
        vec_free (&x0), vec_free (&m);
    }
}

/* ---- Adam (the guided edit's optimiser) ---- */

static void
test_adam (void)
{
    check_rng r = {1618};
    const size_t sizes[] = {1, 13, 127, 100003};
    for (size_t k = 0; k < 4; k++) {
        size_t n = sizes[k];
        vec z = vec_new (&r, n, -2, 2), m = vec_new (&r, n, 0, 0), v = vec_new (&r, n, 0, 0);
        double *zr = malloc (n * sizeof (double)), *mr = calloc (n, sizeof (double)), *vr = calloc (n, sizeof (double));
        for (size_t i = 0; i < n; i++)
            zr[i] = z.h[i];
        /* three steps with fresh gradients: the moments carry over */
        for (unsigned t = 1; t <= 3; t++) {
            vec g = vec_new (&r, n, -1, 1);
            dfx_status st = dfx__adam (ctx, z.d, g.d, m.d, v.d, n, 0.05, 0.9, 0.999, 1e-8, t);
            CHECK (st == DFX_OK, "adam: %s", dfx_ctx_errmsg (ctx));
            dfx_ref_adam (zr, g.h, mr, vr, n, 0.05, 0.9, 0.999, 1e-8, t);
            vec_free (&g);
        }
        float *got = download (z.d, n), *gm = download (m.d, n), *gv = download (v.d, n);
        double e = dfx_ref_nmse (got, zr, n), em = dfx_ref_nmse (gm, mr, n), ev = dfx_ref_nmse (gv, vr, n);
        CHECK (e <= 1e-11 && em <= 1e-11 && ev <= 1e-11, "adam n=%zu: nmse z %.3g m %.3g v %.3g", n, e, em, ev);
        free (got), free (gm), free (gv), free (zr), free (mr), free (vr);
        vec_free (&z), vec_free (&m), vec_free (&v);
    }
    vec a = vec_new (&r, 4, 0, 1);
    CHECK (dfx__adam (ctx, a.d, a.d, a.d, a.d, 4, 0.1, 0.9, 0.999, 1e-8, 0) == DFX_ERR_INVALID_ARGUMENT,
           "adam step 0 refused");
    vec_free (&a);
}

/* ---- stochastic sampler step ---- */

static void
test_ocm_step (void)
{
    check_rng r = {1414};
    static const struct {
        size_t n;
        double a, b, v0, k, cmax, vmax;
    } rows[] = {{1, 0.3, 0.7, 0.01, 0.49, 1.0, INFINITY},     /* OCM-DDPM */
                {13, 0.25, 0.75, 0.0, 0.0, 1.0, INFINITY},    /* fixed variance, no m */
                {127, 0.6, 0.4, 0.0, 0.36, 0.5, INFINITY},    /* OCM-DDIM (η = 0), C clamped to 0.5 */
                {100003, 1.0, 0.0, 0.0, 1.0, 1.0, 0.04}};    /* last step, variance clipped */
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        size_t n = rows[i].n;
        vec x = vec_new (&r, n, -3, 3), x0 = vec_new (&r, n, -1, 1), m = vec_new (&r, n, 0, 1.2f),
            z = vec_new (&r, n, -3, 3);
        dfx__ocm_coef c = {rows[i].a, rows[i].b, rows[i].v0, rows[i].k, rows[i].cmax, rows[i].vmax};
        dfx_status st = dfx__ocm_step (ctx, x.d, x0.d, rows[i].k > 0 ? m.d : NULL, z.d, &c, n);
        CHECK (st == DFX_OK, "ocm-step row %zu: %s", i, dfx_ctx_errmsg (ctx));
        double *ref = malloc (n * sizeof (double));
        dfx_ref_ocm_step (ref, x.h, x0.h, m.h, z.h, c.a, c.b, c.v0, c.k, c.cmax, c.vmax, n);
        float *got = download (x.d, n);
        double e = dfx_ref_nmse (got, ref, n);
        CHECK (e <= 1e-12, "ocm-step n=%zu (row %zu): nmse %.3g", n, i, e);
        free (got), free (ref);
        vec_free (&x), vec_free (&x0), vec_free (&m), vec_free (&z);
    }
    vec small = vec_new (&r, 10, 0, 1);
    dfx__ocm_coef c = {1, 0, 0, 1, 1, INFINITY};
    CHECK (dfx__ocm_step (ctx, small.d, small.d, NULL, small.d, &c, 10) == DFX_ERR_INVALID_ARGUMENT,
           "ocm-step with k > 0 and no second moment refused");
    c.k = 0;
    CHECK (dfx__ocm_step (ctx, small.d, small.d, NULL, small.d, &c, 11) == DFX_ERR_INVALID_ARGUMENT,
           "ocm-step past the buffers refused");
    vec_free (&small);
}

/* --lanes N: only the rows of the kernels that have a lane-shaped variant
 * (GEMM and convolution: the rows marked for it; softmax and channel copy,
 * GroupNorm, attention), and on a CPU device its subgroups must have N
 * lanes: meson's ops-lanes16 runs this under LP_NATIVE_VECTOR_WIDTH=512,
 * lavapipe's 16-lane subgroups (its default is 8, which the full run
 * covers).  Other devices run the rows on their own kernels. */
static void
test_lanes (uint32_t lanes)
{
    if (ctx->props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU)
        CHECK (ctx->subgroup_size == lanes && dfx__lane_kernels (ctx),
               "CPU device with subgroups of %u lanes, expected %u (LP_NATIVE_VECTOR_WIDTH=%s)", ctx->subgroup_size,
               lanes, getenv ("LP_NATIVE_VECTOR_WIDTH") ? getenv ("LP_NATIVE_VECTOR_WIDTH") : "unset");
    else
        printf ("note: %s is not a CPU device; the rows run on its own kernels\n", ctx->props.deviceName);
    lane_rows_only = true;
    test_gemm ();
    test_gemm_views ();
    test_conv2d ();
    test_softmax_copy ();
    test_groupnorm ();
    test_attn_window ();
}

int
main (int argc, char **argv)
{
    uint32_t lanes = 0;
    if (argc == 3 && strcmp (argv[1], "--lanes") == 0)
        lanes = (uint32_t) strtoul (argv[2], NULL, 10);
    if (argc != 1 && !lanes) {
        fprintf (stderr, "usage: test-ops [--lanes N]\n");
        return 2;
    }
    ctx = check_ctx_open ();
    if (lanes) {
        test_lanes (lanes);
        dfx_ctx_destroy (ctx);
        return check_exit ();
    }
    const size_t sizes[] = {1, 7, 13, 127, 1000003};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        test_eltwise (sizes[i], 0);
        test_eltwise (sizes[i], 1);
        test_reduce (sizes[i]);
    }
    test_reduce (10000000);
    /* the convolution and GEMM rows on both kernel families: the per-device
     * variants (lane-shaped on lavapipe), then DFX_KERNELS=generic */
    for (int generic = 0; generic < 2; generic++) {
        ctx->kernels_generic = generic;
        test_gemm ();
        test_gemm_views ();
        test_conv2d ();
        test_softmax_copy ();
        test_groupnorm ();
        test_attn_window ();
    }
    ctx->kernels_generic = false;
    test_chain ();
    test_dftm_div ();
    test_ratio_moment ();
    test_ocm_step ();
    test_gemm_batched ();
    test_sample_ops ();
    test_adam ();
    dfx_ctx_destroy (ctx);
    return check_exit ();
}
