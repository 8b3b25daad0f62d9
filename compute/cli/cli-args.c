/* cli-args.c — option values for the subcommands: whole numbers and reals
 * within limits, seeds, and one of a list of names, refused with a message
 * that names the command, the option and what it may be. */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int
dfx_cli_parse_u64 (const char *cmd, const char *opt, const char *s, uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull (s, &end, 0);
    if (!*s || *s == '-' || !end || *end || errno) {
        fprintf (stderr, "dfx %s: %s '%s' is not a whole number in [0, 2^64)\n", cmd, opt, s);
        return 0;
    }
    *out = (uint64_t) v;
    return 1;
}

int
dfx_cli_parse_choice (const char *cmd, const char *opt, const char *s, const char *const *names, int count,
                      int *out)
{
    for (int k = 0; k < count; k++)
        if (strcmp (s, names[k]) == 0) {
            *out = k;
            return 1;
        }
    fprintf (stderr, "dfx %s: %s '%s' is not ", cmd, opt, s);
    for (int k = 0; k < count; k++)
        fprintf (stderr, "%s%s", names[k], k + 2 < count ? ", " : k + 2 == count ? " or " : "\n");
    return 0;
}
