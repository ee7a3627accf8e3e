"""A denoising diffusion model at the course's scale (lesson 08): schedule, loss, U-Net, two samplers.

The idea (Ho, Jain & Abbeel 2020, "Denoising Diffusion Probabilistic Models", arXiv:2006.11239):

- **forward process**: a fixed Markov chain adds a little Gaussian noise at each of T steps,
  ``q(x_t | x_{t-1}) = N(sqrt(1 - beta_t) x_{t-1}, beta_t I)``. With ``alpha_t = 1 - beta_t`` and
  ``alpha_bar_t = prod_{s <= t} alpha_s`` any step has a closed form (``q_sample``):
  ``q(x_t | x_0) = N(sqrt(alpha_bar_t) x_0, (1 - alpha_bar_t) I)``, i.e.
  ``x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps`` with ``eps ~ N(0, I)``;
- **loss**: a network ``eps_theta(x_t, t)`` learns to predict the noise that was added,
  ``L_simple = E_{x_0, t, eps} ||eps - eps_theta(x_t, t)||^2`` (``noise_loss``), t uniform;
- **ancestral sampling** (DDPM, the paper's Algorithm 2; ``ddpm_step``): from ``x_T ~ N(0, I)``,
  ``x_{t-1} = (x_t - beta_t / sqrt(1 - alpha_bar_t) eps_theta(x_t, t)) / sqrt(alpha_t) + sigma_t z``
  with ``sigma_t^2 = beta_t`` and ``z ~ N(0, I)`` (no noise on the last step): T network calls;
- **deterministic few-step sampling** (DDIM, Song, Meng & Ermon 2020, arXiv:2010.02502, eta = 0;
  ``ddim_step``): on a subsequence of S < T times, predict ``x_0`` and jump,
  ``x0_hat = (x_t - sqrt(1 - alpha_bar_t) eps) / sqrt(alpha_bar_t)``,
  ``x_s = sqrt(alpha_bar_s) x0_hat + sqrt(1 - alpha_bar_s) eps`` (s the next time; alpha_bar = 1 past
  the end): the same trained network, S network calls.

The betas are Ho et al.'s linear schedule from 1e-4 to 0.02 at T = 1000, multiplied by 1000 / T for
other T (as in Nichol & Dhariwal 2021, "Improved Denoising Diffusion Probabilistic Models",
arXiv:2102.09672, whose code extends the schedule this way), so that ``alpha_bar_T`` stays near 0 and
x_T is pure noise whatever T.

Code times run 0 .. T-1 (the paper's t = 1 .. T). Everything here is plain Keras 3 with stock layers:
a saved U-Net loads with ``keras.saving.load_model(path, safe_mode=True)`` after ``import keras``.
"""

from __future__ import annotations

import dataclasses
import math

import keras
import numpy as np
from keras import layers, ops

__all__ = ["T", "BETA_START", "BETA_END", "MAX_BETA", "WIDTH", "EMBED_DIM", "GROUPS", "Schedule", "linear_betas",
           "make_schedule", "q_sample", "noise_loss", "timestep_table", "unet", "predicted_x0", "ddpm_step",
           "ddim_step", "ddim_timesteps", "ddpm_sample", "ddim_sample", "DiffusionModel"]

T = 1000  # diffusion steps (Ho et al.)
BETA_START, BETA_END = 1e-4, 0.02  # Ho et al.'s linear schedule at T = 1000
MAX_BETA = 0.999  # betas are clipped here (a beta of 1 would erase x_{t-1} entirely)
WIDTH = 32  # channels of the U-Net at 28x28 (2 * WIDTH at 14x14 and 7x7)
EMBED_DIM = 64  # size of the sinusoidal time features
GROUPS = 8  # group normalisation's groups (Wu & He 2018), as in Ho et al.'s U-Net, when ``unet(norm=True)``


@dataclasses.dataclass(frozen=True, eq=False)
class Schedule:
    """The noise schedule: ``betas[t]``, ``alphas = 1 - betas`` and ``alpha_bar[t] = prod_{s <= t} alphas[s]``
    for code times t = 0 .. T-1, in float64."""

    betas: np.ndarray

    @property
    def T(self) -> int:
        return len(self.betas)

    @property
    def alphas(self) -> np.ndarray:
        return 1.0 - self.betas

    @property
    def alpha_bar(self) -> np.ndarray:
        return np.cumprod(self.alphas)


def linear_betas(steps: int = T, beta_start: float = BETA_START, beta_end: float = BETA_END) -> np.ndarray:
    """``beta_t`` rising linearly from ``beta_start`` to ``beta_end`` (at T = 1000), scaled by 1000 / ``steps``
    and clipped at ``MAX_BETA``: at T = 200 the betas are 0.0005 * (t + 1)."""
    if int(steps) != steps or steps < 1:
        raise ValueError(f"steps must be a whole number >= 1 (Ho et al. use 1000), got {steps!r}")
    scale = 1000.0 / steps
    return np.clip(np.linspace(scale * beta_start, scale * beta_end, int(steps), dtype=np.float64), 0.0, MAX_BETA)


def make_schedule(steps: int = T) -> Schedule:
    """The linear schedule with ``steps`` steps (``linear_betas``)."""
    return Schedule(linear_betas(steps))


def _at(values: np.ndarray, t, like):
    """``values[t]`` as float32, shaped to broadcast against ``like`` (a batch of images)."""
    picked = ops.take(ops.convert_to_tensor(values, "float32"), ops.reshape(ops.cast(t, "int32"), (-1,)))
    return ops.reshape(picked, (-1,) + (1,) * (len(ops.shape(like)) - 1))


def q_sample(schedule: Schedule, x0, t, noise):
    """The closed-form forward process: ``x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) noise``,
    for a batch ``x0`` with one time per image in ``t`` (shape (n,) or (n, 1))."""
    alpha_bar = _at(schedule.alpha_bar, t, x0)
    return ops.sqrt(alpha_bar) * ops.cast(x0, "float32") + ops.sqrt(1.0 - alpha_bar) * ops.cast(noise, "float32")


def noise_loss(noise, predicted):
    """Ho et al.'s L_simple: the mean squared error between the added and the predicted noise."""
    return ops.mean(ops.square(ops.cast(noise, "float32") - ops.cast(predicted, "float32")))


def timestep_table(steps: int, dim: int = EMBED_DIM) -> np.ndarray:
    """Sinusoidal time features (the Transformer's position encoding, as Ho et al. embed t), shape (steps, dim):
    row t is ``[sin(t w_0) .. sin(t w_{h-1}), cos(t w_0) .. cos(t w_{h-1})]`` with ``w_i = 10000^(-i / h)``, h = dim / 2."""
    half = dim // 2
    freqs = np.exp(-math.log(10000.0) * np.arange(half) / half)
    angles = np.arange(steps)[:, None] * freqs[None, :]
    return np.concatenate([np.sin(angles), np.cos(angles)], axis=1).astype("float32")


def _res_block(h, emb, channels: int, name: str, norm: bool):
    """[GroupNorm ->] swish -> 3x3 conv, the time features added (a Dense per channel), again; a skip around it."""
    skip = h if h.shape[-1] == channels else layers.Conv2D(channels, 1, name=f"{name}_skip")(h)
    for i in (1, 2):
        if norm:
            h = layers.GroupNormalization(math.gcd(GROUPS, h.shape[-1]), name=f"{name}_norm{i}")(h)
        h = layers.Conv2D(channels, 3, padding="same", name=f"{name}_conv{i}")(layers.Activation("swish")(h))
        if i == 1:  # the same shift at every pixel: the block knows how noisy its input is
            h = layers.Add()([h, layers.Reshape((1, 1, channels))(layers.Dense(channels, name=f"{name}_time")(emb))])
    return layers.Add(name=f"{name}_out")([skip, h])


def unet(steps: int = T, width: int = WIDTH, image_shape=(28, 28, 1), embed_dim: int = EMBED_DIM,
         norm: bool = False) -> keras.Model:
    """A small U-Net ``eps_theta([x_t, t])`` for 28x28 images: inputs a noisy batch (n, 28, 28, 1) and the
    integer times (n, 1); output the predicted noise, shaped like the images.

    The time is looked up in a frozen ``Embedding`` that holds ``timestep_table`` (so the model holds its
    sinusoidal features as weights: stock layers only), then two Dense + swish layers. Layout: a 3x3 conv
    at 28x28 (``width``), stride-2 convs down to 14x14 and 7x7 (``2 * width``) with a residual block at
    each, then back up with the skip connections concatenated (the U): up-sampling and a residual block
    at 14x14, a stride-2 transposed conv to 28x28 and a zero-initialised output conv (the untrained model
    predicts no noise). The residual blocks sit at 14x14 and 7x7 only, with ``2 * width`` channels. Multiply-adds
    go as H*W*k^2*C_in*C_out, so a block's 3x3 conv at 14x14 costs a quarter of the same conv at 28x28 (as much
    as a ``width``-to-``width`` one at 28x28 would; the up block's first conv, fed ``4 * width`` channels, twice that);
    one at 7x7 costs a quarter of one at 14x14.

    ``norm`` puts group normalisation before each block's convolutions, as Ho et al. do. It is off by
    default: on a 2-core CPU it cost about as much as the convolutions of this small network, and in a
    short trial (lesson 08's settings, equal steps) the network learnt no slower without it.
    """
    x_in = keras.Input(image_shape, name="noisy_image")
    t_in = keras.Input((1,), dtype="int32", name="timestep")
    table = layers.Embedding(steps, embed_dim, trainable=False, name="time_table")
    emb = layers.Flatten()(table(t_in))
    emb = layers.Dense(4 * width, activation="swish", name="time_1")(emb)
    emb = layers.Dense(4 * width, activation="swish", name="time_2")(emb)

    h28 = layers.Conv2D(width, 3, padding="same", name="in")(x_in)
    h = layers.Conv2D(2 * width, 3, strides=2, padding="same", name="down_14")(h28)
    h14 = _res_block(h, emb, 2 * width, "block_14", norm)
    h = layers.Conv2D(2 * width, 3, strides=2, padding="same", name="down_7")(h14)
    h = _res_block(h, emb, 2 * width, "block_7", norm)
    h = layers.Concatenate()([layers.UpSampling2D(name="up_14")(h), h14])
    h = _res_block(h, emb, 2 * width, "block_up_14", norm)
    h = layers.Conv2DTranspose(width, 4, strides=2, padding="same", activation="swish", name="up_28")(h)
    h = layers.Concatenate()([h, h28])
    out = layers.Conv2D(image_shape[-1], 3, padding="same", kernel_initializer="zeros", name="noise")(h)
    model = keras.Model([x_in, t_in], out, name="unet")
    table.set_weights([timestep_table(steps, embed_dim)])
    return model


def predicted_x0(x_t, t: int, eps, schedule: Schedule, clip: bool = False):
    """``x0_hat = (x_t - sqrt(1 - alpha_bar_t) eps) / sqrt(alpha_bar_t)`` and the noise that goes with it.

    With ``clip`` x0_hat is clipped to the data's [-1, 1] and the noise recomputed from it,
    ``eps = (x_t - sqrt(alpha_bar_t) x0_hat) / sqrt(1 - alpha_bar_t)`` (what Ho et al.'s and Nichol &
    Dhariwal's samplers do); without it both come back unchanged in meaning. NumPy in, NumPy out.
    """
    ab = schedule.alpha_bar[t]
    x0 = (x_t - np.sqrt(1.0 - ab) * eps) / np.sqrt(ab)
    if clip:
        x0 = np.clip(x0, -1.0, 1.0)
        eps = (x_t - np.sqrt(ab) * x0) / np.sqrt(1.0 - ab)
    return x0, eps


def ddpm_step(x_t, t: int, eps, schedule: Schedule, z, clip: bool = False):
    """One ancestral step (Ho et al., Algorithm 2) from code time t to t - 1:
    ``x_{t-1} = (x_t - beta_t / sqrt(1 - alpha_bar_t) eps) / sqrt(alpha_t) + sqrt(beta_t) z``, no ``z`` at t = 0."""
    _, eps = predicted_x0(x_t, t, eps, schedule, clip)
    beta, alpha, ab = schedule.betas[t], schedule.alphas[t], schedule.alpha_bar[t]
    mean = (x_t - beta / np.sqrt(1.0 - ab) * eps) / np.sqrt(alpha)
    return mean + np.sqrt(beta) * z if t > 0 else mean


def ddim_step(x_t, t: int, t_prev: int, eps, schedule: Schedule, clip: bool = False):
    """One deterministic DDIM step (Song et al., eta = 0) from code time t to ``t_prev`` (< t; -1 means x_0):
    ``x_prev = sqrt(alpha_bar_prev) x0_hat + sqrt(1 - alpha_bar_prev) eps``, alpha_bar_prev = 1 for t_prev = -1."""
    x0, eps = predicted_x0(x_t, t, eps, schedule, clip)
    ab_prev = schedule.alpha_bar[t_prev] if t_prev >= 0 else 1.0
    return np.sqrt(ab_prev) * x0 + np.sqrt(1.0 - ab_prev) * eps


def ddim_timesteps(steps: int, sampling_steps: int) -> np.ndarray:
    """The S = ``sampling_steps`` code times DDIM visits, evenly spaced from T - 1 down to 0 (descending;
    all T of them when S >= T)."""
    return np.unique(np.linspace(steps - 1, 0, max(1, min(int(sampling_steps), steps))).round().astype(int))[::-1]


def _predict(network, x, t: int) -> np.ndarray:
    times = np.full((len(x), 1), t, dtype="int32")
    return np.asarray(network.predict_on_batch([x.astype("float32"), times]), dtype=np.float64)


def _in_batches(n: int, batch_size: int, seed: int, shape, run) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = [run(rng.standard_normal((min(batch_size, n - i), *shape)), rng) for i in range(0, n, batch_size)]
    return np.concatenate(out).astype("float32")


def ddpm_sample(network, schedule: Schedule, n: int, seed: int = 0, batch_size: int = 500, clip: bool = True):
    """``n`` images by ancestral sampling: T network calls per batch, x_T and every z from a NumPy RNG
    seeded with ``seed``. Returns float32 images clipped to [-1, 1]."""
    def run(x, rng):
        for t in range(schedule.T - 1, -1, -1):
            x = ddpm_step(x, t, _predict(network, x, t), schedule, rng.standard_normal(x.shape), clip)
        return np.clip(x, -1.0, 1.0)
    return _in_batches(n, batch_size, seed, network.input_shape[0][1:], run)


def ddim_sample(network, schedule: Schedule, n: int, sampling_steps: int, seed: int = 0, batch_size: int = 500,
                clip: bool = True):
    """``n`` images by DDIM (eta = 0) with ``sampling_steps`` network calls per batch; only x_T is random."""
    times = ddim_timesteps(schedule.T, sampling_steps)

    def run(x, rng):
        for t, t_prev in zip(times, list(times[1:]) + [-1]):
            x = ddim_step(x, int(t), int(t_prev), _predict(network, x, int(t)), schedule, clip)
        return np.clip(x, -1.0, 1.0)
    return _in_batches(n, batch_size, seed, network.input_shape[0][1:], run)


class DiffusionModel(keras.Model):
    """A noise-prediction network trained with ``L_simple``: ``compile(optimizer)``, then ``fit`` on images.

    Each ``train_step`` draws a time t ~ U{0, .., T-1} and noise for every image, builds x_t with
    ``q_sample``, and moves the network to predict the noise. With ``ema`` (a decay such as 0.999) it
    also keeps an exponential moving average of the weights (``gan_course.ema.GeneratorEMA``, with its
    warm-up), as Ho et al. do; ``sampling_network`` is the average when there is one.
    """

    def __init__(self, network: keras.Model, schedule: Schedule, ema: float | None = None, seed: int | None = None,
                 **kwargs):
        super().__init__(**kwargs)
        from gan_course.ema import GeneratorEMA

        self.network, self.schedule = network, schedule
        self.ema = GeneratorEMA(network, decay=ema) if ema else None
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.loss_tracker = keras.metrics.Mean(name="loss")

    @property
    def metrics(self):
        return [self.loss_tracker]

    def fit(self, *args, shuffle=False, **kwargs):
        # The course's tf.data pipelines shuffle themselves; Keras would warn on shuffle=True.
        return super().fit(*args, shuffle=shuffle, **kwargs)

    @property
    def sampling_network(self) -> keras.Model:
        return self.ema.average if self.ema is not None else self.network

    def call(self, inputs, training=False):
        return self.network(inputs, training=training)

    def train_step(self, data):
        import tensorflow as tf

        x0 = data[0] if isinstance(data, (tuple, list)) else data
        n = ops.shape(x0)[0]
        t = keras.random.randint((n, 1), 0, self.schedule.T, seed=self.seed_generator, dtype="int32")
        noise = keras.random.normal(ops.shape(x0), seed=self.seed_generator)
        x_t = q_sample(self.schedule, x0, t, noise)
        with tf.GradientTape() as tape:
            loss = noise_loss(noise, self.network([x_t, t], training=True))
        weights = self.network.trainable_weights
        self.optimizer.apply_gradients(zip(tape.gradient(loss, weights), weights))
        if self.ema is not None:
            self.ema.update(self.network)
        self.loss_tracker.update_state(loss)
        return {"loss": self.loss_tracker.result()}

    def sample_ddpm(self, n: int, seed: int = 0, **kwargs) -> np.ndarray:
        return ddpm_sample(self.sampling_network, self.schedule, n, seed, **kwargs)

    def sample_ddim(self, n: int, sampling_steps: int, seed: int = 0, **kwargs) -> np.ndarray:
        return ddim_sample(self.sampling_network, self.schedule, n, sampling_steps, seed, **kwargs)
