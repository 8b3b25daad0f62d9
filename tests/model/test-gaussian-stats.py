#!/usr/bin/env python3
"""test-gaussian-stats.py — models/gaussian_stats.py on synthetic data with known answers.

Asserts:
  1. known covariance: 40000 samples of N(μ, Σ), d = 2×4×4, Σ = A Aᵀ + 0.01 I
     (A 32×6 fixed): the mean within 0.02 (max abs), the full-rank PCA form
     U diag(λ) Uᵀ reproduces Σ within 3 % (relative Frobenius), the top-6
     eigenvalues within 5 % each, and at rank 6 the residual variance ρ is
     0.01 within 10 % (the isotropic rest of Σ).
  2. stationary data (circular convolution of white noise with a fixed 3×3
     kernel per channel pair, d = 2×8×8): the spectral covariance Fᴴ
     blockdiag(S) F and the full-rank PCA covariance agree within 5 %
     (relative Frobenius; the sampling error of a d = 128 covariance from
     60000 samples is about sqrt(d/N) ≈ 4.6 %), the PCA form matches the exact
     circulant Σ within 5 % and the spectral form (which averages over
     translations) within 2 %, S(k) is Hermitian, and the PCA-form and
     spectral-form Gaussian denoisers agree (RMS difference ≤ 0.05 × RMS of
     the denoised signal about μ) at σ̃ = 0.1, 1, 10.
  3. calibration logic: with a stand-in "network" equal to the exact
     Gaussian denoiser for σ̃ > 1 and the identity (x_t/α) below, the skip
     point is the smallest grid σ̃ above 1; with a tolerance of 0 nothing
     passes and the skip point is None.
  4. the script end to end on a tiny random model folder and a .safetensors
     data file: exit 0, gaussian/config.json and statistics.safetensors that
     models/dfx_gaussian.py loads and validates (models/GAUSSIAN.md), with the
     documented tensors and shapes, the curve as long as the grid; a folder
     without unet/ is refused (exit 1, naming it).

usage: test-gaussian-stats.py [--models DIR]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

failures = []


def check(cond, what):
    print(("ok:   " if cond else "FAIL: ") + what, flush=True)
    if not cond:
        failures.append(what)
    return cond


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description="Check models/gaussian_stats.py on synthetic data. "
                                 "Writes only into a temporary folder (removed).")
    ap.add_argument("--models", default=os.path.normpath(os.path.join(here, "..", "..", "models")))
    a = ap.parse_args()
    sys.path.insert(0, a.models)
    import torch
    from safetensors.torch import load_file, save_file
    import dfx_sched
    import dfx_unet
    import gaussian_stats as gs
    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(3)

    def relf(x, y):
        return (torch.linalg.norm(x - y) / torch.linalg.norm(y)).item()

    # 1. a known (non-stationary) covariance
    shape = (2, 4, 4)
    d = 32
    A = torch.randn(d, 6, generator=g, dtype=torch.float64) * 0.3
    sigma = A @ A.T + 0.01 * torch.eye(d, dtype=torch.float64)
    mu = torch.linspace(-0.5, 0.5, d, dtype=torch.float64).reshape(shape)
    L = torch.linalg.cholesky(sigma)
    x = (mu.reshape(1, d) + torch.randn(40000, d, generator=g, dtype=torch.float64) @ L.T)
    x = x.reshape(-1, *shape).float()
    st = gs.data_stats(x, d)
    check((st["mean"] - mu).abs().max().item() <= 0.02, "known Σ: mean within 0.02")
    e = relf(gs.pca_cov(st), sigma)
    check(e <= 0.03, f"known Σ: full-rank PCA form reproduces Σ, rel. Frobenius {e:.4f} <= 0.03")
    true_ev = torch.linalg.eigvalsh(sigma).flip(0)
    ev_err = ((st["eigvals"][:6] - true_ev[:6]).abs() / true_ev[:6]).max().item()
    check(ev_err <= 0.05, f"known Σ: top-6 eigenvalues within {ev_err:.4f} <= 0.05")
    st6 = gs.data_stats(x, 6)
    rho = st6["residual_variance"].item()
    check(abs(rho - 0.01) <= 0.001, f"known Σ: rank-6 residual variance {rho:.5f} = 0.01 ± 10 %")
    u = st6["eigvecs"]
    check(torch.allclose(u @ u.T, torch.eye(6, dtype=u.dtype), atol=1e-8), "eigvecs orthonormal")

    # 2. stationary (circulant) data
    c, h, w = 2, 8, 8
    k = torch.randn(c, c, 3, 3, generator=g, dtype=torch.float64) * 0.3
    z = torch.randn(60000, c, h, w, generator=g, dtype=torch.float64)
    zp = torch.cat([z[..., -1:, :], z, z[..., :1, :]], dim=-2)
    zp = torch.cat([zp[..., -1:], zp, zp[..., :1]], dim=-1)
    xs = torch.nn.functional.conv2d(zp, k) + 0.2  # circular convolution, constant mean
    dd = c * h * w
    # exact covariance: apply the linear map to the basis
    eye = torch.eye(dd, dtype=torch.float64).reshape(dd, c, h, w)
    ep = torch.cat([eye[..., -1:, :], eye, eye[..., :1, :]], dim=-2)
    ep = torch.cat([ep[..., -1:], ep, ep[..., :1]], dim=-1)
    M = torch.nn.functional.conv2d(ep, k).reshape(dd, dd).T  # column j = map(e_j)
    sig_true = M @ M.T
    st = gs.data_stats(xs.float(), dd)
    spec = st["spectrum"]
    herm = (spec - spec.conj().transpose(-1, -2)).abs().max().item()
    check(herm <= 1e-9, f"stationary: S(k) is Hermitian (max asymmetry {herm:.1e})")
    cs, cp = gs.spectral_cov(spec), gs.pca_cov(st)
    e1, e2, e3 = relf(cs, cp), relf(cs, sig_true), relf(cp, sig_true)
    check(e1 <= 0.05, f"stationary: spectral and PCA covariances agree, rel. Frobenius {e1:.4f} <= 0.05")
    check(e2 <= 0.02, f"stationary: spectral covariance vs exact Σ {e2:.4f} <= 0.02")
    check(e3 <= 0.05, f"stationary: PCA covariance vs exact Σ {e3:.4f} <= 0.05")
    for sv in (0.1, 1.0, 10.0):
        x0 = xs[:256]
        xe = x0 + sv * torch.randn(x0.shape, generator=g, dtype=torch.float64)
        dp = gs.gauss_denoise_pca(st, xe, sv)
        ds = gs.gauss_denoise_spectral(st, xe, sv)
        rd = ((dp - ds).pow(2).mean().sqrt() / (dp - st["mean"]).pow(2).mean().sqrt()).item()
        check(rd <= 0.05, f"stationary: PCA and spectral denoisers agree at σ̃={sv}: {rd:.4f} <= 0.05")

    # 3. calibration logic with a stand-in network
    sched = dfx_sched.resolve_config({})
    ac = dfx_sched.alphas_cumprod(sched).double()

    def fake(xe, t, al, s):
        if s / al > 1.0:
            return gs.gauss_denoise_pca(st, xe, s / al)
        return xe

    cal = gs.calibrate(fake, st, xs[:64].float(), ac, 16, 1e-6)
    above = [sv for sv in cal["sigma"] if sv > 1.0]
    want = min(above)
    got = cal["skip_pca"]
    check(got is not None and abs(got - want) < 1e-12,
          f"calibration: skip point {got} is the smallest grid σ̃ above 1 ({want:.4f})")
    check(all(e < 1e-6 for sv, e in zip(cal["sigma"], cal["err_pca"]) if sv > 1.0),
          "calibration: err is 0 where the stand-in is the Gaussian denoiser")
    cal0 = gs.calibrate(fake, st, xs[:16].float(), ac, 8, 0.0)
    check(cal0["skip_pca"] is None or cal0["err_pca"][0] == 0.0,
          "calibration: tolerance 0 gives no skip point unless the error is exactly 0")
    check(cal["sigma"] == sorted(cal["sigma"], reverse=True), "calibration grid is descending in σ̃")

    # 4. the script end to end
    with tempfile.TemporaryDirectory(prefix="dfx-gauss-") as tmp:
        model = os.path.join(tmp, "model")
        cfg = {"sample_size": 8, "in_channels": 2, "out_channels": 2, "block_out_channels": [16, 16],
               "layers_per_block": 1, "down_block_types": ["DownBlock2D"] * 2,
               "up_block_types": ["UpBlock2D"] * 2, "norm_num_groups": 8, "add_attention": False}
        data = os.path.join(tmp, "data.safetensors")
        save_file({"images": xs[:2000].float().contiguous()}, data)
        dfx_sched.save(sched, model)
        tool = [sys.executable, os.path.join(a.models, "gaussian_stats.py"), "--model", model, "--data", data,
                "--rank", "16", "--n-holdout", "32", "--n-sigma", "6", "--holdout", "0.1"]
        r = subprocess.run(tool, capture_output=True, text=True)
        check(r.returncode == 1 and "unet/config.json" in r.stderr,
              f"a folder without unet/ is refused naming it (rc {r.returncode}: {r.stderr.strip()[-100:]})")
        torch.manual_seed(0)
        dfx_unet.save(dfx_unet.UNet2DModel(cfg), model)
        r = subprocess.run(tool, capture_output=True, text=True)
        check(r.returncode == 0, f"gaussian_stats.py runs (rc {r.returncode}: {r.stderr.strip()[-300:]})")
        if r.returncode == 0:
            import dfx_gaussian
            gc, t = dfx_gaussian.load(model)  # validates the format (GAUSSIAN.md)
            check(tuple(t["mean"].shape) == (2, 8, 8) and tuple(t["pca_components"].shape) == (16, 128)
                  and tuple(t["pca_eigenvalues"].shape) == (16,)
                  and tuple(t["spectral_covariance"].shape) == (8, 8, 2, 2, 2)
                  and tuple(t["spectral_mean"].shape) == (2,),
                  "statistics.safetensors: mean [2,8,8], pca_components [16,128], pca_eigenvalues [16], "
                  "spectral_covariance [8,8,2,2,2], spectral_mean [2]; dfx_gaussian.load validates it")
            n_grid = len(gc["curve"]["sigma"])
            check(gc["pca_rank"] == 16 and gc["tolerance"] == 0.1 and n_grid >= 4
                  and len(gc["curve"]["pca"]) == len(gc["curve"]["spectral"]) == n_grid
                  and gc["num_images"] == 1800 and gc["mode"] in ("pca", "spectral")
                  and gc["sigma_skip"] > 0,
                  f"config.json: rank, tolerance, curve of {n_grid} points, 1800 training images, "
                  f"mode {gc['mode']}, sigma_skip {gc['sigma_skip']:.3f}")
            ms = t["spectral_mean"]
            check(torch.allclose(ms, xs[:1800].double().mean((0, 2, 3)), atol=1e-5),
                  "spectral_mean is the per-channel mean")
    print("FAILED: " + "; ".join(failures) if failures else "all gaussian checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
