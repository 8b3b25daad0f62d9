/* region-proc.c — what Guided Edit (proc-edit.c) and Heal Selection
 * (proc-heal.c) share in declaring their procedure: an image procedure on
 * one layer of an RGB or grey image, under Filters ▸ Diffusion, with its
 * documentation and attribution, and its first argument, the model.
 *
 * Not for: the other arguments and the return values (each procedure
 * declares its own, in its own order: scripts pass them by position), nor
 * run() (region-run.c).
 */
#include "dfx-plugin.h"

GimpProcedure *
dfx__region_procedure_new (GimpPlugIn *plug_in, const gchar *name, GimpRunImageFunc run, const gchar *menu_label,
                           const gchar *blurb, const gchar *help, const gchar *model_blurb)
{
    GimpProcedure *procedure;

    procedure = gimp_image_procedure_new (plug_in, name, GIMP_PDB_PROC_TYPE_PLUGIN, run, NULL, NULL);
    gimp_procedure_set_image_types (procedure, "RGB*, GRAY*");
    gimp_procedure_set_sensitivity_mask (procedure, GIMP_PROCEDURE_SENSITIVE_DRAWABLE);
    gimp_procedure_set_menu_label (procedure, menu_label);
    gimp_procedure_add_menu_path (procedure, DFX_MENU_PATH);
    gimp_procedure_set_documentation (procedure, blurb, help, name);
    gimp_procedure_set_attribution (procedure, "dfx authors", "dfx authors", "2026");
    gimp_procedure_add_string_argument (procedure, "model", _ ("_Model"), model_blurb, "", G_PARAM_READWRITE);
    return procedure;
}
