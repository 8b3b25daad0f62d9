/* check.h — the tiny assertion kit of dfx's C tests.
 *
 * CHECK records a failure with file:line and goes on; a test's main returns
 * check_exit(), which prints "N passed, N failed" and gives 0, 1, or 77
 * (skip) for meson.  No framework: tests are plain programs.
 */
#ifndef DFX_CHECK_H
#define DFX_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int check_passed, check_failed;

#define CHECK(cond, ...)                                                                                        \
    do {                                                                                                        \
        if (cond) {                                                                                             \
            check_passed++;                                                                                     \
        } else {                                                                                                \
            check_failed++;                                                                                     \
            fprintf (stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                                    \
            fprintf (stderr, __VA_ARGS__);                                                                      \
            fputc ('\n', stderr);                                                                               \
        }                                                                                                       \
    } while (0)

static inline int
check_exit (void)
{
    printf ("%d passed, %d failed\n", check_passed, check_failed);
    return check_failed ? 1 : (check_passed ? 0 : 77);
}

/* Deterministic xorshift64* generator: uniform floats in [lo, hi). */
typedef struct check_rng {
    uint64_t s;
} check_rng;

static inline float
check_uniform (check_rng *r, float lo, float hi)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    uint64_t v = r->s * 2685821657736338717ull;
    return lo + (hi - lo) * (float) ((v >> 40) * (1.0 / 16777216.0));
}

static inline void
check_fill (check_rng *r, float *x, size_t n, float lo, float hi)
{
    for (size_t i = 0; i < n; i++)
        x[i] = check_uniform (r, lo, hi);
}

#endif
