/* skip-private.h — the fields of dfx__skip, shared by skip.c, skip-pca.c and
 * skip-spectral.c only. */
#ifndef DFX_SKIP_PRIVATE_H
#define DFX_SKIP_PRIVATE_H

#include "sample-private.h"

struct dfx__skip {
    dfx_ctx *ctx;
    const dfx__gauss_stats *g;
    /* PCA: uploaded once. */
    dfx_buffer *mean;  /* d */
    dfx_buffer *comps; /* rank × d */
    /* PCA: per batch size. */
    dfx_buffer *y;     /* batch × d: x − μ, then the result − μ */
    dfx_buffer *p;     /* batch × rank: projections */
    dfx_buffer *wt;    /* batch × rank: factor of each component minus the residual's */
    uint32_t pca_batch;
    /* Spectral: the mean uploaded once; planes, matrices and plan per shape. */
    dfx_buffer *spec_mean; /* channels */
    dfx_buffer *z;         /* batch × channels × h × w complex */
    dfx_buffer *amat;      /* h × w × channels² complex */
    dfx__fft *fft;
    uint32_t fb, fh, fw;
};

void dfx__skip_pca_release (dfx__skip *s);
void dfx__skip_spectral_release (dfx__skip *s);

#endif
