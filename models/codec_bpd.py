#!/usr/bin/env python3
"""codec_bpd.py — what lossless codecs need for a set of images, in bits per dimension.

The yardstick of issue 18's likelihood goal: a model's bits/dim on held-out
images (DF-TM) against the same images' size as lossless PNG and WebP.  Each
image is encoded on its own as 8-bit grey or RGB, with the best of each
codec's settings for that image (PNG: zlib levels 0–9 with and without
Pillow's optimize; WebP lossless: methods 0–6 at quality 100 (the effort knob
of lossless mode), exact colours), headers included, since that is the file a
user would store.  bits/dim = 8 · bytes / (C · H · W), averaged over the set.

    codec_bpd.py SOURCE [--split test] [--count N] [--size S] [--json]

SOURCE as in dfx_data.py (fashion-mnist, photos[:N], a folder, a .safetensors);
'photos' with --split test is the held-out budgie-backgrounds patches.  Prints
a table (or JSON); writes nothing.
"""

import argparse
import io
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dfx_data  # noqa: E402


def best_bytes(im, fmt):
    sizes = []
    if fmt == "PNG":
        for lvl in range(10):
            for opt in (False, True):
                b = io.BytesIO()
                im.save(b, "PNG", compress_level=lvl, optimize=opt)
                sizes.append(b.tell())
    else:
        for m in range(7):
            b = io.BytesIO()
            im.save(b, "WEBP", lossless=True, quality=100, method=m, exact=True)
            sizes.append(b.tell())
    return min(sizes)


def to_pil(x):
    from PIL import Image
    a = ((x.clamp(-1, 1) + 1) * 127.5).round().to(dtype=__import__("torch").uint8).numpy()
    return Image.fromarray(a[0]) if a.shape[0] == 1 else Image.fromarray(np.ascontiguousarray(a.transpose(1, 2, 0)))


def measure(x):
    """{codec: mean bits/dim} over images x [N, C, H, W] on [-1, 1]."""
    dims = x.shape[1] * x.shape[2] * x.shape[3]
    out = {}
    for fmt in ("PNG", "WEBP"):
        bpd = [8.0 * best_bytes(to_pil(xi), fmt) / dims for xi in x]
        out[fmt.lower()] = float(np.mean(bpd))
    return out


def main():
    ap = argparse.ArgumentParser(description="Lossless PNG and WebP sizes of a set of images in bits/dim "
                                 "(best settings per image, headers included). Writes nothing.")
    ap.add_argument("source")
    ap.add_argument("--split", default="test", choices=("train", "test", "all"))
    ap.add_argument("--count", type=int, default=64, help="the first N images")
    ap.add_argument("--size", type=int, help="image size (photos: patch size)")
    ap.add_argument("--channels", type=int, default=3, choices=(1, 3))
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    try:
        x = dfx_data.load(a.source, a.split, a.channels, a.size)[:a.count]
    except (dfx_data.DataError, OSError) as e:
        print(f"codec_bpd: {e}", file=sys.stderr)
        return 1
    r = measure(x)
    r.update({"source": a.source, "split": a.split, "count": int(x.shape[0]),
              "shape": list(x.shape[1:])})
    if a.json:
        print(json.dumps(r))
    else:
        print(f"{a.source} {a.split} ({r['count']} images {tuple(r['shape'])}): "
              f"PNG {r['png']:.3f}  WebP-lossless {r['webp']:.3f} bits/dim")
    return 0


if __name__ == "__main__":
    sys.exit(main())
