"""benchlib.py — what the quality benchmarks share: `dfx generate` in batches
from fixed seeds, and the quality metric's reference features and floor
(models/quality.py)."""
import json
import os
import subprocess
import sys

import torch
from safetensors.torch import load_file

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "models"))
import quality  # noqa: E402


def generate(dfx, model, n, seed, steps, sampler, skip, out_dir, sigma_skip=0.0):
    """n images from `dfx generate` in batches of at most 256 with seeds seed,
    seed + 1, ... (every call with the same n and seed starts from the same
    noise); returns (images clamped to [-1, 1], the last JSON report, dfx
    seconds summed)."""
    imgs, rep, secs = [], None, 0.0
    while n > 0:
        k = min(256, n)
        t = os.path.join(out_dir, f"s{seed}.safetensors")
        cmd = [dfx, "generate", "--model", model, "--steps", str(steps), "--sampler", sampler, "--skip", skip,
               "--seed", str(seed), "--count", str(k), "--grid", "-o", os.path.join(out_dir, f"s{seed}.png"),
               "--tensor", t, "--json"]
        if sigma_skip:
            cmd += ["--sigma-skip", str(sigma_skip)]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)}: exit {r.returncode}: {r.stderr.strip()}")
        rep = json.loads(r.stdout)
        secs += rep.get("seconds", 0.0)
        imgs.append(load_file(t)["sample"].float().clamp(-1, 1))
        n -= k
        seed += 1
    return torch.cat(imgs), rep, secs


def reference(n):
    """The metric against the Fashion-MNIST test split: (kind, feature
    extractor, test features, floors), the floors being the FD of n real
    training images against the test split for 3 disjoint draws."""
    test = quality.load_set("fashion-mnist:test")
    ch = test.shape[1]
    kind = "fmnist" if ch == 1 else "random"
    fx = quality.extractor(kind, ch)
    f_test = quality.feats(fx, test)
    train = quality.load_set("fashion-mnist:train")
    floors = [quality.frechet(quality.feats(fx, train[i * n:(i + 1) * n]), f_test) for i in range(3)]
    return kind, fx, f_test, floors
