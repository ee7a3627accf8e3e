"""The DCGAN as a ``keras.Model``: ``compile`` takes two optimizers, ``train_step`` plays one
round of the game (introduced, written out, in lesson 01).

Because it is a ``keras.Model``, ``fit`` brings progress bars, callbacks, history and
``BackupAndRestore`` for free; only the step itself is GAN-specific.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from gan_course import losses
from gan_course.speed import precision

__all__ = ["DCGAN", "UPDATES", "check_image_shapes", "replica_info", "scale_for_replicas", "replica_random", "sample_replica_noise"]


UPDATES = ("alternating", "simultaneous")


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


def replica_info():
    """(this replica's index, number of replicas): (0, 1) outside ``tf.distribute``."""
    ctx = tf.distribute.get_replica_context()
    if ctx is None:  # cross-replica context, e.g. eager code inside strategy.scope()
        return 0, tf.distribute.get_strategy().num_replicas_in_sync
    return ctx.replica_id_in_sync_group, ctx.num_replicas_in_sync


def scale_for_replicas(loss):
    """A replica's mean loss, divided by the number of replicas.

    Under ``tf.distribute`` each replica sees ``global_batch / n`` examples and the optimizer
    *sums* the replicas' gradients. Dividing each replica's mean by ``n`` makes that sum the
    gradient of the mean over the global batch: what one device computes on the whole batch.
    On one device it divides by 1. (Keras' built-in ``fit`` does the same for standard losses.)
    """
    _, replicas = replica_info()
    return loss if replicas == 1 else loss / tf.cast(replicas, loss.dtype)


def replica_random(draw, n):
    """This replica's n rows of a random draw made for the whole global batch.

    ``draw(m)`` returns m random rows (noise, interpolation weights, ...). Every replica makes
    the global draw from the same seeded stream and keeps its own slice, so n replicas
    together use exactly the random numbers one device would draw for the whole batch.
    """
    replica, replicas = replica_info()
    if replicas == 1:
        return draw(n)
    return draw(n * replicas)[replica * n : (replica + 1) * n]


def sample_replica_noise(n, latent_dim, seed_generator):
    """z ~ N(0, I) for this replica's n examples (see ``replica_random``)."""
    return replica_random(lambda m: keras.random.normal((m, latent_dim), seed=seed_generator), n)


class DCGAN(keras.Model):
    """A GAN trained with the DCGAN recipe: alternate one discriminator and one generator step.

    Args:
        generator: maps z of shape (latent_dim,) to an image.
        discriminator: maps an image to one logit.
        latent_dim: size of z; read from the generator when omitted.
        real_label: the discriminator's target for real images (0.9 = one-sided smoothing).
        seed: seeds the noise drawn inside ``train_step``, for repeatable runs.
        update: the order of the two players' moves in one step (both use one pass of G):
            ``"alternating"``: D moves first, then G is judged by the *updated* D (the DCGAN
            paper's and the PyTorch tutorial's order; one more D forward pass per step);
            ``"simultaneous"``: both gradients come from the same forward pass and both players
            move at once (the TensorFlow tutorial's order; the cheapest step).
    """

    def __init__(self, generator, discriminator, latent_dim=None, real_label=1.0, seed=None, update="alternating",
                 **kwargs):
        super().__init__(**kwargs)
        check_image_shapes(generator, discriminator)
        if update not in UPDATES:
            raise ValueError(f"update must be one of {UPDATES}, not {update!r}")
        self.update = update
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
        # Under mixed_float16 each optimizer gets loss scaling (see gan_course.speed.precision).
        self.d_optimizer = precision.wrap_optimizer(
            d_optimizer or keras.optimizers.Adam(2e-4, beta_1=0.5), self.discriminator
        )
        self.g_optimizer = precision.wrap_optimizer(g_optimizer or keras.optimizers.Adam(2e-4, beta_1=0.5), self.generator)
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
        """n latent vectors z ~ N(0, I), drawn from the model's own seeded stream (per replica
        under ``tf.distribute``: see ``sample_replica_noise``)."""
        return sample_replica_noise(n, self.latent_dim, self.seed_generator)

    def train_step(self, data):
        real_images = data[0] if isinstance(data, (tuple, list)) else data  # labels are ignored
        check_image_shapes(self.generator, self.discriminator, real_images.shape[1:])
        batch_size = tf.shape(real_images)[0]

        z = self.sample_noise(batch_size)
        if self.update == "simultaneous":
            d_loss, g_loss, real_logits, fake_logits = self._simultaneous_step(real_images, z)
        else:
            d_loss, g_loss, real_logits, fake_logits = self._alternating_step(real_images, z)
        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        self.d_real_tracker.update_state(tf.sigmoid(real_logits))
        self.d_fake_tracker.update_state(tf.sigmoid(fake_logits))
        return {m.name: m.result() for m in self.metrics}

    def _simultaneous_step(self, real_images, z):
        # One forward pass gives both losses; each player's gradient comes from the same D.
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake_images = self.generator(z, training=True)
            real_logits = self.discriminator(real_images, training=True)
            fake_logits = self.discriminator(fake_images, training=True)
            d_loss = self.d_loss_fn(real_logits, fake_logits, real_label=self.real_label)
            g_loss = self.g_loss_fn(fake_logits)
            d_scaled = self.d_optimizer.scale_loss(scale_for_replicas(d_loss))
            g_scaled = self.g_optimizer.scale_loss(scale_for_replicas(g_loss))
        d_grads = d_tape.gradient(d_scaled, self.discriminator.trainable_variables)
        g_grads = g_tape.gradient(g_scaled, self.generator.trainable_variables)
        self.d_optimizer.apply_gradients(zip(d_grads, self.discriminator.trainable_variables))
        self.g_optimizer.apply_gradients(zip(g_grads, self.generator.trainable_variables))
        return d_loss, g_loss, real_logits, fake_logits

    def _alternating_step(self, real_images, z):
        # One pass of G serves both updates (the order of the PyTorch DCGAN tutorial): D learns
        # from these fakes, then the updated D judges the same fakes for G. G runs once, not
        # twice; D runs once more than in the simultaneous step (measured: ~10% slower per step
        # on CPU, better samples per epoch; see python -m gan_course.bench).
        with tf.GradientTape() as g_tape:
            fake_images = self.generator(z, training=True)
            # 1. Discriminator: push D(x) up and D(G(z)) down.
            with g_tape.stop_recording():  # D's update is not part of G's gradient
                with tf.GradientTape() as d_tape:
                    real_logits = self.discriminator(real_images, training=True)
                    fake_logits = self.discriminator(fake_images, training=True)
                    d_loss = self.d_loss_fn(real_logits, fake_logits, real_label=self.real_label)
                    d_scaled = self.d_optimizer.scale_loss(scale_for_replicas(d_loss))
                grads = d_tape.gradient(d_scaled, self.discriminator.trainable_variables)
                self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_variables))
            # 2. Generator: only G's weights move; D is the judge.
            g_loss = self.g_loss_fn(self.discriminator(fake_images, training=True))
            g_scaled = self.g_optimizer.scale_loss(scale_for_replicas(g_loss))
        grads = g_tape.gradient(g_scaled, self.generator.trainable_variables)
        self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_variables))
        return d_loss, g_loss, real_logits, fake_logits
