"""Small networks shared by the zoo: an MLP generator and discriminator (the 2014 GAN's
choice) and the pieces of a small conv net for 28x28 digits.

The zoo compares *losses*, so every unconditional variant uses the same two MLPs; only the
loss (and, for the Wasserstein critics, the training schedule) changes. Every final layer is
float32 so that mixed precision, if switched on later, leaves outputs and losses exact.
"""

from __future__ import annotations

import math

import keras
from keras import layers

__all__ = ["mlp_generator", "mlp_discriminator", "conv_trunk"]


def mlp_generator(latent_dim: int, image_shape=(28, 28, 1), hidden=(256, 512), name: str = "mlp_generator"):
    """z (latent_dim,) -> Dense + LeakyReLU(0.2) per hidden size -> Dense(tanh) -> image in (-1, 1).

    No batch norm: an MLP this small trains without it, and a WGAN-GP critic forbids it anyway.
    """
    z = keras.Input(shape=(latent_dim,), name="z")
    x = z
    for i, units in enumerate(hidden):
        x = layers.Dense(units, name=f"dense_{i + 1}")(x)
        x = layers.LeakyReLU(0.2)(x)
    x = layers.Dense(math.prod(image_shape), activation="tanh", dtype="float32", name="pixels")(x)
    image = layers.Reshape(tuple(image_shape), dtype="float32", name="image")(x)
    return keras.Model(z, image, name=name)


def mlp_discriminator(image_shape=(28, 28, 1), hidden=(512, 256), dropout: float = 0.3,
                      name: str = "mlp_discriminator"):
    """image -> Flatten -> Dense + LeakyReLU(0.2) + Dropout per hidden size -> Dense(1): a raw score.

    The score is a logit for the BCE losses and a plain real number for LSGAN, hinge and the
    Wasserstein critics: the loss decides how to read it. Set ``dropout=0`` for a critic with
    a gradient penalty (the penalty's gradient must not depend on random masks).
    """
    image = keras.Input(shape=tuple(image_shape), name="image")
    x = layers.Flatten()(image)
    for i, units in enumerate(hidden):
        x = layers.Dense(units, name=f"dense_{i + 1}")(x)
        x = layers.LeakyReLU(0.2)(x)
        if dropout:
            x = layers.Dropout(dropout)(x)
    score = layers.Dense(1, dtype="float32", name="score")(x)
    return keras.Model(image, score, name=name)


def conv_trunk(x, width: int = 32, dropout: float = 0.0, prefix: str = "d"):
    """Two stride-2 convolutions (28 -> 14 -> 7) with LeakyReLU(0.2), then flatten: the
    feature extractor of the zoo's conv discriminators (InfoGAN, super-resolution)."""
    for i, filters in enumerate((width, 2 * width)):
        x = layers.Conv2D(filters, 4, strides=2, padding="same", name=f"{prefix}_conv{i + 1}")(x)
        x = layers.LeakyReLU(0.2)(x)
        if dropout:
            x = layers.Dropout(dropout)(x)
    return layers.Flatten()(x)
