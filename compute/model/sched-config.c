/* sched-config.c — diffusers' DDPM/DDIM scheduler_config.json and the
 * training noise schedule (βt, ᾱt) it defines.
 *
 * Formulas follow DDPMScheduler/DDIMScheduler.__init__: linspace as
 * torch.linspace computes it (from both ends), scaled_linear as the square of
 * a linspace of square roots, squaredcos_cap_v2 as betas_for_alpha_bar with
 * the cosine ᾱ(t) = cos((t + 0.008)/1.008 · π/2)² and β ≤ 0.999, optional
 * zero-terminal-SNR rescaling; all in double (diffusers rounds to float32).
 * The sampling timesteps and update rules are the samplers' business.
 */
#include "sched-config.h"

#include "config-json.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define MAX_CONFIG_BYTES (16u << 20)
#define PI 3.14159265358979323846

/* torch.linspace: the first half counts up from start, the second half down
 * from end, so both ends are exact. */
static void
linspace (double *x, int n, double start, double end)
{
    if (n == 1) {
        x[0] = start;
        return;
    }
    double step = (end - start) / (n - 1);
    for (int i = 0; i < n; i++)
        x[i] = i < n / 2 ? start + step * i : end - step * (n - 1 - i);
}

static double
cosine_alpha_bar (double t)
{
    double c = cos ((t + 0.008) / 1.008 * PI / 2);
    return c * c;
}

static void
cumprod (const double *betas, double *ac, int n)
{
    double p = 1;
    for (int i = 0; i < n; i++) {
        p *= 1 - betas[i];
        ac[i] = p;
    }
}

/* Rescales betas for zero terminal SNR (Lin et al. 2023, Algorithm 1), as
 * diffusers' rescale_zero_terminal_snr; uses ac as scratch. */
static int
rescale_zero_snr (double *betas, double *ac, int n)
{
    cumprod (betas, ac, n);
    double s0 = sqrt (ac[0]), sT = sqrt (ac[n - 1]);
    if (!(s0 - sT > 0))
        return 0;
    double prev = 0;
    for (int i = 0; i < n; i++) {
        double s = (sqrt (ac[i]) - sT) * (s0 / (s0 - sT));
        double ab = s * s;
        double alpha = i == 0 ? ab : (prev > 0 ? ab / prev : NAN);
        betas[i] = 1 - alpha;
        prev = ab;
    }
    return 1;
}

static dfx_status
parse_tree (dfx_ctx *ctx, const cJSON *root, const char *label, dfx__sched_config **out)
{
    static const char *const schedules[] = {"linear", "scaled_linear", "squaredcos_cap_v2", NULL};
    static const char *const predictions[] = {"epsilon", "v_prediction", "sample", NULL};
    static const char *const spacings[] = {"leading", "linspace", "trailing", NULL};
    static const char *const variances[] = {"fixed_small", "fixed_small_log", "fixed_large", "fixed_large_log",
                                            "learned", "learned_range", NULL};
    dfx_status st = DFX_OK;
    dfx__sched_config s, *c = NULL;
    const cJSON *v, *trained = NULL;
    int idx;

    memset (&s, 0, sizeof s);
    s.num_train_timesteps = 1000;
    s.beta_start = 0.0001;
    s.beta_end = 0.02;
    s.clip_sample = 1;
    s.clip_sample_range = 1.0;
    s.dynamic_thresholding_ratio = 0.995;
    s.sample_max_value = 1.0;
    s.set_alpha_to_one = 1;

    DFX_CHECK (dfx__json_member (ctx, root, "_class_name", label, &v));
    if (v) {
        const char *name;
        DFX_CHECK (dfx__json_string (ctx, v, "_class_name", label, &name));
        dfx__printable (s.class_name, sizeof s.class_name, name);
    }
    DFX_CHECK (dfx__json_member (ctx, root, "num_train_timesteps", label, &v));
    int t_given = v != NULL;
    DFX_CHECK (dfx__json_get_int (ctx, root, "num_train_timesteps", label, 1, DFX__SCHED_MAX_TIMESTEPS,
                                  &s.num_train_timesteps));
    DFX_CHECK (dfx__json_get_number (ctx, root, "beta_start", label, 0, 1, &s.beta_start));
    DFX_CHECK (dfx__json_get_number (ctx, root, "beta_end", label, 0, 1, &s.beta_end));
    idx = 0;
    DFX_CHECK (dfx__json_get_choice (ctx, root, "beta_schedule", label, schedules, 0, &idx));
    s.beta_schedule = (dfx__beta_schedule) idx;
    idx = 0;
    DFX_CHECK (dfx__json_get_choice (ctx, root, "prediction_type", label, predictions, 0, &idx));
    s.prediction_type = (dfx__prediction) idx;
    idx = 0;
    DFX_CHECK (dfx__json_get_choice (ctx, root, "timestep_spacing", label, spacings, 0, &idx));
    s.timestep_spacing = (dfx__timestep_spacing) idx;
    idx = 0;
    DFX_CHECK (dfx__json_get_choice (ctx, root, "variance_type", label, variances, 1, &idx));
    s.variance_type = idx < 0 ? DFX__VARIANCE_FIXED_SMALL : (dfx__variance_type) idx;
    DFX_CHECK (dfx__json_get_bool (ctx, root, "clip_sample", label, &s.clip_sample));
    DFX_CHECK (dfx__json_get_number (ctx, root, "clip_sample_range", label, 1e-30, 1e30, &s.clip_sample_range));
    DFX_CHECK (dfx__json_get_bool (ctx, root, "thresholding", label, &s.thresholding));
    DFX_CHECK (dfx__json_get_number (ctx, root, "dynamic_thresholding_ratio", label, 0, 1,
                                     &s.dynamic_thresholding_ratio));
    DFX_CHECK (dfx__json_get_number (ctx, root, "sample_max_value", label, 1e-30, 1e30, &s.sample_max_value));
    DFX_CHECK (dfx__json_get_bool (ctx, root, "set_alpha_to_one", label, &s.set_alpha_to_one));
    DFX_CHECK (dfx__json_get_bool (ctx, root, "rescale_betas_zero_snr", label, &s.rescale_betas_zero_snr));

    /* trained_betas (null or an array) overrides beta_schedule. */
    DFX_CHECK (dfx__json_member (ctx, root, "trained_betas", label, &trained));
    if (!dfx__json_is_null (trained)) {
        if (!cJSON_IsArray (trained))
            return dfx__error (ctx, DFX_ERR_FORMAT, "%s: field 'trained_betas' is %s, expected an array of numbers",
                               label, dfx__json_type_name (trained));
        int n = cJSON_GetArraySize (trained);
        if (n < 1 || n > DFX__SCHED_MAX_TIMESTEPS)
            return dfx__error (ctx, DFX_ERR_FORMAT, "%s: field 'trained_betas' has %d entries, expected 1 to %d",
                               label, n, DFX__SCHED_MAX_TIMESTEPS);
        if (t_given && n != s.num_train_timesteps)
            return dfx__error (ctx, DFX_ERR_FORMAT,
                               "%s: field 'trained_betas' has %d entries but num_train_timesteps is %d", label, n,
                               s.num_train_timesteps);
        s.num_train_timesteps = n;
        s.beta_schedule = DFX__BETA_TRAINED;
    } else {
        trained = NULL;
    }
    DFX_CHECK (dfx__json_get_int (ctx, root, "steps_offset", label, 0, s.num_train_timesteps, &s.steps_offset));

    /* One allocation: the struct, then betas, then alphas_cumprod. */
    const int n = s.num_train_timesteps;
    c = dfx__calloc (1, sizeof *c + 2 * (size_t) n * sizeof (double));
    if (!c)
        return dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "%s: out of host memory", label);
    *c = s;
    c->betas = (double *) (c + 1);
    c->alphas_cumprod = c->betas + n;
    double *b = c->betas;

    switch (c->beta_schedule) {
    case DFX__BETA_LINEAR:
        linspace (b, n, c->beta_start, c->beta_end);
        break;
    case DFX__BETA_SCALED_LINEAR:
        linspace (b, n, sqrt (c->beta_start), sqrt (c->beta_end));
        for (int i = 0; i < n; i++)
            b[i] *= b[i];
        break;
    case DFX__BETA_SQUAREDCOS_CAP_V2:
        for (int i = 0; i < n; i++) {
            double beta = 1 - cosine_alpha_bar ((double) (i + 1) / n) / cosine_alpha_bar ((double) i / n);
            b[i] = beta < 0.999 ? beta : 0.999;
        }
        break;
    case DFX__BETA_TRAINED: {
        int i = 0;
        for (const cJSON *e = trained->child; e; e = e->next, i++) {
            char field[48];
            snprintf (field, sizeof field, "trained_betas[%d]", i);
            DFX_CHECK (dfx__json_number (ctx, e, field, label, 0, 1, &b[i]));
        }
        break;
    }
    }
    if (c->rescale_betas_zero_snr && !rescale_zero_snr (b, c->alphas_cumprod, n)) {
        st = dfx__error (ctx, DFX_ERR_FORMAT, "%s: field 'rescale_betas_zero_snr' is true but the schedule's alphas_cumprod does "
                         "not decrease (nothing to rescale)", label);
        goto cleanup;
    }
    for (int i = 0; i < n; i++)
        if (!(b[i] >= 0 && b[i] <= 1)) {
            st = dfx__error (ctx, DFX_ERR_FORMAT, "%s: the schedule gives beta[%d] = %g, outside [0, 1]", label, i,
                             b[i]);
            goto cleanup;
        }
    cumprod (b, c->alphas_cumprod, n);
    *out = c;
    c = NULL;
cleanup:
    dfx__sched_config_destroy (c);
    return st;
}

dfx_status
dfx__sched_config_parse (dfx_ctx *ctx, const char *json, size_t len, const char *label, dfx__sched_config **out)
{
    dfx_status st;
    cJSON *root = NULL;
    *out = NULL;
    if (!label)
        label = "<scheduler config>";
    DFX_CHECK (dfx__json_parse_object (ctx, json, len, label, &root));
    DFX_CHECK (parse_tree (ctx, root, label, out));
cleanup:
    cJSON_Delete (root);
    return st;
}

dfx_status
dfx__sched_config_load (dfx_ctx *ctx, const char *path, dfx__sched_config **out)
{
    char *text = NULL;
    size_t len = 0;
    *out = NULL;
    dfx_status st = dfx__read_text_file (ctx, path, MAX_CONFIG_BYTES, &text, &len);
    if (st == DFX_OK)
        st = dfx__sched_config_parse (ctx, text, len, path, out);
    dfx__free (text);
    return st;
}

void
dfx__sched_config_destroy (dfx__sched_config *c)
{
    dfx__free (c);
}
