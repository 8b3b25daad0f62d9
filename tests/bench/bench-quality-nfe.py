#!/usr/bin/env python3
"""bench-quality-nfe.py — image quality against network evaluations (NFE)
for `dfx generate` with the Gaussian skip off and on, at the same seeds.

  bench-quality-nfe.py --dfx DFX --model DIR --work DIR [--n 512]
                       [--steps 4,5,6,8,10,13,18] [--sampler heun]
                       [--skips off,auto] [--sigma-skips 2,3,5] [--seed 100] [--seeds 100,101]

For each step count N and skip setting, generates --n images (batches of
256, seeds seed, seed+1, ...: every setting starts from the same noise) and
measures the Fréchet distance to the test split in the features of
models/quality.py (FD-fmnist for grey models, FD-random otherwise).  --sigma-
skips adds rows with an explicit σ̃_skip (skip pca/spectral as calibrated).
--seeds repeats every row from each of several first seeds (seed-major, so
the first seed's rows come first), for the spread of FD over the noise.
The floor of the metric at this sample size — real (train) against real
(test), --n images — is printed too: differences below its spread are not
measurable.  Prints a Markdown table and writes it with the raw numbers to
WORK/quality-nfe.json; writes only under WORK.
"""
import argparse
import json
import os
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "models"))
import benchlib  # noqa: E402
import quality  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dfx", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--n", type=int, default=512)
    ap.add_argument("--steps", default="4,5,6,8,10,13,18")
    ap.add_argument("--sampler", default="heun")
    ap.add_argument("--skips", default="off,auto")
    ap.add_argument("--sigma-skips", default="")
    ap.add_argument("--seed", type=int, default=100)
    ap.add_argument("--seeds", default="", help="comma list of first seeds (overrides --seed)")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    torch.set_num_threads(1)

    kind, fx, f_test, floors = benchlib.reference(a.n)

    settings = [(skip, 0.0) for skip in a.skips.split(",") if skip]
    settings += [("auto", float(s)) for s in a.sigma_skips.split(",") if s]
    seeds = [int(s) for s in a.seeds.split(",") if s] or [a.seed]
    rows = []
    grid = [(seed, steps, skip, ss) for seed in seeds for steps in [int(s) for s in a.steps.split(",")]
            for skip, ss in settings]
    for seed, steps, skip, ss in grid:
        d = os.path.join(a.work, f"{a.sampler}-{steps}-{skip}-{ss:g}-seed{seed}")
        os.makedirs(d, exist_ok=True)
        x, rep, secs = benchlib.generate(a.dfx, a.model, a.n, seed, steps, a.sampler, skip, d, ss)
        fdv = quality.frechet(quality.feats(fx, x), f_test)
        row = {"seed": seed, "steps": steps, "skip": rep.get("skip", skip),
               "sigma_skip": rep.get("sigma_skip", 0.0),
               "steps_skipped": rep.get("steps_skipped", 0), "nfe": rep.get("nfe"),
               "nfe_saved": rep.get("nfe_saved", 0), "fd": fdv, "seconds": secs, "n": a.n}
        rows.append(row)
        print(json.dumps(row), flush=True)

    print(f"\nFD-{kind} floor, {a.n} real train images vs the test split (3 disjoint draws): "
          + ", ".join(f"{f:.2f}" for f in floors))
    print(f"\n| sampler | steps N | skip | σ̃_skip | k skipped | NFE | first seed | FD-{kind} ({a.n} images) "
          "| dfx s (all) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {a.sampler} | {r['steps']} | {r['skip']} | {r['sigma_skip']:.3g} | {r['steps_skipped']} | "
              f"{r['nfe']} | {r['seed']} | {r['fd']:.2f} | {r['seconds']:.1f} |")
    with open(os.path.join(a.work, "quality-nfe.json"), "w") as f:
        json.dump({"model": a.model, "sampler": a.sampler, "n": a.n, "floor": floors, "rows": rows,
                   "time": time.strftime("%Y-%m-%d %H:%M")}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
