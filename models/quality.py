#!/usr/bin/env python3
"""quality.py — dfx's image-quality metric: Fréchet distance in the feature
space of a small network dfx trains itself (no downloads).

Two feature extractors:
  fmnist   a small CNN classifier trained on Fashion-MNIST's labels (Debian's
           dataset-fashion-mnist), 32×32 grey; features = its 128-d penultimate
           layer.  The FID-like metric for the grey model ("FD-fmnist").
  random   a fixed random-weight CNN (seeded, no training) with multi-scale
           average-pooled features; label-free, any channel count.  The
           metric for the colour model ("FD-random").

Commands (each writes only what it says):
  train    --out models/quality/fmnist-classifier.safetensors
           trains the classifier (seeded, ~3 epochs), prints test accuracy.
  fd       --features fmnist|random A B
           prints the Fréchet distance between two image sets.  A set is
           'fashion-mnist:train' / 'fashion-mnist:test' (optionally :N for the
           first N), 'photos:train:N' / 'photos:test:N' (N fixed patches of the
           photo model's training / held-out photographs), a folder of PNGs, or a .safetensors file with tensor
           'images' (N, C, H, W) in [−1, 1].
  reference [--out models/quality/REFERENCE.json] [--data DIR --name NAME]
           the metric's own reference numbers: real-vs-real (train vs test) and
           deliberately degraded sets (blur, noise, shuffled pixels).  With
           --data, for an image folder (a colour model's data, e.g. the emoji
           glyphs of models/prep_emoji.py) with the label-free random features:
           its training split's two halves, training split vs held-out split
           (train_unet.py's: the last 5 % in file order) and the first half vs
           the second half degraded; merged into --out under NAME.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
CLASSIFIER = os.path.join(HERE, "quality", "fmnist-classifier.safetensors")


def fashion_mnist(split, size=32):
    from dfx_data import fashion_mnist as fm
    return fm(split, size)  # (N, 1, size, size) float32 in [−1, 1]


def fashion_mnist_labels(split):
    import gzip
    name = "train" if split == "train" else "t10k"
    with gzip.open(f"/usr/share/datasets/fashion-mnist/{name}-labels-idx1-ubyte.gz", "rb") as f:
        data = f.read()
    if int.from_bytes(data[:4], "big") != 2049:
        raise SystemExit(f"{name}-labels: not an IDX1 file")
    return torch.tensor(np.frombuffer(data, dtype=np.uint8, offset=8).astype(np.int64))


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 32, 3, padding=1)
        self.c2 = nn.Conv2d(32, 64, 3, padding=1)
        self.c3 = nn.Conv2d(64, 128, 3, padding=1)
        self.fc = nn.Linear(128, 10)

    def features(self, x):
        x = F.max_pool2d(F.relu(self.c1(x)), 2)
        x = F.max_pool2d(F.relu(self.c2(x)), 2)
        x = F.relu(self.c3(x))
        return x.mean(dim=(2, 3))

    def forward(self, x):
        return self.fc(self.features(x))


class RandomFeatures(nn.Module):
    """Fixed random CNN: multi-scale pooled features, label-free."""

    def __init__(self, channels, seed=1234):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.w = []
        c = channels
        for out in (32, 64, 128):
            w = torch.randn(out, c, 3, 3, generator=g) / (c * 9) ** 0.5
            self.w.append(w)
            c = out

    def features(self, x):
        feats = []
        for w in self.w:
            x = F.relu(F.conv2d(x, w, padding=1))
            feats.append(x.mean(dim=(2, 3)))
            feats.append(x.std(dim=(2, 3)))
            x = F.avg_pool2d(x, 2)
        return torch.cat(feats, dim=1)


def load_set(spec, channels=None):
    if spec.startswith("fashion-mnist:"):
        parts = spec.split(":")
        x = fashion_mnist(parts[1])
        return x[: int(parts[2])] if len(parts) > 2 else x
    if spec.startswith("photos:"):
        # fixed patches of the photo model's photographs (models/photo_data.py):
        # photos:train[:N] from the training photographs, photos:test[:N] held out
        from dfx_data import load as data_load
        parts = spec.split(":")
        n = int(parts[2]) if len(parts) > 2 else 1024
        return data_load(f"photos:{n}", "test" if parts[1] == "test" else "train")
    if spec.endswith(".safetensors"):
        from safetensors.torch import load_file
        t = load_file(spec)
        if "images" not in t:
            raise SystemExit(f"{spec}: no tensor 'images'")
        return t["images"].float()
    if os.path.isdir(spec):
        from PIL import Image
        files = sorted(f for f in os.listdir(spec) if f.lower().endswith(".png"))
        if not files:
            raise SystemExit(f"{spec}: no PNG images")
        imgs = []
        for f in files:
            im = Image.open(os.path.join(spec, f))
            im = im.convert("L" if channels == 1 else "RGB")
            a = np.asarray(im, dtype=np.float32) / 127.5 - 1.0
            imgs.append(a[None] if a.ndim == 2 else a.transpose(2, 0, 1))
        shapes = {i.shape for i in imgs}
        if len(shapes) != 1:
            raise SystemExit(f"{spec}: images of mixed sizes {sorted(shapes)}")
        return torch.tensor(np.stack(imgs))
    raise SystemExit(f"{spec}: not a known set, folder or .safetensors file")


def extractor(kind, channels):
    if kind == "fmnist":
        if channels != 1:
            raise SystemExit("the fmnist features need grey (1-channel) images")
        from safetensors.torch import load_file
        if not os.path.exists(CLASSIFIER):
            raise SystemExit(f"{CLASSIFIER}: missing; run `quality.py train` first")
        m = Classifier()
        m.load_state_dict(load_file(CLASSIFIER))
        return m.eval()
    return RandomFeatures(channels).eval()


@torch.no_grad()
def feats(model, x, batch=500):
    return torch.cat([model.features(x[i:i + batch]) for i in range(0, len(x), batch)]).double()


def frechet(fa, fb):
    """‖μa − μb‖² + tr(Σa + Σb − 2 (Σa Σb)^½), the square root via the
    symmetric form Σa^½ Σb Σa^½ (eigen-decompositions, float64)."""
    ma, mb = fa.mean(0), fb.mean(0)
    ca, cb = torch.cov(fa.T), torch.cov(fb.T)
    ea, va = torch.linalg.eigh(ca)
    sa = va @ torch.diag(ea.clamp(min=0).sqrt()) @ va.T
    m = sa @ cb @ sa
    em = torch.linalg.eigvalsh((m + m.T) / 2).clamp(min=0)
    return float(((ma - mb) ** 2).sum() + torch.trace(ca) + torch.trace(cb) - 2 * em.sqrt().sum())


def fd(kind, a, b):
    if a.shape[1] != b.shape[1]:
        raise SystemExit(f"channel counts differ: {a.shape[1]} vs {b.shape[1]}")
    m = extractor(kind, a.shape[1])
    return frechet(feats(m, a), feats(m, b))


def cmd_train(args):
    torch.manual_seed(args.seed)
    torch.set_num_threads(os.cpu_count())
    x, y = fashion_mnist("train"), fashion_mnist_labels("train")
    xt, yt = fashion_mnist("test"), fashion_mnist_labels("test")
    m = Classifier()
    opt = torch.optim.Adam(m.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(args.seed)
    for epoch in range(args.epochs):
        perm = torch.randperm(len(x), generator=g)
        m.train()
        for i in range(0, len(x), 128):
            idx = perm[i:i + 128]
            loss = F.cross_entropy(m(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        m.eval()
        with torch.no_grad():
            acc = sum((m(xt[i:i + 1000]).argmax(1) == yt[i:i + 1000]).sum().item() for i in range(0, len(xt), 1000))
        print(f"epoch {epoch + 1}: loss {loss.item():.4f}, test accuracy {acc / len(xt):.4f}", flush=True)
    from safetensors.torch import save_file
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    save_file({k: v.contiguous() for k, v in m.state_dict().items()}, args.out,
              metadata={"test_accuracy": f"{acc / len(xt):.4f}", "epochs": str(args.epochs), "seed": str(args.seed)})
    print(f"wrote {args.out}")


def degrade(x, how, seed=0):
    g = torch.Generator().manual_seed(seed)
    if how == "blur":
        k = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0])
        k = (k[:, None] * k[None, :]) / 256.0
        w = k.expand(x.shape[1], 1, 5, 5)
        return F.conv2d(F.pad(x, (2, 2, 2, 2), mode="replicate"), w, groups=x.shape[1])
    if how == "noise":
        return (x + 0.2 * torch.randn(x.shape, generator=g)).clamp(-1, 1)
    if how == "shuffle":
        n, c, h, w = x.shape
        perm = torch.randperm(h * w, generator=g)
        return x.reshape(n, c, h * w)[:, :, perm].reshape(n, c, h, w)
    raise ValueError(how)


def cmd_reference(args):
    torch.set_num_threads(os.cpu_count())
    if args.data:
        return reference_folder(args)
    train, test = fashion_mnist("train")[:10000], fashion_mnist("test")
    out = {"sets": "fashion-mnist train[:10000] vs test (10000)", "features": {}}
    for kind in ("fmnist", "random"):
        r = {"real_vs_real": fd(kind, train, test)}
        for how in ("blur", "noise", "shuffle"):
            r[f"real_vs_{how}"] = fd(kind, train, degrade(test, how))
        out["features"][kind] = r
        print(kind, json.dumps(r), flush=True)
    write_reference(args.out, out)


def write_reference(path, entries):
    """Merge `entries` into the JSON file at path (other keys kept)."""
    if not path:
        return
    old = {}
    if os.path.exists(path):
        with open(path) as f:
            old = json.load(f)
    old.update(entries)
    with open(path, "w") as f:
        json.dump(old, f, indent=2)
    print(f"wrote {path}")


def reference_folder(args):
    import dfx_data
    if not args.name:
        raise SystemExit("reference --data needs --name (the key in the reference file)")
    try:
        train = dfx_data.load(args.data, "train", args.channels)
        test = dfx_data.load(args.data, "test", args.channels)
    except dfx_data.DataError as e:
        raise SystemExit(f"quality: {e}")
    h = train.shape[0] // 2
    r = {"train_half_vs_half": fd("random", train[:h], train[h:]),
         "train_vs_test": fd("random", train, test)}
    for how in ("blur", "noise", "shuffle"):
        r[f"train_half_vs_{how}_half"] = fd("random", train[:h], degrade(train[h:], how))
    entry = {"sets": f"{args.data}: {train.shape[0]} training images (halves of {h}), {test.shape[0]} held out",
             "features": {"random": r}}
    print(args.name, json.dumps(entry), flush=True)
    write_reference(args.out, {args.name: entry})


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train", help="train the Fashion-MNIST feature classifier (writes --out)")
    t.add_argument("--out", default=CLASSIFIER)
    t.add_argument("--epochs", type=int, default=3)
    t.add_argument("--seed", type=int, default=1)
    d = sub.add_parser("fd", help="print the Fréchet distance of two image sets (writes nothing)")
    d.add_argument("--features", choices=("fmnist", "random"), default="fmnist")
    d.add_argument("a")
    d.add_argument("b")
    r = sub.add_parser("reference", help="the metric's reference numbers (writes --out)")
    r.add_argument("--out", default=os.path.join(HERE, "quality", "REFERENCE.json"))
    r.add_argument("--data", help="an image folder: its reference numbers with the random features")
    r.add_argument("--name", help="with --data: the key under which they are stored")
    r.add_argument("--channels", type=int, default=3, choices=(1, 3), help="with --data (default 3)")
    a = ap.parse_args()
    if a.cmd == "train":
        cmd_train(a)
    elif a.cmd == "fd":
        x = load_set(a.a)
        y = load_set(a.b, channels=x.shape[1])
        print(f"{fd(a.features, x, y):.4f}")
    else:
        cmd_reference(a)


if __name__ == "__main__":
    main()
