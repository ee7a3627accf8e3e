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

``--race faces`` runs the faces race instead (``faces_race``; its pieces and the choice of its
threshold are in ``gan_course.bench.faces``): lessons 03's and 02's face recipes against the keras-io
face DCGAN on the same faces, with the same machinery (``time_to_quality``), scored by the face
classifier at checkpoints by wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

__all__ = ["QUALITY_FID", "tutorial_generator", "tutorial_discriminator", "TutorialTrainer", "CourseTrainer",
           "reached", "digit_scorer", "time_to_quality", "race", "faces_race", "main"]

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
    """A course recipe (``recipes.recipe``, built by ``recipes.build_gan``) on ``images``: ``train(steps)`` runs that
    many generator steps through ``fit``; ``sample`` draws from ``gan.sampling_generator`` (the EMA when it is on).

    ``recipe``: a ``config.RunConfig`` to train (``changes`` then override its fields); by default
    ``recipes.recipe(preset, **changes)``, what ``python -m gan_course train`` runs."""

    name = "course recipe"

    def __init__(self, images, preset: str = "cpu", seed: int = 0, precision: str = "off", recipe=None, name=None,
                 **changes):
        from gan_course import data, recipes

        import keras

        keras.utils.set_random_seed(seed)
        self.recipe = recipes.recipe(preset, **changes) if recipe is None else recipe.replace(**changes)
        self.gan = recipes.build_gan(self.recipe, seed=seed, precision=precision)
        self.name = name or self.name
        self.noise_dim = self.recipe.latent_dim
        self.settings = dict(self.recipe.as_dict(), precision=precision)
        self._batches = data.make_dataset(images, self.recipe.fit_batch_size, seed=seed).repeat()

    def train(self, steps: int) -> None:
        self.gan.fit(self._batches, epochs=1, steps_per_epoch=steps, verbose=0)

    def sample(self, z):
        return self.gan.sampling_generator(z, training=False)


def reached(scores, target_fid: float = QUALITY_FID) -> bool:
    """Quality: classifier FID at most ``target_fid`` and every digit drawn (coverage 1.0)."""
    return scores.fid <= target_fid and scores.coverage >= 1.0


def digit_scorer(test_images, target_fid: float = QUALITY_FID, seed: int = 0):
    """The digits' yardstick for ``time_to_quality``: ``score(fake) -> (fields, reached, text)``, with
    the course's classifier (``metrics.score_generator``) against ``test_images``."""
    from gan_course import metrics

    def score(fake):
        s = metrics.score_generator(fake, test_images, n=None, seed=seed)
        fields = {"fid": round(s.fid, 2), "coverage": s.coverage, "confident": round(s.confident_share, 3)}
        return fields, reached(s, target_fid), (f"FID {s.fid:6.1f}, coverage {s.coverage:.1f}, "
                                                f"confident {s.confident_share:.0%}")

    return score


def time_to_quality(trainer, test_images, target_fid: float = QUALITY_FID, chunk_steps: int = 250,
                    max_seconds: float = 600.0, n_samples: int = 1000, seed: int = 0, verbose: bool = True,
                    score=None, every_seconds: float | None = None, score_at_start: bool = False) -> dict:
    """Train ``trainer`` in chunks of ``chunk_steps`` until its samples reach the target or ``max_seconds`` of training.

    After each chunk (or, with ``every_seconds``, after the first chunk that ends past each multiple of
    ``every_seconds`` of training: checkpoints by wall time, alike for trainers of any speed) the trainer
    draws ``n_samples`` images from fixed noise and ``score`` judges them: ``score(fake) -> (fields,
    reached, text)``, by default ``digit_scorer(test_images, target_fid, seed)``. ``score_at_start``
    scores the untrained generator first (0 steps, 0 s), an anchor that does not end the run.

    Returns the seconds (wall and CPU, training only), the steps, and the curve of scores."""
    import keras
    import numpy as np

    score = digit_scorer(test_images, target_fid, seed) if score is None else score
    z = np.random.default_rng(seed).standard_normal((n_samples, trainer.noise_dim)).astype("float32")
    wall = cpu = 0.0
    steps, curve = 0, []

    def checkpoint():
        fake = np.concatenate([keras.ops.convert_to_numpy(trainer.sample(z[i:i + 500])) for i in range(0, n_samples, 500)])
        fields, done, text = score(fake)
        curve.append({"steps": steps, "wall_s": round(wall, 1), "cpu_s": round(cpu, 1), **fields})
        if verbose:
            print(f"  {trainer.name}: {steps:>6,} steps, {wall:6.0f} s: {text}", flush=True)
        return done

    def result(done):
        return {"reached": done, "steps": steps, "wall_s": wall, "cpu_s": cpu, "curve": curve,
                "settings": trainer.settings}

    if score_at_start:
        checkpoint()  # the untrained generator: an anchor, not an arrival
    next_checkpoint = every_seconds or 0.0
    while wall < max_seconds:
        w0, c0 = time.perf_counter(), time.process_time()
        trainer.train(chunk_steps)
        wall += time.perf_counter() - w0
        cpu += time.process_time() - c0
        steps += chunk_steps
        if every_seconds and wall < min(next_checkpoint, max_seconds):
            continue
        if every_seconds:
            next_checkpoint = (wall // every_seconds + 1) * every_seconds
        if checkpoint():
            return result(True)
    return result(False)


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


def faces_race(train, holdout, preset: str = "cpu", target_fid: float | None = None, max_seconds: float = 240.0,
               every_seconds: float = 15.0, seed: int = 0, chunks: dict | None = None, verbose: bool = True) -> dict:
    """Time to a face FID of at most ``target_fid`` (default ``faces.FACE_QUALITY_FID``) of lesson 03's and
    lesson 02's face recipes and of the keras-io face DCGAN, in this run: each trained on ``train`` with
    ``seed`` for at most ``max_seconds``, scored against ``holdout`` every ``every_seconds`` of training,
    its untrained generator first (see ``gan_course.bench.faces``).

    ``chunks``: generator steps between two looks at the clock, per contestant key (default: one on a
    preset that runs eagerly, else ``faces.COURSE_RECIPES``' and ``faces.REFERENCE``'s). ``ratios``
    holds, per course recipe, the reference's seconds over its own (``faces.ratio_to_reference``)."""
    from gan_course import metrics, recipes
    from gan_course.bench import faces
    from gan_course.presets import get_preset

    p = get_preset(preset)
    target_fid = faces.FACE_QUALITY_FID if target_fid is None else target_fid
    shape = tuple(int(s) for s in train.shape[1:])
    real_outputs = metrics.face_outputs(holdout)  # once, for every score of the race
    out = {"race": "faces", "preset": p.name, "image_size": shape[0], "seed": seed, "train_images": len(train),
           "target": {"face_fid_at_most": target_fid, "n_samples": len(holdout), "n_real": len(holdout),
                      "score": metrics.FACE_FEATURES_LABEL},
           "max_seconds": max_seconds, "every_seconds": every_seconds,
           "anchors": faces.anchors(train, holdout, seed, real_outputs)}
    if verbose:
        print("anchors (face FID):", ", ".join(f"{k} {v:.1f}" for k, v in out["anchors"].items()), flush=True)

    def course(name, label):
        return CourseTrainer(train, p, seed, recipe=recipes.recipe(p, name, image_shape=shape), name=label)

    makers = {key: (lambda name=name, label=label: course(name, label), chunk)
              for key, (name, label, chunk) in faces.COURSE_RECIPES.items()}
    makers[faces.REFERENCE[0]] = (lambda: faces.KerasIOFaceTrainer(train, seed=seed, eager=p.few_steps),
                                  faces.REFERENCE[2])
    score = faces.face_scorer(holdout, target_fid, seed, real_outputs)
    results = {}
    for key, (make, chunk) in makers.items():
        trainer = make()
        chunk = (chunks or {}).get(key, 1 if p.few_steps else chunk)
        if verbose:
            print(f"{trainer.name}: training until face FID <= {target_fid:g} (at most {max_seconds:.0f} s, "
                  f"scored every {every_seconds:g} s of training) ...", flush=True)
        load = os.getloadavg()[0]  # a machine shared with other work slows a contestant's wall time
        results[key] = dict(time_to_quality(trainer, holdout, target_fid, chunk, max_seconds, len(holdout), seed,
                                            verbose, score=score, every_seconds=every_seconds, score_at_start=True),
                            name=trainer.name, load_average=[round(load, 2), round(os.getloadavg()[0], 2)])
    out["contestants"] = results
    out["ratios"] = {key: faces.ratio_to_reference(results[faces.REFERENCE[0]], results[key])
                     for key in faces.COURSE_RECIPES}
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
    parser.add_argument("--race", choices=("digits", "faces"), default="digits",
                        help="digits: the course's recipe against the TF tutorial (default); faces: lessons 03 and "
                             "02 against the keras-io face DCGAN")
    parser.add_argument("--preset", default="cpu", help="the course recipes' preset (default cpu)")
    parser.add_argument("--target-fid", type=float, default=None,
                        help=f"classifier FID to reach (default {QUALITY_FID:g}; faces: bench.faces.FACE_QUALITY_FID)")
    parser.add_argument("--max-seconds", type=float, default=None,
                        help="training time allowed to each run (default 600; faces: 240)")
    parser.add_argument("--course-chunk", type=int, default=250, help="digits: course steps between two scorings")
    parser.add_argument("--tutorial-chunk", type=int, default=25, help="digits: tutorial steps between two scorings")
    parser.add_argument("--every-seconds", type=float, default=15.0, help="faces: training seconds between two scorings")
    parser.add_argument("--source", default="offline", help="faces: 'offline' (default), 'auto' or a folder of faces")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None,
                        help="JSON path (default outputs/bench/quality.json; faces: outputs/bench/quality_faces.json)")
    args = parser.parse_args(argv)

    os.environ.setdefault("GAN_COURSE_OFFLINE", "1")  # a benchmark must not wait on a download
    from gan_course import data, paths

    if args.race == "faces":
        from gan_course.bench import faces

        train, holdout, info = faces.load_faces(args.preset, args.source, args.seed)
        result = faces_race(train, holdout, args.preset, args.target_fid, args.max_seconds or 240.0,
                            args.every_seconds, args.seed)
        result["data"] = {"dataset": faces.FACES_DATASET, "source": info.source, "synthetic": info.synthetic,
                          "train_images": len(train), "holdout_images": len(holdout)}
        lines, default_out = faces.summary_lines(result), "quality_faces.json"
    else:
        train, test = data.load_mnist("train", verbose=False), data.load_mnist("test", verbose=False)
        result = race(train.images, test.images, args.preset, args.target_fid or QUALITY_FID, args.max_seconds or 600.0,
                      args.course_chunk, args.tutorial_chunk, args.seed)
        result["data"] = {"source": train.source, "train_images": len(train), "test_images": len(test)}
        lines, default_out = summary_lines(result), "quality.json"
    out = Path(args.out) if args.out else paths.outputs_dir("bench") / default_out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print("\n" + "\n".join(lines))
    print(f"\nWrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
