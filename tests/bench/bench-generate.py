#!/usr/bin/env python3
"""bench-generate.py — seconds per image of `dfx generate` with and without the
Gaussian skip, against PyTorch CPU running the same sampler (models/
sample_ref.py, float32) with the same weights and steps.

  bench-generate.py --dfx DFX --work DIR [--channels 1] [--sizes 32,256]
                    [--steps 18] [--steps-large 6] [--sigma-skip 3] [--repeat 3] [--torch]

The model has the shipped default architecture (models/train_unet.py's
defaults: block_out_channels 32,64,128, attention at 8×8 of 32) with random
weights (models/make_golden.py's draw) and synthetic gaussian/ statistics:
speed does not depend on what the weights learned.  Sizes above 64 use
--steps-large.  Prints a Markdown table; writes only under DIR.
"""
import argparse
import json
import os
import subprocess
import sys
import time
import types

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(HERE, "..", "..", "models"))
import dfx_gaussian  # noqa: E402
import dfx_sched  # noqa: E402
import dfx_unet  # noqa: E402
import make_golden  # noqa: E402
import sample_ref  # noqa: E402
import train_unet  # noqa: E402


def make_model(out, channels):
    defaults = types.SimpleNamespace(channels_per_level="32,64,128", attn_levels="2", layers_per_block=1,
                                     head_dim=32, groups=8, size=32)
    cfg = train_unet.unet_config(defaults, channels)
    model = dfx_unet.UNet2DModel(cfg)
    make_golden.init_weights(model, 1)
    dfx_unet.save(model, out, config={"_class_name": "UNet2DModel", **model.config})
    dfx_sched.save(dict(make_golden.LINEAR), out)
    gcfg, t = dfx_gaussian.synthetic(channels, 32, 32, 1, rank=64)
    dfx_gaussian.save(out, gcfg, **t)
    return sum(p.numel() for p in model.parameters())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dfx", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--channels", type=int, default=1)
    ap.add_argument("--sizes", default="32,256")
    ap.add_argument("--steps", type=int, default=18)
    ap.add_argument("--steps-large", type=int, default=6)
    ap.add_argument("--sigma-skip", type=float, default=3.0)
    ap.add_argument("--repeat", type=int, default=3, help="dfx runs per row, best kept (the first builds caches)")
    ap.add_argument("--torch", action="store_true", help="also time the PyTorch float32 sampler (one run)")
    a = ap.parse_args()
    torch.set_num_threads(2)
    mdir = os.path.join(a.work, f"default-arch-{a.channels}ch")
    params = make_model(mdir, a.channels)
    print(f"model: default architecture, {a.channels} channel(s), {params:,} parameters, random weights")
    print("| size | steps | skip | NFE | dfx s/image | PyTorch s/image |")
    print("|---|---|---|---|---|---|")
    for size in (int(s) for s in a.sizes.split(",")):
        steps = a.steps if size <= 64 else a.steps_large
        for skip in (("off", "pca", "spectral") if size == 32 else ("off", "spectral")):
            out = os.path.join(a.work, "noise.safetensors")
            best = None
            for _ in range(a.repeat):
                p = subprocess.run([a.dfx, "generate", "--model", mdir, "--size", f"{size}x{size}", "--steps",
                                    str(steps), "--skip", skip, "--sigma-skip", str(a.sigma_skip), "--noise", out,
                                    "--json", "--tensor", os.path.join(a.work, "out.safetensors")],
                                   capture_output=True, text=True)
                if p.returncode != 0:
                    print(f"dfx generate failed: {p.stderr}", file=sys.stderr)
                    return 1
                j = json.loads(p.stdout)
                best = j if best is None or j["seconds"] < best["seconds"] else best
            j = best
            ts = "–"
            if a.torch:
                from safetensors.torch import load_file

                sched = sample_ref.Schedule(mdir)
                net = dfx_unet.load(mdir, torch.float32)
                gauss = dfx_gaussian.load(mdir, torch.float32) if skip != "off" else None
                x0 = load_file(out)["noise"]
                den = sample_ref.make_denoiser(net, sched, a.channels)
                t0 = time.perf_counter()
                sample_ref.sample(den, sched, x0, steps, "heun", skip, a.sigma_skip, gauss)
                ts = f"{time.perf_counter() - t0:.2f}"
            print(f"| {size}×{size} | {steps} | {j['skip']} (k = {j['steps_skipped']}) | {j['nfe']} | "
                  f"{j['seconds']:.2f} | {ts} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
