/* unet-config.h — the diffusers UNet2DModel configuration (unet/config.json)
 * as dfx understands it, internal to libdfx.
 *
 * The parser resolves every field that changes the computation, applies
 * diffusers' defaults for missing ones (diffusers 0.3x UNet2DModel.__init__)
 * and refuses anything dfx does not run: time embeddings other than
 * "positional", class embeddings, block types other than
 * (Attn)DownBlock2D/(Attn)UpBlock2D, resnet down/upsamplers, activations
 * other than SiLU.  It also walks the architecture to name every weight and
 * its shape, which is what the loader checks a safetensors file against.
 * No weights and no GPU work here.
 */
#ifndef DFX_UNET_CONFIG_H
#define DFX_UNET_CONFIG_H

#include "dfx-private.h"

#define DFX__UNET_MAX_LEVELS 8
#define DFX__UNET_MAX_CHANNELS 65536
#define DFX__UNET_MAX_LAYERS 64

/* What a Fisher head outputs (MATH.md "The Fisher head"). */
enum {
    DFX__FISHER_SECOND_MOMENT = 0, /* m ≈ E[x0⊙x0 | x̃] */
    DFX__FISHER_VARIANCE_RATIO = 1 /* r ≈ diag Cov[x0 | x̃]/σ̃², so m = x̂0⊙x̂0 + σ̃² r */
};

typedef struct dfx__unet_config {
    int sample_size[2];          /* height, width; 0, 0 when the config has null */
    int in_channels, out_channels;
    int center_input_sample;     /* 1: x = 2x − 1 first */
    /* Time embedding "positional": half = C0/2 frequencies
     * exp(−ln(10000)·i/(half − freq_shift)); [sin, cos], or [cos, sin] when
     * flip_sin_to_cos; a zero column appended when C0 is odd; then
     * linear_1 (C0 → time_embedding_dim), SiLU, linear_2. */
    int time_embedding_dim;      /* resolved: the config's value, or 4·C0 when null or 0 */
    double freq_shift;
    int flip_sin_to_cos;
    int n_levels;                /* len(block_out_channels), 1 to DFX__UNET_MAX_LEVELS */
    int block_out_channels[DFX__UNET_MAX_LEVELS];
    int down_attention[DFX__UNET_MAX_LEVELS]; /* 1: AttnDownBlock2D, 0: DownBlock2D */
    int up_attention[DFX__UNET_MAX_LEVELS];   /* up block i (i = 0 is the deepest): 1: AttnUpBlock2D */
    int layers_per_block;        /* resnets per down block; up blocks have one more */
    int mid_block;               /* 1: UNetMidBlock2D, 0: none (mid_block_type null) */
    int mid_attention;           /* 1: the mid block has its attention (mid_block && add_attention) */
    int mid_attention_groups;    /* GroupNorm groups of the mid attention; 0: it has no GroupNorm */
    double mid_block_scale_factor; /* output_scale_factor of the mid resnets and rescale of its attention */
    int downsample_padding;      /* 0: pad right and bottom by one, then conv stride 2 pad 0; 1: pad 1 */
    int attention_head_dim;      /* channels per head; 0 (null): one head as wide as the block */
    int norm_num_groups;         /* every GroupNorm but the mid attention's */
    double norm_eps;             /* every GroupNorm, the attention ones included */
    int scale_shift;             /* resnet_time_scale_shift: 0 "default", 1 "scale_shift" (time_emb_proj is 2C) */
    double dropout;              /* read and ignored (inference) */
    /* dfx's key "_dfx_fisher_output" of a Fisher head (fisher/config.json;
     * "_"-keys are ignored by diffusers): what the network outputs. */
    int fisher_output;           /* DFX__FISHER_SECOND_MOMENT (absent) or DFX__FISHER_VARIANCE_RATIO */
} dfx__unet_config;

/* Fills *c with diffusers' UNet2DModel defaults (a config.json of "{}"). */
void dfx__unet_config_defaults (dfx__unet_config *c);

/* Parses len bytes of config.json (need not be NUL-terminated) into *out.
 * label names the file in messages.  DFX_ERR_FORMAT for malformed JSON, wrong
 * types, out-of-range or inconsistent values; DFX_ERR_UNSUPPORTED for valid
 * diffusers settings dfx does not run; either message names the label, the
 * field and the value.  *out is only written on success. */
dfx_status dfx__unet_config_parse (dfx_ctx *ctx, const char *json, size_t len, const char *label,
                                   dfx__unet_config *out);

/* Reads the file at path and parses it (DFX_ERR_IO when it cannot be read;
 * files over 16 MB are refused). */
dfx_status dfx__unet_config_load (dfx_ctx *ctx, const char *path, dfx__unet_config *out);

/* Checks a filled struct (the parser's consistency rules); for configs built
 * in code.  The message names label. */
dfx_status dfx__unet_config_check (dfx_ctx *ctx, const dfx__unet_config *c, const char *label);

/* Called once per weight tensor with its diffusers name ("down_blocks.1.
 * attentions.0.to_q.weight"), rank (1, 2 or 4) and shape (Linear [out, in],
 * Conv2d OIHW, GroupNorm and biases [C]).  Attention projections use the
 * current names to_q/to_k/to_v/to_out.0 (old files say query/key/value/
 * proj_attn).  Return nonzero to stop. */
typedef int (*dfx__unet_tensor_fn) (void *user, const char *name, int ndim, const int64_t *shape);

/* Walks the weights of a checked config in module order: conv_in,
 * time_embedding, down_blocks (per block: resnets and their attentions
 * interleaved, then the downsampler), mid_block, up_blocks, conv_norm_out,
 * conv_out.  Returns the number of tensors visited. */
int dfx__unet_config_foreach_tensor (const dfx__unet_config *c, dfx__unet_tensor_fn fn, void *user);

/* Number of weight tensors, and of parameters (their summed sizes), of a
 * checked config.  google/ddpm-cifar10-32: 328 tensors, 35,746,307 parameters. */
int dfx__unet_config_tensor_count (const dfx__unet_config *c);
int64_t dfx__unet_config_param_count (const dfx__unet_config *c);

#endif /* DFX_UNET_CONFIG_H */
