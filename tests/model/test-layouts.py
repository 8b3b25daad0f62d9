#!/usr/bin/env python3
"""test-layouts.py — `dfx unet` on checkpoints in the layouts diffusers writes,
against the float64 PyTorch reference (models/dfx_unet.py), and the refusals.

One small random-weight UNet2DModel (models/configs/tiny-scaleshift-mh.json)
is written, by hand as diffusers lays files out (diffusers itself is not in the
environment; the weights come from torch.save and safetensors), as:

  pipeline-bin     model_index.json, unet/diffusion_pytorch_model.bin (torch.save
                   zip), scheduler/ — save_pretrained(safe_serialization=False)
  pipeline-fp16    unet/ holding only diffusion_pytorch_model.fp16.safetensors
                   (float16 weights), loaded by default and with --variant fp16
  bare-bin         config.json, diffusion_pytorch_model.bin and
                   scheduler_config.json at the root (the older layout)
  hub-root         the same with a model_index.json beside them (no unet/)
  legacy-bin       the .bin in torch.save's legacy (non-zip) format, bfloat16
  shards-st        diffusion_pytorch_model.safetensors.index.json + 2 shards
  shards-bin-fp16  diffusion_pytorch_model.bin.index.fp16.json + 2 .bin shards
                   (float16) beside plain float32 safetensors: --variant fp16
  converted        pipeline-bin after `dfx convert`: the safetensors file is
                   written beside the .bin, byte-identical tensors, same output

Each output must be within 1e-5 relative L2 of the float64 reference run with
the same (rounded, for fp16/bf16) weights.  `dfx generate` (2 DDIM steps) on
the bare and model_index layouts must equal the plain layout's output bit for
bit (their scheduler_config.json is found).  Refusals checked: a pickle whose
REDUCE calls os.system (refused, the command does not run), a compressed zip
entry, a non-contiguous tensor, a missing variant, two variants without a
choice, a pipeline whose UNet is a UNet2DConditionModel — each message naming
the file and what was expected.  Then the Fisher head of a downloaded model:
models/train_fisher.py on the bare .bin layout with 4 of the model's own samples
(2 steps), dfx's evaluation of the new fisher/ against the float64 reference
(1e-5) and `dfx generate --sampler ocm-ddpm` with it.  Runs in ~30 s on one core
(the head's float64 gradient check adds a few seconds).
"""

import argparse
import collections
import io
import json
import os
import pickle
import shutil
import subprocess
import sys
import zipfile


def main():
    ap = argparse.ArgumentParser(description="Check `dfx unet` on diffusers checkpoint layouts (.bin, fp16 "
                                 "variant, root layout, shards, legacy torch.save) against the float64 "
                                 "reference, and the loader's refusals. Writes only under --work.")
    ap.add_argument("--dfx", required=True)
    ap.add_argument("--models", required=True, help="the models/ folder (dfx_unet.py, make_golden.py)")
    ap.add_argument("--work", required=True, help="scratch folder (emptied first)")
    a = ap.parse_args()
    sys.path.insert(0, a.models)
    import torch
    from safetensors.torch import load_file, save_file
    import dfx_unet
    import make_golden

    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)
    failures = []

    def check(ok, what):
        print(("ok   " if ok else "FAIL ") + what)
        if not ok:
            failures.append(what)

    _, config, _ = make_golden.resolve("tiny-scaleshift-mh")
    torch.manual_seed(23)
    model = dfx_unet.UNet2DModel(config)
    make_golden.init_weights(model, 23)
    sd = collections.OrderedDict((k, v.contiguous()) for k, v in model.state_dict().items())
    cfg = {"_class_name": "UNet2DModel", "_diffusers_version": "0.30.0", **config}
    sched = {"_class_name": "DDPMScheduler", "_diffusers_version": "0.30.0", "beta_schedule": "linear",
             "beta_start": 0.0001, "beta_end": 0.02, "num_train_timesteps": 1000,
             "prediction_type": "epsilon", "clip_sample": True}
    index = {"_class_name": "DDPMPipeline", "_diffusers_version": "0.30.0",
             "scheduler": ["diffusers", "DDPMScheduler"], "unet": ["diffusers", "UNet2DModel"]}

    def write_json(path, obj):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            json.dump(obj, f, indent=2)

    def pipeline(name, with_index=True):
        d = os.path.join(a.work, name)
        write_json(os.path.join(d, "unet", "config.json"), cfg)
        write_json(os.path.join(d, "scheduler", "scheduler_config.json"), sched)
        if with_index:
            write_json(os.path.join(d, "model_index.json"), index)
        return d

    def shards(state, n):
        keys = list(state)
        cut = (len(keys) + n - 1) // n
        return [collections.OrderedDict((k, state[k]) for k in keys[i:i + cut]) for i in range(0, len(keys), cut)]

    def as_dtype(dt):
        return collections.OrderedDict((k, v.to(dt)) for k, v in sd.items())

    layouts = []  # (name, dir, extra args, state dict the file holds)

    d = pipeline("plain", with_index=False)
    save_file(sd, os.path.join(d, "unet", "diffusion_pytorch_model.safetensors"))
    layouts.append(("plain", d, [], sd))

    d = pipeline("pipeline-bin")
    torch.save(sd, os.path.join(d, "unet", "diffusion_pytorch_model.bin"))
    layouts.append(("pipeline-bin", d, [], sd))

    d = pipeline("pipeline-fp16")
    save_file(as_dtype(torch.float16), os.path.join(d, "unet", "diffusion_pytorch_model.fp16.safetensors"))
    layouts.append(("pipeline-fp16 (default)", d, [], as_dtype(torch.float16)))
    layouts.append(("pipeline-fp16 --variant fp16", d, ["--variant", "fp16"], as_dtype(torch.float16)))

    d = os.path.join(a.work, "bare-bin")
    write_json(os.path.join(d, "config.json"), cfg)
    write_json(os.path.join(d, "scheduler_config.json"), sched)
    torch.save(sd, os.path.join(d, "diffusion_pytorch_model.bin"))
    layouts.append(("bare-bin", d, [], sd))

    d = os.path.join(a.work, "hub-root")  # model_index.json beside root files, no unet/
    write_json(os.path.join(d, "model_index.json"), index)
    write_json(os.path.join(d, "config.json"), cfg)
    write_json(os.path.join(d, "scheduler_config.json"), sched)
    torch.save(sd, os.path.join(d, "diffusion_pytorch_model.bin"))
    layouts.append(("hub-root", d, [], sd))

    d = pipeline("legacy-bin")
    torch.save(as_dtype(torch.bfloat16), os.path.join(d, "unet", "diffusion_pytorch_model.bin"),
               _use_new_zipfile_serialization=False)
    layouts.append(("legacy-bin (bfloat16)", d, [], as_dtype(torch.bfloat16)))

    d = pipeline("shards-st")
    wmap = {}
    parts = shards(sd, 2)
    for i, part in enumerate(parts):
        fn = f"diffusion_pytorch_model-{i + 1:05d}-of-{len(parts):05d}.safetensors"
        save_file(part, os.path.join(d, "unet", fn))
        wmap.update({k: fn for k in part})
    write_json(os.path.join(d, "unet", "diffusion_pytorch_model.safetensors.index.json"),
               {"metadata": {"total_size": sum(v.numel() * 4 for v in sd.values())}, "weight_map": wmap})
    layouts.append(("shards-st", d, [], sd))

    d = pipeline("shards-bin-fp16")
    save_file(sd, os.path.join(d, "unet", "diffusion_pytorch_model.safetensors"))
    wmap = {}
    parts = shards(as_dtype(torch.float16), 3)
    for i, part in enumerate(parts):
        fn = f"diffusion_pytorch_model.fp16-{i + 1:05d}-of-{len(parts):05d}.bin"
        torch.save(part, os.path.join(d, "unet", fn))
        wmap.update({k: fn for k in part})
    write_json(os.path.join(d, "unet", "diffusion_pytorch_model.bin.index.fp16.json"),
               {"metadata": {"total_size": 0}, "weight_map": wmap})
    layouts.append(("shards-bin-fp16 --variant fp16", d, ["--variant", "fp16"], as_dtype(torch.float16)))

    # The case: two samples at timestep 500.
    g = torch.Generator().manual_seed(5)
    x = torch.randn((2, config["in_channels"], 16, 16), generator=g)
    case = os.path.join(a.work, "case.safetensors")
    save_file({"sample": x, "timestep": torch.tensor([500.0, 500.0])}, case)

    def reference(state):
        ref = dfx_unet.UNet2DModel(config).double()
        ref.load_state_dict({k: v.double() for k, v in state.items()})
        with torch.no_grad():
            return ref(x.double(), torch.tensor([500.0, 500.0], dtype=torch.float64))

    def dfx(*args):
        return subprocess.run([a.dfx, *args], capture_output=True, text=True, timeout=300)

    outputs = {}
    for name, d, extra, state in layouts:
        out = os.path.join(a.work, name.split()[0] + "-" + str(len(outputs)) + ".safetensors")
        r = dfx("unet", "--model", d, "--input", case, "--output", out, *extra)
        if r.returncode != 0:
            check(False, f"{name}: dfx unet exited {r.returncode}: {r.stderr.strip()}")
            continue
        y = load_file(out)["sample"].double()
        ref = reference(state)
        err = ((y - ref).norm() / ref.norm()).item()
        outputs[name] = y
        check(err <= 1e-5, f"{name}: rel-L2 {err:.2e} against the float64 reference (<= 1e-5)")

    # The PyTorch tooling (models/dfx_unet.py, dfx_sched.py) reads the same layouts.
    import dfx_sched
    for name, d, extra, state in layouts:
        os.environ.pop("DFX_VARIANT", None)
        if extra:
            os.environ["DFX_VARIANT"] = extra[1]
        try:
            m = dfx_unet.load(d)
            got = m.state_dict()
            same = all(torch.equal(got[k], state[k].float()) for k in state)
            sc = dfx_sched.load(d)
            check(same and sc["beta_end"] == 0.02, f"{name}: models/dfx_unet.load and dfx_sched.load read it")
        except Exception as e:  # a failure of the tooling is a failed check, with its message
            check(False, f"{name}: models/dfx_unet.load: {e}")
    os.environ.pop("DFX_VARIANT", None)

    # dfx convert: safetensors beside the .bin, same tensors and dtypes, same output.
    for name, d, st_name in (("pipeline-bin", os.path.join(a.work, "pipeline-bin"),
                              "unet/diffusion_pytorch_model.safetensors"),
                             ("legacy-bin", os.path.join(a.work, "legacy-bin"),
                              "unet/diffusion_pytorch_model.safetensors")):
        r = dfx("convert", "--model", d)
        path = os.path.join(d, st_name)
        ok = r.returncode == 0 and os.path.isfile(path)
        check(ok, f"dfx convert {name}: {r.stdout.strip() or r.stderr.strip()}")
        if ok:
            conv = load_file(path)
            want = torch.load(os.path.join(d, "unet", "diffusion_pytorch_model.bin"), weights_only=True)
            same = set(conv) == set(want) and all(conv[k].dtype == want[k].dtype and torch.equal(conv[k], want[k])
                                                  for k in want)
            check(same, f"dfx convert {name}: every tensor equal with its dtype")
            out = os.path.join(a.work, f"converted-{name}.safetensors")
            r = dfx("unet", "--model", d, "--input", case, "--output", out)
            prev = [v for k, v in outputs.items() if k.startswith(name)]
            check(r.returncode == 0 and prev and torch.equal(load_file(out)["sample"].double(), prev[0]),
                  f"{name} after convert: the same output as from the .bin")
    r = dfx("convert", "--model", os.path.join(a.work, "plain"))
    check(r.returncode == 0 and "nothing to do" in r.stdout, f"dfx convert on safetensors: {r.stdout.strip()}")

    # The schedule of the bare and pipeline layouts is found: generation equals the plain layout's.
    gens = {}
    for name in ("plain", "bare-bin", "pipeline-bin", "hub-root"):
        t = os.path.join(a.work, f"gen-{name}.safetensors")
        r = dfx("generate", "--model", os.path.join(a.work, name), "--steps", "2", "--sampler", "ddim",
                "--seed", "3", "-o", os.path.join(a.work, f"gen-{name}.png"), "--tensor", t)
        check(r.returncode == 0, f"dfx generate {name}: exit {r.returncode} {r.stderr.strip()}")
        if r.returncode == 0:
            gens[name] = load_file(t)["sample"]
    if len(gens) == 4:
        check(all(torch.equal(gens["plain"], v) for v in gens.values()),
              "dfx generate: bare and model_index layouts give the plain layout's images bit for bit")

    # The Fisher head of a downloaded model (README "Use your own model"): train_fisher.py on the bare .bin
    # layout, trained on the model's own samples (--target network, 2 steps: the path, not the head's
    # quality); dfx finds bare-bin/fisher/ and evaluates it within 1e-5 of the float64 reference, and the
    # OCM sampler that needs it runs.
    d = os.path.join(a.work, "bare-bin")
    samples = os.path.join(a.work, "bare-samples")
    os.makedirs(samples)
    r = dfx("generate", "--model", d, "--steps", "2", "--sampler", "ddim", "--seed", "4", "--count", "4",
            "-o", os.path.join(samples, "s.png"))
    pngs = sorted(f for f in os.listdir(samples) if f.endswith(".png"))
    check(r.returncode == 0 and len(pngs) == 4, f"dfx generate --count 4 for the head's data: {r.stderr.strip()} "
          f"{pngs}")
    r = subprocess.run([sys.executable, os.path.join(a.models, "train_fisher.py"), d, "--data", samples,
                        "--holdout", "0", "--target", "network", "--steps", "2", "--batch", "4",
                        "--ode-fraction", "0.5", "--ode-steps", "2:2", "--work", os.path.join(a.work, "fisher-work")],
                       capture_output=True, text=True, timeout=600)
    head_dir = os.path.join(d, "fisher")
    check(r.returncode == 0 and os.path.isfile(os.path.join(head_dir, "config.json")),
          f"train_fisher.py on the bare .bin layout: exit {r.returncode} {r.stderr.strip()[-300:]}")
    if r.returncode == 0:
        out = os.path.join(a.work, "fisher-out.safetensors")
        r = dfx("unet", "--model", d, "--part", "fisher", "--input", case, "--output", out)
        check(r.returncode == 0, f"dfx unet --part fisher on bare-bin: {r.stderr.strip()}")
        if r.returncode == 0:
            head = dfx_unet.load(d, subfolder="fisher").double()
            with torch.no_grad():
                ref = head(x.double(), torch.tensor([500.0, 500.0], dtype=torch.float64))
            y = load_file(out)["sample"].double()
            err = ((y - ref).norm() / ref.norm()).item()
            check(err <= 1e-5, f"bare-bin/fisher (trained here): rel-L2 {err:.2e} against the float64 reference")
        r = dfx("generate", "--model", d, "--steps", "2", "--sampler", "ocm-ddpm", "--seed", "3",
                "-o", os.path.join(a.work, "gen-ocm.png"))
        check(r.returncode == 0, f"dfx generate --sampler ocm-ddpm with the new head: {r.stderr.strip()}")

    # ---- Refusals ----
    def refused(name, d, expect, extra=()):
        r = dfx("unet", "--model", d, "--input", case, "--output", os.path.join(a.work, "refused.safetensors"),
                *extra)
        msg = r.stderr.strip()
        check(r.returncode == 1 and all(e in msg for e in expect), f"refused {name}: {msg}")

    # A pickle that calls os.system: refused, the command never runs.
    marker = os.path.join(a.work, "pwned")

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    d = pipeline("evil")
    bin_path = os.path.join(d, "unet", "diffusion_pytorch_model.bin")
    torch.save(sd, bin_path)
    with zipfile.ZipFile(bin_path) as z:
        entries = [(i.filename, z.read(i.filename)) for i in z.infolist()]
    with zipfile.ZipFile(bin_path, "w", zipfile.ZIP_STORED) as z:
        for fn, data in entries:
            z.writestr(fn, pickle.dumps(collections.OrderedDict(x=Evil()), protocol=2)
                       if fn.endswith("/data.pkl") else data)
    refused("os.system pickle (zip)", d, [bin_path, "posix.system", "nothing was run"])
    check(not os.path.exists(marker), "the os.system pickle ran nothing")
    # The same in the legacy stream (its first pickle is the payload).
    d = pipeline("evil-legacy")
    legacy_path = os.path.join(d, "unet", "diffusion_pytorch_model.bin")
    with open(legacy_path, "wb") as f:
        f.write(pickle.dumps(Evil(), protocol=2))
    refused("os.system pickle (legacy)", d, [legacy_path, "posix.system", "nothing was run"])
    check(not os.path.exists(marker), "the legacy os.system pickle ran nothing")

    d = pipeline("deflated")
    bin_path = os.path.join(d, "unet", "diffusion_pytorch_model.bin")
    buf = io.BytesIO()
    torch.save(sd, buf)
    with zipfile.ZipFile(buf) as z, zipfile.ZipFile(bin_path, "w", zipfile.ZIP_DEFLATED) as out:
        for i in z.infolist():
            out.writestr(i.filename, z.read(i.filename))
    refused("compressed zip entries", d, [bin_path, "compressed", "method 8"])

    d = pipeline("strided")
    bin_path = os.path.join(d, "unet", "diffusion_pytorch_model.bin")
    bad = collections.OrderedDict(sd)
    bad["conv_in.weight"] = sd["conv_in.weight"].transpose(2, 3)
    torch.save(bad, bin_path)
    refused("non-contiguous tensor", d, [bin_path, "not contiguous"])

    refused("missing variant", os.path.join(a.work, "pipeline-fp16"),
            ["pipeline-fp16/unet", "variant 'ema'", "diffusion_pytorch_model.ema.safetensors"], ["--variant", "ema"])

    d = pipeline("two-variants")
    save_file(as_dtype(torch.float16), os.path.join(d, "unet", "diffusion_pytorch_model.fp16.safetensors"))
    save_file(sd, os.path.join(d, "unet", "diffusion_pytorch_model.ema.safetensors"))
    refused("two variants, none chosen", d, ["two-variants/unet", "ema, fp16", "--variant"])

    d = pipeline("conditional")
    write_json(os.path.join(d, "model_index.json"),
               dict(index, _class_name="StableDiffusionPipeline", unet=["diffusers", "UNet2DConditionModel"]))
    refused("UNet2DConditionModel pipeline", d, ["conditional/model_index.json", "UNet2DConditionModel",
                                                 "UNet2DModel"])

    d = pipeline("no-weights")
    refused("no weights", d, ["no-weights/unet/diffusion_pytorch_model.safetensors", ".bin"])

    d = pipeline("bad-shard")
    write_json(os.path.join(d, "unet", "diffusion_pytorch_model.safetensors.index.json"),
               {"weight_map": {"conv_in.weight": "../plain/unet/diffusion_pytorch_model.safetensors"}})
    refused("shard outside the folder", d, ["diffusion_pytorch_model.safetensors.index.json", "conv_in.weight"])

    if failures:
        print(f"{len(failures)} check(s) failed")
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
