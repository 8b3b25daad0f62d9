#!/usr/bin/env python3
"""train_fisher.py — train the Fisher head fisher/ of a model folder.

The Fisher head is a second UNet2DModel-format network m(x_t, t) ≈
E[x0⊙x0 | x_t] (MATH.md "The Fisher head"), trained by regression:

    loss = E_{t, x0, ε} mean (m(α_t x0 + σ_t ε, t) − x0⊙x0)²

with t uniform over the scheduler's timesteps, α_t = sqrt(ᾱ_t), σ_t =
sqrt(1 − ᾱ_t), and x0 from the model's data set on its scale [-1, 1].  The
score network unet/ is never changed: by default its config is reused (with
out_channels = in_channels) and its weights start the head (all tensors but
conv_out, which starts at weight 0 and bias E[x0⊙x0] per channel), which
trains much faster than a random start; --config gives another architecture
(random start).

With --target network the head is a variance-ratio head r(x_t, t) ≈ diag Cov[x0 |
x_t]/σ̃² regressed on one-probe estimates of the frozen score network's own diagonal
Jacobian ∂x̂0/∂x̃ (second-order Tweedie), written with "_dfx_fisher_output":
"variance_ratio" in its config.json; models/FISHER.md says why and how dfx reads it.

Refuses a model folder without unet/ or scheduler/, data whose channels or
size do not fit the model, and stops on a NaN loss.  Before the first step (of a
fresh run and of every resume) the head's float32 training gradient is checked
against float64 on a fixed batch (models/gradcheck.py); above 1e-4 it refuses
(exit status 4) and names the tensor.

Writes MODEL/fisher/config.json and MODEL/fisher/diffusion_pytorch_model.
safetensors (EMA weights; float32, or float16 with --fp16) with MODEL/fisher/train_info.json
(step, the schedule's --steps, wall time, recipe), the resumable
state --state (default WORK/fisher-ckpt.pt: weights, AdamW moments, RNG, the
seeds of the refills the pool's unused PF-ODE states came from (a resume solves
those refills again: kilobytes instead of the states' megabytes), step; the float32 EMA is the fisher/ export,
checked by SHA-256 on resume) and WORK/fisher.log.jsonl (WORK: --work, default
build-train/fisher-<model name>).  Run it again with the same --state and model
folder to continue bit-for-bit on the same machine (checked by test-fisher-gauss:
2 + 2 steps of a --sizes run equal 4 straight, PF-ODE pools included; on another
CPU the replayed states differ in their last bits).
"""

import argparse
import copy
import hashlib
import json
import math
import os
import sys
import time

# On AVX-512 CPUs (2026-11 AMD EPYC VMs) oneDNN's AVX-512 convolution kernels gave sporadic
# non-finite outputs and gradients for finite inputs that a fresh process computes finite;
# capping oneDNN at AVX2 removed the reproducible case.  Set before torch loads oneDNN.
os.environ.setdefault("ONEDNN_MAX_CPU_ISA", "AVX2")
import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dfx_data  # noqa: E402
import dfx_sched  # noqa: E402
import dfx_unet  # noqa: E402
import gradcheck  # noqa: E402
from sample import x0_eps  # noqa: E402

FISHER_DIR = "fisher"
MAX_BAD_BATCHES = 10
FD_REL = 1e-2  # central-difference step of the network target, relative to σ̃ (as compute/likelihood/trace-fd.c)
# fisher/config.json key naming what the head outputs (DESIGN.md "Model folder", dfx.h dfx_model_info):
# "second_moment" m ≈ E[x0⊙x0 | x_t] (the default when the key is absent) or "variance_ratio"
# r ≈ diag Cov[x0 | x_t]/σ̃² with σ̃ = σ_t/α_t, which keeps its precision at low noise, where
# m − x̂0⊙x̂0 is a difference of nearly equal numbers.
OUTPUT_KEY = "_dfx_fisher_output"


class ModelError(ValueError):
    pass


def check_model_folder(model_dir, need=("unet", "scheduler")):
    """Raise ModelError naming each missing part of a model folder."""
    files = {"unet": [dfx_unet.CONFIG_NAME, dfx_unet.WEIGHTS_NAME],
             "scheduler": [dfx_sched.CONFIG_NAME],
             "fisher": [dfx_unet.CONFIG_NAME, dfx_unet.WEIGHTS_NAME]}
    if not os.path.isdir(model_dir):
        raise ModelError(f"{model_dir}: not a folder")
    missing = []
    for p in need:
        if p == "unet":  # any layout dfx loads (dfx_unet.network_dir, weights_path)
            d = dfx_unet.network_dir(model_dir)
            if not os.path.isfile(os.path.join(d, dfx_unet.CONFIG_NAME)):
                missing.append(f"{p}/{dfx_unet.CONFIG_NAME}")
            else:
                try:
                    dfx_unet.weights_path(d)
                except FileNotFoundError:
                    missing.append(f"{p}/{dfx_unet.WEIGHTS_NAME}")
        elif p == "scheduler":
            if not os.path.isfile(dfx_sched.config_path(model_dir)):
                missing.append(f"{p}/{dfx_sched.CONFIG_NAME}")
        else:
            missing += [f"{p}/{f}" for f in files[p] if not os.path.isfile(os.path.join(model_dir, p, f))]
    if missing:
        raise ModelError(f"{model_dir}: missing {', '.join(missing)}")


def save_weights(model, config, out_dir, fp16=False):
    """Write OUT_DIR/config.json and diffusion_pytorch_model.safetensors."""
    from safetensors.torch import save_file
    os.makedirs(out_dir, exist_ok=True)
    cfg = {"_class_name": "UNet2DModel"}
    cfg.update({k: v for k, v in config.items() if not k.startswith("_") or k == OUTPUT_KEY})
    dt = torch.float16 if fp16 else torch.float32
    sd = {k: v.detach().to(dt).contiguous() for k, v in model.state_dict().items()}
    tmp = os.path.join(out_dir, dfx_unet.WEIGHTS_NAME + ".tmp")
    save_file(sd, tmp, metadata={"format": "pt"})
    os.replace(tmp, os.path.join(out_dir, dfx_unet.WEIGHTS_NAME))
    with open(os.path.join(out_dir, dfx_unet.CONFIG_NAME), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")


def head_config(unet_cfg, config_path=None):
    if config_path:
        with open(config_path) as f:
            cfg = json.load(f)
    else:
        cfg = {k: v for k, v in unet_cfg.items() if not k.startswith("_")}
    cfg = dict(cfg)
    cfg["out_channels"] = cfg.get("in_channels", unet_cfg["in_channels"])
    return cfg


def warm_start(head, unet):
    """Copy every unet tensor whose name and shape match into head; return the count."""
    sd, n = head.state_dict(), 0
    for k, v in unet.state_dict().items():
        if k in sd and sd[k].shape == v.shape:
            sd[k] = v.clone()
            n += 1
    head.load_state_dict(sd)
    return n


def closed_form_gaussian(xt, alpha, sigma, mu, lam):
    """E[x0 | x_t], diag Cov[x0 | x_t] and E[x0⊙x0 | x_t] for x0 ~ N(mu, diag lam).

    xt [N, ...]; alpha, sigma [N] (per sample); mu, lam shaped like one sample.
    """
    a = alpha.reshape(-1, *[1] * (xt.dim() - 1))
    s = sigma.reshape(-1, *[1] * (xt.dim() - 1))
    den = a * a * lam + s * s
    x0hat = mu + a * lam / den * (xt - a * mu)
    c = lam * s * s / den
    return x0hat, c.expand_as(xt), c + x0hat * x0hat


def t_weights(ac, how):
    """Sampling weights of the timesteps: uniform, uniform in ln σ̃_t (σ̃_t = σ_t/α_t, the
    likelihood ODE's variable, which puts far more weight on small t), or their mean (mixed)."""
    T = ac.shape[0]
    uni = torch.full((T,), 1.0 / T, dtype=torch.float64)
    if how == "uniform":
        return uni
    ls = 0.5 * torch.log((1 - ac.double()) / ac.double())
    edges = torch.cat([ls[:1] - (ls[1] - ls[0]) / 2, (ls[1:] + ls[:-1]) / 2, ls[-1:] + (ls[-1] - ls[-2]) / 2])
    w = (edges[1:] - edges[:-1]).clamp(min=0)
    w = w / w.sum()
    return w if how == "log-sigma" else 0.5 * (w + uni)


def network_ratio_target(unet, xt, t, a, s, prediction, gen, rel=FD_REL):
    """One-probe estimate of diag ∂x̂0/∂x̃ (x̃ = x_t/α) of the frozen score network: v ⊙ (J v) with a
    Rademacher v and J v by central differences of x̂0 with the step rel·σ̃ in x̃ (rel·σ_t in x_t).  By
    the second-order Tweedie identity C = σ̃² ∂x̂0/∂x̃, this is an unbiased target for the variance ratio
    r = diag C/σ̃² of the network's own posterior, so the head's DF-TM divergence Σ(1 − r_i) estimates the
    network's Jacobian trace (what Hutchinson measures) rather than the data's.  None if not finite."""
    ch = xt.shape[1]
    v = (torch.randint(0, 2, xt.shape, generator=gen) * 2 - 1).to(xt.device, xt.dtype)
    h = rel * s
    with torch.no_grad():
        xx = torch.cat([xt + h * v, xt - h * v])
        out = unet(xx, torch.cat([t, t]))[:, :ch]
        n1 = (xt.shape[0],) + (1,) * (xt.dim() - 1)
        a2, s2 = torch.cat([a.expand(n1), a.expand(n1)]), torch.cat([s.expand(n1), s.expand(n1)])
        x0 = x0_eps(out, xx, a2, s2, prediction, False)[0]
    n = xt.shape[0]
    jv = (x0[:n] - x0[n:]) * (a / (2 * h))  # the step in x̃ is h/α
    r = v * jv
    return r if torch.isfinite(r).all() else None


class OdePool:
    """States of the likelihood's PF-ODE (MATH.md; EDM view dx̃/du = x̃ − x̂0, u = ln σ̃) started at
    training images at t = 0 and integrated by Heun with the frozen score network up to t = T − 1, on a
    grid of integer timesteps uniform in ln σ̃ with a random offset per refill.  These are the inputs
    a likelihood evaluation gives the head — images with little noise at a large σ̃, unlike x_t of the
    forward process — and the score network's Jacobian there differs from its Jacobian on x_t (on the
    Fashion-MNIST model its mean diagonal is −0.1 along the ODE, +0.1 on x_t), so a head trained on
    x_t alone does not match it there.  The number of Heun steps of each refill is drawn log-uniformly
    from n_steps = (lo, hi): the network's Jacobian also depends on how far a coarse solve strays from
    the exact trajectory (Fashion-MNIST, test image 0, σ̃ = 4.2: −0.16 after 8 Heun steps, −0.06
    after 32), and a likelihood may be asked for with few fixed steps or with RK45.
    take(m) returns m states (x_t = α x̃, t)."""

    def __init__(self, unet, data, ac, prediction, gen, n_traj=16, n_steps=(8, 64), size=None):
        if not 1 <= n_steps[0] <= n_steps[1]:
            raise ValueError(f"ODE steps {n_steps[0]}:{n_steps[1]}: need 1 <= lo <= hi")
        self.unet, self.data, self.prediction, self.gen = unet, data, prediction, gen
        self.n_traj, self.n_steps = n_traj, n_steps
        # size: the trajectories start at size×size crops of the images (a random place per refill)
        self.size = size if size is not None and size < data.shape[-1] else None
        # the network's device (a plain function, as in the tests, runs where the data is)
        p = next(iter(unet.parameters()), None) if hasattr(unet, "parameters") else None
        self.device = p.device if p is not None else data.device
        self.sa, self.s1a = ac.sqrt().to(self.device), (1 - ac).sqrt().to(self.device)
        self.ls = 0.5 * torch.log((1 - ac.double()) / ac.double())  # ln σ̃ per timestep
        self.clear()

    def clear(self):
        # tags: per state, the seed of the refill that made it and its place in that refill
        # (seed -1: a state restored as itself from an older resume state)
        self.xs, self.ts, self.tags = [], [], []

    def _x0(self, xtil, t):
        a = self.sa[t].reshape(-1, 1, 1, 1)
        s = self.s1a[t].reshape(-1, 1, 1, 1)
        xt = a * xtil
        out = self.unet(xt, t)[:, :xtil.shape[1]]
        return x0_eps(out, xt, a, s, self.prediction, False)[0]

    def _solve(self, seed):
        """One refill's states, per timestep (lists of x_t and t), everything drawn from a
        generator seeded with seed: the same seed gives the same states again."""
        g = torch.Generator().manual_seed(seed)
        T = self.ls.shape[0]
        u0, u1 = self.ls[0].item(), self.ls[-1].item()
        lo, hi = self.n_steps
        w = torch.rand((), generator=g, dtype=torch.float64).item()
        n_steps = int(round(math.exp(math.log(lo) + w * (math.log(hi) - math.log(lo)))))
        du = (u1 - u0) / n_steps
        grid = u0 + du * (torch.arange(n_steps + 1, dtype=torch.float64)
                          + torch.rand((), generator=g, dtype=torch.float64))
        grid = torch.cat([self.ls[:1], grid[grid < u1]])
        ts = torch.unique(torch.searchsorted(self.ls, grid).clamp(max=T - 1))
        n = self.n_traj
        x = self.data[torch.randint(0, self.data.shape[0], (n,), generator=g)]
        if self.size is not None:
            x = crop(x, self.size, g)
        x = x.to(self.device)
        xs, tl = [], []
        with torch.no_grad():
            for k in range(len(ts)):
                t = torch.full((n,), int(ts[k]), device=self.device)
                xs.append(self.sa[t].reshape(-1, 1, 1, 1) * x)
                tl.append(t)
                if k + 1 == len(ts):
                    break
                tn = torch.full((n,), int(ts[k + 1]), device=self.device)
                h = (self.ls[int(ts[k + 1])] - self.ls[int(ts[k])]).item()
                k1 = x - self._x0(x, t)
                xp = x + h * k1
                k2 = xp - self._x0(xp, tn)
                x = x + 0.5 * h * (k1 + k2)
        return xs, tl

    def refill(self):
        seed = int(torch.randint(0, 2 ** 62, (), generator=self.gen))
        xs, ts = self._solve(seed)
        if not all(torch.isfinite(v).all() for v in xs):
            raise FloatingPointError("a PF-ODE trajectory of the score network is not finite")
        n = self.n_traj
        for k, (x, t) in enumerate(zip(xs, ts)):
            self.xs.append(x)
            self.ts.append(t)
            self.tags.append(torch.stack([torch.full((n,), seed, dtype=torch.long),
                                          torch.arange(k * n, (k + 1) * n)], 1))

    def take(self, m):
        while sum(v.shape[0] for v in self.xs) < m:
            self.refill()
        xs = torch.cat([v.to(self.device) for v in self.xs])
        ts = torch.cat([v.to(self.device) for v in self.ts])
        tags = torch.cat(self.tags)
        perm = torch.randperm(xs.shape[0], generator=self.gen)
        self.tags = [tags[perm[m:]]]
        perm = perm.to(self.device)
        self.xs, self.ts = [xs[perm[m:]]], [ts[perm[m:]]]
        return xs[perm[:m]], ts[perm[:m]]

    def saved(self):
        """What a resume needs of the unused states: their tags (restore solves their refills
        again), and the states themselves only where they came from an older resume state."""
        if not self.tags:
            return {"tags": torch.zeros((0, 2), dtype=torch.long)}
        tags = torch.cat(self.tags)
        own = (tags[:, 0] < 0).nonzero().flatten()
        out = {"tags": tags}
        if own.numel():
            out["xs"] = torch.cat(self.xs)[own.to(self.device)].cpu()
            out["ts"] = torch.cat(self.ts)[own.to(self.device)].cpu()
        return out

    def restore(self, saved):
        """The unused states of saved (from saved(), or an older state's lists of x_t and t):
        each refill with a state left is solved again from its seed, in the order first seen."""
        self.clear()
        if isinstance(saved, (tuple, list)):  # an older resume state: the states themselves
            xs, ts = list(saved[0]), list(saved[1])
            if xs:
                x, t = torch.cat(xs), torch.cat(ts)
                self.xs, self.ts = [x.to(self.device)], [t.to(self.device)]
                self.tags = [torch.stack([torch.full((x.shape[0],), -1, dtype=torch.long),
                                          torch.arange(x.shape[0])], 1)]
            return
        tags = saved["tags"]
        if tags.shape[0] == 0:
            return
        rows = [None] * tags.shape[0]
        seeds = []
        for s in tags[:, 0].tolist():
            if s >= 0 and s not in seeds:
                seeds.append(s)
        for seed in seeds:
            xs, ts = self._solve(seed)
            xs, ts = torch.cat(xs), torch.cat(ts)
            for r in (tags[:, 0] == seed).nonzero().flatten().tolist():
                j = int(tags[r, 1])
                rows[r] = (xs[j:j + 1], ts[j:j + 1])
        own = (tags[:, 0] < 0).nonzero().flatten().tolist()
        for i, r in enumerate(own):
            rows[r] = (saved["xs"][i:i + 1].to(self.device), saved["ts"][i:i + 1].to(self.device))
        self.xs = [torch.cat([x for x, _ in rows])]
        self.ts = [torch.cat([t for _, t in rows])]
        self.tags = [tags.clone()]


def crop(x, s, gen):
    """x[..., y:y+s, x:x+s] at one place drawn from gen (all of x when it is s×s already)."""
    h, w = x.shape[-2:]
    if s >= h and s >= w:
        return x
    oy, ox = (int(v) for v in torch.randint(0, max(h, w), (2,), generator=gen))
    oy, ox = oy % (h - s + 1), ox % (w - s + 1)
    return x[..., oy:oy + s, ox:ox + s].contiguous()


def mosaic(data, size, n, gen, chunk=256):
    """n canvases of size×size, each a grid of whole training images drawn from gen (at the images'
    own size, the last row and column cut at the canvas' edge): the data for --sizes larger than
    the images themselves (glyphs, Fashion-MNIST), from which crop() then takes windows anywhere,
    so the head sees the network on a layer larger than one image, seams between images included."""
    c, h, w = data.shape[1:]
    ky, kx = -(-size // h), -(-size // w)
    out = torch.empty((n, c, size, size), dtype=data.dtype)
    for i in range(0, n, chunk):
        b = min(chunk, n - i)
        idx = torch.randint(0, data.shape[0], (b, ky * kx), generator=gen)
        grid = data[idx].reshape(b, ky, kx, c, h, w).permute(0, 3, 1, 4, 2, 5).reshape(b, c, ky * h, kx * w)
        out[i:i + b] = grid[..., :size, :size]
    return out


def lr_decay(step, start, steps):
    """The learning rate's factor: 1 before step start (0: never), then a cosine to 0 at steps."""
    if not start or step < start or steps <= start:
        return 1.0
    return 0.5 * (1.0 + math.cos(math.pi * (step - start) / (steps - start)))


def size_batches(sizes, batch):
    """{size: batch of that size}: batch at the smallest size, fewer at larger ones so that every
    step has about the same number of pixels (at least 2 images)."""
    s0 = min(sizes)
    return {s: max(2, int(round(batch * (s0 / s) ** 2))) for s in sizes}


def tensors_sha(sd):
    h = hashlib.sha256()
    for k, v in sorted(sd.items()):
        h.update(k.encode())
        h.update(v.detach().to("cpu", torch.float32).contiguous().numpy().tobytes())
    return h.hexdigest()


def check_gradient(head, data, sa, s1a, nb=16):
    """The float64 check of the head's training gradient on a fixed batch (raises
    gradcheck.GradientError).  The regression target is x0⊙x0 here whatever --target is: the
    target is a constant of the loss, so it does not change which kernels the backward runs."""
    g0 = torch.Generator().manual_seed(12345)
    x0 = data[torch.randint(0, data.shape[0], (nb,), generator=g0)]
    t = torch.randint(0, sa.shape[0], (nb,), generator=g0)
    xt = sa[t][:, None, None, None] * x0 + s1a[t][:, None, None, None] * torch.randn(x0.shape, generator=g0)
    dev = next(head.parameters()).device
    gradcheck.check(head, head_loss, {"xt": xt.to(dev), "t": t.to(dev), "y": (x0 * x0).to(dev)},
                    label="train_fisher")


def head_loss(head, b):
    return torch.mean((head(b["xt"], b["t"]) - b["y"]) ** 2)


def train(head, data, ac, steps, batch, lr, seed, ema_decay=0.999, warmup=100, grad_clip=1.0,
          state=None, log=None, ckpt=None, ckpt_seconds=300, max_seconds=0, t_sampling="uniform",
          target="data", unet=None, prediction="epsilon", ode_fraction=0.0,
          ode_steps=(8, 64), stop_at=0, sizes=None, decay_from=0, images=None):
    """Regress head(x_t, t) on x0⊙x0 (target "data", a second-moment head) or on the one-probe
    variance ratio of the score network unet (target "network", a variance-ratio head; see
    network_ratio_target), with ode_fraction of each batch taken from PF-ODE states (OdePool).
    sizes (more than one): each step draws one of them and regresses on crops of that size, with
    size_batches' batch (the head then learns the network away from the border too, as on a layer
    larger than the training size); one size or None: the data's size, as before.
    images: the training images themselves where data are mosaics of them (--mosaic): sizes up to
    theirs are taken from them (a whole image, or a crop of one), larger ones from the mosaics.
    Returns the state dict needed to resume."""
    gen = torch.Generator().manual_seed(seed)
    ema = copy.deepcopy(head).eval()
    for p in ema.parameters():
        p.requires_grad_(False)
    opt = torch.optim.AdamW(head.parameters(), lr=lr, weight_decay=0.0)
    step, wall, seen = 0, 0.0, 0
    if state is not None:
        head.load_state_dict(state["model"])
        ema.load_state_dict(state["ema"])
        opt.load_state_dict(state["opt"])
        gen.set_state(state["gen"])
        step, wall = state["step"], state["wall"]
        # images regressed on so far (older states did not count them: step × the mean batch)
        seen = state.get("examples", None)
    sa, s1a = ac.sqrt(), (1 - ac).sqrt()
    dev = next(head.parameters()).device
    sa_d, s1a_d = sa.to(dev), s1a.to(dev)
    T = ac.shape[0]
    tw = t_weights(ac, t_sampling)

    def source(s):  # the images a size is cropped from
        return images if images is not None and s <= images.shape[-1] else data

    run, rn, t_log, t_ck, t_start = 0.0, 0, time.time(), time.time(), time.time()

    def snapshot():
        st = {"model": head.state_dict(), "ema": ema.state_dict(), "opt": opt.state_dict(),
              "gen": gen.get_state(), "step": step, "wall": wall, "examples": seen}
        if pools:  # the PF-ODE states not yet used, as seeds: a resume takes the same ones
            st["pool_seeds"] = {s: p.saved() for s, p in pools.items()}
        return st

    head.train()
    head.pad_narrow = True
    sizes = sorted(set(sizes or [data.shape[-1]]))
    check_gradient(head, data, sa, s1a, nb=max(2, 16 * min(sizes) ** 2 // data.shape[-1] ** 2))
    bad = 0
    bs = size_batches(sizes, batch) if len(sizes) > 1 else {sizes[0]: batch}
    if seen is None:
        seen = int(round(step * sum(bs.values()) / len(bs)))
    m_odes = {s: int(round(b * ode_fraction)) if target == "network" else 0 for s, b in bs.items()}
    # one pool per size, each refill about 16 trajectories' worth of the smallest size's pixels
    pools = {s: OdePool(unet, source(s), ac, prediction, gen, n_steps=ode_steps, size=s,
                        n_traj=max(1, int(round(16 * (min(sizes) / s) ** 2))))
             for s in sizes if m_odes[s]}
    if pools and state is not None:
        if "pool_seeds" in state:
            saved = state["pool_seeds"]
        elif "pool" in state:  # older states: the states themselves, per size or of the one size
            saved = state["pool"] if isinstance(state["pool"], dict) else {sizes[0]: state["pool"]}
        else:
            saved = {}
        for s, sv in saved.items():
            if s in pools:
                pools[s].restore(sv)
    while step < steps:
        t0 = time.time()
        # the step's size (drawn only when there is a choice, so a one-size run draws as before)
        s = sizes[int(torch.randint(0, len(sizes), (1,), generator=gen))] if len(sizes) > 1 else sizes[0]
        batch, m_ode, pool = bs[s], m_odes[s], pools.get(s)
        src = source(s)
        idx = torch.randint(0, src.shape[0], (batch,), generator=gen)
        x0 = src[idx]
        if s < src.shape[-1]:
            x0 = crop(x0, s, gen)
        t = (torch.randint(0, T, (batch,), generator=gen) if t_sampling == "uniform"
             else torch.multinomial(tw, batch, replacement=True, generator=gen))
        eps = torch.randn(x0.shape, generator=gen)
        xt = (sa[t][:, None, None, None] * x0 + s1a[t][:, None, None, None] * eps).to(dev)
        x0, t = x0.to(dev), t.to(dev)
        if m_ode:
            try:
                xo, to = pool.take(m_ode)
            except FloatingPointError as e:
                print(f"train_fisher: {e} at step {step}: batch skipped", file=sys.stderr, flush=True)
                bad += 1
                if bad >= MAX_BAD_BATCHES:
                    raise
                continue
            xt, t = torch.cat([xt[m_ode:], xo]), torch.cat([t[m_ode:], to])
        for g in opt.param_groups:
            g["lr"] = lr * min(1.0, (step + 1) / max(1, warmup)) * lr_decay(step, decay_from, steps)
        if target == "network":
            a4, s4 = sa_d[t][:, None, None, None], s1a_d[t][:, None, None, None]
            y = network_ratio_target(unet, xt, t, a4, s4, prediction, gen)
            if y is None:
                bad += 1
                if bad >= MAX_BAD_BATCHES:
                    raise FloatingPointError(f"the score network's output is not finite at step {step} "
                                             f"({bad} batches in a row): stopping")
                print(f"train_fisher: non-finite score network output at step {step}: batch skipped",
                      file=sys.stderr, flush=True)
                continue
        else:
            y = x0 * x0
        loss = torch.mean((head(xt, t) - y) ** 2)
        gnorm = None
        if torch.isfinite(loss):
            opt.zero_grad(set_to_none=True)
            loss.backward()
            gnorm = torch.nn.utils.clip_grad_norm_(head.parameters(), grad_clip if grad_clip > 0 else float("inf"))
        if not torch.isfinite(loss) or not torch.isfinite(gnorm):
            # A batch with a non-finite loss or gradient is skipped: on some CPUs (an AVX-512 VM here)
            # PyTorch's CPU kernels gave an isolated NaN with finite weights.  Several in a row mean
            # the run diverged.
            bad += 1
            what = f"loss is {loss.item()}" if not torch.isfinite(loss) else "the gradient is not finite"
            if bad >= MAX_BAD_BATCHES:
                raise FloatingPointError(f"{what} at step {step} ({bad} batches in a row): stopping "
                                         f"(lower --lr or check the data)")
            print(f"train_fisher: {what} at step {step}: batch skipped", file=sys.stderr, flush=True)
            continue
        bad = 0
        opt.step()
        d = min(ema_decay, (1 + step) / (10 + step))
        with torch.no_grad():
            for pe, pm in zip(ema.parameters(), head.parameters()):
                pe.mul_(d).add_(pm.detach(), alpha=1 - d)
        step += 1
        seen += batch
        wall += time.time() - t0
        run += loss.item()
        rn += 1
        if log is not None and (step % 20 == 0 or step == steps):
            log({"step": step, "loss": round(run / rn, 6),
                 "s_per_step": round((time.time() - t_log) / rn, 3), "wall": round(wall, 1)})
            run, rn, t_log = 0.0, 0, time.time()
        out_of_time = (max_seconds > 0 and time.time() - t_start > max_seconds) or (stop_at and step >= stop_at)
        if ckpt is not None and (time.time() - t_ck > ckpt_seconds or step == steps or out_of_time):
            ckpt(snapshot(), ema)
            t_ck = time.time()
        if out_of_time:
            break
    return snapshot(), ema


def write_info(folder, step, total, wall, a, n_images, examples=None):
    """FOLDER/train_info.json: the head's step, its schedule's end and its recipe (like
    train_unet.py's train_info.json; dfx does not read it)."""
    recipe = {k: getattr(a, k) for k in ("data", "target", "t_sampling", "ode_fraction", "ode_steps",
                                          "batch", "lr", "ema_decay", "seed", "matmul_precision", "fp16")}
    if a.sizes:
        recipe["sizes"] = a.sizes
    if a.lr_decay_from:
        recipe["lr_decay_from"] = a.lr_decay_from
    if a.mosaic:
        recipe["mosaic"] = a.mosaic
    if a.init_head:  # the head this run continued (its own train_info.json says how it was made)
        recipe["init_head"] = a.init_head
    info = {"steps": int(step), "total_steps": int(total), "examples_seen": int(step * a.batch if examples is None else examples),
            "train_wall_seconds": round(float(wall), 1), "training_images": int(n_images),
            "recipe": recipe}
    tmp = os.path.join(folder, "train_info.json.tmp")
    with open(tmp, "w") as f:
        json.dump(info, f, indent=2)
        f.write("\n")
    os.replace(tmp, os.path.join(folder, "train_info.json"))


def main():
    ap = argparse.ArgumentParser(
        description="Train the Fisher head m(x_t,t) ≈ E[x0⊙x0|x_t] of a model folder (score "
        "network frozen). Writes MODEL/fisher/config.json and MODEL/fisher/"
        "diffusion_pytorch_model.safetensors, and WORK/fisher-ckpt.pt, WORK/fisher.log.jsonl.")
    ap.add_argument("model", help="model folder with unet/ and scheduler/")
    ap.add_argument("--data", default="fashion-mnist",
                    help="the model's data: fashion-mnist, an image folder or a .safetensors "
                    "file (models/dfx_data.py)")
    ap.add_argument("--channels", type=int, default=None, help="channels for a folder "
                    "(default: the model's in_channels)")
    ap.add_argument("--holdout", type=float, default=0.05)
    ap.add_argument("--config", help="a UNet2DModel config.json for the head (default: unet's, "
                    "warm-started from its weights)")
    ap.add_argument("--work", help="log folder (default build-train/fisher-<model name>)")
    ap.add_argument("--state", help="the resumable training state, one file (default WORK/fisher-ckpt.pt); "
                    "the EMA is not in it but in MODEL/fisher/, checked by its SHA-256 on resume")
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--max-minutes", type=float, default=0, help="stop after this long (0: no limit)")
    ap.add_argument("--stop-at", type=int, default=0, help="stop (after a checkpoint) at this step")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr-decay-from", type=int, default=0, metavar="STEP",
                    help="from this step the learning rate falls as a cosine to 0 at --steps (default 0: "
                    "constant after the warm-up); a run resumed before STEP with it is the run made with it")
    ap.add_argument("--sizes", help="S1,S2,...: each step regresses on crops of one of these sizes (drawn per step, "
                    "the batch at the smallest, fewer images at larger ones: the same pixels per step), so that "
                    "the head matches the network on layers larger than the training size too; the data "
                    "(--data photos:N at the largest size) is cropped (default: the data's size)")
    ap.add_argument("--mosaic", type=int, default=0, metavar="N",
                    help="with --sizes larger than the data's images: crop from N canvases of the largest size, "
                    "each a grid of random whole training images (made once from --seed; for glyphs and other "
                    "small-image data)")
    ap.add_argument("--lr", type=float, default=2e-4)
    ap.add_argument("--ema-decay", type=float, default=0.995)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1,
                    help="torch CPU threads (default 1: on a loaded 2-core machine 2 OpenMP "
                    "threads measured up to 30x slower)")
    ap.add_argument("--ckpt-minutes", type=float, default=5.0)
    ap.add_argument("--init-head", help="with no checkpoint in --work: start from this Fisher head folder "
                    "(e.g. MODEL/fisher, to train it further; fresh optimizer) instead of unet/'s weights")
    ap.add_argument("--t-sampling", choices=("uniform", "log-sigma", "mixed"), default="uniform",
                    help="timesteps uniform (default), uniform in ln σ̃ (the likelihood's variable: most "
                         "weight at small t), or half of each")
    ap.add_argument("--target", choices=("data", "network"), default="data",
                    help="data (default): a second-moment head m ≈ E[x0⊙x0 | x_t] regressed on x0⊙x0 (the "
                         "paper's trace matching); network: a variance-ratio head r ≈ diag Cov/σ̃² regressed on "
                         "one-probe estimates of the frozen score network's diag ∂x̂0/∂x̃ (second-order "
                         "Tweedie), so that DF-TM matches the network's own divergence")
    ap.add_argument("--ode-fraction", type=float, default=0.5,
                    help="with --target network: the share of each batch taken from PF-ODE trajectories of "
                         "training images (the inputs a likelihood gives the head; default 0.5)")
    ap.add_argument("--ode-steps", default="8:64", metavar="LO:HI",
                    help="with --target network: each PF-ODE trajectory takes a number of Heun steps drawn "
                         "log-uniformly from LO..HI (default 8:64)")
    ap.add_argument("--device", default="cpu", help="torch device, e.g. cuda (the data order, timesteps, noise "
                    "and probes are still drawn on the CPU, so a run's batches do not depend on it)")
    ap.add_argument("--fp16", action="store_true", help="store the head's weights as float16")
    ap.add_argument("--no-onednn", action="store_true",
                    help="PyTorch's native CPU kernels instead of oneDNN's (on an AVX-512 VM oneDNN's float32 "
                         "training gave sporadic non-finite gradients with finite weights)")
    ap.add_argument("--matmul-precision", default="highest", choices=("highest", "high", "medium"),
                    help="torch float32 matmul precision (default highest: diag C = m − x̂0⊙x̂0 is a small "
                         "difference at low noise, and 'medium' lets oneDNN use bfloat16 products on CPUs with "
                         "AVX512-BF16, which cost the Gaussian test its tolerance at t = 50)")
    a = ap.parse_args()
    try:
        ode_steps = tuple(int(v) for v in a.ode_steps.split(":"))
        if len(ode_steps) != 2 or not 1 <= ode_steps[0] <= ode_steps[1]:
            raise ValueError
    except ValueError:
        print(f"train_fisher: --ode-steps {a.ode_steps!r}: expected LO:HI with 1 <= LO <= HI", file=sys.stderr)
        return 1
    torch.set_num_threads(a.threads)
    torch.set_float32_matmul_precision(a.matmul_precision)
    dev = torch.device(a.device)
    if dev.type == "cuda":
        torch.backends.cudnn.allow_tf32 = False  # the float64 check holds float32 to 1e-4
        torch.backends.cuda.matmul.allow_tf32 = False
    if a.no_onednn:
        torch.backends.mkldnn.enabled = False

    try:
        check_model_folder(a.model)
        unet = dfx_unet.load(a.model)
        scfg = dfx_sched.load(a.model)
        cfg = head_config(unet.config, a.config)
        cfg[OUTPUT_KEY] = "variance_ratio" if a.target == "network" else "second_moment"
        torch.manual_seed(a.seed)
        head = dfx_unet.UNet2DModel(cfg)
        ch = cfg["in_channels"]
        size = cfg.get("sample_size")
        size = size[0] if isinstance(size, list) else size
        sizes = None
        if a.sizes:
            try:
                sizes = sorted(set(int(v) for v in a.sizes.split(",")))
            except ValueError:
                raise ValueError(f"--sizes {a.sizes!r}: expected sizes in pixels, e.g. 32,64,128") from None
            bad = [v for v in sizes if v <= 0 or v % head.downscale()]
            if bad:
                raise ValueError(f"--sizes {a.sizes}: {bad[0]} is not a positive multiple of {head.downscale()}")
        if a.mosaic and not (sizes and max(sizes) > size):
            raise ValueError(f"--mosaic {a.mosaic}: needs --sizes larger than the model's {size} px")
        data = dfx_data.load(a.data, "train", a.channels or ch,
                             None if a.mosaic else max(sizes) if sizes else None, a.holdout)
        n_images = data.shape[0]  # the training images (not the mosaics made of them)
        images = None
        if a.mosaic:
            images = data
            data = mosaic(data, max(sizes), a.mosaic, torch.Generator().manual_seed(a.seed + 1))
            print(f"train_fisher: {a.mosaic} mosaics of {max(sizes)} px from {n_images} images", flush=True)
        if data.shape[1] != ch:
            raise dfx_data.DataError(f"{a.data}: {data.shape[1]} channels, the model has {ch}")
        if data.shape[-1] % head.downscale() or data.shape[-2] % head.downscale():
            raise dfx_data.DataError(f"{a.data}: {data.shape[-1]}x{data.shape[-2]} is not "
                                     f"divisible by {head.downscale()}")
        if sizes and max(sizes) > size:
            # larger than the training size: the attention sees the training size's window, as in dfx
            unet.window_attention = head.window_attention = True
    except (ModelError, dfx_data.DataError, dfx_unet.ConfigError, dfx_sched.SchedulerConfigError,
            ValueError, OSError) as e:
        print(f"train_fisher: {e}", file=sys.stderr)
        return 1
    if scfg["prediction_type"] not in ("epsilon", "v_prediction", "sample"):
        print(f"train_fisher: prediction_type {scfg['prediction_type']!r}", file=sys.stderr)
        return 1

    work = a.work or os.path.join("build-train", "fisher-" + os.path.basename(os.path.normpath(a.model)))
    os.makedirs(work, exist_ok=True)
    ckpt_path = a.state or os.path.join(work, "fisher-ckpt.pt")
    if os.path.dirname(ckpt_path):
        os.makedirs(os.path.dirname(ckpt_path), exist_ok=True)
    state = None
    if os.path.exists(ckpt_path):
        state = torch.load(ckpt_path, map_location="cpu", weights_only=False)
        if "ema" not in state:
            try:
                ema_sd = dfx_unet.load(a.model, subfolder=FISHER_DIR).state_dict()
            except (OSError, ValueError, RuntimeError) as e:
                print(f"train_fisher: {a.model}/{FISHER_DIR}: cannot read the EMA weights the state "
                      f"{ckpt_path} needs: {e}", file=sys.stderr)
                return 1
            if tensors_sha(ema_sd) != state.get("ema_sha256"):
                print(f"train_fisher: {a.model}/{FISHER_DIR} is not the EMA the state {ckpt_path} was "
                      f"saved with (SHA-256 differs): restore both from the same commit", file=sys.stderr)
                return 1
            state["ema"] = ema_sd
        print(f"train_fisher: resuming {ckpt_path} at step {state['step']}", flush=True)
    elif a.init_head:
        try:
            init = dfx_unet.load(a.init_head, subfolder=None)
            head.load_state_dict(init.state_dict())
            with open(os.path.join(a.init_head, dfx_unet.CONFIG_NAME)) as f:
                init_output = json.load(f).get(OUTPUT_KEY, "second_moment")
        except (OSError, ValueError, RuntimeError) as e:
            print(f"train_fisher: --init-head {a.init_head}: {e}", file=sys.stderr)
            return 1
        if init_output != cfg[OUTPUT_KEY]:
            # another output: keep the features, restart the output layer at a ratio of 1/2
            with torch.no_grad():
                head.conv_out.weight.zero_()
                head.conv_out.bias.fill_(0.5)
        print(f"train_fisher: starting from {a.init_head} (fresh optimizer{', new output layer' if init_output != cfg[OUTPUT_KEY] else ''})", flush=True)
    elif not a.config:
        k = warm_start(head, unet)
        # the output layer starts at the data's mean of x0⊙x0 per channel (a ratio of 1/2 for a
        # variance-ratio head), the rest from unet/
        with torch.no_grad():
            head.conv_out.weight.zero_()
            if a.target == "network":
                head.conv_out.bias.fill_(0.5)
            else:
                head.conv_out.bias.copy_((data.double() ** 2).mean((0, 2, 3)).float())
        print(f"train_fisher: warm start from unet/: {k} tensors, conv_out set to "
              f"E[x0⊙x0] = {head.conv_out.bias.tolist()}", flush=True)
    head.to(dev)
    if a.target == "network":
        unet.to(dev).eval()
        for p in unet.parameters():
            p.requires_grad_(False)
    else:
        del unet
        unet = None
    print(f"train_fisher: {data.shape[0]} images {tuple(data.shape[1:])}, "
          f"{dfx_unet.count(head)[0]} parameters", flush=True)
    logf = open(os.path.join(work, "fisher.log.jsonl"), "a")

    def log(rec):
        logf.write(json.dumps(rec) + "\n")
        logf.flush()
        print(json.dumps(rec), flush=True)

    def ckpt(st, ema):
        # the EMA goes to fisher/ first (float32: its hash must survive the round trip)
        save_weights(ema, cfg, os.path.join(a.model, FISHER_DIR), a.fp16)
        if not a.fp16:  # a float16 export is not the EMA itself: keep the EMA in the state then
            st = {k: v for k, v in st.items() if k != "ema"}
            st["ema_sha256"] = tensors_sha(ema.state_dict())
        tmp = ckpt_path + ".tmp"
        torch.save(dict(st, config=cfg), tmp)
        os.replace(tmp, ckpt_path)
        # the head's progress beside it, for models/finish_model.py (not read by dfx)
        write_info(os.path.join(a.model, FISHER_DIR), st["step"], a.steps, st["wall"], a, n_images,
                   st.get("examples"))

    try:
        train(head, data, dfx_sched.alphas_cumprod(scfg), a.steps, a.batch, a.lr, a.seed,
              a.ema_decay, state=state, log=log, ckpt=ckpt, ckpt_seconds=a.ckpt_minutes * 60,
              max_seconds=a.max_minutes * 60, t_sampling=a.t_sampling, target=a.target, unet=unet,
              prediction=scfg["prediction_type"], ode_fraction=a.ode_fraction,
              ode_steps=ode_steps, stop_at=a.stop_at, sizes=sizes,
              decay_from=a.lr_decay_from, images=images)
    except FloatingPointError as e:
        print(f"train_fisher: {e}; the last good checkpoint is {ckpt_path}", file=sys.stderr)
        return 3
    except gradcheck.GradientError as e:
        print(e, file=sys.stderr)
        return 4
    print(f"train_fisher: wrote {os.path.join(a.model, FISHER_DIR)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
