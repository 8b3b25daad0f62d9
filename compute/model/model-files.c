/* model-files.c — finding a model folder's network, weights and schedule in
 * the layouts diffusers writes (model-files.h), and opening the weights in
 * either format.
 */
#include "model-files.h"

#include "config-json.h"
#include "torch-pickle.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define BASE "diffusion_pytorch_model"
#define MAX_INDEX (64u << 20)
#define MAX_VARIANTS 8

static char *
fmt (const char *f, ...) __attribute__ ((format (printf, 1, 2)));

static char *
fmt (const char *f, ...)
{
    va_list ap;
    va_start (ap, f);
    int n = vsnprintf (NULL, 0, f, ap);
    va_end (ap);
    char *s = n >= 0 ? malloc ((size_t) n + 1) : NULL;
    if (s) {
        va_start (ap, f);
        vsnprintf (s, (size_t) n + 1, f, ap);
        va_end (ap);
    }
    return s;
}

static int
is_file (const char *path)
{
    struct stat sb;
    return stat (path, &sb) == 0 && S_ISREG (sb.st_mode);
}

int
dfx__model_files_is_torch (const char *path)
{
    size_t n = strlen (path);
    return n >= 4 && strcmp (path + n - 4, ".bin") == 0;
}

void
dfx__model_files_free (dfx__model_files *m)
{
    if (!m)
        return;
    for (int i = 0; i < m->n_files; i++)
        free (m->files[i]);
    for (int i = 0; i < m->n_map; i++)
        free (m->map_names[i]);
    free (m->map_names);
    free (m->map_file);
    free (m->files);
    free (m->folder);
    free (m->config);
    free (m->scheduler);
    free (m->weights);
    free (m->variant);
    free (m);
}

/* model_index.json: the UNet2DModel component and the scheduler. */
static dfx_status
read_model_index (dfx_ctx *ctx, const char *dir, const char *path, char **unet, char **sched)
{
    char *text = NULL;
    size_t len;
    cJSON *root = NULL;
    dfx_status st = dfx__read_text_file (ctx, path, 1u << 20, &text, &len);
    if (st == DFX_OK)
        st = dfx__json_parse_object (ctx, text, len, path, &root);
    if (st != DFX_OK)
        goto cleanup;
    const char *other = NULL, *other_class = NULL;
    for (const cJSON *e = root->child; e; e = e->next) {
        if (e->string[0] == '_' || !cJSON_IsArray (e) || cJSON_GetArraySize (e) != 2)
            continue;
        const cJSON *cls = cJSON_GetArrayItem (e, 1);
        if (!cJSON_IsString (cls) || !cls->valuestring || strchr (e->string, '/') || strcmp (e->string, "..") == 0)
            continue;
        const char *c = cls->valuestring;
        size_t cl = strlen (c);
        if (strcmp (c, "UNet2DModel") == 0 && !*unet)
            *unet = fmt ("%s/%s", dir, e->string);
        else if (strstr (c, "UNet") || strstr (c, "Transformer"))
            other = e->string, other_class = c;
        if (cl >= 9 && strcmp (c + cl - 9, "Scheduler") == 0 && !*sched)
            *sched = fmt ("%s/%s/scheduler_config.json", dir, e->string);
    }
    if (!*unet) {
        char a[100], b[100];
        st = other ? dfx__error (ctx, DFX_ERR_UNSUPPORTED,
                                 "%s: the pipeline's network '%s' is a %s; dfx runs UNet2DModel networks "
                                 "(unconditional, in pixel space, as the google/ddpm-* models)",
                                 path, dfx__printable (a, sizeof a, other), dfx__printable (b, sizeof b, other_class))
                   : dfx__error (ctx, DFX_ERR_FORMAT,
                                 "%s: no component of class UNet2DModel (expected e.g. \"unet\": [\"diffusers\", "
                                 "\"UNet2DModel\"])", path);
        goto cleanup;
    }
    if (!*sched)
        *sched = fmt ("%s/scheduler/scheduler_config.json", dir);
    if (!*sched)
        st = dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory reading %s", path);
cleanup:
    cJSON_Delete (root);
    dfx__free (text);
    return st;
}

/* A sharded set: the index's weight_map and its distinct shard files. */
static dfx_status
read_index (dfx_ctx *ctx, dfx__model_files *m)
{
    char *text = NULL;
    size_t len;
    cJSON *root = NULL;
    const cJSON *map = NULL;
    dfx_status st = dfx__read_text_file (ctx, m->weights, MAX_INDEX, &text, &len);
    if (st == DFX_OK)
        st = dfx__json_parse_object (ctx, text, len, m->weights, &root);
    if (st == DFX_OK)
        st = dfx__json_member (ctx, root, "weight_map", m->weights, &map);
    if (st != DFX_OK)
        goto cleanup;
    if (!cJSON_IsObject (map) || !map->child) {
        st = dfx__error (ctx, DFX_ERR_FORMAT, "%s: field 'weight_map' is %s, expected an object of tensor names and "
                         "file names", m->weights, map ? "empty or not an object" : "missing");
        goto cleanup;
    }
    int n = cJSON_GetArraySize (map);
    m->map_names = calloc ((size_t) n, sizeof *m->map_names);
    m->map_file = calloc ((size_t) n, sizeof *m->map_file);
    m->files = calloc ((size_t) n, sizeof *m->files);
    if (!m->map_names || !m->map_file || !m->files)
        goto oom;
    for (const cJSON *e = map->child; e; e = e->next) {
        char a[160], b[160];
        const char *f = cJSON_IsString (e) ? e->valuestring : NULL;
        if (!f || !*f || strchr (f, '/') || strcmp (f, ".") == 0 || strcmp (f, "..") == 0) {
            st = dfx__error (ctx, DFX_ERR_FORMAT, "%s: weight_map['%s'] is %s, expected the name of a file beside "
                             "the index", m->weights, dfx__printable (a, sizeof a, e->string),
                             f ? dfx__printable (b, sizeof b, f) : "not a string");
            goto cleanup;
        }
        int k = 0;
        for (; k < m->n_files; k++)
            if (strcmp (strrchr (m->files[k], '/') + 1, f) == 0)
                break;
        if (k == m->n_files && !(m->files[m->n_files++] = fmt ("%s/%s", m->folder, f)))
            goto oom;
        if (!(m->map_names[m->n_map] = fmt ("%s", e->string)))
            goto oom;
        m->map_file[m->n_map++] = k;
    }
    goto cleanup;
oom:
    st = dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory reading %s", m->weights);
cleanup:
    cJSON_Delete (root);
    dfx__free (text);
    return st;
}

/* The variants present in folder (NAME.V.safetensors, NAME.V.bin and their
 * indexes), sorted, at most MAX_VARIANTS; returns their count. */
static int
list_variants (const char *folder, char v[MAX_VARIANTS][64])
{
    static const char *const pre[] = {BASE ".", BASE ".", BASE ".safetensors.index.", BASE ".bin.index."};
    static const char *const suf[] = {".safetensors", ".bin", ".json", ".json"};
    int n = 0;
    DIR *d = opendir (folder);
    if (!d)
        return 0;
    for (struct dirent *e; (e = readdir (d)) != NULL;) {
        for (int k = 0; k < 4; k++) {
            size_t nl = strlen (e->d_name), pl = strlen (pre[k]), sl = strlen (suf[k]);
            if (nl <= pl + sl || strncmp (e->d_name, pre[k], pl) != 0 || strcmp (e->d_name + nl - sl, suf[k]) != 0)
                continue;
            char name[64];
            size_t vl = nl - pl - sl;
            if (vl >= sizeof name)
                continue;
            memcpy (name, e->d_name + pl, vl);
            name[vl] = '\0';
            if (strchr (name, '.') || strstr (name, "-of-"))
                continue; /* another pattern, or a shard */
            int seen = 0;
            for (int i = 0; i < n; i++)
                seen |= strcmp (v[i], name) == 0;
            if (!seen && n < MAX_VARIANTS)
                memcpy (v[n++], name, vl + 1);
        }
    }
    closedir (d);
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && strcmp (v[j - 1], v[j]) > 0; j--) {
            char t[64];
            memcpy (t, v[j], 64);
            memcpy (v[j], v[j - 1], 64);
            memcpy (v[j - 1], t, 64);
        }
    return n;
}

/* The weights of variant (NULL: plain names) in m->folder, or 0. */
static int
find_weights (dfx__model_files *m, const char *variant)
{
    char *c[4];
    if (variant) {
        c[0] = fmt ("%s/" BASE ".%s.safetensors", m->folder, variant);
        c[1] = fmt ("%s/" BASE ".safetensors.index.%s.json", m->folder, variant);
        c[2] = fmt ("%s/" BASE ".%s.bin", m->folder, variant);
        c[3] = fmt ("%s/" BASE ".bin.index.%s.json", m->folder, variant);
    } else {
        c[0] = fmt ("%s/" BASE ".safetensors", m->folder);
        c[1] = fmt ("%s/" BASE ".safetensors.index.json", m->folder);
        c[2] = fmt ("%s/" BASE ".bin", m->folder);
        c[3] = fmt ("%s/" BASE ".bin.index.json", m->folder);
    }
    int found = 0;
    for (int k = 0; k < 4; k++) {
        if (!found && c[k] && is_file (c[k])) {
            m->weights = c[k];
            found = k % 2 ? 2 : 1; /* 2: an index */
            continue;
        }
        free (c[k]);
    }
    return found;
}

dfx_status
dfx__model_files_find (dfx_ctx *ctx, const char *dir, const char *part, const char *variant,
                       dfx__model_files **out)
{
    dfx_status st = DFX_OK;
    *out = NULL;
    if (variant && !*variant)
        variant = NULL;
    if (variant && (strchr (variant, '/') || strlen (variant) > 60))
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "variant '%s' is not a name such as fp16", variant);
    dfx__model_files *m = calloc (1, sizeof *m);
    char *index = fmt ("%s/model_index.json", dir), *sub = fmt ("%s/%s/config.json", dir, part),
         *bare = fmt ("%s/config.json", dir);
    if (!m || !index || !sub || !bare)
        goto oom;
    int is_unet = strcmp (part, "unet") == 0;
    int root_files = 0; /* the single-model layout: network and schedule at the root */
    if (is_unet && is_file (index)) {
        if ((st = read_model_index (ctx, dir, index, &m->folder, &m->scheduler)) != DFX_OK)
            goto cleanup;
        /* Early hub repositories keep a model_index.json beside root files. */
        char *cfg = fmt ("%s/config.json", m->folder);
        if (cfg && !is_file (cfg) && is_file (bare)) {
            free (m->folder);
            free (m->scheduler);
            m->folder = m->scheduler = NULL;
            root_files = 1;
        }
        free (cfg);
    } else if (is_file (sub) || !is_unet) {
        m->folder = fmt ("%s/%s", dir, part);
        m->scheduler = fmt ("%s/scheduler/scheduler_config.json", dir);
    } else if (!is_file (bare)) {
        st = dfx__error (ctx, DFX_ERR_IO, "%s: cannot open: %s is not a model folder (expected %s/unet/config.json "
                         "of a diffusers pipeline, %s/model_index.json, or %s/config.json with the weights beside it)",
                         sub, dir, dir, dir, dir);
        goto cleanup;
    } else {
        root_files = 1;
    }
    if (root_files) {
        m->folder = fmt ("%s", dir);
        m->scheduler = fmt ("%s/scheduler_config.json", dir);
        if (m->scheduler && !is_file (m->scheduler)) {
            free (m->scheduler);
            m->scheduler = fmt ("%s/scheduler/scheduler_config.json", dir);
        }
    }
    if (!m->folder || !m->scheduler || !(m->config = fmt ("%s/config.json", m->folder)))
        goto oom;
    if (!is_file (m->config)) {
        st = dfx__error (ctx, DFX_ERR_IO, "%s: cannot open: the network's config.json is missing", m->config);
        goto cleanup;
    }

    int found = 0;
    /* Pipelines ship variants of unet/ and vae/ alike; dfx's own parts have plain names. */
    const char *use = is_unet || strcmp (part, "vae") == 0 ? variant : NULL;
    found = find_weights (m, use);
    char v[MAX_VARIANTS][64];
    int nv = 0;
    if (!found && !use) {
        nv = list_variants (m->folder, v);
        if (nv == 1)
            found = find_weights (m, use = v[0]);
    }
    if (!found) {
        if (use)
            st = dfx__error (ctx, DFX_ERR_IO, "%s: no weights of variant '%s': expected " BASE ".%s.safetensors, "
                             BASE ".%s.bin or a sharded " BASE ".safetensors.index.%s.json in it", m->folder, use,
                             use, use, use);
        else if (nv > 1) {
            char list[400] = "";
            for (int i = 0; i < nv; i++)
                snprintf (list + strlen (list), sizeof list - strlen (list), "%s%s", i ? ", " : "", v[i]);
            st = dfx__error (ctx, DFX_ERR_IO, "%s: no " BASE ".safetensors or .bin, but the variants %s: choose one "
                             "(dfx --variant NAME, or DFX_VARIANT=NAME)", m->folder, list);
        } else
            st = dfx__error (ctx, DFX_ERR_IO, "%s/" BASE ".safetensors: cannot open: %s has no weights (expected "
                             BASE ".safetensors, " BASE ".bin, a sharded " BASE ".safetensors.index.json, or a "
                             "variant such as " BASE ".fp16.safetensors)", m->folder, m->folder);
        goto cleanup;
    }
    if (use && !(m->variant = fmt ("%s", use)))
        goto oom;
    if (found == 2)
        st = read_index (ctx, m);
    else if ((m->files = calloc (1, sizeof *m->files)) && (m->files[0] = fmt ("%s", m->weights)))
        m->n_files = 1;
    else
        goto oom;
    goto cleanup;
oom:
    st = dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory looking into %s", dir);
cleanup:
    free (index);
    free (sub);
    free (bare);
    if (st == DFX_OK)
        *out = m;
    else
        dfx__model_files_free (m);
    return st;
}

dfx_status
dfx__model_files_open (dfx_ctx *ctx, const dfx__model_files *m, dfx__st_file ***files)
{
    dfx_status st = DFX_OK;
    dfx__st_file **f = calloc ((size_t) m->n_files + 1, sizeof *f);
    *files = NULL;
    if (!f)
        return dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "out of host memory opening %s", m->weights);
    for (int i = 0; i < m->n_files && st == DFX_OK; i++)
        st = dfx__model_files_is_torch (m->files[i]) ? dfx__torch_open (ctx, m->files[i], &f[i])
                                                     : dfx__st_open (ctx, m->files[i], &f[i]);
    for (int i = 0; i < m->n_map && st == DFX_OK; i++)
        if (!dfx__st_find (f[m->map_file[i]], m->map_names[i])) {
            char a[160];
            st = dfx__error (ctx, DFX_ERR_FORMAT, "%s: tensor '%s' should be in %s, which does not hold it",
                             m->weights, dfx__printable (a, sizeof a, m->map_names[i]), m->files[m->map_file[i]]);
        }
    if (st != DFX_OK) {
        for (int i = 0; i < m->n_files; i++)
            dfx__st_close (f[i]);
        free (f);
        return st;
    }
    *files = f;
    return DFX_OK;
}
