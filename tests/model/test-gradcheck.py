#!/usr/bin/env python3
"""test-gradcheck.py — the training scripts' float64 gradient check on every shipped network.

Issue 18: the shipped networks were trained on a float32 gradient 0.3–0.95 off
(oneDNN's backward of the narrow output convolution).  train_unet.py and
train_fisher.py now compare their float32 training gradient with float64 on a
fixed batch before the first step (models/gradcheck.py) and refuse above 1e-4.
This test runs that same check, in the scripts' own configuration (imported
from them: the oneDNN cap, one thread, the matmul precision, conv_out padded,
their loss with the model's recorded prediction type and weighting), on every
shipped architecture: each models/*/unet (grey and colour U-Nets, the
photo model once trained) and each models/*/fisher head, and asserts every
parameter tensor within 1e-4.

It also proves the check can fail: a backward hook that perturbs conv_out's
input gradient by 1e-3 relative (what a faulty kernel does) must be refused,
naming a tensor upstream of it.
"""

import argparse
import json
import os
import sys

import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", required=True)
    a = ap.parse_args()
    sys.path.insert(0, a.models)
    import train_unet  # noqa: F401  (sets the oneDNN cap before torch's first convolution)
    import train_fisher
    import dfx_sched
    import dfx_unet
    import gradcheck

    torch.set_num_threads(1)
    failures, checked = [], 0
    folders = sorted(d for d in os.listdir(a.models)
                     if os.path.isfile(os.path.join(a.models, d, "unet", "config.json")))
    if not folders:
        print(f"no model folders under {a.models}", file=sys.stderr)
        return 1
    for name in folders:
        mdir = os.path.join(a.models, name)
        recipe = {}
        info = os.path.join(mdir, "train_info.json")
        if os.path.exists(info):
            with open(info) as f:
                recipe = json.load(f).get("recipe", {})
        torch.set_float32_matmul_precision("highest")  # the scripts' default since issue 18
        scfg = dfx_sched.load(mdir)
        ac = dfx_sched.alphas_cumprod(scfg)
        sa, s1a = ac.sqrt(), (1 - ac).sqrt()
        unet = dfx_unet.load(mdir)
        unet.pad_narrow = True
        unet.train()
        c = unet.config
        s = c["sample_size"] if isinstance(c["sample_size"], int) else c["sample_size"][0]
        g = torch.Generator().manual_seed(7)
        x0 = torch.rand(16, c["in_channels"], s, s, generator=g) * 2 - 1
        batch = {"x0": x0, "t": torch.randint(0, sa.shape[0], (16,), generator=g),
                 "eps": torch.randn(x0.shape, generator=g)}
        rec = {"prediction": scfg["prediction_type"], "loss_weight": recipe.get("loss_weight", "uniform"),
               "snr_gamma": recipe.get("snr_gamma", 5.0)}
        loss_fn = train_unet.make_loss(rec, sa, s1a)
        try:
            rows, _, _ = gradcheck.check(unet, loss_fn, batch, label=f"{name}/unet")
            checked += 1
        except gradcheck.GradientError as e:
            failures.append(str(e))
        if os.path.isfile(os.path.join(mdir, "fisher", "config.json")):
            head = dfx_unet.load(mdir, subfolder="fisher")
            head.train()
            head.pad_narrow = True  # as train_fisher.train() sets it before its own check
            try:
                train_fisher.check_gradient(head, x0, sa, s1a)
                checked += 1
            except gradcheck.GradientError as e:
                failures.append(str(e))

        if name == folders[0]:
            # the check must refuse a wrong backward: perturb conv_out's input gradient
            def hook(mod, gin, gout):
                return tuple(gi * (1 + 1e-3 * torch.randn_like(gi)) if gi is not None else None
                             for gi in gin)
            h = unet.conv_out.register_full_backward_hook(hook)
            unet.pad_narrow = False  # the hook sits on the module's own call
            try:
                gradcheck.check(unet, loss_fn, batch, label=f"{name}/unet with a faulty backward")
                failures.append(f"{name}: a 1e-3 perturbation of conv_out's input gradient was not refused")
            except gradcheck.GradientError as e:
                print(f"refused as it should be: {e}".split("; refusing")[0])
            finally:
                h.remove()
                unet.pad_narrow = True
    print(f"{checked} networks checked in {len(folders)} model folders")
    for f in failures:
        print(f"FAIL: {f}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
