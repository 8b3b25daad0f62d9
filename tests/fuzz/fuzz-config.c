/* fuzz-config.c — libFuzzer target of the diffusers config parsers.
 *
 * Each input is parsed as a UNet2DModel config.json, an AutoencoderKL
 * config.json and a scheduler_config.json.  Refusals must name the file; an
 * accepted UNet config must pass its own check and give a positive parameter
 * count, an accepted AutoencoderKL config must have 1 to 8 levels whose
 * channels its group count divides and a U-Net-builder form that passes the
 * U-Net check's range rules (no time embedding aside), an
 * accepted schedule must have betas in [0, 1] and a non-increasing
 * alphas_cumprod in [0, 1].  A broken promise traps.
 */
#include "fuzz-common.h"
#include "model/sched-config.h"
#include "model/unet-config.h"
#include "model/vae-config.h"

#define LABEL "fuzz/config.json"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    dfx_ctx *ctx = fuzz_offline_ctx ();
    const char *json = (const char *) data;

    dfx__unet_config c;
    if (dfx__unet_config_parse (ctx, json, size, LABEL, &c) == DFX_OK) {
        int n = dfx__unet_config_tensor_count (&c);
        int64_t params = dfx__unet_config_param_count (&c);
        if (dfx__unet_config_check (ctx, &c, LABEL) != DFX_OK || n < 8 || params <= 0)
            __builtin_trap ();
    } else {
        fuzz_check_names (ctx, LABEL);
    }

    dfx__vae_config v;
    if (dfx__vae_config_parse (ctx, json, size, LABEL, &v) == DFX_OK) {
        if (v.n_levels < 1 || v.n_levels > DFX__UNET_MAX_LEVELS || v.latent_channels < 1 || v.norm_num_groups < 1 ||
            v.scaling_factor == 0)
            __builtin_trap ();
        for (int i = 0; i < v.n_levels; i++)
            if (v.block_out_channels[i] < 1 || v.block_out_channels[i] % v.norm_num_groups)
                __builtin_trap ();
        dfx__unet_config a;
        dfx__vae_config_to_arch (&v, &a);
        if (a.norm_eps != 1e-6 || a.downsample_padding != 0 || a.time_embedding_dim != 0)
            __builtin_trap ();
    } else {
        fuzz_check_names (ctx, LABEL);
    }

    dfx__sched_config *s = NULL;
    if (dfx__sched_config_parse (ctx, json, size, LABEL, &s) == DFX_OK) {
        double prev = 1;
        for (int t = 0; t < s->num_train_timesteps; t++) {
            double b = s->betas[t], a = s->alphas_cumprod[t];
            if (!(b >= 0 && b <= 1 && a >= 0 && a <= prev))
                __builtin_trap ();
            prev = a;
        }
        dfx__sched_config_destroy (s);
    } else {
        if (s)
            __builtin_trap ();
        fuzz_check_names (ctx, LABEL);
    }
    return 0;
}
