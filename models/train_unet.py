#!/usr/bin/env python3
"""train_unet.py — train a diffusers-format UNet2DModel on CPU, resumably, on a checked gradient.

Data: Fashion-MNIST from Debian's dataset-fashion-mnist (28×28 grey, padded
to 32×32 with the black background), `photos` (random patches of the CC0/CC-BY
photographs of models/photo_data.py, at several scales), a folder of equally
sized images (grey or RGB) or a .safetensors file (models/dfx_data.py), on [-1, 1].
DDPM training: t uniform in [0, T), x_t = sqrt(ᾱ_t) x0 + sqrt(1-ᾱ_t) ε, the schedule of
models/dfx_sched.py (linear β 1e-4..0.02, 1000 steps by default); the network predicts
ε or v = sqrt(ᾱ) ε − sqrt(1-ᾱ) x0 (--prediction), the squared error weighted uniformly or
by min-SNR-γ (--loss-weight; Hang et al. 2023: min(SNR, γ)/SNR for ε, /(SNR+1) for v).
AdamW with a linear warm-up and optionally a cosine decay to --lr-final, an exponential
moving average (EMA) of the weights, which is what gets exported.

Before the first step (of a fresh run and of every resume) the float32 gradient of the
loss on a fixed batch is compared with float64 for every parameter tensor
(models/gradcheck.py); above a relative error of 1e-4 the script refuses to train
and names the tensor (exit status 4).

Deterministic for a seed: the data order, timesteps and noise come from one
torch.Generator whose state is checkpointed with the model, the EMA, the
optimizer and the step, so a resumed run continues the same sequence.

Writes --state (default build-train/NAME/ckpt.pt; the shipped models keep theirs in
models/state/NAME.pt so a run continues in a later session): the weights, the
optimizer, the data order, the RNG and the step, atomically replaced every
--ckpt-minutes.  The EMA is not in it: it is the exported unet/ weights of --out,
checked against a SHA-256 kept in the state, so a commit of state and model adds
16 bytes per parameter.  Also writes, under --work (default build-train/NAME),
train.log.jsonl (one JSON line per --log-every steps), and under --out (the model
folder, rewritten at each checkpoint and at the end):
  unet/config.json, unet/diffusion_pytorch_model.safetensors   (EMA weights)
  scheduler/scheduler_config.json                              (DDPMScheduler)
  train_info.json    steps, examples seen, wall time, recipe
Run it again with the same --state and --out to resume bit-for-bit; --export-only
rewrites --out from the checkpoint and exits (--fp16 for float16 weights).
Without the checkpoint, --init MODEL continues from an exported model folder
(weights and step count; a fresh optimizer, so not bit-identical to a resume).
"""

import argparse
import collections
import copy
import hashlib
import json
import math
import os
import statistics
import sys
import time

# On AVX-512 CPUs (2026-11 AMD EPYC VMs) oneDNN's AVX-512 convolution kernels gave sporadic
# non-finite outputs and gradients for finite inputs that a fresh process computes finite;
# capping oneDNN at AVX2 removed the reproducible case.  Set before torch loads oneDNN.
# (The wrong gradients of issue 18 are caught by the float64 check at start-up, whatever
# the cause: measured with OpenBLAS in the environment, all four shipped networks are within
# 5e-6 of float64 with and without this cap and with and without padding conv_out.)
os.environ.setdefault("ONEDNN_MAX_CPU_ISA", "AVX2")
import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dfx_data  # noqa: E402
import dfx_sched  # noqa: E402
import dfx_unet  # noqa: E402
import gradcheck  # noqa: E402

DataError = dfx_data.DataError
# models/quality.py imports these from here
fashion_mnist, image_folder, read_idx_images = (dfx_data.fashion_mnist, dfx_data.image_folder,
                                                dfx_data.read_idx_images)


def load_data(a, recipe):
    """A tensor [N, C, H, W] on [-1, 1], or for 'photos' a sampler with .batch(n, gen)."""
    if recipe["data"] == "photos":
        import photo_data
        try:
            return photo_data.PatchSampler("train", recipe["size"])
        except photo_data.PhotoError as e:
            raise DataError(str(e)) from e
    return dfx_data.load(recipe["data"], "train", recipe["channels"], recipe["size"],
                         recipe.get("holdout", 0.05))


def loss_weight(snr, prediction, how, gamma):
    """Per-sample weight of the squared error: 1, or min-SNR-γ (relative to ε or v)."""
    if how == "uniform":
        return torch.ones_like(snr)
    m = snr.clamp(max=gamma)
    return m / snr if prediction == "epsilon" else m / (snr + 1)


def make_loss(recipe, sa, s1a):
    """loss_fn(model, batch) for gradcheck and training: batch = {x0, t, eps}."""
    pred_type = recipe.get("prediction", "epsilon")
    how, gamma = recipe.get("loss_weight", "uniform"), recipe.get("snr_gamma", 5.0)

    def loss_fn(model, b):
        x0, t, eps = b["x0"], b["t"].cpu(), b["eps"]  # t indexes the schedule on the CPU
        a = sa[t].to(x0)[:, None, None, None]
        s = s1a[t].to(x0)[:, None, None, None]
        xt = a * x0 + s * eps
        target = eps if pred_type == "epsilon" else a * eps - s * x0
        w = loss_weight((sa[t] ** 2 / s1a[t] ** 2), pred_type, how, gamma).to(x0)
        return torch.mean(w[:, None, None, None] * (model(xt, t.to(x0.device)) - target) ** 2)
    return loss_fn


def lr_at(recipe, step, total):
    w0 = recipe.get("warmup_from", 0)
    lr = recipe["lr"] * min(1.0, (step + 1 - w0) / max(1, recipe["warmup"]))
    if recipe.get("lr_schedule", "constant") == "cosine" and step >= w0 + recipe["warmup"]:
        f = min(1.0, (step - w0 - recipe["warmup"]) / max(1, total - w0 - recipe["warmup"]))
        lo = recipe.get("lr_final", 0.1 * recipe["lr"])
        lr = lo + (recipe["lr"] - lo) * 0.5 * (1 + math.cos(math.pi * f))
    return lr


def tensors_sha(module):
    h = hashlib.sha256()
    for k, v in sorted(module.state_dict().items()):
        h.update(k.encode())
        h.update(v.detach().contiguous().cpu().numpy().tobytes())
    return h.hexdigest()


def unet_config(a, channels):
    boc = [int(v) for v in a.channels_per_level.split(",")]
    n = len(boc)
    attn = set(int(v) for v in a.attn_levels.split(",")) if a.attn_levels else set()
    down = ["AttnDownBlock2D" if i in attn else "DownBlock2D" for i in range(n)]
    up = ["AttnUpBlock2D" if (n - 1 - i) in attn else "UpBlock2D" for i in range(n)]
    return {
        "_class_name": "UNet2DModel",
        "sample_size": a.size, "in_channels": channels, "out_channels": channels,
        "center_input_sample": False, "time_embedding_type": "positional", "freq_shift": 0,
        "flip_sin_to_cos": True, "down_block_types": down, "mid_block_type": "UNetMidBlock2D",
        "up_block_types": up, "block_out_channels": boc, "layers_per_block": a.layers_per_block,
        "mid_block_scale_factor": 1, "downsample_padding": 1, "downsample_type": "conv",
        "upsample_type": "conv", "dropout": 0.0, "act_fn": "silu",
        "attention_head_dim": a.head_dim, "norm_num_groups": a.groups, "norm_eps": 1e-5,
        "resnet_time_scale_shift": "default", "add_attention": not a.no_mid_attention,
    }


def sched_config(a):
    return dfx_sched.resolve_config({
        "num_train_timesteps": a.timesteps, "beta_start": 1e-4, "beta_end": 0.02,
        "beta_schedule": "linear", "prediction_type": a.prediction, "clip_sample": True,
        "variance_type": "fixed_small"})


def atomic_torch_save(obj, path):
    tmp = path + ".tmp"
    torch.save(obj, tmp)
    os.replace(tmp, path)


def export(ema, ucfg, scfg, out, info, fp16=False):
    """Write the diffusers-layout model folder from the EMA weights (atomically per file)."""
    os.makedirs(out, exist_ok=True)
    tmpdir = out + ".tmp-export"
    dfx_unet.save(ema, tmpdir, config={k: v for k, v in ucfg.items() if not k.startswith("_")})
    if fp16:
        from safetensors.torch import load_file, save_file
        w = os.path.join(tmpdir, "unet", dfx_unet.WEIGHTS_NAME)
        save_file({k: v.to(torch.float16) for k, v in load_file(w).items()}, w,
                  metadata={"format": "pt"})
    dfx_sched.save(scfg, tmpdir)
    for sub, name in (("unet", dfx_unet.CONFIG_NAME), ("unet", dfx_unet.WEIGHTS_NAME),
                      ("scheduler", dfx_sched.CONFIG_NAME)):
        os.makedirs(os.path.join(out, sub), exist_ok=True)
        os.replace(os.path.join(tmpdir, sub, name), os.path.join(out, sub, name))
    for sub in ("unet", "scheduler"):
        os.rmdir(os.path.join(tmpdir, sub))
    os.rmdir(tmpdir)
    with open(os.path.join(out, "train_info.json"), "w") as f:
        json.dump(info, f, indent=2)
        f.write("\n")


def main():
    ap = argparse.ArgumentParser(
        description="Train a diffusers-format UNet2DModel ε-model (DDPM, linear β) on CPU, "
        "resumably. Writes WORK/ckpt.pt and WORK/train.log.jsonl, and the model folder OUT "
        "(unet/ with the EMA weights, scheduler/, train_info.json) at every checkpoint.")
    ap.add_argument("--data", default="fashion-mnist",
                    help="'fashion-mnist' (Debian's dataset-fashion-mnist), 'photos' (patches of the "
                    "photographs of photo_data.py), an image folder or a "
                    ".safetensors file with 'images' [N,C,H,W] on [-1,1] (see dfx_data.py)")
    ap.add_argument("--holdout", type=float, default=0.05,
                    help="fraction of a folder/file kept out of training (the test split)")
    ap.add_argument("--channels", type=int, default=1, choices=(1, 3),
                    help="image channels for a folder (1 grey, 3 RGB); fashion-mnist is 1")
    ap.add_argument("--size", type=int, default=32, help="image size (default 32)")
    ap.add_argument("--work", help="log folder (default build-train/<name of --out>)")
    ap.add_argument("--state", help="the resumable training state, one file (default WORK/ckpt.pt)")
    ap.add_argument("--out", required=True, help="model folder to write")
    ap.add_argument("--steps", type=int, default=20000, help="total optimizer steps")
    ap.add_argument("--stop-at", type=int, default=0,
                    help="stop (after a checkpoint) at this step; the schedule still ends at --steps")
    ap.add_argument("--max-minutes", type=float, default=0,
                    help="stop (after a checkpoint) once this session has run this long; 0: no limit")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--warmup", type=int, default=200, help="linear lr warm-up steps")
    ap.add_argument("--lr-schedule", default="constant", choices=("constant", "cosine"),
                    help="after the warm-up: constant, or a cosine decay to --lr-final at --steps")
    ap.add_argument("--lr-final", type=float, help="the cosine's final lr (default lr/10)")
    ap.add_argument("--prediction", default="epsilon", choices=("epsilon", "v_prediction"),
                    help="what the network predicts (written to the scheduler config)")
    ap.add_argument("--loss-weight", default="uniform", choices=("uniform", "min-snr"),
                    help="per-timestep weight of the squared error (min-snr: min(SNR, gamma) relative "
                    "to the prediction's own weight)")
    ap.add_argument("--snr-gamma", type=float, default=5.0)
    ap.add_argument("--weight-decay", type=float, default=0.0)
    ap.add_argument("--grad-clip", type=float, default=1.0)
    ap.add_argument("--spike-factor", type=float, default=8.0,
                    help="skip a batch whose gradient norm is over this many times the median of the last 200 "
                         "(default 8; 0: never)")
    ap.add_argument("--ema-decay", type=float, default=0.998,
                    help="EMA decay (warmed up as min(decay, (1+s)/(10+s)))")
    ap.add_argument("--channels-per-level", default="32,64,128", help="block_out_channels")
    ap.add_argument("--layers-per-block", type=int, default=1)
    ap.add_argument("--attn-levels", default="2", help="levels with attention, e.g. '2' (8×8 at 32); "
                    "'' for none")
    ap.add_argument("--no-mid-attention", action="store_true",
                    help="no attention in the middle block (with --attn-levels '': fully convolutional)")
    ap.add_argument("--head-dim", type=int, default=32, help="attention_head_dim")
    ap.add_argument("--groups", type=int, default=8, help="norm_num_groups")
    ap.add_argument("--timesteps", type=int, default=1000)
    ap.add_argument("--hflip", action="store_true", help="random horizontal flips")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1,
                    help="torch CPU threads (default 1: on a loaded 2-core machine 2 OpenMP "
                    "threads measured up to 30x slower)")
    ap.add_argument("--ckpt-minutes", type=float, default=5.0)
    ap.add_argument("--device", default="cpu", help="torch device, e.g. cuda (the data order, timesteps and "
                    "noise are still drawn on the CPU, so a run's batches do not depend on it)")
    ap.add_argument("--log-every", type=int, default=10)
    ap.add_argument("--matmul-precision", default="highest", choices=("highest", "high", "medium"),
                    help="torch float32 matmul precision (default highest; 'medium' lets oneDNN use "
                    "bf16 products; the gradient check decides whether that is allowed)")
    ap.add_argument("--export-only", action="store_true", help="rewrite --out from the checkpoint")
    ap.add_argument("--fp16", action="store_true", help="store the exported weights as float16")
    ap.add_argument("--init", help="with no checkpoint in --work: start from this exported model "
                    "folder (its unet/, scheduler/ and train_info.json step count; model and EMA "
                    "from its weights, a fresh optimizer; the recipe flags still apply)")
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    torch.set_float32_matmul_precision(a.matmul_precision)
    dev = torch.device(a.device)
    if dev.type == "cuda":
        torch.backends.cudnn.allow_tf32 = False  # the float64 check holds float32 to 1e-4
        torch.backends.cuda.matmul.allow_tf32 = False
    torch.use_deterministic_algorithms(True, warn_only=True)
    work = a.work or os.path.join("build-train", os.path.basename(os.path.normpath(a.out)))
    os.makedirs(work, exist_ok=True)
    ckpt_path = a.state or os.path.join(work, "ckpt.pt")
    if os.path.dirname(ckpt_path):
        os.makedirs(os.path.dirname(ckpt_path), exist_ok=True)

    try:
        if os.path.exists(ckpt_path):
            ck = torch.load(ckpt_path, map_location="cpu", weights_only=False)
            ucfg, scfg, recipe = ck["unet_config"], ck["sched_config"], ck["recipe"]
            print(f"train_unet: resuming {ckpt_path} at step {ck['step']}", flush=True)
        else:
            if a.export_only:
                raise DataError(f"{ckpt_path}: no checkpoint to export")
            ck = None
            channels = 1 if a.data == "fashion-mnist" else 3 if a.data == "photos" else a.channels
            ucfg, scfg = unet_config(a, channels), sched_config(a)
            init = None
            if a.init:
                # continue from an exported model folder: its config, schedule and weights
                init = dfx_unet.load(a.init)
                ucfg = {"_class_name": "UNet2DModel", **init.config}
                scfg = dfx_sched.load(a.init)
            recipe = {k: getattr(a, k) for k in ("data", "channels", "size", "holdout", "batch", "lr", "warmup",
                                                 "weight_decay", "grad_clip", "ema_decay", "hflip",
                                                 "seed", "timesteps", "matmul_precision", "lr_schedule",
                                                 "prediction", "loss_weight", "snr_gamma")}
            recipe["channels"] = channels
            recipe["lr_final"] = a.lr_final if a.lr_final is not None else a.lr / 10
            recipe["total_steps"] = a.steps
        model = dfx_unet.UNet2DModel(ucfg)
    except (DataError, dfx_unet.ConfigError, dfx_sched.SchedulerConfigError, OSError) as e:
        print(f"train_unet: {e}", file=sys.stderr)
        return 1

    torch.manual_seed(recipe["seed"])
    model = dfx_unet.UNet2DModel(ucfg).to(dev)
    ema = copy.deepcopy(model).eval()
    for p in ema.parameters():
        p.requires_grad_(False)
    opt = torch.optim.AdamW(model.parameters(), lr=recipe["lr"], weight_decay=recipe["weight_decay"])
    gen = torch.Generator().manual_seed(recipe["seed"])
    step, seen, wall = 0, 0, 0.0
    perm, pos = None, 0
    if ck is None and a.init:
        model.load_state_dict(init.state_dict())
        ema.load_state_dict(init.state_dict())
        prev = {}
        if os.path.exists(os.path.join(a.init, "train_info.json")):
            with open(os.path.join(a.init, "train_info.json")) as f:
                prev = json.load(f)
        step, seen, wall = prev.get("steps", 0), prev.get("examples_seen", 0), prev.get("train_wall_seconds", 0.0)
        gen.manual_seed(recipe["seed"] + step)
        # a fresh optimizer needs its own warm-up: full lr on new Adam moments diverged (NaN at +5 steps)
        recipe["warmup_from"] = step
        print(f"train_unet: starting from {a.init} (step {step}; fresh optimizer state)", flush=True)
    if ck is not None:
        model.load_state_dict(ck["model"])
        if "ema" in ck:
            ema.load_state_dict(ck["ema"])
        else:
            # the EMA lives in the exported model folder; the state keeps its hash
            try:
                ema.load_state_dict(dfx_unet.load(a.out).state_dict())
            except (OSError, dfx_unet.ConfigError, RuntimeError) as e:
                print(f"train_unet: {a.out}: cannot read the EMA weights the state {ckpt_path} "
                      f"needs: {e}", file=sys.stderr)
                return 1
            if tensors_sha(ema) != ck["ema_sha256"]:
                print(f"train_unet: {a.out}/unet is not the EMA the state {ckpt_path} was saved with "
                      f"(SHA-256 differs): restore both from the same commit", file=sys.stderr)
                return 1
        opt.load_state_dict(ck["opt"])
        gen.set_state(ck["gen"])
        torch.set_rng_state(ck["torch_rng"])
        step, seen, wall = ck["step"], ck["seen"], ck["wall"]
        perm, pos = ck["perm"], ck["pos"]

    def info():
        p, _ = dfx_unet.count(ema)
        return {"steps": step, "examples_seen": seen, "train_wall_seconds": round(wall, 1),
                "parameters": p, "recipe": recipe, "checkpoint": ckpt_path}

    if a.export_only:
        export(ema, ucfg, scfg, a.out, info(), a.fp16)
        print(f"train_unet: exported step {step} to {a.out}")
        return 0

    try:
        data = load_data(a, recipe)
    except (DataError, OSError) as e:
        print(f"train_unet: {e}", file=sys.stderr)
        return 1
    dch = 3 if not isinstance(data, torch.Tensor) else data.shape[1]
    if dch != ucfg["in_channels"]:
        print(f"train_unet: data has {dch} channels, the model {ucfg['in_channels']}",
              file=sys.stderr)
        return 1
    sampler = not isinstance(data, torch.Tensor)
    n = 0 if sampler else data.shape[0]
    ac = dfx_sched.alphas_cumprod(scfg)
    sa, s1a = ac.sqrt(), (1 - ac).sqrt()
    T = scfg["num_train_timesteps"]
    B = recipe["batch"]
    pcount = dfx_unet.count(model)[0]
    print(f"train_unet: {'photo patches' if sampler else f'{n} images'} "
          f"{(dch, recipe['size'], recipe['size'])}, {pcount} parameters, "
          f"batch {B}, step {step}/{a.steps}", flush=True)
    loss_fn = make_loss(recipe, sa, s1a)
    model.pad_narrow = True
    total = recipe.get("total_steps", a.steps)

    # The gradient check: a fixed batch (its own generator, so the run's sequence is untouched).
    g0 = torch.Generator().manual_seed(12345)
    nb = 16
    x0c = data.batch(nb, g0) if sampler else data[:nb]
    cb = {"x0": x0c.to(dev), "t": torch.randint(0, T, (nb,), generator=g0),
          "eps": torch.randn(x0c.shape, generator=g0).to(dev)}
    try:
        gradcheck.check(model, loss_fn, cb, label="train_unet")
    except gradcheck.GradientError as e:
        print(e, file=sys.stderr)
        return 4

    def save_ckpt():
        # write the EMA (the export) first: a state is only valid with its EMA beside it
        export(ema, ucfg, scfg, a.out, info(), a.fp16)
        atomic_torch_save({"model": model.state_dict(), "ema_sha256": tensors_sha(ema),
                           "opt": opt.state_dict(), "gen": gen.get_state(),
                           "torch_rng": torch.get_rng_state(), "step": step, "seen": seen,
                           "wall": wall, "perm": perm, "pos": pos, "unet_config": ucfg,
                           "sched_config": scfg, "recipe": recipe}, ckpt_path)

    logf = open(os.path.join(work, "train.log.jsonl"), "a")
    t_start = time.time()
    t_ckpt = time.time()
    run_loss, run_n, t_log = 0.0, 0, time.time()
    bad_grads, bad_run = 0, 0  # skipped batches in all, and in a row
    spikes, gnorms = 0, collections.deque(maxlen=200)
    model.train()
    while step < a.steps:
        t0 = time.time()
        if sampler:
            x0 = data.batch(B, gen, hflip=recipe["hflip"])
        else:
            if perm is None or pos + B > n:
                perm, pos = torch.randperm(n, generator=gen), 0
            idx = perm[pos:pos + B]
            pos += B
            x0 = data[idx]
            if recipe["hflip"]:
                flip = torch.rand(B, generator=gen) < 0.5
                x0 = torch.where(flip[:, None, None, None], x0.flip(-1), x0)
        t = torch.randint(0, T, (B,), generator=gen)
        eps = torch.randn(x0.shape, generator=gen).to(dev)
        x0 = x0.to(dev)
        lr = lr_at(recipe, step, total)
        for g in opt.param_groups:
            g["lr"] = lr
        loss = loss_fn(model, {"x0": x0, "t": t, "eps": eps})
        if not torch.isfinite(loss):
            print(f"train_unet: loss is {loss.item()} at step {step}: stopping (the last good "
                  f"checkpoint is {ckpt_path}; lower --lr or check the data)", file=sys.stderr)
            return 3
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gnorm = torch.nn.utils.clip_grad_norm_(
            model.parameters(), recipe["grad_clip"] if recipe["grad_clip"] > 0 else float("inf"))
        spike = (a.spike_factor > 0 and torch.isfinite(gnorm) and len(gnorms) >= 20
                 and gnorm.item() > a.spike_factor * statistics.median(gnorms))
        if spike:
            # On the 2026-11 AVX-512 VMs PyTorch's CPU kernels now and then returned garbage (see the
            # top); a finite one shows as a gradient many times the recent ones: skip it like a NaN.
            spikes += 1
            print(f"train_unet: gradient norm {gnorm.item():.3g} at step {step} is over {a.spike_factor:g}x "
                  f"the median of the last {len(gnorms)} ({statistics.median(gnorms):.3g}): batch skipped "
                  f"({spikes} so far)", file=sys.stderr, flush=True)
        if torch.isfinite(gnorm) and not spike:
            gnorms.append(gnorm.item())
        if not torch.isfinite(gnorm) or spike:
            # one non-finite gradient would poison the weights and the Adam moments: skip the batch
            bad_grads += 1
            bad_run += 1
            where = [n for n, p in model.named_parameters()
                     if p.grad is not None and not torch.isfinite(p.grad).all()]
            if not spike:
                print(f"train_unet: non-finite gradient at step {step} in {len(where)} tensors "
                      f"({', '.join(where[:3])}{', ...' if len(where) > 3 else ''}): batch skipped "
                      f"({bad_grads} so far)", file=sys.stderr, flush=True)
            if bad_grads == 1 and not spike:
                torch.save({"x0": x0, "t": t, "eps": eps, "step": step, "model": model.state_dict()},
                           os.path.join(work, "nonfinite-batch.pt"))
            if bad_run > 10:
                print(f"train_unet: {bad_run} non-finite or outlier gradients in a row: stopping (the last good "
                      f"checkpoint is {ckpt_path}; lower --lr)", file=sys.stderr)
                return 3
            continue
        bad_run = 0
        opt.step()
        d = min(recipe["ema_decay"], (1 + step) / (10 + step))
        with torch.no_grad():
            for pe, pm in zip(ema.parameters(), model.parameters()):
                pe.mul_(d).add_(pm.detach(), alpha=1 - d)
            for be, bm in zip(ema.buffers(), model.buffers()):
                be.copy_(bm)
        step += 1
        seen += B
        wall += time.time() - t0
        run_loss += loss.item()
        run_n += 1
        if step % a.log_every == 0 or step == a.steps:
            rec = {"step": step, "loss": round(run_loss / run_n, 5), "lr": lr,
                   "s_per_step": round((time.time() - t_log) / run_n, 3),
                   "wall": round(wall, 1), "time": time.strftime("%H:%M:%S")}
            logf.write(json.dumps(rec) + "\n")
            logf.flush()
            print(json.dumps(rec), flush=True)
            run_loss, run_n, t_log = 0.0, 0, time.time()
        out_of_time = ((a.max_minutes > 0 and time.time() - t_start > a.max_minutes * 60)
                       or (a.stop_at > 0 and step >= a.stop_at))
        if time.time() - t_ckpt > a.ckpt_minutes * 60 or step == a.steps or out_of_time:
            save_ckpt()
            t_ckpt = time.time()
            print(f"train_unet: checkpoint at step {step}", flush=True)
        if out_of_time:
            print(f"train_unet: stopping at step {step} (--max-minutes or --stop-at)", flush=True)
            break
    logf.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
