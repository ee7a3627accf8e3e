"""Probe lesson 01's recipe pieces on lesson 02's own face run, over seeds (issue 38).

``scripts/probe_faces.py`` measured the pieces with the package's networks on the celeba stand-in;
this script checks them where lesson 02 trains: its own inline face networks (copied below from
``notebooks/02_dcgan_image_folder.ipynb``, section 3, with the two optional layers of lesson 01's
fast recipe added), the anime stand-in's 2,500 training faces at 32x32, the lesson's face settings
(Adam 2e-3, lazy R1 gamma 1 every 4th D step, the average of G, batch 64, 40 epochs at ``cpu``) and
the lesson's face score (``metrics.score_faces`` of 500 samples against the 500 held-out faces).

    python scripts/probe_lesson02_faces.py --variants lesson pieces --seeds 42 1 2 --out outputs/probes/l02.jsonl

Each line of the output records a variant, a seed, its face FID and attribute coverage at every
``--every`` epochs, and the run's training seconds. Run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

VARIANTS = {  # name -> (beta_1, mapping layers in G, hidden units in D)
    "lesson": (0.5, 0, 0),  # lesson 02's face settings as they are
    "b0": (0.0, 0, 0),
    "pieces": (0.0, 2, 256),  # lesson 01's fast recipe's beta_1 and its two layers
    "b0 hidden": (0.0, 0, 256),
}


def face_generator(latent_dim, image_size, width, mapping=0):
    import keras
    from keras import layers

    from gan_course import models

    s0 = models.initial_size(image_size, 2)
    z = keras.Input(shape=(latent_dim,))
    x = z
    for _ in range(mapping):  # lesson 01's mapping network: Dense(128) + LeakyReLU, then a linear w
        x = layers.LeakyReLU(0.2)(layers.Dense(128)(x))
    if mapping:
        x = layers.Dense(latent_dim)(x)
    x = layers.Dense(s0 * s0 * 4 * width, use_bias=False)(x)
    x = layers.LeakyReLU(0.2)(layers.BatchNormalization(momentum=0.9)(x))
    x = layers.Reshape((s0, s0, 4 * width))(x)
    for filters in (2 * width, width):
        x = layers.Conv2DTranspose(filters, 3, strides=2, padding="same", use_bias=False)(x)
        x = layers.LeakyReLU(0.2)(layers.BatchNormalization(momentum=0.9)(x))
    image = layers.Conv2DTranspose(3, 3, strides=1, padding="same", activation="tanh")(x)
    return keras.Model(z, image, name="face_generator")


def face_discriminator(image_size, width, hidden=0):
    import keras
    from keras import layers

    image = keras.Input(shape=(image_size, image_size, 3))
    x, size, i = image, image_size, 0
    while size > 7:
        x = layers.LeakyReLU(0.2)(layers.Conv2D(width * 2**i, 3, strides=2, padding="same")(x))
        size, i = (size + 1) // 2, i + 1
    x = layers.Flatten()(x)
    if hidden:  # lesson 01's hidden layer in D
        x = layers.LeakyReLU(0.2)(layers.Dense(hidden)(x))
    return keras.Model(image, layers.Dense(1)(x), name="face_discriminator")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", nargs="+", default=["lesson", "pieces"], choices=sorted(VARIANTS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[42, 1, 2])
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--every", type=int, default=10, help="epochs between two scorings")
    parser.add_argument("--out", default="outputs/probes/lesson02_faces.jsonl")
    args = parser.parse_args(argv)

    import gan_course  # noqa: F401  (pins Keras to TensorFlow)
    import keras

    from gan_course import callbacks, data, metrics, training
    from gan_course.datasets import dataset_folder, load_arrays

    n_train, n_hold, size, latent, width, batch = 2500, 500, 32, 100, 32, 64
    info = dataset_folder("anime", "offline", offline_count=n_train + n_hold)
    faces, _, _ = load_arrays(info, size, n_train + n_hold, seed=42)  # the lesson's data split (its SEED)
    train, hold = faces[:-n_hold], faces[-n_hold:]
    real_out = metrics.face_outputs(hold)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    for seed in args.seeds:
        for name in args.variants:
            beta_1, mapping, hidden = VARIANTS[name]
            keras.utils.set_random_seed(seed)
            gan = training.DCGAN(face_generator(latent, size, width, mapping), face_discriminator(size, width, hidden),
                                 seed=seed, ema=0.999, r1_gamma=1.0, r1_every=4)
            gan.compile(d_optimizer=keras.optimizers.Adam(2e-3, beta_1=beta_1),
                        g_optimizer=keras.optimizers.Adam(2e-3, beta_1=beta_1))
            ds = data.make_dataset(train, batch, seed=seed)
            curve, seconds = [], 0.0
            for done in range(args.every, args.epochs + 1, args.every):
                start = time.perf_counter()
                gan.fit(ds, initial_epoch=done - args.every, epochs=done, verbose=0, callbacks=[callbacks.StopOnNaN()])
                seconds += time.perf_counter() - start
                score = metrics.score_faces(gan.sampling_generator, hold, n=n_hold, seed=0, real_outputs=real_out)
                curve.append({"epochs": done, "fid": round(float(score.fid), 2),
                              "coverage": round(float(score.coverage["mean"]), 3), "train_seconds": round(seconds, 1)})
                print(name, seed, curve[-1], flush=True)
            with out.open("a") as f:
                f.write(json.dumps({"variant": name, "seed": seed, "beta_1": beta_1, "mapping": mapping,
                                    "d_hidden": hidden, "curve": curve}) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
