/* config-json.c — cJSON helpers for dfx's file parsers: strict parsing of a
 * whole buffer, duplicate-key detection, typed and range-checked getters with
 * messages that name the file and the field.
 *
 * It knows no file format; safetensors.c, unet-config.c and sched-config.c
 * hold the rules of theirs.
 */
#include "config-json.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

const char *
dfx__printable (char *dst, size_t cap, const char *s)
{
    if (cap == 0)
        return dst;
    size_t n = 0;
    if (!s)
        s = "(null)";
    for (; s[n] && n + 1 < cap; n++) {
        unsigned char c = (unsigned char) s[n];
        dst[n] = (c < 0x20 || c == 0x7f) ? '?' : (char) c;
    }
    dst[n] = '\0';
    if (s[n] && cap > 4)
        memcpy (dst + cap - 4, "...", 4);
    return dst;
}

const char *
dfx__json_type_name (const cJSON *item)
{
    if (!item)
        return "missing";
    if (cJSON_IsNull (item))
        return "null";
    if (cJSON_IsBool (item))
        return "a boolean";
    if (cJSON_IsNumber (item))
        return "a number";
    if (cJSON_IsString (item))
        return "a string";
    if (cJSON_IsArray (item))
        return "an array";
    if (cJSON_IsObject (item))
        return "an object";
    return "an invalid value";
}

static int
is_space (char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

dfx_status
dfx__json_parse_object (dfx_ctx *ctx, const char *json, size_t len, const char *label, cJSON **out)
{
    *out = NULL;
    if (len == 0)
        return dfx__error (ctx, DFX_ERR_FORMAT, "%s: empty JSON", label);
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts (json, len, &end, 0);
    if (!root) {
        size_t at = (end && end >= json && end <= json + len) ? (size_t) (end - json) : 0;
        return dfx__error (ctx, DFX_ERR_FORMAT, "%s: invalid JSON near byte %zu", label, at);
    }
    /* Only whitespace (safetensors pads headers with spaces) may follow. */
    size_t at = (size_t) (end - json);
    while (at < len && is_space (json[at]))
        at++;
    if (at < len) {
        cJSON_Delete (root);
        return dfx__error (ctx, DFX_ERR_FORMAT, "%s: invalid JSON: unexpected data after the value at byte %zu",
                           label, at);
    }
    if (!cJSON_IsObject (root)) {
        dfx_status st = dfx__error (ctx, DFX_ERR_FORMAT, "%s: the JSON is %s, expected an object", label,
                                    dfx__json_type_name (root));
        cJSON_Delete (root);
        return st;
    }
    *out = root;
    return DFX_OK;
}

dfx_status
dfx__json_member (dfx_ctx *ctx, const cJSON *obj, const char *key, const char *label, const cJSON **out)
{
    const cJSON *found = NULL;
    for (const cJSON *c = obj ? obj->child : NULL; c; c = c->next) {
        if (c->string && strcmp (c->string, key) == 0) {
            if (found) {
                *out = NULL;
                return dfx__error (ctx, DFX_ERR_FORMAT, "%s: duplicate field '%s'", label, key);
            }
            found = c;
        }
    }
    *out = found;
    return DFX_OK;
}

int
dfx__json_is_null (const cJSON *item)
{
    return !item || cJSON_IsNull (item);
}

dfx_status
dfx__json_int (dfx_ctx *ctx, const cJSON *item, const char *field, const char *label, int64_t lo, int64_t hi,
               int64_t *out)
{
    if (!cJSON_IsNumber (item))
        return dfx__error (ctx, DFX_ERR_FORMAT, "%s: field '%s' is %s, expected an integer", label, field,
                           dfx__json_type_name (item));
    /* Doubles hold integers exactly up to 2^53; no dfx field needs more. */
    const int64_t exact = INT64_C (1) << 53;
    if (hi > exact)
        hi = exact;
    if (lo < -exact)
        lo = -exact;
    double v = item->valuedouble;
    if (!(v == floor (v)) || v < (double) lo || v > (double) hi)
        return dfx__error (ctx, DFX_ERR_FORMAT, "%s: field '%s' is %.17g, expected an integer in [%lld, %lld]",
                           label, field, v, (long long) lo, (long long) hi);
    *out = (int64_t) v;
    return DFX_OK;
}

dfx_status
dfx__json_number (dfx_ctx *ctx, const cJSON *item, const char *field, const char *label, double lo, double hi,
                  double *out)
{
    if (!cJSON_IsNumber (item))
        return dfx__error (ctx, DFX_ERR_FORMAT, "%s: field '%s' is %s, expected a number", label, field,
                           dfx__json_type_name (item));
    double v = item->valuedouble;
    if (!isfinite (v) || v < lo || v > hi)
        return dfx__error (ctx, DFX_ERR_FORMAT, "%s: field '%s' is %.17g, expected a number in [%g, %g]", label,
                           field, v, lo, hi);
    *out = v;
    return DFX_OK;
}

dfx_status
dfx__json_bool (dfx_ctx *ctx, const cJSON *item, const char *field, const char *label, int *out)
{
    if (!cJSON_IsBool (item))
        return dfx__error (ctx, DFX_ERR_FORMAT, "%s: field '%s' is %s, expected true or false", label, field,
                           dfx__json_type_name (item));
    *out = cJSON_IsTrue (item) ? 1 : 0;
    return DFX_OK;
}

dfx_status
dfx__json_string (dfx_ctx *ctx, const cJSON *item, const char *field, const char *label, const char **out)
{
    if (!cJSON_IsString (item) || !item->valuestring)
        return dfx__error (ctx, DFX_ERR_FORMAT, "%s: field '%s' is %s, expected a string", label, field,
                           dfx__json_type_name (item));
    *out = item->valuestring;
    return DFX_OK;
}

dfx_status
dfx__json_get_int (dfx_ctx *ctx, const cJSON *root, const char *key, const char *label, int64_t lo, int64_t hi, int *out)
{
    const cJSON *v;
    dfx_status st = dfx__json_member (ctx, root, key, label, &v);
    if (st != DFX_OK || !v)
        return st;
    int64_t x;
    st = dfx__json_int (ctx, v, key, label, lo, hi, &x);
    if (st == DFX_OK)
        *out = (int) x;
    return st;
}

dfx_status
dfx__json_get_bool (dfx_ctx *ctx, const cJSON *root, const char *key, const char *label, int *out)
{
    const cJSON *v;
    dfx_status st = dfx__json_member (ctx, root, key, label, &v);
    if (st != DFX_OK || !v)
        return st;
    return dfx__json_bool (ctx, v, key, label, out);
}

dfx_status
dfx__json_get_number (dfx_ctx *ctx, const cJSON *root, const char *key, const char *label, double lo, double hi, double *out)
{
    const cJSON *v;
    dfx_status st = dfx__json_member (ctx, root, key, label, &v);
    if (st != DFX_OK || !v)
        return st;
    return dfx__json_number (ctx, v, key, label, lo, hi, out);
}

dfx_status
dfx__json_get_choice (dfx_ctx *ctx, const cJSON *root, const char *key, const char *label, const char *const *allowed,
            int null_ok, int *index)
{
    const cJSON *v;
    dfx_status st = dfx__json_member (ctx, root, key, label, &v);
    if (st != DFX_OK || !v)
        return st;
    if (null_ok && cJSON_IsNull (v)) {
        *index = -1;
        return DFX_OK;
    }
    const char *s = NULL;
    DFX_CHECK (dfx__json_string (ctx, v, key, label, &s));
    for (int i = 0; allowed[i]; i++)
        if (strcmp (s, allowed[i]) == 0) {
            *index = i;
            return DFX_OK;
        }
    char val[96], list[256] = "";
    for (int i = 0; allowed[i]; i++)
        snprintf (list + strlen (list), sizeof list - strlen (list), "%s'%s'", i ? ", " : "", allowed[i]);
    return dfx__error (ctx, DFX_ERR_UNSUPPORTED, "%s: field '%s' is '%s', dfx supports %s%s", label, key,
                       dfx__printable (val, sizeof val, s), list, null_ok ? " or null" : "");
cleanup:
    return st;
}

dfx_status
dfx__json_get_size2 (dfx_ctx *ctx, const cJSON *root, const char *key, const char *label, int64_t hi, int out[2],
                     int *is_null)
{
    const cJSON *v;
    dfx_status st = dfx__json_member (ctx, root, key, label, &v);
    if (st != DFX_OK || !v)
        return st;
    if (cJSON_IsNull (v)) {
        if (is_null)
            *is_null = 1;
        return DFX_OK;
    }
    char field[64];
    int64_t x[2];
    if (cJSON_IsArray (v)) {
        if (cJSON_GetArraySize (v) != 2)
            return dfx__error (ctx, DFX_ERR_FORMAT, "%s: field '%s' has %d entries, expected [height, width]", label,
                               key, cJSON_GetArraySize (v));
        snprintf (field, sizeof field, "%s[0]", key);
        DFX_CHECK (dfx__json_int (ctx, v->child, field, label, 1, hi, &x[0]));
        snprintf (field, sizeof field, "%s[1]", key);
        DFX_CHECK (dfx__json_int (ctx, v->child->next, field, label, 1, hi, &x[1]));
    } else {
        DFX_CHECK (dfx__json_int (ctx, v, key, label, 1, hi, &x[0]));
        x[1] = x[0];
    }
    out[0] = (int) x[0];
    out[1] = (int) x[1];
cleanup:
    return st;
}

/* The member `key` as an array of 1 to max_n entries (what both array
 * getters below check first); NULL in *arr when absent. */
static dfx_status
get_array (dfx_ctx *ctx, const cJSON *root, const char *key, const char *label, const char *what, int max_n,
           const cJSON **arr)
{
    const cJSON *v;
    *arr = NULL;
    dfx_status st = dfx__json_member (ctx, root, key, label, &v);
    if (st != DFX_OK || !v)
        return st;
    if (!cJSON_IsArray (v))
        return dfx__error (ctx, DFX_ERR_FORMAT, "%s: field '%s' is %s, expected an array%s", label, key,
                           dfx__json_type_name (v), what);
    int k = cJSON_GetArraySize (v);
    if (k < 1 || k > max_n)
        return dfx__error (ctx, DFX_ERR_FORMAT, "%s: field '%s' has %d entries, expected 1 to %d", label, key, k,
                           max_n);
    *arr = v;
    return DFX_OK;
}

dfx_status
dfx__json_get_int_array (dfx_ctx *ctx, const cJSON *root, const char *key, const char *label, int max_n, int64_t lo,
                         int64_t hi, int *out, int *n)
{
    const cJSON *v;
    dfx_status st = get_array (ctx, root, key, label, "", max_n, &v);
    if (st != DFX_OK || !v)
        return st;
    int i = 0;
    for (const cJSON *e = v->child; e; e = e->next, i++) {
        char field[64];
        int64_t x;
        snprintf (field, sizeof field, "%s[%d]", key, i);
        DFX_CHECK (dfx__json_int (ctx, e, field, label, lo, hi, &x));
        out[i] = (int) x;
    }
    *n = i;
cleanup:
    return st;
}

dfx_status
dfx__json_get_name_array (dfx_ctx *ctx, const cJSON *root, const char *key, const char *label,
                          const char *const *allowed, const char *strip_prefix, int max_n, int *which, int *n)
{
    const cJSON *v;
    dfx_status st = get_array (ctx, root, key, label, " of block names", max_n, &v);
    if (st != DFX_OK || !v)
        return st;
    size_t strip = strip_prefix ? strlen (strip_prefix) : 0;
    int i = 0;
    for (const cJSON *e = v->child; e; e = e->next, i++) {
        char field[64], val[96];
        snprintf (field, sizeof field, "%s[%d]", key, i);
        const char *s = NULL;
        DFX_CHECK (dfx__json_string (ctx, e, field, label, &s));
        const char *b = strip && strncmp (s, strip_prefix, strip) == 0 ? s + strip : s;
        int j = 0;
        while (allowed[j] && strcmp (b, allowed[j]) != 0)
            j++;
        if (allowed[j]) {
            if (which)
                which[i] = j;
            continue;
        }
        /* "only 'A'", "'A' and 'B'", "'A', 'B' and 'C'" */
        char list[256] = "";
        for (j = 0; allowed[j]; j++)
            snprintf (list + strlen (list), sizeof list - strlen (list), "%s'%s'",
                      j == 0 ? "" : allowed[j + 1] ? ", " : " and ", allowed[j]);
        return dfx__error (ctx, DFX_ERR_UNSUPPORTED, "%s: field '%s' is '%s', dfx supports %s%s", label, field,
                           dfx__printable (val, sizeof val, s), j == 1 ? "only " : "", list);
    }
    *n = i;
cleanup:
    return st;
}

dfx_status
dfx__read_text_file (dfx_ctx *ctx, const char *path, size_t max, char **out, size_t *len)
{
    dfx_status st = DFX_OK;
    char *buf = NULL;
    *out = NULL;
    *len = 0;
    FILE *fp = fopen (path, "rb");
    if (!fp)
        return dfx__error (ctx, DFX_ERR_IO, "%s: cannot open: %s", path, strerror (errno));
    buf = dfx__calloc (max + 2, 1);
    if (!buf) {
        st = dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "%s: out of host memory", path);
        goto cleanup;
    }
    /* One byte more than allowed tells a file that is too large. */
    size_t n = fread (buf, 1, max + 1, fp);
    if (ferror (fp)) {
        st = dfx__error (ctx, DFX_ERR_IO, "%s: cannot read: %s", path, strerror (errno));
        goto cleanup;
    }
    if (n > max) {
        st = dfx__error (ctx, DFX_ERR_IO, "%s: larger than %zu bytes, not a configuration file", path, max);
        goto cleanup;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    buf = NULL;
cleanup:
    fclose (fp);
    dfx__free (buf);
    return st;
}
