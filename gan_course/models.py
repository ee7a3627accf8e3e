"""DCGAN generator and discriminator builders (introduced in lesson 01).

The DCGAN rules (Radford, Metz & Chintala 2015, arXiv:1511.06434):

- no pooling: the generator up-samples with stride-2 transposed convolutions (or
  nearest-neighbour up-sampling followed by a convolution), the discriminator down-samples
  with stride-2 convolutions;
- batch norm in both networks, except the generator's output and the discriminator's input;
- ReLU in the generator, LeakyReLU(0.2) in the discriminator, ``tanh`` on the generator's
  output so images live in [-1, 1];
- the generator is widest next to the latent vector and narrows towards the image
  (filters halve at each up-sampling); the discriminator mirrors it;
- weights drawn from N(0, 0.02).

Sizes follow the rule ``initial_size = final_size / 2 ** n_upsamplings``.

The builders use Keras' own layers only, so ``model.summary()`` shows what lesson 01 draws and a
saved model loads anywhere Keras does. (Faster CPU kernels for the same layers are an explicit
choice applied to a built model from outside: ``gan_course.speed.fast_layers.use_fast_layers``.)
"""

from __future__ import annotations

import keras
from keras import layers

__all__ = [
    "dcgan_init",
    "batch_norm",
    "initial_size",
    "default_upsamplings",
    "image_hw",
    "dcgan_generator",
    "dcgan_discriminator",
    "spectral_norm_layer",
]


def dcgan_init(seed: int | None = None) -> keras.initializers.Initializer:
    """N(0, 0.02), the DCGAN paper's initialiser for every conv and dense kernel."""
    return keras.initializers.RandomNormal(mean=0.0, stddev=0.02, seed=seed)


def _gamma_init() -> keras.initializers.Initializer:
    # Batch-norm scale starts near 1 with the same small spread as the kernels.
    return keras.initializers.RandomNormal(mean=1.0, stddev=0.02)


def batch_norm(**kwargs) -> layers.BatchNormalization:
    """Batch norm as DCGAN uses it, with statistics synchronised across replicas when the model is built under a
    ``tf.distribute`` strategy: each replica then normalises with the statistics of the
    *global* batch, so two devices train like one device with both halves."""
    import tensorflow as tf

    kwargs.setdefault("gamma_initializer", _gamma_init())
    kwargs.setdefault("synchronized", tf.distribute.has_strategy())
    return layers.BatchNormalization(**kwargs)


def initial_size(final_size: int, n_upsamplings: int) -> int:
    """``final_size / 2 ** n_upsamplings``, the side of the generator's first feature map.

    >>> initial_size(28, 2)   # MNIST: 7 -> 14 -> 28
    7
    >>> initial_size(64, 4)   # LEGO bricks: 4 -> 8 -> 16 -> 32 -> 64
    4

    Raises:
        ValueError: when ``final_size`` is not divisible by ``2 ** n_upsamplings``: each
            stride-2 layer exactly doubles the size, so no start size would land on it.
    """
    factor = 2**n_upsamplings
    if n_upsamplings < 0 or final_size % factor:
        raise ValueError(
            f"Cannot reach {final_size} pixels with {n_upsamplings} stride-2 up-samplings: "
            f"{final_size} / 2**{n_upsamplings} = {final_size / factor:g} is not a whole number. "
            f"Choose n_upsamplings in {_valid_upsamplings(final_size)} or change the image size."
        )
    return final_size // factor


def _valid_upsamplings(final_size: int) -> list[int]:
    return [n for n in range(0, 8) if final_size % 2**n == 0 and final_size // 2**n >= 1]


def default_upsamplings(final_size: int, min_initial: int = 4) -> int:
    """The most stride-2 steps that keep the first feature map whole and at least ``min_initial``
    pixels (28 -> 2, 64 -> 4, 100 -> 2)."""
    n = 0
    while final_size % 2 ** (n + 1) == 0 and final_size // 2 ** (n + 1) >= min_initial:
        n += 1
    return n


def image_hw(image_shape) -> tuple[int, int, int]:
    """(height, width, channels) of ``image_shape`` as ints; a clear ValueError for any other length."""
    if len(image_shape) != 3:
        raise ValueError(f"image_shape must be (height, width, channels), got {tuple(image_shape)}")
    h, w, c = (int(v) for v in image_shape)
    return h, w, c


def _check_blocks(extra_blocks) -> None:
    if int(extra_blocks) != extra_blocks or extra_blocks < 0:
        raise ValueError(f"extra_blocks is a number of stride-1 blocks per stage (0 for none), not {extra_blocks!r}")


def dcgan_generator(
    latent_dim: int = 100,
    image_shape=(28, 28, 1),
    width: int = 64,
    n_upsamplings: int | None = None,
    kernel_size: int = 4,
    upsampling: str = "transpose",
    name: str = "generator",
    mapping: int = 0,
    mapping_width: int = 128,
    use_batch_norm: bool = True,
    extra_blocks: int = 0,
) -> keras.Model:
    """A DCGAN generator: z (latent_dim,) -> image ``image_shape`` in [-1, 1].

    Dense -> reshape to (s, s, width * 2**(n-1)) -> n up-sampling blocks that halve the
    filters -> the last block makes ``channels`` maps with ``tanh``.

    Args:
        width: filters in the last hidden block (the first block has ``width * 2**(n-1)``).
        n_upsamplings: number of stride-2 steps; default from ``default_upsamplings``.
        upsampling: ``"transpose"`` (Conv2DTranspose, stride 2) or ``"upsample"``
            (UpSampling2D + Conv2D, which avoids checkerboard artefacts).
        mapping: number of Dense(``mapping_width``) + LeakyReLU(0.2) layers, followed by a linear
            Dense back to ``latent_dim`` (StyleGAN's w), between z and the first Dense (0, the
            default: none, as in the DCGAN paper). A small *mapping network*
            in the spirit of StyleGAN's (Karras, Laine & Aila 2018): a Gaussian z is one round
            blob, the digits are ten separate clusters, and a single linear layer cannot bend one
            into the other, so samples that fall between clusters come out as blends; a few
            non-linear layers can fold z so that less of it lands between them. Lesson 06's
            ``zoo.stylegan.mapping_network`` is the full version (pixel norm, He init, no linear w);
            this plain one is what the fast recipe measured best.
        use_batch_norm: batch norm after every hidden layer (the DCGAN rule, the default);
            ``False`` leaves it out, and the layers it followed get a bias of their own.
        extra_blocks: stride-1 Conv2D + batch norm + ReLU blocks (same size, same filters) after
            each hidden up-sampling block: depth without a larger image (lesson 05's sweep). The
            number of stride-2 stages is ``n_upsamplings``.
    """
    if upsampling not in {"transpose", "upsample"}:
        raise ValueError(f"upsampling must be 'transpose' or 'upsample', not {upsampling!r}")
    if int(mapping) != mapping or mapping < 0:
        raise ValueError(f"mapping is a number of layers (0 for none), not {mapping!r}")
    _check_blocks(extra_blocks)
    h, w, channels = image_hw(image_shape)
    n = default_upsamplings(min(h, w)) if n_upsamplings is None else n_upsamplings
    if n < 1:
        raise ValueError(f"A DCGAN generator needs at least one up-sampling; image {h}x{w} allows none.")
    h0, w0 = initial_size(h, n), initial_size(w, n)
    filters0 = width * 2 ** (n - 1)

    z = keras.Input(shape=(latent_dim,), name="z")
    x = z
    for i in range(mapping):
        x = layers.Dense(mapping_width, name=f"mapping_{i + 1}")(x)  # Keras' default init: it is an MLP
        x = layers.LeakyReLU(negative_slope=0.2)(x)
    if mapping:
        x = layers.Dense(latent_dim, name="w")(x)  # the mapped latent, StyleGAN's w, as long as z
    # A bias before batch norm is cancelled by its mean subtraction: only a layer without one has a bias.
    bias = not use_batch_norm

    def norm_relu(x):
        return layers.ReLU()(batch_norm()(x) if use_batch_norm else x)

    x = layers.Dense(h0 * w0 * filters0, use_bias=bias, kernel_initializer=dcgan_init())(x)
    x = norm_relu(layers.Reshape((h0, w0, filters0))(x))
    for i in range(n):
        last = i == n - 1
        filters = channels if last else width * 2 ** (n - 2 - i)
        if upsampling == "transpose":
            x = layers.Conv2DTranspose(
                filters, kernel_size, strides=2, padding="same", use_bias=last or bias,
                kernel_initializer=dcgan_init()
            )(x)
        else:
            x = layers.UpSampling2D(2, interpolation="nearest")(x)
            x = layers.Conv2D(filters, kernel_size, padding="same", use_bias=last or bias,
                              kernel_initializer=dcgan_init())(x)
        if last:
            x = layers.Activation("tanh", name="image", dtype="float32")(x)
            break
        x = norm_relu(x)
        for _ in range(extra_blocks):  # depth at the same size: same filters, stride 1
            x = norm_relu(layers.Conv2D(filters, kernel_size, padding="same", use_bias=bias,
                                        kernel_initializer=dcgan_init())(x))
    model = keras.Model(z, x, name=name)
    if tuple(model.output_shape[1:]) != (h, w, channels):  # guard against a wrong rule above
        raise ValueError(f"Generator makes {model.output_shape[1:]}, expected {(h, w, channels)}")
    return model


def spectral_norm_layer(layer: layers.Layer, spectral_norm: bool = True) -> layers.Layer:
    """``layer`` wrapped in Keras' ``SpectralNormalization`` (or itself when ``spectral_norm`` is False).

    Spectral normalisation (Miyato, Kataoka, Koyama & Yoshida 2018, "Spectral Normalization for
    Generative Adversarial Networks", arXiv:1802.05957) divides a kernel W by its largest
    singular value sigma(W), so each layer is 1-Lipschitz and so is the whole discriminator
    (LeakyReLU is too): D cannot grow arbitrarily steep, and G keeps getting useful gradients.
    sigma(W) is estimated by power iteration (eq. 5-6): with u kept between steps,
    ``v <- W u / ||W u||``, ``u <- W^T v / ||W^T v||``, ``sigma ~ v^T W u``; one iteration per
    training call is enough because W changes little between steps. A conv kernel
    (kh, kw, c_in, c_out) is treated as the matrix (kh * kw * c_in, c_out), as in the paper.

    Keras' wrapper writes ``W / sigma`` back into the kernel at each training call, so the
    saved model holds normalised weights and predicts with plain layers: it loads with
    ``keras.saving.load_model(path, safe_mode=True)`` and nothing from the course.
    """
    if not spectral_norm:
        return layer
    # The wrapper casts the output to its own compute dtype: keep a float32 layer float32.
    return layers.SpectralNormalization(layer, dtype=layer.dtype_policy)


def dcgan_discriminator(
    image_shape=(28, 28, 1),
    width: int = 64,
    n_downsamplings: int | None = None,
    kernel_size: int = 4,
    dropout: float = 0.3,
    name: str = "discriminator",
    spectral_norm: bool = False,
    hidden: int = 0,
    use_batch_norm: bool = True,
    extra_blocks: int = 0,
) -> keras.Model:
    """A DCGAN discriminator: image -> one logit (no sigmoid: the loss applies it stably).

    n stride-2 Conv2D blocks doubling the filters from ``width``, batch norm from the second
    block on, dropout and LeakyReLU(0.2), then Flatten -> Dense(1). Dropout is the course's
    addition (the DCGAN paper's discriminator has none): on the small offline data sets it slows
    D's over-fitting; ``dropout=0`` gives the paper's network.

    ``spectral_norm=True`` wraps every Conv2D and the Dense in ``SpectralNormalization``
    (``spectral_norm_layer``) and leaves batch norm out, as Miyato et al.'s SN-DCGAN
    discriminator does: batch norm's learned scale would undo the bound spectral
    normalisation puts on each layer.

    ``hidden > 0`` puts a fully connected layer of that size (with LeakyReLU) between the
    flattened features and the logit. The DCGAN paper removed such layers to make deep networks
    train; this one is shallow. At 28x28 it has two convolutions whose units each see a patch of
    10x10 pixels, and without the hidden layer all D does with the whole digit is one weighted
    sum of patch features. With it, D can judge how the strokes fit together (is the loop
    closed? is it a 2 or a 7?), and tells G about it.

    ``use_batch_norm=False`` leaves batch norm out everywhere (each conv then has a bias);
    ``extra_blocks`` adds that many stride-1 blocks (same filters, batch norm, dropout, LeakyReLU)
    after each stride-2 block, the generator's ``extra_blocks`` mirrored; the number of stride-2
    blocks is ``n_downsamplings``.
    """
    if int(hidden) != hidden or hidden < 0:
        raise ValueError(f"hidden is the size of a Dense layer (0 for none), not {hidden!r}")
    _check_blocks(extra_blocks)
    h, w, _ = image_hw(image_shape)
    n = default_upsamplings(min(h, w)) if n_downsamplings is None else n_downsamplings
    initial_size(h, n), initial_size(w, n)  # same divisibility rule as the generator

    def block(x, filters, strides, normalised):
        # A bias before batch norm is cancelled by its mean subtraction, so only layers without it have one.
        conv = layers.Conv2D(
            filters, kernel_size, strides=strides, padding="same", use_bias=not normalised,
            kernel_initializer=dcgan_init()
        )
        x = spectral_norm_layer(conv, spectral_norm)(x)
        if normalised:
            x = batch_norm()(x)
        # Dropout before LeakyReLU gives the same numbers as after (LeakyReLU(m x) = m LeakyReLU(x)
        # for a mask value m >= 0: LeakyReLU is positively homogeneous and maps 0 to 0); in this
        # order TensorFlow's graph optimiser does not trip over the first block's
        # Conv2D + BiasAdd + LeakyReLU ("remapper failed" in the log).
        if dropout:
            x = layers.Dropout(dropout)(x)
        return layers.LeakyReLU(negative_slope=0.2)(x)

    normalise = use_batch_norm and not spectral_norm
    image = keras.Input(shape=tuple(image_shape), name="image")
    x = image
    for i in range(n):
        x = block(x, width * 2**i, 2, normalise and i > 0)  # DCGAN: no batch norm on the input layer
        for _ in range(extra_blocks):  # depth at the same size: same filters, stride 1
            x = block(x, width * 2**i, 1, normalise)
    x = layers.Flatten()(x)
    if hidden:
        # Keras' default (Glorot) initialisation, like the mapping layers: the runs measured it so.
        x = spectral_norm_layer(layers.Dense(hidden, name="hidden"), spectral_norm)(x)
        x = layers.LeakyReLU(negative_slope=0.2)(x)
    # float32 even under mixed precision: the loss needs the logit's full range.
    logit = spectral_norm_layer(layers.Dense(1, kernel_initializer=dcgan_init(), name="logit", dtype="float32"),
                                spectral_norm)(x)
    return keras.Model(image, logit, name=name)
