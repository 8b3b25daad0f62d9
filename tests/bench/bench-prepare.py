#!/usr/bin/env python3
"""bench-prepare.py — `dfx prepare` without data against the data-made gaussian/
of a shipped model (issue 23): statistics, calibration and generation side by side.

  bench-prepare.py --dfx DFX --model models/fashion-mnist-32 --work DIR
                   [--n 256] [--steps 18] [--seed 100] [--levels 5,20]
                   [--data IMAGES_DIR] [--reference fashion-mnist|IMAGES_DIR]
                   [--samples IMAGES_DIR] [--total]

Makes WORK/free (the model's unet/ and scheduler/ linked, no gaussian/) and
runs `dfx prepare` on it with its defaults (the network alone, the Gaussian
premise at sigma 10; --samples: images the model generated earlier, passed
on for the calibration); with --total also WORK/free-total (`--method
total`, the law of total covariance on the model's samples); with --data
also WORK/data from `dfx prepare --data` (the C port of gaussian_stats.py);
with --levels, WORK/free-S at other Jacobian levels S (calibration cut to 8
images: only their statistics are compared).  Compares each with the model's
own data-made gaussian/ (models/gaussian_stats.py): top eigenvalues, residual
variance, total variance, mean, subspace overlap (mean squared cosine of the
principal angles between the top-k components), spectrum (relative Frobenius
difference), σ̃_skip.  Then generates --n images with Heun at --steps from the
same seeds with the skip off, with the data-made folder and with the
data-free one, and measures NFE and the Fréchet distance of models/quality.py
(FD-fmnist against the Fashion-MNIST test split for grey models, FD-random
against --reference for colour ones).  Prints Markdown tables and writes them
with the raw numbers to WORK/prepare.json; writes only under WORK.
"""
import argparse
import functools
import json
import os
import subprocess
import sys
import time

import torch

print = functools.partial(print, flush=True)  # noqa: A001 (the log is read while it runs)
HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "models"))
import benchlib  # noqa: E402
import dfx_gaussian  # noqa: E402
import quality  # noqa: E402


def link_model(model, d):
    os.makedirs(d, exist_ok=True)
    for part in ("unet", "scheduler"):
        p = os.path.join(d, part)
        if not os.path.lexists(p):
            os.symlink(os.path.abspath(os.path.join(model, part)), p)


def prepare(dfx, d, extra, reuse=False):
    if reuse and os.path.isfile(os.path.join(d, "gaussian", "config.json")):
        with open(os.path.join(d, "gaussian", "config.json")) as f:
            c = json.load(f)
        pc = c.get("premise_check", {"sigma": [], "top_eigenvalues": []})
        return {"reused": True, "seconds": c["seconds"], "nfe_total": c["network_evaluations"],
                "premise_check": [{"sigma": s, "eigenvalues": e} for s, e in zip(pc["sigma"], pc["top_eigenvalues"])]}
    cmd = [dfx, "prepare", "--model", d, "--force", "--json"] + extra
    t0 = time.time()
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)}: exit {r.returncode}: {r.stderr.strip()}")
    rep = json.loads(r.stdout)
    rep["wall_seconds"] = time.time() - t0
    return rep


def compare(ref, test):
    """Numbers of gaussian/ `test` against `ref` ((cfg, tensors) pairs)."""
    (cr, tr), (ct, tt) = ref, test
    lr, lt = tr["pca_eigenvalues"], tt["pca_eigenvalues"]
    d = tr["mean"].numel()
    out = {"eig_ref": lr.tolist(), "eig": lt.tolist(),
           "residual_ref": cr["residual_variance"], "residual": ct["residual_variance"]}
    out["total_ref"] = (lr.sum() + cr["residual_variance"] * (d - len(lr))).item() / d
    out["total"] = (lt.sum() + ct["residual_variance"] * (d - len(lt))).item() / d
    out["mean_rms_diff"] = (tt["mean"] - tr["mean"]).pow(2).mean().sqrt().item()
    out["mean_rms_ref"] = tr["mean"].pow(2).mean().sqrt().item()
    ur, ut = tr["pca_components"], tt["pca_components"]
    for k in (1, 4, 8, 16, 64):
        if k <= min(len(ur), len(ut)):
            out[f"overlap_{k}"] = ((ut[:k] @ ur[:k].T).pow(2).sum() / k).item()
    sr, st = tr["spectral_covariance"], tt["spectral_covariance"]
    out["spectrum_rel_diff"] = ((st - sr).pow(2).sum().sqrt() / sr.pow(2).sum().sqrt()).item()
    c = sr.shape[2]
    trr = sum(sr[:, :, i, i, 0] for i in range(c))
    trt = sum(st[:, :, i, i, 0] for i in range(c))
    out["spectrum_trace_median_ratio"] = (trt / trr.clamp(min=1e-12)).median().item()
    for k in ("sigma_skip", "sigma_skip_pca", "sigma_skip_spectral", "mode"):
        out[k + "_ref"], out[k] = cr.get(k), ct.get(k)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dfx", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--n", type=int, default=256)
    ap.add_argument("--steps", type=int, default=18)
    ap.add_argument("--seed", type=int, default=100)
    ap.add_argument("--levels", default="")
    ap.add_argument("--data", default="")
    ap.add_argument("--reference", default="fashion-mnist")
    ap.add_argument("--samples", default="")
    ap.add_argument("--total", action="store_true")
    ap.add_argument("--skip-generation", action="store_true")
    ap.add_argument("--reuse", action="store_true", help="keep gaussian/ folders WORK already holds")
    a = ap.parse_args()
    torch.set_num_threads(1)
    os.makedirs(a.work, exist_ok=True)
    res = {"model": a.model, "n": a.n, "steps": a.steps, "seed": a.seed}
    ref = dfx_gaussian.load(a.model)

    free = os.path.join(a.work, "free")
    link_model(a.model, free)
    given = ["--samples", a.samples] if a.samples else []
    res["prepare_free"] = prepare(a.dfx, free, given, a.reuse)
    res["free"] = compare(ref, dfx_gaussian.load(free))
    variants = [("data-free, sigma 10 (default)", "free")]
    if a.total:
        dd = os.path.join(a.work, "free-total")
        link_model(a.model, dd)
        res["prepare_free-total"] = prepare(a.dfx, dd, given + ["--method", "total"], a.reuse)
        res["free-total"] = compare(ref, dfx_gaussian.load(dd))
        variants.append(("data-free, total covariance (--method total)", "free-total"))
    if a.data:
        dd = os.path.join(a.work, "data")
        link_model(a.model, dd)
        res["prepare_data"] = prepare(a.dfx, dd, ["--data", a.data], a.reuse)
        res["data"] = compare(ref, dfx_gaussian.load(dd))
        variants.append(("dfx prepare --data", "data"))
    for s in [x for x in a.levels.split(",") if x]:
        dd = os.path.join(a.work, f"free-{s}")
        link_model(a.model, dd)
        res[f"prepare_free-{s}"] = prepare(a.dfx, dd, given + ["--sigma", s, "--check-levels", "0"] +
                                           ([] if a.samples else ["--calib-images", "8"]), a.reuse)
        res[f"free-{s}"] = compare(ref, dfx_gaussian.load(dd))
        variants.append((f"data-free, sigma {s}", f"free-{s}"))

    print(f"\n{a.model}: statistics against the data-made gaussian/ ({ref[0].get('num_images')} images)\n")
    print("| statistics | λ1 | λ2 | λ3 | λ4 | λ8 | λ16 | λ64 | residual | total/value | overlap top-4 / 16 / 64 "
          "| mean RMS diff | spectrum rel. diff | σ̃_skip pca / spectral |")
    print("|---" * 14 + "|")
    c = res["free"]
    def row(name, e, res_, tot, ov, mean, spec, sk):
        ix = [0, 1, 2, 3, 7, 15, 63]
        ev = " | ".join(f"{e[i]:.3g}" if i < len(e) else "–" for i in ix)
        print(f"| {name} | {ev} | {res_:.3g} | {tot:.3g} | {ov} | {mean} | {spec} | {sk} |")
    row("data-made (gaussian_stats.py)", c["eig_ref"], c["residual_ref"], c["total_ref"], "–", "–", "–",
        f"{c['sigma_skip_pca_ref']:.3g} / {c['sigma_skip_spectral_ref']:.3g}")
    for name, key in variants:
        c = res[key]
        ov = " / ".join(f"{c.get(f'overlap_{k}', float('nan')):.2f}" for k in (4, 16, 64))
        sk = f"{c['sigma_skip_pca']:.3g} / {c['sigma_skip_spectral']:.3g}" \
            if not key.startswith("free-") or a.samples or key == "free-total" else "(8 images)"
        row(name, c["eig"], c["residual"], c["total"], ov, f"{c['mean_rms_diff']:.3f} (of {c['mean_rms_ref']:.3f})",
            f"{c['spectrum_rel_diff']:.2f}", sk)
    p = res["prepare_free"]
    nfe = p.get("nfe_total") or p["nfe_statistics"] + p["nfe_samples"] + p["nfe_calibration"]
    print(f"\nprepare (network): {nfe} network images, {p['seconds']:.0f} s; premise check:")
    for lv in p["premise_check"]:
        print(f"  sigma {lv['sigma']:.3g}: top eigenvalues " + " ".join(f"{v:.3g}" for v in lv["eigenvalues"]))

    if not a.skip_generation:
        if a.reference == "fashion-mnist":
            kind, fx, f_ref, floors = benchlib.reference(a.n)
        else:
            x_ref = quality.load_set(a.reference, channels=3)
            kind, fx = "random", quality.extractor("random", 3)
            f_ref = quality.feats(fx, x_ref)
            floors = []
        rows = []
        for name, model, skip in (("off", a.model, "off"), ("auto, data-made gaussian/", a.model, "auto"),
                                  ("auto, data-free gaussian/", free, "auto")):
            d = os.path.join(a.work, "gen-" + name.split(",")[0] + ("-free" if model == free else ""))
            os.makedirs(d, exist_ok=True)
            x, rep, secs = benchlib.generate(a.dfx, model, a.n, a.seed, a.steps, "heun", skip, d)
            fdv = quality.frechet(quality.feats(fx, x), f_ref)
            rows.append({"setting": name, "skip": rep["skip"], "sigma_skip": rep["sigma_skip"],
                         "steps_skipped": rep["steps_skipped"], "nfe": rep["nfe"], "nfe_saved": rep["nfe_saved"],
                         "fd": fdv, "seconds": secs})
        res["generation"], res["fd_kind"], res["fd_floors"] = rows, kind, floors
        print(f"\nHeun {a.steps} steps, {a.n} images (seeds {a.seed}…), FD-{kind}"
              + (f" (floor at this n: {', '.join(f'{f:.2f}' for f in floors)})" if floors else "") + "\n")
        print("| skip | σ̃_skip | k skipped | NFE | NFE saved | FD |")
        print("|---|---|---|---|---|---|")
        for r in rows:
            saved = f"{100 * r['nfe_saved'] / (r['nfe'] + r['nfe_saved']):.0f} %" if r["nfe_saved"] else "–"
            ss = f"{r['sigma_skip']:.3g}" if r["sigma_skip"] else "–"
            print(f"| {r['setting']} | {ss} | {r['steps_skipped']} | {r['nfe']} | {saved} | {r['fd']:.2f} |")
    with open(os.path.join(a.work, "prepare.json"), "w") as f:
        json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
