#!/usr/bin/env python3
"""gaussian_stats.py — compute the gaussian/ folder of a model (models/GAUSSIAN.md).

MATH.md "Gaussian skip": learned scores follow the Gaussian closed form at
high noise, so a sampler can jump from σ_max to σ_skip in closed form.  This
tool estimates, on the model's data scale ([-1, 1] images), from the
model's training data:

  mean                          μ [C, H, W], the per-pixel data mean
  pca_eigenvalues/_components   the top-r eigenpairs of the d×d covariance Σ
                                (float64 arithmetic; d = C·H·W, rows u_k)
  residual_variance (json)      λ_res = (tr Σ − Σ_k λ_k)/(d − r)
  spectral_mean                 m_c [C], the per-channel (stationary) mean
  spectral_covariance           S[ky, kx, a, b] = E[X̂_a(k) conj(X̂_b(k))],
                                [H, W, C, C, 2], X̂ the unitary 2-D FFT of x − m
and calibrates the skip point: on held-out images x0 and EDM noise levels
σ̃_t = √((1 − ᾱ_t)/ᾱ_t) at integer timesteps spread log-uniformly, x̃ = x0 +
σ̃ε, the network's x̂0 = D_θ (it sees α_t x̃ at timestep t) against the
Gaussian denoiser D_G(x̃) = μ + Σ(Σ + σ̃²I)⁻¹(x̃ − μ) of each mode, with

    err(σ̃) = √(E‖D_θ − D_G‖² / E‖x̃ − D_θ‖²),

the relative error of the noise estimate ε̂ = (x̃ − x̂0)/σ̃, i.e. of the
PF-ODE velocity (x̃ − D)/σ̃ the skip replaces.  sigma_skip of a mode is the
smallest grid σ̃ with err ≤ --tol there and at every larger grid σ̃ (the
schedule's σ̃_max when even that fails, so nothing is skipped); `mode` is
the mode with the smaller sigma_skip.  GAUSSIAN.md's denoiser metric
√(E‖D_θ − D_G‖² / E‖D_θ − μ‖²) is recorded too (curve_denoiser_metric) but
not used: for an ε-network x̂0 = (x_t − σ_t ε̂)/α_t carries σ̃ times the error
of ε̂, so at high noise D_θ − μ is mostly that error and the ratio stays near
1 (measured ≈ 1.0 at σ̃ = 157 on the Fashion-MNIST model) however Gaussian
the score is.

Writes MODEL/gaussian/config.json and MODEL/gaussian/statistics.safetensors
through models/dfx_gaussian.py (the format's writer; the measured curve, the
tolerance and the timesteps are in config.json).  Refuses a model folder
without unet/ or scheduler/ and data that does not fit the U-Net.
"""

import argparse
import json
import math
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dfx_data  # noqa: E402
import dfx_gaussian  # noqa: E402
import dfx_sched  # noqa: E402
import dfx_unet  # noqa: E402
from train_fisher import ModelError, check_model_folder  # noqa: E402


def data_stats(x, rank, chunk=4096):
    """Mean, top-rank eigenpairs, residual variance and stationary spectrum of x [N, C, H, W].

    Returns a dict of float64 tensors: mean [C,H,W], eigvals [r], eigvecs [r, d],
    residual_variance [], total_variance [], spectral_mean [C] and spectrum
    [H, W, C, C] complex128 (about the per-channel mean, GAUSSIAN.md).
    """
    n, c, h, w = x.shape
    d = c * h * w
    if n < 2:
        raise dfx_data.DataError(f"{n} image(s): need at least 2 for a covariance")
    mean = torch.zeros(c, h, w, dtype=torch.float64)
    for i in range(0, n, chunk):
        mean += x[i:i + chunk].double().sum(0)
    mean /= n
    cov = torch.zeros(d, d, dtype=torch.float64)
    spec = torch.zeros(h, w, c, c, dtype=torch.complex128)
    for i in range(0, n, chunk):
        xc = x[i:i + chunk].double() - mean
        f = xc.reshape(xc.shape[0], d)
        cov += f.T @ f
        xf = torch.fft.fft2(xc, norm="ortho")
        spec += torch.einsum("nchw,ndhw->hwcd", xf, xf.conj())
    cov /= n - 1
    spec /= n - 1
    mch = mean.mean((1, 2))
    # GAUSSIAN.md takes the spectrum about the per-channel mean m_c: x − m = (x − μ) + (μ − m)
    # and the cross terms average to zero, so add the spectrum of the mean image μ − m.
    mf = torch.fft.fft2((mean - mch[:, None, None]).to(torch.complex128), norm="ortho")
    spec += torch.einsum("chw,dhw->hwcd", mf, mf.conj())
    evals, evecs = torch.linalg.eigh(cov)
    evals, evecs = evals.flip(0).clamp(min=0), evecs.flip(1)
    r = min(rank, d)
    total = torch.trace(cov)
    resid = (total - evals[:r].sum()) / (d - r) if r < d else torch.tensor(0.0, dtype=torch.float64)
    return {"mean": mean, "eigvals": evals[:r].clone(), "eigvecs": evecs[:, :r].T.contiguous(),
            "residual_variance": resid.clamp(min=0), "total_variance": total, "spectrum": spec,
            "spectral_mean": mch}


def pca_cov(st):
    """The d×d covariance the PCA form stands for: U diag(λ) Uᵀ + ρ (I − U Uᵀ)."""
    u, lam, rho = st["eigvecs"], st["eigvals"], st["residual_variance"]
    d = u.shape[1]
    return (u.T * lam) @ u + rho * (torch.eye(d, dtype=u.dtype) - u.T @ u)


def spectral_apply(spec, v):
    """Apply Fᴴ blockdiag(S) F to v [..., C, H, W] (S [H, W, C, C])."""
    vf = torch.fft.fft2(v.to(torch.complex128), norm="ortho")
    wf = torch.einsum("hwcd,...dhw->...chw", spec, vf)
    return torch.fft.ifft2(wf, norm="ortho").real


def spectral_cov(spec):
    """The d×d covariance of the spectral form."""
    h, w, c, _ = spec.shape
    d = c * h * w
    eye = torch.eye(d, dtype=torch.float64).reshape(d, c, h, w)
    return spectral_apply(spec, eye).reshape(d, d).T.contiguous()


def gauss_denoise_pca(st, xe, sig):
    """D_G(x̃; σ̃) = μ + Σ(Σ + σ̃²I)⁻¹(x̃ − μ), Σ in the PCA form with the residual λ_res."""
    mu, u, lam, rho = st["mean"], st["eigvecs"], st["eigvals"], st["residual_variance"]
    n = xe.shape[0]
    y = (xe.double() - mu).reshape(n, -1)
    c_res = rho / (rho + sig * sig)
    proj = y @ u.T  # [n, r]
    out = c_res * y + (proj * (lam / (lam + sig * sig) - c_res)) @ u
    return mu + out.reshape(xe.shape)


def gauss_denoise_spectral(st, xe, sig):
    """D_G in the spectral form: m + Fᴴ S(S + σ̃²I)⁻¹ F (x̃ − m), per frequency bin."""
    m, spec = st["spectral_mean"][:, None, None], st["spectrum"]
    c = spec.shape[-1]
    eye = torch.eye(c, dtype=spec.dtype)
    # gain = S (S + σ̃² I)⁻¹ (they commute), as the solve (S + σ̃² I)ᵀ gainᵀ = Sᵀ
    gain = torch.linalg.solve((spec + sig * sig * eye).transpose(-1, -2),
                              spec.transpose(-1, -2)).transpose(-1, -2)
    return m + spectral_apply(gain, xe.double() - m)


def net_denoiser(unet, prediction_type):
    """x̂0 of the network at EDM input x̃ and timestep t (it sees α x̃)."""
    def f(xe, t, alpha, sigma):
        xt = alpha * xe.double()
        with torch.no_grad():
            out = unet(xt.float(), torch.full((xe.shape[0],), int(t))).double()
        if out.shape[1] == 2 * xe.shape[1]:
            out = out[:, :xe.shape[1]]  # learned-variance models: the first C channels
        if prediction_type == "epsilon":
            return (xt - sigma * out) / alpha
        if prediction_type == "v_prediction":
            return alpha * xt - sigma * out
        return out
    return f


def sigma_grid(ac, k):
    """Up to k integer timesteps with σ̃_t spread log-uniformly; descending σ̃."""
    st = ((1 - ac) / ac).sqrt().double()
    targets = torch.logspace(math.log10(st[0].item()), math.log10(st[-1].item()), k,
                             dtype=torch.float64)
    ts = sorted({int(torch.argmin((st.log() - math.log(v)).abs())) for v in targets.tolist()},
                reverse=True)
    return ts, [st[t].item() for t in ts]


def skip_point(sig, err, tol):
    """Smallest σ̃ of the descending grid sig with err <= tol there and at every larger σ̃;
    None when the largest already fails."""
    best = None
    for sv, e in zip(sig, err):
        if not e <= tol:
            break
        best = sv
    return best


def calibrate(denoise, st, x0, ac, k, tol, seed=0, batch=128):
    """Both error curves of both Gaussian denoisers against denoise(x̃, t, α, σ) on held-out x0.

    err_*: the noise-estimate metric √(E‖D_θ − D_G‖² / E‖x̃ − D_θ‖²) (= relative error of
    ε̂ = (x̃ − x̂0)/σ̃), which decides the skip point; den_*: GAUSSIAN.md's denoiser metric
    √(E‖D_θ − D_G‖² / E‖D_θ − μ‖²), recorded for reference.
    """
    g = torch.Generator().manual_seed(seed)
    ts, sig = sigma_grid(ac, k)
    out = {"timesteps": ts, "sigma": sig, "err_pca": [], "err_spectral": [], "den_pca": [],
           "den_spectral": []}
    mu_s = st["spectral_mean"][:, None, None]
    for t, sv in zip(ts, sig):
        a, s = ac[t].double().sqrt().item(), (1 - ac[t].double()).sqrt().item()
        num_p = num_s = eps_den = den_p = den_s = 0.0
        for i in range(0, x0.shape[0], batch):
            xb = x0[i:i + batch].double()
            xe = xb + sv * torch.randn(xb.shape, generator=g, dtype=torch.float64)
            dn = denoise(xe, t, a, s)
            num_p += (dn - gauss_denoise_pca(st, xe, sv)).pow(2).sum().item()
            num_s += (dn - gauss_denoise_spectral(st, xe, sv)).pow(2).sum().item()
            eps_den += (xe - dn).pow(2).sum().item()
            den_p += (dn - st["mean"]).pow(2).sum().item()
            den_s += (dn - mu_s).pow(2).sum().item()
        out["err_pca"].append(math.sqrt(num_p / max(eps_den, 1e-300)))
        out["err_spectral"].append(math.sqrt(num_s / max(eps_den, 1e-300)))
        out["den_pca"].append(math.sqrt(num_p / max(den_p, 1e-300)))
        out["den_spectral"].append(math.sqrt(num_s / max(den_s, 1e-300)))
    out["skip_pca"] = skip_point(sig, out["err_pca"], tol)
    out["skip_spectral"] = skip_point(sig, out["err_spectral"], tol)
    return out


def main():
    ap = argparse.ArgumentParser(
        description="Compute MODEL/gaussian/ (models/GAUSSIAN.md): data mean, PCA eigenpairs "
        "(rank r + residual variance), stationary spectrum, and the calibrated Gaussian skip "
        "point. Writes MODEL/gaussian/config.json and MODEL/gaussian/statistics.safetensors.")
    ap.add_argument("--model", required=True, help="model folder with unet/ and scheduler/")
    ap.add_argument("--data", default="fashion-mnist",
                    help="the model's data: fashion-mnist, an image folder or a .safetensors file")
    ap.add_argument("--channels", type=int, help="channels for a folder (default: the model's)")
    ap.add_argument("--holdout", type=float, default=0.05,
                    help="held-out fraction of a folder/file (fashion-mnist: its test split)")
    ap.add_argument("--rank", type=int, default=64, help="PCA rank r")
    ap.add_argument("--max-images", type=int, default=0,
                    help="use at most this many training images (0: all)")
    ap.add_argument("--tol", type=float, default=0.1,
                    help="skip tolerance: relative RMS difference of the denoisers")
    ap.add_argument("--n-holdout", type=int, default=256, help="held-out images for calibration")
    ap.add_argument("--n-sigma", type=int, default=24, help="noise levels in the calibration grid")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1,
                    help="torch CPU threads (default 1: on a loaded 2-core machine 2 OpenMP "
                    "threads measured up to 30x slower)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    t_start = time.time()
    try:
        check_model_folder(a.model, ("unet", "scheduler"))
        scfg = dfx_sched.load(a.model)
        unet = dfx_unet.load(a.model)
        ch = unet.config["in_channels"]
        x = dfx_data.load(a.data, "train", a.channels or ch, None, a.holdout)
        if x.shape[1] != ch:
            raise dfx_data.DataError(f"{a.data}: {x.shape[1]} channels, the model has {ch}")
        if x.shape[-1] % unet.downscale() or x.shape[-2] % unet.downscale():
            raise dfx_data.DataError(f"{a.data}: {x.shape[-1]}x{x.shape[-2]} is not divisible "
                                     f"by {unet.downscale()}")
        if a.max_images and x.shape[0] > a.max_images:
            x = x[torch.randperm(x.shape[0], generator=torch.Generator().manual_seed(a.seed))
                  [:a.max_images]]
        held = dfx_data.load(a.data, "test", a.channels or ch, None, a.holdout)[:a.n_holdout]
    except (ModelError, dfx_data.DataError, dfx_unet.ConfigError, dfx_sched.SchedulerConfigError,
            ValueError, OSError) as e:
        print(f"gaussian_stats: {e}", file=sys.stderr)
        return 1
    n, c, h, w = x.shape
    print(f"gaussian_stats: {n} images {c}x{h}x{w}, rank {a.rank}", flush=True)
    st = data_stats(x, a.rank)
    r = st["eigvals"].shape[0]
    explained = (st["eigvals"].sum() / st["total_variance"]).item()
    print(f"gaussian_stats: total variance {st['total_variance'].item():.4f}, top-{r} explain "
          f"{100 * explained:.1f} %, residual {st['residual_variance'].item():.3e}", flush=True)

    ac = dfx_sched.alphas_cumprod(scfg).double()
    cal = calibrate(net_denoiser(unet, scfg["prediction_type"]), st, held, ac, a.n_sigma, a.tol,
                    a.seed)
    for t, sv, ep, es, dp, ds in zip(cal["timesteps"], cal["sigma"], cal["err_pca"],
                                     cal["err_spectral"], cal["den_pca"], cal["den_spectral"]):
        print(f"  t {t:4d} sigma {sv:9.4f}  eps-metric pca {ep:.4f} spectral {es:.4f}  "
              f"denoiser-metric pca {dp:.4f} spectral {ds:.4f}", flush=True)
    s_max = cal["sigma"][0]
    sp = cal["skip_pca"] if cal["skip_pca"] is not None else s_max
    ss = cal["skip_spectral"] if cal["skip_spectral"] is not None else s_max
    mode = "pca" if sp <= ss else "spectral"
    print(f"gaussian_stats: sigma_skip pca {sp:.4f}, spectral {ss:.4f}, mode {mode}, "
          f"tolerance {a.tol}", flush=True)
    cfg = {
        "channels": c, "height": h, "width": w, "pca_rank": r,
        "residual_variance": float(st["residual_variance"]), "mode": mode,
        "sigma_skip": sp if mode == "pca" else ss, "sigma_skip_pca": sp, "sigma_skip_spectral": ss,
        "tolerance": a.tol, "num_images": n,
        "curve": {"sigma": cal["sigma"], "pca": cal["err_pca"], "spectral": cal["err_spectral"]},
        # informational, beyond GAUSSIAN.md's table (unknown fields are ignored)
        "calibration_metric": "relative RMS of the noise estimate eps = (x~ - x0_hat)/sigma: "
                              "sqrt(E|D_net - D_G|^2 / E|x~ - D_net|^2)",
        "curve_denoiser_metric": {"sigma": cal["sigma"], "pca": cal["den_pca"],
                                  "spectral": cal["den_spectral"],
                                  "metric": "sqrt(E|D_net - D_G|^2 / E|D_net - mu|^2)"},
        "curve_timesteps": cal["timesteps"],
        "calibration": {"held_out_images": int(held.shape[0]), "seed": a.seed,
                        "within_tolerance_at_sigma_max": {"pca": cal["skip_pca"] is not None,
                                                          "spectral": cal["skip_spectral"] is not None}},
        "total_variance": float(st["total_variance"]), "explained_fraction": explained,
        "data": a.data, "made_by": "models/gaussian_stats.py",
        "seconds": round(time.time() - t_start, 1),
    }
    dfx_gaussian.save(a.model, cfg, mean=st["mean"], eigenvalues=st["eigvals"],
                      components=st["eigvecs"], spectral_mean=st["spectral_mean"],
                      spectral_covariance=st["spectrum"])
    print(f"gaussian_stats: wrote {os.path.join(a.model, dfx_gaussian.GAUSS_DIR)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
