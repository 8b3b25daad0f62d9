/* fuzz-torch.c — libFuzzer target of the PyTorch .bin reader: the zip
 * directory reader (compute/model/zip-read.c) and the state-dict unpickler
 * (compute/model/torch-pickle.c).
 *
 * Each input is opened as a file image with dfx__torch_open_memory(): a zip
 * archive as torch.save writes it, or (anything starting with a pickle
 * PROTO opcode) the legacy stream, which feeds the unpickler directly.
 * Refused inputs must name the file in the message and leave nothing open;
 * accepted ones must keep the reader's promises: every tensor inside the
 * buffer and found by its name, float dtypes converting with their own
 * shape.  A broken promise traps, which libFuzzer reports as a crash.  The
 * unpickler has no way to run code; what the fuzzer checks is that no input
 * makes it read or write out of bounds, leak, or loop.
 */
#include "dfx-private.h"
#include "model/torch-pickle.h"

#include <stdlib.h>
#include <string.h>

#define LABEL "fuzz.bin"

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
    if (dfx__torch_open_memory (ctx, data, size, LABEL, &f) != DFX_OK) {
        if (f || !strstr (dfx_ctx_errmsg (ctx), LABEL))
            __builtin_trap ();
        return 0;
    }
    const uint8_t *end = data + size;
    for (int i = 0; i < dfx__st_count (f); i++) {
        const dfx__st_tensor *t = dfx__st_at (f, i);
        const uint8_t *p = t->data;
        if (dfx__st_find (f, t->name) != t || !t->name[0])
            __builtin_trap ();
        if (t->nbytes && (p < data || p > end || t->nbytes > (size_t) (end - p)))
            __builtin_trap ();
        size_t es = dfx__dtype_size (t->dtype), count = 1;
        for (int d = 0; d < t->ndim; d++)
            count *= (size_t) t->shape[d];
        if (!es || count * es != t->nbytes)
            __builtin_trap ();
        int is_float = t->dtype == DFX__DTYPE_F32 || t->dtype == DFX__DTYPE_F16 || t->dtype == DFX__DTYPE_BF16 ||
                       t->dtype == DFX__DTYPE_F64;
        float *dst = malloc ((count + 1) * sizeof *dst);
        if (!dst)
            abort ();
        if (dfx__st_read_f32 (ctx, f, t->name, t->ndim, t->shape, dst) != (is_float ? DFX_OK : DFX_ERR_UNSUPPORTED))
            __builtin_trap ();
        free (dst);
    }
    dfx__st_close (f);
    return 0;
}
