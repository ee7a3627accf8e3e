"""``score_generator``: one call that draws samples and reports FID, KID and the class
statistics against a set of real digits, with the sample counts.
"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np

from gan_course.metrics.classes import class_coverage, class_entropy, confident_share
from gan_course.metrics.classifier import as_digit_batch, classifier_outputs
from gan_course.metrics.distances import frechet_distance, kernel_inception_distance


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


def images_to_score(generator_or_images, n: int | None, seed: int, batch_size: int, as_batch) -> np.ndarray:
    """The images a score is computed on: ``n`` samples drawn from a generator (seeded), or a
    collection of images checked by ``as_batch`` and, with ``n`` smaller than it, a seeded subset."""
    if callable(generator_or_images):
        if n is None:
            raise ValueError("Give n, the number of images to draw from the generator")
        return sample_images(generator_or_images, n, seed=seed, batch_size=batch_size)
    images = as_batch(generator_or_images)
    if n is not None and n < len(images):
        images = images[np.sort(np.random.default_rng(seed).choice(len(images), n, replace=False))]
    return images


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
    fake = images_to_score(generator_or_images, n, seed, batch_size, as_digit_batch)
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
