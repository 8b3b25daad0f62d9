/* latent-diagnose.c — dfx_latent_diagnose: the latent diagnostics of an
 * encoder on a data set (dfx.h; formulas in docs/latent-diagnostics.md).
 *
 * 1. Encode the n points (batches of 2·batch).
 * 2. The two densities: of the data (dimension D) and of the codes (d).
 * 3. The local constants m = min σ_min, L = max σ_max of the Jacobian at
 *    jacobian_points data points (jacobian-extremes.c), and the secant ones
 *    over the first ≤ 1024 points (secant-extremes.c).
 * 4. Per level τ: the Fisher statistics of both spaces (fisher-level.c), and
 *    J_x at τ/L² and τ/m² for the sandwich
 *        J_x(τ/m²)/L² − (D − d) m²/(τ L²)  ≤  J_z(τ)  ≤  J_x(τ/L²)/m²
 *    (plus (d − D)/τ on the right when d > D: the codes' normal directions),
 *    each side with its margin relative to J_z and the margin's standard
 *    error; a side passes when margin ≥ −2·se − 1e-9.  And the paper
 *    summary's statement read at one level, J_x(τ)/L² ≤ J_z(τ) ≤ J_x(τ)/m²
 *    (no further draws: J_x(τ) is the level's own), the same way.
 * Without given levels: log-spaced from 0.1 × the median nearest-neighbour
 * distance to 3 × the RMS radius of the points (see default_grid).
 * Philox streams: level j uses 4j + 1 (x at τ), 4j + 2 (τ/L²), 4j + 3
 * (τ/m²), 4j + 4 (z at τ), index = the draw. */
#include "latent.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SECANT_MAX_POINTS 1024

void
dfx_latent_params_defaults (dfx_latent_params *p)
{
    memset (p, 0, sizeof *p);
    p->n_sigmas = 12;
    p->density = DFX_DENSITY_EMPIRICAL;
    p->samples = 256;
    p->jacobian_points = 8;
    p->fd_step = 1e-2;
    p->batch = 16;
}

/* The scales of a point set: the median distance to the nearest other point
 * (distinct points; over the first ≤ GRID_POINTS) and the RMS distance to the
 * mean. */
#define GRID_POINTS 512
static void
scales (const double *pts, uint32_t n, uint32_t d, double *nn, double *radius)
{
    const uint32_t m = n < GRID_POINTS ? n : GRID_POINTS;
    double near[GRID_POINTS], r2 = 0.0;
    uint32_t k = 0;
    for (uint32_t i = 0; i < m; i++) {
        double best = INFINITY, mi = 0.0;
        for (uint32_t j = 0; j < m; j++) {
            double e = 0.0;
            for (uint32_t q = 0; j != i && q < d; q++)
                e += (pts[(size_t)i * d + q] - pts[(size_t)j * d + q]) *
                     (pts[(size_t)i * d + q] - pts[(size_t)j * d + q]);
            if (j != i && e > 0.0)
                best = fmin (best, e);
        }
        for (uint32_t q = 0; q < d; q++) {
            double mean = 0.0;
            for (uint32_t j = 0; j < m; j++)
                mean += pts[(size_t)j * d + q] / m;
            mi += (pts[(size_t)i * d + q] - mean) * (pts[(size_t)i * d + q] - mean);
        }
        r2 += mi / m;
        if (isfinite (best))
            near[k++] = sqrt (best);
    }
    /* median by insertion sort: m ≤ 512 */
    for (uint32_t i = 1; i < k; i++)
        for (uint32_t j = i; j > 0 && near[j - 1] > near[j]; j--) {
            double t = near[j];
            near[j] = near[j - 1], near[j - 1] = t;
        }
    *nn = k ? near[k / 2] : 0.0;
    *radius = sqrt (r2);
}

/* The default levels: log-spaced from 0.1 × the smaller median nearest-
 * neighbour distance of the two point sets (below it every posterior of the
 * Dirac mixture is one point and J = d/τ exactly) to 3 × the larger RMS
 * radius (above it both are one blob, J ≈ d/(τ + var)). */
static void
default_grid (const double *x, const double *z, uint32_t n, uint32_t dx, uint32_t dz, uint32_t k, double *grid)
{
    double nx, rx, nz, rz;
    scales (x, n, dx, &nx, &rx);
    scales (z, n, dz, &nz, &rz);
    double hi = 3.0 * fmax (rx, rz), lo = 0.1 * fmin (nx, nz);
    if (!(hi > 0.0) || !isfinite (hi))
        hi = 1.0;
    if (!(lo > 0.0) || lo >= hi)
        lo = hi * 1e-3;
    for (uint32_t j = 0; j < k; j++)
        grid[j] = k == 1 ? hi : exp (log (lo) + (log (hi) - log (lo)) * j / (k - 1));
}

static void
side (double jz, double jz_se, double bound, double bound_se, int upper, double *margin, double *se, int *pass)
{
    if (isinf (bound)) {
        *margin = INFINITY, *se = 0.0, *pass = 1;
        return;
    }
    *margin = (upper ? bound - jz : jz - bound) / jz;
    *se = sqrt (jz_se * jz_se + bound_se * bound_se) / jz;
    *pass = *margin >= -2.0 * *se - 1e-9;
}

dfx_status
dfx_latent_diagnose (dfx_ctx *ctx, const dfx_latent_params *p, const float *data, uint32_t n, uint32_t dx, uint32_t dz,
                     dfx_encoder_fn enc, void *user, dfx_latent_row *rows, dfx_latent_summary *sum)
{
    if (!p || !data || !enc || !rows || !sum || n < 2 || dx < 1 || dz < 1)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT,
                           "latent diagnostics: %u data points of %u values, codes of %u values (need 2 points or "
                           "more, an encoder, rows and a summary)",
                           n, dx, dz);
    if (p->n_sigmas < 1 || p->n_sigmas > DFX_DIAGNOSE_MAX_SIGMAS || p->samples < 1 || p->samples > 1u << 24 ||
        p->batch < 1 || p->batch > 4096 || p->jacobian_points < 1 || !(p->fd_step > 0.0) || p->fd_step > 1.0 ||
        (unsigned)p->density > DFX_DENSITY_GAUSSIAN)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT,
                           "latent diagnostics: %u levels (1..%d), %u draws (1..2^24), batch %u (1..4096), %u "
                           "Jacobian points (≥ 1), step %g (0..1], density %d",
                           p->n_sigmas, DFX_DIAGNOSE_MAX_SIGMAS, p->samples, p->batch, p->jacobian_points, p->fd_step,
                           (int)p->density);
    double grid[DFX_DIAGNOSE_MAX_SIGMAS];
    const double *sig = p->sigmas ? p->sigmas : grid;
    for (uint32_t j = 0; p->sigmas && j < p->n_sigmas; j++)
        if (!(sig[j] > 0.0) || !isfinite (sig[j]) || sig[j] > 1e6)
            return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT,
                               "latent diagnostics: sigma %g (level %u) is not a number in (0, 1e6]", sig[j], j);
    memset (sum, 0, sizeof *sum);
    memset (rows, 0, p->n_sigmas * sizeof *rows);
    dfx_status st = DFX_OK;
    dfx__density *dxn = NULL, *dzn = NULL;
    const uint32_t eb = 2 * p->batch;
    double *x = malloc ((size_t)n * dx * sizeof *x), *z = malloc ((size_t)n * dz * sizeof *z);
    if (!x || !z) {
        st = dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (%u points of %u and %u values)", n, dx,
                         dz);
        goto cleanup;
    }
    for (size_t i = 0; i < (size_t)n * dx; i++) {
        x[i] = data[i];
        if (!isfinite (x[i])) {
            st = dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "latent diagnostics: data point %zu, value %zu is %g",
                             i / dx, i % dx, x[i]);
            goto cleanup;
        }
    }
    for (uint32_t b0 = 0; b0 < n; b0 += eb)
        DFX_CHECK (enc (user, n - b0 < eb ? n - b0 : eb, x + (size_t)b0 * dx, z + (size_t)b0 * dz));
    for (size_t i = 0; i < (size_t)n * dz; i++)
        if (!isfinite (z[i])) {
            st = dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT,
                             "latent diagnostics: the code of point %zu, value %zu is %g", i / dz, i % dz, z[i]);
            goto cleanup;
        }
    if (!p->sigmas)
        default_grid (x, z, n, dx, dz, p->n_sigmas, grid);
    DFX_CHECK (dfx__density_create (ctx, p->density, x, n, dx, &dxn));
    DFX_CHECK (dfx__density_create (ctx, p->density, z, n, dz, &dzn));

    /* the encoder's constants */
    const uint32_t np = p->jacobian_points < n ? p->jacobian_points : n;
    double m = INFINITY, L = 0.0, msum = 0.0, lsum = 0.0;
    for (uint32_t k = 0; k < np; k++) {
        const uint32_t i = (uint32_t)((uint64_t)k * n / np);
        double lo, hi;
        DFX_CHECK (dfx__jacobian_extremes (ctx, enc, user, x + (size_t)i * dx, dx, dz, p->fd_step, p->batch, &lo, &hi));
        m = fmin (m, lo), L = fmax (L, hi), msum += lo, lsum += hi;
    }
    sum->n = n, sum->dx = dx, sum->dz = dz, sum->jacobian_points = np;
    sum->sv_min = m, sum->sv_max = L, sum->sv_min_mean = msum / np, sum->sv_max_mean = lsum / np;
    sum->lower_is_theorem = dz == dx;
    dfx__secant_extremes (x, z, n < SECANT_MAX_POINTS ? n : SECANT_MAX_POINTS, dx, dz, &sum->secant_min,
                          &sum->secant_max, &sum->secant_pairs);
    if (!(L > 0.0)) {
        st = dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT,
                         "latent diagnostics: the encoder's Jacobian is zero at every measured point (step %g)",
                         p->fd_step);
        goto cleanup;
    }

    for (uint32_t j = 0; j < p->n_sigmas; j++) {
        dfx_latent_row *r = rows + j;
        const double tau = sig[j] * sig[j];
        r->sigma = sig[j], r->tau = tau;
        dfx_fisher_stats hi, lo;
        DFX_CHECK (dfx__fisher_level (ctx, dxn, tau, p->samples, p->seed, 4 * j + 1, &r->x));
        DFX_CHECK (dfx__fisher_level (ctx, dzn, tau, p->samples, p->seed, 4 * j + 4, &r->z));
        DFX_CHECK (dfx__fisher_level (ctx, dxn, tau / (L * L), p->samples, p->seed, 4 * j + 2, &hi));
        r->j_x_hi = hi.j, r->j_x_hi_se = hi.j_se;
        if (m > 0.0) {
            DFX_CHECK (dfx__fisher_level (ctx, dxn, tau / (m * m), p->samples, p->seed, 4 * j + 3, &lo));
            r->j_x_lo = lo.j, r->j_x_lo_se = lo.j_se;
            r->lower = (lo.j - (double)((int64_t)dx - (int64_t)dz) * m * m / tau) / (L * L);
            r->upper = hi.j / (m * m) + (dz > dx ? (double)(dz - dx) / tau : 0.0);
            side (r->z.j, r->z.j_se, r->lower, lo.j_se / (L * L), 0, &r->lower_margin, &r->lower_margin_se,
                  &r->lower_pass);
            side (r->z.j, r->z.j_se, r->upper, hi.j_se / (m * m), 1, &r->upper_margin, &r->upper_margin_se,
                  &r->upper_pass);
        } else {
            /* m = 0: J_x(∞) = 0 below, nothing bounds J_z above */
            r->j_x_lo = 0.0, r->lower = 0.0, r->upper = INFINITY;
            side (r->z.j, r->z.j_se, 0.0, 0.0, 0, &r->lower_margin, &r->lower_margin_se, &r->lower_pass);
            side (r->z.j, r->z.j_se, INFINITY, 0.0, 1, &r->upper_margin, &r->upper_margin_se, &r->upper_pass);
        }
        r->lower_same = r->x.j / (L * L), r->upper_same = m > 0.0 ? r->x.j / (m * m) : INFINITY;
        side (r->z.j, r->z.j_se, r->lower_same, r->x.j_se / (L * L), 0, &r->lower_same_margin, &r->lower_same_margin_se,
              &r->lower_same_pass);
        side (r->z.j, r->z.j_se, r->upper_same, m > 0.0 ? r->x.j_se / (m * m) : 0.0, 1, &r->upper_same_margin,
              &r->upper_same_margin_se, &r->upper_same_pass);
        sum->levels_passed += r->lower_pass && r->upper_pass;
        sum->levels_passed_same += r->lower_same_pass && r->upper_same_pass;
        if (p->progress && p->progress ((double)(j + 1) / p->n_sigmas, p->progress_user)) {
            st = dfx__error (ctx, DFX_ERR_CANCELLED, "latent diagnostics cancelled at level %u of %u", j + 1,
                             p->n_sigmas);
            goto cleanup;
        }
    }
cleanup:
    dfx__density_destroy (dxn);
    dfx__density_destroy (dzn);
    free (x), free (z);
    return st;
}
