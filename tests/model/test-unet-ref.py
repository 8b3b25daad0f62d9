#!/usr/bin/env python3
"""test-unet-ref.py — self-test of dfx's PyTorch U-Net reference (models/dfx_unet.py),
its schedule (models/dfx_sched.py) and golden writer (models/make_golden.py).

Needs no Vulkan.  Asserts against facts that do not come from the module
itself: the published size of google/ddpm-cifar10-32 (35,746,307 parameters,
328 tensors), diffusers tensor names, hand-computed sinusoid values, conv
output-size arithmetic, a second, loop-based functional forward written from
the same architecture notes, and float32-vs-float64 agreement.

usage: test-unet-ref.py [--models DIR]   (exit 0 when every check passes)
"""

import argparse
import json
import math
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.normpath(os.path.join(HERE, "..", "..", "models"))

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print(f"FAIL: {what}")
    return cond


def close(a, b, tol=1e-12):
    return abs(a - b) <= tol * max(1.0, abs(b))


def rel_l2(a, b):
    a, b = a.double(), b.double()
    return ((a - b).norm() / b.norm()).item()


def cfg(name):
    with open(os.path.join(MODELS, "configs", name + ".json")) as f:
        return json.load(f)


def test_cifar_counts(U):
    m = U.UNet2DModel(cfg("ddpm-cifar10-32"))
    p, n = U.count(m)
    check(p == 35_746_307, f"cifar10 parameters {p} != 35,746,307")
    check(n == 328, f"cifar10 tensors {n} != 328")
    sd = m.state_dict()
    shapes = {
        "conv_in.weight": (128, 3, 3, 3),
        "time_embedding.linear_1.weight": (512, 128),
        "time_embedding.linear_2.weight": (512, 512),
        "down_blocks.0.resnets.0.norm1.weight": (128,),
        "down_blocks.0.downsamplers.0.conv.weight": (128, 128, 3, 3),
        "down_blocks.1.resnets.0.conv_shortcut.weight": (256, 128, 1, 1),
        "down_blocks.1.attentions.0.to_q.weight": (256, 256),
        "down_blocks.1.attentions.1.to_out.0.bias": (256,),
        "down_blocks.1.attentions.0.group_norm.weight": (256,),
        "mid_block.attentions.0.group_norm.weight": (256,),
        "mid_block.resnets.1.time_emb_proj.weight": (256, 512),
        "up_blocks.0.resnets.2.conv_shortcut.weight": (256, 512, 1, 1),
        "up_blocks.0.upsamplers.0.conv.weight": (256, 256, 3, 3),
        "up_blocks.2.attentions.2.to_k.weight": (256, 256),
        "up_blocks.3.resnets.0.conv1.weight": (128, 384, 3, 3),
        "up_blocks.3.resnets.2.conv1.weight": (128, 256, 3, 3),
        "conv_norm_out.weight": (128,),
        "conv_out.weight": (3, 128, 3, 3),
    }
    for k, s in shapes.items():
        if check(k in sd, f"cifar10: missing tensor {k}"):
            check(tuple(sd[k].shape) == s, f"cifar10: {k} shape {tuple(sd[k].shape)} != {s}")
    for k in ("down_blocks.0.attentions.0.to_q.weight", "down_blocks.3.downsamplers.0.conv.weight",
              "up_blocks.3.upsamplers.0.conv.weight", "down_blocks.0.resnets.0.conv_shortcut.weight",
              "up_blocks.2.attentions.3.to_q.weight", "down_blocks.1.attentions.0.query.weight"):
        check(k not in sd, f"cifar10: unexpected tensor {k}")


def test_structure(U):
    sd = U.UNet2DModel(cfg("tiny-scaleshift-mh")).state_dict()
    check("mid_block.attentions.0.group_norm.weight" not in sd,
          "scale_shift + attn_norm_num_groups null: mid attention must have no group_norm")
    check("down_blocks.0.attentions.0.group_norm.weight" in sd, "down attention keeps its group_norm")
    check(tuple(sd["down_blocks.0.resnets.0.time_emb_proj.weight"].shape) == (64, 128),
          "scale_shift time_emb_proj is T -> 2C")
    m = U.UNet2DModel(cfg("tiny-scaleshift-mh"))
    check(m.down_blocks[0].attentions[0].heads == 4, "attention_head_dim 8 on 32 channels: 4 heads")
    m = U.UNet2DModel(cfg("tiny-scaleshift-midattn"))
    gn = m.mid_block.attentions[0].group_norm
    check(gn is not None and gn.num_groups == 4, "attn_norm_num_groups 4 gives the mid attention 4 groups")
    check(m.mid_block.resnets[0].output_scale_factor == math.sqrt(2), "mid resnets use mid_block_scale_factor")
    check(tuple(m.time_embedding.linear_2.weight.shape) == (96, 96), "time_embedding_dim 96")
    check(m.down_blocks[0].resnets[0].output_scale_factor == 1.0, "only the mid block rescales")
    m = U.UNet2DModel(cfg("tiny-pad1-nomid"))
    check(m.mid_block is None, "mid_block_type null: no mid block")
    m = U.UNet2DModel(cfg("small-rect-oldattn"))
    check(m.mid_block.attentions is None, "add_attention false: mid block without attention")
    # diffusers default attention_head_dim is 8 when the field is absent.
    c = cfg("tiny-pad1-nomid")
    del c["attention_head_dim"]
    check(U.UNet2DModel(c).up_blocks[1].attentions[0].heads == 6, "absent attention_head_dim means 8")


def test_refusals(U):
    base = cfg("tiny-scaleshift-mh")
    cases = [
        ({"time_embedding_type": "fourier"}, "time_embedding_type"),
        ({"resnet_time_scale_shift": "spatial"}, "resnet_time_scale_shift"),
        ({"down_block_types": ["AttnDownBlock2D", "CrossAttnDownBlock2D"]}, "down_block_types[1]"),
        ({"up_block_types": ["AttnSkipUpBlock2D", "AttnUpBlock2D"]}, "up_block_types[0]"),
        ({"mid_block_type": "UNetMidBlock2DCrossAttn"}, "mid_block_type"),
        ({"class_embed_type": "timestep"}, "class_embed_type"),
        ({"downsample_padding": 2}, "downsample_padding"),
        ({"downsample_type": "resnet"}, "downsample_type"),
        ({"act_fn": "gelu"}, "act_fn"),
        ({"norm_num_groups": 7}, "norm_num_groups"),
        ({"attention_head_dim": 12}, "attention_head_dim"),
        ({"block_out_channels": [32]}, "down_block_types"),
        ({"cross_attention_dim": 768}, "cross_attention_dim"),
        ({"_class_name": "UNet2DConditionModel"}, "_class_name"),
    ]
    for change, field in cases:
        try:
            U.UNet2DModel(dict(base, **change))
            check(False, f"config {change} was accepted")
        except U.ConfigError as e:
            check(str(e).startswith(field), f"config {change}: error {e!r} does not name {field}")


def test_timestep_embedding(U):
    import torch
    t = torch.tensor([3.0])
    # freq_shift 0, dim 8: freqs 10000^(-i/4) = 1, 0.1, 0.01, 0.001.
    e = U.timestep_embedding(t, 8, False, 0)[0].tolist()
    want = [0.1411200080598672, 0.29552020666133955, 0.029995500202495664, 0.0029999955000020248,
            -0.9899924966004454, 0.955336489125606, 0.9995500337489875, 0.9999955000033749]
    check(all(close(a, b) for a, b in zip(e, want)), f"embedding t=3 dim 8: {e}")
    e = U.timestep_embedding(t, 8, True, 0)[0].tolist()
    check(all(close(a, b) for a, b in zip(e, want[4:] + want[:4])), "flip_sin_to_cos swaps halves")
    # freq_shift 1, t=2: freqs 10000^(-i/3) = 1, 10^(-4/3), 10^(-8/3), 1e-4.
    freqs = [1.0, 10 ** (-4 / 3), 10 ** (-8 / 3), 1e-4]
    want = [math.sin(2 * f) for f in freqs] + [math.cos(2 * f) for f in freqs]
    e = U.timestep_embedding(torch.tensor([2.0]), 8, False, 1)[0].tolist()
    check(all(close(a, b) for a, b in zip(e, want)), f"embedding t=2 freq_shift 1: {e}")
    check(close(e[0], 0.9092974268256817) and close(e[4], -0.4161468365471424), "sin 2, cos 2")

    m = U.UNet2DModel(cfg("tiny-pad1-nomid")).double()
    x = torch.randn(2, 3, 16, 16, dtype=torch.float64, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        y_int = m(x, 500)
        y_vec = m(x, torch.tensor([500.0, 500.0]))
        y_one = m(x, torch.tensor(500.0))
        y_mix = m(x, torch.tensor([500.0, 7.5]))
        y_other = m(x, 7.5)
    check(torch.equal(y_int, y_vec) and torch.equal(y_int, y_one), "scalar, 0-d and vector timesteps agree")
    check(torch.equal(y_mix[0], y_int[0]) and torch.allclose(y_mix[1], y_other[1], rtol=0, atol=1e-12),
          "per-item timesteps act per item")
    check(rel_l2(y_int, y_other) > 1e-2, "the output depends on the timestep")


def test_downsample(U):
    import torch
    import torch.nn.functional as F
    x = torch.randn(1, 4, 5, 7, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    d0, d1 = U.Downsample2D(4, 0).double(), U.Downsample2D(4, 1).double()
    with torch.no_grad():
        y0, y1 = d0(x), d1(x)
    # out = floor((in + pad_total - 3) / 2) + 1: pad 0 → 6, 8 → 2, 3; pad 1 → 7, 9 → 3, 4
    check(tuple(y0.shape) == (1, 4, 2, 3), f"padding 0 on 5x7: {tuple(y0.shape)} != (1,4,2,3)")
    check(tuple(y1.shape) == (1, 4, 3, 4), f"padding 1 on 5x7: {tuple(y1.shape)} != (1,4,3,4)")
    xe = torch.randn(1, 4, 8, 6, dtype=torch.float64)
    with torch.no_grad():
        check(tuple(d0(xe).shape) == tuple(d1(xe).shape) == (1, 4, 4, 3), "8x6 halves with both paddings")
        # padding 0 = zeros on the right and bottom only: output (0,0) sees x[0:3, 0:3].
        w, b = d0.conv.weight, d0.conv.bias
        ref = (w * xe[0, :, 0:3, 0:3]).sum(dim=(1, 2, 3)) + b
        check(torch.allclose(d0(xe)[0, :, 0, 0], ref, atol=1e-12), "padding 0 starts at x[0,0]")
        last = F.pad(xe, (0, 1, 0, 1))[0, :, 6:9, 4:7]
        ref = (w * last).sum(dim=(1, 2, 3)) + b
        check(torch.allclose(d0(xe)[0, :, 3, 2], ref, atol=1e-12), "padding 0 pads bottom/right")


def functional_forward(sd, c, x, t):
    """A second forward, by hand from the state dict: explicit per-head loops and
    explicit skip indexing, independent of the module classes."""
    import torch
    import torch.nn.functional as F
    g, eps = c["norm_num_groups"], c["norm_eps"]
    boc, nl = c["block_out_channels"], c["layers_per_block"]
    ss = c["resnet_time_scale_shift"] == "scale_shift"

    def gn(h, p, groups=g):
        return F.group_norm(h, groups, sd[p + ".weight"], sd[p + ".bias"], eps)

    def conv(h, p, stride=1, pad=1):
        return F.conv2d(h, sd[p + ".weight"], sd[p + ".bias"], stride=stride, padding=pad)

    def lin(h, p):
        return h @ sd[p + ".weight"].T + sd[p + ".bias"]

    def resnet(h, p, osf=1.0):
        y = conv(F.silu(gn(h, p + ".norm1")), p + ".conv1")
        tp = lin(F.silu(temb), p + ".time_emb_proj")
        if ss:
            co = y.shape[1]
            y = gn(y, p + ".norm2") * (1 + tp[:, :co, None, None]) + tp[:, co:, None, None]
        else:
            y = gn(y + tp[:, :, None, None], p + ".norm2")
        y = conv(F.silu(y), p + ".conv2")
        if p + ".conv_shortcut.weight" in sd:
            h = conv(h, p + ".conv_shortcut", pad=0)
        return (h + y) / osf

    def attn(h, p, head_dim, osf=1.0):
        b, ch, hh, ww = h.shape
        z = h
        if p + ".group_norm.weight" in sd:  # presence is checked separately (test_structure)
            mid_groups = c["attn_norm_num_groups"] if p.startswith("mid_block") else None
            z = gn(h, p + ".group_norm", mid_groups or g)
        z = z.flatten(2).transpose(1, 2)
        q, k, v = lin(z, p + ".to_q"), lin(z, p + ".to_k"), lin(z, p + ".to_v")
        outs = []
        for i in range(ch // head_dim):
            s = slice(i * head_dim, (i + 1) * head_dim)
            a = torch.softmax(q[..., s] @ k[..., s].transpose(1, 2) / math.sqrt(head_dim), dim=-1)
            outs.append(a @ v[..., s])
        o = lin(torch.cat(outs, dim=-1), p + ".to_out.0")
        return (o.transpose(1, 2).reshape(b, ch, hh, ww) + h) / osf

    half = boc[0] // 2
    f = torch.tensor([10000.0 ** (-i / (half - c["freq_shift"])) for i in range(half)], dtype=torch.float64)
    a = t[:, None] * f[None]
    e = torch.cat([a.cos(), a.sin()] if c["flip_sin_to_cos"] else [a.sin(), a.cos()], dim=1)
    temb = lin(F.silu(lin(e, "time_embedding.linear_1")), "time_embedding.linear_2")
    if c["center_input_sample"]:
        x = 2 * x - 1
    h = conv(x, "conv_in")
    res = [h]
    for i, bt in enumerate(c["down_block_types"]):
        for j in range(nl):
            h = resnet(h, f"down_blocks.{i}.resnets.{j}")
            if bt == "AttnDownBlock2D":
                h = attn(h, f"down_blocks.{i}.attentions.{j}", c["attention_head_dim"] or boc[i])
            res.append(h)
        if i < len(boc) - 1:
            if c["downsample_padding"] == 0:
                h = conv(F.pad(h, (0, 1, 0, 1)), f"down_blocks.{i}.downsamplers.0.conv", 2, 0)
            else:
                h = conv(h, f"down_blocks.{i}.downsamplers.0.conv", 2, 1)
            res.append(h)
    if c["mid_block_type"]:
        osf = c["mid_block_scale_factor"]
        h = resnet(h, "mid_block.resnets.0", osf)
        if c["add_attention"]:
            h = attn(h, "mid_block.attentions.0", c["attention_head_dim"] or boc[-1], osf)
        h = resnet(h, "mid_block.resnets.1", osf)
    n = len(boc)
    for i, bt in enumerate(c["up_block_types"]):
        for j in range(nl + 1):
            h = resnet(torch.cat([h, res[-1]], 1), f"up_blocks.{i}.resnets.{j}")
            res = res[:-1]
            if bt == "AttnUpBlock2D":
                h = attn(h, f"up_blocks.{i}.attentions.{j}", c["attention_head_dim"] or boc[n - 1 - i])
        if i < n - 1:
            h = conv(h.repeat_interleave(2, 2).repeat_interleave(2, 3), f"up_blocks.{i}.upsamplers.0.conv")
    assert not res
    return conv(F.silu(gn(h, "conv_norm_out")), "conv_out")


def test_forward(U, G):
    import torch
    for name in ("tiny-scaleshift-mh", "tiny-pad1-nomid", "small-rect-oldattn", "tiny-scaleshift-midattn"):
        st = G.TEST_CONFIGS[name]
        m32 = U.UNet2DModel(cfg(name))
        G.init_weights(m32, 3)
        m64 = U.UNet2DModel(cfg(name))
        m64.load_state_dict(m32.state_dict())
        m64 = m64.double().eval()
        h, w = st["size"]
        gen = torch.Generator().manual_seed(4)
        x = torch.randn(2, m32.config["in_channels"], h, w, generator=gen)
        t = torch.tensor([999.0, 42.5])
        t0 = time.perf_counter()
        with torch.no_grad():
            y64 = m64(x.double(), t.double())
            t64 = time.perf_counter() - t0
            y32 = m32.eval()(x, t)
            yf = functional_forward({k: v.double() for k, v in m32.state_dict().items()},
                                    m32.config, x.double(), t.double())
        e32, ef = rel_l2(y32, y64), rel_l2(yf, y64)
        rms = y64.pow(2).mean().sqrt().item()
        print(f"{name}: f32 vs f64 rel-L2 {e32:.3g}, functional vs module {ef:.3g}, "
              f"out rms {rms:.3g}, f64 forward {t64:.2f} s")
        check(e32 <= 1e-5, f"{name}: float32 vs float64 rel-L2 {e32:.3g} > 1e-5")
        check(ef <= 1e-12, f"{name}: hand-written functional forward disagrees: {ef:.3g}")
        check(0.1 < rms < 10, f"{name}: output rms {rms:.3g} not O(1)")
        check(tuple(y64.shape) == (2, m32.config["out_channels"], h, w), f"{name}: output shape")


def test_save_load(U, tmp):
    import torch
    from safetensors import safe_open
    m = U.UNet2DModel(cfg("tiny-scaleshift-mh"))
    torch.manual_seed(0)
    with torch.no_grad():
        for p in m.parameters():
            p.normal_()
    sd = m.state_dict()
    d = os.path.join(tmp, "rt")
    U.save(m, d)
    m2 = U.load(d)
    check(all(torch.equal(sd[k], v) for k, v in m2.state_dict().items()) and len(sd) == len(m2.state_dict()),
          "save -> load is bit-exact")
    check(m2.config == m.config, "config round-trips")
    with open(os.path.join(d, "unet", "config.json")) as f:
        check(json.load(f)["_class_name"] == "UNet2DModel", "config.json names its class")

    for style, pred in (("linear", lambda n: False), ("conv", lambda n: True),
                        ("mixed", lambda n: n.startswith("up_blocks."))):
        d = os.path.join(tmp, "old-" + style)
        U.save(m, d, old_attention=pred)
        with safe_open(os.path.join(d, "unet", "diffusion_pytorch_model.safetensors"), "pt") as f:
            keys = set(f.keys())
            qshape = tuple(f.get_slice("up_blocks.0.attentions.0.query.weight").get_shape())
        check("down_blocks.0.attentions.0.proj_attn.bias" in keys and
              not any(".to_q." in k or ".to_out." in k for k in keys), f"old names written ({style})")
        check(len(qshape) == (4 if pred("up_blocks.0") else 2), f"old weight layout ({style}) {qshape}")
        m3 = U.load(d)
        check(all(torch.equal(sd[k], v) for k, v in m3.state_dict().items()), f"old names load ({style})")

    # Both names for the same tensor, a missing tensor, a wrong shape: refused.
    bad = dict(sd)
    bad["down_blocks.0.attentions.0.query.weight"] = sd["down_blocks.0.attentions.0.to_q.weight"]
    try:
        U.rename_old_attention(bad)
        check(False, "old and new attention names together were accepted")
    except ValueError as e:
        check("to_q" in str(e), f"duplicate-name error names the tensor: {e}")
    from safetensors.torch import save_file
    for what, mutate in (("missing", lambda s: s.pop("conv_out.bias")),
                         ("shape", lambda s: s.__setitem__("conv_out.bias", torch.zeros(4)))):
        s = {k: v.clone() for k, v in sd.items()}
        mutate(s)
        d = os.path.join(tmp, "bad-" + what)
        U.save(m, d)
        save_file(s, os.path.join(d, "unet", "diffusion_pytorch_model.safetensors"))
        try:
            U.load(d)
            check(False, f"a checkpoint with a {what} tensor was accepted")
        except ValueError as e:
            check("conv_out.bias" in str(e), f"{what}-tensor error names conv_out.bias: {e}")


def test_sched(S, tmp):
    import torch
    c = S.resolve_config({})
    b = S.betas(c)
    check(b.dtype == torch.float32 and torch.equal(b, torch.linspace(1e-4, 0.02, 1000)), "linear betas")
    ac = S.alphas_cumprod(c, torch.float64)
    prod = 1.0
    for i in range(1000):
        prod *= 1 - (1e-4 + (0.02 - 1e-4) * i / 999)
    check(close(ac[-1].item(), prod, 1e-9) and close(prod, 4.035829e-05, 1e-5),
          f"DDPM linear alphas_cumprod[999] {ac[-1].item():.9g}")
    cs = S.resolve_config({"beta_schedule": "squaredcos_cap_v2"})
    bc = S.betas(cs, torch.float64)
    f = lambda s: math.cos((s + 0.008) / 1.008 * math.pi / 2) ** 2  # noqa: E731
    check(close(bc[0].item(), 1 - f(0.001) / f(0.0)) and bc[-1].item() == 0.999, "cosine betas, capped")
    sl = S.resolve_config({"beta_schedule": "scaled_linear", "beta_start": 0.00085, "beta_end": 0.012})
    bs = S.betas(sl, torch.float64)
    check(close(bs[0].item(), 0.00085) and close(bs[-1].item(), 0.012) and
          close(bs[500].item(), (0.00085 ** .5 + (0.012 ** .5 - 0.00085 ** .5) * 500 / 999) ** 2),
          "scaled_linear betas")
    d = os.path.join(tmp, "sched")
    S.save(dict(c, prediction_type="v_prediction"), d)
    c2 = S.load(d)
    check(c2["prediction_type"] == "v_prediction" and c2["beta_end"] == 0.02, "scheduler config round-trips")
    for bad, field in (({"beta_schedule": "sigmoid"}, "beta_schedule"),
                       ({"prediction_type": "eps"}, "prediction_type"),
                       ({"_class_name": "EulerDiscreteScheduler"}, "_class_name")):
        try:
            S.resolve_config(bad)
            check(False, f"scheduler {bad} accepted")
        except S.SchedulerConfigError as e:
            check(str(e).startswith(field), f"scheduler error {e} names {field}")


def test_golden(U, G, tmp):
    import subprocess
    import torch
    from safetensors.torch import load_file
    outs = []
    for k in range(2):
        d = os.path.join(tmp, f"golden{k}")
        subprocess.run([sys.executable, os.path.join(MODELS, "make_golden.py"), "--config", "tiny-pad1-nomid",
                        "--out", d, "--seed", "7", "--timesteps", "3,900", "--batch", "1"],
                       check=True, stdout=subprocess.DEVNULL)
        outs.append(d)
    with open(os.path.join(outs[0], "cases.txt")) as f:
        lines = f.read().split("\n")
    check(lines[:2] == ["t3 3", "t900 900"], f"cases.txt lists the cases: {lines}")
    for rel in ("model/unet/diffusion_pytorch_model.safetensors", "cases/t3.safetensors", "cases/t900.safetensors"):
        with open(os.path.join(outs[0], rel), "rb") as a, open(os.path.join(outs[1], rel), "rb") as b:
            check(a.read() == b.read(), f"make_golden is deterministic: {rel}")
    case = load_file(os.path.join(outs[0], "cases", "t900.safetensors"))
    m = U.load(os.path.join(outs[0], "model"), torch.float64)
    with torch.no_grad():
        y = m(case["sample"].double(), case["timestep"].double()).float()
    check(torch.equal(y, case["expected"]), "golden expected = float64 forward of the stored model")
    check(case["timestep"].tolist() == [900.0] and tuple(case["sample"].shape) == (1, 3, 16, 16),
          "golden case tensors")
    r = subprocess.run([sys.executable, os.path.join(MODELS, "make_golden.py"), "--config", "tiny-pad1-nomid",
                        "--out", outs[0], "--seed", "7", "--timesteps", "3,900", "--batch", "1"],
                       check=True, capture_output=True, text=True)
    check("up to date" in r.stdout, "an unchanged golden run is skipped")
    # compare.py: passes on itself, fails on a perturbed copy.
    from safetensors.torch import save_file
    cmp = os.path.join(MODELS, "compare.py")
    good = os.path.join(tmp, "good.safetensors")
    save_file({"sample": case["expected"]}, good)
    r = subprocess.run([sys.executable, cmp, good, os.path.join(outs[0], "cases", "t900.safetensors")],
                       capture_output=True, text=True)
    check(r.returncode == 0, f"compare.py accepts an exact output: {r.stdout}{r.stderr}")
    badf = os.path.join(tmp, "bad.safetensors")
    save_file({"sample": case["expected"] * (1 + 3e-5)}, badf)
    r = subprocess.run([sys.executable, cmp, badf, os.path.join(outs[0], "cases", "t900.safetensors")],
                       capture_output=True, text=True)
    check(r.returncode == 1, f"compare.py rejects a 3e-5 relative error: rc {r.returncode} {r.stdout}")


def main():
    ap = argparse.ArgumentParser(description="Self-test of models/dfx_unet.py, dfx_sched.py and "
                                 "make_golden.py (no Vulkan). Writes only into a temporary folder.")
    ap.add_argument("--models", default=MODELS, help="the models/ folder (default: next to tests/)")
    a = ap.parse_args()
    globals()["MODELS"] = os.path.abspath(a.models)
    try:
        import torch
    except ImportError:
        print("test-unet-ref: python3-torch is missing (run inside build-aux/dfx-env)")
        return 1
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    sys.dont_write_bytecode = True  # keep the source tree clean
    sys.path.insert(0, MODELS)
    import dfx_sched as S
    import dfx_unet as U
    import make_golden as G
    with tempfile.TemporaryDirectory() as tmp:
        for name, fn in (("cifar10 counts and names", lambda: test_cifar_counts(U)),
                         ("structure", lambda: test_structure(U)),
                         ("config refusals", lambda: test_refusals(U)),
                         ("timestep embedding", lambda: test_timestep_embedding(U)),
                         ("downsample padding", lambda: test_downsample(U)),
                         ("forward", lambda: test_forward(U, G)),
                         ("save/load", lambda: test_save_load(U, tmp)),
                         ("scheduler", lambda: test_sched(S, tmp)),
                         ("golden files", lambda: test_golden(U, G, tmp))):
            t0 = time.perf_counter()
            before = len(failures)
            fn()
            status = "ok" if len(failures) == before else "FAILED"
            print(f"-- {name}: {status} ({time.perf_counter() - t0:.2f} s)")
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
