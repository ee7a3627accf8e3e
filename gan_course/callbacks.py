"""Callbacks that watch a GAN while ``fit`` runs."""

from __future__ import annotations

import math
from pathlib import Path

import keras
import numpy as np

from gan_course.plotting import save_image_grid
from gan_course.cluster import is_chief

__all__ = ["GANMonitor", "StopOnNaN"]


class GANMonitor(keras.callbacks.Callback):
    """Draw the same ``fixed_noise`` through the generator after every ``every`` epochs.

    Because z never changes, the grids differ only because the generator learned: watch
    the same digit sharpen, and spot mode collapse when many cells become the same image.
    Grids go to ``out_dir/epoch_NNN.png`` (numbered by absolute epoch, so a resumed run
    continues the series) and stay in ``self.grids`` as arrays. On several machines
    (``TF_CONFIG``) every worker draws the grid but only the chief writes it.

    The grids come from the model's ``sampling_generator`` (the moving average of G's weights
    when ``TwoPlayerGAN(ema=...)`` keeps one), or from the attribute ``generator_attr`` names.
    """

    def __init__(self, fixed_noise, out_dir=None, every: int = 1, generator_attr: str | None = None):
        super().__init__()
        self.fixed_noise = np.asarray(fixed_noise, dtype="float32")
        # Only the chief of a cluster writes files (see gan_course.cluster.is_chief).
        self.out_dir = Path(out_dir) if out_dir is not None and is_chief() else None
        self.every = every
        self.generator_attr = generator_attr
        self.grids: list[np.ndarray] = []
        self.paths: list[Path] = []

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every:
            return
        attr = self.generator_attr
        if attr is None:  # the EMA generator when the GAN keeps one
            attr = "sampling_generator" if hasattr(self.model, "sampling_generator") else "generator"
        generator = getattr(self.model, attr)
        images = keras.ops.convert_to_numpy(generator(self.fixed_noise, training=False))
        self.grids.append(images)
        if self.out_dir is not None:
            self.paths.append(save_image_grid(images, self.out_dir / f"epoch_{epoch + 1:03d}.png"))


class StopOnNaN(keras.callbacks.Callback):
    """Stop ``fit`` with a clear error as soon as a logged loss is NaN or infinite.

    Raising (rather than quietly stopping) leaves ``BackupAndRestore``'s last good epoch
    on disk, so after lowering the learning rate a new ``fit`` resumes from it.

    ``advice`` replaces the default advice at the end of the message (e.g. WGAN-specific causes).
    """

    DEFAULT_ADVICE = (
        "Lower the learning rates (e.g. 2e-4 -> 1e-4), check that images are in [-1, 1], then call fit "
        "again to resume from the last good epoch."
    )

    def __init__(self, backup_dir=None, advice: str | None = None):
        super().__init__()
        self.backup_dir = backup_dir
        self.advice = advice or self.DEFAULT_ADVICE
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        bad = {k: float(v) for k, v in (logs or {}).items() if not math.isfinite(float(v))}
        if bad:
            where = f"the checkpoint in {self.backup_dir}" if self.backup_dir else "no checkpoint (add BackupAndRestore)"
            raise FloatingPointError(
                f"Training diverged at epoch {self._epoch + 1}, batch {batch + 1}: {bad}. "
                f"Kept: {where}. {self.advice}"
            )
