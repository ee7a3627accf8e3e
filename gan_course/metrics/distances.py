"""Distances between two sets of features: the Frechet distance (FID; Heusel et al. 2017,
arXiv:1706.08500) and the unbiased kernel distance (KID; Binkowski et al. 2018,
arXiv:1801.01401). Both take feature arrays (n, d); which network made the features is the
caller's choice (the digit classifier, InceptionV3, ...).
"""

from __future__ import annotations

import warnings

import numpy as np


def _trace_sqrt_product(sigma1: np.ndarray, sigma2: np.ndarray, method: str) -> float:
    """``Tr((S1 S2)^(1/2))`` for two covariance matrices."""
    import scipy.linalg

    if method == "sqrtm":
        covmean = scipy.linalg.sqrtm(sigma1 @ sigma2)
        if not np.isfinite(covmean).all():  # singular product: nudge both matrices
            offset = np.eye(len(sigma1)) * 1e-6
            covmean = scipy.linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
        if np.iscomplexobj(covmean):
            # The exact square root is real (S1 S2 is similar to a PSD matrix); round-off
            # leaves tiny imaginary parts. Large ones mean the covariances are broken.
            imag = np.abs(covmean.imag).max()
            if imag > 1e-3 * max(1.0, np.abs(covmean.real).max()):
                warnings.warn(f"sqrtm left an imaginary part of {imag:.3g}; the FID may be off", stacklevel=3)
            covmean = covmean.real
        return float(np.trace(covmean))
    if method == "eigh":
        # S1 S2 = S1^(1/2) (S1^(1/2) S2 S1^(1/2)) S1^(-1/2) is similar to a symmetric PSD matrix,
        # so the two have the same eigenvalues and the trace of the root is the sum of their roots.
        w, v = scipy.linalg.eigh(sigma1)
        root1 = (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T
        m = root1 @ sigma2 @ root1
        eig = scipy.linalg.eigvalsh((m + m.T) / 2)
        return float(np.sqrt(np.clip(eig, 0.0, None)).sum())  # clip round-off below zero
    raise ValueError(f"method must be 'eigh' or 'sqrtm', not {method!r}")


def frechet_distance_gaussians(mu1, sigma1, mu2, sigma2, method: str = "eigh") -> float:
    """Frechet (2-Wasserstein squared) distance between N(mu1, S1) and N(mu2, S2):

        d^2 = ||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2))      (Heusel et al. 2017, eq. 6)

    ``method="sqrtm"`` takes ``scipy.linalg.sqrtm(S1 @ S2)`` and its real part, as the FID
    reference code does; ``"eigh"`` (default) uses the symmetric form
    ``Tr((S1^(1/2) S2 S1^(1/2))^(1/2))``, which has the same value and is several times
    faster and stable for the singular covariances of few samples (sqrtm took 97 s for
    2048-d features of 8 images on a 2-core CPU). Tiny negative results from round-off are
    returned as 0.
    """
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    sigma1, sigma2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    d = len(mu1)
    if mu2.shape != (d,) or sigma1.shape != (d, d) or sigma2.shape != (d, d):
        raise ValueError(
            f"Shapes disagree: mu1 {mu1.shape}, sigma1 {sigma1.shape}, mu2 {mu2.shape}, sigma2 {sigma2.shape}"
        )
    diff = mu1 - mu2
    value = diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * _trace_sqrt_product(sigma1, sigma2, method)
    return max(float(value), 0.0)


def _as_features(feats, name: str) -> np.ndarray:
    f = np.asarray(feats, dtype=np.float64)
    if f.ndim != 2 or len(f) < 2:
        raise ValueError(f"{name} must be a 2-D array (n >= 2, d), got shape {f.shape}")
    return f


def frechet_distance(feats_a, feats_b, method: str = "auto") -> float:
    """The FID formula on two feature sets (n_a, d) and (n_b, d): fit a Gaussian to each
    (mean, covariance with n - 1) and return ``frechet_distance_gaussians`` of the two.

    ``method``: ``"eigh"`` or ``"sqrtm"`` as in ``frechet_distance_gaussians``, or ``"svd"``,
    which never forms a d x d matrix: with centred features X_a, X_b,
    ``Tr((S_a S_b)^(1/2))`` is the sum of the singular values of ``X_a X_b^T`` divided by
    ``sqrt((n_a - 1)(n_b - 1))``. ``"auto"`` picks ``"svd"`` when there are fewer samples than
    dimensions (e.g. a few hundred images in 2048-d Inception space), else ``"eigh"``.

    FID is biased upwards at small n: only compare values computed with the same n.
    """
    a, b = _as_features(feats_a, "feats_a"), _as_features(feats_b, "feats_b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"Feature sizes differ: {a.shape[1]} vs {b.shape[1]}")
    if method == "auto":
        method = "svd" if min(len(a), len(b)) < a.shape[1] else "eigh"
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    if method == "svd":
        import scipy.linalg

        xa, xb = a - mu_a, b - mu_b
        na, nb = len(a) - 1, len(b) - 1
        tr_sqrt = scipy.linalg.svdvals(xa @ xb.T).sum() / np.sqrt(na * nb)
        diff = mu_a - mu_b
        value = diff @ diff + (xa * xa).sum() / na + (xb * xb).sum() / nb - 2.0 * tr_sqrt
        return max(float(value), 0.0)
    return frechet_distance_gaussians(mu_a, np.cov(a, rowvar=False), mu_b, np.cov(b, rowvar=False), method=method)


def _polynomial_kernel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """k(x, y) = (x . y / d + 1)^3, KID's kernel."""
    return (x @ y.T / x.shape[1] + 1.0) ** 3


def _mmd2_unbiased(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD^2: mean of k(x_i, x_j) over i != j, same for y, minus twice the mean of k(x_i, y_j)."""
    m, n = len(x), len(y)
    kxx, kyy, kxy = _polynomial_kernel(x, x), _polynomial_kernel(y, y), _polynomial_kernel(x, y)
    return float(
        (kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (n * (n - 1)) - 2.0 * kxy.mean()
    )


def kernel_inception_distance(
    feats_a, feats_b, n_subsets: int = 100, subset_size: int = 1000, seed: int = 0
) -> tuple[float, float]:
    """KID: the unbiased MMD^2 between two feature sets with the cubic polynomial kernel
    ``k(x, y) = (x . y / d + 1)^3`` (Binkowski et al. 2018, arXiv:1801.01401).

    Drawn on ``n_subsets`` random subsets of ``m = min(subset_size, n_a, n_b)`` samples from
    each set (without replacement), with a seeded numpy RNG.

    Returns:
        (mean, std) over the subsets. Unlike FID the estimator is unbiased: two samples of
        one distribution give a mean near 0, and it can be slightly negative.
    """
    a, b = _as_features(feats_a, "feats_a"), _as_features(feats_b, "feats_b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"Feature sizes differ: {a.shape[1]} vs {b.shape[1]}")
    m = min(subset_size, len(a), len(b))
    rng = np.random.default_rng(seed)
    values = np.array(
        [
            _mmd2_unbiased(a[rng.choice(len(a), m, replace=False)], b[rng.choice(len(b), m, replace=False)])
            for _ in range(n_subsets)
        ]
    )
    return float(values.mean()), float(values.std())
