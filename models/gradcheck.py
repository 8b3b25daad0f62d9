#!/usr/bin/env python3
"""gradcheck.py — the float64 check every training script runs before its first step.

A model trained on a wrong gradient looks like a model that needs more steps:
on AVX-512 CPUs oneDNN's backward of the narrow output convolution (24→1 or
24→3 channels) returned a gradient 0.3–0.95 off in relative L2, and every
upstream gradient flows through it.  So each script computes, on one fixed
batch, the gradient of its own loss in the configuration it trains with
(float32, its thread count, its CPU kernels) and in float64 on the same
weights (a copy of the model, no oneDNN: PyTorch has no float64 oneDNN
kernels), and refuses to train when any parameter tensor's relative error
‖g32 − g64‖ / max(‖g64‖, 1e-3 ‖g64 of all tensors‖) is above the tolerance (1e-4),
naming the tensor.  (The floor is for tensors whose true gradient is zero, such as an
attention key bias, where float64 gives 1e-17 and float32 1e-9.)

check(model, loss_fn, batch) -> list of (name, rel_err, norm64), worst first;
raises GradientError when one is over tol.  loss_fn(model, batch) must cast
nothing itself: check() passes the batch as float32 for the model and as
float64 for the copy (integer tensors such as timesteps unchanged).

As a script: `gradcheck.py MODEL_DIR [--subfolder unet|fisher]` runs the
check on a saved model folder with the ε-MSE loss on a random batch and
prints the table; it writes nothing.
"""

import argparse
import copy
import os
import sys

import torch

TOL = 1e-4
FLOOR = 1e-3  # a tensor's gradient norm is taken as at least this fraction of the total


class GradientError(RuntimeError):
    """The float32 gradient of a tensor is further than tol from float64 (message names it)."""


def _cast(batch, dtype):
    if isinstance(batch, torch.Tensor):
        return batch.to(dtype) if batch.is_floating_point() else batch
    if isinstance(batch, (list, tuple)):
        return type(batch)(_cast(b, dtype) for b in batch)
    if isinstance(batch, dict):
        return {k: _cast(v, dtype) for k, v in batch.items()}
    return batch


def gradients(model, loss_fn, batch):
    model.zero_grad(set_to_none=True)
    loss = loss_fn(model, batch)
    loss.backward()
    g = {n: (p.grad.detach().clone() if p.grad is not None else torch.zeros_like(p))
         for n, p in model.named_parameters() if p.requires_grad}
    model.zero_grad(set_to_none=True)
    return loss.detach(), g


def check(model, loss_fn, batch, tol=TOL, label="gradcheck"):
    """Compare model's float32 gradient of loss_fn on batch with float64's, every parameter.

    Returns [(name, rel, norm64)] sorted worst first and the two losses; raises GradientError
    naming the worst tensor when any rel > tol.  The model's own parameters, gradients and
    mode are left as they were (its .grad is cleared)."""
    was_training = model.training
    ref = copy.deepcopy(model).double()
    ref.train(was_training)
    mkl = torch.backends.mkldnn.enabled
    try:
        torch.backends.mkldnn.enabled = False  # float64 never runs on oneDNN; make it explicit
        l64, g64 = gradients(ref, loss_fn, _cast(batch, torch.float64))
    finally:
        torch.backends.mkldnn.enabled = mkl
    l32, g32 = gradients(model, loss_fn, _cast(batch, torch.float32))
    rows = []
    # A tensor whose true gradient vanishes (an attention key bias: softmax ignores a shift) is
    # judged against FLOOR times the whole gradient's norm instead of its own ~1e-17.
    total = torch.sqrt(sum(a.norm() ** 2 for a in g64.values())).item()
    for name, a in g64.items():
        b = g32[name].double()
        na = a.norm().item()
        err = (b - a).norm().item()
        if not torch.isfinite(b).all():
            rel = float("inf")
        else:
            scale = max(na, FLOOR * total)
            rel = err / scale if scale > 0 else (0.0 if err == 0.0 else float("inf"))
        rows.append((name, rel, na))
    rows.sort(key=lambda r: -r[1])
    lrel = abs(l32.item() - l64.item()) / max(abs(l64.item()), 1e-30)
    worst = rows[0]
    print(f"{label}: float32 vs float64 on a fixed batch: {len(rows)} tensors, worst "
          f"{worst[0]} {worst[1]:.2e}, loss {l32.item():.6f} vs {l64.item():.6f} ({lrel:.1e})",
          flush=True)
    bad = [r for r in rows if r[1] > tol]
    if bad or lrel > tol:
        what = (f"the gradient of {bad[0][0]} is {bad[0][1]:.3g} off in relative L2"
                f"{f' (and {len(bad) - 1} more tensors)' if len(bad) > 1 else ''}"
                if bad else f"the loss is {lrel:.3g} off")
        raise GradientError(f"{label}: float32 {what} from float64 (tolerance {tol:g}); refusing "
                            f"to train on a wrong gradient. Check the CPU kernel caps "
                            f"(ONEDNN_MAX_CPU_ISA, ATEN_CPU_CAPABILITY) and torch's matmul precision.")
    return rows, l32.item(), l64.item()


def eps_loss_batch(model, n=8, seed=0, T=1000):
    """A fixed ε-MSE batch for a model (random images on [-1, 1], linear-β DDPM noise)."""
    c = model.config
    g = torch.Generator().manual_seed(seed)
    s = c["sample_size"] or 32
    s = s if isinstance(s, int) else s[0]
    x0 = torch.rand(n, c["in_channels"], s, s, generator=g) * 2 - 1
    betas = torch.linspace(1e-4, 0.02, T, dtype=torch.float64)
    ac = torch.cumprod(1 - betas, 0)
    t = torch.randint(0, T, (n,), generator=g)
    eps = torch.randn(x0.shape, generator=g)
    a = ac[t].sqrt()[:, None, None, None].float()
    b = (1 - ac[t]).sqrt()[:, None, None, None].float()
    return {"xt": a * x0 + b * eps, "t": t, "target": eps if c["out_channels"] == c["in_channels"]
            else torch.randn(n, c["out_channels"], s, s, generator=g)}


def eps_loss(model, b):
    return torch.mean((model(b["xt"], b["t"]) - b["target"]) ** 2)


def main():
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import dfx_unet
    ap = argparse.ArgumentParser(description="Check a model folder's float32 training gradient "
                                 "against float64 on a fixed batch; prints the worst tensors, writes nothing.")
    ap.add_argument("model")
    ap.add_argument("--subfolder", default="unet")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--tol", type=float, default=TOL)
    ap.add_argument("--matmul-precision", default="highest", choices=("highest", "high", "medium"))
    ap.add_argument("--no-pad", action="store_true", help="do not pad narrow convolutions (shows the fault)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.set_float32_matmul_precision(a.matmul_precision)
    m = dfx_unet.load(a.model, subfolder=a.subfolder)
    m.pad_narrow = not a.no_pad
    m.train()
    try:
        rows, _, _ = check(m, eps_loss, eps_loss_batch(m, a.batch), a.tol, label=a.model)
    except GradientError as e:
        print(e, file=sys.stderr)
        return 1
    for name, rel, n in rows[:5]:
        print(f"  {rel:.2e}  {name}  (|g64| {n:.3g})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
