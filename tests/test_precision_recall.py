"""Improved precision and recall (gan_course.metrics.precision_recall) on toy point clouds."""

import numpy as np
import pytest

from gan_course import metrics
from gan_course.metrics.precision_recall import knn_radii, manifold_share, precision_recall


def cloud(n, centre=(0.0, 0.0), std=1.0, seed=0):
    return np.random.default_rng(seed).normal(centre, std, size=(n, len(centre)))


def test_identical_sets_score_one_and_one():
    x = cloud(300)
    pr = precision_recall(x, x.copy(), k=3)
    assert pr["precision"] == 1.0 and pr["recall"] == 1.0
    assert (pr["n_real"], pr["n_fake"], pr["k"]) == (300, 300, 3)


def test_two_samples_of_one_distribution_score_high():
    pr = precision_recall(cloud(1000, seed=1), cloud(1000, seed=2))
    assert pr["precision"] > 0.85 and pr["recall"] > 0.85


def test_collapsed_set_has_high_precision_and_low_recall():
    # real: 4 well-separated modes; fake: every sample near one of them (mode collapse)
    centres = [(0, 0), (10, 0), (0, 10), (10, 10)]
    real = np.concatenate([cloud(250, c, seed=i) for i, c in enumerate(centres)])
    fake = cloud(1000, centres[0], std=0.3, seed=9)
    pr = precision_recall(real, fake)
    assert pr["precision"] > 0.95
    assert pr["recall"] < 0.3  # the one covered mode holds 25% of the real points, and the fake ball is small


def test_far_away_samples_score_zero_and_zero():
    pr = precision_recall(cloud(200), cloud(200, centre=(50.0, 50.0)))
    assert pr["precision"] == 0.0 and pr["recall"] == 0.0


def test_radii_and_shares_by_hand():
    points = np.array([[0.0], [1.0], [3.0], [7.0]])
    # nearest other points: 0 -> 1 (1), 1 -> 0 (1), 3 -> 1 (2), 7 -> 3 (4); second nearest: 3, 2, 3, 6
    np.testing.assert_allclose(knn_radii(points, k=1), [1, 1, 2, 4])
    np.testing.assert_allclose(knn_radii(points, k=2), [3, 2, 3, 6])
    # with k=1 the balls cover [-1, 1], [0, 2], [1, 5], [3, 11]: 5.5 and 10.9 are inside, -1.5 and 11.5 outside
    assert manifold_share(points, np.array([[5.5], [10.9], [-1.5], [11.5]]), k=1) == 0.5


def test_batching_does_not_change_the_answer():
    real, fake = cloud(150, seed=3), cloud(120, centre=(0.5, 0.0), seed=4)
    assert precision_recall(real, fake, batch_size=7) == precision_recall(real, fake, batch_size=1000)


def test_bad_input_names_the_problem():
    with pytest.raises(ValueError, match="k must be between 1 and n - 1"):
        precision_recall(cloud(3), cloud(10), k=3)
    with pytest.raises(ValueError, match="Feature sizes differ"):
        precision_recall(cloud(10), cloud(10, centre=(0.0, 0.0, 0.0)))
    with pytest.raises(ValueError, match="classifier_features"):
        precision_recall(np.zeros((5, 28, 28, 1)), cloud(10))


def test_reexported_from_metrics():
    assert metrics.precision_recall is precision_recall
