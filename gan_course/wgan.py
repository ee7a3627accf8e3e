"""The Wasserstein GAN: a critic instead of a discriminator (introduced in lesson 03,
``notebooks/03_wgan_gp_celeba.ipynb``).

- ``wgan_critic``: stride-2 convolutions down to one unbounded score. No sigmoid (the score
  is not a probability) and no batch norm (the gradient penalty is defined per sample, and
  batch norm makes each sample's score depend on the rest of the batch); layer norm, which
  works per sample, is the optional replacement.
- ``WGAN``: a ``gan.TwoPlayerGAN`` like ``training.DCGAN``, with ``n_critic`` critic
  steps per generator step and either the gradient penalty (WGAN-GP; Gulrajani et al. 2017)
  or weight clipping (the original WGAN; Arjovsky et al. 2017) to keep the critic Lipschitz.

Algorithm 1 of both papers draws a fresh real batch for every critic step. ``fit`` hands
``train_step`` one batch, so a WGAN is fed batches of ``n_critic * batch_size`` images
(``critic_batch_size``) and splits each into ``n_critic`` critic batches.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import layers

from gan_course import losses
from gan_course.gan import TwoPlayerGAN, check_image_shapes
from gan_course.models import dcgan_init, default_upsamplings, image_hw, initial_size, spectral_norm_layer

__all__ = ["wgan_critic", "critic_problems", "WGAN", "critic_batch_size", "PAPER_ADAM", "PAPER_RMSPROP", "NAN_ADVICE"]

# Gulrajani et al. (2017), Algorithm 1: alpha = 1e-4, beta_1 = 0, beta_2 = 0.9, n_critic = 5, lambda = 10.
PAPER_ADAM = dict(learning_rate=1e-4, beta_1=0.0, beta_2=0.9)
# Arjovsky et al. (2017), Algorithm 1: RMSProp, alpha = 5e-5, c = 0.01, n_critic = 5.
PAPER_RMSPROP = dict(learning_rate=5e-5)
# For callbacks.StopOnNaN(backup_dir, advice=NAN_ADVICE): the usual causes of a diverging WGAN.
NAN_ADVICE = (
    "Usual WGAN causes: a learning rate too high for the run (lower it towards the paper's 1e-4; "
    "lesson 03's short cpu run uses 1e-3), gp_weight = 0 without clipping (nothing bounds the critic), "
    "a sigmoid or batch norm in the critic, or images outside [-1, 1]. Fix it, then call fit again "
    "with the same backup folder to resume from the last good epoch."
)


def wgan_critic(
    image_shape=(64, 64, 3),
    width: int = 64,
    n_downsamplings: int | None = None,
    kernel_size: int = 4,
    norm: str | None = None,
    name: str = "critic",
    spectral_norm: bool = False,
) -> keras.Model:
    """A DCGAN-shaped critic: image -> one unbounded score (float32).

    n stride-2 Conv2D blocks doubling the filters from ``width`` (64 -> 128 -> 256 -> 512 for
    64x64 images, as in the book's CelebA critic), LeakyReLU(0.2), then Flatten -> Dense(1).

    Args:
        norm: ``None`` (plain, the default) or ``"layer"``: layer normalisation over each
            sample's (height, width, channels) from the second block on, the per-sample
            normaliser Gulrajani et al. suggest instead of batch norm.
        spectral_norm: wrap every Conv2D and the Dense in Keras' ``SpectralNormalization``
            (``models.spectral_norm_layer``; Miyato et al. 2018): each layer 1-Lipschitz by
            construction, another way to bound the critic, alone or with the penalty.
    """
    if norm not in (None, "layer"):
        raise ValueError(
            f"norm must be None or 'layer', not {norm!r}. Batch norm is not offered: it mixes the "
            "samples of a batch, and the gradient penalty needs each score to depend on its own image only."
        )
    h, w, _ = image_hw(image_shape)
    n = default_upsamplings(min(h, w)) if n_downsamplings is None else n_downsamplings
    initial_size(h, n), initial_size(w, n)  # same divisibility rule as the generator

    image = keras.Input(shape=tuple(image_shape), name="image")
    x = image
    for i in range(n):
        conv = layers.Conv2D(width * 2**i, kernel_size, strides=2, padding="same", kernel_initializer=dcgan_init())
        x = spectral_norm_layer(conv, spectral_norm)(x)
        if norm == "layer" and i > 0:
            x = layers.LayerNormalization(axis=[1, 2, 3])(x)
        x = layers.LeakyReLU(negative_slope=0.2)(x)
    x = layers.Flatten()(x)
    # float32 even under mixed precision: the losses subtract large, nearly equal means.
    score = spectral_norm_layer(layers.Dense(1, kernel_initializer=dcgan_init(), dtype="float32", name="score"),
                                spectral_norm)(x)
    return keras.Model(image, score, name=name)


def critic_problems(critic: keras.Model) -> list[str]:
    """What is wrong with a model meant as a WGAN critic (an empty list when nothing is).

    Finds batch-norm layers and a sigmoid (or softmax/tanh) on the output.
    """
    problems = []
    for layer in _all_layers(critic):
        if isinstance(layer, layers.BatchNormalization):
            problems.append(
                f"layer {layer.name!r} is BatchNormalization: each score would depend on the other "
                "images of the batch, so the per-sample gradient penalty is wrong. Remove it or use "
                "LayerNormalization (wgan_critic(norm='layer'))."
            )
    last = critic.layers[-1]
    activation = getattr(getattr(last, "activation", None), "__name__", "linear")
    if activation in {"sigmoid", "softmax", "tanh"}:
        problems.append(
            f"the output layer {last.name!r} applies {activation!r}: a critic's score must be unbounded "
            "(a bounded score cannot measure a distance, and it saturates). Use a linear output."
        )
    return problems


def _all_layers(model):
    for layer in model.layers:
        yield layer
        if hasattr(layer, "layers"):  # nested models
            yield from _all_layers(layer)


def critic_batch_size(batch_size: int, n_critic: int) -> int:
    """Images per ``fit`` batch so that each of the ``n_critic`` critic steps gets ``batch_size`` fresh ones."""
    return int(batch_size) * int(n_critic)


class WGAN(TwoPlayerGAN):
    """A Wasserstein GAN trained with ``n_critic`` critic steps per generator step.

    Each batch from ``fit`` must hold ``n_critic * batch_size`` real images
    (``critic_batch_size``); it is split into ``n_critic`` critic batches, so every critic
    step sees new real images as in the papers' Algorithm 1.

    Args:
        generator: maps z of shape (latent_dim,) to an image.
        critic: maps an image to one unbounded score; checked with ``critic_problems``.
        n_critic: critic steps per generator step (5 in both papers).
        gp_weight: lambda, the gradient-penalty weight (10 in WGAN-GP); 0 turns the penalty off.
        clip_value: clip the critic's weights into [-c, c] after every critic step (original
            WGAN: c = 0.01, with ``gp_weight=0``); None for no clipping.
        check_critic: raise when ``critic_problems`` finds a problem (set False only to
            demonstrate the mistake).
        seed: seeds z, the penalty's alpha and the augmentations, for repeatable runs.
        ema, augment: generator EMA and DiffAugment, see ``gan_course.gan.TwoPlayerGAN``. With
            ``augment`` on, the critic's every call in training, the penalty's included, judges
            augmented images: the penalty then keeps ``C(T(x))`` 1-Lipschitz, the function
            the Wasserstein loss uses.

    Logged: ``c_loss`` (critic loss including the penalty), ``w_dist`` (the critic's
    estimate ``E[C(x)] - E[C(G(z))]`` of the Wasserstein distance), ``gp`` (the penalty
    without lambda) and ``g_loss``. The generator moves on fresh noise, judged by the critic
    after its last step.
    """

    tracked = ("c_loss", "w_dist", "gp", "g_loss")

    def __init__(
        self,
        generator,
        critic,
        latent_dim=None,
        n_critic: int = 5,
        gp_weight: float = 10.0,
        clip_value: float | None = None,
        check_critic: bool = True,
        seed=None,
        **kwargs,
    ):
        check_image_shapes(generator, critic)
        if int(n_critic) < 1:
            raise ValueError(f"n_critic must be at least 1 (the papers use 5), got {n_critic!r}")
        if gp_weight < 0:
            raise ValueError(f"gp_weight must be >= 0 (WGAN-GP uses 10), got {gp_weight!r}")
        if clip_value is not None and not clip_value > 0:
            raise ValueError(f"clip_value must be > 0 or None (WGAN uses 0.01), got {clip_value!r}")
        problems = critic_problems(critic)
        if problems and check_critic:
            raise ValueError("Not a valid WGAN critic: " + " ".join(problems))
        super().__init__(generator, critic, latent_dim=latent_dim, seed=seed, **kwargs)
        self.n_critic = int(n_critic)
        self.gp_weight = float(gp_weight)
        self.clip_value = None if clip_value is None else float(clip_value)

    # The WGAN papers' names for the second player and its optimizer.
    @property
    def critic(self):
        return self.discriminator

    @property
    def c_optimizer(self):
        return self.d_optimizer

    def default_optimizers(self):
        """The WGAN-GP paper's Adam(1e-4, beta_1=0, beta_2=0.9), or the WGAN paper's RMSprop(5e-5)
        when clipping without a penalty (momentum and clipping fight)."""
        if self.clip_value is not None and self.gp_weight == 0:
            return keras.optimizers.RMSprop(**PAPER_RMSPROP), keras.optimizers.RMSprop(**PAPER_RMSPROP)
        return keras.optimizers.Adam(**PAPER_ADAM), keras.optimizers.Adam(**PAPER_ADAM)

    def compile(self, c_optimizer=None, g_optimizer=None, **kwargs):
        """Two optimizers: the critic's and the generator's (defaults: ``default_optimizers()``)."""
        super().compile(d_optimizer=c_optimizer, g_optimizer=g_optimizer, **kwargs)

    def critic_step(self, real_images):
        """One critic update on one batch of real images; returns (loss, w_dist, gp)."""
        batch_size = tf.shape(real_images)[0]
        fake_images = self.generator(self.sample_noise(batch_size), training=True)
        with tf.GradientTape() as tape:
            real_scores = self.score(real_images)
            fake_scores = self.score(fake_images)
            w_loss = losses.wasserstein_critic_loss(real_scores, fake_scores)
            if self.gp_weight > 0:
                # One alpha ~ U[0, 1] per sample (not per pixel, not normal).
                alpha = self.draw(lambda m, seed: keras.random.uniform((m,), 0.0, 1.0, seed=seed), batch_size)
                gp = losses.gradient_penalty(self.score, real_images, fake_images, alpha=alpha)
            else:
                gp = tf.constant(0.0)
            c_loss = w_loss + self.gp_weight * gp
        self.move(tape, c_loss, self.c_optimizer, self.critic)
        if self.clip_value is not None:
            losses.clip_weights(self.critic, self.clip_value)
        return c_loss, -w_loss, gp

    def generator_step(self, batch_size):
        """One generator update on fresh noise; only G's weights move."""
        z = self.sample_noise(batch_size)
        with tf.GradientTape() as tape:
            g_loss = losses.wasserstein_generator_loss(self.score(self.generator(z, training=True)))
        self.move(tape, g_loss, self.g_optimizer, self.generator, inputs=z)
        return g_loss

    def train_step(self, data):
        real_images = data[0] if isinstance(data, (tuple, list)) else data  # labels are ignored
        check_image_shapes(self.generator, self.critic, real_images.shape[1:])
        static = real_images.shape[0]
        fix = (f"cannot be split into n_critic={self.n_critic} equal critic batches. Batch the data with "
               f"critic_batch_size(batch_size, {self.n_critic}) images and drop_remainder=True.")
        if static is not None and static % self.n_critic:
            raise ValueError(f"A batch of {static} images {fix}")
        if static is None:  # known only when the step runs: a last, smaller batch
            tf.debugging.assert_equal(tf.shape(real_images)[0] % self.n_critic, 0, message=f"A batch {fix}")
        per_step = tf.shape(real_images)[0] // self.n_critic
        for i in range(self.n_critic):  # a Python loop: unrolled once when traced
            c_loss, w_dist, gp = self.critic_step(real_images[i * per_step : (i + 1) * per_step])
            self.log(c_loss=c_loss, w_dist=w_dist, gp=gp)
        return self.log(g_loss=self.generator_step(per_step))
