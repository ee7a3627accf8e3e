"""Callbacks that watch a GAN while ``fit`` runs."""

from __future__ import annotations

import math
from pathlib import Path

import keras
import numpy as np

from gan_course import progress as _progress
from gan_course.plotting import save_image_grid
from gan_course.cluster import is_chief

__all__ = ["GANMonitor", "StopOnNaN", "FitProgress"]


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


class FitProgress(keras.callbacks.Callback):
    """A progress bar for ``fit``: the steps done of the run's total, the last losses, the time
    spent and an estimate of what is left (see ``gan_course.progress`` for how it shows in a
    notebook, a terminal and a log).

    Inside ``with progress.Progress(...)`` (a sweep, a series of runs) it reports to that bar as
    the running item's progress; a course GAN's ``fit`` adds one there by itself. Elsewhere it is
    the run's own bar, labelled ``desc``; a run shorter than ``delay`` seconds shows nothing live,
    and in log mode a run shorter than ``progress.LOG_INTERVAL`` prints nothing.
    """

    def __init__(self, desc: str | None = None, delay: float = 2.0):
        super().__init__()
        self.desc, self.delay = desc, delay
        self._outer = self._own = None
        self._per_epoch = self._total = None
        self._epoch = 0
        self._next = 0.0

    def on_train_begin(self, logs=None):
        epochs, steps = self.params.get("epochs") or 1, self.params.get("steps")
        self._per_epoch = steps
        self._total = epochs * steps if steps else None
        self._outer = _progress.active()
        if self._outer is None:
            self._own = _progress.Progress(self._total or epochs, unit="step" if steps else "epoch",
                                           desc=self.desc or "fit", delay=self.delay).__enter__()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def _report(self, done, logs, force=False):
        now = _progress._clock()
        if not force and now < self._next:  # at most a few updates a second
            return
        self._next = now + 0.25
        values = [(k, v) for k, v in (logs or {}).items() if isinstance(v, (int, float, np.floating, np.integer))]
        values.sort(key=lambda kv: not kv[0].endswith("loss"))  # the players' losses first
        info = ", ".join(f"{k} {float(v):.3g}" for k, v in values[:3])
        if self._outer is not None:
            self._outer.step(done, self._total or self.params.get("epochs"), "step" if self._total else "epoch", info)
        elif self._own is not None:
            self._own.update(done - self._own.done, info)

    def on_train_batch_end(self, batch, logs=None):
        if self._per_epoch:
            self._report(self._epoch * self._per_epoch + batch + 1, logs)

    def on_epoch_end(self, epoch, logs=None):
        done = (epoch + 1) * self._per_epoch if self._per_epoch else epoch + 1
        self._report(done, logs, force=True)

    def on_train_end(self, logs=None):
        own, self._own, self._outer = self._own, None, None
        if own is not None:
            if own.mode == "log" and own.lines:  # a long run in a log: say how it ended
                own._print(own.status())
            own.close()


def with_fit_progress(callbacks=None):
    """``callbacks`` (a list or None) plus a ``FitProgress`` reporting to the active
    ``progress.Progress``, when there is one and the list has none; ``TwoPlayerGAN.fit`` calls it."""
    if _progress.active() is None:
        return callbacks
    callbacks = list(callbacks or [])
    if not any(isinstance(c, FitProgress) for c in callbacks):
        callbacks.append(FitProgress())
    return callbacks
