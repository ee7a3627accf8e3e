"""A super-resolution GAN (after SRGAN, Ledig et al. 2016): 14x14 digits -> 28x28 digits.

The low-resolution input is the 28x28 digit averaged over 2x2 blocks. The generator
up-samples it (nearest neighbour + convolutions, with a residual block before), and is
trained with a content loss (pixel MSE) plus a small adversarial term from a discriminator
that sees high-resolution images only (``losses.srgan_generator_loss``). Pixel losses alone
predict the average of all plausible sharp images, which is blurred; the adversarial term
pulls towards one sharp answer. Training reuses ``pix2pix.PairedGAN``.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers

__all__ = ["downsample", "upsample_bilinear", "superres_generator", "psnr"]


def downsample(images, factor: int = 2) -> np.ndarray:
    """Average ``factor x factor`` blocks: (n, 28, 28, 1) -> (n, 14, 14, 1) for factor 2."""
    x = np.asarray(images, dtype=np.float32)
    n, h, w, c = x.shape
    if h % factor or w % factor:
        raise ValueError(f"Image size {h}x{w} is not divisible by the down-sampling factor {factor}.")
    return x.reshape(n, h // factor, factor, w // factor, factor, c).mean(axis=(2, 4))


def upsample_bilinear(images, factor: int = 2) -> np.ndarray:
    """The classical baseline: bilinear interpolation back to full size."""
    x = np.asarray(images, dtype=np.float32)
    size = (x.shape[1] * factor, x.shape[2] * factor)
    return keras.ops.convert_to_numpy(keras.ops.image.resize(x, size, interpolation="bilinear"))


def superres_generator(low_shape=(14, 14, 1), width: int = 32, name: str = "superres_generator"):
    """14x14 -> 28x28: conv -> a residual block -> nearest up-sampling x2 -> conv -> tanh image."""
    low = keras.Input(shape=tuple(low_shape), name="low_res")
    x = layers.Conv2D(width, 3, padding="same", activation="relu", name="head")(low)
    r = layers.Conv2D(width, 3, padding="same", activation="relu", name="res_conv1")(x)
    r = layers.Conv2D(width, 3, padding="same", name="res_conv2")(r)
    x = layers.Add(name="residual")([x, r])
    x = layers.UpSampling2D(2, interpolation="nearest")(x)
    x = layers.Conv2D(width, 3, padding="same", activation="relu", name="up_conv")(x)
    high = layers.Conv2D(low_shape[-1], 3, padding="same", activation="tanh", dtype="float32", name="high_res")(x)
    return keras.Model(low, high, name=name)


def psnr(images, references) -> float:
    """Peak signal-to-noise ratio in dB for images in [-1, 1] (peak-to-peak 2):
    ``10 log10(2^2 / MSE)``. Higher is closer; +6 dB is half the RMS error."""
    mse = float(np.mean((np.asarray(images, np.float64) - np.asarray(references, np.float64)) ** 2))
    return float(10.0 * np.log10(4.0 / max(mse, 1e-12)))
