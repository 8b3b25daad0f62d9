/* model-private.h — what the algorithms of libdfx (likelihood, editing,
 * OCM sampling, diagnostics) reach inside a loaded model folder.  Everything
 * returned is borrowed: owned by the model and valid until it is destroyed. */
#ifndef DFX_MODEL_PRIVATE_H
#define DFX_MODEL_PRIVATE_H

#include "sample-private.h"
#include "../likelihood/likelihood-private.h"

/* dfx_model_load without reading gaussian/ (for dfx_prepare, which
 * replaces it and must not depend on a broken one). */
dfx_status dfx__model_load_bare (dfx_ctx *ctx, const char *dir, dfx_model **out);

dfx_ctx *dfx__model_ctx (const dfx_model *m);
const char *dfx__model_dir (const dfx_model *m);
/* The score network as the denoiser D(x̃; σ̃). */
dfx__denoiser *dfx__model_denoiser (dfx_model *m);
const dfx__schedule *dfx__model_schedule (const dfx_model *m);
/* NULL without gaussian/. */
const dfx__gauss_stats *dfx__model_gauss (const dfx_model *m);

/* x̂0 from the score network and m = E[x0⊙x0 | x̃] from the Fisher head
 * fisher/ at the same (α x̃, t(σ̃)); the head is loaded on the first call.
 * Without fisher/: DFX_ERR_UNSUPPORTED naming the folder and the command
 * that makes it.  m is not clamped: consumers clamp m ≥ x̂0⊙x̂0. */
dfx_status dfx__model_moments (dfx_model *m, dfx__moments **out);

/* Both networks' attention over the whole canvas (1) or in training-size
 * windows on larger canvases (0, the default; unet-private.h). */
void dfx__model_set_attention_global (dfx_model *m, int global);

#define DFX__MAKE_FISHER "python3 models/train_fisher.py"

#endif
