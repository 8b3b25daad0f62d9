"""clitest.py — what the CLI tests of suite algo (and bench-heal.py) share:
checks that count failures, running the dfx CLI, and the region and gradient
measures of the edit and heal tests."""
import subprocess
import sys

import numpy as np


class Checks:
    """check(cond, msg) prints ok:/FAIL: and counts; done() prints the count and exits 1 on any failure."""

    def __init__(self):
        self.failed = 0

    def __call__(self, cond, msg):
        if cond:
            print("ok:", msg)
        else:
            self.failed += 1
            print("FAIL:", msg)

    def done(self):
        print("%d failed" % self.failed)
        sys.exit(1 if self.failed else 0)


def run(dfx, *args):
    """(exit code, stdout, stderr) of `dfx ARGS`."""
    p = subprocess.run([dfx, *args], capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def near(m, r):
    """Pixels within distance r of a pixel of the boolean map m."""
    h, w = m.shape
    out = np.zeros_like(m)
    for y, x in zip(*np.nonzero(m)):
        y0, y1, x0, x1 = max(0, y - r), min(h, y + r + 1), max(0, x - r), min(w, x + r + 1)
        yy, xx = np.mgrid[y0:y1, x0:x1]
        out[y0:y1, x0:x1] |= (yy - y) ** 2 + (xx - x) ** 2 <= r * r
    return out


def grad(img):
    """|Δx| + |Δy| per pixel of an H×W×C image, summed over the channels."""
    g = np.zeros(img.shape[:2])
    g[:-1] += np.abs(np.diff(img, axis=0)).sum(2)
    g[:, :-1] += np.abs(np.diff(img, axis=1)).sum(2)
    return g


def grace_hopper(width=64, height=75):
    """matplotlib's sample photo grace_hopper.jpg (python3-matplotlib is in the environment, its sample data with
    it) resized to width × height, uint8 RGB."""
    from matplotlib import cbook
    from PIL import Image
    photo = Image.open(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)).convert("RGB")
    return np.asarray(photo.resize((width, height), Image.LANCZOS), dtype=np.uint8)
