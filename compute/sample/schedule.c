/* schedule.c — noise levels in the EDM view: the model's discrete DDPM
 * schedule made continuous (log σ̃ linear over the timestep index), the
 * continuous EDM-style range of the analytic cases, and the σ̃ levels of the
 * samplers (EDM ρ-schedule, DDIM uniform timesteps).  Host double precision. */
#include "sample-private.h"

#include <math.h>
#include <string.h>

dfx_status
dfx__schedule_from_config (dfx_ctx *ctx, const dfx__sched_config *c, dfx__schedule *out)
{
    memset (out, 0, sizeof *out);
    int n = c->num_train_timesteps;
    double *ls = malloc ((size_t) n * sizeof *ls);
    if (!ls)
        return dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (noise schedule)");
    for (int t = 0; t < n; t++) {
        double ab = c->alphas_cumprod[t];
        if (!(ab > 0.0 && ab < 1.0) || (t > 0 && !(0.5 * log ((1.0 - ab) / ab) > ls[t - 1]))) {
            free (ls);
            return dfx__error (ctx, DFX_ERR_UNSUPPORTED,
                               "noise schedule: alphas_cumprod[%d] = %.9g does not give a strictly increasing "
                               "sigma in (0, inf)", t, ab);
        }
        ls[t] = 0.5 * log ((1.0 - ab) / ab);
    }
    out->n = n;
    out->log_sigma = ls;
    out->sigma_min = exp (ls[0]);
    out->sigma_max = exp (ls[n - 1]);
    return DFX_OK;
}

void
dfx__schedule_continuous (double sigma_min, double sigma_max, dfx__schedule *out)
{
    memset (out, 0, sizeof *out);
    out->sigma_min = sigma_min;
    out->sigma_max = sigma_max;
}

void
dfx__schedule_free (dfx__schedule *s)
{
    if (!s)
        return;
    free (s->log_sigma);
    s->log_sigma = NULL;
    s->n = 0;
}

double
dfx__schedule_t_max (const dfx__schedule *s)
{
    return s->n > 0 ? (double) (s->n - 1) : 1.0;
}

double
dfx__schedule_sigma (const dfx__schedule *s, double t)
{
    if (s->n <= 0) {
        double u = t < 0.0 ? 0.0 : t > 1.0 ? 1.0 : t;
        return s->sigma_min * pow (s->sigma_max / s->sigma_min, u);
    }
    if (s->n == 1 || t <= 0.0)
        return exp (s->log_sigma[0]);
    if (t >= (double) (s->n - 1))
        return exp (s->log_sigma[s->n - 1]);
    int i = (int) floor (t);
    double f = t - i;
    return exp ((1.0 - f) * s->log_sigma[i] + f * s->log_sigma[i + 1]);
}

double
dfx__schedule_timestep (const dfx__schedule *s, double sigma)
{
    double l = log (sigma);
    if (s->n <= 0) {
        double u = (l - log (s->sigma_min)) / log (s->sigma_max / s->sigma_min);
        return u < 0.0 ? 0.0 : u > 1.0 ? 1.0 : u;
    }
    if (s->n == 1 || l <= s->log_sigma[0])
        return 0.0;
    if (l >= s->log_sigma[s->n - 1])
        return (double) (s->n - 1);
    int lo = 0, hi = s->n - 1; /* log_sigma[lo] < l <= log_sigma[hi] */
    while (hi - lo > 1) {
        int mid = (lo + hi) / 2;
        if (s->log_sigma[mid] < l)
            lo = mid;
        else
            hi = mid;
    }
    return lo + (l - s->log_sigma[lo]) / (s->log_sigma[hi] - s->log_sigma[lo]);
}

void
dfx__sigmas_karras (double smax, double smin, double rho, uint32_t n, double *sig)
{
    double a = pow (smax, 1.0 / rho), b = pow (smin, 1.0 / rho);
    for (uint32_t i = 0; i < n; i++)
        sig[i] = n == 1 ? smax : pow (a + (double) i / (double) (n - 1) * (b - a), rho);
    sig[n] = 0.0;
}

void
dfx__sigmas_ddim (const dfx__schedule *s, double smax, uint32_t n, double *sig)
{
    double t0 = dfx__schedule_timestep (s, smax);
    sig[0] = smax;
    for (uint32_t i = 1; i < n; i++)
        sig[i] = dfx__schedule_sigma (s, t0 * (double) (n - i) / (double) n);
    sig[n] = 0.0;
}
