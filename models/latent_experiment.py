#!/usr/bin/env python3
"""latent_experiment.py — issue 22's experiment: does FIR rank a plain autoencoder and a KL-VAE
of the same latent size the way the latent-diffusability paper says?

  build-aux/dfx-env python3 models/latent_experiment.py [--work DIR] [--minutes M] [--dfx DFX] ...

1. Trains both with models/train_ae.py on Fashion-MNIST 32×32 (same architecture, latent
   4 × 8 × 8 = 256 values for 1024 pixels; each run checks its float32 gradient against
   float64 before the first step and stops after --minutes of wall time; pin it to one
   core with taskset).  --skip-train reuses WORK/ae and WORK/vae.
2. Writes the first --count Fashion-MNIST test images as PNGs (WORK/data).
3. Runs `dfx diagnose --encoder WORK/KIND --data WORK/data --json --csv --plot` for each:
   J, FIR and the MMSE rate of the data set and of its codes (exact Dirac-mixture scores),
   the encoder's constants and both sandwich checks per level (docs/latent-diagnostics.md):
   the derived one (rescaled levels) and the paper summary's form at the same level.
   --skip-diagnose reuses WORK/KIND.json (to rewrite the summary only).
4. Writes WORK/summary.md: per model the reconstruction error on held-out images, m, L,
   the secant constants and the levels where the sandwich holds; per level J and FIR of the
   data and of both latent spaces, and the MMSE rate per dimension, (d mmse/dτ)/d =
   E tr(C²)/(τ² d) in [0, 1] (1: the posterior still the prior, 0: a point), comparable across
   spaces of different dimension; plots WORK/KIND.png (dfx's, one model each), and
   WORK/compare.png (J/d, FIR/d and the MMSE rate per dimension of the data and both latent
   spaces on common axes) and WORK/recon.png (8 test images, the AE's and the VAE's
   reconstructions from the mean latent), made here with matplotlib and the models in PyTorch.
It reads nothing back into the repository: BENCHMARKS.md is for the person who reads the
summary and the plots (its section "Latent diffusability (issue 22)" holds the first full run).
"""

import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)


def sh(cmd):
    print("+ " + " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)


def write_pngs(folder, count):
    import numpy as np
    from PIL import Image
    import dfx_data
    os.makedirs(folder, exist_ok=True)
    x = dfx_data.load("fashion-mnist", "test", 1, 32)[:count]
    for i in range(x.shape[0]):
        a = np.clip(np.rint((x[i, 0].numpy() + 1.0) * 127.5), 0, 255).astype(np.uint8)
        Image.fromarray(a, "L").save(os.path.join(folder, f"{i:05d}.png"))


def compare_plot(path, res, info):
    """τJ/d, τ²FIR/d and (d mmse/dτ)/d of the data and both latent spaces against σ: the first two are 1
    where a Dirac mixture's posterior is one point (J = d/τ, FIR = d/τ²) and J/d, FIR/d on a log scale
    would hide their departures from it."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    sig = [r["sigma"] for r in res["ae"]["rows"]]
    series = [("data (D = %d)" % res["ae"]["data_dim"], "data", res["ae"], "tab:blue"),
              ("AE latent (d = %d)" % res["ae"]["latent_dim"], "latent", res["ae"], "tab:orange"),
              ("VAE latent (d = %d)" % res["vae"]["latent_dim"], "latent", res["vae"], "tab:green")]
    fig, ax = plt.subplots(1, 3, figsize=(13.5, 4.2), dpi=80)
    for label, space, r, colour in series:
        dim = r["data_dim"] if space == "data" else r["latent_dim"]
        j = [row["tau"] * row[space]["j"] / dim for row in r["rows"]]
        fir = [row["tau"] ** 2 * row[space]["fir"] / dim for row in r["rows"]]
        rate = [row[space]["mmse_rate"] / dim for row in r["rows"]]
        ax[0].semilogx(sig, j, "o-", color=colour, label=label, ms=3)
        ax[1].semilogx(sig, fir, "o-", color=colour, label=label, ms=3)
        ax[2].semilogx(sig, rate, "o-", color=colour, label=label, ms=3)
    for a_, t in zip(ax, ("tau J / dim (1: one point)", "tau^2 FIR / dim (1: one point)",
                          "(d mmse / d tau) / dim")):
        a_.set_title(t)
        a_.set_xlabel("sigma (tau = sigma^2)")
        a_.grid(True, which="both", alpha=0.3)
    ax[2].legend(fontsize=8)
    fig.suptitle("Fashion-MNIST 32x32, %d test images: AE %d steps (MSE %.4f), VAE %d steps (MSE %.4f)" % (
        res["ae"]["images"], info["ae"]["steps"], info["ae"]["recon_mse_test"], info["vae"]["steps"],
        info["vae"]["recon_mse_test"]), fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def recon_plot(path, work, count=8):
    """Rows: test images, the AE's and the VAE's reconstructions (decode of the mean latent)."""
    import numpy as np
    import torch
    from PIL import Image
    import dfx_data
    import dfx_vae
    x = dfx_data.load("fashion-mnist", "test", 1, 32)[:count]
    rows = [x]
    with torch.no_grad():
        for k in ("ae", "vae"):
            m = dfx_vae.load(os.path.join(work, k))
            rows.append(m.decode(m.encode(x)[0]).clamp(-1, 1))
    grid = torch.cat([torch.cat(list(r[:, 0]), dim=1) for r in rows], dim=0)
    a = np.clip(np.rint((grid.numpy() + 1.0) * 127.5), 0, 255).astype(np.uint8)
    Image.fromarray(a, "L").resize((a.shape[1] * 2, a.shape[0] * 2), Image.NEAREST).save(path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", default=os.path.join(ROOT, "build-train", "latent-exp"))
    ap.add_argument("--dfx", default=os.path.join(ROOT, "build", "compute", "dfx"))
    ap.add_argument("--minutes", type=float, default=60.0, help="wall time per autoencoder")
    ap.add_argument("--steps", type=int, default=100000, help="step cap per autoencoder")
    ap.add_argument("--skip-train", action="store_true")
    ap.add_argument("--skip-diagnose", action="store_true", help="reuse WORK/ae.json and WORK/vae.json")
    ap.add_argument("--kl-weight", type=float, default=1e-3)
    ap.add_argument("--eval", type=int, default=1000, help="held-out images for the reconstruction error")
    ap.add_argument("--count", type=int, default=256, help="images for the diagnostics")
    # On [-1, 1] images of 1024 values (and unit-variance codes of 256) the points of a 256-image
    # set are ~10-20 apart: below σ ≈ 1 every posterior is one point (J = d/τ exactly).  One
    # grid for both models (dfx's default grid would follow each model's codes).
    ap.add_argument("--sigmas", default="0.2,0.5,1,2,3,5,7,10,15,20,30,50")
    ap.add_argument("--samples", type=int, default=256)
    ap.add_argument("--jacobian-points", type=int, default=8)
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    kinds = ("ae", "vae")
    if not a.skip_train:
        for k in kinds:
            sh([sys.executable, os.path.join(HERE, "train_ae.py"), "--kind", k, "--out", os.path.join(a.work, k),
                "--max-minutes", str(a.minutes), "--steps", str(a.steps), "--kl-weight", str(a.kl_weight),
                "--eval", str(a.eval)])
    data = os.path.join(a.work, "data")
    if not a.skip_diagnose:
        write_pngs(data, a.count)
    res, info = {}, {}
    for k in kinds:
        if a.skip_diagnose:
            with open(os.path.join(a.work, k + ".json")) as f:
                res[k] = json.load(f)
            with open(os.path.join(a.work, k, "train_info.json")) as f:
                info[k] = json.load(f)
            continue
        out = subprocess.run([a.dfx, "diagnose", "--encoder", os.path.join(a.work, k), "--data", data,
                              "--count", str(a.count), "--sigmas", a.sigmas, "--samples", str(a.samples),
                              "--jacobian-points", str(a.jacobian_points), "--json",
                              "--csv", os.path.join(a.work, k + ".csv"), "--plot", os.path.join(a.work, k + ".png")],
                             capture_output=True, text=True)
        if out.returncode != 0:
            print(f"latent_experiment: dfx diagnose on {k} failed: {out.stderr}", file=sys.stderr)
            return 1
        res[k] = json.loads(out.stdout)
        with open(os.path.join(a.work, k + ".json"), "w") as f:
            f.write(out.stdout)
        with open(os.path.join(a.work, k, "train_info.json")) as f:
            info[k] = json.load(f)
    lines = ["# Latent diagnostics: plain AE against KL-VAE on Fashion-MNIST 32x32", "",
             f"{res['ae']['images']} test images, {res['ae']['samples']} draws per level, Jacobian at "
             f"{res['ae']['jacobian_points']} points, "
             "exact Dirac-mixture scores (dfx diagnose --encoder).", "",
             "| model | steps | train s | test MSE | PSNR dB | scaling | m | L | secant min | secant max | "
             "derived sandwich holds | same-level form holds | diagnose s |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for k in kinds:
        i, r = info[k], res[k]
        lines.append(f"| {k} | {i['steps']} | {i['seconds']:.0f} | {i['recon_mse_test']:.5f} | "
                     f"{i['recon_psnr_test']:.2f} | {i['scaling_factor']:.4g} | {r['sv_min']:.4g} | {r['sv_max']:.4g} | "
                     f"{r['secant_min']:.4g} | {r['secant_max']:.4g} | {r['levels_passed']}/{len(r['rows'])} | "
                     f"{r.get('levels_passed_same', '-')}/{len(r['rows'])} | {r['seconds']:.0f} |")
    lines += ["", "| sigma | J data | J ae | J vae | FIR data | FIR ae | FIR vae | rate/d data | rate/d ae | "
              "rate/d vae | sandwich ae | sandwich vae | same-level ae | same-level vae |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for j, row in enumerate(res["ae"]["rows"]):
        rv = res["vae"]["rows"][j]

        def ratio(s):
            return s["mmse_rate"] / s["rate_d"]

        def sw(r, suffix=""):
            if "lower" + suffix + "_pass" not in r:
                return "-"
            return ("pass" if r["lower" + suffix + "_pass"] else "FAIL") + "/" + \
                ("pass" if r["upper" + suffix + "_pass"] else "FAIL")
        lines.append(f"| {row['sigma']:g} | {row['data']['j']:.4g} | {row['latent']['j']:.4g} | {rv['latent']['j']:.4g} | "
                     f"{row['data']['fir']:.4g} | {row['latent']['fir']:.4g} | {rv['latent']['fir']:.4g} | "
                     f"{ratio(row['data']):.4g} | {ratio(row['latent']):.4g} | {ratio(rv['latent']):.4g} | "
                     f"{sw(row)} | {sw(rv)} | {sw(row, '_same')} | {sw(rv, '_same')} |")
    compare_plot(os.path.join(a.work, "compare.png"), res, info)
    recon_plot(os.path.join(a.work, "recon.png"), a.work)
    lines += ["", "Plots: " + ", ".join(os.path.join(a.work, f) for f in ("ae.png", "vae.png", "compare.png",
                                                                            "recon.png")) + ".", ""]
    with open(os.path.join(a.work, "summary.md"), "w") as f:
        f.write("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
