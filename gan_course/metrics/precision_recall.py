"""Precision and recall for generative models (Kynkaanniemi et al. 2019, arXiv:1904.06991).

FID folds two questions into one number; precision and recall answer them separately:

- **precision**: what share of the generated samples look like real data, i.e. fall inside
  the real data's manifold (fidelity);
- **recall**: what share of the real data the generator can produce, i.e. fall inside the
  generated samples' manifold (diversity).

Each manifold is estimated from a feature set as a union of balls: every point gets a ball
whose radius is the distance to its k-th nearest neighbour in its own set (k = 3 in the
paper). A point of the other set counts when it lies in at least one ball. Introduced in
lesson 06 (``notebooks/06_beyond_dcgan.ipynb``), which writes it out first; the features are
the MNIST classifier's (``metrics.classifier_features``), as for the course's FID.

Identical sets score 1 and 1; a generator that collapses onto one mode scores high precision
and low recall; samples far from the data score 0 and 0.
"""

from __future__ import annotations

import numpy as np

__all__ = ["knn_radii", "manifold_share", "precision_recall"]


def _as_points(x, name: str) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 2 or len(a) == 0:
        raise ValueError(
            f"{name} must be a 2-D array of feature vectors (n, d) with n >= 1, got shape {a.shape}. "
            "For images, take features first, e.g. metrics.classifier_features(images)."
        )
    return a


def _squared_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(len(a), len(b)) squared Euclidean distances, clipped at 0 against rounding."""
    d = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T
    return np.maximum(d, 0.0)


def knn_radii(points, k: int = 3, batch_size: int = 1000) -> np.ndarray:
    """Distance from each point to its k-th nearest *other* point of the same set, shape (n,).

    The point itself (distance 0) is not counted as a neighbour.
    """
    x = _as_points(points, "points")
    if not 1 <= k < len(x):
        raise ValueError(f"k must be between 1 and n - 1 = {len(x) - 1} for {len(x)} points, got k={k}. "
                         "Use more samples or a smaller k.")
    radii = np.empty(len(x))
    for start in range(0, len(x), batch_size):
        d = _squared_distances(x[start:start + batch_size], x)
        # the k+1 smallest include the point itself (0); the (k+1)-th smallest is the k-th neighbour
        radii[start:start + batch_size] = np.sqrt(np.partition(d, k, axis=1)[:, k])
    return radii


def manifold_share(manifold_points, queries, k: int = 3, batch_size: int = 1000) -> float:
    """Share of ``queries`` inside the k-NN manifold of ``manifold_points``: a query counts when its
    distance to some manifold point is at most that point's k-NN radius."""
    m, q = _as_points(manifold_points, "manifold_points"), _as_points(queries, "queries")
    if m.shape[1] != q.shape[1]:
        raise ValueError(f"Feature sizes differ: {m.shape[1]} (manifold) vs {q.shape[1]} (queries)")
    radii_sq = knn_radii(m, k, batch_size) ** 2
    inside = np.empty(len(q), dtype=bool)
    for start in range(0, len(q), batch_size):
        d = _squared_distances(q[start:start + batch_size], m)
        inside[start:start + batch_size] = (d <= radii_sq[None, :] * (1 + 1e-9) + 1e-12).any(axis=1)
    return float(inside.mean())


def precision_recall(real_features, fake_features, k: int = 3, batch_size: int = 1000) -> dict:
    """Improved precision and recall (Kynkaanniemi et al. 2019) of generated features against real ones.

    Args:
        real_features, fake_features: (n, d) feature arrays (the same d); use the same n for both
            when comparing runs, since both numbers depend on n and k.
        k: the neighbour that sets each ball's radius (the paper's 3).

    Returns:
        ``{"precision": share of fakes in the real manifold, "recall": share of reals in the fake
        manifold, "k": k, "n_real": ..., "n_fake": ...}``.
    """
    real, fake = _as_points(real_features, "real_features"), _as_points(fake_features, "fake_features")
    return dict(
        precision=manifold_share(real, fake, k, batch_size),
        recall=manifold_share(fake, real, k, batch_size),
        k=int(k),
        n_real=len(real),
        n_fake=len(fake),
    )
