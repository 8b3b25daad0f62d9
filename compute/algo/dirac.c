/* dirac.c — posterior of a Dirac mixture under x_t = α x0 + σ ε (see dirac.h). */
#include "dirac.h"

#include <math.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

double
dfx__dirac_posterior (const dfx__dirac *m, const double *x, double alpha, double sigma, double *work, double *x0hat,
                      double *C, double *F, double *score)
{
    const int n = m->n, d = m->d;
    const double s2 = sigma * sigma;
    /* log N(x; α y_i, σ² I) up to the shared constant, then softmax. */
    double mx = -INFINITY;
    for (int i = 0; i < n; i++) {
        double r2 = 0.0;
        for (int k = 0; k < d; k++) {
            double e = x[k] - alpha * m->y[i * d + k];
            r2 += e * e;
        }
        work[i] = -r2 / (2.0 * s2);
        mx = fmax (mx, work[i]);
    }
    double z = 0.0;
    for (int i = 0; i < n; i++)
        z += (work[i] = exp (work[i] - mx));
    for (int i = 0; i < n; i++)
        work[i] /= z;
    for (int k = 0; k < d; k++) {
        double v = 0.0;
        for (int i = 0; i < n; i++)
            v += work[i] * m->y[i * d + k];
        x0hat[k] = v;
    }
    if (C || F) {
        double Cl[DFX__DIRAC_MAX_DIM * DFX__DIRAC_MAX_DIM];
        double *c = C ? C : Cl;
        for (int a = 0; a < d; a++)
            for (int b = 0; b < d; b++) {
                double v = 0.0;
                for (int i = 0; i < n; i++)
                    v += work[i] * m->y[i * d + a] * m->y[i * d + b];
                c[a * d + b] = v - x0hat[a] * x0hat[b];
            }
        if (F)
            for (int a = 0; a < d; a++)
                for (int b = 0; b < d; b++)
                    F[a * d + b] = (a == b ? 1.0 / s2 : 0.0) - alpha * alpha / (s2 * s2) * c[a * d + b];
    }
    if (score)
        for (int k = 0; k < d; k++)
            score[k] = (alpha * x0hat[k] - x[k]) / s2;
    /* log q = log (1/n Σ_i N(x; α y_i, σ² I)) */
    return mx + log (z) - log ((double) n) - 0.5 * d * log (2.0 * M_PI * s2);
}
