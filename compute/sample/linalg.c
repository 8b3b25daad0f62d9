/* linalg.c — the small dense linear algebra of the sampling core: the
 * cyclic Jacobi eigensolver for real symmetric matrices (host double).  Used
 * per frequency bin by the spectral skip (Hermitian c × c matrices through
 * their real 2c × 2c embedding) and by the analytic references.  Sizes up to
 * a few hundred; not a LAPACK replacement. */
#include "sample-private.h"

#include <math.h>
#include <string.h>

void
dfx__eigh (int n, double *a, double *vals, double *vecs)
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            vecs[i * n + j] = i == j;
    for (int sweep = 0; sweep < 100; sweep++) {
        double off = 0.0, diag = 0.0;
        for (int i = 0; i < n; i++) {
            diag += a[i * n + i] * a[i * n + i];
            for (int j = i + 1; j < n; j++)
                off += a[i * n + j] * a[i * n + j];
        }
        if (off <= 1e-30 * diag || off == 0.0)
            break;
        for (int p = 0; p < n; p++)
            for (int q = p + 1; q < n; q++) {
                double apq = a[p * n + q];
                if (apq == 0.0)
                    continue;
                double theta = (a[q * n + q] - a[p * n + p]) / (2.0 * apq);
                double t = (theta >= 0 ? 1.0 : -1.0) / (fabs (theta) + sqrt (theta * theta + 1.0));
                double c = 1.0 / sqrt (t * t + 1.0), s = t * c;
                /* A ← Jᵀ A J on rows/columns p and q. */
                for (int k = 0; k < n; k++) {
                    double akp = a[k * n + p], akq = a[k * n + q];
                    a[k * n + p] = c * akp - s * akq;
                    a[k * n + q] = s * akp + c * akq;
                }
                for (int k = 0; k < n; k++) {
                    double apk = a[p * n + k], aqk = a[q * n + k];
                    a[p * n + k] = c * apk - s * aqk;
                    a[q * n + k] = s * apk + c * aqk;
                }
                for (int k = 0; k < n; k++) {
                    double vkp = vecs[k * n + p], vkq = vecs[k * n + q];
                    vecs[k * n + p] = c * vkp - s * vkq;
                    vecs[k * n + q] = s * vkp + c * vkq;
                }
            }
    }
    for (int i = 0; i < n; i++)
        vals[i] = a[i * n + i];
}

void
dfx__hermitian_function (int c, const double *s, double (*f) (double, const void *), const void *arg, double *out)
{
    if (c == 1) {
        double l = s[0] > 0.0 ? s[0] : 0.0;
        out[0] = f (l, arg);
        out[1] = 0.0;
        return;
    }
    /* Real embedding R = [[Re S, −Im S], [Im S, Re S]]: f(R) embeds f(S). */
    int m = 2 * c;
    double r[4 * DFX__HERM_MAX * DFX__HERM_MAX], v[4 * DFX__HERM_MAX * DFX__HERM_MAX], l[2 * DFX__HERM_MAX];
    for (int i = 0; i < c; i++)
        for (int j = 0; j < c; j++) {
            double re = s[2 * (i * c + j)], im = s[2 * (i * c + j) + 1];
            /* Symmetrise: statistics are Hermitian up to rounding. */
            double re_t = s[2 * (j * c + i)], im_t = -s[2 * (j * c + i) + 1];
            re = 0.5 * (re + re_t), im = 0.5 * (im + im_t);
            r[i * m + j] = re, r[(i + c) * m + j + c] = re;
            r[(i + c) * m + j] = im, r[i * m + j + c] = -im;
        }
    dfx__eigh (m, r, l, v);
    for (int k = 0; k < m; k++)
        l[k] = f (l[k] > 0.0 ? l[k] : 0.0, arg);
    for (int i = 0; i < c; i++)
        for (int j = 0; j < c; j++) {
            double re = 0.0, im = 0.0;
            for (int k = 0; k < m; k++) {
                re += v[i * m + k] * l[k] * v[j * m + k];
                im += v[(i + c) * m + k] * l[k] * v[j * m + k];
            }
            out[2 * (i * c + j)] = re;
            out[2 * (i * c + j) + 1] = im;
        }
}
