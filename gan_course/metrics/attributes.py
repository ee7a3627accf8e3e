"""A yardstick for image folders with class sub-folders: a small attribute classifier.

Introduced, written out, in lesson 02 ("How good are the samples? Measuring them"), where it
scores the offline LEGO bricks (one sub-folder per brick shape) and faces (per hair colour);
lesson 07 scores its brick ablation with it. A small CNN learns the classes from the
*training* images; generated images are then scored against *held-out* real images by:

- **classifier FID**: the Frechet distance between the 32 features of the classifier's last
  hidden layer for generated and for held-out images. It depends on the classifier, so it is
  comparable only between runs scored by the same trained classifier (``AttributeScorer.digest``
  names it);
- **coverage**: the share of classes predicted for at least half their fair share of the
  samples (``0.5 / n_classes``): 1.0 is every class, ``1 / n_classes`` a collapse onto one;
- **entropy** of the predicted-class histogram (at most ``ln n_classes``);
- **confident share**: samples whose top class probability is at least 0.9.

The classifier's accuracy on the held-out images says whether the class scores can be trusted.
"""

from __future__ import annotations

import hashlib

import numpy as np

from gan_course.metrics.classes import class_coverage, class_entropy, confident_share
from gan_course.metrics.distances import frechet_distance
from gan_course.metrics.scores import sample_images

__all__ = ["build_attribute_classifier", "train_attribute_classifier", "AttributeScorer"]


def build_attribute_classifier(image_shape, n_classes: int):
    """Lesson 02's classifier: three conv + max-pool blocks (32, 64, 128 filters), Flatten,
    dropout 0.3, a 32-unit ``features`` layer and one logit per class."""
    import keras
    from keras import layers

    if n_classes < 2:
        raise ValueError(f"An attribute classifier needs at least 2 classes, got {n_classes}.")
    return keras.Sequential(
        [
            keras.Input(shape=tuple(image_shape)),
            layers.Conv2D(32, 3, padding="same", activation="relu"),
            layers.MaxPooling2D(),
            layers.Conv2D(64, 3, padding="same", activation="relu"),
            layers.MaxPooling2D(),
            layers.Conv2D(128, 3, padding="same", activation="relu"),
            layers.MaxPooling2D(),
            layers.Flatten(),  # keeps where things are: a 1x4 and a 2x2 brick differ in layout, not texture
            layers.Dropout(0.3),
            layers.Dense(32, activation="relu", name="features"),
            layers.Dense(n_classes),
        ],
        name="attribute_classifier",
    )


def train_attribute_classifier(images, labels, n_classes: int, epochs: int, seed: int | None = 0, batch_size: int = 64):
    """Train ``build_attribute_classifier`` on (images, integer labels) with Adam and
    cross-entropy, as lesson 02 does. ``seed`` (when not None) seeds Keras first, so the same
    data give the same classifier."""
    import keras

    if seed is not None:
        keras.utils.set_random_seed(seed)
    net = build_attribute_classifier(np.shape(images)[1:], n_classes)
    net.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    from gan_course.callbacks import FitProgress

    net.fit(np.asarray(images), np.asarray(labels), epochs=epochs, batch_size=batch_size, verbose=0,
            callbacks=[FitProgress("attribute classifier")])  # shows only when it takes a while
    return net


class AttributeScorer:
    """Scores images against one set of held-out real images with a trained attribute classifier.

    Args:
        classifier: a model from ``train_attribute_classifier`` (or one loaded from its
            ``.keras`` file): it needs the layer named ``features``.
        real_images: the held-out real images every score compares with.
    """

    def __init__(self, classifier, real_images):
        import keras

        self.classifier = classifier
        self.n_classes = int(classifier.outputs[0].shape[-1])
        self._outputs_model = keras.Model(classifier.inputs, [classifier.get_layer("features").output, classifier.outputs[0]])
        self.real_images = np.asarray(real_images)
        self.real_features, self.real_probs = self.outputs(self.real_images)

    @property
    def digest(self) -> str:
        """A short hash of the classifier's weights: scores agree only under the same digest."""
        h = hashlib.sha1()
        for w in self.classifier.get_weights():
            h.update(np.ascontiguousarray(w, dtype=np.float32).tobytes())
        return h.hexdigest()[:10]

    def outputs(self, images, batch_size: int = 256):
        """(features (n, 32), class probabilities (n, n_classes)) of ``images``."""
        import keras

        feats, logits = self._outputs_model.predict(np.asarray(images), batch_size=batch_size, verbose=0)
        return feats, keras.ops.convert_to_numpy(keras.ops.softmax(logits))

    def accuracy(self, images, labels) -> float:
        """Share of ``images`` classified as their ``labels``."""
        return float(np.mean(self.outputs(images)[1].argmax(axis=1) == np.asarray(labels)))

    def __call__(self, images) -> dict:
        """``fid``, ``coverage``, ``entropy``, ``confident_share`` of ``images``, and the counts."""
        feats, probs = self.outputs(images)
        return {
            "fid": frechet_distance(feats, self.real_features),
            "coverage": class_coverage(probs, min_share=0.5 / self.n_classes),
            "entropy": class_entropy(probs),
            "confident_share": confident_share(probs),
            "n_samples": len(feats),
            "n_real": len(self.real_features),
        }

    def score_generator(self, generator, n: int, seed: int = 0) -> dict:
        """Draw ``n`` images from ``generator`` (``metrics.sample_images``) and score them."""
        return self(sample_images(generator, n, seed=seed))
