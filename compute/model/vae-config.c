/* vae-config.c — parsing and checking diffusers' AutoencoderKL config.json.
 *
 * Defaults follow diffusers' AutoencoderKL.__init__ (in/out_channels 3,
 * one DownEncoderBlock2D/UpDecoderBlock2D of 64 channels, layers_per_block
 * 1, latent_channels 4, norm_num_groups 32, sample_size 32, scaling_factor
 * 0.18215, use_quant_conv / use_post_quant_conv / mid_block_add_attention
 * true).  Building the network is unet-graph.c's job, not this file's.
 */
#include "vae-config.h"

#include "config-json.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define MAX_CONFIG_BYTES (16u << 20)

static void
defaults (dfx__vae_config *c)
{
    memset (c, 0, sizeof *c);
    c->sample_size[0] = c->sample_size[1] = 32;
    c->in_channels = c->out_channels = 3;
    c->latent_channels = 4;
    c->n_levels = 1;
    c->block_out_channels[0] = 64;
    c->layers_per_block = 1;
    c->norm_num_groups = 32;
    c->use_quant_conv = c->use_post_quant_conv = c->mid_attention = 1;
    c->scaling_factor = 0.18215;
}

/* latents_mean / latents_std: null or latent_channels numbers (metadata). */
static dfx_status
get_latent_stats (dfx_ctx *ctx, const cJSON *root, const char *key, const char *label, int latent_channels)
{
    const cJSON *v;
    dfx_status st = dfx__json_member (ctx, root, key, label, &v);
    if (st != DFX_OK || dfx__json_is_null (v))
        return st;
    if (!cJSON_IsArray (v) || cJSON_GetArraySize (v) != latent_channels)
        return dfx__error (ctx, DFX_ERR_FORMAT, "%s: field '%s' is %s, expected null or %d numbers (latent_channels)",
                           label, key, cJSON_IsArray (v) ? "an array of another length" : dfx__json_type_name (v),
                           latent_channels);
    int i = 0;
    for (const cJSON *e = v->child; e; e = e->next, i++) {
        char field[48];
        double x;
        snprintf (field, sizeof field, "%s[%d]", key, i);
        DFX_CHECK (dfx__json_number (ctx, e, field, label, -1e30, 1e30, &x));
    }
cleanup:
    return st;
}

static dfx_status
parse_tree (dfx_ctx *ctx, const cJSON *root, const char *label, dfx__vae_config *c)
{
    dfx_status st = DFX_OK;
    const cJSON *v;
    static const char *const vae_class[] = {"AutoencoderKL", NULL};
    static const char *const silu[] = {"silu", "swish", NULL};
    static const char *const down_types[] = {"DownEncoderBlock2D", NULL};
    static const char *const up_types[] = {"UpDecoderBlock2D", NULL};
    const int64_t maxc = DFX__UNET_MAX_CHANNELS;
    int idx = 0, force_upcast = 1;

    DFX_CHECK (dfx__json_get_choice (ctx, root, "_class_name", label, vae_class, 0, &idx));
    int null_size = 0;
    DFX_CHECK (dfx__json_get_size2 (ctx, root, "sample_size", label, maxc, c->sample_size, &null_size));
    if (null_size)
        c->sample_size[0] = c->sample_size[1] = 0;
    DFX_CHECK (dfx__json_get_int (ctx, root, "in_channels", label, 1, maxc, &c->in_channels));
    DFX_CHECK (dfx__json_get_int (ctx, root, "out_channels", label, 1, maxc, &c->out_channels));
    DFX_CHECK (dfx__json_get_int (ctx, root, "latent_channels", label, 1, maxc, &c->latent_channels));
    DFX_CHECK (dfx__json_get_int (ctx, root, "layers_per_block", label, 1, DFX__UNET_MAX_LAYERS, &c->layers_per_block));
    DFX_CHECK (dfx__json_get_int (ctx, root, "norm_num_groups", label, 1, maxc, &c->norm_num_groups));
    DFX_CHECK (dfx__json_get_choice (ctx, root, "act_fn", label, silu, 0, &idx));
    DFX_CHECK (dfx__json_get_bool (ctx, root, "use_quant_conv", label, &c->use_quant_conv));
    DFX_CHECK (dfx__json_get_bool (ctx, root, "use_post_quant_conv", label, &c->use_post_quant_conv));
    DFX_CHECK (dfx__json_get_bool (ctx, root, "mid_block_add_attention", label, &c->mid_attention));
    DFX_CHECK (dfx__json_get_bool (ctx, root, "force_upcast", label, &force_upcast));
    DFX_CHECK (dfx__json_get_number (ctx, root, "scaling_factor", label, -1e30, 1e30, &c->scaling_factor));
    if (c->scaling_factor == 0)
        return dfx__error (ctx, DFX_ERR_FORMAT, "%s: field 'scaling_factor' is 0, expected a non-zero number", label);
    DFX_CHECK (dfx__json_member (ctx, root, "shift_factor", label, &v));
    if (!dfx__json_is_null (v))
        DFX_CHECK (dfx__json_number (ctx, v, "shift_factor", label, -1e30, 1e30, &c->shift_factor));
    DFX_CHECK (get_latent_stats (ctx, root, "latents_mean", label, c->latent_channels));
    DFX_CHECK (get_latent_stats (ctx, root, "latents_std", label, c->latent_channels));

    int n_down = c->n_levels, n_up = c->n_levels, n_ch = c->n_levels;
    DFX_CHECK (dfx__json_get_name_array (ctx, root, "down_block_types", label, down_types, NULL,
                                         DFX__UNET_MAX_LEVELS, NULL, &n_down));
    DFX_CHECK (dfx__json_get_name_array (ctx, root, "up_block_types", label, up_types, NULL, DFX__UNET_MAX_LEVELS,
                                         NULL, &n_up));
    DFX_CHECK (dfx__json_get_int_array (ctx, root, "block_out_channels", label, DFX__UNET_MAX_LEVELS, 1, maxc,
                                        c->block_out_channels, &n_ch));
    if (n_down != n_ch)
        return dfx__error (ctx, DFX_ERR_FORMAT,
                           "%s: field 'down_block_types' has %d entries but 'block_out_channels' %d", label, n_down,
                           n_ch);
    if (n_up != n_ch)
        return dfx__error (ctx, DFX_ERR_FORMAT, "%s: field 'up_block_types' has %d entries but 'block_out_channels' %d",
                           label, n_up, n_ch);
    c->n_levels = n_ch;
    for (int i = 0; i < n_ch; i++)
        if (c->block_out_channels[i] % c->norm_num_groups)
            return dfx__error (ctx, DFX_ERR_FORMAT,
                               "%s: field 'norm_num_groups' is %d, which does not divide block_out_channels[%d] = %d",
                               label, c->norm_num_groups, i, c->block_out_channels[i]);
cleanup:
    return st;
}

dfx_status
dfx__vae_config_parse (dfx_ctx *ctx, const char *json, size_t len, const char *label, dfx__vae_config *out)
{
    dfx_status st;
    cJSON *root = NULL;
    dfx__vae_config c;
    if (!label)
        label = "<vae config>";
    defaults (&c);
    DFX_CHECK (dfx__json_parse_object (ctx, json, len, label, &root));
    DFX_CHECK (parse_tree (ctx, root, label, &c));
    *out = c;
cleanup:
    cJSON_Delete (root);
    return st;
}

dfx_status
dfx__vae_config_load (dfx_ctx *ctx, const char *path, dfx__vae_config *out)
{
    char *text = NULL;
    size_t len = 0;
    dfx_status st = dfx__read_text_file (ctx, path, MAX_CONFIG_BYTES, &text, &len);
    if (st == DFX_OK)
        st = dfx__vae_config_parse (ctx, text, len, path, out);
    dfx__free (text);
    return st;
}

void
dfx__vae_config_to_arch (const dfx__vae_config *v, dfx__unet_config *a)
{
    memset (a, 0, sizeof *a);
    a->sample_size[0] = v->sample_size[0], a->sample_size[1] = v->sample_size[1];
    a->in_channels = v->in_channels;
    a->out_channels = v->out_channels;
    a->time_embedding_dim = 0; /* no time embedding: resnets without time_emb_proj */
    a->n_levels = v->n_levels;
    for (int i = 0; i < v->n_levels; i++)
        a->block_out_channels[i] = v->block_out_channels[i];
    a->layers_per_block = v->layers_per_block;
    a->mid_block = 1;
    a->mid_attention = v->mid_attention;
    a->mid_attention_groups = v->norm_num_groups;
    a->mid_block_scale_factor = 1;
    a->downsample_padding = 0; /* F.pad right and bottom by one, then stride 2 */
    a->attention_head_dim = 0; /* one head as wide as the block */
    a->norm_num_groups = v->norm_num_groups;
    a->norm_eps = 1e-6;
}
