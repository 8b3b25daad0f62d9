#!/usr/bin/env python3
"""test-forward-f32.py — PyTorch's float32 forward of every shipped network, as the model
scripts run it (models/sample.py's grid, the training targets), against float64.

Issue 18: on AVX-512 CPUs oneDNN's float32 convolution kernels compute these networks wrong
(2026-12-08, AMD EPYC family 26: fashion-mnist-32's x̂0 error at t = 600 was 0.389 where the
float64 forward gives 0.152, and the sample grid was noise).  models/dfx_unet.py caps oneDNN
at AVX2 for every script that imports it.  This test imports nothing else (as sample.py), loads
each models/*/unet and models/*/fisher in float32 and in float64, and asserts the relative L2
error of the output on fixed inputs (a batch of 3 at t = 20, 300 and 900, at the training size
and at twice it) within 1e-4.  On a CPU without AVX-512 it passes either way; on one with it,
it fails without the cap.
"""

import argparse
import glob
import os
import sys

BOUND = 1e-4


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", required=True)
    a = ap.parse_args()
    sys.path.insert(0, a.models)
    import dfx_unet  # before torch's first convolution, as the model scripts do
    import torch

    torch.set_num_threads(1)
    failures, checked = [], 0
    folders = sorted(d for d in glob.glob(os.path.join(a.models, "*")) if os.path.isdir(os.path.join(d, "unet")))
    for folder in folders:
        for sub in ("unet", "fisher"):
            if not os.path.isfile(os.path.join(folder, sub, "config.json")):
                continue
            net = dfx_unet.load(folder, subfolder=sub).float().eval()
            ref = dfx_unet.load(folder, subfolder=sub).double().eval()
            c = net.config
            size = c["sample_size"] if isinstance(c["sample_size"], int) else c["sample_size"][0]
            g = torch.Generator().manual_seed(7)
            worst = 0.0
            for s in (size, 2 * size):
                x = torch.randn(3, c["in_channels"], s, s, generator=g, dtype=torch.float64)
                t = torch.tensor([20, 300, 900])
                with torch.no_grad():
                    want = ref(x, t)
                    got = net(x.float(), t).double()
                worst = max(worst, ((got - want).norm() / want.norm()).item())
            name = f"{os.path.basename(folder)}/{sub}"
            ok = worst <= BOUND
            print(("ok:   " if ok else "FAIL: ") + f"{name}: float32 forward within {worst:.2e} of float64 "
                  f"(bound {BOUND:g}; sizes {size} and {2 * size})", flush=True)
            checked += 1
            if not ok:
                failures.append(name)
    if checked == 0:
        print("FAIL: no shipped network found under " + a.models)
        return 1
    print(f"{checked} networks; " + ("all within the bound" if not failures else "failed: " + ", ".join(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
