"""FID with InceptionV3 features for image folders: ImageNet weights when they can be had
(downloaded once into Keras' cache, ``$KERAS_HOME/models``), otherwise random weights, and the
result says which. The download has a timeout on every socket operation, goes to a temporary
file, is checked against Keras' MD5 and only then renamed into place, so an interrupted one
never leaves a half file that a later run would trust.
"""

from __future__ import annotations

import functools
import os
import socket
from pathlib import Path

import keras
import numpy as np

from gan_course.data import (
    DataError,
    check_images,
    download_file,
    is_offline,
    keras_home,
    list_image_files,
)
from gan_course.metrics.distances import frechet_distance

INCEPTION_WEIGHTS_FILE = "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"
_INCEPTION_HOST = "storage.googleapis.com"
_INCEPTION_URL = f"https://{_INCEPTION_HOST}/tensorflow/keras-applications/inception_v3/{INCEPTION_WEIGHTS_FILE}"
_INCEPTION_MD5 = "bcbd6486424b2319ff4ef7d526e38f63"  # Keras' own checksum for the file
DOWNLOAD_TIMEOUT = 30.0  # seconds per socket operation: a stalled download fails instead of hanging
IMAGENET_INCEPTION_LABEL = "InceptionV3 (ImageNet weights), 2048-d pool features: standard FID extractor"
RANDOM_INCEPTION_LABEL = (
    "random-feature FID: InceptionV3 with fixed-seed random weights (seed 0); compares low-level "
    "statistics, not comparable with published FID"
)


@functools.lru_cache(maxsize=8)
def _weights_file_is_whole(path: str, size: int, mtime_ns: int) -> bool:
    import hashlib

    digest = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest() == _INCEPTION_MD5


def _cached_inception_weights() -> Path | None:
    """The weights file in Keras' cache (``$KERAS_HOME``, else ``~/.keras``, else ``/tmp/.keras``)
    if it is whole (Keras' MD5); a half file left by an interrupted download does not count."""
    for folder in dict.fromkeys((keras_home(), Path("/tmp/.keras"))):  # Keras uses /tmp when home is read-only
        path = folder / "models" / INCEPTION_WEIGHTS_FILE
        if path.is_file():
            st = path.stat()
            if _weights_file_is_whole(str(path), st.st_size, st.st_mtime_ns):
                return path
    return None


def _imagenet_unavailable_reason(timeout: float = 3.0) -> str | None:
    """None when the ImageNet weights are cached or downloadable, else why not."""
    if _cached_inception_weights() is not None:
        return None
    if is_offline():
        return "GAN_COURSE_OFFLINE is set and the weights are not cached"
    try:
        with socket.create_connection((_INCEPTION_HOST, 443), timeout=timeout):
            return None
    except OSError as err:
        return f"{_INCEPTION_HOST} does not answer within {timeout:g} s ({err})"


@functools.lru_cache(maxsize=4)
def _build_inception(image_size: int, pretrained: bool) -> keras.Model:
    shape = (image_size, image_size, 3)
    model = keras.applications.InceptionV3(include_top=False, pooling="avg", weights=None, input_shape=shape)
    if pretrained:
        path = _cached_inception_weights()
        if path is None:  # our own download: a timeout per call, nothing process-wide changed
            path = download_file(_INCEPTION_URL, keras_home() / "models" / INCEPTION_WEIGHTS_FILE,
                                 DOWNLOAD_TIMEOUT, md5=_INCEPTION_MD5, what="InceptionV3 ImageNet weights (87 MB)")
        model.load_weights(path)
        return model
    # Re-draw every conv kernel from a seeded numpy RNG (He normal, which keeps activations at
    # a usable scale through the ReLUs): the same features on every machine, no global seeding.
    rng = np.random.default_rng(0)
    for w in model.weights:
        if len(w.shape) == 4:
            fan_in = int(np.prod(w.shape[:3]))
            w.assign((rng.standard_normal(tuple(w.shape)) * np.sqrt(2.0 / fan_in)).astype(np.float32))
    return model


def inception_extractor(image_size: int = 299, verbose: bool = True) -> tuple[keras.Model, str]:
    """InceptionV3 (no top, average-pooled 2048-d features) and a label naming its weights.

    Uses the ImageNet weights when they are cached in ``$KERAS_HOME/models`` (default
    ``~/.keras/models``) or the download host
    answers within 3 s (never tried when ``GAN_COURSE_OFFLINE=1``). Otherwise prints why and
    falls back to fixed-seed random weights, labelled ``RANDOM_INCEPTION_LABEL``: such a
    "random-feature FID" still ranks gross differences but is not comparable with published FIDs.
    ``image_size`` >= 75; published FIDs use 299.
    """
    reason = _imagenet_unavailable_reason()
    if reason is None:
        try:
            return _build_inception(image_size, True), IMAGENET_INCEPTION_LABEL
        except Exception as err:  # download or file error: fall back, saying why
            reason = f"loading the ImageNet weights failed ({err.__class__.__name__}: {err})"
    if verbose:
        print(f"InceptionV3 ImageNet weights unavailable: {reason}.\nUsing the fallback: {RANDOM_INCEPTION_LABEL}.")
    return _build_inception(image_size, False), RANDOM_INCEPTION_LABEL


def _as_rgb_batch(images) -> np.ndarray:
    x = np.asarray(images, dtype=np.float32)
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4 or x.shape[-1] not in (1, 3):
        raise ValueError(f"images must be (n, height, width, 1 or 3), got {x.shape}")
    if x.max() > 1.5 or x.min() < -1.5:
        raise ValueError(f"Images must be in [-1, 1] (they span [{x.min():g}, {x.max():g}])")
    return np.repeat(x, 3, axis=-1) if x.shape[-1] == 1 else x


def inception_features(
    images, batch_size: int = 32, image_size: int = 299, model: keras.Model | None = None, verbose: bool = True
) -> tuple[np.ndarray, str]:
    """Features for FID from images in [-1, 1] (InceptionV3's own input range).

    Grayscale images are repeated to three channels and all are resized (bilinear,
    antialiased) to the extractor's input size.

    Args:
        model: an extractor to use instead of InceptionV3 (its input size wins over ``image_size``).

    Returns:
        (features (n, d), label): the label names the extractor actually used; report it with
        every FID (see ``inception_extractor``).
    """
    x = _as_rgb_batch(images)
    if model is None:
        model, label = inception_extractor(image_size, verbose=verbose)
    else:
        label = f"custom extractor {model.name!r}"
    size = tuple(model.input_shape[1:3]) if model.input_shape[1] is not None else (image_size, image_size)
    out = []
    for start in range(0, len(x), batch_size):
        batch = x[start : start + batch_size]
        if batch.shape[1:3] != size:
            batch = keras.ops.image.resize(batch, size, interpolation="bilinear", antialias=True)
        out.append(keras.ops.convert_to_numpy(model(batch, training=False)))
    return np.concatenate(out).astype(np.float64), label


def load_images_as_array(folder, image_size: int = 299, max_images: int | None = None) -> np.ndarray:
    """Every image under ``folder`` as RGB, resized to a square, float32 in [-1, 1]: (n, s, s, 3)."""
    from PIL import Image

    files = check_images(list_image_files(folder)[:max_images], folder=folder).readable  # bad files: one named error
    out = np.empty((len(files), image_size, image_size, 3), np.float32)
    for i, path in enumerate(files):
        try:
            with Image.open(path) as im:
                out[i] = np.asarray(im.convert("RGB").resize((image_size, image_size), Image.BILINEAR), np.float32)
        except OSError as err:  # changed since the check
            raise DataError(f"Cannot read image {path}: {err}. Delete or replace it.") from err
    return out / 127.5 - 1.0


def folder_fid(
    real, fake, image_size: int = 299, max_images: int | None = None, batch_size: int = 32, model=None
) -> dict:
    """FID between two image folders (or arrays in [-1, 1]) with InceptionV3 features.

    Returns:
        dict with ``fid``, ``extractor`` (which features: a random-feature FID when the
        ImageNet weights could not be had), ``n_real``, ``n_fake`` and ``image_size``.
        Published FIDs use 299 px and 50,000 samples; FID at a few hundred samples is much
        higher, so compare only values with the same counts and extractor.
    """
    arrays = []
    for images in (real, fake):
        if isinstance(images, (str, os.PathLike)):
            images = load_images_as_array(images, image_size, max_images)
        arrays.append(images)
    real_feats, label = inception_features(arrays[0], batch_size, image_size, model)
    fake_feats, _ = inception_features(arrays[1], batch_size, image_size, model, verbose=False)
    return {
        "fid": frechet_distance(real_feats, fake_feats),
        "extractor": label,
        "n_real": len(real_feats),
        "n_fake": len(fake_feats),
        "image_size": image_size,
    }
