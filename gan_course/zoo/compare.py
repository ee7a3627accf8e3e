"""Train the zoo's unconditional variants on equal terms and score them the same way.

Equal terms means: the same training digits, the same seed (so every generator starts from
the same weights), the same MLP generator and discriminator, the same batch size for every
player update, and the same **budget of generator updates**. The Wasserstein variants take
``n_critic`` critic updates per generator update, each on fresh real images, as their papers
prescribe: they see more data and cost more time for the same budget, and the table shows
both. Every generator is then scored with ``metrics.score_generator`` on the same samples
count against the same real digits.
"""

from __future__ import annotations

import time

import keras
import tensorflow as tf

from gan_course import metrics, wgan
from gan_course.zoo import vanilla, wasserstein

__all__ = [
    "UNCONDITIONAL_VARIANTS", "COLUMNS", "make_variant", "train_variant", "score_variant", "compare",
    "rows_to_markdown",
]

UNCONDITIONAL_VARIANTS = ("vanilla-minimax", "vanilla-nonsat", "lsgan", "hinge", "wgan-clip", "wgan-gp")

COLUMNS = {  # row key -> (table header, format)
    "variant": ("variant", "{}"),
    "fid": ("classifier FID", "{:.1f}"),
    "kid": ("KID", "{:.2f}"),
    "coverage": ("coverage", "{:.1f}"),
    "entropy": ("entropy (nats)", "{:.2f}"),
    "confident": ("confident", "{:.0%}"),
    "g_updates": ("G updates", "{:,}"),
    "real_images_seen": ("real images seen", "{:,}"),
    "wall_s": ("wall time (s)", "{:.0f}"),
    "cpu_s": ("CPU time (s)", "{:.0f}"),
}


def make_variant(name: str, latent_dim: int, seed: int = 0, n_critic: int = 5):
    """A compiled model for one of ``UNCONDITIONAL_VARIANTS``, and the real images per train step."""
    if name in vanilla.LOSSES:
        return vanilla.make_gan(name, latent_dim, seed=seed), 1
    if name in wasserstein.WASSERSTEIN_VARIANTS:
        return wasserstein.make_wgan(name, latent_dim, n_critic=n_critic, seed=seed), n_critic
    raise ValueError(f"Unknown variant {name!r}; choose from {', '.join(UNCONDITIONAL_VARIANTS)}.")


def train_variant(name: str, images, generator_steps: int, batch_size: int, latent_dim: int, seed: int = 0,
                  n_log: int = 10, jit_compile: bool = True, run_eagerly: bool = False, verbose: int = 0):
    """Build and train one variant for ``generator_steps`` generator updates.

    Returns (model, history dict, wall seconds, CPU seconds of this process). ``n_log`` is how
    many points the history keeps (the steps are split into that many Keras "epochs").
    ``jit_compile`` compiles each train step with XLA: about 2x faster for these small nets.
    ``run_eagerly`` skips building a graph at all, which is faster for a handful of steps
    (tracing costs seconds), slower for thousands.
    """
    keras.utils.set_random_seed(seed)  # same initial weights for every variant
    model, per_step = make_variant(name, latent_dim, seed=seed)
    model.jit_compile = jit_compile and not run_eagerly
    model.run_eagerly = run_eagerly
    step_batch = wgan.critic_batch_size(batch_size, per_step)
    if len(images) < step_batch:
        raise ValueError(f"{len(images)} images cannot fill one training step of {step_batch} images "
                         f"({name}); lower batch_size.")
    dataset = (
        tf.data.Dataset.from_tensor_slices(images).cache()
        .shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
        .repeat()  # the budget is counted in steps, not passes over the data
        .batch(step_batch, drop_remainder=True)
        .prefetch(tf.data.AUTOTUNE)
    )
    n_log = max(1, min(n_log, generator_steps))
    start, cpu_start = time.perf_counter(), time.process_time()
    history = model.fit(dataset, epochs=n_log, steps_per_epoch=generator_steps // n_log, verbose=verbose)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    return model, history.history, wall, cpu


def score_variant(name: str, model, history: dict, real_images, batch_size: int, wall_s: float, cpu_s: float,
                  n_eval: int = 1000, seed: int = 0) -> dict:
    """One table row: the variant's sample scores (``metrics.score_generator``), its budget and its time."""
    scores = metrics.score_generator(model.generator, real_images, n=n_eval, seed=seed)
    n_log = len(history["g_loss"])
    steps_per_log = model.history.params["steps"] if getattr(model, "history", None) else None
    g_updates = n_log * steps_per_log if steps_per_log else None
    per_step = getattr(model, "n_critic", 1)
    return {
        "variant": name,
        "fid": scores.fid,
        "kid": scores.kid_mean,
        "coverage": scores.coverage,
        "entropy": scores.entropy,
        "confident": scores.confident_share,
        "g_updates": g_updates,
        "real_images_seen": g_updates * batch_size * per_step if g_updates else None,
        "wall_s": wall_s,
        "cpu_s": cpu_s,
        "n_eval": scores.n_samples,
        "n_real": scores.n_real,
    }


def compare(images, real_images, generator_steps: int, batch_size: int, latent_dim: int, seed: int = 0,
            n_eval: int = 1000, variants=UNCONDITIONAL_VARIANTS, n_log: int = 10, jit_compile: bool = True,
            run_eagerly: bool = False, verbose: bool = True):
    """Train every variant in ``variants`` on equal terms, score each, and return
    (rows, models, histories): one dict per variant with the ``COLUMNS`` keys."""
    rows, models, histories = [], {}, {}
    for name in variants:
        model, history, wall, cpu = train_variant(name, images, generator_steps, batch_size, latent_dim,
                                                  seed=seed, n_log=n_log, jit_compile=jit_compile,
                                                  run_eagerly=run_eagerly)
        rows.append(score_variant(name, model, history, real_images, batch_size, wall, cpu, n_eval=n_eval, seed=seed))
        models[name], histories[name] = model, history
        if verbose:
            print(rows_to_markdown(rows[-1:]).splitlines()[-1], flush=True)
    return rows, models, histories


def rows_to_markdown(rows, columns=COLUMNS) -> str:
    """The comparison as a markdown table."""
    head = "| " + " | ".join(header for header, _ in columns.values()) + " |"
    rule = "| " + " | ".join("---" for _ in columns) + " |"
    body = ["| " + " | ".join(fmt.format(row[key]) for key, (_, fmt) in columns.items()) + " |" for row in rows]
    return "\n".join([head, rule, *body])
