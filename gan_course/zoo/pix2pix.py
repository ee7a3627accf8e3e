"""Pix2Pix (Isola et al. 2016) on a paired toy task: digit outlines -> digits.

Image-to-image translation learns a map x -> y from *pairs* (x, y). Two ideas make Pix2Pix:

- a U-Net generator: an encoder-decoder whose skip connections hand fine detail (where the
  strokes are) straight from the input to the output;
- a *conditional* PatchGAN discriminator: it sees the input next to the output and scores
  each patch, so it judges "is this a plausible digit for these outlines?" locally.

The generator's loss adds lambda * L1 to the adversarial term (``losses.pix2pix_generator_loss``).
``PairedGAN`` also serves the super-resolution GAN (``zoo.superres``), whose discriminator
looks at the output alone.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from gan_course import losses
from gan_course.gan import TwoPlayerGAN
from gan_course.models import batch_norm

__all__ = ["digit_outlines", "unet_generator", "patch_discriminator", "PairedGAN"]


def digit_outlines(images) -> np.ndarray:
    """The outer outline of each digit, as an image in [-1, 1] (white line on black).

    Binarise at 0 (ink where the pixel is brighter than mid-grey), grow the ink by one pixel
    in every direction (a 3x3 max filter), and keep only the new pixels: a one-pixel ring
    around the strokes, like a pen tracing a stencil.
    """
    x = np.asarray(images, dtype=np.float32)
    if x.ndim != 4 or x.shape[-1] != 1:
        raise ValueError(f"digit_outlines takes a batch of grayscale images (n, h, w, 1), got shape {x.shape}")
    ink = (x > 0.0).astype(np.float32)
    grown = keras.ops.convert_to_numpy(keras.ops.max_pool(ink, pool_size=3, strides=1, padding="same"))
    return (2.0 * (grown - ink) - 1.0).astype(np.float32)


def unet_generator(image_shape=(28, 28, 1), width: int = 32, out_channels: int = 1, name: str = "unet_generator"):
    """A two-level U-Net: 28 -> 14 -> 7 and back, with skip connections at 14x14 and 28x28."""
    x_in = keras.Input(shape=tuple(image_shape), name="input_image")
    d1 = layers.LeakyReLU(0.2)(layers.Conv2D(width, 4, strides=2, padding="same", name="down1")(x_in))  # 14
    d2 = layers.Conv2D(2 * width, 4, strides=2, padding="same", use_bias=False, name="down2")(d1)  # 7
    d2 = layers.LeakyReLU(0.2)(batch_norm(gamma_initializer="ones")(d2))
    u1 = layers.Conv2DTranspose(width, 4, strides=2, padding="same", use_bias=False, name="up1")(d2)  # 14
    u1 = layers.ReLU()(batch_norm(gamma_initializer="ones")(u1))
    u1 = layers.Concatenate(name="skip14")([u1, d1])
    u2 = layers.Conv2DTranspose(width, 4, strides=2, padding="same", name="up2")(u1)  # 28
    u2 = layers.Concatenate(name="skip28")([layers.ReLU()(u2), x_in])
    out = layers.Conv2D(out_channels, 3, padding="same", activation="tanh", dtype="float32", name="output_image")(u2)
    return keras.Model(x_in, out, name=name)


def patch_discriminator(image_shape=(28, 28, 1), condition_channels: int = 1, width: int = 32,
                        name: str = "patch_discriminator"):
    """PatchGAN: [condition, image] -> a 7x7 map of logits, one per overlapping patch.

    ``condition_channels=0`` makes it unconditional (it then takes the image alone).
    """
    image = keras.Input(shape=tuple(image_shape), name="image")
    if condition_channels:
        condition = keras.Input(shape=tuple(image_shape[:2]) + (condition_channels,), name="condition")
        inputs, x = [condition, image], layers.Concatenate()([condition, image])
    else:
        inputs, x = image, image
    x = layers.LeakyReLU(0.2)(layers.Conv2D(width, 4, strides=2, padding="same")(x))  # 14
    x = layers.Conv2D(2 * width, 4, strides=2, padding="same")(x)  # 7
    x = layers.LeakyReLU(0.2)(x)
    logits = layers.Conv2D(1, 3, padding="same", dtype="float32", name="patch_logits")(x)  # 7x7x1
    return keras.Model(inputs, logits, name=name)


class PairedGAN(TwoPlayerGAN):
    """A GAN for paired translation x -> y, trained on (x, y) batches.

    One alternating round as in lesson 01, with G run once: D learns from (x, y) against
    (x, G(x)), then the updated D judges the same G(x) for the generator's loss.

    Args:
        generator: x -> y_hat.
        discriminator: ``[x, y]`` -> logits when ``conditional_discriminator`` (Pix2Pix),
            else ``y`` -> logits (SRGAN).
        g_loss_fn: ``(fake_logits, y, y_hat) -> loss``; default ``losses.pix2pix_generator_loss``.
    """

    tracked = ("d_loss", "g_loss", "l1")  # l1: |y - G(x)|, the reconstruction error

    def __init__(self, generator, discriminator, conditional_discriminator: bool = True, g_loss_fn=None, **kwargs):
        super().__init__(generator, discriminator, **kwargs)
        self.conditional_discriminator = bool(conditional_discriminator)
        self.g_loss_fn = g_loss_fn or losses.pix2pix_generator_loss

    def judge(self, x, y, training=True):
        """D's logits for the pair (condition x, image y); x first, as the discriminator's inputs."""
        return self.discriminator([x, y] if self.conditional_discriminator else y, training=training)

    def train_step(self, data):
        if not isinstance(data, (tuple, list)) or len(data) != 2:
            raise ValueError("A paired GAN trains on (input, target) batches, e.g. "
                             "tf.data.Dataset.from_tensor_slices((inputs, targets)).batch(64).")
        x, y = tf.convert_to_tensor(data[0]), tf.convert_to_tensor(data[1])
        with tf.GradientTape() as g_tape:
            y_hat = self.generator(x, training=True)
            with g_tape.stop_recording():  # D's move is not part of G's gradient
                with tf.GradientTape() as d_tape:
                    d_loss = losses.discriminator_loss(self.judge(x, y), self.judge(x, y_hat))
                self.move(d_tape, d_loss, self.d_optimizer, self.discriminator)
            g_loss = self.g_loss_fn(self.judge(x, y_hat), y, y_hat)
        self.move(g_tape, g_loss, self.g_optimizer, self.generator, inputs=x)
        return self.log(d_loss=d_loss, g_loss=g_loss, l1=losses.l1_loss(y, y_hat))
