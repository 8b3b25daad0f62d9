#!/usr/bin/env python3
"""likelihood_ref.py — dfx's PyTorch reference of the PF-ODE log-likelihood.

The ODE dfx integrates (compute/likelihood/, MATH.md "Identities" 4 and 5),
with the U-Net of models/dfx_unet.py, the Fisher head fisher/ and the
schedule of models/sample_ref.py, in the EDM view with u = ln σ̃ as time:

  dx̃/du = x̃ − x̂0(x̃, σ̃),   log p(x̃_0) = log N(x̃_T; 0, (1 + σ̃_max²) I) + ∫ div du,

from σ̃_min (the schedule's σ̃ at t = 0, or --sigma-min) to σ̃_max, fixed
Heun steps uniform in u.  The divergence div = d − tr ∂x̂0/∂x̃ comes from:

  dftm        the Fisher head: tr ∂x̂0/∂x̃ = Σ_i clamp(C_ii, 0, min(1, σ̃²))/σ̃² with
              C_ii = m_i − x̂0_i² (m = fisher(α x̃, t) = E[x0⊙x0 | x̃]), or σ̃² r_i for a
              variance-ratio head (r = fisher(α x̃, t), not clamped: it estimates the
              score network's own Jacobian diagonal) — what dfx computes;
  hutchinson  K Rademacher probes ε, one per trajectory (the same ε for the
              whole ODE), εᵀ(∂x̂0/∂x̃)ε by a vector-Jacobian product (autograd);
              the K trajectories run as one batch and their log p is averaged;
  exact       the full trace, d vector-Jacobian products per evaluation
              (small images only: chunks of --chunk basis vectors).

bits/dim on 8-bit data (dfx.h "Likelihood"): −log p/(d ln 2) + log2 127.5.

  likelihood_ref.py --model DIR (--images FILE.safetensors | --fashion-mnist N)
                    [--method dftm|hutchinson|exact] [--steps N] [--probes K]
                    [--seed S] [--double] [--json]

--images reads tensor `images` [N, C, H, W] on [-1, 1] (dfx_data.py's
format); --fashion-mnist takes the first N test-split images.  Prints the
bits/dim per image and the time spent on divergences; writes nothing.
"""

import argparse
import json
import math
import os
import sys
import time

import torch

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dfx_unet  # noqa: E402
from sample_ref import Schedule  # noqa: E402

LOG2_BIN = math.log2(127.5)


class Model:
    """Score network, Fisher head (when present) and schedule of a model folder."""

    def __init__(self, model_dir, dtype=torch.float32):
        self.dtype = dtype
        self.sched = Schedule(model_dir)
        self.unet = dfx_unet.load(model_dir, dtype)
        self.channels = self.unet.config["in_channels"]
        fisher = os.path.join(model_dir, "fisher")
        self.fisher = dfx_unet.load(model_dir, dtype, subfolder="fisher") if os.path.isdir(fisher) else None
        for p in self.unet.parameters():
            p.requires_grad_(False)
        if self.fisher is not None:
            for p in self.fisher.parameters():
                p.requires_grad_(False)

    def _t(self, s, n):
        t = float(torch.tensor(self.sched.timestep(s), dtype=torch.float32))  # dfx passes float32 timesteps
        return torch.full((n,), t, dtype=self.dtype)

    def x0hat(self, x, s):
        alpha = 1.0 / math.sqrt(1.0 + s * s)
        out = self.unet(alpha * x, self._t(s, x.shape[0]))[:, :self.channels]
        p = self.sched.prediction
        if p == "epsilon":
            return x - s * out
        if p == "v_prediction":
            return alpha * alpha * x - alpha * s * out
        return out

    def posterior_var(self, x, s, x0):
        """diag C = diag Cov[x0 | x̃] from the Fisher head (unclamped): m − x̂0⊙x̂0 for a second-moment
        head, σ̃² r for a variance-ratio head (no difference of nearly equal numbers)."""
        alpha = 1.0 / math.sqrt(1.0 + s * s)
        out = self.fisher(alpha * x, self._t(s, x.shape[0]))
        if self.fisher.fisher_output == "variance_ratio":
            return s * s * out
        return out - x0 * x0


def drift_div_values(model, x, s, method, probes=None, chunk=64):
    """(dx̃/du, the divergence per value) at σ̃ = s for a batch x: 1 − C_ii/σ̃² (dftm), 1 − ε_i (εᵀJ)_i
    (hutchinson, J = ∂x̂0/∂x̃) or 1 − J_ii (exact); both results are shaped as x."""
    if method == "dftm":
        with torch.no_grad():
            x0 = model.x0hat(x, s)
            c = model.posterior_var(x, s, x0)
            if model.fisher.fisher_output != "variance_ratio":  # a variance-ratio head is not clamped
                c = c.clamp(0.0, min(1.0, s * s))
            return x - x0, 1.0 - c / (s * s)
    if method == "hutchinson":
        xg = x.detach().requires_grad_(True)
        x0 = model.x0hat(xg, s)
        (g,) = torch.autograd.grad(x0, xg, probes)  # εᵀ ∂x̂0/∂x̃
        return (x - x0).detach(), 1.0 - g * probes
    # exact: diag ∂x̂0/∂x̃ with d basis vectors, chunk at a time, per image
    n, d = x.shape[0], x[0].numel()
    jd = torch.zeros(n, d, dtype=x.dtype)
    with torch.no_grad():
        x0 = model.x0hat(x, s)
    for b in range(n):
        for k0 in range(0, d, chunk):
            k = min(chunk, d - k0)
            xb = x[b:b + 1].detach().expand(k, *x.shape[1:]).clone().requires_grad_(True)
            out = model.x0hat(xb, s)
            e = torch.zeros(k, d, dtype=x.dtype)
            e[torch.arange(k), torch.arange(k0, k0 + k)] = 1.0
            (g,) = torch.autograd.grad(out, xb, e.view_as(out))
            jd[b, k0:k0 + k] = g.flatten(1)[torch.arange(k), torch.arange(k0, k0 + k)]
    return x - x0, (1.0 - jd).view_as(x)


def drift_div(model, x, s, method, probes=None, chunk=64):
    """(dx̃/du, div) at σ̃ = s for a batch x; div per item."""
    dx, v = drift_div_values(model, x, s, method, probes, chunk)
    return dx, v.flatten(1).sum(1)


# Dormand–Prince 5(4), as compute/likelihood/likelihood.c.
DP_C = (0.0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1.0, 1.0)
DP_A = ((), (1 / 5,), (3 / 40, 9 / 40), (44 / 45, -56 / 15, 32 / 9),
        (19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729),
        (9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656),
        (35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84))
DP_B5 = (35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84, 0.0)
DP_B4 = (5179 / 57600, 0.0, 7571 / 16695, 393 / 640, -92097 / 339200, 187 / 2100, 1 / 40)


def _rk45(f, y, a, u0, u1, rtol, atol, max_steps=100000):
    """Integrates (dy, da) = f(y, u) from u0 to u1 with dfx's controller (likelihood.c: one step size for
    the batch, the error's RMS over [y | a] against atol + rtol · RMS of the new state, first step
    (u1 − u0)/64).  Returns (y, a, accepted steps, rejected steps)."""
    u, h = u0, (u1 - u0) / 64.0
    k = [f(y, u)]
    acc = rej = 0
    nv = 2 * y.numel()
    while u < u1 - 1e-12 * abs(u1):
        h = min(h, u1 - u)
        k = k[:1]
        for i in range(1, 7):
            yi = y + h * sum(c * kj[0] for c, kj in zip(DP_A[i], k) if c != 0.0)
            ai = a + h * sum(c * kj[1] for c, kj in zip(DP_A[i], k) if c != 0.0)
            if i == 6:
                y6, a6 = yi, ai
            k.append(f(yi, u + DP_C[i] * h))
        ey = h * sum((b5 - b4) * kj[0] for b5, b4, kj in zip(DP_B5, DP_B4, k) if b5 != b4)
        ea = h * sum((b5 - b4) * kj[1] for b5, b4, kj in zip(DP_B5, DP_B4, k) if b5 != b4)
        e2 = float((ey.double() ** 2).sum() + (ea.double() ** 2).sum())
        y2 = float((y6.double() ** 2).sum() + (a6.double() ** 2).sum())
        err = math.sqrt(e2 / nv) / (atol + rtol * math.sqrt(y2 / nv))
        if not math.isfinite(err):
            raise FloatingPointError(f"likelihood ODE diverged at σ̃ = {math.exp(u):g}")
        if err <= 1.0:
            y, a, u = y6, a6, u + h
            k = [k[6]]
            acc += 1
        else:
            rej += 1
        h *= min(5.0, max(0.2, 0.9 * err ** -0.2 if err > 0 else 5.0))
        if acc + rej > max_steps:
            raise FloatingPointError(f"likelihood ODE needs more than {max_steps} steps")
    return y, a, acc, rej


def loglik(model, x, method="dftm", steps=32, probes=1, seed=0, sigma_min=None, sigma_max=None, chunk=64,
           solver="heun", rtol=1e-3, atol=1e-3, stats=None):
    """log p(x̃_0) in nats per image of x [N, C, H, W] and the seconds spent in the divergences.

    solver "heun": `steps` fixed steps uniform in ln σ̃; "rk45": Dormand–Prince with dfx's step-size
    control (rtol, atol) over the state and the per-value divergence integrals, as `dfx likelihood`'s
    default.  hutchinson: each image runs `probes` trajectories with its own probe (fixed along the
    trajectory); returns their mean and also their standard deviation per image (None for the other
    methods).  A dict `stats` receives the network evaluations ("nfe") and the accepted and rejected
    steps."""
    smin = sigma_min or model.sched.sigma_min
    smax = sigma_max or model.sched.sigma_max
    n, d = x.shape[0], x[0].numel()
    gen = torch.Generator().manual_seed(seed)
    eps = None
    y = x.to(model.dtype)
    if method == "hutchinson":
        y = y.repeat_interleave(probes, 0)
        eps = (torch.randint(0, 2, y.shape, generator=gen) * 2 - 1).to(model.dtype)
    u0, u1 = math.log(smin), math.log(smax)
    t_div, nfe = [0.0], [0]

    def f(yy, u):
        t = time.perf_counter()
        out = drift_div_values(model, yy, math.exp(u), method, eps, chunk)
        t_div[0] += time.perf_counter() - t
        nfe[0] += 1
        return out

    if solver == "rk45":
        y, a, n_acc, n_rej = _rk45(f, y, torch.zeros_like(y), u0, u1, rtol, atol)
        acc = a.double().flatten(1).sum(1)
    elif solver == "heun":
        n_acc, n_rej = steps, 0
        h = (u1 - u0) / steps
        acc = torch.zeros(y.shape[0], dtype=torch.float64)
        for i in range(steps):
            u = u0 + i * h
            k1, a1 = f(y, u)
            k2, a2 = f(y + h * k1, u + h)
            y = y + 0.5 * h * (k1 + k2)
            acc += 0.5 * h * (a1 + a2).double().flatten(1).sum(1)
    else:
        raise ValueError(f"solver {solver!r}: heun or rk45")
    if stats is not None:
        stats.update(nfe=nfe[0], steps=n_acc, rejected=n_rej)
    var = 1.0 + smax * smax
    yd = y.double().flatten(1)
    prior = -0.5 * (yd * yd / var).sum(1) - 0.5 * d * math.log(2 * math.pi * var)
    lp = prior + acc
    if method == "hutchinson":
        lp = lp.view(n, probes)
        return lp.mean(1), lp.std(1) if probes > 1 else None, t_div[0]
    return lp, None, t_div[0]


def bits_per_dim(logp, d):
    return -logp / (d * math.log(2.0)) + LOG2_BIN


def main():
    ap = argparse.ArgumentParser(description="PyTorch reference of dfx's PF-ODE log-likelihood (DF-TM with the "
                                 "Fisher head, Hutchinson or exact trace); prints bits/dim per image and "
                                 "the divergence time. Writes nothing.")
    ap.add_argument("--model", required=True, help="model folder (unet/, scheduler/, fisher/ for dftm)")
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--images", help="safetensors file with tensor `images` [N, C, H, W] on [-1, 1]")
    src.add_argument("--fashion-mnist", type=int, metavar="N", help="the first N Fashion-MNIST test images")
    ap.add_argument("--method", choices=("dftm", "hutchinson", "exact"), default="dftm")
    ap.add_argument("--solver", choices=("heun", "rk45"), default="heun",
                    help="heun (default, --steps fixed steps) or rk45 (--rtol, --atol: dfx likelihood's default)")
    ap.add_argument("--steps", type=int, default=32, help="Heun steps uniform in ln sigma (default 32)")
    ap.add_argument("--rtol", type=float, default=1e-3)
    ap.add_argument("--atol", type=float, default=1e-3)
    ap.add_argument("--probes", type=int, default=16, help="Hutchinson probes per image (default 16)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--sigma-min", type=float, default=None)
    ap.add_argument("--double", action="store_true", help="float64 networks")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    model = Model(a.model, torch.float64 if a.double else torch.float32)
    if a.method == "dftm" and model.fisher is None:
        print(f"likelihood_ref: {a.model}/fisher is missing (make it with: python3 models/train_fisher.py "
              f"{a.model})", file=sys.stderr)
        return 1
    if a.images:
        from safetensors.torch import load_file
        x = load_file(a.images)["images"]
    else:
        import dfx_data
        x = dfx_data.fashion_mnist("test", model.unet.config["sample_size"])[:a.fashion_mnist]
    t0 = time.perf_counter()
    st = {}
    lp, sd, t_div = loglik(model, x, a.method, a.steps, a.probes, a.seed, a.sigma_min, solver=a.solver,
                           rtol=a.rtol, atol=a.atol, stats=st)
    secs = time.perf_counter() - t0
    d = x[0].numel()
    bpd = bits_per_dim(lp, d).tolist()
    spread = (sd / (d * math.log(2.0))).tolist() if sd is not None else None
    if a.json:
        print(json.dumps({"method": a.method, "solver": a.solver, "steps": st["steps"], "nfe": st["nfe"], "probes": a.probes if a.method == "hutchinson" else 0,
                          "bits_per_dim": bpd, "probe_spread": spread, "seconds": secs,
                          "divergence_seconds": t_div}, indent=2))
    else:
        for i, b in enumerate(bpd):
            extra = f" (probe spread {spread[i]:.4f})" if spread else ""
            print(f"image {i}: {b:.4f} bits/dim{extra}")
        how = f"{a.steps} Heun steps" if a.solver == "heun" else f"RK45 ({st['steps']} steps)"
        print(f"{a.method}, {how}, {st['nfe']} evaluations: {secs:.1f} s ({t_div:.1f} s in divergences)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
