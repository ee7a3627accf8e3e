"""DiffAugment: differentiable augmentation of what the discriminator sees (Zhao et al. 2020).

With little data (the course's 4,000 digits, 2,500 images) the discriminator soon memorises
the training images and its feedback to the generator stops meaning anything. Augmenting only
the real images would teach G to draw augmented images (shifted digits, holes). Zhao, Liu, Lin,
Zhu & Han (2020), "Differentiable Augmentation for Data-Efficient GAN Training" (NeurIPS,
arXiv:2006.10738), augment **real and fake images alike, with the same policy, in both
players' steps**: D(T(x)) and D(T(G(z))). Every T is differentiable, so G's gradient passes
through the augmentation (eq. 3-4 of the paper). Sampling and scoring never augment.

The paper's three families (its reference code's amounts), for images in [-1, 1], one random
draw per image:

- ``color``: brightness ``x + (u - 0.5)``, saturation ``(x - m_c) * 2u + m_c`` with ``m_c``
  the mean over channels, contrast ``(x - m) * (u + 0.5) + m`` with ``m`` the image's mean,
  each with its own ``u ~ U[0, 1)``. Not clipped: clipping would cut the gradient.
- ``translation``: shift by up to 1/8 of the side in each direction; uncovered pixels are 0.
- ``cutout``: set a square of half the side, at a random place, to 0.

Random numbers come from ``seed`` (an int or a ``keras.random.SeedGenerator``), drawn in the
order of the policy, so a step can be replayed.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

__all__ = ["POLICY", "AUGMENTATIONS", "policy_names", "rand_brightness", "rand_saturation", "rand_contrast",
           "rand_translation", "rand_cutout", "diff_augment"]

POLICY = "color,translation,cutout"


def _per_image(x, seed):
    # One u ~ U[0, 1) per image, shaped to broadcast over (height, width, channels).
    u = keras.random.uniform((ops.shape(x)[0], 1, 1, 1), 0.0, 1.0, seed=seed)
    return ops.cast(u, x.dtype)


def rand_brightness(x, seed=None):
    """``x + (u - 0.5)``: each image brighter or darker by up to 0.5 (a quarter of [-1, 1])."""
    return x + (_per_image(x, seed) - 0.5)


def rand_saturation(x, seed=None):
    """``(x - m_c) * 2u + m_c``, ``m_c`` the mean over channels: from grey (u = 0) to twice as
    saturated. Leaves one-channel images unchanged (there ``x = m_c``)."""
    mean = ops.mean(x, axis=-1, keepdims=True)
    return (x - mean) * (_per_image(x, seed) * 2.0) + mean


def rand_contrast(x, seed=None):
    """``(x - m) * (u + 0.5) + m``, ``m`` the image's mean: contrast scaled by 0.5 to 1.5."""
    mean = ops.mean(x, axis=(1, 2, 3), keepdims=True)
    return (x - mean) * (_per_image(x, seed) + 0.5) + mean


def rand_translation(x, ratio: float = 0.125, seed=None):
    """Shift each image by whole pixels, up to ``ratio`` of its side each way; the pixels
    shifted in are 0 (mid-grey in [-1, 1]).

    Written as a gather from the image padded with one ring of zeros, as in the paper's code, so
    the gradient reaches every pixel that was moved (and none that fell off the edge).
    """
    batch, height, width = ops.shape(x)[0], x.shape[1], x.shape[2]
    shift_h, shift_w = int(height * ratio + 0.5), int(width * ratio + 0.5)
    dy = keras.random.randint((batch, 1), -shift_h, shift_h + 1, seed=seed, dtype="int32")
    dx = keras.random.randint((batch, 1), -shift_w, shift_w + 1, seed=seed, dtype="int32")
    padded = tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]])
    # Output row r reads padded row r + dy + 1 (index 0 and height + 1 are the zero ring).
    rows = tf.clip_by_value(tf.range(height)[None, :] + dy + 1, 0, height + 1)
    cols = tf.clip_by_value(tf.range(width)[None, :] + dx + 1, 0, width + 1)
    x = tf.gather(padded, rows, axis=1, batch_dims=1)
    return tf.gather(x, cols, axis=2, batch_dims=1)


def rand_cutout(x, ratio: float = 0.5, seed=None):
    """Set a square of ``ratio`` of the side (clipped at the border) to 0 in each image."""
    batch, height, width = ops.shape(x)[0], x.shape[1], x.shape[2]
    size_h, size_w = int(height * ratio + 0.5), int(width * ratio + 0.5)
    # The paper's centre range: odd sizes may not reach the far border, even sizes may.
    centre_y = keras.random.randint((batch, 1), 0, height + (1 - size_h % 2), seed=seed, dtype="int32")
    centre_x = keras.random.randint((batch, 1), 0, width + (1 - size_w % 2), seed=seed, dtype="int32")
    top, left = centre_y - size_h // 2, centre_x - size_w // 2
    in_rows = (tf.range(height)[None, :] >= top) & (tf.range(height)[None, :] < top + size_h)
    in_cols = (tf.range(width)[None, :] >= left) & (tf.range(width)[None, :] < left + size_w)
    hole = in_rows[:, :, None] & in_cols[:, None, :]  # (batch, height, width)
    keep = ops.cast(ops.logical_not(hole), x.dtype)[..., None]
    return x * keep


AUGMENTATIONS = {
    "color": (rand_brightness, rand_saturation, rand_contrast),
    "translation": (rand_translation,),
    "cutout": (rand_cutout,),
}


def policy_names(policy: str) -> list[str]:
    """The names in a policy string (``"color,translation"`` -> ``["color", "translation"]``);
    an unknown name fails with the list of known ones."""
    names = [p.strip() for p in policy.split(",") if p.strip()]
    for name in names:
        if name not in AUGMENTATIONS:
            raise ValueError(f"Unknown DiffAugment policy {name!r}; choose from {sorted(AUGMENTATIONS)}.")
    return names


def diff_augment(x, policy: str = POLICY, seed=None):
    """Apply ``policy`` (comma-separated names of ``AUGMENTATIONS``, in order) to a batch of
    images (batch, height, width, channels); the same shape comes back.

    Call it on the real *and* the fake batch before every discriminator call of training,
    in both players' steps (``TwoPlayerGAN(augment=POLICY)`` does). An empty policy is the
    identity.
    """
    x = ops.convert_to_tensor(x)
    for name in policy_names(policy):
        for augmentation in AUGMENTATIONS[name]:
            x = augmentation(x, seed=seed)
    return x
