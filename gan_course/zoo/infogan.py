"""InfoGAN (Chen et al. 2016): a GAN that finds interpretable factors without labels.

The generator gets, besides the noise z, a *code*: here one categorical code c1 with 10
values (uniform) and two continuous codes c2, c3 ~ U(-1, 1). Nothing forces the generator to
use them, so InfoGAN adds an auxiliary head Q on top of the discriminator that must recover
the code from the image, and rewards both G and Q when it can: a variational lower bound on
the mutual information I(c; G(z, c)) (see ``losses.infogan_categorical_loss`` and
``losses.infogan_gaussian_loss``). The objective is
``min_{G,Q} max_D V(D, G) - lambda L_I(G, Q)``. On MNIST the categorical code tends to take
the digit class and the continuous codes take slant and stroke width, without any label.

The generator is called as ``generator([z, category, continuous])`` with ``category`` int
(batch,) and ``continuous`` float (batch, 2); the discriminator returns
``[score, category_logits, continuous_mean]``.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from gan_course import losses
from gan_course.gan import TwoPlayerGAN
from gan_course.zoo import networks

__all__ = ["infogan_generator", "infogan_discriminator", "InfoGAN", "code_grid_inputs", "slant", "ink"]


def infogan_generator(latent_dim: int = 62, n_categories: int = 10, n_continuous: int = 2, width: int = 32,
                      name: str = "infogan_generator"):
    """[z, category (int), continuous (n_continuous,)] -> 28x28x1 image (a small DCGAN generator)."""
    z = keras.Input(shape=(latent_dim,), name="z")
    category = keras.Input(shape=(), dtype="int32", name="category")
    continuous = keras.Input(shape=(n_continuous,), name="continuous")
    # A one-hot code as a fixed, identity embedding: a stock layer, so the saved model needs no Lambda.
    one_hot = layers.Embedding(n_categories, n_categories, embeddings_initializer="identity", trainable=False,
                               name="one_hot")(category)
    image = networks.conv_upsampler(layers.Concatenate()([z, one_hot, continuous]), width)
    return keras.Model([z, category, continuous], image, name=name)


def infogan_discriminator(n_categories: int = 10, n_continuous: int = 2, width: int = 32,
                          name: str = "infogan_discriminator"):
    """image -> [real/fake logit, category logits (Q), continuous-code means (Q)].

    D and Q share the conv trunk (the paper's trick: Q costs almost nothing extra).
    """
    image = keras.Input(shape=(28, 28, 1), name="image")
    features = layers.Dense(128, name="shared")(networks.conv_trunk(image, width))
    features = layers.LeakyReLU(0.2)(features)
    score = layers.Dense(1, dtype="float32", name="score")(features)
    q = layers.LeakyReLU(0.2)(layers.Dense(64, name="q_hidden")(features))
    category_logits = layers.Dense(n_categories, dtype="float32", name="category_logits")(q)
    continuous_mean = layers.Dense(n_continuous, dtype="float32", name="continuous_mean")(q)
    return keras.Model(image, [score, category_logits, continuous_mean], name=name)


class InfoGAN(TwoPlayerGAN):
    """InfoGAN: a GAN plus the mutual-information term, weighted ``info_weight`` (lambda).

    Both moves add ``lambda (L_cat + continuous_weight * L_cont)`` on the same generated images:
    the D move trains Q's head (and the shared trunk) to read the code, then the G move, judged
    by the updated D and Q, trains G to write it legibly. The continuous term is down-weighted
    (the paper uses lambda = 1 for discrete codes and a smaller weight for continuous ones).
    """

    tracked = ("d_loss", "g_loss", "info_cat", "info_cont")  # info_cat: -E log Q(c|x); ln 10 = 2.30 is chance

    def __init__(self, generator, discriminator, seed=None, info_weight: float = 1.0,
                 continuous_weight: float = 0.1, **kwargs):
        super().__init__(generator, discriminator, seed=seed, **kwargs)
        self.n_continuous = int(generator.input_shape[2][-1])
        self.n_categories = int(discriminator.output_shape[1][-1])
        self.info_weight = float(info_weight)
        self.continuous_weight = float(continuous_weight)

    def default_optimizers(self):
        """Adam(2e-4, beta_1=0.5) for D (with Q) and Adam(1e-3, beta_1=0.5) for G, as in the paper."""
        return keras.optimizers.Adam(2e-4, beta_1=0.5), keras.optimizers.Adam(1e-3, beta_1=0.5)

    def sample_inputs(self, n):
        """z ~ N(0, I), a uniform category, continuous codes ~ U(-1, 1)."""
        z = self.sample_noise(n)
        category = self.draw(lambda m, seed: keras.random.randint((m,), 0, self.n_categories, seed=seed,
                                                                  dtype="int32"), n)
        continuous = self.draw(lambda m, seed: keras.random.uniform((m, self.n_continuous), -1.0, 1.0, seed=seed), n)
        return z, category, continuous

    def info_loss(self, category, continuous, category_logits, continuous_mean):
        l_cat = losses.infogan_categorical_loss(category, category_logits)
        l_cont = losses.infogan_gaussian_loss(continuous, continuous_mean)
        return l_cat, l_cont, self.info_weight * (l_cat + self.continuous_weight * l_cont)

    def train_step(self, data):
        real_images = data[0] if isinstance(data, (tuple, list)) else data  # labels are never used
        z, category, continuous = self.sample_inputs(tf.shape(real_images)[0])
        with tf.GradientTape() as g_tape:
            fake_images = self.generator([z, category, continuous], training=True)
            with g_tape.stop_recording():  # D's move is not part of G's gradient
                with tf.GradientTape() as d_tape:
                    real_score, _, _ = self.discriminator(real_images, training=True)
                    fake_score, cat_logits, cont_mean = self.discriminator(fake_images, training=True)
                    _, _, info = self.info_loss(category, continuous, cat_logits, cont_mean)
                    d_loss = losses.discriminator_loss(real_score, fake_score) + info
                self.move(d_tape, d_loss, self.d_optimizer, self.discriminator)
            fake_score, cat_logits, cont_mean = self.discriminator(fake_images, training=True)
            l_cat, l_cont, info = self.info_loss(category, continuous, cat_logits, cont_mean)
            g_loss = losses.generator_loss(fake_score) + info
        self.move(g_tape, g_loss, self.g_optimizer, self.generator, inputs=[z, category, continuous])
        return self.log(d_loss=d_loss, g_loss=g_loss, info_cat=l_cat, info_cont=l_cont)


def code_grid_inputs(latent_dim: int, n_categories: int = 10, n_steps: int = 7, vary: int = 0,
                     n_continuous: int = 2, span: float = 2.0, seed: int = 0):
    """Inputs for the classic InfoGAN figure: row k fixes category k, columns sweep continuous
    code ``vary`` from ``-span`` to ``span`` (beyond the training range [-1, 1], as the paper
    does), every other input fixed (one z for the whole grid).

    Returns (z, category, continuous) of n_categories * n_steps rows, and the sweep values.
    """
    z = np.random.default_rng(seed).standard_normal((1, latent_dim)).astype(np.float32)
    sweep = np.linspace(-span, span, n_steps, dtype=np.float32)
    n = n_categories * n_steps
    continuous = np.zeros((n, n_continuous), dtype=np.float32)
    continuous[:, vary] = np.tile(sweep, n_categories)
    category = np.repeat(np.arange(n_categories, dtype=np.int32), n_steps)
    return np.repeat(z, n, axis=0), category, continuous, sweep


def _ink_weights(images):
    x = (np.asarray(images, dtype=np.float64)[..., 0] + 1.0) / 2.0  # ink in [0, 1]
    return np.clip(x, 0.0, 1.0)


def slant(images) -> np.ndarray:
    """Slant of each digit: the ink-weighted regression slope of column on row,
    ``cov(col, row) / var(row)``. Positive means the top leans right (like /); 0 is upright."""
    w = _ink_weights(images)
    rows, cols = np.mgrid[0:w.shape[1], 0:w.shape[2]]
    rows = -rows.astype(np.float64)  # row 0 at the top: make "up" positive
    total = w.sum(axis=(1, 2)) + 1e-9
    mr = (w * rows).sum(axis=(1, 2)) / total
    mc = (w * cols).sum(axis=(1, 2)) / total
    cov = (w * (rows - mr[:, None, None]) * (cols - mc[:, None, None])).sum(axis=(1, 2)) / total
    var = (w * (rows - mr[:, None, None]) ** 2).sum(axis=(1, 2)) / total
    return cov / (var + 1e-9)


def ink(images) -> np.ndarray:
    """Total ink of each digit (the mean pixel intensity in [0, 1]): a proxy for stroke width."""
    return _ink_weights(images).mean(axis=(1, 2))
