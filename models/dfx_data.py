#!/usr/bin/env python3
"""dfx_data.py — image data for dfx's model tooling, on the models' scale [-1, 1].

A data source is named by one string:
  fashion-mnist          Debian's dataset-fashion-mnist: 28×28 grey padded with
                         black to the requested size (train split: 60000, test: 10000)
  photos[:N]             N fixed RGB patches of the photo model's photographs
                         (models/photo_data.py; default 20000): 'train' from the
                         training photographs, 'test' from the held-out ones
                         (budgie-backgrounds), each drawn with a fixed seed
  FOLDER                 every image under FOLDER (recursive, sorted by path), all
                         of one size; grey (1 channel) or RGB (3, alpha over black)
  FILE.safetensors       a tensor 'images' [N, C, H, W] already on [-1, 1]
For a folder or a file the 'test' split is the last --holdout fraction (by
sorted order), the 'train' split the rest; 'all' is everything.

As a script: `dfx_data.py SOURCE` prints the shape, range, mean and std of
the data.  It writes nothing.
"""

import argparse
import glob
import gzip
import os
import sys

import numpy as np
import torch

FMNIST_DIR = os.environ.get("DFX_FMNIST_DIR", "/usr/share/datasets/fashion-mnist")
IMAGE_EXT = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm", ".pgm")


class DataError(ValueError):
    """Data dfx's tooling refuses (the message says why)."""


def read_idx_images(path):
    """uint8 [N, H, W] from an IDX3 file (optionally gzipped)."""
    op = gzip.open if path.endswith(".gz") else open
    with op(path, "rb") as f:
        raw = f.read()
    magic, n, h, w = (int(v) for v in np.frombuffer(raw[:16], dtype=">u4"))
    if magic != 2051:
        raise DataError(f"{path}: not an IDX3 image file (magic {magic})")
    a = np.frombuffer(raw, dtype=np.uint8, offset=16)
    if a.size != n * h * w:
        raise DataError(f"{path}: {a.size} bytes of pixels for {n}x{h}x{w}")
    return a.reshape(n, h, w)


def fashion_mnist(split="train", size=32, root=FMNIST_DIR):
    """float32 [N, 1, size, size] in [-1, 1]: 28×28 padded evenly with black (0 → -1)."""
    if split == "all":
        return torch.cat([fashion_mnist("train", size, root), fashion_mnist("test", size, root)])
    name = "train" if split == "train" else "t10k"
    path = os.path.join(root, f"{name}-images-idx3-ubyte.gz")
    if not os.path.exists(path):
        raise DataError(f"{path}: missing (install Debian's dataset-fashion-mnist)")
    a = read_idx_images(path)
    p = size - a.shape[1]
    if p < 0 or p % 2:
        raise DataError(f"size {size}: Fashion-MNIST is 28x28, padding needs an even size >= 28")
    a = np.pad(a, ((0, 0), (p // 2, p // 2), (p // 2, p // 2)))
    return torch.from_numpy(a.astype(np.float32) / 127.5 - 1.0)[:, None]


def image_files(path):
    return sorted(f for f in glob.glob(os.path.join(path, "**", "*"), recursive=True)
                  if f.lower().endswith(IMAGE_EXT) and os.path.isfile(f))


def image_folder(path, channels):
    """float32 [N, C, H, W] in [-1, 1] from every image under path (recursive, sorted).

    Refuses a folder with no images or with images of different sizes.
    """
    from PIL import Image
    if not os.path.isdir(path):
        raise DataError(f"{path}: not a folder")
    files = image_files(path)
    if not files:
        raise DataError(f"{path}: no images (looked for {', '.join(IMAGE_EXT)})")
    mode = "L" if channels == 1 else "RGB"
    out, size0 = [], None
    for f in files:
        with Image.open(f) as im:
            if size0 is None:
                size0 = im.size
            elif im.size != size0:
                raise DataError(f"{path}: mixed image sizes: {files[0]} is {size0[0]}x{size0[1]}, "
                                f"{f} is {im.size[0]}x{im.size[1]}")
            if im.mode in ("RGBA", "LA", "P", "PA"):
                im = im.convert("RGBA")
                im = Image.alpha_composite(Image.new("RGBA", im.size, (0, 0, 0, 255)), im)
            out.append(np.asarray(im.convert(mode), dtype=np.uint8))
    a = np.stack(out)
    a = a[:, None] if a.ndim == 3 else a.transpose(0, 3, 1, 2)
    return torch.from_numpy(np.ascontiguousarray(a).astype(np.float32) / 127.5 - 1.0)


def safetensors_images(path):
    from safetensors.torch import load_file
    d = load_file(path)
    if "images" not in d:
        raise DataError(f"{path}: no tensor 'images' (have {', '.join(sorted(d)) or 'none'})")
    x = d["images"].to(torch.float32)
    if x.dim() != 4 or x.shape[0] == 0:
        raise DataError(f"{path}: 'images' must be [N, C, H, W] with N > 0, got {tuple(x.shape)}")
    if not torch.isfinite(x).all():
        raise DataError(f"{path}: 'images' has NaN or infinite values")
    return x


def load(source, split="train", channels=1, size=None, holdout=0.05):
    """float32 [N, C, H, W] on [-1, 1] for a data source string (see the module doc)."""
    if source == "fashion-mnist":
        return fashion_mnist(split, size or 32)
    if source == "photos" or source.startswith("photos:"):
        import photo_data
        n = int(source.split(":")[1]) if ":" in source else 20000
        which = "held-out" if split == "test" else "train"
        try:
            return photo_data.PatchSampler(which, size or 32).batch(
                n, torch.Generator().manual_seed(1 if which == "train" else 1234), hflip=False)
        except photo_data.PhotoError as e:
            raise DataError(str(e)) from e
    if source.endswith(".safetensors"):
        if not os.path.isfile(source):
            raise DataError(f"{source}: no such file")
        x = safetensors_images(source)
    else:
        x = image_folder(source, channels)
    if size is not None and (x.shape[-1] != size or x.shape[-2] != size):
        raise DataError(f"{source}: images are {x.shape[-1]}x{x.shape[-2]}, expected {size}x{size}")
    if split == "all":
        return x
    n_test = int(round(x.shape[0] * holdout))
    if split == "test":
        if n_test == 0:
            raise DataError(f"{source}: no held-out images (holdout {holdout} of {x.shape[0]})")
        return x[x.shape[0] - n_test:]
    if n_test >= x.shape[0]:
        raise DataError(f"{source}: holdout {holdout} leaves no training images")
    return x[:x.shape[0] - n_test]


def main():
    ap = argparse.ArgumentParser(description="Print the shape, range, mean and std of a data "
                                 "source of dfx's tooling (fashion-mnist, an image folder or a "
                                 ".safetensors file). Writes nothing.")
    ap.add_argument("source")
    ap.add_argument("--split", default="train", choices=("train", "test", "all"))
    ap.add_argument("--channels", type=int, default=1, choices=(1, 3))
    ap.add_argument("--size", type=int)
    a = ap.parse_args()
    try:
        x = load(a.source, a.split, a.channels, a.size)
    except (DataError, OSError) as e:
        print(f"dfx_data: {e}", file=sys.stderr)
        return 1
    print(f"{tuple(x.shape)} min {x.min().item():.3f} max {x.max().item():.3f} "
          f"mean {x.mean().item():.4f} std {x.std().item():.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
