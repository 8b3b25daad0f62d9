/* sched-config.h — the diffusers noise schedule (scheduler/scheduler_config.json
 * of a DDPMScheduler or DDIMScheduler) and the βt and ᾱt it implies,
 * internal to libdfx.
 *
 * Only the training schedule is computed here (betas, alphas_cumprod); the
 * sampling timesteps and the update rules belong to the samplers.  Fields
 * that only those use are parsed, checked and kept.
 */
#ifndef DFX_SCHED_CONFIG_H
#define DFX_SCHED_CONFIG_H

#include "dfx-private.h"

#define DFX__SCHED_MAX_TIMESTEPS 100000

typedef enum dfx__beta_schedule {
    DFX__BETA_LINEAR = 0,          /* linspace(beta_start, beta_end, T) */
    DFX__BETA_SCALED_LINEAR,       /* linspace(√beta_start, √beta_end, T)² */
    DFX__BETA_SQUAREDCOS_CAP_V2,   /* betas_for_alpha_bar, cosine ᾱ, β ≤ 0.999 */
    DFX__BETA_TRAINED              /* the config's trained_betas */
} dfx__beta_schedule;

typedef enum dfx__prediction {
    DFX__PREDICT_EPSILON = 0,
    DFX__PREDICT_V,                /* "v_prediction" */
    DFX__PREDICT_SAMPLE
} dfx__prediction;

typedef enum dfx__timestep_spacing {
    DFX__SPACING_LEADING = 0,
    DFX__SPACING_LINSPACE,
    DFX__SPACING_TRAILING
} dfx__timestep_spacing;

typedef enum dfx__variance_type {
    DFX__VARIANCE_FIXED_SMALL = 0,
    DFX__VARIANCE_FIXED_SMALL_LOG,
    DFX__VARIANCE_FIXED_LARGE,
    DFX__VARIANCE_FIXED_LARGE_LOG,
    DFX__VARIANCE_LEARNED,         /* the network also outputs a variance (2× channels) */
    DFX__VARIANCE_LEARNED_RANGE
} dfx__variance_type;

typedef struct dfx__sched_config {
    char class_name[64];           /* "_class_name", "" when absent */
    int num_train_timesteps;       /* T */
    double beta_start, beta_end;
    dfx__beta_schedule beta_schedule;
    dfx__prediction prediction_type;
    dfx__variance_type variance_type; /* DDPM */
    dfx__timestep_spacing timestep_spacing;
    int steps_offset;
    int clip_sample;
    double clip_sample_range;
    int thresholding;
    double dynamic_thresholding_ratio;
    double sample_max_value;
    int set_alpha_to_one;          /* DDIM: ᾱ before step 0 is 1 (else ᾱ_0) */
    int rescale_betas_zero_snr;    /* applied to betas below */
    /* Owned by this struct, T values each, in double precision.  diffusers
     * holds them as float32 tensors (linspace and cumprod in float32); dfx
     * evaluates the same formulas in double, so values differ from diffusers'
     * by float32 rounding (relative ~1e-7), not by formula. */
    double *betas;
    double *alphas_cumprod;        /* ᾱt = Π_{s<=t} (1 − βs) */
} dfx__sched_config;

/* Parses len bytes of scheduler_config.json (need not be NUL-terminated),
 * applying diffusers' defaults (T 1000, β 1e-4 to 0.02 linear, epsilon, clip
 * on, leading spacing, ...), and computes betas and alphas_cumprod.  Unknown
 * fields are ignored.  DFX_ERR_FORMAT for malformed JSON, wrong types or
 * out-of-range values, DFX_ERR_UNSUPPORTED for schedules or prediction types
 * dfx does not implement; the message names label, field and value.
 * Ownership: *out (NULL on failure) is freed with dfx__sched_config_destroy(). */
dfx_status dfx__sched_config_parse (dfx_ctx *ctx, const char *json, size_t len, const char *label,
                                    dfx__sched_config **out);

/* Reads and parses the file at path (DFX_ERR_IO when it cannot be read). */
dfx_status dfx__sched_config_load (dfx_ctx *ctx, const char *path, dfx__sched_config **out);

/* Frees the struct and its arrays.  Accepts NULL. */
void dfx__sched_config_destroy (dfx__sched_config *c);

#endif /* DFX_SCHED_CONFIG_H */
