"""The conditional GAN (Mirza & Osindero 2014): the class label goes into both networks.

The generator is called as ``generator([z, labels])`` with int labels of shape (batch,), and
draws the requested digit; the discriminator judges (image, label) pairs, so a well-drawn 3
passed off as a 7 is a fake. The losses are the ordinary ones (BCE for D, non-saturating for
G) applied to pairs:
``min_G max_D E_{x,y}[log D(x, y)] + E_{z,y}[log(1 - D(G(z, y), y))]``.

The generator gets the label as a learned ``Embedding`` concatenated to z (the original
paper's MLP design); the discriminator uses the label by *projection* (see
``conditional_discriminator``), which makes the conditioning take hold in a short CPU run.
Two sizes: MLPs (``conditional_generator`` / ``conditional_discriminator``) and the small conv
pair lesson 04 trains (``conv_conditional_generator`` / ``conv_conditional_discriminator``).
"""

from __future__ import annotations

import math

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from gan_course import losses
from gan_course.gan import TwoPlayerGAN
from gan_course.models import batch_norm
from gan_course.zoo import networks

__all__ = ["conditional_generator", "conditional_discriminator", "projection_logit", "conv_conditional_generator",
           "conv_conditional_discriminator", "ConditionalGAN", "class_grid_inputs"]


def conditional_generator(latent_dim: int, n_classes: int = 10, image_shape=(28, 28, 1), hidden=(256, 512),
                          embedding_dim: int = 16, name: str = "conditional_generator"):
    """[z (latent_dim,), label (int, shape ())] -> image in (-1, 1).

    An MLP with batch norm: the label's embedding is concatenated to z, then
    Dense + BatchNorm + LeakyReLU(0.2) blocks and a tanh output.
    """
    z = keras.Input(shape=(latent_dim,), name="z")
    label = keras.Input(shape=(), dtype="int32", name="label")
    x = layers.Concatenate()([z, layers.Embedding(n_classes, embedding_dim, name="label_embedding")(label)])
    for i, units in enumerate(hidden):
        x = layers.Dense(units, use_bias=False, name=f"dense_{i + 1}")(x)
        x = batch_norm(gamma_initializer="ones")(x)
        x = layers.LeakyReLU(0.2)(x)
    x = layers.Dense(math.prod(image_shape), activation="tanh", dtype="float32", name="pixels")(x)
    image = layers.Reshape(tuple(image_shape), dtype="float32", name="image")(x)
    return keras.Model([z, label], image, name=name)


def conditional_discriminator(n_classes: int = 10, image_shape=(28, 28, 1), hidden=(512, 256),
                              dropout: float = 0.3, name: str = "conditional_discriminator"):
    """[image, label (int, shape ())] -> one logit for "a real image of this class".

    A *projection* discriminator (Miyato & Koyama 2018, the conditioning of BigGAN's D): an MLP
    turns the image into features h, and the logit is ``w . h + embed(y) . h``. The label picks
    a direction in feature space, so "right digit, wrong label" gets a low score directly.
    Concatenating the label to the input instead (close to Mirza & Osindero's design) is as
    general, since the later layers can mix the label with the image in any way, but D has to
    learn that interaction through all its layers, which takes far longer than a short CPU run.
    """
    image = keras.Input(shape=tuple(image_shape), name="image")
    label = keras.Input(shape=(), dtype="int32", name="label")
    h = networks.mlp_trunk(image, hidden, dropout)
    return keras.Model([image, label], projection_logit(h, label, n_classes), name=name)


def projection_logit(h, label, n_classes: int = 10):
    """The projection discriminator's output from image features ``h`` (batch, d) and int labels:
    ``w . h + b + embed(y) . h`` (layers ``unconditional``, ``label_projection``, ``logit``)."""
    unconditional = layers.Dense(1, name="unconditional")(h)
    class_direction = layers.Embedding(n_classes, h.shape[-1], name="label_projection")(label)
    projection = layers.Dot(axes=1, name="projection")([h, class_direction])
    return layers.Add(dtype="float32", name="logit")([unconditional, projection])


def conv_conditional_generator(latent_dim: int, n_classes: int = 10, width: int = 32, embedding_dim: int = 16,
                               name: str = "conv_conditional_generator"):
    """[z (latent_dim,), label (int, shape ())] -> 28x28x1 image: the label's learned embedding
    concatenated to z, then the zoo's small conv generator (``networks.conv_upsampler``)."""
    z = keras.Input(shape=(latent_dim,), name="z")
    label = keras.Input(shape=(), dtype="int32", name="label")
    x = layers.Concatenate()([z, layers.Embedding(n_classes, embedding_dim, name="label_embedding")(label)])
    return keras.Model([z, label], networks.conv_upsampler(x, width), name=name)


def conv_conditional_discriminator(n_classes: int = 10, width: int = 32, features: int = 128,
                                   name: str = "conv_conditional_discriminator"):
    """[image, label] -> one logit: the zoo's conv trunk (``networks.conv_trunk``, 28 -> 14 -> 7),
    a dense layer of ``features`` with LeakyReLU (layer ``features``), then the projection
    ``w . h + embed(y) . h`` (``projection_logit``)."""
    image = keras.Input(shape=(28, 28, 1), name="image")
    label = keras.Input(shape=(), dtype="int32", name="label")
    h = layers.LeakyReLU(0.2, name="features")(layers.Dense(features, name="dense")(networks.conv_trunk(image, width)))
    return keras.Model([image, label], projection_logit(h, label, n_classes), name=name)


class ConditionalGAN(TwoPlayerGAN):
    """A GAN trained on (image, label) batches; both players are told the label.

    One alternating round as in lesson 01: the discriminator judges real pairs (x, y) and fake
    pairs (G(z, y), y) with the batch's own labels (so fake classes follow the data's class
    balance), then the updated discriminator judges the same fake pairs for the generator.
    """

    def __init__(self, generator, discriminator, n_classes: int = 10, seed=None, **kwargs):
        super().__init__(generator, discriminator, seed=seed, **kwargs)
        self.n_classes = int(n_classes)

    def train_step(self, data):
        if not isinstance(data, (tuple, list)) or len(data) < 2:
            raise ValueError(
                "A conditional GAN trains on (images, labels) batches: build the dataset with "
                "data.make_dataset(images, batch_size, labels=labels)."
            )
        real_images, labels = tf.convert_to_tensor(data[0]), tf.cast(data[1], "int32")
        z = self.sample_noise(tf.shape(real_images)[0])
        with tf.GradientTape() as g_tape:
            fake_images = self.generator([z, labels], training=True)
            with g_tape.stop_recording():  # D's move is not part of G's gradient
                with tf.GradientTape() as d_tape:
                    real_logits = self.discriminator([real_images, labels], training=True)
                    fake_logits = self.discriminator([fake_images, labels], training=True)
                    d_loss = losses.discriminator_loss(real_logits, fake_logits)
                self.move(d_tape, d_loss, self.d_optimizer, self.discriminator)
            g_loss = losses.generator_loss(self.discriminator([fake_images, labels], training=True))
        self.move(g_tape, g_loss, self.g_optimizer, self.generator, inputs=[z, labels])
        return self.log(d_loss=d_loss, g_loss=g_loss)


def class_grid_inputs(latent_dim: int, per_class: int, n_classes: int = 10, seed: int = 0):
    """Inputs for a controlled-generation grid: row k asks for digit k, and the same
    ``per_class`` noise vectors are reused in every row (so a column keeps its style).

    Returns (z, labels) as float32 (n_classes * per_class, latent_dim) and int32 (n,).
    """
    z = np.random.default_rng(seed).standard_normal((per_class, latent_dim)).astype(np.float32)
    z = np.tile(z, (n_classes, 1))
    labels = np.repeat(np.arange(n_classes, dtype=np.int32), per_class)
    return z, labels
