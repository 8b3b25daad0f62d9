/* model-path.c — where the plug-in finds model folders.
 *
 * For: the default model when the user names none (the grey model for grey
 * images, the colour model otherwise), looked up in a fixed search order of
 * models folders, and the check that a folder is a model at all, both with
 * messages that name the folders and say how to get the models.
 * Not for: reading or validating a model's files (libdfx does that when it
 * loads one, and names the file at fault).
 *
 * Search order (each a folder holding model folders):
 *   1. $DFX_MODELS, one or more folders separated by ':' (';' on Windows);
 *   2. gimp_directory()/dfx/models, the user's GIMP folder
 *      (~/.config/GIMP/3.0/dfx/models; GIMP3_DIRECTORY moves it);
 *   3. <datadir>/dfx/models of the installation (DFX_SYSTEM_MODELS_DIR);
 *   4. models/ of the source tree the plug-in was built from
 *      (DFX_SOURCE_MODELS_DIR), so a developer's build works uninstalled.
 * In each, DFX_MODEL_GREY or DFX_MODEL_COLOUR, the preferred one first; the
 * first folder found wins.  The dialogs list every model of these folders
 * by name, with a line of its model card (README.md) and its size read
 * from unet/config.json.
 */
#include "dfx-plugin.h"

#include <string.h>

#ifndef DFX_SYSTEM_MODELS_DIR
#error "DFX_SYSTEM_MODELS_DIR must be defined (plugin/meson.build passes it)"
#endif
#ifndef DFX_SOURCE_MODELS_DIR
#error "DFX_SOURCE_MODELS_DIR must be defined (plugin/meson.build passes it)"
#endif

gchar **
dfx__model_search_path (void)
{
    GPtrArray *dirs = g_ptr_array_new ();
    const gchar *env = g_getenv ("DFX_MODELS");

    if (env != NULL && *env != '\0') {
        gchar **parts = g_strsplit (env, G_SEARCHPATH_SEPARATOR_S, -1);
        for (gchar **p = parts; *p != NULL; p++)
            if (**p != '\0')
                g_ptr_array_add (dirs, g_strdup (*p));
        g_strfreev (parts);
    }
    g_ptr_array_add (dirs, g_build_filename (gimp_directory (), "dfx", "models", NULL));
    g_ptr_array_add (dirs, g_strdup (DFX_SYSTEM_MODELS_DIR));
    g_ptr_array_add (dirs, g_strdup (DFX_SOURCE_MODELS_DIR));
    g_ptr_array_add (dirs, NULL);
    return (gchar **)g_ptr_array_free (dirs, FALSE);
}

/* A model folder in one of the layouts dfx loads (compute/model/model-files.h):
 * unet/config.json, a pipeline's model_index.json, or a single-model folder
 * with config.json at its root. */
static gboolean
is_model (const gchar *dir)
{
    static const gchar *const marks[][2] = {{"unet", "config.json"}, {"model_index.json", NULL},
                                            {"config.json", NULL}};
    gboolean ok = FALSE;

    for (guint i = 0; i < G_N_ELEMENTS (marks) && !ok; i++) {
        gchar *path = g_build_filename (dir, marks[i][0], marks[i][1], NULL);
        ok = g_file_test (path, G_FILE_TEST_IS_REGULAR);
        g_free (path);
    }
    return ok;
}

gboolean
dfx__model_check (const gchar *dir, GError **error)
{
    if (!g_file_test (dir, G_FILE_TEST_IS_DIR)) {
        g_set_error (error, GIMP_PLUG_IN_ERROR, DFX_ERR_IO,
                     _ ("The model folder %s does not exist. Choose a model folder (one with unet/ and "
                        "scheduler/ in it), or leave the argument empty for dfx's default model."),
                     dir);
        return FALSE;
    }
    if (!is_model (dir)) {
        g_set_error (error, GIMP_PLUG_IN_ERROR, DFX_ERR_IO,
                     _ ("The folder %s is not a dfx model folder: it has no unet/config.json. A model folder "
                        "holds unet/ and scheduler/ in the diffusers layout."),
                     dir);
        return FALSE;
    }
    return TRUE;
}

gchar *
dfx__model_resolve (gchar *chosen, gboolean grey_image, GError **error)
{
    if (chosen != NULL && *chosen != '\0') {
        if (dfx__model_check (chosen, error))
            return chosen;
        g_free (chosen);
        return NULL;
    }
    g_free (chosen);
    return dfx__model_default (grey_image, error);
}

gchar *
dfx__model_default (gboolean grey_image, GError **error)
{
    const gchar *names[2] = {grey_image ? DFX_MODEL_GREY : DFX_MODEL_COLOUR,
                             grey_image ? DFX_MODEL_COLOUR : DFX_MODEL_GREY};
    gchar **dirs = dfx__model_search_path ();
    gchar *found = NULL, *list, *user;

    for (gchar **d = dirs; *d != NULL && found == NULL; d++)
        for (guint i = 0; i < G_N_ELEMENTS (names) && found == NULL; i++) {
            gchar *dir = g_build_filename (*d, names[i], NULL);
            if (is_model (dir))
                found = dir;
            else
                g_free (dir);
        }
    if (found != NULL) {
        g_strfreev (dirs);
        return found;
    }

    list = g_strjoinv ("\n  ", dirs);
    user = g_build_filename (gimp_directory (), "dfx", "models", NULL);
    /* TRANSLATORS: the first %s is a model name, the second a list of
     * folders, one a line; the third is the user's models folder. */
    g_set_error (error, GIMP_PLUG_IN_ERROR, DFX_ERR_IO,
                 _ ("dfx found no default model (%s) in any of these folders:\n  %s\n"
                    "dfx's default models are in the models/ folder of its source. Copy a model folder "
                    "into %s, set the environment variable DFX_MODELS to a folder of model folders, or "
                    "choose a model folder in the dialog (argument \"model\")."),
                 names[0], list, user);
    g_free (user);
    g_free (list);
    g_strfreev (dirs);
    return NULL;
}

/* ---- The list of installed models ---------------------------------------- */

static void
entry_free (gpointer data)
{
    DfxModelEntry *e = data;

    g_free (e->name);
    g_free (e->dir);
    g_free (e->label);
    g_free (e);
}

/* The first whole number after "key": in the JSON text (a list such as
 * [32, 32] gives its first element); 0 when absent.  For a label only:
 * libdfx validates the file when it loads the model. */
static guint
json_uint (const gchar *text, const gchar *key)
{
    gchar *pattern = g_strdup_printf ("\"%s\"\\s*:\\s*\\[?\\s*([0-9]+)", key);
    GRegex *re = g_regex_new (pattern, 0, 0, NULL);
    GMatchInfo *match = NULL;
    guint v = 0;

    if (re != NULL && g_regex_match (re, text, 0, &match)) {
        gchar *digits = g_match_info_fetch (match, 1);
        v = (guint)MIN (g_ascii_strtoull (digits, NULL, 10), G_MAXUINT);
        g_free (digits);
    }
    g_match_info_free (match);
    if (re != NULL)
        g_regex_unref (re);
    g_free (pattern);
    return v;
}

/* The model card's line: what follows " — " (or " - ") in its first
 * heading, else its first line of prose; NULL without a README.md. */
static gchar *
card_line (const gchar *dir)
{
    gchar *path = g_build_filename (dir, "README.md", NULL), *text = NULL, *line = NULL;

    if (g_file_get_contents (path, &text, NULL, NULL)) {
        gchar **lines = g_strsplit (text, "\n", 40);
        for (gchar **l = lines; *l != NULL && line == NULL; l++) {
            gchar *t = g_strstrip (*l);
            if (*t == '#') {
                const gchar *dash = strstr (t, " \u2014 ");
                if (dash != NULL)
                    line = g_strdup (dash + strlen (" \u2014 "));
                else if ((dash = strstr (t, " - ")) != NULL)
                    line = g_strdup (dash + 3);
            } else if (*t != '\0' && *t != '!' && *t != '<') {
                line = g_strdup (t);
            }
        }
        g_strfreev (lines);
        if (line != NULL && g_utf8_strlen (line, -1) > 60) {
            gchar *cut = g_utf8_substring (line, 0, 57);
            g_free (line);
            line = g_strconcat (cut, "...", NULL);
            g_free (cut);
        }
    }
    g_free (text);
    g_free (path);
    return line;
}

static DfxModelEntry *
entry_new (const gchar *dir, const gchar *name)
{
    DfxModelEntry *e = g_new0 (DfxModelEntry, 1);
    gchar *config = g_build_filename (dir, "unet", "config.json", NULL), *text = NULL, *fisher;
    gchar *line = card_line (dir), *kind;

    e->name = g_strdup (name);
    e->dir = g_strdup (dir);
    if (g_file_get_contents (config, &text, NULL, NULL)) {
        e->width = e->height = json_uint (text, "sample_size");
        e->channels = json_uint (text, "in_channels");
    }
    fisher = g_build_filename (dir, "fisher", NULL);
    e->fisher = g_file_test (fisher, G_FILE_TEST_IS_DIR);
    kind = e->channels == 1 || e->channels == 2 ? g_strdup (_ ("grey"))
         : e->channels >= 3                     ? g_strdup (_ ("colour"))
                                                : g_strdup (_ ("unknown kind"));
    if (e->width > 0 && line != NULL)
        /* TRANSLATORS: model list entry: name, model card line, size, grey/colour. */
        e->label = g_strdup_printf (_ ("%s \u2014 %s (%u\u00d7%u, %s)"), name, line, e->width, e->height, kind);
    else if (e->width > 0)
        /* TRANSLATORS: model list entry: name, size, grey/colour. */
        e->label = g_strdup_printf (_ ("%s (%u\u00d7%u, %s)"), name, e->width, e->height, kind);
    else
        e->label = g_strdup (name);
    g_free (kind);
    g_free (line);
    g_free (fisher);
    g_free (text);
    g_free (config);
    return e;
}

static gint
entry_compare (gconstpointer a, gconstpointer b)
{
    const DfxModelEntry *x = *(DfxModelEntry *const *)a, *y = *(DfxModelEntry *const *)b;

    return g_utf8_collate (x->name, y->name);
}

GPtrArray *
dfx__model_list (void)
{
    GPtrArray *list = g_ptr_array_new_with_free_func (entry_free);
    GHashTable *seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
    gchar **dirs = dfx__model_search_path ();

    for (gchar **d = dirs; *d != NULL; d++) {
        GDir *folder = g_dir_open (*d, 0, NULL);
        const gchar *name;

        if (folder == NULL)
            continue;
        while ((name = g_dir_read_name (folder)) != NULL) {
            gchar *dir = g_build_filename (*d, name, NULL);
            if (!g_hash_table_contains (seen, name) && is_model (dir)) {
                g_hash_table_add (seen, g_strdup (name));
                g_ptr_array_add (list, entry_new (dir, name));
            }
            g_free (dir);
        }
        g_dir_close (folder);
    }
    g_ptr_array_sort (list, entry_compare);
    g_strfreev (dirs);
    g_hash_table_unref (seen);
    return list;
}

const DfxModelEntry *
dfx__model_list_default (GPtrArray *list, gboolean grey_image)
{
    gchar *dir = dfx__model_default (grey_image, NULL);
    const DfxModelEntry *found = NULL;

    for (guint i = 0; dir != NULL && i < list->len && found == NULL; i++) {
        const DfxModelEntry *e = g_ptr_array_index (list, i);
        if (strcmp (e->dir, dir) == 0)
            found = e;
    }
    g_free (dir);
    return found;
}
