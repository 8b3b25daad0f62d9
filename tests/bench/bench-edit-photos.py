#!/usr/bin/env python3
"""bench-edit-photos.py — `dfx edit` with its defaults on held-out photo
crops: a coloured disc painted on a guide layer, the same disc as the mask,
as an artist would use Guided Edit.

  build-aux/dfx-env python3 tests/bench/bench-edit-photos.py --dfx build/compute/dfx \\
      --model models/photo-32 --work build/bench-edit-photos [--crops 4] [--size 48] \\
      [--radius 7] [--colours e02020,2050e0] [--picture docs/img/edit-photos.png]

The crops: photocrops.crops (SIZE×SIZE of the budgie-backgrounds photos, never
seen in training, where the disc covers structure).  Per crop and colour:
  - toward: how far the mean colour inside the disc moved toward the guide's
    colour, as a fraction of the way (0: unchanged, 1: the guide's colour);
  - distance: mean colour distance (mean over R, G, B, of 255) from the disc's
    mean to the guide colour, before → after;
  - outside: pixels changed farther than the feather (3 px) from the disc —
    must be 0;
  - seam: mean gradient magnitude on the feathered band's outer edge over the
    ring 4..6 px outside it (clitest.grad), the photo's own value beside it;
  - CPU s (user + sys of the dfx process) and network evaluations.
Prints Markdown tables; writes only under WORK and the picture (rows:
photo | guide | result, per colour, 3×).
"""
import argparse
import json
import os
import sys

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import photocrops  # noqa: E402
from clitest import grad, near  # noqa: E402  (photocrops put tests/algo on the path)

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--dfx", required=True)
ap.add_argument("--model", required=True)
ap.add_argument("--work", required=True)
ap.add_argument("--crops", type=int, default=4)
ap.add_argument("--size", type=int, default=48)
ap.add_argument("--radius", type=int, default=7)
ap.add_argument("--colours", default="e02020,2050e0", help="guide colours, hex, comma-separated")
ap.add_argument("--seed", type=int, default=1)
ap.add_argument("--picture")
a = ap.parse_args()
os.makedirs(a.work, exist_ok=True)

S, R, FEATHER = a.size, a.radius, 3
yy, xx = np.mgrid[0:S, 0:S]
disc = (yy - S // 2) ** 2 + (xx - S // 2) ** 2 < R * R
band = near(disc, FEATHER)
far = ~near(disc, FEATHER + 1)
edge = near(band, 1) & ~band
ring = near(band, 6) & ~near(band, 3)
colours = [tuple(int(c[i:i + 2], 16) for i in (0, 2, 4)) for c in a.colours.split(",")]

mask_png = os.path.join(a.work, "mask.png")
Image.fromarray((disc * 255).astype(np.uint8)).save(mask_png)


def seam(o):
    g = grad(o.astype(np.float64))
    return float(g[edge].mean() / g[ring].mean())


rows, pictures = [], []
for ci, (name, photo) in enumerate(photocrops.crops(a.crops, S, disc)):
    src = os.path.join(a.work, "photo-%d.png" % ci)
    Image.fromarray(photo).save(src)
    for k, col in enumerate(colours):
        guide = photo.copy()
        guide[disc] = col
        gpng = os.path.join(a.work, "guide-%d-%d.png" % (ci, k))
        out = os.path.join(a.work, "edit-%d-%d.png" % (ci, k))
        Image.fromarray(guide).save(gpng)
        p, cpu = photocrops.run_cpu([a.dfx, "edit", "--model", a.model, src, "--guide", gpng, "--mask", mask_png,
                                     "-o", out, "--seed", str(a.seed), "--json"])
        if p.returncode != 0:
            sys.exit("bench-edit-photos: dfx edit failed on %s: %s" % (name, p.stderr.strip()))
        rep = json.loads(p.stdout)
        o = np.asarray(Image.open(out).convert("RGB"))
        c = np.array(col, np.float64)
        before = photo[disc].astype(np.float64).mean(0)
        after = o[disc].astype(np.float64).mean(0)
        d0, d1 = np.abs(before - c).mean(), np.abs(after - c).mean()
        toward = float(np.dot(after - before, c - before) / max(np.dot(c - before, c - before), 1e-9))
        rows.append({"crop": name, "colour": "#%02x%02x%02x" % col, "toward": toward, "d0": d0, "d1": d1,
                     "outside": int((o[far] != photo[far]).any(-1).sum()), "seam": seam(o),
                     "seam_photo": seam(photo), "cpu": cpu, "nfe": rep["nfe"]})
        print("crop %d %s %s: toward %.2f" % (ci, name, rows[-1]["colour"], toward), file=sys.stderr)
        pictures.append(np.concatenate([np.pad(q, ((2, 2), (2, 2), (0, 0)), constant_values=255)
                                        for q in (photo, guide, o)], 1))

print("| crop | guide | toward the guide | distance to the guide before → after | changed outside | seam "
      "(photo) | CPU s | NFE |")
print("|---|---|---|---|---|---|---|---|")
for r in rows:
    print("| %s | %s | %.2f | %.1f → %.1f | %d | %.2f (%.2f) | %.1f | %d |" % (
        r["crop"], r["colour"], r["toward"], r["d0"], r["d1"], r["outside"], r["seam"], r["seam_photo"],
        r["cpu"], r["nfe"]))
print("\nmean: toward %.2f, distance %.1f → %.1f, changed outside %d, seam %.2f (photo %.2f), CPU %.1f s" % (
    np.mean([r["toward"] for r in rows]), np.mean([r["d0"] for r in rows]), np.mean([r["d1"] for r in rows]),
    sum(r["outside"] for r in rows), np.mean([r["seam"] for r in rows]), np.mean([r["seam_photo"] for r in rows]),
    np.mean([r["cpu"] for r in rows])))
json.dump(rows, open(os.path.join(a.work, "edit.json"), "w"), indent=1)
if a.picture:
    n = len(colours)
    lines = [np.concatenate(pictures[i:i + n], 1) for i in range(0, len(pictures), n)]
    grid = np.concatenate(lines, 0)
    Image.fromarray(grid).resize((grid.shape[1] * 3, grid.shape[0] * 3), Image.NEAREST).save(a.picture)
    print("picture: %s (per colour: photo | guide | result)" % a.picture, file=sys.stderr)
