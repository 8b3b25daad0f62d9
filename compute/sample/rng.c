/* rng.c — the counter-based noise of generation: Philox4x32-10 and
 * Box–Muller, on the host.
 *
 * Element i of image `index` comes from counter (i / 4, index, 0, stream)
 * under key (seed low, seed high): no state, so image k's noise does not
 * depend on how many images share the batch, and any element can be drawn on
 * its own.  Stream 0 is the starting noise of generation; the stochastic
 * samplers draw step j's noise from stream j + 1.
 * Four uniforms make two Box–Muller pairs, i.e. four normals per counter.
 */
#include "sample-private.h"

#include <math.h>

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

static inline void
mulhilo (uint32_t a, uint32_t b, uint32_t *hi, uint32_t *lo)
{
    uint64_t p = (uint64_t) a * b;
    *hi = (uint32_t) (p >> 32);
    *lo = (uint32_t) p;
}

void
dfx__philox4x32 (const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4])
{
    uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3], k0 = key[0], k1 = key[1];
    for (int round = 0; round < 10; round++) {
        uint32_t hi0, lo0, hi1, lo1;
        mulhilo (PHILOX_M0, c0, &hi0, &lo0);
        mulhilo (PHILOX_M1, c2, &hi1, &lo1);
        uint32_t n0 = hi1 ^ c1 ^ k0, n1 = lo1, n2 = hi0 ^ c3 ^ k1, n3 = lo0;
        c0 = n0, c1 = n1, c2 = n2, c3 = n3;
        k0 += PHILOX_W0, k1 += PHILOX_W1;
    }
    out[0] = c0, out[1] = c1, out[2] = c2, out[3] = c3;
}

void
dfx__noise_stream (uint64_t seed, uint32_t index, uint32_t stream, size_t n, float *out)
{
    const uint32_t key[2] = {(uint32_t) seed, (uint32_t) (seed >> 32)};
    for (size_t i = 0; i < n; i += 4) {
        const uint32_t ctr[4] = {(uint32_t) (i / 4), index, (uint32_t) ((uint64_t) (i / 4) >> 32), stream};
        uint32_t u[4];
        dfx__philox4x32 (ctr, key, u);
        double z[4];
        for (int p = 0; p < 2; p++) {
            /* u1 in (0, 1] keeps the logarithm finite; u2 in [0, 1). */
            double u1 = ((double) u[2 * p] + 1.0) * (1.0 / 4294967296.0);
            double u2 = (double) u[2 * p + 1] * (1.0 / 4294967296.0);
            double r = sqrt (-2.0 * log (u1)), a = 6.283185307179586 * u2;
            z[2 * p] = r * cos (a);
            z[2 * p + 1] = r * sin (a);
        }
        for (size_t j = 0; j < 4 && i + j < n; j++)
            out[i + j] = (float) z[j];
    }
}

void
dfx_generate_noise (uint64_t seed, uint32_t index, uint32_t channels, uint32_t height, uint32_t width, float *out)
{
    dfx__noise_stream (seed, index, 0, (size_t) channels * height * width, out);
}
