/* prep-write.c — writes a gaussian/ folder (models/GAUSSIAN.md): config.json
 * through cJSON and statistics.safetensors as float32, each file written
 * under a temporary name and renamed, so a reader never sees half a file.
 * The caller decides whether an existing folder may be replaced. */
#include "prepare-private.h"
#include "../model/config-json.h"
#include "../model/safetensors.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static float *
to_float (const double *v, size_t n)
{
    float *f = malloc ((n ? n : 1) * sizeof *f);
    for (size_t i = 0; f && i < n; i++)
        f[i] = (float) v[i];
    return f;
}

static cJSON *
array_of (const double *v, uint32_t n)
{
    cJSON *a = cJSON_CreateArray ();
    for (uint32_t i = 0; a && i < n; i++)
        cJSON_AddItemToArray (a, cJSON_CreateNumber (v[i]));
    return a;
}

static dfx_status
write_config (dfx_ctx *ctx, const char *path, const dfx__gauss_stats *g, const dfx__calibration *cal, cJSON *extra)
{
    cJSON *o = cJSON_CreateObject ();
    char *text = NULL, tmp[4200];
    FILE *f = NULL;
    dfx_status st = DFX_OK;
    if (!o) {
        cJSON_Delete (extra);
        return dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (%s)", path);
    }
    cJSON_AddStringToObject (o, "_class_name", "DfxGaussianStatistics");
    cJSON_AddNumberToObject (o, "format_version", 1);
    cJSON_AddNumberToObject (o, "channels", g->channels);
    cJSON_AddNumberToObject (o, "height", g->height);
    cJSON_AddNumberToObject (o, "width", g->width);
    if (g->has_pca) {
        cJSON_AddNumberToObject (o, "pca_rank", g->rank);
        cJSON_AddNumberToObject (o, "residual_variance", g->residual);
    }
    cJSON_AddStringToObject (o, "mode", g->mode == DFX_SKIP_SPECTRAL ? "spectral" : "pca");
    cJSON_AddNumberToObject (o, "sigma_skip", g->sigma_skip);
    cJSON_AddNumberToObject (o, "sigma_skip_pca", g->sigma_skip_pca);
    cJSON_AddNumberToObject (o, "sigma_skip_spectral", g->sigma_skip_spectral);
    cJSON_AddNumberToObject (o, "tolerance", g->tolerance);
    if (cal) {
        cJSON *curve = cJSON_AddObjectToObject (o, "curve");
        if (curve) {
            cJSON_AddItemToObject (curve, "sigma", array_of (cal->sigma, cal->n));
            cJSON_AddItemToObject (curve, "pca", array_of (cal->err_pca, cal->n));
            cJSON_AddItemToObject (curve, "spectral", array_of (cal->err_spectral, cal->n));
        }
    }
    for (cJSON *it = extra ? extra->child : NULL; it; it = it->next)
        if (!cJSON_GetObjectItemCaseSensitive (o, it->string))
            cJSON_AddItemReferenceToObject (o, it->string, it);
    text = cJSON_Print (o);
    if (!text) {
        st = dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (%s)", path);
        goto cleanup;
    }
    snprintf (tmp, sizeof tmp, "%s.tmp", path);
    f = fopen (tmp, "w");
    if (!f || fputs (text, f) < 0 || fputc ('\n', f) < 0) {
        st = dfx__error (ctx, DFX_ERR_IO, "%s: cannot write (%s)", tmp, strerror (errno));
        goto cleanup;
    }
    if (fclose (f) != 0) {
        f = NULL;
        st = dfx__error (ctx, DFX_ERR_IO, "%s: cannot write (%s)", tmp, strerror (errno));
        goto cleanup;
    }
    f = NULL;
    if (rename (tmp, path) != 0)
        st = dfx__error (ctx, DFX_ERR_IO, "%s: cannot rename to %s (%s)", tmp, path, strerror (errno));
cleanup:
    if (f)
        fclose (f);
    if (st != DFX_OK)
        remove (tmp);
    cJSON_free (text);
    cJSON_Delete (o);
    cJSON_Delete (extra);
    return st;
}

dfx_status
dfx__gauss_write (dfx_ctx *ctx, const char *dir, const dfx__gauss_stats *g, const dfx__calibration *cal,
                  cJSON *extra)
{
    char path[4096];
    snprintf (path, sizeof path, "%s/gaussian", dir);
    if (mkdir (path, 0755) != 0 && errno != EEXIST) {
        cJSON_Delete (extra);
        return dfx__error (ctx, DFX_ERR_IO, "%s: cannot create the folder (%s)", path, strerror (errno));
    }
    const size_t hw = (size_t) g->height * g->width, d = g->channels * hw;
    float *mean = NULL, *ev = NULL, *comps = NULL, *sm = NULL, *sc = NULL;
    dfx__st_out t[5];
    int n = 0;
    dfx_status st = DFX_OK;
    if (g->has_pca) {
        mean = to_float (g->mean, d), ev = to_float (g->eigval, g->rank), comps = to_float (g->comps, g->rank * d);
        t[n++] = (dfx__st_out){"mean", 3, {g->channels, g->height, g->width}, mean, NULL, 0};
        t[n++] = (dfx__st_out){"pca_eigenvalues", 1, {g->rank}, ev, NULL, 0};
        t[n++] = (dfx__st_out){"pca_components", 2, {g->rank, (int64_t) d}, comps, NULL, 0};
    }
    if (g->has_spectral) {
        sm = to_float (g->spec_mean, g->channels), sc = to_float (g->spec_cov, hw * g->channels * g->channels * 2);
        t[n++] = (dfx__st_out){"spectral_mean", 1, {g->channels}, sm, NULL, 0};
        t[n++] = (dfx__st_out){
            "spectral_covariance", 5, {g->height, g->width, g->channels, g->channels, 2}, sc, NULL, 0};
    }
    for (int i = 0; i < n; i++)
        if (!t[i].data) {
            st = dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory (writing %s)", path);
            goto cleanup;
        }
    snprintf (path, sizeof path, "%s/gaussian/statistics.safetensors", dir);
    DFX_CHECK (dfx__st_write_f32 (ctx, path, t, n));
    snprintf (path, sizeof path, "%s/gaussian/config.json", dir);
    st = write_config (ctx, path, g, cal, extra);
    extra = NULL;
cleanup:
    cJSON_Delete (extra);
    free (mean), free (ev), free (comps), free (sm), free (sc);
    return st;
}
