#!/usr/bin/env python3
"""test-finish.py — the bookkeeping of models/finish_model.py, model_card.py and promote_model.py
on a synthetic model folder (no network, no Vulkan; about a second), suite `model`.

1. up_to_date: a step without a record is due; with its record (options, SHA-256 of each input)
   and its outputs it is not; it is due again when an input's bytes change, an input or an
   output goes missing, or the options change.
2. ended/progress read both train_unet.py's (recipe.total_steps) and train_fisher.py's
   (total_steps) train_info.json.
3. The driver, run with --dry-run on the folder, skips train and fisher when they have ended and
   names each due finishing step; with DFX_FISHER_ANY_STEP unset and the head unfinished it
   stops at the head.
4. model_card.py writes the card's figures from finish.json: FD 2.4 against a floor of 0.8 is
   3.0×, bits/dim 3.0 against PNG 5.0 and WebP 4.0 is 25 % below the better (both goals met),
   a gap mean of +0.0300 fails the 0.02 goal.
5. A step still running at the deadline is stopped with its process group (rc None).
6. promote_model.py's not_finished lists the unfinished head and each missing step, and nothing
   once the folder is complete.

usage: test-finish.py --models DIR
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w" if isinstance(data, str) else "wb") as f:
        f.write(data)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", required=True)
    a = ap.parse_args()
    sys.path.insert(0, a.models)
    import finish_model as FM
    import promote_model as PM
    failures = 0

    def check(ok, what):
        nonlocal failures
        failures += not ok
        print(f"{'ok' if ok else 'FAIL'}: {what}")

    with tempfile.TemporaryDirectory() as tmp:
        d = os.path.join(tmp, "photo-32")
        for rel in FM.UNET + FM.FISHER + FM.GAUSS:
            write(os.path.join(d, rel), rel.encode() * 3)
        write(os.path.join(d, "unet", "config.json"), json.dumps({"in_channels": 3, "block_out_channels": [32, 64, 96],
                                                                  "down_block_types": ["DownBlock2D"] * 3,
                                                                  "add_attention": False}))
        write(os.path.join(d, "train_info.json"), json.dumps({"steps": 23000, "parameters": 10,
                                                              "recipe": {"total_steps": 23000}}))
        write(os.path.join(d, "fisher", "train_info.json"), json.dumps({"steps": 100, "total_steps": 3000,
                                                                        "recipe": {}}))
        opts = {"count": 1024}
        rec = {"steps": {}}
        check(FM.up_to_date(rec, d, "fd", opts) == "not done yet", "a step without a record is due")
        rec["steps"]["fd"] = {"options": opts, "inputs": FM.digests(d, FM.INPUTS["fd"])}
        check(FM.up_to_date(rec, d, "fd", opts) is None, "the recorded step with the same inputs is up to date")
        check("options changed" in (FM.up_to_date(rec, d, "fd", {"count": 64}) or ""), "other options: due")
        write(os.path.join(d, "gaussian", "statistics.safetensors"), b"other bytes")
        check(FM.up_to_date(rec, d, "fd", opts) == "input gaussian/statistics.safetensors changed",
              "a changed input (gaussian/ for fd): due")
        rec["steps"]["fd"]["inputs"] = FM.digests(d, FM.INPUTS["fd"])
        os.remove(os.path.join(d, "gaussian", "config.json"))
        check(FM.up_to_date(rec, d, "fd", opts) == "input gaussian/config.json missing", "a missing input: due")
        write(os.path.join(d, "gaussian", "config.json"), json.dumps({
            "pca_rank": 64, "explained_fraction": 0.9, "residual_variance": 0.01, "sigma_skip_pca": 1.73,
            "sigma_skip_spectral": 1.73, "mode": "pca", "tolerance": 0.1,
            "curve": {"sigma": [157.4, 1.73], "pca": [0.02, 0.09], "spectral": [0.03, 0.08]}}))
        rec["steps"]["grid"] = {"options": {"n": 64}, "inputs": FM.digests(d, FM.INPUTS["grid"])}
        check(FM.up_to_date(rec, d, "grid", {"n": 64}) == "output samples.png missing", "a missing output: due")

        check(FM.progress({"steps": 5, "recipe": {"total_steps": 9}}) == (5, 9), "train_unet.py's progress")
        check(FM.progress({"steps": 9, "total_steps": 9}) == (9, 9) and FM.ended({"steps": 9, "total_steps": 9}),
              "train_fisher.py's progress and end")
        check(not FM.ended(None) and not FM.ended({"steps": 3, "total_steps": 9}), "not ended")
        check(abs(FM.estimate("fd", {"count": 256}) - FM.ESTIMATE_MIN["fd"] / 4) < 1e-9, "estimates scale with counts")

        t0 = time.time()
        rc, wall, _ = FM.run(["sh", "-c", "sleep 30; sleep 30"], deadline=time.time() + 1)
        check(rc is None and wall < 15 and time.time() - t0 < 15,
              f"a step past the deadline is stopped, its children too ({wall:.1f} s)")
        rc, _, _ = FM.run(["sh", "-c", "exit 3"])
        check(rc == 3, "a step's exit status comes back")

        env = dict(os.environ)
        env.pop("DFX_FISHER_ANY_STEP", None)
        drv = [sys.executable, os.path.join(a.models, "finish_model.py"), "photo-32", "--folder", d,
               "--max-minutes", "60", "--dry-run"]
        out = subprocess.run(drv, capture_output=True, text=True, env=env)
        check(out.returncode == 0 and "train: done (step 23000 of 23000)" in out.stdout
              and "fisher: would run photo-32-fisher.sh" in out.stdout and "gaussian" not in out.stdout,
              "dry run: the network has ended, the head is next, nothing after it")
        write(os.path.join(d, "fisher", "train_info.json"), json.dumps({"steps": 3000, "total_steps": 3000,
                                                                        "recipe": {"target": "network"}}))
        out = subprocess.run(drv, capture_output=True, text=True, env=env)
        due = [s for s in ("gaussian", "grid", "fd", "bpd", "gap") if f"finish: {s}: would run" in out.stdout]
        check(out.returncode == 0 and due == ["gaussian", "grid", "fd", "bpd", "gap"],
              f"dry run after the head: every finishing step due ({due})")
        check(not os.path.exists(os.path.join(d, "finish.json")), "a dry run writes nothing")

        why = PM.not_finished(d)
        check(any("finish step bpd not recorded" in w for w in why) and any("samples.png" in w for w in why),
              "promotion refuses an unfinished folder and says why")

        # a complete record: the card's figures and promotion's check
        write(os.path.join(d, "samples.png"), b"png")
        files = ("unet/config.json", "unet/diffusion_pytorch_model.safetensors", "fisher/config.json")
        entry = {"n_images": 8, "model_files": FM.digests(d, files), "hutchinson": {"probes": 16}}
        write(os.path.join(d, "likelihood-ref.json"), json.dumps({"models": {"photo-32": entry}}))
        check(PM.reference_problems(d, "photo-32") == [], "the run's likelihood reference fits the test's")
        write(os.path.join(d, "fisher", "config.json"), "{}")
        check(any("made from another fisher/config.json" in w for w in PM.reference_problems(d, "photo-32")),
              "a likelihood reference made from other files is refused")
        entry["model_files"] = FM.digests(d, files)
        write(os.path.join(d, "likelihood-ref.json"), json.dumps({"models": {"photo-32": entry}}))
        res = {"fd": {"count": 1024, "features": "random", "fd_heldout": 2.4, "floor_heldout": 0.8,
                      "fd_train": 2.0, "floor_train": 0.5, "floor_train_vs_heldout": 1.0},
               "bpd": {"bpd_count": 16, "bpd": 3.0, "bpd_png": 5.0, "bpd_webp": 4.0},
               "gap": {"n_images": 8, "probes": 16, "gaps": [0.01, 0.05], "gap_mean": 0.03,
                       "within_per_image_bound": 2, "dftm_rk45_mean": 3.03, "hutchinson_mean": 3.0,
                       "hutchinson_mean_se": 0.004},
               "gaussian": {}, "grid": {}}
        rec = {"steps": {s: {"options": FM.o_for(s, FM.DEFAULTS), "inputs": FM.digests(d, FM.INPUTS[s]),
                             "result": res[s], "seconds": 60, "cpu_seconds": 50} for s in res}}
        FM.write_json(os.path.join(d, "finish.json"), rec)
        check(PM.not_finished(d) == [], f"promotion accepts the finished folder ({PM.not_finished(d)})")
        out = subprocess.run([sys.executable, os.path.join(a.models, "model_card.py"), d],
                             capture_output=True, text=True)
        card = open(os.path.join(d, "README.md")).read() if out.returncode == 0 else ""
        if out.returncode != 0:
            print(out.stderr)
        check("**Status: finished.**" in card, "the card says finished")
        check("| 2.400 | held-out against 1024 other held-out images: 0.800 (3.0×)" in card
              and "within 3× the floor: met" in card, "the card's FD row and its goal")
        check("WebP 4.000" in card and "25 % below the better | 25 % below: met" in card,
              "the card's bits/dim row and its goal")
        check("mean +0.0300 bits/dim" in card and "mean within 0.02: not met" in card
              and "2 of 2 within 0.05" in card, "the card's DF-TM against Hutchinson row and its goals")
        check("budgie-backgrounds" in card and "CC-BY-4.0" in card, "the card names the data and licences")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
