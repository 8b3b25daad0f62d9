/* check-ctx.h — the context a device test's main() opens, in one place.
 *
 * check_ctx_create() makes a context with the default options (so
 * DFX_DEVICE and the pipeline cache behave as for users) and turns "no
 * Vulkan device" into meson's skip.  Tests that need special options or an
 * offline context open their own.
 */
#ifndef DFX_CHECK_CTX_H
#define DFX_CHECK_CTX_H

#include "check.h"
#include "dfx.h"

/* Creates a context with dfx_ctx_options_defaults() into *ctx (destroy it
 * with dfx_ctx_destroy()).  Returns 0 when it is ready; otherwise *ctx is
 * NULL and the return value is main()'s exit code: 77 (skip, after printing
 * "SKIP: " and the reason) when there is no device, check_exit()'s failure
 * when creation failed for another reason (recorded as a failed CHECK). */
static inline int
check_ctx_create (dfx_ctx **ctx)
{
    dfx_ctx_options opt;
    dfx_ctx_options_defaults (&opt);
    *ctx = NULL;
    dfx_status st = dfx_ctx_create (&opt, ctx);
    if (st == DFX_OK)
        return 0;
    int rc = 77;
    if (st == DFX_ERR_NO_DEVICE) {
        printf ("SKIP: %s\n", dfx_ctx_errmsg (*ctx));
    } else {
        CHECK (st == DFX_OK, "context: %s", dfx_ctx_errmsg (*ctx));
        rc = check_exit ();
    }
    dfx_ctx_destroy (*ctx);
    *ctx = NULL;
    return rc;
}

#endif
