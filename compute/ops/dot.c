/* dot.c — Σ a_i b_i and Σ a_i² in two passes (shaders/dot.comp, then
 * shaders/reduce-sum.comp); the result comes back to the host as a double. */
#include "ops-private.h"

#define MAX_PARTIALS 1024u

typedef struct push_n {
    uint32_t n;
} push_n;
_Static_assert (sizeof (push_n) == 4, "mirrors `Push { uint n; }`");

static dfx_status
reduce (dfx_ctx *ctx, const char *op, dfx_buffer *a, dfx_buffer *b, size_t n, uint32_t square, double *result)
{
    dfx_buffer *in[] = {a, b};
    dfx_status st = dfx__check_vectors (ctx, op, n, in, 2);
    dfx_buffer *partial = NULL, *sum = NULL;
    if (st != DFX_OK)
        return st;
    /* Enough elements per invocation that the tree depth stays small. */
    uint32_t groups = dfx__groups_1d (ctx, n, DFX__LOCAL_1D * 16);
    if (groups > MAX_PARTIALS)
        groups = MAX_PARTIALS;
    DFX_CHECK (dfx_buffer_create (ctx, groups * sizeof (float), &partial));
    DFX_CHECK (dfx_buffer_create (ctx, sizeof (float), &sum));
    push_n p1 = {(uint32_t) n};
    dfx__dispatch_desc d1 = {
        .shader = "dot",
        .spec = {DFX__LOCAL_1D, square},
        .n_spec = 2,
        .bufs = {partial, a, b},
        .n_bufs = 3,
        .write_mask = 1u,
        .push = &p1,
        .push_size = sizeof p1,
        .groups = {groups, 1, 1},
    };
    DFX_CHECK (dfx__dispatch (ctx, &d1));
    push_n p2 = {groups};
    dfx__dispatch_desc d2 = {
        .shader = "reduce-sum",
        .spec = {DFX__LOCAL_1D},
        .n_spec = 1,
        .bufs = {sum, partial},
        .n_bufs = 2,
        .write_mask = 1u,
        .push = &p2,
        .push_size = sizeof p2,
        .groups = {1, 1, 1},
    };
    DFX_CHECK (dfx__dispatch (ctx, &d2));
    float v = 0.0f;
    DFX_CHECK (dfx_buffer_download (ctx, sum, 0, &v, sizeof v));
    *result = v;
cleanup:
    dfx_buffer_destroy (ctx, sum);
    dfx_buffer_destroy (ctx, partial);
    return st;
}

dfx_status
dfx_op_dot (dfx_ctx *ctx, dfx_buffer *a, dfx_buffer *b, size_t n, double *result)
{
    return reduce (ctx, "dot", a, b, n, 0, result);
}

dfx_status
dfx_op_sumsq (dfx_ctx *ctx, dfx_buffer *a, size_t n, double *result)
{
    return reduce (ctx, "sumsq", a, a, n, 1, result);
}
