/* adam.c — one Adam update of a parameter vector on the device
 * (shaders/adam.comp): the guided edit's optimiser (compute/edit/). */
#include "ops-private.h"
#include "ops-fisher.h"

#include <math.h>

typedef struct push_adam {
    uint32_t n;
    float lr, b1, b2, eps, c1, c2, omb1, omb2;
} push_adam;
_Static_assert (sizeof (push_adam) == 36, "mirrors adam.comp's Push block");

dfx_status
dfx__adam (dfx_ctx *ctx, dfx_buffer *z, dfx_buffer *g, dfx_buffer *m, dfx_buffer *v, size_t n, double lr, double b1,
           double b2, double eps, uint32_t t)
{
    dfx_buffer *in[] = {z, g, m, v};
    dfx_status st = dfx__check_vectors (ctx, "adam", n, in, 4);
    if (st != DFX_OK)
        return st;
    if (t < 1 || !(b1 >= 0 && b1 < 1) || !(b2 >= 0 && b2 < 1) || !(eps > 0))
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "adam: step %u, beta1 %g, beta2 %g, eps %g", t, b1, b2,
                           eps);
    push_adam push = {(uint32_t) n, (float) lr, (float) b1, (float) b2, (float) eps,
                      (float) (1.0 / (1.0 - pow (b1, t))), (float) (1.0 / (1.0 - pow (b2, t))), (float) (1.0 - b1), (float) (1.0 - b2)};
    dfx__dispatch_desc d = {
        .shader = "adam",
        .spec = {DFX__LOCAL_1D},
        .n_spec = 1,
        .bufs = {z, g, m, v},
        .n_bufs = 4,
        .write_mask = 1u | 4u | 8u,
        .push = &push,
        .push_size = sizeof push,
        .groups = {dfx__groups_1d (ctx, n, DFX__LOCAL_1D), 1, 1},
    };
    return dfx__dispatch (ctx, &d);
}
