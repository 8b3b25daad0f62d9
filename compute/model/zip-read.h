/* zip-read.h — the central directory of a zip archive in memory, internal to
 * libdfx: what the PyTorch .bin reader (torch-pickle.c) needs to find
 * data.pkl and the storages of a torch.save archive.
 *
 * Only reading, only a buffer already in memory (mapped by the caller), and
 * only stored (uncompressed, unencrypted) entries give their bytes: torch.save
 * writes nothing else.  Every offset and length of the directory is checked
 * against the buffer when the archive is opened; ZIP64 sizes and offsets are
 * understood.  No CRC check (the bytes are used in place), no
 * decompression, no writing, no multi-disk archives.
 *
 * Thread-safety: an open archive is immutable; errors go to ctx.
 */
#ifndef DFX_ZIP_READ_H
#define DFX_ZIP_READ_H

#include "dfx-private.h"

typedef struct dfx__zip_entry {
    const char *name;              /* NUL-terminated copy of the entry's name */
    int method;                    /* 0 stored, 8 deflated, ... */
    int encrypted;                 /* general-purpose flag bit 0 */
    const unsigned char *data;     /* the entry's bytes in the buffer (stored entries); NULL otherwise */
    uint64_t size;                 /* uncompressed size */
} dfx__zip_entry;

typedef struct dfx__zip dfx__zip;

/* 1 when the buffer starts like a zip archive ("PK\3\4" or an empty one). */
int dfx__zip_sniff (const void *data, size_t size);

/* Reads the directory of the archive in size bytes at data (not copied; it
 * must outlive *out).  label names it in messages.  DFX_ERR_FORMAT naming
 * the label (and the entry) for anything malformed: no end record, ranges
 * outside the buffer, a name with a NUL byte, a name given twice, multi-disk
 * archives.  Ownership: *out (NULL on failure) is freed with
 * dfx__zip_close(). */
dfx_status dfx__zip_open (dfx_ctx *ctx, const void *data, size_t size, const char *label, dfx__zip **out);

/* Frees the directory (not the buffer).  Accepts NULL. */
void dfx__zip_close (dfx__zip *z);

int dfx__zip_count (const dfx__zip *z);

/* Entry i in name order; NULL out of range. */
const dfx__zip_entry *dfx__zip_at (const dfx__zip *z, int i);

/* The entry called name, or NULL.  O(log n). */
const dfx__zip_entry *dfx__zip_find (const dfx__zip *z, const char *name);

/* The bytes of entry e: DFX_ERR_UNSUPPORTED naming the archive and the entry
 * when it is compressed or encrypted. */
dfx_status dfx__zip_data (dfx_ctx *ctx, const dfx__zip *z, const dfx__zip_entry *e, const unsigned char **data,
                          uint64_t *size);

#endif /* DFX_ZIP_READ_H */
