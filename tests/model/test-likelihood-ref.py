#!/usr/bin/env python3
"""test-likelihood-ref.py — `dfx likelihood` on the shipped models against the
PyTorch reference (models/likelihood_ref.py, float64), suite `model`.

For each shipped model, on the first N images of its test split (32x32 PNGs
of the model's own data: Fashion-MNIST's test set; for emoji-32 the held-out
5 % of the glyphs models/prep_emoji.py renders, as its card says):

1. DF-TM parity: dfx's bits/dim (Vulkan, float32) with STEPS fixed Heun steps
   equals the float64 PyTorch DF-TM of the same discretised ODE (score
   network + Fisher head) within 2e-3 bits/dim.  This checks the whole dfx
   path: PNG reading, the data scale, both networks, the ODE, the prior and
   the bits/dim formula.
2. DF-TM against Hutchinson (issue 6): dfx's DF-TM with its default solver
   (RK45, rtol = atol = 1e-3) against PyTorch's Hutchinson estimate of the
   PF-ODE log-likelihood — the divergence of the score network itself,
   Rademacher probes and vector-Jacobian products, PROBES trajectories per
   image, all N × PROBES integrated as one batch by the same RK45 controller
   (models/likelihood_ref.py).  The Hutchinson mean must have a standard
   error below 0.01 bits/dim over the N images, and the two means must agree
   within issue 6's 0.02 bits/dim (GAP_BOUND).  8 images with 4 probes cost
   what 4 with 8 did and shrink by √2 what the per-image scatter of the gap
   (standard deviation 0.06 Fashion-MNIST, 0.10 emoji) adds to the mean's.
   Both sides are compared near convergence: with few fixed steps the
   network's own divergence is far from it (Fashion-MNIST test image 0:
   Hutchinson −0.16 bits/dim after 8 Heun steps, 1.64 after 32, 1.80 with
   RK45), DF-TM much less so (1.31, 1.56, 1.57 with an earlier head), so an
   equal-step gap measures the discretisation as much as the head
   (BENCHMARKS.md "Likelihood").
   Measured 2026-11-29 with the shipped heads: +0.011 Fashion-MNIST, −0.003
   emoji (standard errors 0.008 and 0.007; per image −0.05 to +0.10 and
   −0.14 to +0.19); on 16 and 12 images with 8 probes each, −0.011 and
   +0.012 (models/FISHER.md).  The heads they replaced gave −0.039 and
   −0.053 here.

Usage: test-likelihood-ref.py --models DIR --dfx DFX --work DIR
"""

import argparse
import concurrent.futures
import contextlib
import io
import json
import math
import multiprocessing
import os
import subprocess
import sys

import numpy as np
import torch

STEPS = 8
TOL = 1e-3  # dfx likelihood's default RK45 tolerances
PROBES = 4
N_IMAGES = 8
PARITY = 2e-3
GAP_BOUND = 0.02  # issue 6
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


def dfx_bits(dfx, model_dir, path, *args):
    out = subprocess.run([dfx, "likelihood", "--model", model_dir, path, "--json", *args],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"dfx likelihood {path}: {out.stderr.strip()}")
    return json.loads(out.stdout)["bits_per_dim"]


def compare(name, model_dir, x, dfx, work, L):
    """Returns the number of failed checks for one model on images x [N, C, 32, 32]."""
    from PIL import Image
    failures = 0
    paths = []
    for i in range(x.shape[0]):
        k = np.round((x[i].numpy() + 1.0) * 127.5).astype(np.uint8)
        assert np.allclose(k / 127.5 - 1.0, x[i].numpy(), atol=1e-6), "test images are 8-bit"
        path = os.path.join(work, f"{name}-test-{i}.png")
        if k.shape[0] == 1:
            Image.fromarray(k[0], "L").save(path)
        else:
            Image.fromarray(np.ascontiguousarray(k.transpose(1, 2, 0)), "RGB").save(path)
        paths.append(path)
    try:
        heun = [dfx_bits(dfx, model_dir, p, "--solver", "heun", "--steps", str(STEPS)) for p in paths]
        rk = [dfx_bits(dfx, model_dir, p) for p in paths]  # the default: RK45, rtol = atol = TOL
    except RuntimeError as e:
        print(f"FAIL: {e}")
        return 1

    model = L.Model(model_dir, torch.float64)
    d = x[0].numel()
    lp, _, t_dftm = L.loglik(model, x.double(), "dftm", STEPS)
    ref = L.bits_per_dim(lp, d).tolist()
    for i, (b, r) in enumerate(zip(heun, ref)):
        ok = abs(b - r) <= PARITY
        failures += not ok
        print(f"{'ok' if ok else 'FAIL'}: {name} image {i}: dfx DF-TM {b:.5f} bits/dim, PyTorch float64 DF-TM "
              f"{r:.5f} ({STEPS} Heun steps; |diff| {abs(b - r):.2e}, tolerance {PARITY})")
    st = {}
    lp_h, sd, t_h = L.loglik(model, x.double(), "hutchinson", probes=PROBES, seed=1, solver="rk45", rtol=TOL,
                             atol=TOL, stats=st)
    hb = L.bits_per_dim(lp_h, d).tolist()
    se_img = [float(s) / (d * math.log(2.0)) / math.sqrt(PROBES) for s in sd]
    for i in range(len(hb)):
        print(f"      {name} image {i}: DF-TM {rk[i]:.4f}, Hutchinson {hb[i]:.4f} ± {se_img[i]:.4f} "
              f"(gap {rk[i] - hb[i]:+.4f})")
    gap = float(np.mean(rk) - np.mean(hb))
    se = math.sqrt(sum(s * s for s in se_img)) / len(se_img)
    ok = se < MAX_SE
    failures += not ok
    print(f"{'ok' if ok else 'FAIL'}: {name}: Hutchinson ({PROBES} probes per image, RK45 with rtol = atol = {TOL}, "
          f"{st['nfe']} evaluations) mean over {len(hb)} images {np.mean(hb):.4f} ± {se:.4f} bits/dim "
          f"(standard error < {MAX_SE})")
    ok = abs(gap) <= GAP_BOUND
    failures += not ok
    print(f"{'ok' if ok else 'FAIL'}: {name}: dfx DF-TM mean {np.mean(rk):.4f} bits/dim, {gap:+.4f} from "
          f"Hutchinson (bound {GAP_BOUND})")
    print(f"time: {name}: PyTorch float64 DF-TM {t_dftm:.1f} s ({STEPS} Heun steps), Hutchinson {t_h:.1f} s "
          f"for {len(hb)} images")
    return failures


def run_one(args):
    """compare() for one model in its own process; returns (failures, what it printed)."""
    name, model_dir, x, dfx, work, models = args
    sys.path.insert(0, models)
    import likelihood_ref as L
    torch.set_num_threads(1)
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        failures = compare(name, model_dir, x, dfx, work, L)
    return failures, buf.getvalue()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", required=True)
    ap.add_argument("--dfx", required=True)
    ap.add_argument("--work", required=True)
    a = ap.parse_args()
    sys.path.insert(0, a.models)
    import dfx_data

    os.makedirs(a.work, exist_ok=True)
    torch.set_num_threads(1)
    try:
        sets = [("fashion-mnist-32", dfx_data.fashion_mnist("test", 32)[:N_IMAGES]),
                ("emoji-32", emoji_test_split(a.models, a.work)[:N_IMAGES])]
    except dfx_data.DataError as e:
        print(f"FAIL: test data: {e}")
        return 1
    # meson runs the tests one at a time: the two models' Hutchinson estimates share the cores.
    jobs = [(name, os.path.join(a.models, name), x, a.dfx, a.work, a.models) for name, x in sets]
    with concurrent.futures.ProcessPoolExecutor(max_workers=min(len(jobs), os.cpu_count() or 1),
                                                mp_context=multiprocessing.get_context("spawn")) as ex:
        results = list(ex.map(run_one, jobs))
    failures = 0
    for f, text in results:
        print(text, end="")
        failures += f
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
