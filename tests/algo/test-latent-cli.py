#!/usr/bin/env python3
"""test-latent-cli.py — `dfx diagnose --encoder` end to end (suite algo).

  test-latent-cli.py --dfx DFX --work DIR

A random-weight grey AutoencoderKL (two levels, latent 2 × 4 × 4 = 32 values
for 8 × 8 images, D = 64; models/dfx_vae.py, models/make_golden.py's
weights) and 40 smooth random 8 × 8 PNG images.  Against a float64 PyTorch /
NumPy recomputation:

1. The encoder's constants: the extreme singular values of the exact Jacobian
   (torch.autograd) of (mean − shift)·scaling at the same data points as
   dfx's central differences (float32, step 0.01): m and L within rel. 2e-3;
   the secant constants of the float64 codes within rel. 1e-4.
2. J, FIR, the MMSE and its rate of the data set's and the codes' Dirac
   mixtures, by an independent Monte Carlo (NumPy, full D × D posterior
   covariances, 3000 draws) against dfx's (400 draws): within 4 combined
   standard errors at every level.
3. The sandwich's sides from dfx's own J_x(τ/m²), J_x(τ/L²), m, L: rel.
   1e-9, and the paper summary's one-level form J_x(τ)/L², J_x(τ)/m² from
   dfx's own J_x(τ); pass flags consistent with the margins; the text table, CSV and
   --plot (1500 × 700 PNG); the default levels from the two point sets'
   median nearest-neighbour distances and RMS radii (rel. 1e-5).
4. Bad input: one image, mixed sizes, a size not a multiple of the
   downscale, a missing folder, a model without vae/, a bad --density.
"""
import argparse
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
import dfx_vae  # noqa: E402
import make_golden  # noqa: E402

passed = failed = 0
CONFIG = dict(block_out_channels=[8, 16], down_block_types=["DownEncoderBlock2D"] * 2,
              up_block_types=["UpDecoderBlock2D"] * 2, layers_per_block=1, norm_num_groups=4, latent_channels=2,
              in_channels=1, out_channels=1, sample_size=8, scaling_factor=0.5)
SIGMAS = [0.05, 0.2, 0.8, 3.0]


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print(f"FAIL {what}", flush=True)


def run(dfx, *args):
    p = subprocess.run([dfx, "diagnose", *args], capture_output=True, text=True, timeout=300)
    return p.returncode, p.stdout, p.stderr


def write_pngs(folder, n, size, seed):
    from PIL import Image
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        low = rng.uniform(0, 255, size=(3, 3))
        a = np.kron(low, np.ones((size[1] // 2 + 1, size[0] // 2 + 1)))[: size[1], : size[0]]
        a = np.clip(a + rng.normal(0, 12, a.shape), 0, 255).astype(np.uint8)
        Image.fromarray(a, "L").save(os.path.join(folder, f"{i:02d}.png"))


def load_images(folder):
    from PIL import Image
    names = sorted(f for f in os.listdir(folder) if f.endswith(".png"))
    x = np.stack([np.asarray(Image.open(os.path.join(folder, f)), dtype=np.float64)[None] for f in names])
    return (x / 127.5 - 1.0).astype(np.float32).astype(np.float64)


def fisher_mc(Y, tau, draws, rng):
    """Means and standard errors of J, FIR, mmse, rate for the Dirac mixture of Y (n × d)."""
    n, d = Y.shape
    vals = np.zeros((draws, 4))
    for s in range(draws):
        x = Y[s % n] + math.sqrt(tau) * rng.standard_normal(d)
        lg = -((x - Y) ** 2).sum(1) / (2 * tau)
        w = np.exp(lg - lg.max())
        w /= w.sum()
        xh = w @ Y
        c = Y - xh
        C = (c * w[:, None]).T @ c
        trc, f2 = np.trace(C), (C * C).sum()
        vals[s] = [d / tau - trc / tau ** 2, d / tau ** 2 - 2 * trc / tau ** 3 + f2 / tau ** 4, trc, f2 / tau ** 2]
    return vals.mean(0), vals.std(0, ddof=1) / math.sqrt(draws)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dfx", required=True)
    ap.add_argument("--work", required=True)
    a = ap.parse_args()
    dfx, work = a.dfx, a.work
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    mdir, data = os.path.join(work, "model"), os.path.join(work, "data")
    m = dfx_vae.AutoencoderKL(dict(CONFIG))
    make_golden.init_weights(m, 4321)
    dfx_vae.save(m, mdir, config=dict(CONFIG))
    write_pngs(data, 40, (8, 8), 1)
    plot = os.path.join(work, "latent.png")
    csv_path = os.path.join(work, "latent.csv")
    sig = ",".join(str(s) for s in SIGMAS)
    P = 4
    rc, out, err = run(dfx, "--encoder", mdir, "--data", data, "--sigmas", sig, "--samples", "400",
                       "--jacobian-points", str(P), "--seed", "3", "--json", "--plot", plot, "--csv", csv_path)
    check(rc == 0, f"dfx diagnose --encoder: rc {rc}: {err}")
    if rc != 0:
        print(f"{passed} passed, {failed} failed")
        return 1
    r = json.loads(out)
    check(r["data_dim"] == 64 and r["latent_dim"] == 32 and r["images"] == 40, "dimensions and count")

    # 1. constants
    x = load_images(data)
    net = dfx_vae.load(mdir, torch.float64)

    def code(t):
        return net.latent_to_model(net.encode(t.view(-1, 1, 8, 8))[0]).flatten(1)

    with torch.no_grad():
        Z = code(torch.tensor(x)).numpy()
    X = x.reshape(40, -1)
    smin, smax = [], []
    for k in range(P):
        i = k * 40 // P
        J = torch.autograd.functional.jacobian(lambda t: code(t)[0], torch.tensor(X[i]))
        sv = torch.linalg.svdvals(J)
        smin.append(sv.min().item()), smax.append(sv.max().item())
    mref, lref = min(smin), max(smax)
    em, el = abs(r["sv_min"] - mref) / mref, abs(r["sv_max"] - lref) / lref
    print(f"Jacobian: dfx m {r['sv_min']:.6g} L {r['sv_max']:.6g}; autograd m {mref:.6g} L {lref:.6g} "
          f"(rel. {em:.2g}, {el:.2g})")
    check(em <= 2e-3 and el <= 2e-3, f"m, L rel. errors {em:.3g}, {el:.3g} > 2e-3")
    dx = np.sqrt(((X[:, None] - X[None]) ** 2).sum(-1))
    dz = np.sqrt(((Z[:, None] - Z[None]) ** 2).sum(-1))
    iu = np.triu_indices(40, 1)
    ratio = dz[iu] / dx[iu]
    es = max(abs(r["secant_min"] - ratio.min()) / ratio.min(), abs(r["secant_max"] - ratio.max()) / ratio.max())
    print(f"secant: dfx [{r['secant_min']:.6g}, {r['secant_max']:.6g}], float64 [{ratio.min():.6g}, "
          f"{ratio.max():.6g}] (rel. {es:.2g})")
    check(es <= 1e-4, f"secant constants rel. error {es:.3g} > 1e-4")

    # 2. Fisher statistics
    rng = np.random.default_rng(11)
    worst = 0.0
    for row in r["rows"]:
        tau = row["tau"]
        for space, Y in (("data", X), ("latent", Z)):
            mean, se = fisher_mc(Y, tau, 3000, rng)
            for q, key in enumerate(("j", "fir", "mmse", "mmse_rate")):
                got, gse = row[space][key], row[space][key + "_se"]
                # an absolute floor for the rate at small sigma, where the posterior is one point (1e-187)
                tol = 4 * math.hypot(gse, se[q]) + 1e-9 * abs(mean[q]) + 1e-12 * Y.shape[1]
                if math.hypot(gse, se[q]) > 0:
                    worst = max(worst, abs(got - mean[q]) / math.hypot(gse, se[q]))
                check(abs(got - mean[q]) <= tol, f"sigma {row['sigma']} {space} {key}: dfx {got:.6g} (se {gse:.2g}), "
                      f"reference {mean[q]:.6g} (se {se[q]:.2g})")
            s = row[space]
            check(abs(s["rate_d"] + s["rate_j"] + s["rate_fir"] - s["mmse_rate"]) <= 1e-6 * s["rate_d"],
                  f"sigma {row['sigma']} {space}: the rate's terms do not sum to it")
    print(f"Fisher statistics against the reference: worst {worst:.2f} combined standard errors")

    # 3. the sides and the outputs
    D, d = 64, 32
    for row in r["rows"]:
        tau, mm, ll = row["tau"], r["sv_min"], r["sv_max"]
        lo = (row["j_x_lo"] - (D - d) * mm * mm / tau) / (ll * ll)
        hi = row["j_x_hi"] / (mm * mm)
        check(abs(row["lower"] - lo) <= 1e-9 * abs(lo) + 1e-12 and abs(row["upper"] - hi) <= 1e-9 * hi,
              f"sigma {row['sigma']}: sides {row['lower']}, {row['upper']} against {lo}, {hi}")
        jz = row["latent"]["j"]
        check(abs(row["lower_margin"] - (jz - lo) / jz) <= 1e-9 and abs(row["upper_margin"] - (hi - jz) / jz) <= 1e-9,
              f"sigma {row['sigma']}: margins")
        check(row["lower_pass"] == (row["lower_margin"] >= -2 * row["lower_margin_se"] - 1e-9) and
              row["upper_pass"] == (row["upper_margin"] >= -2 * row["upper_margin_se"] - 1e-9),
              f"sigma {row['sigma']}: pass flags")
        # the paper summary's one-level form from the reported J_x(tau), m, L
        jx = row["data"]["j"]
        los, his = jx / (ll * ll), jx / (mm * mm)
        check(abs(row["lower_same"] - los) <= 1e-9 * los and abs(row["upper_same"] - his) <= 1e-9 * his and
              abs(row["lower_same_margin"] - (jz - los) / jz) <= 1e-9 and
              abs(row["upper_same_margin"] - (his - jz) / jz) <= 1e-9,
              f"sigma {row['sigma']}: one-level sides {row['lower_same']}, {row['upper_same']} against {los}, {his}")
        check(row["lower_same_pass"] == (row["lower_same_margin"] >= -2 * row["lower_same_margin_se"] - 1e-9) and
              row["upper_same_pass"] == (row["upper_same_margin"] >= -2 * row["upper_same_margin_se"] - 1e-9),
              f"sigma {row['sigma']}: one-level pass flags")
        print(f"sigma {row['sigma']:<5} J_x {row['data']['j']:<10.5g} J_z {jz:<10.5g} lower {lo:<10.5g} "
              f"upper {hi:<10.5g} {'pass' if row['lower_pass'] else 'FAIL'} {'pass' if row['upper_pass'] else 'FAIL'}")
    check(r["levels_passed"] == sum(1 for row in r["rows"] if row["lower_pass"] and row["upper_pass"]),
          "levels_passed")
    check(r["levels_passed_same"] == sum(1 for row in r["rows"] if row["lower_same_pass"] and row["upper_same_pass"]),
          "levels_passed_same")
    with open(csv_path) as f:
        lines = f.read().strip().split("\n")
    check(len(lines) == 1 + len(SIGMAS) and lines[0].startswith("sigma,tau,x_j,") and "upper_pass" in lines[0] and
          lines[0].endswith("upper_same_pass"),
          f"CSV: {lines[0][:80]}")
    from PIL import Image
    im = Image.open(plot)
    check(im.size == (1500, 700) and im.mode == "RGB", f"plot {im.size} {im.mode}")
    colours = set(im.getdata())
    check((230, 120, 20) in colours and (31, 100, 200) in colours, "plot: the curves' colours")
    rc, out, err = run(dfx, "--encoder", mdir, "--data", data, "--sigmas", sig, "--samples", "50",
                       "--jacobian-points", "2", "--count", "10")
    check(rc == 0 and "both sides hold at" in out and ("pass" in out or "FAIL" in out) and "m = min sigma_min" in out and
          "one-level form" in out,
          f"text table: rc {rc} {err}")

    # the default levels: 0.1 x the smaller median nearest-neighbour distance, 3 x the larger RMS radius
    rc, out, err = run(dfx, "--encoder", mdir, "--data", data, "--samples", "20", "--jacobian-points", "1",
                       "--levels", "5", "--json")
    check(rc == 0, f"default levels: rc {rc} {err}")
    if rc == 0:
        rows = json.loads(out)["rows"]

        def scales(P):
            d = np.sqrt(((P[:, None] - P[None]) ** 2).sum(-1))
            d[d == 0] = np.inf
            nn = np.sort(d.min(1))
            return nn[len(nn) // 2], math.sqrt(((P - P.mean(0)) ** 2).sum(1).mean())
        (nx, rx), (nz, rz) = scales(X), scales(Z)
        lo, hi = 0.1 * min(nx, nz), 3 * max(rx, rz)
        check(abs(rows[0]["sigma"] - lo) <= 1e-5 * lo and abs(rows[-1]["sigma"] - hi) <= 1e-5 * hi,
              f"default levels {rows[0]['sigma']:.6g} .. {rows[-1]['sigma']:.6g}, want {lo:.6g} .. {hi:.6g}")
        print(f"default levels {rows[0]['sigma']:.6g} .. {rows[-1]['sigma']:.6g} (reference {lo:.6g} .. {hi:.6g})")

    # 4. bad input
    one, mixed, odd = (os.path.join(work, k) for k in ("one", "mixed", "odd"))
    write_pngs(one, 1, (8, 8), 2)
    write_pngs(mixed, 2, (8, 8), 3)
    write_pngs(os.path.join(work, "m2"), 1, (16, 16), 4)
    shutil.copy(os.path.join(work, "m2", "00.png"), os.path.join(mixed, "02.png"))
    write_pngs(odd, 3, (7, 7), 5)
    cases = [
        (["--encoder", mdir, "--data", one], "holds 1 .png image"),
        (["--encoder", mdir, "--data", mixed], "all must have one size"),
        (["--encoder", mdir, "--data", odd], "multiples of 2"),
        (["--encoder", mdir, "--data", os.path.join(work, "nothere")], "cannot read the data folder"),
        (["--encoder", data, "--data", data], "vae"),
        (["--encoder", mdir, "--data", data, "--density", "nope"], "--density"),
    ]
    for args, want in cases:
        rc, out, err = run(dfx, *args)
        check(rc != 0 and want in err, f"{args[-1]}: rc {rc}, stderr {err.strip()[:200]} (want '{want}')")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
