"""Toy GANs that train in seconds on a CPU: a 1-D Gaussian and a 2-D ring of Gaussians (lesson 00).

Low-dimensional data lets us *see* everything a GAN does: the generator's whole distribution,
the discriminator's verdict at every point, and which modes of the data the generator covers.
Lesson 00 writes the 1-D training step out in full before using ``train_toy_gan``.

Three losses are available for the same tiny MLPs:

- ``"nonsaturating"``: D with binary cross-entropy, G with ``-log D(G(z))`` (Goodfellow et al. 2014);
- ``"minimax"``: G minimises ``log(1 - D(G(z)))`` directly (saturates early in training);
- ``"wgan-gp"``: a critic with the Wasserstein loss and a gradient penalty, ``n_critic`` critic
  steps per generator step (Gulrajani et al. 2017).
"""

from __future__ import annotations

import dataclasses
import logging

import numpy as np

__all__ = [
    "gaussian_1d",
    "ring_centres",
    "ring_of_gaussians",
    "toy_mlp",
    "ToyRun",
    "make_toy_step",
    "train_toy_gan",
    "mode_coverage",
]

LOSSES = ("nonsaturating", "minimax", "wgan-gp")


# --------------------------------------------------------------------------- data


def gaussian_1d(n: int, mean: float = 4.0, std: float = 1.25, rng=None) -> np.ndarray:
    """n samples of N(mean, std^2), shape (n, 1), float32."""
    rng = np.random.default_rng(rng)
    return rng.normal(mean, std, size=(n, 1)).astype(np.float32)


def ring_centres(modes: int = 8, radius: float = 2.0) -> np.ndarray:
    """The centres of ``modes`` Gaussians evenly spaced on a circle, shape (modes, 2)."""
    angles = 2 * np.pi * np.arange(modes) / modes
    return (radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)).astype(np.float32)


def ring_of_gaussians(n: int, modes: int = 8, radius: float = 2.0, std: float = 0.05, rng=None) -> np.ndarray:
    """n points from a mixture of ``modes`` equally likely Gaussians on a circle, shape (n, 2).

    The classic mode-collapse benchmark (Metz et al. 2016, "Unrolled GANs"): the modes are far
    apart compared with their width, so a generator can fool D with one mode at a time.
    """
    rng = np.random.default_rng(rng)
    centres = ring_centres(modes, radius)
    which = rng.integers(0, modes, size=n)
    return (centres[which] + rng.normal(0.0, std, size=(n, 2))).astype(np.float32)


def mode_coverage(samples, centres, std: float, n_std: float = 3.0, min_share: float | None = None) -> dict:
    """How many modes a generator covers, as in Metz et al. (2016).

    A sample is *good* when it lies within ``n_std`` standard deviations of some centre; a mode
    is *covered* when at least ``min_share`` of the samples are good samples of it (default: a
    quarter of a fair share, ``0.25 / modes``).

    Returns:
        ``{"modes": covered count, "good_share": share of good samples, "shares": per-mode shares}``
    """
    samples, centres = np.asarray(samples, dtype=np.float64), np.asarray(centres, dtype=np.float64)
    dist = np.linalg.norm(samples[:, None, :] - centres[None, :, :], axis=-1)
    nearest, near = dist.argmin(axis=1), dist.min(axis=1) <= n_std * std
    shares = np.bincount(nearest[near], minlength=len(centres)) / max(len(samples), 1)
    min_share = 0.25 / len(centres) if min_share is None else min_share
    return {"modes": int((shares >= min_share).sum()), "good_share": float(near.mean()), "shares": shares}


# --------------------------------------------------------------------------- networks


def toy_mlp(in_dim: int, out_dim: int, hidden=(32, 32), name: str = "mlp", seed: int | None = None):
    """A small fully connected network: Dense + LeakyReLU(0.2) per hidden layer, linear output.

    Linear outputs for both players: G's samples are unbounded numbers, and D's output is a
    logit (or, for WGAN-GP, a score).
    """
    import keras
    from keras import layers

    init = lambda i: keras.initializers.GlorotUniform(seed=None if seed is None else seed + i)  # noqa: E731
    model = keras.Sequential([keras.Input(shape=(in_dim,))], name=name)
    for i, units in enumerate(hidden):
        model.add(layers.Dense(units, kernel_initializer=init(i)))
        model.add(layers.LeakyReLU(negative_slope=0.2))
    model.add(layers.Dense(out_dim, kernel_initializer=init(len(hidden))))
    return model


# --------------------------------------------------------------------------- training


@dataclasses.dataclass
class ToyRun:
    """What ``train_toy_gan`` returns: the trained networks and what was seen along the way."""

    generator: object
    discriminator: object
    loss: str
    history: dict  # "step", "d_loss", "g_loss": one value every ``log_every`` steps
    snapshots: list  # (step, generated samples) every ``snapshot_every`` steps (and at the end)
    seconds: float

    def sample(self, n: int, seed: int = 0) -> np.ndarray:
        latent_dim = self.generator.input_shape[-1]
        z = np.random.default_rng(seed).standard_normal((n, latent_dim)).astype(np.float32)
        return np.asarray(self.generator(z, training=False))


def make_toy_step(generator, discriminator, g_optimizer, d_optimizer, loss: str = "nonsaturating",
                  n_critic: int = 5, gp_weight: float = 10.0):
    """Compiled rounds of the game: ``steps(real, z) -> (d_losses, g_losses)``, one per round.

    ``real`` has shape (rounds, k, batch, dim): k = 1 for the BCE losses, ``n_critic`` for
    WGAN-GP (one fresh real batch per critic step); ``z`` has shape (rounds, k + 1, batch,
    latent_dim), the last slice of each round for the generator's step.
    """
    import tensorflow as tf

    from gan_course import losses

    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, not {loss!r}")
    d_vars, g_vars = discriminator.trainable_variables, generator.trainable_variables

    def d_update(real, z):
        with tf.GradientTape() as tape:
            fake = generator(z, training=True)
            real_out, fake_out = discriminator(real, training=True), discriminator(fake, training=True)
            if loss == "wgan-gp":
                d_loss = losses.wasserstein_critic_loss(real_out, fake_out) + gp_weight * losses.gradient_penalty(
                    discriminator, real, fake)
            else:
                d_loss = losses.discriminator_loss(real_out, fake_out)
        d_optimizer.apply_gradients(zip(tape.gradient(d_loss, d_vars), d_vars))
        return d_loss

    def step(real_batches, z):
        d_loss = tf.constant(0.0)
        for k in range(real_batches.shape[0]):  # static: unrolled when traced
            d_loss = d_update(real_batches[k], z[k])
        with tf.GradientTape() as tape:
            fake_out = discriminator(generator(z[-1], training=True), training=True)
            if loss == "wgan-gp":
                g_loss = losses.wasserstein_generator_loss(fake_out)
            elif loss == "minimax":
                g_loss = losses.minimax_generator_loss(fake_out)
            else:
                g_loss = losses.generator_loss(fake_out)
        g_optimizer.apply_gradients(zip(tape.gradient(g_loss, g_vars), g_vars))
        return d_loss, g_loss

    # Any number of rounds and any batch in one trace: a run's last chunk is often shorter, and
    # lessons build several runs, so a shape-specific trace would retrace (and TF warn) each time.
    k = n_critic if loss == "wgan-gp" else 1  # static: the critic's steps are unrolled
    real_spec = tf.TensorSpec([None, k, None, discriminator.input_shape[-1]], tf.float32)
    z_spec = tf.TensorSpec([None, k + 1, None, generator.input_shape[-1]], tf.float32)

    @tf.function(input_signature=[real_spec, z_spec])
    def many_steps(real_chunk, z_chunk):
        # Several rounds per call: a toy step is so small that Python's call overhead would
        # otherwise cost more than the maths. Losses come back for every round.
        n = tf.shape(real_chunk)[0]
        d_losses, g_losses = tf.TensorArray(tf.float32, size=n), tf.TensorArray(tf.float32, size=n)
        for i in tf.range(n):
            d_loss, g_loss = step(real_chunk[i], z_chunk[i])
            d_losses, g_losses = d_losses.write(i, d_loss), g_losses.write(i, g_loss)
        return d_losses.stack(), g_losses.stack()

    return many_steps


class _OwnStepRetraces(logging.Filter):
    """Drops TensorFlow's "triggered tf.function retracing" warning. Every toy run compiles its
    own step on purpose (new networks, new variables); TF cannot tell that from a mistake."""

    def filter(self, record):
        return "triggered tf.function retracing" not in record.getMessage()


def train_toy_gan(
    sample_data,
    steps: int,
    batch_size: int = 128,
    loss: str = "nonsaturating",
    latent_dim: int = 2,
    g_hidden=(32, 32),
    d_hidden=(32, 32),
    learning_rate: float = 1e-3,
    g_learning_rate: float | None = None,
    n_critic: int = 5,
    seed: int = 0,
    snapshot_every: int | None = None,
    log_every: int = 10,
) -> ToyRun:
    """Train a toy GAN on ``sample_data(n, rng) -> (n, dim)`` for ``steps`` generator steps.

    Adam with ``beta_1 = 0.5`` for both players (``beta_2 = 0.9`` for WGAN-GP, as in its paper).
    ``g_learning_rate`` gives the generator its own rate (default: ``learning_rate``).
    ``snapshot_every`` keeps 500 generator samples every that many steps (and at the end),
    from the same fixed noise, to plot training as it goes.
    """
    import time

    import keras

    if steps < 1 or batch_size < 2:
        raise ValueError(f"Need steps >= 1 and batch_size >= 2, got steps={steps}, batch_size={batch_size}.")
    rng = np.random.default_rng(seed)
    dim = sample_data(2, rng).shape[1]
    keras.utils.set_random_seed(seed)
    generator = toy_mlp(latent_dim, dim, g_hidden, name="toy_generator", seed=seed)
    discriminator = toy_mlp(dim, 1, d_hidden, name="toy_discriminator", seed=seed + 100)
    beta_2 = 0.9 if loss == "wgan-gp" else 0.999
    g_rate = learning_rate if g_learning_rate is None else g_learning_rate
    g_opt = keras.optimizers.Adam(g_rate, beta_1=0.5, beta_2=beta_2)
    d_opt = keras.optimizers.Adam(learning_rate, beta_1=0.5, beta_2=beta_2)
    step_fn = make_toy_step(generator, discriminator, g_opt, d_opt, loss, n_critic=n_critic)
    k = n_critic if loss == "wgan-gp" else 1

    fixed_z = rng.standard_normal((500, latent_dim)).astype(np.float32)
    history = {"step": [], "d_loss": [], "g_loss": []}
    snapshots = []
    chunk = snapshot_every or steps
    start = time.perf_counter()
    done = 0
    while done < steps:
        n = min(chunk, steps - done)
        real = np.stack([sample_data(batch_size * k, rng).reshape(k, batch_size, -1) for _ in range(n)]).astype(np.float32)
        z = rng.standard_normal((n, k + 1, batch_size, latent_dim)).astype(np.float32)
        quiet = _OwnStepRetraces()
        logging.getLogger("tensorflow").addFilter(quiet)
        try:
            d_losses, g_losses = (np.asarray(v) for v in step_fn(real, z))
        finally:
            logging.getLogger("tensorflow").removeFilter(quiet)
        logged = [i for i in range(n) if (done + i + 1) % log_every == 0 or done + i + 1 == steps]
        history["step"] += [done + i + 1 for i in logged]
        history["d_loss"] += [float(d_losses[i]) for i in logged]
        history["g_loss"] += [float(g_losses[i]) for i in logged]
        done += n
        if snapshot_every:
            snapshots.append((done, np.asarray(generator(fixed_z, training=False))))
    return ToyRun(generator, discriminator, loss, history, snapshots, time.perf_counter() - start)
