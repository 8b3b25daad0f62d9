#!/usr/bin/env python3
"""test-likelihood-ref.py — `dfx likelihood` on the shipped model against the
PyTorch reference (models/likelihood_ref.py, float64), suite `model`.

On the first two Fashion-MNIST test-split images (32x32 PNGs, the model's
own data), with the same fixed Heun steps:

1. DF-TM parity: dfx's bits/dim (Vulkan, float32) equals the float64 PyTorch
   DF-TM of the same ODE (score network + Fisher head, C clamped as dfx does)
   within 2e-3 bits/dim.  This checks the whole dfx path: PNG reading, the
   data scale, both networks, the ODE, the prior and the bits/dim formula.
2. DF-TM against Hutchinson (Rademacher probes on the same trajectory, the
   divergence of the score network itself by vector-Jacobian products): the
   gap is MEASURED and printed, with the probe spread, which must be below
   0.02 bits/dim for the comparison to mean anything.  The gap itself is not
   asserted: the shipped Fisher head is an early, short-trained network and
   the two estimates differ by bits/dim, not hundredths (see BENCHMARKS.md);
   the 0.02 target of issue 6 needs a better-trained head.

Usage: test-likelihood-ref.py --models DIR --dfx DFX --work DIR
"""

import argparse
import json
import math
import os
import subprocess
import sys

import numpy as np
import torch

STEPS = 8
PROBES = 8
PARITY = 2e-3


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", required=True)
    ap.add_argument("--dfx", required=True)
    ap.add_argument("--work", required=True)
    a = ap.parse_args()
    sys.path.insert(0, a.models)
    import dfx_data
    import likelihood_ref as L
    from PIL import Image

    model_dir = os.path.join(a.models, "fashion-mnist-32")
    os.makedirs(a.work, exist_ok=True)
    torch.set_num_threads(1)
    try:
        x = dfx_data.fashion_mnist("test", 32)[:2]
    except dfx_data.DataError as e:
        print(f"SKIP: {e}")
        return 77
    failures = 0
    dfx_bpd = []
    for i in range(x.shape[0]):
        k = np.round((x[i, 0].numpy() + 1.0) * 127.5).astype(np.uint8)
        assert np.allclose(k / 127.5 - 1.0, x[i, 0].numpy(), atol=1e-6), "test images are 8-bit"
        path = os.path.join(a.work, f"fmnist-test-{i}.png")
        Image.fromarray(k, "L").save(path)
        out = subprocess.run([a.dfx, "likelihood", "--model", model_dir, path, "--solver", "heun", "--steps",
                              str(STEPS), "--json"], capture_output=True, text=True)
        if out.returncode != 0:
            print(f"FAIL: dfx likelihood {path}: {out.stderr}")
            return 1
        dfx_bpd.append(json.loads(out.stdout)["bits_per_dim"])

    model = L.Model(model_dir, torch.float64)
    d = x[0].numel()
    lp, _, t_dftm = L.loglik(model, x.double(), "dftm", STEPS)
    ref = L.bits_per_dim(lp, d).tolist()
    for i, (b, r) in enumerate(zip(dfx_bpd, ref)):
        ok = abs(b - r) <= PARITY
        failures += not ok
        print(f"{'ok' if ok else 'FAIL'}: image {i}: dfx DF-TM {b:.5f} bits/dim, PyTorch float64 DF-TM {r:.5f} "
              f"(|diff| {abs(b - r):.2e}, tolerance {PARITY})")

    lp_h, sd, t_h = L.loglik(model, x[:1].double(), "hutchinson", STEPS, PROBES, seed=1)
    hb = float(L.bits_per_dim(lp_h, d)[0])
    spread = float(sd[0]) / (d * math.log(2.0)) / math.sqrt(PROBES)
    ok = spread < 0.02
    failures += not ok
    print(f"{'ok' if ok else 'FAIL'}: Hutchinson ({PROBES} probes, same {STEPS} Heun steps) on image 0: "
          f"{hb:.4f} ± {spread:.4f} bits/dim (standard error; must be < 0.02 to compare)")
    print(f"MEASURED: DF-TM minus Hutchinson on image 0: {dfx_bpd[0] - hb:+.4f} bits/dim "
          f"(issue 6 target 0.02; the shipped Fisher head is early and short-trained)")
    print(f"time: PyTorch float64 DF-TM {t_dftm:.1f} s for 2 images, Hutchinson {t_h:.1f} s for 1 image")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
