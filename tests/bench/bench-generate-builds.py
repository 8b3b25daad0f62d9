#!/usr/bin/env python3
"""bench-generate-builds.py — CPU time of one `dfx generate` image from
several builds or settings side by side, with warm caches.

  bench-generate-builds.py --work DIR --model DIR [--size 256x256] [--seed 0]
                           [--rounds 2] [--warm-steps 6]
                           --run LABEL=DFX[:ARG,ARG...] [--run ...]

Each --run names a dfx binary and the extra `dfx generate` arguments of one
row (e.g. `new-11=build/compute/dfx:--steps,11`).  Every binary gets its own
pipeline-cache and Mesa shader-cache folders under WORK (kept between
runs with the same WORK), warmed by one
untimed run at the same size (--warm-steps steps, so every kernel variant of
that size is compiled before the timed runs).  Then --rounds rounds run every
row once, in the order given, so the rows alternate under the same load.
CPU = user + sys of the child (getrusage through wait4: the whole process,
model loading included), peak RSS the child's.  Pin the script to a core
(taskset) and set LP_NUM_THREADS=1 for lavapipe to compare CPU seconds.
Prints a Markdown table; writes only under WORK.
"""
import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import time


def run(cmd, env):
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    out, err = p.communicate()
    return p.returncode, out, err, time.monotonic() - t0


def one(binary, args, a, cache, out):
    env = dict(os.environ, DFX_PIPELINE_CACHE=os.path.join(cache, "dfx"),
               MESA_SHADER_CACHE_DIR=os.path.join(cache, "mesa"))
    cmd = [binary, "generate", "--model", a.model, "--size", a.size, "--seed", str(a.seed), "-o", out,
           "--json"] + args
    # A fresh interpreter per run, so RUSAGE_CHILDREN holds exactly that child (ru_maxrss is a maximum).
    probe = ("import json,resource,subprocess,sys,time\n"
             "t=time.monotonic();p=subprocess.run(sys.argv[1:],capture_output=True,text=True)\n"
             "r=resource.getrusage(resource.RUSAGE_CHILDREN)\n"
             "print(json.dumps({'rc':p.returncode,'out':p.stdout,'err':p.stderr[-2000:],"
             "'cpu':r.ru_utime+r.ru_stime,'rss_kb':r.ru_maxrss,'wall':time.monotonic()-t}))\n")
    rc, o, e, _ = run([sys.executable, "-c", probe] + cmd, env)
    if rc != 0:
        raise SystemExit(f"probe failed: {e}")
    j = json.loads(o)
    if j["rc"] != 0:
        raise SystemExit(f"{' '.join(cmd)}: exit {j['rc']}: {j['err']}")
    rep = json.loads(j["out"])
    return {"cpu": j["cpu"], "rss_mb": j["rss_kb"] / 1024.0, "wall": j["wall"], "nfe": rep.get("nfe"),
            "sampler": rep.get("sampler"), "steps": rep.get("steps"), "skip": rep.get("skip"),
            "steps_skipped": rep.get("steps_skipped"), "sigma_skip": rep.get("sigma_skip")}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--size", default="256x256")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--warm-steps", type=int, default=6)
    ap.add_argument("--run", action="append", required=True, help="LABEL=DFX[:ARG,ARG...]")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    rows = []
    for spec in a.run:
        label, rest = spec.split("=", 1)
        binary, _, extra = rest.partition(":")
        rows.append((label, os.path.abspath(binary), [x for x in extra.split(",") if x]))
    caches = {}
    for label, binary, args in rows:
        if binary in caches:
            continue
        # named by the binary, so a later run with the same WORK finds its caches warm
        cache = os.path.join(a.work, "cache-" + hashlib.sha1(binary.encode()).hexdigest()[:10])
        os.makedirs(cache, exist_ok=True)
        caches[binary] = cache
        w = one(binary, args + ["--steps", str(a.warm_steps)], a, cache, os.path.join(a.work, "warm.png"))
        print(json.dumps({"warm-up": label, "binary": binary, **w}), flush=True)
    res = {label: [] for label, _, _ in rows}
    for r in range(a.rounds):
        for label, binary, args in rows:
            m = one(binary, args, a, caches[binary], os.path.join(a.work, f"{label}.png"))
            res[label].append(m)
            print(json.dumps({"round": r, "label": label, **m}), flush=True)
    base = statistics.median(x["cpu"] for x in res[rows[0][0]])
    print(f"\n| row | sampler | steps | NFE | CPU s (each round) | CPU s median | × less CPU than {rows[0][0]} "
          "| wall s (each) | peak RSS MB |")
    print("|---|---|---|---|---|---|---|---|---|")
    for label, _, _ in rows:
        ms = res[label]
        cpus = ", ".join(f"{x['cpu']:.1f}" for x in ms)
        walls = ", ".join(f"{x['wall']:.0f}" for x in ms)
        med = statistics.median(x["cpu"] for x in ms)
        print(f"| {label} | {ms[0]['sampler']} | {ms[0]['steps']} | {ms[0]['nfe']} | "
              f"{cpus} | {med:.1f} | {base / med:.2f} | {walls} | {max(x['rss_mb'] for x in ms):.0f} |")
    with open(os.path.join(a.work, "generate-builds.json"), "w") as f:
        json.dump({"model": a.model, "size": a.size, "seed": a.seed, "rows": res,
                   "time": time.strftime("%Y-%m-%d %H:%M")}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
