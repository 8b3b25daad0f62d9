/* edit-loss.c — the masked loss of the guided edit on the device: the
 * squared error to the guide weighted by the mask, plus the squared error
 * to the original weighted by its complement (edit-private.h), its value
 * (two dot products) and its gradient (elementwise ops).
 * Not for: custom losses (host callbacks, edit.c). */
#include "edit-private.h"
#include "../ops/ops-sample.h"

dfx_status
dfx__edit_loss (dfx_ctx *ctx, const dfx__edit_loss_bufs *b, size_t n, dfx_buffer *x, dfx_buffer *grad, double *loss,
                double *sum_g, double *sum_p)
{
    dfx_status st = DFX_OK;
    double sg, sp;
    /* guide term: t2 = mg ⊙ (x − g), Σ t2 ⊙ (x − g), grad = w_g t2 */
    DFX_CHECK (dfx__lincomb (ctx, b->t1, 0, 1.0f, x, 0, -1.0f, b->guide, 0, 0.0f, n));
    DFX_CHECK (dfx_op_mul (ctx, b->t2, b->mg, b->t1, n));
    DFX_CHECK (dfx_op_dot (ctx, b->t2, b->t1, n, &sg));
    DFX_CHECK (dfx__lincomb (ctx, grad, 0, (float) b->wg, b->t2, 0, 0.0f, NULL, 0, 0.0f, n));
    /* preservation term: the same with mp and the original */
    DFX_CHECK (dfx__lincomb (ctx, b->t1, 0, 1.0f, x, 0, -1.0f, b->orig, 0, 0.0f, n));
    DFX_CHECK (dfx_op_mul (ctx, b->t2, b->mp, b->t1, n));
    DFX_CHECK (dfx_op_dot (ctx, b->t2, b->t1, n, &sp));
    DFX_CHECK (dfx__lincomb (ctx, grad, 0, 1.0f, grad, 0, (float) b->wp, b->t2, 0, 0.0f, n));
    *loss = 0.5 * (b->wg * sg + b->wp * sp);
    *sum_g = sg;
    *sum_p = sp;
cleanup:
    return st;
}
