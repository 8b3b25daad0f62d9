/* skip.c — the Gaussian skip's device state: created per statistics
 * object, holding what the PCA (skip-pca.c) and spectral (skip-spectral.c)
 * closed forms upload and plan, lazily, per batch and canvas shape. */
#include "skip-private.h"

#include <math.h>

double
dfx__gauss_factor (double lambda, double sigma_from, double sigma_to)
{
    return sqrt ((lambda + sigma_to * sigma_to) / (lambda + sigma_from * sigma_from));
}

dfx_status
dfx__skip_create (dfx_ctx *ctx, const dfx__gauss_stats *g, dfx__skip **out)
{
    *out = calloc (1, sizeof **out);
    if (!*out)
        return dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (Gaussian skip)");
    (*out)->ctx = ctx;
    (*out)->g = g;
    return DFX_OK;
}

void
dfx__skip_pca_release (dfx__skip *s)
{
    dfx_buffer_destroy (s->ctx, s->y);
    dfx_buffer_destroy (s->ctx, s->p);
    dfx_buffer_destroy (s->ctx, s->wt);
    s->y = s->p = s->wt = NULL;
    s->pca_batch = 0;
}

void
dfx__skip_spectral_release (dfx__skip *s)
{
    dfx__fft_destroy (s->fft);
    dfx_buffer_destroy (s->ctx, s->z);
    dfx_buffer_destroy (s->ctx, s->amat);
    s->fft = NULL;
    s->z = s->amat = NULL;
    s->fb = s->fh = s->fw = 0;
    for (uint32_t i = 0; i < s->n_cov; i++)
        dfx_buffer_destroy (s->ctx, s->cov_amat[i]);
    s->n_cov = 0;
}

void
dfx__skip_destroy (dfx__skip *s)
{
    if (!s)
        return;
    dfx__skip_pca_release (s);
    dfx__skip_spectral_release (s);
    dfx_buffer_destroy (s->ctx, s->mean);
    dfx_buffer_destroy (s->ctx, s->comps);
    dfx_buffer_destroy (s->ctx, s->spec_mean);
    free (s);
}
