#!/usr/bin/env python3
"""sample.py — draw samples from a model folder with a PyTorch DDIM or DDPM sampler.

The network is dfx's reference models/dfx_unet.py, the schedule
models/dfx_sched.py (epsilon, v_prediction or sample prediction).

  ddim  N steps at timesteps evenly spaced from T-1 down to 0 (rounded), the
        DDIM update x_s = sqrt(ᾱ_s) x̂0 + sqrt(1 − ᾱ_s − λ²) ε̂ + λ z with
        λ² = η² (1 − ᾱ_s)/(1 − ᾱ_t) (1 − ᾱ_t/ᾱ_s); ᾱ = 1 after the last step
  ddpm  the ancestral sampler over all T timesteps (fixed_small variance)
x̂0 is clipped to [-1, 1] when the scheduler's clip_sample is true.

Writes --out, a PNG grid of the samples (mapped from [-1, 1] to 0..255,
--nrow per row, each image enlarged --zoom times with nearest neighbours, a
2-pixel gap), and with --tensors a .safetensors file 'images' [N, C, H, W]
on [-1, 1].  Deterministic for a seed.
"""

import argparse
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dfx_sched  # noqa: E402
import dfx_unet  # noqa: E402


def x0_eps(out, xt, a, s, prediction_type, clip):
    """(x̂0, ε̂) from a network output at ᾱ_t = a², 1 − ᾱ_t = s²."""
    if prediction_type == "epsilon":
        eps = out
        x0 = (xt - s * eps) / a
    elif prediction_type == "v_prediction":
        x0 = a * xt - s * out
        eps = s * xt + a * out
    else:
        x0 = out
        eps = (xt - a * x0) / s
    if clip:
        x0 = x0.clamp(-1, 1)
        eps = (xt - a * x0) / s
    return x0, eps


def sample(unet, scfg, n, steps=50, sampler="ddim", eta=0.0, seed=0, batch=64, progress=None):
    c = unet.config
    size = c["sample_size"]
    h, w = (size, size) if isinstance(size, int) else size
    ac = dfx_sched.alphas_cumprod(scfg).double()
    T = ac.shape[0]
    clip = bool(scfg.get("clip_sample", False))
    g = torch.Generator().manual_seed(seed)
    if sampler == "ddpm":
        ts = list(range(T - 1, -1, -1))
    else:
        ts = sorted({int(round(v)) for v in np.linspace(0, T - 1, steps)}, reverse=True)
    outs = []
    for i in range(0, n, batch):
        b = min(batch, n - i)
        x = torch.randn((b, c["in_channels"], h, w), generator=g, dtype=torch.float64)
        for j, t in enumerate(ts):
            at = ac[t]
            a_s = ac[ts[j + 1]] if j + 1 < len(ts) else torch.tensor(1.0, dtype=torch.float64)
            with torch.no_grad():
                out = unet(x.float(), torch.full((b,), t)).double()
            x0, eps = x0_eps(out, x, at.sqrt(), (1 - at).sqrt(), scfg["prediction_type"], clip)
            if sampler == "ddpm":
                beta = 1 - at / a_s
                var = beta * (1 - a_s) / (1 - at)
                mean = (a_s.sqrt() * beta / (1 - at)) * x0 + ((at / a_s).sqrt() * (1 - a_s) / (1 - at)) * x
                x = mean + (var.sqrt() * torch.randn(x.shape, generator=g, dtype=torch.float64)
                            if j + 1 < len(ts) else 0)
            else:
                lam2 = (eta ** 2) * (1 - a_s) / (1 - at) * (1 - at / a_s) if j + 1 < len(ts) else 0.0
                x = a_s.sqrt() * x0 + torch.sqrt(torch.clamp(1 - a_s - lam2, min=0)) * eps
                if eta > 0 and j + 1 < len(ts):
                    x = x + torch.sqrt(torch.as_tensor(lam2)) * torch.randn(x.shape, generator=g,
                                                                            dtype=torch.float64)
            if progress:
                progress(i, j, len(ts))
        outs.append(x.float())
    return torch.cat(outs)


def grid_png(x, path, nrow=8, zoom=2, gap=2):
    from PIL import Image
    n, c, h, w = x.shape
    rows = (n + nrow - 1) // nrow
    a = ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).numpy()
    a = a.repeat(zoom, axis=2).repeat(zoom, axis=3)
    H, W = h * zoom, w * zoom
    canvas = np.full((rows * (H + gap) + gap, nrow * (W + gap) + gap, c), 255, np.uint8)
    for k in range(n):
        r, q = divmod(k, nrow)
        canvas[gap + r * (H + gap):gap + r * (H + gap) + H,
               gap + q * (W + gap):gap + q * (W + gap) + W] = a[k].transpose(1, 2, 0)
    img = Image.fromarray(canvas[:, :, 0] if c == 1 else canvas, "L" if c == 1 else "RGB")
    img.save(path)


def main():
    ap = argparse.ArgumentParser(description="Sample a model folder with a PyTorch DDIM/DDPM "
                                 "sampler. Writes --out (a PNG grid) and, with --tensors, the "
                                 "samples as a .safetensors file.")
    ap.add_argument("model", help="model folder with unet/ and scheduler/")
    ap.add_argument("--out", required=True, help="PNG grid to write")
    ap.add_argument("--tensors", help="also write the samples here (.safetensors, 'images', "
                    "the data-file format of dfx_data.py)")
    ap.add_argument("-n", type=int, default=64, help="number of samples")
    ap.add_argument("--sampler", default="ddim", choices=("ddim", "ddpm"))
    ap.add_argument("--steps", type=int, default=50, help="DDIM steps")
    ap.add_argument("--eta", type=float, default=0.0, help="DDIM η (0: deterministic)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--nrow", type=int, default=8)
    ap.add_argument("--zoom", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    try:
        unet = dfx_unet.load(a.model)
        scfg = dfx_sched.load(a.model)
    except (dfx_unet.ConfigError, dfx_sched.SchedulerConfigError, ValueError, OSError) as e:
        print(f"sample: {e}", file=sys.stderr)
        return 1
    t0 = time.time()
    x = sample(unet, scfg, a.n, a.steps, a.sampler, a.eta, a.seed)
    grid_png(x, a.out, a.nrow, a.zoom)
    if a.tensors:
        from safetensors.torch import save_file
        save_file({"images": x.contiguous()}, a.tensors)
    print(f"sample: {a.n} samples ({a.sampler}, {a.steps if a.sampler == 'ddim' else 'all'} steps) "
          f"in {time.time() - t0:.0f} s -> {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
