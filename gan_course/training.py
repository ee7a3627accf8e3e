"""The DCGAN as a ``keras.Model``: ``compile`` takes two optimizers and two losses,
``train_step`` plays one round of the game (introduced, written out, in lesson 01).

What every course GAN shares (optimizers, trackers, seeded noise, one ``move`` per player)
is in ``gan_course.gan.TwoPlayerGAN``; this module holds only the DCGAN's step.
"""

from __future__ import annotations

import functools
import inspect

import tensorflow as tf

from gan_course import losses
# The replica helpers are defined in gan_course.gan and re-exported here with check_image_shapes
# (which DCGAN uses): lesson 02 calls training.check_image_shapes, tests/test_training.py and
# tests/test_zoo.py call training.sample_replica_noise; no lesson uses the other three from here.
from gan_course.gan import (  # noqa: F401
    TwoPlayerGAN,
    check_image_shapes,
    replica_info,
    replica_random,
    sample_replica_noise,
    scale_for_replicas,
)

__all__ = ["DCGAN", "UPDATES", "check_image_shapes", "replica_info", "scale_for_replicas", "replica_random", "sample_replica_noise"]


UPDATES = ("alternating", "simultaneous")


class DCGAN(TwoPlayerGAN):
    """A GAN trained with the DCGAN recipe: one discriminator move and one generator move per batch.

    Args:
        generator: maps z of shape (latent_dim,) to an image.
        discriminator: maps an image to one logit.
        latent_dim: size of z; read from the generator when omitted.
        real_label: the discriminator's target for real images (0.9 = one-sided smoothing),
            passed to ``d_loss_fn`` as ``real_label=`` when it is not 1.
        seed: seeds the noise drawn inside ``train_step``, for repeatable runs.
        update: the order of the two players' moves in one step (both use one pass of G):
            ``"alternating"``: D moves first, then G is judged by the *updated* D on the same
            fakes (the course's meaning everywhere: see ``gan_course.gan``; one more D forward
            pass per step); ``"simultaneous"``: both gradients come from the same forward pass
            and both players move at once (the TensorFlow tutorial's order; the cheapest step).
        ema, augment, r1_gamma, r1_every: generator EMA, DiffAugment and the (lazy) R1 penalty on
            D's loss, see ``gan_course.gan.TwoPlayerGAN``.

    Any pair of losses of raw scores plugs in through ``compile``: BCE and the non-saturating
    loss by default, LSGAN's or the hinge loss from ``gan_course.losses`` for the zoo.
    Logged: ``d_loss``, ``g_loss``, and ``d_real`` / ``d_fake``, the mean of sigmoid(score) for real
    and fake images (D's probabilities under the BCE losses: near 1 and 0 when D wins).
    """

    tracked = ("d_loss", "g_loss", "d_real", "d_fake")
    adds_r1 = True

    def __init__(self, generator, discriminator, latent_dim=None, real_label=1.0, seed=None, update="alternating",
                 **kwargs):
        check_image_shapes(generator, discriminator)
        if update not in UPDATES:
            raise ValueError(f"update must be one of {UPDATES}, not {update!r}")
        super().__init__(generator, discriminator, latent_dim=latent_dim, seed=seed, **kwargs)
        self.update_order = update
        self.real_label = float(real_label)

    def compile(self, d_optimizer=None, g_optimizer=None, d_loss_fn=losses.discriminator_loss,
                g_loss_fn=losses.generator_loss, **kwargs):
        """Two optimizers (default Adam(2e-4, beta_1=0.5), the DCGAN paper's) and two losses:
        ``d_loss_fn(real_logits, fake_logits)`` and ``g_loss_fn(fake_logits)``."""
        super().compile(d_optimizer, g_optimizer, **kwargs)
        if self.real_label != 1.0:
            if "real_label" not in inspect.signature(d_loss_fn).parameters:
                raise ValueError(f"real_label={self.real_label} needs a d_loss_fn with a real_label argument "
                                 f"(like losses.discriminator_loss); {d_loss_fn.__name__} has none.")
            d_loss_fn = functools.partial(d_loss_fn, real_label=self.real_label)
        self.d_loss_fn = d_loss_fn
        self.g_loss_fn = g_loss_fn

    def train_step(self, data):
        real_images = data[0] if isinstance(data, (tuple, list)) else data  # labels are ignored
        check_image_shapes(self.generator, self.discriminator, real_images.shape[1:])
        z = self.sample_noise(tf.shape(real_images)[0])
        if self.update_order == "simultaneous":
            return self.simultaneous_step(real_images, z)
        return self.alternating_step(real_images, z)

    def discriminator_loss(self, real_images, fake_images):
        """D's loss on a real and a fake batch (plus the R1 penalty when ``r1_gamma > 0``),
        with both batches' logits."""
        real_logits = self.score(real_images)
        fake_logits = self.score(fake_images)
        d_loss = self.d_loss_fn(real_logits, fake_logits)
        if self.r1_gamma > 0:
            d_loss += self.lazy_r1(real_images)
        return d_loss, real_logits, fake_logits

    def alternating_step(self, real_images, z):
        with tf.GradientTape() as g_tape:
            fake_images = self.generator(z, training=True)
            # 1. Discriminator: push D(x) up and D(G(z)) down. Its move is not part of G's gradient.
            with g_tape.stop_recording():
                with tf.GradientTape() as d_tape:
                    d_loss, real_logits, fake_logits = self.discriminator_loss(real_images, fake_images)
                self.move(d_tape, d_loss, self.d_optimizer, self.discriminator)
            # 2. Generator: the updated D judges the same fakes; only G's weights move.
            g_loss = self.g_loss_fn(self.score(fake_images))
        self.move(g_tape, g_loss, self.g_optimizer, self.generator, inputs=z)
        return self.log(d_loss=d_loss, g_loss=g_loss, d_real=tf.sigmoid(real_logits), d_fake=tf.sigmoid(fake_logits))

    def simultaneous_step(self, real_images, z):
        # One forward pass gives both losses; each player's gradient comes from the same D.
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake_images = self.generator(z, training=True)
            d_loss, real_logits, fake_logits = self.discriminator_loss(real_images, fake_images)
            g_loss = self.g_loss_fn(fake_logits)
        self.move(d_tape, d_loss, self.d_optimizer, self.discriminator)
        self.move(g_tape, g_loss, self.g_optimizer, self.generator, inputs=z)
        return self.log(d_loss=d_loss, g_loss=g_loss, d_real=tf.sigmoid(real_logits), d_fake=tf.sigmoid(fake_logits))
