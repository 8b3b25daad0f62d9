#!/usr/bin/env python3
"""photo_data.py — natural-image patches from CC0 / CC-BY photographs in Debian packages.

The photo model's data.  Training: the nine CC0/CC-BY-4.0 photographs of
lomiri-wallpapers-16.04 (the CC-BY-SA ones and the one rendered graphic are left
out); held out: the photographs of budgie-backgrounds (CC0), never trained on.
Each file is pinned by package, version and SHA-256, so a training run that
resumes in another session sees the same pixels; a changed file is refused.

The packages are fetched with `apt-get download` into a cache folder (default
build-train/debs, or $DFX_PHOTO_CACHE) and unpacked there; nothing is installed.

Patches: each photo is kept as a pyramid (box-filtered downscales by the
factors in SCALES, each by PIL's reduce(), so deterministic), and a patch is a
random SIZE×SIZE crop of a random (photo, scale) pair, flipped left-right at
random, all drawn from one torch.Generator: PatchSampler.batch(n, gen).
Scale 2 shows fine texture, 16 whole objects and skies.

As a script: `photo_data.py [--grid OUT.png] [--held-out]` fetches, checks and
prints the photos, and writes a grid of 64 patches when asked.
"""

import argparse
import hashlib
import os
import subprocess
import sys

import numpy as np
import torch

SCALES = (2, 3, 4, 6, 8, 12, 16)

LOMIRI = ("lomiri-wallpapers-16.04", "20.04.0-4", "/usr/share/backgrounds/")
BUDGIE = ("budgie-backgrounds", "3.0-1", "/usr/share/backgrounds/budgie/")

# (file, author, licence, sha256) — licences from the package's debian/copyright
TRAIN = [
    ("Picture_0B_by_freespace.jpg", 'Trevor "Freespace"', "CC-BY-4.0",
     "c8c0ab18e48d9e0419fe42881112137f3afafc27dfddc29ec3a6d54c56d225ad"),
    ("Picture_1A_by_freespace.jpg", 'Trevor "Freespace"', "CC-BY-4.0",
     "89e86af38d04daaef975665dc2127e9fa76f0fd68f4eea105a2d0ae3390b010b"),
    ("Wine_by_Jakkub_Mede.jpg", "Jakub Mede", "CC-BY-4.0",
     "d2e96e6d4da40dd804b3d0ce295e94de04a2d7d9b6785d42cd9d92ba58bced74"),
    ("aitzgorri_by_Aitzol_Berasategi.jpg", "Aitzol Berasategi", "CC-BY-4.0",
     "66268e7b48f8854d36a28765fac6e23ec1aee251daa6da1f64715f201020ad36"),
    ("friends_by_Aitzol_Berasategi.jpg", "Aitzol Berasategi", "CC-BY-4.0",
     "cc40e313c74e421edffe3403def413c16878ce14661cce7ec5915baeab35538d"),
    ("life_by_Aitzol_Berasategi.jpg", "Aitzol Berasategi", "CC-BY-4.0",
     "4c119350ead80201fe256850c3d316309ddfb4bdf10b235ce982dcde0c667c05"),
    ("picosdeeuropa_by_Aitzol_Berasategi.jpg", "Aitzol Berasategi", "CC-BY-4.0",
     "414d0072b2f6f2c555deafeaef6e45c4fed6fa9ad26eba6560ca8803959cf97a"),
    ("seeding_by_Clements_Engelhardt.jpg", "Clemens Engelhardt", "CC0-1.0",
     "a5634d1ab5e41a3568e92d4a894a500c92b891f9ff734e50bd224d6e185a605f"),
    ("sunset_by_Aitzol_Berasategi.jpg", "Aitzol Berasategi", "CC-BY-4.0",
     "474dab6a4b9f94dc76c29dfe30e9f5db4af0fd2e33fe5d695f8152b371efca18"),
]

# the photographs of budgie-backgrounds: not its two vector graphics (valley-, waves-midnight),
# the woodblock print (ocean-waves) or the space image (saturnian-profile)
HELD_OUT = [
    ("abstract-spiral.jpg", "10070d1f52c14561a87995b13fb55a0143a8d04b27e31885e65d9e230a0a0dc6"),
    ("beacon-street-sunset.jpg", "d77a97bfbb28fa6b2b4c93ad2857894afd38c13f450655942be077118bb9e3f1"),
    ("blue-periwinkle.jpg", "0b35d0e6e14766ec21d1d9446dcd34909e0e4e16a80972bb6b2ef26cc0bb4ed0"),
    ("canyon-wren.jpg", "1576ed3332c11b81ea90bd54acb60cc1e614642094bd972e5f2cde1661374b1f"),
    ("casa-mila.jpg", "5c7b24e463e3ca90cfead8c7fb4a0e0362980e7ff43aa5e877d6a186338977bf"),
    ("extreme-desert-hike.jpg", "beed5bc6a2c99b026f869b588be5e32b0c77adb209535975d0e015eb5e7da839"),
    ("high-trestle-trail.jpg", "3fa56b607d41e658acc589b0e8306f96ec4ea33cbd8d5d8d4d8a688585fb1fe2"),
    ("lake-sherburne.jpg", "85881b53de866a521bd806b481d444b7c3a45eee773eefdffaad46e7fb968470"),
    ("oakland-zoo-otters.jpg", "b7540dd5c076b5b30c37bb9b7c991789d2cd30a9fc6a3205c8896bb5f8b75dbc"),
    ("perched-osprey.jpg", "d57e8d13c898c8abdf99a6429868e02935c4bb23993dfbb1a190136ee396a179"),
    ("piazza-gae-aulenti.jpg", "f5a33cc32e1e3c453cfbeb0778f989fb2af704b5a7de2d0dc04f8bb3bb3e588c"),
    ("roman-colosseum.jpg", "3a085abab563afcdcfc3009fa126bbceb426921dd5bcdbb6f08fb0a601568030"),
    ("singaporean-cityscape.jpg", "f636392cae58e2cfd478838a8e4d3a3aa0b7c1ecf7be77932c394d649f783363"),
    ("tea-gardens.jpg", "1d7377e9903b29a3e983f1184a3112e50a6b45e65382c491f5c02e20e2861e20"),
]


class PhotoError(ValueError):
    """A photo that is missing or not the pinned file (the message names it)."""


def default_cache():
    if os.environ.get("DFX_PHOTO_CACHE"):
        return os.environ["DFX_PHOTO_CACHE"]
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.join(os.path.dirname(here), "build-train", "debs")


def package_root(pkg, cache=None):
    """Unpack Debian package (name, version, dir) into cache once; return the folder of its files."""
    name, version, sub = pkg
    cache = cache or default_cache()
    root = os.path.join(cache, f"{name}_{version}")
    stamp = os.path.join(root, ".unpacked")
    if not os.path.exists(stamp):
        os.makedirs(cache, exist_ok=True)
        deb = os.path.join(cache, f"{name}_{version}_all.deb")
        if not os.path.exists(deb):
            r = subprocess.run(["apt-get", "download", f"{name}={version}"], cwd=cache,
                               capture_output=True, text=True)
            if r.returncode != 0 or not os.path.exists(deb):
                raise PhotoError(f"{name}={version}: apt-get download failed: "
                                 f"{(r.stderr or r.stdout).strip()[-300:]}")
        os.makedirs(root, exist_ok=True)
        subprocess.run(["dpkg-deb", "-x", deb, root], check=True)
        open(stamp, "w").close()
    return os.path.join(root, sub.lstrip("/"))


def load_photo(folder, name, sha):
    from PIL import Image
    path = os.path.join(folder, name)
    if not os.path.exists(path):
        raise PhotoError(f"{path}: missing")
    with open(path, "rb") as f:
        got = hashlib.sha256(f.read()).hexdigest()
    if got != sha:
        raise PhotoError(f"{path}: SHA-256 {got[:16]}… is not the pinned {sha[:16]}… (the package changed?)")
    with Image.open(path) as im:
        return im.convert("RGB")


def pyramid(im, scales=SCALES):
    """uint8 tensors [3, H/s, W/s], one per scale, box-filtered (PIL reduce)."""
    return [torch.from_numpy(np.asarray(im.reduce(s), dtype=np.uint8).transpose(2, 0, 1).copy())
            for s in scales]


def photos(which="train", cache=None):
    """[(name, PIL image)] of the training or held-out photos, checked against their SHA-256."""
    if which == "train":
        folder = package_root(LOMIRI, cache)
        return [(n, load_photo(folder, n, sha)) for n, _, _, sha in TRAIN]
    folder = package_root(BUDGIE, cache)
    return [(n, load_photo(folder, n, sha)) for n, sha in HELD_OUT]


class PatchSampler:
    """Random SIZE×SIZE patches of a set of photos at the SCALES, on [-1, 1]."""

    def __init__(self, which="train", size=32, scales=SCALES, cache=None):
        self.size = size
        self.levels = []
        for _, im in photos(which, cache):
            for lv in pyramid(im, scales):
                if lv.shape[1] >= size and lv.shape[2] >= size:
                    self.levels.append(lv)
        if not self.levels:
            raise PhotoError(f"no photo level is at least {size}x{size}")

    def batch(self, n, gen, hflip=True):
        """float32 [n, 3, size, size] on [-1, 1]; draws only from gen."""
        s = self.size
        k = torch.randint(0, len(self.levels), (n,), generator=gen)
        u = torch.rand(n, 2, generator=gen, dtype=torch.float64)
        flip = torch.rand(n, generator=gen) < 0.5
        out = torch.empty(n, 3, s, s, dtype=torch.uint8)
        for i in range(n):
            lv = self.levels[int(k[i])]
            y = int(u[i, 0] * (lv.shape[1] - s + 1))
            x = int(u[i, 1] * (lv.shape[2] - s + 1))
            p = lv[:, y:y + s, x:x + s]
            out[i] = p.flip(-1) if hflip and flip[i] else p
        return out.to(torch.float32) / 127.5 - 1.0


def held_out_patches(n, size=32, seed=1234, cache=None):
    """A fixed set of n held-out patches (budgie-backgrounds, same scales, no flips)."""
    return PatchSampler("held-out", size, cache=cache).batch(n, torch.Generator().manual_seed(seed), hflip=False)


def save_grid(x, path, cols=8):
    from PIL import Image
    n, c, s, _ = x.shape
    rows = (n + cols - 1) // cols
    a = ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).numpy()
    g = np.zeros((rows * (s + 2), cols * (s + 2), 3), np.uint8)
    for i in range(n):
        r, q = divmod(i, cols)
        g[r * (s + 2):r * (s + 2) + s, q * (s + 2):q * (s + 2) + s] = a[i].transpose(1, 2, 0)
    Image.fromarray(g).resize((g.shape[1] * 3, g.shape[0] * 3), Image.NEAREST).save(path)


def main():
    ap = argparse.ArgumentParser(description="Fetch and check the photo model's photographs "
                                 "(Debian packages, pinned by SHA-256); optionally write a grid of patches.")
    ap.add_argument("--held-out", action="store_true", help="the held-out set (budgie-backgrounds)")
    ap.add_argument("--grid", help="write a PNG grid of 64 random patches here")
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--cache", help="folder for the .deb files (default build-train/debs)")
    a = ap.parse_args()
    which = "held-out" if a.held_out else "train"
    try:
        ps = photos(which, a.cache)
        for n, im in ps:
            print(f"{n}: {im.size[0]}x{im.size[1]}")
        if a.grid:
            x = PatchSampler(which, a.size, cache=a.cache).batch(64, torch.Generator().manual_seed(0))
            save_grid(x, a.grid)
            print(f"wrote {a.grid}")
    except (PhotoError, OSError, subprocess.CalledProcessError) as e:
        print(f"photo_data: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
