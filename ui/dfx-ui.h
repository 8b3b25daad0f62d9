/* dfx-ui.h — the GTK3 dialogs of the dfx plug-in.
 *
 * For: the settings dialog of a procedure, built from its config
 * (GimpProcedureDialog), and dfx's own progress dialog with a Cancel button
 * that runs the long work in a worker thread.  Every function here runs in
 * the plug-in's main thread except dfx__ui_progress_report(), which the
 * worker calls.
 * Not for: anything numeric or Vulkan (libdfx), nor GIMP image changes
 * (plugin/).  Nothing here includes dfx.h: the dialogs know procedures,
 * configs and fractions, not models.
 */
#ifndef DFX_UI_H
#define DFX_UI_H

#include <libgimp/gimp.h>
#include <libgimp/gimpui.h>

/* TRUE when a run may show dialogs: the run mode is not
 * non-interactive and there is a display to show them on (gimp-console
 * batches have none; their interactive calls run without dialogs). */
gboolean dfx__ui_available (GimpRunMode run_mode);

/* A row for an int argument that holds the id of an item of image (GIMP
 * cannot remember a layer argument between runs, an id it can): a chooser
 * of image's layers (DFX_UI_ITEM_LAYER) or of its channels and layer masks
 * with "The selection" as id 0 (DFX_UI_ITEM_MASK), label from the
 * argument's nick, kept in step with config. */
typedef enum { DFX_UI_ITEM_LAYER, DFX_UI_ITEM_MASK } DfxUiItemKind;

typedef struct {
    const gchar *property; /* NULL ends a list */
    DfxUiItemKind kind;
} DfxUiItemRow;

GtkWidget *dfx__ui_item_row_new (GimpProcedureConfig *config, GimpImage *image, const DfxUiItemRow *item);

/* Marks label as the label of a settings row, so the dialog lines it up
 * with the other rows' labels (dialog-settings.c). */
void dfx__ui_row_label_mark (GtkWidget *label);

/* An installed model, as the model chooser lists it. */
typedef struct {
    const gchar *label; /* what the list shows: name, a line of its model card, size */
    const gchar *path;  /* the model folder */
    guint width, height; /* the model's own image size; 0 when unknown */
} DfxUiModel;

/* What dfx__ui_dialog_run() shows.  Property names absent from the
 * procedure are skipped; lists are NULL-terminated. */
typedef struct {
    const gchar *title;
    const gchar *ok_label;          /* translated, with a mnemonic that clashes with no other */
    const gchar *model_property;    /* string property holding a model folder ("" = the default); NULL: no chooser */
    const DfxUiModel *models;       /* the installed models (n_models) */
    guint n_models;
    const gchar *default_label;     /* the default model's label; NULL: dfx found none */
    GimpImage *image;               /* the image whose items the item rows list; NULL: no item rows */
    const DfxUiItemRow *items;      /* rows choosing a layer or mask of image by id, under the model chooser,
                                     * ended by a NULL property; NULL: none */
    const gchar *const *names;      /* the main settings, in order, under the model chooser and item rows */
    const gchar *seed_property;     /* gets a "New seed" button beside it; NULL: none */
    const gchar *width_property;    /* set to the chosen model's size when the user picks a model */
    const gchar *height_property;
    const gchar *const *advanced;   /* the method's knobs, in a closed "Advanced" expander; NULL: none */
    const gchar *note;              /* a line at the bottom (what the result will be); NULL: none */
} DfxUiDialog;

/* Shows the settings dialog of procedure as spec describes: the model
 * chooser (the default model by name, every installed model with its
 * card's line, "Other folder…"), the item rows, the main settings, the seed with its
 * "New seed" button, the Advanced expander, the note.  Numbers of type
 * double get spin buttons with increments that fit their range.  Returns
 * TRUE when the user pressed the OK button; config then holds the chosen
 * values (GIMP saves them as the last-used ones). */
gboolean dfx__ui_dialog_run (GimpProcedure *procedure, GimpProcedureConfig *config, const DfxUiDialog *spec);

/* Shows an information dialog (not a warning: an "i" icon) titled title
 * with a bold heading and text, and a Close button; returns when closed. */
void dfx__ui_info_dialog (const gchar *title, const gchar *heading, const gchar *text);
typedef struct _DfxUiProgress DfxUiProgress;

/* The long work: runs in a worker thread, calls dfx__ui_progress_report()
 * as it goes and stops early when that returns nonzero.  It must not call
 * libgimp or GTK. */
typedef void (*DfxUiWorkFunc) (DfxUiProgress *progress, gpointer data);

/* Runs work (data) in a worker thread while a modal dialog titled title
 * (the procedure's name, e.g. "Generate Layer") shows text, a progress bar
 * with the percentage and the estimated time left, and a Cancel button;
 * returns when work has returned (after a cancel too: the work decides when
 * to stop).  Returns TRUE when the user asked to cancel. */
gboolean dfx__ui_progress_run (const gchar *title, const gchar *text, DfxUiWorkFunc work, gpointer data);

/* The two stages before the first fraction, reported as negative
 * fractions: the bar pulses and says which.  PREPARING is the first network
 * evaluation, where lavapipe compiles dfx's kernels unless Mesa's shader
 * cache already holds them (minutes on a first run, under a second after). */
#define DFX_UI_PROGRESS_LOADING (-1.0)
#define DFX_UI_PROGRESS_PREPARING (-2.0)

/* From the worker: the fraction done (0..1; DFX_UI_PROGRESS_*: a stage,
 * the bar pulses).  Thread-safe and cheap; the dialog catches up in the
 * main thread.  The time left is estimated from the pace since the first
 * fraction, so the first evaluation's kernel preparation does not inflate
 * it.  Returns nonzero when the user pressed Cancel or closed the dialog. */
int dfx__ui_progress_report (DfxUiProgress *progress, double fraction);

/* The text of a stage (DFX_UI_PROGRESS_*), translated; for GIMP's own
 * progress in batch runs too. */
const gchar *dfx__ui_progress_stage_text (double stage);

/* From the worker: shows pixels (width × height, bpp 1 grey or 3 RGB,
 * 8-bit, rows packed) in a preview area under the bar, created on the first
 * call.  Thread-safe: the pixels are copied; the dialog draws the latest. */
void dfx__ui_progress_preview (DfxUiProgress *progress, guint width, guint height, guint bpp,
                               const guchar *pixels);

#endif /* DFX_UI_H */
