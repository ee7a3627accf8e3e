"""Class statistics of generated samples, from a classifier's probabilities: how many classes
the generator draws (coverage), how evenly (entropy), and how clearly (confident share).
Mode collapse shows up here before it shows in a grid.
"""

from __future__ import annotations

import numpy as np


# A class counts as covered when at least 5% of the samples are predicted as it: half its fair
# share of 10%. The classifier's errors must not create coverage: on the 100 real test digits
# of one class its worst confusion is 3% (7 read as 9), so each single-digit set scores 0.1.
DEFAULT_MIN_SHARE = 0.05


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
