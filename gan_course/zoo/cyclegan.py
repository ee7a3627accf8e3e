"""CycleGAN (Zhu et al. 2017): translation between two image sets with no pairs.

Introduced, written out, in lesson 06 (``notebooks/06_beyond_dcgan.ipynb``) on an offline toy:
set A is digits, set B is digit outlines (``zoo.pix2pix.digit_outlines``) of *other* digits,
so no image of A has its partner in B. Pix2Pix (lesson 04) needs the pairs; CycleGAN replaces
them with two translators, ``G: A -> B`` and ``F: B -> A``, a discriminator per set, and two
extra losses:

- **cycle consistency** ``E_a |F(G(a)) - a| + E_b |G(F(b)) - b|``: a round trip returns the
  input, so G cannot map every digit to the same plausible outline;
- **identity** ``E_b |G(b) - b| + E_a |F(a) - a|``: a translator given an image that already
  belongs to its target set leaves it alone (the paper's weight: half the cycle weight).

The adversarial terms are LSGAN's, as in the paper. The translators use instance normalisation
(Keras' ``GroupNormalization(groups=-1)``) and residual blocks, CycleGAN's generator in
miniature; every layer is a stock Keras layer, so a saved translator loads with plain
``keras.saving.load_model``.

``CycleGAN`` is a ``keras.Model`` in the course pattern (two optimizers, trackers,
``train_step``) rather than a ``gan.TwoPlayerGAN``: it has four players, not two.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import layers, ops

from gan_course import losses, precision
from gan_course.gan import scale_for_replicas

__all__ = ["cycle_consistency_loss", "identity_loss", "translator", "CycleGAN"]


def cycle_consistency_loss(originals, round_trips):
    """``E |x - F(G(x))|``: mean absolute error between images and their round trips."""
    return losses.l1_loss(originals, round_trips)


def identity_loss(images, translated_same):
    """``E |y - G(y)|`` for images y already in G's target set."""
    return losses.l1_loss(images, translated_same)


def _norm(name):
    return layers.GroupNormalization(groups=-1, name=name)  # groups=-1: instance normalisation


def translator(image_shape=(28, 28, 1), width: int = 32, n_residual: int = 2, name: str = "translator"):
    """An image-to-image network: 5x5 conv at 28x28, a stride-2 conv to 14x14, ``n_residual``
    residual blocks, a transposed conv back to 28x28 and a 5x5 conv with tanh; instance norm
    and ReLU after every inner convolution (Zhu et al.'s ResNet generator, shrunk)."""
    image = keras.Input(shape=tuple(image_shape), name="image")
    x = layers.ReLU()(_norm("norm_in")(layers.Conv2D(width, 5, padding="same", name="conv_in")(image)))
    x = layers.ReLU()(_norm("norm_down")(layers.Conv2D(2 * width, 3, strides=2, padding="same", name="down")(x)))
    for i in range(n_residual):
        y = layers.ReLU()(_norm(f"res{i}_norm_a")(layers.Conv2D(2 * width, 3, padding="same", name=f"res{i}_a")(x)))
        y = _norm(f"res{i}_norm_b")(layers.Conv2D(2 * width, 3, padding="same", name=f"res{i}_b")(y))
        x = layers.Add(name=f"res{i}_add")([x, y])
    x = layers.ReLU()(_norm("norm_up")(layers.Conv2DTranspose(width, 3, strides=2, padding="same", name="up")(x)))
    out = layers.Conv2D(int(image_shape[-1]), 5, padding="same", activation="tanh", dtype="float32", name="out")(x)
    return keras.Model(image, out, name=name)


class CycleGAN(keras.Model):
    """Unpaired translation A <-> B, trained on (a, b) batches that are *not* pairs.

    Args:
        g_ab, g_ba: the translators G: A -> B and F: B -> A.
        d_a, d_b: a discriminator (raw scores, e.g. a PatchGAN map) for each set.
        cycle_weight: lambda_cyc (the paper's 10); identity_weight: lambda_id (the paper's
            0.5 * lambda_cyc = 5; 0 switches the identity loss off).

    Each step: one forward pass of both translators, then both translators move on
    ``L_G = adv + lambda_cyc * cycle + lambda_id * identity`` and both discriminators on
    ``L_D = (L_D_A + L_D_B) / 2`` (LSGAN losses; the paper halves D's loss), all from the same
    fakes.
    """

    tracked = ("d_loss", "g_loss", "adversarial", "cycle", "identity")

    def __init__(self, g_ab, g_ba, d_a, d_b, cycle_weight: float = 10.0, identity_weight: float = 5.0, **kwargs):
        super().__init__(**kwargs)
        self.g_ab, self.g_ba, self.d_a, self.d_b = g_ab, g_ba, d_a, d_b
        self.cycle_weight, self.identity_weight = float(cycle_weight), float(identity_weight)
        self.trackers = [keras.metrics.Mean(name=name) for name in self.tracked]
        self.built = True

    def compile(self, d_optimizer=None, g_optimizer=None, **kwargs):
        """One optimizer for both discriminators and one for both translators; default
        Adam(2e-4, beta_1=0.5), the paper's."""
        super().compile(optimizer=None, **kwargs)
        self.g_weights = self.g_ab.trainable_variables + self.g_ba.trainable_variables
        self.d_weights = self.d_a.trainable_variables + self.d_b.trainable_variables
        self.d_optimizer = precision.wrap_optimizer(d_optimizer or keras.optimizers.Adam(2e-4, beta_1=0.5), self.d_a)
        self.g_optimizer = precision.wrap_optimizer(g_optimizer or keras.optimizers.Adam(2e-4, beta_1=0.5), self.g_ab)
        self.d_optimizer.build(self.d_weights)
        self.g_optimizer.build(self.g_weights)

    @property
    def metrics(self):
        return self.trackers

    def fit(self, *args, shuffle=False, **kwargs):
        return super().fit(*args, shuffle=shuffle, **kwargs)

    def call(self, a, training=False):
        return self.g_ab(a, training=training)

    def _move(self, tape, loss, optimizer, weights):
        c = optimizer.scale_loss(scale_for_replicas(tf.ones_like(loss)))
        optimizer.apply_gradients(zip(tape.gradient(loss, weights, output_gradients=c), weights))

    def train_step(self, data):
        if isinstance(data, (tuple, list)):  # train_on_batch(a, b) arrives as (a, b, None)
            data = tuple(d for d in data if d is not None)
            if len(data) == 1 and isinstance(data[0], (tuple, list)):
                data = tuple(data[0])
        if not isinstance(data, (tuple, list)) or len(data) != 2:
            raise ValueError("CycleGAN trains on (a, b) batches from the two sets, e.g. "
                             "tf.data.Dataset.zip((set_a_batches, set_b_batches)).")
        a, b = tf.convert_to_tensor(data[0]), tf.convert_to_tensor(data[1])
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake_b, fake_a = self.g_ab(a, training=True), self.g_ba(b, training=True)
            cycled_a, cycled_b = self.g_ba(fake_b, training=True), self.g_ab(fake_a, training=True)
            adversarial = (losses.lsgan_generator_loss(self.d_b(fake_b, training=True))
                           + losses.lsgan_generator_loss(self.d_a(fake_a, training=True)))
            cycle = cycle_consistency_loss(a, cycled_a) + cycle_consistency_loss(b, cycled_b)
            identity = ops.zeros(())
            if self.identity_weight:
                identity = (identity_loss(b, self.g_ab(b, training=True))
                            + identity_loss(a, self.g_ba(a, training=True)))
            g_loss = adversarial + self.cycle_weight * cycle + self.identity_weight * identity
            d_loss = 0.5 * (
                losses.lsgan_discriminator_loss(self.d_a(a, training=True), self.d_a(ops.stop_gradient(fake_a), training=True))
                + losses.lsgan_discriminator_loss(self.d_b(b, training=True), self.d_b(ops.stop_gradient(fake_b), training=True))
            )
        self._move(g_tape, g_loss, self.g_optimizer, self.g_weights)
        self._move(d_tape, d_loss, self.d_optimizer, self.d_weights)
        values = dict(d_loss=d_loss, g_loss=g_loss, adversarial=adversarial, cycle=cycle, identity=identity)
        for tracker in self.trackers:
            tracker.update_state(values[tracker.name])
        return {tracker.name: tracker.result() for tracker in self.trackers}
