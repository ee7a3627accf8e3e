"""The one-step family: vanilla GAN (minimax and non-saturating), LSGAN and hinge GAN.

All four play lesson 01's round (one discriminator move, then one generator move judged by the
updated discriminator on the same fakes) and differ only in the two loss functions, so lesson
01's model serves them all: ``training.DCGAN(generator, discriminator).compile(d_loss_fn=...,
g_loss_fn=...)``. ``LOSSES`` names the pairs; ``make_gan("lsgan", ...)`` builds a compiled model
with the zoo's MLPs or any generator and discriminator you pass.
"""

from __future__ import annotations

import keras

from gan_course import losses, training
from gan_course.zoo import networks

__all__ = ["LOSSES", "make_gan"]

# variant -> (discriminator loss, generator loss, paper). Every function takes raw D scores.
LOSSES = {
    "vanilla-minimax": (losses.discriminator_loss, losses.minimax_generator_loss, "Goodfellow et al. 2014, eq. 1"),
    "vanilla-nonsat": (losses.discriminator_loss, losses.generator_loss, "Goodfellow et al. 2014, sec. 3"),
    "lsgan": (losses.lsgan_discriminator_loss, losses.lsgan_generator_loss, "Mao et al. 2016"),
    "hinge": (losses.hinge_discriminator_loss, losses.hinge_generator_loss, "Lim & Ye 2017; SAGAN, BigGAN"),
}


def make_gan(variant: str, latent_dim: int, image_shape=(28, 28, 1), seed=None, learning_rate=2e-4,
             generator=None, discriminator=None):
    """A compiled ``training.DCGAN`` with the loss pair ``LOSSES[variant]``, on ``generator`` and
    ``discriminator`` (default: the zoo's MLPs)."""
    if variant not in LOSSES:
        raise ValueError(f"Unknown variant {variant!r}; the one-step variants are {', '.join(LOSSES)}.")
    d_loss_fn, g_loss_fn, _ = LOSSES[variant]
    gan = training.DCGAN(
        generator if generator is not None else networks.mlp_generator(latent_dim, image_shape),
        discriminator if discriminator is not None else networks.mlp_discriminator(image_shape),
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
