#!/usr/bin/env python3
"""model_figures.py — the measured figures of a model card (issue 18), in one run.

For a model folder and its data source:
  FD        n = --count samples from `dfx generate` (the default sampler, seed 1, the
            model's own size; n is less where the data has fewer than 2n training or n
            held-out images) against n real training images and n held-out ones, in the project's quality features (models/quality.py:
            fmnist for grey 32×32, random otherwise), each next to its floor: real
            training images against other real ones of the same split, and the
            training split against the held-out one (what a perfect model of the
            training data would score against held-out data)
  bits/dim  `dfx likelihood` (DF-TM, RK45 1e-3) on the first --bpd-count held-out
            images, next to the same images as lossless PNG and WebP
            (models/codec_bpd.py: best settings per image, headers included)

    model_figures.py MODEL --data fashion-mnist|photos|FOLDER --dfx build/compute/dfx
                     [--count 1024] [--bpd-count 16] [--only fd|bpd] [--work DIR] [--json OUT.json]

The held-out images are the same whatever --count (up to 1024): for photos the first
of 2048 patches drawn from the held-out photographs (dfx_data.py 'photos:2048', test
split), so the first 8 are tests/model/likelihood_fixture.py's.  The held-out floor
(floor_heldout) is n held-out images against n other held-out ones.  --only runs one
half (models/finish_model.py runs them as separate steps).

Writes its samples and images under --work (default build-train/figures-<model>) and,
with --json, the figures; prints a markdown table.  Skips bits/dim (and says so)
when the model has no fisher/.
"""

import argparse
import json
import os
import subprocess
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import codec_bpd  # noqa: E402
import dfx_data  # noqa: E402
import quality  # noqa: E402


def generate(dfx, model, n, work, seed=1):
    from safetensors.torch import load_file
    out = []
    k = 0
    while k < n:
        m = min(256, n - k)
        t = os.path.join(work, f"samples-{k}.safetensors")
        if not os.path.exists(t):
            subprocess.run([dfx, "generate", "--model", model, "--count", str(m), "--seed", str(seed + k),
                            "--grid", "-o", os.path.join(work, f"samples-{k}.png"), "--tensor", t],
                           check=True, stdout=subprocess.DEVNULL)
        out.append(load_file(t)["sample"].float())
        k += m
    return torch.cat(out)[:n]


def likelihood(dfx, model, x, work):
    """Mean bits/dim of dfx likelihood over images x [N, C, H, W] on [-1, 1]."""
    bpd = []
    for i, xi in enumerate(x):
        p = os.path.join(work, f"heldout-{i}.png")
        codec_bpd.to_pil(xi).save(p)
        # RK45 1e-3 as every recorded figure so far (the model cards); dfx's default is exp3m since 2026-12-07
        r = subprocess.run([dfx, "likelihood", "--model", model, p, "--json", "--solver", "rk45"], check=True,
                           capture_output=True, text=True)
        bpd.append(json.loads(r.stdout)["bits_per_dim"])
    return sum(bpd) / len(bpd), bpd


def main():
    ap = argparse.ArgumentParser(description="A model card's FD and bits/dim figures next to their floors "
                                 "and the lossless codecs; writes samples under --work, JSON with --json.")
    ap.add_argument("model")
    ap.add_argument("--data", required=True, help="the model's data source (dfx_data.py)")
    ap.add_argument("--dfx", default="build/compute/dfx")
    ap.add_argument("--count", type=int, default=1024)
    ap.add_argument("--bpd-count", type=int, default=16)
    ap.add_argument("--only", choices=("fd", "bpd"), help="only the FD figures, or only bits/dim")
    ap.add_argument("--work")
    ap.add_argument("--json")
    a = ap.parse_args()
    work = a.work or os.path.join("build-train", "figures-" + os.path.basename(os.path.normpath(a.model)))
    os.makedirs(work, exist_ok=True)
    src = a.data if a.data != "photos" else f"photos:{max(2048, 2 * max(a.count, a.bpd_count))}"
    channels = 3
    try:
        with open(os.path.join(a.model, "unet", "config.json")) as f:
            channels = json.load(f)["in_channels"]
    except (OSError, ValueError, KeyError) as e:
        print(f"model_figures: {a.model}/unet/config.json: {e}", file=sys.stderr)
        return 1
    test = dfx_data.load(src, "test", channels)
    fig = {"model": a.model, "data": a.data}
    row = f"| {os.path.basename(os.path.normpath(a.model))} |"
    if a.only != "bpd":
        train = dfx_data.load(src, "train", channels)
        n = min(a.count, train.shape[0] // 2, test.shape[0] // 2)
        kind = "fmnist" if (channels == 1 and train.shape[-1] == 32) else "random"
        s = generate(a.dfx, a.model, n, work)
        fig.update({"features": kind, "count": n,
                    "fd_train": quality.fd(kind, s, train[:n]), "fd_heldout": quality.fd(kind, s, test[:n]),
                    "floor_train": quality.fd(kind, train[:n], train[n:2 * n]),
                    "floor_heldout": quality.fd(kind, test[:n], test[n:2 * n]),
                    "floor_train_vs_heldout": quality.fd(kind, train[:n], test[:n])})
        row += (f" FD-{kind} vs training {fig['fd_train']:.3f} (floor {fig['floor_train']:.3f}) |"
                f" vs held-out {fig['fd_heldout']:.3f} (floor {fig['floor_heldout']:.3f}) |")
    if a.only != "fd":
        if os.path.isdir(os.path.join(a.model, "fisher")):
            x = test[:a.bpd_count]
            fig["bpd_count"] = int(x.shape[0])
            fig["bpd"], fig["bpd_each"] = likelihood(a.dfx, a.model, x, work)
            fig.update({"bpd_" + k: v for k, v in codec_bpd.measure(x).items()})
            row += f" {fig['bpd']:.3f} bits/dim (PNG {fig['bpd_png']:.3f}, WebP {fig['bpd_webp']:.3f}) |"
        else:
            print(f"model_figures: {a.model} has no fisher/: no bits/dim", file=sys.stderr)
            if a.only == "bpd":
                return 1
    print(row)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(fig, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
