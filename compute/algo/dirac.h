/* dirac.h — exact posterior quantities of a Dirac-mixture data set, in
 * double precision on the host (MATH.md "Identities", "Cheap exact test
 * cases").
 *
 * Data {y_i} (n points of dimension d, equal weights), forward process
 * x_t = α x0 + σ ε.  For a point x: posterior weights w_i, x̂0 = Σ w_i y_i,
 * C = Σ w_i y_i y_iᵀ − x̂0 x̂0ᵀ, score s = (α x̂0 − x)/σ², the diffusion
 * Fisher F = I/σ² − (α²/σ⁴) C and log q_t(x).  Small d only (d ≤ 64): these
 * are references and the engine of the OT check, not production kernels.
 */
#ifndef DFX_DIRAC_H
#define DFX_DIRAC_H

#include <stddef.h>

#define DFX__DIRAC_MAX_DIM 64

typedef struct dfx__dirac {
    int n, d;
    const double *y; /* n × d, row-major */
} dfx__dirac;

/* Fills x0hat (d), and when not NULL: C (d × d), F (d × d), score (d).
 * work holds n doubles.  Returns log q_t(x). */
double dfx__dirac_posterior (const dfx__dirac *m, const double *x, double alpha, double sigma, double *work,
                             double *x0hat, double *C, double *F, double *score);

#endif
