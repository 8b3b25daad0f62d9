#!/usr/bin/env python3
"""make-likelihood-ref.py — writes tests/model/likelihood-ref.json, the float64 PyTorch
reference test-likelihood-ref.py compares `dfx likelihood` against.

For each shipped model (models/<name>/) and its first N_IMAGES test images
(likelihood_fixture.py), with models/likelihood_ref.py in float64 on one thread:

  dftm_heun     DF-TM bits/dim per image with STEPS fixed Heun steps (score
                network + Fisher head): the parity reference of dfx's DF-TM;
  hutchinson    the Hutchinson estimate of the PF-ODE bits/dim — the score
                network's own divergence, PROBES Rademacher probes per image
                (seed SEED), all N × PROBES trajectories integrated as one batch
                by dfx's RK45 controller (rtol = atol = TOL) — per image the mean
                over the probes and their standard deviation.

With them it records the sha256 of the model files and of the test images'
8-bit pixels; the test refuses a reference whose digests do not match what it
reads, so after retraining a model (or its Fisher head) rerun, from the
repository root:

    build-aux/dfx-env python3 tests/model/make-likelihood-ref.py               # both models
    build-aux/dfx-env python3 tests/model/make-likelihood-ref.py --model emoji-32

and commit likelihood-ref.json with the new weights.  With the shipped models
and 4 probes it took 165 s of CPU for both (2026-12-06, one core of the 2-core
AVX-512 VM shared with other jobs: 29 minutes of wall clock); the Hutchinson
part grows linearly with --probes (16 probes halve each image's standard
error, which asserting issue 18's per-image 0.05 bits/dim needs).
Other models' entries in an existing file are kept.

usage: make-likelihood-ref.py [--models DIR] [--work DIR] [--out FILE] [--model NAME]...
                              [--probes K] [--threads T]
"""

import argparse
import datetime
import json
import math
import os
import platform
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
import likelihood_fixture as F  # noqa: E402


def reference(name, models, work, probes, n_images=F.N_IMAGES):
    import torch
    import likelihood_ref as L
    model_dir = os.path.join(models, name)
    x = F.test_images(name, models, work, n_images)
    model = L.Model(model_dir, torch.float64)
    d = x[0].numel()
    c0 = time.process_time()
    lp, _, t_dftm = L.loglik(model, x.double(), "dftm", F.STEPS)
    c1 = time.process_time()
    st = {}
    t0 = time.perf_counter()
    lp_h, sd, _ = L.loglik(model, x.double(), "hutchinson", probes=probes, seed=F.SEED, solver="rk45",
                           rtol=F.TOL, atol=F.TOL, stats=st)
    t_h = time.perf_counter() - t0
    c2 = time.process_time()
    hb = L.bits_per_dim(lp_h, d).tolist()
    spread = [float(s) / (d * math.log(2.0)) for s in sd]
    print(f"{name}: DF-TM ({F.STEPS} Heun steps) {t_dftm:.1f} s, Hutchinson ({probes} probes, RK45, "
          f"{st['nfe']} evaluations) {t_h:.1f} s", flush=True)
    return {
        "model_files": F.model_digest(model_dir),
        "images_sha256": F.images_digest(x),
        "n_images": int(x.shape[0]),
        "dim": d,
        "dftm_heun": L.bits_per_dim(lp, d).tolist(),
        "hutchinson": {"probes": probes, "seed": F.SEED, "rtol": F.TOL, "atol": F.TOL,
                       "bits_per_dim": hb, "probe_sd": spread, "nfe": st["nfe"],
                       "steps": st["steps"], "rejected": st["rejected"]},
        "seconds": {"dftm_heun": round(t_dftm, 1), "hutchinson": round(t_h, 1)},  # wall clock
        "cpu_seconds": {"dftm_heun": round(c1 - c0, 1), "hutchinson": round(c2 - c1, 1)},
        "made": {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                 "torch": torch.__version__, "machine": platform.machine(),
                 "likelihood_ref.py": _sha256(os.path.join(F.CODE, "likelihood_ref.py"))},
    }


def _sha256(path):
    import hashlib
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main():
    ap = argparse.ArgumentParser(description="Write the float64 PyTorch likelihood reference "
                                 "(DF-TM with fixed Heun steps, Hutchinson with RK45) of the shipped models' "
                                 "test images that test-likelihood-ref.py compares dfx against.")
    ap.add_argument("--models", default=os.path.normpath(os.path.join(here, "..", "..", "models")))
    ap.add_argument("--work", default=None, help="scratch folder for the emoji test split "
                    "(default: build/likelihood-ref under the repository)")
    ap.add_argument("--out", default=F.REFERENCE)
    ap.add_argument("--model", action="append", choices=F.KNOWN,
                    help="only this model (repeatable; default the shipped ones, likelihood_fixture.MODELS); "
                    "other entries of --out are kept.  --models models/state --model photo-32 "
                    "--out models/state/photo-32/likelihood-ref.json makes a run's entry before promotion "
                    "(models/finish_model.py)")
    ap.add_argument("--probes", type=int, default=F.PROBES)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--n-images", type=int, default=F.N_IMAGES, help="the first N test images (default 8)")
    a = ap.parse_args()
    sys.path.insert(0, F.CODE)  # the tooling (likelihood_ref.py, dfx_data.py) is the repository's
    import torch
    torch.set_num_threads(a.threads)
    work = a.work or os.path.join(here, "..", "..", "build", "likelihood-ref")
    os.makedirs(work, exist_ok=True)
    ref = {"settings": {}, "models": {}}
    if os.path.isfile(a.out):
        ref = F.load_reference(a.out)
    ref["settings"] = {"heun_steps": F.STEPS, "rk45_tol": F.TOL, "n_images": a.n_images,
                       "made_by": "tests/model/make-likelihood-ref.py"}
    for name in a.model or F.MODELS:
        ref["models"][name] = reference(name, a.models, work, a.probes, a.n_images)
    tmp = a.out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(ref, f, indent=1)
        f.write("\n")
    os.replace(tmp, a.out)
    print(f"make-likelihood-ref: wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
