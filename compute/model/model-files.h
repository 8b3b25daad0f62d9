/* model-files.h — where a model folder keeps its network, its weights and
 * its schedule, in the layouts diffusers writes, internal to libdfx.
 *
 * Layouts of a model folder DIR (network "unet"):
 *   - DIR/model_index.json (a pipeline): the UNet2DModel component's folder
 *     (normally DIR/unet) and the scheduler's (DIR/scheduler); when that
 *     folder has no config.json but DIR has one (early hub repositories),
 *     the single-model layout below;
 *   - DIR/unet/config.json without model_index.json (dfx's own models);
 *   - DIR/config.json (the older single-model layout): the network at the
 *     root, with scheduler_config.json beside it (else DIR/scheduler/).
 * Weights in the network's folder, first found of: NAME.safetensors,
 * NAME.safetensors.index.json (shards), NAME.bin (torch.save), then
 * NAME.bin.index.json, with NAME = diffusion_pytorch_model; a variant V
 * (diffusers' `variant`, e.g. "fp16") names NAME.V.safetensors,
 * NAME.safetensors.index.V.json, NAME.V.bin, NAME.bin.index.V.json.  With no
 * variant asked for, the plain names come first; when there are none and
 * the folder has exactly one variant, that one is used; several are a
 * refusal that lists them.  The autoencoder (part "vae") lives in DIR/vae/
 * with the same weight names and variants; dfx's other networks (part
 * "fisher") live in DIR/PART/ with plain names.
 *
 * No weights are read here except through dfx__model_files_open().
 */
#ifndef DFX_MODEL_FILES_H
#define DFX_MODEL_FILES_H

#include "safetensors.h"

typedef struct dfx__model_files {
    char *folder;      /* the network's folder */
    char *config;      /* its config.json */
    char *scheduler;   /* the scheduler_config.json to read (need not exist) */
    char *weights;     /* the weights file, or the index of a sharded set */
    char *variant;     /* the variant used; NULL: the plain names */
    int n_files;
    char **files;      /* the files to read: weights itself or the index's shards */
    int n_map;         /* sharded: the index's weight_map (tensor → files[map_file[i]]) */
    char **map_names;
    int *map_file;
} dfx__model_files;

/* Resolves the files of network part ("unet" or "fisher") of the model
 * folder dir, with variant (NULL or "": the default rule above).  Refusals
 * (DFX_ERR_IO for missing files, DFX_ERR_FORMAT for a malformed
 * model_index.json or index, DFX_ERR_UNSUPPORTED for a pipeline without a
 * UNet2DModel) name the file and what was expected.  Ownership: *out (NULL on
 * failure) is freed with dfx__model_files_free(). */
dfx_status dfx__model_files_find (dfx_ctx *ctx, const char *dir, const char *part, const char *variant,
                                  dfx__model_files **out);

void dfx__model_files_free (dfx__model_files *m);

/* Opens every weights file (safetensors memory-mapped, .bin through the
 * torch.save reader) into (*files)[0 .. n_files-1] and checks a sharded
 * set's weight_map against the shards.  Ownership: close each with
 * dfx__st_close() and free the array with free(); on failure nothing is
 * left open. */
dfx_status dfx__model_files_open (dfx_ctx *ctx, const dfx__model_files *m, dfx__st_file ***files);

/* 1 when path names a .bin file (torch.save format). */
int dfx__model_files_is_torch (const char *path);

#endif /* DFX_MODEL_FILES_H */
