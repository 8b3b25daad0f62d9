#!/usr/bin/env python3
"""Write the seed corpora of dfx's fuzz targets (tests/fuzz/corpus-*/).

Writes a few tiny, valid inputs: safetensors files (corpus-safetensors/,
every dtype, metadata, a scalar, a zero-size tensor, padding) and diffusers
configs (corpus-config/: UNet2DModel, AutoencoderKL and DDPM/DDIM scheduler configs).  The
output is deterministic; the files are built byte by byte with the standard
library.  With --check, each safetensors file is also loaded with the
`safetensors` Python package to confirm that the reference reader accepts it.
"""
import argparse
import json
import os
import struct

DTYPE_SIZE = {"BOOL": 1, "U8": 1, "I8": 1, "I16": 2, "U16": 2, "F16": 2, "BF16": 2, "I32": 4, "U32": 4,
              "F32": 4, "F64": 8, "I64": 8, "U64": 8, "F8_E4M3": 1, "F8_E5M2": 1}


def safetensors_bytes(tensors, metadata=None):
    """tensors: list of (name, dtype, shape, raw bytes), packed in order."""
    header, data, off = {}, b"", 0
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape, raw in tensors:
        n = DTYPE_SIZE[dtype]
        for d in shape:
            n *= d
        assert len(raw) == n, name
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [off, off + n]}
        data += raw
        off += n
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def f32(*v):
    return struct.pack("<%df" % len(v), *v)


SAFETENSORS = {
    "empty.safetensors": safetensors_bytes([]),
    "f32.safetensors": safetensors_bytes(
        [("w", "F32", (2, 3), f32(1, 2, 3, 4, 5, 6)), ("b", "F32", (3,), f32(0.5, -1, 2))], {"format": "pt"}),
    "dtypes.safetensors": safetensors_bytes([
        ("h", "F16", (4,), struct.pack("<4H", 0x3C00, 0x0001, 0x7C00, 0x7E00)),
        ("bf", "BF16", (2, 2), struct.pack("<4H", 0x3F80, 0xC040, 0x0001, 0x7FC0)),
        ("d", "F64", (1,), struct.pack("<d", 1 / 3)),
        ("i", "I32", (2,), struct.pack("<2i", -1, 7)),
        ("u", "U8", (3,), b"\x01\x02\x03"),
        ("flag", "BOOL", (1,), b"\x01"),
        ("e5", "F8_E5M2", (2,), b"\x3c\xbc"),
        ("s", "F32", (), f32(3.5)),
        ("z", "F32", (0, 2), b""),
    ]),
    "unet-names.safetensors": safetensors_bytes([
        ("conv_in.weight", "F32", (1, 1, 1, 1), f32(1)),
        ("down_blocks.0.attentions.0.to_q.weight", "F16", (1, 1), struct.pack("<H", 0x3C00)),
        ("mid_block.resnets.0.norm1.bias", "BF16", (1,), struct.pack("<H", 0x3F80)),
    ], {"format": "pt", "note": "seed"}),
}

CIFAR10_UNET = {
    "_class_name": "UNet2DModel", "_diffusers_version": "0.0.4", "act_fn": "silu", "attention_head_dim": None,
    "block_out_channels": [128, 256, 256, 256], "center_input_sample": False,
    "down_block_types": ["DownBlock2D", "AttnDownBlock2D", "DownBlock2D", "DownBlock2D"],
    "downsample_padding": 0, "flip_sin_to_cos": False, "freq_shift": 1, "in_channels": 3, "layers_per_block": 2,
    "mid_block_scale_factor": 1, "norm_eps": 1e-06, "norm_num_groups": 32, "out_channels": 3,
    "resnet_time_scale_shift": "default", "sample_size": 32, "time_embedding_type": "positional",
    "up_block_types": ["UpBlock2D", "UpBlock2D", "AttnUpBlock2D", "UpBlock2D"],
}

CONFIGS = {
    "empty.json": {},
    "unet-cifar10.json": CIFAR10_UNET,
    "unet-small.json": {
        "sample_size": [16, 24], "in_channels": 1, "out_channels": 2, "center_input_sample": True,
        "time_embedding_dim": 64, "block_out_channels": [16, 32], "down_block_types": ["AttnDownBlock2D",
        "DownBlock2D"], "up_block_types": ["UNetResUpBlock2D", "AttnUpBlock2D"], "mid_block_type": None,
        "layers_per_block": 1, "attention_head_dim": 8, "norm_num_groups": 8, "attn_norm_num_groups": 4,
        "resnet_time_scale_shift": "scale_shift", "add_attention": False, "dropout": 0.1, "act_fn": "swish",
        "downsample_type": "conv", "upsample_type": None, "class_embed_type": None, "num_class_embeds": None},
    # Stable Diffusion 1.x's vae/config.json, and a small AutoencoderKL with every field set
    "vae-sd1.json": {
        "_class_name": "AutoencoderKL", "_diffusers_version": "0.6.0", "act_fn": "silu",
        "block_out_channels": [128, 256, 512, 512], "down_block_types": ["DownEncoderBlock2D"] * 4,
        "in_channels": 3, "latent_channels": 4, "layers_per_block": 2, "norm_num_groups": 32, "out_channels": 3,
        "sample_size": 512, "up_block_types": ["UpDecoderBlock2D"] * 4},
    "vae-small.json": {
        "_class_name": "AutoencoderKL", "block_out_channels": [8, 16], "down_block_types": ["DownEncoderBlock2D"] * 2,
        "up_block_types": ["UpDecoderBlock2D"] * 2, "layers_per_block": 1, "norm_num_groups": 8,
        "latent_channels": 2, "in_channels": 1, "out_channels": 2, "use_quant_conv": False,
        "use_post_quant_conv": False, "mid_block_add_attention": False, "scaling_factor": 0.3611,
        "shift_factor": 0.1159, "latents_mean": None, "latents_std": [1.0, 2.0], "force_upcast": True,
        "sample_size": [16, 8]},
    "sched-ddpm.json": {
        "_class_name": "DDPMScheduler", "_diffusers_version": "0.1.1", "beta_end": 0.02, "beta_schedule": "linear",
        "beta_start": 0.0001, "clip_sample": True, "num_train_timesteps": 1000, "trained_betas": None,
        "variance_type": "fixed_small"},
    "sched-ddim.json": {
        "_class_name": "DDIMScheduler", "beta_schedule": "scaled_linear", "beta_start": 0.00085, "beta_end": 0.012,
        "prediction_type": "v_prediction", "set_alpha_to_one": False, "steps_offset": 1, "clip_sample": False,
        "clip_sample_range": 1.5, "timestep_spacing": "trailing", "thresholding": False,
        "dynamic_thresholding_ratio": 0.995, "sample_max_value": 1.0, "rescale_betas_zero_snr": True},
    "sched-cosine.json": {"beta_schedule": "squaredcos_cap_v2", "num_train_timesteps": 64,
                          "prediction_type": "sample", "variance_type": "fixed_large"},
    "sched-trained.json": {"trained_betas": [0.1, 0.2, 0.3], "num_train_timesteps": 3},
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)),
                    help="folder that receives corpus-safetensors/ and corpus-config/ (default: tests/fuzz)")
    ap.add_argument("--check", action="store_true", help="load each safetensors file with the safetensors package")
    args = ap.parse_args()
    st_dir = os.path.join(args.out, "corpus-safetensors")
    cfg_dir = os.path.join(args.out, "corpus-config")
    os.makedirs(st_dir, exist_ok=True)
    os.makedirs(cfg_dir, exist_ok=True)
    for name, blob in SAFETENSORS.items():
        with open(os.path.join(st_dir, name), "wb") as f:
            f.write(blob)
    for name, cfg in CONFIGS.items():
        with open(os.path.join(cfg_dir, name), "w") as f:
            json.dump(cfg, f, indent=2, sort_keys=True)
            f.write("\n")
    if args.check:
        from safetensors import safe_open
        for name in SAFETENSORS:
            with safe_open(os.path.join(st_dir, name), framework="numpy") as f:
                keys = list(f.keys())
            print(name, "accepted by safetensors:", len(keys), "tensors")


if __name__ == "__main__":
    main()
