#!/usr/bin/env python3
"""test-likelihood-seams.py — tile seams in the likelihood heatmap (issue 20),
suite `model`.

The tile-periodic component P(M, p) of a map at period p and its prominence
are defined in seam_measure.py (beside this file): the RMS of the period-p
pattern of the map's column and row profiles, against the periods p ± 6.

On a flat sky: budgie-backgrounds' extreme-desert-hike.jpg (CC0, held out
from training; fetched and checked by models/photo_data.py), reduced 4× by
box filtering (which turns the JPEG's 8- and 16-pixel block edges into 2- and
4-pixel patterns: the test's period 25 is a multiple of neither), a 107×107
crop of the sky; `dfx likelihood`
under models/emoji-32 with a few Heun steps, once in tiles of 32 with overlap
7 (stride 25: tiles at 0, 25, 50, 75) and once whole.  Asserts:
  1. the tiled map has a tile-periodic component at p = 25 at least twice the
     whole map's, and a prominence ≥ 1.5 (the measure sees the seams);
  2. the whole map's prominence at p = 25 is ≤ 1.3 (no seams);
  3. the whole map's mean equals its bits/dim (1e-4);
  4. the measure itself, on constructed maps: a 4-pixel pattern is also one of
     period 24 (P(M, 24) within 5 % of P(M, 4), divisor() names 4), tile seams
     of stride 24 are not one of a divisor (ratio ≤ 0.7);
  5. the 4-pixel pattern of every map of this photo belongs to the image, not
     to the canvas: two 64×64 crops of the sky 2 pixels apart (right and
     down), whole, the default solver (exp3m, 16 steps): P(M, 4) ≥ 2.5× the
     median of P(M, q), q = 3, 5, 6, 7, in both, and the second map's period-4
     pattern is the first's moved by 2 pixels (correlation ≥ 0.8; with the
     first's unmoved ≤ 0: a pattern fixed to the canvas, from the network's
     two stride-2 downsamplings, would keep its place).  The photo is a JPEG
     with 4:2:0 chroma (16-pixel blocks, 4 after the reduction); the block
     edges score worse (BENCHMARKS.md, heatmap section, 2026-12-07 seventh
     session: at 256×256 this pattern is the "period 24" component).
Usage: test-likelihood-seams.py --dfx DFX --models DIR --work DIR [--cache DEBS]
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from seam_measure import PHOTO, REDUCE, divisor, periodic, phase_follows, prominence  # noqa: E402

CROP = (400, 20, 507, 127)  # sky, in the reduced image (960 × 640)
PERIOD = 25
OVERLAP = 32 - PERIOD
SHIFT_AT, SHIFT = (560, 150), 2  # the 64×64 crops of check 5 (sky), and how far apart


def photo(photo_data, cache):
    """The pinned photo, reduced (a PIL image)."""
    from PIL import Image
    folder = photo_data.package_root(photo_data.BUDGIE, cache)
    sha = dict(photo_data.HELD_OUT)[PHOTO]
    im = photo_data.load_photo(folder, PHOTO, sha)
    if not isinstance(im, Image.Image):
        im = Image.fromarray(np.asarray(im))
    return im.convert("RGB").reduce(REDUCE)


def constructed():
    """Check 4 on constructed 256×256 maps (seeded noise of 1 bit/dim RMS per pixel plus a pattern):
    [(ok, what)]."""
    rng = np.random.default_rng(4)
    x = np.arange(256)
    four = np.where((x % 4 == 0) | (x % 4 == 3), 0.2, -0.2)  # as the photo's maps: block edges high
    seam = 0.4 * np.cos(np.pi * (x % 24) / 24) ** 8  # a raised-cosine bump at every tile edge, stride 24
    m4 = rng.normal(0, 1, (256, 256)) + four[None, :] + four[:, None]
    ms = rng.normal(0, 1, (256, 256)) + seam[None, :] + seam[:, None]
    p4, p24 = periodic(m4, 4), periodic(m4, 24)
    d4, ds = divisor(m4, 24), divisor(ms, 24)
    print(f"constructed: 4-pixel pattern P(M, 4) {p4:.3f}, P(M, 24) {p24:.3f}, prominence at 24 "
          f"{prominence(m4, 24):.2f}, divisor {d4[0]} ({d4[1]:.2f}); seams of stride 24: prominence "
          f"{prominence(ms, 24):.2f}, divisor {ds[0]} ({ds[1]:.2f})")
    return [(abs(p24 - p4) <= 0.05 * p4 and d4[0] == 4 and d4[1] >= 0.95,
             "a 4-pixel pattern is one of period 24 too, and divisor() names 4"),
            (prominence(ms, 24) >= 1.5 and ds[1] <= 0.7, "tile seams of stride 24 are not a divisor's pattern")]


def run(dfx, model, img, out, *args, solver=("--solver", "heun", "--steps", "4")):
    from safetensors.numpy import load_file
    r = subprocess.run([dfx, "likelihood", "--model", model, img, "--json", "--map", out,
                        *solver, *args], capture_output=True, text=True)
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
    checks = constructed()
    try:
        reduced = photo(photo_data, a.cache or os.path.join(a.work, "debs"))
    except photo_data.PhotoError as e:  # no Debian mirror reachable: nothing to measure on
        print(f"SKIP: {e}")
        return 77
    reduced.crop(CROP).save(img)
    model = os.path.join(a.models, "emoji-32")
    jt, mt = run(a.dfx, model, img, os.path.join(a.work, "tiles.safetensors"), "--overlap", str(OVERLAP))
    jw, mw = run(a.dfx, model, img, os.path.join(a.work, "whole.safetensors"))
    pt, pw = periodic(mt, PERIOD), periodic(mw, PERIOD)
    qt, qw = prominence(mt, PERIOD), prominence(mw, PERIOD)
    print(f"tiles: {jt['bits_per_dim']:.4f} bits/dim, {len(jt['tiles'])} tiles, tile-periodic component "
          f"{pt:.2e} bits/dim (prominence {qt:.2f})")
    print(f"whole: {jw['bits_per_dim']:.4f} bits/dim, tile-periodic component {pw:.2e} (prominence {qw:.2f})")
    shifted = []
    for k in (0, SHIFT):
        x, y = SHIFT_AT[0] + k, SHIFT_AT[1] + k
        f = os.path.join(a.work, f"shift{k}.png")
        reduced.crop((x, y, x + 64, y + 64)).save(f)
        shifted.append(run(a.dfx, model, f, os.path.join(a.work, f"shift{k}.safetensors"), solver=())[1])
    moved, fixed = phase_follows(shifted[0], shifted[1], SHIFT, 4)
    strong = min(periodic(m, 4) / float(np.median([periodic(m, q) for q in (3, 5, 6, 7)])) for m in shifted)
    print(f"64×64 crops {SHIFT} px apart: P(M, 4) {periodic(shifted[0], 4):.3f}, {periodic(shifted[1], 4):.3f} "
          f"bits/dim, ≥ {strong:.2f}× the median of P(M, 3, 5, 6, 7); the second's period-4 pattern against "
          f"the first's moved with the image {moved:+.2f}, left in place {fixed:+.2f}")
    checks += [(strong >= 2.5, "a 4-pixel pattern in both 64×64 maps (P(M, 4) ≥ 2.5× the periods 3, 5, 6, 7)"),
               (moved >= 0.8 and fixed <= 0, "it moves with the image (content), not with the canvas"),
               (len(jt["tiles"]) == 16, f"16 tiles of stride 25 (got {len(jt['tiles'])})"),
               (pt >= 2 * pw and qt >= 1.5, "the tiled map's seams are seen: component ≥ 2× the whole map's, "
                                            "prominence ≥ 1.5"),
               (qw <= 1.3, "the whole map has no component at the tile period (prominence ≤ 1.3)"),
               (abs(mw.mean() - jw["bits_per_dim"]) < 1e-4, "the whole map's mean is its bits/dim")]
    fails = 0
    for ok, what in checks:
        print(("ok: " if ok else "FAIL: ") + what)
        fails += not ok
    print(f"{len(checks) - fails} passed, {fails} failed")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
