"""Saving and loading GANs the safe way, and resuming interrupted training.

Keras 3 formats only: a whole model in one ``.keras`` file (architecture + weights +
optimizer, a zip of JSON and HDF5) or weights alone in ``.weights.h5``. Never pickle or
joblib a model: unpickling runs whatever code the file contains, so a downloaded
``.pkl`` can take over the machine. ``.keras`` files hold data, not code (Keras refuses
to deserialize ``Lambda`` code unless you pass ``safe_mode=False``). Plain ``.h5``
whole-model files are Keras 2's legacy format.

Every ``.keras`` file the course writes holds Keras' own layers only, so it loads in any
Python that has Keras, with ``keras.saving.load_model(path)`` and nothing imported from the
course: share it, serve it, convert it. ``save_model`` first puts Keras' own layer back in
place of any stand-in layer (``to_stock``), such as the opt-in fast layers of
``gan_course.speed.fast_layers``.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
from pathlib import Path

import keras

__all__ = [
    "save_model",
    "save_gan",
    "load_gan_parts",
    "backup_callback",
    "atomic_write",
    "SafeBackupAndRestore",
    "to_stock",
    "swap_layers",
]


def save_model(model, path) -> Path:
    """Save ``model`` as a portable ``.keras`` file: Keras' own layers only (see the module doc)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write(path, to_stock(model).save)  # a full disk keeps the previous file


def _stock_class(layer):
    """The Keras layer class that ``layer`` stands in for, or None for any other layer."""
    return getattr(type(layer), "stock_layer", None)


def to_stock(model: keras.Model) -> keras.Model:
    """``model`` with Keras' own layers in place of stand-in layers, same config and weights; the
    model itself when it has none.

    A stand-in layer is a subclass of a Keras layer that computes the same maths in another way
    and names that Keras layer in its class attribute ``stock_layer`` (the opt-in fast layers of
    ``gan_course.speed.fast_layers`` do). ``save_model`` writes what this returns, so a saved file
    needs nothing but Keras to load.
    """
    if not any(_stock_class(layer) for layer in model.layers):
        return model
    return swap_layers(model, lambda layer: _stock_class(layer) or type(layer))


def swap_layers(model: keras.Model, layer_class) -> keras.Model:
    """A copy of ``model`` (Functional or Sequential) in which every layer is rebuilt as
    ``layer_class(layer)`` from its config, with the same weights in the same order."""

    def clone(layer):
        return layer_class(layer).from_config(layer.get_config())

    copy = keras.models.clone_model(model, clone_function=clone)
    copy.set_weights(model.get_weights())  # same variables, same order
    return copy


def save_gan(gan, folder) -> dict[str, Path]:
    """Save the generator and ``gan.discriminator`` as portable ``.keras`` files in ``folder``.

    The generator saved is ``gan.sampling_generator``: the moving average of G's weights when
    the GAN keeps one (``TwoPlayerGAN(ema=...)``), the model whose samples the lesson showed.
    """
    folder = Path(folder)
    parts = {"generator": getattr(gan, "sampling_generator", gan.generator), "discriminator": gan.discriminator}
    return {part: save_model(model, folder / f"{part}.keras") for part, model in parts.items()}


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
    return SafeBackupAndRestore(str(Path(run_dir) / "backup"), delete_checkpoint=delete_checkpoint)


def atomic_write(path, write) -> Path:
    """Write ``path`` whole or not at all: ``write(tmp)`` fills a temporary file in the same
    folder (same suffix, which Keras checks), which then replaces ``path`` in one rename.

    A failure half-way (a full disk, Ctrl-C, a crash) leaves the previous ``path`` as it was:
    the last good model or checkpoint still loads. A full disk is reported as such, naming the
    file that was kept.
    """
    path = Path(path)
    tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    try:
        write(tmp)
        with open(tmp, "rb+") as f:  # on disk before the rename, so a power cut cannot keep an empty file
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        if err.errno == errno.ENOSPC:
            kept = f"the previous {path.name} is kept unchanged" if path.exists() else "no file was written"
            free = shutil.disk_usage(path.parent).free / 2**20
            raise OSError(
                errno.ENOSPC,
                f"The disk is full ({free:.0f} MB free): saving {path} failed, and {kept}. Free some space "
                "and run again (a resumable run continues from its last good backup).",
            ) from err
        raise
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


class SafeBackupAndRestore(keras.callbacks.BackupAndRestore):
    """Keras' ``BackupAndRestore`` with every backup written whole or not at all.

    Keras writes the backup's weights over the previous file in place, so a save that fails
    half-way (a full disk, a kill during the write) leaves a file that no longer loads, and the
    next ``fit`` cannot resume. Here the weights, then the epoch number, each go to a temporary
    file renamed into place (``atomic_write``): after a failed save the previous epoch's backup
    is intact and ``fit`` resumes from it. Restoring is Keras' own. Saves once per epoch.
    """

    def __init__(self, backup_dir, delete_checkpoint: bool = True):
        super().__init__(backup_dir, save_freq="epoch", delete_checkpoint=delete_checkpoint)

    def on_epoch_end(self, epoch, logs=None):
        folder = Path(self.backup_dir)
        folder.mkdir(parents=True, exist_ok=True)
        # The file names Keras' BackupAndRestore restores from.
        atomic_write(folder / "latest.weights.h5", self.model.save_weights)
        atomic_write(folder / "training_metadata.json",
                     lambda tmp: Path(tmp).write_text(json.dumps({"epoch": epoch + 1, "batch": 0})))
