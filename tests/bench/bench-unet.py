#!/usr/bin/env python3
"""bench-unet.py — dfx on Vulkan against PyTorch CPU, side by side, same weights.

usage: bench-unet.py [--model DIR] [--batch B] [--size HxW] [--repeat N] [--out FILE.md]

Runs, in one go on this machine: `dfx bench kernels --json` against
torch.matmul (1024³) and torch.nn.functional.conv2d (16×64×32×32 → 64);
`dfx bench unet --json` against models/dfx_unet.py on the same model folder
(default: the random-weight ddpm-cifar10-32 made by models/make_golden.py
under build/bench/), at the same batch and size, float32, torch threads =
cores.  Prints a markdown table (also written to --out); asserts nothing.
Run it inside build-aux/dfx-env with the dfx CLI built (build/compute/dfx or
$DFX).
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "models"))


def best_of(fn, repeat):
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[0], times[len(times) // 2]


def run_json(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main():
    ap = argparse.ArgumentParser(description="Time dfx (Vulkan) and PyTorch (CPU) on the same U-Net and kernels; "
                                 "prints a markdown table, writes it to --out if given.")
    ap.add_argument("--model", help="model folder (default: random-weight ddpm-cifar10-32 in build/bench)")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--size", default=None, help="HxW (default: the model's sample_size)")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--out", help="write the markdown table here too")
    a = ap.parse_args()

    import torch
    import dfx_unet
    torch.set_num_threads(os.cpu_count())
    dfx = os.environ.get("DFX", os.path.join(ROOT, os.environ.get("DFX_BUILD", "build"), "compute", "dfx"))
    model = a.model
    if not model:
        gold = os.path.join(ROOT, os.environ.get("DFX_BUILD", "build"), "bench", "ddpm-cifar10-32")
        subprocess.run([sys.executable, os.path.join(ROOT, "models", "make_golden.py"), "--config", "ddpm-cifar10-32",
                        "--out", gold], check=True, capture_output=True)
        model = os.path.join(gold, "model")

    rows = []
    info = run_json([dfx, "info", "--json"])
    dev = info["devices"][info["used"]]
    # Kernels.
    k = {r["name"]: r for r in run_json([dfx, "bench", "kernels", "--json", "--repeat", str(a.repeat)])["kernels"]}
    x = torch.randn(1024, 1024)
    y = torch.randn(1024, 1024)
    tb, _ = best_of(lambda: torch.matmul(x, y), a.repeat)
    g = k["gemm 1024x1024x1024"]
    rows.append(("GEMM 1024³", g["best_s"], tb, 2 * 1024 ** 3 / 1e9))
    xi = torch.randn(16, 64, 32, 32)
    wi = torch.randn(64, 64, 3, 3)
    tb, _ = best_of(lambda: torch.nn.functional.conv2d(xi, wi, padding=1), a.repeat)
    c = k["conv3x3 16x64x32x32->64"]
    rows.append(("conv 3×3 16×64×32×32→64", c["best_s"], tb, 2 * 16 * 64 * 32 * 32 * 64 * 9 / 1e9))

    # The U-Net.
    cmd = [dfx, "bench", "unet", "--model", model, "--batch", str(a.batch), "--repeat", str(a.repeat), "--json"]
    if a.size:
        cmd += ["--size", a.size]
    u = run_json(cmd)
    net = dfx_unet.load(model).eval()
    h, w = u["height"], u["width"]
    xs = torch.randn(a.batch, net.config["in_channels"], h, w)
    ts = torch.full((a.batch,), 500.0)
    with torch.no_grad():
        tb, tmed = best_of(lambda: net(xs, ts), a.repeat)
    gflop = u["conv_gflop"] + u["gemm_gflop"]
    rows.append((f"U-Net forward, batch {a.batch}, {h}×{w}", u["best_s"], tb, gflop))

    lines = [f"Device: {dev['name']} ({dev['type']}, {dev['driver']} {dev['driver_info']}); "
             f"host {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
             f"PyTorch {torch.__version__} CPU, {torch.get_num_threads()} threads; best of {a.repeat}.",
             "",
             "| what | dfx (Vulkan) s | GFLOP/s | PyTorch CPU s | GFLOP/s | PyTorch / dfx time |",
             "|---|---|---|---|---|---|"]
    for name, td, tt, gf in rows:
        lines.append(f"| {name} | {td:.4f} | {gf / td:.2f} | {tt:.4f} | {gf / tt:.2f} | {tt / td:.3f} |")
    lines += ["", f"U-Net: {u['dispatches']} dispatches, weights {u['weight_bytes'] / 2**20:.1f} MiB, "
              f"activations {u['activation_bytes'] / 2**20:.1f} MiB; profiled forward {u['profiled_s']:.3f} s: "
              f"convolutions {100 * u['conv_s'] / u['profiled_s']:.1f} % at {u['conv_gflop'] / u['conv_s']:.2f} GFLOP/s, "
              f"GEMMs {100 * u['gemm_s'] / u['profiled_s']:.1f} % at {u['gemm_gflop'] / max(u['gemm_s'], 1e-12):.2f} GFLOP/s.",
              "", "| kernel | calls | ms |", "|---|---|---|"]
    for kk in sorted(u["kernels"], key=lambda r: -r["seconds"]):
        lines.append(f"| {kk['kernel']} | {int(kk['calls'])} | {1e3 * kk['seconds']:.2f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
