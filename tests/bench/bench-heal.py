#!/usr/bin/env python3
"""bench-heal.py — `dfx heal` side by side with OpenCV's inpainting (Telea and
Navier–Stokes, the classical heal of a selection) on held-out photo crops.

  DFX_ENV_EXTRA=python3-opencv build-aux/dfx-env python3 tests/bench/bench-heal.py \\
      --dfx build/compute/dfx --model models/photo-32 [--model models/emoji-32 ...] \\
      --work build/bench-heal [--crops 6] [--size 64] [--radius 7] [--seeds 1] \\
      [--picture docs/img/heal-compare.png]

Resynthesizer's Heal Selection, the GIMP plug-in users know for this job, is
not packaged for GIMP 3 in Debian 13 (no gimp-plugin-registry), so OpenCV's
two inpainting methods (cv2.INPAINT_TELEA and cv2.INPAINT_NS, radius 3, from
Debian's python3-opencv, installed into a root of its own by DFX_ENV_EXTRA)
stand in for the classical heal.

The crops: SIZE×SIZE from the held-out budgie-backgrounds photos (models/
photo_data.py: never seen in training), each photo reduced 4× by box
filtering, the crop where the disc covers structure (of the crops on a 16-px
grid, the one at the 75th percentile of the gradient magnitude around the
disc: not flat sky, not the busiest edge); a disc of RADIUS px at the
crop's centre is painted magenta and is the mask.  Per method and crop:
  - rmse: the fill against the photo's own pixels under the disc (0..255);
  - ring: the mean colour distance (mean over R, G, B) between the fill and
    the ring 4..6 px around the disc (the photo itself gives its own value);
  - seam: the mean gradient magnitude on the disc's edge over the ring's
    (tests/algo/test-heal-cli.py's measure; the painted disc is far above 1);
  - magenta: magenta pixels left (R > 170, B > 170, G < 100);
  - s: CPU seconds (user + sys) of the method (dfx: the whole CLI run, its
    process's; OpenCV: this process's).
Prints a Markdown table (per crop and the means); writes only under WORK and
the picture (rows: painted | each dfx model | Telea | NS | the photo, 3×).
"""
import argparse
import json
import os
import sys
import time

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import photocrops  # noqa: E402
from clitest import grad, near  # noqa: E402  (photocrops put tests/algo on the path)

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--dfx", required=True)
ap.add_argument("--model", action="append", required=True, help="model folder (repeatable)")
ap.add_argument("--work", required=True)
ap.add_argument("--crops", type=int, default=6)
ap.add_argument("--size", type=int, default=64)
ap.add_argument("--radius", type=int, default=7)
ap.add_argument("--seeds", type=int, default=1, help="dfx heal seeds per crop (the rows average them)")
ap.add_argument("--picture")
a = ap.parse_args()
try:
    import cv2
except ImportError:
    sys.exit("bench-heal: python3-opencv is missing: run it as DFX_ENV_EXTRA=python3-opencv build-aux/dfx-env ...")
os.makedirs(a.work, exist_ok=True)


S, R = a.size, a.radius
yy, xx = np.mgrid[0:S, 0:S]
disc = (yy - S // 2) ** 2 + (xx - S // 2) ** 2 < R * R
ring = near(disc, 6) & ~near(disc, 3)
edge = near(disc, 1) & near(~disc, 1)


def measures(o, truth):
    o = o.astype(np.float64)
    g = grad(o)
    return {
        "rmse": float(np.sqrt(((o[disc] - truth[disc].astype(np.float64)) ** 2).mean())),
        "ring": float(np.abs(o[disc].mean(0) - o[ring].mean(0)).mean()),
        "seam": float(g[edge].mean() / g[ring].mean()),
        "magenta": int(((o[..., 0] > 170) & (o[..., 2] > 170) & (o[..., 1] < 100) & disc).sum()),
    }


crops = photocrops.crops(a.crops, S, disc)

mask_png = os.path.join(a.work, "mask.png")
Image.fromarray((disc * 255).astype(np.uint8)).save(mask_png)
methods = [os.path.basename(os.path.normpath(m)) for m in a.model] + ["opencv-telea", "opencv-ns"]
rows = {m: [] for m in methods}
pictures = []
for ci, (name, truth) in enumerate(crops):
    painted = truth.copy()
    painted[disc] = (255, 0, 255)
    src = os.path.join(a.work, "painted-%d.png" % ci)
    Image.fromarray(painted).save(src)
    line = [painted]
    for mdir, mname in zip(a.model, methods):
        acc, first = [], None
        for seed in range(1, a.seeds + 1):
            out = os.path.join(a.work, "%s-%d-s%d.png" % (mname, ci, seed))
            p, dt = photocrops.run_cpu([a.dfx, "heal", "--model", mdir, src, "--mask", mask_png, "-o", out,
                                        "--seed", str(seed), "--json"])
            if p.returncode != 0:
                sys.exit("bench-heal: dfx heal failed on %s: %s" % (name, p.stderr.strip()))
            o = np.asarray(Image.open(out).convert("RGB"))
            first = o if first is None else first
            acc.append(dict(measures(o, truth), s=dt, nfe=json.loads(p.stdout)["nfe"]))
        rows[mname].append({k: float(np.mean([r[k] for r in acc])) for k in acc[0]})
        line.append(first)
    bgr = np.ascontiguousarray(painted[..., ::-1])
    m8 = (disc * 255).astype(np.uint8)
    for mname, flag in (("opencv-telea", cv2.INPAINT_TELEA), ("opencv-ns", cv2.INPAINT_NS)):
        t0 = time.process_time()
        o = cv2.inpaint(bgr, m8, 3, flag)[..., ::-1]
        dt = time.process_time() - t0
        rows[mname].append(dict(measures(o, truth), s=dt, nfe=0))
        line.append(o)
    line.append(truth)
    pictures.append(np.concatenate([np.pad(p, ((2, 2), (2, 2), (0, 0)), constant_values=255) for p in line], 1))
    own = measures(truth, truth)
    print("crop %d: %s (the photo itself: ring %.1f, seam %.2f)" % (ci, name, own["ring"], own["seam"]),
          file=sys.stderr)

print("| method | crop | rmse vs photo | ring distance | seam | magenta left | s |")
print("|---|---|---|---|---|---|---|")
for m in methods:
    for ci, r in enumerate(rows[m]):
        print("| %s | %s | %.1f | %.1f | %.2f | %d | %.2f |" % (m, crops[ci][0], r["rmse"], r["ring"], r["seam"],
                                                            r["magenta"], r["s"]))
own = [measures(t, t) for _, t in crops]
print("\n| method | mean rmse vs photo | mean ring distance | mean seam | magenta left | mean s |")
print("|---|---|---|---|---|---|")
for m in methods:
    rs = rows[m]
    print("| %s | %.1f | %.1f | %.2f | %d | %.2f |" % (m, np.mean([r["rmse"] for r in rs]),
                                                      np.mean([r["ring"] for r in rs]),
                                                      np.mean([r["seam"] for r in rs]),
                                                      sum(r["magenta"] for r in rs), np.mean([r["s"] for r in rs])))
print("| the photo itself | 0.0 | %.1f | %.2f | 0 | |" % (np.mean([o["ring"] for o in own]),
                                                         np.mean([o["seam"] for o in own])))
json.dump({"crops": [c[0] for c in crops], "rows": rows}, open(os.path.join(a.work, "heal.json"), "w"), indent=1)
if a.picture:
    grid = np.concatenate(pictures, 0)
    Image.fromarray(grid).resize((grid.shape[1] * 3, grid.shape[0] * 3), Image.NEAREST).save(a.picture)
    print("picture: %s (columns: painted | %s | photo)" % (a.picture, " | ".join(methods)), file=sys.stderr)
