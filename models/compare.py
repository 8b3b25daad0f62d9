#!/usr/bin/env python3
"""compare.py — compare a U-Net output against a golden case.

usage: compare.py OUTPUT.safetensors CASE.safetensors [--bound 1e-5]

Reads tensor `sample` (or --name) from OUTPUT and `expected` from CASE (as
written by make_golden.py), prints the relative L2 error ||out - exp|| / ||exp||
and the largest absolute difference, and exits 0 when the error is within
--bound, 1 when it is not (or the output has a wrong shape or NaN/Inf),
2 on unreadable input.  Writes nothing.
"""

import argparse
import sys


def main():
    ap = argparse.ArgumentParser(description="Print the relative L2 error of OUTPUT's tensor against "
                                 "CASE's `expected`; exit 1 above --bound. Writes nothing.")
    ap.add_argument("output", help="safetensors file produced by `dfx unet`")
    ap.add_argument("case", help="golden case from make_golden.py (tensor `expected`)")
    ap.add_argument("--name", default="sample", help="tensor to read from OUTPUT (default: sample)")
    ap.add_argument("--bound", type=float, default=1e-5, help="largest accepted relative L2 error")
    a = ap.parse_args()
    try:
        import torch
        from safetensors.torch import load_file
        out = load_file(a.output)
        case = load_file(a.case)
    except Exception as e:  # any reader failure is an unreadable input
        print(f"compare: {e}", file=sys.stderr)
        return 2
    if a.name not in out:
        print(f"compare: {a.output} has no tensor '{a.name}' (has: {', '.join(sorted(out))})", file=sys.stderr)
        return 1
    if "expected" not in case:
        print(f"compare: {a.case} has no tensor 'expected'", file=sys.stderr)
        return 2
    y, e = out[a.name].double(), case["expected"].double()
    if tuple(y.shape) != tuple(e.shape):
        print(f"compare: shape {tuple(y.shape)} != expected {tuple(e.shape)}")
        return 1
    if not torch.isfinite(y).all():
        print(f"compare: {int((~torch.isfinite(y)).sum())} non-finite values in the output")
        return 1
    err = ((y - e).norm() / e.norm()).item()
    worst = (y - e).abs().max().item()
    ok = err <= a.bound
    print(f"rel-L2 {err:.3e} max-abs {worst:.3e} bound {a.bound:.0e} {'ok' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
