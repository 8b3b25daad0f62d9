/* ref-reduce.c — double-precision references of the reductions. */
#include "ref.h"

double
dfx_ref_dot (const float *a, const float *b, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += (double) a[i] * (double) b[i];
    return s;
}

double
dfx_ref_sumsq (const float *a, size_t n)
{
    return dfx_ref_dot (a, a, n);
}
