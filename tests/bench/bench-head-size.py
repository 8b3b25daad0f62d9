#!/usr/bin/env python3
"""bench-head-size.py — how far the Fisher head's divergence (DF-TM) is from the
score network's own (Hutchinson) as the layer grows past the training size
(issues 18 and 20: is the heatmap's total off because the layer is large, or
because of what it shows?).

  build-aux/dfx-env env LP_NUM_THREADS=1 taskset -c 1 python3 tests/bench/bench-head-size.py \\
      --dfx build/compute/dfx --model models/photo-32 --work build/bench-head-size \\
      [--photos 4] [--sizes 32,64,128,256] [--probes 32:8,64:4,128:2,256:1] [--head DIR]
      [--reference build/bench-head-size/rows.json]

Crops: per held-out photo (budgie-backgrounds, reduced 4×, never seen in
training) one crop of the largest size at the 75th percentile of texture
(photocrops.crops), and the centred crops of the smaller sizes inside it, so
every size sees the same middle of the same picture.  Each cell: DF-TM bits/dim
(the default: whole layer, exp3m 16) − the same solve with the network's own
divergence (--trace hutchinson, K probes, central differences).  Hutchinson's
own noise falls with the number of dimensions times probes; the table gives its
standard error from the per-probe spread where K > 1.  --head DIR replaces the
model's fisher/ by DIR (a trained head to compare), through a scratch model
folder whose unet/ and scheduler/ link the model's.  --reference takes the
Hutchinson figures (and the shipped head's) of an earlier run's rows.json (same
crops and probes) instead of computing them again.
"""
import argparse
import json
import os
import sys

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import photocrops  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--dfx", required=True)
ap.add_argument("--model", required=True)
ap.add_argument("--work", required=True)
ap.add_argument("--photos", type=int, default=4)
ap.add_argument("--sizes", default="32,64,128,256")
ap.add_argument("--probes", default="32:8,64:4,128:2,256:1", help="SIZE:K, Hutchinson probes per size")
ap.add_argument("--head", action="append", default=[], help="a Fisher head folder to compare (repeatable)")
ap.add_argument("--steps", default="16")
ap.add_argument("--crop-size", type=int, help="the crop the sizes are centred in (default the largest size; "
                "give an earlier run's to reuse its --reference with fewer sizes)")
ap.add_argument("--reference", help="rows.json of an earlier run: its Hutchinson figures")
a = ap.parse_args()
known = {(r["crop"], r["size"]): r for r in json.load(open(a.reference))} if a.reference else {}
os.makedirs(a.work, exist_ok=True)

sizes = sorted(int(s) for s in a.sizes.split(","))
probes = dict((int(k), int(v)) for k, v in (p.split(":") for p in a.probes.split(",")))
big = max(sizes[-1], a.crop_size or 0)
region = np.zeros((big, big), bool)
region[big // 4:3 * big // 4, big // 4:3 * big // 4] = True
crops = photocrops.crops(a.photos, big, region)


def run(model, png, extra):
    cmd = [a.dfx, "likelihood", "--model", model, png, "--json", "--solver", "exp3m", "--steps", a.steps] + extra
    p, cpu = photocrops.run_cpu(cmd)
    if p.returncode != 0:
        sys.exit("bench-head-size: %s: %s" % (" ".join(cmd), p.stderr.strip()))
    return json.loads(p.stdout)["bits_per_dim"], cpu


heads = [("shipped", a.model)] + [(h, photocrops.model_with_head(a.model, h, os.path.join(a.work, "model-head-%d" % k)))
                                 for k, h in enumerate(a.head)]
rows = []
for ci, (label, px) in enumerate(crops):
    for s in sizes:
        o = (big - s) // 2
        png = os.path.join(a.work, "crop-%d-%d.png" % (ci, s))
        Image.fromarray(px[o:o + s, o:o + s]).save(png)
        k = probes.get(s, 1)
        hs, ch = [], 0.0
        if (label, s) in known:
            hs, k = [known[(label, s)]["hutchinson"]], 1
        for p in range(k if not hs else 0):  # one probe per run with its own seed: the spread gives the standard error
            b, c = run(a.model, png, ["--trace", "hutchinson", "--probes", "1", "--seed", str(1 + p)])
            hs.append(b)
            ch += c
        hut = float(np.mean(hs))
        se = (float(np.std(hs, ddof=1) / np.sqrt(k)) if k > 1 else
              known[(label, s)]["se"] if (label, s) in known else float("nan"))
        row = {"crop": label, "size": s, "hutchinson": hut, "se": se, "cpu_hutchinson": ch, "dftm": []}
        for name, m in heads:
            old = [d for d in known[(label, s)]["dftm"] if d["head"] == name] if (label, s) in known else []
            b, c = (old[0]["bits"], old[0]["cpu"]) if old and name == "shipped" else run(m, png, [])
            row["dftm"].append({"head": name, "bits": b, "gap": b - hut, "cpu": c})
        rows.append(row)
        print("%s %d: hutchinson %.4f (se %.4f); %s" % (label, s, hut, se, ", ".join(
            "%s %+.4f" % (d["head"], d["gap"]) for d in row["dftm"])), file=sys.stderr)
        json.dump(rows, open(os.path.join(a.work, "rows.json"), "w"), indent=1)

print("| crop | size | Hutchinson bits/dim (se) | %s |" % " | ".join(
    "DF-TM − Hutchinson, %s" % n for n, _ in heads))
print("|---|---|---|" + "---|" * len(heads))
for r in rows:
    print("| %s | %d | %.4f (%s) | %s |" % (r["crop"], r["size"], r["hutchinson"],
                                            "%.4f" % r["se"] if r["se"] == r["se"] else "1 probe",
                                            " | ".join("%+.4f" % d["gap"] for d in r["dftm"])))
for s in sizes:
    for i, (n, _) in enumerate(heads):
        g = [r["dftm"][i]["gap"] for r in rows if r["size"] == s]
        print("\nsize %d, %s head: gap mean %+.4f, max |gap| %.4f, within 0.05: %d of %d" % (
            s, n, np.mean(g), np.max(np.abs(g)), sum(abs(x) <= 0.05 for x in g), len(g)), end="")
print()
