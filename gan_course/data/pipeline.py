"""Arrays to training batches: the [-1, 1] pixel scale and the in-memory ``tf.data`` pipeline."""

from __future__ import annotations

import numpy as np

from gan_course.data.errors import DataError

__all__ = ["scale_images", "unscale_images", "make_dataset"]


def scale_images(images: np.ndarray) -> np.ndarray:
    """uint8 pixels in [0, 255] to float32 in [-1, 1]: ``x / 127.5 - 1``."""
    return (np.asarray(images, dtype=np.float32) / 127.5) - 1.0


def unscale_images(images) -> np.ndarray:
    """float images in [-1, 1] back to uint8 [0, 255] (clipped), for saving and plotting."""
    x = (np.asarray(images, dtype=np.float32) + 1.0) * 127.5
    return np.clip(np.round(x), 0, 255).astype(np.uint8)


def make_dataset(
    images: np.ndarray,
    batch_size: int,
    labels: np.ndarray | None = None,
    shuffle: bool = True,
    seed: int | None = None,
    drop_remainder: bool = True,
):
    """An in-memory ``tf.data`` pipeline: slices -> cache -> shuffle -> batch -> prefetch.

    Cache comes before shuffle so that every epoch sees a new order; full batches only
    (by default) because batch norm statistics from a 3-image batch are noise. Under the step
    cap (``GAN_COURSE_STEP_CAP=N``, see ``gan_course.presets``) a pass yields at most N batches,
    of at most ``presets.CAPPED_BATCH`` images (``presets.capped_batch``).
    """
    import tensorflow as tf

    from gan_course.presets import capped_batch, step_cap

    batch_size = capped_batch(batch_size)
    if len(images) < batch_size and drop_remainder:
        raise DataError(
            f"Only {len(images)} images for a batch size of {batch_size}: every batch would be "
            "dropped. Use a smaller batch_size or more images."
        )
    items = images if labels is None else (images, labels)
    ds = tf.data.Dataset.from_tensor_slices(items).cache()
    if shuffle:
        ds = ds.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    cap = step_cap()
    return (ds if cap is None else ds.take(cap)).prefetch(tf.data.AUTOTUNE)
