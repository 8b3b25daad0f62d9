#!/usr/bin/env python3
"""bench-heatmap.py — the likelihood heatmap of a layer (issue 20): today's
overlapping tiles against the whole layer at once, solvers, the Gaussian
skip, windowed against global attention, with PyTorch side by side.

  bench-heatmap.py --dfx DFX --work DIR [--size 256] [--model models/emoji-32] [--rows A,B,...]
                   [--ref-tol 1e-4] [--threads 1]

The image: a size × size crop of budgie-backgrounds' extreme-desert-hike.jpg
(CC0, held out from training, fetched by models/photo_data.py) reduced 4× by
box filtering: sky, the crest of a dune, its shadow side.
Rows are the keys of ROWS, or whole-exp3m-N / whole-heun-N (that solver, N steps); a key
prefixed old: runs the binary of --old-dfx (an earlier build) with that row's
arguments, e.g. old:tiles for the issue's baseline measured in the same run.
Each row runs `dfx likelihood` once (one core when started under `taskset -c
1` with LP_NUM_THREADS=1) and reports wall seconds, network evaluations, the
bits/dim, its difference from the converged RK45 value of today's method
(tiles, --ref-tol), the peak resident memory of the process, and the map's
tile-periodic component at the tile stride (tests/model/seam_measure.py
defines it) with its prominence (≈ 1: no structure at that period) and the
share of it that a shorter period dividing the stride explains (≈ 1: it is
that period's pattern, e.g. this JPEG's 4-pixel block edges at a stride of 24).  Then the
U-Net forward at size × size: `dfx bench unet` with windowed and global
attention, and the PyTorch reference (models/dfx_unet.py, global attention as
diffusers) in float32 and float64; the float32 row counts only when it is
within 1e-4 (relative L2) of float64.  Prints Markdown; writes only under DIR.
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
# Runs argv and prints its peak resident set (KiB, Vulkan's lavapipe memory included) last on stderr.
# Then its CPU seconds (user + sys), the figure to compare on a shared machine.
PEAK = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
        "u = resource.getrusage(resource.RUSAGE_CHILDREN); "
        "print(u.ru_utime + u.ru_stime, file=sys.stderr); "
        "print(u.ru_maxrss, file=sys.stderr); sys.exit(r.returncode)")

sys.path.insert(0, os.path.join(ROOT, "tests", "model"))
import seam_measure as seams  # noqa: E402

ROWS = {
    "ref": ("today's method converged: tiles 32, overlap 8, RK45 rtol = atol = REF", ["--tiles", "--rtol", "REF",
                                                                                     "--atol", "REF"]),
    "tiles": ("today's method: tiles 32, overlap 8, RK45 1e-3", ["--tiles"]),
    "whole": ("whole layer, the default solver (exp3m 16 steps since 2026-12-07)", []),
    "whole-headtiles": ("whole layer, RK45 1e-3, head on 32-px tiles of the layer's x̃, overlap 8",
                        ["--head", "tiles"]),
    "whole-head0": ("whole layer, RK45 1e-3, head tiles overlap 0", ["--head", "tiles", "--head-overlap", "0"]),
    "whole-head16": ("whole layer, RK45 1e-3, head tiles overlap 16", ["--head", "tiles", "--head-overlap", "16"]),
    "whole-head24": ("whole layer, RK45 1e-3, head tiles overlap 24", ["--head", "tiles", "--head-overlap", "24"]),
    "whole-hutch": ("whole layer, RK45 1e-3, the network's own divergence (Hutchinson, 1 probe)",
                    ["--trace", "hutchinson"]),
    "tiles-hutch": ("tiles, RK45 1e-3, the network's own divergence (Hutchinson, 1 probe)",
                    ["--tiles", "--trace", "hutchinson"]),
    "whole-3e-3": ("whole layer, RK45 3e-3", ["--rtol", "3e-3", "--atol", "3e-3"]),
    "whole-1e-2": ("whole layer, RK45 1e-2", ["--rtol", "1e-2", "--atol", "1e-2"]),
    "whole-1e-2-b1e-3": ("whole layer, RK45 1e-2, integral error ≤ 1e-3 bits/dim per step",
                         ["--rtol", "1e-2", "--atol", "1e-2", "--bits-tol", "1e-3"]),
    "whole-1e-2-b3e-4": ("whole layer, RK45 1e-2, integral error ≤ 3e-4 bits/dim per step",
                         ["--rtol", "1e-2", "--atol", "1e-2", "--bits-tol", "3e-4"]),
    "whole-1e-1-b1e-3": ("whole layer, RK45 1e-1, integral error ≤ 1e-3 bits/dim per step",
                         ["--rtol", "1e-1", "--atol", "1e-1", "--bits-tol", "1e-3"]),
    "whole-1e-1-b3e-4": ("whole layer, RK45 1e-1, integral error ≤ 3e-4 bits/dim per step",
                         ["--rtol", "1e-1", "--atol", "1e-1", "--bits-tol", "3e-4"]),
    "whole-heun8": ("whole layer, Heun 8 steps", ["--solver", "heun", "--steps", "8"]),
    "whole-heun16": ("whole layer, Heun 16 steps", ["--solver", "heun", "--steps", "16"]),
    "whole-skip": ("whole layer, RK45 1e-3, Gaussian skip (spectral, calibrated σ̃)", ["--skip", "auto"]),
    "tiles-skip": ("tiles, RK45 1e-3, Gaussian skip (PCA, calibrated σ̃)", ["--tiles", "--skip", "auto"]),
    "whole-ref": ("whole layer converged: RK45 REF", ["--rtol", "REF", "--atol", "REF"]),
    "whole-global": ("whole layer, global attention, RK45 1e-3", ["--global-attention"]),
}


def row(key):
    """ROWS[key], or whole-exp3m-N / whole-heun-N: that solver with N steps."""
    if key.startswith("old:"):
        name, args = row(key[4:])
        return ("earlier build: " + name, args)
    for solver in ("exp3m", "heun"):
        if key.startswith(f"whole-{solver}-") and key.split("-")[-1].isdigit():
            n = key.split("-")[-1]
            return (f"whole layer, {solver} {n} steps", ["--solver", solver, "--steps", n])
    return ROWS[key]


def run_row(dfx, model, img, work, key, ref_tol):
    name, args = row(key)
    args = [a.replace("REF", str(ref_tol)) for a in args]
    out = os.path.join(work, f"{key.replace(':', '-')}.safetensors")
    cmd = [dfx, "likelihood", "--model", model, img, "--json", "--map", out, *args]
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-c", PEAK, *cmd], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)}: {r.stderr.strip()}")
    cpu, peak = (float(v) for v in r.stderr.strip().splitlines()[-2:])
    from safetensors.numpy import load_file
    j = json.loads(r.stdout)
    m = load_file(out)["bits_per_dim"].astype(np.float64)
    return dict(key=key, name=name.replace("REF", str(ref_tol)), wall=wall, cpu=cpu, nfe=j["nfe"],
                nfe_fisher=j.get("nfe_fisher"), steps=j.get("steps"), bpd=j["bits_per_dim"],
                peak=peak / 1024.0, m=m, tiles=[t["x"] for t in j["tiles"]], skip=j.get("skip"),
                sigma_skip=j.get("sigma_skip"))


def torch_rows(model, size, repeat):
    import torch
    torch.set_num_threads(int(os.environ.get("LP_NUM_THREADS") or 1))
    sys.path.insert(0, os.path.join(ROOT, "models"))
    import dfx_unet
    rows = []
    torch.manual_seed(0)
    out = {}
    for dt in (torch.float64, torch.float32):
        net = dfx_unet.load(os.path.join(model, "unet")).to(dt).eval()
        x = torch.randn(1, net.config["in_channels"], size, size, generator=torch.Generator().manual_seed(1)).to(dt)
        ts = torch.full((1,), 500.0, dtype=dt)
        best = 1e9
        with torch.no_grad():
            for _ in range(repeat):
                t0 = time.perf_counter()
                y = net(x, ts)
                best = min(best, time.perf_counter() - t0)
        out[dt] = y.double()
        rows.append((dt, best))
    rel = float((out[torch.float32] - out[torch.float64]).norm() / out[torch.float64].norm())
    return rows, rel


def main():
    ap = argparse.ArgumentParser(description="Time the likelihood heatmap: tiles against the whole layer, "
                                 "solvers, skip, attention; prints Markdown.")
    ap.add_argument("--dfx", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--model", default=os.path.join(ROOT, "models", "emoji-32"))
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--crop", default="480,150", help="left,top of the crop in the reduced photograph (960×640)")
    ap.add_argument("--cache", help="folder for the photo's .deb (default WORK/debs)")
    ap.add_argument("--rows", default="tiles,whole,whole-3e-3,whole-1e-2,whole-heun8,whole-heun16,whole-skip,"
                    "tiles-skip,whole-ref,ref")
    ap.add_argument("--ref-tol", type=float, default=1e-4)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--no-unet", action="store_true")
    ap.add_argument("--old-dfx", help="an earlier build's dfx, for the rows prefixed old:")
    a = ap.parse_args()
    sys.path.insert(0, os.path.join(ROOT, "models"))
    import photo_data
    os.makedirs(a.work, exist_ok=True)
    x0, y0 = (int(v) for v in a.crop.split(","))
    img = os.path.join(a.work, f"photo{a.size}.png")
    folder = photo_data.package_root(photo_data.BUDGIE, a.cache or os.path.join(a.work, "debs"))
    photo = photo_data.load_photo(folder, seams.PHOTO, dict(photo_data.HELD_OUT)[seams.PHOTO])
    photo.reduce(seams.REDUCE).crop((x0, y0, x0 + a.size, y0 + a.size)).save(img)
    res = []
    for k in [k for k in a.rows.split(",") if k]:
        res.append(run_row(a.old_dfx if k.startswith("old:") else a.dfx, a.model, img, a.work, k, a.ref_tol))
        print(f"{k}: {res[-1]['wall']:.1f} s wall, {res[-1]['cpu']:.1f} s CPU, {res[-1]['nfe']} NFE "
              f"({res[-1]['nfe_fisher']} with the head), {res[-1]['bpd']:.4f} bits/dim", file=sys.stderr)
    # the tile stride of today's tiles: the period their seams would have
    xs = next((r["tiles"] for r in res if len(r["tiles"]) > 1), [0, 24]) if res else [0, 24]
    xs = sorted(set(xs))
    period = max(2, round((xs[-1] - xs[0]) / max(1, len(xs) - 1)))
    for r in res:
        r["per"], r["prom"] = seams.periodic(r["m"], period), seams.prominence(r["m"], period)
        r["div"] = seams.divisor(r["m"], period)
    if not res:
        print(f"(no likelihood rows; {a.size}×{a.size} crop at ({x0}, {y0}))")
    ref = next((r for r in res if r["key"] == "ref"), None)
    base = next((r for r in res if r["key"] in ("old:tiles", "tiles")), None)
    print(f"Image: {a.size}×{a.size} crop at ({x0}, {y0}) of {seams.PHOTO} reduced {seams.REDUCE}×; model "
          f"{os.path.basename(a.model)}; tile stride {period}; "
          f"host {platform.processor() or platform.machine()}, LP_NUM_THREADS={os.environ.get('LP_NUM_THREADS')}.\n")
    print(f"| method | CPU s | wall s | NFE (head) | steps | bits/dim | − converged tiles | peak RSS MB "
          f"| tile-periodic (p {period}) | prominence | of it, a divisor's | CPU time vs today |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in res:
        d = f"{r['bpd'] - ref['bpd']:+.4f}" if ref else "–"
        sp = f"{base['cpu'] / r['cpu']:.2f}×" if base else "–"
        pk = f"{r['peak']:.0f}"
        dv = f"p {r['div'][0]}: {r['div'][1]:.2f}" if r["div"][0] else "–"
        print(f"| {r['name']} | {r['cpu']:.1f} | {r['wall']:.1f} | {r['nfe']} ({r['nfe_fisher']}) | {r['steps']} | "
              f"{r['bpd']:.4f} | {d} | {pk} | {r['per']:.2e} | {r['prom']:.2f} | {dv} | {sp} |")
    if a.no_unet:
        return
    print()
    rows = []
    for g in (0, 1):
        cmd = [a.dfx, "bench", "unet", "--model", a.model, "--size", f"{a.size}x{a.size}",
               "--repeat", str(a.repeat), "--json"] + (["--global-attention"] if g else [])
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)}: {r.stderr.strip()}")
        u = json.loads(r.stdout)
        rows.append((f"dfx (Vulkan), {'global' if g else 'windowed'} attention", u["best_s"],
                     u["activation_bytes"] / 2**20))
    tr, rel = torch_rows(a.model, a.size, a.repeat)
    import torch
    for dt, s in tr:
        ok = dt == torch.float64 or rel <= 1e-4
        rows.append((f"PyTorch CPU {str(dt).split('.')[-1]}, global attention ({torch.get_num_threads()} threads)"
                     + ("" if ok else f" — does not count: {rel:.1e} from float64"), s, None))
    print(f"U-Net forward ({os.path.basename(a.model)}/unet, batch 1, {a.size}×{a.size}, best of {a.repeat}); "
          f"PyTorch float32 vs float64: relative L2 {rel:.1e}.\n")
    print("| forward | s | activations MiB |")
    print("|---|---|---|")
    for n, s, m in rows:
        print(f"| {n} | {s:.3f} | {'' if m is None else f'{m:.0f}'} |")


if __name__ == "__main__":
    main()
