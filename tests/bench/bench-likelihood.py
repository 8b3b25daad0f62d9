#!/usr/bin/env python3
"""bench-likelihood.py — the cost of the likelihood's divergence: DF-TM (the
Fisher head) against the exact trace (d vector-Jacobian products) and
Hutchinson with 1 and 16 Rademacher probes, on the shipped model
(models/fashion-mnist-32) and its first Fashion-MNIST test image.

  bench-likelihood.py --dfx DFX --work DIR [--steps 4] [--repeat 3] [--sizes 32,64]

Part 1 (PyTorch CPU, float64, models/likelihood_ref.py): the seconds of one
divergence evaluation at a few σ̃ for each method (DF-TM: one Fisher-head
forward; Hutchinson K: one batched forward and backward of K copies; exact:
d = 1024 backward rows), and whole PF-ODE runs at equal fixed Heun steps for
DF-TM and Hutchinson 1 and 16, repeated with different probe seeds to show
the spread (DF-TM has no probes: its repeats are identical).  The exact
trace's ODE time is its per-evaluation time × the evaluations (2 per step),
not run.  Part 2: `dfx likelihood` (Vulkan) at the same steps on the 32×32
image with each divergence inside dfx — DF-TM, and the baselines from the
score network's Jacobian by central finite differences (`--trace
hutchinson --probes 1|16`, repeated with different seeds, and `--trace
exact`, run once) — then DF-TM on larger layers (tiles).  Prints Markdown;
writes only under DIR.  Part 3: where DF-TM and the network's divergence
part — per dimension, 1 − C_ii/σ̃² from the Fisher head (clamped as dfx does,
and unclamped) against 1 − J_ii of the score network (Hutchinson, 32 probes,
float64 autograd) on the image noised at each σ̃; their difference
integrated over ln σ̃ is the bits/dim gap of the two likelihoods — and the
same along the PF-ODE trajectory from the image, the states the likelihood
actually visits (little noise at a large σ̃).  Part 4: bits/dim of the first
two test images against the number of Heun steps, DF-TM and Hutchinson (4
probes per image) on the same trajectories, with the Richardson extrapolation
of the last two step counts (Heun is second order), PyTorch's RK45 (dfx's
step-size control) at two tolerances, and `dfx likelihood`'s default RK45 for
DF-TM: how far each is from its converged value at a given cost.  The
numbers depend on the machine and its load.
"""
import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.join(HERE, "..", "..", "models")
sys.dont_write_bytecode = True
sys.path.insert(0, MODELS)
import dfx_data  # noqa: E402
import likelihood_ref as L  # noqa: E402


def exact_rows(model, x, s, rows, chunk):
    """Seconds for `rows` rows of the exact trace's Jacobian at σ̃ = s (scaled by the caller)."""
    xt = x + s * torch.randn_like(x)
    t0 = time.perf_counter()
    for k0 in range(0, rows, chunk):
        xb = xt.expand(chunk, *x.shape[1:]).clone().requires_grad_(True)
        out = model.x0hat(xb, s)
        e = torch.zeros(chunk, x[0].numel(), dtype=x.dtype)
        e[torch.arange(chunk), torch.arange(k0, k0 + chunk)] = 1.0
        torch.autograd.grad(out, xb, e.view_as(out))
    return time.perf_counter() - t0


def per_eval(model, x, method, probes, sigmas):
    t = []
    for s in sigmas:
        xt = x + s * torch.randn_like(x)
        eps = None
        y = xt
        if method == "hutchinson":
            y = xt.repeat_interleave(probes, 0)
            eps = (torch.randint(0, 2, y.shape) * 2 - 1).to(x.dtype)
        t0 = time.perf_counter()
        if method == "dftm":
            L.drift_div(model, y, s, "dftm")
        elif method == "hutchinson":
            L.drift_div(model, y, s, "hutchinson", eps)
        else:
            L.drift_div(model, y, s, "exact", chunk=128)
        t.append(time.perf_counter() - t0)
    return statistics.mean(t)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dfx", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--sizes", default="32,64")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--parts", default="1,2,3,4", help="which parts to run (default 1,2,3,4)")
    ap.add_argument("--step-counts", default="2,8,32,64", help="part 4's Heun step counts (default 2,8,32,64)")
    ap.add_argument("--rk45-tols", default="1e-3,3e-4", help="part 4's RK45 tolerances (default 1e-3,3e-4)")
    ap.add_argument("--exact-rows", type=int, default=128,
                    help="rows of the exact trace timed (in chunks of 64); the time is scaled to all d rows")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    os.makedirs(a.work, exist_ok=True)
    model_dir = os.path.join(MODELS, "fashion-mnist-32")
    model = L.Model(model_dir, torch.float64)
    x = dfx_data.fashion_mnist("test", 32)[:1].double()
    d = x[0].numel()
    sig = [1.0]

    parts = {int(v) for v in a.parts.split(",")}
    base = time.perf_counter()
    if 1 in parts:
        part1(a, model, x, d, sig)
    if 2 in parts:
        part2(a, model_dir, x, d)
    if 3 in parts:
        part3(model, x, d)
    if 4 in parts:
        part4(a, model, model_dir, dfx_data.fashion_mnist("test", 32)[:2].double(), d)
    print(f"\ntotal {time.perf_counter() - base:.0f} s")
    return 0


def part1(a, model, x, d, sig):
    print(f"## Divergence per evaluation (PyTorch CPU float64, {a.threads} thread, d = {d}, σ̃ = {sig[0]})\n", flush=True)
    print("| method | seconds per evaluation | vs exact trace |")
    print("|---|---|---|")
    base = time.perf_counter()
    t_x0 = 0.0
    for s in sig:
        t0 = time.perf_counter()
        with torch.no_grad():
            model.x0hat(x + s * torch.randn_like(x), s)
        t_x0 += (time.perf_counter() - t0) / len(sig)
    rows = {}
    for name, method, k in (("DF-TM (Fisher head)", "dftm", 0), ("Hutchinson, 1 probe", "hutchinson", 1),
                            ("Hutchinson, 16 probes", "hutchinson", 16)):
        rows[name] = per_eval(model, x, method, k, sig)
    ex = exact_rows(model, x, sig[0], a.exact_rows, 64) * d / a.exact_rows
    rows[f"exact trace ({d} rows; {a.exact_rows} timed, scaled)"] = ex
    for name, t in rows.items():
        print(f"| {name} | {t:.3f} | {100.0 * t / ex:.2f} % |")
    print(f"\n(the score network's x̂0 alone: {t_x0:.3f} s; DF-TM's trace part is the Fisher head: "
          f"{rows['DF-TM (Fisher head)'] - t_x0:.3f} s, {100 * (rows['DF-TM (Fisher head)'] - t_x0) / ex:.2f} % of "
          f"the exact trace)\n", flush=True)

    print(f"## PF-ODE per image at {a.steps} Heun steps ({2 * a.steps} evaluations), {a.repeat} repeats\n")
    print("| method | bits/dim (mean ± spread over repeats) | seconds per image |")
    print("|---|---|---|")
    for name, method, k in (("DF-TM, PyTorch", "dftm", 1), ("Hutchinson, 1 probe", "hutchinson", 1),
                            ("Hutchinson, 16 probes", "hutchinson", 16)):
        b, ts = [], []
        for r in range(a.repeat if k < 16 else min(a.repeat, 2)):
            t0 = time.perf_counter()
            lp, _, _ = L.loglik(model, x, method, a.steps, k, seed=100 + r)
            ts.append(time.perf_counter() - t0)
            b.append(float(L.bits_per_dim(lp, d)[0]))
        sd = statistics.stdev(b) if len(b) > 1 else 0.0
        print(f"| {name} | {statistics.mean(b):.4f} ± {sd:.4f} | {statistics.mean(ts):.1f} |", flush=True)
    print(f"| exact trace (not run: per-evaluation time × {2 * a.steps}) | — | {ex * 2 * a.steps:.0f} |\n")



def part2(a, model_dir, x, d):
    from PIL import Image
    k = np.round((x[0, 0].numpy() + 1.0) * 127.5).astype(np.uint8)

    def dfx_lik(path, *extra):
        out = subprocess.run([a.dfx, "likelihood", "--model", model_dir, path, "--solver", "heun", "--steps",
                              str(a.steps), "--json", *extra], capture_output=True, text=True, check=True)
        return json.loads(out.stdout)

    print(f"## `dfx likelihood` (Vulkan), 32×32, {a.steps} Heun steps: DF-TM against the baselines inside dfx\n")
    print("| divergence | bits/dim (mean ± spread over repeats) | network images per ODE stage | seconds per image "
          "| vs exact trace |")
    print("|---|---|---|---|---|")
    path = os.path.join(a.work, "fm-32.png")
    Image.fromarray(k, "L").save(path)
    runs = []
    for name, extra, reps, per in (("DF-TM (Fisher head)", ["--trace", "dftm"], a.repeat, "1 + 1 head"),
                                   ("Hutchinson, 1 probe", ["--trace", "hutchinson", "--probes", "1"], a.repeat,
                                    "1 + 2"),
                                   ("Hutchinson, 16 probes", ["--trace", "hutchinson", "--probes", "16"],
                                    min(a.repeat, 2), "1 + 32"),
                                   ("exact trace", ["--trace", "exact"], 1, f"1 + {2 * d}")):
        b, ts = [], []
        for r in range(reps):
            j = dfx_lik(path, *extra, "--seed", str(100 + r))
            b.append(j["bits_per_dim"])
            ts.append(j["seconds"])
        runs.append((name, b, ts, per))
    t_exact = statistics.mean(runs[-1][2])
    for name, b, ts, per in runs:
        sd = f"{statistics.stdev(b):.4f}" if len(b) > 1 else "(1 run)"
        print(f"| {name} | {statistics.mean(b):.4f} ± {sd} | {per} | {statistics.mean(ts):.1f} | "
              f"{100.0 * statistics.mean(ts) / t_exact:.2f} % |", flush=True)
    print()

    print(f"## `dfx likelihood` (Vulkan, DF-TM), {a.steps} Heun steps, {a.repeat} repeats\n")
    print("| layer | tiles | bits/dim (spread) | network evaluations | seconds per image |")
    print("|---|---|---|---|---|")
    for size in [int(v) for v in a.sizes.split(",")]:
        path = os.path.join(a.work, f"fm-{size}.png")
        Image.fromarray(np.tile(k, (size // 32, size // 32)), "L").save(path)
        b, ts, j = [], [], None
        for r in range(a.repeat):
            j = dfx_lik(path)
            b.append(j["bits_per_dim"])
            ts.append(j["seconds"])
        sd = statistics.stdev(b) if len(b) > 1 else 0.0
        print(f"| {size}×{size} | {j['tiles_x'] * j['tiles_y']} | {statistics.mean(b):.4f} ({sd:.1g}) | "
              f"{j['nfe']} | {statistics.mean(ts):.2f} |", flush=True)


ODE_STEPS = 8


def network_div(model, xt, s, g, probes=32):
    """The score network's divergence per dimension at xt (one image): Hutchinson mean and standard error."""
    z = (torch.randint(0, 2, (probes, *xt.shape[1:]), generator=g) * 2 - 1).to(xt.dtype)
    _, div = L.drift_div(model, xt.expand(probes, *xt.shape[1:]).clone(), s, "hutchinson", z)
    hv = div / xt[0].numel()
    return hv.mean().item(), hv.std().item() / math.sqrt(probes)


def part3(model, x, d):
    print(f"\n## Divergence per dimension along σ̃ (test image 0 noised at σ̃, PyTorch float64)\n")
    print("| σ̃ | DF-TM (clamped) | DF-TM unclamped | network (Hutchinson, 32 probes) | DF-TM − network |")
    print("|---|---|---|---|---|")
    g = torch.Generator().manual_seed(5)
    noise = torch.randn(x.shape, generator=g, dtype=x.dtype)
    for s in np.geomspace(model.sched.sigma_min, model.sched.sigma_max, 10):
        s = float(s)
        xt = x + s * noise
        with torch.no_grad():
            x0 = model.x0hat(xt, s)
            c = model.posterior_var(xt, s, x0)
        dd = (1 - c.clamp(0.0, min(1.0, s * s)) / (s * s)).mean().item()
        du = (1 - c / (s * s)).mean().item()
        hm, hs = network_div(model, xt, s, g)
        print(f"| {s:.3g} | {dd:.4f} | {du:.4g} | {hm:.4f} ± {hs:.4f} | {dd - hm:+.4f} |", flush=True)

    print(f"\n## Divergence per dimension along the PF-ODE from test image 0 ({ODE_STEPS} Heun steps, PyTorch "
          f"float64)\n")
    print("| σ̃ | ‖x̃ − x0‖/√d | DF-TM (as dfx) | network (Hutchinson, 32 probes) | DF-TM − network |")
    print("|---|---|---|---|---|")
    u0, u1 = math.log(model.sched.sigma_min), math.log(model.sched.sigma_max)
    h = (u1 - u0) / ODE_STEPS
    y = x.clone()
    for i in range(ODE_STEPS + 1):
        s = math.exp(u0 + i * h)
        with torch.no_grad():
            x0 = model.x0hat(y, s)
            c = model.posterior_var(y, s, x0)
        if model.fisher.fisher_output != "variance_ratio":
            c = c.clamp(0.0, min(1.0, s * s))
        dd = (1 - c / (s * s)).mean().item()
        hm, hs = network_div(model, y, s, g)
        print(f"| {s:.3g} | {((y - x).norm() / math.sqrt(d)).item():.3g} | {dd:.4f} | {hm:.4f} ± {hs:.4f} | "
              f"{dd - hm:+.4f} |", flush=True)
        if i < ODE_STEPS:
            with torch.no_grad():
                k1 = y - x0
                yp = y + h * k1
                k2 = yp - model.x0hat(yp, math.exp(u0 + (i + 1) * h))
                y = y + 0.5 * h * (k1 + k2)


PROBES_4 = 4


def part4(a, model, model_dir, x, d):
    from PIL import Image
    counts = [int(v) for v in a.step_counts.split(",")]
    n = x.shape[0]
    print(f"\n## bits/dim against Heun steps (test images 0–{n - 1}, PyTorch float64; Hutchinson "
          f"{PROBES_4} probes per image)\n")
    print("| Heun steps | " + " | ".join(f"DF-TM {i} | Hutchinson {i}" for i in range(n)) + " | mean gap | seconds "
          "(DF-TM, Hutchinson) |")
    print("|---|" + "---|---|" * n + "---|---|")

    def row(label, **solver):
        """Prints one row (DF-TM and Hutchinson with the same solver); returns their bits/dim."""
        st, sth = {}, {}
        t0 = time.perf_counter()
        lp, _, _ = L.loglik(model, x, "dftm", stats=st, **solver)
        t1 = time.perf_counter()
        lh, sd, _ = L.loglik(model, x, "hutchinson", probes=PROBES_4, seed=1, stats=sth, **solver)
        t2 = time.perf_counter()
        b, h = L.bits_per_dim(lp, d).tolist(), L.bits_per_dim(lh, d).tolist()
        se = [float(v) / (d * math.log(2.0)) / math.sqrt(PROBES_4) for v in sd]
        cells = " | ".join(f"{b[i]:.4f} | {h[i]:.4f} ± {se[i]:.4f}" for i in range(n))
        if solver.get("solver") == "rk45":
            label += f" ({st['nfe']}, {sth['nfe']} evaluations)"
        print(f"| {label} | {cells} | {np.mean(b) - np.mean(h):+.4f} | {t1 - t0:.1f}, {t2 - t1:.1f} |", flush=True)
        return b, h

    rows = [row(str(steps), steps=steps) for steps in counts]
    if len(counts) >= 2 and counts[-1] == 2 * counts[-2]:
        (b1, h1), (b2, h2) = rows[-2], rows[-1]
        eb = [b2[i] + (b2[i] - b1[i]) / 3 for i in range(n)]
        eh = [h2[i] + (h2[i] - h1[i]) / 3 for i in range(n)]
        cells = " | ".join(f"{eb[i]:.4f} | {eh[i]:.4f}" for i in range(n))
        print(f"| extrapolated ({counts[-2]}, {counts[-1]}) | {cells} | {np.mean(eb) - np.mean(eh):+.4f} | — |")
    for tol in (float(v) for v in a.rk45_tols.split(",")):
        row(f"RK45 {tol:g}", solver="rk45", rtol=tol, atol=tol)
    rk = []
    for i in range(n):
        k = np.round((x[i, 0].numpy() + 1.0) * 127.5).astype(np.uint8)
        path = os.path.join(a.work, f"fm-test-{i}.png")
        Image.fromarray(k, "L").save(path)
        out = subprocess.run([a.dfx, "likelihood", "--model", model_dir, path, "--json"], capture_output=True,
                             text=True, check=True)
        j = json.loads(out.stdout)
        rk.append(f"{j['bits_per_dim']:.4f} ({j['nfe']} evaluations)")
    print(f"\n`dfx likelihood` default (RK45, rtol = atol = 1e-3), DF-TM: {', '.join(rk)}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
