/* fuzz-safetensors.c — libFuzzer target of the safetensors reader.
 *
 * Each input is opened as a file image with dfx__st_open_memory().  Refused
 * inputs must name the file in the message; accepted ones must keep the
 * reader's promises: every tensor inside the buffer, found by its name,
 * float dtypes converting with their own shape, others refused, a wrong
 * shape or a missing name refused naming the file.  A broken
 * promise traps, which libFuzzer reports as a crash.
 */
#include "dfx-private.h"
#include "model/safetensors.h"

#include <stdlib.h>
#include <string.h>

#define LABEL "fuzz.safetensors"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static dfx_ctx *
offline_ctx (void)
{
    static dfx_ctx *ctx; /* one per process; LeakSanitizer sees it reachable */
    if (!ctx) {
        dfx_ctx_options opt;
        dfx_ctx_options_defaults (&opt);
        opt.offline = 1;
        if (dfx_ctx_create (&opt, &ctx) != DFX_OK)
            abort ();
    }
    return ctx;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    dfx_ctx *ctx = offline_ctx ();
    dfx__st_file *f = NULL;
    if (dfx__st_open_memory (ctx, data, size, LABEL, &f) != DFX_OK) {
        if (f || !strstr (dfx_ctx_errmsg (ctx), LABEL))
            __builtin_trap ();
        return 0;
    }
    const uint8_t *end = data + size;
    for (int i = 0; i < dfx__st_count (f); i++) {
        const dfx__st_tensor *t = dfx__st_at (f, i);
        const uint8_t *p = t->data;
        if (dfx__st_find (f, t->name) != t || p < data || p > end || t->nbytes > (size_t) (end - p))
            __builtin_trap ();
        if (i > 0 && (const uint8_t *) dfx__st_at (f, i - 1)->data > p)
            __builtin_trap ();
        size_t count = t->nbytes / dfx__dtype_size (t->dtype);
        float *dst = malloc ((count + 1) * sizeof *dst);
        if (!dst)
            abort ();
        dfx_status st = dfx__st_read_f32 (ctx, f, t->name, t->ndim, t->shape, dst);
        int is_float = t->dtype == DFX__DTYPE_F32 || t->dtype == DFX__DTYPE_F16 || t->dtype == DFX__DTYPE_BF16 ||
                       t->dtype == DFX__DTYPE_F64;
        if (st != (is_float ? DFX_OK : DFX_ERR_UNSUPPORTED))
            __builtin_trap ();
        /* A wrong extent or rank is refused before any conversion. */
        int64_t wrong[DFX__ST_MAX_DIMS + 1];
        memcpy (wrong, t->shape, sizeof t->shape);
        wrong[0] = t->ndim ? t->shape[0] + 1 : 1;
        if (dfx__st_read_f32 (ctx, f, t->name, t->ndim ? t->ndim : 1, wrong, dst) != DFX_ERR_FORMAT ||
            !strstr (dfx_ctx_errmsg (ctx), LABEL))
            __builtin_trap ();
        free (dst);
    }
    float one;
    const char *absent = "\x01 not a tensor";
    if (!dfx__st_find (f, absent) && dfx__st_read_f32 (ctx, f, absent, -1, NULL, &one) != DFX_ERR_FORMAT)
        __builtin_trap ();
    (void) dfx__st_metadata (f, "format");
    dfx__st_close (f);
    return 0;
}
