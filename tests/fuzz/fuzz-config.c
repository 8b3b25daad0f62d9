/* fuzz-config.c — libFuzzer target of the diffusers config parsers.
 *
 * Each input is parsed both as a UNet2DModel config.json and as a
 * scheduler_config.json.  Refusals must name the file; an accepted UNet
 * config must pass its own check and give a positive parameter count, an
 * accepted schedule must have betas in [0, 1] and a non-increasing
 * alphas_cumprod in [0, 1].  A broken promise traps.
 */
#include "dfx-private.h"
#include "model/sched-config.h"
#include "model/unet-config.h"

#include <string.h>

#define LABEL "fuzz/config.json"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static dfx_ctx *
offline_ctx (void)
{
    static dfx_ctx *ctx; /* one per process; LeakSanitizer sees it reachable */
    if (!ctx) {
        dfx_ctx_options opt;
        dfx_ctx_options_defaults (&opt);
        opt.offline = 1;
        if (dfx_ctx_create (&opt, &ctx) != DFX_OK)
            abort ();
    }
    return ctx;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    dfx_ctx *ctx = offline_ctx ();
    const char *json = (const char *) data;

    dfx__unet_config c;
    if (dfx__unet_config_parse (ctx, json, size, LABEL, &c) == DFX_OK) {
        int n = dfx__unet_config_tensor_count (&c);
        int64_t params = dfx__unet_config_param_count (&c);
        if (dfx__unet_config_check (ctx, &c, LABEL) != DFX_OK || n < 8 || params <= 0)
            __builtin_trap ();
    } else if (!strstr (dfx_ctx_errmsg (ctx), LABEL)) {
        __builtin_trap ();
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
    } else if (s || !strstr (dfx_ctx_errmsg (ctx), LABEL)) {
        __builtin_trap ();
    }
    return 0;
}
