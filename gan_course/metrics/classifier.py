"""The MNIST digit classifier behind the course's scores: its features play the role of
Inception's pool layer in FID, its predictions give the class statistics.

The weights ship inside the package (``gan_course/assets/mnist_classifier/``) and are
reproduced by ``scripts/train_classifier.py``. Loaded on first use, once.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import keras
import numpy as np
from keras import layers


CLASSIFIER_DIR = Path(__file__).resolve().parents[1] / "assets" / "mnist_classifier"
CLASSIFIER_WEIGHTS = CLASSIFIER_DIR / "classifier.weights.h5"
N_CLASSES = 10


def build_classifier(name: str = "mnist_classifier") -> keras.Model:
    """A small CNN for 28x28x1 digits in [-1, 1]: three conv blocks, a 128-d "features" layer, 10 logits.

    conv32-conv32-pool (14x14) -> conv64-conv64-pool (7x7) -> conv64-pool (3x3) -> flatten
    -> Dense(128, relu, name="features") -> dropout -> Dense(10, name="logits"); about 177k
    weights (0.7 MB). The "features" layer plays the role of Inception's pool3 layer in FID.
    """
    image = keras.Input(shape=(28, 28, 1), name="image")
    x = image
    for block, widths in enumerate([(32, 32), (64, 64), (64,)]):
        for i, filters in enumerate(widths):
            x = layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"conv{block + 1}_{i + 1}")(x)
        x = layers.MaxPooling2D(2, name=f"pool{block + 1}")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dropout(0.25, name="dropout_flat")(x)
    features = layers.Dense(128, activation="relu", name="features")(x)
    x = layers.Dropout(0.4, name="dropout_features")(features)
    logits = layers.Dense(N_CLASSES, name="logits")(x)
    return keras.Model(image, logits, name=name)


@functools.lru_cache(maxsize=1)
def load_classifier() -> keras.Model:
    """The committed MNIST classifier (``gan_course/assets/mnist_classifier/classifier.weights.h5``), loaded once.

    Raises:
        FileNotFoundError: the weights are missing; ``python scripts/train_classifier.py``
            makes them (about a minute on a laptop CPU, no network needed).
    """
    return load_frozen(build_classifier, CLASSIFIER_WEIGHTS, "python scripts/train_classifier.py", "about a minute")


def load_frozen(build, weights: Path, script: str, duration: str) -> keras.Model:
    """``build()`` with the committed ``weights`` loaded and frozen: the yardsticks are never trained
    by the code that uses them.

    Raises:
        FileNotFoundError: ``weights`` is missing; the message names ``script``, which makes them.
    """
    if not Path(weights).is_file():
        raise FileNotFoundError(f"No classifier weights at {weights}. Train them (offline, {duration}) with: {script}")
    model = build()
    model.load_weights(weights)
    model.trainable = False
    return model


@functools.lru_cache(maxsize=1)
def _features_and_logits_model() -> keras.Model:
    clf = load_classifier()
    return keras.Model(clf.input, [clf.get_layer("features").output, clf.output], name="features_and_logits")


def clear_classifier_cache() -> None:
    """Forget the loaded classifier, so the next score reads the weights file again (what
    ``scripts/train_classifier.py`` calls after writing new weights)."""
    load_classifier.cache_clear()
    _features_and_logits_model.cache_clear()


def as_digit_batch(images) -> np.ndarray:
    """``images`` as the classifier takes them: float32 (n, 28, 28, 1) in [-1, 1] (a missing
    channel axis is added); a ValueError that says what is wrong for anything else."""
    x = np.asarray(images, dtype=np.float32)
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4 or x.shape[1:] != (28, 28, 1):
        raise ValueError(f"The classifier takes MNIST-shaped images (n, 28, 28, 1), got {x.shape}")
    return checked_pixels(x)


def checked_pixels(x: np.ndarray) -> np.ndarray:
    """``x`` itself, once it is known to hold at least one image with pixels in [-1, 1] (a ValueError
    that says how to fix it otherwise): what every yardstick of the course takes."""
    if len(x) == 0:
        raise ValueError("No images to score")
    if x.max() > 1.5 or x.min() < -1.5:
        raise ValueError(
            f"Images must be in [-1, 1] (they span [{x.min():g}, {x.max():g}]); "
            "scale uint8 pixels with gan_course.data.scale_images first."
        )
    return x


def classifier_outputs(images, batch_size: int = 500) -> tuple[np.ndarray, np.ndarray]:
    """One pass of the classifier: (features (n, 128), class probabilities (n, 10))."""
    x = as_digit_batch(images)
    model = _features_and_logits_model()
    feats, logits = [], []
    for start in range(0, len(x), batch_size):
        f, lg = model(x[start : start + batch_size], training=False)
        feats.append(keras.ops.convert_to_numpy(f))
        logits.append(keras.ops.convert_to_numpy(lg))
    logits = np.concatenate(logits).astype(np.float64)
    logits -= logits.max(axis=1, keepdims=True)  # softmax without overflow
    probs = np.exp(logits)
    probs /= probs.sum(axis=1, keepdims=True)
    return np.concatenate(feats).astype(np.float64), probs


def classifier_features(images, batch_size: int = 500) -> np.ndarray:
    """The classifier's 128-d "features" activations for digits in [-1, 1], shape (n, 128)."""
    return classifier_outputs(images, batch_size)[0]


def classify(images, batch_size: int = 500) -> np.ndarray:
    """Class probabilities (softmax of the logits), shape (n, 10); ``argmax(axis=1)`` is the digit."""
    return classifier_outputs(images, batch_size)[1]


def reference_values() -> dict:
    """Measured anchors for ``score_generator`` (``gan_course/assets/mnist_classifier/reference.json``).

    Written by ``scripts/train_classifier.py`` (classifier test accuracy 0.985; rerun with
    ``--reference-only``). Both columns are scored the way lesson 01 and the CLI score a
    generator offline: n = 1,000 images against the 1,000 held-out test digits, seed 0. The
    "real digits" column is 1,000 training digits put in the generator's place: the score of
    a generator that draws exactly from the training distribution.

    ==========================  ===================  =====================
    metric (n = 1,000 vs the    real digits          untrained generator
    1,000 test digits)          (training split)
    ==========================  ===================  =====================
    FID (classifier features)   2.53                 509.4
    KID mean (std)              -0.188 (0.187)       28.01 (0.81)
    coverage                    1.0                  0.1
    entropy (nats; max 2.303)   2.301                0.0
    confident share (p >= 0.9)  0.968                0.0
    median nearest-train L1     0.118 (test digits)  0.898
    ==========================  ===================  =====================

    The real-digit FID is small-sample bias and noise (2.9 and 3.7 with seeds 1 and 2); the classifier was
    fitted on 90% of the training digits, so their confident share is slightly flattering (the
    test digits themselves read 0.961). KID is unbiased, so real digits score about 0
    (slightly negative here, within noise); it is in raw units of the cubic kernel on the
    128-d features, not multiplied by 1,000. The untrained generator's images are flat
    mid-grey (pixels within 0.07 of 0) and all read as an 8. A trained GAN should land between
    the columns, near the left one; a median L1 well below 0.118 suggests copying. Scores with
    another n or another real set (the full Keras MNIST has 10,000 test digits) are not
    comparable with this table.
    """
    path = CLASSIFIER_DIR / "reference.json"
    if not path.is_file():
        raise FileNotFoundError(f"No reference values at {path}. Make them with: python scripts/train_classifier.py")
    return json.loads(path.read_text())
