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


@pytest.mark.parametrize("policy", ["float32", "mixed_bfloat16"])
@pytest.mark.parametrize("shape", [(16, 7, 7, 8), (32, 5)])
def test_fused_batch_norm_matches_keras_batch_norm(shape, policy):
    """Same outputs, gradients and moving statistics as Keras' layer, in training and inference."""
    import tensorflow as tf

    x = tf.constant(np.random.default_rng(0).normal(2.0, 3.0, shape).astype("float32"))
    keras_bn = layers.BatchNormalization(momentum=0.9, dtype=policy)
    fused_bn = models.FusedBatchNormalization(momentum=0.9, dtype=policy)
    keras_bn.build(shape)
    fused_bn.build(shape)
    fused_bn.set_weights([w * 1.5 + 0.1 for w in keras_bn.get_weights()])  # not the trivial init
    keras_bn.set_weights(fused_bn.get_weights())
    tol = 1e-5 if policy == "float32" else 2e-2
    for training in (True, False):
        results = []
        for layer in (keras_bn, fused_bn):
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = layer(x, training=training)
                loss = tf.reduce_sum(tf.cast(y, "float32") ** 2) / y.shape.num_elements()
            results.append((y, tape.gradient(loss, [x, *layer.trainable_variables])))
        (y_keras, g_keras), (y_fused, g_fused) = results
        assert y_fused.dtype == y_keras.dtype == ("float32" if policy == "float32" else "bfloat16")
        np.testing.assert_allclose(np.float32(y_fused), np.float32(y_keras), atol=tol, rtol=tol)
        for a, b in zip(g_fused, g_keras):
            np.testing.assert_allclose(a.numpy(), b.numpy(), atol=tol, rtol=tol)
        np.testing.assert_allclose(fused_bn.moving_mean.numpy(), keras_bn.moving_mean.numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(fused_bn.moving_variance.numpy(), keras_bn.moving_variance.numpy(), rtol=1e-5)
    assert not np.allclose(fused_bn.moving_mean.numpy(), 0.0)  # the training call did update them


def test_batch_norm_is_the_fused_layer_and_falls_back_when_synchronized():
    assert isinstance(models.batch_norm(), models.FusedBatchNormalization)
    synced = models.batch_norm(synchronized=True)
    x = np.random.default_rng(1).normal(size=(8, 4, 4, 3)).astype("float32")
    assert not synced._fusable(x, None)  # statistics across replicas need Keras' own path
    np.testing.assert_allclose(synced(x, training=True).numpy().mean(axis=(0, 1, 2)), 0.0, atol=1e-5)


def test_fused_batch_norm_uses_the_fused_kernel_except_under_xla():
    """The fused kernel in graphs; Keras' own ops under XLA, where the fused kernel is slow on CPU."""
    import tensorflow as tf

    layer = models.FusedBatchNormalization()
    layer.build((8, 4, 4, 3))
    spec = tf.TensorSpec((8, 4, 4, 3), tf.float32)

    def op_types(jit_compile):
        fn = tf.function(lambda x: layer(x, training=True), jit_compile=jit_compile)
        return {op.type for op in fn.get_concrete_function(spec).graph.get_operations()}

    assert "FusedBatchNormV3" in op_types(jit_compile=False)
    assert "FusedBatchNormV3" not in op_types(jit_compile=True)


def test_fast_dropout_drops_the_rounded_rate_and_keeps_the_expectation():
    layer = models.FastDropout(0.3, seed=3)
    assert layer.effective_rate == 77 / 256  # 0.3 rounded to a multiple of 1/256
    x = np.ones((64, 14, 14, 32), "float32")  # 401,408 activations
    y = layer(x, training=True).numpy()
    kept = y != 0
    # Binomial standard deviation of the dropped fraction: sqrt(p (1 - p) / n) ~ 0.0007.
    assert abs((~kept).mean() - 77 / 256) < 0.004
    np.testing.assert_allclose(y[kept], 256 / 179, rtol=1e-6)  # kept values scaled by 1 / (1 - p)
    assert abs(y.mean() - 1.0) < 0.01  # expectation preserved
    assert (layer(x, training=True).numpy() != y).mean() > 0.3  # a new mask per call
    np.testing.assert_array_equal(layer(x, training=False).numpy(), x)  # identity at inference


def test_fast_dropout_gradient_is_the_same_mask_and_scale():
    import tensorflow as tf

    layer = models.FastDropout(0.5, seed=0)
    x = tf.random.normal((16, 8, 8, 4))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x, training=True)
    grad = tape.gradient(y, x).numpy()
    mask = (y.numpy() != 0).astype("float32")
    np.testing.assert_allclose(grad, 2.0 * mask)  # rate 0.5: kept activations doubled


def test_fast_dropout_is_seeded_and_uses_the_cheap_random_bytes():
    import tensorflow as tf

    x = np.ones((4, 8, 8, 16), "float32")
    a, b = models.FastDropout(0.3, seed=7), models.FastDropout(0.3, seed=7)
    np.testing.assert_array_equal(a(x, training=True).numpy(), b(x, training=True).numpy())
    fn = tf.function(lambda t: a(t, training=True))
    ops = {op.type for op in fn.get_concrete_function(tf.TensorSpec(x.shape)).graph.get_operations()}
    assert "Bitcast" in ops and "StatelessRandomUniformV2" not in ops  # bytes, not floats


@pytest.mark.parametrize("kwargs", [{"rate": 0.001}, {"rate": 0.3, "noise_shape": (None, 1, 1, 16)}])
def test_fast_dropout_falls_back_to_keras_where_bytes_do_not_fit(kwargs):
    layer = models.FastDropout(**kwargs, seed=1)
    assert not layer._fast()
    y = layer(np.ones((64, 8, 8, 16), "float32"), training=True).numpy()
    assert (y == 0).any() and abs(y.mean() - 1.0) < 0.05  # still dropout, Keras' exact rate


def test_fast_dropout_in_16_bit_and_through_saving(tmp_path):
    import keras

    from gan_course.speed import precision

    with precision.precision("mixed_bfloat16"):
        d = models.dcgan_discriminator((28, 28, 1), width=8)
    assert any(isinstance(layer, models.FastDropout) for layer in d.layers)
    x = np.random.default_rng(0).uniform(-1, 1, (8, 28, 28, 1)).astype("float32")
    assert np.isfinite(d(x, training=True).numpy()).all()
    d.save(tmp_path / "d.keras")
    loaded = keras.models.load_model(tmp_path / "d.keras")
    assert any(type(layer) is models.FastDropout for layer in loaded.layers)
    np.testing.assert_allclose(loaded(x, training=False).numpy(), d(x, training=False).numpy(), rtol=1e-2, atol=1e-3)


def test_dropout_before_leaky_relu_gives_the_same_numbers_as_after():
    """The discriminator drops before LeakyReLU (a graph-optimiser workaround); the maths is the
    usual order's, because LeakyReLU(c x) = c LeakyReLU(x) for every mask value c >= 0."""
    x = np.random.default_rng(0).normal(size=(8, 7, 7, 16)).astype("float32")
    leaky = layers.LeakyReLU(negative_slope=0.2)
    before = leaky(models.FastDropout(0.3, seed=5)(x, training=True)).numpy()
    after = models.FastDropout(0.3, seed=5)(leaky(x), training=True).numpy()
    np.testing.assert_allclose(before, after, rtol=1e-6)
    assert (before == 0).any() and (before < 0).any()  # both dropout and the leak are at work
    d = models.dcgan_discriminator((28, 28, 1), width=8)
    kinds = [type(layer).__name__ for layer in d.layers]
    assert kinds.index("FastDropout") == kinds.index("LeakyReLU") - 1
