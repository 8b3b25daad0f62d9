#!/usr/bin/env python3
"""test-likelihood-ref.py — `dfx likelihood` on the shipped models against the
float64 PyTorch reference (models/likelihood_ref.py), suite `model`.

The reference is precomputed and committed: tests/model/likelihood-ref.json,
written by tests/model/make-likelihood-ref.py (float64, one core, about 15
minutes for both models).  It records the sha256 of each model's unet/,
fisher/ and scheduler/ files and of the test images' pixels; when they differ
from what this test reads (a retrained model or head, other test images) the
test fails and names the command that remakes it:

    build-aux/dfx-env python3 tests/model/make-likelihood-ref.py [--model NAME]

(commit likelihood-ref.json with the new weights).  Only dfx runs here, plus
one live float64 DF-TM image per model that ties the committed numbers to the
current models/likelihood_ref.py and torch.

For each shipped model, on the first N images of its test split (32x32 PNGs
of the model's own data: Fashion-MNIST's test set; for emoji-32 the held-out
5 % of the glyphs models/prep_emoji.py renders, as its card says):

1. DF-TM parity: dfx's bits/dim (Vulkan, float32) with STEPS fixed Heun steps
   equals the float64 PyTorch DF-TM of the same discretised ODE (score
   network + Fisher head) within 2e-3 bits/dim.  This checks the whole dfx
   path: PNG reading, the data scale, both networks, the ODE, the prior and
   the bits/dim formula.  The committed float64 figure of image 0 is
   recomputed live and must agree within 1e-6 bits/dim.
2. DF-TM against Hutchinson (issue 6): dfx's DF-TM with the reference's
   solver (RK45, rtol = atol = 1e-3; dfx's default is exp3m) against PyTorch's Hutchinson estimate of the
   PF-ODE log-likelihood — the divergence of the score network itself,
   Rademacher probes and vector-Jacobian products, PROBES trajectories per
   image, all N × PROBES integrated as one batch by the same RK45 controller
   (models/likelihood_ref.py), from the committed reference.  The Hutchinson
   mean must have a standard error below 0.01 bits/dim over the N images, and
   the two means must agree within issue 6's 0.02 bits/dim (GAP_BOUND).
   8 images with 4 probes cost what 4 with 8 did and shrink by √2 what the
   per-image scatter of the gap (standard deviation 0.06 Fashion-MNIST, 0.10
   emoji) adds to the mean's.
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
3. Per image (issue 18): each image's gap and how many are within
   PER_IMAGE_BOUND = 0.05 bits/dim are printed but not asserted
   (ASSERT_PER_IMAGE): the shipped heads scatter by up to 0.19 per image.
   Set ASSERT_PER_IMAGE once the retrained heads of issue 18 ship and meet
   it, with a reference made with --probes 16 (a per-image standard error
   near 0.01 rather than 0.02).

Usage: test-likelihood-ref.py --models DIR --dfx DFX --work DIR [--reference FILE]
                              [--model NAME]... [--json OUT]

--model checks only these models (default likelihood_fixture.MODELS, the shipped
ones); --json writes each model's figures (means, gaps per image, within-bound count).
models/finish_model.py runs it on a run's folder before promotion: --models
models/state --model photo-32 --reference models/state/photo-32/likelihood-ref.json.
"""

import argparse
import json
import math
import os
import subprocess
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import likelihood_fixture as F  # noqa: E402

STEPS = F.STEPS
TOL = F.TOL  # dfx likelihood's default RK45 tolerances
PARITY = 2e-3
LIVE = 1e-6  # committed float64 DF-TM against the same computed now
GAP_BOUND = 0.02  # issue 6
# Models whose Fisher head is known not to meet GAP_BOUND, with the bound that guards them against
# getting worse until the head is trained further: fashion-mnist-32's retrained head (3000 steps on
# the retrained network) measured +0.0226 on these 8 images (Hutchinson standard error 0.003) when
# it was promoted (2026-12-08; its card's "Against the goals").  Its parity with PyTorch float64
# above is asserted as for every model.  (photo-32's head, trained on larger crops, now meets it:
# +0.0070, where its 32-px head gave -0.1046 under a bound of 0.12.)
GAP_BOUND_KNOWN = {"fashion-mnist-32": 0.04}
MAX_SE = 0.01
PER_IMAGE_BOUND = 0.05  # issue 18, on the retrained heads
ASSERT_PER_IMAGE = False  # True once issue 18's retrained heads ship (and the reference has 16 probes)


def dfx_bits(dfx, model_dir, path, *args):
    out = subprocess.run([dfx, "likelihood", "--model", model_dir, path, "--json", *args],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"dfx likelihood {path}: {out.stderr.strip()}")
    return json.loads(out.stdout)["bits_per_dim"]


def check_reference(name, model_dir, x, ref):
    """The failures that make the committed reference of one model unusable, as messages."""
    if ref is None:
        return [f"{name}: no entry in the reference"]
    bad = []
    have = F.model_digest(model_dir)
    for rel, h in have.items():
        if ref["model_files"].get(rel) != h:
            bad.append(f"{name}: {rel} differs from the file the reference was made from")
    if ref["n_images"] != x.shape[0] or ref["images_sha256"] != F.images_digest(x):
        bad.append(f"{name}: the test images differ from those of the reference")
    return bad


def compare(name, model_dir, x, dfx, work, ref, L, figures=None):
    """Returns the number of failed checks for one model on images x [N, C, 32, 32]; puts its
    figures into figures[name] when given."""
    from PIL import Image
    failures = 0
    bad = check_reference(name, model_dir, x, ref)
    for b in bad:
        print(f"FAIL: {b}")
    if bad:
        print(f"      remake the reference: {F.REGENERATE}")
        return len(bad)
    paths = []
    for i, k in enumerate(F.to_uint8(x)):
        path = os.path.join(work, f"{name}-test-{i}.png")
        if k.shape[0] == 1:
            Image.fromarray(k[0], "L").save(path)
        else:
            Image.fromarray(np.ascontiguousarray(k.transpose(1, 2, 0)), "RGB").save(path)
        paths.append(path)
    t0 = time.perf_counter()
    try:
        heun = [dfx_bits(dfx, model_dir, p, "--solver", "heun", "--steps", str(STEPS)) for p in paths]
        t1 = time.perf_counter()
        # RK45 at rtol = atol = TOL, the committed Hutchinson reference's solver, so the two differ in the
        # divergence only (dfx's default is exp3m since 2026-12-07)
        rk = [dfx_bits(dfx, model_dir, p, "--solver", "rk45", "--rtol", str(TOL), "--atol", str(TOL)) for p in paths]
    except RuntimeError as e:
        print(f"FAIL: {e}")
        return 1
    t2 = time.perf_counter()

    # The committed float64 DF-TM of image 0, recomputed now.
    model = L.Model(model_dir, torch.float64)
    d = x[0].numel()
    lp, _, _ = L.loglik(model, x[:1].double(), "dftm", STEPS)
    live = L.bits_per_dim(lp, d).item()
    ref_dftm = ref["dftm_heun"]
    ok = abs(live - ref_dftm[0]) <= LIVE
    failures += not ok
    print(f"{'ok' if ok else 'FAIL'}: {name} image 0: PyTorch float64 DF-TM now {live:.7f} bits/dim, committed "
          f"reference {ref_dftm[0]:.7f} (|diff| {abs(live - ref_dftm[0]):.1e}, tolerance {LIVE})")
    t3 = time.perf_counter()
    for i, (b, r) in enumerate(zip(heun, ref_dftm)):
        ok = abs(b - r) <= PARITY
        failures += not ok
        print(f"{'ok' if ok else 'FAIL'}: {name} image {i}: dfx DF-TM {b:.5f} bits/dim, PyTorch float64 DF-TM "
              f"{r:.5f} ({STEPS} Heun steps; |diff| {abs(b - r):.2e}, tolerance {PARITY})")

    h = ref["hutchinson"]
    probes, hb = h["probes"], h["bits_per_dim"]
    se_img = [s / math.sqrt(probes) for s in h["probe_sd"]]
    gaps = [r - b for r, b in zip(rk, hb)]
    within = sum(abs(g) <= PER_IMAGE_BOUND for g in gaps)
    for i in range(len(hb)):
        print(f"      {name} image {i}: DF-TM {rk[i]:.4f}, Hutchinson {hb[i]:.4f} ± {se_img[i]:.4f} "
              f"(gap {gaps[i]:+.4f})")
    gap = float(np.mean(rk) - np.mean(hb))
    se = math.sqrt(sum(s * s for s in se_img)) / len(se_img)
    ok = se < MAX_SE
    failures += not ok
    print(f"{'ok' if ok else 'FAIL'}: {name}: Hutchinson ({probes} probes per image, RK45 with rtol = "
          f"{h['rtol']}, atol = {h['atol']}, {h['nfe']} evaluations; committed) mean over {len(hb)} images "
          f"{np.mean(hb):.4f} ± {se:.4f} bits/dim (standard error < {MAX_SE})")
    bound = GAP_BOUND_KNOWN.get(name, GAP_BOUND)
    ok = abs(gap) <= bound
    failures += not ok
    print(f"{'ok' if ok else 'FAIL'}: {name}: dfx DF-TM mean {np.mean(rk):.4f} bits/dim, {gap:+.4f} from "
          f"Hutchinson (bound {bound}" + (f"; issue 6's {GAP_BOUND} is not met by this head" if bound != GAP_BOUND
                                          else "") + ")")
    ok = within == len(gaps) or not ASSERT_PER_IMAGE
    failures += not ok
    print(f"{'ok' if ok else 'FAIL'}: {name}: {within} of {len(gaps)} images within {PER_IMAGE_BOUND} bits/dim "
          f"of Hutchinson (gaps {min(gaps):+.3f} to {max(gaps):+.3f})"
          + ("" if ASSERT_PER_IMAGE else "; not asserted until issue 18's retrained heads"))
    print(f"time: {name}: dfx {t1 - t0:.1f} s ({STEPS} Heun steps) and {t2 - t1:.1f} s (RK45) for {len(hb)} "
          f"images, PyTorch float64 DF-TM of image 0 {t3 - t2:.1f} s")
    if figures is not None:
        figures[name] = {
            "n_images": len(hb), "probes": probes, "dftm_rk45": rk, "hutchinson": hb,
            "hutchinson_se": se_img, "dftm_rk45_mean": float(np.mean(rk)),
            "hutchinson_mean": float(np.mean(hb)), "hutchinson_mean_se": se, "gap_mean": gap,
            "gaps": gaps, "within_per_image_bound": int(within), "per_image_bound": PER_IMAGE_BOUND,
            "gap_bound": GAP_BOUND, "parity_max_diff": max(abs(b - r) for b, r in zip(heun, ref_dftm)),
            "failures": failures}
    return failures


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", required=True)
    ap.add_argument("--dfx", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--reference", default=F.REFERENCE)
    ap.add_argument("--model", action="append", choices=F.KNOWN,
                    help="only this model (repeatable; default the shipped ones)")
    ap.add_argument("--json", help="write each model's figures here")
    ap.add_argument("--n-images", type=int, default=F.N_IMAGES,
                    help="the first N test images (default 8; the reference must have as many)")
    a = ap.parse_args()
    sys.path.insert(0, F.CODE)  # the tooling is the repository's, --models may be models/state
    import dfx_data
    import likelihood_ref as L

    os.makedirs(a.work, exist_ok=True)
    torch.set_num_threads(1)
    try:
        ref = F.load_reference(a.reference)
    except (OSError, ValueError) as e:
        print(f"FAIL: reference {a.reference}: {e}; make it with: {F.REGENERATE}")
        return 1
    failures = 0
    figures = {}
    for name in a.model or F.MODELS:
        try:
            x = F.test_images(name, a.models, a.work, a.n_images)
        except dfx_data.DataError as e:
            print(f"FAIL: {name} test data: {e}")
            failures += 1
            continue
        failures += compare(name, os.path.join(a.models, name), x, a.dfx, a.work,
                            ref["models"].get(name), L, figures)
        sys.stdout.flush()
    if a.json:
        with open(a.json, "w") as f:
            json.dump(figures, f, indent=1)
            f.write("\n")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
