#!/usr/bin/env python3
"""test-vae-parity.py — `dfx vae` (the Vulkan AutoencoderKL) against the float64
PyTorch reference models/dfx_vae.py on random weights, and its refusals.

For each configuration named with --config (see CONFIGS) it writes, under
--work: a diffusers vae/ folder with random float32 weights (fixed seed, scaled
so activations stay O(1)), an image tensor `sample` and a latent tensor
`latent`; runs `dfx vae --encode` (with --logvar) and `dfx vae --decode`; and
checks the latent mean, the log-variance and the decoded sample against the
float64 forward of the same stored weights and inputs: relative L2 <= 1e-5.

--refusals (on the "small" configuration) checks bad input: a wrong tensor
name, a wrong shape, a size not a multiple of the downscale, a missing weight,
a mis-shaped weight, unsupported config values; each must fail with a message
naming the tensor, file or field, and write no output.

--layouts checks the weights as pipelines also ship them: an fp16 variant
(--variant fp16, or alone in the folder) and a torch.save .bin.

usage: test-vae-parity.py --dfx DFX --models DIR --work DIR [--config NAME...] [--refusals] [--layouts]
"""

import argparse
import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# name -> (config, image batch and size, old attention names?)
CONFIGS = {
    # three levels, two resnets per block, a channel change, old attention names in the decoder (conv-style)
    "small": (dict(block_out_channels=[8, 16, 16], down_block_types=["DownEncoderBlock2D"] * 3,
                   up_block_types=["UpDecoderBlock2D"] * 3, layers_per_block=2, norm_num_groups=4,
                   latent_channels=4, sample_size=16), (2, 12, 20), True),
    # no quant_conv / post_quant_conv, no mid attention, one input channel, two out
    "small-plain": (dict(block_out_channels=[8, 16], down_block_types=["DownEncoderBlock2D"] * 2,
                         up_block_types=["UpDecoderBlock2D"] * 2, layers_per_block=1, norm_num_groups=8,
                         latent_channels=2, in_channels=1, out_channels=2, use_quant_conv=False,
                         use_post_quant_conv=False, mid_block_add_attention=False), (1, 8, 6), False),
    # Stable Diffusion 1.x's VAE (83.7 M parameters, random weights) on a 16x16 image
    "sd1": (dict(block_out_channels=[128, 256, 512, 512], down_block_types=["DownEncoderBlock2D"] * 4,
                 up_block_types=["UpDecoderBlock2D"] * 4, layers_per_block=2, norm_num_groups=32,
                 latent_channels=4, sample_size=512), (1, 16, 16), False),
}
BOUND = 1e-5
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print(f"FAIL: {what}")
    return cond


def rel_l2(a, b):
    a, b = a.double(), b.double()
    return ((a - b).norm() / b.norm()).item()


def run(dfx, *args):
    p = subprocess.run([dfx, "vae", *args], capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


def make(V, G, name, work):
    import torch
    from safetensors.torch import save_file
    cfg, (n, h, w), old = CONFIGS[name]
    d = os.path.join(work, name)
    shutil.rmtree(d, ignore_errors=True)
    m = V.AutoencoderKL(cfg)
    G.init_weights(m, 1234)
    V.save(m, os.path.join(d, "model"), old_attention=(lambda k: k.startswith("decoder.")) if old else None,
           config=dict(cfg))
    g = torch.Generator().manual_seed(99)
    f = m.downscale()
    x = 2 * torch.rand(n, cfg.get("in_channels", 3), h, w, generator=g) - 1
    z = torch.randn(n, cfg["latent_channels"], h // f, w // f, generator=g)
    save_file({"sample": x.contiguous()}, os.path.join(d, "image.safetensors"))
    save_file({"latent": z.contiguous()}, os.path.join(d, "latent.safetensors"))
    return d, x, z


def parity(V, G, dfx, name, work):
    import torch
    from safetensors.torch import load_file
    d, x, z = make(V, G, name, work)
    ref = V.load(os.path.join(d, "model"), dtype=torch.float64)  # the stored float32 weights, upcast
    with torch.no_grad():
        mean, logvar = ref.encode(x.double())
        sample = ref.decode(z.double())
    out = {k: os.path.join(d, k + ".out.safetensors") for k in ("latent", "logvar", "sample")}
    rc, msg = run(dfx, "--model", os.path.join(d, "model"), "--encode", "--input", os.path.join(d, "image.safetensors"),
                  "--output", out["latent"], "--logvar", out["logvar"], "--json")
    if not check(rc == 0, f"{name}: dfx vae --encode exited {rc}: {msg}"):
        return
    rc, msg = run(dfx, "--model", os.path.join(d, "model"), "--decode", "--input", os.path.join(d, "latent.safetensors"),
                  "--output", out["sample"], "--json")
    if not check(rc == 0, f"{name}: dfx vae --decode exited {rc}: {msg}"):
        return
    for key, want in (("latent", mean), ("logvar", logvar), ("sample", sample)):
        got = load_file(out[key])[key]
        if not check(tuple(got.shape) == tuple(want.shape), f"{name}: {key} shape {tuple(got.shape)} != "
                     f"{tuple(want.shape)}"):
            continue
        e = rel_l2(got, want)
        print(f"{name}: {key} {tuple(want.shape)} rel-L2 {e:.3e} (bound {BOUND:.0e})")
        check(e <= BOUND, f"{name}: {key} rel-L2 {e:.3e} > {BOUND:.0e}")


def refusals(V, G, dfx, work):
    import torch
    from safetensors.torch import load_file, save_file
    d, x, z = make(V, G, "small", work)
    model = os.path.join(d, "model")
    out = os.path.join(d, "refused.safetensors")

    def refused(args, words, what):
        if os.path.exists(out):
            os.remove(out)
        rc, msg = run(dfx, *args)
        ok = check(rc != 0, f"{what}: accepted")
        ok = ok and check(all(w in msg for w in words), f"{what}: message does not name {words}: {msg.strip()}")
        check(not os.path.exists(out), f"{what}: an output was written")
        if ok:
            print(f"refused ({what}): {msg.strip().splitlines()[-1]}")

    img = os.path.join(d, "image.safetensors")
    lat = os.path.join(d, "latent.safetensors")
    refused(["--model", model, "--encode", "--input", lat, "--output", out], ["sample", lat], "encode a latent file")
    refused(["--model", model, "--decode", "--input", img, "--output", out], ["latent", img], "decode an image file")
    bad = os.path.join(d, "bad.safetensors")
    save_file({"sample": torch.zeros(1, 3, 10, 8)}, bad)
    refused(["--model", model, "--encode", "--input", bad, "--output", out], ["sample", bad, "4"],
            "a 10x8 image (downscale 4)")
    save_file({"sample": torch.zeros(1, 2, 8, 8)}, bad)
    refused(["--model", model, "--encode", "--input", bad, "--output", out], ["sample", bad], "two image channels")
    save_file({"latent": torch.zeros(1, 3, 2, 2)}, bad)
    refused(["--model", model, "--decode", "--input", bad, "--output", out], ["latent", bad], "three latent channels")
    refused(["--model", model, "--input", img, "--output", out], ["--encode"], "no --encode/--decode")
    refused(["--model", os.path.join(d, "nowhere"), "--encode", "--input", img, "--output", out],
            ["nowhere", "config.json"], "no vae folder")

    wfile = os.path.join(model, "vae", V.WEIGHTS_NAME)
    cfile = os.path.join(model, "vae", V.CONFIG_NAME)
    sd = load_file(wfile)
    cfg = json.load(open(cfile))

    def with_weights(new_sd, words, what):
        save_file(new_sd, wfile)
        refused(["--model", model, "--encode", "--input", img, "--output", out], words, what)
        save_file(sd, wfile)

    s2 = dict(sd)
    s2.pop("decoder.up_blocks.1.resnets.2.conv2.bias")
    with_weights(s2, ["decoder.up_blocks.1.resnets.2.conv2.bias", "missing", wfile], "a missing decoder weight")
    s2 = dict(sd)
    s2["encoder.conv_in.weight"] = torch.zeros(8, 3, 5, 5)
    with_weights(s2, ["encoder.conv_in.weight", "[8, 3, 5, 5]", "[8, 3, 3, 3]"], "a mis-shaped weight")

    def with_config(patch, words, what, names_config=True):
        with open(cfile, "w") as f:
            json.dump(dict(cfg, **patch), f)
        refused(["--model", model, "--encode", "--input", img, "--output", out],
                words + ([cfile] if names_config else [wfile]), what)
        with open(cfile, "w") as f:
            json.dump(cfg, f)

    with_config({"act_fn": "gelu"}, ["act_fn", "gelu"], "act_fn gelu")
    with_config({"down_block_types": ["DownEncoderBlock2D", "AttnDownEncoderBlock2D", "DownEncoderBlock2D"]},
                ["down_block_types[1]", "AttnDownEncoderBlock2D"], "an attention down block")
    with_config({"up_block_types": ["UpDecoderBlock2D"] * 2}, ["up_block_types", "block_out_channels"],
                "two up blocks for three levels")
    with_config({"norm_num_groups": 3}, ["norm_num_groups", "3"], "3 groups for 8 channels")
    with_config({"_class_name": "VQModel"}, ["_class_name", "VQModel"], "a VQModel")
    with_config({"latent_channels": 0}, ["latent_channels"], "no latent channels")
    with_config({"use_post_quant_conv": "yes"}, ["use_post_quant_conv"], "a string for a boolean")
    with_config({"latents_mean": [0, 1]}, ["latents_mean"], "latents_mean of the wrong length")
    with_config({"scaling_factor": 0}, ["scaling_factor"], "scaling_factor 0")
    # a config that is right, with weights of another configuration: the first mismatch is named
    with_config({"latent_channels": 8}, ["encoder.conv_out.weight", "[16, 16, 3, 3]"], "weights of another latent size",
                names_config=False)
    # and the model still works afterwards
    rc, msg = run(dfx, "--model", model, "--encode", "--input", img, "--output", out)
    check(rc == 0, f"the restored model fails: {msg}")


def layouts(V, G, dfx, work):
    """The weights as diffusers also ships them: an fp16 variant (picked with --variant fp16, and
    alone in its folder without it) and a torch.save .bin; the output matches the float64
    reference of the weights as stored (fp16-rounded for the variant)."""
    import torch
    from safetensors.torch import load_file, save_file
    d, x, z = make(V, G, "small", os.path.join(work, "layouts"))
    vae = os.path.join(d, "model", "vae")
    plain = os.path.join(vae, V.WEIGHTS_NAME)
    sd = load_file(plain)
    img = os.path.join(d, "image.safetensors")

    def encode(*extra):
        out = os.path.join(d, "layout.safetensors")
        if os.path.exists(out):
            os.remove(out)
        rc, msg = run(dfx, "--model", os.path.join(d, "model"), "--encode", "--input", img, "--output", out, *extra)
        return load_file(out)["latent"] if check(rc == 0, f"layout {extra}: dfx vae failed: {msg}") else None

    def reference(state):
        ref = V.AutoencoderKL(json.load(open(os.path.join(vae, V.CONFIG_NAME)))).double().eval()
        ref.load_state_dict(V.rename_old_attention({k: v.double() for k, v in state.items()}))
        with torch.no_grad():
            return ref.encode(x.double())[0]

    want = reference(sd)
    sd16 = {k: v.half().contiguous() for k, v in sd.items()}
    save_file(sd16, os.path.join(vae, "diffusion_pytorch_model.fp16.safetensors"))
    want16 = reference(sd16)
    check(rel_l2(want16, want) > 1e-5, "the fp16 weights change the output (else the variant test proves nothing)")
    for extra, ref, what in (((), want, "plain beside an fp16 variant"), (("--variant", "fp16"), want16, "--variant fp16")):
        got = encode(*extra)
        if got is not None:
            e = rel_l2(got, ref)
            print(f"layout {what}: latent rel-L2 {e:.3e}")
            check(e <= BOUND, f"layout {what}: rel-L2 {e:.3e} > {BOUND:.0e}")
    os.remove(plain)
    got = encode()
    if got is not None:
        e = rel_l2(got, want16)
        print(f"layout fp16 variant alone: latent rel-L2 {e:.3e}")
        check(e <= BOUND, f"layout fp16 variant alone: rel-L2 {e:.3e}")
    os.remove(os.path.join(vae, "diffusion_pytorch_model.fp16.safetensors"))
    torch.save(sd, os.path.join(vae, "diffusion_pytorch_model.bin"))
    got = encode()
    if got is not None:
        e = rel_l2(got, want)
        print(f"layout torch.save .bin: latent rel-L2 {e:.3e}")
        check(e <= BOUND, f"layout .bin: rel-L2 {e:.3e}")


def main():
    ap = argparse.ArgumentParser(description="dfx vae against the float64 reference; writes only under --work.")
    ap.add_argument("--dfx", required=True)
    ap.add_argument("--models", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--config", action="append", default=[], choices=sorted(CONFIGS))
    ap.add_argument("--refusals", action="store_true")
    ap.add_argument("--layouts", action="store_true", help="fp16 variant and .bin weights")
    a = ap.parse_args()
    import torch
    torch.set_num_threads(1)
    sys.dont_write_bytecode = True
    sys.path.insert(0, a.models)
    import dfx_vae as V
    import make_golden as G
    os.makedirs(a.work, exist_ok=True)
    for name in a.config:
        parity(V, G, a.dfx, name, a.work)
    if a.refusals:
        refusals(V, G, a.dfx, a.work)
    if a.layouts:
        layouts(V, G, a.dfx, a.work)
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
