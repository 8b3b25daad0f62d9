#!/usr/bin/env python3
"""dfx_vae.py — dfx's own PyTorch reference of diffusers' AutoencoderKL.

Written from the architecture as diffusers documents and builds it (facts
only, no code copied): an Encoder (conv_in; DownEncoderBlock2D per level:
layers_per_block resnets without a time embedding, then, except on the last
level, a stride-2 3×3 conv after padding right and bottom by one; a mid block
resnet → single-head attention → resnet; GroupNorm, SiLU, conv_out to
2·latent_channels: "double_z"), the 1×1 quant_conv, and a Decoder
(post_quant_conv 1×1; conv_in; the same mid block; UpDecoderBlock2D per
level, deepest first: layers_per_block + 1 resnets, then, except on the last
level, nearest ×2 and a 3×3 conv; GroupNorm, SiLU, conv_out).  Every GroupNorm
has eps 1e-6; the mid attention has one head as wide as the block and a
GroupNorm of norm_num_groups.  quant_conv / post_quant_conv are absent when
use_quant_conv / use_post_quant_conv are false.

The module tree mirrors diffusers' parameter names, so state_dict() keys are
the tensor names of a diffusers `vae/` folder (config.json +
diffusion_pytorch_model.safetensors); old attention names (query, key, value,
proj_attn, also as [C,C,1,1]) are renamed on load.

encode(x) returns the posterior's mean and log-variance (the log-variance
clamped to [-30, 20] as diffusers' DiagonalGaussianDistribution does);
decode(z) returns the sample.  scaling_factor and shift_factor are the
pipeline's business (z·scaling_factor before a diffusion model): they are
kept in the config and applied only by latent_to_model / latent_from_model.
Run it in float64 (`model.double()`) for golden outputs.  It does not train.
A config it does not implement is refused with an error naming the field.

As a script: `dfx_vae.py MODEL_DIR` prints the config summary, the parameter
and tensor counts; it writes nothing.
"""

import argparse
import json
import os
import sys

import torch
import torch.nn.functional as F
from torch import nn

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dfx_unet import (Attention, ConfigError, Downsample2D, Upsample2D, _is_int, _is_num,  # noqa: E402
                      count, load_checked, rename_old_attention, save_network)

VAE_DIR = "vae"
CONFIG_NAME = "config.json"
WEIGHTS_NAME = "diffusion_pytorch_model.safetensors"
NORM_EPS = 1e-6           # every GroupNorm of the encoder and decoder
LOGVAR_RANGE = (-30.0, 20.0)

# diffusers' AutoencoderKL.__init__ defaults: a field missing from config.json takes this value.
DEFAULTS = {
    "in_channels": 3,
    "out_channels": 3,
    "down_block_types": ["DownEncoderBlock2D"],
    "up_block_types": ["UpDecoderBlock2D"],
    "block_out_channels": [64],
    "layers_per_block": 1,
    "act_fn": "silu",
    "latent_channels": 4,
    "norm_num_groups": 32,
    "sample_size": 32,
    "scaling_factor": 0.18215,
    "shift_factor": None,
    "latents_mean": None,
    "latents_std": None,
    "force_upcast": True,
    "use_quant_conv": True,
    "use_post_quant_conv": True,
    "mid_block_add_attention": True,
}


def resolve_config(raw):
    """Validate a diffusers AutoencoderKL config dict; return it complete with defaults.

    Raises ConfigError naming the first unsupported field/value.
    """
    if not isinstance(raw, dict):
        raise ConfigError("config: expected a JSON object")
    cls = raw.get("_class_name", "AutoencoderKL")
    if cls != "AutoencoderKL":
        raise ConfigError(f"_class_name: {cls!r} is not supported (only 'AutoencoderKL')")
    for k in raw:
        if not k.startswith("_") and k not in DEFAULTS:
            raise ConfigError(f"{k}: unknown AutoencoderKL config field")
    c = dict(DEFAULTS)
    c.update({k: v for k, v in raw.items() if not k.startswith("_")})

    def bad(field, why):
        raise ConfigError(f"{field}: unsupported value {c[field]!r} ({why})")

    if c["act_fn"] not in ("silu", "swish"):
        bad("act_fn", "supported: 'silu', 'swish'")
    for f in ("force_upcast", "use_quant_conv", "use_post_quant_conv", "mid_block_add_attention"):
        if not isinstance(c[f], bool):
            bad(f, "expected true or false")
    for f in ("in_channels", "out_channels", "layers_per_block", "latent_channels", "norm_num_groups"):
        if not _is_int(c[f]) or c[f] < 1:
            bad(f, "expected a positive integer")
    if not _is_num(c["scaling_factor"]) or c["scaling_factor"] == 0:
        bad("scaling_factor", "expected a non-zero number")
    if c["shift_factor"] is not None and not _is_num(c["shift_factor"]):
        bad("shift_factor", "expected a number or null")
    for f in ("latents_mean", "latents_std"):
        v = c[f]
        if v is not None and not (isinstance(v, list) and len(v) == c["latent_channels"]
                                  and all(_is_num(e) for e in v)):
            bad(f, f"expected null or a list of latent_channels = {c['latent_channels']} numbers")
    ss = c["sample_size"]
    if not (ss is None or (_is_int(ss) and ss > 0)
            or (isinstance(ss, list) and len(ss) == 2 and all(_is_int(s) and s > 0 for s in ss))):
        bad("sample_size", "expected an integer, [height, width] or null")
    for f in ("down_block_types", "up_block_types", "block_out_channels"):
        if not isinstance(c[f], (list, tuple)):
            bad(f, "expected a list")
        c[f] = list(c[f])
    boc = c["block_out_channels"]
    n = len(boc)
    if n == 0 or not all(_is_int(ch) and ch > 0 for ch in boc):
        bad("block_out_channels", "expected a non-empty list of positive integers")
    for f, want in (("down_block_types", "DownEncoderBlock2D"), ("up_block_types", "UpDecoderBlock2D")):
        if len(c[f]) != n:
            bad(f, f"needs {n} entries, one per block_out_channels")
        for i, t in enumerate(c[f]):
            if t != want:
                raise ConfigError(f"{f}[{i}]: unsupported value {t!r} (supported: {want!r})")
    g = c["norm_num_groups"]
    for ch in boc:
        if ch % g:
            bad("norm_num_groups", f"does not divide block_out_channels entry {ch}")
    return c


class ResnetBlock2D(nn.Module):
    """diffusers' ResnetBlock2D without a time embedding (temb_channels None)."""

    def __init__(self, cin, cout, groups):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, cin, eps=NORM_EPS, affine=True)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.norm2 = nn.GroupNorm(groups, cout, eps=NORM_EPS, affine=True)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.conv_shortcut = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x):
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv2(F.silu(self.norm2(h)))
        if self.conv_shortcut is not None:
            x = self.conv_shortcut(x)
        return x + h


class MidBlock(nn.Module):
    """UNetMidBlock2D as the autoencoder builds it: resnet, attention (one head), resnet."""

    def __init__(self, ch, groups, attention):
        super().__init__()
        self.resnets = nn.ModuleList(ResnetBlock2D(ch, ch, groups) for _ in range(2))
        self.attentions = nn.ModuleList([Attention(ch, ch, groups, NORM_EPS)]) if attention else None

    def forward(self, h):
        h = self.resnets[0](h)
        if self.attentions is not None:
            h = self.attentions[0](h)
        return self.resnets[1](h)


class DownEncoderBlock2D(nn.Module):
    def __init__(self, cin, cout, nres, groups, last):
        super().__init__()
        self.resnets = nn.ModuleList(ResnetBlock2D(cin if j == 0 else cout, cout, groups) for j in range(nres))
        # padding 0: F.pad right and bottom by one, then a stride-2 conv without padding
        self.downsamplers = None if last else nn.ModuleList([Downsample2D(cout, 0)])

    def forward(self, h):
        for r in self.resnets:
            h = r(h)
        if self.downsamplers is not None:
            h = self.downsamplers[0](h)
        return h


class UpDecoderBlock2D(nn.Module):
    def __init__(self, cin, cout, nres, groups, last):
        super().__init__()
        self.resnets = nn.ModuleList(ResnetBlock2D(cin if j == 0 else cout, cout, groups) for j in range(nres))
        self.upsamplers = None if last else nn.ModuleList([Upsample2D(cout)])

    def forward(self, h):
        for r in self.resnets:
            h = r(h)
        if self.upsamplers is not None:
            h = self.upsamplers[0](h)
        return h


class Encoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        boc, g, nl = c["block_out_channels"], c["norm_num_groups"], c["layers_per_block"]
        self.conv_in = nn.Conv2d(c["in_channels"], boc[0], 3, padding=1)
        self.down_blocks = nn.ModuleList()
        out = boc[0]
        for i in range(len(boc)):
            cin, out = out, boc[i]
            self.down_blocks.append(DownEncoderBlock2D(cin, out, nl, g, i == len(boc) - 1))
        self.mid_block = MidBlock(boc[-1], g, c["mid_block_add_attention"])
        self.conv_norm_out = nn.GroupNorm(g, boc[-1], eps=NORM_EPS, affine=True)
        self.conv_out = nn.Conv2d(boc[-1], 2 * c["latent_channels"], 3, padding=1)  # double_z

    def forward(self, x):
        h = self.conv_in(x)
        for blk in self.down_blocks:
            h = blk(h)
        h = self.mid_block(h)
        return self.conv_out(F.silu(self.conv_norm_out(h)))


class Decoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        boc, g, nl = c["block_out_channels"], c["norm_num_groups"], c["layers_per_block"]
        rev = boc[::-1]
        self.conv_in = nn.Conv2d(c["latent_channels"], rev[0], 3, padding=1)
        self.mid_block = MidBlock(rev[0], g, c["mid_block_add_attention"])
        self.up_blocks = nn.ModuleList()
        out = rev[0]
        for i in range(len(rev)):
            prev, out = out, rev[i]
            self.up_blocks.append(UpDecoderBlock2D(prev, out, nl + 1, g, i == len(rev) - 1))
        self.conv_norm_out = nn.GroupNorm(g, boc[0], eps=NORM_EPS, affine=True)
        self.conv_out = nn.Conv2d(boc[0], c["out_channels"], 3, padding=1)

    def forward(self, z):
        h = self.mid_block(self.conv_in(z))
        for blk in self.up_blocks:
            h = blk(h)
        return self.conv_out(F.silu(self.conv_norm_out(h)))


class AutoencoderKL(nn.Module):
    """diffusers-compatible AutoencoderKL: encode(x) -> (mean, logvar), decode(z) -> sample."""

    def __init__(self, config):
        super().__init__()
        c = resolve_config(config)
        self.config = c
        lc = c["latent_channels"]
        self.encoder = Encoder(c)
        self.decoder = Decoder(c)
        self.quant_conv = nn.Conv2d(2 * lc, 2 * lc, 1) if c["use_quant_conv"] else None
        self.post_quant_conv = nn.Conv2d(lc, lc, 1) if c["use_post_quant_conv"] else None

    def downscale(self):
        """Image size / latent size: 2^(number of downsamplers)."""
        return 2 ** (len(self.config["block_out_channels"]) - 1)

    def encode(self, x):
        """x [N, in_channels, H, W] (H, W multiples of downscale()) -> mean, logvar [N, L, H/f, W/f]."""
        h, w = x.shape[-2:]
        f = self.downscale()
        if x.dim() != 4 or x.shape[1] != self.config["in_channels"]:
            raise ValueError(f"sample: shape {tuple(x.shape)}, expected (N, {self.config['in_channels']}, H, W)")
        if h % f or w % f:
            raise ValueError(f"sample: {h}x{w} is not divisible by {f}")
        m = self.encoder(x)
        if self.quant_conv is not None:
            m = self.quant_conv(m)
        mean, logvar = m.chunk(2, dim=1)
        return mean, logvar.clamp(*LOGVAR_RANGE)

    def decode(self, z):
        """z [N, latent_channels, h, w] -> sample [N, out_channels, h·f, w·f]."""
        if z.dim() != 4 or z.shape[1] != self.config["latent_channels"]:
            raise ValueError(f"latent: shape {tuple(z.shape)}, expected (N, {self.config['latent_channels']}, h, w)")
        if self.post_quant_conv is not None:
            z = self.post_quant_conv(z)
        return self.decoder(z)

    def latent_to_model(self, z):
        """A latent as a diffusion model sees it: (z − shift_factor)·scaling_factor."""
        return (z - (self.config["shift_factor"] or 0.0)) * self.config["scaling_factor"]

    def latent_from_model(self, z):
        """Inverse of latent_to_model."""
        return z / self.config["scaling_factor"] + (self.config["shift_factor"] or 0.0)


def load(model_dir, dtype=torch.float32, subfolder=VAE_DIR):
    """Load MODEL_DIR/vae/{config.json, diffusion_pytorch_model.safetensors}.

    Missing or unexpected tensors and shape mismatches raise ValueError naming them.
    """
    from safetensors.torch import load_file
    d = os.path.join(model_dir, subfolder) if subfolder else model_dir
    with open(os.path.join(d, CONFIG_NAME)) as f:
        raw = json.load(f)
    model = AutoencoderKL(raw)
    load_checked(model, rename_old_attention(load_file(os.path.join(d, WEIGHTS_NAME))), d)
    return model.to(dtype).eval()


def save(model, model_dir, subfolder=VAE_DIR, old_attention=None, config=None):
    """Write MODEL_DIR/vae/config.json and the weights (float32) in diffusers layout.

    old_attention: None, or a predicate name -> bool: write old attention names
    (query/key/value/proj_attn), with conv-style [C,C,1,1] weights where it is true.
    config: the dict to write (default: the resolved config, all fields explicit).
    """
    save_network(model, "AutoencoderKL", model_dir, subfolder, old_attention, config)


def main():
    ap = argparse.ArgumentParser(description="Load a diffusers-layout AutoencoderKL folder (DIR/vae) with dfx's "
                                 "reference and print its config, parameter and tensor counts. Writes nothing.")
    ap.add_argument("model", help="model folder (with vae/) or a vae config.json to build unloaded")
    a = ap.parse_args()
    try:
        if a.model.endswith(".json"):
            with open(a.model) as f:
                model = AutoencoderKL(json.load(f))
        else:
            model = load(a.model)
    except (ValueError, OSError) as e:
        print(f"dfx_vae: {e}", file=sys.stderr)
        return 1
    p, t = count(model)
    c = model.config
    print(f"blocks {c['block_out_channels']} layers {c['layers_per_block']} latent {c['latent_channels']} "
          f"(÷{model.downscale()})")
    print(f"parameters {p} tensors {t}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
