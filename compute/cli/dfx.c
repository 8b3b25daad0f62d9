/* dfx.c — entry point of the `dfx` CLI: dispatches to a subcommand. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const struct {
    const char *name;
    int (*run) (int argc, char **argv);
    const char *help;
} commands[] = {
    {"info", dfx_cli_info, "list Vulkan devices and the one dfx uses"},
    {"unet", dfx_cli_unet, "evaluate the score network on a tensor file"},
    {"vae", dfx_cli_vae, "encode or decode with an autoencoder (AutoencoderKL, DIR/vae)"},
    {"bench", dfx_cli_bench, "time the kernels or the U-Net"},
    {"ot-check", dfx_cli_ot_check, "is the sampling map optimal transport? (Dirac-mixture data)"},
    {"generate", dfx_cli_generate, "generate images with a model (PF-ODE / OCM sampling, Gaussian skip)"},
    {"likelihood", dfx_cli_likelihood, "bits/dim and a per-pixel heatmap of an image under a model (DF-TM)"},
    {"diagnose", dfx_cli_diagnose, "Fisher information, its rate and the MMSE of a model on data images"},
    {"edit", dfx_cli_edit, "edit an image to follow a guide inside a mask (DF-EA adjoint optimisation)"},
    {"convert", dfx_cli_convert, "write a model's PyTorch .bin weights as safetensors beside them"},
    {"heal", dfx_cli_heal, "fill a masked region so that it continues its surroundings"},
    {"prepare", dfx_cli_prepare, "write a model's gaussian/ statistics (Gaussian skip) from the network or images"},
};

static void
usage (FILE *f)
{
    fprintf (f, "usage: dfx COMMAND [OPTIONS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf (f, "  %-10s %s\n", commands[i].name, commands[i].help);
    fprintf (f, "\nEvery command takes --json for machine-readable output and --help.\n"
                "Every command that takes --model also takes --variant NAME: the weights variant of a diffusers\n"
                "folder (--variant fp16: diffusion_pytorch_model.fp16.safetensors); by default the plain weights,\n"
                "else the folder's only variant.\n"
                "Environment: DFX_DEVICE=<index|name> picks the Vulkan device; DFX_VARIANT=NAME as --variant.\n");
}

double
dfx_cli_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + 1e-9 * (double) ts.tv_nsec;
}

double
dfx_cli_cpu_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double) ts.tv_sec + 1e-9 * (double) ts.tv_nsec;
}

int
dfx_cli_fail (dfx_ctx *ctx, dfx_status st)
{
    fprintf (stderr, "dfx: %s\n", ctx ? dfx_ctx_errmsg (ctx) : dfx_status_name (st));
    return DFX_CLI_EXIT_ERROR;
}

int
main (int argc, char **argv)
{
    if (argc < 2) {
        usage (stderr);
        return DFX_CLI_EXIT_USAGE;
    }
    if (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "help") == 0 || strcmp (argv[1], "-h") == 0) {
        usage (stdout);
        return 0;
    }
    if (strcmp (argv[1], "--version") == 0) {
        printf ("dfx %s\n", DFX_VERSION);
        return 0;
    }
    /* --variant NAME is for every command: it becomes the contexts' default
     * (dfx_ctx_options.model_variant reads DFX_VARIANT). */
    int n = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp (argv[i], "--variant") == 0) {
            if (i + 1 >= argc || !argv[i + 1][0] || strchr (argv[i + 1], '/')) {
                fprintf (stderr, "dfx: --variant needs a name such as fp16\n");
                return DFX_CLI_EXIT_USAGE;
            }
            setenv ("DFX_VARIANT", argv[++i], 1);
            continue;
        }
        argv[n++] = argv[i];
    }
    argc = n;
    argv[argc] = NULL;
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp (argv[1], commands[i].name) == 0)
            return commands[i].run (argc - 1, argv + 1);
    fprintf (stderr, "dfx: unknown command '%s'\n", argv[1]);
    usage (stderr);
    return DFX_CLI_EXIT_USAGE;
}
