/* proc-device-info.c — the procedure "plug-in-dfx-device-info".
 *
 * For: reporting which Vulkan device dfx computes on (name, type, driver),
 * as three string return values for scripts and, when run interactively,
 * in an information dialog (a message in GIMP without a display).  It opens the device for real, so it also answers
 * "does dfx work on this machine", and it fails with dfx's own message
 * (GIMP_PDB_EXECUTION_ERROR) when there is no usable device.
 * Not for: choosing the device (that is $DFX_DEVICE, read by libdfx) or
 * listing every device (the `dfx info` command does that).
 */
#include "dfx-plugin.h"

/* Fills the three strings from the device the context runs on.  Returns
 * FALSE and sets *error when libdfx fails.  The strings are owned by the
 * caller (g_free). */
static gboolean
query_device (gchar **name, gchar **type, gchar **driver, GError **error)
{
    dfx_ctx *ctx;
    dfx_device_info info;
    dfx_status status;

    ctx = dfx__plugin_ctx_open (error);
    if (ctx == NULL)
        return FALSE;

    status = dfx_ctx_device_info (ctx, dfx_ctx_device_index (ctx), &info);
    if (status != DFX_OK) {
        g_set_error (error, GIMP_PLUG_IN_ERROR, (gint)status, _ ("dfx could not describe its Vulkan device: %s"),
                     dfx_ctx_errmsg (ctx));
        dfx_ctx_destroy (ctx);
        return FALSE;
    }

    *name = g_strdup (info.name);
    *type = g_strdup (dfx_device_type_name (info.type));
    *driver = g_strdup (info.driver_name);
    dfx_ctx_destroy (ctx);
    return TRUE;
}

static GimpValueArray *
device_info_run (GimpProcedure *procedure, GimpProcedureConfig *config, gpointer run_data)
{
    GimpRunMode run_mode;
    GimpValueArray *values;
    GError *error = NULL;
    gchar *name = NULL, *type = NULL, *driver = NULL;

    g_object_get (config, "run-mode", &run_mode, NULL);

    if (!query_device (&name, &type, &driver, &error))
        return gimp_procedure_new_return_values (procedure, GIMP_PDB_EXECUTION_ERROR, error);

    if (run_mode == GIMP_RUN_INTERACTIVE) {
        gchar *text = g_strdup_printf (_ ("dfx computes on: %s\nDevice type: %s\nDriver: %s"), name, type, driver);
        /* Plain information: dfx's own dialog with an "i", not GIMP's
         * message box (a warning triangle); the message without a display. */
        if (dfx__ui_available (run_mode))
            dfx__ui_info_dialog (_ ("Device Info"), _ ("dfx is ready to compute"), text);
        else
            gimp_message (text);
        g_free (text);
    }

    values = gimp_procedure_new_return_values (procedure, GIMP_PDB_SUCCESS, NULL);
    GIMP_VALUES_TAKE_STRING (values, 1, name);
    GIMP_VALUES_TAKE_STRING (values, 2, type);
    GIMP_VALUES_TAKE_STRING (values, 3, driver);
    return values;
}

GimpProcedure *
dfx__proc_device_info_new (GimpPlugIn *plug_in)
{
    GimpProcedure *procedure;

    procedure =
        gimp_procedure_new (plug_in, DFX_PROC_DEVICE_INFO, GIMP_PDB_PROC_TYPE_PLUGIN, device_info_run, NULL, NULL);

    gimp_procedure_set_menu_label (procedure, _ ("Device _Info"));
    gimp_procedure_add_menu_path (procedure, DFX_MENU_PATH);
    /* Needs no image: available with or without one open. */
    gimp_procedure_set_sensitivity_mask (procedure, GIMP_PROCEDURE_SENSITIVE_ALWAYS);
    gimp_procedure_set_documentation (procedure, _ ("Show the Vulkan device dfx computes on"),
                                      _ ("Opens the Vulkan compute device that dfx would use for diffusion models "
                                         "and returns its name, type and driver. The device is chosen automatically "
                                         "(a discrete GPU first, then an integrated or virtual GPU, then a CPU "
                                         "device such as lavapipe) unless the environment variable DFX_DEVICE names "
                                         "one by index or by part of its name. Fails with an execution error that "
                                         "says why when no usable device exists."),
                                      DFX_PROC_DEVICE_INFO);
    gimp_procedure_set_attribution (procedure, "dfx authors", "dfx authors", "2026");

    /* A procedure made with gimp_procedure_new declares run-mode itself,
     * and it must be the first argument. */
    gimp_procedure_add_enum_argument (procedure, "run-mode", _ ("Run mode"), _ ("The run mode"), GIMP_TYPE_RUN_MODE,
                                      GIMP_RUN_INTERACTIVE, G_PARAM_READWRITE);

    gimp_procedure_add_string_return_value (procedure, "device-name", _ ("Device name"),
                                            _ ("Name of the Vulkan device, as its driver reports it"), NULL,
                                            G_PARAM_READWRITE);
    gimp_procedure_add_string_return_value (procedure, "device-type", _ ("Device type"),
                                            _ ("Kind of device: discrete GPU, integrated GPU, "
                                               "virtual GPU, CPU or other"),
                                            NULL, G_PARAM_READWRITE);
    gimp_procedure_add_string_return_value (procedure, "driver-name", _ ("Driver name"),
                                            _ ("Name of the Vulkan driver"), NULL, G_PARAM_READWRITE);
    return procedure;
}
