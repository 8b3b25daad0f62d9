/* progress-dialog.c — dfx's own progress dialog with a working Cancel.
 *
 * For: long work that must stay cancellable.  GIMP's own progress Cancel
 * kills the plug-in (GIMP.md), so dfx shows this modal dialog instead: the
 * work runs in a worker thread; its reports reach the GtkProgressBar
 * through one queued idle callback at a time; Cancel (or closing the
 * dialog) sets an atomic flag that the next report returns, and the dialog
 * waits, saying so, until the work has returned.
 * Not for: the work itself, nor GIMP's progress bar (batch runs use
 * gimp_progress_update() in plugin/generate.c).
 *
 * Threads: everything here runs in the main thread except
 * dfx__ui_progress_report(), which touches only the mutex-guarded fraction
 * and the atomics.  The DfxUiProgress lives on dfx__ui_progress_run()'s
 * stack and outlives the worker and every idle callback it queued.
 */
#include "dfx-ui.h"

#include <glib/gi18n-lib.h>

struct _DfxUiProgress {
    GtkWidget *dialog, *label, *bar, *vbox, *preview;
    GMainLoop *loop;
    DfxUiWorkFunc work;
    gpointer data;
    gint64 start;      /* g_get_monotonic_time() at the start */
    GMutex lock;       /* guards fraction, stage, first and first_time */
    gdouble fraction;  /* the latest report */
    gdouble stage;     /* the latest stage reported (DFX_UI_PROGRESS_*) */
    gdouble first;     /* the first fraction above 0 reported, or −1 before it */
    gint64 first_time; /* g_get_monotonic_time() at that report */
    gint cancel;       /* atomic: the user asked to stop */
    gint queued;       /* atomic: a show_progress() idle is pending */
    gint finished;     /* atomic: the worker has returned */
    /* The latest preview image (guarded by lock), drawn by show_preview(). */
    guchar *pv;
    guint pv_w, pv_h, pv_bpp;
    gint pv_queued;    /* atomic: a show_preview() idle is pending */
};

/* Main thread: draws the latest preview, creating its area on first use. */
static gboolean
show_preview (gpointer user)
{
    DfxUiProgress *p = user;

    g_atomic_int_set (&p->pv_queued, 0);
    g_mutex_lock (&p->lock);
    if (p->pv != NULL) {
        if (p->preview == NULL) {
            p->preview = gimp_preview_area_new ();
            gtk_widget_set_size_request (p->preview, (gint)p->pv_w, (gint)p->pv_h);
            gtk_box_pack_start (GTK_BOX (p->vbox), p->preview, FALSE, FALSE, 0);
            gtk_widget_show (p->preview);
        }
        gimp_preview_area_draw (GIMP_PREVIEW_AREA (p->preview), 0, 0, (gint)p->pv_w, (gint)p->pv_h,
                                p->pv_bpp == 1 ? GIMP_GRAY_IMAGE : GIMP_RGB_IMAGE, p->pv,
                                (gint)(p->pv_w * p->pv_bpp));
    }
    g_mutex_unlock (&p->lock);
    return G_SOURCE_REMOVE;
}

void
dfx__ui_progress_preview (DfxUiProgress *p, guint width, guint height, guint bpp, const guchar *pixels)
{
    g_mutex_lock (&p->lock);
    g_free (p->pv);
    p->pv = g_memdup2 (pixels, (gsize)width * height * bpp);
    p->pv_w = width;
    p->pv_h = height;
    p->pv_bpp = bpp;
    g_mutex_unlock (&p->lock);
    if (g_atomic_int_compare_and_exchange (&p->pv_queued, 0, 1))
        g_idle_add (show_preview, p);
}

/* "42 s", "2 min 05 s", "1 h 03 min": a duration as a person reads it. */
static gchar *
format_seconds (gdouble seconds)
{
    const gint s = (gint)(seconds + 0.5);

    if (s < 60)
        /* TRANSLATORS: a duration in seconds. */
        return g_strdup_printf (_ ("%d s"), s);
    if (s < 3600)
        /* TRANSLATORS: a duration in minutes and seconds. */
        return g_strdup_printf (_ ("%d min %02d s"), s / 60, s % 60);
    /* TRANSLATORS: a duration in hours and minutes. */
    return g_strdup_printf (_ ("%d h %02d min"), s / 3600, s / 60 % 60);
}

const gchar *
dfx__ui_progress_stage_text (double stage)
{
    if (stage <= DFX_UI_PROGRESS_PREPARING)
        return _ ("Preparing the graphics kernels (slow on the first run only)...");
    return _ ("Loading the model...");
}

/* Main thread: brings the bar up to the latest report. */
static gboolean
show_progress (gpointer user)
{
    DfxUiProgress *p = user;
    gdouble f, f0, stage;
    gint64 t0;

    g_atomic_int_set (&p->queued, 0);
    g_mutex_lock (&p->lock);
    f = p->fraction;
    f0 = p->first;
    t0 = p->first_time;
    stage = p->stage;
    g_mutex_unlock (&p->lock);

    /* A stage pulses; so does 0 % after it (the likelihood reports 0
     * before its first evaluation, the one that prepares the kernels). */
    if (f <= 0.0 && stage < 0.0) {
        gtk_progress_bar_pulse (GTK_PROGRESS_BAR (p->bar));
        gtk_progress_bar_set_text (GTK_PROGRESS_BAR (p->bar), dfx__ui_progress_stage_text (f < 0.0 ? f : stage));
    } else {
        gint64 now = g_get_monotonic_time ();
        gdouble elapsed = (gdouble)(now - p->start) / G_USEC_PER_SEC;
        /* The pace since the first fraction: the work before it (loading,
         * the first evaluation with its kernel preparation) is no guide to
         * the rest. */
        gdouble since = (gdouble)(now - t0) / G_USEC_PER_SEC, done = f - f0;
        gchar *text;

        f = CLAMP (f, 0.0, 1.0);
        gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (p->bar), f);
        /* With G_MESSAGES_DEBUG=dfx on the console (the ui tests wait for
         * it before they press Cancel). */
        g_debug ("progress %.3f after %.1f s", f, elapsed);
        /* The time left at that pace, once there is a pace to go by (2 %
         * done since the first fraction and a second gone); until then the
         * time so far. */
        if (f0 >= 0.0 && done >= 0.02 && f < 1.0 && since >= 1.0) {
            gchar *left = format_seconds (since * (1.0 - f) / done);
            /* TRANSLATORS: progress: percent done, then the estimated time left ("2 min 05 s"). */
            text = g_strdup_printf (_ ("%d %% (about %s left)"), (gint)(f * 100.0), left);
            g_free (left);
        } else {
            gchar *so_far = format_seconds (elapsed);
            /* TRANSLATORS: progress: percent done, then the time so far ("12 s"). */
            text = g_strdup_printf (_ ("%d %% (%s so far)"), (gint)(f * 100.0), so_far);
            g_free (so_far);
        }
        gtk_progress_bar_set_text (GTK_PROGRESS_BAR (p->bar), text);
        g_free (text);
    }
    return G_SOURCE_REMOVE;
}

int
dfx__ui_progress_report (DfxUiProgress *p, double fraction)
{
    g_mutex_lock (&p->lock);
    p->fraction = fraction;
    if (fraction < 0.0)
        p->stage = fraction;
    if (fraction > 0.0 && p->first < 0.0) {
        p->first = fraction;
        p->first_time = g_get_monotonic_time ();
    }
    g_mutex_unlock (&p->lock);
    /* At most one idle in flight: a fast worker cannot flood the loop. */
    if (g_atomic_int_compare_and_exchange (&p->queued, 0, 1))
        g_idle_add (show_progress, p);
    return g_atomic_int_get (&p->cancel);
}

/* Main thread, queued by the worker as its last act. */
static gboolean
work_done (gpointer user)
{
    DfxUiProgress *p = user;

    g_main_loop_quit (p->loop);
    return G_SOURCE_REMOVE;
}

static gpointer
worker (gpointer user)
{
    DfxUiProgress *p = user;

    p->work (p, p->data);
    g_atomic_int_set (&p->finished, 1);
    g_idle_add (work_done, p);
    return NULL;
}

static void
request_cancel (DfxUiProgress *p)
{
    if (g_atomic_int_get (&p->cancel))
        return;
    g_atomic_int_set (&p->cancel, 1);
    gtk_label_set_text (GTK_LABEL (p->label), _ ("Cancelling: dfx stops after the current network evaluation..."));
    gtk_dialog_set_response_sensitive (GTK_DIALOG (p->dialog), GTK_RESPONSE_CANCEL, FALSE);
}

static void
on_response (GtkDialog *dialog, gint response, gpointer user)
{
    /* Cancel, Escape and the window's close button all land here. */
    request_cancel (user);
}

static gboolean
on_delete (GtkWidget *widget, GdkEvent *event, gpointer user)
{
    request_cancel (user);
    return TRUE; /* the dialog stays until the work has returned */
}

gboolean
dfx__ui_progress_run (const gchar *title, const gchar *text, DfxUiWorkFunc work, gpointer data)
{
    DfxUiProgress p = {0};
    GtkWidget *vbox;
    GThread *thread;

    gimp_ui_init ("dfx");
    p.work = work;
    p.data = data;
    p.start = g_get_monotonic_time ();
    p.first = -1.0;
    p.stage = 0.0;
    g_mutex_init (&p.lock);
    p.loop = g_main_loop_new (NULL, FALSE);

    p.dialog = gimp_dialog_new (title, "dfx-progress", NULL, GTK_DIALOG_MODAL, NULL, NULL, _ ("_Cancel"),
                                GTK_RESPONSE_CANCEL, NULL);
    gtk_window_set_resizable (GTK_WINDOW (p.dialog), FALSE);
    gimp_window_set_transient (GTK_WINDOW (p.dialog));
    vbox = p.vbox = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
    gtk_container_set_border_width (GTK_CONTAINER (vbox), 12);
    gtk_box_pack_start (GTK_BOX (gtk_dialog_get_content_area (GTK_DIALOG (p.dialog))), vbox, TRUE, TRUE, 0);
    p.label = gtk_label_new (text);
    gtk_label_set_xalign (GTK_LABEL (p.label), 0.0);
    gtk_box_pack_start (GTK_BOX (vbox), p.label, FALSE, FALSE, 0);
    p.bar = gtk_progress_bar_new ();
    gtk_progress_bar_set_show_text (GTK_PROGRESS_BAR (p.bar), TRUE);
    gtk_widget_set_size_request (p.bar, 360, -1);
    gtk_box_pack_start (GTK_BOX (vbox), p.bar, FALSE, FALSE, 0);
    g_signal_connect (p.dialog, "response", G_CALLBACK (on_response), &p);
    g_signal_connect (p.dialog, "delete-event", G_CALLBACK (on_delete), &p);
    gtk_widget_show_all (p.dialog);

    thread = g_thread_new ("dfx-work", worker, &p);
    g_main_loop_run (p.loop);
    g_thread_join (thread);
    /* A report queued just before the end still points at p: let it run. */
    while (g_atomic_int_get (&p.queued) || g_atomic_int_get (&p.pv_queued))
        g_main_context_iteration (NULL, TRUE);

    gtk_widget_destroy (p.dialog);
    g_main_loop_unref (p.loop);
    g_mutex_clear (&p.lock);
    g_free (p.pv);
    return g_atomic_int_get (&p.cancel) != 0;
}
