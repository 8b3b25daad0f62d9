/* test-files.c — the model-file layer without a device: the safetensors
 * reader and writer on crafted files (every malformation refused with a
 * message naming the file and the tensor or field), F16/BF16 conversion on
 * known bit patterns and exhaustively, the UNet2DModel config (google/
 * ddpm-cifar10-32's parameter count, defaults, refusals) and the scheduler
 * config (βt and ᾱt against closed forms). */
#include "check.h"
#include "dfx-private.h"
#include "model/safetensors.h"
#include "model/sched-config.h"
#include "model/torch-pickle.h"
#include "model/unet-config.h"

#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static dfx_ctx *ctx;
static char tmpdir[256];

static int
msg_has (const char *s)
{
    return strstr (dfx_ctx_errmsg (ctx), s) != NULL;
}

static uint32_t
bits_of (float f)
{
    uint32_t u;
    memcpy (&u, &f, 4);
    return u;
}

/* ---- Crafted safetensors files ------------------------------------------- */

#define LABEL "crafted.safetensors"

typedef struct blob {
    unsigned char b[4096];
    size_t n;
} blob;

/* 8-byte length, the header text, then data bytes. */
static blob
make (const char *header, const void *data, size_t data_len)
{
    blob x;
    size_t h = strlen (header);
    for (int i = 0; i < 8; i++)
        x.b[i] = (unsigned char) ((uint64_t) h >> (8 * i));
    memcpy (x.b + 8, header, h);
    if (data_len)
        memcpy (x.b + 8 + h, data, data_len);
    x.n = 8 + h + data_len;
    return x;
}

static dfx_status
open_blob (const blob *x, dfx__st_file **f)
{
    return dfx__st_open_memory (ctx, x->b, x->n, LABEL, f);
}

/* The crafted header must be refused with status, naming the file and each
 * of the (up to two) strings. */
static void
expect_bad (const char *what, const char *header, size_t data_len, dfx_status status, const char *s1,
            const char *s2)
{
    static const unsigned char zeros[256];
    blob x = make (header, zeros, data_len);
    dfx__st_file *f = (dfx__st_file *) 1;
    dfx_status st = open_blob (&x, &f);
    CHECK (st == status, "%s: %s (%s)", what, dfx_status_name (st), dfx_ctx_errmsg (ctx));
    CHECK (f == NULL, "%s: no file on failure", what);
    CHECK (msg_has (LABEL), "%s: message names the file: %s", what, dfx_ctx_errmsg (ctx));
    CHECK (!s1 || msg_has (s1), "%s: message names '%s': %s", what, s1, dfx_ctx_errmsg (ctx));
    CHECK (!s2 || msg_has (s2), "%s: message names '%s': %s", what, s2, dfx_ctx_errmsg (ctx));
    dfx__st_close (st == DFX_OK ? f : NULL);
}

static void
test_crafted (void)
{
    const dfx_status F = DFX_ERR_FORMAT;
    expect_bad ("empty header", "", 0, F, "empty JSON", NULL);
    expect_bad ("not an object", "[1, 2]", 0, F, "expected an object", NULL);
    expect_bad ("invalid JSON", "{\"a\": {\"dtype\": ", 0, F, "invalid JSON", NULL);
    expect_bad ("garbage after the JSON", "{}  x", 0, F, "invalid JSON", NULL);
    expect_bad ("unknown dtype", "{\"w\":{\"dtype\":\"F128\",\"shape\":[1],\"data_offsets\":[0,16]}}", 16, F,
                "F128", "'w'");
    expect_bad ("dtype not a string", "{\"w\":{\"dtype\":4,\"shape\":[1],\"data_offsets\":[0,4]}}", 4, F,
                "'dtype'", "'w'");
    expect_bad ("missing shape", "{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4, F, "'shape'", "'w'");
    expect_bad ("entry not an object", "{\"w\":[1]}", 0, F, "'w'", "expected an object");
    expect_bad ("shape × size ≠ bytes", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 8, F,
                "'w'", "needs 8 bytes");
    expect_bad ("shape overflow",
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4294967296],\"data_offsets\":[0,4]}}", 4,
                F, "'w'", "needs more than");
    expect_bad ("too many dimensions",
                "{\"w\":{\"dtype\":\"U8\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,1]}}", 1, F, "'w'",
                "9 dimensions");
    expect_bad ("negative extent", "{\"w\":{\"dtype\":\"U8\",\"shape\":[-1],\"data_offsets\":[0,1]}}", 1, F, "'w'",
                "shape[0]");
    expect_bad ("fractional extent", "{\"w\":{\"dtype\":\"U8\",\"shape\":[1.5],\"data_offsets\":[0,1]}}", 1, F, "'w'",
                "shape[0]");
    expect_bad ("string extent", "{\"w\":{\"dtype\":\"U8\",\"shape\":[\"1\"],\"data_offsets\":[0,1]}}", 1, F, "'w'",
                "shape[0]");
    expect_bad ("offsets of length 3", "{\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1,2]}}", 2, F,
                "'w'", "data_offsets");
    expect_bad ("negative offset", "{\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[-1,0]}}", 2, F, "'w'",
                "data_offsets");
    expect_bad ("begin after end", "{\"w\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[4,2]}}", 8, F, "'w'",
                "[4, 2]");
    expect_bad ("range out of the file", "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8, F,
                "'w'", "past the end");
    expect_bad ("overlapping ranges",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
                12, F, "'a'", "'b'");
    expect_bad ("range inside another",
                "{\"a\":{\"dtype\":\"U8\",\"shape\":[16],\"data_offsets\":[0,16]},"
                "\"b\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[2,4]},"
                "\"c\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[8,10]}}",
                16, F, "overlap", "'a'");
    expect_bad ("duplicate name",
                "{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
                "\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}",
                2, F, "'a'", "twice");
    expect_bad ("names equal after \\u0000",
                "{\"a\\u0000x\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
                "\"a\\u0000y\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}",
                2, F, "'a'", "twice");
    expect_bad ("duplicate field in an entry",
                "{\"w\":{\"dtype\":\"U8\",\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1, F, "'dtype'",
                "duplicate");
    expect_bad ("metadata not strings", "{\"__metadata__\":{\"format\":1}}", 0, F, "__metadata__", "'format'");
    expect_bad ("metadata not an object", "{\"__metadata__\":[]}", 0, F, "__metadata__", NULL);
    expect_bad ("metadata twice", "{\"__metadata__\":{},\"__metadata__\":{}}", 0, F, "__metadata__", "twice");
    expect_bad ("metadata key twice", "{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", 0, F, "__metadata__",
                "'k'");

    /* Header length beyond the file, and beyond the 100 MB limit. */
    blob x = make ("{}", NULL, 0);
    x.b[0] = 3;
    dfx__st_file *f = NULL;
    CHECK (open_blob (&x, &f) == F && msg_has (LABEL) && msg_has ("header length 3"), "%s", dfx_ctx_errmsg (ctx));
    x.b[0] = 0x01, x.b[1] = 0xe1, x.b[2] = 0xf5, x.b[3] = 0x05; /* 100,000,001 */
    CHECK (open_blob (&x, &f) == F && msg_has (LABEL) && msg_has ("exceeds"), "%s", dfx_ctx_errmsg (ctx));
    x.b[7] = 0x80;
    CHECK (open_blob (&x, &f) == F && msg_has ("exceeds"), "%s", dfx_ctx_errmsg (ctx));
    CHECK (f == NULL, "no file");

    /* Valid oddities: padding, an empty header, a scalar, zero-size tensors
     * sharing an offset, gaps, metadata (null or a map). */
    x = make ("{}      ", NULL, 0);
    CHECK (open_blob (&x, &f) == DFX_OK && dfx__st_count (f) == 0, "empty padded: %s", dfx_ctx_errmsg (ctx));
    CHECK (dfx__st_find (f, "x") == NULL && dfx__st_at (f, 0) == NULL && dfx__st_metadata (f, "x") == NULL,
           "empty lookups");
    dfx__st_close (f);
    const float vals[3] = {1.5f, -2.0f, 0.25f};
    unsigned char data[16] = {0};
    memcpy (data + 4, vals, sizeof vals);
    x = make ("{\"__metadata__\":{\"format\":\"pt\",\"b\":\"x\\ny\"},"
              "\"s\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[12,16]},"
              "\"z1\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[4,4]},"
              "\"v\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]},"
              "\"z2\":{\"dtype\":\"BF16\",\"shape\":[5,0],\"data_offsets\":[4,4]}}   ",
              data, sizeof data);
    CHECK (open_blob (&x, &f) == DFX_OK, "valid oddities: %s", dfx_ctx_errmsg (ctx));
    if (f) {
        CHECK (dfx__st_count (f) == 4, "4 tensors");
        CHECK (strcmp (dfx__st_label (f), LABEL) == 0, "label");
        CHECK (dfx__st_metadata (f, "format") && strcmp (dfx__st_metadata (f, "format"), "pt") == 0, "metadata");
        CHECK (dfx__st_metadata (f, "b") && strcmp (dfx__st_metadata (f, "b"), "x\ny") == 0, "metadata escape");
        const dfx__st_tensor *s = dfx__st_find (f, "s"), *v = dfx__st_find (f, "v");
        CHECK (s && s->ndim == 0 && s->nbytes == 4 && s->dtype == DFX__DTYPE_F32, "scalar");
        CHECK (v && v->ndim == 1 && v->shape[0] == 2 && v->nbytes == 8, "vector");
        CHECK (dfx__st_at (f, 3) == s, "ascending offsets: the scalar is last");
        float out[2] = {0};
        CHECK (dfx__st_read_f32 (ctx, f, "s", 0, NULL, out) == DFX_OK && out[0] == 0.25f, "scalar read");
        const int64_t want[1] = {2};
        CHECK (dfx__st_read_f32 (ctx, f, "v", 1, want, out) == DFX_OK && out[0] == 1.5f && out[1] == -2.0f, "read v");
        const int64_t zs[2] = {-1, 3};
        CHECK (dfx__st_read_f32 (ctx, f, "z1", 2, zs, out) == DFX_OK, "empty read with a wildcard");
        /* Missing tensor, wrong shape, wildcards. */
        CHECK (dfx__st_read_f32 (ctx, f, "conv_in.weight", -1, NULL, out) == DFX_ERR_FORMAT &&
                   strcmp (dfx_ctx_errmsg (ctx), "tensor 'conv_in.weight' is missing from " LABEL) == 0,
               "missing: %s", dfx_ctx_errmsg (ctx));
        const int64_t bad[1] = {3};
        CHECK (dfx__st_read_f32 (ctx, f, "v", 1, bad, out) == DFX_ERR_FORMAT && msg_has ("'v'") && msg_has (LABEL) &&
                   msg_has ("[2]") && msg_has ("[3]"),
               "wrong extent: %s", dfx_ctx_errmsg (ctx));
        const int64_t bad2[2] = {2, 1};
        CHECK (dfx__st_read_f32 (ctx, f, "v", 2, bad2, out) == DFX_ERR_FORMAT && msg_has ("[2, 1]"),
               "wrong rank: %s", dfx_ctx_errmsg (ctx));
        const int64_t any[1] = {-1};
        CHECK (dfx__st_read_f32 (ctx, f, "v", 1, any, out) == DFX_OK, "wildcard extent");
        CHECK (dfx__st_read_f32 (ctx, f, "v", -1, NULL, out) == DFX_OK, "wildcard shape");
        dfx__st_close (f);
    }

    /* Every strict prefix of a valid file is refused (truncation). */
    x = make ("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
              "\"b\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[8,10]}}",
              data, 10);
    CHECK (open_blob (&x, &f) == DFX_OK, "full file");
    dfx__st_close (f);
    int refused = 0;
    for (size_t n = 0; n < x.n; n++) {
        f = NULL;
        dfx_status st = dfx__st_open_memory (ctx, x.b, n, LABEL, &f);
        refused += st == F && f == NULL && msg_has (LABEL);
        dfx__st_close (f);
    }
    CHECK (refused == (int) x.n, "%d of %zu truncations refused", refused, x.n);

    /* Dtypes that do not convert to float32. */
    x = make ("{\"i\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[0,4]},"
              "\"e\":{\"dtype\":\"F8_E4M3\",\"shape\":[1],\"data_offsets\":[4,5]}}",
              data, 5);
    CHECK (open_blob (&x, &f) == DFX_OK, "int file");
    if (f) {
        float out[1];
        CHECK (dfx__st_read_f32 (ctx, f, "i", 1, NULL, out) == DFX_ERR_INVALID_ARGUMENT, "shape NULL with ndim 1");
        CHECK (dfx__st_read_f32 (ctx, f, "i", -1, NULL, out) == DFX_ERR_UNSUPPORTED && msg_has ("I32") &&
                   msg_has ("'i'") && msg_has (LABEL),
               "I32: %s", dfx_ctx_errmsg (ctx));
        CHECK (dfx__st_read_f32 (ctx, f, "e", -1, NULL, out) == DFX_ERR_UNSUPPORTED && msg_has ("F8_E4M3"),
               "F8: %s", dfx_ctx_errmsg (ctx));
        dfx__st_close (f);
    }
    CHECK (dfx__st_open_memory (ctx, NULL, 0, NULL, &f) == F && msg_has ("<memory>"), "NULL buffer");
}

/* ---- Conversions ----------------------------------------------------------- */

/* Independent F16 reference: the value from its definition. */
static float
f16_reference (uint16_t h)
{
    int sign = h >> 15, exp = (h >> 10) & 31, mant = h & 1023;
    double v;
    if (exp == 31)
        v = mant ? NAN : INFINITY;
    else if (exp == 0)
        v = ldexp (mant, -24);
    else
        v = ldexp (1024 + mant, exp - 25);
    return (float) (sign ? -v : v);
}

static void
test_conversions (void)
{
    const struct {
        uint16_t h;
        uint32_t f; /* expected float32 bits */
    } f16[] = {
        {0x0000, 0x00000000}, {0x8000, 0x80000000}, /* ±0 */
        {0x3c00, 0x3f800000}, {0xc000, 0xc0000000}, /* 1, -2 */
        {0x7bff, 0x477fe000},                       /* 65504, the largest */
        {0x0001, 0x33800000},                       /* 2^-24, the smallest subnormal */
        {0x8001, 0xb3800000},                       /* -2^-24 */
        {0x03ff, 0x387fc000},                       /* 1023·2^-24, the largest subnormal */
        {0x0200, 0x38000000},                       /* 2^-15 */
        {0x0400, 0x38800000},                       /* 2^-14, the smallest normal */
        {0x3555, 0x3eaaa000},                       /* 0.333251953125 */
        {0x7c00, 0x7f800000}, {0xfc00, 0xff800000}, /* ±inf */
        {0x7e00, 0x7fc00000},                       /* quiet NaN */
        {0xfe00, 0xffc00000},                       /* negative quiet NaN */
        {0x7c01, 0x7f802000},                       /* signalling NaN, payload kept */
    };
    unsigned char data[64];
    char header[512];
    int n16 = (int) (sizeof f16 / sizeof f16[0]);
    for (int i = 0; i < n16; i++) {
        CHECK (bits_of (dfx__f16_to_f32 (f16[i].h)) == f16[i].f, "f16 %04x -> %08x, want %08x", f16[i].h,
               bits_of (dfx__f16_to_f32 (f16[i].h)), f16[i].f);
        data[2 * i] = (unsigned char) f16[i].h, data[2 * i + 1] = (unsigned char) (f16[i].h >> 8);
    }
    /* All 65536 half values against the definition. */
    int bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        float got = dfx__f16_to_f32 ((uint16_t) h), want = f16_reference ((uint16_t) h);
        if (isnan (want))
            bad += !isnan (got) || (bits_of (got) & 0x7fffffu) != ((h & 1023u) << 13) || (uint32_t) !!signbit (got) != (h >> 15);
        else
            bad += bits_of (got) != bits_of (want);
    }
    CHECK (bad == 0, "%d half values convert wrongly", bad);

    const struct {
        uint16_t h;
        uint32_t f;
    } bf16[] = {
        {0x3f80, 0x3f800000}, {0xc040, 0xc0400000}, {0x0001, 0x00010000}, /* 1, -3, subnormal 2^-133 */
        {0x8000, 0x80000000}, {0x7f80, 0x7f800000}, {0x7fc0, 0x7fc00000}, /* -0, inf, NaN */
        {0x7f7f, 0x7f7f0000},                                              /* largest finite */
    };
    int nb = (int) (sizeof bf16 / sizeof bf16[0]);
    for (int i = 0; i < nb; i++) {
        CHECK (bits_of (dfx__bf16_to_f32 (bf16[i].h)) == bf16[i].f, "bf16 %04x", bf16[i].h);
        data[32 + 2 * i] = (unsigned char) bf16[i].h, data[32 + 2 * i + 1] = (unsigned char) (bf16[i].h >> 8);
    }
    /* The same through files: F16 at offset 0 (16 values), BF16 at 32 (7),
     * F64 at 48 (2), misaligned by the 8-byte prefix + odd header length. */
    const double d[2] = {1.0 / 3.0, 1e300};
    memcpy (data + 48, d, sizeof d);
    snprintf (header, sizeof header,
              "{\"h\":{\"dtype\":\"F16\",\"shape\":[%d],\"data_offsets\":[0,%d]},"
              "\"b\":{\"dtype\":\"BF16\",\"shape\":[%d],\"data_offsets\":[32,%d]},"
              "\"d\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[48,64]}}",
              n16, 2 * n16, nb, 32 + 2 * nb);
    blob x = make (header, data, sizeof data);
    dfx__st_file *f = NULL;
    CHECK (open_blob (&x, &f) == DFX_OK, "conversion file: %s", dfx_ctx_errmsg (ctx));
    if (!f)
        return;
    float out[32];
    CHECK (dfx__st_read_f32 (ctx, f, "h", -1, NULL, out) == DFX_OK, "read F16");
    for (int i = 0; i < n16; i++)
        CHECK (bits_of (out[i]) == f16[i].f, "file f16 %04x", f16[i].h);
    CHECK (dfx__st_read_f32 (ctx, f, "b", -1, NULL, out) == DFX_OK, "read BF16");
    for (int i = 0; i < nb; i++)
        CHECK (bits_of (out[i]) == bf16[i].f, "file bf16 %04x", bf16[i].h);
    CHECK (dfx__st_read_f32 (ctx, f, "d", -1, NULL, out) == DFX_OK, "read F64");
    CHECK (out[0] == (float) (1.0 / 3.0) && isinf (out[1]), "F64 rounds: %.9g %g", out[0], out[1]);
    dfx__st_close (f);
}

/* ---- Writer ------------------------------------------------------------------ */

static int
count_dir_entries (void)
{
    int n = 0;
    DIR *d = opendir (tmpdir);
    for (struct dirent *e; d && (e = readdir (d));)
        n += e->d_name[0] != '.';
    if (d)
        closedir (d);
    return n;
}

static void
test_writer (void)
{
    char path[512];
    snprintf (path, sizeof path, "%s/rt.safetensors", tmpdir);
    const float a[6] = {1, 2, 3, 4, 5, 6};
    const float s[1] = {-0.0f};
    float sp[4] = {INFINITY, -INFINITY, NAN, 1e-45f};
    dfx__st_out t[4] = {
        {.name = "conv_in.weight", .ndim = 2, .shape = {2, 3}, .data = a},
        {.name = "scalar", .ndim = 0, .data = s},
        {.name = "empty", .ndim = 2, .shape = {0, 7}, .data = NULL},
        {.name = "odd \"name\"\\\n", .ndim = 1, .shape = {4}, .data = sp},
    };
    CHECK (dfx__st_write_f32 (ctx, path, t, 4) == DFX_OK, "write: %s", dfx_ctx_errmsg (ctx));
    CHECK (count_dir_entries () == 1, "no temporary file left: %d entries", count_dir_entries ());
    struct stat sb;
    CHECK (stat (path, &sb) == 0 && (sb.st_mode & 0777) == 0644, "mode %o", (unsigned) sb.st_mode & 0777);

    /* The header length is a multiple of 8 and the data starts aligned. */
    FILE *fp = fopen (path, "rb");
    unsigned char head[8] = {0};
    CHECK (fp && fread (head, 1, 8, fp) == 8, "read back");
    if (fp)
        fclose (fp);
    uint64_t hl = 0;
    for (int i = 0; i < 8; i++)
        hl |= (uint64_t) head[i] << (8 * i);
    CHECK (hl % 8 == 0 && (uint64_t) sb.st_size == 8 + hl + 4 * (6 + 1 + 4), "header %llu, size %lld",
           (unsigned long long) hl, (long long) sb.st_size);

    dfx__st_file *f = NULL;
    CHECK (dfx__st_open (ctx, path, &f) == DFX_OK, "reopen: %s", dfx_ctx_errmsg (ctx));
    if (f) {
        CHECK (dfx__st_count (f) == 4, "4 tensors");
        for (int i = 0; i < 4; i++) {
            const dfx__st_tensor *r = dfx__st_find (f, t[i].name);
            CHECK (r && r->dtype == DFX__DTYPE_F32 && r->ndim == t[i].ndim, "tensor %d", i);
            for (int k = 0; r && k < t[i].ndim; k++)
                CHECK (r->shape[k] == t[i].shape[k], "tensor %d dim %d", i, k);
        }
        float out[6];
        CHECK (dfx__st_read_f32 (ctx, f, "conv_in.weight", 2, t[0].shape, out) == DFX_OK &&
                   memcmp (out, a, sizeof a) == 0,
               "data round trip");
        CHECK (dfx__st_read_f32 (ctx, f, "scalar", 0, NULL, out) == DFX_OK && bits_of (out[0]) == 0x80000000u,
               "-0 kept");
        CHECK (dfx__st_read_f32 (ctx, f, t[3].name, 1, t[3].shape, out) == DFX_OK &&
                   memcmp (out, sp, sizeof sp) == 0,
               "specials kept bit for bit");
        dfx__st_close (f);
    }

    /* Replacing an existing file; many tensors found by name. */
    enum { N = 50 };
    dfx__st_out many[N];
    char names[N][32];
    float vals[N];
    for (int i = 0; i < N; i++) {
        snprintf (names[i], sizeof names[i], "t.%d.w", (i * 37) % N);
        vals[i] = (float) i;
        many[i] = (dfx__st_out){.name = names[i], .ndim = 1, .shape = {1}, .data = &vals[i]};
    }
    CHECK (dfx__st_write_f32 (ctx, path, many, N) == DFX_OK, "rewrite: %s", dfx_ctx_errmsg (ctx));
    CHECK (dfx__st_open (ctx, path, &f) == DFX_OK && dfx__st_count (f) == N, "reopen many");
    int found = 0;
    for (int i = 0; f && i < N; i++) {
        float v = -1;
        found += dfx__st_read_f32 (ctx, f, names[i], 1, many[i].shape, &v) == DFX_OK && v == (float) i;
    }
    CHECK (found == N, "%d of %d found", found, N);
    dfx__st_close (f);

    /* Refusals, each naming the file and the tensor. */
    dfx__st_out dup[2] = {{.name = "x", .ndim = 1, .shape = {1}, .data = a},
                          {.name = "x", .ndim = 1, .shape = {1}, .data = a}};
    CHECK (dfx__st_write_f32 (ctx, path, dup, 2) == DFX_ERR_INVALID_ARGUMENT && msg_has ("'x'") && msg_has (path),
           "duplicate: %s", dfx_ctx_errmsg (ctx));
    dfx__st_out neg = {.name = "n", .ndim = 1, .shape = {-2}, .data = a};
    CHECK (dfx__st_write_f32 (ctx, path, &neg, 1) == DFX_ERR_INVALID_ARGUMENT && msg_has ("'n'"), "negative");
    dfx__st_out deep = {.name = "d", .ndim = 9, .data = a};
    CHECK (dfx__st_write_f32 (ctx, path, &deep, 1) == DFX_ERR_INVALID_ARGUMENT && msg_has ("'d'"), "ndim 9");
    dfx__st_out meta = {.name = "__metadata__", .ndim = 0, .data = a};
    CHECK (dfx__st_write_f32 (ctx, path, &meta, 1) == DFX_ERR_INVALID_ARGUMENT, "reserved name");
    dfx__st_out nodata = {.name = "e", .ndim = 1, .shape = {3}, .data = NULL};
    CHECK (dfx__st_write_f32 (ctx, path, &nodata, 1) == DFX_ERR_INVALID_ARGUMENT && msg_has ("'e'"), "no data");
    char nodir[600];
    snprintf (nodir, sizeof nodir, "%s/missing/x.safetensors", tmpdir);
    CHECK (dfx__st_write_f32 (ctx, nodir, t, 1) == DFX_ERR_IO && msg_has (nodir), "no folder: %s",
           dfx_ctx_errmsg (ctx));
    CHECK (count_dir_entries () == 1, "nothing left behind");

    /* Opening: missing file, a folder, a file too short. */
    CHECK (dfx__st_open (ctx, nodir, &f) == DFX_ERR_IO && f == NULL && msg_has (nodir), "missing file");
    CHECK (dfx__st_open (ctx, tmpdir, &f) == DFX_ERR_IO && msg_has (tmpdir), "a folder: %s", dfx_ctx_errmsg (ctx));
    char shortp[512];
    snprintf (shortp, sizeof shortp, "%s/short.safetensors", tmpdir);
    fp = fopen (shortp, "wb");
    if (fp) {
        fwrite ("\x02\0\0", 1, 3, fp);
        fclose (fp);
    }
    CHECK (dfx__st_open (ctx, shortp, &f) == DFX_ERR_FORMAT && msg_has (shortp) && msg_has ("too short"), "%s",
           dfx_ctx_errmsg (ctx));
    unlink (shortp);
    unlink (path);
}

/* ---- UNet2DModel config -------------------------------------------------------- */

static const char cifar10[] =
    "{\n"
    "  \"_class_name\": \"UNet2DModel\",\n"
    "  \"_diffusers_version\": \"0.0.4\",\n"
    "  \"act_fn\": \"silu\",\n"
    "  \"attention_head_dim\": null,\n"
    "  \"block_out_channels\": [128, 256, 256, 256],\n"
    "  \"center_input_sample\": false,\n"
    "  \"down_block_types\": [\"DownBlock2D\", \"AttnDownBlock2D\", \"DownBlock2D\", \"DownBlock2D\"],\n"
    "  \"downsample_padding\": 0,\n"
    "  \"flip_sin_to_cos\": false,\n"
    "  \"freq_shift\": 1,\n"
    "  \"in_channels\": 3,\n"
    "  \"layers_per_block\": 2,\n"
    "  \"mid_block_scale_factor\": 1,\n"
    "  \"norm_eps\": 1e-06,\n"
    "  \"norm_num_groups\": 32,\n"
    "  \"out_channels\": 3,\n"
    "  \"resnet_time_scale_shift\": \"default\",\n"
    "  \"sample_size\": 32,\n"
    "  \"time_embedding_type\": \"positional\",\n"
    "  \"up_block_types\": [\"UpBlock2D\", \"UpBlock2D\", \"AttnUpBlock2D\", \"UpBlock2D\"]\n"
    "}\n";

typedef struct find_ctx {
    const char *name;
    int ndim;
    int64_t shape[4];
    int found;
    int n;
    char (*names)[160];
} find_ctx;

static int
find_tensor (void *user, const char *name, int ndim, const int64_t *shape)
{
    find_ctx *q = user;
    if (q->names && q->n < 400)
        snprintf (q->names[q->n], 160, "%s", name);
    q->n++;
    if (q->name && strcmp (name, q->name) == 0) {
        q->found = 1;
        q->ndim = ndim;
        memcpy (q->shape, shape, 4 * sizeof *shape);
    }
    return 0;
}

/* The shape of tensor name in config c as "a,b,c,d" ("" when absent). */
static const char *
shape_of (const dfx__unet_config *c, const char *name)
{
    static char buf[64];
    find_ctx q = {.name = name};
    dfx__unet_config_foreach_tensor (c, find_tensor, &q);
    buf[0] = '\0';
    for (int i = 0; q.found && i < q.ndim; i++)
        snprintf (buf + strlen (buf), sizeof buf - strlen (buf), "%s%lld", i ? "," : "", (long long) q.shape[i]);
    return buf;
}

static int
cmp_str (const void *a, const void *b)
{
    return strcmp (a, b);
}

static dfx_status
parse_unet (const char *json, dfx__unet_config *c)
{
    return dfx__unet_config_parse (ctx, json, strlen (json), "m/unet/config.json", c);
}

static void
test_unet_config (void)
{
    dfx__unet_config c;
    CHECK (parse_unet (cifar10, &c) == DFX_OK, "cifar10: %s", dfx_ctx_errmsg (ctx));
    CHECK (dfx__unet_config_param_count (&c) == 35746307, "cifar10 parameters %lld",
           (long long) dfx__unet_config_param_count (&c));
    CHECK (dfx__unet_config_tensor_count (&c) == 328, "cifar10 tensors %d", dfx__unet_config_tensor_count (&c));
    CHECK (c.sample_size[0] == 32 && c.sample_size[1] == 32 && c.in_channels == 3 && c.out_channels == 3, "sizes");
    CHECK (c.n_levels == 4 && c.block_out_channels[0] == 128 && c.block_out_channels[3] == 256, "levels");
    CHECK (c.down_attention[1] && !c.down_attention[0] && !c.down_attention[2] && !c.down_attention[3], "down");
    CHECK (c.up_attention[2] && !c.up_attention[0] && !c.up_attention[1] && !c.up_attention[3], "up");
    CHECK (c.time_embedding_dim == 512 && c.freq_shift == 1 && !c.flip_sin_to_cos && !c.center_input_sample, "time");
    CHECK (c.layers_per_block == 2 && c.downsample_padding == 0 && c.attention_head_dim == 0, "blocks");
    CHECK (c.norm_num_groups == 32 && c.norm_eps == 1e-6 && !c.scale_shift && c.mid_block_scale_factor == 1, "norm");
    CHECK (c.mid_block && c.mid_attention && c.mid_attention_groups == 32, "mid");

    /* Tensor names and shapes of the walk (diffusers' state-dict names). */
    const struct {
        const char *name, *shape;
    } spot[] = {
        {"conv_in.weight", "128,3,3,3"},
        {"time_embedding.linear_1.weight", "512,128"},
        {"time_embedding.linear_2.bias", "512"},
        {"down_blocks.0.resnets.0.conv1.weight", "128,128,3,3"},
        {"down_blocks.1.resnets.0.conv_shortcut.weight", "256,128,1,1"},
        {"down_blocks.1.resnets.1.conv_shortcut.weight", ""},
        {"down_blocks.1.attentions.1.to_q.weight", "256,256"},
        {"down_blocks.1.attentions.0.group_norm.weight", "256"},
        {"down_blocks.1.attentions.0.to_out.0.bias", "256"},
        {"down_blocks.0.attentions.0.to_q.weight", ""},
        {"down_blocks.2.downsamplers.0.conv.weight", "256,256,3,3"},
        {"down_blocks.3.downsamplers.0.conv.weight", ""},
        {"down_blocks.0.resnets.0.time_emb_proj.weight", "128,512"},
        {"mid_block.attentions.0.group_norm.bias", "256"},
        {"mid_block.resnets.1.norm2.weight", "256"},
        {"up_blocks.0.resnets.0.conv1.weight", "256,512,3,3"},
        {"up_blocks.0.resnets.0.conv_shortcut.weight", "256,512,1,1"},
        {"up_blocks.2.resnets.2.norm1.weight", "384"},
        {"up_blocks.2.attentions.2.to_k.weight", "256,256"},
        {"up_blocks.3.resnets.0.conv1.weight", "128,384,3,3"},
        {"up_blocks.3.resnets.2.conv_shortcut.weight", "128,256,1,1"},
        {"up_blocks.2.upsamplers.0.conv.weight", "256,256,3,3"},
        {"up_blocks.3.upsamplers.0.conv.weight", ""},
        {"conv_norm_out.weight", "128"},
        {"conv_out.weight", "3,128,3,3"},
        {"conv_out.bias", "3"},
    };
    for (size_t i = 0; i < sizeof spot / sizeof spot[0]; i++)
        CHECK (strcmp (shape_of (&c, spot[i].name), spot[i].shape) == 0, "%s: [%s], want [%s]", spot[i].name,
               shape_of (&c, spot[i].name), spot[i].shape);
    static char names[400][160];
    find_ctx q = {.names = names};
    dfx__unet_config_foreach_tensor (&c, find_tensor, &q);
    qsort (names, (size_t) q.n, sizeof names[0], cmp_str);
    int dups = 0;
    for (int i = 1; i < q.n; i++)
        dups += strcmp (names[i - 1], names[i]) == 0;
    CHECK (q.n == 328 && dups == 0, "%d names, %d repeated", q.n, dups);

    /* Defaults: "{}" is diffusers' UNet2DModel(). */
    CHECK (parse_unet ("{}", &c) == DFX_OK, "defaults: %s", dfx_ctx_errmsg (ctx));
    CHECK (c.sample_size[0] == 0 && c.in_channels == 3 && c.out_channels == 3 && !c.center_input_sample, "d1");
    CHECK (c.freq_shift == 0 && c.flip_sin_to_cos == 1 && c.time_embedding_dim == 896, "d2");
    CHECK (c.n_levels == 4 && c.block_out_channels[0] == 224 && c.block_out_channels[1] == 448 &&
               c.block_out_channels[2] == 672 && c.block_out_channels[3] == 896,
           "d3");
    CHECK (!c.down_attention[0] && c.down_attention[1] && c.down_attention[2] && c.down_attention[3], "d4");
    CHECK (c.up_attention[0] && c.up_attention[1] && c.up_attention[2] && !c.up_attention[3], "d5");
    CHECK (c.layers_per_block == 2 && c.mid_block_scale_factor == 1 && c.downsample_padding == 1, "d6");
    CHECK (c.attention_head_dim == 8 && c.norm_num_groups == 32 && c.norm_eps == 1e-5 && !c.scale_shift, "d7");
    CHECK (c.mid_block && c.mid_attention && c.mid_attention_groups == 32 && c.dropout == 0, "d8");
    /* Summed by hand from the layer shapes (see the walk). */
    CHECK (dfx__unet_config_param_count (&c) == 274056163, "default parameters %lld",
           (long long) dfx__unet_config_param_count (&c));
    dfx__unet_config d;
    dfx__unet_config_defaults (&d);
    CHECK (memcmp (&c, &d, sizeof c) == 0, "defaults() equals parsing {}");

    /* Settings that change the computation. */
    CHECK (parse_unet ("{\"mid_block_type\": null, \"block_out_channels\": [32, 64], \"down_block_types\": "
                       "[\"DownBlock2D\", \"AttnDownBlock2D\"], \"up_block_types\": [\"AttnUpBlock2D\", "
                       "\"UNetResUpBlock2D\"], \"layers_per_block\": 1, \"attention_head_dim\": 16, "
                       "\"sample_size\": [64, 48], \"time_embedding_dim\": 100, \"norm_num_groups\": 8}",
                       &c) == DFX_OK,
           "small: %s", dfx_ctx_errmsg (ctx));
    CHECK (!c.mid_block && !c.mid_attention && c.sample_size[0] == 64 && c.sample_size[1] == 48, "small fields");
    CHECK (strcmp (shape_of (&c, "mid_block.resnets.0.conv1.weight"), "") == 0, "no mid block");
    CHECK (strcmp (shape_of (&c, "time_embedding.linear_1.weight"), "100,32") == 0, "time_embedding_dim");
    CHECK (strcmp (shape_of (&c, "up_blocks.0.attentions.1.to_v.weight"), "64,64") == 0, "up attention");
    CHECK (parse_unet ("{\"resnet_time_scale_shift\": \"scale_shift\"}", &c) == DFX_OK && c.scale_shift &&
               c.mid_attention_groups == 0,
           "scale_shift: %s", dfx_ctx_errmsg (ctx));
    CHECK (strcmp (shape_of (&c, "down_blocks.0.resnets.0.time_emb_proj.weight"), "448,896") == 0,
           "scale_shift projects to 2C");
    CHECK (strcmp (shape_of (&c, "mid_block.attentions.0.group_norm.weight"), "") == 0,
           "scale_shift: mid attention without GroupNorm");
    CHECK (strcmp (shape_of (&c, "down_blocks.1.attentions.0.group_norm.weight"), "448") == 0,
           "scale_shift: block attentions keep theirs");
    CHECK (parse_unet ("{\"resnet_time_scale_shift\": \"scale_shift\", \"attn_norm_num_groups\": 16}", &c) ==
                   DFX_OK &&
               c.mid_attention_groups == 16,
           "attn_norm_num_groups");
    CHECK (parse_unet ("{\"add_attention\": false, \"time_embedding_dim\": 0, \"act_fn\": \"swish\", "
                       "\"dropout\": 0.1, \"downsample_type\": \"conv\", \"upsample_type\": null}",
                       &c) == DFX_OK &&
               c.mid_block && !c.mid_attention && c.time_embedding_dim == 896 && c.dropout == 0.1,
           "add_attention false: %s", dfx_ctx_errmsg (ctx));
    CHECK (c.fisher_output == DFX__FISHER_SECOND_MOMENT, "a config without _dfx_fisher_output: second moment");
    CHECK (parse_unet ("{\"_dfx_fisher_output\": \"variance_ratio\"}", &c) == DFX_OK &&
               c.fisher_output == DFX__FISHER_VARIANCE_RATIO,
           "_dfx_fisher_output variance_ratio: %s", dfx_ctx_errmsg (ctx));
    CHECK (parse_unet ("{\"_dfx_fisher_output\": \"second_moment\"}", &c) == DFX_OK &&
               c.fisher_output == DFX__FISHER_SECOND_MOMENT,
           "_dfx_fisher_output second_moment: %s", dfx_ctx_errmsg (ctx));

    /* Refusals, each naming the file, the field and the value. */
    const struct {
        const char *json;
        dfx_status st;
        const char *field, *value;
    } bad[] = {
        {"{\"time_embedding_type\": \"fourier\"}", DFX_ERR_UNSUPPORTED, "time_embedding_type", "fourier"},
        {"{\"down_block_types\": [\"DownBlock2D\", \"CrossAttnDownBlock2D\", \"AttnDownBlock2D\", "
         "\"AttnDownBlock2D\"]}",
         DFX_ERR_UNSUPPORTED, "down_block_types[1]", "CrossAttnDownBlock2D"},
        {"{\"up_block_types\": [\"AttnUpBlock2D\", \"AttnUpBlock2D\", \"AttnUpBlock2D\", \"SkipUpBlock2D\"]}",
         DFX_ERR_UNSUPPORTED, "up_block_types[3]", "SkipUpBlock2D"},
        {"{\"mid_block_type\": \"UNetMidBlock2DCrossAttn\"}", DFX_ERR_UNSUPPORTED, "mid_block_type",
         "UNetMidBlock2DCrossAttn"},
        {"{\"act_fn\": \"gelu\"}", DFX_ERR_UNSUPPORTED, "act_fn", "gelu"},
        {"{\"class_embed_type\": \"timestep\"}", DFX_ERR_UNSUPPORTED, "class_embed_type", "timestep"},
        {"{\"num_class_embeds\": 10}", DFX_ERR_UNSUPPORTED, "num_class_embeds", "10"},
        {"{\"downsample_type\": \"resnet\"}", DFX_ERR_UNSUPPORTED, "downsample_type", "resnet"},
        {"{\"upsample_type\": \"resnet\"}", DFX_ERR_UNSUPPORTED, "upsample_type", "resnet"},
        {"{\"resnet_time_scale_shift\": \"spatial\"}", DFX_ERR_UNSUPPORTED, "resnet_time_scale_shift", "spatial"},
        {"{\"downsample_padding\": 2}", DFX_ERR_UNSUPPORTED, "downsample_padding", "2"},
        {"{\"_dfx_fisher_output\": \"variance\"}", DFX_ERR_UNSUPPORTED, "_dfx_fisher_output", "variance"},
        {"{\"_dfx_fisher_output\": 1}", DFX_ERR_FORMAT, "_dfx_fisher_output", "a number"},
        {"{\"_class_name\": \"UNet2DConditionModel\"}", DFX_ERR_UNSUPPORTED, "_class_name", "UNet2DConditionModel"},
        {"{\"attention_head_dim\": 48}", DFX_ERR_UNSUPPORTED, "attention_head_dim", "48"},
        {"{\"block_out_channels\": [128, 256]}", DFX_ERR_FORMAT, "block_out_channels", "2 entries"},
        {"{\"up_block_types\": [\"UpBlock2D\"]}", DFX_ERR_FORMAT, "up_block_types", "1 entries"},
        {"{\"block_out_channels\": [224, 448, 672, 900]}", DFX_ERR_FORMAT, "norm_num_groups", "900"},
        {"{\"norm_num_groups\": 30}", DFX_ERR_FORMAT, "norm_num_groups", "30"},
        {"{\"attn_norm_num_groups\": 5}", DFX_ERR_FORMAT, "attn_norm_num_groups", "5"},
        {"{\"freq_shift\": 112}", DFX_ERR_FORMAT, "freq_shift", "112"},
        {"{\"in_channels\": \"3\"}", DFX_ERR_FORMAT, "in_channels", "a string"},
        {"{\"in_channels\": 2.5}", DFX_ERR_FORMAT, "in_channels", "2.5"},
        {"{\"in_channels\": 0}", DFX_ERR_FORMAT, "in_channels", "0"},
        {"{\"layers_per_block\": 0}", DFX_ERR_FORMAT, "layers_per_block", "0"},
        {"{\"norm_eps\": -1}", DFX_ERR_FORMAT, "norm_eps", "-1"},
        {"{\"norm_num_groups\": null}", DFX_ERR_FORMAT, "norm_num_groups", "null"},
        {"{\"mid_block_scale_factor\": 0}", DFX_ERR_FORMAT, "mid_block_scale_factor", "0"},
        {"{\"center_input_sample\": 1}", DFX_ERR_FORMAT, "center_input_sample", "a number"},
        {"{\"sample_size\": [32]}", DFX_ERR_FORMAT, "sample_size", "1 entries"},
        {"{\"sample_size\": [32, \"a\"]}", DFX_ERR_FORMAT, "sample_size[1]", "a string"},
        {"{\"down_block_types\": \"DownBlock2D\"}", DFX_ERR_FORMAT, "down_block_types", "a string"},
        {"{\"block_out_channels\": [1, 2, 3, 4, 5, 6, 7, 8, 9]}", DFX_ERR_FORMAT, "block_out_channels", "9 entries"},
        {"{\"in_channels\": 3, \"in_channels\": 4}", DFX_ERR_FORMAT, "in_channels", "duplicate"},
        {"{\"in_channels\": 3,}", DFX_ERR_FORMAT, "invalid JSON", "byte"},
        {"[]", DFX_ERR_FORMAT, "an array", "expected an object"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        dfx_status st = parse_unet (bad[i].json, &c);
        CHECK (st == bad[i].st && msg_has ("m/unet/config.json") && msg_has (bad[i].field) && msg_has (bad[i].value),
               "%s -> %s: %s", bad[i].json, dfx_status_name (st), dfx_ctx_errmsg (ctx));
    }

    /* From a file, and a missing file. */
    char path[512];
    snprintf (path, sizeof path, "%s/config.json", tmpdir);
    FILE *fp = fopen (path, "wb");
    if (fp) {
        fputs (cifar10, fp);
        fclose (fp);
    }
    CHECK (dfx__unet_config_load (ctx, path, &c) == DFX_OK && dfx__unet_config_param_count (&c) == 35746307,
           "load: %s", dfx_ctx_errmsg (ctx));
    unlink (path);
    CHECK (dfx__unet_config_load (ctx, path, &c) == DFX_ERR_IO && msg_has (path), "missing: %s",
           dfx_ctx_errmsg (ctx));

    /* Structs built in code go through the same checks. */
    dfx__unet_config_defaults (&c);
    CHECK (dfx__unet_config_check (ctx, &c, "code") == DFX_OK, "defaults pass the check");
    c.mid_block = 0;
    CHECK (dfx__unet_config_check (ctx, &c, "code") == DFX_ERR_INVALID_ARGUMENT && msg_has ("code"),
           "mid attention without a mid block");
    dfx__unet_config_defaults (&c);
    c.sample_size[0] = 32;
    CHECK (dfx__unet_config_check (ctx, &c, "code") == DFX_ERR_FORMAT && msg_has ("sample_size"), "half a size");
    dfx__unet_config_defaults (&c);
    c.norm_eps = 0;
    CHECK (dfx__unet_config_check (ctx, &c, "code") == DFX_ERR_FORMAT && msg_has ("norm_eps"), "eps 0");
}

/* ---- Scheduler config -------------------------------------------------------------- */

static dfx_status
parse_sched (const char *json, dfx__sched_config **s)
{
    return dfx__sched_config_parse (ctx, json, strlen (json), "m/scheduler/scheduler_config.json", s);
}

/* max |x − y| / max(|y|, tiny) */
static double
rel_err (double x, double y)
{
    return fabs (x - y) / fmax (fabs (y), 1e-300);
}

static void
test_sched_config (void)
{
    dfx__sched_config *s = NULL;
    /* google/ddpm-cifar10-32's scheduler_config.json. */
    CHECK (parse_sched ("{\"_class_name\": \"DDPMScheduler\", \"_diffusers_version\": \"0.1.1\", \"beta_end\": 0.02, "
                        "\"beta_schedule\": \"linear\", \"beta_start\": 0.0001, \"clip_sample\": true, "
                        "\"num_train_timesteps\": 1000, \"trained_betas\": null, \"variance_type\": \"fixed_small\"}",
                        &s) == DFX_OK,
           "ddpm: %s", dfx_ctx_errmsg (ctx));
    if (s) {
        CHECK (strcmp (s->class_name, "DDPMScheduler") == 0 && s->num_train_timesteps == 1000, "ddpm fields");
        CHECK (s->beta_schedule == DFX__BETA_LINEAR && s->prediction_type == DFX__PREDICT_EPSILON && s->clip_sample,
               "ddpm enums");
        /* Closed forms: βt = b0 + (b1 − b0)·t/(T − 1); ᾱt = exp Σ log1p(−βs). */
        double eb = 0, ea = 0, sum = 0;
        for (int t = 0; t < 1000; t++) {
            double beta = 1e-4 + (0.02 - 1e-4) * t / 999.0;
            sum += log1p (-beta);
            eb = fmax (eb, rel_err (s->betas[t], beta));
            ea = fmax (ea, rel_err (s->alphas_cumprod[t], exp (sum)));
        }
        CHECK (eb < 1e-12 && ea < 1e-12, "linear: beta err %g, alpha_bar err %g", eb, ea);
        CHECK (s->betas[0] == 1e-4 && s->betas[999] == 0.02, "linspace ends exact");
        CHECK (fabs (s->alphas_cumprod[999] - 4.035829e-5) < 1e-10, "alpha_bar_999 = %.9g", s->alphas_cumprod[999]);
    }
    dfx__sched_config_destroy (s);

    /* scaled_linear: βt = (√b0 + (√b1 − √b0)·t/(T − 1))². */
    CHECK (parse_sched ("{\"_class_name\": \"DDIMScheduler\", \"beta_schedule\": \"scaled_linear\", "
                        "\"beta_start\": 0.00085, \"beta_end\": 0.012, \"prediction_type\": \"v_prediction\", "
                        "\"set_alpha_to_one\": false, \"steps_offset\": 1, \"timestep_spacing\": \"trailing\", "
                        "\"clip_sample\": false}",
                        &s) == DFX_OK,
           "scaled: %s", dfx_ctx_errmsg (ctx));
    if (s) {
        double eb = 0, ea = 0, sum = 0, r0 = sqrt (0.00085), r1 = sqrt (0.012);
        for (int t = 0; t < 1000; t++) {
            double r = r0 + (r1 - r0) * t / 999.0, beta = r * r;
            sum += log1p (-beta);
            eb = fmax (eb, rel_err (s->betas[t], beta));
            ea = fmax (ea, rel_err (s->alphas_cumprod[t], exp (sum)));
        }
        CHECK (eb < 1e-12 && ea < 1e-12, "scaled_linear: beta err %g, alpha_bar err %g", eb, ea);
        CHECK (s->prediction_type == DFX__PREDICT_V && !s->set_alpha_to_one && s->steps_offset == 1 &&
                   s->timestep_spacing == DFX__SPACING_TRAILING && !s->clip_sample,
               "ddim fields");
    }
    dfx__sched_config_destroy (s);

    /* squaredcos_cap_v2: the product telescopes, ᾱt = f((t+1)/T)/f(0) with
     * f(u) = cos((u + 0.008)/1.008·π/2)², except where β was capped at 0.999. */
    CHECK (parse_sched ("{\"beta_schedule\": \"squaredcos_cap_v2\", \"num_train_timesteps\": 4000, "
                        "\"prediction_type\": \"sample\"}",
                        &s) == DFX_OK,
           "cosine: %s", dfx_ctx_errmsg (ctx));
    if (s) {
        const double pi = 3.14159265358979323846;
        double f0 = pow (cos (0.008 / 1.008 * pi / 2), 2), ea = 0;
        int capped = 0;
        for (int t = 0; t < 4000; t++) {
            if (s->betas[t] == 0.999) {
                capped++;
                continue;
            }
            double u = (t + 1) / 4000.0, f = pow (cos ((u + 0.008) / 1.008 * pi / 2), 2);
            if (!capped)
                ea = fmax (ea, rel_err (s->alphas_cumprod[t], f / f0));
        }
        CHECK (ea < 1e-12, "cosine alpha_bar err %g", ea);
        CHECK (capped == 1 && s->betas[3999] == 0.999, "only the last beta capped (%d)", capped);
        CHECK (s->prediction_type == DFX__PREDICT_SAMPLE, "sample prediction");
    }
    dfx__sched_config_destroy (s);

    /* trained_betas override the schedule; T follows them. */
    CHECK (parse_sched ("{\"trained_betas\": [0.1, 0.2, 0.3], \"beta_schedule\": \"linear\"}", &s) == DFX_OK,
           "trained: %s", dfx_ctx_errmsg (ctx));
    if (s) {
        CHECK (s->num_train_timesteps == 3 && s->beta_schedule == DFX__BETA_TRAINED, "trained T");
        CHECK (fabs (s->alphas_cumprod[0] - 0.9) < 1e-15 && fabs (s->alphas_cumprod[1] - 0.72) < 1e-15 &&
                   fabs (s->alphas_cumprod[2] - 0.504) < 1e-15,
               "trained alpha_bar");
    }
    dfx__sched_config_destroy (s);

    /* Zero terminal SNR: √ᾱ't = (√ᾱt − √ᾱT)·√ᾱ0/(√ᾱ0 − √ᾱT), so ᾱ'T = 0. */
    CHECK (parse_sched ("{\"rescale_betas_zero_snr\": true, \"num_train_timesteps\": 50}", &s) == DFX_OK,
           "zero snr: %s", dfx_ctx_errmsg (ctx));
    if (s) {
        double a[50], sum = 0, ea = 0;
        for (int t = 0; t < 50; t++) {
            sum += log1p (-(1e-4 + (0.02 - 1e-4) * t / 49.0));
            a[t] = sqrt (exp (sum));
        }
        for (int t = 0; t < 49; t++) {
            double want = (a[t] - a[49]) * a[0] / (a[0] - a[49]);
            ea = fmax (ea, rel_err (s->alphas_cumprod[t], want * want));
        }
        CHECK (ea < 1e-12 && s->alphas_cumprod[49] == 0 && s->betas[49] == 1, "zero snr err %g, last %g", ea,
               s->alphas_cumprod[49]);
    }
    dfx__sched_config_destroy (s);

    /* Defaults. */
    CHECK (parse_sched ("{}", &s) == DFX_OK, "defaults");
    if (s) {
        CHECK (s->num_train_timesteps == 1000 && s->beta_start == 1e-4 && s->beta_end == 0.02 &&
                   s->beta_schedule == DFX__BETA_LINEAR && s->prediction_type == DFX__PREDICT_EPSILON &&
                   s->clip_sample && s->clip_sample_range == 1 && s->set_alpha_to_one && s->steps_offset == 0 &&
                   s->timestep_spacing == DFX__SPACING_LEADING && s->variance_type == DFX__VARIANCE_FIXED_SMALL &&
                   !s->thresholding && !s->rescale_betas_zero_snr && s->class_name[0] == '\0',
               "default fields");
    }
    dfx__sched_config_destroy (s);
    dfx__sched_config_destroy (NULL);

    const struct {
        const char *json;
        dfx_status st;
        const char *field, *value;
    } bad[] = {
        {"{\"beta_schedule\": \"sigmoid\"}", DFX_ERR_UNSUPPORTED, "beta_schedule", "sigmoid"},
        {"{\"prediction_type\": \"flow\"}", DFX_ERR_UNSUPPORTED, "prediction_type", "flow"},
        {"{\"timestep_spacing\": \"karras\"}", DFX_ERR_UNSUPPORTED, "timestep_spacing", "karras"},
        {"{\"variance_type\": \"big\"}", DFX_ERR_UNSUPPORTED, "variance_type", "big"},
        {"{\"num_train_timesteps\": 0}", DFX_ERR_FORMAT, "num_train_timesteps", "0"},
        {"{\"num_train_timesteps\": 1e9}", DFX_ERR_FORMAT, "num_train_timesteps", "1000000000"},
        {"{\"beta_end\": 2}", DFX_ERR_FORMAT, "beta_end", "2"},
        {"{\"beta_start\": \"0.1\"}", DFX_ERR_FORMAT, "beta_start", "a string"},
        {"{\"clip_sample\": \"yes\"}", DFX_ERR_FORMAT, "clip_sample", "a string"},
        {"{\"trained_betas\": [0.1, \"x\"]}", DFX_ERR_FORMAT, "trained_betas[1]", "a string"},
        {"{\"trained_betas\": [0.1, 1.5]}", DFX_ERR_FORMAT, "trained_betas[1]", "1.5"},
        {"{\"trained_betas\": []}", DFX_ERR_FORMAT, "trained_betas", "0 entries"},
        {"{\"trained_betas\": 3}", DFX_ERR_FORMAT, "trained_betas", "a number"},
        {"{\"trained_betas\": [0.1, 0.2], \"num_train_timesteps\": 3}", DFX_ERR_FORMAT, "trained_betas", "3"},
        {"{\"steps_offset\": -1}", DFX_ERR_FORMAT, "steps_offset", "-1"},
        {"{\"rescale_betas_zero_snr\": true, \"num_train_timesteps\": 1}", DFX_ERR_FORMAT, "rescale_betas_zero_snr",
         "true"},
        {"{\"_class_name\": 5}", DFX_ERR_FORMAT, "_class_name", "a number"},
        {"{\"beta_end\": 0.02, \"beta_end\": 0.03}", DFX_ERR_FORMAT, "beta_end", "duplicate"},
        {"{\"beta_end\": }", DFX_ERR_FORMAT, "invalid JSON", "byte"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        s = (dfx__sched_config *) 1;
        dfx_status st = parse_sched (bad[i].json, &s);
        CHECK (st == bad[i].st && s == NULL && msg_has ("m/scheduler/scheduler_config.json") &&
                   msg_has (bad[i].field) && msg_has (bad[i].value),
               "%s -> %s: %s", bad[i].json, dfx_status_name (st), dfx_ctx_errmsg (ctx));
    }
    char path[512];
    snprintf (path, sizeof path, "%s/scheduler_config.json", tmpdir);
    FILE *fp = fopen (path, "wb");
    if (fp) {
        fputs ("{\"num_train_timesteps\": 2, \"beta_start\": 0.5, \"beta_end\": 0.5}", fp);
        fclose (fp);
    }
    CHECK (dfx__sched_config_load (ctx, path, &s) == DFX_OK && s && s->num_train_timesteps == 2 &&
               s->alphas_cumprod[1] == 0.25,
           "load: %s", dfx_ctx_errmsg (ctx));
    dfx__sched_config_destroy (s);
    unlink (path);
    CHECK (dfx__sched_config_load (ctx, path, &s) == DFX_ERR_IO && s == NULL && msg_has (path), "missing");
}

/* ---- The PyTorch .bin reader (compute/model/torch-pickle.c) ------------ */

typedef struct tblob {
    unsigned char b[1024];
    size_t n;
} tblob;

static void
tput (tblob *x, const void *p, size_t n)
{
    memcpy (x->b + x->n, p, n);
    x->n += n;
}

#define PUT(x, lit) tput ((x), (lit), sizeof (lit) - 1)

/* A legacy torch.save stream of {"w": storage[1:3]} over a float storage
 * "k" of 3 elements 1, 2, 3; little_endian as given. */
static void
legacy_stream (tblob *x, int little)
{
    static const unsigned char magic[10] = {0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};
    x->n = 0;
    PUT (x, "\x80\x02\x8a\x0a");
    tput (x, magic, sizeof magic);
    PUT (x, ".\x80\x02M\xe9\x03.");
    PUT (x, "\x80\x02}(X\x0d\x00\x00\x00" "little_endian");
    tput (x, little ? "\x88" : "\x89", 1);
    PUT (x, "u.");
    PUT (x, "\x80\x02}(X\x01\x00\x00\x00" "w" "ctorch._utils\n_rebuild_tensor_v2\n((X\x07\x00\x00\x00" "storage"
            "ctorch\nFloatStorage\nX\x01\x00\x00\x00" "k" "X\x03\x00\x00\x00" "cpu" "K\x03Nt" "QK\x01K\x02\x85K\x01\x85\x89}tRu.");
    PUT (x, "\x80\x02](X\x01\x00\x00\x00" "k" "e.");
    PUT (x, "\x03\x00\x00\x00\x00\x00\x00\x00");
    float v[3] = {1, 2, 3};
    tput (x, v, sizeof v);
}

static void
test_torch_pickle (void)
{
    dfx__st_file *f = NULL;
    tblob x;
    legacy_stream (&x, 1);
    dfx_status st = dfx__torch_open_memory (ctx, x.b, x.n, LABEL, &f);
    CHECK (st == DFX_OK && f && dfx__st_count (f) == 1, "legacy stream: %s", dfx_ctx_errmsg (ctx));
    if (st == DFX_OK) {
        const dfx__st_tensor *t = dfx__st_find (f, "w");
        float out[2] = {0, 0};
        CHECK (t && t->dtype == DFX__DTYPE_F32 && t->ndim == 1 && t->shape[0] == 2, "legacy tensor w");
        CHECK (dfx__st_read_f32 (ctx, f, "w", 1, (int64_t[]) {2}, out) == DFX_OK && out[0] == 2 && out[1] == 3,
               "w = storage[1:3] = (2, 3): got (%g, %g)", out[0], out[1]);
        dfx__st_close (f);
        f = NULL;
    }
    legacy_stream (&x, 0);
    CHECK (dfx__torch_open_memory (ctx, x.b, x.n, LABEL, &f) == DFX_ERR_UNSUPPORTED && !f && msg_has (LABEL) &&
               msg_has ("big-endian"),
           "big-endian: %s", dfx_ctx_errmsg (ctx));
    legacy_stream (&x, 1);
    int refused = 0;
    for (size_t cut = 0; cut < x.n; cut++) {
        st = dfx__torch_open_memory (ctx, x.b, cut, LABEL, &f);
        refused += st != DFX_OK && !f && msg_has (LABEL);
        dfx__st_close (f);
        f = NULL;
    }
    CHECK (refused == (int) x.n, "every truncation refused naming the file (%d of %zu)", refused, x.n);

    /* Pickles that would run code in Python: refused at the global, by name. */
    static const struct {
        const char *what;
        const char *bytes;
        size_t n;
        const char *needle;
    } evil[] = {
#define EVIL(w, b, s) {w, b, sizeof (b) - 1, s}
        EVIL ("os.system via GLOBAL + REDUCE", "\x80\x02" "cposix\nsystem\nX\x04\x00\x00\x00" "true\x85R.",
              "posix.system"),
        EVIL ("builtins.eval via STACK_GLOBAL", "\x80\x04\x8c\x08" "builtins\x8c\x04" "eval\x93\x8c\x01" "1\x85R.",
              "builtins.eval"),
        EVIL ("INST opcode", "\x80\x02(iposix\nsystem\n.", "'i'"),
        EVIL ("NEWOBJ opcode", "\x80\x02" "ccollections\nOrderedDict\n)\x81.", "0x81"),
        EVIL ("OrderedDict with arguments", "\x80\x02" "ccollections\nOrderedDict\n(K\x01tR.", "OrderedDict"),
        EVIL ("a storage type called", "\x80\x02" "ctorch\nFloatStorage\n)R.", "FloatStorage"),
        EVIL ("persistent id not a storage", "\x80\x02X\x01\x00\x00\x00" "aQ.", "persistent id"),
        EVIL ("memo read before write", "\x80\x02h\x05.", "memo"),
        EVIL ("stack underflow", "\x80\x02R.", "stack"),
#undef EVIL
    };
    for (size_t i = 0; i < sizeof evil / sizeof evil[0]; i++) {
        st = dfx__torch_open_memory (ctx, evil[i].bytes, evil[i].n, LABEL, &f);
        CHECK (st != DFX_OK && !f && msg_has (LABEL) && msg_has (evil[i].needle), "%s: %s", evil[i].what,
               dfx_ctx_errmsg (ctx));
        dfx__st_close (f);
        f = NULL;
    }
    CHECK (dfx__torch_open_memory (ctx, "PK\x05\x06", 4, LABEL, &f) == DFX_ERR_FORMAT && msg_has (LABEL) &&
               msg_has ("end-of-directory"),
           "a 4-byte zip: %s", dfx_ctx_errmsg (ctx));
    CHECK (dfx__torch_open_memory (ctx, "{\"a\": 1}", 8, LABEL, &f) == DFX_ERR_FORMAT && msg_has ("not a PyTorch"),
           "JSON is not a .bin: %s", dfx_ctx_errmsg (ctx));
}

int
main (void)
{
    dfx_ctx_options opt;
    dfx_ctx_options_defaults (&opt);
    opt.offline = 1;
    if (dfx_ctx_create (&opt, &ctx) != DFX_OK)
        return 1;
    const char *base = getenv ("TMPDIR");
    snprintf (tmpdir, sizeof tmpdir, "%s/dfx-test-files-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp (tmpdir)) {
        perror ("mkdtemp");
        return 1;
    }

    test_crafted ();
    test_conversions ();
    test_writer ();
    test_unet_config ();
    test_sched_config ();
    test_torch_pickle ();

    rmdir (tmpdir);
    dfx_ctx_destroy (ctx);
    return check_exit ();
}
