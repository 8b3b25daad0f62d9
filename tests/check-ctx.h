/* check-ctx.h — the context a device test's main() opens, in one place.
 *
 * check_ctx_open() makes a context with the default options (so
 * DFX_DEVICE and the pipeline cache behave as for users) and turns "no
 * Vulkan device" into meson's skip.  Tests that need special options or an
 * offline context open their own.
 */
#ifndef DFX_CHECK_CTX_H
#define DFX_CHECK_CTX_H

#include "check.h"
#include "dfx.h"

#include <stdlib.h>

/* A context with dfx_ctx_options_defaults() (destroy it with
 * dfx_ctx_destroy()).  When there is none, the test ends here: exit status
 * 77 (skip, after printing "SKIP: " and the reason) without a device, or
 * check_exit()'s failure (recorded as a failed CHECK) for any other reason.
 * For main() only. */
static inline dfx_ctx *
check_ctx_open (void)
{
    dfx_ctx_options opt;
    dfx_ctx_options_defaults (&opt);
    dfx_ctx *ctx = NULL;
    dfx_status st = dfx_ctx_create (&opt, &ctx);
    if (st == DFX_OK)
        return ctx;
    int rc = 77;
    if (st == DFX_ERR_NO_DEVICE) {
        printf ("SKIP: %s\n", dfx_ctx_errmsg (ctx));
    } else {
        CHECK (st == DFX_OK, "context: %s", dfx_ctx_errmsg (ctx));
        rc = check_exit ();
    }
    dfx_ctx_destroy (ctx);
    exit (rc);
}

#endif
