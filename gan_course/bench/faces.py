"""The faces race's pieces: the keras-io face DCGAN, the face score, the anchors and the report.

``python -m gan_course.bench.quality --race faces`` (``quality.faces_race``, with the digits race's
machinery, ``quality.time_to_quality``) trains, in one process and one after the other,
on the same faces (lesson 03's: the CelebA entry of ``gan_course.datasets``, by default its offline
stand-in), from the same seed and with the same wall-clock budget:

- **lesson 03's recipe**: ``recipes.recipe(preset, "wgan-gp-faces")``, the WGAN-GP of its main run;
- **lesson 02's face recipe**: ``recipes.recipe(preset, "dcgan-faces")``, its face run's settings;
- **the reference**: the keras-io example "DCGAN to generate face images" by fchollet
  (https://keras.io/examples/generative/dcgan_overriding_train_step/, source
  ``examples/generative/dcgan_overriding_train_step.py`` in keras-team/keras-io, the Keras 3
  version of 2023-12-21), written out below: its networks, its ``train_step``, its optimisers
  (Adam 1e-4 for both players, Keras' default betas), its loss (binary cross-entropy on D's sigmoid),
  its label noise (0.05 times a uniform number added to every label of D's batch), its batch of 32
  and its 128-d latent.

**The reference at the lesson's image size.** The example draws 64x64 faces: G projects z to an
8x8x128 map and up-samples it with three stride-2 transposed convolutions (128, 256, 512 filters,
4x4 kernels, LeakyReLU 0.2) before a 5x5 convolution to 3 sigmoid channels; D has three stride-2
convolutions (64, 128, 128 filters, 4x4 kernels, LeakyReLU 0.2), then Flatten, Dropout 0.2 and a
sigmoid Dense. ``keras_io_faces_dcgan(image_size)`` keeps G's 8x8 start and D's 8x8 end and keeps
only as many stride-2 stages as the image needs, dropping the stages nearest the image: at 32x32
(the cpu preset) G's 512-filter transposed convolution and D's third convolution (128 filters) go,
so G is 8 -> 16 (128) -> 32 (256) and D is 32 -> 16 (64) -> 8 (128), whose Flatten gives the same
8,192 features as the example's; at 64x64 it is the example itself, at 16x16 (smoke) one stage each.
The example trains on pixels in [0, 1] (``x / 255``) with a sigmoid generator; the course's faces are
in [-1, 1]: the reference gets ``(x + 1) / 2`` and its samples are scored as ``2 y - 1``. As in the
example, its ``train_step`` calls both networks without ``training=True``: under Keras 3 its
Dropout is then inactive in training too, as it is when the example runs.

**Scoring.** Every ``every_seconds`` of training (checkpoints by wall time, alike for every
contestant) each generator draws as many faces as are held out, from fixed noise, and
``metrics.score_faces`` (the face classifier lessons 02 and 03 score with) gives their face FID
against the held-out real faces. Only training counts towards the time (wall and CPU seconds of this
process), scoring excluded; the first checkpoint includes building the graph. Measured in the same
run, as anchors at the same n against the same faces: real training faces (the best a generator can
do), the same faces blurred (sigma 0.75 and 1.5 px) and each contestant's untrained generator (its
0-s checkpoint, which does not count as reaching the target).

**The threshold**, ``FACE_QUALITY_FID``: a face FID of at most 100, chosen from the classifier's
recorded anchors (``metrics.face_reference_values()``, photo style, n = 500), not from any
contestant's run: it lies between real faces blurred by 0.75 px (soft, every feature still there)
and real faces blurred by 1.5 px (eyes smeared to dots) or colour blobs with a face's layout and no
features, several times the real-faces anchor and a small fraction of an untrained generator's.
A run below it draws samples the classifier reads as faces with their features, nearer slightly soft
faces than blobs. The race measures the same anchors on its own faces and prints where the
threshold falls among them (``threshold_between``). ``--target-fid`` sets another threshold.

The report gives each contestant's time to the threshold and ``reference / course``, the reference's
wall seconds over each course recipe's (> 1: the course is that many times sooner). When the
reference does not arrive within ``max_seconds`` its time is the budget and the ratio a lower bound;
when a course recipe does not arrive, it has no ratio.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import layers, ops

__all__ = ["FACE_QUALITY_FID", "FACES_DATASET", "COURSE_RECIPES", "REFERENCE", "TARGET_RATIO", "keras_io_faces_dcgan",
           "KerasIOFaceGAN", "KerasIOFaceTrainer", "face_scorer", "anchors", "threshold_between", "load_faces",
           "ratio_to_reference", "summary_lines"]

FACE_QUALITY_FID = 100.0  # face-classifier FID at n = 500: between the 0.75-px and the 1.5-px blur anchors
FACES_DATASET = "celeba"  # lesson 03's faces (offline: the photo-style stand-in)
# key -> (recipe name, label, generator steps per training chunk at cpu size)
COURSE_RECIPES = {"lesson03": ("wgan-gp-faces", "lesson 03 WGAN-GP", 5),
                  "lesson02": ("dcgan-faces", "lesson 02 DCGAN", 20)}
REFERENCE = ("reference", "keras-io face DCGAN", 2)
TARGET_RATIO = 3.0  # issue 38: the course reaches the threshold at least 3x sooner in wall time


def _stages(image_size: int) -> int:
    """Stride-2 stages between the 8x8 map and ``image_size`` (16: 1, 32: 2, 64: 3, the example's)."""
    for n in (1, 2, 3):
        if 8 * 2**n == image_size:
            return n
    raise ValueError(f"The keras-io face DCGAN scales to 16, 32 or 64 pixels (8x8 times 2, 4 or 8), not {image_size}.")


def keras_io_faces_dcgan(image_size: int = 32, latent_dim: int = 128):
    """(generator, discriminator) of the keras-io face DCGAN at ``image_size`` (see the module's
    docstring for the source and how the stages are dropped): G maps z to images in [0, 1] through a
    sigmoid, D gives a probability (sigmoid), as in the example."""
    n = _stages(image_size)
    up = [layer for filters in (128, 256, 512)[:n]
          for layer in (layers.Conv2DTranspose(filters, kernel_size=4, strides=2, padding="same"),
                        layers.LeakyReLU(negative_slope=0.2))]
    generator = keras.Sequential([
        keras.Input(shape=(latent_dim,)),
        layers.Dense(8 * 8 * 128),
        layers.Reshape((8, 8, 128)),
        *up,
        layers.Conv2D(3, kernel_size=5, padding="same", activation="sigmoid"),
    ], name="keras_io_generator")
    down = [layer for filters in (64, 128, 128)[:n]
            for layer in (layers.Conv2D(filters, kernel_size=4, strides=2, padding="same"),
                          layers.LeakyReLU(negative_slope=0.2))]
    discriminator = keras.Sequential([
        keras.Input(shape=(image_size, image_size, 3)),
        *down,
        layers.Flatten(),
        layers.Dropout(0.2),
        layers.Dense(1, activation="sigmoid"),
    ], name="keras_io_discriminator")
    return generator, discriminator


class KerasIOFaceGAN(keras.Model):
    """The example's GAN model: ``compile(d_optimizer, g_optimizer, loss_fn)`` and a ``train_step``
    that follows the example's line by line (its labels: 1 for generated images, 0 for real ones)."""

    def __init__(self, discriminator, generator, latent_dim, seed=1337):
        super().__init__()
        self.discriminator, self.generator, self.latent_dim = discriminator, generator, latent_dim
        self.seed_generator = keras.random.SeedGenerator(seed)

    def compile(self, d_optimizer, g_optimizer, loss_fn):
        super().compile()
        self.d_optimizer, self.g_optimizer, self.loss_fn = d_optimizer, g_optimizer, loss_fn
        self.d_loss_metric = keras.metrics.Mean(name="d_loss")
        self.g_loss_metric = keras.metrics.Mean(name="g_loss")

    @property
    def metrics(self):
        return [self.d_loss_metric, self.g_loss_metric]

    def train_step(self, real_images):
        n = ops.shape(real_images)[0]
        z = keras.random.normal(shape=(n, self.latent_dim), seed=self.seed_generator)
        both = ops.concatenate([self.generator(z), real_images], axis=0)  # one D batch: generated, then real
        labels = ops.concatenate([ops.ones((n, 1)), ops.zeros((n, 1))], axis=0)
        labels += 0.05 * tf.random.uniform(tf.shape(labels))  # the example's label noise, on every label
        with tf.GradientTape() as tape:
            d_loss = self.loss_fn(labels, self.discriminator(both))
        grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
        self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_weights))

        z = keras.random.normal(shape=(n, self.latent_dim), seed=self.seed_generator)
        with tf.GradientTape() as tape:  # G wants its images labelled 0, "real"
            g_loss = self.loss_fn(ops.zeros((n, 1)), self.discriminator(self.generator(z)))
        grads = tape.gradient(g_loss, self.generator.trainable_weights)
        self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights))

        self.d_loss_metric.update_state(d_loss)
        self.g_loss_metric.update_state(g_loss)
        return {"d_loss": self.d_loss_metric.result(), "g_loss": self.g_loss_metric.result()}


class KerasIOFaceTrainer:
    """The keras-io face DCGAN on ``images`` (in [-1, 1], given to it in [0, 1]): ``train(steps)`` runs
    that many of its steps through ``fit``, as the example trains; ``sample`` returns images in [-1, 1]."""

    name = REFERENCE[1]

    def __init__(self, images, seed: int = 0, batch_size: int = 32, latent_dim: int = 128, eager: bool = False):
        import numpy as np

        keras.utils.set_random_seed(seed)
        self.generator, self.discriminator = keras_io_faces_dcgan(images.shape[1], latent_dim)
        self.gan = KerasIOFaceGAN(self.discriminator, self.generator, latent_dim, seed=seed)
        self.gan.compile(d_optimizer=keras.optimizers.Adam(learning_rate=1e-4),
                         g_optimizer=keras.optimizers.Adam(learning_rate=1e-4),
                         loss_fn=keras.losses.BinaryCrossentropy())
        self.gan.run_eagerly = eager
        self.noise_dim = latent_dim
        self.settings = {"source": "keras-io examples/generative/dcgan_overriding_train_step.py (Keras 3, 2023-12-21)",
                         "image_size": int(images.shape[1]), "stages": _stages(images.shape[1]),
                         "batch_size": batch_size, "latent_dim": latent_dim, "optimizer": "Adam(1e-4), both players",
                         "loss": "binary cross-entropy on sigmoid outputs", "label_noise": 0.05, "eager": eager}
        unit = (np.asarray(images, np.float32) + 1.0) / 2.0  # the example's pixels: x / 255 in [0, 1]
        # As the example's image_dataset_from_directory: shuffled batches of 32, the last, smaller one kept.
        self._batches = (tf.data.Dataset.from_tensor_slices(unit).shuffle(len(unit), seed=seed)
                         .batch(batch_size).repeat().prefetch(tf.data.AUTOTUNE))

    def train(self, steps: int) -> None:
        self.gan.fit(self._batches, epochs=1, steps_per_epoch=steps, verbose=0, shuffle=False)  # shuffled above

    def sample(self, z):
        return self.generator(z, training=False) * 2.0 - 1.0  # [0, 1] -> the course's [-1, 1]


def face_scorer(holdout, target_fid: float = FACE_QUALITY_FID, seed: int = 0, real_outputs=None):
    """The faces' yardstick for ``quality.time_to_quality``: ``score(fake) -> (fields, reached, text)``
    with ``metrics.score_faces`` against the held-out faces (``real_outputs``: their classifier outputs,
    computed once)."""
    from gan_course import metrics

    real_outputs = metrics.face_outputs(holdout) if real_outputs is None else real_outputs

    def score(fake):
        s = metrics.score_faces(fake, holdout, seed=seed, real_outputs=real_outputs)
        fields = {"fid": round(s.fid, 2), "coverage": round(s.coverage["mean"], 3), "kid": round(s.kid_mean, 2)}
        return fields, s.fid <= target_fid, f"face FID {s.fid:7.1f}, attribute coverage {s.coverage['mean']:.2f}"

    return score


def anchors(train, holdout, seed: int = 0, real_outputs=None) -> dict:
    """Face FIDs of real training faces and of the same faces blurred, against ``holdout``, at its n."""
    from gan_course import metrics

    real = train[: len(holdout)]
    sets = {"real training faces": real, "blurred 0.75 px": metrics.blur_images(real, 0.75),
            "blurred 1.5 px": metrics.blur_images(real, 1.5)}
    return {name: round(metrics.score_faces(x, holdout, seed=seed, real_outputs=real_outputs).fid, 2)
            for name, x in sets.items()}


def threshold_between(result: dict) -> tuple[str | None, str | None]:
    """The anchors just below and just above the threshold (real and blurred faces, and each
    contestant's untrained generator), from a race's result; ``None`` where none is."""
    values = dict(result["anchors"])
    values.update({f"untrained {r['name']}": r["curve"][0]["fid"] for r in result["contestants"].values() if r["curve"]})
    target = result["target"]["face_fid_at_most"]
    below = [k for k, v in sorted(values.items(), key=lambda kv: kv[1]) if v <= target]
    above = [k for k, v in sorted(values.items(), key=lambda kv: kv[1]) if v > target]
    return (below[-1] if below else None), (above[0] if above else None)


def load_faces(preset: str = "cpu", source: str = "offline", seed: int = 0):
    """Lesson 03's faces: (training faces, held-out faces, ``datasets.DatasetInfo``), in [-1, 1] at the
    recipe's image size, the counts and the split of lesson 03's parameters (``recipes``)."""
    from gan_course import datasets, recipes

    cfg = recipes.recipe(preset, COURSE_RECIPES["lesson03"][0])
    info = datasets.dataset_folder(FACES_DATASET, source, verbose=False)
    faces, _, _ = datasets.load_arrays(info, cfg.image_shape[0], max_images=cfg.max_images + cfg.eval_samples, seed=seed)
    n_holdout = min(cfg.eval_samples, len(faces) // 6)  # as lesson 03: keep most of a small folder for training
    return faces[:-n_holdout], faces[-n_holdout:], info


def ratio_to_reference(reference: dict, course: dict) -> dict | None:
    """The reference's seconds over a course recipe's, from their ``quality.time_to_quality`` results
    (``None`` when the course recipe did not reach the threshold); a lower bound when the reference
    did not."""
    if not course["reached"]:
        return None
    ratio, lower_bound = reference["wall_s"] / course["wall_s"], not reference["reached"]
    # A lower bound under the target says nothing either way: the reference might have arrived just after.
    meets = None if lower_bound and ratio < TARGET_RATIO else ratio >= TARGET_RATIO
    return {"reference_over_course": ratio, "reference_over_course_cpu": reference["cpu_s"] / course["cpu_s"],
            "is_lower_bound": lower_bound, "meets_target": meets}


def summary_lines(result: dict) -> list[str]:
    """The faces race as printable lines."""
    t = result["target"]
    lines = [f"Faces race: time to face FID <= {t['face_fid_at_most']:g} (n = {t['n_samples']} against "
             f"{t['n_real']} held-out faces, {result['image_size']}x{result['image_size']}, checkpoints every "
             f"{result['every_seconds']:g} s of training, at most {result['max_seconds']:g} s each)",
             "  anchors: " + ", ".join(f"{k} {v:.1f}" for k, v in result["anchors"].items())]
    below, above = threshold_between(result)
    lines.append(f"  the threshold lies above {below or 'no anchor'} and below {above or 'no anchor'}")
    for key, r in result["contestants"].items():
        untrained = r["curve"][0]["fid"] if r["curve"] else float("nan")
        best = min(c["fid"] for c in r["curve"]) if r["curve"] else float("nan")
        status = (f"reached after {r['steps']:,} steps, {r['wall_s']:.0f} s wall, {r['cpu_s']:.0f} s CPU" if r["reached"]
                  else f"NOT reached in {r['steps']:,} steps, {r['wall_s']:.0f} s wall")
        load = "" if "load_average" not in r else f" (load average {r['load_average'][0]:.1f} -> {r['load_average'][1]:.1f})"
        lines.append(f"  {r['name']:20s} untrained {untrained:7.1f}, best {best:7.1f}: {status}{load}")
    for key, ratio in result["ratios"].items():
        name = result["contestants"][key]["name"]
        if ratio is None:
            lines.append(f"  {name}: did not reach the threshold, no ratio")
            continue
        bound = "at least " if ratio["is_lower_bound"] else ""
        verdict = {True: "meets", False: "misses", None: "cannot tell against"}[ratio["meets_target"]]
        lines.append(f"  reference / {name}: {bound}{ratio['reference_over_course']:.1f}x in wall time "
                     f"({bound}{ratio['reference_over_course_cpu']:.1f}x in CPU time): {verdict} the "
                     f"{TARGET_RATIO:g}x target")
    return lines
