"""Measure what the experiment exercises of lessons 05 and 00 ask, at the cpu preset, over seeds.

The run checkers (``gan_course.teaching.run_checks``) compare a student's run with the course's own
measured rows. Lesson 05's sweep (section 4) measured the baseline and each factor once; its
exercises 5 and 6 ask for configurations the sweep did not run (the batch sizes at equal steps, batch
256 with both learning rates x4). This script runs them, with the notebook's baseline at the cpu
preset and lesson 05's trial code (``experiments.run_sweep``), and writes the rows, one JSON object a
line, to ``results/cpu/lesson05_exercises.jsonl``; rows already there are kept (the sweep's cache)::

    GAN_COURSE_OFFLINE=1 python -m gan_course.teaching.exercise_runs   # about 15 min on 2 cores

Lesson 00's experiment exercises train its toys (``python -m gan_course.teaching.exercise_runs 00``,
about 8 min on 2 cores): section 5's 1-D GAN, its loop and its ``train_step`` written out again
here with the generator's loss the exercise asks for (exercises 4 and 6; the lesson's own loss and a
shifted start for comparison), and section 6's four ring runs, at ``SEEDS_00``. Each row keeps what
the checkers read: the 1-D run's generated mean and spread at the lesson's snapshot rounds, the ring
runs' modes, share on target and sectors reached, computed as the lesson computes them. They go to
``results/cpu/lesson00_exercises.jsonl``; rows already there (same name, seed and steps) are kept.
"""

from __future__ import annotations

import sys

from gan_course.teaching.run_checks import RECORDS

SEEDS = (0, 1, 2)
SEEDS_00 = tuple(range(10))  # the toys train in seconds: ten seeds a configuration


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


# --------------------------------------------------------------------------- lesson 00

ONE_D = {  # name -> (the generator's loss, how far its output starts shifted): section 5 and exercises 4, 6
    "non-saturating": ("nonsaturating", 0.0),  # section 5 as written
    "non-saturating, +10": ("nonsaturating", 10.0),  # exercise 4's start with the lesson's loss
    "minimax, +10": ("minimax", 10.0),  # exercise 4
    "LSGAN": ("lsgan", 0.0),  # exercise 6
}
DATA_1D = (4.0, 1.25)  # section 5's data: TARGET_MEAN, TARGET_STD
RING_STD, RING_RADIUS, RING_N_STD = 0.02, 2.0, 5  # section 6's ring and its coverage tolerance


def one_d_run(seed: int, loss: str = "nonsaturating", shift: float = 0.0, steps: int | None = None) -> dict:
    """Section 5's 1-D GAN at the cpu preset, as the lesson runs it (its networks, optimisers, noise and
    loop), with G's loss ``loss`` (LSGAN: D's too) and G's output started ``shift`` away (its last bias).
    Returns the generated samples' mean and spread at the lesson's snapshot rounds, and the last round's
    losses (the values its loop leaves in ``d_loss`` and ``g_loss``)."""
    import time

    import keras
    import numpy as np
    import tensorflow as tf

    from gan_course import losses, toys
    from gan_course.presets import PRESETS

    steps = steps or PRESETS["cpu"].pick(smoke=150, cpu=1500, gpu=3000)  # STEPS_1D of its parameters cell
    latent, batch = 4, 128
    keras.utils.set_random_seed(seed)
    gen = toys.toy_mlp(latent, 1, hidden=(32, 32), name="generator", seed=seed)
    disc = toys.toy_mlp(1, 1, hidden=(64, 64), name="discriminator", seed=seed + 100)
    gen.layers[-1].bias.assign(gen.layers[-1].bias + shift)  # the same run as adding it to every output
    g_opt, d_opt = keras.optimizers.Adam(1e-3, beta_1=0.5), keras.optimizers.Adam(1e-3, beta_1=0.5)
    bce = keras.losses.BinaryCrossentropy(from_logits=True)

    @tf.function
    def train_step(real, z_d, z_g):
        with tf.GradientTape() as tape:
            real_out, fake_out = disc(real, training=True), disc(gen(z_d, training=True), training=True)
            d_loss = (losses.lsgan_discriminator_loss(real_out, fake_out) if loss == "lsgan" else
                      bce(tf.ones_like(real_out), real_out) + bce(tf.zeros_like(fake_out), fake_out))
        d_opt.apply_gradients(zip(tape.gradient(d_loss, disc.trainable_variables), disc.trainable_variables))
        with tf.GradientTape() as tape:
            fake_out = disc(gen(z_g, training=True), training=True)
            g_loss = {"nonsaturating": lambda: bce(tf.ones_like(fake_out), fake_out),
                      "minimax": lambda: -bce(tf.zeros_like(fake_out), fake_out),
                      "lsgan": lambda: losses.lsgan_generator_loss(fake_out)}[loss]()
        g_opt.apply_gradients(zip(tape.gradient(g_loss, gen.trainable_variables), gen.trainable_variables))
        return d_loss, g_loss

    rng = np.random.default_rng(seed)
    fixed_z = rng.standard_normal((2000, latent)).astype("float32")
    moments = sorted({0, steps // 50, steps // 15, steps})
    means, stds, start = [], [], time.perf_counter()
    for step in range(steps + 1):
        if step in moments:
            samples = gen(fixed_z).numpy().ravel()
            means.append(float(samples.mean()))
            stds.append(float(samples.std()))
        if step == steps:
            break
        real = toys.gaussian_1d(batch, *DATA_1D, rng=rng)
        z_d, z_g = rng.standard_normal((2, batch, latent)).astype("float32")
        d_loss, g_loss = train_step(real, z_d, z_g)
    return {"data_mean": DATA_1D[0], "data_std": DATA_1D[1], "moments": moments, "means": means, "stds": stds, "mean": means[-1], "std": stds[-1],
            "d_loss": float(d_loss), "g_loss": float(g_loss), "seconds": round(time.perf_counter() - start, 1)}


def ring_scores(samples) -> dict:
    """Section 6's scores of 1,000 samples: modes covered and share on target (``coverage``), and the
    ring's sectors reached at any distance (``sectors`` of its check cell)."""
    import numpy as np

    from gan_course import toys

    cov = toys.mode_coverage(samples, toys.ring_centres(8, radius=RING_RADIUS), RING_STD, n_std=RING_N_STD)
    k = np.round(np.arctan2(samples[:, 1], samples[:, 0]) / (np.pi / 4)).astype(int) % 8
    return {"modes": cov["modes"], "on_target": cov["good_share"],
            "sectors": int((np.bincount(k, minlength=8) >= len(samples) / 32).sum())}


def ring_runs(seed: int) -> list[dict]:
    """Section 6's four runs at the cpu preset and ``SEED = seed`` (its cells 'Mode collapse' and 'Does a
    bigger batch fix it?'), each scored as the lesson scores it."""
    from gan_course import toys
    from gan_course.presets import PRESETS

    cpu = PRESETS["cpu"]
    steps_ring, steps_wgan = cpu.pick(smoke=100, cpu=1500, gpu=4000), cpu.pick(smoke=50, cpu=1000, gpu=3000)

    def ring(n, rng):
        return toys.ring_of_gaussians(n, modes=8, radius=RING_RADIUS, std=RING_STD, rng=rng)

    base = dict(latent_dim=2, g_hidden=(128, 128), d_hidden=(128, 128), learning_rate=1e-3, seed=seed)
    fast = dict(base, g_learning_rate=1e-2)
    runs = {"GAN, fast G, batch 64": toys.train_toy_gan(ring, steps_ring, batch_size=64,
                                                         snapshot_every=max(steps_ring // 4, 1), **fast),
            "GAN, fast G, batch 512": toys.train_toy_gan(ring, steps_ring, batch_size=512, **fast),
            "WGAN-GP, fast G": toys.train_toy_gan(ring, steps_wgan, batch_size=64, loss="wgan-gp", n_critic=5, **fast),
            "GAN, balanced rates": toys.train_toy_gan(ring, steps_ring, batch_size=64, **base)}
    return [dict(name=name, steps=r.history["step"][-1], seconds=round(r.seconds, 1),
                 **ring_scores(r.sample(1000, seed=seed))) for name, r in runs.items()]


def lesson00(path, seeds=SEEDS_00) -> list[dict]:
    """Run lesson 00's exercise configurations at ``seeds`` (those not yet in ``path``) and write every row."""
    import json
    from pathlib import Path

    path = Path(path)
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.is_file() else []
    have = {(r["exercise"], r["name"], r["seed"]) for r in rows}
    for seed in seeds:
        for name, (loss, shift) in ONE_D.items():
            if ("1d", name, seed) not in have:
                rows.append(dict(exercise="1d", name=name, loss=loss, shift=shift, seed=seed, **one_d_run(seed, loss, shift)))
                print(json.dumps(rows[-1]), flush=True)
        if ("ring", "GAN, balanced rates", seed) not in have:  # section 6's four runs come together
            for row in ring_runs(seed):
                rows.append(dict(exercise="ring", seed=seed, **row))
                print(json.dumps(rows[-1]), flush=True)
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))  # after each seed: an interrupted run keeps them
    return rows


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv == ["00"]:
        lesson00(RECORDS["lesson00_exercises"])
        return 0
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
