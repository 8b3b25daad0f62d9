/* unet-private.h — the Vulkan UNet2DModel: architecture, weight table,
 * planned program.
 *
 * A dfx_unet holds every weight in one device buffer (uploaded once) and,
 * for the last (batch, height, width) it ran, a program: the list of op
 * descriptors of one forward with activations placed in one arena buffer by
 * a liveness-aware first-fit planner.  A forward records the program into one
 * command buffer and submits it once.
 */
#ifndef DFX_UNET_PRIVATE_H
#define DFX_UNET_PRIVATE_H

#include "../model/unet-config.h"
#include "../model/vae-config.h"
#include "../ops/ops-private.h"



typedef struct dfx__wt {
    char *name;
    int file;        /* which weights file (shard) while loading */
    int chunk;       /* which weight buffer */
    uint32_t off;    /* element offset in it */
    int ndim;
    int64_t shape[4];
} dfx__wt;

typedef enum dfx__step_kind {
    DFX__STEP_GEMM,
    DFX__STEP_CONV,
    DFX__STEP_GROUPNORM,
    DFX__STEP_SOFTMAX,
    DFX__STEP_COPY,
    DFX__STEP_SILU,
    DFX__STEP_ATTN_WINDOW
} dfx__step_kind;

typedef struct dfx__step {
    dfx__step_kind kind;
    union {
        dfx__gemm_desc gemm;
        dfx__conv2d_desc conv;
        dfx__groupnorm_desc gn;
        dfx__attn_window_desc aw;
        struct {
            dfx_buffer *buf;
            uint32_t off, rows, cols;
            float scale;
        } softmax;
        struct {
            dfx_buffer *dst, *src;
            uint32_t dst_off, cd, coff, src_off, cs, batch, hw;
        } copy;
        struct {
            dfx_buffer *buf;
            uint32_t off, n;
        } silu;
    } u;
} dfx__step;

/* Which network a dfx_unet runs: the U-Net, or a half of an AutoencoderKL. */
enum { DFX__NET_UNET = 0, DFX__NET_VAE_ENCODER = 1, DFX__NET_VAE_DECODER = 2 };

struct dfx_unet {
    dfx_ctx *ctx;
    char *path;              /* the weights file (or shard index), for messages */
    dfx__unet_config arch;   /* for an autoencoder: dfx__vae_config_to_arch (&vae) */
    int is_vae;              /* 1: an AutoencoderKL (vae holds its config) */
    dfx__vae_config vae;
    int net;                 /* DFX__NET_*: what the next plan builds (encoder or decoder for a VAE) */
    int plan_net;            /* what the current program computes */
    /* Weights in buffers no larger than the device's storage-buffer range;
     * a module's tensors (weight and bias, gamma and beta) share a buffer. */
    dfx_buffer **chunks;
    int n_chunks;
    dfx__wt *wt;             /* sorted by name */
    int n_wt;
    uint64_t n_params;
    /* 1: attention over the whole canvas at every size; 0 (default): on a
     * canvas larger than sample_size, each query attends to a window of the
     * training size's tokens around it (ops attn-window). */
    int attn_global;
    /* The program for (batch, h, w). */
    uint32_t batch, h, w;
    dfx__step *steps;
    int n_steps, cap_steps;
    /* Activations: one virtual arena of arena_floats, cut into buffers of at
     * most arena_limit floats (the storage-buffer range); no tensor straddles
     * a cut.  Offsets in the steps are relative to their buffer. */
    dfx_buffer **arena;
    int n_arena;
    uint64_t arena_floats, arena_limit;
    uint64_t arena_limit_test;  /* tests: a smaller cut than the device's range (0: none) */
    dfx_buffer *in_buf, *emb_buf, *out_buf;
    uint32_t in_off, emb_off, out_off;
};

/* Finds a weight by name with the expected shape (ndim 1..4): its buffer and
 * element offset.  Refusals name the tensor and the file.  Accepts the old
 * attention names (query/key/value/proj_attn) and [C,C,1,1] linear weights. */
dfx_status dfx__unet_weight (dfx_unet *u, const char *name, int ndim, const int64_t *shape, dfx_buffer **buf,
                             uint32_t *off);

/* Attention over the whole canvas (global = 1) or in training-size windows on
 * larger canvases (0, the default); drops the planned program on a change. */
void dfx__unet_set_attention_global (dfx_unet *u, int global);

/* Builds the program of u->net for (batch, h, w) and allocates its arena
 * (h, w: the input's size, the latent's for the decoder). */
dfx_status dfx__unet_plan (dfx_unet *u, uint32_t batch, uint32_t h, uint32_t w);
void dfx__unet_program_free (dfx_unet *u);

/* The forward on device buffers, for the samplers: the sample is elements
 * [in_off, in_off + n) of `in` times in_scale (copied into the arena in the
 * stream, center_input_sample applied), the output goes to elements
 * [out_off, out_off + n_out) of `out`; timesteps as in dfx_unet_forward
 * (host, one per item).  Recorded into the current batch, not submitted. */
dfx_status dfx__unet_forward_dev (dfx_unet *u, uint32_t batch, uint32_t height, uint32_t width, dfx_buffer *in,
                                  size_t in_off, float in_scale, const float *timesteps, dfx_buffer *out,
                                  size_t out_off);

/* Loads a network folder: model_dir/part with a UNet2DModel config, or with
 * vae = 1 an AutoencoderKL config (both halves planned once to check every
 * weight).  Ownership: *out freed with dfx_unet_destroy(). */
dfx_status dfx__net_load (dfx_ctx *ctx, const char *model_dir, const char *part, int vae, dfx_unet **out);

/* Records the planned program of an autoencoder half (no time embedding). */
dfx_status dfx__net_record (dfx_unet *u);

#endif
