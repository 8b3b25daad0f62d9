#!/usr/bin/env python3
"""promote_model.py — copy a finished run's folder to models/NAME and say what else must change
(issue 18).  Run by hand by the lead after looking at the card, the grid and the figures.

    models/promote_model.py NAME [--from models/state/NAME] [--replace] [--dry-run]

Refuses unless the run is finished: the score network and its Fisher head at the end of their
schedules and every finishing step of models/finish_model.py (gaussian, grid, fd, bpd, gap)
recorded in finish.json and up to date with the folder's files.  Then it copies the parts
dfx reads (unet/, scheduler/, fisher/, gaussian/) with the card, the grid and the records
(README.md, samples.png, train_info.json, finish.json, fisher/train_info.json) to models/NAME
(an existing models/NAME only with --replace: its old files go), rewrites the card there,
and merges the run's float64 likelihood reference (DIR/likelihood-ref.json, made by the gap
step from the same files) into tests/model/likelihood-ref.json, so that likelihood-ref's
digests match.  It switches no default: it prints the list of what else to change and commit.
Host Python, standard library only.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import finish_model as FM  # noqa: E402

PARTS = ("unet/config.json", "unet/diffusion_pytorch_model.safetensors", "scheduler/scheduler_config.json",
         "fisher/config.json", "fisher/diffusion_pytorch_model.safetensors", "fisher/train_info.json",
         "gaussian/config.json", "gaussian/statistics.safetensors",
         "samples.png", "train_info.json", "finish.json")
OPTIONAL = ("NOTES.md",)  # the card's hand-written "Against the goals" (model_card.py)
FINISHING = ("gaussian", "grid", "fd", "bpd", "gap")
REFERENCE = os.path.join(ROOT, "tests", "model", "likelihood-ref.json")


def not_finished(folder):
    """What keeps a run's folder from promotion (a list of sentences; empty when finished)."""
    why = []
    info = FM.read_json(os.path.join(folder, "train_info.json"))
    finfo = FM.read_json(os.path.join(folder, "fisher", "train_info.json"))
    if not FM.ended(info):
        why.append(f"the score network is at {FM.progress(info)} (steps, total)")
    if not FM.ended(finfo):
        why.append(f"the Fisher head is at {FM.progress(finfo)} (steps, total)")
    rec = FM.read_json(os.path.join(folder, "finish.json"), {}) or {}
    for s in FINISHING:
        r = rec.get("steps", {}).get(s)
        if not r:
            why.append(f"finish step {s} not recorded")
            continue
        w = FM.up_to_date(rec, folder, s, r["options"])
        if w:
            why.append(f"finish step {s} is out of date: {w}")
    for p in PARTS + ("likelihood-ref.json",):
        if not os.path.isfile(os.path.join(folder, p)):
            why.append(f"{p} missing")
    why += reference_problems(folder, os.path.basename(os.path.normpath(folder)))
    return why


def reference_problems(folder, name, test_ref=REFERENCE):
    """Why the run's likelihood reference cannot go into the test's file (a list; empty when it can):
    its entry must be made from this folder's files and have as many images as the test's."""
    run_ref = os.path.join(folder, "likelihood-ref.json")
    if not os.path.isfile(run_ref):
        return []
    try:
        entry = (FM.read_json(run_ref) or {}).get("models", {}).get(name)
        want = (FM.read_json(test_ref, {}) or {}).get("settings", {}).get("n_images")
    except FM.FinishError as e:
        return [str(e)]
    if not entry:
        return [f"{run_ref}: no entry for {name}"]
    out = []
    if want is not None and entry.get("n_images") != want:
        out.append(f"{run_ref}: {entry.get('n_images')} images, the test's reference has {want} per model "
                   f"(rerun the gap step with --ref-images {want})")
    have = FM.digests(folder, list(entry.get("model_files", {})))
    for rel, h in entry.get("model_files", {}).items():
        if have.get(rel) != h:
            out.append(f"{run_ref}: made from another {rel} (rerun the gap step)")
    return out


def merge_reference(name, run_ref, out=REFERENCE):
    """Put the run's entry of its likelihood reference into the test's file (other entries kept)."""
    new = FM.read_json(run_ref)
    ref = FM.read_json(out, {"settings": {}, "models": {}})
    ref["models"][name] = new["models"][name]  # checked by reference_problems
    FM.write_json(out, ref)
    return new["models"][name]["hutchinson"]["probes"]


def main():
    ap = argparse.ArgumentParser(description="Copy a finished run to models/NAME (refuses an unfinished "
                                 "one) and list what else must change; switches no default.")
    ap.add_argument("name", choices=sorted(FM.MODELS))
    ap.add_argument("--from", dest="src", help="the run's folder (default models/state/NAME)")
    ap.add_argument("--replace", action="store_true", help="replace an existing models/NAME")
    ap.add_argument("--dry-run", action="store_true", help="check and list; copy nothing")
    a = ap.parse_args()
    src = a.src or os.path.join(ROOT, "models", "state", a.name)
    dst = os.path.join(ROOT, "models", a.name)
    why = not_finished(src)
    if why:
        print(f"promote: {src} is not finished:\n  " + "\n  ".join(why), file=sys.stderr)
        return 1
    if os.path.exists(dst) and not a.replace:
        print(f"promote: {dst} exists; --replace replaces it", file=sys.stderr)
        return 1
    if a.dry_run:
        print(f"promote: {src} is finished; would copy it to {dst}")
    else:
        if os.path.exists(dst):
            shutil.rmtree(dst)
        for p in PARTS + tuple(q for q in OPTIONAL if os.path.isfile(os.path.join(src, q))):
            os.makedirs(os.path.dirname(os.path.join(dst, p)) or dst, exist_ok=True)
            shutil.copy2(os.path.join(src, p), os.path.join(dst, p))
        subprocess.run([sys.executable, os.path.join(HERE, "model_card.py"), dst], check=True)
        probes = merge_reference(a.name, os.path.join(src, "likelihood-ref.json"))
        print(f"promote: copied {src} to {dst}, wrote its card, merged its likelihood reference "
              f"({probes} probes per image) into {os.path.relpath(REFERENCE, ROOT)}")
    new_model = a.name not in ("fashion-mnist-32", "emoji-32")
    todo = [
        f"look at models/{a.name}/README.md and samples.png; `git add models/{a.name} tests/model/likelihood-ref.json`",
        "tests/model/likelihood_fixture.py: add it to MODELS" if new_model else
        "tests/model/likelihood_fixture.py: MODELS already lists it",
        "tests/model/test-likelihood-ref.py: ASSERT_PER_IMAGE = True once every shipped model's reference has "
        "16 probes and meets 0.05 per image (finish.json's gap step says)",
        "build-aux/dfx-env meson test -C build --suite model (shipped-parity, likelihood-ref pick it up)",
    ]
    if a.name == "photo-32":
        todo += ["plugin/dfx-plugin.h: DFX_MODEL_COLOUR \"emoji-32\" -> \"photo-32\" (the default for RGB layers; "
                 "emoji-32 stays installed), then the plugin and ui suites (tests/plugin/test-generate-layer.sh "
                 "names the defaults)",
                 "meson.build: add 'photo-32' to the installed model list (foreach m : [...])",
                 "tests/algo/meson.build: its --colour-model (emoji-32) if the colour checks should use photo-32"]
    else:
        todo += ["plugin/dfx-plugin.h and meson.build already name it (same folder name)"]
    todo += ["README.md (models, main job) and BENCHMARKS.md: the new figures (finish.json)",
             f"models/state/README.md: the run's row; then `git rm models/state/{a.name}.pt "
             f"models/state/{a.name}-fisher.pt` and models/state/{a.name}/ once models/{a.name} is committed",
             "bench-quality-nfe and bench-ocm on the new model (issue 18's skip and OCM tables)"]
    print("promote: still to do by hand:\n" + "\n".join(f"  {i + 1}. {t}" for i, t in enumerate(todo)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
