"""seam_measure.py — the tile-periodic component of a likelihood map (issue 20), shared by
tests/model/test-likelihood-seams.py and tests/bench/bench-heatmap.py, bench-seam-period.py.

The tile-periodic component of a map M (bits/dim per pixel) at period p:
tiles on a grid of stride p leave seams along whole columns and rows, so
    c(x) = mean over rows of M(y, x)                         (the column profile; the row profile r(y) alike)
    R = c − box_p(c)            (length-p moving mean, valid part: smooth content goes, a period-p pattern stays)
    F(a) = mean of R(x) over x ≡ a (mod p)                  (the pattern folded onto one period)
    P(M, p) = √(½ (mean F² of the columns + mean F² of the rows))   (bits/dim)
and its prominence P(M, p) / median of P(M, q) over q = p − 6 … p + 6, q ≠ p:
about 1 for a map with no structure at that period (the profiles average the
per-pixel scatter of the map away, the seams stay).

A pattern of period d is also one of every multiple of d, so P(M, p) includes
the map's patterns at the divisors of p: divisor(M, p) names the strongest.  On
the photo below (a JPEG with 4:2:0 chroma, 16-pixel blocks: 4 pixels after the
4× reduction) every map has a 4-pixel pattern that follows the image (the block
edges score worse), so at a stride that is a multiple of 4 the measure sees it
(BENCHMARKS.md, "Likelihood heatmap of a layer", 2026-12-07 seventh session).
"""
import numpy as np

PHOTO = "extreme-desert-hike.jpg"  # budgie-backgrounds, CC0, held out from training (models/photo_data.py)
REDUCE = 4                          # box-filter reduction before cropping


def pattern(v, p):
    """F: the period-p pattern of a profile v after removing its length-p moving mean, folded onto
    one period; F[a] is the mean over the positions x ≡ a (mod p) of v's index."""
    c = np.cumsum(np.concatenate([[0.0], v]))
    r = v[p // 2:p // 2 + v.size - p + 1] - (c[p:] - c[:-p]) / p
    k = np.arange(p // 2, p // 2 + r.size) % p
    return np.bincount(k, r, p) / np.bincount(k, None, p)


def fold(v, p):
    """Mean square of the period-p pattern of a profile v (pattern())."""
    return float(np.mean(pattern(v, p) ** 2))


def periodic(m, p):
    """P(M, p): RMS of the period-p pattern of M's column and row profiles (bits/dim)."""
    return float(np.sqrt(0.5 * (fold(m.mean(0), p) + fold(m.mean(1), p))))


def prominence(m, p):
    """P(M, p) / median of P(M, q), q = p − 6 … p + 6, q ≠ p."""
    others = [periodic(m, q) for q in range(p - 6, p + 7) if q != p]
    return periodic(m, p) / float(np.median(others))


def divisor(m, p):
    """(d, P(M, d) / P(M, p)) for the proper divisor d ≥ 2 of p that explains most of P(M, p): the
    smallest whose ratio is within 10 % of the largest ratio (a period-4 pattern is one of period
    8 and 12 too), or (None, 0.0) for a prime p.  A ratio near 1: the component at p is a period-d
    pattern (the period-p fold holds it whole), not one of period p."""
    ds = [d for d in range(2, p // 2 + 1) if p % d == 0]
    if not ds:
        return None, 0.0
    r = {d: periodic(m, d) / max(periodic(m, p), 1e-300) for d in ds}
    top = max(r.values())
    d = next(d for d in ds if r[d] >= 0.9 * top)
    return d, r[d]


def without(m, d):
    """M less its period-d pattern: the pattern() of its column profile, per column x by x mod d, and
    of its row profile, per row; what is left at a multiple of d is not that pattern's."""
    x, y = np.arange(m.shape[1]), np.arange(m.shape[0])
    return m - pattern(m.mean(0), d)[x % d][None, :] - pattern(m.mean(1), d)[y % d][:, None]


def phase_follows(m0, m1, shift, p):
    """Whether the period-p pattern of map m1 — of the same image, cropped `shift` pixels further
    right and down than m0's — moved with the image: (correlation with m0's pattern moved by shift,
    correlation with m0's pattern where it was), columns and rows together.  A pattern of the image
    gives (≈ 1, anything); one fixed to the canvas (the network's grid, tiles) (anything, ≈ 1)."""
    a = np.concatenate([np.roll(pattern(m0.mean(ax), p), -shift) for ax in (0, 1)])
    b = np.concatenate([pattern(m1.mean(ax), p) for ax in (0, 1)])
    c = np.concatenate([pattern(m0.mean(ax), p) for ax in (0, 1)])
    return float(np.corrcoef(a, b)[0, 1]), float(np.corrcoef(c, b)[0, 1])
