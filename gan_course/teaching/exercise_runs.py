"""Measure what lesson 05's experiment exercises ask, at the cpu preset, over seeds.

The run checkers (``gan_course.teaching.run_checks``) compare a student's run with the course's own
measured rows. Lesson 05's sweep (section 4) measured the baseline and each factor once; its
exercises 5 and 6 ask for configurations the sweep did not run (the batch sizes at equal steps, batch
256 with both learning rates x4). This script runs them, with the notebook's baseline at the cpu
preset and lesson 05's trial code (``experiments.run_sweep``), and writes the rows, one JSON object a
line, to ``results/cpu/lesson05_exercises.jsonl``; rows already there are kept (the sweep's cache)::

    GAN_COURSE_OFFLINE=1 python -m gan_course.teaching.exercise_runs   # about 15 min on 2 cores
"""

from __future__ import annotations

import sys

from gan_course.teaching.run_checks import RECORDS

SEEDS = (0, 1, 2)


def lesson05_configs(seeds=SEEDS) -> list:
    """The exercise trials, built from lesson 05's baseline at the cpu preset (its parameters cell)."""
    from gan_course.experiments import TrialConfig, variant
    from gan_course.presets import PRESETS

    preset = PRESETS["cpu"]  # not get_preset: a step cap in the environment must not shorten the record
    lr, batch = 2e-4, preset.pick(smoke=32, cpu=64, gpu=64)
    base = TrialConfig(latent_dim=64, g_learning_rate=lr, d_learning_rate=lr, batch_size=batch,
                       width=preset.pick(smoke=8, cpu=32, gpu=64), epochs=preset.steps(smoke=1, cpu=10, gpu=25),
                       max_images=None, eval_samples=1000)
    steps = base.epochs * (4000 // batch)  # the baseline's generator steps on the 4,000 offline digits
    configs = []
    for s in seeds:
        configs += [
            variant(base, f"batch {batch // 4}, equal steps", "batch size at equal steps", batch_size=batch // 4,
                    steps=steps, seed=s),
            variant(base, f"batch {batch * 4}, equal steps", "batch size at equal steps", batch_size=batch * 4,
                    steps=steps, seed=s),
            variant(base, f"batch {batch * 4}", "batch size", batch_size=batch * 4, seed=s),
            variant(base, f"batch {batch * 4}, lr both x4", "batch and rate", batch_size=batch * 4,
                    g_learning_rate=4 * lr, d_learning_rate=4 * lr, seed=s),
            variant(base, "lr both x4", "batch and rate", g_learning_rate=4 * lr, d_learning_rate=4 * lr, seed=s),
        ]
    return configs


def main() -> int:
    from gan_course import data, experiments

    train = data.load_mnist("train")
    test = data.load_mnist("test")
    if len(train.images) != 4000:
        print(f"expected the 4,000 offline training digits (set GAN_COURSE_OFFLINE=1), got {len(train.images)}",
              file=sys.stderr)
        return 1
    experiments.run_sweep(lesson05_configs(), train.images, test.images, RECORDS["lesson05_exercises"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
