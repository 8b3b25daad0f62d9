#!/usr/bin/env python3
"""model_card.py — write a model folder's card, README.md, from what its runs recorded (issue 18).

    models/model_card.py DIR [--out FILE]

DIR is a model folder named after its run (models/state/NAME or models/NAME; NAME one of
models/finish_model.py's MODELS).  It reads, and only reads:

  train_info.json          the score network's steps, images seen, wall time, recipe (train_unet.py)
  unet/config.json, scheduler/scheduler_config.json      the network and the schedule
  fisher/train_info.json   the Fisher head's steps, time and recipe (train_fisher.py)
  gaussian/config.json     the Gaussian statistics and the calibrated skip (gaussian_stats.py)
  finish.json              the figures and the time of each finishing step (finish_model.py)
  samples.png              the 64-sample grid (shown when present)

plus each run's data and licence (DATA below; the photo model's files and licences from
models/photo_data.py, read as text).  What is not measured yet is written as such, so the
card can be made at any point of a run.  Writes DIR/README.md (or --out); host Python,
standard library only.
"""

import argparse
import ast
import json
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

FMNIST_DATA = ("Fashion-MNIST training split (60000 images), Debian package `dataset-fashion-mnist` "
               "0.0~git20200523.55506a9-1, 28×28 padded with black to 32×32, scaled to [−1, 1], "
               "random horizontal flips")
FMNIST_LICENCE = "Expat (MIT), © 2017 Zalando SE (`/usr/share/doc/dataset-fashion-mnist/copyright`)"
EMOJI_DATA = ("the glyphs of Debian's `fonts-noto-color-emoji` rendered by `models/prep_emoji.py` "
              "(the first 95 % in code-point order; the last 5 % held out), random horizontal flips")
EMOJI_LICENCE = "SIL Open Font License 1.1, © 2013–2017 Google Inc. (`/usr/share/doc/fonts-noto-color-emoji/copyright`)"

DATA = {
    "fashion-mnist-32": {"title": "dfx's grey model", "data": FMNIST_DATA, "licence": FMNIST_LICENCE,
                         "held_out": "the Fashion-MNIST test split (10000 images)"},
    "emoji-32": {"title": "dfx's emoji model", "data": EMOJI_DATA, "licence": EMOJI_LICENCE,
                 "held_out": "the last 5 % of the rendered glyphs"},
    "photo-32": {"title": "dfx's colour photo model", "data": None, "licence": None,
                 "held_out": None},  # from photo_data.py
}

GOALS = {"fd_ratio": 3.0, "bpd_below": 0.25, "gap_mean": 0.02, "gap_image": 0.05}  # issue 18


def read_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def photo_sources():
    """TRAIN, HELD_OUT, LOMIRI, BUDGIE and SCALES of models/photo_data.py, read as literals."""
    with open(os.path.join(HERE, "photo_data.py")) as f:
        tree = ast.parse(f.read())
    out = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            if node.targets[0].id in ("TRAIN", "HELD_OUT", "LOMIRI", "BUDGIE", "SCALES"):
                out[node.targets[0].id] = ast.literal_eval(node.value)
    return out


def photo_data_rows():
    p = photo_sources()
    pkg, ver = p["LOMIRI"][0], p["LOMIRI"][1]
    files = "; ".join(f"`{n}` ({a}, {lic})" for n, a, lic, _ in p["TRAIN"])
    scales = ", ".join(str(s) for s in p["SCALES"])
    data = (f"random 32×32 patches of the {len(p['TRAIN'])} CC0/CC-BY photographs of Debian's `{pkg}` {ver} "
            f"(`{p['LOMIRI'][2]}`), each kept as a pyramid box-filtered by {scales} and every patch a random crop "
            f"of a random (photo, scale), random horizontal flips, scaled to [−1, 1] (`models/photo_data.py`, "
            f"each file pinned by SHA-256): {files}")
    licences = sorted({lic for _, _, lic, _ in p["TRAIN"]})
    licence = (f"{' and '.join(licences)} per file as above (`/usr/share/doc/{pkg}/copyright`); "
               "CC-BY-4.0 asks for the authors' names, given above")
    held = (f"patches of the {len(p['HELD_OUT'])} photographs of Debian's `{p['BUDGIE'][0]}` {p['BUDGIE'][1]} "
            f"(CC0; never trained on), same scales, no flips")
    return data, licence, held


def safetensors_dtype(path):
    try:
        with open(path, "rb") as f:
            n = struct.unpack("<Q", f.read(8))[0]
            if n > 100_000_000:
                return None, None  # not a safetensors header
            head = json.loads(f.read(n))
        kinds = sorted({v["dtype"] for k, v in head.items() if k != "__metadata__"})
        return "/".join(kinds), os.path.getsize(path)
    except (OSError, ValueError, AttributeError, struct.error):
        return None, None


def fmt(v, d=3):
    return "—" if v is None else f"{v:.{d}f}"


def minutes(s):
    if s is None:
        return "—"
    if s >= 5400:
        return f"{s / 3600:.1f} h"
    return f"{s / 60:.0f} min" if s >= 600 else f"{s / 60:.1f} min"


def network_row(folder, info):
    c = read_json(os.path.join(folder, "unet", "config.json")) or {}
    attn = [i for i, b in enumerate(c.get("down_block_types", [])) if "Attn" in b]
    res = c.get("sample_size", 32)
    at = (", ".join(f"attention at {res >> i}×{res >> i}" for i in attn) if attn else "no attention in the levels")
    mid = "attention in the mid block" if c.get("add_attention", True) else "no mid-block attention"
    params = f"{info['parameters']:,}" if info and info.get("parameters") else "—"
    return (f"`UNet2DModel`: block_out_channels {c.get('block_out_channels')}, layers_per_block "
            f"{c.get('layers_per_block')}, {at}, {mid}, GroupNorm {c.get('norm_num_groups')} groups, "
            f"{c.get('in_channels')} channels, fully convolutional; {params} parameters")


def schedule_row(folder):
    s = read_json(os.path.join(folder, "scheduler", "scheduler_config.json")) or {}
    return (f"DDPM, {s.get('beta_schedule')} β {s.get('beta_start')}…{s.get('beta_end')}, "
            f"{s.get('num_train_timesteps')} steps, {s.get('prediction_type')} prediction"
            + (", clip_sample" if s.get("clip_sample") else ""))


def training_row(info):
    if not info:
        return "—"
    r = info.get("recipe", {})
    parts = [f"AdamW lr {r.get('lr')} ({r.get('lr_schedule', 'constant')}"
             + (f" to {r.get('lr_final')}" if r.get("lr_final") else "") + f", {r.get('warmup')}-step warm-up)",
             f"batch {r.get('batch')}", f"grad clip {r.get('grad_clip')}", f"EMA {r.get('ema_decay')} (exported)",
             f"loss weighting {r.get('loss_weight', 'uniform')}"
             + (f" (γ {r.get('snr_gamma')})" if r.get("snr_gamma") else ""),
             f"seed {r.get('seed')}", f"float32 (matmul precision {r.get('matmul_precision')}), one core, "
             "gradient checked against float64 at every start (models/gradcheck.py)"]
    return ", ".join(parts)


def fisher_row(finfo):
    if not finfo:
        return "not trained yet (`models/recipes/NAME-fisher.sh` after the network's run)"
    r = finfo.get("recipe", {})
    return (f"variance-ratio head r(x_t, t) ≈ diag Cov[x0 \\| x_t]/σ̃² (models/FISHER.md), same architecture, "
            f"warm-started from unet/, regressed on the frozen network's own Jacobian diagonal "
            f"(`--target {r.get('target')}`), timesteps {r.get('t_sampling')}, {r.get('ode_fraction')} of each "
            f"batch PF-ODE states of {r.get('ode_steps')} Heun steps, batch {r.get('batch')}, lr {r.get('lr')}, "
            f"EMA {r.get('ema_decay')}; step {finfo.get('steps')} of {finfo.get('total_steps')}, "
            f"{minutes(finfo.get('train_wall_seconds'))} of training-step time on one core")


def gaussian_row(g):
    if not g:
        return "not made yet"
    return (f"`models/gaussian_stats.py` on the training data: mean, PCA rank {g.get('pca_rank')} (explains "
            f"{100 * g.get('explained_fraction', 0):.1f} % of the variance, residual variance "
            f"{g.get('residual_variance', 0):.4f}), stationary spectrum; σ̃_skip = {g.get('sigma_skip_pca', 0):.3g} "
            f"(PCA), {g.get('sigma_skip_spectral', 0):.3g} (spectral), mode `{g.get('mode')}`, tolerance "
            f"{g.get('tolerance')}")


def quality_section(steps):
    out = ["## Quality", "",
           "Measured by `models/finish_model.py` (the goals are issue 18's).", "",
           "| measure | this model | reference | goal |", "|---|---|---|---|"]
    fd = steps.get("fd", {}).get("result")
    if fd:
        n, k = fd.get("count"), fd.get("features")
        ratio = fd["fd_heldout"] / fd["floor_heldout"] if fd.get("floor_heldout") else None
        met = "met" if ratio is not None and ratio <= GOALS["fd_ratio"] else "not met"
        out.append(f"| FD-{k} against {n} held-out images, {n} samples (`dfx generate`, its defaults, seed 1) | "
                   f"{fd['fd_heldout']:.3f} | held-out against {n} other held-out images: {fd['floor_heldout']:.3f} "
                   f"({ratio:.1f}×); training against held-out: {fd['floor_train_vs_heldout']:.3f} | "
                   f"within {GOALS['fd_ratio']:g}× the floor: {met} |")
        out.append(f"| FD-{k} against {n} training images | {fd['fd_train']:.3f} | {n} training images against "
                   f"{n} others: {fd['floor_train']:.3f} ({fd['fd_train'] / fd['floor_train']:.1f}×) | |")
    else:
        out.append("| FD at 1024 samples | not measured yet | | |")
    bpd = steps.get("bpd", {}).get("result")
    if bpd:
        best = min(bpd["bpd_png"], bpd["bpd_webp"])
        below = 1 - bpd["bpd"] / best
        met = "met" if below >= GOALS["bpd_below"] else "not met"
        out.append(f"| bits/dim of the first {bpd.get('bpd_count', len(bpd.get('bpd_each', [])))} held-out images, "
                   f"DF-TM (`dfx likelihood`, RK45) | {bpd['bpd']:.3f} | lossless PNG {bpd['bpd_png']:.3f}, "
                   f"WebP {bpd['bpd_webp']:.3f} (`models/codec_bpd.py`, best settings per image, headers "
                   f"included): {100 * abs(below):.0f} % {'below' if below >= 0 else 'above'} the better | "
                   f"{100 * GOALS['bpd_below']:.0f} % below: {met} |")
    else:
        out.append("| bits/dim of held-out images | not measured yet | | |")
    gap = steps.get("gap", {}).get("result")
    if gap:
        gaps = gap["gaps"]
        met_m = "met" if abs(gap["gap_mean"]) <= GOALS["gap_mean"] else "not met"
        met_i = "met" if gap["within_per_image_bound"] == len(gaps) else "not met"
        out.append(f"| DF-TM (dfx, RK45) − Hutchinson (the network's own divergence, float64, "
                   f"{gap['probes']} probes per image, RK45) on the first {gap['n_images']} held-out images | "
                   f"mean {gap['gap_mean']:+.4f} bits/dim; per image {min(gaps):+.3f} to {max(gaps):+.3f}, "
                   f"{gap['within_per_image_bound']} of {len(gaps)} within {GOALS['gap_image']} | DF-TM "
                   f"{gap['dftm_rk45_mean']:.4f}, Hutchinson {gap['hutchinson_mean']:.4f} ± "
                   f"{gap['hutchinson_mean_se']:.4f} | mean within {GOALS['gap_mean']}: {met_m}; each within "
                   f"{GOALS['gap_image']}: {met_i} |")
    else:
        out.append("| DF-TM against Hutchinson | not measured yet | | |")
    return out


def calibration_section(g):
    if not g or not g.get("curve"):
        return []
    c = g["curve"]
    out = ["## Skip-point calibration (`gaussian/config.json`)", "",
           "Relative error of the noise estimate of the Gaussian denoiser against the network's, "
           "√(E‖D_θ − D_G‖² / E‖x̃ − D_θ‖²), on "
           f"{(g.get('calibration') or {}).get('held_out_images', '—')} held-out images:", "",
           "| σ̃ | PCA | spectral |", "|---|---|---|"]
    for s, p, q in zip(c["sigma"], c["pca"], c["spectral"]):
        out.append(f"| {s:.3g} | {p:.3f} | {q:.3f} |")
    return out


def timing_section(rec):
    steps = rec.get("steps", {})
    if not steps:
        return []
    out = ["## How the figures were made", "",
           "`models/finish_model.py` steps (one core; wall and CPU time of the step's processes):", "",
           "| step | options | finished | wall | CPU |", "|---|---|---|---|---|"]
    for name, r in steps.items():
        opts = ", ".join(f"{k} {v}" for k, v in r.get("options", {}).items())
        out.append(f"| {name} | {opts} | {r.get('finished')} | {minutes(r.get('seconds'))} | "
                   f"{minutes(r.get('cpu_seconds'))} |")
    return out


def card(folder, name):
    d = DATA[name]
    data, licence, held = d["data"], d["licence"], d["held_out"]
    if name == "photo-32":
        data, licence, held = photo_data_rows()
    info = read_json(os.path.join(folder, "train_info.json"))
    finfo = read_json(os.path.join(folder, "fisher", "train_info.json"))
    g = read_json(os.path.join(folder, "gaussian", "config.json"))
    rec = read_json(os.path.join(folder, "finish.json")) or {}
    steps = rec.get("steps", {})
    ch = (read_json(os.path.join(folder, "unet", "config.json")) or {}).get("in_channels")
    kind = "grey" if ch == 1 else "RGB"
    total = (info or {}).get("recipe", {}).get("total_steps")
    done = (info or {}).get("steps")
    ended = done is not None and done == total
    fended = bool(finfo) and finfo.get("steps") == finfo.get("total_steps")
    finished = [s for s in ("gaussian", "grid", "fd", "bpd", "gap") if s in steps]
    if ended and fended and len(finished) == 5:
        status = "**Status: finished.**  The run and its Fisher head ended their schedules; every figure below is measured on this folder."
    else:
        status = (f"**Status: in progress.**  Score network at step {done} of {total}; Fisher head "
                  + (f"at step {finfo.get('steps')} of {finfo.get('total_steps')}" if finfo else "not started")
                  + f"; finishing steps done: {', '.join(finished) or 'none'}.  "
                  "`models/finish_model.py` goes on with the rest each session.")
    dtype, size = safetensors_dtype(os.path.join(folder, "unet", "diffusion_pytorch_model.safetensors"))
    L = [f"# {name} — {d['title']}", "",
         f"A 32×32 {kind} diffusion model (v-prediction DDPM schedule) in the diffusers layout "
         "(`UNet2DModel` + `DDPMScheduler`), trained on this project's CPU with `models/train_unet.py`; with "
         "dfx's additions `fisher/` and `gaussian/`.  This card is written by `models/model_card.py` from "
         "the folder's records.", "", status, ""]
    if os.path.exists(os.path.join(folder, "samples.png")):
        L += ["![samples](samples.png)", "",
              "`samples.png`: 64 samples, `models/sample.py` (PyTorch reference, DDIM, 50 steps, η = 0, seed 0).", ""]
    L += ["| | |", "|---|---|",
          f"| data | {data} |", f"| data licence | {licence} |", f"| held out | {held} |",
          f"| network | {network_row(folder, info)} |", f"| schedule | {schedule_row(folder)} |",
          f"| training | {training_row(info)} |",
          f"| steps | {done} of {total} ({(info or {}).get('examples_seen', 0):,} training images seen) |",
          f"| training time | {minutes((info or {}).get('train_wall_seconds'))} of training-step wall time on one "
          "core of a 2-core VM (AMD EPYC), over several sessions (models/state/README.md) |",
          f"| weights | {dtype} safetensors, {size / 1e6:.1f} MB |" if size else "| weights | — |",
          f"| `fisher/` | {fisher_row(finfo).replace('NAME', name)} |",
          f"| `gaussian/` | {gaussian_row(g)} |", ""]
    L += quality_section(steps) + [""]
    notes = os.path.join(folder, "NOTES.md")  # hand-written: why a goal is not met, what was measured
    if os.path.isfile(notes):
        with open(notes) as f:
            L += ["## Against the goals", "", f.read().strip(), ""]
    cal = calibration_section(g)
    L += cal + ([""] if cal else [])
    L += ["## Recipe", "", "```",
          f"models/recipes/{name}-all.sh --max-minutes 170   # each session: the steps below, as far as the time goes",
          f"models/recipes/{name}.sh                        # the score network (resumable, models/state/{name}.pt)",
          f"models/recipes/{name}-fisher.sh                 # its Fisher head (models/state/{name}-fisher.pt)",
          "```", ""]
    L += timing_section(rec)
    return "\n".join(L).rstrip() + "\n"


def main():
    ap = argparse.ArgumentParser(description="Write a model folder's README.md (its card) from its records.")
    ap.add_argument("folder")
    ap.add_argument("--out", help="default FOLDER/README.md")
    a = ap.parse_args()
    name = os.path.basename(os.path.normpath(a.folder))
    if name not in DATA:
        print(f"model_card: {a.folder}: no data description for a model named {name!r} "
              f"(known: {', '.join(sorted(DATA))})", file=sys.stderr)
        return 1
    out = a.out or os.path.join(a.folder, "README.md")
    text = card(a.folder, name)
    with open(out + ".tmp", "w") as f:
        f.write(text)
    os.replace(out + ".tmp", out)
    print(f"model_card: wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
