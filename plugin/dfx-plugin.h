/* dfx-plugin.h — declarations shared by the files of the dfx GIMP plug-in.
 *
 * For: the gettext setup (_() and N_() in the plug-in's own domain "dfx"),
 * the PDB names of dfx's procedures, the constructor of each procedure and
 * the helper that opens a libdfx context at the GIMP boundary.
 * Not for: anything numeric or Vulkan-related (that is libdfx, dfx.h), nor
 * GTK dialogs (ui/).
 */
#ifndef DFX_PLUGIN_H
#define DFX_PLUGIN_H

#include <libgimp/gimp.h>

#include "dfx.h"

/* The plug-in's gettext domain; meson passes GETTEXT_PACKAGE="dfx" so that
 * _() is dgettext ("dfx", ...) whatever textdomain() is current. */
#ifndef GETTEXT_PACKAGE
#error "GETTEXT_PACKAGE must be defined (plugin/meson.build passes it)"
#endif
#include <glib/gi18n-lib.h>

#define DFX_PROC_DEVICE_INFO "plug-in-dfx-device-info"

/* Menu folder of every dfx procedure that has a menu entry. */
#define DFX_MENU_PATH "<Image>/Filters/Diffusion"

/* Builds the "plug-in-dfx-device-info" procedure (proc-device-info.c).
 * Returns: a new reference, owned by the caller (GIMP takes it from
 * create_procedure). */
GimpProcedure *dfx__proc_device_info_new (GimpPlugIn *plug_in);

/* Opens a libdfx context with the default options (so $DFX_DEVICE applies)
 * (plugin-ctx.c).  On success returns the context, to be freed with
 * dfx_ctx_destroy().  On failure returns NULL and sets *error in the
 * GIMP_PLUG_IN_ERROR domain, code = the dfx_status, with a translated
 * message that contains libdfx's own message. */
dfx_ctx *dfx__plugin_ctx_open (GError **error);

#endif /* DFX_PLUGIN_H */
