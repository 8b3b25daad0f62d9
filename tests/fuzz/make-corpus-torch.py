#!/usr/bin/env python3
"""Write the seed corpus of fuzz-torch (tests/fuzz/corpus-torch/): real
torch.save outputs of small state dicts, in the zip format and the legacy
(_use_new_zipfile_serialization=False) stream.

The seeds cover every storage type dfx reads (float32, float16, bfloat16,
float64, int64, int32, int16, int8, uint8, bool), a scalar, a zero-size
tensor, two tensors sharing one storage at different offsets, an
nn.Parameter (keep_vars), a 4-D convolution weight, the _metadata attribute
of a module's state_dict(), and protocols 2 and 4.  torch.save writes a
random serialization id into each archive, so the files differ from run to
run; the committed corpus is one such run.  Needs torch (build-aux/dfx-env).
"""
import argparse
import collections
import io
import os

import torch


def state_dicts():
    g = torch.Generator().manual_seed(0)
    lin = torch.nn.Linear(3, 2)
    conv = torch.nn.Conv2d(2, 2, 3)
    base = torch.randn(10, generator=g)
    dtypes = collections.OrderedDict()
    for dt in (torch.float32, torch.float16, torch.bfloat16, torch.float64, torch.int64, torch.int32,
               torch.int16, torch.int8, torch.uint8, torch.bool):
        dtypes[str(dt).split(".")[1]] = (torch.randn(2, 3, generator=g) * 3).to(dt)
    return {
        "linear": lin.state_dict(),
        "conv": conv.state_dict(),
        "dtypes": dtypes,
        "shapes": collections.OrderedDict(scalar=torch.tensor(2.5), empty=torch.zeros(0, 4),
                                          one=torch.ones(1, 1, 1, 1), row=torch.arange(5.0)),
        "shared": collections.OrderedDict(whole=base, tail=base[4:], middle=base[2:6].view(2, 2)),
        "params": lin.state_dict(keep_vars=True),
    }


def main():
    ap = argparse.ArgumentParser(description="Write tests/fuzz/corpus-torch/: torch.save outputs (zip and legacy "
                                 "formats) of small state dicts, the fuzz-torch seeds.")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus-torch"))
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    for name, sd in state_dicts().items():
        for fmt, kw in (("zip", {}), ("legacy", {"_use_new_zipfile_serialization": False}),
                        ("zip-p4", {"pickle_protocol": 4})):
            if fmt == "zip-p4" and name not in ("linear", "shared"):
                continue
            buf = io.BytesIO()
            torch.save(sd, buf, **kw)
            path = os.path.join(a.out, f"{name}-{fmt}.bin")
            with open(path, "wb") as f:
                f.write(buf.getvalue())
            back = torch.load(path, weights_only=fmt != "zip-p4")  # its unpickler lacks FRAME; the file is ours
            assert set(back) == set(sd), path
            print(f"{path}: {len(buf.getvalue())} bytes")


if __name__ == "__main__":
    main()
