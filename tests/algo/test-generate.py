#!/usr/bin/env python3
"""test-generate.py — `dfx generate` end to end (suite algo).

  test-generate.py --dfx DFX --work DIR

1. Parity: the U-Net denoiser path of dfx's samplers against the float64
   PyTorch reference sampler (models/sample_ref.py: models/dfx_unet.py,
   models/dfx_sched.py, models/dfx_gaussian.py) from the same noise, on three
   random-weight models (tests/algo/configs; epsilon/linear, v/cosine with
   center_input_sample and 1 channel, sample/scaled-linear with a 2C-channel
   output): Heun, Euler, DDIM, skip off/PCA/spectral, a padded 11×9 canvas.
   Relative L2 ≤ 2e-4 (5e-4 for the cosine schedule, whose σ̃_max ≈ 2·10⁴
   costs float32 digits in the first steps).  The stochastic samplers (DDPM,
   OCM-DDPM, OCM-DDIM; the eps model has a random fisher/ head) against the
   same reference with its own Philox step noise, 2e-4 as well (measured
   ~4e-7; √(clamp(C, 0, 1)) is steep where C crosses 0, so float32 rounding
   could cost more there).
2. Determinism: the same command twice gives the same bits; image k of a
   batch of 3 equals image k generated alone (bit for bit).
3. Files: PNGs of the requested size, grey or RGB by channels, not blank;
   several images as OUT-k.png or one --grid; the JSON's NFE fields.
4. Bad input: no gaussian/ (auto: warning and skip off; explicit: refused
   naming the folder and the command that makes it), PCA at another size,
   absurd steps, sizes and counts refused with the limits stated; a broken
   gaussian/ (wrong channels, mode, version; truncated tensors) refused
   naming the file; an OCM sampler on a model without fisher/ refused naming
   the folder and models/train_fisher.py.
"""
import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.join(HERE, "..", "..", "models")
sys.dont_write_bytecode = True
sys.path.insert(0, MODELS)
import dfx_gaussian  # noqa: E402
import dfx_unet  # noqa: E402
import sample_ref  # noqa: E402
from safetensors.torch import load_file  # noqa: E402

passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print(f"FAIL {what}", flush=True)


def run(dfx, *args):
    p = subprocess.run([dfx, *args], capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def make_models(work):
    spec = importlib.util.spec_from_file_location("make_test_model", os.path.join(HERE, "make-test-model.py"))
    mtm = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mtm)
    for name, cfg, sched, gseed, fseed in (("eps", "tiny-eps", "linear-eps", 3, 6),
                                           ("vc", "tiny-v-center", "cosine-v", 4, None),
                                           ("sv", "tiny-sample-var", "scaled-sample", None, None)):
        mtm.make(os.path.join(HERE, "configs", cfg + ".json"), sched, os.path.join(work, name), 1, gseed, fseed)


def parity(dfx, work):
    cases = [  # model, sampler, steps, skip, size, count, tolerance
        ("eps", "heun", 3, "off", "16x16", 2, 2e-4),
        ("eps", "heun", 4, "pca", "16x16", 2, 2e-4),
        ("eps", "euler", 4, "spectral", "16x16", 1, 2e-4),
        ("eps", "ddim", 4, "pca", "16x16", 2, 2e-4),
        ("eps", "dpmpp-2m", 5, "pca", "16x16", 2, 2e-4),
        ("vc", "heun", 3, "off", "11x9", 2, 5e-4),
        ("vc", "euler", 4, "spectral", "11x9", 1, 5e-4),
        ("sv", "heun", 3, "off", "16x16", 2, 2e-4),
        ("sv", "ddim", 3, "off", "8x8", 1, 2e-4),
        ("eps", "ddpm", 4, "off", "16x16", 2, 2e-4),
        ("eps", "ocm-ddpm", 4, "off", "11x9", 2, 2e-4),
        ("eps", "ocm-ddim", 3, "pca", "16x16", 2, 2e-4),
    ]
    refs = {}
    for model, sampler, steps, skip, size, count, tol in cases:
        mdir = os.path.join(work, model)
        out, noise = os.path.join(work, "out.safetensors"), os.path.join(work, "noise.safetensors")
        t0 = time.perf_counter()
        rc, so, se = run(dfx, "generate", "--model", mdir, "--steps", str(steps), "--sampler", sampler, "--skip", skip,
                         "--sigma-skip", "20", "--size", size, "--count", str(count), "--seed", "5", "--tensor", out,
                         "--noise", noise, "--json")
        if rc != 0:
            check(False, f"dfx generate {model} {sampler} {skip}: exit {rc}: {se}")
            continue
        j = json.loads(so)
        t1 = time.perf_counter()
        if model not in refs:
            sched = sample_ref.Schedule(mdir)
            net = dfx_unet.load(mdir, torch.float64)
            gauss = dfx_gaussian.load(mdir) if os.path.isdir(os.path.join(mdir, "gaussian")) else None
            head = None
            if os.path.isdir(os.path.join(mdir, "fisher")):
                head = sample_ref.make_head(dfx_unet.load(mdir, torch.float64, subfolder="fisher"), sched)
            refs[model] = (sched, net, gauss, head)
        sched, net, gauss, head = refs[model]
        x0 = load_file(noise)["noise"].double()
        den = sample_ref.make_denoiser(net, sched, x0.shape[1])
        want, k, nfe = sample_ref.sample(den, sched, x0, steps, sampler, skip, 20.0, gauss, head, 5)
        w, h = (int(v) for v in size.split("x"))
        want = want[:, :, :h, :w]
        got = load_file(out)["sample"].double()
        err = ((got - want).norm() / want.norm()).item() if got.shape == want.shape else float("inf")
        print(f"parity {model} {sampler} {steps} steps skip {skip} {size} x{count}: k {k}, nfe {nfe}, "
              f"rel-L2 {err:.3g} (tol {tol:g}); dfx {t1 - t0:.1f} s, reference {time.perf_counter() - t1:.1f} s",
              flush=True)
        check(err <= tol, f"parity {model} {sampler} {skip}: rel-L2 {err:.3g} > {tol:g}")
        check(j["nfe"] == nfe and j["steps_skipped"] == k and j["skip"] == (skip if k else "off"),
              f"JSON nfe {j['nfe']} k {j['steps_skipped']} skip {j['skip']} vs reference nfe {nfe} k {k}")
        check(j["nfe_saved"] == ((2 * steps - 1) - nfe if sampler == "heun" else steps - nfe),
              f"nfe_saved {j['nfe_saved']}")


def determinism(dfx, work):
    mdir = os.path.join(work, "eps")
    t = [os.path.join(work, f"det{i}.safetensors") for i in range(3)]
    base = ["generate", "--model", mdir, "--steps", "3", "--skip", "pca", "--sigma-skip", "20"]
    rc1, _, _ = run(dfx, *base, "--seed", "11", "--count", "3", "--tensor", t[0])
    rc2, _, _ = run(dfx, *base, "--seed", "11", "--count", "3", "--tensor", t[1])
    rc3, _, _ = run(dfx, *base, "--seed", "11", "--count", "1", "--tensor", t[2])
    check(rc1 == rc2 == rc3 == 0, "determinism runs")
    a, b, c = (load_file(p)["sample"] for p in t)
    check(torch.equal(a, b), "same seed, same bits")
    check(torch.equal(a[:1], c), "image 0 of a batch of 3 equals image 0 alone, bit for bit")
    rc, _, _ = run(dfx, *base, "--seed", "12", "--count", "1", "--tensor", t[2])
    check(not torch.equal(a[:1], load_file(t[2])["sample"]), "another seed, another image")
    # The stochastic samplers: step noise from the seed and the image index only.
    base = ["generate", "--model", mdir, "--steps", "3", "--sampler", "ocm-ddpm", "--skip", "off"]
    rc1, _, e1 = run(dfx, *base, "--seed", "11", "--count", "3", "--tensor", t[0])
    rc2, _, _ = run(dfx, *base, "--seed", "11", "--count", "3", "--tensor", t[1])
    rc3, _, _ = run(dfx, *base, "--seed", "11", "--count", "1", "--tensor", t[2])
    check(rc1 == rc2 == rc3 == 0, f"ocm-ddpm determinism runs: {e1}")
    a, b, c = (load_file(p)["sample"] for p in t)
    check(torch.equal(a, b), "ocm-ddpm: same seed, same bits")
    check(torch.equal(a[:1], c), "ocm-ddpm: image 0 of a batch of 3 equals image 0 alone, bit for bit")
    print(f"determinism: {'ok' if failed == 0 else 'see failures'}", flush=True)


def files(dfx, work):
    from PIL import Image

    for model, mode, size in (("eps", "RGB", (16, 16)), ("vc", "L", (11, 9))):
        png = os.path.join(work, f"{model}.png")
        rc, so, se = run(dfx, "generate", "--model", os.path.join(work, model), "--steps", "2", "--size",
                         f"{size[0]}x{size[1]}", "-o", png)
        check(rc == 0 and os.path.exists(png), f"png {model}: {se}")
        if rc == 0:
            im = Image.open(png)
            px = list(im.getdata())
            check(im.mode == mode and im.size == size and len(set(px)) > 1,
                  f"png {model}: mode {im.mode} size {im.size}, {len(set(px))} distinct values")
    many = os.path.join(work, "many.png")
    rc, so, se = run(dfx, "generate", "--model", os.path.join(work, "eps"), "--steps", "2", "--count", "3", "-o",
                     many, "--json")
    names = json.loads(so)["images"] if rc == 0 else []
    check(rc == 0 and names == [os.path.join(work, f"many-{k}.png") for k in range(3)] and
          all(os.path.exists(n) for n in names), f"several images: {names} {se}")
    grid = os.path.join(work, "grid.png")
    rc, so, se = run(dfx, "generate", "--model", os.path.join(work, "eps"), "--steps", "2", "--count", "3", "--grid",
                     "-o", grid)
    check(rc == 0 and Image.open(grid).size == (34, 34), f"grid of 3: {se}")


def bad_input(dfx, work):
    sv, eps = os.path.join(work, "sv"), os.path.join(work, "eps")
    o = os.path.join(work, "bad.png")
    rc, so, se = run(dfx, "generate", "--model", sv, "--steps", "2", "-o", o, "--json")
    check(rc == 0 and json.loads(so)["skip"] == "off" and "warning" in se and "dfx prepare --model " + sv in se,
          f"auto without gaussian/: rc {rc}, {se}")
    for skip in ("pca", "spectral"):
        rc, so, se = run(dfx, "generate", "--model", sv, "--skip", skip, "-o", o)
        check(rc == 1 and "no gaussian/ folder" in se and "models/gaussian_stats.py --model " + sv in se,
              f"explicit {skip} without gaussian/: rc {rc}, {se}")
    rc, so, se = run(dfx, "generate", "--model", eps, "--skip", "pca", "--size", "24x16", "-o", o)
    check(rc == 1 and "spectral" in se and "16x16" in se, f"PCA at another size: rc {rc}, {se}")
    rc, so, se = run(dfx, "generate", "--model", eps, "--skip", "pca", "--sigma-skip", "500", "--steps", "3", "-o",
                     o, "--json")
    check(rc == 0 and json.loads(so)["skip"] == "off" and json.loads(so)["nfe_saved"] == 0 and
          "no step skipped" in se, f"sigma_skip above sigma_max: {so} {se}")
    rc, so, se = run(dfx, "generate", "--model", eps, "--size", "24x16", "--steps", "2", "-o", o, "--json")
    check(rc == 0 and json.loads(so)["skip"] == "spectral", f"auto at another size uses spectral: {so} {se}")
    for args, text in ((["--steps", "0"], "[1, 1000]"), (["--steps", "5000"], "[1, 1000]"),
                       (["--size", "5000x16"], "[1, 4096]"), (["--size", "16x0"], "[1, 4096]"),
                       (["--size", "16"], "not WxH"), (["--count", "1000"], "[1, 256]"),
                       (["--sampler", "dpm"], "ocm-ddim or dpmpp-2m"), (["--skip", "maybe"], "auto, pca"),
                       (["--sigma-skip", "-3"], "(0, 1e6]"), (["--seed", "x"], "whole number")):
        rc, so, se = run(dfx, "generate", "--model", eps, *args, "-o", o)
        check(rc == 2 and text in se, f"{' '.join(args)}: rc {rc}, {se}")
    rc, so, se = run(dfx, "generate", "--model", eps, "--size", "4096x4096", "--count", "256", "-o", o)
    check(rc == 2 and "limit 67108864" in se, f"too many values: rc {rc}, {se}")
    for sampler in ("ocm-ddpm", "ocm-ddim"):
        rc, so, se = run(dfx, "generate", "--model", sv, "--sampler", sampler, "-o", o)
        check(rc == 1 and sv + "/fisher" in se and "models/train_fisher.py " + sv in se,
              f"{sampler} without fisher/: rc {rc}, {se}")
    rc, so, se = run(dfx, "generate", "--model", sv, "--sampler", "ddpm", "--steps", "2", "-o", o)
    check(rc == 0, f"ddpm needs no fisher/: rc {rc}, {se}")
    rc, so, se = run(dfx, "generate", "--model", os.path.join(work, "nonexistent"), "-o", o)
    check(rc == 1 and "nonexistent/unet/config.json" in se, f"missing model: {se}")
    # A broken gaussian/ is an error naming the file, not a silent fallback.
    bad = os.path.join(work, "badgauss")
    shutil.rmtree(bad, ignore_errors=True)
    shutil.copytree(eps, bad)
    cfg_path = os.path.join(bad, "gaussian", "config.json")
    with open(cfg_path) as f:
        cfg = json.load(f)
    for field, value, text in (("channels", 1, "pca_components"), ("mode", "wavelet", "wavelet"),
                               ("format_version", 2, "format_version")):
        with open(cfg_path, "w") as f:
            json.dump(dict(cfg, **{field: value}), f)
        rc, so, se = run(dfx, "generate", "--model", bad, "-o", o)
        check(rc == 1 and text in se and "gaussian" in se, f"gaussian/config.json {field} {value!r}: rc {rc}, {se}")
    with open(cfg_path, "w") as f:
        json.dump(cfg, f)
    with open(os.path.join(bad, "gaussian", "statistics.safetensors"), "r+b") as f:
        f.truncate(100)
    rc, so, se = run(dfx, "generate", "--model", bad, "-o", o)
    check(rc == 1 and "statistics.safetensors" in se, f"truncated statistics: rc {rc}, {se}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dfx", required=True)
    ap.add_argument("--work", required=True)
    a = ap.parse_args()
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    os.makedirs(a.work, exist_ok=True)
    rc, so, se = run(a.dfx, "info")
    if rc != 0:
        print(f"SKIP: no Vulkan device ({se.strip()})")
        return 77
    for step in (make_models, parity, determinism, files, bad_input):
        t0 = time.perf_counter()
        step(a.work) if step is make_models else step(a.dfx, a.work)
        print(f"{step.__name__}: {time.perf_counter() - t0:.1f} s", flush=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
