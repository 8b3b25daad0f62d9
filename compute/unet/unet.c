/* unet.c — loading a diffusers UNet2DModel folder (or an AutoencoderKL's,
 * for vae.c) and running its forward.
 *
 * Loading reads every floating-point tensor of the safetensors file into one
 * device buffer (converted to float32, uploaded once) and indexes it by name;
 * the program builder (unet-graph.c) then looks weights up with their
 * expected shapes, which is where a missing or mis-shaped tensor is refused.
 * A forward uploads the sample and its timestep embedding, records the
 * planned program and downloads the output: one submit.
 */
#include "unet-private.h"
#include "../model/model-files.h"
#include "../model/safetensors.h"
#include "../model/unet-config.h"
#include "../ops/ops-sample.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static int
wt_cmp (const void *a, const void *b)
{
    return strcmp (((const dfx__wt *) a)->name, ((const dfx__wt *) b)->name);
}

static const dfx__wt *
wt_find (const dfx_unet *u, const char *name)
{
    dfx__wt key = {.name = (char *) name};
    return bsearch (&key, u->wt, (size_t) u->n_wt, sizeof *u->wt, wt_cmp);
}

/* Old diffusers attention blocks: query/key/value/proj_attn. */
static const char *
old_attention_name (const char *name, char *buf, size_t size)
{
    static const char *map[][2] = {
        {".to_q.", ".query."}, {".to_k.", ".key."}, {".to_v.", ".value."}, {".to_out.0.", ".proj_attn."}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        const char *at = strstr (name, map[i][0]);
        if (at) {
            snprintf (buf, size, "%.*s%s%s", (int) (at - name), name, map[i][1], at + strlen (map[i][0]));
            return buf;
        }
    }
    return NULL;
}

static void
shape_text (char *buf, size_t size, int ndim, const int64_t *shape)
{
    size_t len = (size_t) snprintf (buf, size, "[");
    for (int i = 0; i < ndim && len < size; i++)
        len += (size_t) snprintf (buf + len, size - len, "%s%lld", i ? ", " : "", (long long) shape[i]);
    if (len < size)
        snprintf (buf + len, size - len, "]");
}

dfx_status
dfx__unet_weight (dfx_unet *u, const char *name, int ndim, const int64_t *shape, dfx_buffer **buf, uint32_t *off)
{
    char alt[200];
    const dfx__wt *t = wt_find (u, name);
    if (!t && old_attention_name (name, alt, sizeof alt))
        t = wt_find (u, alt);
    char want[96], got[96];
    shape_text (want, sizeof want, ndim, shape);
    if (!t)
        return dfx__error (u->ctx, DFX_ERR_FORMAT, "tensor '%s' %s is missing from %s", name, want, u->path);
    bool ok = t->ndim == ndim;
    for (int i = 0; ok && i < ndim; i++)
        ok = t->shape[i] == shape[i];
    /* A linear weight stored as a 1×1 convolution [out, in, 1, 1]. */
    if (!ok && ndim == 2 && t->ndim == 4 && t->shape[0] == shape[0] && t->shape[1] == shape[1] && t->shape[2] == 1 &&
        t->shape[3] == 1)
        ok = true;
    if (!ok) {
        shape_text (got, sizeof got, t->ndim, t->shape);
        return dfx__error (u->ctx, DFX_ERR_FORMAT, "tensor '%s' in %s has shape %s, the config needs %s", t->name,
                           u->path, got, want);
    }
    *buf = u->chunks[t->chunk];
    *off = t->off;
    return DFX_OK;
}

/* Length of the module prefix of a tensor name ("a.b.weight" → 3). */
static size_t
module_len (const char *name)
{
    const char *dot = strrchr (name, '.');
    return dot ? (size_t) (dot - name) : 0;
}

/* Reads the weights of files (one, or the shards of a set) into the
 * device buffers; path names them in messages. */
static dfx_status
load_weights (dfx_unet *u, dfx__st_file **files, int n_files, const char *path)
{
    dfx_ctx *ctx = u->ctx;
    float **host = NULL;
    uint64_t *chunk_floats = NULL;
    dfx_status st = DFX_OK;
    int n = 0;
    for (int k = 0; k < n_files; k++)
        n += dfx__st_count (files[k]);
    u->wt = calloc ((size_t) (n ? n : 1), sizeof *u->wt);
    if (!u->wt)
        goto oom;
    for (int j = 0; j < n; j++) {
        /* Tensor i of file k, file after file. */
        int k = 0, i = j;
        while (i >= dfx__st_count (files[k]))
            i -= dfx__st_count (files[k++]);
        const dfx__st_tensor *t = dfx__st_at (files[k], i);
        if (t->dtype != DFX__DTYPE_F32 && t->dtype != DFX__DTYPE_F16 && t->dtype != DFX__DTYPE_BF16 &&
            t->dtype != DFX__DTYPE_F64)
            continue; /* not a weight (e.g. an integer buffer) */
        if (t->ndim > 4) {
            st = dfx__error (ctx, DFX_ERR_UNSUPPORTED, "tensor '%s' in %s has %d dimensions (at most 4 expected)",
                             t->name, path, t->ndim);
            goto cleanup;
        }
        dfx__wt *w = &u->wt[u->n_wt++];
        if (!(w->name = strdup (t->name)))
            goto oom;
        w->file = k;
        w->ndim = t->ndim;
        for (int d = 0; d < t->ndim; d++)
            w->shape[d] = t->shape[d];
    }
    if (u->n_wt == 0) {
        st = dfx__error (ctx, DFX_ERR_FORMAT, "%s holds no floating-point tensors", path);
        goto cleanup;
    }
    /* Sorted by name, a module's tensors are neighbours: cut buffers only
     * between modules, each at most the storage-buffer range. */
    qsort (u->wt, (size_t) u->n_wt, sizeof *u->wt, wt_cmp);
    for (int i = 1; i < u->n_wt; i++)
        if (strcmp (u->wt[i - 1].name, u->wt[i].name) == 0) {
            st = dfx__error (ctx, DFX_ERR_FORMAT, "tensor '%s' of %s is in two shards (%s and %s)", u->wt[i].name,
                             path, dfx__st_label (files[u->wt[i - 1].file]), dfx__st_label (files[u->wt[i].file]));
            goto cleanup;
        }
    uint64_t limit = ctx->props.limits.maxStorageBufferRange / sizeof (float);
    if (ctx->max_alloc && ctx->max_alloc / sizeof (float) < limit)
        limit = ctx->max_alloc / sizeof (float);
    if (limit > UINT32_MAX)
        limit = UINT32_MAX;
    chunk_floats = calloc ((size_t) u->n_wt, sizeof *chunk_floats);
    if (!chunk_floats)
        goto oom;
    int chunk = 0;
    uint64_t used = 0, module_start = 0;
    for (int i = 0; i < u->n_wt; i++) {
        dfx__wt *w = &u->wt[i];
        uint64_t count = 1;
        for (int d = 0; d < w->ndim; d++)
            count *= (uint64_t) w->shape[d];
        count = (count + 3) / 4 * 4; /* 16-byte aligned tensors */
        bool same_module = i > 0 && module_len (w->name) == module_len (u->wt[i - 1].name) &&
                           strncmp (w->name, u->wt[i - 1].name, module_len (w->name)) == 0;
        if (!same_module)
            module_start = used;
        if (used + count > limit) {
            if (module_start == 0 || (same_module && used - module_start + count > limit) || count > limit) {
                st = dfx__error (ctx, DFX_ERR_UNSUPPORTED,
                                 "tensor '%s' of %s does not fit the device's storage-buffer range (%llu bytes)",
                                 w->name, path, (unsigned long long) (limit * sizeof (float)));
                goto cleanup;
            }
            /* Move the module begun in this chunk to a new one. */
            chunk_floats[chunk] = module_start;
            uint64_t moved = used - module_start;
            chunk++;
            for (int j = i - 1; j >= 0 && u->wt[j].chunk == chunk - 1 && u->wt[j].off >= module_start; j--)
                u->wt[j].chunk = chunk, u->wt[j].off -= (uint32_t) module_start;
            used = moved;
            module_start = 0;
        }
        w->chunk = chunk;
        w->off = (uint32_t) used;
        used += count;
    }
    chunk_floats[chunk] = used;
    u->n_chunks = chunk + 1;
    u->chunks = calloc ((size_t) u->n_chunks, sizeof *u->chunks);
    host = calloc ((size_t) u->n_chunks, sizeof *host);
    if (!u->chunks || !host)
        goto oom;
    for (int c = 0; c < u->n_chunks; c++)
        if (!(host[c] = malloc (chunk_floats[c] * sizeof (float))))
            goto oom;
    for (int i = 0; i < u->n_wt; i++)
        DFX_CHECK (dfx__st_read_f32 (ctx, files[u->wt[i].file], u->wt[i].name, -1, NULL,
                                     host[u->wt[i].chunk] + u->wt[i].off));
    for (int c = 0; c < u->n_chunks; c++) {
        DFX_CHECK (dfx_buffer_create (ctx, chunk_floats[c] * sizeof (float), &u->chunks[c]));
        DFX_CHECK (dfx_buffer_upload (ctx, u->chunks[c], 0, host[c], chunk_floats[c] * sizeof (float)));
        DFX_CHECK (dfx_ctx_flush (ctx)); /* staging freed before the next chunk */
    }
    goto cleanup;
oom:
    st = dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory reading %s", path);
cleanup:
    if (host)
        for (int c = 0; c < u->n_chunks; c++)
            free (host[c]);
    free (host);
    free (chunk_floats);
    return st;
}

dfx_status
dfx_unet_load (dfx_ctx *ctx, const char *model_dir, dfx_unet **out)
{
    return dfx_unet_load_part (ctx, model_dir, "unet", out);
}

dfx_status
dfx_unet_load_part (dfx_ctx *ctx, const char *model_dir, const char *part, dfx_unet **out)
{
    return dfx__net_load (ctx, model_dir, part, 0, out);
}

dfx_status
dfx__net_load (dfx_ctx *ctx, const char *model_dir, const char *part, int vae, dfx_unet **out)
{
    *out = NULL;
    dfx_unet *u = calloc (1, sizeof *u);
    if (!u)
        return dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory loading %s", model_dir);
    u->ctx = ctx;
    dfx__model_files *mf = NULL;
    dfx__st_file **files = NULL;
    dfx_status st;
    DFX_CHECK (dfx__model_files_find (ctx, model_dir, part, ctx->model_variant, &mf));
    if (vae) {
        DFX_CHECK (dfx__vae_config_load (ctx, mf->config, &u->vae));
        dfx__vae_config_to_arch (&u->vae, &u->arch);
        u->is_vae = 1;
    } else {
        DFX_CHECK (dfx__unet_config_load (ctx, mf->config, &u->arch));
    }
    u->path = strdup (mf->weights);
    if (!u->path) {
        st = dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory loading %s", model_dir);
        goto cleanup;
    }
    DFX_CHECK (dfx__model_files_open (ctx, mf, &files));
    st = load_weights (u, files, mf->n_files, u->path);
    for (int i = 0; i < mf->n_files; i++)
        dfx__st_close (files[i]);
    free (files);
    files = NULL;
    if (st != DFX_OK)
        goto cleanup;
    /* Plan the config's own sample size once: this checks every weight now. */
    uint32_t mult = 1u << (u->arch.n_levels - 1);
    uint32_t sh = u->arch.sample_size[0] > 0 ? (uint32_t) u->arch.sample_size[0] : 4 * mult;
    uint32_t sw = u->arch.sample_size[1] > 0 ? (uint32_t) u->arch.sample_size[1] : 4 * mult;
    if (vae) { /* both halves, the decoder last (on the encoder's latent size) */
        u->net = DFX__NET_VAE_ENCODER;
        DFX_CHECK (dfx__unet_plan (u, 1, 4 * mult, 4 * mult));
        u->net = DFX__NET_VAE_DECODER;
        DFX_CHECK (dfx__unet_plan (u, 1, 4, 4));
    } else {
        DFX_CHECK (dfx__unet_plan (u, 1, sh, sw));
    }
    dfx__model_files_free (mf);
    *out = u;
    return DFX_OK;
cleanup:
    dfx__model_files_free (mf);
    dfx_unet_destroy (u);
    return st;
}

void
dfx_unet_destroy (dfx_unet *u)
{
    if (!u)
        return;
    dfx__unet_program_free (u);
    for (int c = 0; c < u->n_chunks; c++)
        dfx_buffer_destroy (u->ctx, u->chunks[c]);
    free (u->chunks);
    for (int i = 0; i < u->n_wt; i++)
        free (u->wt[i].name);
    free (u->wt);
    free (u->path);
    free (u);
}

void
dfx_unet_get_info (const dfx_unet *u, dfx_unet_info *info)
{
    memset (info, 0, sizeof *info);
    info->in_channels = (uint32_t) u->arch.in_channels;
    info->out_channels = (uint32_t) u->arch.out_channels;
    info->sample_height = (uint32_t) u->arch.sample_size[0];
    info->sample_width = (uint32_t) u->arch.sample_size[1];
    info->size_multiple = 1u << (u->arch.n_levels - 1);
    for (int i = 0; i < u->n_wt; i++) {
        uint64_t c = 1;
        for (int d = 0; d < u->wt[i].ndim; d++)
            c *= (uint64_t) u->wt[i].shape[d];
        info->parameters += c;
    }
    for (int c = 0; c < u->n_chunks; c++)
        info->weight_bytes += u->chunks[c] ? dfx_buffer_size (u->chunks[c]) : 0;
    info->activation_bytes = u->arena_floats * sizeof (float);
    info->dispatches = (uint32_t) u->n_steps;
    for (int i = 0; i < u->n_steps; i++) {
        const dfx__step *s = &u->steps[i];
        if (s->kind == DFX__STEP_CONV) {
            const dfx__conv2d_desc *c = &s->u.conv;
            info->conv_flops += 2.0 * c->batch * c->cout * c->oh * c->ow * c->cin * c->ks * c->ks;
        } else if (s->kind == DFX__STEP_GEMM) {
            const dfx__gemm_desc *g = &s->u.gemm;
            info->gemm_flops += 2.0 * g->m * g->n * g->k * (g->batch_outer ? g->batch_outer : 1) *
                                (g->batch_inner ? g->batch_inner : 1);
        }
    }
}

/* Sinusoidal timestep embedding of width c0 (diffusers get_timestep_embedding). */
static void
timestep_embedding (const dfx__unet_config *a, const float *t, uint32_t batch, float *emb)
{
    uint32_t c0 = (uint32_t) a->block_out_channels[0], half = c0 / 2;
    for (uint32_t n = 0; n < batch; n++) {
        float *e = emb + (size_t) n * c0;
        for (uint32_t i = 0; i < half; i++) {
            /* In double, rounded once: for t up to 1000 a float32 argument would
             * already be off by ~1e-4 (diffusers itself works in float32). */
            double f = exp (-log (10000.0) * (double) i / ((double) half - (double) a->freq_shift));
            double arg = (double) t[n] * f;
            float s = (float) sin (arg), c = (float) cos (arg);
            e[i] = a->flip_sin_to_cos ? c : s;
            e[half + i] = a->flip_sin_to_cos ? s : c;
        }
        if (c0 % 2)
            e[c0 - 1] = 0.0f;
    }
}

static dfx_status
record_step (dfx_ctx *ctx, const dfx__step *s)
{
    switch (s->kind) {
    case DFX__STEP_GEMM: return dfx__gemm (ctx, &s->u.gemm);
    case DFX__STEP_CONV: return dfx__conv2d (ctx, &s->u.conv);
    case DFX__STEP_GROUPNORM: return dfx__groupnorm (ctx, &s->u.gn);
    case DFX__STEP_ATTN_WINDOW:
        return dfx__attn_window (ctx, &s->u.aw);
    case DFX__STEP_SOFTMAX:
        return dfx__softmax (ctx, s->u.softmax.buf, s->u.softmax.off, s->u.softmax.rows, s->u.softmax.cols, s->u.softmax.scale);
    case DFX__STEP_COPY:
        return dfx__copy_channels (ctx, s->u.copy.dst, s->u.copy.dst_off, s->u.copy.cd, s->u.copy.coff, s->u.copy.src,
                                   s->u.copy.src_off, s->u.copy.cs, s->u.copy.batch, s->u.copy.hw);
    case DFX__STEP_SILU: {
        dfx_buffer *bufs[] = {s->u.silu.buf, s->u.silu.buf};
        return dfx__eltwise (ctx, "silu", bufs, 2, s->u.silu.off, s->u.silu.n, 0.0f);
    }
    }
    return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "unknown U-Net step");
}

/* Uploads the timestep embedding and records the planned program (the
 * sample is already in the arena). */
static dfx_status
record_program (dfx_unet *u, uint32_t batch, const float *timesteps)
{
    size_t nemb = (size_t) batch * (uint32_t) u->arch.block_out_channels[0];
    float *emb = malloc (nemb * sizeof (float));
    if (!emb)
        return dfx__error (u->ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory for the U-Net input");
    timestep_embedding (&u->arch, timesteps, batch, emb);
    dfx_status st = dfx_buffer_upload (u->ctx, u->emb_buf, (size_t) u->emb_off * 4, emb, nemb * sizeof (float));
    free (emb);
    for (int i = 0; i < u->n_steps && st == DFX_OK; i++)
        st = record_step (u->ctx, &u->steps[i]);
    return st;
}

dfx_status
dfx__net_record (dfx_unet *u)
{
    dfx_status st = DFX_OK;
    for (int i = 0; i < u->n_steps && st == DFX_OK; i++)
        st = record_step (u->ctx, &u->steps[i]);
    return st;
}

dfx_status
dfx_unet_forward (dfx_unet *u, uint32_t batch, uint32_t height, uint32_t width, const float *sample,
                  const float *timesteps, float *out)
{
    dfx_ctx *ctx = u->ctx;
    const dfx__unet_config *a = &u->arch;
    dfx_status st = dfx__unet_plan (u, batch, height, width);
    if (st != DFX_OK)
        return st;
    size_t nin = (size_t) batch * (uint32_t) a->in_channels * height * width;
    size_t nout = (size_t) batch * (uint32_t) a->out_channels * height * width;
    float *host = malloc (nin * sizeof (float));
    if (!host)
        return dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory for the U-Net input");
    for (size_t i = 0; i < nin; i++) {
        float v = a->center_input_sample ? 2.0f * sample[i] - 1.0f : sample[i];
        if (!isfinite (v)) {
            free (host);
            return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "U-Net input element %zu is not finite", i);
        }
        host[i] = v;
    }
    DFX_CHECK (dfx_buffer_upload (ctx, u->in_buf, (size_t) u->in_off * 4, host, nin * sizeof (float)));
    DFX_CHECK (record_program (u, batch, timesteps));
    DFX_CHECK (dfx_buffer_download (ctx, u->out_buf, (size_t) u->out_off * 4, out, nout * sizeof (float)));
cleanup:
    free (host);
    return st;
}

dfx_status
dfx__unet_forward_dev (dfx_unet *u, uint32_t batch, uint32_t height, uint32_t width, dfx_buffer *in, size_t in_off,
                       float in_scale, const float *timesteps, dfx_buffer *out, size_t out_off)
{
    dfx_ctx *ctx = u->ctx;
    const dfx__unet_config *a = &u->arch;
    dfx_status st = dfx__unet_plan (u, batch, height, width);
    if (st != DFX_OK)
        return st;
    size_t nin = (size_t) batch * (uint32_t) a->in_channels * height * width;
    size_t nout = (size_t) batch * (uint32_t) a->out_channels * height * width;
    /* The sample into the arena: in_scale·x, then 2x − 1 when the config centres its input. */
    if (a->center_input_sample)
        DFX_CHECK (dfx__lincomb (ctx, u->in_buf, u->in_off, 2.0f * in_scale, in, in_off, 0.0f, NULL, 0, -1.0f, nin));
    else
        DFX_CHECK (dfx__lincomb (ctx, u->in_buf, u->in_off, in_scale, in, in_off, 0.0f, NULL, 0, 0.0f, nin));
    DFX_CHECK (record_program (u, batch, timesteps));
    DFX_CHECK (dfx__lincomb (ctx, out, out_off, 1.0f, u->out_buf, u->out_off, 0.0f, NULL, 0, 0.0f, nout));
cleanup:
    return st;
}
