#!/usr/bin/env python3
"""sample_ref.py — dfx's PyTorch reference sampler, float64.

Runs the sampler dfx runs (compute/sample/, MATH.md notation) with the
U-Net of models/dfx_unet.py and the schedule of models/dfx_sched.py, from
the same unit noise, and compares with dfx's output:

  EDM view: x̃ = x_t/α_t, σ̃ = √((1 − ᾱ)/ᾱ); the DDPM schedule made continuous
  by interpolating log σ̃ linearly over the timestep index; the network sees
  α x̃ (α = 1/√(1 + σ̃²)) at the fractional timestep t(σ̃) (rounded to float32,
  as dfx passes it); x̂0 = x̃ − σ̃ε (epsilon), α²x̃ − ασ̃v (v), or the output
  (sample); an output of 2C channels keeps the first C.
  heun/euler: EDM levels (ρ = 7) from σ̃_max to σ̃_min of the schedule, then 0;
  Heun with an Euler last step.  ddim: uniform timesteps t0·(n − i)/n, then 0,
  Euler updates.  Skip: k = number of levels above σ_skip (at most N − 1),
  the closed form (models/dfx_gaussian.py) from σ̃_max to σ_skip, then a
  fresh schedule of N − k steps from σ_skip.

  sample_ref.py --model DIR --noise NOISE.safetensors [--steps N] [--sampler heun|euler|ddim]
                [--skip off|pca|spectral --sigma-skip S] [--size WxH] [--out OUT.safetensors]
                [--compare DFX.safetensors --tol T]

NOISE holds tensor `noise` [K, C, Hc, Wc] (dfx generate --noise: the padded
canvas); --size crops the result to W×H (top-left).  --out writes tensor
`sample`; --compare reads `sample` of dfx's --tensor file, prints the
relative L2 error and exits 1 when it exceeds T.  Writes nothing else.
"""

import argparse
import math
import os
import sys

import torch

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dfx_gaussian  # noqa: E402
import dfx_sched  # noqa: E402
import dfx_unet  # noqa: E402


class Schedule:
    def __init__(self, model_dir):
        c = dfx_sched.load(model_dir)
        ab = dfx_sched.alphas_cumprod(c, torch.float64)
        self.log_sigma = (0.5 * torch.log((1 - ab) / ab)).tolist()
        self.prediction = c["prediction_type"]
        self.n = len(self.log_sigma)
        self.sigma_min, self.sigma_max = math.exp(self.log_sigma[0]), math.exp(self.log_sigma[-1])

    def sigma(self, t):
        if t <= 0:
            return math.exp(self.log_sigma[0])
        if t >= self.n - 1:
            return math.exp(self.log_sigma[-1])
        i = int(math.floor(t))
        f = t - i
        return math.exp((1 - f) * self.log_sigma[i] + f * self.log_sigma[i + 1])

    def timestep(self, s):
        ls = math.log(s)
        if ls <= self.log_sigma[0]:
            return 0.0
        if ls >= self.log_sigma[-1]:
            return float(self.n - 1)
        lo, hi = 0, self.n - 1
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if self.log_sigma[mid] < ls:
                lo = mid
            else:
                hi = mid
        return lo + (ls - self.log_sigma[lo]) / (self.log_sigma[hi] - self.log_sigma[lo])


def karras(smax, smin, n, rho=7.0):
    a, b = smax ** (1 / rho), smin ** (1 / rho)
    return [smax if n == 1 else (a + i / (n - 1) * (b - a)) ** rho for i in range(n)] + [0.0]


def ddim_levels(sched, smax, n):
    t0 = sched.timestep(smax)
    return [smax] + [sched.sigma(t0 * (n - i) / n) for i in range(1, n)] + [0.0]


def levels(sampler, sched, smax, smin, n):
    return ddim_levels(sched, smax, n) if sampler == "ddim" else karras(smax, smin, n)


def make_denoiser(model, sched, channels):
    def denoise(x, s):
        t = float(torch.tensor(sched.timestep(s), dtype=torch.float32))  # dfx passes float32 timesteps
        alpha = 1.0 / math.sqrt(1.0 + s * s)
        ts = torch.full((x.shape[0],), t, dtype=torch.float64)
        with torch.no_grad():
            out = model(alpha * x, ts)[:, :channels]
        if sched.prediction == "epsilon":
            return x - s * out
        if sched.prediction == "v_prediction":
            return alpha * alpha * x - alpha * s * out
        return out
    return denoise


def sample(denoise, sched, x_unit, steps, sampler, skip=None, sigma_skip=0.0, gauss=None):
    smax, smin = sched.sigma_max, sched.sigma_min
    sig = levels(sampler, sched, smax, smin, steps)
    k = 0
    if skip in ("pca", "spectral") and 0 < sigma_skip < smax:
        while k < steps - 1 and sig[k] > sigma_skip:
            k += 1
    x = smax * x_unit
    if k > 0:
        cfg, t = gauss
        flow = dfx_gaussian.flow_pca if skip == "pca" else dfx_gaussian.flow_spectral
        x = flow(cfg, t, x, smax, sigma_skip)
        sig = levels(sampler, sched, sigma_skip, smin, steps - k)
    nfe = 0
    for i in range(len(sig) - 1):
        s, sn = sig[i], sig[i + 1]
        d = (x - denoise(x, s)) / s
        nfe += 1
        if sampler != "heun" or sn == 0.0:
            x = x + (sn - s) * d
        else:
            xp = x + (sn - s) * d
            d2 = (xp - denoise(xp, sn)) / sn
            nfe += 1
            x = x + 0.5 * (sn - s) * (d + d2)
    return x, k, nfe


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--model", required=True)
    ap.add_argument("--noise", required=True)
    ap.add_argument("--steps", type=int, default=18)
    ap.add_argument("--sampler", choices=("heun", "euler", "ddim"), default="heun")
    ap.add_argument("--skip", choices=("off", "pca", "spectral"), default="off")
    ap.add_argument("--sigma-skip", type=float, default=0.0)
    ap.add_argument("--size", help="crop to WxH (top-left)")
    ap.add_argument("--out")
    ap.add_argument("--compare")
    ap.add_argument("--tol", type=float, default=1e-4)
    a = ap.parse_args()
    from safetensors.torch import load_file, save_file

    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    try:
        sched = Schedule(a.model)
        model = dfx_unet.load(a.model, torch.float64)
        noise = load_file(a.noise)["noise"].double()
        gauss = dfx_gaussian.load(a.model) if a.skip != "off" else None
    except (OSError, ValueError, KeyError) as e:
        print(f"sample_ref: {e}", file=sys.stderr)
        return 1
    c = noise.shape[1]
    x, k, nfe = sample(make_denoiser(model, sched, c), sched, noise, a.steps, a.sampler, a.skip, a.sigma_skip,
                       gauss)
    if a.size:
        w, h = (int(v) for v in a.size.lower().split("x"))
        x = x[:, :, :h, :w]
    x = x.contiguous()
    if a.out:
        save_file({"sample": x.float().contiguous()}, a.out)
    msg = f"{a.sampler} {a.steps} steps, skip {a.skip} (k = {k}), {nfe} evaluations"
    if a.compare:
        got = load_file(a.compare)["sample"].double()
        if got.shape != x.shape:
            print(f"sample_ref: dfx output {tuple(got.shape)} vs reference {tuple(x.shape)}", file=sys.stderr)
            return 1
        err = ((got - x).norm() / x.norm()).item()
        ok = err <= a.tol
        print(f"{msg}: rel-L2 {err:.3g} (tolerance {a.tol:g}) {'ok' if ok else 'FAIL'}")
        return 0 if ok else 1
    print(msg)
    return 0


if __name__ == "__main__":
    sys.exit(main())
