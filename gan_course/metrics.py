"""Evaluation metrics for GANs: how good, how varied, and how copied are the samples?

Three families, each a small function:

- **Distribution distances on features.** The Frechet distance (FID; Heusel et al. 2017,
  arXiv:1706.08500) and the kernel distance (KID; Binkowski et al. 2018, arXiv:1801.01401)
  compare the features of generated and real images. For MNIST the features come from a
  small digit classifier trained offline (``scripts/train_classifier.py``), so these are
  *classifier* FID/KID: useful to compare runs of this course, not comparable with the
  published Inception FIDs. For image folders, ``folder_fid`` uses InceptionV3 when its
  ImageNet weights can be had, and says so when it cannot.
- **Class statistics** from the classifier's predictions: how many digit classes the
  generator covers, the entropy of its class histogram, and how often the classifier is
  confident (blurry digits get low confidence).
- **Memorisation**: the L1 distance from each generated image to its nearest training
  image, compared with the same distance for real images the GAN never saw.

Every score depends on the number of samples (FID is biased upwards at small n), so every
result states its sample count: compare like with like. ``reference_values()`` gives the
measured values for real digits and for an untrained generator as anchors.

Importing this module does no work; the classifier loads on first use.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import socket
import warnings
from pathlib import Path

import keras
import numpy as np
from keras import layers

from gan_course.data import is_offline, list_image_files, unscale_images

__all__ = [
    "CLASSIFIER_DIR",
    "CLASSIFIER_WEIGHTS",
    "N_CLASSES",
    "DEFAULT_MIN_SHARE",
    "IMAGENET_INCEPTION_LABEL",
    "RANDOM_INCEPTION_LABEL",
    "build_classifier",
    "load_classifier",
    "classifier_outputs",
    "classifier_features",
    "classify",
    "frechet_distance_gaussians",
    "frechet_distance",
    "kernel_inception_distance",
    "class_histogram",
    "class_coverage",
    "class_entropy",
    "confident_share",
    "sample_images",
    "GeneratorScores",
    "score_generator",
    "l1_distance",
    "nearest_neighbours_l1",
    "memorisation_report",
    "plot_nearest_neighbours",
    "inception_extractor",
    "inception_features",
    "load_images_as_array",
    "folder_fid",
    "reference_values",
]

CLASSIFIER_DIR = Path(__file__).resolve().parents[1] / "data" / "mnist_classifier"
CLASSIFIER_WEIGHTS = CLASSIFIER_DIR / "classifier.weights.h5"
N_CLASSES = 10
# A class counts as covered when at least 5% of the samples are predicted as it: half its fair
# share of 10%. The classifier's errors must not create coverage: on the 100 real test digits
# of one class its worst confusion is 3% (7 read as 9), so each single-digit set scores 0.1.
DEFAULT_MIN_SHARE = 0.05


# --------------------------------------------------------------------------- the classifier


def build_classifier(name: str = "mnist_classifier") -> keras.Model:
    """A small CNN for 28x28x1 digits in [-1, 1]: three conv blocks, a 128-d "features" layer, 10 logits.

    conv32-conv32-pool (14x14) -> conv64-conv64-pool (7x7) -> conv64-pool (3x3) -> flatten
    -> Dense(128, relu, name="features") -> dropout -> Dense(10, name="logits"); about 177k
    weights (0.7 MB). The "features" layer plays the role of Inception's pool3 layer in FID.
    """
    image = keras.Input(shape=(28, 28, 1), name="image")
    x = image
    for block, widths in enumerate([(32, 32), (64, 64), (64,)]):
        for i, filters in enumerate(widths):
            x = layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"conv{block + 1}_{i + 1}")(x)
        x = layers.MaxPooling2D(2, name=f"pool{block + 1}")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dropout(0.25, name="dropout_flat")(x)
    features = layers.Dense(128, activation="relu", name="features")(x)
    x = layers.Dropout(0.4, name="dropout_features")(features)
    logits = layers.Dense(N_CLASSES, name="logits")(x)
    return keras.Model(image, logits, name=name)


@functools.lru_cache(maxsize=1)
def load_classifier() -> keras.Model:
    """The committed MNIST classifier (``data/mnist_classifier/classifier.weights.h5``), loaded once.

    Raises:
        FileNotFoundError: the weights are missing; ``python scripts/train_classifier.py``
            makes them (about a minute on a laptop CPU, no network needed).
    """
    if not CLASSIFIER_WEIGHTS.is_file():
        raise FileNotFoundError(
            f"No classifier weights at {CLASSIFIER_WEIGHTS}. Train them (offline, about a minute) "
            "with: python scripts/train_classifier.py"
        )
    model = build_classifier()
    model.load_weights(CLASSIFIER_WEIGHTS)
    model.trainable = False
    return model


@functools.lru_cache(maxsize=1)
def _features_and_logits_model() -> keras.Model:
    clf = load_classifier()
    return keras.Model(clf.input, [clf.get_layer("features").output, clf.output], name="features_and_logits")


def _as_digit_batch(images) -> np.ndarray:
    x = np.asarray(images, dtype=np.float32)
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4 or x.shape[1:] != (28, 28, 1):
        raise ValueError(f"The classifier takes MNIST-shaped images (n, 28, 28, 1), got {x.shape}")
    if len(x) == 0:
        raise ValueError("No images to score")
    if x.max() > 1.5 or x.min() < -1.5:
        raise ValueError(
            f"Images must be in [-1, 1] (they span [{x.min():g}, {x.max():g}]); "
            "scale uint8 pixels with gan_course.data.scale_images first."
        )
    return x


def classifier_outputs(images, batch_size: int = 500) -> tuple[np.ndarray, np.ndarray]:
    """One pass of the classifier: (features (n, 128), class probabilities (n, 10))."""
    x = _as_digit_batch(images)
    model = _features_and_logits_model()
    feats, logits = [], []
    for start in range(0, len(x), batch_size):
        f, lg = model(x[start : start + batch_size], training=False)
        feats.append(keras.ops.convert_to_numpy(f))
        logits.append(keras.ops.convert_to_numpy(lg))
    logits = np.concatenate(logits).astype(np.float64)
    logits -= logits.max(axis=1, keepdims=True)  # softmax without overflow
    probs = np.exp(logits)
    probs /= probs.sum(axis=1, keepdims=True)
    return np.concatenate(feats).astype(np.float64), probs


def classifier_features(images, batch_size: int = 500) -> np.ndarray:
    """The classifier's 128-d "features" activations for digits in [-1, 1], shape (n, 128)."""
    return classifier_outputs(images, batch_size)[0]


def classify(images, batch_size: int = 500) -> np.ndarray:
    """Class probabilities (softmax of the logits), shape (n, 10); ``argmax(axis=1)`` is the digit."""
    return classifier_outputs(images, batch_size)[1]


# --------------------------------------------------------------------------- Frechet distance


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


# --------------------------------------------------------------------------- kernel distance


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


# --------------------------------------------------------------------------- class statistics


def class_histogram(probs) -> np.ndarray:
    """Share of samples whose most likely class is each digit, shape (10,), sums to 1."""
    p = np.asarray(probs)
    if p.ndim != 2 or len(p) == 0:
        raise ValueError(f"probs must be (n, n_classes) with n >= 1, got shape {p.shape}")
    return np.bincount(p.argmax(axis=1), minlength=p.shape[1]) / len(p)


def class_coverage(probs, min_share: float = DEFAULT_MIN_SHARE) -> float:
    """Fraction of the classes predicted for at least ``min_share`` of the samples.

    1.0 = every digit appears; 0.1 = mode collapse onto one digit. A class counts only from
    ``min_share`` (default 5%, half the fair 10%) so that the classifier's own mistakes (up to
    3% of one real digit's images read as another) do not count as coverage; ``min_share=0``
    counts any predicted class. Needs enough samples for 5% to mean something (n >= 200).
    """
    hist = class_histogram(probs)
    return float(np.mean(hist >= min_share - 1e-12) if min_share > 0 else np.mean(hist > 0))


def class_entropy(probs) -> float:
    """Entropy ``-sum_c h_c ln h_c`` of the predicted-class histogram h, in nats.

    0 for a single digit, at most ``ln 10 = 2.303`` when the ten digits are equally frequent.
    """
    hist = class_histogram(probs)
    hist = hist[hist > 0]
    return float(-(hist * np.log(hist)).sum()) + 0.0  # + 0.0 turns -0.0 into 0.0


def confident_share(probs, threshold: float = 0.9) -> float:
    """Fraction of samples whose top class probability is at least ``threshold``.

    Real test digits score about 0.99; smudges that look like no digit in particular score low.
    """
    p = np.asarray(probs)
    return float(np.mean(p.max(axis=1) >= threshold))


# --------------------------------------------------------------------------- scoring a generator


def sample_images(generator, n: int, seed: int = 0, batch_size: int = 500) -> np.ndarray:
    """``n`` images from ``generator`` (z ~ N(0, I) from a numpy RNG with ``seed``), in batches,
    with ``training=False``. Works for a generator model and for the course's ``DCGAN``."""
    latent_dim = getattr(generator, "latent_dim", None) or generator.input_shape[-1]
    z = np.random.default_rng(seed).standard_normal((n, int(latent_dim))).astype(np.float32)
    out = [
        keras.ops.convert_to_numpy(generator(z[i : i + batch_size], training=False)) for i in range(0, n, batch_size)
    ]
    return np.concatenate(out).astype(np.float32)


@dataclasses.dataclass(frozen=True)
class GeneratorScores:
    """The scores of ``score_generator``. FID/KID use the MNIST classifier's features."""

    fid: float  # classifier FID against the real images (lower is better)
    kid_mean: float  # unbiased KID, mean over subsets (lower is better; ~0 is ideal)
    kid_std: float
    coverage: float  # fraction of the 10 digits produced (1.0 is ideal)
    entropy: float  # nats, of the predicted-digit histogram (ln 10 = 2.303 is ideal)
    confident_share: float  # fraction classified with probability >= 0.9
    n_samples: int  # generated images scored
    n_real: int  # real images compared against
    features: str = "mnist classifier, 128-d 'features' layer"

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)

    def __str__(self) -> str:
        return (
            f"n={self.n_samples} vs {self.n_real} real: FID {self.fid:.2f}, "
            f"KID {self.kid_mean:.4f} +- {self.kid_std:.4f}, coverage {self.coverage:.2f}, "
            f"entropy {self.entropy:.3f} nats, confident {self.confident_share:.1%}"
        )


def score_generator(
    generator_or_images,
    real_images,
    n: int | None = 1000,
    seed: int = 0,
    batch_size: int = 500,
    kid_subsets: int = 50,
    kid_subset_size: int = 500,
) -> GeneratorScores:
    """Score a generator (or an array of its images) against real digits with the MNIST classifier.

    Args:
        generator_or_images: a generator model (``n`` images are drawn with ``sample_images``
            and ``seed``) or an array (n, 28, 28, 1) in [-1, 1] (a random ``n`` of them, by
            ``seed``, are scored; all when ``n`` is None or larger).
        real_images: real digits (all are used), e.g. ``load_mnist("train").images``.

    Returns:
        ``GeneratorScores``, with the sample counts. FID is biased upwards at small n:
        compare only scores computed with the same ``n`` and the same real set (see
        ``reference_values()`` for real digits and an untrained generator at n = 1000).
    """
    if callable(generator_or_images):
        if n is None:
            raise ValueError("Give n, the number of images to draw from the generator")
        fake = sample_images(generator_or_images, n, seed=seed, batch_size=batch_size)
    else:
        fake = _as_digit_batch(generator_or_images)
        if n is not None and n < len(fake):
            fake = fake[np.sort(np.random.default_rng(seed).choice(len(fake), n, replace=False))]
    fake_feats, fake_probs = classifier_outputs(fake, batch_size)
    real_feats, _ = classifier_outputs(real_images, batch_size)
    kid_mean, kid_std = kernel_inception_distance(
        fake_feats, real_feats, n_subsets=kid_subsets, subset_size=kid_subset_size, seed=seed
    )
    return GeneratorScores(
        fid=frechet_distance(fake_feats, real_feats),
        kid_mean=kid_mean,
        kid_std=kid_std,
        coverage=class_coverage(fake_probs),
        entropy=class_entropy(fake_probs),
        confident_share=confident_share(fake_probs),
        n_samples=len(fake),
        n_real=len(real_feats),
    )


# --------------------------------------------------------------------------- memorisation


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


# --------------------------------------------------------------------------- Inception FID

INCEPTION_WEIGHTS_FILE = "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"
_INCEPTION_HOST = "storage.googleapis.com"
IMAGENET_INCEPTION_LABEL = "InceptionV3 (ImageNet weights), 2048-d pool features: standard FID extractor"
RANDOM_INCEPTION_LABEL = (
    "random-feature FID: InceptionV3 with fixed-seed random weights (seed 0); compares low-level "
    "statistics, not comparable with published FID"
)


def _cached_inception_weights() -> Path | None:
    home = Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras")
    for folder in (home, Path("/tmp/.keras")):  # Keras falls back to /tmp when home is read-only
        path = folder / "models" / INCEPTION_WEIGHTS_FILE
        if path.is_file():
            return path
    return None


def _imagenet_unavailable_reason(timeout: float = 3.0) -> str | None:
    """None when the ImageNet weights are cached or downloadable, else why not."""
    if _cached_inception_weights() is not None:
        return None
    if is_offline():
        return "GAN_COURSE_OFFLINE is set and the weights are not cached"
    try:
        with socket.create_connection((_INCEPTION_HOST, 443), timeout=timeout):
            return None
    except OSError as err:
        return f"{_INCEPTION_HOST} does not answer within {timeout:g} s ({err})"


@functools.lru_cache(maxsize=4)
def _build_inception(image_size: int, pretrained: bool) -> keras.Model:
    shape = (image_size, image_size, 3)
    if pretrained:
        previous = socket.getdefaulttimeout()
        socket.setdefaulttimeout(30)  # a stalled download fails instead of hanging
        try:
            return keras.applications.InceptionV3(
                include_top=False, pooling="avg", weights="imagenet", input_shape=shape
            )
        finally:
            socket.setdefaulttimeout(previous)
    model = keras.applications.InceptionV3(include_top=False, pooling="avg", weights=None, input_shape=shape)
    # Re-draw every conv kernel from a seeded numpy RNG (He normal, which keeps activations at
    # a usable scale through the ReLUs): the same features on every machine, no global seeding.
    rng = np.random.default_rng(0)
    for w in model.weights:
        if len(w.shape) == 4:
            fan_in = int(np.prod(w.shape[:3]))
            w.assign((rng.standard_normal(tuple(w.shape)) * np.sqrt(2.0 / fan_in)).astype(np.float32))
    return model


def inception_extractor(image_size: int = 299, verbose: bool = True) -> tuple[keras.Model, str]:
    """InceptionV3 (no top, average-pooled 2048-d features) and a label naming its weights.

    Uses the ImageNet weights when they are cached in ``~/.keras/models`` or the download host
    answers within 3 s (never tried when ``GAN_COURSE_OFFLINE=1``). Otherwise prints why and
    falls back to fixed-seed random weights, labelled ``RANDOM_INCEPTION_LABEL``: such a
    "random-feature FID" still ranks gross differences but is not comparable with published FIDs.
    ``image_size`` >= 75; published FIDs use 299.
    """
    reason = _imagenet_unavailable_reason()
    if reason is None:
        try:
            return _build_inception(image_size, True), IMAGENET_INCEPTION_LABEL
        except Exception as err:  # download or file error: fall back, saying why
            reason = f"loading the ImageNet weights failed ({err.__class__.__name__}: {err})"
    if verbose:
        print(f"InceptionV3 ImageNet weights unavailable: {reason}.\nUsing the fallback: {RANDOM_INCEPTION_LABEL}.")
    return _build_inception(image_size, False), RANDOM_INCEPTION_LABEL


def _as_rgb_batch(images) -> np.ndarray:
    x = np.asarray(images, dtype=np.float32)
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4 or x.shape[-1] not in (1, 3):
        raise ValueError(f"images must be (n, height, width, 1 or 3), got {x.shape}")
    if x.max() > 1.5 or x.min() < -1.5:
        raise ValueError(f"Images must be in [-1, 1] (they span [{x.min():g}, {x.max():g}])")
    return np.repeat(x, 3, axis=-1) if x.shape[-1] == 1 else x


def inception_features(
    images, batch_size: int = 32, image_size: int = 299, model: keras.Model | None = None, verbose: bool = True
) -> tuple[np.ndarray, str]:
    """Features for FID from images in [-1, 1] (InceptionV3's own input range).

    Grayscale images are repeated to three channels and all are resized (bilinear,
    antialiased) to the extractor's input size.

    Args:
        model: an extractor to use instead of InceptionV3 (its input size wins over ``image_size``).

    Returns:
        (features (n, d), label): the label names the extractor actually used; report it with
        every FID (see ``inception_extractor``).
    """
    x = _as_rgb_batch(images)
    if model is None:
        model, label = inception_extractor(image_size, verbose=verbose)
    else:
        label = f"custom extractor {model.name!r}"
    size = tuple(model.input_shape[1:3]) if model.input_shape[1] is not None else (image_size, image_size)
    out = []
    for start in range(0, len(x), batch_size):
        batch = x[start : start + batch_size]
        if batch.shape[1:3] != size:
            batch = keras.ops.image.resize(batch, size, interpolation="bilinear", antialias=True)
        out.append(keras.ops.convert_to_numpy(model(batch, training=False)))
    return np.concatenate(out).astype(np.float64), label


def load_images_as_array(folder, image_size: int = 299, max_images: int | None = None) -> np.ndarray:
    """Every image under ``folder`` as RGB, resized to a square, float32 in [-1, 1]: (n, s, s, 3)."""
    from PIL import Image

    files = list_image_files(folder)[:max_images]
    out = np.empty((len(files), image_size, image_size, 3), np.float32)
    for i, path in enumerate(files):
        with Image.open(path) as im:
            out[i] = np.asarray(im.convert("RGB").resize((image_size, image_size), Image.BILINEAR), np.float32)
    return out / 127.5 - 1.0


def folder_fid(
    real, fake, image_size: int = 299, max_images: int | None = None, batch_size: int = 32, model=None
) -> dict:
    """FID between two image folders (or arrays in [-1, 1]) with InceptionV3 features.

    Returns:
        dict with ``fid``, ``extractor`` (which features: a random-feature FID when the
        ImageNet weights could not be had), ``n_real``, ``n_fake`` and ``image_size``.
        Published FIDs use 299 px and 50,000 samples; FID at a few hundred samples is much
        higher, so compare only values with the same counts and extractor.
    """
    arrays = []
    for images in (real, fake):
        if isinstance(images, (str, os.PathLike)):
            images = load_images_as_array(images, image_size, max_images)
        arrays.append(images)
    real_feats, label = inception_features(arrays[0], batch_size, image_size, model)
    fake_feats, _ = inception_features(arrays[1], batch_size, image_size, model, verbose=False)
    return {
        "fid": frechet_distance(real_feats, fake_feats),
        "extractor": label,
        "n_real": len(real_feats),
        "n_fake": len(fake_feats),
        "image_size": image_size,
    }


# --------------------------------------------------------------------------- reference values


def reference_values() -> dict:
    """Measured anchors for ``score_generator`` (``data/mnist_classifier/reference.json``).

    Written by ``scripts/train_classifier.py`` (classifier test accuracy 0.985): n = 1,000
    images scored against the 4,000 offline training digits, seed 0.

    ==========================  ===================  =====================
    metric (n = 1,000)          real test digits     untrained generator
    ==========================  ===================  =====================
    FID (classifier features)   1.52                 517.8
    KID mean (std)              -0.105 (0.267)       28.77 (1.08)
    coverage                    1.0                  0.1
    entropy (nats; max 2.303)   2.302                0.0
    confident share (p >= 0.9)  0.961                0.0
    median nearest-train L1     0.118                0.898
    ==========================  ===================  =====================

    KID is unbiased, so real digits score about 0 (slightly negative here, within noise); it
    is in raw units of the cubic kernel on the 128-d features, not multiplied by 1,000. The
    untrained generator's images are flat mid-grey (pixels within 0.07 of 0) and all read as an 8. A trained GAN should land
    between the columns, near the left one; a median L1 well below 0.118 suggests copying.
    """
    path = CLASSIFIER_DIR / "reference.json"
    if not path.is_file():
        raise FileNotFoundError(f"No reference values at {path}. Make them with: python scripts/train_classifier.py")
    return json.loads(path.read_text())
