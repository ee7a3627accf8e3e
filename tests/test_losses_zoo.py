"""The zoo's losses (lesson 04) against values computed by hand.

Useful constants: ln 2 = 0.693147, ln 3 = 1.098612, -ln(3/4) = 0.287682, ln 4 = 1.386294,
ln(2 pi) / 2 = 0.918939. Scores are raw D outputs (no sigmoid) unless a loss says logits.
"""

import math

import numpy as np
import pytest
import tensorflow as tf

from gan_course import losses

HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def value(x):
    return float(np.asarray(x))


def test_lsgan_discriminator_loss_by_hand():
    # a=0, b=1: real [1, 0] -> 1/2 mean(0, 1) = 0.25; fake [0, 1] -> 1/2 mean(0, 1) = 0.25
    assert value(losses.lsgan_discriminator_loss([1.0, 0.0], [0.0, 1.0])) == pytest.approx(0.5)
    # real 2 -> 1/2 (2-1)^2 = 0.5; fake -1 -> 1/2 (-1-0)^2 = 0.5
    assert value(losses.lsgan_discriminator_loss([2.0], [-1.0])) == pytest.approx(1.0)
    # the -1/1 coding (a=-1, b=1): real 0 -> 0.5, fake 0 -> 0.5
    assert value(losses.lsgan_discriminator_loss([0.0], [0.0], a=-1.0, b=1.0)) == pytest.approx(1.0)


def test_lsgan_generator_loss_by_hand():
    assert value(losses.lsgan_generator_loss([0.0, 2.0])) == pytest.approx(0.5)  # 1/2 mean(1, 1)
    assert value(losses.lsgan_generator_loss([0.5], c=0.0)) == pytest.approx(0.125)


def test_lsgan_keeps_pulling_fakes_that_d_already_calls_real():
    # A fake scored 3 (well past the real target 1) still gets a gradient, back towards 1:
    # d/ds 1/2 (s - 1)^2 = s - 1 = 2. BCE's non-saturating loss gives only -sigmoid(-3) = -0.047.
    s = tf.Variable([3.0])
    with tf.GradientTape() as tape:
        loss = losses.lsgan_generator_loss(s)
    assert value(tape.gradient(loss, s)[0]) == pytest.approx(2.0)


def test_hinge_discriminator_loss_by_hand():
    # real [2, 0.5]: relu(1-2)=0, relu(1-0.5)=0.5 -> 0.25; fake [-2, 0]: relu(1-2)=0, relu(1+0)=1 -> 0.5
    assert value(losses.hinge_discriminator_loss([2.0, 0.5], [-2.0, 0.0])) == pytest.approx(0.75)
    # beyond the margins nothing is left to learn
    assert value(losses.hinge_discriminator_loss([1.5, 7.0], [-1.0, -4.0])) == pytest.approx(0.0)


def test_hinge_generator_loss_by_hand():
    assert value(losses.hinge_generator_loss([1.0, -3.0])) == pytest.approx(1.0)  # -mean(1, -3)


def test_infogan_categorical_loss_by_hand():
    # uniform logits over 3 classes: -ln(1/3) = ln 3 whatever the code
    assert value(losses.infogan_categorical_loss([1], [[0.0, 0.0, 0.0]])) == pytest.approx(1.098612, abs=1e-6)
    # logits [ln 3, 0] -> Q = (3/4, 1/4): code 0 costs 0.287682, code 1 costs 1.386294
    logits = [[math.log(3.0), 0.0], [math.log(3.0), 0.0]]
    assert value(losses.infogan_categorical_loss([0, 1], logits)) == pytest.approx((0.287682 + 1.386294) / 2, abs=1e-6)


def test_infogan_gaussian_loss_by_hand():
    # std 1: (1-0)^2/2 + (0-0)^2/2 + 2 * ln(2 pi)/2
    got = losses.infogan_gaussian_loss([[1.0, 0.0]], [[0.0, 0.0]])
    assert value(got) == pytest.approx(0.5 + 2 * HALF_LOG_2PI, abs=1e-6)
    # std 2 on the first code: ln 2 + (1/2)^2 / 2 + ln(2 pi)/2; std 1 and no error on the second
    expected = (math.log(2.0) + 0.125 + HALF_LOG_2PI) + HALF_LOG_2PI
    got = losses.infogan_gaussian_loss([[1.0, 0.0]], [[0.0, 0.0]], log_std=[[math.log(2.0), 0.0]])
    assert value(got) == pytest.approx(expected, abs=1e-6)


def test_l1_loss_by_hand():
    assert value(losses.l1_loss([[1.0, -1.0]], [[0.0, -1.0]])) == pytest.approx(0.5)


def test_pix2pix_generator_loss_by_hand():
    # adversarial: logit 0 -> -ln(1/2) = ln 2; L1: mean(|1-0|, |-1+1|) = 0.5, times 100
    got = losses.pix2pix_generator_loss([0.0], [1.0, -1.0], [0.0, -1.0])
    assert value(got) == pytest.approx(0.693147 + 50.0, abs=1e-5)
    assert value(losses.pix2pix_generator_loss([0.0], [1.0], [1.0], l1_weight=0.0)) == pytest.approx(0.693147, abs=1e-6)


def test_srgan_generator_loss_by_hand():
    # content MSE mean(1, 0) = 0.5, plus 1e-3 * ln 2
    got = losses.srgan_generator_loss([0.0], [1.0, -1.0], [0.0, -1.0])
    assert value(got) == pytest.approx(0.5 + 0.000693147, abs=1e-7)


@pytest.mark.parametrize("fn", [losses.lsgan_generator_loss, losses.hinge_generator_loss])
def test_zoo_losses_return_float32_scalars(fn):
    out = fn(np.array([[1.0], [2.0]], dtype=np.float16))
    assert out.shape == () and out.dtype == tf.float32
