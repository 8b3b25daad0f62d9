/* attn-window.c — neighbourhood attention (shaders/attn-window.comp): every
 * query attends to a window of keys around it, shifted inward at the canvas
 * borders; a window at least the canvas is global attention.  The U-Net uses
 * it on canvases larger than its training size, with the training size's
 * window (unet-graph.c), so the attention never sees more tokens than it was
 * trained on and its cost grows linearly with the canvas.  On lavapipe-like
 * CPU devices shaders/attn-window-lvp.comp (a subgroup's queries of a row,
 * online softmax) replaces the one-invocation-per-query kernel. */
#include "ops-private.h"

typedef struct push_aw {
    uint32_t batch, c, h, w, dh, heads, wh, ww, q_off, k_off, v_off, o_off;
    float scale;
} push_aw;
_Static_assert (sizeof (push_aw) == 52, "mirrors attn-window.comp's Push block");

/* attn-window-lvp keeps a query and an output row of dh floats per lane in
 * registers: wider heads take the generic kernel. */
#define LANE_MAX_DH 64u

static int
fits (const dfx_buffer *b, uint32_t off, uint64_t n)
{
    return b && off + n <= b->size / 4;
}

dfx_status
dfx__attn_window (dfx_ctx *ctx, const dfx__attn_window_desc *d)
{
    const uint64_t n = (uint64_t) d->batch * d->c * d->h * d->w;
    const uint32_t eh = d->wh < d->h ? d->wh : d->h, ew = d->ww < d->w ? d->ww : d->w;
    if (!d->batch || !d->h || !d->w || !d->dh || !d->wh || !d->ww || d->c % d->dh || !fits (d->q, d->q_off, n) ||
        !fits (d->k, d->k_off, n) || !fits (d->v, d->v_off, n) || !fits (d->o, d->o_off, n))
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT,
                           "attn-window: batch %u, %u channels (heads of %u), %u×%u, window %u×%u outside its buffers "
                           "or inconsistent", d->batch, d->c, d->dh, d->h, d->w, d->wh, d->ww);
    if ((uint64_t) eh * ew > DFX__ATTN_WINDOW_MAX_KEYS)
        return dfx__error (ctx, DFX_ERR_UNSUPPORTED, "attn-window: a %u×%u window holds more than %d keys", eh, ew,
                           DFX__ATTN_WINDOW_MAX_KEYS);
    const uint32_t heads = d->c / d->dh;
    push_aw push = {d->batch, d->c, d->h, d->w, d->dh, heads, d->wh, d->ww,
                    d->q_off, d->k_off, d->v_off, d->o_off, d->scale};
    const uint32_t maxk = eh * ew <= 64 ? 64 : eh * ew <= 256 ? 256 : DFX__ATTN_WINDOW_MAX_KEYS;
    dfx__dispatch_desc dd = {
        .shader = "attn-window",
        .spec = {64, maxk},
        .n_spec = 2,
        .bufs = {d->q, d->k, d->v, d->o},
        .n_bufs = 4,
        .write_mask = 8u,
        .push = &push,
        .push_size = sizeof push,
        .groups = {dfx__groups_1d (ctx, (size_t) d->batch * heads * d->h * d->w, 64), 1, 1},
    };
    if (dfx__lane_kernels (ctx) && d->dh <= LANE_MAX_DH) {
        /* one subgroup of neighbouring queries of a row per workgroup */
        const uint32_t sg = ctx->subgroup_size, nbx = (d->w + sg - 1) / sg;
        dd.shader = "attn-window-lvp";
        dd.spec[0] = sg, dd.spec[1] = d->dh;
        /* keys and values as vec4s: aligned rows and channel groups of sg */
        dd.spec[2] = d->w % 4 == 0 && d->dh % sg == 0 && d->k_off % 4 == 0 && d->v_off % 4 == 0;
        dd.spec[3] = sg;
        dd.n_spec = 4;
        dd.groups[0] = dfx__groups_1d (ctx, (size_t) d->batch * heads * d->h * nbx, 1);
    }
    return dfx__dispatch (ctx, &dd);
}
