#!/usr/bin/env python3
"""test-likelihood-seams.py — tile seams in the likelihood heatmap (issue 20),
suite `model`.

The tile-periodic component of a map M (bits/dim per pixel) at period p:
tiles on a grid of stride p leave seams along whole columns and rows, so
    c(x) = mean over rows of M(y, x)                         (the column profile; the row profile r(y) alike)
    R = c − box_p(c)            (length-p moving mean, valid part: smooth content goes, a period-p pattern stays)
    F(a) = mean of R(x) over x ≡ a (mod p)                  (the pattern folded onto one period)
    P(M, p) = √(½ (mean F² of the columns + mean F² of the rows))   (bits/dim)
and its prominence P(M, p) / median of P(M, q) over q = p − 6 … p + 6, q ≠ p:
about 1 for a map with no structure at that period (the profiles average the
per-pixel scatter of the map away, the seams stay).

On a flat sky: budgie-backgrounds' extreme-desert-hike.jpg (CC0, held out
from training; fetched and checked by models/photo_data.py), reduced 4× by
box filtering (which also removes the JPEG's 8-pixel block pattern, a period
the measure would otherwise see), a 107×107 crop of the sky; `dfx likelihood`
under models/emoji-32 with a few Heun steps, once in tiles of 32 with overlap
7 (stride 25: tiles at 0, 25, 50, 75) and once whole.  Asserts:
  1. the tiled map has a tile-periodic component at p = 25 at least twice the
     whole map's, and a prominence ≥ 1.5 (the measure sees the seams);
  2. the whole map's prominence at p = 25 is ≤ 1.3 (no seams);
  3. the whole map's mean equals its bits/dim (1e-4).
Usage: test-likelihood-seams.py --dfx DFX --models DIR --work DIR [--cache DEBS]
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np

PHOTO = "extreme-desert-hike.jpg"
REDUCE = 4
CROP = (400, 20, 507, 127)  # sky, in the reduced image (960 × 640)
PERIOD = 25
OVERLAP = 32 - PERIOD


def fold(v, p):
    """Mean square of the period-p pattern of a profile v after removing its length-p moving mean."""
    c = np.cumsum(np.concatenate([[0.0], v]))
    r = v[p // 2:p // 2 + v.size - p + 1] - (c[p:] - c[:-p]) / p
    k = np.arange(p // 2, p // 2 + r.size) % p
    f = np.bincount(k, r, p) / np.bincount(k, None, p)
    return float(np.mean(f ** 2))


def periodic(m, p):
    """P(M, p): RMS of the period-p pattern of M's column and row profiles (bits/dim)."""
    return float(np.sqrt(0.5 * (fold(m.mean(0), p) + fold(m.mean(1), p))))


def prominence(m, p):
    others = [periodic(m, q) for q in range(p - 6, p + 7) if q != p]
    return periodic(m, p) / float(np.median(others))


def sky(photo_data, cache):
    """The test's flat sky: the pinned photo, reduced, cropped (a PIL image)."""
    from PIL import Image
    folder = photo_data.package_root(photo_data.BUDGIE, cache)
    sha = dict(photo_data.HELD_OUT)[PHOTO]
    im = photo_data.load_photo(folder, PHOTO, sha)
    if not isinstance(im, Image.Image):
        im = Image.fromarray(np.asarray(im))
    return im.convert("RGB").reduce(REDUCE).crop(CROP)


def run(dfx, model, img, out, *args):
    from safetensors.numpy import load_file
    r = subprocess.run([dfx, "likelihood", "--model", model, img, "--json", "--map", out,
                        "--solver", "heun", "--steps", "4", *args], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(r.stderr.strip())
    return json.loads(r.stdout), load_file(out)["bits_per_dim"].astype(np.float64)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dfx", required=True)
    ap.add_argument("--models", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--cache", help="folder for the .deb (default: WORK/debs)")
    a = ap.parse_args()
    sys.path.insert(0, a.models)
    import photo_data
    os.makedirs(a.work, exist_ok=True)
    img = os.path.join(a.work, "sky.png")
    try:
        sky(photo_data, a.cache or os.path.join(a.work, "debs")).save(img)
    except photo_data.PhotoError as e:  # no Debian mirror reachable: nothing to measure on
        print(f"SKIP: {e}")
        return 77
    model = os.path.join(a.models, "emoji-32")
    jt, mt = run(a.dfx, model, img, os.path.join(a.work, "tiles.safetensors"), "--overlap", str(OVERLAP))
    jw, mw = run(a.dfx, model, img, os.path.join(a.work, "whole.safetensors"))
    pt, pw = periodic(mt, PERIOD), periodic(mw, PERIOD)
    qt, qw = prominence(mt, PERIOD), prominence(mw, PERIOD)
    print(f"tiles: {jt['bits_per_dim']:.4f} bits/dim, {len(jt['tiles'])} tiles, tile-periodic component "
          f"{pt:.2e} bits/dim (prominence {qt:.2f})")
    print(f"whole: {jw['bits_per_dim']:.4f} bits/dim, tile-periodic component {pw:.2e} (prominence {qw:.2f})")
    fails = 0
    for ok, what in [(len(jt["tiles"]) == 16, f"16 tiles of stride 25 (got {len(jt['tiles'])})"),
                     (pt >= 2 * pw and qt >= 1.5, "the tiled map's seams are seen: component ≥ 2× the whole map's, "
                                                  "prominence ≥ 1.5"),
                     (qw <= 1.3, "the whole map has no component at the tile period (prominence ≤ 1.3)"),
                     (abs(mw.mean() - jw["bits_per_dim"]) < 1e-4, "the whole map's mean is its bits/dim")]:
        print(("ok: " if ok else "FAIL: ") + what)
        fails += not ok
    print(f"{4 - fails} passed, {fails} failed")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
