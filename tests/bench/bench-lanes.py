#!/usr/bin/env python3
"""bench-lanes.py — the U-Net forward on lavapipe at several subgroup widths
(LP_NATIVE_VECTOR_WIDTH) and dfx binaries, side by side, on a shared core.

usage: bench-lanes.py [--model DIR] [--size HxW] [--rounds R] [--reps N] LABEL=BIN:WIDTH...

e.g.  bench-lanes.py --size 64x64 old8=build-old/compute/dfx:256 \\
          new8=build/compute/dfx:256 new16=build/compute/dfx:512

For each configuration, alternating, R rounds: the CPU seconds per forward,
((user + sys) of `dfx bench unet --repeat N+1` minus that of `--repeat 1`)
/ N, with LP_NUM_THREADS=1 (lavapipe's one thread: its CPU time does not
grow with waiting for a shared core, its wall time does), and the bench's
own wall `best` and profiled conv GFLOP/s (Vulkan timestamps, so wall time);
the minimum per kernel of the profiled forwards.  One warm-up run per
configuration first (pipeline compilation).  Run inside build-aux/dfx-env;
asserts nothing.
"""
import argparse
import os
import re
import resource
import subprocess

ap = argparse.ArgumentParser ()
ap.add_argument ("--model", default="models/emoji-32")
ap.add_argument ("--size", default="64x64")
ap.add_argument ("--rounds", type=int, default=4)
ap.add_argument ("--reps", type=int, default=10)
ap.add_argument ("configs", nargs="+")
args = ap.parse_args ()
cfgs = []
for c in args.configs:
    label, rest = c.split ("=", 1)
    binary, width = rest.rsplit (":", 1)
    cfgs.append ((label, binary, width))


def run (binary, width, n):
    env = dict (os.environ, LP_NUM_THREADS="1", LP_NATIVE_VECTOR_WIDTH=width)
    r0 = resource.getrusage (resource.RUSAGE_CHILDREN)
    out = subprocess.run ([binary, "bench", "unet", "--model", args.model, "--size", args.size, "--repeat", str (n)],
                          env=env, capture_output=True, text=True, check=True).stdout
    r1 = resource.getrusage (resource.RUSAGE_CHILDREN)
    return (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime), out


cpu = {c[0]: [] for c in cfgs}
wall = {c[0]: [] for c in cfgs}
gflops = {c[0]: [] for c in cfgs}
kmin = {c[0]: {} for c in cfgs}
for label, binary, width in cfgs:
    run (binary, width, 1)
for k in range (args.rounds):
    for label, binary, width in cfgs:
        one, _ = run (binary, width, 1)
        many, out = run (binary, width, args.reps + 1)
        cpu[label].append ((many - one) / args.reps)
        m = re.search (r"best ([0-9.]+) s", out)
        wall[label].append (float (m.group (1)))
        m = re.search (r"conv [0-9.]+% at ([0-9.]+) GFLOP/s", out)
        gflops[label].append (float (m.group (1)) if m else 0.0)
        for name, ms in re.findall (r"^\s+(\S+)\s+\d+ calls\s+([0-9.]+) ms", out, re.M):
            kmin[label][name] = min (kmin[label].get (name, 1e9), float (ms))
        print (f"round {k} {label}: cpu/forward {cpu[label][-1]:.4f} s, wall best {wall[label][-1]:.4f} s, "
               f"conv {gflops[label][-1]} GFLOP/s", flush=True)
print (f"\n| {args.size} | CPU s per forward, min | median | wall best s | profiled conv GFLOP/s, best |")
print ("|---|---|---|---|---|")
for label, binary, width in cfgs:
    c = sorted (cpu[label])
    print (f"| {label} ({binary}, LP_NATIVE_VECTOR_WIDTH={width}) | {c[0]:.4f} | {c[len (c) // 2]:.4f} | "
           f"{min (wall[label]):.4f} | {max (gflops[label])} |")
for label, binary, width in cfgs:
    print (f"{label}: " + ", ".join (f"{n} {v:.1f} ms" for n, v in sorted (kmin[label].items (), key=lambda x: -x[1])))
