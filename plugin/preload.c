/* preload.c — the model loaded and its kernels prepared while the user
 * looks at the settings dialog (issue 20: the first evaluation within 10 s
 * of OK).
 *
 * For: a thread started before a procedure's dialog that opens the libdfx
 * context, loads the model the run will most likely use and runs the
 * start of that run (same sizes, sampler, skip, layout) on stand-in data,
 * for canvases up to 256 × 256 pixels, until its first network evaluation
 * has returned, which is when lavapipe has compiled the kernels (at their
 * first dispatch) and Mesa's disk cache holds them; then it stops.  The run takes the context and the model
 * (dfx__preload_take(), which joins the thread first) when they are of the
 * folder it resolved, so what remains after OK is the part of this work
 * not done yet.  Cancel (dfx__preload_cancel()) stops it at the next
 * progress report and joins it.  A failure here is never shown: the run
 * then opens and loads on its own and reports its own error.
 * DFX_NO_PRELOAD in the environment turns it off (measurements).
 * Not for: deciding which model or sizes a run uses (the procedures), nor
 * the real computation (generate.c, proc-likelihood.c).
 *
 * Threads: the thread calls libdfx and GLib only.  The context is used by
 * one thread at a time: the preload thread until joined, then the run.
 */
#include "dfx-plugin.h"

#include <string.h>

struct DfxPreload {
    GThread *thread;
    gchar *model_dir;
    DfxPreloadKind kind;
    dfx_generate_params gen;   /* GENERATE: the run's parameters */
    dfx_likelihood_params lik; /* LIKELIHOOD: the run's parameters */
    guint width, height;       /* LIKELIHOOD: the layer's size */
    gboolean grey;             /* LIKELIHOOD: the image is grey */
    gint cancel;               /* atomic: stop at the next report */
    gint loaded;               /* atomic: the model is loaded (the kernels are next) */
    gboolean evaluated;        /* the thread saw a fraction above 0 */
    dfx_ctx *ctx;              /* the thread's, then the taker's */
    dfx_model *model;
};

/* Above this many pixels (× images) the start of the run is not rehearsed,
 * only the model loaded: a user who presses OK before the rehearsal ends
 * waits for its evaluation and then the run's own (its result is dropped).
 * At 256 × 256 one evaluation costs about 1 CPU s on lavapipe against tens
 * of seconds of compilation saved (BENCHMARKS.md, "Warm caches" and "First
 * run in GIMP"); a 1024 × 1024 one costs more than the compilation. */
#define WARM_MAX_PIXELS (256u * 256u)

/* The stand-in run's progress: it ends once a fraction above 0 says an
 * evaluation has returned (the kernels are ready), or on cancel. */
static int
warm_progress (double fraction, void *user)
{
    DfxPreload *p = user;

    if (fraction > 0.0 && !p->evaluated) {
        p->evaluated = TRUE;
        dfx__trace ("preload-first-eval");
    }
    return p->evaluated || g_atomic_int_get (&p->cancel);
}

/* The start of the run on stand-in data; its result (cancelled by
 * warm_progress) is dropped. */
static void
warm (DfxPreload *p)
{
    dfx_model_info info;
    gsize n = 1;
    gfloat *buf;

    dfx_model_get_info (p->model, &info);
    if (p->kind == DFX_PRELOAD_GENERATE) {
        dfx_generate_params g = p->gen;
        dfx_generate_result r;

        if (g.width == 0 || g.height == 0)
            g.width = info.sample_width, g.height = info.sample_height;
        if ((guint64)g.width * g.height * MAX (g.count, 1) > WARM_MAX_PIXELS)
            return;
        if (!g_size_checked_mul (&n, n, MAX (g.count, 1)) || !g_size_checked_mul (&n, n, info.channels) ||
            !g_size_checked_mul (&n, n, g.width) || !g_size_checked_mul (&n, n, g.height) ||
            n > DFX_GENERATE_MAX_FLOATS || (buf = g_try_new (gfloat, n)) == NULL)
            return;
        g.progress = warm_progress;
        g.progress_user = p;
        (void)dfx_generate (p->model, &g, buf, &r);
    } else {
        const guint c = p->grey ? 2 : 4;
        dfx_likelihood_params l = p->lik;
        dfx_likelihood_result r = {0};

        if ((guint64)p->width * p->height > WARM_MAX_PIXELS)
            return;
        if (!g_size_checked_mul (&n, n, p->width) || !g_size_checked_mul (&n, n, p->height) ||
            !g_size_checked_mul (&n, n, c) || p->width > DFX_LIKELIHOOD_MAX_SIZE ||
            p->height > DFX_LIKELIHOOD_MAX_SIZE || (buf = g_try_new (gfloat, n)) == NULL)
            return;
        /* Mid grey, opaque: the kernels do not depend on the values. */
        for (gsize i = 0; i < n; i++)
            buf[i] = i % c == c - 1 ? 1.0f : 0.5f;
        l.progress = warm_progress;
        l.progress_user = p;
        (void)dfx_likelihood (p->model, &l, buf, p->width, p->height, c, 1, &r);
        dfx_likelihood_result_clear (&r);
    }
    g_free (buf);
}

static gpointer
preload_thread (gpointer data)
{
    DfxPreload *p = data;
    dfx_ctx_options opt;

    dfx__trace ("preload-start");
    dfx_ctx_options_defaults (&opt);
    if (dfx_ctx_create (&opt, &p->ctx) != DFX_OK)
        goto fail;
    if (!g_atomic_int_get (&p->cancel) && dfx_model_load (p->ctx, p->model_dir, &p->model) != DFX_OK)
        goto fail;
    if (!g_atomic_int_get (&p->cancel)) {
        g_atomic_int_set (&p->loaded, 1);
        dfx__trace ("preload-loaded");
        warm (p);
    }
    dfx__trace (g_atomic_int_get (&p->cancel) ? "preload-cancelled" : "preload-ready");
    return NULL;

fail:
    /* Not reported: the run does this again and says what went wrong. */
    dfx_model_destroy (p->model);
    dfx_ctx_destroy (p->ctx);
    p->model = NULL;
    p->ctx = NULL;
    dfx__trace ("preload-failed");
    return NULL;
}

/* A preload of kind for model_dir rehearsing gen or lik (the other NULL;
 * width, height and grey for LIKELIHOOD only), its thread started; NULL
 * when DFX_NO_PRELOAD is set or no thread could be started.  The copied
 * parameters drop the run's progress callback: warm() sets its own. */
static DfxPreload *
start (DfxPreloadKind kind, const gchar *model_dir, const dfx_generate_params *gen, const dfx_likelihood_params *lik,
       guint width, guint height, gboolean grey)
{
    DfxPreload *p;

    /* DFX_NO_PRELOAD (any value): everything after OK, as before the
     * preload existed (for measuring what it gains). */
    if (g_getenv ("DFX_NO_PRELOAD") != NULL)
        return NULL;
    p = g_new0 (DfxPreload, 1);
    p->kind = kind;
    if (gen != NULL)
        p->gen = *gen;
    if (lik != NULL)
        p->lik = *lik;
    p->gen.progress = NULL;
    p->gen.progress_user = NULL;
    p->lik.progress = NULL;
    p->lik.progress_user = NULL;
    p->width = width;
    p->height = height;
    p->grey = grey;
    p->model_dir = g_strdup (model_dir);
    p->thread = g_thread_try_new ("dfx-preload", preload_thread, p, NULL);
    if (p->thread == NULL) {
        g_free (p->model_dir);
        g_free (p);
        return NULL;
    }
    return p;
}

DfxPreload *
dfx__preload_generate (const gchar *model_dir, const dfx_generate_params *params)
{
    if (model_dir == NULL)
        return NULL;
    return start (DFX_PRELOAD_GENERATE, model_dir, params, NULL, 0, 0, FALSE);
}

DfxPreload *
dfx__preload_likelihood (const gchar *model_dir, const dfx_likelihood_params *params, guint width, guint height,
                         gboolean grey)
{
    if (model_dir == NULL || width == 0 || height == 0)
        return NULL;
    return start (DFX_PRELOAD_LIKELIHOOD, model_dir, NULL, params, width, height, grey);
}

gboolean
dfx__preload_take (DfxPreload *p, const gchar *model_dir, dfx_ctx **ctx, dfx_model **model)
{
    gboolean ok;

    if (p == NULL)
        return FALSE;
    g_thread_join (p->thread);
    ok = p->model != NULL && model_dir != NULL && strcmp (p->model_dir, model_dir) == 0;
    if (ok) {
        dfx__trace ("preload-taken");
        *ctx = p->ctx;
        *model = p->model;
        p->ctx = NULL;
        p->model = NULL;
    }
    dfx_model_destroy (p->model);
    dfx_ctx_destroy (p->ctx);
    g_free (p->model_dir);
    g_free (p);
    return ok;
}

double
dfx__preload_stage (DfxPreload *p)
{
    return p != NULL && g_atomic_int_get (&p->loaded) ? DFX_UI_PROGRESS_PREPARING : DFX_UI_PROGRESS_LOADING;
}

void
dfx__preload_cancel (DfxPreload *p)
{
    if (p == NULL)
        return;
    g_atomic_int_set (&p->cancel, 1);
    (void)dfx__preload_take (p, NULL, NULL, NULL);
}
