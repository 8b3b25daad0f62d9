/* dfx-plugin.c — the GimpPlugIn subclass of dfx and its main().
 *
 * For: telling GIMP which procedures the `dfx` executable provides
 * (query_procedures), building the one asked for (create_procedure) from a
 * table of constructors, naming the plug-in's gettext domain, and the menu
 * branch the procedures live under, and where libdfx's pipeline cache
 * lives (GIMP's profile).
 * Not for: the procedures themselves (one proc-*.c file each), pixels,
 * numerics or Vulkan.
 */
#include "dfx-plugin.h"

#include <string.h>

typedef struct _DfxPlugIn {
    GimpPlugIn parent_instance;
} DfxPlugIn;

#define DFX_TYPE_PLUG_IN (dfx_plug_in_get_type ())
G_DECLARE_FINAL_TYPE (DfxPlugIn, dfx_plug_in, DFX, PLUG_IN, GimpPlugIn)

G_DEFINE_TYPE (DfxPlugIn, dfx_plug_in, GIMP_TYPE_PLUG_IN)

/* Every procedure of the plug-in: its PDB name and its constructor.  Adding
 * a procedure is one row here plus its proc-*.c file. */
static const struct {
    const char *name;
    GimpProcedure *(*create) (GimpPlugIn *plug_in);
} procedures[] = {
    {DFX_PROC_DEVICE_INFO, dfx__proc_device_info_new},
    {DFX_PROC_GENERATE, dfx__proc_generate_new},
    {DFX_PROC_GENERATE_LAYER, dfx__proc_generate_layer_new},
    {DFX_PROC_LIKELIHOOD, dfx__proc_likelihood_new},
    {DFX_PROC_EDIT, dfx__proc_edit_new},
    {DFX_PROC_HEAL, dfx__proc_heal_new},
};

/* Runs once when GIMP (re)registers the plug-in.  The submenu label is only
 * marked with N_(): GIMP translates it in the plug-in's domain. */
static GList *
dfx_plug_in_query_procedures (GimpPlugIn *plug_in)
{
    GList *list = NULL;

    gimp_plug_in_add_menu_branch (plug_in, "<Image>/Filters", N_ ("Diffusion"));
    gimp_plug_in_add_menu_branch (plug_in, "<Image>/File/Create", N_ ("Diffusion"));

    for (gsize i = 0; i < G_N_ELEMENTS (procedures); i++)
        list = g_list_append (list, g_strdup (procedures[i].name));
    return list;
}

/* libdfx's pipeline cache (DFX_PIPELINE_CACHE; libdfx's default is
 * $XDG_CACHE_HOME/dfx) goes into GIMP's profile, dfx/pipeline-cache, so it
 * persists with the profile the plug-in is installed in (issue 20).  Set
 * here, in the main thread before any run starts a thread, so every
 * dfx_ctx_options_defaults() reads it; a value the user set is kept.
 * (Mesa's own shader cache, which is what makes a later run fast on
 * lavapipe, stays Mesa's: MESA_SHADER_CACHE_DIR or ~/.cache, shared by
 * every profile.) */
static void
pipeline_cache_in_profile (void)
{
    gchar *dir;

    if (g_getenv ("DFX_PIPELINE_CACHE") != NULL)
        return;
    dir = g_build_filename (gimp_directory (), "dfx", "pipeline-cache", NULL);
    g_setenv ("DFX_PIPELINE_CACHE", dir, TRUE);
    g_free (dir);
}

static GimpProcedure *
dfx_plug_in_create_procedure (GimpPlugIn *plug_in, const gchar *name)
{
    pipeline_cache_in_profile ();
    for (gsize i = 0; i < G_N_ELEMENTS (procedures); i++)
        if (strcmp (name, procedures[i].name) == 0)
            return procedures[i].create (plug_in);
    return NULL;
}

/* The domain is fixed to "dfx" rather than left to libgimp's default (the
 * name of the folder holding the executable), so a copy installed under
 * another folder name still finds its catalogs; the catalog folder stays
 * libgimp's default, locale/ beside the executable. */
static gboolean
dfx_plug_in_set_i18n (GimpPlugIn *plug_in, const gchar *procedure_name, gchar **gettext_domain, gchar **catalog_dir)
{
    *gettext_domain = g_strdup (GETTEXT_PACKAGE);
    return TRUE;
}

static void
dfx_plug_in_class_init (DfxPlugInClass *klass)
{
    GimpPlugInClass *plug_in_class = GIMP_PLUG_IN_CLASS (klass);

    plug_in_class->query_procedures = dfx_plug_in_query_procedures;
    plug_in_class->create_procedure = dfx_plug_in_create_procedure;
    plug_in_class->set_i18n = dfx_plug_in_set_i18n;
}

static void
dfx_plug_in_init (DfxPlugIn *self)
{
}

GIMP_MAIN (DFX_TYPE_PLUG_IN)
