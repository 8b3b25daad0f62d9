#!/usr/bin/env python3
"""test-shipped-parity.py — the Vulkan U-Net on the models dfx ships.

For every model folder under MODELS (a folder with unet/config.json) and each
of its networks, unet/ (the score network) and fisher/ (the Fisher head):
a batch of 4 inputs — noised data-like images α x0 + σ ε at timesteps 0, 10,
500 and the last one — goes through `dfx unet --part P` and through the
float64 PyTorch reference (models/dfx_unet.py) with the same stored weights
(float16 files are widened, so both see identical values).  The relative L2
error of the output must be <= 1e-5 (float32 against float64).

Large canvases: the first model's score network also runs at 128×128, with
dfx's default attention (each query sees the training size's window of tokens,
against the reference with window_attention set) and with --global-attention
(the diffusers forward), whole and with DFX_MAX_BUFFER=8 MiB, which cuts the
attention's scores into query chunks (more dispatches than without the cap,
checked) — same bound.

usage: test-shipped-parity.py --dfx DFX --models MODELS --work DIR
"""
import argparse
import json
import os
import subprocess
import sys

import torch
from safetensors.torch import load_file, save_file

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "models"))
import dfx_sched  # noqa: E402
import dfx_unet  # noqa: E402

BOUND = 1e-5


def chunked_case(a, mdir):
    ref = dfx_unet.load(mdir, dtype=torch.float64, subfolder="unet")
    c = ref.config["in_channels"]
    g = torch.Generator().manual_seed(99)
    x = torch.randn(1, c, 128, 128, generator=g, dtype=torch.float64).float()
    ts = torch.tensor([300.0])
    case = os.path.join(a.work, "chunked-in.safetensors")
    save_file({"sample": x.contiguous(), "timestep": ts}, case)
    with torch.no_grad():
        want_global = ref(x.double(), ts.double())
        ref.window_attention = True
        want_window = ref(x.double(), ts.double())
    disp = {}
    for label, cap, glob in (("window", None, False), ("whole", None, True), ("chunked", "8388608", True)):
        want = want_global if glob else want_window
        out = os.path.join(a.work, f"chunked-{label}.safetensors")
        env = dict(os.environ)
        env.pop("DFX_MAX_BUFFER", None)
        if cap:
            env["DFX_MAX_BUFFER"] = cap
        r = subprocess.run([a.dfx, "unet", "--model", mdir, "--input", case, "--output", out, "--json"]
                           + (["--global-attention"] if glob else []),
                           capture_output=True, text=True, env=env)
        if r.returncode != 0:
            print(f"128x128 {label}: FAIL: dfx unet exited {r.returncode}: {r.stderr.strip()}")
            return 1
        disp[label] = json.loads(r.stdout)["dispatches"]
        got = load_file(out)["sample"].double()
        err = ((got - want).norm() / want.norm()).item()
        ok = err <= BOUND
        print(f"{os.path.basename(mdir)}/unet 128x128 {label} (DFX_MAX_BUFFER={cap}): rel-L2 {err:.3g}, "
              f"{disp[label]} dispatches ({'ok' if ok else 'FAIL'})")
        if not ok:
            return 1
    if disp["chunked"] <= disp["whole"]:
        print("FAIL: the 8 MiB cap did not chunk the attention (no extra dispatches)")
        return 1
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dfx", required=True)
    ap.add_argument("--models", required=True)
    ap.add_argument("--work", required=True)
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    models = sorted(d for d in os.listdir(a.models)
                    if os.path.isfile(os.path.join(a.models, d, "unet", "config.json")))
    if not models:
        print(f"no model folders in {a.models}")
        return 1
    fail = 0
    checked = 0
    for name in models:
        mdir = os.path.join(a.models, name)
        sc = dfx_sched.load(mdir)
        abar = dfx_sched.alphas_cumprod(sc, torch.float64)
        T = abar.shape[0]
        for part in ("unet", "fisher"):
            if not os.path.isfile(os.path.join(mdir, part, "config.json")):
                print(f"{name}/{part}: absent, skipped")
                continue
            ref = dfx_unet.load(mdir, dtype=torch.float64, subfolder=part)
            cfg = ref.config
            c = cfg["in_channels"]
            ss = cfg["sample_size"]
            h, w = (ss, ss) if isinstance(ss, int) else tuple(ss)
            g = torch.Generator().manual_seed(1234)
            ts = torch.tensor([0, 10, T // 2, T - 1], dtype=torch.float64)
            # data-like x0: smooth blobs in [-1, 1], then the forward process
            x0 = torch.nn.functional.interpolate(torch.rand(4, c, h // 4, w // 4, generator=g, dtype=torch.float64),
                                                 size=(h, w), mode="bilinear", align_corners=False) * 2 - 1
            eps = torch.randn(4, c, h, w, generator=g, dtype=torch.float64)
            ab = abar[ts.long()][:, None, None, None]
            x = (ab.sqrt() * x0 + (1 - ab).sqrt() * eps).float()
            case = os.path.join(a.work, f"{name}-{part}-in.safetensors")
            out = os.path.join(a.work, f"{name}-{part}-out.safetensors")
            save_file({"sample": x.contiguous(), "timestep": ts.float()}, case)
            with torch.no_grad():
                want = ref(x.double(), ts)
            r = subprocess.run([a.dfx, "unet", "--model", mdir, "--part", part, "--input", case, "--output", out],
                               capture_output=True, text=True)
            if r.returncode != 0:
                print(f"{name}/{part}: FAIL: dfx unet exited {r.returncode}: {r.stderr.strip()}")
                fail = 1
                continue
            got = load_file(out)["sample"].double()
            err = ((got - want).norm() / want.norm()).item()
            ok = err <= BOUND and torch.isfinite(got).all().item()
            checked += 1
            print(f"{name}/{part}: rel-L2 {err:.3g} over timesteps {ts.long().tolist()} "
                  f"({'ok' if ok else 'FAIL'}, bound {BOUND:g}); {r.stdout.strip()}")
            fail |= not ok
    if models:
        fail |= chunked_case(a, os.path.join(a.models, models[0]))
        checked += 1
    if checked == 0:
        print("nothing checked")
        return 1
    return fail


if __name__ == "__main__":
    sys.exit(main())
