"""likelihood_fixture.py — what test-likelihood-ref.py and make-likelihood-ref.py share: the
settings of the comparison, the test images of each shipped model, and the digests that tie the
committed float64 reference (likelihood-ref.json) to the model files and images it was made from."""

import hashlib
import json
import os
import subprocess
import sys

import numpy as np

STEPS = 8          # fixed Heun steps of the DF-TM parity check
TOL = 1e-3         # dfx likelihood's default RK45 tolerances (rtol = atol)
PROBES = 4         # Hutchinson probes per image of the committed reference (make-likelihood-ref.py --probes)
N_IMAGES = 8       # the first N test images of each model
SEED = 1           # Hutchinson probe seed
MODELS = ("fashion-mnist-32", "emoji-32", "photo-32")  # the shipped models test-likelihood-ref.py checks by default
# Models whose test images are known (MODELS and the runs of models/state/ before promotion):
# make-likelihood-ref.py and test-likelihood-ref.py take these with --model.
KNOWN = MODELS
CODE = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "models"))
# The files of a model folder the likelihood depends on (gaussian/ is not used by `dfx likelihood`).
MODEL_FILES = ("unet/config.json", "unet/diffusion_pytorch_model.safetensors",
               "fisher/config.json", "fisher/diffusion_pytorch_model.safetensors",
               "scheduler/scheduler_config.json")
REFERENCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "likelihood-ref.json")
REGENERATE = ("build-aux/dfx-env python3 tests/model/make-likelihood-ref.py "
              "[--model NAME] (one core; about 3 minutes of CPU for both models)")


def emoji_test_split(models, work):
    """The emoji-32 test split, rendered once into work/emoji-data (models/prep_emoji.py)."""
    import dfx_data
    data = os.path.join(work, "emoji-data")
    if not os.path.isfile(os.path.join(data, "manifest.json")):
        out = subprocess.run([sys.executable, os.path.join(CODE, "prep_emoji.py"), "--out", data],
                             capture_output=True, text=True)
        if out.returncode != 0:
            raise dfx_data.DataError(out.stderr.strip())
    return dfx_data.load(data, "test", 3)


def test_images(name, models, work, n=N_IMAGES):
    """The first n test images [n, C, 32, 32] on [-1, 1] of a model of KNOWN (Fashion-MNIST's test
    split; for emoji-32 the held-out 5 % of models/prep_emoji.py's glyphs, as its card says; for
    photo-32 the first of the 2048 held-out patches of budgie-backgrounds models/model_figures.py
    measures bits/dim on, dfx_data.py 'photos:2048')."""
    import dfx_data
    if name == "fashion-mnist-32":
        return dfx_data.fashion_mnist("test", 32)[:n]
    if name == "emoji-32":
        return emoji_test_split(models, work)[:n]
    if name == "photo-32":
        return dfx_data.load("photos:2048", "test", 3)[:n]
    raise ValueError(f"{name}: no test split known")


def to_uint8(x):
    """The 8-bit pixels [N, C, H, W] of images on [-1, 1] (which must be 8-bit)."""
    k = np.round((x.numpy() + 1.0) * 127.5).astype(np.uint8)
    assert np.allclose(k / 127.5 - 1.0, x.numpy(), atol=1e-6), "test images are 8-bit"
    return k


def images_digest(x):
    k = to_uint8(x)
    return hashlib.sha256(np.ascontiguousarray(k).tobytes() + repr(k.shape).encode()).hexdigest()


def model_digest(model_dir):
    """sha256 of each file in MODEL_FILES (None for a missing one)."""
    out = {}
    for rel in MODEL_FILES:
        path = os.path.join(model_dir, rel)
        if not os.path.isfile(path):
            out[rel] = None
            continue
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        out[rel] = h.hexdigest()
    return out


def load_reference(path=REFERENCE):
    with open(path) as f:
        return json.load(f)
