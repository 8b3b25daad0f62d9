#!/usr/bin/env python3
"""make_golden.py — golden files for dfx's U-Net parity tests.

For one UNet2DModel config it writes, under --out DIR:

  DIR/model/unet/config.json                         the config, every field explicit
  DIR/model/unet/diffusion_pytorch_model.safetensors random float32 weights (fixed seed)
  DIR/model/scheduler/scheduler_config.json          a DDPM schedule
  DIR/schedule.safetensors                           betas, alphas_cumprod (f32 and f64)
  DIR/cases/NAME.safetensors                         sample [N,C,H,W] f32, timestep [N] f32,
                                                     expected [N,out,H,W] f32
  DIR/cases.txt                                      one line per case: NAME TIMESTEP
                                                     ("-" when the timestep differs per batch item)
  DIR/stamp.json                                     inputs hash; an unchanged run does nothing

`expected` is the float64 forward of dfx_unet.py (weights and inputs as stored
in float32, upcast), rounded to float32.  Weights are drawn so activations
stay O(1): conv/linear weights N(0, 1/fan_in), biases N(0, 0.05^2), GroupNorm
scale 1 + N(0, 0.1^2) and shift N(0, 0.1^2).  Named test configs live in
models/configs/ and in TEST_CONFIGS below (--list shows them); a path to any
unet config.json works too.  It never downloads anything.
"""

import argparse
import hashlib
import json
import os
import sys
import time

import torch
from torch import nn

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dfx_sched  # noqa: E402
import dfx_unet  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CONFIG_DIR = os.path.join(HERE, "configs")

LINEAR = {"beta_schedule": "linear", "beta_start": 0.0001, "beta_end": 0.02,
          "num_train_timesteps": 1000, "prediction_type": "epsilon", "clip_sample": True}


def _old_attention_mixed(name):
    """small-rect-oldattn: down-block attentions Linear-style [C,C], up-block ones conv-style [C,C,1,1]."""
    return name.startswith("up_blocks.")


# name -> golden settings.  old_attention: None, or a predicate choosing conv-style weights.
TEST_CONFIGS = {
    "ddpm-cifar10-32": dict(
        batch=1, size=(32, 32), timesteps=[10, 999], mixed=False, scheduler=LINEAR,
        old_attention=None,
        about="exact google/ddpm-cifar10-32 architecture (35.7 M params, random weights)"),
    "tiny-scaleshift-mh": dict(
        batch=2, size=(16, 16), timesteps=[0, 10, 500, 999], mixed=False,
        scheduler=dict(LINEAR, beta_schedule="squaredcos_cap_v2", prediction_type="v_prediction"),
        old_attention=None,
        about="scale_shift resnets, 4-head attention everywhere, mid attention without group_norm"),
    "tiny-pad1-nomid": dict(
        batch=2, size=(16, 16), timesteps=[0, 10, 500, 999], mixed=False,
        scheduler=dict(LINEAR, beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012,
                       prediction_type="sample"),
        old_attention=None,
        about="downsample_padding 1, no mid block, center_input_sample, flip_sin_to_cos, 6 outputs"),
    "small-rect-oldattn": dict(
        batch=2, size=(24, 40), timesteps=[0, 10, 500, 999], mixed=False, scheduler=LINEAR,
        old_attention=_old_attention_mixed,
        about="3 levels, 24x40 input, 1 channel, add_attention false, old attention names "
              "(query/key/value/proj_attn; down [C,C], up [C,C,1,1])"),
    "tiny-scaleshift-midattn": dict(
        batch=3, size=(16, 16), timesteps=[0, 10, 500, 999], mixed=True, scheduler=LINEAR,
        old_attention=None,
        about="scale_shift with a mid attention (attn_norm_num_groups 4), mid_block_scale_factor "
              "sqrt 2, time_embedding_dim 96, plus a per-item float timestep case"),
}
DEFAULT_SETTINGS = dict(batch=1, size=None, timesteps=[0, 10, 500, 999], mixed=False,
                        scheduler=LINEAR, old_attention=None, about="")
MIXED_TIMESTEPS = [1.5, 250.25, 999.0, 37.0]


def resolve(name_or_path):
    """(name, config dict, settings) for a TEST_CONFIGS name or a config.json path."""
    if name_or_path in TEST_CONFIGS:
        path = os.path.join(CONFIG_DIR, name_or_path + ".json")
        settings = TEST_CONFIGS[name_or_path]
        name = name_or_path
    else:
        path = name_or_path
        settings = DEFAULT_SETTINGS
        name = os.path.splitext(os.path.basename(path))[0]
    with open(path) as f:
        return name, json.load(f), dict(settings)


def init_weights(model, seed):
    """Deterministic, well-scaled random weights (see the module docstring)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for mod_name, mod in model.named_modules():
            if isinstance(mod, (nn.Conv2d, nn.Linear)):
                w = mod.weight
                fan_in = w[0].numel()
                w.copy_(torch.randn(w.shape, generator=g) / fan_in ** 0.5)
                mod.bias.copy_(0.05 * torch.randn(mod.bias.shape, generator=g))
            elif isinstance(mod, nn.GroupNorm):
                mod.weight.copy_(1 + 0.1 * torch.randn(mod.weight.shape, generator=g))
                mod.bias.copy_(0.1 * torch.randn(mod.bias.shape, generator=g))
    # Every tensor must have been drawn: no module type escapes the loop.
    covered = {f"{m}.{p}" if m else p for m, mod in model.named_modules()
               if isinstance(mod, (nn.Conv2d, nn.Linear, nn.GroupNorm)) for p in ("weight", "bias")}
    assert covered == set(model.state_dict()), set(model.state_dict()) ^ covered


def sources_hash(config_path_or_text, args):
    h = hashlib.sha256()
    for f in ("make_golden.py", "dfx_unet.py", "dfx_sched.py"):
        with open(os.path.join(HERE, f), "rb") as fh:
            h.update(fh.read())
    h.update(json.dumps(config_path_or_text, sort_keys=True).encode())
    h.update(json.dumps(args, sort_keys=True).encode())
    h.update(torch.__version__.encode())
    return h.hexdigest()


def rel_l2(a, b):
    a, b = a.double(), b.double()
    return ((a - b).norm() / b.norm()).item()


def generate(name, config, st, out, seed, log=print):
    from safetensors.torch import save_file

    t0 = time.perf_counter()
    torch.manual_seed(seed)
    model = dfx_unet.UNet2DModel(config)
    init_weights(model, seed)
    model_dir = os.path.join(out, "model")
    full = {"_class_name": "UNet2DModel", **model.config}
    dfx_unet.save(model, model_dir, old_attention=st["old_attention"], config=full)
    dfx_sched.save(st["scheduler"], model_dir)
    save_file(dfx_sched.schedule_tensors(dfx_sched.load(model_dir)), os.path.join(out, "schedule.safetensors"))
    t_init = time.perf_counter() - t0

    # The reference reads back what the C side will read.
    ref64 = dfx_unet.load(model_dir, torch.float64)
    ref32 = dfx_unet.load(model_dir, torch.float32)
    c = ref64.config
    h, w = st["size"]
    n = st["batch"]
    g = torch.Generator().manual_seed(seed + 1)
    cases = [(f"t{t:g}", [float(t)] * n) for t in st["timesteps"]]
    if st["mixed"]:
        cases.append(("mixed", (MIXED_TIMESTEPS * n)[:n]))
    case_dir = os.path.join(out, "cases")
    os.makedirs(case_dir, exist_ok=True)
    for old in os.listdir(case_dir):  # no stale cases from an earlier run
        if old.endswith(".safetensors"):
            os.remove(os.path.join(case_dir, old))
    lines = []
    for cname, ts in cases:
        shape = (n, c["in_channels"], h, w)
        if c["center_input_sample"]:
            x = torch.rand(shape, generator=g)  # image-like, in [0, 1)
        else:
            x = torch.randn(shape, generator=g)
        t = torch.tensor(ts, dtype=torch.float32)
        t1 = time.perf_counter()
        with torch.no_grad():
            y64 = ref64(x.double(), t.double())
            t_fwd = time.perf_counter() - t1
            y32 = ref32(x, t)
        expected = y64.to(torch.float32)
        save_file({"sample": x.contiguous(), "timestep": t, "expected": expected.contiguous()},
                  os.path.join(out, "cases", cname + ".safetensors"))
        uniform = all(v == ts[0] for v in ts)
        lines.append(f"{cname} {ts[0]:g}" if uniform else f"{cname} -")
        log(f"{name}/{cname}: t={','.join(f'{v:g}' for v in ts)} out {tuple(expected.shape)} "
            f"rms {expected.double().pow(2).mean().sqrt().item():.4g} "
            f"f32-torch rel-L2 {rel_l2(y32, y64):.3g} f64 forward {t_fwd:.2f} s")
    with open(os.path.join(out, "cases.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    return t_init


def main():
    ap = argparse.ArgumentParser(
        description="Write a random-weight diffusers-layout model (DIR/model: unet/, scheduler/), "
                    "DIR/schedule.safetensors, and golden cases DIR/cases/*.safetensors (sample, "
                    "timestep, expected = float64 reference forward) listed in DIR/cases.txt. "
                    "Skips the work when DIR/stamp.json matches the inputs.")
    ap.add_argument("--config", help="a test config name (see --list) or a path to a unet config.json")
    ap.add_argument("--out", help="output folder DIR")
    ap.add_argument("--seed", type=int, default=1, help="weight and input seed (default 1)")
    ap.add_argument("--batch", type=int, help="batch size N (default: per test config)")
    ap.add_argument("--size", help="HxW of the inputs (default: per test config, else sample_size)")
    ap.add_argument("--timesteps", help="comma-separated timesteps, one case each (default: per config)")
    ap.add_argument("--mixed", action="store_true", help="add a case with a different float timestep per item")
    ap.add_argument("--force", action="store_true", help="regenerate even when the stamp matches")
    ap.add_argument("--list", action="store_true", help="print the test configs and exit")
    a = ap.parse_args()

    if a.list:
        for name, st in TEST_CONFIGS.items():
            _, cfg, _ = resolve(name)
            p, nt = dfx_unet.count(dfx_unet.UNet2DModel(cfg))
            ts = ",".join(f"{t:g}" for t in st["timesteps"]) + (",mixed" if st["mixed"] else "")
            print(f"{name:26s} {p:>10,} params {nt:4d} tensors  batch {st['batch']} "
                  f"{st['size'][0]}x{st['size'][1]}  t {ts}\n{'':26s} {st['about']}")
        return 0
    if not a.config or not a.out:
        ap.error("--config and --out are required (or --list)")

    try:
        name, cfg, st = resolve(a.config)
        if a.batch is not None:
            st["batch"] = a.batch
        if a.size:
            hw = a.size.lower().split("x")
            st["size"] = (int(hw[0]), int(hw[1]))
        if st["size"] is None:
            ss = cfg.get("sample_size") or 32
            st["size"] = tuple(ss) if isinstance(ss, list) else (ss, ss)
        if a.timesteps:
            st["timesteps"] = [float(t) for t in a.timesteps.split(",")]
        st["mixed"] = st["mixed"] or a.mixed
        dfx_unet.resolve_config(cfg)
    except (OSError, ValueError) as e:
        print(f"make_golden: {e}", file=sys.stderr)
        return 1
    if st["batch"] < 1:
        print("make_golden: --batch must be >= 1", file=sys.stderr)
        return 1

    key = sources_hash(cfg, {"seed": a.seed, "batch": st["batch"], "size": list(st["size"]),
                             "timesteps": st["timesteps"], "mixed": st["mixed"], "name": name})
    stamp = os.path.join(a.out, "stamp.json")
    if not a.force and os.path.exists(stamp):
        with open(stamp) as f:
            if json.load(f).get("key") == key:
                print(f"make_golden: {a.out} is up to date")
                return 0
    if os.path.exists(stamp):
        os.remove(stamp)
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    t0 = time.perf_counter()
    try:
        t_init = generate(name, cfg, st, a.out, a.seed)
    except (OSError, ValueError) as e:
        print(f"make_golden: {e}", file=sys.stderr)
        return 1
    with open(stamp, "w") as f:
        json.dump({"key": key, "config": name}, f)
    print(f"make_golden: {name} -> {a.out} (weights {t_init:.2f} s, total {time.perf_counter() - t0:.2f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
