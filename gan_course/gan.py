"""``TwoPlayerGAN``: what every GAN in the course has in common, so each model shows only its step.

A GAN is a ``keras.Model`` (the keras-io pattern): ``compile`` takes one optimizer per player,
``train_step`` plays one round of the game, ``keras.metrics.Mean`` trackers log it, and ``fit``
brings progress bars, callbacks, history and ``BackupAndRestore`` for free. Every course GAN
(``training.DCGAN``, ``wgan.WGAN`` and the zoo's) extends this class and writes only:

- ``tracked``: the names of the numbers its step logs;
- ``default_optimizers()`` when the paper's differ from DCGAN's Adam(2e-4, beta_1=0.5);
- ``train_step``: which losses, in which order. Each player's move is one line,
  ``self.move(tape, loss, optimizer, player)``, and the discriminator judges images with
  ``self.score(images)``.

Three stabilisers plug in here once, for every model:

- ``ema=0.999``: an exponential moving average of G's weights (``gan_course.ema``), updated by
  ``move`` after each generator move; ``sampling_generator`` (and so ``gan(z)``, the grids,
  the scores and ``saving.save_gan``) is then the average;
- ``augment="color,translation,cutout"``: DiffAugment (``gan_course.diffaugment``) inside
  ``score``, so real and fake images are augmented alike in both players' steps;
- two time scales (TTUR): ``compile`` takes each player's optimizer, with its own learning rate.

**Alternating updates** mean one thing everywhere in the course: the discriminator moves first,
on a batch of fakes; then the generator is judged by the *updated* discriminator on those same
fakes, so G runs once per step (Goodfellow et al. 2014, Algorithm 1, with k = 1; the PyTorch
DCGAN tutorial's order). The WGAN's critic moves ``n_critic`` times before each generator move.

Under ``tf.distribute`` each replica sees its share of the global batch (``replica_random``,
``scale_for_replicas``); under ``mixed_float16`` each optimizer scales its loss. ``move`` does
both, so the steps read as they would on one device.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from gan_course import diffaugment, losses, precision
from gan_course.ema import GeneratorEMA

__all__ = [
    "TwoPlayerGAN",
    "two_time_scale_optimizers",
    "check_image_shapes",
    "replica_info",
    "scale_for_replicas",
    "replica_random",
    "sample_replica_noise",
]


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


def _latent_dim(generator) -> int | None:
    shape = generator.input_shape
    if isinstance(shape, list):  # [z, label, ...]: z comes first
        shape = shape[0]
    return int(shape[-1]) if len(shape) == 2 else None  # None: G's input is an image, not z


class TwoPlayerGAN(keras.Model):
    """A generator and a discriminator (or critic), one optimizer each, trained by ``fit``.

    Args:
        generator: maps z (first input when it has several) to an image.
        discriminator: maps an image (and whatever the subclass adds) to raw scores.
        latent_dim: size of z; read from the generator when omitted.
        seed: seeds every random draw inside ``train_step`` (noise, labels, codes,
            augmentations), for repeatable runs.
        ema: None (off, the default), a decay beta such as 0.999, or a ``GeneratorEMA``: keep an
            exponential moving average of the generator's weights (``gan_course.ema``) and sample
            from it (``sampling_generator``).
        augment: None (off, the default), a DiffAugment policy such as
            ``"color,translation,cutout"`` (``gan_course.diffaugment``), or a callable
            ``augment(images, seed) -> images``; applied by ``score`` to every image the
            discriminator judges during training, real or fake, in both players' steps.
        r1_gamma: weight gamma of the R1 penalty ``(gamma / 2) E_x[||grad_x D(x)||^2]`` on real
            images (``losses.r1_penalty``; Mescheder et al. 2018), which a subclass adds to D's
            loss with ``lazy_r1``; 0 (the default) leaves it out.
        r1_every: lazy regularisation (Karras et al. 2019, StyleGAN2, section 3.1): add the R1
            penalty only on every ``r1_every``-th discriminator step, weighted ``r1_every`` times
            as much, so that on average it pulls as hard for a fraction of its cost; 1 (the
            default) adds it at every step, as does any run under a ``tf.distribute`` strategy
            (see ``lazy_r1``).
    """

    tracked: tuple[str, ...] = ("d_loss", "g_loss")
    adds_r1 = False  # True in the subclasses whose train_step adds ``lazy_r1`` to D's loss

    def __init__(self, generator, discriminator, latent_dim=None, seed=None, ema=None, augment=None,
                 r1_gamma=0.0, r1_every=1, **kwargs):
        if r1_gamma and not self.adds_r1:
            raise ValueError(f"{type(self).__name__} does not add the R1 penalty to its loss, so r1_gamma={r1_gamma!r} "
                             "would do nothing: leave it out (training.DCGAN and zoo.stylegan.StyleGAN take it).")
        if r1_gamma < 0:
            raise ValueError(f"r1_gamma must be >= 0 (the R1 paper uses 10), got {r1_gamma!r}")
        if int(r1_every) != r1_every or r1_every < 1:
            raise ValueError(f"r1_every must be a whole number >= 1 (1: every step; StyleGAN2 uses 16), got {r1_every!r}")
        super().__init__(**kwargs)
        self.r1_gamma = float(r1_gamma)
        self.r1_every = int(r1_every)
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = int(latent_dim) if latent_dim else _latent_dim(generator)
        self.seed_generator = keras.random.SeedGenerator(seed)
        if ema is not None and not isinstance(ema, GeneratorEMA):
            ema = GeneratorEMA(generator, decay=ema)
        self.ema = ema
        if isinstance(augment, str):
            diffaugment.policy_names(augment)  # an unknown name fails now, not at the first step
        self.augment = augment or None
        self.trackers = [keras.metrics.Mean(name=name) for name in self.tracked]
        # G and D arrive built, so the GAN is too; BackupAndRestore needs that before fit.
        self.built = True

    def default_optimizers(self):
        """(discriminator's, generator's) optimizer when ``compile`` is given none: the DCGAN
        paper's Adam(2e-4, beta_1=0.5) for both."""
        return keras.optimizers.Adam(2e-4, beta_1=0.5), keras.optimizers.Adam(2e-4, beta_1=0.5)

    def compile(self, d_optimizer=None, g_optimizer=None, **kwargs):
        """One optimizer per player (defaults: ``default_optimizers()``).

        Each player has its own optimizer, so each can have its own learning rate: the
        two time-scale update rule (TTUR; Heusel et al. 2017, "GANs Trained by a Two Time-Scale
        Update Rule Converge to a Local Nash Equilibrium", arXiv:1706.08500) proves convergence
        when the discriminator learns on a faster time scale than the generator. In practice:
        ``compile(d_optimizer=Adam(4e-4, beta_1=0.0, beta_2=0.9),
        g_optimizer=Adam(1e-4, beta_1=0.0, beta_2=0.9))``, SAGAN's setting (Zhang et al. 2018),
        or ``compile(*two_time_scale_optimizers())``.
        """
        super().compile(optimizer=None, **kwargs)  # two optimizers, below, instead of Keras' one
        d_default, g_default = self.default_optimizers()
        # Under mixed_float16 each optimizer gets loss scaling (see gan_course.precision).
        self.d_optimizer = precision.wrap_optimizer(d_optimizer or d_default, self.discriminator)
        self.g_optimizer = precision.wrap_optimizer(g_optimizer or g_default, self.generator)
        # Built now, so BackupAndRestore can load their state before the first step.
        self.d_optimizer.build(self.discriminator.trainable_variables)
        self.g_optimizer.build(self.generator.trainable_variables)

    @property
    def metrics(self):
        # Listed here so Keras resets them at the start of each epoch.
        return self.trackers

    def log(self, **values):
        """Add this step's values to the trackers; returns what ``fit`` prints."""
        for tracker in self.trackers:
            if tracker.name in values:
                tracker.update_state(values[tracker.name])
        return {tracker.name: tracker.result() for tracker in self.trackers}

    def fit(self, *args, shuffle=False, **kwargs):
        # The course's tf.data pipelines shuffle themselves; Keras would warn on shuffle=True.
        from gan_course.callbacks import with_fit_progress

        # Inside a sweep or a series of runs (progress.Progress), its bar shows this run's steps.
        kwargs["callbacks"] = with_fit_progress(kwargs.get("callbacks"))
        return super().fit(*args, shuffle=shuffle, **kwargs)

    @property
    def sampling_generator(self):
        """The generator to draw samples from: the moving average when ``ema`` is on, else
        the generator itself. ``gan(z)``, ``callbacks.GANMonitor``, the scores and
        ``saving.save_gan`` use it."""
        return self.generator if self.ema is None else self.ema.average

    def call(self, inputs, training=False):
        return self.sampling_generator(inputs, training=training)

    def augment_images(self, images):
        """``images`` as the discriminator sees them in training: augmented by ``augment``
        (one fresh random draw per call), or unchanged when it is off."""
        if self.augment is None:
            return images
        if callable(self.augment):
            return self.augment(images, self.seed_generator)
        return diffaugment.diff_augment(images, self.augment, seed=self.seed_generator)

    def score(self, images, training=True):
        """The discriminator's raw scores of ``images`` during training: ``D(T(images))``, with
        T the augmentation (DiffAugment; the identity when ``augment`` is off). Every step
        judges real and fake images through this one method, so both are augmented alike, in
        both players' steps; nothing else (sampling, scoring, saving) augments."""
        images = self.augment_images(images) if training else images
        return self.discriminator(images, training=training)

    def lazy_r1(self, real_images):
        """The R1 penalty on real images, through the same augmentation as D's other calls;
        with ``r1_every = k`` only on D's steps 0, k, 2k, ... and then with weight ``k * gamma``.

        Under a ``tf.distribute`` strategy R1 runs at every step with weight ``gamma`` instead (the
        same average pull, at the full cost): batch norm synchronises its statistics across
        replicas, and TensorFlow does not allow that synchronisation inside ``tf.cond``."""
        if self.r1_every == 1 or tf.distribute.has_strategy():
            return losses.r1_penalty(self.score, real_images, self.r1_gamma)
        due = tf.equal(self.d_optimizer.iterations % self.r1_every, 0)
        return tf.cond(due, lambda: losses.r1_penalty(self.score, real_images, self.r1_gamma * self.r1_every),
                       lambda: tf.zeros((), tf.float32))

    def sample_noise(self, n):
        """n latent vectors z ~ N(0, I) from the model's own seeded stream (this replica's
        slice of the global batch under ``tf.distribute``)."""
        return sample_replica_noise(n, self.latent_dim, self.seed_generator)

    def draw(self, sample, n):
        """n rows of ``sample(m, seed_generator)`` (labels, codes, alphas), per replica like the noise."""
        return replica_random(lambda m: sample(m, self.seed_generator), n)

    def move(self, tape, loss, optimizer, player, inputs=None):
        """One player's move: the gradient of ``loss`` for ``player``'s weights, then a step.
        For the generator, ``inputs`` (its input batch) lets the EMA measure batch norm's
        statistics on the averaged weights (``gan_course.ema``).

        The tape starts the backward pass from ``c`` instead of 1, which gives the gradient of
        ``c * loss``: ``c`` is the optimizer's loss scale under mixed_float16 (undone by the
        optimizer) divided by the number of replicas under ``tf.distribute`` (see
        ``scale_for_replicas``). On one device in float32, ``c = 1``.
        """
        c = optimizer.scale_loss(scale_for_replicas(tf.ones_like(loss)))
        weights = player.trainable_variables
        grads = tape.gradient(loss, weights, output_gradients=c)
        optimizer.apply_gradients(zip(grads, weights))
        if self.ema is not None and player is self.generator:
            self.ema.update(self.generator, inputs)  # w_ema <- beta * w_ema + (1 - beta) * w, after each G move


def two_time_scale_optimizers(d_learning_rate=4e-4, g_learning_rate=1e-4, beta_1=0.0, beta_2=0.9):
    """(discriminator's, generator's) Adam for the two time-scale update rule (TTUR).

    Heusel et al. (2017, arXiv:1706.08500) give each player its own learning rate, the
    discriminator's larger, so D tracks the current generator while G moves slowly. The
    defaults are SAGAN's (Zhang et al. 2018, sec. 5: 4e-4 for D, 1e-4 for G, Adam with
    beta_1 = 0, beta_2 = 0.9). Use: ``gan.compile(*two_time_scale_optimizers())``.
    """
    return (keras.optimizers.Adam(d_learning_rate, beta_1=beta_1, beta_2=beta_2),
            keras.optimizers.Adam(g_learning_rate, beta_1=beta_1, beta_2=beta_2))
