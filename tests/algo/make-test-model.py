#!/usr/bin/env python3
"""make-test-model.py — a random-weight model folder for the algo suite.

  make-test-model.py --config CFG.json --scheduler linear-eps|cosine-v|scaled-sample
                     --out DIR [--seed S] [--gaussian SEED] [--fisher SEED]
                     [--fisher-output second_moment|variance_ratio]

Writes DIR/unet (the config, weights drawn as models/make_golden.py draws
them), DIR/scheduler (the named DDPM schedule and prediction type) and, with
--gaussian, DIR/gaussian (random valid statistics, models/dfx_gaussian.py
synthetic, sigma_skip 20) and, with --fisher, DIR/fisher (a second random
network of the same config standing in for the Fisher head).  The weights
describe no data: these models test
plumbing and parity, not quality.  Writes nothing else.
"""
import argparse
import json
import os
import sys

import torch

sys.dont_write_bytecode = True
MODELS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "models")
sys.path.insert(0, MODELS)
import dfx_gaussian  # noqa: E402
import dfx_sched  # noqa: E402
import dfx_unet  # noqa: E402
import make_golden  # noqa: E402

SCHEDULERS = {
    "linear-eps": dict(make_golden.LINEAR),
    "cosine-v": dict(make_golden.LINEAR, beta_schedule="squaredcos_cap_v2", prediction_type="v_prediction"),
    "scaled-sample": dict(make_golden.LINEAR, beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012,
                          prediction_type="sample"),
}


def make(config, scheduler, out, seed=1, gaussian=None, fisher=None, fisher_output="second_moment"):
    """Writes the model folder `out` (see the module docstring)."""
    with open(config) as f:
        cfg = json.load(f)
    torch.manual_seed(seed)
    model = dfx_unet.UNet2DModel(cfg)
    make_golden.init_weights(model, seed)
    dfx_unet.save(model, out, config={"_class_name": "UNet2DModel", **model.config})
    dfx_sched.save(SCHEDULERS[scheduler], out)
    if fisher is not None:
        torch.manual_seed(fisher)
        head = dfx_unet.UNet2DModel(cfg)
        make_golden.init_weights(head, fisher)
        dfx_unet.save(head, out, subfolder="fisher", config={"_class_name": "UNet2DModel", **head.config,
                                                             "_dfx_fisher_output": fisher_output})
    if gaussian is not None:
        ss = model.config["sample_size"]
        h, w = (ss, ss) if isinstance(ss, int) else tuple(ss)
        gcfg, t = dfx_gaussian.synthetic(model.config["in_channels"], h, w, gaussian, rank=8, sigma_skip=20.0)
        dfx_gaussian.save(out, gcfg, **t)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", required=True)
    ap.add_argument("--scheduler", choices=sorted(SCHEDULERS), required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--gaussian", type=int, help="write synthetic gaussian/ statistics with this seed")
    ap.add_argument("--fisher", type=int, help="write a random-weight fisher/ head with this seed")
    ap.add_argument("--fisher-output", choices=("second_moment", "variance_ratio"), default="second_moment",
                    help="what the head outputs (fisher/config.json _dfx_fisher_output)")
    a = ap.parse_args()
    make(a.config, a.scheduler, a.out, a.seed, a.gaussian, a.fisher, a.fisher_output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
