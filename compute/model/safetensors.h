/* safetensors.h — reading and writing safetensors files (the weight format
 * of diffusers checkpoints), internal to libdfx.
 *
 * The reader memory-maps the file read-only and checks all of it before
 * anything is handed out: header length, JSON, dtypes, shapes, byte ranges
 * (inside the data, matching shape × element size, not overlapping), unique
 * names.  Tensors then point into the mapping; nothing is copied until
 * dfx__st_read_f32() converts one to float32.  The writer writes float32
 * files atomically.  No GPU work and no model knowledge here.
 *
 * Thread-safety: a dfx__st_file is immutable after dfx__st_open(); it may be
 * read from several threads.  Errors go to ctx, which belongs to one thread.
 * A file that is truncated by another process while mapped makes reads fault
 * (SIGBUS): as with every mmap reader, do not rewrite a model in place.
 */
#ifndef DFX_SAFETENSORS_H
#define DFX_SAFETENSORS_H

#include "dfx-private.h"

#define DFX__ST_MAX_DIMS 8
#define DFX__ST_MAX_HEADER (100u * 1000u * 1000u) /* bytes, as the reference implementation */

typedef enum dfx__dtype {
    DFX__DTYPE_BOOL = 0,
    DFX__DTYPE_U8,
    DFX__DTYPE_I8,
    DFX__DTYPE_I16,
    DFX__DTYPE_U16,
    DFX__DTYPE_F16,
    DFX__DTYPE_BF16,
    DFX__DTYPE_I32,
    DFX__DTYPE_U32,
    DFX__DTYPE_F32,
    DFX__DTYPE_F64,
    DFX__DTYPE_I64,
    DFX__DTYPE_U64,
    DFX__DTYPE_F8_E4M3,
    DFX__DTYPE_F8_E5M2,
    DFX__DTYPE_COUNT
} dfx__dtype;

/* The file's spelling of a dtype ("F16"); "?" when out of range. */
const char *dfx__dtype_name (dfx__dtype dtype);

/* Bytes per element (1 to 8); 0 when out of range. */
size_t dfx__dtype_size (dfx__dtype dtype);

/* One tensor of an open file.  name and data stay valid until the file is
 * closed; data is not aligned (read it with memcpy or byte loads) and holds
 * little-endian, row-major elements.  shape[ndim..7] are 0. */
typedef struct dfx__st_tensor {
    const char *name;
    dfx__dtype dtype;
    int ndim;                         /* 0 (a scalar) to DFX__ST_MAX_DIMS */
    int64_t shape[DFX__ST_MAX_DIMS];
    const void *data;
    size_t nbytes;                    /* product of shape × dtype size */
} dfx__st_tensor;

typedef struct dfx__st_file dfx__st_file;

/* Opens and validates the safetensors file at path (memory-mapped).
 * Returns DFX_ERR_IO when it cannot be opened or mapped, DFX_ERR_FORMAT when
 * it is malformed (the message names the file and the tensor or field),
 * DFX_ERR_OUT_OF_HOST_MEMORY.  Ownership: *out (NULL on failure) is freed
 * with dfx__st_close(). */
dfx_status dfx__st_open (dfx_ctx *ctx, const char *path, dfx__st_file **out);

/* The same for size bytes at data, which are not copied and must outlive
 * *out.  label names the buffer in messages (NULL: "<memory>"). */
dfx_status dfx__st_open_memory (dfx_ctx *ctx, const void *data, size_t size, const char *label,
                                dfx__st_file **out);

/* A file made from n tensors that another reader found in a buffer (the
 * PyTorch .bin reader, torch-pickle.c): names are copied, data pointers are
 * kept (they must lie in the buffer and stay valid until close); ranges may
 * overlap (storages shared between tensors); names must be unique (else
 * DFX_ERR_FORMAT naming label and the name).  map/map_size: a mapping the
 * file unmaps when closed (NULL, 0: none), also on failure. */
dfx_status dfx__st_from_tensors (dfx_ctx *ctx, const char *label, const dfx__st_tensor *tensors, int n, void *map,
                                 size_t map_size, dfx__st_file **out);

/* Maps the regular file at path read-only: *map, *size (a file of 0 bytes
 * is DFX_ERR_FORMAT).  DFX_ERR_IO naming the path.  Unmap with munmap(). */
dfx_status dfx__map_file (dfx_ctx *ctx, const char *path, void **map, size_t *size);

/* Unmaps and frees.  Accepts NULL. */
void dfx__st_close (dfx__st_file *f);

/* The path (or label) the file was opened with, for messages. */
const char *dfx__st_label (const dfx__st_file *f);

/* Number of tensors (0 for an empty file). */
int dfx__st_count (const dfx__st_file *f);

/* Tensor i, 0 <= i < dfx__st_count(), in ascending order of data offset;
 * NULL when i is out of range. */
const dfx__st_tensor *dfx__st_at (const dfx__st_file *f, int i);

/* The tensor called name, or NULL. O(log n). */
const dfx__st_tensor *dfx__st_find (const dfx__st_file *f, const char *name);

/* The value of key in the header's "__metadata__" map, or NULL. */
const char *dfx__st_metadata (const dfx__st_file *f, const char *key);

/* Converts the tensor called name to float32 into dst.
 *
 * ndim and shape state what the caller expects: ndim < 0 accepts any shape
 * (dst must then hold the element count of dfx__st_find()'s tensor); a
 * shape[i] < 0 accepts any extent in dimension i; shape may be NULL when
 * ndim <= 0.  F32, F16 (subnormals, infinities and NaNs exact), BF16 and F64
 * (rounded to nearest) convert; other dtypes are DFX_ERR_UNSUPPORTED naming
 * the dtype.  A missing tensor or a shape mismatch is DFX_ERR_FORMAT naming
 * the tensor and the file (and both shapes). */
dfx_status dfx__st_read_f32 (dfx_ctx *ctx, const dfx__st_file *f, const char *name, int ndim,
                             const int64_t *shape, float *dst);

/* Element conversions, exact (every F16 and BF16 value is a float32). */
float dfx__f16_to_f32 (uint16_t h);
float dfx__bf16_to_f32 (uint16_t h);

/* A tensor to write: float32, row-major, ndim 0 to 8; or, when raw is set,
 * raw little-endian bytes of dtype (written as they are, for conversion
 * without loss). */
typedef struct dfx__st_out {
    const char *name;
    int ndim;
    int64_t shape[DFX__ST_MAX_DIMS];
    const float *data;                /* product of shape elements; may be NULL when that is 0 */
    const void *raw;                  /* NULL: data (F32); else shape product × dtype size bytes */
    dfx__dtype dtype;                 /* of raw */
} dfx__st_out;

/* Writes n tensors as a safetensors file (F32, or the dtype of raw ones) at path: the header
 * (tensors in the given order, data packed in that order) padded with spaces
 * to a multiple of 8 bytes, then the data, little-endian.  The file appears
 * atomically (written to a temporary file in the same folder, then renamed),
 * with mode 0644.  Names must be non-empty, unique and not "__metadata__".
 * Returns DFX_ERR_INVALID_ARGUMENT for bad tensors (naming them), DFX_ERR_IO
 * naming the file. */
dfx_status dfx__st_write_f32 (dfx_ctx *ctx, const char *path, const dfx__st_out *tensors, int n);

#endif /* DFX_SAFETENSORS_H */
