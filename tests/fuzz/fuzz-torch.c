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
#include "fuzz-common.h"
#include "model/torch-pickle.h"

#define LABEL "fuzz.bin"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    dfx__st_file *f = fuzz_open (dfx__torch_open_memory, data, size, LABEL);
    if (!f)
        return 0;
    dfx_ctx *ctx = fuzz_offline_ctx ();
    for (int i = 0; i < dfx__st_count (f); i++) {
        const dfx__st_tensor *t = dfx__st_at (f, i);
        if (!t->name[0])
            __builtin_trap ();
        fuzz_check_tensor_inside (f, t, data, size, 1);
        size_t es = dfx__dtype_size (t->dtype), count = 1;
        for (int d = 0; d < t->ndim; d++)
            count *= (size_t) t->shape[d];
        if (!es || count * es != t->nbytes)
            __builtin_trap ();
        free (fuzz_check_read_f32 (ctx, f, t, count));
    }
    dfx__st_close (f);
    return 0;
}
