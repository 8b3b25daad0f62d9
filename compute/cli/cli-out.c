/* cli-out.c — what the subcommands write: a JSON result on stdout (and the
 * summary of an output tensor that `dfx unet` and `dfx vae` both open it
 * with), and a text file (--csv) opened and closed with one message naming
 * the command, the file and the reason.  What goes into them is each
 * subcommand's business. */
#include "cli.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <string.h>

void
dfx_cli_print_json (cJSON *o)
{
    char *s = cJSON_Print (o);
    if (s)
        puts (s);
    cJSON_free (s);
    cJSON_Delete (o);
}

FILE *
dfx_cli_open_write (const char *cmd, const char *path)
{
    FILE *f = fopen (path, "w");
    if (!f)
        fprintf (stderr, "dfx %s: cannot write %s: %s\n", cmd, path, strerror (errno));
    return f;
}

int
dfx_cli_close_write (const char *cmd, const char *path, FILE *f)
{
    if (fclose (f) == 0)
        return 0;
    fprintf (stderr, "dfx %s: cannot write %s: %s\n", cmd, path, strerror (errno));
    return -1;
}

double
dfx_cli_rms (const float *y, size_t n)
{
    double sum2 = 0.0;
    for (size_t i = 0; i < n; i++)
        sum2 += (double) y[i] * y[i];
    return n ? sqrt (sum2 / (double) n) : 0.0;
}

cJSON *
dfx_cli_json_output (const int64_t shape[4], double rms)
{
    cJSON *o = cJSON_CreateObject ();
    cJSON *sh = cJSON_AddArrayToObject (o, "output_shape");
    for (int i = 0; i < 4; i++)
        cJSON_AddItemToArray (sh, cJSON_CreateNumber ((double) shape[i]));
    cJSON_AddNumberToObject (o, "output_rms", rms);
    return o;
}
