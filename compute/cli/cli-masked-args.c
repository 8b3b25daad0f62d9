/* cli-masked-args.c — the command line and the course `dfx edit` and
 * `dfx heal` share: the flags --json, --raw, --global-attention and --help,
 * IMAGE, --model, --guide (edit only), --mask and -o/--output, the messages
 * of a missing or unknown argument, then open, compute, write OUT.png and
 * report, and the opening fields of their --json output.  Each command
 * parses its own numeric options, makes its library call and prints its
 * own report (see cli.h).
 */
#include "cli.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

/* -1 to go on, else the exit code. */
static int
parse (dfx_cli_masked_args *m, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int ok;
        if (strcmp (a, "--json") == 0)
            m->json = 1;
        else if (strcmp (a, "--raw") == 0)
            *m->raw = 1;
        else if (strcmp (a, "--global-attention") == 0)
            *m->global_attention = 1;
        else if (strcmp (a, "--help") == 0 || strcmp (a, "-h") == 0)
            return m->usage (stdout, 0);
        else if (a[0] != '-' && !m->image)
            m->image = a;
        else if (!v) {
            fprintf (stderr, "dfx %s: unknown or incomplete argument '%s'\n", m->cmd, a);
            return m->usage (stderr, DFX_CLI_EXIT_USAGE);
        } else {
            i++;
            if (strcmp (a, "--model") == 0)
                m->model = v;
            else if (m->has_guide && strcmp (a, "--guide") == 0)
                m->guide = v;
            else if (strcmp (a, "--mask") == 0)
                m->mask = v;
            else if (strcmp (a, "-o") == 0 || strcmp (a, "--output") == 0)
                m->output = v;
            else if ((ok = m->option (a, v, m->user)) < 0) {
                fprintf (stderr, "dfx %s: unknown argument '%s'\n", m->cmd, a);
                return m->usage (stderr, DFX_CLI_EXIT_USAGE);
            } else if (!ok)
                return DFX_CLI_EXIT_USAGE;
        }
    }
    return -1;
}

/* 0, or the exit code after a message; s is closed by the caller. */
static int
start (const dfx_cli_masked_args *m, dfx_cli_masked *s)
{
    if (!m->model || !m->image || (m->has_guide && !m->guide) || !m->mask || !m->output) {
        fprintf (stderr, "dfx %s: --model, IMAGE, %s--mask and -o are required\n", m->cmd,
                 m->has_guide ? "--guide, " : "");
        return m->usage (stderr, DFX_CLI_EXIT_USAGE);
    }
    return dfx_cli_masked_open (s, m->cmd, m->model, m->image, m->has_guide ? m->guide : NULL, m->mask);
}

int
dfx_cli_masked_main (dfx_cli_masked_args *m, int argc, char **argv)
{
    int done = parse (m, argc, argv);
    if (done >= 0)
        return done;
    dfx_cli_masked s = {0};
    dfx_status st;
    int rc = start (m, &s);
    if (rc)
        goto out;
    if ((st = m->compute (&s, m->user)) != DFX_OK) {
        rc = dfx_cli_fail (s.ctx, st);
        goto out;
    }
    if (dfx_cli_png_write_planar (m->output, s.out, s.channels, s.width, s.height)) {
        rc = DFX_CLI_EXIT_ERROR;
        goto out;
    }
    const char *warning = m->report (m, &s, m->user);
    if (warning[0])
        fprintf (stderr, "dfx %s: %s\n", m->cmd, warning);
out:
    dfx_cli_masked_close (&s);
    return rc;
}

cJSON *
dfx_cli_masked_json (const dfx_cli_masked_args *m, const dfx_cli_masked *s, int unchanged)
{
    cJSON *o = cJSON_CreateObject ();

    cJSON_AddStringToObject (o, "model", m->model);
    cJSON_AddStringToObject (o, "output", m->output);
    cJSON_AddNumberToObject (o, "width", s->width);
    cJSON_AddNumberToObject (o, "height", s->height);
    cJSON_AddNumberToObject (o, "channels", s->channels);
    cJSON_AddBoolToObject (o, "unchanged", unchanged);
    return o;
}
