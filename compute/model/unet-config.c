/* unet-config.c — parsing and checking diffusers' UNet2DModel config.json,
 * and the walk over the weights it implies.
 *
 * Defaults and semantics follow diffusers' UNet2DModel.__init__ and the
 * blocks it builds (unet_2d.py, unet_2d_blocks.py, resnet.py, attention
 * processor): e.g. time_embed_dim = time_embedding_dim or 4·C0, the mid
 * attention's GroupNorm exists only with attn_norm_num_groups or the
 * "default" time scale shift, attention_head_dim null means one head.
 * Unknown fields (_diffusers_version, _name_or_path, ...) are ignored.
 * Building the network is the loader's job, not this file's.
 */
#include "unet-config.h"

#include "config-json.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define MAX_CONFIG_BYTES (16u << 20)

void
dfx__unet_config_defaults (dfx__unet_config *c)
{
    static const int channels[4] = {224, 448, 672, 896};
    memset (c, 0, sizeof *c);
    c->in_channels = 3;
    c->out_channels = 3;
    c->time_embedding_dim = 4 * channels[0];
    c->freq_shift = 0;
    c->flip_sin_to_cos = 1;
    c->n_levels = 4;
    for (int i = 0; i < 4; i++)
        c->block_out_channels[i] = channels[i];
    /* ("DownBlock2D", "AttnDownBlock2D" ×3), ("AttnUpBlock2D" ×3, "UpBlock2D") */
    c->down_attention[1] = c->down_attention[2] = c->down_attention[3] = 1;
    c->up_attention[0] = c->up_attention[1] = c->up_attention[2] = 1;
    c->layers_per_block = 2;
    c->mid_block = 1;
    c->mid_attention = 1;
    c->mid_attention_groups = 32;
    c->mid_block_scale_factor = 1;
    c->downsample_padding = 1;
    c->attention_head_dim = 8;
    c->norm_num_groups = 32;
    c->norm_eps = 1e-5;
}

/* ---- Architecture walk ---------------------------------------------------- */

typedef struct walker {
    dfx__unet_tensor_fn fn;
    void *user;
    int count;
    int stop;
} walker;

static void
emit (walker *w, const char *prefix, const char *suffix, int ndim, int64_t a, int64_t b, int64_t c, int64_t d)
{
    if (w->stop)
        return;
    char name[160];
    snprintf (name, sizeof name, "%s.%s", prefix, suffix);
    const int64_t shape[4] = {a, b, c, d};
    w->count++;
    if (w->fn && w->fn (w->user, name, ndim, shape))
        w->stop = 1;
}

static void
walk_conv (walker *w, const char *prefix, int64_t ci, int64_t co, int64_t k)
{
    emit (w, prefix, "weight", 4, co, ci, k, k);
    emit (w, prefix, "bias", 1, co, 0, 0, 0);
}

static void
walk_linear (walker *w, const char *prefix, int64_t in, int64_t out)
{
    emit (w, prefix, "weight", 2, out, in, 0, 0);
    emit (w, prefix, "bias", 1, out, 0, 0, 0);
}

static void
walk_norm (walker *w, const char *prefix, int64_t ch)
{
    emit (w, prefix, "weight", 1, ch, 0, 0, 0);
    emit (w, prefix, "bias", 1, ch, 0, 0, 0);
}

static void
walk_resnet (walker *w, const dfx__unet_config *c, const char *prefix, int ci, int co)
{
    char p[128];
    snprintf (p, sizeof p, "%s.norm1", prefix);
    walk_norm (w, p, ci);
    snprintf (p, sizeof p, "%s.conv1", prefix);
    walk_conv (w, p, ci, co, 3);
    snprintf (p, sizeof p, "%s.time_emb_proj", prefix);
    walk_linear (w, p, c->time_embedding_dim, (int64_t) co * (c->scale_shift ? 2 : 1));
    snprintf (p, sizeof p, "%s.norm2", prefix);
    walk_norm (w, p, co);
    snprintf (p, sizeof p, "%s.conv2", prefix);
    walk_conv (w, p, co, co, 3);
    if (ci != co) {
        snprintf (p, sizeof p, "%s.conv_shortcut", prefix);
        walk_conv (w, p, ci, co, 1);
    }
}

/* heads × head_dim = ch (checked), so every projection is ch → ch. */
static void
walk_attention (walker *w, const char *prefix, int ch, int with_norm)
{
    static const char *const proj[4] = {"to_q", "to_k", "to_v", "to_out.0"};
    char p[128];
    if (with_norm) {
        snprintf (p, sizeof p, "%s.group_norm", prefix);
        walk_norm (w, p, ch);
    }
    for (int i = 0; i < 4; i++) {
        snprintf (p, sizeof p, "%s.%s", prefix, proj[i]);
        walk_linear (w, p, ch, ch);
    }
}

/* Channels of up block i (i = 0 deepest): out, the previous block's output
 * and the skip of its last resnet, as diffusers computes them. */
static void
up_channels (const dfx__unet_config *c, int i, int *out, int *prev, int *skip)
{
    int n = c->n_levels;
    *out = c->block_out_channels[n - 1 - i];
    *prev = c->block_out_channels[n - 1 - (i > 0 ? i - 1 : 0)];
    *skip = c->block_out_channels[n - 1 - (i + 1 < n ? i + 1 : n - 1)];
}

int
dfx__unet_config_foreach_tensor (const dfx__unet_config *c, dfx__unet_tensor_fn fn, void *user)
{
    walker w = {fn, user, 0, 0};
    const int n = c->n_levels, L = c->layers_per_block, c0 = c->block_out_channels[0];
    char p[128];

    walk_conv (&w, "conv_in", c->in_channels, c0, 3);
    walk_linear (&w, "time_embedding.linear_1", c0, c->time_embedding_dim);
    walk_linear (&w, "time_embedding.linear_2", c->time_embedding_dim, c->time_embedding_dim);

    int ch = c0;
    for (int i = 0; i < n; i++) {
        int co = c->block_out_channels[i];
        for (int j = 0; j < L; j++) {
            snprintf (p, sizeof p, "down_blocks.%d.resnets.%d", i, j);
            walk_resnet (&w, c, p, j == 0 ? ch : co, co);
            if (c->down_attention[i]) {
                snprintf (p, sizeof p, "down_blocks.%d.attentions.%d", i, j);
                walk_attention (&w, p, co, 1);
            }
        }
        if (i < n - 1) {
            snprintf (p, sizeof p, "down_blocks.%d.downsamplers.0.conv", i);
            walk_conv (&w, p, co, co, 3);
        }
        ch = co;
    }

    if (c->mid_block) {
        int cm = c->block_out_channels[n - 1];
        walk_resnet (&w, c, "mid_block.resnets.0", cm, cm);
        if (c->mid_attention)
            walk_attention (&w, "mid_block.attentions.0", cm, c->mid_attention_groups > 0);
        walk_resnet (&w, c, "mid_block.resnets.1", cm, cm);
    }

    for (int i = 0; i < n; i++) {
        int co, prev, skip;
        up_channels (c, i, &co, &prev, &skip);
        for (int j = 0; j <= L; j++) {
            snprintf (p, sizeof p, "up_blocks.%d.resnets.%d", i, j);
            walk_resnet (&w, c, p, (j == 0 ? prev : co) + (j == L ? skip : co), co);
            if (c->up_attention[i]) {
                snprintf (p, sizeof p, "up_blocks.%d.attentions.%d", i, j);
                walk_attention (&w, p, co, 1);
            }
        }
        if (i < n - 1) {
            snprintf (p, sizeof p, "up_blocks.%d.upsamplers.0.conv", i);
            walk_conv (&w, p, co, co, 3);
        }
    }

    walk_norm (&w, "conv_norm_out", c0);
    walk_conv (&w, "conv_out", c0, c->out_channels, 3);
    return w.count;
}

static int
add_params (void *user, const char *name, int ndim, const int64_t *shape)
{
    int64_t n = 1;
    for (int i = 0; i < ndim; i++)
        n *= shape[i];
    *(int64_t *) user += n;
    return 0;
}

int
dfx__unet_config_tensor_count (const dfx__unet_config *c)
{
    return dfx__unet_config_foreach_tensor (c, NULL, NULL);
}

int64_t
dfx__unet_config_param_count (const dfx__unet_config *c)
{
    int64_t total = 0;
    dfx__unet_config_foreach_tensor (c, add_params, &total);
    return total;
}

/* ---- Consistency ------------------------------------------------------------- */

static dfx_status
check_range (dfx_ctx *ctx, const char *label, const char *field, long long v, long long lo, long long hi)
{
    if (v < lo || v > hi)
        return dfx__error (ctx, DFX_ERR_FORMAT, "%s: field '%s' is %lld, expected %lld to %lld", label, field, v, lo,
                           hi);
    return DFX_OK;
}

static dfx_status
check_groups (dfx_ctx *ctx, const char *label, int groups, const char *field, int ch, const char *where)
{
    if (ch % groups != 0)
        return dfx__error (ctx, DFX_ERR_FORMAT, "%s: field '%s' is %d, which does not divide the %d channels of %s",
                           label, field, groups, ch, where);
    return DFX_OK;
}

static dfx_status
check_heads (dfx_ctx *ctx, const char *label, int head_dim, int ch, const char *where)
{
    if (head_dim && ch % head_dim != 0)
        return dfx__error (ctx, DFX_ERR_UNSUPPORTED,
                           "%s: field 'attention_head_dim' is %d, which does not divide the %d channels of %s "
                           "(a non-integer number of heads)", label, head_dim, ch, where);
    return DFX_OK;
}

dfx_status
dfx__unet_config_check (dfx_ctx *ctx, const dfx__unet_config *c, const char *label)
{
    dfx_status st = DFX_OK;
    const int maxc = DFX__UNET_MAX_CHANNELS;
    char where[96];

    DFX_CHECK (check_range (ctx, label, "sample_size", c->sample_size[0], 0, maxc));
    DFX_CHECK (check_range (ctx, label, "sample_size", c->sample_size[1], 0, maxc));
    if ((c->sample_size[0] == 0) != (c->sample_size[1] == 0))
        return dfx__error (ctx, DFX_ERR_FORMAT, "%s: field 'sample_size' is [%d, %d], expected both or neither zero",
                           label, c->sample_size[0], c->sample_size[1]);
    DFX_CHECK (check_range (ctx, label, "in_channels", c->in_channels, 1, maxc));
    DFX_CHECK (check_range (ctx, label, "out_channels", c->out_channels, 1, maxc));
    DFX_CHECK (check_range (ctx, label, "block_out_channels (length)", c->n_levels, 1, DFX__UNET_MAX_LEVELS));
    for (int i = 0; i < c->n_levels; i++)
        DFX_CHECK (check_range (ctx, label, "block_out_channels", c->block_out_channels[i], 1, maxc));
    DFX_CHECK (check_range (ctx, label, "time_embedding_dim", c->time_embedding_dim, 1, 4 * maxc));
    DFX_CHECK (check_range (ctx, label, "layers_per_block", c->layers_per_block, 1, DFX__UNET_MAX_LAYERS));
    DFX_CHECK (check_range (ctx, label, "norm_num_groups", c->norm_num_groups, 1, maxc));
    DFX_CHECK (check_range (ctx, label, "attention_head_dim", c->attention_head_dim, 0, maxc));
    DFX_CHECK (check_range (ctx, label, "attn_norm_num_groups", c->mid_attention_groups, 0, maxc));
    if (c->downsample_padding != 0 && c->downsample_padding != 1)
        return dfx__error (ctx, DFX_ERR_UNSUPPORTED, "%s: field 'downsample_padding' is %d, only 0 and 1 are supported",
                           label, c->downsample_padding);
    if (!isfinite (c->freq_shift) || fabs (c->freq_shift) > 1e6)
        return dfx__error (ctx, DFX_ERR_FORMAT, "%s: field 'freq_shift' is %g, out of range", label, c->freq_shift);
    int half = c->block_out_channels[0] / 2;
    if (half > 0 && (double) half == c->freq_shift)
        return dfx__error (ctx, DFX_ERR_FORMAT,
                           "%s: field 'freq_shift' is %g, equal to half of block_out_channels[0] (the time "
                           "embedding would divide by zero)", label, c->freq_shift);
    if (!isfinite (c->mid_block_scale_factor) || c->mid_block_scale_factor == 0 ||
        fabs (c->mid_block_scale_factor) > 1e6 || fabs (c->mid_block_scale_factor) < 1e-6)
        return dfx__error (ctx, DFX_ERR_FORMAT, "%s: field 'mid_block_scale_factor' is %g, out of range", label,
                           c->mid_block_scale_factor);
    if (!isfinite (c->norm_eps) || c->norm_eps <= 0 || c->norm_eps > 1)
        return dfx__error (ctx, DFX_ERR_FORMAT, "%s: field 'norm_eps' is %g, expected a number in (0, 1]", label,
                           c->norm_eps);
    if (c->mid_attention && !c->mid_block)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "%s: a mid attention without a mid block", label);

    /* Every GroupNorm: resnet inputs and outputs, attentions, conv_norm_out. */
    const int n = c->n_levels, g = c->norm_num_groups;
    int ch = c->block_out_channels[0];
    for (int i = 0; i < n; i++) {
        int co = c->block_out_channels[i];
        snprintf (where, sizeof where, "down_blocks.%d.resnets.0.norm1", i);
        DFX_CHECK (check_groups (ctx, label, g, "norm_num_groups", ch, where));
        snprintf (where, sizeof where, "down block %d (block_out_channels[%d])", i, i);
        DFX_CHECK (check_groups (ctx, label, g, "norm_num_groups", co, where));
        if (c->down_attention[i])
            DFX_CHECK (check_heads (ctx, label, c->attention_head_dim, co, where));
        ch = co;
    }
    if (c->mid_attention) {
        if (c->mid_attention_groups)
            DFX_CHECK (check_groups (ctx, label, c->mid_attention_groups, "attn_norm_num_groups",
                                     c->block_out_channels[n - 1], "mid_block.attentions.0.group_norm"));
        DFX_CHECK (check_heads (ctx, label, c->attention_head_dim, c->block_out_channels[n - 1],
                                "mid_block.attentions.0"));
    }
    for (int i = 0; i < n; i++) {
        int co, prev, skip;
        up_channels (c, i, &co, &prev, &skip);
        for (int j = 0; j <= c->layers_per_block; j++) {
            int in = (j == 0 ? prev : co) + (j == c->layers_per_block ? skip : co);
            snprintf (where, sizeof where, "up_blocks.%d.resnets.%d.norm1", i, j);
            DFX_CHECK (check_groups (ctx, label, g, "norm_num_groups", in, where));
        }
        if (c->up_attention[i]) {
            snprintf (where, sizeof where, "up_blocks.%d.attentions", i);
            DFX_CHECK (check_heads (ctx, label, c->attention_head_dim, co, where));
        }
    }
cleanup:
    return st;
}

/* ---- Parsing ------------------------------------------------------------------- */

/* A field that must be absent or null (a feature dfx does not run). */
static dfx_status
get_null (dfx_ctx *ctx, const cJSON *root, const char *key, const char *label)
{
    const cJSON *v;
    dfx_status st = dfx__json_member (ctx, root, key, label, &v);
    if (st != DFX_OK || dfx__json_is_null (v))
        return st;
    char val[96] = "";
    if (cJSON_IsString (v))
        snprintf (val, sizeof val, " '%s'", v->valuestring);
    else if (cJSON_IsNumber (v))
        snprintf (val, sizeof val, " %g", v->valuedouble);
    char shown[100];
    return dfx__error (ctx, DFX_ERR_UNSUPPORTED, "%s: field '%s' is %s%s; dfx supports only null (no class "
                       "conditioning)", label, key, dfx__json_type_name (v), dfx__printable (shown, sizeof shown, val));
}

static dfx_status
parse_tree (dfx_ctx *ctx, const cJSON *root, const char *label, dfx__unet_config *c)
{
    dfx_status st = DFX_OK;
    const cJSON *v;
    static const char *const unet_class[] = {"UNet2DModel", NULL};
    static const char *const positional[] = {"positional", NULL};
    static const char *const mid_types[] = {"UNetMidBlock2D", NULL};
    static const char *const conv_only[] = {"conv", NULL};
    static const char *const silu[] = {"silu", "swish", NULL};
    static const char *const shifts[] = {"default", "scale_shift", NULL};
    /* Block names by their index, which is the level's attention flag. */
    static const char *const down_types[] = {"DownBlock2D", "AttnDownBlock2D", NULL};
    static const char *const up_types[] = {"UpBlock2D", "AttnUpBlock2D", NULL};
    int idx = 0;

    DFX_CHECK (dfx__json_get_choice (ctx, root, "_class_name", label, unet_class, 0, &idx));

    /* sample_size: null, an int, or [height, width]. */
    DFX_CHECK (dfx__json_get_size2 (ctx, root, "sample_size", label, DFX__UNET_MAX_CHANNELS, c->sample_size, NULL));

    const int64_t maxc = DFX__UNET_MAX_CHANNELS;
    DFX_CHECK (dfx__json_get_int (ctx, root, "in_channels", label, 1, maxc, &c->in_channels));
    DFX_CHECK (dfx__json_get_int (ctx, root, "out_channels", label, 1, maxc, &c->out_channels));
    DFX_CHECK (dfx__json_get_bool (ctx, root, "center_input_sample", label, &c->center_input_sample));
    DFX_CHECK (dfx__json_get_choice (ctx, root, "time_embedding_type", label, positional, 0, &idx));
    DFX_CHECK (dfx__json_get_number (ctx, root, "freq_shift", label, -1e6, 1e6, &c->freq_shift));
    DFX_CHECK (dfx__json_get_bool (ctx, root, "flip_sin_to_cos", label, &c->flip_sin_to_cos));

    int n_down = c->n_levels, n_up = c->n_levels;
    /* diffusers strips a "UNetRes" prefix from block names. */
    DFX_CHECK (dfx__json_get_name_array (ctx, root, "down_block_types", label, down_types, "UNetRes",
                                         DFX__UNET_MAX_LEVELS, c->down_attention, &n_down));
    DFX_CHECK (dfx__json_get_name_array (ctx, root, "up_block_types", label, up_types, "UNetRes",
                                         DFX__UNET_MAX_LEVELS, c->up_attention, &n_up));
    if (n_down != n_up)
        return dfx__error (ctx, DFX_ERR_FORMAT, "%s: field 'up_block_types' has %d entries but 'down_block_types' %d",
                           label, n_up, n_down);

    int n_ch = c->n_levels;
    DFX_CHECK (dfx__json_get_int_array (ctx, root, "block_out_channels", label, DFX__UNET_MAX_LEVELS, 1, maxc,
                                        c->block_out_channels, &n_ch));
    if (n_ch != n_down)
        return dfx__error (ctx, DFX_ERR_FORMAT,
                           "%s: field 'block_out_channels' has %d entries but 'down_block_types' %d", label, n_ch,
                           n_down);
    c->n_levels = n_ch;
    for (int i = n_ch; i < DFX__UNET_MAX_LEVELS; i++)
        c->block_out_channels[i] = c->down_attention[i] = c->up_attention[i] = 0;

    /* time_embedding_dim: diffusers takes `time_embedding_dim or 4·C0`. */
    c->time_embedding_dim = 0;
    DFX_CHECK (dfx__json_member (ctx, root, "time_embedding_dim", label, &v));
    if (!dfx__json_is_null (v)) {
        int64_t x;
        DFX_CHECK (dfx__json_int (ctx, v, "time_embedding_dim", label, 0, 4 * maxc, &x));
        c->time_embedding_dim = (int) x;
    }
    if (c->time_embedding_dim == 0)
        c->time_embedding_dim = 4 * c->block_out_channels[0];

    idx = 0;
    DFX_CHECK (dfx__json_get_choice (ctx, root, "mid_block_type", label, mid_types, 1, &idx));
    c->mid_block = idx >= 0;
    DFX_CHECK (dfx__json_get_int (ctx, root, "layers_per_block", label, 1, DFX__UNET_MAX_LAYERS, &c->layers_per_block));
    DFX_CHECK (dfx__json_get_number (ctx, root, "mid_block_scale_factor", label, -1e6, 1e6, &c->mid_block_scale_factor));
    DFX_CHECK (dfx__json_get_int (ctx, root, "downsample_padding", label, 0, 1 << 16, &c->downsample_padding));
    /* null means "conv" in diffusers' get_down_block / get_up_block. */
    DFX_CHECK (dfx__json_get_choice (ctx, root, "downsample_type", label, conv_only, 1, &idx));
    DFX_CHECK (dfx__json_get_choice (ctx, root, "upsample_type", label, conv_only, 1, &idx));
    DFX_CHECK (dfx__json_get_number (ctx, root, "dropout", label, 0, 1, &c->dropout));
    static const char *const fisher_outputs[] = {"second_moment", "variance_ratio", NULL};
    idx = DFX__FISHER_SECOND_MOMENT;
    DFX_CHECK (dfx__json_get_choice (ctx, root, "_dfx_fisher_output", label, fisher_outputs, 0, &idx));
    c->fisher_output = idx;
    DFX_CHECK (dfx__json_get_choice (ctx, root, "act_fn", label, silu, 0, &idx));

    DFX_CHECK (dfx__json_member (ctx, root, "attention_head_dim", label, &v));
    if (v) {
        int64_t x = 0;
        if (!cJSON_IsNull (v))
            DFX_CHECK (dfx__json_int (ctx, v, "attention_head_dim", label, 1, maxc, &x));
        c->attention_head_dim = (int) x;
    }
    DFX_CHECK (dfx__json_get_int (ctx, root, "norm_num_groups", label, 1, maxc, &c->norm_num_groups));
    int attn_groups = 0;
    DFX_CHECK (dfx__json_member (ctx, root, "attn_norm_num_groups", label, &v));
    if (!dfx__json_is_null (v)) {
        int64_t x;
        DFX_CHECK (dfx__json_int (ctx, v, "attn_norm_num_groups", label, 1, maxc, &x));
        attn_groups = (int) x;
    }
    DFX_CHECK (dfx__json_get_number (ctx, root, "norm_eps", label, 1e-30, 1, &c->norm_eps));
    idx = c->scale_shift;
    DFX_CHECK (dfx__json_get_choice (ctx, root, "resnet_time_scale_shift", label, shifts, 0, &idx));
    c->scale_shift = idx;
    int add_attention = 1;
    DFX_CHECK (dfx__json_get_bool (ctx, root, "add_attention", label, &add_attention));
    DFX_CHECK (get_null (ctx, root, "class_embed_type", label));
    DFX_CHECK (get_null (ctx, root, "num_class_embeds", label));

    /* UNetMidBlock2D: attn_groups defaults to resnet_groups only with the
     * "default" time scale shift; otherwise the attention has no GroupNorm. */
    c->mid_attention = c->mid_block && add_attention;
    c->mid_attention_groups = attn_groups ? attn_groups : (c->scale_shift ? 0 : c->norm_num_groups);
    if (!c->mid_attention)
        c->mid_attention_groups = 0;
cleanup:
    return st;
}

dfx_status
dfx__unet_config_parse (dfx_ctx *ctx, const char *json, size_t len, const char *label, dfx__unet_config *out)
{
    dfx_status st;
    cJSON *root = NULL;
    dfx__unet_config c;
    if (!label)
        label = "<unet config>";
    dfx__unet_config_defaults (&c);
    DFX_CHECK (dfx__json_parse_object (ctx, json, len, label, &root));
    DFX_CHECK (parse_tree (ctx, root, label, &c));
    DFX_CHECK (dfx__unet_config_check (ctx, &c, label));
    *out = c;
cleanup:
    cJSON_Delete (root);
    return st;
}

dfx_status
dfx__unet_config_load (dfx_ctx *ctx, const char *path, dfx__unet_config *out)
{
    char *text = NULL;
    size_t len = 0;
    dfx_status st = dfx__read_text_file (ctx, path, MAX_CONFIG_BYTES, &text, &len);
    if (st == DFX_OK)
        st = dfx__unet_config_parse (ctx, text, len, path, out);
    dfx__free (text);
    return st;
}
