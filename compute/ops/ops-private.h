/* ops-private.h — helpers shared by the op wrappers in compute/ops/.
 *
 * An op validates its arguments, fills a push-constant struct mirroring its
 * shader's block and records one dispatch through dfx__dispatch.
 */
#ifndef DFX_OPS_PRIVATE_H
#define DFX_OPS_PRIVATE_H

#include "../dfx-private.h"

#define DFX__LOCAL_1D 256u

/* Push block of the 1-D elementwise shaders: { uint n; float alpha; }. */
typedef struct dfx__push_n_alpha {
    uint32_t n;
    float alpha;
} dfx__push_n_alpha;
_Static_assert (sizeof (dfx__push_n_alpha) == 8, "mirrors `Push { uint n; float alpha; }`");

/* Checks that every buffer holds n floats and n fits the kernels' uint. */
dfx_status dfx__check_vectors (dfx_ctx *ctx, const char *op, size_t n, dfx_buffer *const *bufs, int n_bufs);

/* Records a 1-D grid-stride elementwise dispatch of `shader`; binding 0 is
 * written (and read when read_out), the others are read. */
dfx_status dfx__eltwise (dfx_ctx *ctx, const char *shader, dfx_buffer *const *bufs, uint32_t n_bufs, size_t n,
                         float alpha);

#endif
