/* skip-private.h — the fields of dfx__skip, shared by skip.c, skip-pca.c and
 * skip-spectral.c only. */
#ifndef DFX_SKIP_PRIVATE_H
#define DFX_SKIP_PRIVATE_H

#include "sample-private.h"

#define DFX__SKIP_COV_CACHE 64
#define DFX__SKIP_COV_CACHE_BYTES (128u << 20)

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
    /* Spectral covariance products: the matrices per σ̃ for this shape, kept (up to
     * DFX__SKIP_COV_CACHE_BYTES in all) since the edit's adjoint asks for the same N levels at every
     * iteration; computing them on the host is most of a product's time (3 channels, 64x64: ~4/5). */
    dfx_buffer *cov_amat[DFX__SKIP_COV_CACHE];
    double cov_sigma[DFX__SKIP_COV_CACHE];
    uint32_t n_cov;
};

void dfx__skip_pca_release (dfx__skip *s);
void dfx__skip_spectral_release (dfx__skip *s);

#endif
