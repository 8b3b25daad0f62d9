#!/usr/bin/env python3
"""bench-lik-crops.py — the likelihood ODE solvers against the converged value
on several held-out photo crops per model (issue 20: is exp3m's error within
0.02 bits/dim beyond the one crop of bench-heatmap.py?).

  build-aux/dfx-env env LP_NUM_THREADS=1 taskset -c 1 python3 tests/bench/bench-lik-crops.py \\
      --dfx build/compute/dfx --model models/photo-32 --model models/emoji-32 --work build/bench-lik-crops \\
      [--crops 6] [--size 64] [--solvers exp3m:12,exp3m:16,rk45:1e-3] [--converged 1e-4]

Crops: photocrops.crops (the held-out budgie-backgrounds photos, reduced 4×,
the crop at the 75th percentile of texture around the centre).  Each row: the
converged value (RK45 at --converged), then per solver bits/dim − converged,
network evaluations (score network + Fisher head) and CPU seconds (user + sys of the dfx process).  Whole
layer, the Fisher head on it (dfx likelihood's defaults but the solver).
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
ap.add_argument("--model", action="append", required=True)
ap.add_argument("--work", required=True)
ap.add_argument("--crops", type=int, default=6)
ap.add_argument("--size", type=int, default=64)
ap.add_argument("--solvers", default="exp3m:12,exp3m:16,rk45:1e-3")
ap.add_argument("--converged", default="1e-4")
ap.add_argument("--reference", help="JSON {\"MODEL CROP\": bits/dim}: converged values of an earlier run of this "
                "script (same crops, same RK45 tolerance) instead of computing them again")
a = ap.parse_args()
known = json.load(open(a.reference)) if a.reference else {}
os.makedirs(a.work, exist_ok=True)

S = a.size
region = np.zeros((S, S), bool)
region[S // 4:3 * S // 4, S // 4:3 * S // 4] = True
crops = photocrops.crops(a.crops, S, region)
solvers = [s.split(":") for s in a.solvers.split(",")]


def score(model, png, solver, arg):
    cmd = [a.dfx, "likelihood", "--model", model, png, "--json", "--solver", solver]
    cmd += ["--steps", arg] if solver in ("exp3m", "heun") else ["--rtol", arg, "--atol", arg]
    p, cpu = photocrops.run_cpu(cmd)
    if p.returncode != 0:
        sys.exit("bench-lik-crops: %s: %s" % (" ".join(cmd), p.stderr.strip()))
    j = json.loads(p.stdout)
    return j["bits_per_dim"], j["nfe"] + j.get("nfe_fisher", 0), cpu


rows = []
for m in a.model:
    name = os.path.basename(os.path.normpath(m))
    for ci, (label, px) in enumerate(crops):
        png = os.path.join(a.work, "crop-%d.png" % ci)
        Image.fromarray(px).save(png)
        if "%s %s" % (name, label) in known:
            ref, nref, cref = known["%s %s" % (name, label)], 0, 0.0
        else:
            ref, nref, cref = score(m, png, "rk45", a.converged)
        row = {"model": name, "crop": label, "converged": ref, "nfe_ref": nref, "cpu_ref": cref, "runs": []}
        for sv in solvers:
            b, n, c = score(m, png, *sv)
            row["runs"].append({"solver": " ".join(sv), "error": b - ref, "nfe": n, "cpu": c})
        rows.append(row)
        print("%s %s: converged %.4f; %s" % (name, label, ref, ", ".join(
            "%s %+.4f" % (r["solver"], r["error"]) for r in row["runs"])), file=sys.stderr)
        json.dump(rows, open(os.path.join(a.work, "rows.json"), "w"), indent=1)

names = [" ".join(s) for s in solvers]
print("| model | crop | converged (RK45 %s): bits/dim, NFE, CPU s | %s |" % (a.converged, " | ".join(
    "%s: − converged, NFE, CPU s" % n for n in names)))
print("|---|---|---|" + "---|" * len(names))
for r in rows:
    print("| %s | %s | %s | %s |" % (r["model"], r["crop"], "%.4f, %d, %.1f" % (r["converged"], r["nfe_ref"], r["cpu_ref"])
                                   if r["nfe_ref"] else "%.4f (--reference)" % r["converged"],
                                               " | ".join("%+.4f, %d, %.1f" % (x["error"], x["nfe"], x["cpu"])
                                                          for x in r["runs"])))
for m in sorted(set(r["model"] for r in rows)):
    for i, n in enumerate(names):
        e = [r["runs"][i]["error"] for r in rows if r["model"] == m]
        print("\n%s, %s: error mean %+.4f, max |error| %.4f, within 0.02: %d of %d" % (
            m, n, np.mean(e), np.max(np.abs(e)), sum(abs(x) <= 0.02 for x in e), len(e)), end="")
print()
