#!/usr/bin/env python3
"""dfx_gaussian.py — the gaussian/ folder of a model (models/GAUSSIAN.md):
read, write and check it, and the float64 reference closed forms of the
Gaussian skip (PCA with the isotropic residual; spectral, per frequency bin).

dfx's C side (compute/sample/) implements the same formulas; this module is
their independent reference (numpy-style torch, complex eigh per bin, FFTs
of torch.fft) and the format's one writer, for models/gaussian_stats.py and
the tests.  It does not estimate statistics from data or calibrate.

As a script:
  dfx_gaussian.py check MODEL_DIR            prints a summary of MODEL_DIR/gaussian, exit 1 if invalid
  dfx_gaussian.py synthetic MODEL_DIR [--seed S] [--rank R] [--sigma-skip S] [--mode pca|spectral]
                                             writes random but valid statistics (tests only: they
                                             describe no data) for the U-Net config's channels/size
"""

import argparse
import json
import math
import os
import sys

import torch

GAUSS_DIR = "gaussian"
CONFIG_NAME = "config.json"
STATS_NAME = "statistics.safetensors"


class GaussianFormatError(ValueError):
    """A gaussian/ folder that does not follow models/GAUSSIAN.md (message names the field)."""


def save(model_dir, config, mean=None, eigenvalues=None, components=None, spectral_mean=None,
         spectral_covariance=None):
    """Writes MODEL_DIR/gaussian/{config.json, statistics.safetensors}.

    config: dict with at least channels, height, width (other fields as in
    GAUSSIAN.md).  Tensors (torch or numpy, any float dtype, stored float32):
    mean [C,H,W], eigenvalues [r], components [r, C*H*W], spectral_mean [C],
    spectral_covariance [H,W,C,C,2] or complex [H,W,C,C].  Validates first.
    """
    from safetensors.torch import save_file

    t = {}
    if components is not None:
        t["mean"] = torch.as_tensor(mean).to(torch.float32).contiguous()
        t["pca_eigenvalues"] = torch.as_tensor(eigenvalues).to(torch.float32).contiguous()
        t["pca_components"] = torch.as_tensor(components).to(torch.float32).contiguous()
    if spectral_covariance is not None:
        s = torch.as_tensor(spectral_covariance)
        if s.is_complex():
            s = torch.view_as_real(s)
        t["spectral_mean"] = torch.as_tensor(spectral_mean).to(torch.float32).contiguous()
        t["spectral_covariance"] = s.to(torch.float32).contiguous()
    cfg = {"_class_name": "DfxGaussianStatistics", "format_version": 1, **config}
    if "pca_components" in t:
        cfg.setdefault("pca_rank", int(t["pca_components"].shape[0]))
    validate(cfg, t)
    d = os.path.join(model_dir, GAUSS_DIR)
    os.makedirs(d, exist_ok=True)
    save_file(t, os.path.join(d, STATS_NAME))
    with open(os.path.join(d, CONFIG_NAME), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")


def validate(cfg, t):
    """Raises GaussianFormatError unless cfg and tensors t follow GAUSSIAN.md."""
    if cfg.get("format_version") != 1:
        raise GaussianFormatError("format_version: must be 1")
    for k in ("channels", "height", "width"):
        if not isinstance(cfg.get(k), int) or cfg[k] < 1:
            raise GaussianFormatError(f"{k}: a positive integer is required")
    c, h, w = cfg["channels"], cfg["height"], cfg["width"]
    if cfg.get("mode", "pca") not in ("pca", "spectral"):
        raise GaussianFormatError(f"mode: {cfg['mode']!r} is not 'pca' or 'spectral'")
    for k in ("residual_variance", "sigma_skip", "sigma_skip_pca", "sigma_skip_spectral", "tolerance"):
        if k in cfg and not (isinstance(cfg[k], (int, float)) and cfg[k] >= 0 and math.isfinite(cfg[k])):
            raise GaussianFormatError(f"{k}: a finite number >= 0 is required")
    if "pca_components" not in t and "spectral_covariance" not in t:
        raise GaussianFormatError("neither pca_components nor spectral_covariance is present")
    if "pca_components" in t:
        u, lam, mu = t["pca_components"].double(), t["pca_eigenvalues"].double(), t["mean"]
        r = u.shape[0]
        if tuple(mu.shape) != (c, h, w) or tuple(u.shape) != (r, c * h * w) or tuple(lam.shape) != (r,):
            raise GaussianFormatError(f"PCA shapes: mean {tuple(mu.shape)}, eigenvalues {tuple(lam.shape)}, "
                                      f"components {tuple(u.shape)} for C,H,W = {c},{h},{w}")
        if cfg.get("pca_rank", r) != r:
            raise GaussianFormatError(f"pca_rank: {cfg['pca_rank']} but pca_components has {r} rows")
        if (lam < 0).any() or (lam[1:] > lam[:-1] * (1 + 1e-5) + 1e-12).any():
            raise GaussianFormatError("pca_eigenvalues: must be >= 0 and descending")
        err = (u @ u.T - torch.eye(r, dtype=u.dtype)).abs().max().item() if r else 0.0
        if err > 1e-4:
            raise GaussianFormatError(f"pca_components: rows are not orthonormal (max |UUt - I| = {err:.3g})")
    if "spectral_covariance" in t:
        s, m = t["spectral_covariance"], t["spectral_mean"]
        if tuple(s.shape) != (h, w, c, c, 2) or tuple(m.shape) != (c,):
            raise GaussianFormatError(f"spectral shapes: covariance {tuple(s.shape)} (want {(h, w, c, c, 2)}), "
                                      f"mean {tuple(m.shape)}")
        z = torch.view_as_complex(s.double().contiguous())
        herm = (z - z.conj().transpose(-1, -2)).abs().max().item()
        scale = z.abs().max().item() + 1e-30
        if herm > 1e-4 * scale:
            raise GaussianFormatError(f"spectral_covariance: not Hermitian per bin ({herm:.3g})")
        lmin = torch.linalg.eigvalsh(0.5 * (z + z.conj().transpose(-1, -2))).min().item()
        if lmin < -1e-4 * scale:
            raise GaussianFormatError(f"spectral_covariance: not positive semi-definite (eigenvalue {lmin:.3g})")


def load(model_dir, dtype=torch.float64):
    """(config dict, tensors dict) of MODEL_DIR/gaussian, validated; tensors in dtype."""
    from safetensors.torch import load_file

    d = os.path.join(model_dir, GAUSS_DIR)
    with open(os.path.join(d, CONFIG_NAME)) as f:
        cfg = json.load(f)
    t = {k: v.to(dtype) for k, v in load_file(os.path.join(d, STATS_NAME)).items()}
    validate(cfg, t)
    return cfg, t


def factor(lam, s_from, s_to):
    """√((λ + σ_to²)/(λ + σ_from²)), the closed form's factor of one eigen-direction."""
    return torch.sqrt((lam + s_to ** 2) / (lam + s_from ** 2))


def flow_pca(cfg, t, x, s_from, s_to):
    """PF-ODE solution at σ_to from x [N,C,H,W] at σ_from under the PCA Gaussian (EDM form)."""
    n = x.shape[0]
    mu = t["mean"].to(x.dtype)
    y = (x - mu).reshape(n, -1)
    u, lam = t["pca_components"].to(x.dtype), t["pca_eigenvalues"].to(x.dtype)
    res = torch.tensor(float(cfg.get("residual_variance", 0.0)), dtype=x.dtype)
    c_res = factor(res, s_from, s_to)
    out = c_res * y + ((y @ u.T) * (factor(lam, s_from, s_to) - c_res)) @ u
    return out.reshape(x.shape) + mu


def _src_pos(n, n_src):
    k = torch.arange(n, dtype=torch.int64)
    ks = torch.where(k <= n // 2, k, k - n)
    p = (ks * n_src).double() / n
    return torch.remainder(p, n_src)


def spectrum_on(cfg, t, h, w):
    """The per-bin channel covariance resampled to an h × w canvas (complex [h,w,C,C])."""
    s = torch.view_as_complex(t["spectral_covariance"].double().contiguous())
    hs, ws = s.shape[0], s.shape[1]
    py, px = _src_pos(h, hs), _src_pos(w, ws)
    y0, x0 = py.floor().long(), px.floor().long()
    ty, tx = (py - y0)[:, None, None, None], (px - x0)[None, :, None, None]
    y1, x1 = (y0 + 1) % hs, (x0 + 1) % ws
    g = lambda yy, xx: s[yy][:, xx]  # noqa: E731
    return (1 - ty) * ((1 - tx) * g(y0, x0) + tx * g(y0, x1)) + ty * ((1 - tx) * g(y1, x0) + tx * g(y1, x1))


def flow_spectral(cfg, t, x, s_from, s_to):
    """PF-ODE solution at σ_to from x [N,C,h,w] at σ_from under the stationary Gaussian (any h, w)."""
    h, w = x.shape[-2], x.shape[-1]
    s = spectrum_on(cfg, t, h, w)
    s = 0.5 * (s + s.conj().transpose(-1, -2))
    lam, v = torch.linalg.eigh(s)
    f = factor(lam.clamp(min=0), s_from, s_to).to(v.dtype)
    a = (v * f[..., None, :]) @ v.conj().transpose(-1, -2)  # [h,w,C,C]
    m = t["spectral_mean"].to(x.dtype)[None, :, None, None]
    z = torch.fft.fft2((x - m).to(torch.complex128), norm="ortho")
    z = torch.einsum("hwab,nbhw->nahw", a, z)
    return torch.fft.ifft2(z, norm="ortho").real.to(x.dtype) + m


def synthetic(c, h, w, seed=0, rank=8, sigma_skip=5.0, mode="pca"):
    """Random but valid statistics (config, tensors) for tests; they describe no data set."""
    g = torch.Generator().manual_seed(seed)
    d = c * h * w
    rank = min(rank, d)
    q, _ = torch.linalg.qr(torch.randn(d, rank, generator=g, dtype=torch.float64))
    lam = torch.linspace(2.0, 0.1, rank, dtype=torch.float64)
    mean = 0.2 * torch.randn(c, h, w, generator=g, dtype=torch.float64)
    taps = torch.randn(3, 3, c, c, generator=g, dtype=torch.float64) / 3
    ky = torch.arange(h, dtype=torch.float64)[:, None, None, None]
    kx = torch.arange(w, dtype=torch.float64)[None, :, None, None]
    gk = torch.zeros(h, w, c, c, dtype=torch.complex128)
    for dy in range(3):
        for dx in range(3):
            ph = -2 * math.pi * (ky * (dy - 1) / h + kx * (dx - 1) / w)
            gk = gk + taps[dy, dx] * torch.exp(1j * ph)
    spec = gk @ gk.conj().transpose(-1, -2) + 0.01 * torch.eye(c, dtype=torch.complex128)
    cfg = dict(channels=c, height=h, width=w, residual_variance=0.02, mode=mode, sigma_skip=sigma_skip,
               tolerance=0.0, num_images=0)
    t = dict(mean=mean, eigenvalues=lam, components=q.T.contiguous(),
             spectral_mean=0.1 * torch.randn(c, generator=g, dtype=torch.float64), spectral_covariance=spec)
    return cfg, t


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check", help="validate MODEL_DIR/gaussian and print a summary")
    c.add_argument("model")
    s = sub.add_parser("synthetic", help="write random valid statistics into MODEL_DIR/gaussian (tests)")
    s.add_argument("model")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--rank", type=int, default=8)
    s.add_argument("--sigma-skip", type=float, default=5.0)
    s.add_argument("--mode", choices=("pca", "spectral"), default="pca")
    a = ap.parse_args()
    try:
        if a.cmd == "check":
            cfg, t = load(a.model)
            parts = [p for p, k in (("pca", "pca_components"), ("spectral", "spectral_covariance")) if k in t]
            print(f"{a.model}/gaussian: {cfg['channels']}x{cfg['height']}x{cfg['width']}, parts {', '.join(parts)}, "
                  f"rank {cfg.get('pca_rank', 0)}, mode {cfg.get('mode', 'pca')}, "
                  f"sigma_skip {cfg.get('sigma_skip', 0)}")
        else:
            with open(os.path.join(a.model, "unet", "config.json")) as f:
                u = json.load(f)
            ss = u.get("sample_size") or 32
            h, w = (ss, ss) if isinstance(ss, int) else tuple(ss)
            cfg, t = synthetic(u.get("in_channels", 3), h, w, a.seed, a.rank, a.sigma_skip, a.mode)
            save(a.model, cfg, **t)
            print(f"dfx_gaussian: wrote synthetic statistics to {a.model}/gaussian")
    except (OSError, ValueError, KeyError) as e:
        print(f"dfx_gaussian: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
