#!/usr/bin/env python3
"""bench-vae.py — `dfx vae` (Vulkan) against PyTorch CPU on Stable Diffusion 1.x's
AutoencoderKL, side by side, same random weights.

usage: bench-vae.py [--size S ...] [--repeat N] [--threads T] [--out FILE.md]

Writes (once) SD 1.x's VAE configuration with random float32 weights under
build/bench/vae-sd1/ (83.7 M parameters, models/dfx_vae.py), then for each
image size S×S: `dfx vae --encode` of an S×S image and `dfx vae --decode` of its
S/8×S/8 latent with --repeat N (best and median seconds after a planning
run), and models/dfx_vae.py in float32 with T torch threads (best and median
of N after a warm-up).  The relative L2 difference of the two outputs is shown
too.  Prints a markdown table (also written to --out); asserts nothing.  Run
inside build-aux/dfx-env with the CLI built (build/compute/dfx or $DFX); set
LP_NUM_THREADS to T for a like-for-like comparison.
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
sys.dont_write_bytecode = True

SD1 = {"_class_name": "AutoencoderKL", "act_fn": "silu", "block_out_channels": [128, 256, 512, 512],
       "down_block_types": ["DownEncoderBlock2D"] * 4, "up_block_types": ["UpDecoderBlock2D"] * 4,
       "in_channels": 3, "out_channels": 3, "latent_channels": 4, "layers_per_block": 2,
       "norm_num_groups": 32, "sample_size": 512}


def best_of(fn, repeat):
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[0], times[len(times) // 2]


def main():
    ap = argparse.ArgumentParser(description="dfx vae against PyTorch CPU on SD 1.x's VAE (random weights); "
                                 "writes build/bench/vae-sd1/ once and the table to --out.")
    ap.add_argument("--size", type=int, action="append", help="image size S (S×S, multiple of 8; default 64)")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    ap.add_argument("--out", help="also write the table here")
    a = ap.parse_args()
    import torch
    from safetensors.torch import load_file, save_file
    import dfx_vae as V
    import make_golden as G
    torch.set_num_threads(a.threads)
    dfx = os.environ.get("DFX", os.path.join(ROOT, "build", "compute", "dfx"))
    work = os.path.join(ROOT, "build", "bench", "vae-sd1")
    model_dir = os.path.join(work, "model")
    if not os.path.exists(os.path.join(model_dir, "vae", V.WEIGHTS_NAME)):
        m = V.AutoencoderKL(SD1)
        G.init_weights(m, 7)
        V.save(m, model_dir, config=dict(SD1))
    ref = V.load(model_dir).eval()
    rows = []
    for s in a.size or [64]:
        g = torch.Generator().manual_seed(s)
        x = 2 * torch.rand(1, 3, s, s, generator=g) - 1
        img, lat = os.path.join(work, f"image-{s}.safetensors"), os.path.join(work, f"latent-{s}.safetensors")
        out = os.path.join(work, f"out-{s}.safetensors")
        save_file({"sample": x}, img)
        with torch.no_grad():
            z = ref.encode(x)[0]
        save_file({"latent": z.contiguous()}, lat)
        for mode, inp, key, fn in (("encode", img, "latent", lambda: ref.encode(x)[0]),
                                   ("decode", lat, "sample", lambda: ref.decode(z))):
            r = json.loads(subprocess.run([dfx, "vae", "--model", model_dir, f"--{mode}", "--input", inp,
                                           "--output", out, "--repeat", str(a.repeat), "--json"],
                                          check=True, capture_output=True, text=True).stdout)
            with torch.no_grad():
                tb, tm = best_of(fn, a.repeat)
                want = fn()
            got = load_file(out)[key]
            err = ((got.double() - want.double()).norm() / want.double().norm()).item()
            rows.append((f"{s}×{s}", mode, r["best_s"], r["median_s"], r["run_seconds"], tb, tm, err))
    lp = os.environ.get("LP_NUM_THREADS", "cores")
    lines = [f"SD 1.x VAE (83.7 M parameters, random weights), batch 1, float32; dfx on lavapipe "
             f"(LP_NUM_THREADS={lp}), PyTorch {torch.__version__} CPU with {a.threads} thread(s); "
             f"{platform.processor() or platform.machine()}; best / median of {a.repeat}.",
             "",
             "| image | op | dfx best s | dfx median s | dfx first (plans) s | torch best s | torch median s "
             "| dfx / torch | rel-L2 dfx vs torch |",
             "|---|---|---|---|---|---|---|---|---|"]
    for size, mode, db, dm, df, tb, tm, err in rows:
        lines.append(f"| {size} | {mode} | {db:.3f} | {dm:.3f} | {df:.3f} | {tb:.3f} | {tm:.3f} | {db / tb:.1f}× "
                     f"| {err:.1e} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
