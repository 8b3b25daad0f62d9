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
  Heun with an Euler last step.  dpmpp-2m: the same levels, DPM-Solver++(2M)
  (Lu et al. 2022, data prediction, λ = −log σ̃, h = λ' − λ, r = h_prev/h):
  x̃' = e^(−h) x̃ − expm1(−h) D̂, D̂ = (1 + 1/2r) x̂0 − (1/2r) x̂0_prev, first
  order (D̂ = x̂0) at the first step and the last (σ' = 0).  ddim: uniform timesteps t0·(n − i)/n, then 0,
  Euler updates.  Skip: k = number of levels above σ_skip (at most N − 1),
  the closed form (models/dfx_gaussian.py) from σ̃_max to σ_skip, then a
  fresh schedule of N − k steps from σ_skip.
  ddpm/ocm-ddpm/ocm-ddim (stochastic, MATH.md "OCM", compute/sample/
  sampler-ocm.c): N timesteps uniform from t(σ̃_max) down to t(σ̃_min), then 0;
  with r = σ'²/σ²: DDPM x̃' = (1 − r) x̂0 + r x̃ + √(σ'²(1 − r)) z; OCM-DDPM adds
  (1 − r)² diag C to the variance; OCM-DDIM (η = 0) x̃' = (1 − b) x̂0 + b x̃,
  b = σ'/σ, variance (1 − b)² diag C; diag C = clamp(m − x̂0², 0, 1) with m
  from the Fisher head (DIR/fisher, same input as the network); the last
  step's noise std clipped to √(π/2)/255.  z: step j's noise of image k is
  Philox4x32-10 stream j + 1 (counter (i/4, k, 0, j + 1), key = the seed),
  Box–Muller, rounded to float32 — implemented here independently of dfx.

  sample_ref.py --model DIR --noise NOISE.safetensors [--steps N]
                [--sampler heun|euler|ddim|dpmpp-2m|ddpm|ocm-ddpm|ocm-ddim] [--seed S]
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


def ddpm_levels(sched, smax, smin, n):
    t0, t1 = sched.timestep(smax), sched.timestep(smin)
    mid = [smin if i + 1 == n else sched.sigma(t1 + (t0 - t1) * (n - 1 - i) / (n - 1)) for i in range(1, n)]
    return [smax] + mid + [0.0]


STOCHASTIC = ("ddpm", "ocm-ddpm", "ocm-ddim")
CLIP_LAST = math.sqrt(math.pi / 2) / 255


def levels(sampler, sched, smax, smin, n):
    if sampler in STOCHASTIC:
        return ddpm_levels(sched, smax, smin, n)
    return ddim_levels(sched, smax, n) if sampler == "ddim" else karras(smax, smin, n)


def philox_normals(seed, index, stream, n):
    """n unit normals: Philox4x32-10 at counters (i, index, 0, stream), key (seed lo, seed hi), Box–Muller,
    float32 — the layout dfx's rng.c documents."""
    import numpy as np
    m = 0xFFFFFFFF
    q = (n + 3) // 4
    c0 = np.arange(q, dtype=np.uint64)
    c1 = np.full(q, index, dtype=np.uint64)
    c2 = np.zeros(q, dtype=np.uint64)
    c3 = np.full(q, stream, dtype=np.uint64)
    k0, k1 = seed & m, (seed >> 32) & m
    for _ in range(10):
        p0, p1 = c0 * np.uint64(0xD2511F53), c2 * np.uint64(0xCD9E8D57)
        hi0, lo0, hi1, lo1 = p0 >> np.uint64(32), p0 & np.uint64(m), p1 >> np.uint64(32), p1 & np.uint64(m)
        c0, c1, c2, c3 = hi1 ^ c1 ^ np.uint64(k0), lo1, hi0 ^ c3 ^ np.uint64(k1), lo0
        k0, k1 = (k0 + 0x9E3779B9) & m, (k1 + 0xBB67AE85) & m
    u = np.stack([c0, c1, c2, c3], axis=1).astype(np.float64)
    z = np.empty((q, 4))
    for p in range(2):
        u1 = (u[:, 2 * p] + 1.0) / 4294967296.0
        u2 = u[:, 2 * p + 1] / 4294967296.0
        r, a = np.sqrt(-2.0 * np.log(u1)), 2 * math.pi * u2
        z[:, 2 * p], z[:, 2 * p + 1] = r * np.cos(a), r * np.sin(a)
    return torch.tensor(z.reshape(-1)[:n].astype(np.float32), dtype=torch.float64)


def make_head(model, sched):
    """m = E[x0⊙x0 | x̃] from the Fisher head: the network's output at (α x̃, t(σ̃)), or for a
    variance-ratio head (fisher_output "variance_ratio") x̂0⊙x̂0 + σ̃² times it."""
    def head(x, s, x0):
        t = float(torch.tensor(sched.timestep(s), dtype=torch.float32))
        alpha = 1.0 / math.sqrt(1.0 + s * s)
        with torch.no_grad():
            out = model(alpha * x, torch.full((x.shape[0],), t, dtype=x.dtype))
        if getattr(model, "fisher_output", "second_moment") == "variance_ratio":
            return x0 * x0 + s * s * out
        return out
    return head


def stochastic_step(sampler, x, x0, m, s, sn, z):
    r = sn * sn / (s * s)
    if sampler == "ocm-ddim":
        b = sn / s
        a, v0, k = 1 - b, 0.0, (1 - b) ** 2
    else:
        a, b, v0 = 1 - r, r, sn * sn * (1 - r)
        k = (1 - r) ** 2 if sampler == "ocm-ddpm" else 0.0
    var = torch.full_like(x, v0)
    if k > 0:
        var = var + k * (m - x0 * x0).clamp(0.0, 1.0)
    if sn == 0.0:
        var = var.clamp(max=CLIP_LAST ** 2)
    return a * x0 + b * x + var.sqrt() * z


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


def sample(denoise, sched, x_unit, steps, sampler, skip=None, sigma_skip=0.0, gauss=None, head=None, seed=0):
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
    x0_prev = None
    for i in range(len(sig) - 1):
        s, sn = sig[i], sig[i + 1]
        if sampler == "dpmpp-2m":
            x0 = denoise(x, s)
            nfe += 1
            if sn == 0.0:
                x = x0
                continue
            h = math.log(s / sn)
            dh = x0
            if x0_prev is not None:
                r = math.log(sig[i - 1] / s) / h
                dh = (1 + 1 / (2 * r)) * x0 - (1 / (2 * r)) * x0_prev
            x = math.exp(-h) * x - math.expm1(-h) * dh
            x0_prev = x0
            continue
        if sampler in STOCHASTIC:
            x0 = denoise(x, s)
            m = head(x, s, x0) if sampler != "ddpm" else None
            nfe += 1
            z = torch.stack([philox_normals(seed, b, i + 1, x[b].numel()).reshape(x[b].shape)
                             for b in range(x.shape[0])])
            x = stochastic_step(sampler, x, x0, m, s, sn, z)
            continue
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
    ap.add_argument("--sampler", choices=("heun", "euler", "ddim", "dpmpp-2m") + STOCHASTIC, default="heun")
    ap.add_argument("--seed", type=int, default=0, help="the seed of dfx generate (stochastic samplers' step noise)")
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
        head = None
        if a.sampler in ("ocm-ddpm", "ocm-ddim"):
            head = make_head(dfx_unet.load(a.model, torch.float64, subfolder="fisher"), sched)
    except (OSError, ValueError, KeyError) as e:
        print(f"sample_ref: {e}", file=sys.stderr)
        return 1
    c = noise.shape[1]
    x, k, nfe = sample(make_denoiser(model, sched, c), sched, noise, a.steps, a.sampler, a.skip, a.sigma_skip,
                       gauss, head, a.seed)
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
