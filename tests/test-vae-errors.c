/* test-vae-errors.c — the AutoencoderKL loader, encoder and decoder on bad
 * input: a tiny vae/ folder is written here (config.json + random weights
 * named by this test's own list of diffusers' tensor names), then broken one
 * way at a time.  Each failure must be a status with a message naming the
 * file, tensor, field or size; the handle stays usable; nothing leaks (this
 * test also runs in the sanitizer build).  The good model must give finite,
 * repeatable outputs, also when encoding and decoding alternate.  Numbers
 * against the float64 reference: tests/model/test-vae-parity.py. */
#include "check-ctx.h"
#include "check-weights.h"
#include "dfx-private.h"
#include "model/safetensors.h"

#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* Two levels of 8 and 16 channels, 4 groups, one resnet per encoder block
 * (two per decoder block), 2 latent channels, mid attention, quant convs. */
static const char *config_json =
    "{\"_class_name\": \"AutoencoderKL\", \"in_channels\": 3, \"out_channels\": 3, \"latent_channels\": 2,"
    " \"block_out_channels\": [8, 16], \"down_block_types\": [\"DownEncoderBlock2D\", \"DownEncoderBlock2D\"],"
    " \"up_block_types\": [\"UpDecoderBlock2D\", \"UpDecoderBlock2D\"], \"layers_per_block\": 1,"
    " \"norm_num_groups\": 4, \"sample_size\": 16}";

typedef check_weights writer;

static void
add (writer *w, const char *name, int ndim, int64_t a, int64_t b, int64_t c, int64_t d)
{
    const int64_t shape[4] = {a, b, c, d};
    check_weights_add (w, name, ndim, shape);
}

static void
conv (writer *w, const char *p, int ci, int co, int k)
{
    char n[160];
    snprintf (n, sizeof n, "%s.weight", p), add (w, n, 4, co, ci, k, k);
    snprintf (n, sizeof n, "%s.bias", p), add (w, n, 1, co, 0, 0, 0);
}

static void
norm (writer *w, const char *p, int c)
{
    char n[160];
    snprintf (n, sizeof n, "%s.weight", p), add (w, n, 1, c, 0, 0, 0);
    snprintf (n, sizeof n, "%s.bias", p), add (w, n, 1, c, 0, 0, 0);
}

static void
resnet (writer *w, const char *p, int ci, int co)
{
    char n[160];
    snprintf (n, sizeof n, "%s.norm1", p), norm (w, n, ci);
    snprintf (n, sizeof n, "%s.conv1", p), conv (w, n, ci, co, 3);
    snprintf (n, sizeof n, "%s.norm2", p), norm (w, n, co);
    snprintf (n, sizeof n, "%s.conv2", p), conv (w, n, co, co, 3);
    if (ci != co)
        snprintf (n, sizeof n, "%s.conv_shortcut", p), conv (w, n, ci, co, 1);
}

static void
mid (writer *w, const char *half, int c)
{
    static const char *proj[4] = {"to_q", "to_k", "to_v", "to_out.0"};
    char n[160];
    snprintf (n, sizeof n, "%s.mid_block.resnets.0", half), resnet (w, n, c, c);
    snprintf (n, sizeof n, "%s.mid_block.attentions.0.group_norm", half), norm (w, n, c);
    for (int i = 0; i < 4; i++) { /* Linear [C, C]: a conv of kernel "0" would be 4-D, so by hand */
        snprintf (n, sizeof n, "%s.mid_block.attentions.0.%s.weight", half, proj[i]), add (w, n, 2, c, c, 0, 0);
        snprintf (n, sizeof n, "%s.mid_block.attentions.0.%s.bias", half, proj[i]), add (w, n, 1, c, 0, 0, 0);
    }
    snprintf (n, sizeof n, "%s.mid_block.resnets.1", half), resnet (w, n, c, c);
}

/* Writes dir/vae/{config.json, weights}. */
static dfx_status
make_model (dfx_ctx *ctx, const char *dir, const char *config, const char *skip, const char *reshape)
{
    writer *w = calloc (1, sizeof *w);
    w->rng.s = 77;
    w->skip = skip, w->reshape = reshape;
    conv (w, "encoder.conv_in", 3, 8, 3);
    resnet (w, "encoder.down_blocks.0.resnets.0", 8, 8);
    conv (w, "encoder.down_blocks.0.downsamplers.0.conv", 8, 8, 3);
    resnet (w, "encoder.down_blocks.1.resnets.0", 8, 16);
    mid (w, "encoder", 16);
    norm (w, "encoder.conv_norm_out", 16);
    conv (w, "encoder.conv_out", 16, 4, 3);
    conv (w, "quant_conv", 4, 4, 1);
    conv (w, "post_quant_conv", 2, 2, 1);
    conv (w, "decoder.conv_in", 2, 16, 3);
    mid (w, "decoder", 16);
    resnet (w, "decoder.up_blocks.0.resnets.0", 16, 16);
    resnet (w, "decoder.up_blocks.0.resnets.1", 16, 16);
    conv (w, "decoder.up_blocks.0.upsamplers.0.conv", 16, 16, 3);
    resnet (w, "decoder.up_blocks.1.resnets.0", 16, 8);
    resnet (w, "decoder.up_blocks.1.resnets.1", 8, 8);
    norm (w, "decoder.conv_norm_out", 8);
    conv (w, "decoder.conv_out", 8, 3, 3);
    dfx_status st = check_weights_save (ctx, dir, "vae", config, w);
    free (w);
    return st;
}

static dfx_status
try_load (dfx_ctx *ctx, const char *dir)
{
    dfx_vae *v = NULL;
    dfx_status st = dfx_vae_load (ctx, dir, &v);
    CHECK ((st == DFX_OK) == (v != NULL), "handle and status agree");
    dfx_vae_destroy (v);
    return st;
}

static int
has (dfx_ctx *ctx, const char *a, const char *b)
{
    return strstr (dfx_ctx_errmsg (ctx), a) && (!b || strstr (dfx_ctx_errmsg (ctx), b));
}

int
main (void)
{
    dfx_ctx *ctx = check_ctx_open ();
    dfx_status st;
    dfx_vae_destroy (NULL);
    char root[] = "/tmp/dfx-vae-errors-XXXXXX";
    CHECK (mkdtemp (root) != NULL, "mkdtemp");
    char dir[256], path[512];

    snprintf (dir, sizeof dir, "%s/good", root);
    CHECK (make_model (ctx, dir, config_json, NULL, NULL) == DFX_OK, "write: %s", dfx_ctx_errmsg (ctx));
    dfx_vae *v = NULL;
    st = dfx_vae_load (ctx, dir, &v);
    CHECK (st == DFX_OK, "load: %s", dfx_ctx_errmsg (ctx));
    if (v) {
        dfx_vae_info vi;
        dfx_vae_get_info (v, &vi);
        CHECK (vi.downscale == 2 && vi.latent_channels == 2 && vi.in_channels == 3 && vi.sample_height == 16,
               "info: downscale %u, latent %u", vi.downscale, vi.latent_channels);
        CHECK (fabs (vi.scaling_factor - 0.18215) < 1e-12 && vi.shift_factor == 0, "default scaling 0.18215, no shift");
        /* 2 images of 3×8×6 → latents 2×4×3; the second item equals the first. */
        enum { NI = 3 * 8 * 6, NL = 2 * 4 * 3 };
        float x[2 * NI], m1[2 * NL], m2[2 * NL], lv[2 * NL], y1[2 * NI], y2[2 * NI];
        check_rng r = {9};
        check_fill (&r, x, NI, -1, 1);
        memcpy (x + NI, x, NI * sizeof (float));
        CHECK (dfx_vae_encode (v, 2, 8, 6, x, m1, lv) == DFX_OK, "encode: %s", dfx_ctx_errmsg (ctx));
        CHECK (dfx_vae_decode (v, 2, 4, 3, m1, y1) == DFX_OK, "decode: %s", dfx_ctx_errmsg (ctx));
        CHECK (dfx_vae_encode (v, 2, 8, 6, x, m2, NULL) == DFX_OK, "encode again: %s", dfx_ctx_errmsg (ctx));
        CHECK (dfx_vae_decode (v, 2, 4, 3, m2, y2) == DFX_OK, "decode again: %s", dfx_ctx_errmsg (ctx));
        int finite = 1, nonzero = 0, clamped = 1;
        for (int i = 0; i < 2 * NL; i++) {
            finite &= isfinite (m1[i]) && isfinite (lv[i]);
            nonzero += m1[i] != 0.0f;
            clamped &= lv[i] >= -30.0f && lv[i] <= 20.0f;
        }
        for (int i = 0; i < 2 * NI; i++)
            finite &= isfinite (y1[i]);
        CHECK (finite && nonzero > NL && clamped, "finite, non-trivial latents, log-variance in [-30, 20]");
        CHECK (memcmp (m1, m2, sizeof m1) == 0 && memcmp (y1, y2, sizeof y1) == 0,
               "encode and decode repeat bit for bit when they alternate");
        CHECK (memcmp (m1, m1 + NL, NL * sizeof (float)) == 0 && memcmp (y1, y1 + NI, NI * sizeof (float)) == 0,
               "both batch items alike");
        /* Sizes the encoder cannot take, absurd sizes, non-finite input. */
        st = dfx_vae_encode (v, 1, 7, 6, x, m1, NULL);
        CHECK (st == DFX_ERR_INVALID_ARGUMENT && has (ctx, "7×6", "multiples of 2"), "odd size: %s",
               dfx_ctx_errmsg (ctx));
        st = dfx_vae_decode (v, 1, 1u << 20, 4, m1, y1);
        CHECK (st == DFX_ERR_INVALID_ARGUMENT && has (ctx, "1048576", NULL), "absurd latent: %s", dfx_ctx_errmsg (ctx));
        x[4] = NAN;
        st = dfx_vae_encode (v, 1, 8, 6, x, m1, NULL);
        CHECK (st == DFX_ERR_INVALID_ARGUMENT && has (ctx, "image element 4", "not finite"), "NaN image: %s",
               dfx_ctx_errmsg (ctx));
        m2[1] = INFINITY;
        st = dfx_vae_decode (v, 1, 4, 3, m2, y1);
        CHECK (st == DFX_ERR_INVALID_ARGUMENT && has (ctx, "latent element 1", "not finite"), "Inf latent: %s",
               dfx_ctx_errmsg (ctx));
        x[4] = 0.0f;
        CHECK (dfx_vae_encode (v, 1, 8, 6, x, m1, NULL) == DFX_OK, "usable after errors: %s", dfx_ctx_errmsg (ctx));
    }
    dfx_vae_destroy (v);

    /* A decoder tensor missing (found when the loader plans the decoder). */
    snprintf (dir, sizeof dir, "%s/missing", root);
    make_model (ctx, dir, config_json, "decoder.up_blocks.1.resnets.0.conv_shortcut.weight", NULL);
    st = try_load (ctx, dir);
    CHECK (st == DFX_ERR_FORMAT && has (ctx, "'decoder.up_blocks.1.resnets.0.conv_shortcut.weight'", "missing") &&
               has (ctx, "safetensors", NULL),
           "missing: %s", dfx_ctx_errmsg (ctx));
    /* A tensor of the wrong shape. */
    snprintf (dir, sizeof dir, "%s/shape", root);
    make_model (ctx, dir, config_json, NULL, "encoder.mid_block.attentions.0.to_v.weight");
    st = try_load (ctx, dir);
    CHECK (st == DFX_ERR_FORMAT && has (ctx, "'encoder.mid_block.attentions.0.to_v.weight'", "[17, 16]"),
           "shape: %s", dfx_ctx_errmsg (ctx));
    /* Unsupported config values, named with the file. */
    static const struct {
        const char *json, *field;
        dfx_status want;
    } bad[] = {
        {"{\"_class_name\": \"AutoencoderKL\", \"act_fn\": \"gelu\"}", "act_fn", DFX_ERR_UNSUPPORTED},
        {"{\"down_block_types\": [\"AttnDownEncoderBlock2D\"], \"block_out_channels\": [32]}", "down_block_types[0]",
         DFX_ERR_UNSUPPORTED},
        {"{\"block_out_channels\": [8, 16], \"norm_num_groups\": 4}", "down_block_types", DFX_ERR_FORMAT},
        {"{\"norm_num_groups\": 24}", "norm_num_groups", DFX_ERR_FORMAT},
        {"{\"use_quant_conv\": 0}", "use_quant_conv", DFX_ERR_FORMAT},
        {"{\"latent_channels\": 2, \"latents_std\": [1, 2, 3]}", "latents_std", DFX_ERR_FORMAT},
        {"{\"_class_name\": \"UNet2DModel\"}", "_class_name", DFX_ERR_UNSUPPORTED},
        {"{\"sample_size\": [16]}", "sample_size", DFX_ERR_FORMAT},
        {"[1, 2]", "config.json", DFX_ERR_FORMAT},
    };
    snprintf (dir, sizeof dir, "%s/config", root);
    make_model (ctx, dir, config_json, NULL, NULL);
    snprintf (path, sizeof path, "%s/vae/config.json", dir);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        FILE *f = fopen (path, "w");
        fputs (bad[i].json, f);
        fclose (f);
        st = try_load (ctx, dir);
        CHECK (st == bad[i].want && has (ctx, bad[i].field, path), "config %s: %s: %s", bad[i].json,
               dfx_status_name (st), dfx_ctx_errmsg (ctx));
    }
    /* No vae/ folder. */
    snprintf (dir, sizeof dir, "%s/none", root);
    st = try_load (ctx, dir);
    CHECK (st == DFX_ERR_IO && has (ctx, "vae/config.json", NULL), "no folder: %s", dfx_ctx_errmsg (ctx));

    char cmd[300];
    snprintf (cmd, sizeof cmd, "rm -rf %s", root);
    CHECK (system (cmd) == 0, "cleanup");
    dfx_ctx_destroy (ctx);
    return check_exit ();
}
