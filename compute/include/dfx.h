/* dfx.h — the public interface of libdfx, the GIMP-free compute core of dfx.
 *
 * libdfx runs diffusion score networks and the Fisher-based algorithms of dfx
 * on a Vulkan compute device.  This header is the whole public surface: opaque
 * handles, parameter structs with *_defaults() initialisers and status codes.
 * It declares no Vulkan types and no variables.
 *
 * Usage:
 *
 *     dfx_ctx_options opt;
 *     dfx_ctx_options_defaults (&opt);        // DFX_DEVICE is honoured
 *     dfx_ctx *ctx = NULL;
 *     if (dfx_ctx_create (&opt, &ctx) != DFX_OK) {
 *         fprintf (stderr, "%s\n", dfx_ctx_errmsg (ctx));   // ctx may be NULL: "out of memory"
 *         dfx_ctx_destroy (ctx);
 *         return 1;
 *     }
 *     dfx_device_info info;
 *     dfx_ctx_device_info (ctx, dfx_ctx_device_index (ctx), &info);
 *     printf ("%s\n", info.name);
 *     dfx_ctx_destroy (ctx);
 *
 * Thread-safety: a dfx_ctx and everything created from it belong to one
 * thread at a time.  Distinct contexts are independent.
 */
#ifndef DFX_H
#define DFX_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Every fallible call returns a status; the message is on the context. */
typedef enum dfx_status {
    DFX_OK = 0,
    DFX_ERR_INVALID_ARGUMENT,   /* a caller's argument is out of range or inconsistent */
    DFX_ERR_NO_DEVICE,          /* no usable Vulkan device (or none matches DFX_DEVICE) */
    DFX_ERR_VULKAN,             /* a Vulkan call failed; the message names it */
    DFX_ERR_OUT_OF_HOST_MEMORY, /* malloc failed */
    DFX_ERR_OUT_OF_DEVICE_MEMORY, /* the device could not allocate the request */
    DFX_ERR_SHADER,             /* an embedded shader is missing or fails to load */
    DFX_ERR_IO,                 /* a file could not be read or written */
    DFX_ERR_FORMAT,             /* a file's contents are malformed */
    DFX_ERR_UNSUPPORTED,        /* valid input that dfx does not support */
    DFX_ERR_CANCELLED           /* the progress callback asked to stop */
} dfx_status;

/* A short constant name for a status ("DFX_ERR_NO_DEVICE"); never NULL. */
const char *dfx_status_name (dfx_status status);

/* ---- Context and device ------------------------------------------------ */

typedef struct dfx_ctx dfx_ctx;

typedef struct dfx_ctx_options {
    /* Device choice: NULL/"" means automatic (a discrete GPU first, then an
     * integrated or virtual GPU, then a CPU device such as lavapipe).  A
     * decimal index picks that device; any other text picks the first device
     * whose name contains it (case-insensitive).  Defaults to $DFX_DEVICE. */
    const char *device;
    /* 1: enable VK_LAYER_KHRONOS_validation when it is installed (errors
     * reported by it become DFX_ERR_VULKAN on the next flush).  Defaults to
     * $DFX_VALIDATION, else 1 in debug builds and 0 otherwise. */
    int validation;
    /* File of the saved VkPipelineCache; NULL: no cache on disk.  Defaults to
     * $DFX_PIPELINE_CACHE, else $XDG_CACHE_HOME/dfx or ~/.cache/dfx. */
    const char *pipeline_cache_dir;
    /* 1: only enumerate devices, create none. */
    int enumerate_only;
    /* 1: no Vulkan at all: the context only carries errors, for file
     * parsing and tooling (fuzz targets, model checks). */
    int offline;
    /* Weights variant of the model folders loaded through this context, as
     * diffusers' `variant` ("fp16": diffusion_pytorch_model.fp16.safetensors);
     * NULL/"": the plain files, else the folder's only variant.  Defaults to
     * $DFX_VARIANT. */
    const char *model_variant;
} dfx_ctx_options;

/* Fills *opt with the defaults described above (reads the environment). */
void dfx_ctx_options_defaults (dfx_ctx_options *opt);

/* Creates a context: Vulkan instance, device selection and device creation
 * (opt NULL: the options of dfx_ctx_options_defaults()).
 * On failure *out still receives a context (unless host memory ran out, then
 * NULL) so that dfx_ctx_errmsg() can tell why; the caller destroys it.
 * Ownership: *out is freed with dfx_ctx_destroy(). */
dfx_status dfx_ctx_create (const dfx_ctx_options *opt, dfx_ctx **out);

/* Destroys the context and everything still allocated from it; saves the
 * pipeline cache.  Accepts NULL. */
void dfx_ctx_destroy (dfx_ctx *ctx);

/* The message of the last failed call on ctx ("" when none).  Accepts NULL
 * (returns "out of host memory").  Valid until the next call on ctx. */
const char *dfx_ctx_errmsg (const dfx_ctx *ctx);

typedef enum dfx_device_type {
    DFX_DEVICE_OTHER = 0,
    DFX_DEVICE_INTEGRATED_GPU,
    DFX_DEVICE_DISCRETE_GPU,
    DFX_DEVICE_VIRTUAL_GPU,
    DFX_DEVICE_CPU
} dfx_device_type;

typedef struct dfx_device_info {
    char name[256];
    char driver_name[256];
    char driver_info[256];
    dfx_device_type type;
    uint32_t vendor_id, device_id;
    uint32_t api_version;         /* VK_MAKE_API_VERSION packing */
    uint32_t subgroup_size;
    uint32_t max_workgroup_invocations;
    uint32_t max_shared_memory;   /* bytes per workgroup */
    int compute_capable;          /* has a compute queue */
    int heap_count;
    struct {
        uint64_t size;
        int device_local;
    } heaps[16];
} dfx_device_info;

/* Number of Vulkan physical devices seen (0 when Vulkan has none). */
int dfx_ctx_device_count (const dfx_ctx *ctx);

/* The index of the device in use, or -1 when none is. */
int dfx_ctx_device_index (const dfx_ctx *ctx);

/* Describes device i (0 <= i < dfx_ctx_device_count()). */
dfx_status dfx_ctx_device_info (dfx_ctx *ctx, int i, dfx_device_info *out);

/* "discrete GPU", "CPU", ... for a device type; never NULL. */
const char *dfx_device_type_name (dfx_device_type type);

/* ---- Profiling ------------------------------------------------------------ */

/* Per-kernel device time, from Vulkan timestamps around every dispatch
 * (the time since the previous dispatch ended, so barriers count too). */
typedef struct dfx_profile_entry {
    const char *kernel; /* shader name; valid while ctx lives */
    uint64_t calls;
    double seconds;
} dfx_profile_entry;

/* Turns profiling on (clearing what was gathered) or off.  Fails with
 * DFX_ERR_UNSUPPORTED when the device has no compute timestamps. */
dfx_status dfx_ctx_profile (dfx_ctx *ctx, int enable);

/* Number of kernels seen since profiling was turned on; entry i of them. */
int dfx_ctx_profile_count (const dfx_ctx *ctx);
dfx_status dfx_ctx_profile_entry (dfx_ctx *ctx, int i, dfx_profile_entry *out);

/* ---- Buffers ------------------------------------------------------------ */

/* A device buffer of float32 (or raw) data. */
typedef struct dfx_buffer dfx_buffer;

/* Allocates size bytes of device memory (size > 0).  Ownership: free with
 * dfx_buffer_destroy().  Fails with DFX_ERR_OUT_OF_DEVICE_MEMORY when the
 * device cannot hold it. */
dfx_status dfx_buffer_create (dfx_ctx *ctx, size_t size, dfx_buffer **out);

/* Frees a buffer (waits for pending work that uses it).  Accepts NULL. */
void dfx_buffer_destroy (dfx_ctx *ctx, dfx_buffer *buf);

/* Size in bytes. */
size_t dfx_buffer_size (const dfx_buffer *buf);

/* Copies host data into [offset, offset+size) of buf.  Ordered after all
 * work recorded before it and before all work recorded after it. */
dfx_status dfx_buffer_upload (dfx_ctx *ctx, dfx_buffer *buf, size_t offset, const void *data, size_t size);

/* Runs all recorded work, then copies [offset, offset+size) of buf to data. */
dfx_status dfx_buffer_download (dfx_ctx *ctx, dfx_buffer *buf, size_t offset, void *data, size_t size);

/* Submits the work recorded so far and waits for it. */
dfx_status dfx_ctx_flush (dfx_ctx *ctx);

/* ---- Elementwise ops (float32, n elements, buffers may alias) ------------- */

dfx_status dfx_op_add (dfx_ctx *ctx, dfx_buffer *out, dfx_buffer *a, dfx_buffer *b, size_t n);   /* out = a + b */
dfx_status dfx_op_mul (dfx_ctx *ctx, dfx_buffer *out, dfx_buffer *a, dfx_buffer *b, size_t n);   /* out = a ⊙ b */
dfx_status dfx_op_axpy (dfx_ctx *ctx, dfx_buffer *y, float alpha, dfx_buffer *x, size_t n);      /* y += alpha x */
dfx_status dfx_op_scale (dfx_ctx *ctx, dfx_buffer *out, float alpha, dfx_buffer *x, size_t n);   /* out = alpha x */
dfx_status dfx_op_silu (dfx_ctx *ctx, dfx_buffer *out, dfx_buffer *x, size_t n);                 /* out = x σ(x) */

/* ---- Reductions ----------------------------------------------------------- */

/* *result = Σ a_i b_i over n elements (accumulated in compensated fp32 per
 * invocation and reduced pairwise; relative error ~1e-7 for n = 10^7).  Runs
 * the recorded work (it needs the value on the host). */
dfx_status dfx_op_dot (dfx_ctx *ctx, dfx_buffer *a, dfx_buffer *b, size_t n, double *result);

/* *result = Σ a_i² over n elements; as dfx_op_dot. */
dfx_status dfx_op_sumsq (dfx_ctx *ctx, dfx_buffer *a, size_t n, double *result);

/* ---- GEMM ----------------------------------------------------------------- */

typedef struct dfx_gemm_params {
    uint32_t m, n, k;     /* C is m×n, A is m×k (k×m if trans_a), B is k×n (n×k if trans_b) */
    int trans_a, trans_b; /* row-major storage, transposed when set */
    float alpha, beta;    /* C = alpha·op(A)·op(B) + beta·C */
} dfx_gemm_params;

void dfx_gemm_params_defaults (dfx_gemm_params *p); /* alpha 1, beta 0, no transposes, sizes 0 */

/* C = alpha·op(A)·op(B) + beta·C, float32, row-major.  Buffers must hold the
 * sizes implied by p; C must not alias A or B. */
dfx_status dfx_op_gemm (dfx_ctx *ctx, const dfx_gemm_params *p, dfx_buffer *a, dfx_buffer *b, dfx_buffer *c);

/* ---- Tensor files (safetensors) --------------------------------------------- */

/* Reads tensor `name` of a safetensors file as float32 (F32/F16/BF16/F64).
 * *ndim and shape[0..7] receive its shape.  Ownership: *data is freed with
 * dfx_free().  Errors name the file and the tensor. */
dfx_status dfx_tensor_read (dfx_ctx *ctx, const char *path, const char *name, int *ndim, int64_t shape[8],
                            float **data);

/* Writes one float32 tensor as a safetensors file (atomically). */
dfx_status dfx_tensor_write (dfx_ctx *ctx, const char *path, const char *name, int ndim, const int64_t *shape,
                             const float *data);

/* Frees memory that libdfx handed out.  Accepts NULL. */
void dfx_free (void *p);

/* ---- The score network: a diffusers UNet2DModel ----------------------------- */

typedef struct dfx_unet dfx_unet;

typedef struct dfx_unet_info {
    uint32_t in_channels, out_channels;
    uint32_t sample_height, sample_width; /* the config's sample_size */
    uint32_t size_multiple;               /* inputs must be multiples of this */
    uint64_t parameters;                  /* weights the forward uses */
    uint64_t weight_bytes;                /* device memory of the weights */
    uint64_t activation_bytes;            /* arena of the last planned input shape (0 before) */
    uint32_t dispatches;                  /* ops in one forward of that shape */
    double conv_flops, gemm_flops;        /* per forward of that shape (2 per multiply-add) */
} dfx_unet_info;

/* Loads the UNet2DModel of model_dir and uploads the weights once.  The
 * folder may be a diffusers pipeline (model_index.json, or unet/ with
 * config.json) or a single-model folder (config.json at its root); weights
 * as diffusion_pytorch_model.safetensors, .bin (torch.save, read without
 * running any code), sharded (*.index.json) or a variant (see
 * dfx_ctx_options.model_variant).  Refuses unsupported configs and malformed,
 * incomplete or mis-shaped weights with a message naming the file, field or
 * tensor.  Ownership: *out is freed with dfx_unet_destroy(); it refers to ctx,
 * which must outlive it. */
dfx_status dfx_unet_load (dfx_ctx *ctx, const char *model_dir, dfx_unet **out);
/* The same for another UNet2DModel-format network of a model folder,
 * model_dir/part/ (part "unet", or "fisher": the Fisher head). */
dfx_status dfx_unet_load_part (dfx_ctx *ctx, const char *model_dir, const char *part, dfx_unet **out);

/* Frees the network and its device memory.  Accepts NULL. */
void dfx_unet_destroy (dfx_unet *u);

/* Writes the safetensors form of model_dir's U-Net weights when they are
 * PyTorch .bin files (one, or the shards of a *.bin.index.json), so that
 * later loads are memory-mapped: diffusion_pytorch_model[.VARIANT].safetensors
 * beside them, one file, every tensor with its own dtype and bytes (no
 * rounding), written atomically.  The .bin files stay.  *written (NULL when
 * the weights already are safetensors, nothing written) is the path, freed
 * with dfx_free().  Needs no device (an offline context will do). */
dfx_status dfx_model_convert (dfx_ctx *ctx, const char *model_dir, char **written);

void dfx_unet_get_info (const dfx_unet *u, dfx_unet_info *info);

/* Attention on canvases larger than the network's sample_size: 0 (default)
 * each query attends to the training size's window of tokens around it
 * (shifted inward at the borders: the same tokens as in training, cost linear
 * in the area; at the training size it is the global attention exactly);
 * 1: every token of the canvas (the diffusers forward; cost quadratic in the
 * area).  Not thread-safe with a forward of the same network. */
void dfx_unet_set_global_attention (dfx_unet *u, int global);

/* out = network(sample, timesteps): sample and out are NCHW float32 of
 * (batch, in/out_channels, height, width), timesteps one float per batch
 * item (the model's discrete timestep index, fractional allowed).  The first
 * call for a shape plans it (activation memory, program); later calls reuse
 * the plan.  One command buffer, one submit. */
dfx_status dfx_unet_forward (dfx_unet *u, uint32_t batch, uint32_t height, uint32_t width, const float *sample,
                             const float *timesteps, float *out);

/* ---- Autoencoders: a diffusers AutoencoderKL (vae/) ---------------------------
 *
 *     dfx_vae *v = NULL;
 *     if (dfx_vae_load (ctx, "path/to/pipeline", &v) != DFX_OK) { ...dfx_ctx_errmsg (ctx)... }
 *     dfx_vae_info vi;
 *     dfx_vae_get_info (v, &vi);            // latent = image / vi.downscale, vi.latent_channels
 *     dfx_vae_encode (v, 1, 64, 64, image, mean, NULL);
 *     dfx_vae_decode (v, 1, 64 / vi.downscale, 64 / vi.downscale, mean, image2);
 *     dfx_vae_destroy (v);
 */

typedef struct dfx_vae dfx_vae;

typedef struct dfx_vae_info {
    uint32_t in_channels, out_channels, latent_channels;
    uint32_t downscale;                   /* image size / latent size; images are multiples of it */
    uint32_t sample_height, sample_width; /* the config's sample_size (0: null) */
    double scaling_factor, shift_factor;  /* a diffusion model sees (z − shift)·scaling (the caller applies it) */
    uint64_t parameters;                  /* weights of both halves */
} dfx_vae_info;

/* Loads model_dir/vae (config.json + diffusion_pytorch_model.safetensors,
 * or .bin / shards as for the U-Net) and uploads the weights once; both
 * halves are planned at a small size, so a missing or mis-shaped tensor is
 * refused here, by name.  Unsupported config values are refused naming the
 * field.  Ownership: *out is freed with dfx_vae_destroy(); ctx must outlive it. */
dfx_status dfx_vae_load (dfx_ctx *ctx, const char *model_dir, dfx_vae **out);

/* Frees the autoencoder and its device memory.  Accepts NULL. */
void dfx_vae_destroy (dfx_vae *v);

void dfx_vae_get_info (const dfx_vae *v, dfx_vae_info *info);

/* Encoder: image NCHW float32 (batch, in_channels, height, width), height and
 * width multiples of downscale → the posterior's mean and (when logvar is not
 * NULL) its log-variance clamped to [−30, 20], each (batch, latent_channels,
 * height/downscale, width/downscale).  Unscaled: diffusers' encode().  The
 * first call for a shape plans it; one submit. */
dfx_status dfx_vae_encode (dfx_vae *v, uint32_t batch, uint32_t height, uint32_t width, const float *image, float *mean,
                           float *logvar);

/* Decoder: latent (batch, latent_channels, height, width) → sample (batch,
 * out_channels, height·downscale, width·downscale), as diffusers' decode(). */
dfx_status dfx_vae_decode (dfx_vae *v, uint32_t batch, uint32_t height, uint32_t width, const float *latent,
                           float *sample);

/* ---- Models and generation ---------------------------------------------------
 *
 *     dfx_model *m = NULL;
 *     if (dfx_model_load (ctx, "models/fashion-mnist-32", &m) != DFX_OK) { ...dfx_ctx_errmsg (ctx)... }
 *     dfx_generate_params p;
 *     dfx_generate_params_defaults (&p);     // DPM-Solver++(2M), 18 steps, skip auto, seed 0, the model's size
 *     p.seed = 7;
 *     dfx_model_info mi;
 *     dfx_model_get_info (m, &mi);
 *     float *img = malloc ((size_t) p.count * mi.channels * mi.sample_height * mi.sample_width * sizeof (float));
 *     dfx_generate_result r;
 *     if (dfx_generate (m, &p, img, &r) != DFX_OK) { ... }
 *     // img: NCHW on the model's data scale ([-1, 1]); r.nfe network evaluations, r.nfe_saved saved
 *     dfx_model_destroy (m);
 */

typedef struct dfx_model dfx_model;

typedef enum dfx_prediction {
    DFX_PREDICTION_EPSILON = 0,
    DFX_PREDICTION_V,
    DFX_PREDICTION_SAMPLE
} dfx_prediction;

typedef enum dfx_sampler {
    DFX_SAMPLER_HEUN = 0, /* EDM σ schedule (ρ = 7), deterministic Heun; NFE 2N − 1 */
    DFX_SAMPLER_EULER,    /* the same σ schedule, Euler; NFE N */
    DFX_SAMPLER_DDIM,     /* η = 0, uniform timesteps over the model's schedule; NFE N */
    /* Stochastic (MATH.md "OCM"): N timesteps uniform from σ̃_max down to the
     * schedule's σ̃_min, then a last step to 0; step noise from the seed
     * (Philox), so the same seed gives the same bits.  NFE N. */
    DFX_SAMPLER_DDPM,     /* ancestral DDPM with the fixed variance β̃ */
    DFX_SAMPLER_OCM_DDPM, /* DDPM with the optimal diagonal covariance from fisher/; last-step noise clipped */
    DFX_SAMPLER_OCM_DDIM, /* DDIM mean (η = 0) with the optimal diagonal covariance from fisher/ */
    /* Deterministic again: DPM-Solver++(2M) (Lu et al. 2022), the second-order
     * multistep solver in λ = −log σ̃ on the EDM σ schedule (ρ = 7); its first
     * step and the last one (to σ̃ = 0) are first order.  NFE N. */
    DFX_SAMPLER_DPMPP_2M
} dfx_sampler;

#define DFX_SAMPLER_LAST DFX_SAMPLER_DPMPP_2M

typedef enum dfx_skip {
    DFX_SKIP_AUTO = 0, /* gaussian/'s calibrated mode (spectral at another size); off without gaussian/ */
    DFX_SKIP_PCA,      /* rank-r closed form with the isotropic residual; the model's own size only */
    DFX_SKIP_SPECTRAL, /* stationary closed form through 2-D FFTs; any size */
    DFX_SKIP_OFF
} dfx_skip;

/* "heun", "euler", "ddim", "ddpm", "ocm-ddpm", "ocm-ddim", "dpmpp-2m"; "auto", "pca",
 * "spectral", "off"; never NULL. */
const char *dfx_sampler_name (dfx_sampler s);
const char *dfx_skip_name (dfx_skip s);

typedef struct dfx_model_info {
    uint32_t channels;                    /* image channels */
    uint32_t sample_height, sample_width; /* the U-Net's sample_size */
    uint32_t size_multiple;               /* canvases are padded up to a multiple of this */
    dfx_prediction prediction;
    uint32_t train_timesteps;             /* T of the DDPM schedule */
    double sigma_min, sigma_max;          /* σ̃ = σ_t/α_t at t = 0 and t = T − 1 */
    int has_gaussian;                     /* gaussian/ was found and loaded */
    int gaussian_pca, gaussian_spectral;  /* which parts it holds */
    uint32_t gaussian_rank;               /* PCA rank */
    dfx_skip gaussian_mode;               /* its calibrated mode (PCA or SPECTRAL); OFF without gaussian/ */
    double sigma_skip;                    /* the calibrated σ̃_skip of that mode; 0 without */
    int has_fisher;                       /* fisher/ (the Fisher head) was found; loaded on first use */
} dfx_model_info;

/* Loads a model folder: unet/ and scheduler/ (required), gaussian/
 * (optional, models/GAUSSIAN.md), fisher/ (optional, loaded when a feature
 * needs it).  Errors name the file or field.
 * Ownership: *out is freed with dfx_model_destroy(); ctx must outlive it. */
dfx_status dfx_model_load (dfx_ctx *ctx, const char *dir, dfx_model **out);

/* Frees the model and its device memory.  Accepts NULL. */
void dfx_model_destroy (dfx_model *m);

void dfx_model_get_info (const dfx_model *m, dfx_model_info *info);

/* Progress: fraction in [0, 1] of the network evaluations done.  Return
 * nonzero to cancel (dfx_generate then returns DFX_ERR_CANCELLED). */
typedef int (*dfx_progress_fn) (double fraction, void *user);

#define DFX_GENERATE_MAX_STEPS 1000
#define DFX_GENERATE_MAX_SIZE 4096             /* width and height */
#define DFX_GENERATE_MAX_COUNT 256
#define DFX_GENERATE_MAX_FLOATS (1ull << 26)   /* count × channels × padded height × width */

typedef struct dfx_generate_params {
    dfx_sampler sampler;    /* default DFX_SAMPLER_DPMPP_2M (Heun's FD at half its NFE: BENCHMARKS.md) */
    uint32_t steps;         /* N in [1, DFX_GENERATE_MAX_STEPS]; default 18 */
    dfx_skip skip;          /* default DFX_SKIP_AUTO */
    double sigma_skip;      /* σ̃ to jump to; 0 (default): the model's calibration */
    uint64_t seed;          /* default 0 */
    uint32_t width, height; /* 0 (default): the model's sample size; at most DFX_GENERATE_MAX_SIZE */
    uint32_t count;         /* images, one batch; default 1, at most DFX_GENERATE_MAX_COUNT */
    uint32_t first_index;   /* image k uses noise stream first_index + k (default 0) */
    dfx_progress_fn progress;
    void *progress_user;
} dfx_generate_params;

void dfx_generate_params_defaults (dfx_generate_params *p);

typedef struct dfx_generate_result {
    uint32_t nfe;           /* network evaluations (of the whole batch) */
    uint32_t nfe_saved;     /* against the same sampler and steps without the skip */
    uint32_t steps_skipped; /* k of the N steps replaced by the closed form */
    dfx_skip skip;          /* the mode used: PCA, SPECTRAL or OFF */
    double sigma_skip;      /* σ̃ jumped to (0 without a skip) */
    double sigma_max;       /* σ̃ the sampler started from */
    uint32_t canvas_width, canvas_height; /* the padded size sampled (then cropped) */
    double seconds;         /* wall time of dfx_generate */
    char warning[256];      /* non-empty: what the user should know (e.g. the skip fell back to off) */
} dfx_generate_result;

/* Generates p->count images of p->width × p->height: PF-ODE sampling from
 * unit noise scaled to σ̃_max, with the Gaussian skip as p->skip says.  out
 * receives count × channels × height × width floats (NCHW) on the model's
 * data scale ([-1, 1] for images), unclamped.  Same parameters and device:
 * the same bits; image k does not depend on count (the stochastic samplers'
 * step noise too: Philox streams of the seed and the image's index).  An
 * explicit skip the model cannot do (no gaussian/, PCA at another size), or
 * an OCM sampler on a model without fisher/, is DFX_ERR_UNSUPPORTED, the
 * message naming the missing part and the command that makes it.  The skip
 * combines with every sampler.  r may be NULL. */
dfx_status dfx_generate (dfx_model *m, const dfx_generate_params *p, float *out, dfx_generate_result *r);

/* The unit Gaussian noise of image `index` that generation starts from, on
 * a canvas of channels × height × width (the padded canvas): Philox4x32-10
 * keyed by the seed, counter (element / 4, index), Box–Muller.  The same
 * values on every machine up to libm's last-bit differences. */
void dfx_generate_noise (uint64_t seed, uint32_t index, uint32_t channels, uint32_t height, uint32_t width,
                         float *out);

/* ---- Likelihood (DF-TM, MATH.md "The Fisher head") ---------------------------
 *
 *     dfx_likelihood_params p;
 *     dfx_likelihood_params_defaults (&p);   // RK45, rtol = atol = 1e-3, overlap: a quarter tile
 *     dfx_likelihood_result r;
 *     // pixels: w × h × 4 interleaved floats in [0, 1] (sRGB-encoded R'G'B'A)
 *     if (dfx_likelihood (m, &p, pixels, w, h, 4, 1, &r) != DFX_OK) { ...dfx_ctx_errmsg (ctx)... }
 *     printf ("%.3f bits/dim over %llu pixels\n", r.bits_per_dim, (unsigned long long) r.pixels_scored);
 *     // r.map: h × w bits/dim per pixel (NaN where not scored)
 *     dfx_likelihood_result_clear (&r);
 *
 * The log-likelihood is the PF-ODE integral from σ̃_min (t_min) to σ̃_max with
 * the divergence Σ_i (1 − C_ii/σ̃²) from the model's Fisher head (fisher/): no
 * Jacobian products, no probes, so no probe variance.  Each value's share of
 * the integral plus its share of the separable prior gives the per-pixel map.
 * With a second-moment head the posterior variance C_ii = m_i − x̂0_i² is
 * clamped to [0, 1] (values in [-1, 1]) and, by default (clamp_sigma), to at
 * most σ̃²: a posterior no wider than the noise, exact for Gaussian data
 * (C = σ̃²λ/(λ + σ̃²)) and for any data away from the ridges between modes; at
 * small σ̃ such a head's regression error is many times σ̃² and would otherwise
 * dominate the integral.  A variance-ratio head (models/FISHER.md, both
 * shipped models) estimates the score network's own ∂x̂0/∂x̃ diagonal, which
 * can leave [0, 1] along the ODE: its C_ii = σ̃² r_i is not clamped, so that
 * DF-TM follows the divergence of the network's PF-ODE.
 *
 * Data scale and bits/dim: a pixel value v ∈ [0, 1] (8-bit k/255) is the model
 * value x = 2v − 1, the training mapping.  The 8-bit bin of a value is the
 * interval of width Δ = 2/255 around it, so with D values scored
 *     bits/dim = −log p(x) / (D ln 2) + log2 (127.5)        (log2 (1/Δ) = 6.994)
 * and with dequantisation x = 2v − 1 + Δ (u − ½), u ~ U[0, 1) per value (the
 * seed's Philox stream), which makes the figure a bound on the discrete
 * data's −log2 P per value in expectation over u.
 *
 * Layers of any size (p.layout): by default the whole layer goes through the
 * networks at once, padded by repeating its edge to the U-Net's size
 * multiple; on a layer larger than the model's sample size each attention
 * query sees the sample size's window of positions around it
 * (dfx_unet_set_global_attention; p.global_attention for the whole layer),
 * so the map has no tile seams and costs linearly in the area.  The layer's
 * bits/dim is then the mean of the map: for a layer of the model's size the
 * model's bits/dim of the image; for a larger one the convolutional network's
 * density of the whole layer, every pixel scored in its surroundings.  With
 * DFX_LIKELIHOOD_TILES the layer is cut into tiles of the model's sample size
 * (at least p.overlap pixels shared by neighbours, a smaller layer padded by
 * repeating its edge), the tiles go through the networks `batch` at a time,
 * and the per-pixel maps are blended with raised-cosine weights that sum to
 * one at every pixel: for a larger layer the average bits/dim of model-sized
 * crops around each pixel (BENCHMARKS.md compares the two).
 *
 * Channels: a grey model scores the luminance (0.2126 R + 0.7152 G + 0.0722 B
 * of the encoded values) of an RGB layer; an RGB model scores a grey layer
 * copied into its three channels.  Dimensions are the model's values: channels
 * of the model × scored pixels.  Alpha: pixels with alpha 0 are not scored
 * (they still go through the network as they are) and are counted in
 * pixels_excluded. */

typedef enum dfx_ode_solver {
    DFX_ODE_RK45 = 0, /* Dormand–Prince 5(4), adaptive step size (rtol, atol); 43-67 NFE at 1e-3 on the shipped
                         models */
    DFX_ODE_HEUN,     /* fixed steps uniform in ln σ̃ (NFE 2 per step) */
    DFX_ODE_EXP3M     /* fixed steps, exponential three-step multistep in data-prediction form (DPM-Solver++(2M)'s
                         third-order sibling, upward in σ̃), nodes denser at small σ̃; NFE steps + 1; the default,
                         16 steps: within 0.010 bits/dim of the converged value on six crops for photo-32, as
                         close as RK45 1e-3 on emoji-32 (BENCHMARKS.md issue 20) */
} dfx_ode_solver;

/* "rk45", "heun", "exp3m"; never NULL. */
const char *dfx_ode_solver_name (dfx_ode_solver s);

/* The divergence of the ODE.  DF-TM is the method; the other two are the
 * baselines it is measured against (tests/bench/bench-likelihood.py): the
 * score network's own Jacobian trace by central finite differences of x̂0
 * (step 0.01 σ̃), from `probes` fixed Rademacher probes (Hutchinson: a
 * random estimate, 2·probes network images per stage) or from every basis
 * vector (exact: 2·d network images per stage).  Neither is clamped. */
typedef enum dfx_likelihood_trace {
    DFX_TRACE_DFTM = 0,   /* the Fisher head, no Jacobian products (default) */
    DFX_TRACE_HUTCHINSON, /* baseline: Hutchinson's estimator */
    DFX_TRACE_EXACT       /* baseline: the exact trace */
} dfx_likelihood_trace;

/* "dftm", "hutchinson", "exact"; never NULL. */
const char *dfx_likelihood_trace_name (dfx_likelihood_trace t);

#define DFX_LIKELIHOOD_MAX_PROBES 1024
#define DFX_LIKELIHOOD_MAX_SIZE 16384 /* width and height */
#define DFX_LIKELIHOOD_MAX_BATCH 256
#define DFX_LIKELIHOOD_BANDS 8

/* How a layer goes through the networks. */
typedef enum dfx_likelihood_layout {
    DFX_LIKELIHOOD_WHOLE = 0, /* the whole layer at once (the U-Net is convolutional; its attention sees a
                                 window of the model's size around each position): no tile seams (default) */
    DFX_LIKELIHOOD_TILES      /* overlapping tiles of the model's size, blended (before issue 20) */
} dfx_likelihood_layout;

typedef struct dfx_likelihood_params {
    dfx_ode_solver solver;  /* default DFX_ODE_EXP3M */
    double rtol, atol;      /* RK45 tolerances, each in (0, 1]; default 1e-3 (2e-3 bits/dim of 1e-5 on fashion-mnist-32) */
    double bits_tol;        /* RK45: > 0 also bounds each step's error estimate of the log-density integral to
                               this many bits/dim (the state's norm is set by x̃ ≈ σ̃ at large σ̃ and misses it);
                               0: off; in [0, 1] */
    uint32_t steps;         /* Heun and exp3m steps in [1, 100000]; default 16 */
    double sigma_min;       /* σ̃ the ODE starts from (t_min); 0 (default): the model's σ̃ at t = 0 */
    double sigma_max;       /* σ̃ of the prior; 0 (default): the model's σ̃ at t = T − 1 */
    int dequantise;         /* 1: uniform dequantisation over the 8-bit bin; default 0 */
    uint64_t seed;          /* of the dequantisation noise; default 0 */
    dfx_likelihood_layout layout; /* default DFX_LIKELIHOOD_WHOLE */
    int overlap;            /* tiles only: overlap in pixels; -1 (default): a quarter of the tile */
    uint32_t batch;         /* tiles per network batch, 1..DFX_LIKELIHOOD_MAX_BATCH; default 16 */
    int clamp_sigma;        /* 1 (default): a second-moment head's C_ii = m_i − x̂0_i² clamped to
                               [0, min(1, σ̃²)], 0: to [0, 1] only (see above; a variance-ratio head's
                               C is never clamped) */
    dfx_likelihood_trace trace; /* default DFX_TRACE_DFTM; the baselines load the model's moments too, so they
                               also need fisher/ (its output unused) */
    uint32_t probes;        /* Hutchinson probes, 1..DFX_LIKELIHOOD_MAX_PROBES; default 1; drawn from seed
                               (a stream apart from the dequantisation's) */
    dfx_skip skip;          /* Gaussian skip (MATH.md "Gaussian skip for the likelihood"): the networks run
                               from σ̃_min to σ̃_skip only, the Gaussian of gaussian/ gives the density there.
                               AUTO: gaussian/'s mode at its grid size, spectral at other sizes, off without a
                               calibrated gaussian/; PCA and SPECTRAL need that part; OFF (default: on the
                               shipped models it moves bits/dim by about 0.1, BENCHMARKS.md) */
    double sigma_skip;      /* σ̃_skip; 0 (default): the calibrated one of the mode */
    int global_attention;   /* whole layout on a layer larger than the model: 0 (default): each position's
                               attention sees the model's size around it; 1: the whole layer (cost grows with
                               the square of the area) */
    int head_tiles;         /* whole layout on a layer larger than the model, DF-TM: 1: the Fisher head, trained
                               at the model's size, scores tiles of that size cut from the whole layer's x̃ and
                               its per-value output is blended with raised-cosine weights (the trajectory and the
                               score network stay the whole layer's: no seams); 0 (default): the head runs on the
                               whole layer.  Neither is within 0.02 bits/dim of the network's own divergence on
                               emoji-32 (BENCHMARKS.md issue 20) */
    int head_overlap;       /* head tiles: pixels shared by neighbours, in [0, tile); -1 (default): a quarter
                               of the tile */
    dfx_progress_fn progress; /* fraction of the ODE integrated over all tiles; nonzero cancels */
    void *progress_user;
} dfx_likelihood_params;

void dfx_likelihood_params_defaults (dfx_likelihood_params *p);

typedef struct dfx_likelihood_tile {
    uint32_t x, y, width, height; /* the tile's place in the layer (pixels) */
    uint64_t pixels_scored;       /* its pixels inside the layer that are scored */
    double bits_per_dim;          /* over those pixels' values (NaN when none) */
} dfx_likelihood_tile;

typedef struct dfx_likelihood_result {
    double bits_per_dim;          /* of the layer (see above) */
    double log_p;                 /* log-density of the scored values on the model's scale (nats): the
                                     blended per-value terms summed; bits_per_dim = −log_p/(dims ln 2) + log2 127.5 */
    uint64_t dims;                /* values scored: model channels × pixels_scored */
    uint64_t pixels_scored, pixels_excluded; /* excluded: alpha 0 */
    uint32_t width, height;       /* of the layer */
    uint32_t channels;            /* the model's */
    float *map;                   /* height × width bits/dim per pixel, NaN where excluded; dfx_likelihood_result_clear() */
    dfx_likelihood_tile *tiles;   /* tile_count tiles, row by row */
    uint32_t tile_count, tile_width, tile_height, tiles_x, tiles_y;
    uint32_t head_tiles_x, head_tiles_y; /* the Fisher head's tiles of the whole layer (p.head_tiles), 0: none */
    uint32_t nfe;                 /* network evaluations (one evaluates a whole batch of tiles) */
    uint32_t nfe_fisher;          /* of them, those that ran the Fisher head too (the others: the score
                                     network alone) */
    uint32_t steps, rejected;     /* ODE steps accepted and rejected, summed over the batches */
    double sigma_min, sigma_max;  /* the σ̃ range integrated */
    dfx_skip skip;                /* the Gaussian skip used: PCA, SPECTRAL or OFF */
    double sigma_skip;            /* where the network ODE stopped (= sigma_max without a skip) */
    double seconds;               /* wall time */
    /* Where the log-density comes from (diagnostics): the divergence integral over bands of σ̃ (edges
       band_sigma, from sigma_min to sigma_skip; bands that lie outside are empty) and the prior term, each
       in bits/dim (−nats/(values ln 2)) over all the values that went through the networks (every tile's,
       unweighted; a padded layer's padding included), so that
       Σ band_bits + prior_bits + log2 127.5 is the layer's bits/dim up to the blending. */
    double band_sigma[DFX_LIKELIHOOD_BANDS + 1];
    double band_bits[DFX_LIKELIHOOD_BANDS];
    double prior_bits;
} dfx_likelihood_result;

/* Frees what r holds (map, tiles); accepts a zeroed result. */
void dfx_likelihood_result_clear (dfx_likelihood_result *r);

/* Scores an image under the model.  pixels: height × width × channels
 * interleaved floats in [0, 1] (sRGB-encoded values as in the file; 1 grey,
 * 2 grey + alpha, 3 RGB, 4 RGBA; has_alpha says whether the last channel is
 * alpha, so 2 and 4 channels need it and 1 and 3 must not have it).  NaN or
 * infinite values, and values outside [0, 1] by more than 1e-3, are refused
 * naming the pixel.  A layer with every pixel transparent is refused: no pixel
 * would be scored.  A model without fisher/ is DFX_ERR_UNSUPPORTED, the
 * message naming the folder and the command that makes it.  On success *r
 * owns its map and tiles (dfx_likelihood_result_clear()); on failure *r is
 * zeroed. */
dfx_status dfx_likelihood (dfx_model *m, const dfx_likelihood_params *p, const float *pixels, uint32_t width,
                           uint32_t height, uint32_t channels, int has_alpha, dfx_likelihood_result *r);

/* ---- Colour maps of likelihood heatmaps (likelihood/colormap.c) ----------
 *
 * Shared by every front end (the CLI's heatmap PNG, the plug-in's heatmap
 * layers and their legend).  Each map is a table of anchor colours
 * (sRGB-encoded), evenly spaced over [0, 1], interpolated linearly.  Viridis
 * and magma are the perceptually uniform maps of matplotlib (van der Walt and
 * Smith, 2015); the anchors are their published colours at even steps,
 * sampled, not code.  "grey" is a plain ramp.  Low values are dark: on a
 * bits/dim map, bright means unlikely.  Pure functions: thread-safe. */
typedef enum dfx_colormap { DFX_COLORMAP_VIRIDIS = 0, DFX_COLORMAP_MAGMA, DFX_COLORMAP_GREY } dfx_colormap;

/* "viridis", "magma", "grey"; never NULL ("unknown" for other values). */
const char *dfx_colormap_name (dfx_colormap c);

/* The map of a name; -1 when none. */
int dfx_colormap_from_name (const char *name);

/* rgb[0..2] (0..1, sRGB-encoded) of t, clamped to [0, 1]; NaN gives black. */
void dfx_colormap_eval (dfx_colormap c, double t, float rgb[3]);

/* The colour range of a map of n values (NaN skipped): the 1st and 99th
 * percentile, widened to at least 0.1 around their middle.  Returns 0 when no
 * value is a number (or when a scratch copy cannot be allocated). */
int dfx_colormap_range (const float *v, size_t n, double *lo, double *hi);
/* ---- Fisher-information diagnostics (MATH.md "Fisher information and its rate") ----
 *
 * Over a grid of noise levels σ (the VE / EDM form x̃ = x0 + σ ε, τ = σ²) and
 * data images x0: the Fisher information J(τ) = E tr F from the Fisher head
 * (identity 3) and, as a check, from the score norm E‖s‖²; the Fisher
 * information rate E‖F‖_F² = −J'(τ) by Hutchinson, E_v ‖F v‖² with Rademacher
 * probes v and F v from the outer-product form F = I/τ − C/τ²; mmse(τ) =
 * τ d − τ² J and its rate d − 2τ J + τ² E‖F‖_F².  Means over the images with
 * standard errors. */

typedef enum dfx_fir_method {
    /* C v = τ (∂x̂0/∂x̃) v (second-order Tweedie) by a central difference of
     * the score network: two more evaluations per probe, no bias beyond the
     * difference's */
    DFX_FIR_JVP = 0,
    /* DF-EA: M v ≈ x0 (x0ᵀ v) with x0 the data point the noisy image came
     * from; no extra evaluation, but biased upward (E‖F̂v‖² = ‖Fv‖² +
     * E‖(x0x0ᵀ − M)v‖²/τ⁴), badly so at small σ on continuous data */
    DFX_FIR_DFEA
} dfx_fir_method;

typedef struct dfx_diagnose_params {
    const double *sigmas; /* n_sigmas levels; NULL: n_sigmas (default 12) log-spaced over the model's σ̃ range */
    uint32_t n_sigmas;    /* 1 .. DFX_DIAGNOSE_MAX_SIGMAS */
    uint32_t probes;      /* Hutchinson probes per image and σ; default 2 */
    dfx_fir_method fir;   /* default DFX_FIR_JVP */
    uint32_t batch;       /* images per network call; default 16 */
    uint64_t seed;        /* noise and probes (Philox); default 0 */
    dfx_progress_fn progress;
    void *progress_user;
} dfx_diagnose_params;

#define DFX_DIAGNOSE_MAX_SIGMAS 256

void dfx_diagnose_params_defaults (dfx_diagnose_params *p);

/* One σ of the grid; every mean comes with its standard error (_se) over
 * the images (and probes). */
typedef struct dfx_diagnose_row {
    double sigma, tau;               /* τ = σ² */
    double j_head, j_head_se;        /* E tr F = d/τ − E Σ_i C_ii/τ², C_ii = m_i − x̂0_i² clamped ≥ 0 */
    double j_score, j_score_se;      /* E ‖s‖² = E ‖x̂0 − x̃‖²/τ² */
    double fir, fir_se;              /* E ‖F‖_F² by Hutchinson */
    double mmse, mmse_se;            /* τ d − τ² J_head (= E tr C) */
    double mmse_direct, mmse_direct_se; /* E ‖x0 − x̂0‖², the denoiser's own error */
    double mmse_rate, mmse_rate_se;  /* d mmse/dτ = d − 2τ J_head + τ² FIR */
    double rate_d, rate_j, rate_fir; /* its terms: d, −2τ J_head, τ² FIR */
} dfx_diagnose_row;

/* Runs the diagnostics of model m on n data images (n × channels × h × w
 * floats, NCHW, the model's data scale [−1, 1]; h × w a multiple of the
 * U-Net's size multiple).  rows receives p->n_sigmas rows (ascending σ as
 * given or the default grid).  Needs the model's fisher/ head: without it
 * DFX_ERR_UNSUPPORTED naming the folder and the command that makes it. */
dfx_status dfx_diagnose (dfx_model *m, const dfx_diagnose_params *p, const float *data, uint32_t n, uint32_t h,
                         uint32_t w, dfx_diagnose_row *rows);

/* ---- Latent diagnostics: is an encoder's latent space diffusable? ------------
 * (docs/latent-diagnostics.md; the "latent diffusability" paper)
 *
 * Per noise level σ (VE, τ = σ²): the Fisher information J, its rate (FIR)
 * and the MMSE rate of the data set's distribution and of its image under an
 * encoder, with the exact scores of the empirical distributions (Dirac
 * mixtures of the n data points and of their n codes) or of their moment-
 * matched Gaussians; the encoder's local bi-Lipschitz constants (extreme
 * singular values of its Jacobian at data points, by finite differences);
 * and, at every level, two sandwiches: the one derived in the doc (a theorem
 * for linear maps, levels rescaled)
 *     J_x(τ/m²)/L² − (D−d)m²/(τL²) ≤ J_z(τ) ≤ J_x(τ/L²)/m²
 * and the paper summary's statement read at one level (not a theorem: a
 * scaled rotation violates it; reported, not relied on)
 *     J_x(τ)/L² ≤ J_z(τ) ≤ J_x(τ)/m².
 * Host double precision except the encoder.
 *
 *     dfx_latent_params p;
 *     dfx_latent_params_defaults (&p);
 *     dfx_latent_row rows[12];
 *     dfx_latent_summary s;
 *     dfx_latent_diagnose (ctx, &p, data, n, D, d, my_encoder, my_state, rows, &s);
 */

/* The encoder: z (n × dz) = E(x) (n × dx), row-major doubles.  n ≤ the
 * batch the caller asked for (or 2·batch for the Jacobian's columns). */
typedef dfx_status (*dfx_encoder_fn) (void *user, uint32_t n, const double *x, double *z);

typedef enum dfx_density_kind {
    DFX_DENSITY_EMPIRICAL = 0, /* the Dirac mixture of the points: exact scores of the data set */
    DFX_DENSITY_GAUSSIAN       /* N(mean, cov) of the points (1/n moments): closed forms */
} dfx_density_kind;

typedef struct dfx_latent_params {
    const double *sigmas;     /* n_sigmas levels > 0; NULL: n_sigmas log-spaced from 0.1 × the median
                                 nearest-neighbour distance to 3 × the RMS radius of the points (the
                                 smaller and the larger over data and codes): the range where the
                                 Dirac mixtures are neither single points nor one blob */
    uint32_t n_sigmas;        /* 1 .. DFX_DIAGNOSE_MAX_SIGMAS; default 12 */
    dfx_density_kind density; /* default DFX_DENSITY_EMPIRICAL */
    uint32_t samples;         /* Monte Carlo draws of x_τ per level and space; default 256 */
    uint32_t jacobian_points; /* data points where the Jacobian is measured (evenly spread); default 8 */
    double fd_step;           /* central-difference step h; default 1e-2 */
    uint32_t batch;           /* Jacobian columns per encoder call (2·batch inputs); default 16 */
    uint64_t seed;            /* default 0 */
    dfx_progress_fn progress;
    void *progress_user;
} dfx_latent_params;

void dfx_latent_params_defaults (dfx_latent_params *p);

/* One space at one level; means with standard errors over the draws. */
typedef struct dfx_fisher_stats {
    double j, j_se;             /* J = E tr F = d/τ − E tr C/τ² (exact per draw) */
    double j_score, j_score_se; /* E ‖s‖², s = (x̂0 − x_τ)/τ: the same J by identity 6, a check */
    double fir, fir_se;         /* FIR = E ‖F‖_F² = d/τ² − 2 E tr C/τ³ + E ‖C‖_F²/τ⁴ = −dJ/dτ */
    double mmse, mmse_se;       /* E tr C = τ d − τ² J */
    double rate, rate_se;       /* d mmse/dτ = E ‖C‖_F²/τ² */
    double rate_d, rate_j, rate_fir; /* its terms d, −2τJ, τ²·FIR (they sum to rate) */
} dfx_fisher_stats;

typedef struct dfx_latent_row {
    double sigma, tau;
    dfx_fisher_stats x, z;     /* the data (dimension D) and the codes (d) */
    double j_x_lo, j_x_lo_se;  /* J_x(τ/m²) */
    double j_x_hi, j_x_hi_se;  /* J_x(τ/L²) */
    double lower, upper;       /* J_x(τ/m²)/L² − (D−d)m²/(τL²) and J_x(τ/L²)/m² (+inf when m = 0) */
    double lower_margin, upper_margin;       /* (J_z − lower)/J_z and (upper − J_z)/J_z */
    double lower_margin_se, upper_margin_se; /* from the standard errors of the J's involved */
    int lower_pass, upper_pass;              /* margin ≥ −2·se − 1e-9 */
    /* the paper summary's form at one level: J_x(τ)/L² ≤ J_z(τ) ≤ J_x(τ)/m² */
    double lower_same, upper_same;           /* J_x(τ)/L² and J_x(τ)/m² (+inf when m = 0) */
    double lower_same_margin, upper_same_margin;       /* relative to J_z, as above */
    double lower_same_margin_se, upper_same_margin_se;
    int lower_same_pass, upper_same_pass;
} dfx_latent_row;

typedef struct dfx_latent_summary {
    uint32_t n, dx, dz;
    uint32_t jacobian_points;
    double sv_min, sv_max;           /* m = min σ_min and L = max σ_max of the Jacobian over the points */
    double sv_min_mean, sv_max_mean; /* their means over the points */
    double secant_min, secant_max;   /* min and max ‖z_i − z_j‖/‖x_i − x_j‖ over the data pairs */
    uint64_t secant_pairs;
    int lower_is_theorem;            /* 1 when dz = dx (an invertible linear map satisfies both sides) */
    uint32_t levels_passed;          /* levels where both sides of the derived sandwich hold */
    uint32_t levels_passed_same;     /* levels where both sides of the one-level form hold */
} dfx_latent_summary;

/* Runs the latent diagnostics of encoder enc (user its state) on n data
 * points of dx values (row-major floats, the encoder's data scale), codes of
 * dz values.  rows receives p->n_sigmas rows, summary the constants.  Errors
 * of the encoder are passed on; bad sizes or parameters are refused naming
 * them.  Host double precision; not thread-safe with other calls on ctx when
 * the encoder uses it. */
dfx_status dfx_latent_diagnose (dfx_ctx *ctx, const dfx_latent_params *p, const float *data, uint32_t n, uint32_t dx,
                                uint32_t dz, dfx_encoder_fn enc, void *user, dfx_latent_row *rows,
                                dfx_latent_summary *summary);

/* The same with an autoencoder's encoder: images n × in_channels × h × w
 * (NCHW, [−1, 1]), h and w multiples of its downscale; the code is the
 * posterior mean scaled as a latent diffusion model sees it,
 * (mean − shift_factor)·scaling_factor. */
dfx_status dfx_latent_diagnose_vae (dfx_ctx *ctx, dfx_vae *v, const dfx_latent_params *p, const float *images,
                                    uint32_t n, uint32_t h, uint32_t w, dfx_latent_row *rows,
                                    dfx_latent_summary *summary);

/* ---- OT check of the sampling map (MATH.md "OT check") ---------------------- */

typedef enum dfx_schedule_kind { DFX_SCHEDULE_EDM = 0, DFX_SCHEDULE_VE, DFX_SCHEDULE_VP } dfx_schedule_kind;

typedef struct dfx_ot_params {
    const double *points;       /* n × dim, row-major: the Dirac-mixture data set */
    int n, dim;                 /* n ≥ 2, 1 ≤ dim ≤ 64 */
    dfx_schedule_kind schedule; /* EDM σ ∈ [0.002, 80]; VE [0.01, 50]; VP linear β 0.1…20 */
    int seeds;                  /* trajectories (x_T draws); default 16 */
    uint64_t seed;              /* default 1 */
    int steps;                  /* RK4 steps, uniform in ln σ̃; default 2000 */
} dfx_ot_params;

void dfx_ot_params_defaults (dfx_ot_params *p);

typedef struct dfx_ot_result {
    double mean, std, min, max; /* asymmetry ‖Ã − Ãᵀ‖_F / (√2 ‖Ã‖_F) over the seeds */
    int seeds;
    double sigma_min, sigma_max; /* the σ̃ range integrated */
} dfx_ot_result;

/* Integrates the PF-ODE map and its Jacobian for the points (exact Fisher)
 * and reports the asymmetry of the Jacobian: 0 for an OT (Brenier) map, as on
 * collinear points; positive otherwise.  Host double precision. */
dfx_status dfx_ot_check (dfx_ctx *ctx, const dfx_ot_params *p, dfx_ot_result *r);

/* Reads a points file: JSON {"points": [[x, y, ...], ...]} or a bare array of
 * points.  Refuses fewer than two points, mixed dimensions, non-numbers.
 * Ownership: *points (n × dim doubles) is freed with dfx_free(). */
dfx_status dfx_points_load (dfx_ctx *ctx, const char *path, double **points, int *n, int *dim);

/* ---- Guided editing (MATH.md "DF-EA") --------------------------------------
 *
 *     dfx_edit_params p;
 *     dfx_edit_params_defaults (&p);        // DDIM, 20 steps, strength 0.5, ODE inversion, 10 Adam iterations
 *     dfx_edit_result r;
 *     // image, guide: channels × h × w on the model's scale; mask: h × w in [0, 1]
 *     if (dfx_edit (m, &p, w, h, image, guide, mask, out, &r) != DFX_OK) { ...dfx_ctx_errmsg (ctx)... }
 *     // out: the edited image; r.loss[k], k ≤ r.iterations: the objective at each iterate
 *
 * The start point x̃ at σ̃_start (the layer noised, or inverted by the ODE) is
 * optimised so that the sampler's endpoint follows the guide inside the mask
 * and the layer outside it.  The gradient comes from the adjoint of the
 * sampler with DF-EA products (no network evaluation, no network gradient)
 * or, for comparison, with covariance products by finite differences of the
 * network (2 evaluations a step). */

typedef enum dfx_edit_start {
    DFX_EDIT_START_NOISE = 0, /* x̃ = image + σ̃_start ε (SDEdit); ε from the seed */
    DFX_EDIT_START_INVERT     /* the deterministic ODE from the image up to σ̃_start (N evaluations) */
} dfx_edit_start;

typedef enum dfx_edit_optimizer {
    DFX_EDIT_ADAM = 0, /* Adam (β1 = momentum, β2 = 0.999, ε = 1e-8); the step is per value */
    DFX_EDIT_MOMENTUM, /* heavy ball: v ← μ v + g, x ← x − lr v */
    DFX_EDIT_SGD       /* x ← x − lr g */
} dfx_edit_optimizer;

typedef enum dfx_edit_adjoint {
    DFX_EDIT_ADJOINT_DFEA_CLAMPED = 0, /* DF-EA's Ĉ kept to its positive eigen-direction, eigenvalue ≤ σ̃² (stable) */
    DFX_EDIT_ADJOINT_DFEA,             /* C a ≈ x̄0(x̄0ᵀa) − x̂0(x̂0ᵀa) with the stored x̂0, as MATH.md */
    DFX_EDIT_ADJOINT_FD,               /* C a = σ̃² ∂D/∂x̃ a by central differences of the network (comparison) */
    DFX_EDIT_ADJOINT_GAUSSIAN,         /* C a = σ̃² Σ (Σ + σ̃² I)⁻¹ a of the model's gaussian/ statistics (PCA at their
                                          size, else the stationary spectrum): no network, and on
                                          fashion-mnist-32 the closest to the exact gradient (BENCHMARKS.md) */
    DFX_EDIT_ADJOINT_HYBRID,           /* the Gaussian's product, the network's own (one more evaluation, against the
                                          stored x̂0) at the first few steps below gaussian/'s σ̃_skip, where the
                                          Gaussian departs from the network most: as many as fit 1.2× a pass */
    DFX_EDIT_ADJOINT_AUTO              /* HYBRID where the model has gaussian/, else DFEA_CLAMPED (default) */
} dfx_edit_adjoint;

/* A loss on the endpoint instead of the masked one: x0 is the current
 * endpoint x_N of the pass (at σ̃_min, within it of the result; channels ×
 * height × width, the model's scale); fill grad (same shape, ∂ℓ/∂x0) and
 * *loss.  Return nonzero to fail the edit
 * (DFX_ERR_CANCELLED). */
typedef int (*dfx_edit_loss_fn) (const float *x0, uint32_t channels, uint32_t height, uint32_t width, float *grad,
                                 double *loss, void *user);

/* Called after each forward pass with the current endpoint (the estimate of
 * the result, same layout as out) of iterate k (0 = the start).  Return
 * nonzero to cancel. */
typedef int (*dfx_edit_preview_fn) (uint32_t k, const float *x0, uint32_t channels, uint32_t height,
                                    uint32_t width, void *user);

#define DFX_EDIT_MAX_ITERATIONS 200

typedef struct dfx_edit_params {
    dfx_sampler sampler;          /* DDIM (default) or EULER; Heun is refused */
    uint32_t steps;               /* sampler steps from σ̃_start, 1..DFX_GENERATE_MAX_STEPS; default 20 */
    double strength;              /* t_start / t_max in (0, 1]; default 0.5 */
    dfx_edit_start start;         /* default DFX_EDIT_START_INVERT (keeps the unmasked part closest) */
    uint32_t iterations;          /* K gradient steps, 0..DFX_EDIT_MAX_ITERATIONS; default 10 */
    double guide_weight;          /* w_g of ½ w_g Σ mask (x0 − guide)²; default 5 */
    double preserve_weight;       /* w_p of ½ w_p Σ (1 − mask)(x0 − image)²; default 1 */
    dfx_edit_optimizer optimizer; /* default Adam */
    double step_size;             /* default 0.1 (on the model scale per value for Adam) */
    double momentum;              /* μ or β1; default 0.9 */
    dfx_edit_adjoint adjoint;     /* default DFX_EDIT_ADJOINT_AUTO */
    int32_t network_steps;        /* HYBRID: steps whose product is the network's, 0..steps; default -1: the
                                     most that keep an iteration within 1.2× a pass, ⌊0.18 (steps + 1)⌋ */
    uint64_t seed;                /* noise of the start; default 0 */
    dfx_edit_loss_fn loss;        /* NULL: the masked loss */
    void *loss_user;
    dfx_progress_fn progress;     /* fraction of the network evaluations done */
    void *progress_user;
    dfx_edit_preview_fn preview;
    void *preview_user;
    /* Keeping the outside (masked loss only; a custom loss edits the whole image raw): */
    double feather;               /* width in pixels of the soft band around the mask, 0..DFX_EDIT_MAX_FEATHER;
                                     default 3; farther out the result is the image bit for bit */
    uint32_t context;             /* pixels of surroundings the model sees around the band (the window);
                                     default 16; the window is at least the model's sample size where the
                                     image allows */
    int raw;                      /* 1: out holds the model's output over the whole window, no composite;
                                     default 0 (composite: image + weight (output − image)) */
    int global_attention;         /* on a window larger than the model's size: 0 (default): each attention
                                     query sees the model's size of tokens around it (as dfx_likelihood's
                                     whole layout); 1: the whole window */
} dfx_edit_params;

#define DFX_EDIT_MAX_FEATHER 64

void dfx_edit_params_defaults (dfx_edit_params *p);

typedef struct dfx_edit_result {
    uint32_t iterations;          /* gradient steps made */
    int unchanged;                /* 1: nothing to do (empty mask): out = image */
    /* Per iterate k = 0..iterations (k = iterations: the result): */
    double loss[DFX_EDIT_MAX_ITERATIONS + 1];       /* the objective */
    double guide_mse[DFX_EDIT_MAX_ITERATIONS + 1];  /* Σ mask (x0 − guide)² / Σ mask (masked loss only) */
    double outside_rms[DFX_EDIT_MAX_ITERATIONS + 1]; /* √(Σ (1 − mask)(x0 − image)² / Σ (1 − mask)) */
    double sigma_start;           /* σ̃ at t_start */
    uint32_t nfe;                 /* network evaluations */
    double seconds, seconds_forward, seconds_adjoint; /* wall time: all, forward passes, adjoint passes */
    uint64_t state_bytes;         /* device memory of the edit's state (the x̂0 per step included) */
    uint32_t canvas_width, canvas_height;
    uint32_t window_x, window_y, window_width, window_height; /* the part of the image the model worked on */
    dfx_edit_adjoint adjoint;     /* the adjoint used (AUTO resolved) */
    uint32_t network_steps;       /* HYBRID: the steps that used the network's product */
    char warning[256];
} dfx_edit_result;

/* Edits one image of width × height: image and guide hold channels ×
 * height × width floats on the model's scale, mask height × width values in
 * [0, 1] (1: follow the guide; NULL with a custom loss).  The model works on
 * a window around the mask's feathered band (p->context pixels of
 * surroundings, at least the model's size where the image allows); out
 * receives the image with the window's result composited by the feathered
 * mask (same layout; may be image): outside the band out = image exactly.
 * An all-zero mask is no work: out = image, r->unchanged = 1.  r may be
 * NULL. */
dfx_status dfx_edit (dfx_model *m, const dfx_edit_params *p, uint32_t width, uint32_t height, const float *image,
                     const float *guide, const float *mask, float *out, dfx_edit_result *r);

/* The weight dfx_edit() and dfx_heal() composite with: wt (width × height)
 * = mask (width × height, [0, 1]) spread outward by a linear ramp of
 * feather pixels, max over q of mask(q)·(1 − |p − q|/(feather + 1)) within
 * feather of p; 0 farther out.  For front ends that show it as a layer
 * mask.  feather in [0, DFX_EDIT_MAX_FEATHER]. */
void dfx_mask_feather (const float *mask, uint32_t width, uint32_t height, double feather, float *wt);

/* ---- Heal Selection -----------------------------------------------------------
 *
 *     dfx_heal_params p;
 *     dfx_heal_params_defaults (&p);
 *     dfx_heal_result r;
 *     if (dfx_heal (m, &p, w, h, image, mask, out, &r) != DFX_OK) { ...dfx_ctx_errmsg (ctx)... }
 *
 * Fills the masked region so that it continues its surroundings under the
 * model, with no guide: the sampler runs from noise at σ̃(strength) on a
 * window around the mask, and after every step the known region (outside
 * the feathered mask) is replaced by the image noised to the step's level
 * (RePaint), with `resample` passes per level (each re-noised back up one
 * level) so the filled part agrees with what surrounds it.  The sampler is
 * ancestral (Euler ancestral in σ̃, DDPM-like), so the replaced known region
 * and the filled part carry noise of one kind.  The result is composited
 * as dfx_edit()'s: outside the band the image bit for bit. */

typedef struct dfx_heal_params {
    uint32_t steps;               /* sampler levels, 1..DFX_GENERATE_MAX_STEPS; default 25 */
    double strength;              /* t_start / t_max in (0, 1]; default 1 (from pure noise) */
    uint32_t resample;            /* passes per level, 1..DFX_HEAL_MAX_RESAMPLE; default 3 */
    double feather;               /* as dfx_edit_params; default 3 */
    uint32_t context;             /* as dfx_edit_params; default 16 */
    int raw;                      /* as dfx_edit_params; default 0 */
    uint64_t seed;                /* default 0 */
    int global_attention;         /* as dfx_edit_params; default 0 */
    dfx_progress_fn progress;     /* fraction of the network evaluations done; nonzero cancels */
    void *progress_user;
} dfx_heal_params;

#define DFX_HEAL_MAX_RESAMPLE 20

void dfx_heal_params_defaults (dfx_heal_params *p);

typedef struct dfx_heal_result {
    int unchanged;                /* 1: the mask is empty, out = image */
    uint32_t nfe;                 /* network evaluations */
    double seconds;
    double sigma_start;
    uint32_t window_x, window_y, window_width, window_height;
    char warning[256];
} dfx_heal_result;

/* Heals one image of width × height (channels × height × width on the
 * model's scale) where mask (height × width, [0, 1]) is nonzero.  out (may be
 * image) receives the result.  Refuses a mask whose feathered band leaves no
 * pixel of the image outside it (nothing to continue from); an all-zero
 * mask is no work (out = image, r->unchanged = 1).  r may be NULL. */
dfx_status dfx_heal (dfx_model *m, const dfx_heal_params *p, uint32_t width, uint32_t height, const float *image,
                     const float *mask, float *out, dfx_heal_result *r);

/* ---- Gaussian statistics of a model (dfx prepare, models/GAUSSIAN.md) -------
 *
 *     dfx_prepare_params p;
 *     dfx_prepare_params_defaults (&p);     // from the network itself
 *     dfx_prepare_result r;
 *     if (dfx_prepare (ctx, "DIR", &p, &r) != DFX_OK) { ...dfx_ctx_errmsg (ctx)... }
 *     // DIR/gaussian/ written; r.sigma_skip the calibrated point
 *
 * Without data the statistics come from the network (MATH.md "Gaussian
 * skip"): at a high noise level σ̃ the denoiser is taken to be the Gaussian
 * one, D(x̃) = μ + A(x̃ − μ), A = Σ(Σ + σ̃²I)⁻¹; its mean output over
 * antithetic noise pairs gives μ, its Jacobian (central differences of
 * network evaluations, randomised subspace iteration) the top eigenpairs of
 * Σ = σ̃² A(I − A)⁻¹, a Hutchinson trace the residual, and its action on
 * Fourier modes the stationary spectrum (DFX_PREPARE_JACOBIAN, the default).
 * DFX_PREPARE_TOTAL needs no premise: the law of total covariance with
 * Tweedie's Cov(x0 | x̃) = σ̃² A, Σ = σ̃² E[A(x̃)] + Cov(D(x̃)) over the
 * model's own images (generated, or p->samples) noised to σ̃; the same range
 * finder, trace and Fourier blocks on that operator, μ the images' mean.
 * models/GAUSSIAN.md and BENCHMARKS.md compare the two.  σ̃_skip is
 * calibrated by the rule of models/GAUSSIAN.md on images the model
 * generates (Heun, skip off).  With data the statistics come from the images
 * (gaussian_stats.py's method) and the calibration from a held-out 5 %. */

#define DFX_PREPARE_TOP 8    /* eigenvalues reported */
#define DFX_PREPARE_LEVELS 6 /* premise-check levels reported */

typedef enum dfx_prepare_method {
    DFX_PREPARE_JACOBIAN = 0, /* Σ = σ̃² A(I − A)⁻¹ at one level (the Gaussian premise; default) */
    DFX_PREPARE_TOTAL = 1,    /* Σ = σ̃² E[A] + Cov(D) on the model's samples */
} dfx_prepare_method;

const char *dfx_prepare_method_name (dfx_prepare_method m);

typedef struct dfx_prepare_params {
    const float *data;     /* NULL (default): from the network; else data_count images */
    uint32_t data_count;   /*   of channels × sample_height × sample_width on the data scale ([−1, 1]) */
    dfx_prepare_method method; /* without data; default DFX_PREPARE_JACOBIAN */
    const float *samples;  /* NULL (default): generate calib_count images; else samples_count images the */
    uint32_t samples_count; /*   model generated, as data (statistics and calibration) */
    uint32_t draws;        /* noise draws per image for Cov(D) (TOTAL); default 2 */
    uint32_t jac_points;   /* base points averaged per Jacobian product (TOTAL); default 1 */
    uint32_t refine;       /* TOTAL: fixed-point passes on draws of the Gaussian itself; default 0 */
    double refine_sigma;   /*   at this σ̃ (0: sigma) */
    double sigma;          /* σ̃ of the Jacobian; 0 (default): the method's, 2 (TOTAL) or 10 (JACOBIAN) */
    double fd_step;        /* central-difference step along a unit direction, in units of σ̃; default 1 */
    uint32_t rank;         /* PCA rank r; default 64 (below the dimension) */
    uint32_t oversample;   /* extra probe vectors of the range finder; default 16 */
    uint32_t power_iters;  /* subspace iterations after the first pass; default 2 */
    uint32_t mean_pairs;   /* antithetic noise pairs for the mean (JACOBIAN); default 32 */
    uint32_t check_levels; /* premise check at σ̃/4, σ̃/2, 2σ̃, 4σ̃, … (within the schedule); default 4 */
    uint32_t calib_count;  /* images generated (statistics and calibration), or held out at most; default 64 */
    uint32_t calib_steps;  /* Heun steps of the generated ones; default 18 */
    uint32_t n_sigma;      /* calibration grid levels; default 16 */
    double tolerance;      /* calibration tolerance; default 0.1 */
    uint32_t batch;        /* images per network dispatch; default 16 */
    uint64_t seed;         /* default 0 */
    int force;             /* 1: replace an existing gaussian/ (default 0: refuse) */
} dfx_prepare_params;

void dfx_prepare_params_defaults (dfx_prepare_params *p);

typedef struct dfx_prepare_result {
    int from_data;                              /* 1: statistics from p->data */
    dfx_prepare_method method;                  /* without data */
    uint32_t images, calib_images;              /* data images used; calibration images */
    double sigma;                               /* the Jacobian's level (network) */
    double trace_jacobian, trace_cov;           /* TOTAL: tr σ̃² E[A] and tr Cov(D), per value */
    uint32_t refine;                            /* TOTAL: fixed-point passes made, at refine_sigma */
    double refine_sigma;
    uint32_t rank;
    double eigenvalues[DFX_PREPARE_TOP];        /* the top ones, descending (fewer when rank is) */
    double residual_variance, total_variance;   /* λ_res; tr Σ / d implied */
    uint32_t levels;                            /* premise check: λ_1..4 re-measured at other σ̃ (TOTAL: by
                                                   the same identity, which an exact denoiser meets at
                                                   every level) */
    double level_sigma[DFX_PREPARE_LEVELS];
    double level_eigenvalues[DFX_PREPARE_LEVELS][4];
    double premise_spread;                      /* largest ratio (≥ 1) of λ1 at σ̃/2 or 2σ̃ to λ1 at σ̃; 0:
                                                   not checked.  Above 2 the network is not the Gaussian
                                                   denoiser there and the statistics are rough */
    dfx_skip mode;                              /* PCA or SPECTRAL */
    double sigma_skip, sigma_skip_pca, sigma_skip_spectral, tolerance;
    uint64_t nfe_statistics, nfe_samples, nfe_calibration; /* images through the network */
    double seconds_statistics, seconds_samples, seconds_calibration, seconds;
} dfx_prepare_result;

/* Writes model_dir/gaussian/ (config.json, statistics.safetensors).  An
 * existing gaussian/ is refused unless p->force (and then not read, so a
 * broken one can be replaced); a folder that cannot be written is refused
 * before the model is loaded.  Errors name the file or argument.  r may be
 * NULL. */
dfx_status dfx_prepare (dfx_ctx *ctx, const char *model_dir, const dfx_prepare_params *p, dfx_prepare_result *r);

#ifdef __cplusplus
}
#endif
#endif /* DFX_H */
