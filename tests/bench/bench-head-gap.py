#!/usr/bin/env python3
"""bench-head-gap.py — a Fisher head for photo-32 against the network's own likelihood on the
8 held-out 32-px images of tests/model/likelihood-ref.json, before that reference is remade for it
(test-likelihood-ref.py refuses a head whose SHA-256 differs from the one the reference was made
with; the Hutchinson figures there depend on the score network only).

  build-aux/dfx-env env LP_NUM_THREADS=1 taskset -c 1 python3 tests/bench/bench-head-gap.py \\
      --dfx build/compute/dfx --head HEAD_DIR --work build/bench-head-gap [--model models/photo-32]

HEAD_DIR: the head to try (e.g. models/state/photo-32-sizes/fisher), put into a scratch model folder
with the model's networks (photocrops.model_with_head).  Prints per image dfx's DF-TM (RK45 1e-3, the reference's solver) − the committed
Hutchinson bits/dim (16 probes), their mean and how many are within issue 18's 0.05.
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np
from PIL import Image

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "model"))
sys.path.insert(0, os.path.join(here, "..", "..", "models"))
import likelihood_fixture as F  # noqa: E402
sys.path.insert(0, here)
import photocrops  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--dfx", required=True)
ap.add_argument("--model", default=os.path.join(here, "..", "..", "models", "photo-32"))
ap.add_argument("--head", required=True)
ap.add_argument("--work", required=True)
a = ap.parse_args()
os.makedirs(a.work, exist_ok=True)
model = photocrops.model_with_head(a.model, a.head, os.path.join(a.work, "model"))
ref = F.load_reference()["models"]["photo-32"]
x = F.test_images("photo-32", os.path.join(here, "..", "..", "models"), a.work)
if F.images_digest(x) != ref["images_sha256"]:
    sys.exit("bench-head-gap: the test images differ from the reference's")
hut = ref["hutchinson"]["bits_per_dim"]
gaps = []
for i, k in enumerate(F.to_uint8(x)):
    p = os.path.join(a.work, "t%d.png" % i)
    Image.fromarray(np.ascontiguousarray(k.transpose(1, 2, 0)), "RGB").save(p)
    o = subprocess.run([a.dfx, "likelihood", "--model", model, p, "--json", "--solver", "rk45",
                        "--rtol", str(F.TOL), "--atol", str(F.TOL)], capture_output=True, text=True)
    if o.returncode != 0:
        sys.exit("bench-head-gap: %s: %s" % (p, o.stderr.strip()))
    gaps.append(json.loads(o.stdout)["bits_per_dim"] - hut[i])
print("%s: DF-TM − Hutchinson per image %s; mean %+.4f; within 0.05: %d of %d" % (
    a.head, " ".join("%+.3f" % g for g in gaps), np.mean(gaps), sum(abs(g) <= 0.05 for g in gaps), len(gaps)))
