import numpy as np
import pytest
from keras import layers

from gan_course import models


def test_initial_size_rule():
    assert models.initial_size(28, 2) == 7
    assert models.initial_size(64, 4) == 4
    assert models.initial_size(100, 2) == 25


def test_initial_size_rejects_sizes_the_rule_cannot_reach():
    with pytest.raises(ValueError, match=r"28 / 2\*\*3 = 3.5") as err:
        models.initial_size(28, 3)
    assert "[0, 1, 2]" in str(err.value)  # says which choices work


@pytest.mark.parametrize("size,expected", [(28, 2), (32, 3), (64, 4), (100, 2), (96, 4)])
def test_default_upsamplings(size, expected):
    assert models.default_upsamplings(size) == expected


@pytest.mark.parametrize(
    "shape", [(28, 28, 1), (32, 32, 3), (64, 64, 1), (100, 100, 3), (16, 32, 1)], ids=lambda s: "x".join(map(str, s))
)
@pytest.mark.parametrize("upsampling", ["transpose", "upsample"])
def test_shapes_for_several_image_sizes(shape, upsampling):
    g = models.dcgan_generator(latent_dim=12, image_shape=shape, width=4, upsampling=upsampling)
    d = models.dcgan_discriminator(image_shape=shape, width=4)
    z = np.random.default_rng(0).standard_normal((3, 12)).astype("float32")
    images = g(z, training=False).numpy()
    assert images.shape == (3, *shape)
    assert np.abs(images).max() <= 1.0  # tanh
    assert d(images, training=False).shape == (3, 1)


def test_generator_is_widest_next_to_the_latent_vector():
    g = models.dcgan_generator(latent_dim=8, image_shape=(64, 64, 1), width=8)
    convs = [lyr.filters for lyr in g.layers if isinstance(lyr, layers.Conv2DTranspose)]
    reshape = next(lyr for lyr in g.layers if isinstance(lyr, layers.Reshape))
    assert reshape.target_shape == (4, 4, 64)
    assert convs == [32, 16, 8, 1]  # halves at each up-sampling, then the image


def test_discriminator_rules():
    d = models.dcgan_discriminator(image_shape=(64, 64, 3), width=8)
    convs = [lyr for lyr in d.layers if isinstance(lyr, layers.Conv2D)]
    assert [c.filters for c in convs] == [8, 16, 32, 64] and all(c.strides == (2, 2) for c in convs)
    # No batch norm straight after the input layer; LeakyReLU(0.2); a single logit, no sigmoid.
    assert not isinstance(d.layers[2], layers.BatchNormalization)
    assert all(lyr.negative_slope == pytest.approx(0.2) for lyr in d.layers if isinstance(lyr, layers.LeakyReLU))
    assert d.layers[-1].activation.__name__ == "linear"


def test_dcgan_weight_init(seeded):
    g = models.dcgan_generator(latent_dim=100, image_shape=(28, 28, 1), width=32)
    kernel = g.layers[1].kernel.numpy()  # the dense layer: 100 x 3136 numbers
    assert abs(kernel.mean()) < 0.001 and kernel.std() == pytest.approx(0.02, rel=0.05)


def test_bad_shapes_fail_clearly():
    with pytest.raises(ValueError, match="height, width, channels"):
        models.dcgan_generator(image_shape=(28, 28))
    with pytest.raises(ValueError, match="not a whole number"):
        models.dcgan_generator(image_shape=(28, 28, 1), n_upsamplings=3)
    with pytest.raises(ValueError, match="upsampling"):
        models.dcgan_generator(upsampling="pixelshuffle")


def test_dropout_before_leaky_relu_gives_the_same_numbers_as_after():
    """The discriminator drops before LeakyReLU (a graph-optimiser workaround); the maths is the
    usual order's, because LeakyReLU(c x) = c LeakyReLU(x) for every mask value c >= 0."""
    x = np.random.default_rng(0).normal(size=(8, 7, 7, 16)).astype("float32")
    leaky = layers.LeakyReLU(negative_slope=0.2)
    before = leaky(layers.Dropout(0.3, seed=5)(x, training=True)).numpy()
    after = layers.Dropout(0.3, seed=5)(leaky(x), training=True).numpy()
    np.testing.assert_allclose(before, after, rtol=1e-6)
    assert (before == 0).any() and (before < 0).any()  # both dropout and the leak are at work


def test_default_builders_use_only_keras_layers():
    """What model.summary() shows is what lesson 01 teaches: every layer is Keras' own."""
    from gan_course import wgan

    for model in (models.dcgan_generator(8, (28, 28, 1), width=8), models.dcgan_discriminator((28, 28, 1), width=8),
                  wgan.wgan_critic((28, 28, 1), width=8)):
        for layer in model.layers:
            assert type(layer).__module__.startswith("keras."), (model.name, layer.name, type(layer))


def test_mapping_layers_sit_between_z_and_the_projection(seeded):
    g = models.dcgan_generator(latent_dim=16, image_shape=(28, 28, 1), width=8, mapping=2, mapping_width=24)
    dense = [lyr for lyr in g.layers if isinstance(lyr, layers.Dense)]
    assert [d.name for d in dense[:3]] == ["mapping_1", "mapping_2", "w"]
    assert [d.units for d in dense] == [24, 24, 16, 7 * 7 * 16]
    assert isinstance(g.layers[2], layers.LeakyReLU)  # non-linear: a linear mapping would add nothing
    z = np.random.default_rng(0).standard_normal((3, 16)).astype("float32")
    assert g(z).shape == (3, 28, 28, 1)
    plain = models.dcgan_generator(latent_dim=16, image_shape=(28, 28, 1), width=8)
    assert g.count_params() - plain.count_params() == (16 * 24 + 24) + (24 * 24 + 24) + (24 * 16 + 16)
    with pytest.raises(ValueError, match="mapping is a number of layers"):
        models.dcgan_generator(latent_dim=16, image_shape=(28, 28, 1), width=8, mapping=-1)


def test_hidden_layer_before_the_discriminators_logit(seeded):
    d = models.dcgan_discriminator((28, 28, 1), width=8, hidden=32)
    hidden = d.get_layer("hidden")
    assert hidden.units == 32 and hidden.input.shape[-1] == 7 * 7 * 16
    assert isinstance(d.layers[-2], layers.LeakyReLU) and d.layers[-1].units == 1
    with pytest.raises(ValueError, match="hidden is the size"):
        models.dcgan_discriminator((28, 28, 1), width=8, hidden=2.5)
    sn = models.dcgan_discriminator((28, 28, 1), width=8, hidden=32, spectral_norm=True)
    assert sum(isinstance(lyr, layers.SpectralNormalization) for lyr in sn.layers) == 4  # 2 convs, hidden, logit
    assert models.dcgan_discriminator((28, 28, 1), width=8).count_params() + 7 * 7 * 16 * 31 + 32 + 32 == d.count_params()  # logit 784 -> 32 inputs


def _layer_types(model):
    return [type(lyr).__name__ for lyr in model.layers]


def test_default_networks_keep_their_layers_and_parameter_counts():
    """The sweep options default to lesson 01's networks, layer for layer (counts worked out by hand)."""
    g = models.dcgan_generator(latent_dim=8, image_shape=(28, 28, 1), width=4)
    # Dense 8 -> 7*7*8 (no bias) | BN(8) | ConvT 8 -> 4, 4x4 (no bias) | BN(4) | ConvT 4 -> 1 (+ bias)
    assert g.count_params() == 8 * 392 + 4 * 8 + 16 * 8 * 4 + 4 * 4 + (16 * 4 + 1) == 3761
    assert _layer_types(g) == ["InputLayer", "Dense", "Reshape", "BatchNormalization", "ReLU", "Conv2DTranspose",
                               "BatchNormalization", "ReLU", "Conv2DTranspose", "Activation"]
    d = models.dcgan_discriminator((28, 28, 1), width=4)
    # Conv 1 -> 4 (+ bias) | Conv 4 -> 8 (no bias) | BN(8) | Dense 7*7*8 -> 1
    assert d.count_params() == (16 * 4 + 4) + 16 * 4 * 8 + 4 * 8 + (392 + 1) == 1005
    assert _layer_types(d) == ["InputLayer", "Conv2D", "Dropout", "LeakyReLU", "Conv2D", "BatchNormalization",
                               "Dropout", "LeakyReLU", "Flatten", "Dense"]


def test_extra_blocks_add_stride_1_blocks_after_each_stage():
    g = models.dcgan_generator(latent_dim=8, image_shape=(28, 28, 1), width=4, extra_blocks=1)
    assert g.count_params() == 3761 + 16 * 4 * 4 + 4 * 4  # one Conv 4 -> 4 (no bias) + BN(4) after the hidden stage
    convs = [lyr for lyr in g.layers if isinstance(lyr, (layers.Conv2D, layers.Conv2DTranspose))]
    assert [(type(c).__name__, c.strides) for c in convs] == [
        ("Conv2DTranspose", (2, 2)), ("Conv2D", (1, 1)), ("Conv2DTranspose", (2, 2))]  # not after the image layer
    assert g.output_shape == (None, 28, 28, 1)
    d = models.dcgan_discriminator((28, 28, 1), width=4, extra_blocks=1)
    # + Conv 4 -> 4 + BN(4) after stage 1, Conv 8 -> 8 + BN(8) after stage 2 (batch norm in every stride-1 block)
    assert d.count_params() == 1005 + (16 * 16 + 16) + (16 * 64 + 32) == 2333
    assert [c.strides for c in d.layers if isinstance(c, layers.Conv2D)] == [(2, 2), (1, 1), (2, 2), (1, 1)]
    assert _layer_types(d).count("BatchNormalization") == 3 and _layer_types(d).count("Dropout") == 4
    with pytest.raises(ValueError, match="extra_blocks"):
        models.dcgan_generator(latent_dim=8, width=4, extra_blocks=-1)


def test_batch_norm_off_gives_each_layer_its_own_bias():
    g = models.dcgan_generator(latent_dim=8, image_shape=(28, 28, 1), width=4, use_batch_norm=False)
    assert "BatchNormalization" not in _layer_types(g)
    assert g.count_params() == 3761 - (4 * 8 + 4 * 4) + 392 + 4  # no BN; Dense and the hidden ConvT get biases
    d = models.dcgan_discriminator((28, 28, 1), width=4, use_batch_norm=False)
    assert "BatchNormalization" not in _layer_types(d)
    assert d.count_params() == 1005 - 4 * 8 + 8 == 981
    deep = models.dcgan_discriminator((28, 28, 1), width=4, use_batch_norm=False, extra_blocks=1, dropout=0.0)
    assert deep.count_params() == 981 + (16 * 16 + 4) + (16 * 64 + 8) and "Dropout" not in _layer_types(deep)


def test_batch_norm_is_synchronised_under_a_strategy():
    """Every switch builds through models.batch_norm, so a strategy gets synchronised statistics."""
    import tensorflow as tf

    with tf.distribute.OneDeviceStrategy("/cpu:0").scope():
        nets = [models.dcgan_generator(8, (28, 28, 1), width=4, extra_blocks=1),
                models.dcgan_discriminator((28, 28, 1), width=4, extra_blocks=1)]
    norms = [lyr for net in nets for lyr in net.layers if isinstance(lyr, layers.BatchNormalization)]
    assert len(norms) == 3 + 3 and all(n.synchronized for n in norms)
