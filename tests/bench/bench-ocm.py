#!/usr/bin/env python3
"""bench-ocm.py — image quality against sampler steps for the stochastic
samplers (OCM-DDPM, fixed-variance DDPM, OCM-DDIM) and the deterministic
ones (DDIM, Heun with the Gaussian skip) of `dfx generate`, at the same seeds.

  bench-ocm.py --dfx DFX --model DIR --work DIR [--n 256] [--steps 5,10,20,50]
               [--samplers ocm-ddpm,ddpm,ddim,heun+skip] [--seed 100]

Each sampler (heun+skip: Heun with --skip auto; the others with --skip off)
generates --n images per step count N (batches of at most 256 with seeds
seed, seed + 1, ...: every row starts from the same noise, and the stochastic
samplers draw their step noise from the same seeds).  The quality metric is
models/quality.py's Fréchet distance to the Fashion-MNIST test split in its
classifier's features (FD-fmnist; FD-random for colour models), with the
metric's floor at the same sample size (real train images against the test
split, 3 disjoint draws).  NFE counts score-network evaluations; an OCM step
also runs the Fisher head, a network of the same size.  Prints a Markdown
table and writes it with the raw numbers to WORK/ocm.json; writes only under
WORK.
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


def generate(a, sampler, steps, out_dir):
    name, skip = (sampler[:-5], "auto") if sampler.endswith("+skip") else (sampler, "off")
    return benchlib.generate(a.dfx, a.model, a.n, a.seed, steps, name, skip, out_dir)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dfx", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--n", type=int, default=256)
    ap.add_argument("--steps", default="5,10,20,50")
    ap.add_argument("--samplers", default="ocm-ddpm,ddpm,ddim,heun+skip")
    ap.add_argument("--seed", type=int, default=100)
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    torch.set_num_threads(1)
    t0 = time.time()

    kind, fx, f_test, floors = benchlib.reference(a.n)
    print(f"FD-{kind} floor ({a.n} real train images vs the test split): " + ", ".join(f"{f:.2f}" for f in floors),
          flush=True)

    steps = [int(s) for s in a.steps.split(",")]
    samplers = a.samplers.split(",")
    fd = {}
    rows = []
    for sampler in samplers:
        for n in steps:
            d = os.path.join(a.work, f"{sampler}-{n}")
            os.makedirs(d, exist_ok=True)
            x, rep, secs = generate(a, sampler, n, d)
            v = quality.frechet(quality.feats(fx, x), f_test)
            fd[(sampler, n)] = v
            row = {"sampler": sampler, "steps": n, "nfe": rep.get("nfe"), "skip": rep.get("skip"),
                   "steps_skipped": rep.get("steps_skipped", 0), "fd": v, "seconds": secs, "n": a.n}
            rows.append(row)
            print(json.dumps(row), flush=True)

    print(f"\nFD-{kind} against the Fashion-MNIST test split, {a.n} images per cell (NFE in brackets); "
          f"floor {min(floors):.2f}–{max(floors):.2f}\n")
    print("| sampler | " + " | ".join(f"N = {n}" for n in steps) + " |")
    print("|---|" + "---|" * len(steps))
    for sampler in samplers:
        cells = []
        for n in steps:
            r = next(r for r in rows if r["sampler"] == sampler and r["steps"] == n)
            cells.append(f"{r['fd']:.1f} ({r['nfe']})")
        print(f"| {sampler} | " + " | ".join(cells) + " |")
    with open(os.path.join(a.work, "ocm.json"), "w") as f:
        json.dump({"model": a.model, "n": a.n, "floor": floors, "rows": rows, "minutes": (time.time() - t0) / 60,
                   "time": time.strftime("%Y-%m-%d %H:%M")}, f, indent=1)
    print(f"\n{(time.time() - t0) / 60:.1f} minutes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
