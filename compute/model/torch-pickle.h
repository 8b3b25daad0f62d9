/* torch-pickle.h — PyTorch state dicts saved with torch.save (the
 * diffusion_pytorch_model.bin of diffusers checkpoints), read without
 * Python and without running anything, internal to libdfx.
 *
 * Both formats torch.save writes are read: the zip archive (default since
 * PyTorch 1.6: ARCHIVE/data.pkl, ARCHIVE/data/KEY per storage, stored
 * uncompressed) and the legacy stream (_use_new_zipfile_serialization=False:
 * magic number, protocol and system-info pickles, the data pickle, the list
 * of storage keys, then each storage as an 8-byte element count and its
 * bytes).  The pickles go through a small unpickler that knows only the
 * opcodes of protocols 2 to 5 a state dict uses and only these globals:
 * collections.OrderedDict, torch._utils._rebuild_tensor_v2 and
 * _rebuild_parameter, and the storage types torch.{Float, Half, BFloat16,
 * Double, Long, Int, Short, Char, Byte, Bool}Storage.  Any other global (for
 * example posix.system) or opcode is refused with a message naming the file
 * and the byte offset; nothing is ever looked up or called, the "calls" of
 * the allowed globals are interpreted as data.  Tensors must be contiguous
 * (row-major) views of little-endian storages; they then point into the
 * file's bytes, nothing is copied.
 *
 * Thread-safety: as safetensors.h (the result is a dfx__st_file).
 */
#ifndef DFX_TORCH_PICKLE_H
#define DFX_TORCH_PICKLE_H

#include "safetensors.h"

/* 1 when the buffer starts like a torch.save output of either format. */
int dfx__torch_sniff (const void *data, size_t size);

/* Reads the state dict in size bytes at data (not copied; it must outlive
 * *out).  label names it in messages.  DFX_ERR_FORMAT for malformed files,
 * DFX_ERR_UNSUPPORTED for valid pickles that are not a plain state dict of
 * tensors (a refused global or opcode, a non-contiguous tensor, a compressed
 * archive, big-endian data); either message names label and what was found.
 * Ownership: *out (NULL on failure) is freed with dfx__st_close(). */
dfx_status dfx__torch_open_memory (dfx_ctx *ctx, const void *data, size_t size, const char *label,
                                   dfx__st_file **out);

/* The same for the file at path, memory-mapped (DFX_ERR_IO when it cannot be
 * opened). */
dfx_status dfx__torch_open (dfx_ctx *ctx, const char *path, dfx__st_file **out);

#endif /* DFX_TORCH_PICKLE_H */
