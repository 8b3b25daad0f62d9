#!/usr/bin/env python3
"""dfx_unet.py — dfx's own PyTorch reference of diffusers' UNet2DModel.

Written from the architecture description in /work/shared/RUNTIME.md (not
copied from diffusers).  The module tree mirrors diffusers' parameter names,
so `state_dict()` keys are the tensor names of a diffusers checkpoint, and a
diffusers-layout folder (unet/config.json + unet/diffusion_pytorch_model.
safetensors) loads and saves as is.  Old attention names (query, key, value,
proj_attn; Linear [C,C] or conv-style [C,C,1,1] weights) are renamed on load.

This is the numerical reference for dfx's Vulkan U-Net: run it in float64
(`model.double()`) for golden outputs.  It does not train, does not support
fourier/learned time embeddings, class conditioning, skip-style blocks or
resnet up/down sampling: such a config is refused with an error naming the
field and its value.

As a script: `dfx_unet.py MODEL_DIR` prints the config summary, the
parameter and tensor counts; it writes nothing.
"""

import argparse
import json
import math
import os
import sys

# oneDNN's AVX-512 float32 kernels compute this U-Net wrong on AVX-512 CPUs (measured 2026-12-08
# on an AMD EPYC of family 26: fashion-mnist-32 at t = 600 gave an x̂0 error of 0.389 where the
# float64 forward gives 0.152, and models/sample.py drew noise); capped at AVX2 it matches float64.
# oneDNN reads the cap at its first convolution, so this holds for every script that imports this
# module before running a network, whatever it imported first (the training scripts set it too).
os.environ.setdefault("ONEDNN_MAX_CPU_ISA", "AVX2")

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

UNET_DIR = "unet"
CONFIG_NAME = "config.json"
WEIGHTS_NAME = "diffusion_pytorch_model.safetensors"

# diffusers' UNet2DModel.__init__ defaults: a field missing from config.json
# takes this value (note attention_head_dim 8, flip_sin_to_cos true).
DEFAULTS = {
    "sample_size": None,
    "in_channels": 3,
    "out_channels": 3,
    "center_input_sample": False,
    "time_embedding_type": "positional",
    "time_embedding_dim": None,
    "freq_shift": 0,
    "flip_sin_to_cos": True,
    "down_block_types": ["DownBlock2D", "AttnDownBlock2D", "AttnDownBlock2D", "AttnDownBlock2D"],
    "mid_block_type": "UNetMidBlock2D",
    "up_block_types": ["AttnUpBlock2D", "AttnUpBlock2D", "AttnUpBlock2D", "UpBlock2D"],
    "block_out_channels": [224, 448, 672, 896],
    "layers_per_block": 2,
    "mid_block_scale_factor": 1,
    "downsample_padding": 1,
    "downsample_type": "conv",
    "upsample_type": "conv",
    "dropout": 0.0,
    "act_fn": "silu",
    "attention_head_dim": 8,
    "norm_num_groups": 32,
    "attn_norm_num_groups": None,
    "norm_eps": 1e-5,
    "resnet_time_scale_shift": "default",
    "add_attention": True,
    "class_embed_type": None,
    "num_class_embeds": None,
    "num_train_timesteps": None,
}

DOWN_TYPES = ("DownBlock2D", "AttnDownBlock2D")
UP_TYPES = ("UpBlock2D", "AttnUpBlock2D")
PAD_OUT = 8  # output channels a narrow conv_out is padded to in training (UNet2DModel.out_conv)
OLD_ATTENTION_NAMES = {"query": "to_q", "key": "to_k", "value": "to_v", "proj_attn": "to_out.0"}


class ConfigError(ValueError):
    """A config.json this reference does not implement (message names the field)."""


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def resolve_config(raw):
    """Validate a diffusers UNet2DModel config dict; return it complete with defaults.

    Raises ConfigError naming the first unsupported field/value.
    """
    if not isinstance(raw, dict):
        raise ConfigError("config: expected a JSON object")
    cls = raw.get("_class_name", "UNet2DModel")
    if cls != "UNet2DModel":
        raise ConfigError(f"_class_name: {cls!r} is not supported (only 'UNet2DModel')")
    for k in raw:
        if not k.startswith("_") and k not in DEFAULTS:
            raise ConfigError(f"{k}: unknown UNet2DModel config field")
    c = dict(DEFAULTS)
    c.update({k: v for k, v in raw.items() if not k.startswith("_")})
    c["down_block_types"] = list(c["down_block_types"])
    c["up_block_types"] = list(c["up_block_types"])
    c["block_out_channels"] = list(c["block_out_channels"])

    def bad(field, why=None):
        msg = f"{field}: unsupported value {c[field]!r}"
        raise ConfigError(msg + (f" ({why})" if why else ""))

    def want(field, allowed):
        if c[field] not in allowed:
            bad(field, "supported: " + ", ".join(repr(a) for a in allowed))

    want("time_embedding_type", ["positional"])
    want("mid_block_type", ["UNetMidBlock2D", None])
    want("downsample_type", ["conv"])
    want("upsample_type", ["conv"])
    want("act_fn", ["silu", "swish"])
    want("resnet_time_scale_shift", ["default", "scale_shift"])
    want("class_embed_type", [None])
    want("num_class_embeds", [None])
    want("downsample_padding", [0, 1])
    for f in ("center_input_sample", "flip_sin_to_cos", "add_attention"):
        if not isinstance(c[f], bool):
            bad(f, "expected true or false")
    for f in ("in_channels", "out_channels", "layers_per_block", "norm_num_groups"):
        if not _is_int(c[f]) or c[f] < 1:
            bad(f, "expected a positive integer")
    for f in ("freq_shift", "mid_block_scale_factor", "norm_eps", "dropout"):
        if not _is_num(c[f]):
            bad(f, "expected a number")
    if not c["norm_eps"] > 0:
        bad("norm_eps", "must be > 0")
    if c["mid_block_scale_factor"] == 0:
        bad("mid_block_scale_factor", "must be non-zero")
    if c["num_train_timesteps"] is not None and not _is_int(c["num_train_timesteps"]):
        bad("num_train_timesteps", "expected an integer or null")
    for f in ("time_embedding_dim", "attention_head_dim", "attn_norm_num_groups"):
        if c[f] is not None and (not _is_int(c[f]) or c[f] < 1):
            bad(f, "expected a positive integer or null")
    ss = c["sample_size"]
    if not (ss is None or (_is_int(ss) and ss > 0)
            or (isinstance(ss, list) and len(ss) == 2 and all(_is_int(s) and s > 0 for s in ss))):
        bad("sample_size", "expected an integer, [height, width] or null")

    boc = c["block_out_channels"]
    n = len(boc)
    if n == 0 or not all(_is_int(ch) and ch > 0 for ch in boc):
        bad("block_out_channels", "expected a non-empty list of positive integers")
    if len(c["down_block_types"]) != n:
        bad("down_block_types", f"needs {n} entries, one per block_out_channels")
    if len(c["up_block_types"]) != n:
        bad("up_block_types", f"needs {n} entries, one per block_out_channels")
    for i, t in enumerate(c["down_block_types"]):
        if t not in DOWN_TYPES:
            raise ConfigError(f"down_block_types[{i}]: unsupported value {t!r} "
                              f"(supported: {', '.join(DOWN_TYPES)})")
    for i, t in enumerate(c["up_block_types"]):
        if t not in UP_TYPES:
            raise ConfigError(f"up_block_types[{i}]: unsupported value {t!r} "
                              f"(supported: {', '.join(UP_TYPES)})")
    g = c["norm_num_groups"]
    if boc[0] % 2:
        bad("block_out_channels", "block_out_channels[0] must be even (timestep embedding)")
    if c["freq_shift"] == boc[0] // 2:
        bad("freq_shift", "equals half of block_out_channels[0]: division by zero")
    for ch in boc:
        if ch % g:
            bad("norm_num_groups", f"does not divide block_out_channels entry {ch}")
    head = c["attention_head_dim"]
    if head is not None:
        attn_ch = {boc[i] for i, t in enumerate(c["down_block_types"]) if t.startswith("Attn")}
        attn_ch |= {boc[n - 1 - i] for i, t in enumerate(c["up_block_types"]) if t.startswith("Attn")}
        if c["mid_block_type"] and c["add_attention"]:
            attn_ch.add(boc[-1])
        for ch in sorted(attn_ch):
            if ch % head:
                bad("attention_head_dim", f"does not divide attention width {ch}")
    ag = c["attn_norm_num_groups"]
    if ag is not None and boc[-1] % ag:
        bad("attn_norm_num_groups", f"does not divide block_out_channels[-1] = {boc[-1]}")
    return c


def timestep_embedding(t, dim, flip_sin_to_cos, freq_shift, max_period=10000.0):
    """Sinusoidal embedding [N, dim] of timesteps t [N], computed in float64.

    freq_i = exp(-ln(max_period) * i / (dim/2 - freq_shift)), emb = [sin(t f), cos(t f)],
    [cos, sin] when flip_sin_to_cos.  (diffusers computes this in float32; the
    reference keeps float64 so golden outputs carry no embedding rounding.)
    """
    half = dim // 2
    exponent = -math.log(max_period) * torch.arange(half, dtype=torch.float64) / (half - freq_shift)
    emb = t.to(torch.float64)[:, None] * torch.exp(exponent)[None, :]
    emb = torch.cat([torch.sin(emb), torch.cos(emb)], dim=-1)
    if flip_sin_to_cos:
        emb = torch.cat([emb[:, half:], emb[:, :half]], dim=-1)
    if dim % 2:
        emb = F.pad(emb, (0, 1))
    return emb


class TimestepEmbedding(nn.Module):
    def __init__(self, cin, dim):
        super().__init__()
        self.linear_1 = nn.Linear(cin, dim)
        self.linear_2 = nn.Linear(dim, dim)

    def forward(self, x):
        return self.linear_2(F.silu(self.linear_1(x)))


class ResnetBlock2D(nn.Module):
    def __init__(self, cin, cout, temb, groups, eps, scale_shift, output_scale_factor=1.0):
        super().__init__()
        self.scale_shift = scale_shift
        self.output_scale_factor = output_scale_factor
        self.norm1 = nn.GroupNorm(groups, cin, eps=eps, affine=True)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.time_emb_proj = nn.Linear(temb, 2 * cout if scale_shift else cout)
        self.norm2 = nn.GroupNorm(groups, cout, eps=eps, affine=True)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.conv_shortcut = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x, temb):
        h = self.conv1(F.silu(self.norm1(x)))
        t = self.time_emb_proj(F.silu(temb))[:, :, None, None]
        if self.scale_shift:
            scale, shift = t.chunk(2, dim=1)
            h = self.norm2(h) * (1 + scale) + shift
        else:
            h = self.norm2(h + t)
        h = self.conv2(F.silu(h))
        if self.conv_shortcut is not None:
            x = self.conv_shortcut(x)
        return (x + h) / self.output_scale_factor


class Attention(nn.Module):
    """Spatial self-attention with residual: heads = C / head_dim."""

    def __init__(self, ch, head_dim, groups, eps, rescale_output_factor=1.0):
        super().__init__()
        self.head_dim = head_dim
        self.heads = ch // head_dim
        self.rescale_output_factor = rescale_output_factor
        self.group_norm = nn.GroupNorm(groups, ch, eps=eps, affine=True) if groups else None
        self.to_q = nn.Linear(ch, ch)
        self.to_k = nn.Linear(ch, ch)
        self.to_v = nn.Linear(ch, ch)
        self.to_out = nn.ModuleList([nn.Linear(ch, ch)])

    def forward(self, x):
        b, c, hh, ww = x.shape
        residual = x
        if self.group_norm is not None:
            x = self.group_norm(x)
        x = x.reshape(b, c, hh * ww).transpose(1, 2)  # [B, HW, C]

        def split(y):  # [B, HW, C] -> [B, heads, HW, head_dim]
            return y.reshape(b, hh * ww, self.heads, self.head_dim).transpose(1, 2)

        q, k, v = split(self.to_q(x)), split(self.to_k(x)), split(self.to_v(x))
        logits = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_dim)
        win = getattr(self, "window", None)
        if win is not None and (hh > win[0] or ww > win[1]):
            logits = logits.masked_fill(~window_mask(hh, ww, win[0], win[1], logits.device), float("-inf"))
        if logits.dtype != torch.float64:
            logits = logits.float()  # softmax in float32 at least
        p = torch.softmax(logits, dim=-1).to(v.dtype)
        y = torch.matmul(p, v).transpose(1, 2).reshape(b, hh * ww, c)
        y = self.to_out[0](y)
        y = y.transpose(1, 2).reshape(b, c, hh, ww)
        return (y + residual) / self.rescale_output_factor


def window_mask(h, w, wh, ww, device=None):
    """[h·w, h·w] bool: query (ty, tx) sees the wh×ww keys of the window around it, shifted inward
    at the borders (rows clamp(ty − ⌊wh/2⌋, 0, h − wh) …, the same for columns) — dfx's
    attention on canvases larger than the training size (compute/ref/ref-attn-window.c)."""
    eh, ew = min(wh, h), min(ww, w)
    y0 = (torch.arange(h, device=device) - eh // 2).clamp(0, h - eh)
    x0 = (torch.arange(w, device=device) - ew // 2).clamp(0, w - ew)
    ky, kx = torch.arange(h, device=device), torch.arange(w, device=device)
    my = (ky[None, :] >= y0[:, None]) & (ky[None, :] < y0[:, None] + eh)  # [qy, ky]
    mx = (kx[None, :] >= x0[:, None]) & (kx[None, :] < x0[:, None] + ew)  # [qx, kx]
    return (my[:, None, :, None] & mx[None, :, None, :]).reshape(h * w, h * w)


class Downsample2D(nn.Module):
    def __init__(self, ch, padding):
        super().__init__()
        self.padding = padding
        self.conv = nn.Conv2d(ch, ch, 3, stride=2, padding=padding)

    def forward(self, x):
        if self.padding == 0:
            x = F.pad(x, (0, 1, 0, 1))  # right and bottom by one
        return self.conv(x)


class Upsample2D(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.conv = nn.Conv2d(ch, ch, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class DownBlock(nn.Module):
    """DownBlock2D / AttnDownBlock2D."""

    def __init__(self, cin, cout, nres, temb, c, attn, last):
        super().__init__()
        ss = c["resnet_time_scale_shift"] == "scale_shift"
        g, eps = c["norm_num_groups"], c["norm_eps"]
        self.resnets = nn.ModuleList(
            ResnetBlock2D(cin if j == 0 else cout, cout, temb, g, eps, ss) for j in range(nres))
        if attn:
            head = c["attention_head_dim"] or cout
            self.attentions = nn.ModuleList(Attention(cout, head, g, eps) for _ in range(nres))
        else:
            self.attentions = None
        self.downsamplers = None if last else nn.ModuleList([Downsample2D(cout, c["downsample_padding"])])

    def forward(self, h, temb, skips):
        for j, resnet in enumerate(self.resnets):
            h = resnet(h, temb)
            if self.attentions is not None:
                h = self.attentions[j](h)
            skips.append(h)
        if self.downsamplers is not None:
            h = self.downsamplers[0](h)
            skips.append(h)
        return h


class UpBlock(nn.Module):
    """UpBlock2D / AttnUpBlock2D."""

    def __init__(self, cin, prev, cout, nres, temb, c, attn, last):
        super().__init__()
        ss = c["resnet_time_scale_shift"] == "scale_shift"
        g, eps = c["norm_num_groups"], c["norm_eps"]
        res = []
        for j in range(nres):
            skip = cin if j == nres - 1 else cout
            rin = prev if j == 0 else cout
            res.append(ResnetBlock2D(rin + skip, cout, temb, g, eps, ss))
        self.resnets = nn.ModuleList(res)
        if attn:
            head = c["attention_head_dim"] or cout
            self.attentions = nn.ModuleList(Attention(cout, head, g, eps) for _ in range(nres))
        else:
            self.attentions = None
        self.upsamplers = None if last else nn.ModuleList([Upsample2D(cout)])

    def forward(self, h, temb, skips):
        for j, resnet in enumerate(self.resnets):
            h = resnet(torch.cat([h, skips.pop()], dim=1), temb)
            if self.attentions is not None:
                h = self.attentions[j](h)
        if self.upsamplers is not None:
            h = self.upsamplers[0](h)
        return h


class UNetMidBlock2D(nn.Module):
    def __init__(self, ch, temb, c):
        super().__init__()
        ss = c["resnet_time_scale_shift"] == "scale_shift"
        g, eps, osf = c["norm_num_groups"], c["norm_eps"], float(c["mid_block_scale_factor"])
        self.resnets = nn.ModuleList(ResnetBlock2D(ch, ch, temb, g, eps, ss, osf) for _ in range(2))
        if c["add_attention"]:
            ag = c["attn_norm_num_groups"]
            if ag is None:  # diffusers: resnet groups with "default", no norm with scale_shift
                ag = g if not ss else None
            head = c["attention_head_dim"] or ch
            self.attentions = nn.ModuleList([Attention(ch, head, ag, eps, osf)])
        else:
            self.attentions = None

    def forward(self, h, temb):
        h = self.resnets[0](h, temb)
        if self.attentions is not None:
            h = self.attentions[0](h)
        return self.resnets[1](h, temb)


class UNet2DModel(nn.Module):
    """diffusers-compatible UNet2DModel: forward(sample [N,C,H,W], timestep) -> [N,out,H,W]."""

    def __init__(self, config):
        super().__init__()
        c = resolve_config(config)
        self.config = c
        boc = c["block_out_channels"]
        n = len(boc)
        c0 = boc[0]
        temb = c["time_embedding_dim"] or 4 * c0
        nl = c["layers_per_block"]
        self.conv_in = nn.Conv2d(c["in_channels"], c0, 3, padding=1)
        self.time_embedding = TimestepEmbedding(c0, temb)

        self.down_blocks = nn.ModuleList()
        out = c0
        for i, t in enumerate(c["down_block_types"]):
            cin, out = out, boc[i]
            self.down_blocks.append(DownBlock(cin, out, nl, temb, c, t == "AttnDownBlock2D", i == n - 1))

        self.mid_block = UNetMidBlock2D(boc[-1], temb, c) if c["mid_block_type"] else None

        rev = boc[::-1]
        self.up_blocks = nn.ModuleList()
        out = rev[0]
        for i, t in enumerate(c["up_block_types"]):
            prev, out, cin = out, rev[i], rev[min(i + 1, n - 1)]
            self.up_blocks.append(UpBlock(cin, prev, out, nl + 1, temb, c, t == "AttnUpBlock2D", i == n - 1))

        self.conv_norm_out = nn.GroupNorm(c["norm_num_groups"], c0, eps=c["norm_eps"], affine=True)
        self.conv_out = nn.Conv2d(c0, c["out_channels"], 3, padding=1)
        # Training pads conv_out to PAD_OUT output channels (see out_conv); the weights and
        # the state dict keep the real shape.
        self.pad_narrow = False

    def out_conv(self, h):
        """conv_out, computed with its weight zero-padded to PAD_OUT output channels when
        self.pad_narrow is set, then cut back.  On AVX-512 CPUs oneDNN's backward of a 3×3
        convolution with 1 or 3 output channels gave an input gradient 0.3–0.95 off in relative
        L2 (models/gradcheck.py finds it); padded to 8 channels (with oneDNN capped at AVX2) it is
        within 4e-6 of float64.  The padded rows are zeros, so the output is unchanged."""
        w, b = self.conv_out.weight, self.conv_out.bias
        k = w.shape[0]
        if not self.pad_narrow or k >= PAD_OUT:
            return self.conv_out(h)
        w = torch.cat([w, w.new_zeros((PAD_OUT - k,) + tuple(w.shape[1:]))])
        b = torch.cat([b, b.new_zeros(PAD_OUT - k)])
        return F.conv2d(h, w, b, padding=1)[:, :k]

    def _attention_levels(self):
        """(level, Attention) for every attention layer; level = downsamplings above it."""
        n = len(self.down_blocks)
        for i, blk in enumerate(self.down_blocks):
            for m in blk.modules():
                if isinstance(m, Attention):
                    yield i, m
        if self.mid_block is not None:
            for m in self.mid_block.modules():
                if isinstance(m, Attention):
                    yield n - 1, m
        for i, blk in enumerate(self.up_blocks):
            for m in blk.modules():
                if isinstance(m, Attention):
                    yield n - 1 - i, m

    def downscale(self):
        """The factor H and W must be divisible by: 2^(number of downsamplers)."""
        return 2 ** (len(self.config["block_out_channels"]) - 1)

    def forward(self, sample, timestep):
        c = self.config
        n = sample.shape[0]
        t = torch.as_tensor(timestep, dtype=torch.float64)
        if t.dim() == 0:
            t = t.reshape(1)
        if t.dim() != 1 or t.shape[0] not in (1, n):
            raise ValueError(f"timestep: shape {tuple(t.shape)} does not broadcast to batch {n}")
        t = t.expand(n)
        h, w = sample.shape[-2:]
        if h % self.downscale() or w % self.downscale():
            raise ValueError(f"sample: {h}x{w} is not divisible by {self.downscale()}")
        # dfx's windowed attention (self.window_attention): on a canvas larger than sample_size each
        # query sees the training size's window of tokens, scaled to the attention's resolution
        ss = c["sample_size"]
        ss = (ss, ss) if isinstance(ss, int) else tuple(ss) if ss else None
        for m in self.modules():
            if isinstance(m, Attention):
                m.window = None
        if getattr(self, "window_attention", False) and ss:
            for blk_level, m in self._attention_levels():
                m.window = (ss[0] >> blk_level, ss[1] >> blk_level)
        x = sample
        if c["center_input_sample"]:
            x = 2 * x - 1.0
        emb = timestep_embedding(t, c["block_out_channels"][0], c["flip_sin_to_cos"], c["freq_shift"])
        emb = self.time_embedding(emb.to(x.dtype))
        h = self.conv_in(x)
        skips = [h]
        for blk in self.down_blocks:
            h = blk(h, emb, skips)
        if self.mid_block is not None:
            h = self.mid_block(h, emb)
        for blk in self.up_blocks:
            h = blk(h, emb, skips)
        assert not skips
        return self.out_conv(F.silu(self.conv_norm_out(h)))


def rename_old_attention(sd):
    """Return a copy of state dict sd with query/key/value/proj_attn renamed to
    to_q/to_k/to_v/to_out.0 and conv-style [C,C,1,1] weights squeezed to [C,C]."""
    out = {}
    for name, v in sd.items():
        parts = name.split(".")
        if len(parts) >= 2 and parts[-2] in OLD_ATTENTION_NAMES and "attentions" in parts:
            new = ".".join(parts[:-2] + [OLD_ATTENTION_NAMES[parts[-2]], parts[-1]])
            if parts[-1] == "weight" and v.dim() == 4:
                if v.shape[2:] != (1, 1):
                    raise ValueError(f"{name}: conv-style attention weight must be 1x1, got {tuple(v.shape)}")
                v = v[:, :, 0, 0]
            if new in out or new in sd:
                raise ValueError(f"{name}: both old and new attention names for {new}")
            out[new] = v
        else:
            if name in out:
                raise ValueError(f"{name}: both old and new attention names")
            out[name] = v
    return out


def to_old_attention(sd, conv_style=lambda name: False):
    """Inverse of rename_old_attention, for writing old-style test checkpoints.
    conv_style(name) selects which attention weights are stored as [C,C,1,1]."""
    inv = {v: k for k, v in OLD_ATTENTION_NAMES.items()}
    out = {}
    for name, v in sd.items():
        new = name
        for cur, old in inv.items():
            tag = "." + cur + "."
            if ".attentions." in name and tag in name:
                new = name.replace(tag, "." + old + ".")
                if name.endswith(".weight") and conv_style(name):
                    v = v[:, :, None, None]
        out[new] = v
    return out


WEIGHTS_BASE = "diffusion_pytorch_model"


def network_dir(model_dir, subfolder=UNET_DIR):
    """The folder of a model's network, by the rules of dfx's loader
    (compute/model/model-files.h): model_index.json's UNet2DModel component,
    MODEL_DIR/unet, or MODEL_DIR itself when config.json sits at its root."""
    if not subfolder:
        return model_dir
    d = os.path.join(model_dir, subfolder)
    if subfolder != UNET_DIR:
        return d
    index = os.path.join(model_dir, "model_index.json")
    if os.path.isfile(index):
        with open(index) as f:
            comps = json.load(f)
        for k, v in comps.items():
            if not k.startswith("_") and isinstance(v, list) and len(v) == 2 and v[1] == "UNet2DModel":
                d = os.path.join(model_dir, k)
                break
    if not os.path.isfile(os.path.join(d, CONFIG_NAME)) and os.path.isfile(os.path.join(model_dir, CONFIG_NAME)):
        return model_dir
    return d


def weights_path(d, variant=None):
    """The weights file (or shard index) of network folder D that dfx's loader
    picks: safetensors, its index, .bin, its index; of VARIANT (default
    $DFX_VARIANT) when given, else the plain names, else the only variant.
    Raises FileNotFoundError naming the folder."""
    if variant is None:
        variant = os.environ.get("DFX_VARIANT") or None
    b = WEIGHTS_BASE
    if variant:
        names = [f"{b}.{variant}.safetensors", f"{b}.safetensors.index.{variant}.json", f"{b}.{variant}.bin",
                 f"{b}.bin.index.{variant}.json"]
    else:
        names = [f"{b}.safetensors", f"{b}.safetensors.index.json", f"{b}.bin", f"{b}.bin.index.json"]
    for n in names:
        if os.path.isfile(os.path.join(d, n)):
            return os.path.join(d, n)
    if not variant and os.path.isdir(d):
        found = set()
        for f in os.listdir(d):
            for pre, suf in ((b + ".", ".safetensors"), (b + ".", ".bin"), (b + ".safetensors.index.", ".json"),
                             (b + ".bin.index.", ".json")):
                if f.startswith(pre) and f.endswith(suf) and len(f) > len(pre) + len(suf):
                    v = f[len(pre):-len(suf)]
                    if "." not in v and "-of-" not in v:
                        found.add(v)
        if len(found) == 1:
            return weights_path(d, found.pop())
        if found:
            raise FileNotFoundError(f"{d}: no {b}.safetensors or .bin, but the variants {', '.join(sorted(found))}: "
                                    "choose one with DFX_VARIANT")
    raise FileNotFoundError(f"{d}: no weights (expected {names[0]}, {names[2]} or a sharded {names[1]})")


def load_state_dict_file(path):
    """A state dict from safetensors, a torch.save .bin (weights only) or a shard index."""
    if path.endswith(".json"):
        with open(path) as f:
            shards = dict.fromkeys(json.load(f)["weight_map"].values())
        sd = {}
        for fn in shards:
            sd.update(load_state_dict_file(os.path.join(os.path.dirname(path), fn)))
        return sd
    if path.endswith(".bin"):
        return torch.load(path, map_location="cpu", weights_only=True)
    from safetensors.torch import load_file
    return load_file(path)


def load_checked(model, sd, where):
    """Copy the state dict sd into model (shared by dfx_unet.load and dfx_vae.load).

    Missing or unexpected tensors (where: the folder, for the message) and shape
    mismatches raise ValueError naming them.
    """
    want = model.state_dict()
    missing = sorted(set(want) - set(sd))
    extra = sorted(set(sd) - set(want))
    if missing or extra:
        raise ValueError(f"{where}: tensors missing {missing[:5]}{'...' if len(missing) > 5 else ''}, "
                         f"unexpected {extra[:5]}{'...' if len(extra) > 5 else ''}")
    for k, v in want.items():
        if tuple(sd[k].shape) != tuple(v.shape):
            raise ValueError(f"{k}: shape {tuple(sd[k].shape)} in file, {tuple(v.shape)} expected")
    model.load_state_dict(sd)


def load(model_dir, dtype=torch.float32, subfolder=UNET_DIR):
    """Load a model folder's UNet2DModel (config.json and weights in any layout
    dfx loads: network_dir(), weights_path()).

    Missing or unexpected tensors and shape mismatches raise ValueError naming them.
    """
    d = network_dir(model_dir, subfolder)
    with open(os.path.join(d, CONFIG_NAME)) as f:
        raw = json.load(f)
    model = UNet2DModel(raw)
    load_checked(model, rename_old_attention(load_state_dict_file(weights_path(d))), d)
    # a Fisher head's output (models/train_fisher.py): "second_moment" m or "variance_ratio" r = diag C/σ̃²
    model.fisher_output = raw.get("_dfx_fisher_output", "second_moment")
    if model.fisher_output not in ("second_moment", "variance_ratio"):
        raise ConfigError(f"_dfx_fisher_output: unsupported value {model.fisher_output!r} "
                          "(supported: 'second_moment', 'variance_ratio')")
    return model.to(dtype).eval()


def save(model, model_dir, subfolder=UNET_DIR, old_attention=None, config=None):
    """Write MODEL_DIR/unet/config.json and the weights (float32) in diffusers layout.

    old_attention: None, or a predicate name -> bool: write old attention names
    (query/key/value/proj_attn), with conv-style [C,C,1,1] weights where it is true.
    config: the dict to write (default: the resolved config, all fields explicit).
    """
    save_network(model, "UNet2DModel", model_dir, subfolder, old_attention, config)


def save_network(model, class_name, model_dir, subfolder, old_attention=None, config=None):
    """What dfx_unet.save and dfx_vae.save write: MODEL_DIR/SUBFOLDER/config.json
    ({"_class_name": class_name} and config or model.config) and the weights
    (float32 safetensors), old_attention as in save()."""
    from safetensors.torch import save_file
    d = os.path.join(model_dir, subfolder) if subfolder else model_dir
    os.makedirs(d, exist_ok=True)
    cfg = {"_class_name": class_name}
    cfg.update(config if config is not None else model.config)
    with open(os.path.join(d, CONFIG_NAME), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    sd = {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in model.state_dict().items()}
    if old_attention is not None:
        sd = to_old_attention(sd, old_attention)
    save_file(sd, os.path.join(d, WEIGHTS_NAME), metadata={"format": "pt"})


def count(model):
    """(parameters, tensors) of a model's state dict."""
    sd = model.state_dict()
    return sum(v.numel() for v in sd.values()), len(sd)


def main():
    ap = argparse.ArgumentParser(description="Load a diffusers-layout UNet2DModel folder with dfx's "
                                 "reference and print its config, parameter and tensor counts. "
                                 "Writes nothing.")
    ap.add_argument("model", help="model folder (with unet/) or a unet/config.json to build unloaded")
    a = ap.parse_args()
    try:
        if a.model.endswith(".json"):
            with open(a.model) as f:
                model = UNet2DModel(json.load(f))
        else:
            model = load(a.model)
    except (ConfigError, ValueError, OSError) as e:
        print(f"dfx_unet: {e}", file=sys.stderr)
        return 1
    p, t = count(model)
    c = model.config
    print(f"blocks {c['block_out_channels']} down {c['down_block_types']} up {c['up_block_types']}")
    print(f"parameters {p} tensors {t}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
