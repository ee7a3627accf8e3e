"""Latent-space interpolation: exact endpoints, norms kept on the sphere, clear errors."""

import numpy as np
import pytest

from gan_course import latent


@pytest.fixture
def pair():
    rng = np.random.default_rng(0)
    return rng.standard_normal(64), rng.standard_normal(64)


def test_lerp_hits_both_endpoints_and_the_midpoint(pair):
    a, b = pair
    path = latent.lerp(a, b, [0.0, 0.5, 1.0])
    np.testing.assert_array_equal(path[0], a.astype(np.float32))
    np.testing.assert_array_equal(path[-1], b.astype(np.float32))
    np.testing.assert_allclose(path[1], (a + b) / 2, rtol=1e-6)
    assert latent.lerp(a, b, 0.25).shape == (64,)  # a number gives one code


def test_slerp_endpoints_are_exact(pair):
    a, b = pair
    path = latent.slerp(a, b, np.linspace(0, 1, 7))
    np.testing.assert_array_equal(path[0], a.astype(np.float32))
    np.testing.assert_array_equal(path[-1], b.astype(np.float32))


def test_slerp_keeps_the_norm_and_lerp_does_not():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((2, 100))
    b *= np.linalg.norm(a) / np.linalg.norm(b)  # same norm at both ends
    ts = np.linspace(0, 1, 11)
    norms = np.linalg.norm(latent.slerp(a, b, ts), axis=1)
    np.testing.assert_allclose(norms, np.linalg.norm(a), rtol=1e-5)
    # the straight line cuts inside the sphere: two nearly orthogonal codes -> midpoint about 1/sqrt(2) as long
    mid = np.linalg.norm(latent.lerp(a, b, 0.5)) / np.linalg.norm(a)
    assert 0.6 < mid < 0.85


def test_slerp_moves_at_constant_angular_speed():
    a, b = np.array([1.0, 0.0]), np.array([0.0, 1.0])  # 90 degrees apart
    p = latent.slerp(a, b, 1 / 3)
    np.testing.assert_allclose(p, [np.cos(np.pi / 6), np.sin(np.pi / 6)], atol=1e-6)


def test_slerp_of_parallel_codes_falls_back_to_lerp_and_opposite_codes_fail():
    a = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(latent.slerp(a, 2 * a, 0.5), 1.5 * a, rtol=1e-6)
    with pytest.raises(ValueError, match="opposite"):
        latent.slerp(a, -a, 0.5)
    with pytest.raises(ValueError, match="non-zero"):
        latent.slerp(a, np.zeros(3), 0.5)


def test_interpolation_path_shapes_and_errors(pair):
    a, b = pair
    for method in ("linear", "spherical"):
        assert latent.interpolation_path(a, b, 5, method).shape == (5, 64)
    with pytest.raises(ValueError, match="method"):
        latent.interpolation_path(a, b, 5, "cubic")
    with pytest.raises(ValueError, match="at least 2"):
        latent.interpolation_path(a, b, 1)
    with pytest.raises(ValueError, match="same shape"):
        latent.lerp(a, b[:10], 0.5)


def test_random_directions_are_orthonormal_and_reproducible():
    d = latent.random_directions(32, 5, seed=3)
    assert d.shape == (5, 32)
    np.testing.assert_allclose(d @ d.T, np.eye(5), atol=1e-5)
    np.testing.assert_array_equal(d, latent.random_directions(32, 5, seed=3))
    assert not np.allclose(d, latent.random_directions(32, 5, seed=4))
    with pytest.raises(ValueError):
        latent.random_directions(4, 5)


def test_move_along_adds_the_weighted_directions():
    z = np.zeros(3)
    dirs = np.eye(3)[:2]
    np.testing.assert_allclose(latent.move_along(z, dirs, [2.0, -1.0]), [2.0, -1.0, 0.0])
    with pytest.raises(ValueError, match="one amount per direction"):
        latent.move_along(z, dirs, [1.0])
