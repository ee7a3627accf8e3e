"""Memorisation: is each generated image a copy of a training image? The L1 distance to the
nearest training image, compared with the same distance for real images the GAN never saw.
"""

from __future__ import annotations

import numpy as np

from gan_course.data import unscale_images


def l1_distance(a, b) -> float:
    """Mean absolute pixel difference ``sum |a - b| / (number of pixels)``.

    It is the sum divided by the count: for two 3x3 images whose differences add up to 16,
    it is 16 / 9 = 1.78 (a worked example in the course's source material prints 3.0 for such
    a pair, which is not the mean).
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape:
        raise ValueError(f"Shapes differ: {a.shape} vs {b.shape}")
    return float(np.abs(a - b).mean())


def nearest_neighbours_l1(
    generated, train_images, k: int = 1, max_elements: int = 2**24
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` training images closest to each generated image in mean absolute pixel difference.

    Computed in chunks so that no temporary holds more than ``max_elements`` floats (64 MB).

    Returns:
        (indices, distances), both (n_generated, k), nearest first. An exact copy of a
        training image has distance 0.
    """
    g = np.asarray(generated, np.float32).reshape(len(generated), -1)
    t = np.asarray(train_images, np.float32).reshape(len(train_images), -1)
    if g.shape[1] != t.shape[1]:
        raise ValueError(f"Image sizes differ: {np.shape(generated)[1:]} vs {np.shape(train_images)[1:]}")
    if not 1 <= k <= len(t):
        raise ValueError(f"k must be between 1 and the {len(t)} training images, got {k}")
    pixels = g.shape[1]
    train_rows = max(1, min(len(t), max_elements // pixels))
    gen_rows = max(1, max_elements // (train_rows * pixels))
    indices = np.empty((len(g), k), np.int64)
    distances = np.empty((len(g), k), np.float32)
    for gs in range(0, len(g), gen_rows):
        chunk = g[gs : gs + gen_rows]
        dist = np.empty((len(chunk), len(t)), np.float32)
        for ts in range(0, len(t), train_rows):
            dist[:, ts : ts + train_rows] = np.abs(chunk[:, None, :] - t[None, ts : ts + train_rows]).mean(axis=2)
        idx = np.argpartition(dist, k - 1, axis=1)[:, :k] if k < len(t) else np.tile(np.arange(len(t)), (len(chunk), 1))
        d = np.take_along_axis(dist, idx, axis=1)
        order = np.argsort(d, axis=1, kind="stable")
        indices[gs : gs + len(chunk)] = np.take_along_axis(idx, order, axis=1)
        distances[gs : gs + len(chunk)] = np.take_along_axis(d, order, axis=1)
    return indices, distances


def memorisation_report(generated, train_images, holdout_images) -> dict:
    """Are generated images closer to the training set than new real images are?

    For each generated image and each held-out real image (never trained on), the L1 distance
    to its nearest training image. A GAN that generalises sits at about the hold-out's
    distances (ratio ~1); one that copies has many near-zero distances (ratio << 1,
    ``share_closer_than_holdout_p1`` >> 1%).

    Returns:
        dict with ``median_generated``, ``median_holdout``, ``ratio`` (of the medians),
        ``share_closer_than_holdout_p1`` (generated images nearer to the training set than 99%
        of held-out digits), the counts, and the arrays ``generated_distances``,
        ``generated_indices`` and ``holdout_distances``.
    """
    gen_idx, gen_d = nearest_neighbours_l1(generated, train_images)
    _, hold_d = nearest_neighbours_l1(holdout_images, train_images)
    gen_d, hold_d = gen_d[:, 0], hold_d[:, 0]
    med_gen, med_hold = float(np.median(gen_d)), float(np.median(hold_d))
    return {
        "median_generated": med_gen,
        "median_holdout": med_hold,
        "ratio": med_gen / med_hold if med_hold > 0 else float("nan"),
        "share_closer_than_holdout_p1": float(np.mean(gen_d < np.percentile(hold_d, 1))),
        "n_generated": len(gen_d),
        "n_holdout": len(hold_d),
        "n_train": len(train_images),
        "generated_distances": gen_d,
        "generated_indices": gen_idx[:, 0],
        "holdout_distances": hold_d,
    }


def plot_nearest_neighbours(generated, train_images, n: int = 8):
    """The first ``n`` generated images (top row) above their nearest training images (bottom
    row, titled with the L1 distance). Returns the matplotlib figure."""
    import matplotlib.pyplot as plt

    gen = np.asarray(generated)[:n]
    idx, dist = nearest_neighbours_l1(gen, train_images)
    nearest = np.asarray(train_images)[idx[:, 0]]
    fig, axes = plt.subplots(2, len(gen), figsize=(1.4 * len(gen), 3.2), squeeze=False)
    for col in range(len(gen)):
        for row, img in enumerate((gen[col], nearest[col])):
            pic = unscale_images(img)
            ax = axes[row, col]
            ax.imshow(pic[..., 0] if pic.shape[-1] == 1 else pic, cmap="gray", vmin=0, vmax=255)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[1, col].set_title(f"L1 {dist[col, 0]:.3f}", fontsize=8)
    axes[0, 0].set_ylabel("generated")
    axes[1, 0].set_ylabel("nearest train")
    fig.tight_layout()
    return fig
