/* unet-graph.c — builds the forward program of a UNet2DModel, or of an
 * AutoencoderKL's encoder or decoder (the same resnets, attention and
 * samplers without a time embedding), for one input shape: the op
 * descriptors in execution order, and the placement of every activation in
 * one arena by a first-fit planner that frees each tensor after its last
 * use.  Recording and submitting are in unet.c and vae.c; numerics in ops/. */
#include "unet-private.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Placeholder for the arena buffer until its size is known. */
static dfx_buffer arena_mark;
#define ARENA (&arena_mark)
#define ALIGN 16u /* floats: 64-byte aligned tensors */

typedef struct block {
    uint64_t off, size;
} block;

typedef struct tensor {
    uint32_t off;
    uint32_t c, h, w; /* per batch item */
} tensor;

typedef struct builder {
    dfx_unet *u;
    dfx_status st;
    uint32_t batch;
    block used[256];
    int n_used;
    uint64_t peak;
    uint32_t temb_act_off; /* silu(time embedding), batch × temb_dim */
    uint64_t limit;        /* floats per arena buffer: no tensor crosses a multiple */
    uint32_t canvas_h, canvas_w; /* the input's size */
    char name[160];
} builder;

/* ---- the planner ---- */

static uint32_t
alloc (builder *b, uint64_t n)
{
    if (b->st != DFX_OK)
        return 0;
    n = (n + ALIGN - 1) / ALIGN * ALIGN;
    if (n > b->limit) {
        b->st = dfx__error (b->u->ctx, DFX_ERR_UNSUPPORTED,
                            "a U-Net activation of %llu bytes at batch %u, %u×%u exceeds the device's storage-buffer "
                            "range (%llu bytes): use a smaller batch or size",
                            (unsigned long long) n * 4, b->batch, b->u->h, b->u->w,
                            (unsigned long long) b->limit * 4);
        return 0;
    }
    uint64_t at = 0;
    int i = 0;
    for (;; i++) { /* used[] is sorted by offset; first fit that crosses no cut */
        if (at / b->limit != (at + n - 1) / b->limit)
            at = (at / b->limit + 1) * b->limit;
        if (i == b->n_used || b->used[i].off >= at + n)
            break;
        if (b->used[i].off + b->used[i].size > at)
            at = b->used[i].off + b->used[i].size;
    }
    if (b->n_used == (int) (sizeof b->used / sizeof b->used[0]) || at + n > UINT32_MAX) {
        b->st = dfx__error (b->u->ctx, DFX_ERR_UNSUPPORTED, "U-Net activations exceed 2^32 floats at batch %u, %u×%u",
                            b->batch, b->u->h, b->u->w);
        return 0;
    }
    memmove (&b->used[i + 1], &b->used[i], (size_t) (b->n_used - i) * sizeof (block));
    b->used[i] = (block){at, n};
    b->n_used++;
    if (at + n > b->peak)
        b->peak = at + n;
    return (uint32_t) at;
}

static void
release (builder *b, uint32_t off)
{
    for (int i = 0; i < b->n_used; i++)
        if (b->used[i].off == off) {
            memmove (&b->used[i], &b->used[i + 1], (size_t) (b->n_used - i - 1) * sizeof (block));
            b->n_used--;
            return;
        }
}

static tensor
new_tensor (builder *b, uint32_t c, uint32_t h, uint32_t w)
{
    tensor t = {0, c, h, w};
    t.off = alloc (b, (uint64_t) b->batch * c * h * w);
    return t;
}

static void
drop (builder *b, tensor t)
{
    release (b, t.off);
}

/* ---- steps ---- */

static dfx__step *
push_step (builder *b, dfx__step_kind kind)
{
    dfx_unet *u = b->u;
    if (b->st != DFX_OK)
        return NULL;
    if (u->n_steps == u->cap_steps) {
        int cap = u->cap_steps ? 2 * u->cap_steps : 256;
        dfx__step *ns = realloc (u->steps, (size_t) cap * sizeof *ns);
        if (!ns) {
            b->st = dfx__error (u->ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory planning the U-Net");
            return NULL;
        }
        u->steps = ns;
        u->cap_steps = cap;
    }
    dfx__step *s = &u->steps[u->n_steps++];
    memset (s, 0, sizeof *s);
    s->kind = kind;
    return s;
}

/* Looks up weight `prefix.suffix` with the given shape: offset, and its
 * buffer in *buf. */
static uint32_t
weight (builder *b, const char *prefix, const char *suffix, int ndim, int64_t d0, int64_t d1, int64_t d2, int64_t d3,
        dfx_buffer **buf)
{
    *buf = NULL;
    if (b->st != DFX_OK)
        return 0;
    char name[200];
    snprintf (name, sizeof name, "%s%s%s", prefix, *prefix ? "." : "", suffix);
    const int64_t shape[4] = {d0, d1, d2, d3};
    uint32_t off = 0;
    b->st = dfx__unet_weight (b->u, name, ndim, shape, buf, &off);
    return off;
}

static tensor
groupnorm (builder *b, tensor x, const char *prefix, uint32_t groups, int silu, uint32_t ss_off, uint32_t ss_stride)
{
    tensor y = new_tensor (b, x.c, x.h, x.w);
    dfx_buffer *gb, *bb;
    uint32_t g = weight (b, prefix, "weight", 1, x.c, 0, 0, 0, &gb), be = weight (b, prefix, "bias", 1, x.c, 0, 0, 0, &bb);
    if (b->st == DFX_OK && gb != bb)
        b->st = dfx__error (b->u->ctx, DFX_ERR_INVALID_ARGUMENT, "%s: weight and bias in different buffers", prefix);
    dfx__step *s = push_step (b, DFX__STEP_GROUPNORM);
    if (!s)
        return y;
    s->u.gn = (dfx__groupnorm_desc){
        .batch = b->batch, .c = x.c, .hw = x.h * x.w, .groups = groups, .eps = (float) b->u->arch.norm_eps, .silu = silu,
        .in = ARENA, .out = ARENA, .in_off = x.off, .out_off = y.off,
        .params = gb, .gamma_off = g, .beta_off = be,
        .ss = ss_stride ? ARENA : NULL, .ss_off = ss_off, .ss_stride = ss_stride,
    };
    return y;
}

/* conv ks×ks; stride 2 = diffusers Downsample2D; up = nearest ×2 first. */
static tensor
conv (builder *b, tensor x, const char *prefix, uint32_t cout, uint32_t ks, uint32_t stride, int up,
      const tensor *res, float out_scale, uint32_t temb_off, uint32_t temb_stride)
{
    uint32_t pad = ks / 2, pad_t = pad, pad_far = pad;
    if (stride == 2 && b->u->arch.downsample_padding == 0)
        pad_t = 0, pad_far = 1; /* F.pad (0, 1, 0, 1), then no padding */
    uint32_t he = up ? 2 * x.h : x.h, we = up ? 2 * x.w : x.w;
    uint32_t oh = dfx__conv2d_out_size (he, ks, stride, pad_t, pad_far);
    uint32_t ow = dfx__conv2d_out_size (we, ks, stride, pad_t, pad_far);
    tensor y = new_tensor (b, cout, oh, ow);
    dfx_buffer *wb, *bb;
    uint32_t wo = weight (b, prefix, "weight", 4, cout, x.c, ks, ks, &wb);
    uint32_t bo = weight (b, prefix, "bias", 1, cout, 0, 0, 0, &bb);
    dfx__step *s = push_step (b, DFX__STEP_CONV);
    if (!s)
        return y;
    s->u.conv = (dfx__conv2d_desc){
        .batch = b->batch, .cin = x.c, .h = x.h, .w = x.w, .cout = cout, .ks = ks, .stride = stride,
        .pad_t = pad_t, .pad_l = pad_t, .up = (uint32_t) up, .oh = oh, .ow = ow,
        .in = ARENA, .in_off = x.off, .weight = wb, .w_off = wo, .bias = bb, .bias_off = bo,
        .temb = temb_stride ? ARENA : NULL, .temb_off = temb_off, .temb_stride = temb_stride,
        .res = res ? ARENA : NULL, .res_off = res ? res->off : 0, .out = ARENA, .out_off = y.off,
        .out_scale = out_scale,
    };
    return y;
}

/* y (batch × n) = x (batch × k) · Wᵀ + bias, W stored [n, k]. */
static uint32_t
linear (builder *b, uint32_t x_off, uint32_t k, const char *prefix, uint32_t n)
{
    uint32_t y = alloc (b, (uint64_t) b->batch * n);
    dfx_buffer *wb, *bb;
    uint32_t wo = weight (b, prefix, "weight", 2, n, k, 0, 0, &wb), bo = weight (b, prefix, "bias", 1, n, 0, 0, 0, &bb);
    dfx__step *s = push_step (b, DFX__STEP_GEMM);
    if (!s)
        return y;
    dfx__gemm_desc *g = &s->u.gemm;
    dfx__gemm_desc_init (g);
    g->m = b->batch, g->n = n, g->k = k;
    g->a = (dfx__mat){ARENA, x_off, k, 1, 0, 0};
    g->b = (dfx__mat){wb, wo, 1, k, 0, 0};
    g->c = (dfx__mat){ARENA, y, n, 1, 0, 0};
    g->bias = bb, g->bias_off = bo, g->bias_mode = DFX__BIAS_COL;
    return y;
}

static void
silu_inplace (builder *b, uint32_t off, uint32_t n)
{
    dfx__step *s = push_step (b, DFX__STEP_SILU);
    if (s)
        s->u.silu.buf = ARENA, s->u.silu.off = off, s->u.silu.n = n;
}

static tensor
resnet (builder *b, tensor x, const char *prefix, uint32_t cout, float out_scale)
{
    const dfx__unet_config *a = &b->u->arch;
    char p[160];
    uint32_t tw = a->scale_shift ? 2 * cout : cout, t = 0;
    const int has_t = a->time_embedding_dim > 0; /* an autoencoder's resnets have no time embedding */
    if (has_t) { /* t = time_emb_proj (silu (temb)) */
        snprintf (p, sizeof p, "%s.time_emb_proj", prefix);
        t = linear (b, b->temb_act_off, (uint32_t) a->time_embedding_dim, p, tw);
    }
    snprintf (p, sizeof p, "%s.norm1", prefix);
    tensor h1 = groupnorm (b, x, p, (uint32_t) a->norm_num_groups, 1, 0, 0);
    snprintf (p, sizeof p, "%s.conv1", prefix);
    tensor h2 = conv (b, h1, p, cout, 3, 1, 0, NULL, 1.0f, t, has_t && !a->scale_shift ? tw : 0);
    drop (b, h1);
    snprintf (p, sizeof p, "%s.norm2", prefix);
    tensor h3 = groupnorm (b, h2, p, (uint32_t) a->norm_num_groups, 1, t, has_t && a->scale_shift ? tw : 0);
    drop (b, h2);
    if (has_t)
        release (b, t);
    tensor sc = x;
    if (x.c != cout) {
        snprintf (p, sizeof p, "%s.conv_shortcut", prefix);
        sc = conv (b, x, p, cout, 1, 1, 0, NULL, 1.0f, 0, 0);
    }
    snprintf (p, sizeof p, "%s.conv2", prefix);
    tensor y = conv (b, h3, p, cout, 3, 1, 0, &sc, 1.0f / out_scale, 0, 0);
    drop (b, h3);
    if (x.c != cout)
        drop (b, sc);
    return y;
}

/* y = (Wo · O + bias + x) / rescale; drops o. */
static tensor
attention_out (builder *b, tensor x, const char *prefix, tensor o, float rescale)
{
    const uint32_t C = x.c, HW = x.h * x.w;
    char p[160];
    tensor y = new_tensor (b, C, x.h, x.w);
    snprintf (p, sizeof p, "%s.to_out.0", prefix);
    dfx_buffer *wb, *bb;
    uint32_t wo = weight (b, p, "weight", 2, C, C, 0, 0, &wb), bo = weight (b, p, "bias", 1, C, 0, 0, 0, &bb);
    dfx__step *s = push_step (b, DFX__STEP_GEMM);
    if (!s)
        return x;
    dfx__gemm_desc *g = &s->u.gemm;
    dfx__gemm_desc_init (g);
    g->m = C, g->n = HW, g->k = C, g->batch_outer = b->batch;
    g->a = (dfx__mat){wb, wo, C, 1, 0, 0};
    g->b = (dfx__mat){ARENA, o.off, HW, 1, C * HW, 0};
    g->c = (dfx__mat){ARENA, y.off, HW, 1, C * HW, 0};
    g->bias = bb, g->bias_off = bo, g->bias_mode = DFX__BIAS_ROW;
    g->res = ARENA, g->res_off = x.off, g->out_scale = 1.0f / rescale;
    drop (b, o);
    return y;
}

static tensor
attention (builder *b, tensor x, const char *prefix, uint32_t groups, float rescale)
{
    const dfx__unet_config *a = &b->u->arch;
    uint32_t C = x.c, HW = x.h * x.w, dh = (uint32_t) a->attention_head_dim ? (uint32_t) a->attention_head_dim : C, heads = C / dh;
    char p[160];
    tensor n = x;
    if (groups) {
        snprintf (p, sizeof p, "%s.group_norm", prefix);
        n = groupnorm (b, x, p, groups, 0, 0, 0);
    }
    /* q, k, v (each C × HW per batch item) = W · n + bias */
    tensor qkv[3];
    static const char *names[3] = {"to_q", "to_k", "to_v"};
    for (int i = 0; i < 3; i++) {
        qkv[i] = new_tensor (b, C, x.h, x.w);
        snprintf (p, sizeof p, "%s.%s", prefix, names[i]);
        dfx_buffer *wb, *bb;
        uint32_t wo = weight (b, p, "weight", 2, C, C, 0, 0, &wb), bo = weight (b, p, "bias", 1, C, 0, 0, 0, &bb);
        dfx__step *s = push_step (b, DFX__STEP_GEMM);
        if (!s)
            return x;
        dfx__gemm_desc *g = &s->u.gemm;
        dfx__gemm_desc_init (g);
        g->m = C, g->n = HW, g->k = C, g->batch_outer = b->batch;
        g->a = (dfx__mat){wb, wo, C, 1, 0, 0};
        g->b = (dfx__mat){ARENA, n.off, HW, 1, C * HW, 0};
        g->c = (dfx__mat){ARENA, qkv[i].off, HW, 1, C * HW, 0};
        g->bias = bb, g->bias_off = bo, g->bias_mode = DFX__BIAS_ROW;
    }
    if (groups)
        drop (b, n);
    /* On a canvas larger than the training size: each query attends to the
     * training size's window of tokens around it (ops attn-window).  U-Nets
     * only: an autoencoder's attention stays global, as in diffusers. */
    const int *ss = a->sample_size;
    const uint32_t wh = ss[0] > 0 ? (uint32_t) ((uint64_t) ss[0] * x.h / b->canvas_h) : 0;
    const uint32_t ww = ss[1] > 0 ? (uint32_t) ((uint64_t) ss[1] * x.w / b->canvas_w) : 0;
    if (b->u->net == DFX__NET_UNET && !b->u->attn_global && wh >= 1 && ww >= 1 && (x.h > wh || x.w > ww) &&
        (uint64_t) wh * ww <= DFX__ATTN_WINDOW_MAX_KEYS) {
        tensor o = new_tensor (b, C, x.h, x.w);
        dfx__step *s = push_step (b, DFX__STEP_ATTN_WINDOW);
        if (!s)
            return x;
        s->u.aw = (dfx__attn_window_desc){
            .batch = b->batch, .c = C, .h = x.h, .w = x.w, .dh = dh, .wh = wh, .ww = ww,
            .scale = (float) (1.0 / sqrt ((double) dh)),
            .q = ARENA, .k = ARENA, .v = ARENA, .o = ARENA,
            .q_off = qkv[0].off, .k_off = qkv[1].off, .v_off = qkv[2].off, .o_off = o.off,
        };
        drop (b, qkv[0]), drop (b, qkv[1]), drop (b, qkv[2]);
        return attention_out (b, x, prefix, o, rescale);
    }
    /* Scores (batch, heads, Q, HW) = Q_hᵀ K_h / √dh for a chunk of Q queries,
     * softmax over keys, then O_h[:, chunk] (dh × Q) = V_h · Pᵀ, written head
     * by head into C × HW.  One chunk holds every query unless the scores
     * would exceed a buffer (large canvases): then the queries go in chunks
     * of a multiple of 4 that fits, reusing one scores tensor. */
    const uint64_t per_q = (uint64_t) b->batch * heads * HW;
    uint32_t Q = HW;
    if (per_q * HW > b->limit) {
        uint64_t fit = b->limit / per_q / 4 * 4;
        Q = fit >= 4 ? (uint32_t) fit : 4;
    }
    uint32_t sc = alloc (b, per_q * Q);
    tensor o = new_tensor (b, C, x.h, x.w);
    dfx__step *s = NULL;
    dfx__gemm_desc *g;
    for (uint32_t q0 = 0; q0 < HW && b->st == DFX_OK; q0 += Q) {
        const uint32_t nq = HW - q0 < Q ? HW - q0 : Q;
        if (!(s = push_step (b, DFX__STEP_GEMM)))
            return x;
        g = &s->u.gemm;
        dfx__gemm_desc_init (g);
        g->m = nq, g->n = HW, g->k = dh, g->batch_outer = b->batch, g->batch_inner = heads;
        g->a = (dfx__mat){ARENA, qkv[0].off + q0, 1, HW, C * HW, dh * HW};
        g->b = (dfx__mat){ARENA, qkv[1].off, HW, 1, C * HW, dh * HW};
        g->c = (dfx__mat){ARENA, sc, HW, 1, heads * nq * HW, nq * HW};
        g->alpha = (float) (1.0 / sqrt ((double) dh));
        if (!(s = push_step (b, DFX__STEP_SOFTMAX)))
            return x;
        s->u.softmax.buf = ARENA, s->u.softmax.off = sc, s->u.softmax.rows = b->batch * heads * nq;
        s->u.softmax.cols = HW, s->u.softmax.scale = 1.0f;
        if (!(s = push_step (b, DFX__STEP_GEMM)))
            return x;
        g = &s->u.gemm;
        dfx__gemm_desc_init (g);
        g->m = dh, g->n = nq, g->k = HW, g->batch_outer = b->batch, g->batch_inner = heads;
        g->a = (dfx__mat){ARENA, qkv[2].off, HW, 1, C * HW, dh * HW};
        g->b = (dfx__mat){ARENA, sc, 1, HW, heads * nq * HW, nq * HW};
        g->c = (dfx__mat){ARENA, o.off + q0, HW, 1, C * HW, dh * HW};
    }
    drop (b, qkv[0]), drop (b, qkv[1]);
    release (b, sc);
    drop (b, qkv[2]);
    return attention_out (b, x, prefix, o, rescale);
}

static tensor
concat (builder *b, tensor x, tensor skip)
{
    tensor y = new_tensor (b, x.c + skip.c, x.h, x.w);
    const tensor *src[2] = {&x, &skip};
    uint32_t coff = 0;
    for (int i = 0; i < 2; i++) {
        dfx__step *s = push_step (b, DFX__STEP_COPY);
        if (!s)
            return y;
        s->u.copy.dst = ARENA, s->u.copy.src = ARENA;
        s->u.copy.dst_off = y.off, s->u.copy.cd = y.c, s->u.copy.coff = coff, s->u.copy.src_off = src[i]->off;
        s->u.copy.cs = src[i]->c, s->u.copy.batch = b->batch, s->u.copy.hw = x.h * x.w;
        coff += src[i]->c;
    }
    return y;
}

static void
build (builder *b, uint32_t h, uint32_t w)
{
    dfx_unet *u = b->u;
    const dfx__unet_config *a = &u->arch;
    uint32_t c0 = (uint32_t) a->block_out_channels[0];
    /* Inputs: the sample and the sinusoidal timestep embedding, uploaded per forward. */
    tensor x = new_tensor (b, (uint32_t) a->in_channels, h, w);
    u->in_off = x.off;
    u->emb_off = alloc (b, (uint64_t) b->batch * c0);
    /* time_embedding: linear_1, SiLU, linear_2; resnets use SiLU of it. */
    uint32_t e1 = linear (b, u->emb_off, c0, "time_embedding.linear_1", (uint32_t) a->time_embedding_dim);
    silu_inplace (b, e1, b->batch * (uint32_t) a->time_embedding_dim);
    uint32_t e2 = linear (b, e1, (uint32_t) a->time_embedding_dim, "time_embedding.linear_2", (uint32_t) a->time_embedding_dim);
    silu_inplace (b, e2, b->batch * (uint32_t) a->time_embedding_dim);
    release (b, e1);
    b->temb_act_off = e2;

    tensor skips[64];
    int n_skips = 0;
    tensor hcur = conv (b, x, "conv_in", c0, 3, 1, 0, NULL, 1.0f, 0, 0);
    skips[n_skips++] = hcur;
    char p[160];
    for (uint32_t i = 0; i < (uint32_t) a->n_levels; i++) {
        for (uint32_t j = 0; j < (uint32_t) a->layers_per_block; j++) {
            snprintf (p, sizeof p, "down_blocks.%u.resnets.%u", i, j);
            hcur = resnet (b, hcur, p, (uint32_t) a->block_out_channels[i], 1.0f);
            if (a->down_attention[i]) {
                snprintf (p, sizeof p, "down_blocks.%u.attentions.%u", i, j);
                tensor t = attention (b, hcur, p, (uint32_t) a->norm_num_groups, 1.0f);
                drop (b, hcur);
                hcur = t;
            }
            skips[n_skips++] = hcur;
        }
        if (i + 1 < (uint32_t) a->n_levels) {
            snprintf (p, sizeof p, "down_blocks.%u.downsamplers.0.conv", i);
            hcur = conv (b, hcur, p, hcur.c, 3, 2, 0, NULL, 1.0f, 0, 0);
            skips[n_skips++] = hcur;
        }
    }
    /* hcur is the last skip: the up path starts from it and also pops it. */
    tensor cur = hcur;
    int cur_owned = 0;
    if (a->mid_block) {
        uint32_t cm = (uint32_t) a->block_out_channels[(uint32_t) a->n_levels - 1];
        tensor t = resnet (b, cur, "mid_block.resnets.0", cm, (float) a->mid_block_scale_factor);
        if (a->mid_attention) {
            tensor t2 = attention (b, t, "mid_block.attentions.0", (uint32_t) a->mid_attention_groups,
                                   (float) a->mid_block_scale_factor);
            drop (b, t);
            t = t2;
        }
        cur = resnet (b, t, "mid_block.resnets.1", cm, (float) a->mid_block_scale_factor);
        drop (b, t);
        cur_owned = 1;
    }
    for (uint32_t i = 0; i < (uint32_t) a->n_levels; i++) {
        uint32_t lvl = (uint32_t) a->n_levels - 1 - i, cout = (uint32_t) a->block_out_channels[lvl];
        for (uint32_t j = 0; j < (uint32_t) a->layers_per_block + 1; j++) {
            tensor skip = skips[--n_skips];
            tensor cat = concat (b, cur, skip);
            if (cur_owned && cur.off != skip.off)
                drop (b, cur);
            drop (b, skip);
            snprintf (p, sizeof p, "up_blocks.%u.resnets.%u", i, j);
            cur = resnet (b, cat, p, cout, 1.0f);
            drop (b, cat);
            cur_owned = 1;
            if (a->up_attention[i]) {
                snprintf (p, sizeof p, "up_blocks.%u.attentions.%u", i, j);
                tensor t = attention (b, cur, p, (uint32_t) a->norm_num_groups, 1.0f);
                drop (b, cur);
                cur = t;
            }
        }
        if (i + 1 < (uint32_t) a->n_levels) {
            snprintf (p, sizeof p, "up_blocks.%u.upsamplers.0.conv", i);
            tensor t = conv (b, cur, p, cur.c, 3, 1, 1, NULL, 1.0f, 0, 0);
            drop (b, cur);
            cur = t;
        }
    }
    release (b, b->temb_act_off);
    tensor n = groupnorm (b, cur, "conv_norm_out", (uint32_t) a->norm_num_groups, 1, 0, 0);
    drop (b, cur);
    tensor out = conv (b, n, "conv_out", (uint32_t) a->out_channels, 3, 1, 0, NULL, 1.0f, 0, 0);
    drop (b, n);
    u->out_off = out.off;
    (void) x;
}

/* ---- AutoencoderKL halves (diffusers Encoder / Decoder) ---- */

/* h ← f (h): the old h is dropped unless it is the network's input. */
static tensor
next (builder *b, tensor old, tensor new, const tensor *input)
{
    if (old.off != input->off)
        drop (b, old);
    return new;
}

/* resnet → attention (one head, GroupNorm of norm_num_groups) → resnet. */
static tensor
vae_mid (builder *b, tensor h, const tensor *input, const char *half)
{
    const dfx__unet_config *a = &b->u->arch;
    char p[160];
    snprintf (p, sizeof p, "%s.mid_block.resnets.0", half);
    h = next (b, h, resnet (b, h, p, h.c, 1.0f), input);
    if (a->mid_attention) {
        snprintf (p, sizeof p, "%s.mid_block.attentions.0", half);
        h = next (b, h, attention (b, h, p, (uint32_t) a->mid_attention_groups, 1.0f), input);
    }
    snprintf (p, sizeof p, "%s.mid_block.resnets.1", half);
    return next (b, h, resnet (b, h, p, h.c, 1.0f), input);
}

/* GroupNorm + SiLU, then conv_out 3×3. */
static tensor
vae_out (builder *b, tensor h, const tensor *input, const char *half, uint32_t cout)
{
    char p[160];
    snprintf (p, sizeof p, "%s.conv_norm_out", half);
    h = next (b, h, groupnorm (b, h, p, (uint32_t) b->u->arch.norm_num_groups, 1, 0, 0), input);
    snprintf (p, sizeof p, "%s.conv_out", half);
    return next (b, h, conv (b, h, p, cout, 3, 1, 0, NULL, 1.0f, 0, 0), input);
}

/* Encoder (image → 2L moments) then quant_conv; or post_quant_conv then Decoder. */
static void
build_vae (builder *b, uint32_t h, uint32_t w)
{
    dfx_unet *u = b->u;
    const dfx__unet_config *a = &u->arch;
    const dfx__vae_config *v = &u->vae;
    const uint32_t n = (uint32_t) a->n_levels, L = (uint32_t) v->latent_channels;
    char p[160];
    if (u->net == DFX__NET_VAE_ENCODER) {
        tensor x = new_tensor (b, (uint32_t) a->in_channels, h, w);
        u->in_off = x.off;
        tensor cur = conv (b, x, "encoder.conv_in", (uint32_t) a->block_out_channels[0], 3, 1, 0, NULL, 1.0f, 0, 0);
        for (uint32_t i = 0; i < n; i++) {
            for (uint32_t j = 0; j < (uint32_t) a->layers_per_block; j++) {
                snprintf (p, sizeof p, "encoder.down_blocks.%u.resnets.%u", i, j);
                cur = next (b, cur, resnet (b, cur, p, (uint32_t) a->block_out_channels[i], 1.0f), &x);
            }
            if (i + 1 < n) { /* downsample_padding 0 in the arch: right/bottom pad, stride 2 */
                snprintf (p, sizeof p, "encoder.down_blocks.%u.downsamplers.0.conv", i);
                cur = next (b, cur, conv (b, cur, p, cur.c, 3, 2, 0, NULL, 1.0f, 0, 0), &x);
            }
        }
        cur = vae_mid (b, cur, &x, "encoder");
        cur = vae_out (b, cur, &x, "encoder", 2 * L);
        if (v->use_quant_conv)
            cur = next (b, cur, conv (b, cur, "quant_conv", 2 * L, 1, 1, 0, NULL, 1.0f, 0, 0), &x);
        u->out_off = cur.off;
        return;
    }
    tensor z = new_tensor (b, L, h, w);
    u->in_off = z.off;
    tensor cur = z;
    if (v->use_post_quant_conv)
        cur = conv (b, z, "post_quant_conv", L, 1, 1, 0, NULL, 1.0f, 0, 0);
    cur = next (b, cur, conv (b, cur, "decoder.conv_in", (uint32_t) a->block_out_channels[n - 1], 3, 1, 0, NULL, 1.0f, 0, 0),
                &z);
    cur = vae_mid (b, cur, &z, "decoder");
    for (uint32_t i = 0; i < n; i++) {
        uint32_t cout = (uint32_t) a->block_out_channels[n - 1 - i];
        for (uint32_t j = 0; j < (uint32_t) a->layers_per_block + 1; j++) {
            snprintf (p, sizeof p, "decoder.up_blocks.%u.resnets.%u", i, j);
            cur = next (b, cur, resnet (b, cur, p, cout, 1.0f), &z);
        }
        if (i + 1 < n) { /* nearest ×2, then conv 3×3 */
            snprintf (p, sizeof p, "decoder.up_blocks.%u.upsamplers.0.conv", i);
            cur = next (b, cur, conv (b, cur, p, cout, 3, 1, 1, NULL, 1.0f, 0, 0), &z);
        }
    }
    cur = vae_out (b, cur, &z, "decoder", (uint32_t) a->out_channels);
    u->out_off = cur.off;
}

/* An arena reference (ARENA, virtual offset) → (its buffer, local offset). */
static void
place (dfx_unet *u, dfx_buffer **buf, uint32_t *off)
{
    if (*buf != ARENA)
        return;
    uint64_t k = *off / u->arena_limit;
    *buf = u->arena[k];
    *off -= (uint32_t) (k * u->arena_limit);
}

void
dfx__unet_program_free (dfx_unet *u)
{
    for (int i = 0; i < u->n_arena; i++)
        dfx_buffer_destroy (u->ctx, u->arena[i]);
    free (u->arena);
    u->arena = NULL;
    u->n_arena = 0;
    free (u->steps);
    u->steps = NULL;
    u->n_steps = u->cap_steps = 0;
    u->batch = u->h = u->w = 0;
}

void
dfx_unet_set_global_attention (dfx_unet *u, int global)
{
    dfx__unet_set_attention_global (u, global);
}

void
dfx__unet_set_attention_global (dfx_unet *u, int global)
{
    if (u->attn_global != (global != 0))
        dfx__unet_program_free (u);
    u->attn_global = global != 0;
}

dfx_status
dfx__unet_plan (dfx_unet *u, uint32_t batch, uint32_t h, uint32_t w)
{
    if (u->steps && u->batch == batch && u->h == h && u->w == w && u->plan_net == u->net)
        return DFX_OK;
    dfx__unet_program_free (u);
    uint32_t mult = u->net == DFX__NET_VAE_DECODER ? 1u : 1u << (u->arch.n_levels - 1);
    static const char *const what[3] = {"U-Net input", "autoencoder image", "autoencoder latent"};
    if (batch == 0 || h == 0 || w == 0 || h % mult || w % mult)
        return dfx__error (u->ctx, DFX_ERR_INVALID_ARGUMENT,
                           "%s %u×%u (batch %u): height and width must be positive multiples of %u", what[u->net], h,
                           w, batch, mult);
    builder *b = calloc (1, sizeof *b);
    if (!b)
        return dfx__error (u->ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory planning the U-Net");
    b->u = u;
    b->batch = batch;
    b->canvas_h = h, b->canvas_w = w;
    dfx_ctx *ctx = u->ctx;
    uint64_t limit = ctx->props.limits.maxStorageBufferRange / sizeof (float);
    if (ctx->max_alloc && ctx->max_alloc / sizeof (float) < limit)
        limit = ctx->max_alloc / sizeof (float);
    if (u->arena_limit_test && u->arena_limit_test < limit)
        limit = u->arena_limit_test;
    b->limit = limit / ALIGN * ALIGN;
    u->arena_limit = b->limit;
    u->batch = batch, u->h = h, u->w = w;
    u->plan_net = u->net;
    if (u->is_vae)
        build_vae (b, h, w);
    else
        build (b, h, w);
    dfx_status st = b->st;
    uint64_t peak = b->peak;
    free (b);
    if (st == DFX_OK) {
        u->n_arena = (int) ((peak + u->arena_limit - 1) / u->arena_limit);
        u->arena = calloc ((size_t) (u->n_arena ? u->n_arena : 1), sizeof *u->arena);
        if (!u->arena)
            st = dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory planning the U-Net");
    }
    for (int k = 0; st == DFX_OK && k < u->n_arena; k++) {
        uint64_t size = peak - (uint64_t) k * u->arena_limit;
        size = size < u->arena_limit ? size : u->arena_limit;
        st = dfx_buffer_create (ctx, size * sizeof (float), &u->arena[k]);
    }
    if (st != DFX_OK) {
        dfx__unet_program_free (u);
        return st;
    }
    u->arena_floats = peak;
    for (int i = 0; i < u->n_steps; i++) {
        dfx__step *s = &u->steps[i];
        switch (s->kind) {
        case DFX__STEP_GEMM:
            place (u, &s->u.gemm.a.buf, &s->u.gemm.a.off), place (u, &s->u.gemm.b.buf, &s->u.gemm.b.off);
            place (u, &s->u.gemm.c.buf, &s->u.gemm.c.off), place (u, &s->u.gemm.res, &s->u.gemm.res_off);
            break;
        case DFX__STEP_CONV:
            place (u, &s->u.conv.in, &s->u.conv.in_off), place (u, &s->u.conv.out, &s->u.conv.out_off);
            place (u, &s->u.conv.res, &s->u.conv.res_off), place (u, &s->u.conv.temb, &s->u.conv.temb_off);
            break;
        case DFX__STEP_GROUPNORM:
            place (u, &s->u.gn.in, &s->u.gn.in_off), place (u, &s->u.gn.out, &s->u.gn.out_off);
            place (u, &s->u.gn.ss, &s->u.gn.ss_off);
            break;
        case DFX__STEP_SOFTMAX: place (u, &s->u.softmax.buf, &s->u.softmax.off); break;
        case DFX__STEP_COPY:
            place (u, &s->u.copy.dst, &s->u.copy.dst_off), place (u, &s->u.copy.src, &s->u.copy.src_off);
            break;
        case DFX__STEP_SILU: place (u, &s->u.silu.buf, &s->u.silu.off); break;
        case DFX__STEP_ATTN_WINDOW:
            place (u, &s->u.aw.q, &s->u.aw.q_off), place (u, &s->u.aw.k, &s->u.aw.k_off);
            place (u, &s->u.aw.v, &s->u.aw.v_off), place (u, &s->u.aw.o, &s->u.aw.o_off);
            break;
        }
    }
    u->in_buf = u->emb_buf = u->out_buf = ARENA;
    place (u, &u->in_buf, &u->in_off);
    place (u, &u->emb_buf, &u->emb_off);
    place (u, &u->out_buf, &u->out_off);
    return DFX_OK;
}
