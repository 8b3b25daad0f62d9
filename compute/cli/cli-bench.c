/* cli-bench.c — `dfx bench`: timings of the kernels and of the U-Net.
 *
 *   dfx bench kernels [--repeat N] [--compare] [--only TEXT] [--cpu-time] [--json]
 *   dfx bench unet --model DIR [--batch B] [--size HxW] [--repeat N] [--cpu-time] [--json]
 *
 * kernels: GFLOP/s of the GEMM (1024³, 256³, 512×4096×64) and the 3×3
 * convolution (16×64×32×32 → 64), then of the convolutions and attention
 * GEMMs of google/ddpm-cifar10-32 at batch 1 (with its stride-2 downsampling); best, median and worst of N
 * after a warm-up, with the kernel that ran.  --compare alternates the
 * per-device kernels with DFX_KERNELS=generic run by run.  unet: seconds
 * per forward (best and median of N).  --cpu-time times by the process's
 * CPU seconds (all threads) instead of the wall clock: on a core shared with
 * other jobs the wall clock counts their time slices too.  Numbers only: no assertion here;
 * tests/bench/ compares them with PyTorch.
 */
#include "cli.h"
#include "../ops/ops-private.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
cmp_double (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

/* One kernel benchmark: a GEMM, a convolution (conv 1) or a windowed
 * attention (conv 2) on shared scratch buffers. */
typedef struct kcase {
    const char *name;
    int conv;
    dfx__gemm_desc g;
    dfx__conv2d_desc c;
    dfx__attn_window_desc a;
    double flops;
} kcase;

static dfx_status
run_case (dfx_ctx *ctx, const kcase *k)
{
    dfx_status st = k->conv == 2 ? dfx__attn_window (ctx, &k->a) : k->conv ? dfx__conv2d (ctx, &k->c)
                                                                         : dfx__gemm (ctx, &k->g);
    return st == DFX_OK ? dfx_ctx_flush (ctx) : st;
}

static dfx_status
fill (dfx_ctx *ctx, dfx_buffer **b, size_t n)
{
    float *h = malloc (n * sizeof (float));
    if (!h)
        return DFX_ERR_OUT_OF_HOST_MEMORY;
    for (size_t i = 0; i < n; i++)
        h[i] = (float) ((i * 2654435761u) % 1000) / 1000.0f - 0.5f;
    dfx_status st = dfx_buffer_create (ctx, n * sizeof (float), b);
    if (st == DFX_OK)
        st = dfx_buffer_upload (ctx, *b, 0, h, n * sizeof (float));
    free (h);
    return st;
}

/* A GEMM case C(m×n) = A·B per batch, A m×k and B k×n; at / bt: A / B stored
 * transposed (column-major), as in the U-Net's attention. */
static kcase
gemm_case (const char *name, dfx_buffer *a, dfx_buffer *b, dfx_buffer *c, uint32_t m, uint32_t n, uint32_t k,
           int at, int bt)
{
    kcase kc = {.name = name, .flops = 2.0 * m * n * k};
    dfx__gemm_desc_init (&kc.g);
    kc.g.m = m, kc.g.n = n, kc.g.k = k;
    kc.g.a = (dfx__mat){a, 0, at ? 1 : k, at ? m : 1, 0, 0};
    kc.g.b = (dfx__mat){b, 0, bt ? 1 : n, bt ? k : 1, 0, 0};
    kc.g.c = (dfx__mat){c, 0, n, 1, 0, 0};
    return kc;
}

/* A "same" convolution case (3×3 padding 1 or 1×1) of an h×w input, with a
 * bias; up: nearest ×2 upsampling folded in. */
static kcase
conv_case (const char *name, dfx_buffer *in, dfx_buffer *wt, dfx_buffer *bias, dfx_buffer *out, uint32_t batch,
           uint32_t cin, uint32_t h, uint32_t w, uint32_t cout, uint32_t ks, uint32_t up)
{
    uint32_t oh = h << up, ow = w << up;
    kcase kc = {.name = name, .conv = 1, .flops = 2.0 * batch * cout * oh * ow * cin * ks * ks};
    kc.c = (dfx__conv2d_desc){
        .batch = batch, .cin = cin, .h = h, .w = w, .cout = cout, .ks = ks, .stride = 1, .pad_t = ks / 2,
        .pad_l = ks / 2, .up = up, .oh = oh, .ow = ow, .in = in, .weight = wt, .bias = bias, .out = out,
        .out_scale = 1.0f,
    };
    return kc;
}

/* diffusers' Downsample2D: 3×3 stride 2 of an h×w input, padding 0 (right
 * and bottom implicitly). */
static kcase
down_case (const char *name, dfx_buffer *in, dfx_buffer *wt, dfx_buffer *bias, dfx_buffer *out, uint32_t c,
           uint32_t h, uint32_t w)
{
    kcase kc = conv_case (name, in, wt, bias, out, 1, c, h, w, c, 3, 0);
    kc.c.stride = 2, kc.c.pad_t = kc.c.pad_l = 0;
    kc.c.oh = dfx__conv2d_out_size (h, 3, 2, 0, 1), kc.c.ow = dfx__conv2d_out_size (w, 3, 2, 0, 1);
    kc.flops = 2.0 * c * c * 9 * kc.c.oh * kc.c.ow;
    return kc;
}

/* Windowed attention of c channels in heads of dh over an h×w canvas, a
 * wh×ww window (flops: the exact window's q·kᵀ and p·v). */
static kcase
attn_case (const char *name, dfx_buffer *q, dfx_buffer *k, dfx_buffer *v, dfx_buffer *o, uint32_t c, uint32_t dh,
           uint32_t h, uint32_t w, uint32_t wh, uint32_t ww)
{
    kcase kc = {.name = name, .conv = 2, .flops = 4.0 * c * h * w * wh * ww};
    kc.a = (dfx__attn_window_desc){
        .batch = 1, .c = c, .h = h, .w = w, .dh = dh, .wh = wh, .ww = ww, .scale = 0.17678f,
        .q = q, .k = k, .v = v, .o = o,
    };
    return kc;
}

/* Times every case `repeat` times after a warm-up; with compare, the
 * per-device kernels and DFX_KERNELS=generic alternate run by run, so both
 * see the same machine load. */
static int
bench_kernels (dfx_ctx *ctx, double (*now) (void), int repeat, int json, int compare, const char *only)
{
    dfx_status st = DFX_OK;
    dfx_buffer *a = NULL, *b = NULL, *c = NULL, *w = NULL, *bias = NULL;
    bool generic0 = ctx->kernels_generic;
    double *t = calloc (2 * (size_t) repeat, sizeof *t);
    cJSON *root = cJSON_CreateObject (), *arr = cJSON_AddArrayToObject (root, "kernels");
    const size_t big = 1024 * 1024 * 6; /* 96 channels of 256×256 */
    if (!t) {
        st = DFX_ERR_OUT_OF_HOST_MEMORY;
        goto fail;
    }
    if ((st = fill (ctx, &a, big)) || (st = fill (ctx, &b, big)) || (st = fill (ctx, &c, big)) ||
        (st = fill (ctx, &w, 256 * 256 * 9)) || (st = fill (ctx, &bias, 256)))
        goto fail;
    /* The generic shapes, then google/ddpm-cifar10-32's (batch 1): its 3×3
     * convolutions per resolution, a 1×1 shortcut, the up- and downsampling convs and
     * the 16×16 attention (projection, scores Qᵀ·K, P·Vᵀ: m = n = HW, C = 256). */
    const kcase cases[] = {
        gemm_case ("gemm 1024x1024x1024", a, b, c, 1024, 1024, 1024, 0, 0),
        gemm_case ("gemm 256x256x256", a, b, c, 256, 256, 256, 0, 0),
        gemm_case ("gemm 512x4096x64", a, b, c, 512, 4096, 64, 0, 0),
        conv_case ("conv3x3 16x64x32x32->64", a, w, bias, c, 16, 64, 32, 32, 64, 3, 0),
        conv_case ("unet conv3x3 128 32x32", a, w, bias, c, 1, 128, 32, 32, 128, 3, 0),
        conv_case ("unet conv3x3 256 16x16", a, w, bias, c, 1, 256, 16, 16, 256, 3, 0),
        conv_case ("unet conv3x3 256 8x8", a, w, bias, c, 1, 256, 8, 8, 256, 3, 0),
        conv_case ("unet conv3x3 256 4x4", a, w, bias, c, 1, 256, 4, 4, 256, 3, 0),
        conv_case ("unet conv3x3 128->256 16x16", a, w, bias, c, 1, 128, 16, 16, 256, 3, 0),
        conv_case ("unet conv1x1 128->256 16x16", a, w, bias, c, 1, 128, 16, 16, 256, 1, 0),
        conv_case ("unet up+conv3x3 256 8->16", a, w, bias, c, 1, 256, 8, 8, 256, 3, 1),
        down_case ("unet down conv3x3 128 32->16", a, w, bias, c, 128, 32, 32),
        down_case ("unet down conv3x3 256 16->8", a, w, bias, c, 256, 16, 16),
        gemm_case ("unet attn proj 256x256x256", a, b, c, 256, 256, 256, 0, 0),
        gemm_case ("unet attn QtK 256x256x256", a, b, c, 256, 256, 256, 1, 0),
        gemm_case ("unet attn VPt 256x256x256", a, b, c, 256, 256, 256, 0, 1),
        /* the shipped models (emoji-32: channels 24, 48, 96, heads of 32,
         * attention at 8×8 of 32×32) on a 256×256 canvas */
        conv_case ("256 conv3x3 24 256x256", a, w, bias, c, 1, 24, 256, 256, 24, 3, 0),
        conv_case ("256 conv3x3 72->24 256x256", a, w, bias, c, 1, 72, 256, 256, 24, 3, 0),
        conv_case ("256 conv3x3 48 128x128", a, w, bias, c, 1, 48, 128, 128, 48, 3, 0),
        conv_case ("256 conv3x3 144->48 128x128", a, w, bias, c, 1, 144, 128, 128, 48, 3, 0),
        conv_case ("256 conv3x3 96 64x64", a, w, bias, c, 1, 96, 64, 64, 96, 3, 0),
        conv_case ("256 conv3x3 3->24 256x256", a, w, bias, c, 1, 3, 256, 256, 24, 3, 0),
        conv_case ("256 conv3x3 24->3 256x256", a, w, bias, c, 1, 24, 256, 256, 3, 3, 0),
        conv_case ("256 conv1x1 72->24 256x256", a, w, bias, c, 1, 72, 256, 256, 24, 1, 0),
        conv_case ("256 conv1x1 144->48 128x128", a, w, bias, c, 1, 144, 128, 128, 48, 1, 0),
        conv_case ("256 up+conv3x3 48 128->256", a, w, bias, c, 1, 48, 128, 128, 48, 3, 1),
        down_case ("256 down conv3x3 24 256->128", a, w, bias, c, 24, 256, 256),
        attn_case ("256 attn-window 96/32 64x64 8x8", a, b, w, c, 96, 32, 64, 64, 8, 8),
        /* photo-32 (channels 32, 64, 96, no attention) on a 256×256 canvas: the
         * shapes that carry most of its forward's time */
        conv_case ("photo conv3x3 32 256x256", a, w, bias, c, 1, 32, 256, 256, 32, 3, 0),
        conv_case ("photo conv3x3 96->32 256x256", a, w, bias, c, 1, 96, 256, 256, 32, 3, 0),
        conv_case ("photo conv1x1 96->32 256x256", a, w, bias, c, 1, 96, 256, 256, 32, 1, 0),
        conv_case ("photo up+conv3x3 64 128->256", a, w, bias, c, 1, 64, 128, 128, 64, 3, 1),
        conv_case ("photo conv3x3 160->64 128x128", a, w, bias, c, 1, 160, 128, 128, 64, 3, 0),
        conv_case ("photo conv1x1 160->64 128x128", a, w, bias, c, 1, 160, 128, 128, 64, 1, 0),
        conv_case ("photo up+conv3x3 96 64->128", a, w, bias, c, 1, 96, 64, 64, 96, 3, 1),
        down_case ("photo down conv3x3 32 256->128", a, w, bias, c, 32, 256, 256),
        /* photo-32's time-embedding projection (batch 1: gemm-rows on
         * lavapipe) and the same at 8 rows (gemm-lvp, whose 16-row tile
         * costs the same for 1 to 16 rows) */
        gemm_case ("temb gemm 1x128x128", a, b, c, 1, 128, 128, 0, 1),
        gemm_case ("temb gemm 8x128x128", a, b, c, 8, 128, 128, 0, 1),
    };
    int nv = compare ? 2 : 1;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const kcase *k = &cases[i];
        const char *kernel[2];
        if (only && !strstr (k->name, only))
            continue;
        for (int v = 0; v < nv; v++) { /* warm-up: pipelines compiled, caches filled */
            ctx->kernels_generic = compare ? v == 1 : generic0;
            kernel[v] = k->conv == 2 ? (dfx__lane_kernels (ctx) ? "attn-window-lvp" : "attn-window")
                        : k->conv ? dfx__conv2d_kernel (ctx, &k->c)
                                  : dfx__gemm_kernel (ctx, &k->g);
            if ((st = run_case (ctx, k)) != DFX_OK)
                goto fail;
        }
        for (int r = 0; r < repeat; r++)
            for (int v = 0; v < nv; v++) {
                ctx->kernels_generic = compare ? v == 1 : generic0;
                double t0 = now ();
                if ((st = run_case (ctx, k)) != DFX_OK)
                    goto fail;
                t[v * repeat + r] = now () - t0;
            }
        for (int v = 0; v < nv; v++) {
            double *tv = t + v * repeat;
            qsort (tv, (size_t) repeat, sizeof *tv, cmp_double);
            double best = tv[0], med = tv[repeat / 2], worst = tv[repeat - 1];
            if (!json)
                printf ("%-30s %-10s best %8.3f ms  median %8.3f ms  GFLOP/s %6.2f (median %6.2f, worst %6.2f)\n",
                        k->name, kernel[v], 1e3 * best, 1e3 * med, k->flops / best / 1e9, k->flops / med / 1e9,
                        k->flops / worst / 1e9);
            cJSON *o = cJSON_CreateObject ();
            cJSON_AddStringToObject (o, "name", k->name);
            cJSON_AddStringToObject (o, "kernel", kernel[v]);
            cJSON_AddNumberToObject (o, "best_s", best);
            cJSON_AddNumberToObject (o, "median_s", med);
            cJSON_AddNumberToObject (o, "gflops", k->flops / best / 1e9);
            cJSON_AddNumberToObject (o, "gflops_median", k->flops / med / 1e9);
            cJSON_AddItemToArray (arr, o);
        }
    }
    if (json) {
        char *s = cJSON_Print (root);
        puts (s);
        cJSON_free (s);
    }
fail:
    ctx->kernels_generic = generic0;
    free (t);
    cJSON_Delete (root);
    dfx_buffer_destroy (ctx, a), dfx_buffer_destroy (ctx, b), dfx_buffer_destroy (ctx, c);
    dfx_buffer_destroy (ctx, w), dfx_buffer_destroy (ctx, bias);
    return st == DFX_OK ? 0 : dfx_cli_fail (ctx, st);
}

static int
bench_unet (dfx_ctx *ctx, double (*now) (void), const char *model, uint32_t batch, uint32_t h, uint32_t w, int repeat, int json, int global)
{
    dfx_unet *u = NULL;
    float *x = NULL, *y = NULL, *t = NULL;
    double *times = calloc ((size_t) repeat, sizeof *times);
    dfx_status st = dfx_unet_load (ctx, model, &u);
    if (st == DFX_OK)
        dfx_unet_set_global_attention (u, global);
    if (st != DFX_OK)
        goto fail;
    dfx_unet_info info;
    dfx_unet_get_info (u, &info);
    if (!h)
        h = info.sample_height ? info.sample_height : 32;
    if (!w)
        w = info.sample_width ? info.sample_width : 32;
    size_t nin = (size_t) batch * info.in_channels * h * w, nout = (size_t) batch * info.out_channels * h * w;
    x = malloc (nin * sizeof (float)), y = malloc (nout * sizeof (float)), t = malloc (batch * sizeof (float));
    if (!x || !y || !t || !times) {
        st = DFX_ERR_OUT_OF_HOST_MEMORY;
        goto fail;
    }
    for (size_t i = 0; i < nin; i++)
        x[i] = (float) ((i * 2654435761u) % 2000) / 1000.0f - 1.0f;
    for (uint32_t i = 0; i < batch; i++)
        t[i] = 500.0f;
    if ((st = dfx_unet_forward (u, batch, h, w, x, t, y)) != DFX_OK)
        goto fail;
    for (int i = 0; i < repeat; i++) {
        double t0 = now ();
        if ((st = dfx_unet_forward (u, batch, h, w, x, t, y)) != DFX_OK)
            goto fail;
        times[i] = now () - t0;
    }
    qsort (times, (size_t) repeat, sizeof *times, cmp_double);
    dfx_unet_get_info (u, &info);
    /* One more forward with timestamps: time per kernel. */
    double conv_s = 0.0, gemm_s = 0.0, all_s = 0.0;
    cJSON *kernels = cJSON_CreateArray ();
    if (dfx_ctx_profile (ctx, 1) == DFX_OK) {
        if ((st = dfx_unet_forward (u, batch, h, w, x, t, y)) != DFX_OK) {
            cJSON_Delete (kernels);
            goto fail;
        }
        for (int i = 0; i < dfx_ctx_profile_count (ctx); i++) {
            dfx_profile_entry e;
            dfx_ctx_profile_entry (ctx, i, &e);
            all_s += e.seconds;
            if (strncmp (e.kernel, "conv2d", 6) == 0)
                conv_s += e.seconds;
            else if (strncmp (e.kernel, "gemm", 4) == 0)
                gemm_s += e.seconds;
            cJSON *k = cJSON_CreateObject ();
            cJSON_AddStringToObject (k, "kernel", e.kernel);
            cJSON_AddNumberToObject (k, "calls", (double) e.calls);
            cJSON_AddNumberToObject (k, "seconds", e.seconds);
            cJSON_AddItemToArray (kernels, k);
            if (!json)
                printf ("  %-16s %4llu calls %9.3f ms\n", e.kernel, (unsigned long long) e.calls, 1e3 * e.seconds);
        }
        dfx_ctx_profile (ctx, 0);
    }
    if (json) {
        cJSON *o = cJSON_CreateObject ();
        cJSON_AddNumberToObject (o, "batch", batch);
        cJSON_AddNumberToObject (o, "height", h);
        cJSON_AddNumberToObject (o, "width", w);
        cJSON_AddNumberToObject (o, "best_s", times[0]);
        cJSON_AddNumberToObject (o, "median_s", times[repeat / 2]);
        cJSON_AddNumberToObject (o, "parameters", (double) info.parameters);
        cJSON_AddNumberToObject (o, "weight_bytes", (double) info.weight_bytes);
        cJSON_AddNumberToObject (o, "activation_bytes", (double) info.activation_bytes);
        cJSON_AddNumberToObject (o, "dispatches", info.dispatches);
        cJSON_AddNumberToObject (o, "conv_gflop", info.conv_flops / 1e9);
        cJSON_AddNumberToObject (o, "gemm_gflop", info.gemm_flops / 1e9);
        cJSON_AddNumberToObject (o, "profiled_s", all_s);
        cJSON_AddNumberToObject (o, "conv_s", conv_s);
        cJSON_AddNumberToObject (o, "gemm_s", gemm_s);
        cJSON_AddItemToObject (o, "kernels", kernels);
        kernels = NULL;
        dfx_cli_print_json (o);
    } else {
        printf ("unet batch %u %ux%u: best %.4f s, median %.4f s per forward; %u dispatches; weights %.1f MiB, "
                "activations %.1f MiB\n",
                batch, h, w, times[0], times[repeat / 2], info.dispatches, info.weight_bytes / 1048576.0,
                info.activation_bytes / 1048576.0);
        if (all_s > 0.0)
            printf ("profiled %.4f s: conv %.1f%% at %.2f GFLOP/s, gemm %.1f%% at %.2f GFLOP/s\n", all_s,
                    100.0 * conv_s / all_s, conv_s > 0 ? info.conv_flops / conv_s / 1e9 : 0.0, 100.0 * gemm_s / all_s,
                    gemm_s > 0 ? info.gemm_flops / gemm_s / 1e9 : 0.0);
    }
    cJSON_Delete (kernels);
fail:
    free (x), free (y), free (t), free (times);
    dfx_unet_destroy (u);
    return st == DFX_OK ? 0 : dfx_cli_fail (ctx, st);
}

int
dfx_cli_bench (int argc, char **argv)
{
    const char *what = argc > 1 ? argv[1] : NULL, *model = NULL, *only = NULL;
    int repeat = 5, json = 0, compare = 0, global = 0, cpu = 0;
    unsigned batch = 1, h = 0, w = 0;
    for (int i = 2; i < argc; i++) {
        if (strcmp (argv[i], "--json") == 0)
            json = 1;
        else if (strcmp (argv[i], "--compare") == 0)
            compare = 1;
        else if (strcmp (argv[i], "--global-attention") == 0)
            global = 1;
        else if (strcmp (argv[i], "--cpu-time") == 0)
            cpu = 1;
        else if (i + 1 < argc && strcmp (argv[i], "--repeat") == 0)
            repeat = atoi (argv[++i]);
        else if (i + 1 < argc && strcmp (argv[i], "--only") == 0)
            only = argv[++i];
        else if (i + 1 < argc && strcmp (argv[i], "--model") == 0)
            model = argv[++i];
        else if (i + 1 < argc && strcmp (argv[i], "--batch") == 0)
            batch = (unsigned) atoi (argv[++i]);
        else if (i + 1 < argc && strcmp (argv[i], "--size") == 0) {
            if (sscanf (argv[++i], "%ux%u", &h, &w) != 2) {
                fprintf (stderr, "dfx bench: --size wants HxW, got '%s'\n", argv[i]);
                return DFX_CLI_EXIT_USAGE;
            }
        } else {
            fprintf (stderr, "dfx bench: unknown argument '%s'\n", argv[i]);
            return DFX_CLI_EXIT_USAGE;
        }
    }
    if (!what || (strcmp (what, "kernels") && strcmp (what, "unet")) || repeat < 1 || repeat > 1000 || batch < 1 ||
        batch > 256 || (strcmp (what, "unet") == 0 && !model)) {
        fprintf (stderr, "usage: dfx bench kernels [--repeat N] [--compare] [--only TEXT] [--cpu-time] [--json]\n"
                         "       dfx bench unet --model DIR [--batch B] [--size HxW] [--repeat N] [--global-attention]\n"
                         "                      [--cpu-time] [--json]\n");
        return DFX_CLI_EXIT_USAGE;
    }
    dfx_ctx *ctx = NULL;
    dfx_status st = dfx_ctx_create (NULL, &ctx);
    int rc;
    if (st != DFX_OK)
        rc = dfx_cli_fail (ctx, st);
    else if (strcmp (what, "kernels") == 0)
        rc = bench_kernels (ctx, cpu ? dfx_cli_cpu_now : dfx_cli_now, repeat, json, compare, only);
    else
        rc = bench_unet (ctx, cpu ? dfx_cli_cpu_now : dfx_cli_now, model, batch, h, w, repeat, json, global);
    dfx_ctx_destroy (ctx);
    return rc;
}
