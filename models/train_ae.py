#!/usr/bin/env python3
"""train_ae.py — train a small diffusers AutoencoderKL on CPU as a plain autoencoder or a KL-VAE,
on a checked gradient, for the latent diagnostics (issue 22, docs/latent-diagnostics.md).

  train_ae.py --kind ae|vae --out DIR [--data fashion-mnist] [--steps N] [--max-minutes M] ...

Both kinds share one architecture (models/dfx_vae.py; --channels-per-level, default
16,32,32: ÷4, a 32×32 image becomes --latent-channels × 8 × 8) and one reconstruction
loss, the mean squared error on [-1, 1]:
  ae   decode(mean(x)) — the encoder's log-variance half is unused (its gradient is 0);
  vae  decode(mean + exp(logvar/2)·ε) plus --kl-weight × KL(q(z|x) ‖ N(0, I)) per data value
       (the KL summed over the latent, divided by the image's values, as the MSE is a mean).
Adam, a linear warm-up, --batch images per step, deterministic for --seed.

Before the first step the float32 gradient of the loss on a fixed batch (its own noise) is
compared with float64 for every parameter tensor (models/gradcheck.py); above 1e-4 the
script refuses to train, naming the tensor (exit status 4).

At the end (--steps or --max-minutes, whichever first) it sets the config's scaling_factor
to 1/std of the latent means over 2048 training images (as Stable Diffusion's VAE is
scaled: a latent diffusion model then sees unit variance), and writes
  DIR/vae/config.json, DIR/vae/diffusion_pytorch_model.safetensors
  DIR/train_info.json   kind, recipe, steps, seconds, the last losses, the gradient
                        check's worst tensor, scaling_factor, and the reconstruction MSE
                        and PSNR on the first --eval test images (mean latents, [-1, 1])
No checkpointing: a run is meant to fit in one sitting (an hour of one core or less).
"""

import argparse
import json
import math
import os
import sys
import time

os.environ.setdefault("ONEDNN_MAX_CPU_ISA", "AVX2")  # as train_unet.py: AVX-512 oneDNN kernels misbehaved
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dfx_data  # noqa: E402
import dfx_vae  # noqa: E402
import gradcheck  # noqa: E402


def make_loss(kind, kl_weight):
    """loss_fn(model, batch) with batch = {x, eps}; eps is the VAE's reparameterisation noise."""
    def loss_fn(model, b):
        x = b["x"]
        mean, logvar = model.encode(x)
        if kind == "ae":
            return F.mse_loss(model.decode(mean), x)
        z = mean + torch.exp(0.5 * logvar) * b["eps"]
        kl = 0.5 * (mean * mean + logvar.exp() - 1.0 - logvar).flatten(1).sum(1)
        return F.mse_loss(model.decode(z), x) + kl_weight * (kl / x[0].numel()).mean()
    return loss_fn


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kind", required=True, choices=("ae", "vae"))
    ap.add_argument("--out", required=True, help="model folder to write (DIR/vae, DIR/train_info.json)")
    ap.add_argument("--data", default="fashion-mnist", help="a models/dfx_data.py source")
    ap.add_argument("--channels", type=int, default=1, choices=(1, 3))
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--channels-per-level", default="16,32,32", help="block_out_channels")
    ap.add_argument("--latent-channels", type=int, default=4)
    ap.add_argument("--layers-per-block", type=int, default=1)
    ap.add_argument("--groups", type=int, default=8, help="norm_num_groups")
    ap.add_argument("--no-mid-attention", action="store_true")
    ap.add_argument("--kl-weight", type=float, default=1e-3, help="vae: weight of the KL per data value")
    ap.add_argument("--steps", type=int, default=20000)
    ap.add_argument("--max-minutes", type=float, default=60.0, help="stop after this wall time (0: no limit)")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--eval", type=int, default=1000, help="test images for the reconstruction error")
    ap.add_argument("--log-every", type=int, default=100)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    boc = [int(c) for c in a.channels_per_level.split(",")]
    cfg = dict(block_out_channels=boc, down_block_types=["DownEncoderBlock2D"] * len(boc),
               up_block_types=["UpDecoderBlock2D"] * len(boc), layers_per_block=a.layers_per_block,
               norm_num_groups=a.groups, latent_channels=a.latent_channels, in_channels=a.channels,
               out_channels=a.channels, sample_size=a.size, scaling_factor=1.0,
               mid_block_add_attention=not a.no_mid_attention)
    try:
        model = dfx_vae.AutoencoderKL(dict(cfg))
        data = dfx_data.load(a.data, "train", a.channels, a.size)
        test = dfx_data.load(a.data, "test", a.channels, a.size)[: a.eval]
    except (dfx_vae.ConfigError, dfx_data.DataError, OSError) as e:
        print(f"train_ae: {e}", file=sys.stderr)
        return 1
    n = data.shape[0]
    loss_fn = make_loss(a.kind, a.kl_weight)
    gen = torch.Generator().manual_seed(a.seed)
    g0 = torch.Generator().manual_seed(12345)
    xc = data[:16]
    try:
        rows, _, _ = gradcheck.check(model, loss_fn, {"x": xc, "eps": torch.randn(
            (16, a.latent_channels, a.size // model.downscale(), a.size // model.downscale()), generator=g0)},
            label=f"train_ae {a.kind}")
    except gradcheck.GradientError as e:
        print(e, file=sys.stderr)
        return 4
    print(f"train_ae: {a.kind}, {n} images {tuple(data.shape[1:])}, {dfx_vae.count(model)[0]} parameters, "
          f"latent {a.latent_channels}x{a.size // model.downscale()}x{a.size // model.downscale()}", flush=True)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    t0, step, perm, pos, run, runn, last = time.time(), 0, None, 0, 0.0, 0, []
    model.train()
    while step < a.steps and (a.max_minutes <= 0 or time.time() - t0 < 60 * a.max_minutes):
        if perm is None or pos + a.batch > n:
            perm, pos = torch.randperm(n, generator=gen), 0
        x = data[perm[pos:pos + a.batch]]
        pos += a.batch
        f = model.downscale()
        eps = torch.randn((x.shape[0], a.latent_channels, a.size // f, a.size // f), generator=gen)
        for g in opt.param_groups:
            g["lr"] = a.lr * min(1.0, (step + 1) / max(a.warmup, 1))
        loss = loss_fn(model, {"x": x, "eps": eps})
        if not torch.isfinite(loss):
            print(f"train_ae: loss {loss.item()} at step {step}: stopping (lower --lr)", file=sys.stderr)
            return 3
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        run, runn = run + loss.item(), runn + 1
        if step % a.log_every == 0:
            last.append(run / runn)
            print(f"train_ae: step {step} loss {run / runn:.5f} ({time.time() - t0:.0f} s)", flush=True)
            run, runn = 0.0, 0
    secs = time.time() - t0
    model.eval()
    with torch.no_grad():
        mu = torch.cat([model.encode(data[i:i + 256])[0] for i in range(0, min(n, 2048), 256)])
        scale = 1.0 / mu.std().item()
        rec = torch.cat([model.decode(model.encode(test[i:i + 256])[0]) for i in range(0, test.shape[0], 256)])
        mse = F.mse_loss(rec, test).item()
    cfg["scaling_factor"] = scale
    dfx_vae.save(model, a.out, config=cfg)
    info = dict(kind=a.kind, data=a.data, size=a.size, recipe=vars(a), config=cfg, steps=step,
                seconds=round(secs, 1), last_losses=last[-5:], gradcheck_worst=[rows[0][0], rows[0][1]],
                scaling_factor=scale, latent_std=1.0 / scale, recon_mse_test=mse,
                recon_psnr_test=10 * math.log10(4.0 / mse) if mse > 0 else float("inf"),
                eval_images=int(test.shape[0]), parameters=dfx_vae.count(model)[0])
    with open(os.path.join(a.out, "train_info.json"), "w") as f:
        json.dump(info, f, indent=2)
        f.write("\n")
    print(f"train_ae: {a.kind} {step} steps in {secs:.0f} s; test reconstruction MSE {mse:.5f} "
          f"(PSNR {info['recon_psnr_test']:.2f} dB on [-1, 1]); scaling_factor {scale:.4g}; wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
