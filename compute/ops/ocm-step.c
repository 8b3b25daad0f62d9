/* ocm-step.c — one update of the stochastic samplers (shaders/ocm-step.comp):
 * x ← a·x̂0 + b·x + √(min(v0 + k·clamp(m − x̂0², 0, cmax), vmax))·z. */
#include "ops-private.h"
#include "ops-sample.h"

#include <float.h>

typedef struct push_ocm {
    uint32_t n;
    float a, b, v0, k, cmax, vmax;
} push_ocm;
_Static_assert (sizeof (push_ocm) == 28, "mirrors ocm-step.comp's Push block");

dfx_status
dfx__ocm_step (dfx_ctx *ctx, dfx_buffer *x, dfx_buffer *x0, dfx_buffer *m, dfx_buffer *z, const dfx__ocm_coef *c,
               size_t n)
{
    dfx_buffer *in[] = {x, x0, m ? m : x0, z};
    if (n == 0 || n > UINT32_MAX || !(c->v0 >= 0.0) || !(c->k >= 0.0) || !(c->cmax >= 0.0) || !(c->vmax >= 0.0) ||
        (c->k > 0.0 && !m))
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "ocm-step: n %zu, v0 %g, k %g, cmax %g, vmax %g%s", n, c->v0,
                           c->k, c->cmax, c->vmax, c->k > 0.0 && !m ? ", no second moment" : "");
    for (int i = 0; i < 4; i++)
        if (!in[i] || in[i]->size / sizeof (float) < n)
            return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "ocm-step: operand %d holds fewer than %zu values", i,
                               n);
    push_ocm push = {(uint32_t) n,       (float) c->a,    (float) c->b, (float) c->v0, (float) c->k,
                     (float) c->cmax, c->vmax > FLT_MAX ? FLT_MAX : (float) c->vmax};
    dfx__dispatch_desc d = {
        .shader = "ocm-step",
        .spec = {DFX__LOCAL_1D},
        .n_spec = 1,
        .bufs = {in[0], in[1], in[2], in[3]},
        .n_bufs = 4,
        .write_mask = 1u,
        .push = &push,
        .push_size = sizeof push,
        .groups = {dfx__groups_1d (ctx, n, DFX__LOCAL_1D), 1, 1},
    };
    return dfx__dispatch (ctx, &d);
}
