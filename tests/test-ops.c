/* test-ops.c — parity of every Vulkan op against its double-precision CPU
 * reference (compute/ref), on awkward sizes with a fixed seed, by normalised
 * MSE (reductions: error relative to Σ|a_i b_i|).  Also chains ops without a
 * flush to exercise the automatic barriers.  Skips (77) only when no Vulkan
 * device exists. */
#include "check.h"
#include "dfx.h"
#include "ref.h"

#include <math.h>
#include <stdlib.h>

static dfx_ctx *ctx;

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

static const struct {
    uint32_t m, n, k;
    int ta, tb;
    float alpha, beta;
} gemm_rows[] = {
    {1, 1, 1, 0, 0, 1.0f, 0.0f},      {7, 13, 5, 0, 0, 1.0f, 0.0f},     {13, 7, 127, 0, 1, 1.0f, 0.0f},
    {127, 129, 65, 1, 0, 0.5f, 0.0f}, {64, 64, 64, 0, 0, 1.0f, 1.0f},   {200, 33, 300, 1, 1, -2.0f, 0.5f},
    {1000, 1, 7, 0, 0, 1.0f, 0.0f},   {1, 1000, 1000, 0, 1, 1.0f, 0.0f}, {257, 255, 129, 0, 0, 1.0f, -1.0f},
};

static void
test_gemm (void)
{
    check_rng r = {42};
    for (size_t row = 0; row < sizeof gemm_rows / sizeof gemm_rows[0]; row++) {
        dfx_gemm_params p;
        dfx_gemm_params_defaults (&p);
        p.m = gemm_rows[row].m, p.n = gemm_rows[row].n, p.k = gemm_rows[row].k;
        p.trans_a = gemm_rows[row].ta, p.trans_b = gemm_rows[row].tb;
        p.alpha = gemm_rows[row].alpha, p.beta = gemm_rows[row].beta;
        size_t nc = (size_t) p.m * p.n;
        vec a = vec_new (&r, (size_t) p.m * p.k, -1, 1), b = vec_new (&r, (size_t) p.k * p.n, -1, 1),
            c = vec_new (&r, nc, -1, 1);
        double *ref = malloc (nc * sizeof (double));
        dfx_ref_gemm (ref, p.m, p.n, p.k, p.trans_a, p.trans_b, p.alpha, a.h, b.h, p.beta, c.h);
        dfx_status st = dfx_op_gemm (ctx, &p, a.d, b.d, c.d);
        CHECK (st == DFX_OK, "gemm %ux%ux%u: %s", p.m, p.n, p.k, dfx_ctx_errmsg (ctx));
        float *got = download (c.d, nc);
        double e = dfx_ref_nmse (got, ref, nc);
        CHECK (e <= 1e-11, "gemm m=%u n=%u k=%u ta=%d tb=%d alpha=%g beta=%g: nmse %.3g", p.m, p.n, p.k, p.trans_a,
               p.trans_b, p.alpha, p.beta, e);
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

int
main (void)
{
    dfx_ctx_options opt;
    dfx_ctx_options_defaults (&opt);
    dfx_status st = dfx_ctx_create (&opt, &ctx);
    if (st == DFX_ERR_NO_DEVICE) {
        printf ("SKIP: %s\n", dfx_ctx_errmsg (ctx));
        dfx_ctx_destroy (ctx);
        return 77;
    }
    CHECK (st == DFX_OK, "context: %s", dfx_ctx_errmsg (ctx));
    if (st != DFX_OK)
        return check_exit ();
    const size_t sizes[] = {1, 7, 13, 127, 1000003};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        test_eltwise (sizes[i], 0);
        test_eltwise (sizes[i], 1);
        test_reduce (sizes[i]);
    }
    test_reduce (10000000);
    test_gemm ();
    test_chain ();
    dfx_ctx_destroy (ctx);
    return check_exit ();
}
