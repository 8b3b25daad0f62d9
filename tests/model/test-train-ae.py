#!/usr/bin/env python3
"""test-train-ae.py — models/train_ae.py, the autoencoders of issue 22's experiment, in a few steps.

On 40 smooth random grey 16×16 images (a .safetensors data source) and a tiny
architecture (block_out_channels 8,8, groups 4), for --kind ae and --kind vae:
the float64 gradient check runs before the first step (its line printed, every
tensor within 1e-4), the loss falls over 30 steps, the exported vae/ loads in
the reference (models/dfx_vae.py) and its scaling_factor makes the latent
means of the training images unit-std (1e-4), and train_info.json holds the
recorded reconstruction MSE, which the reference recomputes on the held-out
images (rel. 1e-4).  About 30 s on one core; no Vulkan.

  test-train-ae.py --models DIR --work DIR
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys

import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", required=True)
    ap.add_argument("--work", required=True)
    a = ap.parse_args()
    sys.path.insert(0, a.models)
    sys.dont_write_bytecode = True
    import dfx_data
    import dfx_vae
    from safetensors.torch import save_file
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)
    g = torch.Generator().manual_seed(3)
    low = torch.rand(40, 1, 4, 4, generator=g) * 2 - 1
    x = torch.nn.functional.interpolate(low, size=16, mode="bilinear", align_corners=False)
    x = (x + 0.05 * torch.randn(x.shape, generator=g)).clamp(-1, 1)
    src = os.path.join(a.work, "data.safetensors")
    save_file({"images": x.contiguous()}, src)
    failures = []

    def check(cond, what):
        if not cond:
            failures.append(what)
            print(f"FAIL {what}")

    for kind in ("ae", "vae"):
        out = os.path.join(a.work, kind)
        p = subprocess.run([sys.executable, os.path.join(a.models, "train_ae.py"), "--kind", kind, "--out", out,
                            "--data", src, "--size", "16", "--channels-per-level", "8,8", "--groups", "4",
                            "--latent-channels", "2", "--steps", "30", "--batch", "8", "--lr", "3e-3",
                            "--warmup", "1", "--log-every", "10", "--eval", "8"],
                           capture_output=True, text=True, timeout=240)
        print(p.stdout + p.stderr)
        check(p.returncode == 0, f"{kind}: exit {p.returncode}")
        if p.returncode != 0:
            continue
        m = re.search(r"train_ae \w+: float32 vs float64 on a fixed batch: (\d+) tensors, worst \S+ ([0-9.e+-]+)",
                      p.stdout)
        check(m is not None and float(m.group(2)) <= 1e-4, f"{kind}: the gradient check's line")
        losses = [float(v) for v in re.findall(r"step \d+ loss ([0-9.]+)", p.stdout)]
        check(len(losses) == 3 and losses[-1] < losses[0], f"{kind}: losses {losses} do not fall")
        with open(os.path.join(out, "train_info.json")) as f:
            info = json.load(f)
        net = dfx_vae.load(out, torch.float64)
        train = dfx_data.load(src, "train", 1, 16).double()
        test = dfx_data.load(src, "test", 1, 16)[:8].double()
        with torch.no_grad():
            mu = net.encode(train)[0] * net.config["scaling_factor"]
            mse = torch.mean((net.decode(net.encode(test)[0]) - test) ** 2).item()
        check(abs(mu.std().item() - 1.0) <= 1e-4, f"{kind}: scaled latent std {mu.std().item():.6f}")
        check(abs(mse - info["recon_mse_test"]) <= 1e-4 * mse,
              f"{kind}: reconstruction MSE {info['recon_mse_test']:.6g}, reference {mse:.6g}")
        check(info["kind"] == kind and info["steps"] == 30, f"{kind}: train_info {info['kind']} {info['steps']}")
        print(f"{kind}: losses {losses}, test MSE {mse:.5f}, scaling {info['scaling_factor']:.4g}")
    print(f"{len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
