"""The one-step family: vanilla GAN (minimax and non-saturating), LSGAN and hinge GAN.

All four play the same round, one discriminator update then one generator update, and
differ only in the two loss functions, so one ``keras.Model`` serves them all:
``AdversarialGAN(generator, discriminator).compile(d_loss_fn=..., g_loss_fn=...)``.
``LOSSES`` names the pairs; ``make_gan("lsgan", ...)`` builds a compiled model.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from gan_course import losses, training
from gan_course.speed import precision
from gan_course.zoo import networks

__all__ = ["AdversarialGAN", "LOSSES", "make_gan"]

# variant -> (discriminator loss, generator loss, paper). Every function takes raw D scores.
LOSSES = {
    "vanilla-minimax": (losses.discriminator_loss, losses.minimax_generator_loss, "Goodfellow et al. 2014, eq. 1"),
    "vanilla-nonsat": (losses.discriminator_loss, losses.generator_loss, "Goodfellow et al. 2014, sec. 3"),
    "lsgan": (losses.lsgan_discriminator_loss, losses.lsgan_generator_loss, "Mao et al. 2017"),
    "hinge": (losses.hinge_discriminator_loss, losses.hinge_generator_loss, "Lim & Ye 2017; SAGAN, BigGAN"),
}


class AdversarialGAN(keras.Model):
    """A GAN whose ``train_step`` alternates one D update and one G update with pluggable losses.

    Args:
        generator: z (latent_dim,) -> image.
        discriminator: image -> one raw score per image.
        seed: seeds the noise drawn inside ``train_step``.
    """

    def __init__(self, generator, discriminator, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = int(generator.input_shape[-1])
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.real_score_tracker = keras.metrics.Mean(name="real_score")  # mean raw D(x)
        self.fake_score_tracker = keras.metrics.Mean(name="fake_score")  # mean raw D(G(z))
        self.built = True  # G and D arrive built

    def compile(self, d_optimizer=None, g_optimizer=None, d_loss_fn=None, g_loss_fn=None, **kwargs):
        """Two optimizers (default Adam(2e-4, beta_1=0.5)) and two losses of raw D scores
        (default: BCE for D, the non-saturating loss for G)."""
        super().compile(optimizer=None, **kwargs)
        # Under mixed_float16 each optimizer gets loss scaling (see gan_course.speed.precision).
        self.d_optimizer = precision.wrap_optimizer(
            d_optimizer or keras.optimizers.Adam(2e-4, beta_1=0.5), self.discriminator
        )
        self.g_optimizer = precision.wrap_optimizer(g_optimizer or keras.optimizers.Adam(2e-4, beta_1=0.5), self.generator)
        self.d_loss_fn = d_loss_fn or losses.discriminator_loss
        self.g_loss_fn = g_loss_fn or losses.generator_loss
        self.d_optimizer.build(self.discriminator.trainable_variables)
        self.g_optimizer.build(self.generator.trainable_variables)

    @property
    def metrics(self):
        return [self.d_loss_tracker, self.g_loss_tracker, self.real_score_tracker, self.fake_score_tracker]

    def fit(self, *args, shuffle=False, **kwargs):
        return super().fit(*args, shuffle=shuffle, **kwargs)  # tf.data shuffles

    def call(self, z, training=False):
        return self.generator(z, training=training)

    def sample_noise(self, n):
        return training.sample_replica_noise(n, self.latent_dim, self.seed_generator)

    def train_step(self, data):
        real_images = data[0] if isinstance(data, (tuple, list)) else data
        batch_size = tf.shape(real_images)[0]

        z = self.sample_noise(batch_size)
        with tf.GradientTape() as tape:
            real_scores = self.discriminator(real_images, training=True)
            fake_scores = self.discriminator(self.generator(z, training=True), training=True)
            d_loss = self.d_loss_fn(real_scores, fake_scores)
            # Inside the tape: under tf.distribute each replica's share of the mean (see training),
            # times the optimizer's loss scale under mixed_float16 (see gan_course.speed.precision).
            d_loss_scaled = self.d_optimizer.scale_loss(training.scale_for_replicas(d_loss))
        grads = tape.gradient(d_loss_scaled, self.discriminator.trainable_variables)
        self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_variables))

        z = self.sample_noise(batch_size)
        with tf.GradientTape() as tape:
            g_loss = self.g_loss_fn(self.discriminator(self.generator(z, training=True), training=True))
            # Inside the tape: under tf.distribute each replica's share of the mean (see training),
            # times the optimizer's loss scale under mixed_float16 (see gan_course.speed.precision).
            g_loss_scaled = self.g_optimizer.scale_loss(training.scale_for_replicas(g_loss))
        grads = tape.gradient(g_loss_scaled, self.generator.trainable_variables)
        self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_variables))

        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        self.real_score_tracker.update_state(real_scores)
        self.fake_score_tracker.update_state(fake_scores)
        return {m.name: m.result() for m in self.metrics}


def make_gan(variant: str, latent_dim: int, image_shape=(28, 28, 1), seed=None, learning_rate=2e-4):
    """A compiled ``AdversarialGAN`` with the zoo's MLPs and the loss pair ``LOSSES[variant]``."""
    if variant not in LOSSES:
        raise ValueError(f"Unknown variant {variant!r}; the one-step variants are {', '.join(LOSSES)}.")
    d_loss_fn, g_loss_fn, _ = LOSSES[variant]
    gan = AdversarialGAN(
        networks.mlp_generator(latent_dim, image_shape),
        networks.mlp_discriminator(image_shape),
        seed=seed,
        name=variant.replace("-", "_"),
    )
    gan.compile(
        d_optimizer=keras.optimizers.Adam(learning_rate, beta_1=0.5),
        g_optimizer=keras.optimizers.Adam(learning_rate, beta_1=0.5),
        d_loss_fn=d_loss_fn,
        g_loss_fn=g_loss_fn,
    )
    return gan
