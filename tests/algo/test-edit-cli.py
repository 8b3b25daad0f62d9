#!/usr/bin/env python3
"""test-edit-cli.py — `dfx edit` end to end on the shipped grey model
models/fashion-mnist-32 (suite algo).

  test-edit-cli.py --dfx DFX --model DIR --colour-model DIR --work DIR

The model is grey, so the guide is a grey value: a disc of black (−1) over a
bright part of a generated garment, inside a larger disc mask.
1. The edit (DDIM 10 steps, strength 0.5, 8 Adam iterations of step 0.2, guide weight 1, inverted start): the
   objective falls by more than 40 % and rises in at most half the iterations, each by
   less than 25 % (Adam on the hybrid adjoint, which is 0.87-0.93 aligned
   with the exact gradient, not equal to it); the masked region of the
   output PNG moves toward the guide (its mean distance to the guide falls by
   at least 25 % against the input image), the unmasked region changes
   little (mean absolute change ≤ 16 of 255); output size exact.
   The same on a 30x27 crop (no multiple of the U-Net's 4: padded and
   cropped back): output 30x27, objective down, disc toward the guide.
1c. A photo (matplotlib's sample grace_hopper.jpg, 64x75) with a pure red
   disc (radius 7) as guide and the disc as mask, on the colour model
   (emoji-32, 32x32): the model works on a window around the disc; the
   redness R − (G + B)/2 inside the disc rises by at least 100 of 255 and
   outside the band the output equals the input bit for bit.
2. Bad input: a guide or mask of another size refused naming the file and
   both sizes (exit 2); an empty mask writes the image unchanged with a note;
   a full mask warns that nothing is preserved; strength 0 and the Heun
   sampler refused; a missing file named.
"""
import argparse
import json
import os
import sys

import numpy as np
from PIL import Image

from clitest import Checks, grace_hopper
from clitest import run as run_dfx

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--dfx", required=True)
ap.add_argument("--model", required=True)
ap.add_argument("--colour-model", required=True)
ap.add_argument("--work", required=True)
a = ap.parse_args()
os.makedirs(a.work, exist_ok=True)
W = a.work
check = Checks()


def run(*args):
    return run_dfx(a.dfx, *args)


rc, out, err = run("generate", "--model", a.model, "--seed", "3", "-o", W + "/img.png")
if rc != 0:
    sys.exit("dfx generate failed: " + err)
img = np.asarray(Image.open(W + "/img.png").convert("L"), dtype=np.float64)
h, w = img.shape
yy, xx = np.mgrid[0:h, 0:w]
# The disc goes where the garment is brightest (its centre of mass of light).
cy, cx = (int(round((img * yy).sum() / img.sum())), int(round((img * xx).sum() / img.sum())))
blob = (yy - cy) ** 2 + (xx - cx) ** 2 < 6 ** 2
mask = (yy - cy) ** 2 + (xx - cx) ** 2 < 9 ** 2
guide = img.copy()
guide[blob] = 0.0
Image.fromarray(guide.astype(np.uint8)).save(W + "/guide.png")
Image.fromarray((mask * 255).astype(np.uint8)).save(W + "/mask.png")
common = ["--model", a.model, W + "/img.png", "--guide", W + "/guide.png", "--mask", W + "/mask.png"]

# 1. the edit
rc, out, err = run("edit", *common, "--steps", "10", "--iterations", "8", "--step-size", "0.2", "--guide-weight", "1",
                   "-o", W + "/out.png", "--json")
check(rc == 0, "dfx edit ran (%s)" % err.strip())
if rc == 0:
    j = json.loads(out)
    loss = j["loss"]
    print("loss per iteration:", " ".join("%.2f" % v for v in loss))
    print("guide mse:", " ".join("%.3f" % v for v in j["guide_mse"]), " outside rms:",
          " ".join("%.3f" % v for v in j["outside_rms"]), " %.1f s, %d evaluations" % (j["seconds"], j["nfe"]))
    check(len(loss) == 9 and j["iterations"] == 8, "9 loss values for 8 iterations")
    # the default adjoint on a model with gaussian/: the hybrid, the network's product at 1 of 10 steps
    # (10 evaluations of the inversion, 9 passes of 11, 8 products)
    check(j["adjoint"] == "hybrid" and j["network_steps"] == 1 and j["nfe"] == 10 + 9 * 11 + 8,
          "adjoint %s with %s network steps, %d evaluations" % (j["adjoint"], j["network_steps"], j["nfe"]))
    # Adam with a fixed step is not a descent method: with the better-aimed gradients it overshoots here
    # (the model trained before issue 18, Gaussian adjoint: once, 61.1 -> 74.1, ending at 0.43 of the
    # start; hybrid: 67.5 -> 76.2, then 42.4 -> 43.9 -> 46.6, ending at 0.49, its guide mse 0.735 ->
    # 0.182 against the Gaussian's 0.196; the retrained model, hybrid: 59.0 -> 61.0 -> 63.6 -> 67.5,
    # then 35.9 -> 38.5, rises of 3-7 %, ending at 0.48, guide mse 0.636 -> 0.210).  Not a runaway:
    # at most half the iterations rise, each by less than 25 %.
    rises = [(a_, b) for a_, b in zip(loss, loss[1:]) if b > a_ * (1 + 1e-6)]
    check(len(rises) <= (len(loss) - 1) // 2 and all(b < 1.25 * a_ for a_, b in rises),
          "the objective rises in at most half the iterations, each by less than 25 %% (%s)" % rises)
    check(loss[-1] < 0.6 * loss[0], "the objective falls by more than 40 %% (%.2f -> %.2f)" % (loss[0], loss[-1]))
    o = np.asarray(Image.open(W + "/out.png").convert("L"), dtype=np.float64)
    check(o.shape == img.shape, "output %s, input %s" % (o.shape, img.shape))
    d_in = np.abs(img[blob] - guide[blob]).mean()
    d_out = np.abs(o[blob] - guide[blob]).mean()
    outside = np.abs(o[~mask] - img[~mask]).mean()
    print("blob: mean distance to the guide %.1f (input) -> %.1f (output) of 255; outside the mask: mean change "
          "%.1f of 255" % (d_in, d_out, outside))
    check(d_out < 0.75 * d_in, "the masked region moves toward the guide")
    raw_in = np.asarray(Image.open(W + "/img.png"), dtype=np.uint8)
    band = (yy - cy) ** 2 + (xx - cx) ** 2 <= (9 + 3) ** 2  # the mask's pixels are at distance < 9 from the centre
    o8 = np.asarray(Image.open(W + "/out.png"), dtype=np.uint8)
    check((o8[~band] == raw_in[~band]).all(), "outside the feathered band the output is the input bit for bit "
          "(%d of %d pixels differ)" % ((o8[~band] != raw_in[~band]).sum(), (~band).sum()))
    rc, out, err = run("edit", *common, "--steps", "10", "--iterations", "8", "--step-size", "0.2", "--raw", "-o",
                       W + "/out-raw.png")
    if rc == 0:
        r8 = np.asarray(Image.open(W + "/out-raw.png"), dtype=np.float64)
        print("--raw: mean |change| outside the band %.1f of 255" % np.abs(r8[~band] - img[~band]).mean())
        check(np.abs(r8[~band] - img[~band]).mean() > 0.5, "--raw writes the model's output outside the band too")
    else:
        check(False, "--raw ran: " + err.strip())

# 1b. a size that is no multiple of the U-Net's (padded inside, cropped back): 30x27, the top-left crop
for name, arr in (("img", img), ("guide", guide), ("mask", mask * 255.0)):
    Image.fromarray(arr[:27, :30].astype(np.uint8)).save("%s/%s-crop.png" % (W, name))
rc, out, err = run("edit", "--model", a.model, W + "/img-crop.png", "--guide", W + "/guide-crop.png", "--mask",
                   W + "/mask-crop.png", "--steps", "6", "--iterations", "4", "--step-size", "0.2", "-o",
                   W + "/out-crop.png", "--json")
check(rc == 0, "30x27 edit ran (%s)" % err.strip())
if rc == 0:
    j = json.loads(out)
    o = np.asarray(Image.open(W + "/out-crop.png").convert("L"), dtype=np.float64)
    b = blob[:27, :30]
    check(o.shape == (27, 30) and (j["width"], j["height"]) == (30, 27), "30x27 output, shape %s" % (o.shape,))
    check(j["loss"][-1] < j["loss"][0], "30x27: objective %.2f -> %.2f" % (j["loss"][0], j["loss"][-1]))
    check(np.abs(o[b] - guide[:27, :30][b]).mean() < np.abs(img[:27, :30][b] - guide[:27, :30][b]).mean(),
          "30x27: the masked region moves toward the guide")

# 1c. a photo crop with a red disc on the colour model, the layer larger than the model
try:
    ph = grace_hopper(64, 75)
except Exception as e:  # matplotlib is in the environment's package list; its sample data with it
    ph = None
    check(False, "matplotlib's sample photo grace_hopper.jpg: %s" % e)
if ph is not None:
    H2, W2 = ph.shape[:2]
    y2, x2 = np.mgrid[0:H2, 0:W2]
    disc = (y2 - 40) ** 2 + (x2 - 32) ** 2 < 7 ** 2
    g2 = ph.copy()
    g2[disc] = (255, 0, 0)
    Image.fromarray(ph).save(W + "/photo.png")
    Image.fromarray(g2).save(W + "/photo-guide.png")
    Image.fromarray((disc * 255).astype(np.uint8)).save(W + "/photo-mask.png")
    rc, out, err = run("edit", "--model", a.colour_model, W + "/photo.png", "--guide", W + "/photo-guide.png",
                       "--mask", W + "/photo-mask.png", "--steps", "10", "--iterations", "8", "--step-size", "0.3",
                       "-o", W + "/photo-out.png", "--json")
    check(rc == 0, "photo edit ran (%s)" % err.strip())
    if rc == 0:
        j = json.loads(out)
        o2 = np.asarray(Image.open(W + "/photo-out.png").convert("RGB"), dtype=np.uint8)
        red = lambda a_: (a_[..., 0].astype(float) - (a_[..., 1].astype(float) + a_[..., 2]) / 2)[disc].mean()
        band2 = (y2 - 40) ** 2 + (x2 - 32) ** 2 <= (7 + 3) ** 2
        print("photo 64x75, red disc r 7: window %s, redness inside %.1f -> %.1f of 255, %.1f s" %
              (j["window"], red(ph), red(o2), j["seconds"]))
        check(j["window"][2] < W2 or j["window"][3] < H2, "the model worked on a window of the photo")
        # measured: 90.0 -> 144.4 with the clamped DF-EA adjoint, 90.0 -> 250.8 with the Gaussian one
        check(red(o2) >= red(ph) + 100, "the disc turned clearly redder (by %.1f >= 100)" % (red(o2) - red(ph)))
        check((o2[~band2] == ph[~band2]).all(), "photo: outside the band the output is the input bit for bit")

# 2. bad input
rc, out, err = run("edit", *common, "--steps", "10", "--network-steps", "11", "-o", W + "/x.png")
check(rc != 0 and "11 network steps is outside [0, 10]" in err, "--network-steps above --steps refused: " + err.strip())
Image.fromarray(np.zeros((h + 1, w), np.uint8)).save(W + "/wrong.png")
rc, out, err = run("edit", "--model", a.model, W + "/img.png", "--guide", W + "/wrong.png", "--mask",
                   W + "/mask.png", "-o", W + "/x.png")
check(rc == 2 and "wrong.png" in err and "%dx%d" % (w, h + 1) in err and "%dx%d" % (w, h) in err,
      "guide of another size refused: " + err.strip())
rc, out, err = run("edit", "--model", a.model, W + "/img.png", "--guide", W + "/guide.png", "--mask",
                   W + "/wrong.png", "-o", W + "/x.png")
check(rc == 2 and "mask" in err and "wrong.png" in err, "mask of another size refused: " + err.strip())
Image.fromarray(np.zeros((h, w), np.uint8)).save(W + "/empty.png")
rc, out, err = run("edit", "--model", a.model, W + "/img.png", "--guide", W + "/guide.png", "--mask",
                   W + "/empty.png", "-o", W + "/same.png", "--json")
same = np.asarray(Image.open(W + "/same.png").convert("L"))
check(rc == 0 and json.loads(out)["unchanged"] and "mask is empty" in err and (same == img).all(),
      "empty mask: image unchanged, " + err.strip())
Image.fromarray(np.full((h, w), 255, np.uint8)).save(W + "/full.png")
rc, out, err = run("edit", "--model", a.model, W + "/img.png", "--guide", W + "/guide.png", "--mask",
                   W + "/full.png", "-o", W + "/full-out.png", "--iterations", "1", "--steps", "3")
check(rc == 0 and "covers the whole image" in err, "full mask warned: " + err.strip())
rc, out, err = run("edit", *common, "--strength", "0", "-o", W + "/x.png")
check(rc == 2 and "--strength" in err, "strength 0 refused: " + err.strip())
rc, out, err = run("edit", *common, "--sampler", "heun", "-o", W + "/x.png")
check(rc == 2 and "heun" in err, "heun refused: " + err.strip())
rc, out, err = run("edit", "--model", a.model, W + "/img.png", "--guide", W + "/nonexistent.png", "--mask",
                   W + "/mask.png", "-o", W + "/x.png")
check(rc == 1 and "nonexistent.png" in err, "missing guide named: " + err.strip())
check.done()
