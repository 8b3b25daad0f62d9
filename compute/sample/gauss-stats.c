/* gauss-stats.c — reads a model's gaussian/ folder (models/GAUSSIAN.md):
 * config.json (grid, PCA residual, calibration) and statistics.safetensors
 * (mean, PCA eigenpairs, per-channel mean and per-frequency channel
 * covariance).  Either part may be absent, not both.  Every refusal names
 * the file and the field or tensor. */
#include "sample-private.h"
#include "../model/config-json.h"
#include "../model/safetensors.h"
#include "../ops/ops-sample.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define MAX_CONFIG_BYTES (16u << 20)

void
dfx__gauss_stats_free (dfx__gauss_stats *g)
{
    if (!g)
        return;
    free (g->mean), free (g->eigval), free (g->comps), free (g->spec_mean), free (g->spec_cov);
    free (g);
}

/* Reads tensor `name` of the expected shape as doubles into *out (malloc). */
static dfx_status
read_doubles (dfx_ctx *ctx, const dfx__st_file *f, const char *name, int ndim, const int64_t *shape, double **out)
{
    size_t n = 1;
    for (int i = 0; i < ndim; i++)
        n *= (size_t) shape[i];
    float *tmp = malloc ((n ? n : 1) * sizeof *tmp);
    *out = malloc ((n ? n : 1) * sizeof **out);
    if (!tmp || !*out) {
        free (tmp);
        return dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory reading '%s' of %s", name,
                           dfx__st_label (f));
    }
    dfx_status st = dfx__st_read_f32 (ctx, f, name, ndim, shape, tmp);
    for (size_t i = 0; st == DFX_OK && i < n; i++) {
        if (!isfinite (tmp[i]))
            st = dfx__error (ctx, DFX_ERR_FORMAT, "tensor '%s' of %s holds a non-finite value at %zu", name,
                             dfx__st_label (f), i);
        (*out)[i] = tmp[i];
    }
    free (tmp);
    return st;
}

static dfx_status
parse_config (dfx_ctx *ctx, const char *path, dfx__gauss_stats *g, int *rank)
{
    char *text = NULL;
    size_t len = 0;
    cJSON *root = NULL;
    dfx_status st = dfx__read_text_file (ctx, path, MAX_CONFIG_BYTES, &text, &len);
    if (st != DFX_OK)
        return st;
    DFX_CHECK (dfx__json_parse_object (ctx, text, len, path, &root));
    int version = 0, c = 0, h = 0, w = 0;
    DFX_CHECK (dfx__json_get_int (ctx, root, "format_version", path, 1, 1, &version));
    if (version != 1) {
        st = dfx__error (ctx, DFX_ERR_FORMAT, "%s: field 'format_version' is missing (1 expected)", path);
        goto cleanup;
    }
    DFX_CHECK (dfx__json_get_int (ctx, root, "channels", path, 1, DFX__SPECTRAL_MAX_CHANNELS, &c));
    DFX_CHECK (dfx__json_get_int (ctx, root, "height", path, 1, DFX_GENERATE_MAX_SIZE, &h));
    DFX_CHECK (dfx__json_get_int (ctx, root, "width", path, 1, DFX_GENERATE_MAX_SIZE, &w));
    if (!c || !h || !w) {
        st = dfx__error (ctx, DFX_ERR_FORMAT, "%s: fields 'channels', 'height' and 'width' are required", path);
        goto cleanup;
    }
    g->channels = (uint32_t) c, g->height = (uint32_t) h, g->width = (uint32_t) w;
    *rank = -1;
    DFX_CHECK (dfx__json_get_int (ctx, root, "pca_rank", path, 0, (int64_t) c * h * w, rank));
    DFX_CHECK (dfx__json_get_number (ctx, root, "residual_variance", path, 0.0, 1e6, &g->residual));
    DFX_CHECK (dfx__json_get_number (ctx, root, "sigma_skip", path, 0.0, 1e6, &g->sigma_skip));
    DFX_CHECK (dfx__json_get_number (ctx, root, "sigma_skip_pca", path, 0.0, 1e6, &g->sigma_skip_pca));
    DFX_CHECK (dfx__json_get_number (ctx, root, "sigma_skip_spectral", path, 0.0, 1e6, &g->sigma_skip_spectral));
    DFX_CHECK (dfx__json_get_number (ctx, root, "tolerance", path, 0.0, 1e6, &g->tolerance));
    static const char *const modes[] = {"pca", "spectral", NULL};
    int mode = 0;
    DFX_CHECK (dfx__json_get_choice (ctx, root, "mode", path, modes, 0, &mode));
    g->mode = mode == 1 ? DFX_SKIP_SPECTRAL : DFX_SKIP_PCA;
cleanup:
    cJSON_Delete (root);
    dfx__free (text);
    return st;
}

dfx_status
dfx__gauss_stats_load (dfx_ctx *ctx, const char *model_dir, dfx__gauss_stats **out)
{
    *out = NULL;
    char path[4096];
    dfx__st_file *f = NULL;
    dfx__gauss_stats *g = calloc (1, sizeof *g);
    if (!g)
        return dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory loading %s/gaussian", model_dir);
    dfx_status st;
    int rank = -1;
    snprintf (path, sizeof path, "%s/gaussian/config.json", model_dir);
    DFX_CHECK (parse_config (ctx, path, g, &rank));
    snprintf (path, sizeof path, "%s/gaussian/statistics.safetensors", model_dir);
    DFX_CHECK (dfx__st_open (ctx, path, &f));
    const int64_t c = g->channels, h = g->height, w = g->width, d = c * h * w;
    if (dfx__st_find (f, "pca_components")) {
        const dfx__st_tensor *t = dfx__st_find (f, "pca_components");
        if (t->ndim != 2 || t->shape[1] != d || (rank >= 0 && t->shape[0] != rank)) {
            st = dfx__error (ctx, DFX_ERR_FORMAT, "tensor 'pca_components' of %s must be [pca_rank, %lld] (channels × "
                             "height × width of config.json)", path, (long long) d);
            goto cleanup;
        }
        g->rank = (uint32_t) t->shape[0];
        const int64_t sm[3] = {c, h, w}, se[1] = {g->rank}, sc[2] = {g->rank, d};
        DFX_CHECK (read_doubles (ctx, f, "mean", 3, sm, &g->mean));
        DFX_CHECK (read_doubles (ctx, f, "pca_eigenvalues", 1, se, &g->eigval));
        DFX_CHECK (read_doubles (ctx, f, "pca_components", 2, sc, &g->comps));
        for (uint32_t k = 0; k < g->rank; k++)
            if (g->eigval[k] < 0.0) {
                st = dfx__error (ctx, DFX_ERR_FORMAT, "tensor 'pca_eigenvalues' of %s: value %u is negative (%g)",
                                 path, k, g->eigval[k]);
                goto cleanup;
            }
        g->has_pca = 1;
    }
    if (dfx__st_find (f, "spectral_covariance")) {
        const int64_t sm[1] = {c}, sc[5] = {h, w, c, c, 2};
        DFX_CHECK (read_doubles (ctx, f, "spectral_mean", 1, sm, &g->spec_mean));
        DFX_CHECK (read_doubles (ctx, f, "spectral_covariance", 5, sc, &g->spec_cov));
        g->has_spectral = 1;
    }
    if (!g->has_pca && !g->has_spectral) {
        st = dfx__error (ctx, DFX_ERR_FORMAT,
                         "%s holds neither 'pca_components' nor 'spectral_covariance' (models/GAUSSIAN.md)", path);
        goto cleanup;
    }
    if (g->mode == DFX_SKIP_PCA && !g->has_pca)
        g->mode = DFX_SKIP_SPECTRAL;
    if (g->mode == DFX_SKIP_SPECTRAL && !g->has_spectral)
        g->mode = DFX_SKIP_PCA;
    dfx__st_close (f);
    *out = g;
    return DFX_OK;
cleanup:
    dfx__st_close (f);
    dfx__gauss_stats_free (g);
    return st;
}
