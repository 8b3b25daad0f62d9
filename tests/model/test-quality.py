#!/usr/bin/env python3
"""test-quality.py — the Fréchet distance of models/quality.py on cases with
known answers (no trained network needed):

  * identical feature sets → 0;
  * diagonal Gaussians N(μa, diag a) vs N(μb, diag b) → ‖μa − μb‖² +
    Σ (√a − √b)², from 200 000 samples within a stated sampling tolerance;
  * a full covariance against its rotation: tr terms agree with the closed
    form computed independently with scipy-free eigen algebra in float64;
  * the random-feature extractor is deterministic (same seed, same features).
Exits non-zero on failure and prints 'N passed, N failed'.
"""
import argparse
import os
import sys

import torch

ap = argparse.ArgumentParser(description="Checks models/quality.py's Fréchet distance; writes nothing.")
ap.add_argument("--models", required=True)
a = ap.parse_args()
sys.path.insert(0, a.models)
import quality  # noqa: E402

passed = failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL", what)


g = torch.Generator().manual_seed(7)
x = torch.randn(5000, 6, generator=g, dtype=torch.float64)
check(abs(quality.frechet(x, x)) < 1e-9, f"identical sets: {quality.frechet(x, x)}")

n = 200000
va = torch.tensor([0.5, 1.0, 2.0, 4.0], dtype=torch.float64)
vb = torch.tensor([1.0, 1.0, 0.5, 3.0], dtype=torch.float64)
ma = torch.tensor([0.0, 1.0, -1.0, 0.5], dtype=torch.float64)
mb = torch.tensor([0.5, 1.0, 0.0, 0.5], dtype=torch.float64)
fa = ma + va.sqrt() * torch.randn(n, 4, generator=g, dtype=torch.float64)
fb = mb + vb.sqrt() * torch.randn(n, 4, generator=g, dtype=torch.float64)
want = float(((ma - mb) ** 2).sum() + ((va.sqrt() - vb.sqrt()) ** 2).sum())
got = quality.frechet(fa, fb)
check(abs(got - want) < 0.02, f"diagonal Gaussians: {got} vs {want}")

# Full covariances: Σa = A Aᵀ, Σb = R Σa Rᵀ (a rotation): the closed form of
# tr((Σa Σb)^½) from the eigenvalues of Σa^½ Σb Σa^½ computed here directly.
A = torch.randn(4, 4, generator=g, dtype=torch.float64)
ca = A @ A.T + 0.1 * torch.eye(4, dtype=torch.float64)
q, _ = torch.linalg.qr(torch.randn(4, 4, generator=g, dtype=torch.float64))
cb = q @ ca @ q.T
la = torch.linalg.cholesky(ca)
lb = torch.linalg.cholesky(cb)
fa = torch.randn(n, 4, generator=g, dtype=torch.float64) @ la.T
fb = torch.randn(n, 4, generator=g, dtype=torch.float64) @ lb.T
e, v = torch.linalg.eigh(ca)
s = v @ torch.diag(e.sqrt()) @ v.T
want = float(torch.trace(ca) + torch.trace(cb) - 2 * torch.linalg.eigvalsh(s @ cb @ s).sqrt().sum())
got = quality.frechet(fa, fb)
check(abs(got - want) < 0.05 * max(1.0, want), f"full covariances: {got} vs {want}")

imgs = torch.rand(8, 3, 32, 32, generator=g) * 2 - 1
f1 = quality.feats(quality.RandomFeatures(3), imgs)
f2 = quality.feats(quality.RandomFeatures(3), imgs)
check(torch.equal(f1, f2) and f1.shape == (8, 2 * (32 + 64 + 128)), "random features deterministic")

print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
