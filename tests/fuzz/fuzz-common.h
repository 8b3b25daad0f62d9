/* fuzz-common.h — what the libFuzzer targets in tests/fuzz share: the one
 * offline context a fuzzer process keeps, the check that a refusal names
 * the file, and the checks every tensor a reader accepted must pass (it
 * lies inside the input, its name finds it, it converts to f32 exactly when
 * its dtype is a float one).  A broken promise traps, which libFuzzer
 * reports as a crash.  Header-only, because each target is its own program;
 * it holds no parser-specific promise (those stay in the targets).
 */
#ifndef DFX_FUZZ_COMMON_H
#define DFX_FUZZ_COMMON_H

#include "dfx-private.h"
#include "model/safetensors.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* The context the fuzzer opens files on: offline (no Vulkan device), one
 * per process, created on first use and never destroyed (LeakSanitizer sees
 * it reachable).  Aborts if it cannot be created: nothing can be fuzzed. */
static inline dfx_ctx *
fuzz_offline_ctx (void)
{
    static dfx_ctx *ctx;
    if (!ctx) {
        dfx_ctx_options opt;
        dfx_ctx_options_defaults (&opt);
        opt.offline = 1;
        if (dfx_ctx_create (&opt, &ctx) != DFX_OK)
            abort ();
    }
    return ctx;
}

/* Traps unless the last refusal's message names the file label. */
static inline void
fuzz_check_names (dfx_ctx *ctx, const char *label)
{
    if (!strstr (dfx_ctx_errmsg (ctx), label))
        __builtin_trap ();
}

/* Opens the input with opener (dfx__st_open_memory or dfx__torch_open_memory)
 * on the fuzzer's context.  Returns the file (dfx__st_close() it), or NULL
 * for a refusal, after trapping unless the refusal named the label and left
 * nothing open. */
static inline dfx__st_file *
fuzz_open (dfx_status (*opener) (dfx_ctx *, const void *, size_t, const char *, dfx__st_file **), const uint8_t *data,
           size_t size, const char *label)
{
    dfx_ctx *ctx = fuzz_offline_ctx ();
    dfx__st_file *f = NULL;
    if (opener (ctx, data, size, label, &f) == DFX_OK)
        return f;
    if (f)
        __builtin_trap ();
    fuzz_check_names (ctx, label);
    return NULL;
}

/* Traps unless t's name finds it in f and its bytes lie inside
 * [data, data + size); with empty_anywhere set, a tensor of zero bytes may
 * point anywhere (a torch storage of size 0 has no place in the file). */
static inline void
fuzz_check_tensor_inside (const dfx__st_file *f, const dfx__st_tensor *t, const uint8_t *data, size_t size,
                          int empty_anywhere)
{
    const uint8_t *p = t->data, *end = data + size;
    if (dfx__st_find (f, t->name) != t)
        __builtin_trap ();
    if ((t->nbytes || !empty_anywhere) && (p < data || p > end || t->nbytes > (size_t) (end - p)))
        __builtin_trap ();
}

/* Reads t (count elements) as f32 with its own shape and traps unless that
 * succeeds for F32/F16/BF16/F64 and is refused as unsupported for any other
 * dtype.  Returns the buffer of count + 1 floats (free() it). */
static inline float *
fuzz_check_read_f32 (dfx_ctx *ctx, dfx__st_file *f, const dfx__st_tensor *t, size_t count)
{
    float *dst = malloc ((count + 1) * sizeof *dst);
    if (!dst)
        abort ();
    int is_float = t->dtype == DFX__DTYPE_F32 || t->dtype == DFX__DTYPE_F16 || t->dtype == DFX__DTYPE_BF16 ||
                   t->dtype == DFX__DTYPE_F64;
    if (dfx__st_read_f32 (ctx, f, t->name, t->ndim, t->shape, dst) != (is_float ? DFX_OK : DFX_ERR_UNSUPPORTED))
        __builtin_trap ();
    return dst;
}

#endif
