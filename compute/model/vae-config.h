/* vae-config.h — the diffusers AutoencoderKL configuration (vae/config.json)
 * as dfx understands it, internal to libdfx.
 *
 * The parser applies diffusers' AutoencoderKL.__init__ defaults to missing
 * fields and refuses what dfx does not run: block types other than
 * DownEncoderBlock2D / UpDecoderBlock2D, activations other than SiLU, a
 * GroupNorm group count that does not divide every block.  scaling_factor,
 * shift_factor, latents_mean/std, force_upcast and sample_size are read and
 * checked but do not change the network (the pipeline scales latents).
 * Unknown fields are ignored, as for the U-Net.  No weights, no GPU work.
 */
#ifndef DFX_VAE_CONFIG_H
#define DFX_VAE_CONFIG_H

#include "unet-config.h"

typedef struct dfx__vae_config {
    int sample_size[2];       /* height, width; 0, 0 when null */
    int in_channels, out_channels, latent_channels;
    int n_levels;             /* len(block_out_channels) */
    int block_out_channels[DFX__UNET_MAX_LEVELS];
    int layers_per_block;     /* resnets per encoder block; decoder blocks have one more */
    int norm_num_groups;      /* every GroupNorm (eps 1e-6) */
    int use_quant_conv;       /* 1: quant_conv (1×1, 2L → 2L) after the encoder */
    int use_post_quant_conv;  /* 1: post_quant_conv (1×1, L → L) before the decoder */
    int mid_attention;        /* mid_block_add_attention */
    double scaling_factor;    /* latents for a diffusion model: (z − shift_factor)·scaling_factor */
    double shift_factor;      /* 0 when null */
} dfx__vae_config;

/* Parses len bytes of config.json (need not be NUL-terminated) into *out;
 * label names the file in messages.  DFX_ERR_FORMAT for malformed JSON,
 * wrong types, out-of-range or inconsistent values; DFX_ERR_UNSUPPORTED for
 * valid diffusers settings dfx does not run; the message names the label,
 * the field and the value.  *out is only written on success. */
dfx_status dfx__vae_config_parse (dfx_ctx *ctx, const char *json, size_t len, const char *label,
                                  dfx__vae_config *out);

/* Reads the file at path and parses it (files over 16 MB are refused). */
dfx_status dfx__vae_config_load (dfx_ctx *ctx, const char *path, dfx__vae_config *out);

/* The settings of dfx's network builder for this autoencoder: no time
 * embedding, GroupNorm eps 1e-6, one attention head, the encoder's
 * downsamplers padded right and bottom (downsample_padding 0). */
void dfx__vae_config_to_arch (const dfx__vae_config *v, dfx__unet_config *arch);

#endif /* DFX_VAE_CONFIG_H */
