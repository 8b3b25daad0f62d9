"""photocrops.py — what bench-heal.py and bench-edit-photos.py share: square
crops of the held-out photos (budgie-backgrounds, models/photo_data.py: never
seen in training) where a region covers structure, and CPU time of a child."""
import os
import resource
import subprocess
import sys

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "models"))
sys.path.insert(0, os.path.join(here, "..", "algo"))
import photo_data  # noqa: E402
from clitest import grad, near  # noqa: E402


def crops(n, size, region):
    """[(label, uint8 size×size×3)] from the first n held-out photos, each
    reduced 4× by box filtering; per photo, of the crops on a 16-px grid, the
    one at the 75th percentile of texture (mean gradient magnitude within 6 px
    of the boolean map `region`): not flat sky, nor the busiest edge."""
    out = []
    around = near(region, 6)
    for name, im in photo_data.photos("held-out")[:n]:
        lv = np.asarray(im.reduce(4), dtype=np.uint8)
        h, w = lv.shape[:2]
        cand = []
        for y in range(0, h - size + 1, 16):
            for x in range(0, w - size + 1, 16):
                c = lv[y:y + size, x:x + size].astype(np.float64)
                cand.append((grad(c)[around].mean(), y, x))
        cand.sort()
        _, y, x = cand[int(0.75 * (len(cand) - 1))]
        out.append(("%s (%d,%d)" % (name, x, y), lv[y:y + size, x:x + size].copy()))
    return out


def run_cpu(cmd):
    """(CompletedProcess, CPU seconds user + sys of the child): only CPU time
    compares on a shared machine."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    p = subprocess.run(cmd, capture_output=True, text=True)
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return p, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)


def model_with_head(model, head, folder):
    """FOLDER as a model folder: MODEL's sub-folders linked but fisher/, which links HEAD (a Fisher
    head to try without copying the networks); returns FOLDER."""
    os.makedirs(folder, exist_ok=True)
    for sub in os.listdir(model):
        src, dst = os.path.abspath(os.path.join(model, sub)), os.path.join(folder, sub)
        if sub != "fisher" and os.path.isdir(src) and not os.path.lexists(dst):
            os.symlink(src, dst)
    dst = os.path.join(folder, "fisher")
    if os.path.lexists(dst):
        os.remove(dst)
    os.symlink(os.path.abspath(head), dst)
    return folder
