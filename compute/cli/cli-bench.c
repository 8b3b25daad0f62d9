/* cli-bench.c — `dfx bench`: timings of the kernels and of the U-Net.
 *
 *   dfx bench kernels [--repeat N] [--json]
 *   dfx bench unet --model DIR [--batch B] [--size HxW] [--repeat N] [--json]
 *
 * kernels: GFLOP/s of the GEMM (1024³ and the U-Net's shapes) and of the 3×3
 * convolution (16×64×32×32 → 64), best of N after a warm-up.  unet: seconds
 * per forward (best and median of N).  Numbers only: no assertion here;
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

typedef dfx_status (*run_fn) (dfx_ctx *ctx, void *user);

/* Times fn (recorded, then flushed) `repeat` times after one warm-up; fills
 * best and median seconds. */
static dfx_status
timeit (dfx_ctx *ctx, run_fn fn, void *user, int repeat, double *best, double *median)
{
    double *t = calloc ((size_t) repeat, sizeof *t);
    if (!t)
        return DFX_ERR_OUT_OF_HOST_MEMORY;
    dfx_status st = fn (ctx, user);
    if (st == DFX_OK)
        st = dfx_ctx_flush (ctx);
    for (int i = 0; i < repeat && st == DFX_OK; i++) {
        double t0 = dfx_cli_now ();
        st = fn (ctx, user);
        if (st == DFX_OK)
            st = dfx_ctx_flush (ctx);
        t[i] = dfx_cli_now () - t0;
    }
    if (st == DFX_OK) {
        qsort (t, (size_t) repeat, sizeof *t, cmp_double);
        *best = t[0];
        *median = t[repeat / 2];
    }
    free (t);
    return st;
}

typedef struct gemm_case {
    dfx__gemm_desc d;
} gemm_case;

static dfx_status
run_gemm (dfx_ctx *ctx, void *user)
{
    return dfx__gemm (ctx, &((gemm_case *) user)->d);
}

static dfx_status
run_conv (dfx_ctx *ctx, void *user)
{
    return dfx__conv2d (ctx, (const dfx__conv2d_desc *) user);
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

static int
bench_kernels (dfx_ctx *ctx, int repeat, int json)
{
    dfx_status st = DFX_OK;
    dfx_buffer *a = NULL, *b = NULL, *c = NULL, *w = NULL, *bias = NULL;
    cJSON *root = cJSON_CreateObject (), *arr = cJSON_AddArrayToObject (root, "kernels");
    const struct {
        uint32_t m, n, k;
    } gemms[] = {{1024, 1024, 1024}, {256, 256, 256}, {512, 4096, 64}};
    const size_t big = 1024 * 1024 * 4;
    if ((st = fill (ctx, &a, big)) || (st = fill (ctx, &b, big)) || (st = fill (ctx, &c, big)) ||
        (st = fill (ctx, &w, 64 * 64 * 9)) || (st = fill (ctx, &bias, 64)))
        goto fail;
    for (size_t i = 0; i < sizeof gemms / sizeof gemms[0]; i++) {
        gemm_case g;
        dfx__gemm_desc_init (&g.d);
        g.d.m = gemms[i].m, g.d.n = gemms[i].n, g.d.k = gemms[i].k;
        g.d.a = (dfx__mat){a, 0, g.d.k, 1, 0, 0};
        g.d.b = (dfx__mat){b, 0, g.d.n, 1, 0, 0};
        g.d.c = (dfx__mat){c, 0, g.d.n, 1, 0, 0};
        double best, med;
        if ((st = timeit (ctx, run_gemm, &g, repeat, &best, &med)) != DFX_OK)
            goto fail;
        double gf = 2.0 * g.d.m * g.d.n * g.d.k / 1e9;
        char name[64];
        snprintf (name, sizeof name, "gemm %ux%ux%u", g.d.m, g.d.n, g.d.k);
        if (!json)
            printf ("%-24s best %8.3f ms  median %8.3f ms  %7.2f GFLOP/s\n", name, 1e3 * best, 1e3 * med, gf / best);
        cJSON *o = cJSON_CreateObject ();
        cJSON_AddStringToObject (o, "name", name);
        cJSON_AddNumberToObject (o, "best_s", best);
        cJSON_AddNumberToObject (o, "median_s", med);
        cJSON_AddNumberToObject (o, "gflops", gf / best);
        cJSON_AddItemToArray (arr, o);
    }
    {
        dfx__conv2d_desc d = {
            .batch = 16, .cin = 64, .h = 32, .w = 32, .cout = 64, .ks = 3, .stride = 1, .pad_t = 1, .pad_l = 1,
            .oh = 32, .ow = 32, .in = a, .weight = w, .bias = bias, .out = c, .out_scale = 1.0f,
        };
        double best, med;
        if ((st = timeit (ctx, run_conv, &d, repeat, &best, &med)) != DFX_OK)
            goto fail;
        double gf = 2.0 * 16 * 64 * 32 * 32 * 64 * 9 / 1e9;
        if (!json)
            printf ("%-24s best %8.3f ms  median %8.3f ms  %7.2f GFLOP/s\n", "conv3x3 16x64x32x32->64", 1e3 * best,
                    1e3 * med, gf / best);
        cJSON *o = cJSON_CreateObject ();
        cJSON_AddStringToObject (o, "name", "conv3x3 16x64x32x32->64");
        cJSON_AddNumberToObject (o, "best_s", best);
        cJSON_AddNumberToObject (o, "median_s", med);
        cJSON_AddNumberToObject (o, "gflops", gf / best);
        cJSON_AddItemToArray (arr, o);
    }
    if (json) {
        char *s = cJSON_Print (root);
        puts (s);
        cJSON_free (s);
    }
fail:
    cJSON_Delete (root);
    dfx_buffer_destroy (ctx, a), dfx_buffer_destroy (ctx, b), dfx_buffer_destroy (ctx, c);
    dfx_buffer_destroy (ctx, w), dfx_buffer_destroy (ctx, bias);
    return st == DFX_OK ? 0 : dfx_cli_fail (ctx, st);
}

static int
bench_unet (dfx_ctx *ctx, const char *model, uint32_t batch, uint32_t h, uint32_t w, int repeat, int json)
{
    dfx_unet *u = NULL;
    float *x = NULL, *y = NULL, *t = NULL;
    double *times = calloc ((size_t) repeat, sizeof *times);
    dfx_status st = dfx_unet_load (ctx, model, &u);
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
        double t0 = dfx_cli_now ();
        if ((st = dfx_unet_forward (u, batch, h, w, x, t, y)) != DFX_OK)
            goto fail;
        times[i] = dfx_cli_now () - t0;
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
        char *s = cJSON_Print (o);
        puts (s);
        cJSON_free (s);
        cJSON_Delete (o);
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
    const char *what = argc > 1 ? argv[1] : NULL, *model = NULL;
    int repeat = 5, json = 0;
    unsigned batch = 1, h = 0, w = 0;
    for (int i = 2; i < argc; i++) {
        if (strcmp (argv[i], "--json") == 0)
            json = 1;
        else if (i + 1 < argc && strcmp (argv[i], "--repeat") == 0)
            repeat = atoi (argv[++i]);
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
        fprintf (stderr, "usage: dfx bench kernels [--repeat N] [--json]\n"
                         "       dfx bench unet --model DIR [--batch B] [--size HxW] [--repeat N] [--json]\n");
        return DFX_CLI_EXIT_USAGE;
    }
    dfx_ctx_options opt;
    dfx_ctx_options_defaults (&opt);
    dfx_ctx *ctx = NULL;
    dfx_status st = dfx_ctx_create (&opt, &ctx);
    int rc;
    if (st != DFX_OK)
        rc = dfx_cli_fail (ctx, st);
    else if (strcmp (what, "kernels") == 0)
        rc = bench_kernels (ctx, repeat, json);
    else
        rc = bench_unet (ctx, model, batch, h, w, repeat, json);
    dfx_ctx_destroy (ctx);
    return rc;
}
