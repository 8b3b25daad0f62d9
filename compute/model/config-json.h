/* config-json.h — the small cJSON helpers shared by dfx's file parsers
 * (safetensors headers, diffusers config.json files).
 *
 * Each getter looks a key up in an object, refuses a key given twice, checks
 * the JSON type and the range, and on failure writes a message naming the
 * file label and the field into ctx.  They do not know any file format.
 */
#ifndef DFX_CONFIG_JSON_H
#define DFX_CONFIG_JSON_H

#include "dfx-private.h"

#include <cjson/cJSON.h>

/* Parses len bytes of JSON (need not be NUL-terminated); only whitespace may
 * follow the value.  The value must be an object.  On success *out is the
 * tree (free with cJSON_Delete); on failure DFX_ERR_FORMAT naming label and
 * the byte offset, or DFX_ERR_OUT_OF_HOST_MEMORY. */
dfx_status dfx__json_parse_object (dfx_ctx *ctx, const char *json, size_t len, const char *label, cJSON **out);

/* The member `key` of obj, or NULL when absent.  A key present twice is
 * DFX_ERR_FORMAT ("duplicate field"). */
dfx_status dfx__json_member (dfx_ctx *ctx, const cJSON *obj, const char *key, const char *label,
                             const cJSON **out);

/* 1 when item is absent or JSON null. */
int dfx__json_is_null (const cJSON *item);

/* An integral number in [lo, hi] (a JSON number with no fractional part). */
dfx_status dfx__json_int (dfx_ctx *ctx, const cJSON *item, const char *field, const char *label, int64_t lo,
                          int64_t hi, int64_t *out);

/* A finite number in [lo, hi]. */
dfx_status dfx__json_number (dfx_ctx *ctx, const cJSON *item, const char *field, const char *label, double lo,
                             double hi, double *out);

/* A JSON true/false. */
dfx_status dfx__json_bool (dfx_ctx *ctx, const cJSON *item, const char *field, const char *label, int *out);

/* A JSON string; *out points into the tree. */
dfx_status dfx__json_string (dfx_ctx *ctx, const cJSON *item, const char *field, const char *label,
                             const char **out);

/* Getters of a member of root: an absent key (or, where allowed, null)
 * leaves *out as it is, so *out holds the default beforehand; a wrong type or
 * value is DFX_ERR_FORMAT naming label and key. */
dfx_status dfx__json_get_int (dfx_ctx *ctx, const cJSON *root, const char *key, const char *label, int64_t lo,
                              int64_t hi, int *out);
dfx_status dfx__json_get_bool (dfx_ctx *ctx, const cJSON *root, const char *key, const char *label, int *out);
dfx_status dfx__json_get_number (dfx_ctx *ctx, const cJSON *root, const char *key, const char *label, double lo,
                                 double hi, double *out);
/* A string that must be one of `allowed` (NULL-terminated list); *index gets
 * its position; null_ok: JSON null gives -1.  Another string is
 * DFX_ERR_UNSUPPORTED, naming the value and the choices. */
dfx_status dfx__json_get_choice (dfx_ctx *ctx, const cJSON *root, const char *key, const char *label,
                                 const char *const *allowed, int null_ok, int *index);

/* null, an integer n (giving n x n) or [height, width], each in [1, hi], into
 * out[2].  Absent or null leaves out as it is; null also sets *is_null
 * (is_null may be NULL). */
dfx_status dfx__json_get_size2 (dfx_ctx *ctx, const cJSON *root, const char *key, const char *label, int64_t hi,
                                int out[2], int *is_null);

/* An array of 1 to max_n integers in [lo, hi] into out[] (room for max_n);
 * *n gets the count.  Absent leaves out and *n as they are. */
dfx_status dfx__json_get_int_array (dfx_ctx *ctx, const cJSON *root, const char *key, const char *label, int max_n,
                                    int64_t lo, int64_t hi, int *out, int *n);

/* An array of 1 to max_n strings, each one of `allowed` (NULL-terminated)
 * once strip_prefix (NULL: none) is dropped from its front; which[i] (which
 * may be NULL) gets entry i's position in allowed, *n the count.  Absent
 * leaves both as they are.  Another name is DFX_ERR_UNSUPPORTED naming the
 * entry and the choices. */
dfx_status dfx__json_get_name_array (dfx_ctx *ctx, const cJSON *root, const char *key, const char *label,
                                     const char *const *allowed, const char *strip_prefix, int max_n, int *which,
                                     int *n);

/* Reads the whole file at path (at most max bytes) into *out, NUL-terminated;
 * *len excludes the NUL.  DFX_ERR_IO naming the path.  Ownership: free *out
 * with dfx__free(). */
dfx_status dfx__read_text_file (dfx_ctx *ctx, const char *path, size_t max, char **out, size_t *len);

/* Copies s into dst (cap bytes) for an error message: control characters
 * become '?', and text longer than cap - 4 bytes ends in "...".  Returns dst. */
const char *dfx__printable (char *dst, size_t cap, const char *s);

/* Describes a JSON value's type for messages ("a string", "null", ...). */
const char *dfx__json_type_name (const cJSON *item);

#endif /* DFX_CONFIG_JSON_H */
