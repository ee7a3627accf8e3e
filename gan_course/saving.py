"""Saving and loading GANs the safe way, and resuming interrupted training.

Keras 3 formats only: a whole model in one ``.keras`` file (architecture + weights +
optimizer, a zip of JSON and HDF5) or weights alone in ``.weights.h5``. Never pickle or
joblib a model: unpickling runs whatever code the file contains, so a downloaded
``.pkl`` can take over the machine. ``.keras`` files hold data, not code (Keras refuses
to deserialize ``Lambda`` code unless you pass ``safe_mode=False``). Plain ``.h5``
whole-model files are Keras 2's legacy format.
"""

from __future__ import annotations

from pathlib import Path

import keras

__all__ = ["save_gan", "load_gan_parts", "backup_callback"]


def save_gan(gan, folder) -> dict[str, Path]:
    """Save ``gan.generator`` and ``gan.discriminator`` as ``.keras`` files in ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for part in ("generator", "discriminator"):
        paths[part] = folder / f"{part}.keras"
        getattr(gan, part).save(paths[part])
    return paths


def load_gan_parts(folder) -> tuple[keras.Model, keras.Model]:
    """Load (generator, discriminator) written by ``save_gan``; names the missing file if any."""
    folder = Path(folder)
    parts = []
    for part in ("generator", "discriminator"):
        path = folder / f"{part}.keras"
        if not path.is_file():
            raise FileNotFoundError(f"No saved {part} at {path}. Train and call save_gan(gan, {str(folder)!r}) first.")
        parts.append(keras.models.load_model(path))
    return parts[0], parts[1]


def backup_callback(run_dir, delete_checkpoint: bool = False) -> keras.callbacks.BackupAndRestore:
    """``BackupAndRestore`` writing to ``run_dir/backup``: weights, both optimizers' state,
    the noise seed and the epoch number, after every epoch.

    Call ``fit`` again with the same ``run_dir`` after an interruption (Ctrl-C, a crash, a
    closed laptop) and training continues from the last finished epoch. The backup is kept
    after a finished run by default, so a later ``fit(epochs=more)`` extends it.
    """
    return keras.callbacks.BackupAndRestore(str(Path(run_dir) / "backup"), delete_checkpoint=delete_checkpoint)
