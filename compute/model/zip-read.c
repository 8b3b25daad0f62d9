/* zip-read.c — the central directory of an in-memory zip archive (the
 * container torch.save writes), checked in full when opened.
 *
 * Layout (PKWARE APPNOTE 6.3): local file headers with the data, then the
 * central directory (one record per entry: sizes, method, flags, the local
 * header's offset, the name), then the end record (and, for ZIP64, a
 * locator pointing at a ZIP64 end record with 64-bit counts and offsets).
 * The reader finds the end record within the last 64 KiB + 22 bytes, walks
 * the directory and, for every entry, the local header to locate its data.
 * It never decompresses: entries other than stored ones are listed but give
 * no bytes (dfx__zip_data refuses them by name).
 */
#include "zip-read.h"

#include "config-json.h"

#include <stdlib.h>
#include <string.h>

#define SIG_LOCAL 0x04034b50u
#define SIG_CENTRAL 0x02014b50u
#define SIG_END 0x06054b50u
#define SIG_END64 0x06064b50u
#define SIG_LOCATOR64 0x07064b50u
#define MAX_ENTRIES (1u << 20)

struct dfx__zip {
    char *label;
    dfx__zip_entry *entries;      /* ascending strcmp of names */
    int n;
    char *names;
};

static uint32_t
rd16 (const unsigned char *p)
{
    return (uint32_t) p[0] | ((uint32_t) p[1] << 8);
}

static uint32_t
rd32 (const unsigned char *p)
{
    return rd16 (p) | (rd16 (p + 2) << 16);
}

static uint64_t
rd64 (const unsigned char *p)
{
    return (uint64_t) rd32 (p) | ((uint64_t) rd32 (p + 4) << 32);
}

int
dfx__zip_sniff (const void *data, size_t size)
{
    const unsigned char *p = data;
    return size >= 4 && p[0] == 'P' && p[1] == 'K' &&
           ((p[2] == 3 && p[3] == 4) || (p[2] == 5 && p[3] == 6));
}

static int
cmp_entry (const void *a, const void *b)
{
    return strcmp (((const dfx__zip_entry *) a)->name, ((const dfx__zip_entry *) b)->name);
}

/* The end of central directory: its offset in *at, or -1. */
static int
find_end (const unsigned char *p, size_t size, size_t *at)
{
    if (size < 22)
        return -1;
    size_t lo = size - 22 > 65535 ? size - 22 - 65535 : 0;
    for (size_t i = size - 22 + 1; i-- > lo;)
        if (rd32 (p + i) == SIG_END && i + 22 + rd16 (p + i + 20) <= size) {
            *at = i;
            return 0;
        }
    return -1;
}

/* Reads ZIP64 extra-field values for the fields that are saturated. */
static int
zip64_extra (const unsigned char *x, size_t len, uint64_t *usize, uint64_t *csize, uint64_t *offset)
{
    while (len >= 4) {
        uint32_t id = rd16 (x), n = rd16 (x + 2);
        if (n > len - 4)
            return -1;
        if (id == 1) {
            const unsigned char *v = x + 4;
            size_t left = n;
            uint64_t *fields[3] = {usize, csize, offset};
            for (int k = 0; k < 3; k++) {
                if (*fields[k] != 0xffffffffu)
                    continue;
                if (left < 8)
                    return -1;
                *fields[k] = rd64 (v);
                v += 8;
                left -= 8;
            }
            return 0;
        }
        x += 4 + n;
        len -= 4 + n;
    }
    return 0;
}

dfx_status
dfx__zip_open (dfx_ctx *ctx, const void *data, size_t size, const char *label, dfx__zip **out)
{
    const unsigned char *p = data;
    dfx_status st = DFX_OK;
    *out = NULL;
    dfx__zip *z = dfx__calloc (1, sizeof *z);
    if (!z || !(z->label = dfx__calloc (strlen (label) + 1, 1))) {
        dfx__free (z);
        return dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "%s: out of host memory", label);
    }
    memcpy (z->label, label, strlen (label));

    size_t end;
    if (find_end (p, size, &end) != 0) {
        st = dfx__error (ctx, DFX_ERR_FORMAT, "%s: no zip end-of-directory record (truncated download?)", label);
        goto cleanup;
    }
    uint64_t count = rd16 (p + end + 10), cd_size = rd32 (p + end + 12), cd_off = rd32 (p + end + 16);
    uint32_t disk = rd16 (p + end + 4), cd_disk = rd16 (p + end + 6);
    if (count == 0xffff || cd_size == 0xffffffffu || cd_off == 0xffffffffu) {
        /* ZIP64: the locator sits just before the end record. */
        if (end < 20 || rd32 (p + end - 20) != SIG_LOCATOR64) {
            st = dfx__error (ctx, DFX_ERR_FORMAT, "%s: ZIP64 sizes without a ZIP64 locator", label);
            goto cleanup;
        }
        uint64_t e64 = rd64 (p + end - 20 + 8);
        if (e64 > size || size - e64 < 56 || rd32 (p + e64) != SIG_END64) {
            st = dfx__error (ctx, DFX_ERR_FORMAT, "%s: the ZIP64 end record is missing or outside the file", label);
            goto cleanup;
        }
        disk = rd32 (p + e64 + 16);
        cd_disk = rd32 (p + e64 + 20);
        count = rd64 (p + e64 + 32);
        cd_size = rd64 (p + e64 + 40);
        cd_off = rd64 (p + e64 + 48);
    }
    if (disk != 0 || cd_disk != 0) {
        st = dfx__error (ctx, DFX_ERR_UNSUPPORTED, "%s: a multi-part zip archive", label);
        goto cleanup;
    }
    if (cd_off > size || cd_size > size - cd_off) {
        st = dfx__error (ctx, DFX_ERR_FORMAT, "%s: the zip directory (%llu bytes at %llu) lies outside the %zu-byte "
                         "file", label, (unsigned long long) cd_size, (unsigned long long) cd_off, size);
        goto cleanup;
    }
    if (count > MAX_ENTRIES || count > cd_size / 46) {
        st = dfx__error (ctx, DFX_ERR_FORMAT, "%s: %llu zip entries do not fit the %llu-byte directory (at most %u "
                         "read)", label, (unsigned long long) count, (unsigned long long) cd_size, MAX_ENTRIES);
        goto cleanup;
    }
    z->entries = dfx__calloc ((size_t) count + 1, sizeof *z->entries);
    z->names = dfx__calloc ((size_t) cd_size + 1, 1); /* names are shorter than their records */
    if (!z->entries || !z->names) {
        st = dfx__error (ctx, DFX_ERR_OUT_OF_HOST_MEMORY, "%s: out of host memory", label);
        goto cleanup;
    }
    const unsigned char *c = p + cd_off, *cend = p + cd_off + cd_size;
    char *names = z->names;
    for (uint64_t i = 0; i < count; i++) {
        if ((size_t) (cend - c) < 46 || rd32 (c) != SIG_CENTRAL) {
            st = dfx__error (ctx, DFX_ERR_FORMAT, "%s: zip directory record %llu is damaged", label,
                             (unsigned long long) i);
            goto cleanup;
        }
        uint32_t flags = rd16 (c + 8), method = rd16 (c + 10);
        uint64_t csize = rd32 (c + 20), usize = rd32 (c + 24), off = rd32 (c + 42);
        size_t nlen = rd16 (c + 28), xlen = rd16 (c + 30), klen = rd16 (c + 32);
        if ((size_t) (cend - c) - 46 < nlen + xlen + klen) {
            st = dfx__error (ctx, DFX_ERR_FORMAT, "%s: zip directory record %llu runs past the directory", label,
                             (unsigned long long) i);
            goto cleanup;
        }
        const char *name = (const char *) c + 46;
        if (memchr (name, '\0', nlen) || nlen == 0) {
            st = dfx__error (ctx, DFX_ERR_FORMAT, "%s: zip entry %llu has an empty name or one with a NUL byte",
                             label, (unsigned long long) i);
            goto cleanup;
        }
        dfx__zip_entry *e = &z->entries[z->n++];
        memcpy (names, name, nlen);
        e->name = names;
        names += nlen + 1;
        char nm[160];
        dfx__printable (nm, sizeof nm, e->name);
        if (zip64_extra (c + 46 + nlen, xlen, &usize, &csize, &off) != 0) {
            st = dfx__error (ctx, DFX_ERR_FORMAT, "%s: zip entry '%s' has a damaged ZIP64 field", label, nm);
            goto cleanup;
        }
        e->method = (int) method;
        e->encrypted = (int) (flags & 1u);
        e->size = usize;
        /* The local header: its own name and extra lengths place the data. */
        if (off > cd_off || cd_off - off < 30 || rd32 (p + off) != SIG_LOCAL) {
            st = dfx__error (ctx, DFX_ERR_FORMAT, "%s: zip entry '%s': no local header at offset %llu", label, nm,
                             (unsigned long long) off);
            goto cleanup;
        }
        uint64_t start = off + 30 + rd16 (p + off + 26) + rd16 (p + off + 28);
        if (start > cd_off || csize > cd_off - start) {
            st = dfx__error (ctx, DFX_ERR_FORMAT, "%s: zip entry '%s': its %llu bytes at %llu run past the data",
                             label, nm, (unsigned long long) csize, (unsigned long long) start);
            goto cleanup;
        }
        if (method == 0 && !e->encrypted) {
            if (csize != usize) {
                st = dfx__error (ctx, DFX_ERR_FORMAT, "%s: stored zip entry '%s' has sizes %llu and %llu", label, nm,
                                 (unsigned long long) csize, (unsigned long long) usize);
                goto cleanup;
            }
            e->data = p + start;
        }
        c += 46 + nlen + xlen + klen;
    }
    qsort (z->entries, (size_t) z->n, sizeof *z->entries, cmp_entry);
    for (int i = 1; i < z->n; i++)
        if (strcmp (z->entries[i - 1].name, z->entries[i].name) == 0) {
            char nm[160];
            st = dfx__error (ctx, DFX_ERR_FORMAT, "%s: zip entry '%s' appears twice", label,
                             dfx__printable (nm, sizeof nm, z->entries[i].name));
            goto cleanup;
        }
    *out = z;
    return DFX_OK;
cleanup:
    dfx__zip_close (z);
    return st;
}

void
dfx__zip_close (dfx__zip *z)
{
    if (!z)
        return;
    dfx__free (z->names);
    dfx__free (z->entries);
    dfx__free (z->label);
    dfx__free (z);
}

int
dfx__zip_count (const dfx__zip *z)
{
    return z->n;
}

const dfx__zip_entry *
dfx__zip_at (const dfx__zip *z, int i)
{
    return i >= 0 && i < z->n ? &z->entries[i] : NULL;
}

const dfx__zip_entry *
dfx__zip_find (const dfx__zip *z, const char *name)
{
    dfx__zip_entry key = {.name = name};
    return bsearch (&key, z->entries, (size_t) z->n, sizeof *z->entries, cmp_entry);
}

dfx_status
dfx__zip_data (dfx_ctx *ctx, const dfx__zip *z, const dfx__zip_entry *e, const unsigned char **data, uint64_t *size)
{
    char nm[160];
    if (e->encrypted)
        return dfx__error (ctx, DFX_ERR_UNSUPPORTED, "%s: zip entry '%s' is encrypted; dfx reads the plain "
                           "archives torch.save writes", z->label, dfx__printable (nm, sizeof nm, e->name));
    if (!e->data)
        return dfx__error (ctx, DFX_ERR_UNSUPPORTED, "%s: zip entry '%s' is compressed (method %d); dfx reads the "
                           "stored (uncompressed) entries torch.save writes: re-save the file with torch.save",
                           z->label, dfx__printable (nm, sizeof nm, e->name), e->method);
    *data = e->data;
    *size = e->size;
    return DFX_OK;
}
