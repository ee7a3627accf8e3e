"""Small networks shared by the zoo: the two backbones of the comparison and the pieces of a
small conv net for 28x28 digits.

The zoo compares *losses*, so every unconditional variant uses the same two networks; only the
loss (and, for the Wasserstein critics, the training schedule) changes. ``backbone`` builds
them: ``"conv"`` (lesson 04's comparison) is lesson 01's DCGAN generator and a conv
discriminator without batch norm or dropout (lesson 03's critic: the gradient penalty forbids
both, and the same D serves every variant; optionally with layer normalisation); ``"mlp"`` is the kind of network of Goodfellow et
al.'s 2014 paper. Every final layer is float32 so that mixed precision, if switched on later,
leaves outputs and losses exact.
"""

from __future__ import annotations

import math

import keras
from keras import layers

__all__ = ["BACKBONES", "backbone", "mlp_generator", "mlp_discriminator", "conv_trunk", "conv_upsampler"]

BACKBONES = ("conv", "mlp")


def backbone(kind: str, latent_dim: int, width: int = 16, critic: bool = False, image_shape=(28, 28, 1),
             norm: str | None = None):
    """(generator, discriminator) of one of ``BACKBONES`` for the zoo's comparison.

    ``"conv"``: ``models.dcgan_generator(latent_dim, width=width)`` and
    ``wgan.wgan_critic(width=width, norm=norm)`` (stride-2 convolutions, LeakyReLU, no batch
    norm, no dropout), the same pair for every variant. ``norm="layer"`` adds layer
    normalisation to the discriminator from its second block on: the per-sample normaliser
    Gulrajani et al. suggest for a WGAN-GP critic, and one that every loss can use, so the
    comparison keeps one D for all. ``"mlp"``: ``mlp_generator`` and ``mlp_discriminator``
    (``width`` and ``norm`` unused), with dropout unless ``critic`` (a Wasserstein critic's
    score must depend on its own image only).
    """
    if kind == "conv":
        from gan_course import models, wgan

        return (models.dcgan_generator(latent_dim, image_shape, width=width, name="conv_generator"),
                wgan.wgan_critic(image_shape, width=width, norm=norm, name="conv_discriminator"))
    if kind == "mlp":
        return (mlp_generator(latent_dim, image_shape),
                mlp_discriminator(image_shape, dropout=0.0 if critic else 0.3, name="mlp_critic" if critic else "mlp_discriminator"))
    raise ValueError(f"Unknown backbone {kind!r}; choose from {', '.join(BACKBONES)}.")


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
    score = layers.Dense(1, dtype="float32", name="score")(mlp_trunk(image, hidden, dropout))
    return keras.Model(image, score, name=name)


def mlp_trunk(image, hidden=(512, 256), dropout: float = 0.3):
    """The 2014 paper's kind of discriminator body: the flattened image through Dense + LeakyReLU
    (+ Dropout) layers; the features a score (or a projection, ``conditional``) is read from."""
    x = layers.Flatten()(image)
    for i, units in enumerate(hidden):
        x = layers.Dense(units, name=f"dense_{i + 1}")(x)
        x = layers.LeakyReLU(0.2)(x)
        if dropout:
            x = layers.Dropout(dropout)(x)
    return x


def conv_trunk(x, width: int = 32, dropout: float = 0.0, prefix: str = "d"):
    """Two stride-2 convolutions (28 -> 14 -> 7) with LeakyReLU(0.2), then flatten: the
    feature extractor of the zoo's conv discriminators (InfoGAN, super-resolution)."""
    for i, filters in enumerate((width, 2 * width)):
        x = layers.Conv2D(filters, 4, strides=2, padding="same", name=f"{prefix}_conv{i + 1}")(x)
        x = layers.LeakyReLU(0.2)(x)
        if dropout:
            x = layers.Dropout(dropout)(x)
    return layers.Flatten()(x)


def conv_upsampler(x, width: int = 32):
    """The zoo's small conv generator body, from a vector to a 28x28x1 image in (-1, 1):
    Dense to 7x7x(2 width) + batch norm + ReLU, a stride-2 transposed convolution to 14x14x(width)
    + batch norm + ReLU, and one to 28x28x1 with tanh (float32). InfoGAN's and the conditional
    GAN's generators feed it z concatenated with their code or label."""
    from gan_course.models import batch_norm

    x = layers.Dense(7 * 7 * 2 * width, use_bias=False)(x)
    x = batch_norm(gamma_initializer="ones")(x)
    x = layers.ReLU()(x)
    x = layers.Reshape((7, 7, 2 * width))(x)
    x = layers.Conv2DTranspose(width, 4, strides=2, padding="same", use_bias=False)(x)  # 14x14
    x = batch_norm(gamma_initializer="ones")(x)
    x = layers.ReLU()(x)
    return layers.Conv2DTranspose(1, 4, strides=2, padding="same", activation="tanh", dtype="float32", name="image")(x)
