/* edit-optim.c — the update of the edit's start point from its gradient:
 * plain steps, heavy-ball momentum or Adam (shaders/adam.comp), with the
 * moment buffers on the device.
 * Not for: choosing the step size (the caller's parameter). */
#include "edit-private.h"
#include "../ops/ops-fisher.h"
#include "../ops/ops-sample.h"

dfx_status
dfx__edit_opt_init (dfx_ctx *ctx, dfx__edit_opt *o, size_t n)
{
    dfx_status st = DFX_OK;
    o->t = 0;
    o->m = o->v = NULL;
    if (o->kind == DFX_EDIT_SGD)
        return DFX_OK;
    DFX_CHECK (dfx_buffer_create (ctx, n * sizeof (float), &o->m));
    DFX_CHECK (dfx__lincomb (ctx, o->m, 0, 0.0f, o->m, 0, 0.0f, NULL, 0, 0.0f, n));
    if (o->kind == DFX_EDIT_ADAM) {
        DFX_CHECK (dfx_buffer_create (ctx, n * sizeof (float), &o->v));
        DFX_CHECK (dfx__lincomb (ctx, o->v, 0, 0.0f, o->v, 0, 0.0f, NULL, 0, 0.0f, n));
    }
    return DFX_OK;
cleanup:
    dfx__edit_opt_free (ctx, o);
    return st;
}

void
dfx__edit_opt_free (dfx_ctx *ctx, dfx__edit_opt *o)
{
    dfx_buffer_destroy (ctx, o->m);
    dfx_buffer_destroy (ctx, o->v);
    o->m = o->v = NULL;
}

dfx_status
dfx__edit_opt_step (dfx_ctx *ctx, dfx__edit_opt *o, size_t n, dfx_buffer *z, dfx_buffer *g)
{
    dfx_status st = DFX_OK;
    o->t++;
    switch (o->kind) {
    case DFX_EDIT_SGD:
        DFX_CHECK (dfx__lincomb (ctx, z, 0, 1.0f, z, 0, (float) -o->lr, g, 0, 0.0f, n));
        break;
    case DFX_EDIT_MOMENTUM:
        DFX_CHECK (dfx__lincomb (ctx, o->m, 0, (float) o->momentum, o->m, 0, 1.0f, g, 0, 0.0f, n));
        DFX_CHECK (dfx__lincomb (ctx, z, 0, 1.0f, z, 0, (float) -o->lr, o->m, 0, 0.0f, n));
        break;
    case DFX_EDIT_ADAM:
        DFX_CHECK (dfx__adam (ctx, z, g, o->m, o->v, n, o->lr, o->momentum, o->beta2, o->eps, o->t));
        break;
    }
cleanup:
    return st;
}
