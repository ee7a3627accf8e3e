"""Wasserstein losses, the gradient penalty and weight clipping against values computed by hand.

Critics with a closed-form input-gradient:
  linear    C(x) = <w, x> + b   ->  grad = w everywhere, norm ||w||, penalty (||w|| - 1)^2
            w = (3, 4) / 5 * k  ->  norm k: k = 1 gives 0, k = 5 gives 16, k = 0.5 gives 0.25
  quadratic C(x) = ||x||^2 / 2  ->  grad = x, so the norm is ||x_hat||, which shows where x_hat lies:
            real = (3, 4), fake = (0, 0), alpha = 0.2 -> x_hat = (0.6, 0.8), norm 1, penalty 0;
            interpolating the wrong way round, x_hat = 0.8 * (3, 4), norm 4, penalty 9.
"""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf
from scipy import stats

from gan_course import losses


def value(x):
    return float(np.asarray(x))


def linear_critic(weights, image_shape, bias=0.7):
    """C(x) = <w, x> + b on images of ``image_shape``, with w given as a flat vector."""
    w = np.asarray(weights, np.float32).reshape(-1, 1)
    model = keras.Sequential([keras.Input(image_shape), keras.layers.Flatten(), keras.layers.Dense(1)])
    model.layers[-1].set_weights([w, np.array([bias], np.float32)])
    return model


def quadratic_critic(x, training=False):
    return 0.5 * tf.reduce_sum(tf.square(tf.reshape(x, (tf.shape(x)[0], -1))), axis=1, keepdims=True)


# --------------------------------------------------------------------------- Wasserstein losses


def test_critic_loss_by_hand():
    # E[C(fake)] - E[C(real)] = mean(-1, 0) - mean(2, 4) = -0.5 - 3 = -3.5
    assert value(losses.wasserstein_critic_loss([[2.0], [4.0]], [[-1.0], [0.0]])) == pytest.approx(-3.5)


def test_critic_loss_is_zero_when_scores_agree():
    assert value(losses.wasserstein_critic_loss([1.5, -2.0], [-2.0, 1.5])) == pytest.approx(0.0)


def test_generator_loss_by_hand_has_no_log():
    # -E[C(G(z))] = -mean(-1, 3) = -1; a log would be undefined for the score -1
    assert value(losses.wasserstein_generator_loss([[-1.0], [3.0]])) == pytest.approx(-1.0)


def test_losses_are_float32_even_for_float16_scores():
    scores = tf.constant([[1.0], [2.0]], tf.float16)
    assert losses.wasserstein_critic_loss(scores, scores).dtype == tf.float32
    assert losses.wasserstein_generator_loss(scores).dtype == tf.float32


# --------------------------------------------------------------------------- gradient penalty


@pytest.mark.parametrize("k, expected", [(1.0, 0.0), (5.0, 16.0), (0.5, 0.25), (2.0, 1.0)])
def test_penalty_of_a_linear_critic_matches_closed_form(k, expected):
    shape = (2, 1, 1)
    critic = linear_critic(np.array([3.0, 4.0]) / 5 * k, shape)
    rng = np.random.default_rng(0)
    real = rng.normal(size=(8,) + shape).astype(np.float32)
    fake = rng.normal(size=(8,) + shape).astype(np.float32)
    gp = value(losses.gradient_penalty(critic, real, fake, seed=3))
    assert gp == pytest.approx(expected, abs=1e-5)


def test_penalty_of_a_linear_critic_on_images():
    # 4x4x3 images, w = all 1/4: ||w|| = sqrt(48)/4 = 1.7320508, penalty (sqrt(3) - 1)^2 = 0.5358984
    shape = (4, 4, 3)
    critic = linear_critic(np.full(48, 0.25), shape)
    real = np.ones((5,) + shape, np.float32)
    fake = -np.ones((5,) + shape, np.float32)
    assert value(losses.gradient_penalty(critic, real, fake)) == pytest.approx((math.sqrt(3) - 1) ** 2, abs=1e-5)


def test_penalty_interpolates_from_fake_to_real_with_alpha_on_real():
    real = np.array([[3.0, 4.0]], np.float32)
    fake = np.zeros((1, 2), np.float32)
    # x_hat = 0.2 * real + 0.8 * fake = (0.6, 0.8): norm 1
    assert value(losses.gradient_penalty(quadratic_critic, real, fake, alpha=[0.2])) == pytest.approx(0.0, abs=1e-6)
    # alpha = 0.5: x_hat = (1.5, 2), norm 2.5, penalty 2.25
    assert value(losses.gradient_penalty(quadratic_critic, real, fake, alpha=[0.5])) == pytest.approx(2.25, abs=1e-5)


def test_penalty_norm_is_per_sample_over_all_non_batch_axes():
    # Two samples of shape (1, 2): x_hat = real (alpha = 1). Norms 1 and 3 -> mean of 0 and 4 = 2.
    # A norm over the whole batch would give (sqrt(10) - 1)^2 = 4.675; per pixel, something else again.
    real = np.array([[[0.6, 0.8]], [[0.0, 3.0]]], np.float32)
    gp = losses.gradient_penalty(quadratic_critic, real, np.zeros_like(real), alpha=[1.0, 1.0])
    assert value(gp) == pytest.approx(2.0, abs=1e-5)


def test_penalty_has_no_factor_one_half():
    critic = linear_critic([0.0, 3.0], (2,))
    x = np.zeros((3, 2), np.float32)
    assert value(losses.gradient_penalty(critic, x, x)) == pytest.approx(4.0, abs=1e-5)  # (3 - 1)^2


def test_penalty_gradient_is_finite_when_the_input_gradient_is_zero():
    # w = 0: the norm is 0, where d sqrt(u)/du is infinite. With epsilon the weight gradient is 0.
    critic = linear_critic([0.0, 0.0], (2,))
    x = np.ones((4, 2), np.float32)
    with tf.GradientTape() as tape:
        gp = losses.gradient_penalty(critic, x, -x)
    grad_w = tape.gradient(gp, critic.layers[-1].kernel)  # the bias does not enter the penalty
    assert value(gp) == pytest.approx(1.0, abs=1e-5)  # (sqrt(1e-12) - 1)^2
    np.testing.assert_array_equal(grad_w.numpy(), 0.0)  # 2 (norm - 1) w / norm = 0, not NaN


def test_without_epsilon_the_weight_gradient_would_be_nan():
    """Why the epsilon is there: the same computation with sqrt(sum g^2) exactly."""
    w = tf.Variable([[0.0], [0.0]])
    x = tf.ones((4, 2))
    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            inner.watch(x)
            scores = tf.matmul(x, w)
        g = inner.gradient(scores, x)
        gp = tf.reduce_mean((tf.sqrt(tf.reduce_sum(g**2, axis=1)) - 1.0) ** 2)
    assert np.isnan(outer.gradient(gp, w).numpy()).any()


def test_penalty_moves_the_critic_towards_unit_gradient_norm():
    # d/dw (||w|| - 1)^2 = 2 (||w|| - 1) w / ||w||: for w = (3, 4) it is 2 * 4 * (0.6, 0.8) = (4.8, 6.4)
    critic = linear_critic([3.0, 4.0], (2,))
    x = np.ones((4, 2), np.float32)
    with tf.GradientTape() as tape:
        gp = losses.gradient_penalty(critic, x, 0 * x)
    grad_w = tape.gradient(gp, critic.layers[-1].kernel).numpy().ravel()
    np.testing.assert_allclose(grad_w, [4.8, 6.4], atol=1e-4)


def test_penalty_rejects_mismatched_shapes_and_bad_epsilon():
    critic = linear_critic([1.0, 0.0], (2,))
    with pytest.raises(ValueError, match="same shape"):
        losses.gradient_penalty(critic, np.zeros((2, 2), np.float32), np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match="epsilon"):
        losses.gradient_penalty(critic, np.zeros((2, 2), np.float32), np.zeros((2, 2), np.float32), epsilon=0)


# --------------------------------------------------------------------------- alpha


def test_alpha_is_uniform_on_0_1_one_per_sample():
    n = 20000
    real = np.ones((n, 2, 2, 1), np.float32)
    fake = np.zeros((n, 2, 2, 1), np.float32)
    x_hat, alpha = losses.interpolate(real, fake, seed=11)
    alpha = alpha.numpy()
    assert alpha.shape == (n, 1, 1, 1)
    # one alpha per sample: every pixel of a sample sits at the same fraction of the way
    np.testing.assert_allclose(x_hat.numpy(), np.broadcast_to(alpha, x_hat.shape), atol=1e-7)
    a = alpha.ravel()
    assert a.min() >= 0.0 and a.max() <= 1.0
    assert a.mean() == pytest.approx(0.5, abs=0.01)
    assert a.var() == pytest.approx(1 / 12, abs=0.003)
    assert stats.kstest(a, "uniform").pvalue > 1e-3
    assert stats.kstest(a, "norm").pvalue < 1e-12  # the common mistake would pass this one


def test_alpha_stream_is_seeded():
    real, fake = np.ones((6, 3), np.float32), np.zeros((6, 3), np.float32)
    a1 = losses.interpolate(real, fake, seed=5)[1].numpy()
    a2 = losses.interpolate(real, fake, seed=5)[1].numpy()
    a3 = losses.interpolate(real, fake, seed=6)[1].numpy()
    np.testing.assert_array_equal(a1, a2)
    assert not np.array_equal(a1, a3)


# --------------------------------------------------------------------------- weight clipping


def test_clip_weights_by_hand():
    critic = linear_critic([0.5, -0.003], (2,), bias=-0.2)
    assert losses.clip_weights(critic, 0.01) is critic
    kernel, bias = critic.layers[-1].get_weights()
    np.testing.assert_allclose(kernel.ravel(), [0.01, -0.003])
    np.testing.assert_allclose(bias, [-0.01])


def test_clip_weights_rejects_a_non_positive_value():
    with pytest.raises(ValueError, match="clip_value"):
        losses.clip_weights(linear_critic([1.0], (1,)), 0.0)
