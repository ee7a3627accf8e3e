"""Equal-budget ablations of the DCGAN's stabilisers (lesson 07): one trial per (row, seed).

A row of the ablation is the course's DCGAN (``models.dcgan_generator`` /
``models.dcgan_discriminator``, ``training.DCGAN``) with some of the stabilisers switched on:
the learning rates of the two players (TTUR when they differ), dropout in D, a generator EMA,
DiffAugment, spectral normalisation in D and the R1 penalty. Every row of a comparison gets the
same budget: the same number of generator updates on the same images with the same batch size.

``AblationConfig`` holds everything that decides a run; ``recipes.build_dcgan`` builds it (as it
builds every DCGAN of the course); ``run_trial`` trains and scores one,
and is the ``trial=`` of ``experiments.run_sweep``, which caches each finished row in a
JSON-lines file keyed by ``AblationConfig.key()`` (the same mechanism as lessons 04 and 05).
Scoring defaults to the MNIST classifier (``metrics.score_generator`` against the images the
sweep passes as test images); any other yardstick plugs in as ``scorer=`` (lesson 07 passes a
brick classifier's ``metrics.AttributeScorer.score_generator``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import time

import numpy as np

from gan_course import experiments, presets, recipes
from gan_course.config import RunConfig

__all__ = ["AblationConfig", "train", "d_gradient_sq", "run_trial", "trial_stem", "GRID_SEED", "GRID_SIZE"]

GRID_SEED, GRID_SIZE = 12345, 36  # the fixed noise every row's saved samples are drawn from


@dataclasses.dataclass(frozen=True)
class AblationConfig(RunConfig):
    """One row of an ablation at one seed: a ``config.RunConfig`` (every setting of the run, with
    its defaults: the 2015 recipe) plus what names the row's data and yardstick. Its budget is
    ``steps`` generator updates (one D update each), which every row of a comparison shares."""

    dataset: str = "mnist"  # a label for the rows (the images are the caller's)
    scorer: str = "mnist-classifier"  # which yardstick scores the row (part of the key)

    def __post_init__(self):
        super().__post_init__()
        if self.steps is None:
            raise ValueError(f"AblationConfig {self.name!r} needs a budget: steps=N generator updates "
                             "(every row of a comparison gets the same).")


def train(cfg: AblationConfig, images, n_log: int = 10, verbose: int = 0):
    """Seed, build and train ``cfg`` for ``cfg.steps`` generator updates on ``images``.

    Returns (gan, history dict, generator updates made, wall seconds, CPU seconds of this
    process). The data repeat, so the budget is counted in updates, not passes; the history
    keeps ``n_log`` points (the steps are split into that many Keras "epochs").
    """
    import keras
    import tensorflow as tf

    images = images if cfg.max_images is None else images[: cfg.max_images]
    batch_size = presets.capped_batch(cfg.batch_size)  # smaller only under the step cap
    if len(images) < batch_size:
        raise ValueError(f"{len(images)} images cannot fill one batch of {batch_size}: lower batch_size.")
    keras.utils.set_random_seed(cfg.seed)  # the same start for every row of a seed
    gan = recipes.build_dcgan(cfg)  # image shape, seed, switches and both Adams from cfg
    gan.run_eagerly = cfg.eager
    dataset = (
        tf.data.Dataset.from_tensor_slices(np.asarray(images, np.float32)).cache()
        .shuffle(len(images), seed=cfg.seed, reshuffle_each_iteration=True)
        .repeat()
        .batch(batch_size, drop_remainder=True)
        .prefetch(tf.data.AUTOTUNE)
    )
    n_log = max(1, min(n_log, cfg.steps))
    per_log = cfg.steps // n_log
    start, cpu_start = time.perf_counter(), time.process_time()
    history = gan.fit(dataset, epochs=n_log, steps_per_epoch=per_log, verbose=verbose).history
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    return gan, history, n_log * per_log, wall, cpu


def d_gradient_sq(discriminator, images, batch_size: int = 256) -> float:
    """``E_x ||grad_x D(x)||^2`` over ``images`` (D in inference mode, raw scores): how steep D
    is at those images; R1 penalises ``gamma / 2`` times this on real images."""
    import tensorflow as tf

    total = 0.0
    for i in range(0, len(images), batch_size):
        x = tf.convert_to_tensor(np.asarray(images[i:i + batch_size], np.float32))
        with tf.GradientTape() as tape:
            tape.watch(x)
            scores = tf.reduce_sum(discriminator(x, training=False))
        total += float(tf.reduce_sum(tape.gradient(scores, x) ** 2))
    return total / len(images)


def _mnist_scorer(test_images):
    from gan_course import metrics

    def score(generator, n, seed):
        s = metrics.score_generator(generator, test_images, n=n, seed=seed)
        return {"fid": s.fid, "kid": s.kid_mean, "coverage": s.coverage, "entropy": s.entropy,
                "confident_share": s.confident_share, "n_samples": s.n_samples, "n_real": s.n_real}

    return score


def trial_stem(cfg: AblationConfig) -> str:
    """File name stem of one run's saved samples and model: row label, seed and a hash of the
    whole configuration (so files of another budget never stand in for these)."""
    slug = "".join(c if c.isalnum() else "_" for c in cfg.name).strip("_").lower()
    digest = hashlib.sha1(cfg.key().encode()).hexdigest()[:8]
    return f"{slug}_seed{cfg.seed}_{digest}"


def run_trial(cfg: AblationConfig, train_images, test_images, samples_dir=None, models_dir=None, scorer=None) -> dict:
    """Train and score one ``AblationConfig``; the trial function for ``experiments.run_sweep``.

    ``scorer(generator, n, seed) -> dict`` with at least ``fid``, ``coverage`` and
    ``confident_share``; default: the MNIST classifier against ``test_images``. The generator
    scored (and saved) is ``gan.sampling_generator``: the EMA when the row has one.

    Returns a flat row: the config's fields, the scores, ``g_updates``, ``real_images_seen``,
    ``train_seconds`` / ``train_cpu_seconds`` (training only), ``d_grad_sq``
    (``d_gradient_sq`` of the trained D on up to 256 of ``test_images``), the last logged
    losses and ``diverged``. With ``samples_dir``, ``GRID_SIZE`` samples from the fixed noise
    ``GRID_SEED`` are saved as ``<trial_stem>.npy``; with ``models_dir``, the sampling
    generator as ``<trial_stem>_generator.keras``.
    """
    gan, history, updates, wall, cpu = train(cfg, train_images)
    last = {f"final_{k}": float(v[-1]) for k, v in history.items()}
    scorer = _mnist_scorer(test_images) if scorer is None else scorer
    row = cfg.as_dict()
    row.update(scorer(gan.sampling_generator, cfg.eval_samples, cfg.seed))
    row.update(g_updates=updates, real_images_seen=updates * cfg.batch_size, train_seconds=round(wall, 1),
               train_cpu_seconds=round(cpu, 1), d_grad_sq=d_gradient_sq(gan.discriminator, test_images[:256]),
               diverged=not all(math.isfinite(v) for v in last.values()), **last)
    experiments.save_trial_outputs(trial_stem(cfg), gan.sampling_generator, cfg.latent_dim, samples_dir, models_dir,
                                   n_samples=GRID_SIZE, noise_seed=GRID_SEED)
    return row
