/* diagnose-model.c — dfx_diagnose: the diagnostics core (diagnose.c) on a
 * loaded model, its score network and Fisher head as the posterior moments
 * and its denoiser for the F v products.  Checks the data's shape; the
 * front end reads the images. */
#include "diagnose.h"
#include "../sample/model-private.h"

#include <math.h>

dfx_status
dfx_diagnose (dfx_model *m, const dfx_diagnose_params *p, const float *data, uint32_t n, uint32_t h, uint32_t w,
              dfx_diagnose_row *rows)
{
    dfx_ctx *ctx = dfx__model_ctx (m);
    dfx_model_info mi;
    dfx_model_get_info (m, &mi);
    const uint32_t mult = mi.size_multiple ? mi.size_multiple : 1;
    if (!data || n == 0 || !h || !w || h % mult || w % mult || h > DFX_GENERATE_MAX_SIZE || w > DFX_GENERATE_MAX_SIZE)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT,
                           "diagnose: %u images of %ux%u; the model takes sizes that are multiples of %u", n, w, h,
                           mult);
    if (p->n_sigmas < 1 || p->n_sigmas > DFX_DIAGNOSE_MAX_SIGMAS || p->probes < 1 || p->probes > 64 ||
        p->batch < 1 || (unsigned) p->fir > DFX_FIR_DFEA)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT,
                           "diagnose: %u levels (1..%d), %u probes (1..64), batch %u, FIR method %d", p->n_sigmas,
                           DFX_DIAGNOSE_MAX_SIGMAS, p->probes, p->batch, (int) p->fir);
    dfx__moments *mo = NULL;
    dfx_status st = dfx__model_moments (m, &mo);
    if (st != DFX_OK)
        return st;
    double grid[DFX_DIAGNOSE_MAX_SIGMAS];
    const double *sig = p->sigmas;
    if (!sig) {
        /* log-spaced over the model's σ̃ range */
        const double lo = log (mi.sigma_min), hi = log (mi.sigma_max);
        for (uint32_t j = 0; j < p->n_sigmas; j++)
            grid[j] = exp (p->n_sigmas == 1 ? hi : lo + (hi - lo) * j / (p->n_sigmas - 1));
        sig = grid;
    }
    dfx__diag_desc d = {
        .mo = mo,
        .h = h,
        .w = w,
        .data = data,
        .n = n,
        .sigmas = sig,
        .n_sigmas = p->n_sigmas,
        .probes = p->probes,
        .batch = p->batch,
        .seed = p->seed,
        .cmax = 1.0, /* [−1, 1] data */
        .den = p->fir == DFX_FIR_JVP ? dfx__model_denoiser (m) : NULL,
        .progress = p->progress,
        .progress_user = p->progress_user,
    };
    return dfx__diagnose (&d, rows);
}
