"""The DCGAN as a ``keras.Model``: ``compile`` takes two optimizers, ``train_step`` plays one
round of the game (introduced, written out, in lesson 01).

Because it is a ``keras.Model``, ``fit`` brings progress bars, callbacks, history and
``BackupAndRestore`` for free; only the step itself is GAN-specific.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from gan_course import losses

__all__ = ["DCGAN", "check_image_shapes"]


def check_image_shapes(generator: keras.Model, discriminator: keras.Model, data_shape=None) -> None:
    """Fail early, with the fix, when G's images, D's input and the data disagree in shape."""
    g_out = tuple(generator.output_shape[1:])
    d_in = tuple(discriminator.input_shape[1:])
    if g_out != d_in:
        raise ValueError(
            f"The generator makes images of shape {g_out} but the discriminator expects {d_in}. "
            "Build both from the same image_shape."
        )
    if data_shape is not None:
        data = tuple(int(d) if d is not None else None for d in data_shape)
        if data != g_out:
            hint = ""
            if data[:2] == g_out[:2] and data[2] != g_out[2]:
                mode = "grayscale" if g_out[2] == 1 else "rgb"
                hint = (
                    f" The channel counts differ ({data[2]} vs {g_out[2]}): load the images with "
                    f"color_mode='{mode}' or build the models with {data[2]} channel(s)."
                )
            raise ValueError(f"The data has images of shape {data} but the models use {g_out}.{hint}")


class DCGAN(keras.Model):
    """A GAN trained with the DCGAN recipe: alternate one discriminator and one generator step.

    Args:
        generator: maps z of shape (latent_dim,) to an image.
        discriminator: maps an image to one logit.
        latent_dim: size of z; read from the generator when omitted.
        real_label: the discriminator's target for real images (0.9 = one-sided smoothing).
        seed: seeds the noise drawn inside ``train_step``, for repeatable runs.
    """

    def __init__(self, generator, discriminator, latent_dim=None, real_label=1.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        check_image_shapes(generator, discriminator)
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = int(latent_dim or generator.input_shape[-1])
        self.real_label = float(real_label)
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.d_real_tracker = keras.metrics.Mean(name="d_real")  # mean D(x): near 1 when D wins
        self.d_fake_tracker = keras.metrics.Mean(name="d_fake")  # mean D(G(z)): near 0 when D wins
        # G and D arrive built, so the GAN is too; BackupAndRestore needs that before fit.
        self.built = True

    def compile(
        self,
        d_optimizer=None,
        g_optimizer=None,
        d_loss_fn=losses.discriminator_loss,
        g_loss_fn=losses.generator_loss,
        **kwargs,
    ):
        """Two optimizers, one per player. Defaults: Adam(2e-4, beta_1=0.5), the DCGAN paper's."""
        super().compile(optimizer=None, **kwargs)  # GANs have two optimizers, below
        self.d_optimizer = d_optimizer or keras.optimizers.Adam(2e-4, beta_1=0.5)
        self.g_optimizer = g_optimizer or keras.optimizers.Adam(2e-4, beta_1=0.5)
        self.d_loss_fn = d_loss_fn
        self.g_loss_fn = g_loss_fn
        # Built now, so BackupAndRestore can load their state before the first step.
        self.d_optimizer.build(self.discriminator.trainable_variables)
        self.g_optimizer.build(self.generator.trainable_variables)

    @property
    def metrics(self):
        # Listed here so Keras resets them at the start of each epoch.
        return [self.d_loss_tracker, self.g_loss_tracker, self.d_real_tracker, self.d_fake_tracker]

    def fit(self, *args, shuffle=False, **kwargs):
        # The course's tf.data pipelines shuffle themselves; Keras would warn on shuffle=True.
        return super().fit(*args, shuffle=shuffle, **kwargs)

    def call(self, z, training=False):
        return self.generator(z, training=training)

    def sample_noise(self, n):
        """n latent vectors z ~ N(0, I), drawn from the model's own seeded stream."""
        return keras.random.normal((n, self.latent_dim), seed=self.seed_generator)

    def train_step(self, data):
        real_images = data[0] if isinstance(data, (tuple, list)) else data  # labels are ignored
        check_image_shapes(self.generator, self.discriminator, real_images.shape[1:])
        batch_size = tf.shape(real_images)[0]

        # 1. Discriminator: push D(x) up and D(G(z)) down.
        z = self.sample_noise(batch_size)
        with tf.GradientTape() as tape:
            fake_images = self.generator(z, training=True)
            real_logits = self.discriminator(real_images, training=True)
            fake_logits = self.discriminator(fake_images, training=True)
            d_loss = self.d_loss_fn(real_logits, fake_logits, real_label=self.real_label)
        grads = tape.gradient(d_loss, self.discriminator.trainable_variables)
        self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_variables))

        # 2. Generator: fresh noise, and only G's weights move.
        z = self.sample_noise(batch_size)
        with tf.GradientTape() as tape:
            fake_logits_g = self.discriminator(self.generator(z, training=True), training=True)
            g_loss = self.g_loss_fn(fake_logits_g)
        grads = tape.gradient(g_loss, self.generator.trainable_variables)
        self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_variables))

        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        self.d_real_tracker.update_state(tf.sigmoid(real_logits))
        self.d_fake_tracker.update_state(tf.sigmoid(fake_logits))
        return {m.name: m.result() for m in self.metrics}
