#!/usr/bin/env python3
"""test-heal-cli.py — `dfx heal` end to end on the shipped colour model
models/photo-32 (suite algo).

  test-heal-cli.py --dfx DFX --model DIR --work DIR

A photo (matplotlib's sample grace_hopper.jpg at 64x75) with a magenta disc
(radius 7) painted over the chin; the mask is the disc.  The model is an
emoji model (the photo model is still being trained), so the bar is what any
fill that continues its surroundings must meet, not photo realism:
1. Heal (defaults: 25 levels, 3 passes each, feather 3, context 16):
   - no magenta pixel is left in the disc (R > 170, B > 170, G < 100);
   - the fill's mean colour is within 45 of 255 (mean over R, G, B) of the
     mean of the ring 4..6 px around the disc;
   - no seam: the mean gradient magnitude (|Δx| + |Δy| summed over R, G, B)
     on the disc's edge (pixels within 1 px of both sides) is at most 1.0
     times that of the ring (the painted disc gives 1.4, the photo 0.7);
   - farther than 3 px from the disc the output PNG equals the input bit
     for bit; the model worked on a window smaller than the photo;
   - the same seed gives the same PNG.
2. Bad input: a mask of another size (exit 2, naming the file and both
   sizes); an empty mask (the image unchanged, a note); a mask covering the
   whole image (refused: nothing around it to heal from); a missing file.
"""
import argparse
import json
import os
import sys

import numpy as np
from PIL import Image

from clitest import Checks, grace_hopper, grad, near
from clitest import run as run_dfx

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--dfx", required=True)
ap.add_argument("--model", required=True)
ap.add_argument("--work", required=True)
a = ap.parse_args()
os.makedirs(a.work, exist_ok=True)
W = a.work
check = Checks()


def run(*args):
    return run_dfx(a.dfx, *args)


ph = grace_hopper(64, 75)
H, Wd = ph.shape[:2]
yy, xx = np.mgrid[0:H, 0:Wd]
disc = (yy - 40) ** 2 + (xx - 32) ** 2 < 7 ** 2
painted = ph.copy()
painted[disc] = (255, 0, 255)
Image.fromarray(painted).save(W + "/painted.png")
Image.fromarray((disc * 255).astype(np.uint8)).save(W + "/mask.png")
ring = near(disc, 6) & ~near(disc, 3)
edge = near(disc, 1) & near(~disc, 1)
band = near(disc, 3)


def measures(o):
    o = o.astype(np.float64)
    magenta = int(((o[..., 0] > 170) & (o[..., 2] > 170) & (o[..., 1] < 100) & disc).sum())
    dmean = np.abs(o[disc].mean(0) - o[ring].mean(0)).mean()
    g = grad(o)
    return magenta, dmean, g[edge].mean() / g[ring].mean()


m0 = measures(painted)
m1 = measures(ph)
print("painted: %d magenta pixels, colour distance to the ring %.1f, seam %.2f" % m0)
print("the photo itself: %d magenta pixels, colour distance to the ring %.1f, seam %.2f" % m1)

# 1. heal
rc, out, err = run("heal", "--model", a.model, W + "/painted.png", "--mask", W + "/mask.png", "-o", W + "/healed.png",
                   "--json")
check(rc == 0, "dfx heal ran (%s)" % err.strip())
if rc == 0:
    j = json.loads(out)
    o = np.asarray(Image.open(W + "/healed.png").convert("RGB"))
    m = measures(o)
    print("healed: %d magenta pixels, colour distance to the ring %.1f, seam %.2f; window %s, %d evaluations, "
          "%.1f s" % (m + (j["window"], j["nfe"], j["seconds"])))
    check(m[0] == 0, "no magenta left")
    # measured on emoji-32: painted disc 125.4, the photo itself 21.0; the heal gives 40.2 with the windowed
    # attention of canvases above the model's size (the 51x51 window), 29.0 with --global-attention (as
    # when the test landed, before windowed attention)
    check(m[1] <= 45, "the fill's mean colour is near the ring's (%.1f <= 45)" % m[1])
    check(m[2] <= 1.0, "no seam: edge gradient / ring gradient %.2f <= 1.0" % m[2])
    check((o[~band] == painted[~band]).all(), "outside the band the output is the input bit for bit (%d pixels "
          "differ)" % (o[~band] != painted[~band]).any(1).sum())
    check(j["window"][2] < Wd and j["window"][3] < H, "the model worked on a window (%s) of the 64x75 photo" %
          j["window"])
    rc, out, err = run("heal", "--model", a.model, W + "/painted.png", "--mask", W + "/mask.png", "-o",
                       W + "/healed2.png")
    check(rc == 0 and (np.asarray(Image.open(W + "/healed2.png")) == np.asarray(Image.open(W + "/healed.png"))).all(),
          "the same seed gives the same image")

# 2. bad input
Image.fromarray(np.zeros((H + 1, Wd), np.uint8)).save(W + "/wrong.png")
rc, out, err = run("heal", "--model", a.model, W + "/painted.png", "--mask", W + "/wrong.png", "-o", W + "/x.png")
check(rc == 2 and "wrong.png" in err and "%dx%d" % (Wd, H + 1) in err and "%dx%d" % (Wd, H) in err,
      "mask of another size refused: " + err.strip())
Image.fromarray(np.zeros((H, Wd), np.uint8)).save(W + "/empty.png")
rc, out, err = run("heal", "--model", a.model, W + "/painted.png", "--mask", W + "/empty.png", "-o", W + "/same.png",
                   "--json")
same = np.asarray(Image.open(W + "/same.png").convert("RGB"))
check(rc == 0 and json.loads(out)["unchanged"] and "mask is empty" in err and (same == painted).all(),
      "empty mask: image unchanged, " + err.strip())
Image.fromarray(np.full((H, Wd), 255, np.uint8)).save(W + "/full.png")
rc, out, err = run("heal", "--model", a.model, W + "/painted.png", "--mask", W + "/full.png", "-o", W + "/y.png")
check(rc == 1 and "nothing around it to heal from" in err and not os.path.exists(W + "/y.png"),
      "full mask refused: " + err.strip())
rc, out, err = run("heal", "--model", a.model, W + "/nonexistent.png", "--mask", W + "/mask.png", "-o", W + "/x.png")
check(rc == 1 and "nonexistent.png" in err, "missing image named: " + err.strip())
check.done()
