#!/usr/bin/env python3
"""test-likelihood-ref.py — `dfx likelihood` on the shipped models against the
PyTorch reference (models/likelihood_ref.py, float64), suite `model`.

For each shipped model, on the first N images of its test split (32x32 PNGs
of the model's own data: Fashion-MNIST's test set; for emoji-32 the held-out
5 % of the glyphs models/prep_emoji.py renders, as its card says), with the
same fixed Heun steps:

1. DF-TM parity: dfx's bits/dim (Vulkan, float32) equals the float64 PyTorch
   DF-TM of the same ODE (score network + Fisher head, C clamped as dfx does)
   within 2e-3 bits/dim.  This checks the whole dfx path: PNG reading, the
   data scale, both networks, the ODE, the prior and the bits/dim formula.
2. DF-TM against Hutchinson (issue 6): PyTorch's Hutchinson estimate of the
   same ODE's log-likelihood — the divergence of the score network itself,
   Rademacher probes and vector-Jacobian products, PROBES trajectories per
   image — must have a standard error below 0.01 bits/dim over the N images;
   the gap between its mean and dfx's DF-TM mean is printed against issue 6's
   target of 0.02 bits/dim and asserted below GAP_BOUND = 2.0 bits/dim.  That
   bound guards what the shipped variance-ratio heads achieve (measured
   2026-11-29: +1.32 Fashion-MNIST, +1.56 emoji; the second-moment heads they
   replaced gave +4.18 and +3.41 on the same images and steps); the 0.02
   target is not met (models/FISHER.md, BENCHMARKS.md "Likelihood").

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
N_IMAGES = 4
PARITY = 2e-3
TARGET = 0.02  # issue 6: printed, not met
GAP_BOUND = 2.0
MAX_SE = 0.01


def emoji_test_split(models, work):
    """The emoji-32 test split, rendered once into work/emoji-data (models/prep_emoji.py)."""
    import dfx_data
    data = os.path.join(work, "emoji-data")
    if not os.path.isfile(os.path.join(data, "manifest.json")):
        out = subprocess.run([sys.executable, os.path.join(models, "prep_emoji.py"), "--out", data],
                             capture_output=True, text=True)
        if out.returncode != 0:
            raise dfx_data.DataError(out.stderr.strip())
    return dfx_data.load(data, "test", 3)


def compare(name, model_dir, x, dfx, work, L):
    """Returns the number of failed checks for one model on images x [N, C, 32, 32]."""
    from PIL import Image
    failures = 0
    dfx_bpd = []
    for i in range(x.shape[0]):
        k = np.round((x[i].numpy() + 1.0) * 127.5).astype(np.uint8)
        assert np.allclose(k / 127.5 - 1.0, x[i].numpy(), atol=1e-6), "test images are 8-bit"
        path = os.path.join(work, f"{name}-test-{i}.png")
        if k.shape[0] == 1:
            Image.fromarray(k[0], "L").save(path)
        else:
            Image.fromarray(np.ascontiguousarray(k.transpose(1, 2, 0)), "RGB").save(path)
        out = subprocess.run([dfx, "likelihood", "--model", model_dir, path, "--solver", "heun", "--steps",
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
        print(f"{'ok' if ok else 'FAIL'}: {name} image {i}: dfx DF-TM {b:.5f} bits/dim, PyTorch float64 DF-TM "
              f"{r:.5f} (|diff| {abs(b - r):.2e}, tolerance {PARITY})")

    lp_h, sd, t_h = L.loglik(model, x.double(), "hutchinson", STEPS, PROBES, seed=1)
    hb = L.bits_per_dim(lp_h, d).tolist()
    se_img = [float(s) / (d * math.log(2.0)) / math.sqrt(PROBES) for s in sd]
    for i in range(len(hb)):
        print(f"      {name} image {i}: DF-TM {dfx_bpd[i]:.4f}, Hutchinson {hb[i]:.4f} ± {se_img[i]:.4f} "
              f"(gap {dfx_bpd[i] - hb[i]:+.4f})")
    gap = float(np.mean(dfx_bpd) - np.mean(hb))
    se = math.sqrt(sum(s * s for s in se_img)) / len(se_img)
    ok = se < MAX_SE
    failures += not ok
    print(f"{'ok' if ok else 'FAIL'}: {name}: Hutchinson ({PROBES} probes per image, same {STEPS} Heun steps) "
          f"mean over {len(hb)} images {np.mean(hb):.4f} ± {se:.4f} bits/dim (standard error < {MAX_SE})")
    ok = abs(gap) <= GAP_BOUND
    failures += not ok
    print(f"{'ok' if ok else 'FAIL'}: {name}: dfx DF-TM mean {np.mean(dfx_bpd):.4f} bits/dim, {gap:+.4f} from "
          f"Hutchinson (bound {GAP_BOUND})")
    print(f"MEASURED: {name}: |DF-TM − Hutchinson| {abs(gap):.4f} bits/dim against issue 6's target {TARGET}: "
          f"{'met' if abs(gap) <= TARGET else 'not met'}")
    print(f"time: {name}: PyTorch float64 DF-TM {t_dftm:.1f} s, Hutchinson {t_h:.1f} s for {len(hb)} images")
    return failures


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", required=True)
    ap.add_argument("--dfx", required=True)
    ap.add_argument("--work", required=True)
    a = ap.parse_args()
    sys.path.insert(0, a.models)
    import dfx_data
    import likelihood_ref as L

    os.makedirs(a.work, exist_ok=True)
    torch.set_num_threads(1)
    try:
        sets = [("fashion-mnist-32", dfx_data.fashion_mnist("test", 32)[:N_IMAGES]),
                ("emoji-32", emoji_test_split(a.models, a.work)[:N_IMAGES])]
    except dfx_data.DataError as e:
        print(f"FAIL: test data: {e}")
        return 1
    failures = 0
    for name, x in sets:
        failures += compare(name, os.path.join(a.models, name), x, a.dfx, a.work, L)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
