/* test-device.c — the device layer's error paths and plumbing: a device
 * that does not exist, an impossible buffer, a missing shader, out-of-range
 * copies, and the pipeline cache written to and read back from disk.  Each
 * failure must be a status with a message naming what failed, never a crash. */
#include "check.h"
#include "dfx-private.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static dfx_ctx *
open_ctx (const char *device, const char *cache_dir, dfx_status *st)
{
    dfx_ctx_options opt;
    dfx_ctx_options_defaults (&opt);
    opt.device = device;
    opt.pipeline_cache_dir = cache_dir;
    dfx_ctx *ctx = NULL;
    *st = dfx_ctx_create (&opt, &ctx);
    return ctx;
}

int
main (void)
{
    dfx_status st;
    char dir[] = "/tmp/dfx-test-cache-XXXXXX";
    CHECK (mkdtemp (dir) != NULL, "mkdtemp");
    dfx_ctx *ctx = open_ctx (NULL, dir, &st);
    if (st == DFX_ERR_NO_DEVICE) {
        printf ("SKIP: %s\n", dfx_ctx_errmsg (ctx));
        dfx_ctx_destroy (ctx);
        return 77;
    }
    CHECK (st == DFX_OK, "%s", dfx_ctx_errmsg (ctx));

    /* A device name that matches nothing. */
    dfx_ctx *bad = open_ctx ("nonexistent", "", &st);
    CHECK (st == DFX_ERR_NO_DEVICE, "got %s", dfx_status_name (st));
    CHECK (bad && strstr (dfx_ctx_errmsg (bad), "DFX_DEVICE=nonexistent"), "message: %s", dfx_ctx_errmsg (bad));
    CHECK (dfx_ctx_device_count (bad) >= 1, "devices still listed");
    dfx_ctx_destroy (bad);
    bad = open_ctx ("99", "", &st);
    CHECK (st == DFX_ERR_NO_DEVICE && strstr (dfx_ctx_errmsg (bad), "DFX_DEVICE=99"), "%s", dfx_ctx_errmsg (bad));
    dfx_ctx_destroy (bad);
    /* Selecting by index and by (partial, any-case) name gives the same device. */
    dfx_device_info info;
    CHECK (dfx_ctx_device_info (ctx, dfx_ctx_device_index (ctx), &info) == DFX_OK, "info");
    char idx[16];
    snprintf (idx, sizeof idx, "%d", dfx_ctx_device_index (ctx));
    bad = open_ctx (idx, "", &st);
    CHECK (st == DFX_OK && dfx_ctx_device_index (bad) == dfx_ctx_device_index (ctx), "by index: %s",
           dfx_ctx_errmsg (bad));
    dfx_ctx_destroy (bad);
    char part[8] = {0};
    for (int i = 0; i < 4 && info.name[i]; i++)
        part[i] = (char) (info.name[i] ^ ((info.name[i] >= 'a' && info.name[i] <= 'z') ? 0x20 : 0));
    bad = open_ctx (part, "", &st);
    CHECK (st == DFX_OK, "by name '%s': %s", part, dfx_ctx_errmsg (bad));
    dfx_ctx_destroy (bad);
    CHECK (dfx_ctx_device_info (ctx, 1000, &info) == DFX_ERR_INVALID_ARGUMENT, "index out of range");

    /* An absurd buffer: out of device memory, with the size in the message. */
    dfx_buffer *huge = NULL;
    st = dfx_buffer_create (ctx, (size_t) 1 << 50, &huge);
    CHECK (st == DFX_ERR_OUT_OF_DEVICE_MEMORY && huge == NULL, "got %s", dfx_status_name (st));
    CHECK (strstr (dfx_ctx_errmsg (ctx), "1125899906842624") != NULL, "message: %s", dfx_ctx_errmsg (ctx));
    CHECK (dfx_buffer_create (ctx, 0, &huge) == DFX_ERR_INVALID_ARGUMENT, "zero-size buffer");

    /* Copies outside the buffer. */
    dfx_buffer *b = NULL;
    float x[4] = {1, 2, 3, 4};
    CHECK (dfx_buffer_create (ctx, sizeof x, &b) == DFX_OK, "%s", dfx_ctx_errmsg (ctx));
    CHECK (dfx_buffer_upload (ctx, b, 0, x, sizeof x) == DFX_OK, "%s", dfx_ctx_errmsg (ctx));
    CHECK (dfx_buffer_upload (ctx, b, 8, x, sizeof x) == DFX_ERR_INVALID_ARGUMENT, "upload past the end");
    CHECK (strstr (dfx_ctx_errmsg (ctx), "outside the buffer"), "%s", dfx_ctx_errmsg (ctx));
    CHECK (dfx_buffer_download (ctx, b, (size_t) -1, x, 2) == DFX_ERR_INVALID_ARGUMENT, "download overflow");
    /* Ops refuse buffers too small for n. */
    CHECK (dfx_op_add (ctx, b, b, b, 5) == DFX_ERR_INVALID_ARGUMENT, "add n > size");
    CHECK (strstr (dfx_ctx_errmsg (ctx), "4 floats, 5 needed"), "%s", dfx_ctx_errmsg (ctx));

    /* A shader that is not embedded. */
    dfx__dispatch_desc d = {.shader = "no-such-op", .n_bufs = 1, .bufs = {b}, .groups = {1, 1, 1}};
    st = dfx__dispatch (ctx, &d);
    CHECK (st == DFX_ERR_SHADER && strstr (dfx_ctx_errmsg (ctx), "'no-such-op'"), "%s: %s", dfx_status_name (st),
           dfx_ctx_errmsg (ctx));
    /* A dispatch binding the wrong number of buffers. */
    d.shader = "add";
    d.spec[0] = 64, d.n_spec = 1;
    st = dfx__dispatch (ctx, &d);
    CHECK (st == DFX_ERR_INVALID_ARGUMENT && strstr (dfx_ctx_errmsg (ctx), "declares 3"), "%s", dfx_ctx_errmsg (ctx));

    /* The context still works after all those errors. */
    CHECK (dfx_op_scale (ctx, b, 2.0f, b, 4) == DFX_OK, "%s", dfx_ctx_errmsg (ctx));
    CHECK (dfx_buffer_download (ctx, b, 0, x, sizeof x) == DFX_OK && x[3] == 8.0f, "x[3] = %g", x[3]);
    dfx_buffer_destroy (ctx, b);
    dfx_buffer_destroy (ctx, NULL);
    dfx_ctx_destroy (ctx);

    /* The pipeline cache was saved and a second context loads it. */
    char cmd[256];
    snprintf (cmd, sizeof cmd, "ls %s/pipelines-*.bin >/dev/null 2>&1", dir);
    CHECK (system (cmd) == 0, "no pipeline cache file in %s", dir);
    ctx = open_ctx (NULL, dir, &st);
    CHECK (st == DFX_OK, "reopen with cache: %s", dfx_ctx_errmsg (ctx));
    dfx_ctx_destroy (ctx);
    /* A corrupt cache file is ignored, not fatal. */
    snprintf (cmd, sizeof cmd, "for f in %s/pipelines-*.bin; do head -c 100 /dev/urandom > $f; done", dir);
    CHECK (system (cmd) == 0, "corrupt the cache");
    ctx = open_ctx (NULL, dir, &st);
    CHECK (st == DFX_OK, "corrupt cache: %s", dfx_ctx_errmsg (ctx));
    dfx_ctx_destroy (ctx);
    snprintf (cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK (system (cmd) == 0, "cleanup");
    dfx_ctx_destroy (NULL);
    return check_exit ();
}
