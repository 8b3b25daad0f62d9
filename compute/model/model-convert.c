/* model-convert.c — dfx_model_convert(): a model's torch.save weights
 * rewritten as one safetensors file beside them, byte for byte (each tensor
 * keeps its dtype), so that later loads map the file instead of parsing a
 * pickle.  The loader prefers the .safetensors name, so the next load uses
 * it.  Nothing here runs on the device.
 */
#include "model-files.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

dfx_status
dfx_model_convert (dfx_ctx *ctx, const char *model_dir, char **written)
{
    dfx__model_files *mf = NULL;
    dfx__st_file **files = NULL;
    dfx__st_out *outs = NULL;
    char *path = NULL;
    dfx_status st;
    *written = NULL;
    DFX_CHECK (dfx__model_files_find (ctx, model_dir, "unet", ctx->model_variant, &mf));
    if (!dfx__model_files_is_torch (mf->files[0]))
        goto cleanup; /* already safetensors */
    DFX_CHECK (dfx__model_files_open (ctx, mf, &files));
    int n = 0;
    for (int k = 0; k < mf->n_files; k++)
        n += dfx__st_count (files[k]);
    outs = calloc ((size_t) n + 1, sizeof *outs);
    size_t len = strlen (mf->folder) + (mf->variant ? strlen (mf->variant) : 0) + 64;
    path = malloc (len);
    if (!outs || !path) {
        st = dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory converting %s", mf->weights);
        goto cleanup;
    }
    snprintf (path, len, "%s/diffusion_pytorch_model%s%s.safetensors", mf->folder, mf->variant ? "." : "",
              mf->variant ? mf->variant : "");
    int at = 0;
    for (int k = 0; k < mf->n_files; k++)
        for (int i = 0; i < dfx__st_count (files[k]); i++) {
            const dfx__st_tensor *t = dfx__st_at (files[k], i);
            dfx__st_out *o = &outs[at++];
            o->name = t->name;
            o->ndim = t->ndim;
            memcpy (o->shape, t->shape, sizeof o->shape);
            o->raw = t->nbytes ? t->data : (const void *) "";
            o->dtype = t->dtype;
        }
    DFX_CHECK (dfx__st_write_f32 (ctx, path, outs, n));
    *written = path;
    path = NULL;
cleanup:
    free (path);
    free (outs);
    if (files)
        for (int k = 0; k < mf->n_files; k++)
            dfx__st_close (files[k]);
    free (files);
    dfx__model_files_free (mf);
    return st;
}
