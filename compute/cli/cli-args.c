/* cli-args.c — option values for the subcommands: whole numbers and reals
 * within limits, refused with a message that names the command, the option
 * and the limits. */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int
dfx_cli_parse_u32 (const char *cmd, const char *opt, const char *s, uint32_t lo, uint32_t hi, uint32_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull (s, &end, 10);
    if (!*s || *s == '-' || !end || *end || errno || v < lo || v > hi) {
        fprintf (stderr, "dfx %s: %s '%s' is not a whole number in [%u, %u]\n", cmd, opt, s, lo, hi);
        return 0;
    }
    *out = (uint32_t) v;
    return 1;
}

int
dfx_cli_parse_double (const char *cmd, const char *opt, const char *s, double lo, double hi, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod (s, &end);
    if (!*s || !end || *end || errno || !isfinite (v) || v < lo || v > hi) {
        fprintf (stderr, "dfx %s: %s '%s' is not a number in [%g, %g]\n", cmd, opt, s, lo, hi);
        return 0;
    }
    *out = v;
    return 1;
}
