"""Losses against values computed by hand.

With logit l, D = sigmoid(l). l = 0 gives D = 1/2; l = ln 3 gives D = 3/4.
  -ln(1/2) = 0.693147, -ln(3/4) = 0.287682, -ln(1/4) = 1.386294.
"""

import math

import numpy as np
import pytest
import tensorflow as tf

from gan_course import losses

LN3 = math.log(3.0)


def value(x):
    return float(np.asarray(x))


def test_bce_at_half():
    assert value(losses.bce_with_logits(1.0, [0.0, 0.0])) == pytest.approx(math.log(2), abs=1e-6)


def test_discriminator_loss_when_d_is_unsure():
    # -ln(1/2) for the real half + -ln(1 - 1/2) for the fake half = 2 ln 2
    assert value(losses.discriminator_loss([0.0], [0.0])) == pytest.approx(1.386294, abs=1e-6)


def test_discriminator_loss_by_hand():
    # real D = 3/4 -> -ln(3/4) = 0.287682; fake D = 3/4 -> -ln(1/4) = 1.386294
    assert value(losses.discriminator_loss([LN3], [LN3])) == pytest.approx(0.287682 + 1.386294, abs=1e-6)


def test_one_sided_label_smoothing_by_hand():
    # real target 0.9, D = 3/4: -(0.9 ln 0.75 + 0.1 ln 0.25) = 0.258914 + 0.138629
    real_only = value(losses.discriminator_loss([LN3], [-1e4], real_label=0.9))
    assert real_only == pytest.approx(0.397543, abs=1e-6)


def test_generator_losses_by_hand():
    assert value(losses.generator_loss([LN3])) == pytest.approx(0.287682, abs=1e-6)  # -ln(3/4)
    assert value(losses.minimax_generator_loss([LN3])) == pytest.approx(-1.386294, abs=1e-6)  # ln(1/4)


def test_losses_average_over_the_batch():
    batch = value(losses.generator_loss([0.0, LN3]))
    assert batch == pytest.approx((0.693147 + 0.287682) / 2, abs=1e-6)


def test_extreme_logits_stay_finite():
    for fn in (lambda l: losses.discriminator_loss(l, -l), losses.generator_loss, losses.minimax_generator_loss):
        out = value(fn(tf.constant([-1e4, 1e4, 0.0])))
        assert math.isfinite(out)


def _grad(fn, logit):
    x = tf.Variable([logit])
    with tf.GradientTape() as tape:
        loss = fn(x)
    return float(tape.gradient(loss, x)[0])


def test_minimax_loss_saturates_where_non_saturating_does_not():
    """When D confidently rejects a fake (logit -10, D = 4.5e-5) the minimax loss gives the
    generator almost no gradient (-sigmoid(l)), the non-saturating one almost -1 (sigmoid(l) - 1)."""
    weak = _grad(losses.minimax_generator_loss, -10.0)
    strong = _grad(losses.generator_loss, -10.0)
    assert weak == pytest.approx(-1 / (1 + math.exp(10)), rel=1e-3)
    assert strong == pytest.approx(1 / (1 + math.exp(10)) - 1, rel=1e-3)
    assert abs(strong) > 1000 * abs(weak)


@pytest.mark.parametrize("target", [0.0, 0.9, 1.0])
def test_bce_gradient_is_sigmoid_minus_target_even_at_zero(target):
    # d/dl BCE(t, l) = sigmoid(l) - t; at l = 0 that is 0.5 - t (a max/abs form gets this wrong).
    import tensorflow as tf

    logits = tf.constant([[0.0], [2.0], [-3.0]])
    with tf.GradientTape() as tape:
        tape.watch(logits)
        loss = losses.bce_with_logits(target, logits) * 3  # mean over 3 items -> per-item grads
    grads = tape.gradient(loss, logits).numpy().ravel()
    expected = 1 / (1 + np.exp(-np.array([0.0, 2.0, -3.0]))) - target
    np.testing.assert_allclose(grads, expected, atol=1e-6)
