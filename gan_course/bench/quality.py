"""Time to quality: how soon each training code draws good digits, on the same data, scored alike.

``python -m gan_course.bench.quality`` trains, in one process and one after the other:

- **the course's recipe**: what ``python -m gan_course train`` runs at the chosen preset
  (``gan_course.recipes``);
- **the TensorFlow DCGAN tutorial's code**: its generator and discriminator, its loss, its
  optimizers (Adam, learning rate 1e-4 for both) and its batch of 256, with its training step
  (both players' gradients from one forward pass), on the same training digits.

Each is trained in chunks of steps; after every chunk its generator draws 1,000 digits that are
scored against the 1,000 held-out digits with the course's classifier (``metrics.score_generator``).
A run has reached **quality** when its classifier FID is at most ``target_fid`` (default 30) and
all ten digits are drawn (coverage 1.0). Only training counts towards the time: wall seconds and
CPU seconds of this process, summed over the chunks, scoring excluded.

What users feel is time to quality, not step throughput: a faster step that learns less per step
is no gain. The report gives both runs' seconds and their ratio; a run that does not reach the
target within ``max_seconds`` is reported as not reached, and the ratio is then a lower bound.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

__all__ = ["QUALITY_FID", "tutorial_generator", "tutorial_discriminator", "TutorialTrainer", "CourseTrainer",
           "reached", "time_to_quality", "race", "main"]

QUALITY_FID = 30.0  # classifier FID at n = 1000: real digits score ~2.5, an untrained generator ~510


def tutorial_generator(noise_dim: int = 100):
    """The TensorFlow DCGAN tutorial's generator: Dense 7x7x256, then 5x5 transposed convolutions
    to 128 (stride 1), 64 and 1 channels (stride 2), batch norm and LeakyReLU between, tanh out."""
    import keras
    from keras import layers

    return keras.Sequential([
        keras.Input(shape=(noise_dim,)),
        layers.Dense(7 * 7 * 256, use_bias=False), layers.BatchNormalization(), layers.LeakyReLU(),
        layers.Reshape((7, 7, 256)),
        layers.Conv2DTranspose(128, 5, strides=1, padding="same", use_bias=False),
        layers.BatchNormalization(), layers.LeakyReLU(),
        layers.Conv2DTranspose(64, 5, strides=2, padding="same", use_bias=False),
        layers.BatchNormalization(), layers.LeakyReLU(),
        layers.Conv2DTranspose(1, 5, strides=2, padding="same", use_bias=False, activation="tanh"),
    ], name="tutorial_generator")


def tutorial_discriminator():
    """The tutorial's discriminator: two 5x5 stride-2 convolutions (64, 128) with LeakyReLU and
    dropout 0.3, then one logit."""
    import keras
    from keras import layers

    return keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(64, 5, strides=2, padding="same"), layers.LeakyReLU(), layers.Dropout(0.3),
        layers.Conv2D(128, 5, strides=2, padding="same"), layers.LeakyReLU(), layers.Dropout(0.3),
        layers.Flatten(), layers.Dense(1),
    ], name="tutorial_discriminator")


class TutorialTrainer:
    """The tutorial's training code on ``images``: ``train(steps)`` runs that many of its steps."""

    name = "TF tutorial"

    def __init__(self, images, batch_size: int = 256, noise_dim: int = 100, seed: int = 0):
        import keras
        import tensorflow as tf

        from gan_course.bench.reference import reference_train_step

        keras.utils.set_random_seed(seed)
        self.generator, self.discriminator = tutorial_generator(noise_dim), tutorial_discriminator()
        self.batch_size, self.noise_dim = batch_size, noise_dim
        self.settings = {"batch_size": batch_size, "noise_dim": noise_dim, "optimizer": "Adam(1e-4), both players",
                         "update": "simultaneous"}
        # The tutorial's own step (bench.reference.reference_train_step) with its optimizers: Adam(1e-4), default betas.
        self._step = reference_train_step(self.generator, self.discriminator, noise_dim, batch_size,
                                          learning_rate=1e-4, beta_1=0.9)
        # The tutorial shuffles and batches without dropping the last, smaller batch.
        self._batches = iter(tf.data.Dataset.from_tensor_slices(images).shuffle(len(images), seed=seed)
                             .batch(batch_size).repeat().prefetch(tf.data.AUTOTUNE))

    def train(self, steps: int) -> None:
        for _ in range(steps):
            g_loss, _ = self._step(next(self._batches))
        float(g_loss)  # wait for the last step

    def sample(self, z):
        return self.generator(z, training=False)


class CourseTrainer:
    """The course's recipe (``recipes.recipe``, ``recipes.build_dcgan``) on ``images``: ``train(steps)`` runs that many
    steps through ``fit``; ``sample`` draws from ``gan.sampling_generator`` (the EMA when it is on)."""

    name = "course recipe"

    def __init__(self, images, preset: str = "cpu", seed: int = 0, precision: str = "off", **changes):
        from gan_course import data, recipes

        import keras

        keras.utils.set_random_seed(seed)
        self.recipe = recipes.recipe(preset, **changes)
        self.gan = recipes.build_dcgan(self.recipe, seed=seed, precision=precision)
        self.noise_dim = self.recipe.latent_dim
        self.settings = dict(self.recipe.as_dict(), precision=precision)
        self._batches = data.make_dataset(images, self.recipe.batch_size, seed=seed).repeat()

    def train(self, steps: int) -> None:
        self.gan.fit(self._batches, epochs=1, steps_per_epoch=steps, verbose=0)

    def sample(self, z):
        return self.gan.sampling_generator(z, training=False)


def reached(scores, target_fid: float = QUALITY_FID) -> bool:
    """Quality: classifier FID at most ``target_fid`` and every digit drawn (coverage 1.0)."""
    return scores.fid <= target_fid and scores.coverage >= 1.0


def time_to_quality(trainer, test_images, target_fid: float = QUALITY_FID, chunk_steps: int = 250,
                    max_seconds: float = 600.0, n_samples: int = 1000, seed: int = 0, verbose: bool = True) -> dict:
    """Train ``trainer`` in chunks of ``chunk_steps`` until ``reached`` or ``max_seconds`` of training.

    Returns the seconds (wall and CPU, training only), the steps, and the curve of scores."""
    import keras
    import numpy as np

    from gan_course import metrics

    z = np.random.default_rng(seed).standard_normal((n_samples, trainer.noise_dim)).astype("float32")
    wall = cpu = 0.0
    steps, curve = 0, []
    while wall < max_seconds:
        w0, c0 = time.perf_counter(), time.process_time()
        trainer.train(chunk_steps)
        wall += time.perf_counter() - w0
        cpu += time.process_time() - c0
        steps += chunk_steps
        fake = np.concatenate([keras.ops.convert_to_numpy(trainer.sample(z[i:i + 500])) for i in range(0, n_samples, 500)])
        scores = metrics.score_generator(fake, test_images, n=None, seed=seed)
        curve.append({"steps": steps, "wall_s": round(wall, 1), "cpu_s": round(cpu, 1), "fid": round(scores.fid, 2),
                      "coverage": scores.coverage, "confident": round(scores.confident_share, 3)})
        if verbose:
            print(f"  {trainer.name}: {steps:>6,} steps, {wall:6.0f} s: FID {scores.fid:6.1f}, "
                  f"coverage {scores.coverage:.1f}, confident {scores.confident_share:.0%}", flush=True)
        if reached(scores, target_fid):
            return {"reached": True, "steps": steps, "wall_s": wall, "cpu_s": cpu, "curve": curve,
                    "settings": trainer.settings}
    return {"reached": False, "steps": steps, "wall_s": wall, "cpu_s": cpu, "curve": curve,
            "settings": trainer.settings}


def race(images, test_images, preset: str = "cpu", target_fid: float = QUALITY_FID, max_seconds: float = 600.0,
         course_chunk: int = 250, tutorial_chunk: int = 25, seed: int = 0, verbose: bool = True, **changes) -> dict:
    """Time to quality of the course's recipe and of the tutorial's code, in this run.

    ``tutorial_over_course`` is the tutorial's wall seconds over the course's (> 1: the course's
    recipe is that many times sooner); when the tutorial does not reach the target it is a lower
    bound (``ratio_is_lower_bound``), and when the course does not, no ratio is given."""
    results = {}
    for key, make, chunk in (("course", lambda: CourseTrainer(images, preset, seed, **changes), course_chunk),
                             ("tutorial", lambda: TutorialTrainer(images, seed=seed), tutorial_chunk)):
        trainer = make()
        if verbose:
            print(f"{trainer.name}: training until FID <= {target_fid:g} with all ten digits "
                  f"(at most {max_seconds:.0f} s) ...", flush=True)
        results[key] = time_to_quality(trainer, test_images, target_fid, chunk, max_seconds, seed=seed, verbose=verbose)
    course, tutorial = results["course"], results["tutorial"]
    out = {"target": {"fid_at_most": target_fid, "coverage": 1.0, "n_samples": 1000}, "max_seconds": max_seconds,
           "preset": preset, **results}
    if course["reached"]:
        out["tutorial_over_course"] = tutorial["wall_s"] / course["wall_s"]
        out["tutorial_over_course_cpu"] = tutorial["cpu_s"] / course["cpu_s"]
        out["ratio_is_lower_bound"] = not tutorial["reached"]
    return out


def summary_lines(result: dict) -> list[str]:
    """The race as printable lines."""
    t = result["target"]
    lines = [f"Time to quality (classifier FID <= {t['fid_at_most']:g} and all ten digits, n = {t['n_samples']}):"]
    for key in ("course", "tutorial"):
        r = result[key]
        status = f"reached after {r['steps']:,} steps" if r["reached"] else f"NOT reached in {r['steps']:,} steps"
        best = min(r["curve"], key=lambda c: c["fid"]) if r["curve"] else None
        lines.append(f"  {key:9s} {r['wall_s']:6.0f} s wall, {r['cpu_s']:6.0f} s CPU: {status}"
                     + (f" (best FID {best['fid']:.1f})" if best else ""))
    if "tutorial_over_course" in result:
        bound = "at least " if result["ratio_is_lower_bound"] else ""
        lines.append(f"  the course's recipe is {bound}{result['tutorial_over_course']:.1f}x sooner in wall time "
                     f"({bound}{result['tutorial_over_course_cpu']:.1f}x in CPU time)")
    else:
        lines.append("  the course's recipe did not reach the target: no ratio")
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gan_course.bench.quality", description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="cpu", help="the course recipe's preset (default cpu)")
    parser.add_argument("--target-fid", type=float, default=QUALITY_FID)
    parser.add_argument("--max-seconds", type=float, default=600.0, help="training time allowed to each run")
    parser.add_argument("--course-chunk", type=int, default=250, help="course steps between two scorings")
    parser.add_argument("--tutorial-chunk", type=int, default=25, help="tutorial steps between two scorings")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="JSON path (default outputs/bench/quality.json)")
    args = parser.parse_args(argv)

    import os

    os.environ.setdefault("GAN_COURSE_OFFLINE", "1")  # a benchmark must not wait on a download
    from gan_course import data, paths

    train, test = data.load_mnist("train", verbose=False), data.load_mnist("test", verbose=False)
    result = race(train.images, test.images, args.preset, args.target_fid, args.max_seconds, args.course_chunk,
                  args.tutorial_chunk, args.seed)
    result["data"] = {"source": train.source, "train_images": len(train), "test_images": len(test)}
    out = Path(args.out) if args.out else paths.outputs_dir("bench") / "quality.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print("\n" + "\n".join(summary_lines(result)))
    print(f"\nWrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
