"""Train the face classifier behind ``gan_course.metrics.faces`` and measure its reference scores.

Offline and deterministic: faces drawn by ``gan_course.renderers.render_labelled_faces`` in
both styles (anime at 100x100, photo at 64x64: the sizes the dataset registry renders), each
resized to 32x32 with Lanczos as ``datasets.load_arrays`` does, with their attributes (hair
colour, skin tone, eye colour, hair length; ``metrics.faces.FACE_HEADS``) as labels. Training, validation,
test and reference renders use different seeds from each other and from the lessons' stand-ins.

Writes, in ``gan_course/assets/face_classifier/``:

- ``face_classifier.weights.h5``  the weights (``metrics.faces.build_face_classifier``)
- ``accuracy.json``               per-attribute test accuracy, sizes, seeds, time, versions
- ``reference.json``              per style: real held-out renders, lightly (sigma 0.75 px) and
  heavily (1.5 px) blurred renders, colour-only blobs and an untrained generator, each n = 500
  against the same 1,000 real renders: face FID/KID/coverage and the random-feature FID

Usage: ``python scripts/train_face_classifier.py`` (a few minutes on 2 CPU cores);
``--reference-only`` keeps the weights and recomputes ``reference.json``.
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

from gan_course import models, renderers  # noqa: E402
from gan_course.metrics import faces, inception  # noqa: E402
from gan_course.metrics.distances import frechet_distance  # noqa: E402
from gan_course.metrics.scores import sample_images  # noqa: E402

STYLES = {"anime": 100, "photo": 64}  # style -> the size datasets.py renders it at
SEEDS = {"train": 1000, "test": 2000, "reference": 3000}  # + 0 for anime, + 1 for photo
N_TRAIN, N_TEST, N_REFERENCE_REAL, N_EVAL = 6000, 1000, 1000, 500
LIGHT_SIGMA, HEAVY_SIGMA = 0.75, 1.5
HEADS = list(faces.FACE_HEADS)


def _to_32(images: np.ndarray) -> np.ndarray:
    from PIL import Image

    s = faces.FACE_INPUT_SIZE
    small = np.stack([np.asarray(Image.fromarray(im).resize((s, s), Image.LANCZOS)) for im in images])
    return small.astype(np.float32) / 127.5 - 1.0


def render(style: str, n: int, split: str) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """n faces of ``style`` for ``split`` at 32x32 in [-1, 1], labels per head of ``FACE_HEADS``."""
    seed = SEEDS[split] + list(STYLES).index(style)
    images, labels = renderers.render_labelled_faces(n, seed=seed, size=STYLES[style], style=style)
    if style == "photo":  # the hair head lists the anime colours first
        labels["hair"] = labels["hair"] + len(renderers.HAIR_COLOURS["anime"])
    return _to_32(images), labels


def render_both(n: int, split: str):
    parts = [render(style, n, split) for style in STYLES]
    x = np.concatenate([p[0] for p in parts])
    y = {h: np.concatenate([p[1][h] for p in parts]) for h in HEADS}
    return x, y


def train(seed: int, epochs: int, batch_size: int):
    keras.utils.set_random_seed(seed)
    start = time.time()
    x, y = render_both(N_TRAIN, "train")
    x_test, y_test = render_both(N_TEST, "test")
    print(f"rendered {len(x)} training and {len(x_test)} test faces in {time.time() - start:.0f} s")

    order = np.random.default_rng(seed).permutation(len(x))
    n_val = len(x) // 10
    val, fit = order[:n_val], order[n_val:]
    augment = keras.Sequential(
        [keras.layers.RandomFlip("horizontal", seed=seed),  # a mirrored face keeps every attribute
         keras.layers.RandomTranslation(0.06, 0.06, fill_mode="nearest", seed=seed + 1)],
        name="augment",
    )
    fit_ds = (
        tf.data.Dataset.from_tensor_slices((x[fit], {h: y[h][fit] for h in HEADS}))
        .shuffle(len(fit), seed=seed, reshuffle_each_iteration=True)
        .batch(batch_size)
        .map(lambda a, b: (augment(a, training=True), b))
        .prefetch(tf.data.AUTOTUNE)
    )
    model = faces.build_face_classifier()
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss={h: keras.losses.SparseCategoricalCrossentropy(from_logits=True) for h in HEADS},
        metrics={h: ["accuracy"] for h in HEADS},
    )
    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)
    slow = keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.3, patience=1)
    start = time.time()
    history = model.fit(fit_ds, validation_data=(x[val], {h: y[h][val] for h in HEADS}), epochs=epochs,
                        callbacks=[stop, slow], verbose=2)
    seconds = time.time() - start

    logits = model.predict(x_test, batch_size=500, verbose=0)
    n_anime = N_TEST
    accuracy = {}
    for h in HEADS:
        pred = np.asarray(logits[h]).argmax(axis=1)
        accuracy[h] = {"both": round(float(np.mean(pred == y_test[h])), 4),
                       "anime": round(float(np.mean(pred[:n_anime] == y_test[h][:n_anime])), 4),
                       "photo": round(float(np.mean(pred[n_anime:] == y_test[h][n_anime:])), 4)}
    return model, {
        "test_accuracy": accuracy,
        "n_train": int(len(fit)),
        "n_validation": int(n_val),
        "n_test": int(len(x_test)),
        "data": (f"renderers.render_labelled_faces, anime at 100 px and photo at 64 px, Lanczos to 32 px; "
                 f"{N_TRAIN} per style for training (seeds {SEEDS['train']}/{SEEDS['train'] + 1}, 10% of them "
                 f"for early stopping), {N_TEST} per style for the test (seeds {SEEDS['test']}/{SEEDS['test'] + 1})"),
        "epochs_run": len(history.history["loss"]),
        "train_seconds": round(seconds, 1),
        "seed": seed,
        "date": datetime.date.today().isoformat(),
        "keras_version": keras.__version__,
        "tensorflow_version": tf.__version__,
    }


def reference(seed: int, with_inception: bool = True) -> dict:
    """Each style: five sets of N_EVAL images scored against the same N_REFERENCE_REAL real renders."""
    out = {
        "description": (
            f"metrics.score_faces(images, real, seed={seed}) with n = {N_EVAL} images per set against "
            f"{N_REFERENCE_REAL} real renders (seeds {SEEDS['reference']}/{SEEDS['reference'] + 1}) at 32x32; "
            "random_fid: InceptionV3 with fixed random weights at 75 px on the same sets"
        ),
    }
    extractor = inception.inception_extractor(75, verbose=False)[0] if with_inception else None
    for style in STYLES:
        real, _ = render(style, N_REFERENCE_REAL, "reference")
        held_out, _ = render(style, N_EVAL, "test")
        seed_test = SEEDS["test"] + list(STYLES).index(style)
        blobs = _to_32(renderers.render_face_blobs(N_EVAL, seed=seed_test, size=STYLES[style], style=style))
        keras.utils.set_random_seed(0)
        untrained = models.dcgan_generator(64, (32, 32, 3), width=32)
        sets = {
            "real": ("held-out renders (never trained on)", held_out),
            "light_blur": (f"the same renders, Gaussian blur sigma {LIGHT_SIGMA} px", faces.blur_images(held_out, LIGHT_SIGMA)),
            "heavy_blur": (f"the same renders, Gaussian blur sigma {HEAVY_SIGMA} px", faces.blur_images(held_out, HEAVY_SIGMA)),
            "colour_blobs": ("renderers.render_face_blobs of the same faces: colours and layout, no features", blobs),
            "untrained_generator": ("models.dcgan_generator(64, (32, 32, 3), width=32), seed 0, untrained",
                                    sample_images(untrained, N_EVAL, seed=seed)),
        }
        real_inception = inception.inception_features(real, model=extractor)[0] if with_inception else None
        real_outputs = faces.face_outputs(real)
        out[style] = {}
        for name, (what, images) in sets.items():
            scores = faces.score_faces(images, real, seed=seed, real_outputs=real_outputs)
            entry = {"what": what, "fid": round(scores.fid, 4), "kid_mean": round(scores.kid_mean, 5),
                     "kid_std": round(scores.kid_std, 5),
                     "coverage": {k: round(v, 4) for k, v in scores.coverage.items()},
                     "n_samples": scores.n_samples, "n_real": scores.n_real}
            if with_inception:
                feats = inception.inception_features(images, model=extractor)[0]
                entry["random_fid"] = round(frechet_distance(feats, real_inception), 4)
            out[style][name] = entry
            print(f"{style:5s} {name:20s} face FID {entry['fid']:9.2f}  KID {entry['kid_mean']:8.3f}  "
                  f"coverage {entry['coverage']['mean']:.2f}  random-feature FID {entry.get('random_fid', float('nan')):.3f}")
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--reference-only", action="store_true",
                        help="keep the committed weights; only recompute reference.json")
    parser.add_argument("--no-inception", action="store_true", help="skip the random-feature FID (faster)")
    args = parser.parse_args(argv)

    if not args.reference_only:
        model, info = train(args.seed, args.epochs, args.batch_size)
        faces.FACE_CLASSIFIER_DIR.mkdir(parents=True, exist_ok=True)
        clean = faces.build_face_classifier()  # uncompiled: no optimizer state in the file
        clean.set_weights(model.get_weights())
        clean.save_weights(faces.FACE_CLASSIFIER_WEIGHTS)
        (faces.FACE_CLASSIFIER_DIR / "accuracy.json").write_text(json.dumps(info, indent=2) + "\n")
        print(json.dumps(info["test_accuracy"], indent=1))
        print(f"weights {faces.FACE_CLASSIFIER_WEIGHTS.stat().st_size / 1e6:.2f} MB -> {faces.FACE_CLASSIFIER_WEIGHTS}")
        faces.clear_face_classifier_cache()  # the scores below use the weights just written
    start = time.time()
    ref = reference(args.seed, with_inception=not args.no_inception)
    print(f"reference values in {time.time() - start:.0f} s")
    (faces.FACE_CLASSIFIER_DIR / "reference.json").write_text(json.dumps(ref, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
