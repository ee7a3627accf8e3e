"""A small style-based generator (StyleGAN, Karras et al. 2018; StyleGAN2, Karras et al. 2019) for 28x28 digits.

Introduced, written out, in lesson 06 (``notebooks/06_beyond_dcgan.ipynb``). The ideas, each a
small piece here:

- a **mapping network** ``z -> w`` (an MLP): w need not follow a Gaussian, so it can untangle
  the factors of the data;
- a **learned constant** as the synthesis network's input: everything an image varies in comes
  from the styles and the noise;
- **styles**: an affine map of w per layer, applied by **AdaIN** (StyleGAN) or by a **modulated
  convolution** with demodulation (StyleGAN2, used here): scale the kernel's input channels by
  the style, then rescale each output channel to unit expected variance;
- **noise injection**: a per-pixel Gaussian image per layer, scaled by a learned per-channel
  strength, for stochastic detail;
- **style mixing** (one w for the first layers, another for the rest) during training, and the
  **truncation trick** ``w_avg + psi (w - w_avg)`` when sampling.

The synthesis network takes its inputs explicitly, ``[ws, noise_0, ..., noise_{L-1}]`` with
``ws`` of shape (batch, L + 1, w_dim) (one w per modulated layer, the last for ``to_image``), so
style mixing, truncation and "same w, new noise" are plain array operations. Its custom layers
are registered with Keras, so a saved synthesis network loads with
``keras.saving.load_model`` once ``gan_course.zoo.stylegan`` is imported.
"""

from __future__ import annotations

import math

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops

from gan_course import losses, precision
from gan_course.gan import TwoPlayerGAN

__all__ = [
    "ConstantInput",
    "AdaIN",
    "ModulatedConv2D",
    "NoiseInjection",
    "mapping_network",
    "synthesis_network",
    "noise_shapes",
    "style_generator",
    "StyleGAN",
    "truncate",
    "mix_styles",
    "generate",
]

_PACKAGE = "gan_course"


@keras.saving.register_keras_serializable(package=_PACKAGE)
class ConstantInput(layers.Layer):
    """A learned (height, width, channels) tensor, repeated for every sample of the batch.

    Called on any batch tensor (here ``ws``) only to read the batch size.
    """

    def __init__(self, shape, **kwargs):
        super().__init__(**kwargs)
        self.shape_ = tuple(int(s) for s in shape)

    def build(self, input_shape):
        self.constant = self.add_weight(shape=self.shape_, initializer=keras.initializers.RandomNormal(0.0, 1.0),
                                        name="constant")

    def call(self, batch_like):
        n = ops.shape(batch_like)[0]
        return ops.broadcast_to(ops.expand_dims(self.constant, 0), (n,) + self.shape_)

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + self.shape_

    def get_config(self):
        return {**super().get_config(), "shape": list(self.shape_)}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class AdaIN(layers.Layer):
    """Adaptive instance normalisation (Huang & Belongie 2017), StyleGAN's way of applying a style:

    ``AdaIN(x, w) = y_s * (x - mean(x)) / std(x) + y_b``, mean and std per sample and channel over
    the pixels, ``(y_s, y_b)`` an affine map of w (``y_s`` starts near 1, ``y_b`` near 0).
    """

    def __init__(self, epsilon: float = 1e-8, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = float(epsilon)

    def build(self, input_shape):
        x_shape, w_shape = input_shape
        channels, w_dim = int(x_shape[-1]), int(w_shape[-1])
        self.to_scale = layers.Dense(channels, bias_initializer="ones", name="to_scale")
        self.to_bias = layers.Dense(channels, bias_initializer="zeros", name="to_bias")
        self.to_scale.build((None, w_dim))
        self.to_bias.build((None, w_dim))

    def call(self, inputs):
        x, w = inputs
        mean = ops.mean(x, axis=(1, 2), keepdims=True)
        std = ops.sqrt(ops.var(x, axis=(1, 2), keepdims=True) + self.epsilon)
        scale, bias = self.to_scale(w)[:, None, None, :], self.to_bias(w)[:, None, None, :]
        return scale * (x - mean) / std + bias

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class ModulatedConv2D(layers.Layer):
    """StyleGAN2's modulated convolution (Karras et al. 2019, eqs. 1-3), on ``[x, ws]``.

    The layer reads its own w, ``ws[:, style_index]``, and maps it to a style ``s`` (one scale
    per input channel, starting near 1). With kernel weights ``k``:

    - modulate: ``k'_{ijc} = s_c k_{ijc}`` (here: scale x's channels by s, then convolve: same result);
    - demodulate (optional): divide output channel o by ``sqrt(sum_{i,j,c} (s_c k_{ijco})^2 + eps)``,
      so unit-variance inputs give unit-variance outputs whatever the style: the statistics
      AdaIN normalised explicitly are now normalised in expectation, which removes StyleGAN's
      "droplet" artefacts;
    - add a bias per output channel.

    The kernel is stored as N(0, 1) and multiplied by ``1/sqrt(fan_in)`` when used (the
    "equalised learning rate" of ProGAN and StyleGAN), as is the style's affine map.
    """

    def __init__(self, filters: int, kernel_size: int = 3, style_index: int = 0, demodulate: bool = True,
                 epsilon: float = 1e-8, **kwargs):
        super().__init__(**kwargs)
        self.filters, self.kernel_size = int(filters), int(kernel_size)
        self.style_index, self.demodulate, self.epsilon = int(style_index), bool(demodulate), float(epsilon)

    def build(self, input_shape):
        x_shape, ws_shape = input_shape
        in_channels, w_dim = int(x_shape[-1]), int(ws_shape[-1])
        normal = keras.initializers.RandomNormal(0.0, 1.0)
        self.kernel = self.add_weight(shape=(self.kernel_size, self.kernel_size, in_channels, self.filters),
                                      initializer=normal, name="kernel")
        self.kernel_gain = 1.0 / math.sqrt(self.kernel_size * self.kernel_size * in_channels)
        self.style_kernel = self.add_weight(shape=(w_dim, in_channels), initializer=normal, name="style_kernel")
        self.style_bias = self.add_weight(shape=(in_channels,), initializer="ones", name="style_bias")
        self.style_gain = 1.0 / math.sqrt(w_dim)
        self.bias = self.add_weight(shape=(self.filters,), initializer="zeros", name="bias")

    def style(self, w):
        """The style s = A w + b: one scale per input channel, shape (batch, in_channels)."""
        return ops.matmul(w, self.style_kernel * self.style_gain) + self.style_bias

    def call(self, inputs):
        x, ws = inputs
        s = self.style(ws[:, self.style_index])
        kernel = self.kernel * self.kernel_gain
        y = ops.conv(x * s[:, None, None, :], kernel, strides=1, padding="same")
        if self.demodulate:
            # sum over i, j, c of (s_c k_ijco)^2 = sum_c s_c^2 (sum_ij k_ijco^2): shape (batch, filters)
            energy = ops.matmul(ops.square(s), ops.sum(ops.square(kernel), axis=(0, 1)))
            y = y * ops.rsqrt(energy + self.epsilon)[:, None, None, :]
        return y + self.bias

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0][:-1]) + (self.filters,)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
                "style_index": self.style_index, "demodulate": self.demodulate, "epsilon": self.epsilon}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class NoiseInjection(layers.Layer):
    """``[x, noise] -> x + strength * noise``: a single-channel noise image, broadcast over the
    channels with a learned strength per channel (starts at 0: the generator decides how much
    noise each feature map takes)."""

    def build(self, input_shape):
        self.strength = self.add_weight(shape=(int(input_shape[0][-1]),), initializer="zeros", name="strength")

    def call(self, inputs):
        x, noise = inputs
        return x + self.strength * noise

    def compute_output_shape(self, input_shape):
        return input_shape[0]


def mapping_network(latent_dim: int, w_dim: int | None = None, n_layers: int = 4, name: str = "mapping"):
    """z -> w: StyleGAN's pixel norm (z divided by its root mean square: the unit vector times
    sqrt(latent_dim)), then ``n_layers`` Dense + LeakyReLU(0.2) (the paper: 8 layers of 512).

    He-normal weights keep w's coordinates of order 1, the scale the styles' affine maps expect:
    with the unit vector alone (coordinates ~ 1/sqrt(d)) every w drew nearly the same style.
    """
    w_dim = int(w_dim or latent_dim)
    z = keras.Input(shape=(latent_dim,), name="z")
    x = layers.UnitNormalization(name="normalise_z")(z)
    x = layers.Rescaling(math.sqrt(latent_dim), name="pixel_norm")(x)
    for i in range(n_layers):
        x = layers.LeakyReLU(0.2)(layers.Dense(w_dim, kernel_initializer="he_normal", name=f"dense_{i + 1}")(x))
    return keras.Model(z, x, name=name)


def _block_plan(width: int):
    """(resolution, filters) of each modulated 3x3 layer: one at 7x7, two at 14x14, two at 28x28."""
    return [(7, width), (14, width), (14, width), (28, max(width // 2, 1)), (28, max(width // 2, 1))]


def noise_shapes(width: int = 64) -> list[tuple[int, int, int]]:
    """Shape (without the batch) of each noise input of ``synthesis_network(width=...)``."""
    return [(r, r, 1) for r, _ in _block_plan(width)]


def synthesis_network(w_dim: int, width: int = 64, name: str = "synthesis"):
    """[ws (L + 1, w_dim), noise_0 .. noise_{L-1}] -> a 28x28x1 image in (-1, 1).

    A learned 7x7 constant, five modulated 3x3 convolutions (7, 14, 14, 28, 28; bilinear
    up-sampling between resolutions), each followed by noise and LeakyReLU(0.2), then a
    modulated 1x1 ``to_image`` without demodulation and tanh. L = 5, so ws holds 6 w's.
    """
    plan = _block_plan(width)
    ws = keras.Input(shape=(len(plan) + 1, w_dim), name="ws")
    noises = [keras.Input(shape=shape, name=f"noise_{i}") for i, shape in enumerate(noise_shapes(width))]
    x = ConstantInput((7, 7, width), name="constant")(ws)
    resolution = 7
    for i, ((res, filters), noise) in enumerate(zip(plan, noises)):
        if res != resolution:
            x = layers.UpSampling2D(res // resolution, interpolation="bilinear", name=f"up_{res}")(x)
            resolution = res
        x = ModulatedConv2D(filters, 3, style_index=i, name=f"modconv_{i}")([x, ws])
        x = NoiseInjection(name=f"noise_injection_{i}")([x, noise])
        x = layers.LeakyReLU(0.2)(x)
    x = ModulatedConv2D(1, 1, style_index=len(plan), demodulate=False, name="to_image")([x, ws])
    image = layers.Activation("tanh", dtype="float32", name="image")(x)
    return keras.Model([ws, *noises], image, name=name)


def style_generator(mapping, synthesis, name: str = "style_generator"):
    """[z, noise_0, ...] -> image: the mapping network's w repeated for every layer (no mixing)."""
    n_styles = synthesis.input_shape[0][1]
    z = keras.Input(shape=mapping.input_shape[1:], name="z")
    noises = [keras.Input(shape=shape[1:], name=f"noise_{i}") for i, shape in enumerate(synthesis.input_shape[1:])]
    ws = layers.RepeatVector(n_styles, name="broadcast_w")(mapping(z))
    return keras.Model([z, *noises], synthesis([ws, *noises]), name=name)


def truncate(w, w_avg, psi: float):
    """The truncation trick in w space: ``w_avg + psi (w - w_avg)``. psi = 1 changes nothing,
    psi = 0 gives the average image; in between, samples trade variety for typicality."""
    return w_avg + psi * (w - w_avg)


def mix_styles(w_a, w_b, n_styles: int, crossover: int):
    """ws (n, n_styles, w_dim) taking w_a for layers ``< crossover`` and w_b from ``crossover`` on."""
    w_a, w_b = np.asarray(w_a, np.float32), np.asarray(w_b, np.float32)
    if not 0 <= crossover <= n_styles:
        raise ValueError(f"crossover must be between 0 and n_styles={n_styles}, got {crossover}")
    layer = np.arange(n_styles)[None, :, None]
    return np.where(layer < crossover, w_a[:, None, :], w_b[:, None, :]).astype(np.float32)


def generate(mapping, synthesis, z, psi: float = 1.0, w_avg=None, seed: int = 0, noise_scale: float = 1.0,
             batch_size: int = 500) -> np.ndarray:
    """Images for codes z (numpy in, numpy out): map, truncate towards ``w_avg`` by ``psi``,
    repeat w for every layer, and draw the noise from a numpy RNG with ``seed``
    (``noise_scale=0`` switches the noise off)."""
    z = np.asarray(z, np.float32)
    if psi != 1.0 and w_avg is None:
        raise ValueError("Truncation (psi != 1) needs w_avg, the mean of mapping(z) over many z.")
    n_styles = synthesis.input_shape[0][1]
    rng = np.random.default_rng(seed)
    out = []
    for start in range(0, len(z), batch_size):
        w = keras.ops.convert_to_numpy(mapping(z[start:start + batch_size], training=False))
        if psi != 1.0:
            w = truncate(w, np.asarray(w_avg, np.float32), psi)
        ws = np.repeat(w[:, None, :], n_styles, axis=1)
        noises = [noise_scale * rng.standard_normal((len(w),) + tuple(s[1:])).astype(np.float32)
                  for s in synthesis.input_shape[1:]]
        out.append(keras.ops.convert_to_numpy(synthesis([ws, *noises], training=False)))
    return np.concatenate(out).astype(np.float32)


class StyleGAN(TwoPlayerGAN):
    """The style generator trained against a discriminator with the non-saturating loss,
    alternating updates (D first, then G judged by the updated D) and style-mixing
    regularisation: with probability ``mixing`` a sample takes a second code's w from a random
    layer on (Karras et al. 2018, sec. 3.1; the paper uses 0.9).

    Optimizers (StyleGAN2's): Adam(2e-3, beta_1=0, beta_2=0.99) for the synthesis network and
    the discriminator, and 100x less, 2e-5, for the mapping network (Karras et al. 2018,
    appendix C: at the same rate the mapping network collapses to one w). D's loss carries the
    R1 penalty on real images, applied lazily (``r1_gamma``, ``r1_every``: see
    ``gan_course.gan.TwoPlayerGAN``; StyleGAN and StyleGAN2 train with R1, Mescheder et al.
    2018): at these rates D without it lets G collapse to a few shapes. The defaults are gamma 1
    on every 4th D step, for 28x28 images in [-1, 1]: the schedule of lesson 01's fast recipe,
    which sets its own gamma (``recipes.recipe().r1_gamma``); the papers use gamma 10 at
    1024x1024 and every 16th step. Not StyleGAN's whole recipe: no residual
    discriminator or minibatch-stddev layer; those matter at 1024x1024, not here.
    """

    adds_r1 = True

    def __init__(self, mapping, synthesis, discriminator, mixing: float = 0.9, seed=None, r1_gamma: float = 1.0,
                 r1_every: int = 4, **kwargs):
        super().__init__(style_generator(mapping, synthesis), discriminator, latent_dim=mapping.input_shape[-1],
                         seed=seed, r1_gamma=r1_gamma, r1_every=r1_every, **kwargs)
        self.mapping, self.synthesis = mapping, synthesis  # the same layers as self.generator's
        self.n_styles = int(synthesis.input_shape[0][1])
        self.noise_shapes = [tuple(int(d) for d in s[1:]) for s in synthesis.input_shape[1:]]
        self.mixing = float(mixing)

    def default_optimizers(self):
        return keras.optimizers.Adam(2e-3, beta_1=0.0, beta_2=0.99), keras.optimizers.Adam(2e-3, beta_1=0.0, beta_2=0.99)

    def compile(self, d_optimizer=None, g_optimizer=None, mapping_optimizer=None, **kwargs):
        """``g_optimizer`` moves the synthesis network, ``mapping_optimizer`` the mapping network
        (default Adam(2e-5, beta_1=0, beta_2=0.99): a hundredth of the synthesis rate)."""
        super().compile(d_optimizer, g_optimizer, **kwargs)
        mapping_optimizer = mapping_optimizer or keras.optimizers.Adam(2e-5, beta_1=0.0, beta_2=0.99)
        self.mapping_optimizer = precision.wrap_optimizer(mapping_optimizer, self.mapping)
        self.mapping_optimizer.build(self.mapping.trainable_variables)

    def styles(self, n):
        """ws (n, n_styles, w_dim) for a batch, with style-mixing regularisation."""
        w1 = self.mapping(self.sample_noise(n), training=True)
        ws = ops.repeat(ops.expand_dims(w1, 1), self.n_styles, axis=1)
        if self.mixing <= 0:
            return ws
        w2 = self.mapping(self.sample_noise(n), training=True)
        cut = keras.random.randint((n, 1), 1, self.n_styles, seed=self.seed_generator)
        mixed = keras.random.uniform((n, 1), seed=self.seed_generator) < self.mixing
        cut = ops.where(mixed, cut, self.n_styles)
        first = ops.arange(self.n_styles)[None, :] < cut  # (n, n_styles): True where w1 applies
        return ops.where(first[:, :, None], ws, ops.expand_dims(w2, 1))

    def train_step(self, data):
        real = data[0] if isinstance(data, (tuple, list)) else data
        n = tf.shape(real)[0]
        noises = [keras.random.normal((n,) + s, seed=self.seed_generator) for s in self.noise_shapes]
        with tf.GradientTape(persistent=True) as g_tape:  # persistent: two moves, synthesis and mapping
            fake = self.synthesis([self.styles(n), *noises], training=True)
            with g_tape.stop_recording(), tf.GradientTape() as d_tape:
                d_loss = losses.discriminator_loss(self.discriminator(real, training=True),
                                                   self.discriminator(fake, training=True))
                if self.r1_gamma > 0:
                    d_loss += self.lazy_r1(real)  # R1 on real images, every r1_every-th D step
            self.move(d_tape, d_loss, self.d_optimizer, self.discriminator)
            g_loss = losses.generator_loss(self.discriminator(fake, training=True))
        self.move(g_tape, g_loss, self.g_optimizer, self.synthesis)
        self.move(g_tape, g_loss, self.mapping_optimizer, self.mapping)
        return self.log(d_loss=d_loss, g_loss=g_loss)
