/* safetensors.c — the safetensors reader (memory-mapped, fully validated) and
 * the float32 writer.
 *
 * Format: an 8-byte little-endian header length N, N bytes of JSON mapping
 * names to {"dtype", "shape", "data_offsets": [begin, end]} (plus an optional
 * "__metadata__" string map), padded with spaces; then the data, with
 * offsets relative to its start.  Everything is checked at open time, so the
 * accessors cannot fail.  Unlike the reference implementation the reader
 * allows gaps between tensors and trailing bytes (overlaps are refused); it
 * does not interpret the metadata and does not convert integer dtypes.
 */
#include "safetensors.h"

#include "config-json.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct dfx__st_pair {
    const char *key, *value;
} dfx__st_pair;

struct dfx__st_file {
    char *label;
    void *map;                     /* the mmap, NULL for dfx__st_open_memory */
    size_t map_size;
    dfx__st_tensor *tensors;       /* ascending data offset */
    int n;
    int *by_name;                  /* indices into tensors, ascending strcmp of names */
    dfx__st_pair *meta;            /* ascending strcmp of keys */
    int n_meta;
    char *strings;                 /* names, keys and values */
};

static const struct {
    const char *name;
    size_t size;
} dtypes[DFX__DTYPE_COUNT] = {
    [DFX__DTYPE_BOOL] = {"BOOL", 1},   [DFX__DTYPE_U8] = {"U8", 1},
    [DFX__DTYPE_I8] = {"I8", 1},       [DFX__DTYPE_I16] = {"I16", 2},
    [DFX__DTYPE_U16] = {"U16", 2},     [DFX__DTYPE_F16] = {"F16", 2},
    [DFX__DTYPE_BF16] = {"BF16", 2},   [DFX__DTYPE_I32] = {"I32", 4},
    [DFX__DTYPE_U32] = {"U32", 4},     [DFX__DTYPE_F32] = {"F32", 4},
    [DFX__DTYPE_F64] = {"F64", 8},     [DFX__DTYPE_I64] = {"I64", 8},
    [DFX__DTYPE_U64] = {"U64", 8},     [DFX__DTYPE_F8_E4M3] = {"F8_E4M3", 1},
    [DFX__DTYPE_F8_E5M2] = {"F8_E5M2", 1},
};

const char *
dfx__dtype_name (dfx__dtype dtype)
{
    return (unsigned) dtype < DFX__DTYPE_COUNT ? dtypes[dtype].name : "?";
}

size_t
dfx__dtype_size (dfx__dtype dtype)
{
    return (unsigned) dtype < DFX__DTYPE_COUNT ? dtypes[dtype].size : 0;
}

/* ---- Small helpers -------------------------------------------------------- */

static uint16_t
le16 (const unsigned char *p)
{
    return (uint16_t) (p[0] | (p[1] << 8));
}

static uint32_t
le32 (const unsigned char *p)
{
    return (uint32_t) p[0] | ((uint32_t) p[1] << 8) | ((uint32_t) p[2] << 16) | ((uint32_t) p[3] << 24);
}

static uint64_t
le64 (const unsigned char *p)
{
    return (uint64_t) le32 (p) | ((uint64_t) le32 (p + 4) << 32);
}

static float
f32_from_bits (uint32_t u)
{
    float f;
    memcpy (&f, &u, sizeof f);
    return f;
}

float
dfx__f16_to_f32 (uint16_t h)
{
    uint32_t sign = (uint32_t) (h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t mant = h & 0x3ffu;
    if (exp == 0x1f) /* infinity or NaN (payload kept, quiet bit lands on float's quiet bit) */
        return f32_from_bits (sign | 0x7f800000u | (mant << 13));
    if (exp != 0)
        return f32_from_bits (sign | ((exp + 112u) << 23) | (mant << 13));
    if (mant == 0)
        return f32_from_bits (sign);
    /* Subnormal: mant·2^-24; normalise so the leading one is implicit. */
    uint32_t e = 113;
    while (!(mant & 0x400u)) {
        mant <<= 1;
        e--;
    }
    return f32_from_bits (sign | (e << 23) | ((mant & 0x3ffu) << 13));
}

float
dfx__bf16_to_f32 (uint16_t h)
{
    return f32_from_bits ((uint32_t) h << 16);
}

static char *
dup_string (const char *s)
{
    size_t n = strlen (s) + 1;
    char *d = dfx__calloc (1, n);
    if (d)
        memcpy (d, s, n);
    return d;
}

/* "[3, 4, ?]" (negative extents print as '?'). */
static const char *
format_shape (char *buf, size_t cap, int ndim, const int64_t *shape)
{
    size_t at = 0;
    buf[0] = '\0';
    at += (size_t) snprintf (buf + at, cap - at, "[");
    for (int i = 0; i < ndim && at < cap; i++) {
        if (shape[i] < 0)
            at += (size_t) snprintf (buf + at, cap - at, "%s?", i ? ", " : "");
        else
            at += (size_t) snprintf (buf + at, cap - at, "%s%lld", i ? ", " : "", (long long) shape[i]);
    }
    if (at < cap)
        snprintf (buf + at, cap - at, "]");
    return buf;
}

/* ---- Reading --------------------------------------------------------------- */

static int
cmp_offset (const void *a, const void *b)
{
    const dfx__st_tensor *x = a, *y = b;
    const char *px = x->data, *py = y->data;
    if (px != py)
        return px < py ? -1 : 1;
    if (x->nbytes != y->nbytes)
        return x->nbytes < y->nbytes ? -1 : 1;
    return 0;
}

/* qsort has no context argument; names are compared through the file's
 * tensor array, which the index array refers to. */
static int
cmp_name (const void *a, const void *b)
{
    const dfx__st_tensor *const *x = a, *const *y = b;
    return strcmp ((*x)->name, (*y)->name);
}

static int
cmp_key (const void *a, const void *b)
{
    const dfx__st_pair *x = a, *y = b;
    return strcmp (x->key, y->key);
}

/* Validates one tensor entry of the header and fills *t (name excepted). */
static dfx_status
parse_entry (dfx_ctx *ctx, const cJSON *e, const char *label, const unsigned char *data, size_t data_size,
             dfx__st_tensor *t)
{
    char nm[160];
    dfx__printable (nm, sizeof nm, e->string);
    dfx_status st;
    if (!cJSON_IsObject (e))
        return dfx__error (ctx, DFX_ERR_FORMAT, "%s: tensor '%s': entry is %s, expected an object", label, nm,
                           dfx__json_type_name (e));

    const cJSON *dt, *sh, *off;
    if ((st = dfx__json_member (ctx, e, "dtype", label, &dt)) != DFX_OK ||
        (st = dfx__json_member (ctx, e, "shape", label, &sh)) != DFX_OK ||
        (st = dfx__json_member (ctx, e, "data_offsets", label, &off)) != DFX_OK)
        return st;

    if (!cJSON_IsString (dt) || !dt->valuestring)
        return dfx__error (ctx, DFX_ERR_FORMAT, "%s: tensor '%s': field 'dtype' is %s, expected a string", label,
                           nm, dfx__json_type_name (dt));
    int dtype = -1;
    for (int i = 0; i < DFX__DTYPE_COUNT; i++)
        if (strcmp (dt->valuestring, dtypes[i].name) == 0)
            dtype = i;
    if (dtype < 0) {
        char v[64];
        return dfx__error (ctx, DFX_ERR_FORMAT, "%s: tensor '%s': unknown dtype '%s'", label, nm,
                           dfx__printable (v, sizeof v, dt->valuestring));
    }
    t->dtype = (dfx__dtype) dtype;

    if (!cJSON_IsArray (sh))
        return dfx__error (ctx, DFX_ERR_FORMAT, "%s: tensor '%s': field 'shape' is %s, expected an array", label,
                           nm, dfx__json_type_name (sh));
    int ndim = cJSON_GetArraySize (sh);
    if (ndim > DFX__ST_MAX_DIMS)
        return dfx__error (ctx, DFX_ERR_FORMAT, "%s: tensor '%s': field 'shape' has %d dimensions, at most %d allowed",
                           label, nm, ndim, DFX__ST_MAX_DIMS);
    t->ndim = ndim;
    uint64_t count = 1;
    int overflow = 0, i = 0;
    for (const cJSON *d = sh->child; d; d = d->next, i++) {
        int64_t v;
        char field[32];
        snprintf (field, sizeof field, "shape[%d]", i);
        if (dfx__json_int (ctx, d, field, label, 0, INT64_MAX, &v) != DFX_OK)
            return dfx__error (ctx, DFX_ERR_FORMAT, "%s: tensor '%s': field '%s' is not a non-negative integer",
                               label, nm, field);
        t->shape[i] = v;
        overflow |= __builtin_mul_overflow (count, (uint64_t) v, &count);
    }
    uint64_t nbytes = 0;
    overflow |= __builtin_mul_overflow (count, (uint64_t) dtypes[dtype].size, &nbytes);

    if (!cJSON_IsArray (off) || cJSON_GetArraySize (off) != 2)
        return dfx__error (ctx, DFX_ERR_FORMAT,
                           "%s: tensor '%s': field 'data_offsets' is %s, expected an array [begin, end]", label, nm,
                           cJSON_IsArray (off) ? "an array of the wrong length" : dfx__json_type_name (off));
    int64_t begin, end;
    if (dfx__json_int (ctx, off->child, "data_offsets[0]", label, 0, INT64_MAX, &begin) != DFX_OK ||
        dfx__json_int (ctx, off->child->next, "data_offsets[1]", label, 0, INT64_MAX, &end) != DFX_OK)
        return dfx__error (ctx, DFX_ERR_FORMAT, "%s: tensor '%s': field 'data_offsets' holds a value that is not "
                           "a non-negative integer", label, nm);
    if (begin > end)
        return dfx__error (ctx, DFX_ERR_FORMAT, "%s: tensor '%s': data_offsets [%lld, %lld] end before they begin",
                           label, nm, (long long) begin, (long long) end);
    if ((uint64_t) end > data_size)
        return dfx__error (ctx, DFX_ERR_FORMAT,
                           "%s: tensor '%s': data_offsets [%lld, %lld] reach past the end of the data (%zu bytes; "
                           "file truncated?)", label, nm, (long long) begin, (long long) end, data_size);
    char sbuf[200];
    if (overflow || nbytes != (uint64_t) (end - begin))
        return dfx__error (ctx, DFX_ERR_FORMAT,
                           "%s: tensor '%s': shape %s of %s needs %s%llu bytes but data_offsets [%lld, %lld] hold "
                           "%lld", label, nm, format_shape (sbuf, sizeof sbuf, ndim, t->shape), dtypes[dtype].name,
                           overflow ? "more than " : "", overflow ? (unsigned long long) UINT64_MAX
                                                                  : (unsigned long long) nbytes,
                           (long long) begin, (long long) end, (long long) (end - begin));
    t->data = data + begin;
    t->nbytes = (size_t) nbytes;
    return DFX_OK;
}

/* Validates the metadata map and counts its pairs. */
static dfx_status
check_metadata (dfx_ctx *ctx, const cJSON *m, const char *label, int *pairs)
{
    *pairs = 0;
    if (cJSON_IsNull (m))
        return DFX_OK;
    if (!cJSON_IsObject (m))
        return dfx__error (ctx, DFX_ERR_FORMAT, "%s: '__metadata__' is %s, expected an object of strings", label,
                           dfx__json_type_name (m));
    for (const cJSON *c = m->child; c; c = c->next) {
        char k[160];
        if (!cJSON_IsString (c) || !c->valuestring)
            return dfx__error (ctx, DFX_ERR_FORMAT, "%s: '__metadata__' field '%s' is %s, expected a string", label,
                               dfx__printable (k, sizeof k, c->string), dfx__json_type_name (c));
        (*pairs)++;
    }
    return DFX_OK;
}

static dfx_status
load (dfx_ctx *ctx, dfx__st_file *f, const unsigned char *base, size_t size)
{
    const char *label = f->label;
    dfx_status st = DFX_OK;
    cJSON *root = NULL;

    if (size < 8)
        return dfx__error (ctx, DFX_ERR_FORMAT, "%s: the file is %zu bytes, too short for a safetensors header", label,
                           size);
    uint64_t hlen = le64 (base);
    if (hlen > DFX__ST_MAX_HEADER)
        return dfx__error (ctx, DFX_ERR_FORMAT, "%s: header length %llu exceeds the limit of %u bytes", label,
                           (unsigned long long) hlen, DFX__ST_MAX_HEADER);
    if (hlen > size - 8)
        return dfx__error (ctx, DFX_ERR_FORMAT,
                           "%s: header length %llu reaches past the end of the file (%zu bytes; truncated?)", label,
                           (unsigned long long) hlen, size);
    const unsigned char *data = base + 8 + hlen;
    size_t data_size = size - 8 - (size_t) hlen;

    char hlabel[1200];
    snprintf (hlabel, sizeof hlabel, "%s: header", label);
    DFX_CHECK (dfx__json_parse_object (ctx, (const char *) base + 8, (size_t) hlen, hlabel, &root));

    /* Count tensors and metadata, size the string arena. */
    int n = 0, n_meta = 0, seen_meta = 0;
    size_t chars = 0;
    for (const cJSON *e = root->child; e; e = e->next) {
        if (strcmp (e->string, "__metadata__") == 0) {
            if (seen_meta++) {
                st = dfx__error (ctx, DFX_ERR_FORMAT, "%s: '__metadata__' appears twice", label);
                goto cleanup;
            }
            DFX_CHECK (check_metadata (ctx, e, label, &n_meta));
            for (const cJSON *c = cJSON_IsObject (e) ? e->child : NULL; c; c = c->next)
                chars += strlen (c->string) + strlen (c->valuestring) + 2;
        } else {
            n++;
            chars += strlen (e->string) + 1;
        }
    }

    f->tensors = dfx__calloc ((size_t) n + 1, sizeof *f->tensors);
    f->by_name = dfx__calloc ((size_t) n + 1, sizeof *f->by_name);
    f->meta = dfx__calloc ((size_t) n_meta + 1, sizeof *f->meta);
    f->strings = dfx__calloc (chars + 1, 1);
    if (!f->tensors || !f->by_name || !f->meta || !f->strings) {
        st = dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "%s: out of host memory for the header", label);
        goto cleanup;
    }

    char *s = f->strings;
    for (const cJSON *e = root->child; e; e = e->next) {
        if (strcmp (e->string, "__metadata__") == 0) {
            for (const cJSON *c = cJSON_IsObject (e) ? e->child : NULL; c; c = c->next) {
                size_t kl = strlen (c->string) + 1, vl = strlen (c->valuestring) + 1;
                f->meta[f->n_meta].key = memcpy (s, c->string, kl);
                f->meta[f->n_meta].value = memcpy (s + kl, c->valuestring, vl);
                s += kl + vl;
                f->n_meta++;
            }
            continue;
        }
        dfx__st_tensor *t = &f->tensors[f->n];
        DFX_CHECK (parse_entry (ctx, e, label, data, data_size, t));
        size_t nl = strlen (e->string) + 1;
        t->name = memcpy (s, e->string, nl);
        s += nl;
        f->n++;
    }

    qsort (f->meta, (size_t) f->n_meta, sizeof *f->meta, cmp_key);
    for (int i = 1; i < f->n_meta; i++)
        if (strcmp (f->meta[i - 1].key, f->meta[i].key) == 0) {
            char k[160];
            st = dfx__error (ctx, DFX_ERR_FORMAT, "%s: '__metadata__' has a duplicate field '%s'", label,
                             dfx__printable (k, sizeof k, f->meta[i].key));
            goto cleanup;
        }

    /* Ranges must not overlap: sorted by begin, every non-empty range starts
     * at or after the furthest end of the non-empty ranges before it. */
    qsort (f->tensors, (size_t) f->n, sizeof *f->tensors, cmp_offset);
    const dfx__st_tensor *reach = NULL;
    for (int i = 0; i < f->n; i++) {
        const dfx__st_tensor *t = &f->tensors[i];
        if (t->nbytes == 0)
            continue;
        const char *b = t->data;
        if (reach && b < (const char *) reach->data + reach->nbytes) {
            char a[160], c[160];
            const char *rb = reach->data;
            st = dfx__error (ctx, DFX_ERR_FORMAT, "%s: tensors '%s' [%zu, %zu] and '%s' [%zu, %zu] overlap", label,
                             dfx__printable (a, sizeof a, reach->name), (size_t) (rb - (const char *) data),
                             (size_t) (rb - (const char *) data) + reach->nbytes,
                             dfx__printable (c, sizeof c, t->name), (size_t) (b - (const char *) data),
                             (size_t) (b - (const char *) data) + t->nbytes);
            goto cleanup;
        }
        if (!reach || b + t->nbytes > (const char *) reach->data + reach->nbytes)
            reach = t;
    }

    /* Names must be unique (cJSON keeps repeated keys; so do escapes such as
     * "\u0000" that shorten a name). */
    const dfx__st_tensor **order = (const dfx__st_tensor **) dfx__calloc ((size_t) f->n + 1, sizeof *order);
    if (!order) {
        st = dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "%s: out of host memory for the header", label);
        goto cleanup;
    }
    for (int i = 0; i < f->n; i++)
        order[i] = &f->tensors[i];
    qsort (order, (size_t) f->n, sizeof *order, cmp_name);
    for (int i = 0; i < f->n; i++) {
        f->by_name[i] = (int) (order[i] - f->tensors);
        if (i > 0 && strcmp (order[i - 1]->name, order[i]->name) == 0) {
            char a[160];
            st = dfx__error (ctx, DFX_ERR_FORMAT, "%s: tensor name '%s' appears twice", label,
                             dfx__printable (a, sizeof a, order[i]->name));
            break;
        }
    }
    dfx__free (order);

cleanup:
    cJSON_Delete (root);
    return st;
}

static dfx_status
file_new (dfx_ctx *ctx, const char *label, dfx__st_file **out)
{
    *out = dfx__calloc (1, sizeof **out);
    if (*out)
        (*out)->label = dup_string (label);
    if (!*out || !(*out)->label) {
        dfx__free (*out);
        *out = NULL;
        return dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "%s: out of host memory", label);
    }
    return DFX_OK;
}

dfx_status
dfx__st_open_memory (dfx_ctx *ctx, const void *data, size_t size, const char *label, dfx__st_file **out)
{
    dfx__st_file *f = NULL;
    dfx_status st;
    *out = NULL;
    if (!label)
        label = "<memory>";
    if (!data && size)
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "%s: NULL data of %zu bytes", label, size);
    DFX_CHECK (file_new (ctx, label, &f));
    DFX_CHECK (load (ctx, f, data, size));
    *out = f;
    f = NULL;
cleanup:
    dfx__st_close (f);
    return st;
}

dfx_status
dfx__st_from_tensors (dfx_ctx *ctx, const char *label, const dfx__st_tensor *tensors, int n, void *map,
                      size_t map_size, dfx__st_file **out)
{
    dfx__st_file *f = NULL;
    dfx_status st;
    *out = NULL;
    if (file_new (ctx, label, &f) != DFX_OK) {
        if (map)
            munmap (map, map_size);
        return DFX_ERR_OUT_OF_HOST_MEMORY;
    }
    f->map = map;
    f->map_size = map_size;
    size_t chars = 1;
    for (int i = 0; i < n; i++)
        chars += strlen (tensors[i].name) + 1;
    f->tensors = dfx__calloc ((size_t) n + 1, sizeof *f->tensors);
    f->by_name = dfx__calloc ((size_t) n + 1, sizeof *f->by_name);
    f->meta = dfx__calloc (1, sizeof *f->meta);
    f->strings = dfx__calloc (chars, 1);
    const dfx__st_tensor **order = (const dfx__st_tensor **) dfx__calloc ((size_t) n + 1, sizeof *order);
    if (!f->tensors || !f->by_name || !f->meta || !f->strings || !order) {
        st = dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "%s: out of host memory", label);
        goto cleanup;
    }
    char *s = f->strings;
    for (int i = 0; i < n; i++) {
        f->tensors[i] = tensors[i];
        size_t nl = strlen (tensors[i].name) + 1;
        f->tensors[i].name = memcpy (s, tensors[i].name, nl);
        s += nl;
    }
    f->n = n;
    qsort (f->tensors, (size_t) n, sizeof *f->tensors, cmp_offset);
    for (int i = 0; i < n; i++)
        order[i] = &f->tensors[i];
    qsort (order, (size_t) n, sizeof *order, cmp_name);
    st = DFX_OK;
    for (int i = 0; i < n; i++) {
        f->by_name[i] = (int) (order[i] - f->tensors);
        if (i > 0 && strcmp (order[i - 1]->name, order[i]->name) == 0) {
            char a[160];
            st = dfx__error (ctx, DFX_ERR_FORMAT, "%s: tensor name '%s' appears twice", label,
                             dfx__printable (a, sizeof a, order[i]->name));
            goto cleanup;
        }
    }
    *out = f;
    f = NULL;
cleanup:
    dfx__free (order);
    dfx__st_close (f);
    return st;
}

dfx_status
dfx__map_file (dfx_ctx *ctx, const char *path, void **map, size_t *size)
{
    *map = NULL;
    *size = 0;
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return dfx__error (ctx, DFX_ERR_IO, "%s: cannot open: %s", path, strerror (errno));
    struct stat sb;
    dfx_status st = DFX_OK;
    if (fstat (fd, &sb) != 0)
        st = dfx__error (ctx, DFX_ERR_IO, "%s: cannot stat: %s", path, strerror (errno));
    else if (!S_ISREG (sb.st_mode))
        st = dfx__error (ctx, DFX_ERR_IO, "%s: not a regular file", path);
    else if (sb.st_size == 0)
        st = dfx__error (ctx, DFX_ERR_FORMAT, "%s: the file is empty", path);
    else if ((uintmax_t) sb.st_size > SIZE_MAX)
        st = dfx__error (ctx, DFX_ERR_IO, "%s: the file is too large to map", path);
    else {
        void *m = mmap (NULL, (size_t) sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m == MAP_FAILED)
            st = dfx__error (ctx, DFX_ERR_IO, "%s: cannot map %lld bytes: %s", path, (long long) sb.st_size,
                             strerror (errno));
        else {
            *map = m;
            *size = (size_t) sb.st_size;
        }
    }
    close (fd);
    return st;
}

dfx_status
dfx__st_open (dfx_ctx *ctx, const char *path, dfx__st_file **out)
{
    dfx__st_file *f = NULL;
    dfx_status st = DFX_OK;
    int fd = -1;
    *out = NULL;

    DFX_CHECK (file_new (ctx, path, &f));
    fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        st = dfx__error (ctx, DFX_ERR_IO, "%s: cannot open: %s", path, strerror (errno));
        goto cleanup;
    }
    struct stat sb;
    if (fstat (fd, &sb) != 0) {
        st = dfx__error (ctx, DFX_ERR_IO, "%s: cannot stat: %s", path, strerror (errno));
        goto cleanup;
    }
    if (!S_ISREG (sb.st_mode)) {
        st = dfx__error (ctx, DFX_ERR_IO, "%s: not a regular file", path);
        goto cleanup;
    }
    if (sb.st_size < 8) {
        st = dfx__error (ctx, DFX_ERR_FORMAT, "%s: the file is %lld bytes, too short for a safetensors header", path,
                         (long long) sb.st_size);
        goto cleanup;
    }
    if ((uintmax_t) sb.st_size > SIZE_MAX) {
        st = dfx__error (ctx, DFX_ERR_IO, "%s: the file is too large to map", path);
        goto cleanup;
    }
    void *map = mmap (NULL, (size_t) sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
        st = dfx__error (ctx, DFX_ERR_IO, "%s: cannot map %lld bytes: %s", path, (long long) sb.st_size,
                         strerror (errno));
        goto cleanup;
    }
    f->map = map;
    f->map_size = (size_t) sb.st_size;
    DFX_CHECK (load (ctx, f, map, f->map_size));
    *out = f;
    f = NULL;
cleanup:
    if (fd >= 0)
        close (fd);
    dfx__st_close (f);
    return st;
}

void
dfx__st_close (dfx__st_file *f)
{
    if (!f)
        return;
    if (f->map)
        munmap (f->map, f->map_size);
    dfx__free (f->strings);
    dfx__free (f->meta);
    dfx__free (f->by_name);
    dfx__free (f->tensors);
    dfx__free (f->label);
    dfx__free (f);
}

const char *
dfx__st_label (const dfx__st_file *f)
{
    return f->label;
}

int
dfx__st_count (const dfx__st_file *f)
{
    return f->n;
}

const dfx__st_tensor *
dfx__st_at (const dfx__st_file *f, int i)
{
    return (i >= 0 && i < f->n) ? &f->tensors[i] : NULL;
}

const dfx__st_tensor *
dfx__st_find (const dfx__st_file *f, const char *name)
{
    int lo = 0, hi = f->n - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        const dfx__st_tensor *t = &f->tensors[f->by_name[mid]];
        int c = strcmp (name, t->name);
        if (c == 0)
            return t;
        if (c < 0)
            hi = mid - 1;
        else
            lo = mid + 1;
    }
    return NULL;
}

const char *
dfx__st_metadata (const dfx__st_file *f, const char *key)
{
    int lo = 0, hi = f->n_meta - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        int c = strcmp (key, f->meta[mid].key);
        if (c == 0)
            return f->meta[mid].value;
        if (c < 0)
            hi = mid - 1;
        else
            lo = mid + 1;
    }
    return NULL;
}

dfx_status
dfx__st_read_f32 (dfx_ctx *ctx, const dfx__st_file *f, const char *name, int ndim, const int64_t *shape,
                  float *dst)
{
    char nm[160];
    const dfx__st_tensor *t = dfx__st_find (f, name);
    if (!t)
        return dfx__error (ctx, DFX_ERR_FORMAT, "tensor '%s' is missing from %s", dfx__printable (nm, sizeof nm, name),
                           f->label);
    if (ndim > DFX__ST_MAX_DIMS || (ndim > 0 && !shape))
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "tensor '%s' of %s: expected shape of %d dimensions is "
                           "invalid", dfx__printable (nm, sizeof nm, name), f->label, ndim);
    int match = ndim < 0 || ndim == t->ndim;
    for (int i = 0; match && i < ndim; i++)
        match = shape[i] < 0 || shape[i] == t->shape[i];
    if (!match) {
        char have[200], want[200];
        return dfx__error (ctx, DFX_ERR_FORMAT, "tensor '%s' in %s has shape %s, expected %s",
                           dfx__printable (nm, sizeof nm, name), f->label,
                           format_shape (have, sizeof have, t->ndim, t->shape),
                           format_shape (want, sizeof want, ndim, shape));
    }

    const unsigned char *p = t->data;
    size_t count = t->nbytes / dtypes[t->dtype].size;
    switch (t->dtype) {
    case DFX__DTYPE_F32:
        for (size_t i = 0; i < count; i++)
            dst[i] = f32_from_bits (le32 (p + 4 * i));
        break;
    case DFX__DTYPE_F16:
        for (size_t i = 0; i < count; i++)
            dst[i] = dfx__f16_to_f32 (le16 (p + 2 * i));
        break;
    case DFX__DTYPE_BF16:
        for (size_t i = 0; i < count; i++)
            dst[i] = dfx__bf16_to_f32 (le16 (p + 2 * i));
        break;
    case DFX__DTYPE_F64:
        for (size_t i = 0; i < count; i++) {
            uint64_t u = le64 (p + 8 * i);
            double d;
            memcpy (&d, &u, sizeof d);
            dst[i] = (float) d; /* IEEE rounding; beyond the float range → ±inf */
        }
        break;
    default:
        return dfx__error (ctx, DFX_ERR_UNSUPPORTED, "tensor '%s' in %s has dtype %s; only F32, F16, BF16 and F64 "
                           "convert to float32", dfx__printable (nm, sizeof nm, name), f->label,
                           dtypes[t->dtype].name);
    }
    return DFX_OK;
}

/* ---- Writing ------------------------------------------------------------------ */

/* Appends to buf when it is not NULL; returns the new length either way. */
static size_t
put (char *buf, size_t at, const char *s, size_t n)
{
    if (buf)
        memcpy (buf + at, s, n);
    return at + n;
}

static size_t
put_json_string (char *buf, size_t at, const char *s)
{
    at = put (buf, at, "\"", 1);
    for (const unsigned char *c = (const unsigned char *) s; *c; c++) {
        char esc[8];
        if (*c == '"' || *c == '\\') {
            esc[0] = '\\';
            esc[1] = (char) *c;
            at = put (buf, at, esc, 2);
        } else if (*c < 0x20) {
            snprintf (esc, sizeof esc, "\\u%04x", *c);
            at = put (buf, at, esc, 6);
        } else {
            at = put (buf, at, (const char *) c, 1);
        }
    }
    return put (buf, at, "\"", 1);
}

static size_t
put_int (char *buf, size_t at, long long v)
{
    char num[32];
    int k = snprintf (num, sizeof num, "%lld", v);
    return put (buf, at, num, (size_t) k);
}

/* The header JSON (unpadded); buf NULL only measures.  sizes[i] = bytes of
 * tensor i. */
static size_t
emit_header (char *buf, const dfx__st_out *t, int n, const uint64_t *sizes)
{
    size_t at = put (buf, 0, "{", 1);
    uint64_t off = 0;
    for (int i = 0; i < n; i++) {
        if (i)
            at = put (buf, at, ",", 1);
        at = put_json_string (buf, at, t[i].name);
        static const char head[] = ":{\"dtype\":\"";
        at = put (buf, at, head, sizeof head - 1);
        const char *dt = t[i].raw ? dtypes[t[i].dtype].name : "F32";
        at = put (buf, at, dt, strlen (dt));
        static const char head2[] = "\",\"shape\":[";
        at = put (buf, at, head2, sizeof head2 - 1);
        for (int d = 0; d < t[i].ndim; d++) {
            if (d)
                at = put (buf, at, ",", 1);
            at = put_int (buf, at, (long long) t[i].shape[d]);
        }
        static const char mid[] = "],\"data_offsets\":[";
        at = put (buf, at, mid, sizeof mid - 1);
        at = put_int (buf, at, (long long) off);
        at = put (buf, at, ",", 1);
        off += sizes[i];
        at = put_int (buf, at, (long long) off);
        at = put (buf, at, "]}", 2);
    }
    return put (buf, at, "}", 1);
}

static dfx_status
check_outputs (dfx_ctx *ctx, const char *path, const dfx__st_out *t, int n, uint64_t *sizes)
{
    uint64_t total = 0;
    for (int i = 0; i < n; i++) {
        char nm[160];
        if (!t[i].name || !*t[i].name || strcmp (t[i].name, "__metadata__") == 0)
            return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "%s: tensor %d has an invalid name '%s'", path, i,
                               t[i].name ? dfx__printable (nm, sizeof nm, t[i].name) : "(null)");
        dfx__printable (nm, sizeof nm, t[i].name);
        for (int j = 0; j < i; j++)
            if (strcmp (t[i].name, t[j].name) == 0)
                return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "%s: tensor name '%s' is given twice", path, nm);
        if (t[i].ndim < 0 || t[i].ndim > DFX__ST_MAX_DIMS)
            return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "%s: tensor '%s' has %d dimensions (0 to %d allowed)",
                               path, nm, t[i].ndim, DFX__ST_MAX_DIMS);
        uint64_t count = 1;
        int overflow = 0;
        for (int d = 0; d < t[i].ndim; d++) {
            if (t[i].shape[d] < 0)
                return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "%s: tensor '%s' has a negative extent %lld", path,
                                   nm, (long long) t[i].shape[d]);
            overflow |= __builtin_mul_overflow (count, (uint64_t) t[i].shape[d], &count);
        }
        if (t[i].raw && (unsigned) t[i].dtype >= DFX__DTYPE_COUNT)
            return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "%s: tensor '%s' has an invalid dtype", path, nm);
        uint64_t esize = t[i].raw ? dtypes[t[i].dtype].size : 4;
        overflow |= __builtin_mul_overflow (count, esize, &sizes[i]);
        overflow |= __builtin_add_overflow (total, sizes[i], &total);
        if (overflow || total > (uint64_t) INT64_MAX / 2)
            return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "%s: tensor '%s' is too large", path, nm);
        if (count && !t[i].data && !t[i].raw)
            return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "%s: tensor '%s' has no data", path, nm);
    }
    return DFX_OK;
}

dfx_status
dfx__st_write_f32 (dfx_ctx *ctx, const char *path, const dfx__st_out *tensors, int n)
{
    dfx_status st = DFX_OK;
    uint64_t *sizes = NULL;
    char *header = NULL, *tmp = NULL;
    unsigned char *chunk = NULL;
    FILE *fp = NULL;
    int fd = -1;

    if (!path || n < 0 || (n > 0 && !tensors))
        return dfx__error (ctx, DFX_ERR_INVALID_ARGUMENT, "safetensors writer: invalid arguments");
    sizes = dfx__calloc ((size_t) n + 1, sizeof *sizes);
    if (!sizes)
        return dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "%s: out of host memory", path);
    DFX_CHECK (check_outputs (ctx, path, tensors, n, sizes));

    /* Header padded with spaces so that the data starts 8-byte aligned. */
    size_t hlen = emit_header (NULL, tensors, n, sizes);
    size_t padded = (hlen + 7) & ~(size_t) 7;
    header = dfx__calloc (8 + padded, 1);
    size_t plen = strlen (path);
    tmp = dfx__calloc (plen + 8, 1);
    chunk = dfx__calloc (1 << 16, 1);
    if (!header || !tmp || !chunk) {
        st = dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "%s: out of host memory", path);
        goto cleanup;
    }
    for (int b = 0; b < 8; b++)
        header[b] = (char) ((uint64_t) padded >> (8 * b));
    emit_header (header + 8, tensors, n, sizes);
    memset (header + 8 + hlen, ' ', padded - hlen);

    memcpy (tmp, path, plen);
    memcpy (tmp + plen, ".XXXXXX", 8);
    fd = mkstemp (tmp);
    if (fd < 0) {
        st = dfx__error (ctx, DFX_ERR_IO, "%s: cannot create a temporary file beside it: %s", path, strerror (errno));
        tmp[0] = '\0';
        goto cleanup;
    }
    fchmod (fd, 0644);
    fp = fdopen (fd, "wb");
    if (!fp) {
        st = dfx__error (ctx, DFX_ERR_IO, "%s: cannot write: %s", path, strerror (errno));
        goto cleanup;
    }
    fd = -1; /* owned by fp now */
    int ok = fwrite (header, 1, 8 + padded, fp) == 8 + padded;
    for (int i = 0; ok && i < n; i++) {
        if (tensors[i].raw) {
            ok = sizes[i] == 0 || fwrite (tensors[i].raw, 1, (size_t) sizes[i], fp) == sizes[i];
            continue;
        }
        size_t count = (size_t) (sizes[i] / 4);
        const float *x = tensors[i].data;
        for (size_t at = 0; ok && at < count;) {
            size_t k = count - at < (1 << 14) ? count - at : (1 << 14);
            for (size_t j = 0; j < k; j++) {
                uint32_t u;
                memcpy (&u, &x[at + j], 4);
                for (int b = 0; b < 4; b++)
                    chunk[4 * j + (size_t) b] = (unsigned char) (u >> (8 * b));
            }
            ok = fwrite (chunk, 4, k, fp) == k;
            at += k;
        }
    }
    ok = ok && fflush (fp) == 0 && fsync (fileno (fp)) == 0;
    int saved = errno;
    ok = (fclose (fp) == 0) && ok;
    fp = NULL;
    if (!ok) {
        st = dfx__error (ctx, DFX_ERR_IO, "%s: cannot write: %s", path, strerror (saved ? saved : errno));
        goto cleanup;
    }
    if (rename (tmp, path) != 0) {
        st = dfx__error (ctx, DFX_ERR_IO, "%s: cannot replace the file: %s", path, strerror (errno));
        goto cleanup;
    }
    tmp[0] = '\0';

cleanup:
    if (fp)
        fclose (fp);
    if (fd >= 0)
        close (fd);
    if (tmp && tmp[0])
        unlink (tmp);
    dfx__free (chunk);
    dfx__free (tmp);
    dfx__free (header);
    dfx__free (sizes);
    return st;
}
