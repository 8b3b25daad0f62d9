/* tensor-file.c — the public one-tensor read/write of safetensors files,
 * for the front ends (the CLI's `unet` and `likelihood --map`). */
#include "safetensors.h"

#include <stdlib.h>
#include <string.h>

void
dfx_free (void *p)
{
    free (p);
}

dfx_status
dfx_tensor_read (dfx_ctx *ctx, const char *path, const char *name, int *ndim, int64_t shape[8], float **data)
{
    dfx__st_file *f = NULL;
    *data = NULL;
    dfx_status st = dfx__st_open (ctx, path, &f);
    if (st != DFX_OK)
        return st;
    const dfx__st_tensor *t = dfx__st_find (f, name);
    if (!t) {
        st = dfx__error (ctx, DFX_ERR_FORMAT, "tensor '%s' is missing from %s", name, path);
        goto cleanup;
    }
    size_t count = 1;
    for (int i = 0; i < t->ndim; i++)
        count *= (size_t) t->shape[i];
    *ndim = t->ndim;
    memset (shape, 0, 8 * sizeof *shape);
    memcpy (shape, t->shape, (size_t) t->ndim * sizeof *shape);
    *data = malloc ((count ? count : 1) * sizeof (float));
    if (!*data) {
        st = dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory reading '%s' of %s", name, path);
        goto cleanup;
    }
    st = dfx__st_read_f32 (ctx, f, name, -1, NULL, *data);
    if (st != DFX_OK) {
        free (*data);
        *data = NULL;
    }
cleanup:
    dfx__st_close (f);
    return st;
}

dfx_status
dfx_tensor_write (dfx_ctx *ctx, const char *path, const char *name, int ndim, const int64_t *shape, const float *data)
{
    if (ndim < 0 || ndim > DFX__ST_MAX_DIMS)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "tensor '%s': %d dimensions", name, ndim);
    dfx__st_out t = {.name = name, .ndim = ndim, .data = data};
    memcpy (t.shape, shape, (size_t) ndim * sizeof *shape);
    return dfx__st_write_f32 (ctx, path, &t, 1);
}
