/* run-work.c — one piece of long work (generate, edit, heal) run with
 * progress and cancel: what the procedures that call libdfx share.
 *
 * For: running the work in a worker thread under dfx's progress dialog
 * (with its Cancel button) when there is a display, in the plug-in's
 * thread between gimp_progress_init() and gimp_progress_end() otherwise;
 * the dfx_progress_fn that reports to either; the testing hook
 * DFX_TEST_CANCEL_AFTER; and the warning a run leaves for the user.
 * Not for: what the work computes (the procedures and libdfx).
 *
 * Threads: dfx__run_work_progress() is called from the work, in the worker
 * when there is a dialog; it touches libgimp only when there is none.
 */
#include "dfx-plugin.h"

#include <stdlib.h>

/* The testing hook: with DFX_TEST_CANCEL_AFTER=N in the environment, the
 * N-th progress report asks libdfx to stop, exactly as dfx's Cancel button
 * does.  Lets batch tests exercise the cancel path without a display. */
static int
test_cancel (DfxRunWork *w, double fraction)
{
    /* The preparing stage is not counted: the N-th report is the one it
     * was before that stage was reported. */
    if (fraction == DFX_UI_PROGRESS_PREPARING)
        return 0;
    return w->cancel_after > 0 && ++w->reports >= w->cancel_after;
}

int
dfx__run_work_progress (double fraction, void *user)
{
    DfxRunWork *w = user;
    int stop = test_cancel (w, fraction);

    if (fraction > 0.0 && !w->evaluated) {
        w->evaluated = TRUE;
        dfx__trace ("first-eval");
    }

    if (w->ui != NULL)
        return dfx__ui_progress_report (w->ui, fraction) || stop;
    if (fraction < 0.0) {
        gimp_progress_set_text (dfx__ui_progress_stage_text (fraction));
        w->staged = TRUE;
        gimp_progress_pulse ();
    } else if (fraction > 0.0 || !w->staged) {
        if (w->staged && w->batch != NULL)
            gimp_progress_set_text (w->batch);
        w->staged = FALSE;
        gimp_progress_update (fraction);
    }
    return stop;
}

static void
work_ui (DfxUiProgress *progress, gpointer data)
{
    DfxRunWork *w = data;

    w->ui = progress;
    w->work (w->data);
}

void
dfx__run_work (DfxRunWork *w, GimpRunMode run_mode, const gchar *model_dir, const gchar *title,
               const gchar *running, const gchar *batch)
{
    const gchar *hook = g_getenv ("DFX_TEST_CANCEL_AFTER");

    w->ui = NULL;
    w->reports = 0;
    w->batch = batch;
    w->staged = FALSE;
    w->evaluated = FALSE;
    w->cancel_after = hook != NULL ? atoi (hook) : 0;
    if (dfx__ui_available (run_mode)) {
        gchar *basename = g_path_get_basename (model_dir);
        gchar *text = g_strdup_printf (running, basename);

        dfx__ui_progress_run (title, text, work_ui, w);
        g_free (text);
        g_free (basename);
    } else {
        gimp_progress_init (batch);
        w->work (w->data);
        gimp_progress_end ();
    }
    w->ui = NULL;
}

void
dfx__run_work_warn (const char *warning)
{
    gchar *text;

    if (warning[0] == '\0')
        return;
    text = g_strdup_printf (_ ("dfx: %s"), warning);
    gimp_message (text);
    g_free (text);
}
