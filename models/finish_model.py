#!/usr/bin/env python3
"""finish_model.py — one command per session takes a training run from wherever it is to a
finished model folder with its figures and card (issue 18).

    models/finish_model.py NAME --max-minutes N [--folder DIR] [options]
    models/recipes/NAME-all.sh --max-minutes N          (the same, for NAME)

NAME is a run of models/recipes/ (MODELS below).  In order, each step skipping itself when
its output is up to date, each started only while the time left is at least its estimate
(ESTIMATE_MIN, scaled by the counts asked for), each stopped (and not recorded) at the
deadline, so that the job ends before --max-minutes and the next session's run goes on:

  train     the score network: models/recipes/NAME.sh until recipe.total_steps
            (train_unet.py stops after a checkpoint at its own --max-minutes)
  fisher    its Fisher head: models/recipes/NAME-fisher.sh until fisher/train_info.json's
            total_steps (refused by the recipe before the network's run has ended)
  -- the rest only once the head has ended --
  build     dfx for the steps that run it: ninja -C build-finish compute/dfx (a build folder
            of its own, so it never races the lead's build/; the two runs' jobs take turns by a
            lock; cheap when up to date)
  gaussian  gaussian/ from the training data (models/gaussian_stats.py with the shipped
            models' settings: rank 64, 128 held-out images, 16 noise levels, tolerance 0.1)
  grid      samples.png: 64 samples, models/sample.py (DDIM 50 steps, η 0, seed 0), as the cards
  fd        FD at --count samples of `dfx generate` against training and held-out images,
            next to the real-vs-real floors at the same count (models/model_figures.py --only fd)
  bpd       bits/dim of --bpd-count held-out images by DF-TM (`dfx likelihood`) next to
            lossless PNG and WebP (models/model_figures.py --only bpd, models/codec_bpd.py)
  gap       DF-TM against the network's own Hutchinson estimate on the first --ref-images
            held-out images: the float64 reference with --probes probes per image
            (tests/model/make-likelihood-ref.py, written to DIR/likelihood-ref.json: the entry
            that promotion merges into tests/model/likelihood-ref.json) and dfx's RK45 DF-TM
            (tests/model/test-likelihood-ref.py --json)
  card      DIR/README.md from the recorded figures (models/model_card.py); every time

A step is up to date when DIR/finish.json records it with the same options and the same
SHA-256 of each input file (INPUTS: unet/, scheduler/, and fisher/ or gaussian/ where the
step reads them) and its outputs exist.  The record of each step has its wall and CPU
seconds (user + system of its processes) and its figures; `sessions` lists each run's
steps.  Scripts are not inputs: after changing one, --redo STEP.

The commands run pinned to core 0 in the build environment: DFX_FINISH_RUN replaces the
runner "build-aux/dfx-env taskset -c 0" (and DFX_TRAIN_PREFIX of the recipes becomes
"RUNNER python3").  For a try on a scratch copy: --folder build-train/try/NAME (the folder's
name must be NAME; train is skipped off models/state, the head's state and log go beside
the copy), DFX_FISHER_ANY_STEP=1 (the network counts as ended), small --fisher-steps,
--count, --bpd-count, --probes, --ref-images.  Host Python, standard library only.
"""

import argparse
import datetime
import hashlib
import json
import os
import shlex
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# data source (dfx_data.py) of each run
MODELS = {
    "photo-32": {"data": "photos"},
    "fashion-mnist-32": {"data": "fashion-mnist"},
    "emoji-32": {"data": "build-train/emoji-data"},
}

STEPS = ("train", "fisher", "build", "gaussian", "grid", "fd", "bpd", "gap", "card")

UNET = ("unet/config.json", "unet/diffusion_pytorch_model.safetensors", "scheduler/scheduler_config.json")
FISHER = ("fisher/config.json", "fisher/diffusion_pytorch_model.safetensors")
GAUSS = ("gaussian/config.json", "gaussian/statistics.safetensors")
INPUTS = {"gaussian": UNET, "grid": UNET, "fd": UNET + GAUSS, "bpd": UNET + FISHER, "gap": UNET + FISHER}
OUTPUTS = {"gaussian": GAUSS, "grid": ("samples.png",), "fd": (), "bpd": (), "gap": ("likelihood-ref.json",)}

# Minutes of one core each step may take with the default counts: the CPU time measured
# 2026-12-07 on photo-32's step-15653 export with small counts (BENCHMARKS.md "Finishing a
# model": gaussian 1.2, grid 0.8, fd ~6 at 1024, bpd ~1.5 at 16, gap ~19 at 8 x 16 probes,
# a fresh dfx build ~10), with about 1.5x to spare; a step starts only with at least this
# much time left.  fd scales with --count, bpd with --bpd-count, gap with --ref-images x --probes.
ESTIMATE_MIN = {"build": 15, "gaussian": 3, "grid": 2, "fd": 10, "bpd": 4, "gap": 30, "card": 0}
DEFAULTS = {"count": 1024, "bpd_count": 16, "ref_images": 8, "probes": 16, "fisher_steps": 3000}
MARGIN_MIN = 2  # kept free at the end: a training run's last checkpoint, the card, finish.json
TRAIN_SLACK_MIN = 3  # a training script's start-up before its own --max-minutes clock starts


class FinishError(RuntimeError):
    """A run that cannot go on (the message names the file or the step)."""


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def digests(folder, rels):
    """{rel: SHA-256 or None when missing} of files of a model folder."""
    return {r: (sha256(os.path.join(folder, r)) if os.path.isfile(os.path.join(folder, r)) else None)
            for r in rels}


def read_json(path, default=None):
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        return default
    except ValueError as e:
        raise FinishError(f"{path}: not JSON ({e})") from e


def write_json(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=1)
        f.write("\n")
    os.replace(tmp, path)


def progress(info):
    """(steps done, total) of a train_info.json dict (train_unet.py's or train_fisher.py's), or None."""
    if not info:
        return None
    total = info.get("total_steps", info.get("recipe", {}).get("total_steps"))
    return int(info["steps"]), (int(total) if total is not None else None)


def ended(info):
    p = progress(info)
    return p is not None and p[1] is not None and p[0] >= p[1]


def up_to_date(record, folder, step, options):
    """Why STEP must run (a string), or None when its record in finish.json still holds: the
    same options, the same SHA-256 of every input, every output present."""
    r = record.get("steps", {}).get(step)
    if not r:
        return "not done yet"
    if r.get("options") != options:
        return f"options changed ({r.get('options')} -> {options})"
    now = digests(folder, INPUTS[step])
    for rel, h in now.items():
        if h is None:
            return f"input {rel} missing"
        if r.get("inputs", {}).get(rel) != h:
            return f"input {rel} changed"
    for rel in OUTPUTS[step]:
        if not os.path.exists(os.path.join(folder, rel)):
            return f"output {rel} missing"
    return None


def estimate(step, o):
    """Minutes STEP is expected to take with options o (ESTIMATE_MIN at the default counts)."""
    m = ESTIMATE_MIN[step]
    if step == "fd":
        return m * o["count"] / DEFAULTS["count"]
    if step == "bpd":
        return m * o["bpd_count"] / DEFAULTS["bpd_count"]
    if step == "gap":
        return m * (o["ref_images"] * o["probes"]) / (DEFAULTS["ref_images"] * DEFAULTS["probes"])
    return m


class Clock:
    def __init__(self, max_minutes):
        self.t0 = time.time()
        self.deadline = self.t0 + max_minutes * 60 if max_minutes > 0 else float("inf")

    def left_min(self):
        return (self.deadline - time.time()) / 60 - MARGIN_MIN


def run(cmd, env=None, deadline=float("inf"), log=None):
    """Run cmd (a list) from the repository root; stop its process group at the deadline.
    Returns (return code or None when stopped, wall s, CPU s of its processes)."""
    c0 = os.times()
    t0 = time.time()
    print("finish: $ " + " ".join(shlex.quote(c) for c in cmd), flush=True)
    p = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True,
                         stdout=log or None, stderr=subprocess.STDOUT if log else None)
    rc = None
    try:
        rc = p.wait(timeout=max(1.0, deadline - time.time()) if deadline < float("inf") else None)
    except subprocess.TimeoutExpired:
        print(f"finish: the time is up: stopping {cmd[0]} (pid {p.pid})", flush=True)
        os.killpg(p.pid, signal.SIGTERM)
        try:
            p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    c1 = os.times()
    cpu = (c1.children_user - c0.children_user) + (c1.children_system - c0.children_system)
    return rc, time.time() - t0, cpu


def main(argv=None):
    ap = argparse.ArgumentParser(description="Continue a training run, then its Fisher head, then make "
                                 "gaussian/, the sample grid, the quality figures and the model card, "
                                 "each step only when out of date, within --max-minutes.")
    ap.add_argument("name", choices=sorted(MODELS))
    ap.add_argument("--max-minutes", type=float, required=True,
                    help="stop cleanly before this many minutes (0: no limit)")
    ap.add_argument("--folder", help="the run's model folder (default models/state/NAME; its name must be NAME)")
    ap.add_argument("--only", help="comma-separated steps to consider (default all)")
    ap.add_argument("--redo", default="", help="comma-separated steps to run even when up to date")
    ap.add_argument("--count", type=int, default=DEFAULTS["count"], help="FD samples (default 1024)")
    ap.add_argument("--bpd-count", type=int, default=DEFAULTS["bpd_count"],
                    help="held-out images for bits/dim (default 16)")
    ap.add_argument("--ref-images", type=int, default=DEFAULTS["ref_images"],
                    help="held-out images for DF-TM against Hutchinson (default 8)")
    ap.add_argument("--probes", type=int, default=DEFAULTS["probes"],
                    help="Hutchinson probes per image (default 16: a per-image standard error near 0.01)")
    ap.add_argument("--fisher-steps", type=int, help="the head's schedule (default the recipe's 3000)")
    ap.add_argument("--dry-run", action="store_true", help="say what would run and why; run nothing")
    a = ap.parse_args(argv)
    name = a.name
    folder = a.folder or os.path.join("models", "state", name)
    if os.path.basename(os.path.normpath(folder)) != name:
        print(f"finish: --folder {folder}: its name must be {name} (the tests find a model by its folder's name)",
              file=sys.stderr)
        return 2
    default_folder = os.path.normpath(folder) == os.path.join("models", "state", name)
    fdir = os.path.join(ROOT, folder) if not os.path.isabs(folder) else folder
    steps = [s for s in STEPS if not a.only or s in a.only.split(",")]
    redo = set(filter(None, a.redo.split(",")))
    for s in redo | set(filter(None, (a.only or "").split(","))):
        if s not in STEPS:
            print(f"finish: unknown step {s!r} (steps: {', '.join(STEPS)})", file=sys.stderr)
            return 2
    runner = shlex.split(os.environ.get("DFX_FINISH_RUN", "build-aux/dfx-env taskset -c 0"))
    py = runner + ["python3"]
    env = dict(os.environ, DFX_TRAIN_PREFIX=" ".join(shlex.quote(c) for c in py))
    clock = Clock(a.max_minutes)
    o = {"count": a.count, "bpd_count": a.bpd_count, "ref_images": a.ref_images, "probes": a.probes}
    data = MODELS[name]["data"]
    rec_path = os.path.join(fdir, "finish.json")
    try:
        rec = read_json(rec_path, {}) or {}
    except FinishError as e:
        print(f"finish: {e}", file=sys.stderr)
        return 2
    rec.setdefault("model", name)
    rec.setdefault("steps", {})
    session = {"started": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
               "max_minutes": a.max_minutes, "ran": []}
    logdir = os.path.join(ROOT, "build-train", "finish-" + name)
    os.makedirs(logdir, exist_ok=True)

    def save():
        if not a.dry_run:
            write_json(rec_path, rec)

    def note(step, rc, wall, cpu, extra=None):
        session["ran"].append(dict({"step": step, "rc": rc, "seconds": round(wall, 1),
                                    "cpu_seconds": round(cpu, 1)}, **(extra or {})))
        print(f"finish: {step}: {'stopped at the deadline' if rc is None else 'exit ' + str(rc)}, "
              f"{wall / 60:.1f} min, {cpu / 60:.1f} min of CPU", flush=True)

    status = 0
    ANY = bool(os.environ.get("DFX_FISHER_ANY_STEP"))
    for step in steps:
        left = clock.left_min()
        info = read_json(os.path.join(fdir, "train_info.json"))
        finfo = read_json(os.path.join(fdir, "fisher", "train_info.json"))
        if step == "train":
            if ended(info) or ANY:
                print(f"finish: train: done ({'DFX_FISHER_ANY_STEP' if ANY and not ended(info) else 'step %d of %d' % progress(info)})")
                continue
            if not default_folder:
                print(f"finish: train: skipped off models/state (a scratch --folder)")
                continue
            if left < 5:
                print(f"finish: train: {left:.0f} min left, not started")
                break
            if a.dry_run:
                print(f"finish: train: would run {name}.sh --max-minutes {left - TRAIN_SLACK_MIN:.0f} (at {progress(info)})")
                break
            # its own clock starts after the environment, the data and the gradient check: keep
            # TRAIN_SLACK_MIN for those, so that it stops at a checkpoint before the deadline's kill
            rc, wall, cpu = run([f"models/recipes/{name}.sh", "--max-minutes", f"{left - TRAIN_SLACK_MIN:.1f}"],
                                env, clock.deadline)
            note("train", rc, wall, cpu, {"at": list(progress(read_json(os.path.join(fdir, "train_info.json"))) or [])})
            if rc != 0 or not ended(read_json(os.path.join(fdir, "train_info.json"))):
                status = 0 if rc in (0, None) else 1
                break
            continue
        if step == "fisher":
            if ended(finfo) and (a.fisher_steps is None or progress(finfo)[1] == a.fisher_steps):
                print(f"finish: fisher: done (step %d of %d)" % progress(finfo))
                continue
            if not (ended(info) or ANY):
                print("finish: fisher: waits for the score network's run to end")
                break
            if left < 5:
                print(f"finish: fisher: {left:.0f} min left, not started")
                break
            extra = ["--max-minutes", f"{left - TRAIN_SLACK_MIN:.1f}"]
            if a.fisher_steps:
                extra += ["--steps", str(a.fisher_steps)]
            if not default_folder:
                base = os.path.dirname(os.path.normpath(folder))
                extra += ["--state", os.path.join(base, name + "-fisher.pt"),
                          "--work", os.path.join(base, name + "-fisher-work")]
            if a.dry_run:
                print(f"finish: fisher: would run {name}-fisher.sh {' '.join(extra)} (at {progress(finfo)})")
                break
            fenv = dict(env, DFX_FISHER_MODEL=folder)
            rc, wall, cpu = run([f"models/recipes/{name}-fisher.sh"] + extra, fenv, clock.deadline)
            finfo = read_json(os.path.join(fdir, "fisher", "train_info.json"))
            note("fisher", rc, wall, cpu, {"at": list(progress(finfo) or [])})
            if rc != 0 or not ended(finfo):
                status = 0 if rc in (0, None) else 1
                break
            continue
        if step == "build":
            if not any(s in steps for s in ("fd", "bpd", "gap")):
                continue
            dfx = os.path.join(ROOT, "build-finish", "compute", "dfx")
            due = [s for s in ("fd", "bpd", "gap") if s in steps and
                   (s in redo or up_to_date(rec, fdir, s, o_for(s, o)))]
            if not due:
                continue
            if left < (ESTIMATE_MIN["build"] if not os.path.exists(dfx) else 1):
                print(f"finish: build: {left:.0f} min left, not started")
                break
            if a.dry_run:
                print("finish: build: would build build-finish/compute/dfx")
                continue
            # one build at a time: the two runs' jobs share build-finish/
            cmd = runner + ["flock", "build-train/build-finish.lock", "sh", "-c",
                            "[ -f build-finish/build.ninja ] || meson setup build-finish; "
                            "ninja -C build-finish compute/dfx"]
            with open(os.path.join(logdir, "build.log"), "a") as lg:
                rc, wall, cpu = run(cmd, env, clock.deadline, lg)
            note("build", rc, wall, cpu)
            if rc != 0:
                print(f"finish: build failed: see {logdir}/build.log", file=sys.stderr)
                status = 1
                break
            continue
        if step == "card":
            continue  # after the record is saved, below
        # the finishing steps: only once the head has ended
        if not ended(finfo):
            print(f"finish: {step}: waits for the Fisher head to end")
            break
        so = o_for(step, o)
        why = "asked (--redo)" if step in redo else up_to_date(rec, fdir, step, so)
        if why is None:
            print(f"finish: {step}: up to date")
            continue
        need = estimate(step, o)
        if left < need:
            print(f"finish: {step} ({why}): needs about {need:.0f} min, {left:.0f} left; next session")
            break
        if a.dry_run:
            print(f"finish: {step}: would run ({why}; about {need:.0f} min)")
            continue
        print(f"finish: {step}: {why}; about {need:.0f} min", flush=True)
        inputs = digests(fdir, INPUTS[step])
        rec["steps"].pop(step, None)
        save()
        key = hashlib.sha256(json.dumps([inputs, so], sort_keys=True).encode()).hexdigest()[:12]
        cmd, result_file = step_command(step, name, folder, data, so, py, logdir, key)
        with open(os.path.join(logdir, step + ".log"), "w") as lg:
            rc, wall, cpu = run(cmd, env, clock.deadline, lg)
        note(step, rc, wall, cpu)
        result = None
        if rc is not None:
            try:
                result = collect(step, fdir, name, result_file, rc)
            except FinishError as e:
                print(f"finish: {step}: {e}; log {logdir}/{step}.log", file=sys.stderr)
        if result is None:
            if rc is not None:
                print(f"finish: {step} failed (exit {rc}): log {logdir}/{step}.log", file=sys.stderr)
                status = 1
            break
        rec["steps"][step] = {"options": so, "inputs": inputs, "seconds": round(wall, 1),
                              "cpu_seconds": round(cpu, 1),
                              "finished": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                              "result": result}
        save()
    if not a.dry_run:
        session["minutes"] = round((time.time() - clock.t0) / 60, 1)
        rec["sessions"] = rec.get("sessions", []) + [session]
        rec["state"] = {"network": progress(read_json(os.path.join(fdir, "train_info.json"))),
                        "fisher": progress(read_json(os.path.join(fdir, "fisher", "train_info.json"))),
                        "finished": [s for s in ("gaussian", "grid", "fd", "bpd", "gap")
                                     if s in rec["steps"] and up_to_date(rec, fdir, s, rec["steps"][s]["options"]) is None]}
        save()
        if "card" in steps:  # every time: it only reads the records
            rc, _, _ = run(["python3", "models/model_card.py", folder], env)
            status = status or (rc != 0)
    print(f"finish: {name}: {(time.time() - clock.t0) / 60:.1f} min; record {os.path.relpath(rec_path, ROOT)}")
    return status


def o_for(step, o):
    """The options a step's output depends on (its record must have the same)."""
    return {"gaussian": {"rank": 64, "n_holdout": 128, "n_sigma": 16, "tol": 0.1},
            "grid": {"n": 64, "steps": 50, "seed": 0},
            "fd": {"count": o["count"]},
            "bpd": {"bpd_count": o["bpd_count"]},
            "gap": {"ref_images": o["ref_images"], "probes": o["probes"]}}[step]


def step_command(step, name, folder, data, so, py, logdir, key):
    """(command, the JSON file it writes or None) of a finishing step.  key (a digest of the
    step's inputs and options) names its scratch folder: model_figures.py keeps the samples
    made so far there, for a step stopped at the deadline to go on from, and only for the
    same network."""
    if step == "gaussian":
        return py + ["models/gaussian_stats.py", "--model", folder, "--data", data, "--rank", str(so["rank"]),
                     "--n-holdout", str(so["n_holdout"]), "--n-sigma", str(so["n_sigma"]),
                     "--tol", str(so["tol"])], None
    if step == "grid":
        return py + ["models/sample.py", folder, "--out", os.path.join(folder, "samples.png"),
                     "-n", str(so["n"]), "--steps", str(so["steps"]), "--seed", str(so["seed"])], None
    dfx = "build-finish/compute/dfx"
    if step in ("fd", "bpd"):
        out = os.path.join(logdir, step + ".json")
        work = os.path.join("build-train", "finish-" + name, f"{step}-{key}")
        cmd = py + ["models/model_figures.py", folder, "--data", data, "--dfx", dfx, "--only", step,
                    "--count", str(so.get("count", DEFAULTS["count"])),
                    "--bpd-count", str(so.get("bpd_count", DEFAULTS["bpd_count"])), "--work", work, "--json", out]
        return cmd, out
    if step == "gap":
        models = os.path.dirname(os.path.normpath(folder))
        ref = os.path.join(folder, "likelihood-ref.json")
        out = os.path.join(logdir, "gap.json")
        work = os.path.join("build-train", "finish-" + name, f"gap-{key}")
        # the reference first (float64 PyTorch), then dfx against it
        cmd = py[:-1] + ["sh", "-c",
                         "python3 tests/model/make-likelihood-ref.py --models \"$1\" --model \"$2\" --probes \"$3\" "
                         "--out \"$4\" --work \"$6\" --n-images \"$7\" && "
                         "{ python3 tests/model/test-likelihood-ref.py --models \"$1\" --model \"$2\" --reference \"$4\" "
                         "--dfx \"$5\" --work \"$6\" --n-images \"$7\" --json \"$8\"; [ -f \"$8\" ]; }",
                         "gap", models, name, str(so["probes"]), ref, dfx, work, str(so["ref_images"]), out]
        return cmd, out
    raise FinishError(f"unknown step {step}")


def collect(step, fdir, name, result_file, rc):
    """The figures of a finished step (for finish.json), or None when it failed."""
    if step == "gaussian":
        if rc != 0:
            return None
        g = read_json(os.path.join(fdir, "gaussian", "config.json"))
        keys = ("mode", "sigma_skip", "sigma_skip_pca", "sigma_skip_spectral", "tolerance", "pca_rank",
                "explained_fraction", "residual_variance", "num_images", "curve", "calibration", "seconds")
        return {k: g.get(k) for k in keys}
    if step == "grid":
        return {"file": "samples.png", "sampler": "models/sample.py DDIM"} if rc == 0 else None
    if step in ("fd", "bpd"):
        if rc != 0:
            return None
        return read_json(result_file)
    if step == "gap":
        r = read_json(result_file)  # test-likelihood-ref.py exits 1 when a bound fails: a figure here
        if not r or name not in r:
            return None
        return r[name]
    return None


if __name__ == "__main__":
    sys.exit(main())
