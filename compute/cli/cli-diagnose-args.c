/* cli-diagnose-args.c — the command line both `dfx diagnose` commands share
 * (the model's, cli-diagnose.c, and the autoencoder's,
 * cli-diagnose-latent.c): --json, --help, the model or encoder folder,
 * --data, --csv, --plot, --count, the noise levels, --batch and --seed, and
 * the messages of a missing or unknown argument.  Each command parses its
 * own options (see cli.h).
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

/* 1 when a (with value v) is one of the shared options with a value, 0 when
 * it is none of them, -1 after a message about its value. */
static int
shared_option (dfx_cli_diagnose_args *g, const char *a, const char *v)
{
    int k;

    if (strcmp (a, g->source_opt) == 0)
        g->source = v;
    else if (strcmp (a, "--data") == 0)
        g->data_dir = v;
    else if (strcmp (a, "--csv") == 0)
        g->csv = v;
    else if (strcmp (a, "--plot") == 0)
        g->plot = v;
    else if (strcmp (a, "--count") == 0)
        return dfx_cli_parse_u32 ("diagnose", a, v, g->count_min, g->count_max, &g->count) ? 1 : -1;
    else if ((k = dfx_cli_parse_levels (a, v, g->sigma_buf, g->n_sigmas, g->sigmas)) != 0)
        return k;
    else if (strcmp (a, "--batch") == 0)
        return dfx_cli_parse_u32 ("diagnose", a, v, 1, 256, g->batch) ? 1 : -1;
    else if (strcmp (a, "--seed") == 0)
        return dfx_cli_parse_u64 ("diagnose", a, v, g->seed) ? 1 : -1;
    else
        return 0;
    return 1;
}

int
dfx_cli_diagnose_parse (dfx_cli_diagnose_args *g, int argc, char **argv,
                        int (*option) (const char *a, const char *v, void *user), void *user)
{
    for (int i = 1, k; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp (a, "--json") == 0)
            g->json = 1;
        else if (strcmp (a, "--help") == 0 || strcmp (a, "-h") == 0)
            return g->usage (stdout, 0);
        else if (v && ((k = shared_option (g, a, v)) != 0 || (k = option (a, v, user)) >= 0)) {
            if (k <= 0)
                return DFX_CLI_EXIT_USAGE;
            i++;
        } else {
            fprintf (stderr, "dfx diagnose: unknown or incomplete argument '%s'\n", a);
            return g->usage (stderr, DFX_CLI_EXIT_USAGE);
        }
    }
    if (!g->source || !g->data_dir) {
        fprintf (stderr, "dfx diagnose: %s and --data are required\n", g->source_opt);
        return g->usage (stderr, DFX_CLI_EXIT_USAGE);
    }
    return -1;
}
