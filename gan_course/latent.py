"""Walking in the latent space: interpolation between two codes and moves along directions.

Used by the latent explorer (``gan_course.explorer``) and lessons 00 and 05.

Why spherical interpolation: a code z ~ N(0, I) in d dimensions almost always has a norm close
to sqrt(d) (it lives near a sphere), while the straight line between two such codes passes
closer to the origin (the midpoint of two independent codes has norm about sqrt(d / 2)). The
generator rarely saw codes that short, so linear midpoints can look washed out. Spherical
interpolation (Shoemake 1985; proposed for GANs by White 2016, "Sampling Generative Networks")
follows the arc instead and keeps the norm when both ends have the same norm.
"""

from __future__ import annotations

import numpy as np

__all__ = ["lerp", "slerp", "interpolation_path", "random_directions", "move_along"]


def _pair(z0, z1) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(z0, dtype=np.float64), np.asarray(z1, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(
            f"Interpolate between two latent vectors of the same shape (d,); got {a.shape} and {b.shape}. "
            "Pass single codes, e.g. z[0] and z[1], not batches."
        )
    return a, b


def _ts(t) -> tuple[np.ndarray, bool]:
    ts = np.asarray(t, dtype=np.float64)
    return ts.reshape(-1, 1), ts.ndim == 0


def lerp(z0, z1, t) -> np.ndarray:
    """Linear interpolation ``(1 - t) z0 + t z1``.

    ``t`` is a number (returns one code, shape (d,)) or an array of n numbers (returns (n, d)).
    ``t = 0`` gives ``z0`` and ``t = 1`` gives ``z1`` exactly.
    """
    a, b = _pair(z0, z1)
    ts, scalar = _ts(t)
    out = (1.0 - ts) * a + ts * b
    return (out[0] if scalar else out).astype(np.float32)


def slerp(z0, z1, t, eps: float = 1e-7) -> np.ndarray:
    """Spherical interpolation along the great-circle arc from ``z0`` to ``z1``:

    ``sin((1 - t) w) / sin(w) * z0 + sin(t w) / sin(w) * z1``, with ``w`` the angle between them.

    When ``|z0| = |z1|`` every point on the path has that same norm. Nearly parallel codes
    (``sin(w)`` about 0) fall back to ``lerp``, which is then the same path; exactly opposite
    codes have no unique arc and raise an error.
    """
    a, b = _pair(z0, z1)
    ts, scalar = _ts(t)
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na < eps or nb < eps:
        raise ValueError("slerp needs two non-zero vectors: the angle to the zero vector is undefined. Use lerp.")
    cos_w = np.clip(np.dot(a, b) / (na * nb), -1.0, 1.0)
    w = np.arccos(cos_w)
    if np.sin(w) < eps:
        if cos_w < 0:
            raise ValueError("z0 and z1 point in opposite directions: every half circle joins them. Perturb one of them.")
        return lerp(a, b, t)
    out = (np.sin((1.0 - ts) * w) * a + np.sin(ts * w) * b) / np.sin(w)
    out[ts[:, 0] == 0.0] = a  # endpoints exact, not merely close
    out[ts[:, 0] == 1.0] = b
    return (out[0] if scalar else out).astype(np.float32)


def interpolation_path(z0, z1, steps: int = 8, method: str = "spherical") -> np.ndarray:
    """``steps`` codes from ``z0`` to ``z1`` inclusive, shape (steps, d); ``method`` is
    ``"linear"`` or ``"spherical"``."""
    if steps < 2:
        raise ValueError(f"A path needs at least 2 steps (its two ends); got steps={steps}.")
    methods = {"linear": lerp, "spherical": slerp}
    if method not in methods:
        raise ValueError(f"method must be 'linear' or 'spherical', not {method!r}")
    return methods[method](z0, z1, np.linspace(0.0, 1.0, steps))


def random_directions(latent_dim: int, n: int = 4, seed: int = 0) -> np.ndarray:
    """``n`` orthonormal directions in the latent space, shape (n, latent_dim), reproducible by seed.

    Random directions are a fair start: a GAN's latent space has no named axes unless the model
    was trained for them (InfoGAN) or we find them (e.g. the mean difference between codes of
    two groups of samples).
    """
    if not 1 <= n <= latent_dim:
        raise ValueError(f"Can draw 1 to latent_dim={latent_dim} orthonormal directions, not n={n}.")
    gauss = np.random.default_rng(seed).standard_normal((latent_dim, n))
    q, r = np.linalg.qr(gauss)
    return (q * np.sign(np.diag(r))).T.astype(np.float32)  # sign fix: a unique answer per seed


def move_along(z, directions, amounts) -> np.ndarray:
    """``z + sum_i amounts[i] * directions[i]``: one code moved along several directions."""
    z = np.asarray(z, dtype=np.float32)
    directions = np.atleast_2d(np.asarray(directions, dtype=np.float32))
    amounts = np.atleast_1d(np.asarray(amounts, dtype=np.float32))
    if directions.shape != (len(amounts), z.shape[-1]):
        raise ValueError(
            f"Need one amount per direction and directions of the code's size {z.shape[-1]}: "
            f"got {len(amounts)} amounts and directions of shape {directions.shape}."
        )
    return z + amounts @ directions
