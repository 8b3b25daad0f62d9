/* fuzz-safetensors.c — libFuzzer target of the safetensors reader.
 *
 * Each input is opened as a file image with dfx__st_open_memory().  Refused
 * inputs must name the file in the message; accepted ones must keep the
 * reader's promises: every tensor inside the buffer, found by its name,
 * float dtypes converting with their own shape, others refused, a wrong
 * shape or a missing name refused naming the file.  A broken
 * promise traps, which libFuzzer reports as a crash.
 */
#include "fuzz-common.h"

#define LABEL "fuzz.safetensors"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    dfx__st_file *f = fuzz_open (dfx__st_open_memory, data, size, LABEL);
    if (!f)
        return 0;
    dfx_ctx *ctx = fuzz_offline_ctx ();
    for (int i = 0; i < dfx__st_count (f); i++) {
        const dfx__st_tensor *t = dfx__st_at (f, i);
        fuzz_check_tensor_inside (f, t, data, size, 0);
        if (i > 0 && (const uint8_t *) dfx__st_at (f, i - 1)->data > (const uint8_t *) t->data)
            __builtin_trap ();
        float *dst = fuzz_check_read_f32 (ctx, f, t, t->nbytes / dfx__dtype_size (t->dtype));
        /* A wrong extent or rank is refused before any conversion. */
        int64_t wrong[DFX__ST_MAX_DIMS + 1];
        memcpy (wrong, t->shape, sizeof t->shape);
        wrong[0] = t->ndim ? t->shape[0] + 1 : 1;
        if (dfx__st_read_f32 (ctx, f, t->name, t->ndim ? t->ndim : 1, wrong, dst) != DFX_ERR_FORMAT)
            __builtin_trap ();
        fuzz_check_names (ctx, LABEL);
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
