#!/usr/bin/env python3
"""test-diagnose-cli.py — `dfx diagnose` end to end (suite algo).

  test-diagnose-cli.py --dfx DFX --work DIR

On a random-weight RGB model with a random variance-ratio fisher/ head
(tests/algo/make-test-model.py, models/FISHER.md) and five 16×16 PNG images:

1. Parity: J from the head, J from the score norm, the measured MMSE and the
   FIR (--fir jvp) against a float64 PyTorch recomputation (models/
   dfx_unet.py, models/sample_ref.py's denoiser, head and Philox, the same
   noise and probes as dfx's diagnose.c documents): relative error ≤ 1e-4
   (J, MMSE) and 2e-3 (the FIR's central difference in float32).
2. The output: CSV with the documented columns, K rows log-spaced over the
   model's σ range; the identities mmse = τd − τ²J_head and rate_d + rate_j +
   rate_fir = mmse_rate hold; --json carries the same rows; --plot writes a
   1500×700 RGB PNG with the curves' colours on it.
3. Bad input: images of the wrong channel count or size (named, with the
   model's), a truncated PNG, a text file named .png, an empty or missing folder, a model without fisher/ (names
   models/train_fisher.py), bad --sigmas / --fir; and for `dfx ot-check`
   a points file with one point or mixed dimensions.
"""
import argparse
import csv
import importlib.util
import io
import json
import math
import os
import shutil
import subprocess
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(HERE, "..", "..", "models"))
import dfx_unet  # noqa: E402
import sample_ref  # noqa: E402

passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print(f"FAIL {what}", flush=True)


def run(dfx, *args):
    p = subprocess.run([dfx, *args], capture_output=True, text=True, timeout=300)
    return p.returncode, p.stdout, p.stderr


def write_pngs(folder, n, size, mode, seed):
    from PIL import Image
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(seed)
    ch = {"L": 1, "RGB": 3}[mode]
    for i in range(n):
        a = rng.integers(0, 256, size=(size[1], size[0], ch), dtype=np.uint8)
        Image.fromarray(a[:, :, 0] if ch == 1 else a, mode).save(os.path.join(folder, f"{i:02d}.png"))


def reference(mdir, folder, count, sigmas, probes, seed):
    """J_head, J_score, mmse_direct, FIR per σ, recomputed in float64."""
    from PIL import Image
    names = sorted(f for f in os.listdir(folder) if f.lower().endswith(".png"))[:count]
    x0 = torch.stack([torch.tensor(np.asarray(Image.open(os.path.join(folder, f))), dtype=torch.float64)
                      .permute(2, 0, 1) / 127.5 - 1.0 for f in names])
    x0 = x0.float().double()  # dfx holds the data as float32
    sched = sample_ref.Schedule(mdir)
    net = dfx_unet.load(mdir, torch.float64)
    den = sample_ref.make_denoiser(net, sched, 3)
    head = sample_ref.make_head(dfx_unet.load(mdir, torch.float64, subfolder="fisher"), sched)
    n, d = x0.shape[0], x0[0].numel()
    out = []
    for j, s in enumerate(sigmas):
        tau = s * s
        eps = torch.stack([sample_ref.philox_normals(seed, b, j + 1, d).reshape(x0[b].shape) for b in range(n)])
        xt = (x0 + s * eps).float().double()
        e = den(xt, s)
        m = head(xt, s, e)
        c = (m - e * e).clamp(0.0, 1.0)
        jh = (d / tau - c.flatten(1).sum(1) / tau ** 2).mean().item()
        js = ((e - xt).flatten(1).pow(2).sum(1) / tau ** 2).mean().item()
        md = (x0 - e).flatten(1).pow(2).sum(1).mean().item()
        h = max(0.02 * s, 1e-3)
        fir = torch.zeros(n, dtype=torch.float64)
        for p in range(probes):
            v = torch.stack([torch.where(sample_ref.philox_normals(seed, b, (1 << 24) + j * probes + p, d) < 0,
                                         -1.0, 1.0).reshape(x0[b].shape) for b in range(n)]).double()
            jd = (den((xt + h * v).float().double(), s) - den((xt - h * v).float().double(), s)) / (2 * h)
            fir += ((v - jd) / tau).flatten(1).pow(2).sum(1) / probes
        out.append(dict(j_head=jh, j_score=js, mmse_direct=md, fir=fir.mean().item()))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dfx", required=True)
    ap.add_argument("--work", required=True)
    a = ap.parse_args()
    dfx, work = a.dfx, a.work
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    torch.set_num_threads(1)
    spec = importlib.util.spec_from_file_location("make_test_model", os.path.join(HERE, "make-test-model.py"))
    mtm = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mtm)
    cfg = os.path.join(HERE, "configs", "tiny-eps.json")
    mdir, nof = os.path.join(work, "model"), os.path.join(work, "nofisher")
    # a variance-ratio head (models/FISHER.md); test-generate's OCM models carry second-moment heads
    mtm.make(cfg, "linear-eps", mdir, 1, None, 6, "variance_ratio")
    mtm.make(cfg, "linear-eps", nof, 1)
    data = os.path.join(work, "data")
    write_pngs(data, 5, (16, 16), "RGB", 1)

    # 1. + 2.
    csv_path, plot = os.path.join(work, "d.csv"), os.path.join(work, "d.png")
    rc, so, se = run(dfx, "diagnose", "--model", mdir, "--data", data, "--count", "4", "--levels", "4", "--probes",
                     "2", "--seed", "3", "--plot", plot)
    check(rc == 0, f"diagnose: rc {rc}: {se}")
    rows = list(csv.DictReader(io.StringIO(so))) if rc == 0 else []
    cols = ["sigma", "tau", "j_head", "j_head_se", "j_score", "j_score_se", "fir", "fir_se", "mmse", "mmse_se",
            "mmse_direct", "mmse_direct_se", "mmse_rate", "mmse_rate_se", "rate_d", "rate_j", "rate_fir"]
    check(len(rows) == 4 and list(rows[0].keys()) == cols, f"CSV: {len(rows)} rows, columns {so[:200]}")
    if len(rows) == 4:
        sched = sample_ref.Schedule(mdir)
        r = [{k: float(v) for k, v in row.items()} for row in rows]
        sig = [x["sigma"] for x in r]
        want_sig = [math.exp(math.log(sched.sigma_min) + (math.log(sched.sigma_max) - math.log(sched.sigma_min))
                             * j / 3) for j in range(4)]
        check(all(abs(g / w - 1) < 1e-6 for g, w in zip(sig, want_sig)), f"sigma grid {sig} vs {want_sig}")
        d = 3 * 16 * 16
        for x in r:
            check(abs(x["mmse"] - (x["tau"] * d - x["tau"] ** 2 * x["j_head"])) <= 1e-6 * x["tau"] * d,
                  f"sigma {x['sigma']}: mmse {x['mmse']} is not tau d - tau^2 J_head")
            check(abs(x["rate_d"] + x["rate_j"] + x["rate_fir"] - x["mmse_rate"]) <= 1e-6 * (d + abs(x["rate_j"])),
                  f"sigma {x['sigma']}: the rate's terms do not add up")
            check(all(math.isfinite(v) for v in x.values()), f"sigma {x['sigma']}: a value is not finite")
        ref = reference(mdir, data, 4, sig, 2, 3)
        for x, w in zip(r, ref):
            for key, tol in (("j_head", 1e-4), ("j_score", 1e-4), ("mmse_direct", 1e-4), ("fir", 2e-3)):
                err = abs(x[key] - w[key]) / max(abs(w[key]), 1e-30)
                print(f"sigma {x['sigma']:.4g} {key}: dfx {x[key]:.6g}, float64 reference {w[key]:.6g}, "
                      f"rel {err:.2g}", flush=True)
                check(err <= tol, f"sigma {x['sigma']}: {key} dfx {x[key]} reference {w[key]} rel {err:.3g} > {tol}")
    from PIL import Image
    if os.path.exists(plot):
        im = Image.open(plot)
        px = set(im.convert("RGB").getdata())
        check(im.size == (1500, 700) and im.mode == "RGB" and (31, 100, 200) in px and (230, 120, 20) in px
              and (0, 0, 0) in px, f"plot: {im.size} {im.mode}, {len(px)} colours")
    else:
        check(False, "no plot written")
    rc, so, se = run(dfx, "diagnose", "--model", mdir, "--data", data, "--count", "2", "--sigmas", "0.5,2",
                     "--probes", "1", "--fir", "dfea", "--json", "--csv", csv_path)
    j = json.loads(so) if rc == 0 else {}
    check(rc == 0 and j.get("images") == 2 and j.get("fir_method") == "dfea" and
          [x["sigma"] for x in j.get("rows", [])] == [0.5, 2.0] and os.path.exists(csv_path),
          f"--json --sigmas --csv: rc {rc} {so[:300]} {se}")

    # 3.
    grey, small, empty = (os.path.join(work, n) for n in ("grey", "small", "empty"))
    write_pngs(grey, 2, (16, 16), "L", 2)
    write_pngs(small, 2, (8, 8), "RGB", 3)
    os.makedirs(empty)
    broken, notpng = os.path.join(work, "broken"), os.path.join(work, "notpng")
    write_pngs(broken, 1, (16, 16), "RGB", 4)
    with open(os.path.join(broken, "00.png"), "r+b") as f:
        f.truncate(60)
    os.makedirs(notpng)
    with open(os.path.join(notpng, "a.png"), "w") as f:
        f.write("not an image")
    for args, want_rc, texts in (
            (["--data", grey], 2, [os.path.join(grey, "00.png"), "grey (1 channel)", "RGB (3 channels)"]),
            (["--data", small], 2, [os.path.join(small, "00.png"), "8x8", "16x16"]),
            (["--data", empty], 2, ["no .png images"]),
            (["--data", broken], 2, [os.path.join(broken, "00.png"), "damaged PNG"]),
            (["--data", notpng], 2, [os.path.join(notpng, "a.png"), "not a PNG file"]),
            (["--data", os.path.join(work, "missing")], 2, ["cannot read the data folder"]),
            (["--data", data, "--sigmas", "1,-2"], 2, ["--sigmas"]),
            (["--data", data, "--fir", "exact"], 2, ["jvp or dfea"]),
            (["--data", data, "--levels", "0"], 2, ["--levels"])):
        rc, so, se = run(dfx, "diagnose", "--model", mdir, *args)
        check(rc == want_rc and all(t in se for t in texts), f"diagnose {' '.join(args)}: rc {rc}, {se}")
    rc, so, se = run(dfx, "diagnose", "--model", nof, "--data", data)
    check(rc == 1 and nof + "/fisher" in se and "models/train_fisher.py " + nof in se, f"no fisher/: rc {rc}, {se}")
    for name, text, want in (("one", "[[1, 2]]", "at least two"), ("mixed", "[[1, 2], [3, 4, 5]]",
                                                                    "mixed dimensions")):
        path = os.path.join(work, name + ".json")
        with open(path, "w") as f:
            f.write(text)
        rc, so, se = run(dfx, "ot-check", "--points", path)
        check(rc == 1 and path in se and want in se, f"ot-check {name}: rc {rc}, {se}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
