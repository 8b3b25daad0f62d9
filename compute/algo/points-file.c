/* points-file.c — the JSON points file of `dfx ot-check` and the
 * Dirac-mixture tools: {"points": [[...], ...]} or a bare array. */
#include "../dfx-private.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define MAX_FILE (64l << 20)

dfx_status
dfx_points_load (dfx_ctx *ctx, const char *path, double **points, int *n, int *dim)
{
    dfx_status st = DFX_OK;
    char *text = NULL;
    cJSON *root = NULL;
    *points = NULL;
    *n = *dim = 0;
    FILE *f = fopen (path, "rb");
    if (!f)
        return dfx__error (ctx, DFX_ERR_IO, "%s: cannot open", path);
    long len = -1;
    if (fseek (f, 0, SEEK_END) == 0)
        len = ftell (f);
    if (len < 0 || len > MAX_FILE || fseek (f, 0, SEEK_SET) != 0) {
        fclose (f);
        return dfx__error (ctx, DFX_ERR_IO, "%s: cannot read (or larger than 64 MB)", path);
    }
    text = malloc ((size_t) len + 1);
    if (!text || fread (text, 1, (size_t) len, f) != (size_t) len) {
        fclose (f);
        free (text);
        return dfx__error (ctx, DFX_ERR_IO, "%s: cannot read", path);
    }
    fclose (f);
    text[len] = 0;
    root = cJSON_ParseWithLength (text, (size_t) len);
    if (!root) {
        st = dfx__error (ctx, DFX_ERR_FORMAT, "%s: not valid JSON", path);
        goto cleanup;
    }
    const cJSON *arr = cJSON_IsArray (root) ? root : cJSON_GetObjectItemCaseSensitive (root, "points");
    if (!cJSON_IsArray (arr)) {
        st = dfx__error (ctx, DFX_ERR_FORMAT, "%s: expected {\"points\": [[x, y, ...], ...]} or an array of points",
                         path);
        goto cleanup;
    }
    int count = cJSON_GetArraySize (arr);
    if (count < 2) {
        st = dfx__error (ctx, DFX_ERR_FORMAT, "%s: %d point%s; at least two are needed", path, count,
                         count == 1 ? "" : "s");
        goto cleanup;
    }
    int d = -1, i = 0;
    const cJSON *pt;
    cJSON_ArrayForEach (pt, arr)
    {
        if (!cJSON_IsArray (pt) || cJSON_GetArraySize (pt) < 1) {
            st = dfx__error (ctx, DFX_ERR_FORMAT, "%s: point %d is not an array of coordinates", path, i);
            goto cleanup;
        }
        int pd = cJSON_GetArraySize (pt);
        if (d < 0) {
            d = pd;
            if (d > 64 || (size_t) count * (size_t) d > (16u << 20)) {
                st = dfx__error (ctx, DFX_ERR_FORMAT, "%s: %d points of dimension %d is too many (dimension ≤ 64)",
                                 path, count, d);
                goto cleanup;
            }
            *points = malloc ((size_t) count * (size_t) d * sizeof (double));
            if (!*points) {
                st = dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "%s: out of host memory", path);
                goto cleanup;
            }
        } else if (pd != d) {
            st = dfx__error (ctx, DFX_ERR_FORMAT, "%s: point %d has %d coordinates, point 0 has %d (mixed dimensions)",
                             path, i, pd, d);
            goto cleanup;
        }
        int k = 0;
        const cJSON *c;
        cJSON_ArrayForEach (c, pt)
        {
            if (!cJSON_IsNumber (c) || !isfinite (c->valuedouble)) {
                st = dfx__error (ctx, DFX_ERR_FORMAT, "%s: coordinate %d of point %d is not a finite number", path, k,
                                 i);
                goto cleanup;
            }
            (*points)[i * d + k++] = c->valuedouble;
        }
        i++;
    }
    *n = count;
    *dim = d;
cleanup:
    if (st != DFX_OK) {
        free (*points);
        *points = NULL;
    }
    cJSON_Delete (root);
    free (text);
    return st;
}
