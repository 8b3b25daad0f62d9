#!/usr/bin/env python3
"""bench-seam-period.py — what the short periods of a whole-layer likelihood map are (issue 20):
the image's, the canvas's (the network's grid) or the windowed attention's.

  bench-seam-period.py --dfx DFX --work DIR [--size 256] [--rows NAME,...] [--torch-steps 8] [--reuse]

Each row is `dfx likelihood --json --map` (the default solver, exp3m 16 steps) on a size × size
crop of extreme-desert-hike.jpg reduced 4× (tests/model/seam_measure.py), or with --torch-steps N
the PyTorch reference of the same map (models/likelihood_ref.py's DF-TM, Heun N steps, no dfx),
split into the prior term (from the ODE's end state x̃_T) and the divergence integral.  Prints per
map: bits/dim, P(M, p) for the short periods, the component at 24 with its prominence, the
divisor of 24 that explains it (seam_measure.divisor), and what is left at 24 once the map's
4-pixel pattern is taken out (seam_measure.without); per pair of crops 2 or 12 pixels apart:
whether the period-4 and period-24 patterns moved with the image (seam_measure.phase_follows).
Run it under `taskset -c 1` with LP_NUM_THREADS=1; reports CPU seconds (user + sys) of each run.
"""
import argparse
import json
import math
import os
import resource
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "model"))
sys.path.insert(0, os.path.join(ROOT, "models"))
import seam_measure as S  # noqa: E402

# name: (model, crop left, top, extra dfx arguments)
ROWS = {
    "desert": ("emoji-32", 480, 150, []),               # issue 20's 256×256 crop: sky, a dune's corner
    "desert-s2": ("emoji-32", 482, 152, []),            # 2 px right and down: half the 4-px period
    "desert-s12": ("emoji-32", 492, 162, []),           # 12 px: half the 24-px period
    "desert-global": ("emoji-32", 480, 150, ["--global-attention"]),
    "desert-photo": ("photo-32", 480, 150, []),         # no attention at all
    "sky": ("emoji-32", 640, 0, []),                    # flat sky only
    "sky-global": ("emoji-32", 640, 0, ["--global-attention"]),
}
PAIRS = (("desert", "desert-s2", 2), ("desert", "desert-s12", 12))


def dfx_map(dfx, model, img, out, args, reuse):
    """(bits/dim, CPU s, {"map": M}); with reuse, the map and figures an earlier run left beside out."""
    from safetensors.numpy import load_file
    meta = out.replace(".safetensors", ".json")
    if reuse and os.path.exists(out) and os.path.exists(meta):
        with open(meta) as f:
            j = json.load(f)
        return j["bits_per_dim"], j["cpu"], {"map": load_file(out)["bits_per_dim"].astype(np.float64)}
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    r = subprocess.run([dfx, "likelihood", "--model", os.path.join(ROOT, "models", model), img, "--json",
                        "--map", out, *args], capture_output=True, text=True)
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode != 0:
        raise SystemExit(f"dfx likelihood {img}: {r.stderr.strip()}")
    cpu = r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime
    j = json.loads(r.stdout)
    with open(meta, "w") as f:
        json.dump({"bits_per_dim": j["bits_per_dim"], "nfe": j["nfe"], "cpu": cpu}, f)
    return j["bits_per_dim"], cpu, {"map": load_file(out)["bits_per_dim"].astype(np.float64)}


def torch_map(model_name, img, glob, steps):
    """The per-pixel map of the PyTorch reference, Heun `steps`, split into prior and integral."""
    import time
    import torch
    from PIL import Image
    from likelihood_ref import LOG2_BIN, Model, drift_div_values
    torch.set_num_threads(1)
    m = Model(os.path.join(ROOT, "models", model_name))
    m.unet.window_attention = m.fisher.window_attention = not glob
    x = torch.from_numpy(np.asarray(Image.open(img).convert("RGB"), dtype=np.float32).transpose(2, 0, 1).copy())
    y = x[None] / 127.5 - 1
    u0, u1 = math.log(m.sched.sigma_min), math.log(m.sched.sigma_max)
    h = (u1 - u0) / steps
    acc = torch.zeros_like(y, dtype=torch.float64)
    t0 = time.process_time()
    for i in range(steps):
        u = u0 + i * h
        k1, a1 = drift_div_values(m, y, math.exp(u), "dftm")
        k2, a2 = drift_div_values(m, y + h * k1, math.exp(u + h), "dftm")
        y = y + 0.5 * h * (k1 + k2)
        acc += 0.5 * h * (a1 + a2).double()
    var = 1.0 + m.sched.sigma_max ** 2
    prior = -0.5 * y.double() ** 2 / var - 0.5 * math.log(2 * math.pi * var)
    bits = lambda lp: (-lp / math.log(2.0)).mean(1)[0].numpy()  # noqa: E731
    maps = {"map": bits(prior + acc) + LOG2_BIN, "prior": bits(prior) + LOG2_BIN, "integral": bits(acc)}
    return float(maps["map"].mean()), time.process_time() - t0, maps


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dfx", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--rows", default=",".join(ROWS))
    ap.add_argument("--torch-steps", type=int, default=0, help="the PyTorch reference instead of dfx, Heun N steps")
    ap.add_argument("--cache", help="folder for the photo's .deb (default WORK/debs)")
    ap.add_argument("--reuse", action="store_true", help="take the maps earlier dfx runs left in WORK")
    a = ap.parse_args()
    import photo_data
    os.makedirs(a.work, exist_ok=True)
    folder = photo_data.package_root(photo_data.BUDGIE, a.cache or os.path.join(a.work, "debs"))
    photo = photo_data.load_photo(folder, S.PHOTO, dict(photo_data.HELD_OUT)[S.PHOTO]).reduce(S.REDUCE)
    maps = {}
    print(f"{a.size}×{a.size} crops of {S.PHOTO} reduced {S.REDUCE}×; "
          f"{'PyTorch reference, Heun %d' % a.torch_steps if a.torch_steps else 'dfx, default solver'}\n")
    print("| row | model, attention | crop | bits/dim | CPU s | part | P(M, 3) | P(M, 4) | P(M, 5) | P(M, 8) "
          "| P(M, 23) | P(M, 24) | P(M, 25) | prominence at 24 | divisor of 24 (share) | P(M′, 24), prominence: M′ = M "
          "less its 4-px pattern |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for k in [k for k in a.rows.split(",") if k]:
        model, x0, y0, args = ROWS[k]
        img = os.path.join(a.work, f"{k}.png")
        photo.crop((x0, y0, x0 + a.size, y0 + a.size)).save(img)
        glob = "--global-attention" in args
        if a.torch_steps:
            bpd, cpu, ms = torch_map(model, img, glob, a.torch_steps)
        else:
            bpd, cpu, ms = dfx_map(a.dfx, model, img, os.path.join(a.work, f"{k}.safetensors"), args, a.reuse)
        maps[k] = ms["map"]
        for part, m in ms.items():
            d, w = S.divisor(m, 24), S.without(m, 4)
            print(f"| {k} | {model}, {'global' if glob else 'windowed'} | ({x0}, {y0}) | {bpd:.4f} | {cpu:.1f} | "
                  f"{part} | " + " | ".join(f"{S.periodic(m, p):.3f}" for p in (3, 4, 5, 8, 23, 24, 25)) +
                  f" | {S.prominence(m, 24):.2f} | p {d[0]} ({d[1]:.2f}) | {S.periodic(w, 24):.3f}, "
                  f"{S.prominence(w, 24):.2f} |", flush=True)
    print("\n| pair | shift px | period | moved with the image | left in place |\n|---|---|---|---|---|")
    for k0, k1, sh in PAIRS:
        if k0 in maps and k1 in maps:
            for p in (4, 24):
                mv, fx = S.phase_follows(maps[k0], maps[k1], sh, p)
                print(f"| {k0} → {k1} | {sh} | {p} | {mv:+.2f} | {fx:+.2f} |")


if __name__ == "__main__":
    main()
