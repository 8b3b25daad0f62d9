#!/usr/bin/env python3
"""dfx_sched.py — the noise schedule of a diffusers-layout model folder.

Reads and writes scheduler/scheduler_config.json (DDPMScheduler fields; a
DDIMScheduler config is read too) and computes betas, alphas and
alphas_cumprod exactly as diffusers does: float32 torch arithmetic
(linspace / cumprod), squaredcos_cap_v2 through betas_for_alpha_bar in Python
floats then rounded to float32.  Float64 versions of the same formulas are
available for references that want them.  It does not step a sampler.

As a script: `dfx_sched.py MODEL_DIR [--out FILE.safetensors]` prints the
schedule summary and, with --out, writes tensors betas, alphas_cumprod
(float32, diffusers rounding) and betas_f64, alphas_cumprod_f64 (float64).
"""

import argparse
import json
import math
import os
import sys

import torch

SCHED_DIR = "scheduler"
CONFIG_NAME = "scheduler_config.json"

DEFAULTS = {
    "num_train_timesteps": 1000,
    "beta_start": 0.0001,
    "beta_end": 0.02,
    "beta_schedule": "linear",
    "trained_betas": None,
    "variance_type": "fixed_small",
    "clip_sample": True,
    "prediction_type": "epsilon",
    "thresholding": False,
    "dynamic_thresholding_ratio": 0.995,
    "clip_sample_range": 1.0,
    "sample_max_value": 1.0,
    "timestep_spacing": "leading",
    "steps_offset": 0,
    "rescale_betas_zero_snr": False,
}
SCHEDULES = ("linear", "scaled_linear", "squaredcos_cap_v2")
PREDICTIONS = ("epsilon", "v_prediction", "sample")
CLASSES = ("DDPMScheduler", "DDIMScheduler")


class SchedulerConfigError(ValueError):
    """A scheduler config dfx does not implement (message names the field)."""


def resolve_config(raw):
    """Validate a scheduler config dict; return it with defaults filled in.

    Fields not listed in DEFAULTS (e.g. DDIM's set_alpha_to_one) are kept as they are.
    """
    cls = raw.get("_class_name", "DDPMScheduler")
    if cls not in CLASSES:
        raise SchedulerConfigError(f"_class_name: {cls!r} is not supported ({', '.join(CLASSES)})")
    c = dict(DEFAULTS)
    c.update({k: v for k, v in raw.items() if not k.startswith("_")})
    n = c["num_train_timesteps"]
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise SchedulerConfigError(f"num_train_timesteps: unsupported value {n!r} (a positive integer)")
    if c["trained_betas"] is None and c["beta_schedule"] not in SCHEDULES:
        raise SchedulerConfigError(f"beta_schedule: unsupported value {c['beta_schedule']!r} "
                                   f"(supported: {', '.join(SCHEDULES)})")
    if c["trained_betas"] is not None and len(c["trained_betas"]) != n:
        raise SchedulerConfigError(f"trained_betas: {len(c['trained_betas'])} values for "
                                   f"num_train_timesteps {n}")
    if c["prediction_type"] not in PREDICTIONS:
        raise SchedulerConfigError(f"prediction_type: unsupported value {c['prediction_type']!r} "
                                   f"(supported: {', '.join(PREDICTIONS)})")
    if c["rescale_betas_zero_snr"]:
        raise SchedulerConfigError("rescale_betas_zero_snr: unsupported value True")
    for f in ("beta_start", "beta_end"):
        if not isinstance(c[f], (int, float)) or isinstance(c[f], bool) or c[f] < 0:
            raise SchedulerConfigError(f"{f}: unsupported value {c[f]!r} (a number >= 0)")
    return c


def alpha_bar_cosine(t):
    return math.cos((t + 0.008) / 1.008 * math.pi / 2) ** 2


def betas_for_alpha_bar(n, max_beta=0.999):
    """Python-float betas of the cosine schedule, beta_i = min(1 - abar((i+1)/n)/abar(i/n), max_beta)."""
    return [min(1 - alpha_bar_cosine((i + 1) / n) / alpha_bar_cosine(i / n), max_beta) for i in range(n)]


def betas(c, dtype=torch.float32):
    """Betas [num_train_timesteps].  float32 reproduces diffusers bit for bit;
    float64 evaluates the same formulas in double precision."""
    n = c["num_train_timesteps"]
    if c["trained_betas"] is not None:
        return torch.tensor(c["trained_betas"], dtype=dtype)
    s = c["beta_schedule"]
    if s == "linear":
        return torch.linspace(c["beta_start"], c["beta_end"], n, dtype=dtype)
    if s == "scaled_linear":
        return torch.linspace(c["beta_start"] ** 0.5, c["beta_end"] ** 0.5, n, dtype=dtype) ** 2
    return torch.tensor(betas_for_alpha_bar(n), dtype=dtype)


def alphas_cumprod(c, dtype=torch.float32):
    return torch.cumprod(1.0 - betas(c, dtype), dim=0)


def config_path(model_dir):
    """MODEL_DIR/scheduler/scheduler_config.json, or scheduler_config.json at
    the root of a single-model folder (as dfx's loader)."""
    p = os.path.join(model_dir, SCHED_DIR, CONFIG_NAME)
    root = os.path.join(model_dir, CONFIG_NAME)
    return root if not os.path.isfile(p) and os.path.isfile(root) else p


def load(model_dir):
    """Resolved config of the model folder's scheduler_config.json (config_path())."""
    with open(config_path(model_dir)) as f:
        raw = json.load(f)
    return resolve_config(raw)


def save(config, model_dir, class_name="DDPMScheduler"):
    """Write MODEL_DIR/scheduler/scheduler_config.json with every field explicit."""
    c = resolve_config(dict(config, _class_name=class_name))
    d = os.path.join(model_dir, SCHED_DIR)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, CONFIG_NAME), "w") as f:
        json.dump({"_class_name": class_name, **c}, f, indent=2)
        f.write("\n")


def schedule_tensors(c):
    return {
        "betas": betas(c).contiguous(),
        "alphas_cumprod": alphas_cumprod(c).contiguous(),
        "betas_f64": betas(c, torch.float64).contiguous(),
        "alphas_cumprod_f64": alphas_cumprod(c, torch.float64).contiguous(),
    }


def main():
    ap = argparse.ArgumentParser(description="Print the noise schedule of MODEL_DIR/scheduler/"
                                 "scheduler_config.json; with --out also write it as safetensors "
                                 "(betas, alphas_cumprod in float32 as diffusers rounds them, "
                                 "betas_f64, alphas_cumprod_f64).")
    ap.add_argument("model", help="model folder containing scheduler/scheduler_config.json")
    ap.add_argument("--out", help="write the schedule tensors to this .safetensors file")
    a = ap.parse_args()
    try:
        c = load(a.model)
    except (SchedulerConfigError, OSError, ValueError) as e:
        print(f"dfx_sched: {e}", file=sys.stderr)
        return 1
    ac = alphas_cumprod(c)
    print(f"{c['beta_schedule']} over {c['num_train_timesteps']} steps, {c['prediction_type']} prediction; "
          f"alphas_cumprod[0] {ac[0].item():.9g} [-1] {ac[-1].item():.9g}")
    if a.out:
        from safetensors.torch import save_file
        save_file(schedule_tensors(c), a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
