/* algo-common.h — shared helpers of the algo suite's C tests: the device,
 * Gaussian data with known eigenbasis (dense covariance, its eigenbasis and
 * the exact PF-ODE solution in double precision), running the sampler on a
 * batch of host noise, and error norms.  Header-only; each test is one
 * program. */
#ifndef DFX_ALGO_COMMON_H
#define DFX_ALGO_COMMON_H

#include "check.h"
#include "dfx.h"
#include "sample/sample-private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

static dfx_ctx *ctx;

/* Opens the device; exits 77 (skip) when there is none. */
static inline void
algo_open (void)
{
    dfx_ctx_options opt;
    dfx_ctx_options_defaults (&opt);
    dfx_status st = dfx_ctx_create (&opt, &ctx);
    if (st == DFX_ERR_NO_DEVICE) {
        printf ("SKIP: %s\n", dfx_ctx_errmsg (ctx));
        dfx_ctx_destroy (ctx);
        exit (77);
    }
    if (st != DFX_OK) {
        fprintf (stderr, "context: %s\n", dfx_ctx_errmsg (ctx));
        exit (1);
    }
}

/* A Gaussian N(mean, Σ) over d values with Σ = V diag(lam) Vᵀ (V columns). */
typedef struct gauss {
    int d;
    double *mean, *cov, *V, *lam;
} gauss;

static inline void
gauss_free (gauss *g)
{
    free (g->mean), free (g->cov), free (g->V), free (g->lam);
}

/* A random Gaussian over d values drawn from rng: mean uniform in [-0.5, 0.5), Σ = scale·B Bᵀ/d + 0.02 I
 * with B uniform in [-1, 1) (eigenvalues spread over about two decades).  Fills g->d, mean and cov;
 * gauss_eig adds the eigenbasis. */
static inline void
gauss_random (gauss *g, int d, check_rng *rng, double scale)
{
    g->d = d;
    g->mean = malloc ((size_t) d * sizeof (double));
    g->cov = calloc ((size_t) d * d, sizeof (double));
    double *b = malloc ((size_t) d * d * sizeof *b);
    for (int i = 0; i < d * d; i++)
        b[i] = check_uniform (rng, -1, 1);
    for (int i = 0; i < d; i++) {
        g->mean[i] = check_uniform (rng, -0.5f, 0.5f);
        for (int j = 0; j < d; j++) {
            double v = i == j ? 0.02 : 0.0;
            for (int k = 0; k < d; k++)
                v += scale * b[i * d + k] * b[j * d + k] / d;
            g->cov[i * d + j] = v;
        }
    }
    free (b);
}

/* Fills g->V, g->lam from g->cov by Jacobi and checks the decomposition:
 * returns max |Σ V − V Λ| + max |VᵀV − I|. */
static inline double
gauss_eig (gauss *g)
{
    int d = g->d;
    double *a = malloc ((size_t) d * d * sizeof *a);
    memcpy (a, g->cov, (size_t) d * d * sizeof *a);
    g->V = malloc ((size_t) d * d * sizeof *g->V);
    g->lam = malloc ((size_t) d * sizeof *g->lam);
    dfx__eigh (d, a, g->lam, g->V);
    free (a);
    double err = 0.0, err2 = 0.0;
    for (int i = 0; i < d; i++)
        for (int k = 0; k < d; k++) {
            double sv = 0.0, vv = 0.0;
            for (int j = 0; j < d; j++) {
                sv += g->cov[i * d + j] * g->V[j * d + k];
                vv += g->V[j * d + i] * g->V[j * d + k];
            }
            err = fmax (err, fabs (sv - g->V[i * d + k] * g->lam[k]));
            err2 = fmax (err2, fabs (vv - (i == k)));
        }
    return err + err2;
}

/* out = exact PF-ODE solution at σ from x at σ_from (EDM form, MATH.md):
 * μ + V diag(√((λ + σ²)/(λ + σ_from²))) Vᵀ (x − μ). */
static inline void
gauss_flow (const gauss *g, const double *x, double sigma_from, double sigma, double *out)
{
    int d = g->d;
    for (int i = 0; i < d; i++)
        out[i] = g->mean[i];
    for (int k = 0; k < d; k++) {
        double p = 0.0;
        for (int j = 0; j < d; j++)
            p += g->V[j * d + k] * (x[j] - g->mean[j]);
        p *= sqrt ((fmax (g->lam[k], 0.0) + sigma * sigma) / (fmax (g->lam[k], 0.0) + sigma_from * sigma_from));
        for (int i = 0; i < d; i++)
            out[i] += g->V[i * d + k] * p;
    }
}

/* The analytic denoiser of g (full-rank eigenbasis, no residual). */
static inline dfx__denoiser *
gauss_denoiser (const gauss *g, uint32_t channels)
{
    int d = g->d;
    double *comps = malloc ((size_t) d * d * sizeof *comps), *lam = malloc ((size_t) d * sizeof *lam);
    for (int k = 0; k < d; k++) {
        lam[k] = fmax (g->lam[k], 0.0);
        for (int j = 0; j < d; j++)
            comps[(size_t) k * d + j] = g->V[j * d + k];
    }
    dfx__denoiser *den = NULL;
    dfx_status st = dfx__denoiser_gauss (ctx, channels, (uint32_t) d, g->mean, (uint32_t) d, comps, lam, 0.0, &den);
    CHECK (st == DFX_OK, "gauss denoiser: %s", dfx_ctx_errmsg (ctx));
    free (comps), free (lam);
    return den;
}

/* Relative L2 error ‖a − b‖ / ‖b‖ over n values. */
static inline double
rel_err (const float *a, const double *b, size_t n)
{
    double num = 0.0, den = 0.0;
    for (size_t i = 0; i < n; i++) {
        num += ((double) a[i] - b[i]) * ((double) a[i] - b[i]);
        den += b[i] * b[i];
    }
    return sqrt (num / (den > 0 ? den : 1e-300));
}

/* Unit noise for `batch` items of d values (items first_index, ...). */
static inline float *
noise (uint64_t seed, uint32_t first, uint32_t batch, uint32_t c, uint32_t h, uint32_t w)
{
    size_t d = (size_t) c * h * w;
    float *x = malloc (batch * d * sizeof *x);
    for (uint32_t b = 0; b < batch; b++)
        dfx_generate_noise (seed, first + b, c, h, w, x + b * d);
    return x;
}

/* Uploads host values into a new device buffer. */
static inline dfx_buffer *
upload (const float *x, size_t n)
{
    dfx_buffer *b = NULL;
    dfx_status st = dfx_buffer_create (ctx, n * sizeof (float), &b);
    if (st == DFX_OK)
        st = dfx_buffer_upload (ctx, b, 0, x, n * sizeof (float));
    CHECK (st == DFX_OK, "upload: %s", dfx_ctx_errmsg (ctx));
    return b;
}

static inline float *
download (dfx_buffer *b, size_t n)
{
    float *h = malloc (n * sizeof *h);
    dfx_status st = dfx_buffer_download (ctx, b, 0, h, n * sizeof *h);
    CHECK (st == DFX_OK, "download: %s", dfx_ctx_errmsg (ctx));
    return h;
}

/* Runs the sampler on unit noise x0 (batch × d floats); returns the result
 * (malloc).  r may be NULL. */
static inline float *
run_sampler (dfx__sample_desc *sd, const float *x0, dfx_generate_result *r)
{
    size_t n = (size_t) sd->batch * sd->den->channels * sd->h * sd->w;
    dfx_buffer *x = upload (x0, n);
    dfx_status st = dfx__sample (sd, x, r);
    CHECK (st == DFX_OK, "sampler %s, %u steps: %s", dfx_sampler_name (sd->sampler), sd->steps,
           dfx_ctx_errmsg (ctx));
    float *out = download (x, n);
    dfx_buffer_destroy (ctx, x);
    return out;
}

/* The edit of the model-based edit tests (test-edit-model.c, bench-edit-adjoint.c): a garment
 * generated by the grey model m (seed 3, H×W), a guide that paints a black disc of radius 6 at
 * the centre of the garment's brightness over it, and a mask of radius 9 around the same centre.
 * y, gd, mk hold H·W floats each.  Returns the status of the generation. */
static inline dfx_status
edit_disc_fixture (dfx_model *m, uint32_t H, uint32_t W, float *y, float *gd, float *mk)
{
    dfx_generate_params gp;
    dfx_generate_params_defaults (&gp);
    gp.seed = 3;
    dfx_status st = dfx_generate (m, &gp, y, NULL);
    if (st != DFX_OK)
        return st;
    double sy = 0, sx = 0, s = 0;
    for (uint32_t i = 0; i < H; i++)
        for (uint32_t j = 0; j < W; j++) {
            double v = y[i * W + j] + 1.0;
            sy += v * i, sx += v * j, s += v;
        }
    const double cy = sy / s, cx = sx / s;
    for (uint32_t i = 0; i < H; i++)
        for (uint32_t j = 0; j < W; j++) {
            double r2 = (i - cy) * (i - cy) + (j - cx) * (j - cx);
            gd[i * W + j] = r2 < 36 ? -1.0f : y[i * W + j];
            mk[i * W + j] = r2 < 81 ? 1.0f : 0.0f;
        }
    return DFX_OK;
}

#endif
