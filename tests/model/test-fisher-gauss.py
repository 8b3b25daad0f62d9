#!/usr/bin/env python3
"""test-fisher-gauss.py — the Fisher head (models/train_fisher.py) is right where
the answer is known.

Data: x0 ~ N(μ, diag λ) in d = 2×4×4 (λ from 0.02 to 0.3, μ from -0.4 to 0.4),
50000 samples written as a .safetensors data file.  A tiny random score
network and the default DDPM schedule (linear β 1e-4..0.02, 1000 steps) make
the model folder; train_fisher.py trains a small head (--config) as a
subprocess, as a user would run it.  For Gaussian data everything is closed
form (MATH.md): x̂0 = μ + αλ/(α²λ+σ²)(x_t − αμ), diag C_t = λσ²/(α²λ+σ²),
E[x0⊙x0 | x_t] = diag C_t + x̂0⊙x̂0.

The head (one level of 16 channels on the 4×4 grid, 40 k parameters) trains
for 900 steps of batch 256 with --t-sampling mixed (half the timesteps uniform
in ln σ̃, where t = 50 and 200 lie) and PyTorch's native CPU kernels
(--no-onednn, float32 products; oneDNN gave sporadic non-finite gradients on
an AVX-512 VM and bfloat16 products missed the t = 50 tolerance there).  It
replaced 1500 steps of a two-level head (16, 32 channels, 160 k parameters)
with uniform timesteps, whose native convolutions cost twice as much per
step; measured at the same seeds, the worst of the checks below relative to
its bound (t = 50's RMS error in every case): two-level, uniform: 2.42 at 300
steps, 1.42 at 600; two-level, mixed: 1.57, 0.86, 0.66 at 300, 600, 900;
one level, mixed: 0.90 at 600, 0.65 at 900 (issue 18, "The suite
stays fast"; the CPU times are in tests/model/meson.build).
The timestep weights of --t-sampling are checked against their definition, and
--target network's one-probe target against diag C/σ̃² of a correlated Gaussian
whose score network is exact (mean of 20000 probes, each prediction type), and
--ode-fraction's PF-ODE states against the Gaussian's closed-form ODE, and
--sizes: its batches, crops, cropped ODE pool, and a bit-for-bit resume.
Asserts, on 2000 fresh x_t at each of t = 50, 200, 400, 600, 800, 999
(σ̃ = σ_t/α_t ≈ 0.11, 0.5, 1.3, 2.9, 7.6, 157):
  * recovered diag C_t = m − x̂0⊙x̂0 (exact x̂0), plain and with m clamped to
    ≥ x̂0⊙x̂0 as dfx uses it: RMS error ≤ 0.25 × mean diag C_t for t ≥ 400;
    ≤ 0.5 × mean λ for t = 50, 200, where diag C_t is a small difference of
    two numbers of size x̂0² and the head's absolute accuracy decides
    (measured: 8-16 % of mean diag C_t for t ≥ 400; 0.32 and 0.25 × mean λ at
    t = 50 and 200; the two-level head after 1500 uniform steps: 5-11 %, 0.36
    and 0.19)
  * averaged over x_t, the per-pixel mean of m − x̂0⊙x̂0 matches diag C_t within
    0.15 × mean λ for every pixel and every t (no pixel is systematically off)
  * m against E[x0⊙x0|x_t]: RMS error ≤ 0.25 × RMS of E[x0⊙x0|x_t] at every t
and the refusals: a model folder without scheduler/ and a NaN-producing
learning rate give exit codes 1 and 3 with a message.

usage: test-fisher-gauss.py [--models DIR] [--work DIR] [--steps N]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

failures = []


def check(cond, what):
    print(("ok:   " if cond else "FAIL: ") + what, flush=True)
    if not cond:
        failures.append(what)
    return cond


HEAD_CONFIG = {
    "_class_name": "UNet2DModel", "sample_size": 4, "in_channels": 2, "out_channels": 2,
    "block_out_channels": [16], "layers_per_block": 1,
    "down_block_types": ["DownBlock2D"],
    "up_block_types": ["UpBlock2D"],
    "norm_num_groups": 8, "attention_head_dim": 8, "add_attention": False,
}


def check_network_target(torch, train_fisher, ac):
    """--target network: the one-probe target v ⊙ (J v) of a score network that is exact for a correlated
    Gaussian N(μ, Σ) (d = 8, Σ full) averages to diag α²Σ(α²Σ + σ²I)⁻¹ = diag C/σ̃², for each prediction
    type.  The off-diagonal terms make single probes noisy, so the mean of 20000 is compared, to 5
    standard errors."""
    g = torch.Generator().manual_seed(11)
    d, k = 8, 20000
    a = torch.randn(d, d, generator=g, dtype=torch.float64) * 0.3
    cov = a @ a.T + 0.02 * torch.eye(d, dtype=torch.float64)
    mu = torch.linspace(-0.4, 0.4, d, dtype=torch.float64)
    for pred in ("epsilon", "v_prediction", "sample"):
        for t in (5, 200, 700):
            al, si = ac[t].double().sqrt(), (1 - ac[t].double()).sqrt()
            gain = al * cov @ torch.linalg.inv(al * al * cov + si * si * torch.eye(d, dtype=torch.float64))

            def net(xt, ts, al=al, si=si, gain=gain, pred=pred):
                x = xt.reshape(xt.shape[0], d)
                x0 = mu + (x - al * mu) @ gain.T
                out = {"epsilon": (x - al * x0) / si, "v_prediction": (al * x - x0) / si, "sample": x0}[pred]
                return out.reshape(xt.shape)

            x0 = mu + torch.randn(d, generator=g, dtype=torch.float64) @ torch.linalg.cholesky(cov).T
            xt = (al * x0 + si * torch.randn(d, generator=g, dtype=torch.float64)).reshape(1, 2, 2, 2)
            xt = xt.expand(k, 2, 2, 2).contiguous()
            ts = torch.full((k,), t)
            y = train_fisher.network_ratio_target(net, xt, ts, al.reshape(1, 1, 1, 1), si.reshape(1, 1, 1, 1),
                                                  pred, g)
            want = torch.diagonal(al * gain)
            est, se = y.reshape(k, d).mean(0), y.reshape(k, d).std(0) / k ** 0.5
            worst = ((est - want).abs() / se.clamp(min=1e-12)).max().item()
            check(y is not None and worst < 5.0,
                  f"network target, {pred}, t = {t}: mean of {k} probes within {worst:.2f} standard errors of "
                  f"diag C/σ̃² (range {want.min().item():.3f}..{want.max().item():.3f})")


def check_ode_pool(torch, train_fisher, ac):
    """--ode-fraction's states: OdePool's Heun trajectories of an exact Gaussian score network (d = 8,
    Σ full) equal the closed-form PF-ODE x̃(σ̃) = μ + (Σ + σ̃²I)^½ (Σ + σ̃0²I)^-½ (x̃0 − μ) (MATH.md
    "Gaussian skip", EDM view), at integer timesteps covering t = 0 to T − 1, stored as x_t = α x̃."""
    g = torch.Generator().manual_seed(12)
    d = 8
    a = torch.randn(d, d, generator=g, dtype=torch.float64) * 0.3
    cov = a @ a.T + 0.02 * torch.eye(d, dtype=torch.float64)
    mu = torch.linspace(-0.4, 0.4, d, dtype=torch.float64)
    lam, u = torch.linalg.eigh(cov)
    sa, s1a = ac.double().sqrt(), (1 - ac.double()).sqrt()

    def net(xt, ts):  # epsilon prediction, exact for N(μ, Σ)
        al, si = sa[ts].reshape(-1, 1), s1a[ts].reshape(-1, 1)
        x = xt.reshape(xt.shape[0], d)
        st2 = (si / al) ** 2  # σ̃² per row
        xtil = x / al
        w = (u.T @ (xtil - mu).T).T * (lam / (lam + st2))
        x0 = mu + w @ u.T
        return ((x - al * x0) / si).reshape(xt.shape)

    data = (mu + torch.randn(64, d, generator=g, dtype=torch.float64) @ torch.linalg.cholesky(cov).T)
    pool = train_fisher.OdePool(net, data.reshape(64, 2, 2, 2), ac.double(), "epsilon", g, n_traj=4,
                                n_steps=(400, 400))
    pool.refill()
    ts = torch.stack([t[0] for t in pool.ts])
    x_start = pool.xs[0].reshape(4, d) / sa[0]
    s0 = (s1a[0] / sa[0]).item()
    worst = 0.0
    for xs, t in zip(pool.xs, pool.ts):
        s = (s1a[t[0]] / sa[t[0]]).item()
        scale = torch.sqrt((lam + s * s) / (lam + s0 * s0))
        want = mu + ((x_start - mu) @ u * scale) @ u.T
        got = xs.reshape(4, d) / sa[t[0]]
        worst = max(worst, ((got - want).norm() / want.norm()).item())
    check(int(ts[0]) == 0 and int(ts[-1]) == ac.shape[0] - 1 and bool((ts[1:] > ts[:-1]).all()),
          f"ODE pool: {len(ts)} increasing integer timesteps from 0 to {ac.shape[0] - 1}")
    check(worst < 1e-3, f"ODE pool: Heun states within {worst:.2g} (relative) of the closed-form Gaussian PF-ODE")
    pool = train_fisher.OdePool(net, data.reshape(64, 2, 2, 2), ac.double(), "epsilon", g, n_traj=4, n_steps=(8, 64))
    counts = []
    for _ in range(12):
        pool.clear()
        pool.refill()
        counts.append(len(pool.ts))
    check(min(counts) >= 8 and max(counts) <= 66 and len(set(counts)) > 3,
          f"ODE pool: step counts drawn from 8..64 per refill gave {sorted(counts)} states per trajectory")


def check_pool_replay(torch, train_fisher):
    """The resume state holds the pool's unused PF-ODE states as the seeds of the refills they came
    from (and their places in them); restore solves those refills again: the same states in the same
    order, bit for bit, so the next take() draws the same batch.  An older state's own tensors are
    restored as they are and kept as tensors."""
    ac = torch.linspace(0.999, 0.01, 50, dtype=torch.float64)
    w = torch.randn(2, 2, generator=torch.Generator().manual_seed(4), dtype=torch.float64)

    def net(xt, ts):  # a mildly nonlinear network, so that the states depend on every input
        return torch.tanh(torch.einsum("ij,bjhw->bihw", w, xt)) * (1 + ts.reshape(-1, 1, 1, 1) / 50)

    data = torch.randn(20, 2, 4, 4, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    g = torch.Generator().manual_seed(6)
    pool = train_fisher.OdePool(net, data, ac, "epsilon", g, n_traj=3, n_steps=(3, 6), size=3)
    for m in (5, 7, 30, 4):
        pool.take(m)
    sv = pool.saved()
    g2 = torch.Generator().manual_seed(0)
    g2.set_state(g.get_state())
    again = train_fisher.OdePool(net, data, ac, "epsilon", g2, n_traj=3, n_steps=(3, 6), size=3)
    again.restore(sv)
    seeds = len(set(sv["tags"][:, 0].tolist()))
    same = (torch.equal(torch.cat(pool.xs), torch.cat(again.xs)) and torch.equal(torch.cat(pool.ts), torch.cat(again.ts))
            and all(torch.equal(a, b) for a, b in zip(pool.take(9), again.take(9))))
    check(same and "xs" not in sv and seeds >= 2,
          f"ODE pool resume: {sv['tags'].shape[0]} unused states from {seeds} refills restored from their seeds "
          "bit for bit, and the next batch is the same")
    pool.refill()  # (at least 3 × 3 states)
    old = [torch.cat(pool.xs)[:4]], [torch.cat(pool.ts)[:4]]
    p1 = train_fisher.OdePool(net, data, ac, "epsilon", g, n_traj=3, n_steps=(3, 6), size=3)
    p1.restore(old)
    p1.take(2)
    p1.refill()
    sv1 = p1.saved()
    p2 = train_fisher.OdePool(net, data, ac, "epsilon", g, n_traj=3, n_steps=(3, 6), size=3)
    p2.restore(sv1)
    check(sv1["xs"].shape[0] == 2 and torch.equal(torch.cat(p1.xs), torch.cat(p2.xs))
          and torch.equal(torch.cat(p1.ts), torch.cat(p2.ts)),
          "ODE pool resume from an older state: its 2 states left are kept as tensors, the rest replayed")


def check_sizes(torch, train_fisher):
    """--sizes' parts: the batch per size keeps a step's pixels, crop takes one window of the images
    drawn from the generator, and an OdePool with a size starts its trajectories at such windows."""
    bs = train_fisher.size_batches([32, 64, 128], 32)
    check(bs == {32: 32, 64: 8, 128: 2}, f"--sizes 32,64,128 at batch 32: batches {bs} (the same pixels per step)")
    f = [train_fisher.lr_decay(k, 2000, 4000) for k in (0, 1999, 2000, 3000, 4000)]
    check(f == [1.0, 1.0, 1.0, 0.5, 0.0] and train_fisher.lr_decay(3000, 0, 4000) == 1.0,
          f"--lr-decay-from 2000 of 4000 steps: factors {[round(v, 6) for v in f]} at steps 0, 1999, 2000, 3000, "
          "4000 (1 before, a cosine to 0 after); none without it")
    g = torch.Generator().manual_seed(3)
    x = torch.randn(5, 2, 6, 6, generator=g, dtype=torch.float64)
    ok = True
    for _ in range(20):
        c = train_fisher.crop(x, 4, g)
        ok &= c.shape == (5, 2, 4, 4) and any(torch.equal(c, x[..., i:i + 4, j:j + 4])
                                               for i in range(3) for j in range(3))
    g1, g2 = torch.Generator().manual_seed(9), torch.Generator().manual_seed(9)
    same = torch.equal(train_fisher.crop(x, 3, g1), train_fisher.crop(x, 3, g2))
    check(ok and same and train_fisher.crop(x, 6, g) is x,
          "crop: a 4x4 window of the 6x6 images, the same for the same generator, all of x at its own size")
    ac = torch.linspace(0.999, 0.01, 50, dtype=torch.float64)

    def net(xt, ts):  # any finite network will do: only the trajectories' starts are checked
        return 0.1 * xt

    data = torch.randn(16, 2, 4, 4, generator=g, dtype=torch.float64)
    pool = train_fisher.OdePool(net, data, ac, "epsilon", g, n_traj=3, n_steps=(4, 4), size=2)
    pool.refill()
    starts = pool.xs[0] / ac[0].sqrt()
    windows = [data[k, :, i:i + 2, j:j + 2] for k in range(16) for i in range(3) for j in range(3)]
    check(starts.shape == (3, 2, 2, 2) and all(any(torch.allclose(s, w, atol=1e-12) for w in windows)
                                                 for s in starts),
          "ODE pool with a size: its trajectories start at 2x2 windows of the 4x4 training images")
    imgs = torch.randn(7, 2, 3, 3, generator=g, dtype=torch.float64)
    m = train_fisher.mosaic(imgs, 8, 5, torch.Generator().manual_seed(2), chunk=2)
    again = train_fisher.mosaic(imgs, 8, 5, torch.Generator().manual_seed(2))
    tiles_ok = all(any(torch.equal(m[k, :, i:i + 3, j:j + 3], im) for im in imgs)
                   for k in range(5) for i in (0, 3) for j in (0, 3))
    edge_ok = all(any(torch.equal(m[k, :, 6:8, 6:8], im[:, :2, :2]) for im in imgs) for k in range(5))
    check(m.shape == (5, 2, 8, 8) and tiles_ok and edge_ok and torch.equal(m, again),
          "--mosaic: 8x8 canvases of whole 3x3 training images on a grid (the last cut at the edge), "
          "the same for the same generator whatever the chunk")


def check_sizes_resume(base, work):
    """--sizes with --target network: 2 + 2 steps (a checkpoint between) equal 4 straight, bit for bit
    (the per-size PF-ODE pools go into the state)."""
    import shutil
    runs = {}
    for name, stops in (("straight", [0]), ("resumed", [2, 0])):
        model = os.path.join(work, "sizes-" + name)
        if os.path.exists(model):
            shutil.rmtree(model)
        shutil.copytree(os.path.join(work, "model"), model, ignore=shutil.ignore_patterns("fisher"))
        for stop in stops:
            r = subprocess.run([base[0], base[1], model] + base[3:] +
                               ["--work", os.path.join(model, "w"), "--steps", "4", "--batch", "8",
                                "--sizes", "2,4", "--target", "network", "--ode-fraction", "0.5",
                                "--ode-steps", "2:4", "--ckpt-minutes", "0", "--no-onednn"] +
                               (["--stop-at", str(stop)] if stop else []), capture_output=True, text=True)
            if r.returncode != 0:
                return check(False, f"--sizes 2,4 run ({name}) failed: {r.stderr.strip()[-300:]}")
        with open(os.path.join(model, "fisher", "diffusion_pytorch_model.safetensors"), "rb") as f:
            runs[name] = f.read()
        info = json.load(open(os.path.join(model, "fisher", "train_info.json")))
    return check(runs["straight"] == runs["resumed"] and info["recipe"].get("sizes") == "2,4",
                 "--sizes 2,4: 2 + 2 steps equal 4 straight bit for bit, the sizes in train_info.json")


def check_mosaic_cli(base, work):
    """--mosaic from the command line: a head of the 4x4 data trained on 8-px crops of 6 mosaics
    (2 steps), its train_info.json naming them and the 4x4 images; refused without a larger size."""
    import shutil
    model = os.path.join(work, "mosaic")
    if os.path.exists(model):
        shutil.rmtree(model)
    shutil.copytree(os.path.join(work, "model"), model, ignore=shutil.ignore_patterns("fisher"))
    r = subprocess.run([base[0], base[1], model] + base[3:] +
                       ["--work", os.path.join(model, "w"), "--steps", "2", "--batch", "8", "--sizes", "4,8",
                        "--mosaic", "6", "--ckpt-minutes", "0", "--no-onednn"], capture_output=True, text=True)
    info = (json.load(open(os.path.join(model, "fisher", "train_info.json"))) if r.returncode == 0 else {})
    check(r.returncode == 0 and "6 mosaics of 8 px" in r.stdout and info.get("recipe", {}).get("mosaic") == 6
          and info.get("training_images") == 50000,
          f"--sizes 4,8 --mosaic 6: trains on mosaics of the 4x4 images (rc {r.returncode}"
          f"{': ' + r.stderr.strip()[-200:] if r.returncode else ''}), train_info.json names them")
    r = subprocess.run([base[0], base[1], model] + base[3:] +
                       ["--work", os.path.join(model, "w2"), "--steps", "1", "--mosaic", "6"],
                       capture_output=True, text=True)
    check(r.returncode == 1 and "--mosaic 6" in r.stderr,
          f"--mosaic without a size larger than the model's is refused naming it (rc {r.returncode})")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description="Check that train_fisher.py recovers diag C_t on "
                                 "Gaussian data. Writes only under --work (default: a temporary "
                                 "folder, removed).")
    ap.add_argument("--models", default=os.path.normpath(os.path.join(here, "..", "..", "models")))
    ap.add_argument("--work")
    ap.add_argument("--steps", type=int, default=900)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--lr", type=float, default=2e-3)
    a = ap.parse_args()
    sys.path.insert(0, a.models)
    import torch
    from safetensors.torch import save_file
    import dfx_sched
    import dfx_unet
    import train_fisher
    torch.set_num_threads(1)

    # --t-sampling: the timestep weights against their definition on the default DDPM schedule
    import dfx_sched
    ac = dfx_sched.alphas_cumprod(dfx_sched.resolve_config(
        {"num_train_timesteps": 1000, "beta_schedule": "linear", "beta_start": 1e-4, "beta_end": 0.02}))
    wl, wm = train_fisher.t_weights(ac, "log-sigma"), train_fisher.t_weights(ac, "mixed")
    ls = 0.5 * torch.log((1 - ac.double()) / ac.double())
    small = int((ls < ls[0] + (ls[-1] - ls[0]) / 2).sum())  # t below the middle of ln σ̃'s range
    check(abs(wl.sum().item() - 1) < 1e-9 and (wl >= 0).all().item(), "log-sigma weights: a distribution")
    check(abs(wl[:small].sum().item() - 0.5) < 0.02,
          f"log-sigma: half the weight on the {small} timesteps below the middle of ln σ̃ "
          f"({wl[:small].sum().item():.3f})")
    check(torch.allclose(wm, 0.5 * (wl + 1.0 / 1000)), "mixed: the mean of uniform and log-sigma")
    check_network_target(torch, train_fisher, ac)
    check_ode_pool(torch, train_fisher, ac)
    check_sizes(torch, train_fisher)
    check_pool_replay(torch, train_fisher)

    tmp = None
    if a.work:
        work = a.work
        os.makedirs(work, exist_ok=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="dfx-fisher-")
        work = tmp.name
    model = os.path.join(work, "model")
    g = torch.Generator().manual_seed(1)
    shape = (2, 4, 4)
    lam = torch.linspace(0.02, 0.3, 32)[torch.randperm(32, generator=g)].reshape(shape)
    mu = torch.linspace(-0.4, 0.4, 32)[torch.randperm(32, generator=g)].reshape(shape)
    x = mu + lam.sqrt() * torch.randn((50000,) + shape, generator=g)
    data = os.path.join(work, "gauss.safetensors")
    save_file({"images": x.contiguous()}, data)

    torch.manual_seed(0)
    unet_cfg = dict(HEAD_CONFIG)
    dfx_unet.save(dfx_unet.UNet2DModel(unet_cfg), model)
    head_cfg = os.path.join(work, "head.json")
    with open(head_cfg, "w") as f:
        json.dump(HEAD_CONFIG, f)
    tool = os.path.join(a.models, "train_fisher.py")
    base = [sys.executable, tool, model, "--data", data, "--config", head_cfg, "--holdout", "0"]

    # refusal: no scheduler/ yet
    r = subprocess.run(base + ["--work", os.path.join(work, "w0"), "--steps", "1"],
                       capture_output=True, text=True)
    check(r.returncode == 1 and "scheduler/scheduler_config.json" in r.stderr,
          f"a model folder without scheduler/ is refused naming it (rc {r.returncode}: "
          f"{r.stderr.strip()[-120:]})")
    dfx_sched.save(dfx_sched.resolve_config({}), model)
    # refusal: a diverging learning rate stops with exit 3
    r = subprocess.run(base + ["--work", os.path.join(work, "w1"), "--steps", "30", "--lr", "1e30",
                               "--batch", "16"], capture_output=True, text=True)
    check(r.returncode == 3 and "loss is" in r.stderr,
          f"a NaN loss stops the run with exit 3 and says so (rc {r.returncode}: "
          f"{r.stderr.strip()[-120:]})")

    check_sizes_resume(base, work)
    check_mosaic_cli(base, work)

    r = subprocess.run(base + ["--work", os.path.join(work, "w2"), "--steps", str(a.steps),
                               "--batch", str(a.batch), "--lr", str(a.lr), "--ema-decay", "0.99",
                               "--t-sampling", "mixed", "--matmul-precision", "highest", "--no-onednn"],
                       capture_output=True, text=True)
    print(r.stdout[-600:], r.stderr[-600:])
    if not check(r.returncode == 0, "train_fisher.py trains the head"):
        return 1
    head = dfx_unet.load(model, subfolder=train_fisher.FISHER_DIR)
    check(head.config["out_channels"] == head.config["in_channels"] == 2,
          "fisher/config.json: out_channels = in_channels")
    ac = dfx_sched.alphas_cumprod(dfx_sched.load(model)).double()
    head = head.double()
    lam64, mu64 = lam.double(), mu.double()
    for t in (50, 200, 400, 600, 800, 999):
        n = 2000
        alpha = ac[t].sqrt().expand(n)
        sigma = (1 - ac[t]).sqrt().expand(n)
        x0 = mu64 + lam64.sqrt() * torch.randn((n,) + shape, generator=g, dtype=torch.float64)
        xt = alpha[:, None, None, None] * x0 + sigma[:, None, None, None] * torch.randn(
            x0.shape, generator=g, dtype=torch.float64)
        x0hat, c, m_true = train_fisher.closed_form_gaussian(xt, alpha, sigma, mu64, lam64)
        with torch.no_grad():
            m = head(xt, torch.full((n,), t))
        c_hat = m - x0hat * x0hat
        c_clamp = torch.clamp(m, min=x0hat * x0hat) - x0hat * x0hat
        scale = c.mean().item()
        e = (c_hat - c).pow(2).mean().sqrt().item()
        ec = (c_clamp - c).pow(2).mean().sqrt().item()
        bias = (c_hat.mean(0) - c[0]).abs().max().item()
        em = (m - m_true).pow(2).mean().sqrt().item() / m_true.pow(2).mean().sqrt().item()
        lim, what = (0.25 * scale, f"0.25 x mean diag C_t {scale:.4f}") if t >= 400 else \
            (0.5 * lam.mean().item(), f"0.5 x mean λ {lam.mean().item():.4f}")
        check(e <= lim, f"t={t}: RMS error of diag C_t {e:.4f} <= {what}")
        check(ec <= lim, f"t={t}: clamped, RMS error {ec:.4f} <= {what}")
        check(bias <= 0.15 * lam.mean().item(),
              f"t={t}: worst per-pixel mean error of diag C_t {bias:.4f} <= 0.15 x mean λ")
        check(em <= 0.25, f"t={t}: relative RMS error of m vs E[x0⊙x0|x_t] {em:.4f} <= 0.25")
    if tmp is not None:
        tmp.cleanup()
    print("FAILED: " + "; ".join(failures) if failures else "all fisher checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
