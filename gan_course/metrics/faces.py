"""A face score for the offline faces: FID and KID on the features of a trained face classifier,
and per-attribute coverage (does the generator draw every hair colour, skin tone, eye colour, ...).

The random-feature FID (``gan_course.metrics.inception`` without ImageNet weights) compares
low-level statistics: it tells noise from anything, but not a face-shaped colour blob from a
face. This score's features come from a small CNN trained to read the attributes the
renderer draws (``gan_course.renderers.draw_face``): hair colour (14 classes, both styles),
skin tone, eye colour and hair length. A blob without eyes has no answer for the eye-colour
head, and a blurred face no clear one for the others, so their features land away from real faces'.

The classifier is trained on renders only (``scripts/train_face_classifier.py``; weights in
``gan_course/assets/face_classifier/``), so the score means something for the **offline
stand-in faces**. On real photos or anime drawings it is not a quality measure: use the
Inception FID there (``folder_fid``). Like every FID it depends on n: compare only values
with the same n against the same real images, next to the anchors (``face_reference_values``).
"""

from __future__ import annotations

import dataclasses
import functools
import json
from pathlib import Path

import keras
import numpy as np
from keras import layers

from gan_course.metrics.classifier import checked_pixels, load_frozen
from gan_course.metrics.distances import frechet_distance, kernel_inception_distance
from gan_course.metrics.scores import images_to_score

__all__ = [
    "FACE_CLASSIFIER_DIR",
    "FACE_CLASSIFIER_WEIGHTS",
    "FACE_INPUT_SIZE",
    "FACE_HEADS",
    "FACE_FEATURES_LABEL",
    "build_face_classifier",
    "load_face_classifier",
    "clear_face_classifier_cache",
    "face_outputs",
    "face_features",
    "attribute_shares",
    "attribute_coverage",
    "blur_images",
    "FaceScores",
    "score_faces",
    "face_reference_values",
]

FACE_CLASSIFIER_DIR = Path(__file__).resolve().parents[1] / "assets" / "face_classifier"
FACE_CLASSIFIER_WEIGHTS = FACE_CLASSIFIER_DIR / "face_classifier.weights.h5"
FACE_INPUT_SIZE = 32
FACE_FEATURES_LABEL = "face classifier (offline renders), 128-d 'features' layer"


# The renderer also draws a mouth (smile or straight) and blush, but at 32x32 a smile and a
# straight mouth differ by less than a pixel and a blushed cheek is a 4x1-pixel smear: a first
# classifier stayed at chance on both (mouth 50%, blush 75% = always "none" for photo, "one"
# for anime), so they are not heads. The attributes below are read reliably (accuracy.json).
UNREAD_ATTRIBUTES = ("mouth", "blush")


def _heads() -> dict[str, tuple[str, ...]]:
    from gan_course.renderers import FACE_ATTRIBUTES, HAIR_COLOURS

    hair = tuple(f"{style}/{name}" for style, palette in HAIR_COLOURS.items() for name in palette)
    return {"hair": hair, **{k: v for k, v in FACE_ATTRIBUTES.items() if k not in UNREAD_ATTRIBUTES}}


# head name -> class names; "hair" holds both styles' colours ("anime/pink", "photo/auburn", ...)
FACE_HEADS: dict[str, tuple[str, ...]] = _heads()


def build_face_classifier(name: str = "face_classifier") -> keras.Model:
    """A small CNN for 32x32 RGB faces in [-1, 1] with one softmax head (logits) per attribute.

    conv32-conv32-pool (16) -> conv64-conv64-pool (8) -> conv128-pool (4) -> flatten ->
    Dense(128, relu, name="features") -> dropout -> one Dense per attribute of ``FACE_HEADS``.
    The "features" layer plays the part of Inception's pool layer in FID.
    """
    image = keras.Input(shape=(FACE_INPUT_SIZE, FACE_INPUT_SIZE, 3), name="image")
    x = image
    for block, widths in enumerate([(32, 32), (64, 64), (128,)]):
        for i, filters in enumerate(widths):
            x = layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"conv{block + 1}_{i + 1}")(x)
        x = layers.MaxPooling2D(2, name=f"pool{block + 1}")(x)
    x = layers.Flatten(name="flatten")(x)  # keeps where things are: eyes above the mouth
    x = layers.Dropout(0.2, name="dropout_flat")(x)
    features = layers.Dense(128, activation="relu", name="features")(x)
    x = layers.Dropout(0.3, name="dropout_features")(features)
    outputs = {head: layers.Dense(len(classes), name=head)(x) for head, classes in FACE_HEADS.items()}
    return keras.Model(image, outputs, name=name)


@functools.lru_cache(maxsize=1)
def load_face_classifier() -> keras.Model:
    """The committed face classifier, loaded once.

    Raises:
        FileNotFoundError: the weights are missing; ``python scripts/train_face_classifier.py``
            makes them (a few CPU minutes, offline).
    """
    return load_frozen(build_face_classifier, FACE_CLASSIFIER_WEIGHTS, "python scripts/train_face_classifier.py",
                       "a few minutes")


@functools.lru_cache(maxsize=1)
def _features_and_heads() -> keras.Model:
    clf = load_face_classifier()
    outputs = {"features": clf.get_layer("features").output}
    outputs.update({head: clf.get_layer(head).output for head in FACE_HEADS})
    return keras.Model(clf.input, outputs, name="face_features_and_heads")


def clear_face_classifier_cache() -> None:
    """Forget the loaded face classifier, so the next score reads the weights file again (what
    ``scripts/train_face_classifier.py`` calls after writing new weights)."""
    load_face_classifier.cache_clear()
    _features_and_heads.cache_clear()


def _as_face_batch(images) -> np.ndarray:
    x = np.asarray(images, dtype=np.float32)
    if x.ndim != 4 or x.shape[-1] != 3:
        raise ValueError(f"The face classifier takes RGB images (n, height, width, 3), got shape {x.shape}")
    return checked_pixels(x)


def face_outputs(images, batch_size: int = 500) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """One pass of the face classifier over RGB images in [-1, 1] of any square size (resized
    to 32x32, bilinear with antialiasing, when they differ): (features (n, 128), probabilities
    per head ``{"hair": (n, 14), "skin": (n, 6), ...}``)."""
    x = _as_face_batch(images)
    model = _features_and_heads()
    feats, probs = [], {head: [] for head in FACE_HEADS}
    for start in range(0, len(x), batch_size):
        batch = x[start : start + batch_size]
        if batch.shape[1:3] != (FACE_INPUT_SIZE, FACE_INPUT_SIZE):
            batch = keras.ops.image.resize(batch, (FACE_INPUT_SIZE, FACE_INPUT_SIZE), interpolation="bilinear",
                                           antialias=True)
        out = model(batch, training=False)
        feats.append(keras.ops.convert_to_numpy(out["features"]))
        for head in FACE_HEADS:
            probs[head].append(keras.ops.convert_to_numpy(keras.ops.softmax(out[head], axis=-1)))
    return np.concatenate(feats).astype(np.float64), {h: np.concatenate(p).astype(np.float64) for h, p in probs.items()}


def face_features(images, batch_size: int = 500) -> np.ndarray:
    """The face classifier's 128-d "features" activations, shape (n, 128)."""
    return face_outputs(images, batch_size)[0]


def attribute_shares(probs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """For each head, the share of images whose most likely class is each class (sums to 1)."""
    return {head: np.bincount(p.argmax(axis=1), minlength=p.shape[1]) / len(p) for head, p in probs.items()}


def attribute_coverage(fake_probs, real_probs, min_ratio: float = 0.5, min_real_share: float = 0.02) -> dict:
    """Per attribute, the fraction of the real images' classes that the generated images draw.

    A class counts when the real images show it (predicted share >= ``min_real_share``) and the
    generated images reach at least ``min_ratio`` (default half) of its real share: 1.0 means
    every hair colour (skin tone, ...) of the real set appears about as often as it should,
    0.125 means one of eight hair colours. Relative to the real shares, so attributes that are
    not uniform (two blushed cheeks are rarer than one) and the other style's hair colours
    (share 0 in the real set) are handled. Needs a few hundred samples.

    Returns:
        ``{head: coverage}`` plus ``"mean"``, the average over the heads.
    """
    fake, real = attribute_shares(fake_probs), attribute_shares(real_probs)
    if set(fake) != set(real):
        raise ValueError(f"Different heads: {sorted(fake)} vs {sorted(real)}")
    out = {}
    for head in real:
        shown = real[head] >= min_real_share
        out[head] = float(np.mean(fake[head][shown] >= min_ratio * real[head][shown]))
    out["mean"] = float(np.mean(list(out.values())))
    return out


def blur_images(images, sigma: float) -> np.ndarray:
    """Gaussian blur of each image (standard deviation ``sigma`` pixels; channels kept apart).

    The quality test's degraded faces: at 32x32, sigma 0.75 softens every edge, 1.5 smears the eyes to dots.
    """
    from scipy.ndimage import gaussian_filter

    x = np.asarray(images, dtype=np.float32)
    if x.ndim != 4:
        raise ValueError(f"images must be (n, height, width, channels), got shape {x.shape}")
    return gaussian_filter(x, sigma=(0, float(sigma), float(sigma), 0), mode="nearest")


@dataclasses.dataclass(frozen=True)
class FaceScores:
    """The scores of ``score_faces``; FID/KID use the face classifier's features."""

    fid: float  # face-classifier FID against the real images (lower is better)
    kid_mean: float  # unbiased KID, mean over subsets (about 0 is ideal)
    kid_std: float
    coverage: dict  # attribute_coverage: per head and "mean" (1.0 is ideal)
    n_samples: int
    n_real: int
    features: str = FACE_FEATURES_LABEL

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)

    def __str__(self) -> str:
        return (f"n={self.n_samples} vs {self.n_real} real: face FID {self.fid:.2f}, KID {self.kid_mean:.3f} "
                f"+- {self.kid_std:.3f}, attribute coverage {self.coverage['mean']:.2f} "
                f"({', '.join(f'{k} {v:.2f}' for k, v in self.coverage.items() if k != 'mean')})")


def score_faces(generator_or_images, real_images, n: int | None = None, seed: int = 0, batch_size: int = 500,
                kid_subsets: int = 50, kid_subset_size: int = 500, real_outputs=None) -> FaceScores:
    """Score a generator (or its images) against real faces with the face classifier.

    Args:
        generator_or_images: a generator model (``n`` images are drawn with
            ``metrics.sample_images`` and ``seed``) or RGB images in [-1, 1] (a random ``n`` of
            them by ``seed``; all when ``n`` is None).
        real_images: the real faces to compare with (all of them), in [-1, 1].
        real_outputs: ``face_outputs(real_images)`` when it is already computed (scoring several
            sets against one real set); ``real_images`` is then not read again.
    """
    fake = images_to_score(generator_or_images, n, seed, batch_size, _as_face_batch)
    fake_feats, fake_probs = face_outputs(fake, batch_size)
    real_feats, real_probs = real_outputs if real_outputs is not None else face_outputs(real_images, batch_size)
    kid_mean, kid_std = kernel_inception_distance(fake_feats, real_feats, n_subsets=kid_subsets,
                                                  subset_size=kid_subset_size, seed=seed)
    return FaceScores(
        fid=frechet_distance(fake_feats, real_feats),
        kid_mean=kid_mean,
        kid_std=kid_std,
        coverage=attribute_coverage(fake_probs, real_probs),
        n_samples=len(fake),
        n_real=len(real_feats),
    )


def face_reference_values() -> dict:
    """The measured anchors of ``scripts/train_face_classifier.py``
    (``gan_course/assets/face_classifier/reference.json``): per style, real held-out renders,
    lightly and heavily blurred renders, colour-only blobs and an untrained generator, all at
    the same n against the same real renders, with the random-feature FID next to them."""
    path = FACE_CLASSIFIER_DIR / "reference.json"
    if not path.is_file():
        raise FileNotFoundError(f"No reference values at {path}. Make them with: python scripts/train_face_classifier.py")
    return json.loads(path.read_text())
