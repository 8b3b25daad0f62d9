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
 * first folder found wins.
 */
#include "dfx-plugin.h"

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
