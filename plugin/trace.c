/* trace.c — timestamps of a run's stages, for measuring the first run in
 * GIMP (issue 20; BENCHMARKS.md "First run in GIMP").
 *
 * For: with DFX_TRACE_TIMES set in the environment (any value), one line
 * on stderr per event: "dfx-trace: EVENT wall S cpu C", S the monotonic
 * clock in seconds and C the CPU seconds (user + system, all threads) the
 * plug-in process has used so far.  Differences between two lines of one
 * process are the figures; GIMP's console shows the lines.  Without the
 * variable it does nothing.
 * Not for: the user (progress and time left are the progress dialog's).
 *
 * Threads: callable from any thread (one fprintf a line).
 */
#include "dfx-plugin.h"

#include <stdio.h>
#ifdef G_OS_UNIX
#include <sys/resource.h>
#endif

static double
cpu_seconds (void)
{
#ifdef G_OS_UNIX
    struct rusage u;

    if (getrusage (RUSAGE_SELF, &u) == 0)
        return (double)u.ru_utime.tv_sec + u.ru_utime.tv_usec * 1e-6 + (double)u.ru_stime.tv_sec +
               u.ru_stime.tv_usec * 1e-6;
#endif
    return -1.0;
}

void
dfx__trace (const gchar *event)
{
    /* Read each time (no global state; a handful of calls a run). */
    if (g_getenv ("DFX_TRACE_TIMES") == NULL)
        return;
    fprintf (stderr, "dfx-trace: %s wall %.3f cpu %.3f\n", event, (double)g_get_monotonic_time () / G_USEC_PER_SEC,
             cpu_seconds ());
    fflush (stderr);
}
