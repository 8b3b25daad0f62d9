#!/usr/bin/env python3
"""test-vae-ref.py — self-test of dfx's PyTorch AutoencoderKL reference (models/dfx_vae.py).

Needs no Vulkan; runs in a few seconds on small random configurations.  Asserts
against facts that do not come from the module itself: the published size of
Stable Diffusion 1.x's VAE (83,653,863 parameters), diffusers tensor names and
shapes, hand-computed outputs of blocks with chosen weights (the encoder's
right/bottom padding, a zeroed residual branch, attention over one position, the
log-variance clamp), save/load round trips (also with old attention names) and
float32-vs-float64 agreement.

usage: test-vae-ref.py [--models DIR]   (exit 0 when every check passes)
"""

import argparse
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.normpath(os.path.join(HERE, "..", "..", "models"))

failures = []

# Stable Diffusion 1.x vae/config.json (as published; fields not given take the defaults).
SD1 = {"_class_name": "AutoencoderKL", "act_fn": "silu", "block_out_channels": [128, 256, 512, 512],
       "down_block_types": ["DownEncoderBlock2D"] * 4, "in_channels": 3, "latent_channels": 4,
       "layers_per_block": 2, "norm_num_groups": 32, "out_channels": 3, "sample_size": 512,
       "up_block_types": ["UpDecoderBlock2D"] * 4}
SMALL = {"block_out_channels": [8, 16], "down_block_types": ["DownEncoderBlock2D"] * 2,
         "up_block_types": ["UpDecoderBlock2D"] * 2, "layers_per_block": 1, "norm_num_groups": 4,
         "latent_channels": 3, "in_channels": 3, "out_channels": 2}


def check(cond, what):
    if not cond:
        failures.append(what)
        print(f"FAIL: {what}")
    return cond


def rel_l2(a, b):
    a, b = a.double(), b.double()
    return ((a - b).norm() / b.norm()).item()


def randomize(model, seed):
    import torch
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for v in model.state_dict().values():
            v.copy_(torch.randn(v.shape, generator=g, dtype=v.dtype) / max(1, v[0].numel()) ** 0.5)


def test_sd1(V):
    import torch
    with torch.device("meta"):  # shapes only: no 84 M random draws on a shared core
        return _test_sd1(V)


def _test_sd1(V):
    m = V.AutoencoderKL(SD1)
    p, n = V.count(m)
    check(p == 83_653_863, f"SD 1.x VAE parameters {p} != 83,653,863")
    sd = m.state_dict()
    shapes = {
        "encoder.conv_in.weight": (128, 3, 3, 3),
        "encoder.down_blocks.0.resnets.1.norm2.weight": (128,),
        "encoder.down_blocks.0.downsamplers.0.conv.weight": (128, 128, 3, 3),
        "encoder.down_blocks.1.resnets.0.conv_shortcut.weight": (256, 128, 1, 1),
        "encoder.mid_block.attentions.0.group_norm.weight": (512,),
        "encoder.mid_block.attentions.0.to_q.weight": (512, 512),
        "encoder.mid_block.attentions.0.to_out.0.bias": (512,),
        "encoder.conv_norm_out.weight": (512,),
        "encoder.conv_out.weight": (8, 512, 3, 3),
        "quant_conv.weight": (8, 8, 1, 1),
        "post_quant_conv.weight": (4, 4, 1, 1),
        "decoder.conv_in.weight": (512, 4, 3, 3),
        "decoder.mid_block.resnets.1.conv2.weight": (512, 512, 3, 3),
        "decoder.up_blocks.0.resnets.2.conv1.weight": (512, 512, 3, 3),
        "decoder.up_blocks.0.upsamplers.0.conv.weight": (512, 512, 3, 3),
        "decoder.up_blocks.2.resnets.0.conv_shortcut.weight": (256, 512, 1, 1),
        "decoder.up_blocks.3.resnets.0.conv1.weight": (128, 256, 3, 3),
        "decoder.conv_norm_out.weight": (128,),
        "decoder.conv_out.weight": (3, 128, 3, 3),
    }
    for k, s in shapes.items():
        if check(k in sd, f"SD1: missing tensor {k}"):
            check(tuple(sd[k].shape) == s, f"SD1: {k} shape {tuple(sd[k].shape)} != {s}")
    for k in ("encoder.down_blocks.3.downsamplers.0.conv.weight", "decoder.up_blocks.3.upsamplers.0.conv.weight",
              "decoder.up_blocks.0.resnets.3.conv1.weight", "encoder.down_blocks.0.resnets.0.time_emb_proj.weight",
              "decoder.up_blocks.1.resnets.0.conv_shortcut.weight"):
        check(k not in sd, f"SD1: unexpected tensor {k}")
    check(m.encoder.mid_block.attentions[0].heads == 1, "the mid attention has one head")
    check(all(mod.eps == 1e-6 for mod in m.modules() if isinstance(mod, __import__("torch").nn.GroupNorm)),
          "every GroupNorm has eps 1e-6")
    nq = V.AutoencoderKL(dict(SD1, use_quant_conv=False, use_post_quant_conv=False))
    check(V.count(nq)[0] == p - (8 * 8 + 8) - (4 * 4 + 4), "use_(post_)quant_conv false drops both 1x1 convs")
    na = V.AutoencoderKL(dict(SD1, mid_block_add_attention=False))
    check(V.count(na)[0] == p - 2 * (4 * (512 * 512 + 512) + 2 * 512), "mid_block_add_attention false drops both")


def test_refusals(V):
    cases = [
        ({"_class_name": "VQModel"}, "_class_name"),
        ({"act_fn": "gelu"}, "act_fn"),
        ({"down_block_types": ["AttnDownEncoderBlock2D"]}, "down_block_types[0]"),
        ({"up_block_types": ["UpDecoderBlock2D"] * 3}, "up_block_types"),
        ({"norm_num_groups": 3}, "norm_num_groups"),
        ({"latent_channels": 0}, "latent_channels"),
        ({"use_quant_conv": 1}, "use_quant_conv"),
        ({"scaling_factor": 0}, "scaling_factor"),
        ({"latents_mean": [0.0, 1.0]}, "latents_mean"),
        ({"norm_type": "spatial"}, "norm_type"),
        ({"block_out_channels": []}, "block_out_channels"),
    ]
    for patch, field in cases:
        cfg = dict(SMALL, **patch)
        if field == "down_block_types[0]":
            cfg["block_out_channels"] = [8]
            cfg["up_block_types"] = ["UpDecoderBlock2D"]
        try:
            V.AutoencoderKL(cfg)
            check(False, f"config {patch} accepted")
        except V.ConfigError as e:
            check(str(e).startswith(field), f"config {patch}: message '{e}' does not start with '{field}'")


def test_shapes_and_blocks(V):
    import torch
    import torch.nn.functional as F
    m = V.AutoencoderKL(dict(SMALL, block_out_channels=[8, 8, 16], down_block_types=["DownEncoderBlock2D"] * 3,
                             up_block_types=["UpDecoderBlock2D"] * 3)).double().eval()
    randomize(m, 1)
    x = torch.randn(2, 3, 16, 24, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        mean, logvar = m.encode(x)
        y = m.decode(mean)
    check(tuple(mean.shape) == (2, 3, 4, 6) and tuple(logvar.shape) == (2, 3, 4, 6), f"latent shape {tuple(mean.shape)}")
    check(tuple(y.shape) == (2, 2, 16, 24), f"decoded shape {tuple(y.shape)}")
    try:
        m.encode(x[:, :, :15])
        check(False, "a height not divisible by 4 accepted")
    except ValueError as e:
        check("15x24" in str(e), f"odd size message: {e}")
    # The encoder's downsampler: zeros on the right and bottom only.  A kernel
    # that picks tap (2, 2) of channel c reads x[2i+2, 2j+2]: the last row and
    # column of the output read the padding (zero).
    d = m.encoder.down_blocks[0].downsamplers[0]
    with torch.no_grad():
        d.conv.weight.zero_()
        d.conv.bias.zero_()
        for c in range(8):
            d.conv.weight[c, c, 2, 2] = 1.0
        h = torch.randn(1, 8, 6, 8, dtype=torch.float64)
        o = d(h)
    check(tuple(o.shape) == (1, 8, 3, 4), f"downsampler 6x8 -> {tuple(o.shape)}")
    check(torch.equal(o[0, :, :2, :3], h[0, :, 2::2, 2::2][:, :2, :3]), "tap (2,2) reads x[2i+2, 2j+2]")
    check(bool((o[0, :, 2, :] == 0).all() and (o[0, :, :, 3] == 0).all()), "the last row/column read the zero pad")
    # A resnet whose conv2 is zero is the identity (same channels) or its 1x1 shortcut.
    r = m.decoder.up_blocks[0].resnets[1]
    r2 = m.encoder.down_blocks[2].resnets[0]
    with torch.no_grad():
        r.conv2.weight.zero_(), r.conv2.bias.zero_(), r2.conv2.weight.zero_(), r2.conv2.bias.zero_()
        h16 = torch.randn(1, 16, 3, 5, dtype=torch.float64)
        h8 = torch.randn(1, 8, 3, 5, dtype=torch.float64)
        check(torch.equal(r(h16), h16), "resnet with zero conv2 is the identity")
        check(torch.allclose(r2(h8), F.conv2d(h8, r2.conv_shortcut.weight, r2.conv_shortcut.bias), atol=1e-14),
              "resnet 8->16 with zero conv2 is its 1x1 shortcut")
        # Attention over a single position: softmax weight 1, out = Wo (Wv gn(x) + bv) + bo + x.
        a = m.encoder.mid_block.attentions[0]
        h1 = torch.randn(3, 16, 1, 1, dtype=torch.float64)
        n = F.group_norm(h1, 4, a.group_norm.weight, a.group_norm.bias, 1e-6)[:, :, 0, 0]
        want = (n @ a.to_v.weight.T + a.to_v.bias) @ a.to_out[0].weight.T + a.to_out[0].bias + h1[:, :, 0, 0]
        check(torch.allclose(a(h1)[:, :, 0, 0], want, atol=1e-12), "attention over one position")
        # The log-variance is clamped to [-30, 20]; the mean is not.
        m.quant_conv.bias[3:] = 1e4
        m.quant_conv.bias[:3] = -1e4
        mean2, logvar2 = m.encode(x)
    check(bool((logvar2 == 20).all()), "log-variance clamped at 20")
    check(bool((mean2 < -1e3).all()), "the mean is not clamped")


def test_precision(V):
    import torch
    m = V.AutoencoderKL(SMALL).double().eval()
    randomize(m, 4)
    x = torch.randn(1, 3, 8, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(5))
    import copy
    m32 = copy.deepcopy(m).float()
    with torch.no_grad():
        mu64, lv64 = m.encode(x)
        mu32, lv32 = m32.encode(x.float())
        y64, y32 = m.decode(mu64), m32.decode(mu64.float())
    for name, a, b in (("mean", mu32, mu64), ("logvar", lv32, lv64), ("sample", y32, y64)):
        e = rel_l2(a, b)
        check(e < 1e-5, f"float32 vs float64 {name}: rel-L2 {e:.2e}")
    f = 0.5
    m.config["scaling_factor"], m.config["shift_factor"] = f, 0.25
    check(torch.allclose(m.latent_from_model(m.latent_to_model(mu64)), mu64, atol=1e-14), "scaling round trip")
    check(torch.allclose(m.latent_to_model(mu64), (mu64 - 0.25) * 0.5, atol=0), "latent_to_model")


def test_save_load(V, tmp):
    import torch
    from safetensors.torch import load_file
    m = V.AutoencoderKL(dict(SMALL, use_post_quant_conv=False, sample_size=[16, 8])).eval()
    randomize(m, 6)
    x = torch.randn(1, 3, 8, 8, generator=torch.Generator().manual_seed(7))
    for tag, old in (("new", None), ("old", lambda name: "decoder" in name)):
        d = os.path.join(tmp, tag)
        V.save(m, d, old_attention=old)
        names = set(load_file(os.path.join(d, "vae", V.WEIGHTS_NAME)))
        if old:
            check("encoder.mid_block.attentions.0.query.weight" in names, "old names written")
            check(tuple(load_file(os.path.join(d, "vae", V.WEIGHTS_NAME))[
                "decoder.mid_block.attentions.0.proj_attn.weight"].shape) == (16, 16, 1, 1), "conv-style written")
        else:
            check(names == set(m.state_dict()), "saved names are the state dict")
        m2 = V.load(d)
        with torch.no_grad():
            a, b = m.encode(x)[0], m2.encode(x)[0]
            check(torch.equal(a, b) and torch.equal(m.decode(a), m2.decode(a)), f"round trip ({tag} names)")
        check(m2.config == m.config, f"config round trip ({tag})")
    # A missing and a mis-shaped tensor are named.
    from safetensors.torch import save_file
    sd = {k: v.contiguous() for k, v in m.state_dict().items()}
    d = os.path.join(tmp, "bad", "vae")
    os.makedirs(d)
    V.save(m, os.path.join(tmp, "bad"))
    sd.pop("decoder.conv_out.bias")
    save_file(sd, os.path.join(d, V.WEIGHTS_NAME))
    try:
        V.load(os.path.join(tmp, "bad"))
        check(False, "a missing tensor accepted")
    except ValueError as e:
        check("decoder.conv_out.bias" in str(e), f"missing tensor message: {e}")
    sd["decoder.conv_out.bias"] = torch.zeros(3)
    save_file(sd, os.path.join(d, V.WEIGHTS_NAME))
    try:
        V.load(os.path.join(tmp, "bad"))
        check(False, "a mis-shaped tensor accepted")
    except ValueError as e:
        check("decoder.conv_out.bias" in str(e) and "(3,)" in str(e), f"shape message: {e}")


def main():
    ap = argparse.ArgumentParser(description="Self-test of models/dfx_vae.py; writes only temporary files.")
    ap.add_argument("--models", default=MODELS)
    a = ap.parse_args()
    try:
        import torch
    except ImportError:
        print("test-vae-ref: python3-torch is missing (run inside build-aux/dfx-env)")
        return 1
    torch.set_num_threads(1)
    sys.dont_write_bytecode = True
    sys.path.insert(0, a.models)
    import dfx_vae as V
    with tempfile.TemporaryDirectory() as tmp:
        for name, fn in (("SD 1.x counts and names", lambda: test_sd1(V)),
                         ("config refusals", lambda: test_refusals(V)),
                         ("shapes and blocks", lambda: test_shapes_and_blocks(V)),
                         ("precision and scaling", lambda: test_precision(V)),
                         ("save/load", lambda: test_save_load(V, tmp))):
            t0 = time.perf_counter()
            before = len(failures)
            fn()
            print(f"-- {name}: {'ok' if len(failures) == before else 'FAILED'} ({time.perf_counter() - t0:.2f} s)")
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
