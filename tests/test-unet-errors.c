/* test-unet-errors.c — the U-Net loader and forward on bad input: a tiny
 * model folder is written here (config.json + random weights through the
 * safetensors writer), then broken one way at a time.  Each failure must be a
 * status with a message naming the file, tensor, field or size; the context
 * stays usable; nothing leaks (this test also runs in the sanitizer build).
 * The good model must give finite, repeatable outputs. */
#include "check-ctx.h"
#include "check-weights.h"
#include "dfx-private.h"
#include "model/safetensors.h"
#include "model/unet-config.h"
#include "unet/unet-private.h"

#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *config_json =
    "{\"_class_name\": \"UNet2DModel\", \"sample_size\": 16, \"in_channels\": 3, \"out_channels\": 3,"
    " \"block_out_channels\": [16, 32], \"down_block_types\": [\"DownBlock2D\", \"AttnDownBlock2D\"],"
    " \"up_block_types\": [\"AttnUpBlock2D\", \"UpBlock2D\"], \"layers_per_block\": 1,"
    " \"norm_num_groups\": 8, \"attention_head_dim\": 8, \"freq_shift\": 1, \"flip_sin_to_cos\": false,"
    " \"downsample_padding\": 0, \"norm_eps\": 1e-6}";

static void
write_file (const char *path, const char *text)
{
    FILE *f = fopen (path, "w");
    fputs (text, f);
    fclose (f);
}

/* Writes dir/unet/{config.json, weights}; returns the status of the write. */
static dfx_status
make_model (dfx_ctx *ctx, const char *dir, const char *config, const char *skip, const char *reshape)
{
    dfx__unet_config c;
    dfx_status st = dfx__unet_config_parse (ctx, config_json, strlen (config_json), "test", &c);
    if (st != DFX_OK)
        return st;
    check_weights *w = calloc (1, sizeof *w);
    w->rng.s = 2024;
    w->skip = skip;
    w->reshape = reshape;
    dfx__unet_config_foreach_tensor (&c, check_weights_add, w);
    st = check_weights_save (ctx, dir, "unet", config, w);
    free (w);
    return st;
}

static dfx_status
try_load (dfx_ctx *ctx, const char *dir)
{
    dfx_unet *u = NULL;
    dfx_status st = dfx_unet_load (ctx, dir, &u);
    CHECK ((st == DFX_OK) == (u != NULL), "handle and status agree");
    dfx_unet_destroy (u);
    return st;
}

int
main (void)
{
    dfx_ctx *ctx = check_ctx_open ();
    dfx_status st;
    char root[] = "/tmp/dfx-unet-errors-XXXXXX";
    CHECK (mkdtemp (root) != NULL, "mkdtemp");
    char dir[256], path[512];

    /* The good model: loads, runs, finite, the same twice, batch-consistent. */
    snprintf (dir, sizeof dir, "%s/good", root);
    CHECK (make_model (ctx, dir, config_json, NULL, NULL) == DFX_OK, "write: %s", dfx_ctx_errmsg (ctx));
    dfx_unet *u = NULL;
    st = dfx_unet_load (ctx, dir, &u);
    CHECK (st == DFX_OK, "load: %s", dfx_ctx_errmsg (ctx));
    if (u) {
        const size_t n1 = 3 * 8 * 8;
        float x[2 * 3 * 8 * 8], y1[2 * 3 * 8 * 8], y2[2 * 3 * 8 * 8], t[2] = {10.0f, 10.0f};
        check_rng r = {5};
        check_fill (&r, x, n1, -1, 1);
        memcpy (x + n1, x, n1 * sizeof (float));
        CHECK (dfx_unet_forward (u, 1, 8, 8, x, t, y1) == DFX_OK, "forward: %s", dfx_ctx_errmsg (ctx));
        CHECK (dfx_unet_forward (u, 2, 8, 8, x, t, y2) == DFX_OK, "forward batch 2: %s", dfx_ctx_errmsg (ctx));
        int finite = 1, same = 1, nonzero = 0;
        for (size_t i = 0; i < n1; i++) {
            finite &= isfinite (y1[i]) && isfinite (y2[i]) && isfinite (y2[n1 + i]);
            same &= y1[i] == y2[i] && y2[i] == y2[n1 + i];
            nonzero += y1[i] != 0.0f;
        }
        CHECK (finite && nonzero > (int) n1 / 2, "finite, non-trivial output");
        CHECK (same, "same input, same output bit for bit (batch 1 vs both items of batch 2)");
        /* Activations cut into many buffers (as lavapipe's 128 MiB storage-buffer
         * range cuts large canvases): the same bits. */
        u->arena_limit_test = 8192;
        dfx__unet_program_free (u); /* plan again */
        float y3[2 * 3 * 8 * 8];
        CHECK (dfx_unet_forward (u, 2, 8, 8, x, t, y3) == DFX_OK, "forward, cut arena: %s", dfx_ctx_errmsg (ctx));
        CHECK (u->n_arena >= 3, "the arena is cut (%d buffers)", u->n_arena);
        CHECK (memcmp (y3, y2, sizeof y3) == 0, "cut arena: same output bit for bit");
        u->arena_limit_test = 64; /* smaller than one activation: refused, naming the range */
        dfx__unet_program_free (u);
        st = dfx_unet_forward (u, 2, 8, 8, x, t, y3);
        CHECK (st == DFX_ERR_UNSUPPORTED && strstr (dfx_ctx_errmsg (ctx), "storage-buffer range"), "too small: %s",
               dfx_ctx_errmsg (ctx));
        u->arena_limit_test = 0;
        /* Sizes the architecture does not allow, absurd sizes, non-finite input. */
        CHECK (dfx_unet_forward (u, 1, 7, 8, x, t, y1) == DFX_ERR_INVALID_ARGUMENT &&
                   strstr (dfx_ctx_errmsg (ctx), "multiples of 2"),
               "odd size: %s", dfx_ctx_errmsg (ctx));
        st = dfx_unet_forward (u, 1, 1u << 20, 1u << 20, x, t, y1);
        CHECK (st != DFX_OK && strstr (dfx_ctx_errmsg (ctx), "1048576"), "absurd size: %s: %s", dfx_status_name (st),
               dfx_ctx_errmsg (ctx));
        x[5] = NAN;
        st = dfx_unet_forward (u, 1, 8, 8, x, t, y1);
        CHECK (st == DFX_ERR_INVALID_ARGUMENT && strstr (dfx_ctx_errmsg (ctx), "not finite"), "NaN: %s",
               dfx_ctx_errmsg (ctx));
        x[5] = 0.0f;
        CHECK (dfx_unet_forward (u, 1, 8, 8, x, t, y1) == DFX_OK, "usable after errors: %s", dfx_ctx_errmsg (ctx));
    }
    dfx_unet_destroy (u);

    /* A tensor missing: named with the file. */
    snprintf (dir, sizeof dir, "%s/missing", root);
    make_model (ctx, dir, config_json, "down_blocks.1.attentions.0.to_k.weight", NULL);
    st = try_load (ctx, dir);
    CHECK (st == DFX_ERR_FORMAT && strstr (dfx_ctx_errmsg (ctx), "'down_blocks.1.attentions.0.to_k.weight'") &&
               strstr (dfx_ctx_errmsg (ctx), "missing") && strstr (dfx_ctx_errmsg (ctx), "safetensors"),
           "missing: %s", dfx_ctx_errmsg (ctx));
    /* A tensor of the wrong shape. */
    snprintf (dir, sizeof dir, "%s/shape", root);
    make_model (ctx, dir, config_json, NULL, "up_blocks.0.resnets.1.conv1.weight");
    st = try_load (ctx, dir);
    CHECK (st == DFX_ERR_FORMAT && strstr (dfx_ctx_errmsg (ctx), "'up_blocks.0.resnets.1.conv1.weight'") &&
               strstr (dfx_ctx_errmsg (ctx), "[33, 48, 3, 3]"),
           "shape: %s", dfx_ctx_errmsg (ctx));
    /* An unsupported config value. */
    snprintf (dir, sizeof dir, "%s/gelu", root);
    make_model (ctx, dir, config_json, NULL, NULL);
    snprintf (path, sizeof path, "%s/unet/config.json", dir);
    write_file (path, "{\"block_out_channels\": [16, 32], \"down_block_types\": [\"DownBlock2D\", \"DownBlock2D\"],"
                      " \"up_block_types\": [\"UpBlock2D\", \"UpBlock2D\"], \"norm_num_groups\": 8, \"act_fn\": \"gelu\"}");
    st = try_load (ctx, dir);
    CHECK (st == DFX_ERR_UNSUPPORTED && strstr (dfx_ctx_errmsg (ctx), "act_fn") && strstr (dfx_ctx_errmsg (ctx), "gelu"),
           "gelu: %s: %s", dfx_status_name (st), dfx_ctx_errmsg (ctx));
    /* A truncated weight file. */
    snprintf (dir, sizeof dir, "%s/trunc", root);
    make_model (ctx, dir, config_json, NULL, NULL);
    snprintf (path, sizeof path, "%s/unet/diffusion_pytorch_model.safetensors", dir);
    struct stat sb;
    stat (path, &sb);
    CHECK (truncate (path, sb.st_size / 2) == 0, "truncate");
    st = try_load (ctx, dir);
    CHECK (st == DFX_ERR_FORMAT && strstr (dfx_ctx_errmsg (ctx), path), "truncated: %s", dfx_ctx_errmsg (ctx));
    /* No model folder at all. */
    snprintf (dir, sizeof dir, "%s/none", root);
    st = try_load (ctx, dir);
    CHECK (st == DFX_ERR_IO && strstr (dfx_ctx_errmsg (ctx), "config.json"), "no folder: %s", dfx_ctx_errmsg (ctx));

    char cmd[300];
    snprintf (cmd, sizeof cmd, "rm -rf %s", root);
    CHECK (system (cmd) == 0, "cleanup");
    dfx_ctx_destroy (ctx);
    return check_exit ();
}
