"""The opt-in fast layers give Keras' numbers (outputs, every gradient, moving statistics), in
bfloat16 where their own path runs and exactly Keras' layer elsewhere; swapping them in and out
keeps the weights, and what is saved needs no gan_course to load."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers

from gan_course import precision
from gan_course.speed import fast_layers


@pytest.mark.parametrize(
    "x_shape,kernel,strides,padding",
    [((4, 14, 14, 8), 4, 2, "same"), ((3, 25, 25, 5), 4, 2, "same"), ((2, 9, 11, 3), 3, 1, "same"),
     ((2, 12, 12, 4), 4, 2, "valid"), ((2, 13, 10, 2), 3, (2, 1), "valid")],
)
def test_conv_kernel_gradient_matches_tensorflows(x_shape, kernel, strides, padding):
    rng = np.random.default_rng(0)
    x = tf.constant(rng.normal(size=x_shape), tf.float32)
    strides = (strides, strides) if isinstance(strides, int) else strides
    k = tf.Variable(rng.normal(size=(kernel, kernel, x_shape[-1], 6)), dtype=tf.float32)
    with tf.GradientTape() as tape:
        y = tf.nn.conv2d(x, k, list(strides), padding.upper())
        loss = tf.reduce_sum(tf.sin(y))
    expected = tape.gradient(loss, k)
    dy = tf.cos(y)  # dL/dy
    got = fast_layers.conv_kernel_gradient(x, dy, (kernel, kernel), strides, padding)
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-4, atol=1e-4)


def _layers(fast_cls, keras_cls, x_shape, **kwargs):
    """The fast layer and Keras' in bfloat16, and Keras' in float32 (the yardstick), one set of weights."""
    with precision.precision("mixed_bfloat16"):
        fast, stock = fast_cls(**kwargs), keras_cls(**kwargs)
    exact = keras_cls(**kwargs)
    for layer in (fast, stock, exact):
        layer.build(x_shape)
    weights = [w + 0.05 for w in fast.get_weights()]  # a non-zero bias too
    for layer in (fast, stock, exact):
        layer.set_weights(weights)
    return fast, stock, exact


def _outputs_and_gradients(layer, x):
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x)
        loss = tf.reduce_sum(tf.cast(y, tf.float32) ** 2)
    return [tf.cast(t, tf.float32).numpy() for t in [y, *tape.gradient(loss, [x, *layer.trainable_variables])]]


@pytest.mark.parametrize(
    "fast_cls,keras_cls,x_shape,kwargs",
    [
        (fast_layers.FastConv2D, layers.Conv2D, (8, 14, 14, 16), dict(filters=32, kernel_size=4, strides=2)),
        (fast_layers.FastConv2D, layers.Conv2D, (8, 28, 28, 1), dict(filters=16, kernel_size=4, strides=2)),
        (fast_layers.FastConv2DTranspose, layers.Conv2DTranspose, (8, 7, 7, 32),
         dict(filters=16, kernel_size=4, strides=2)),
        (fast_layers.FastConv2DTranspose, layers.Conv2DTranspose, (8, 14, 14, 16),
         dict(filters=1, kernel_size=4, strides=2, activation="tanh")),
    ],
)
def test_fast_convolutions_are_as_accurate_as_keras_in_bfloat16(fast_cls, keras_cls, x_shape, kwargs):
    fast, stock, exact = _layers(fast_cls, keras_cls, x_shape, padding="same", **kwargs)
    x = tf.cast(tf.random.stateless_normal(x_shape, (1, 2)), tf.bfloat16)
    assert fast._fast(x)
    truth = _outputs_and_gradients(exact, tf.cast(x, tf.float32))  # same inputs, float32 maths
    names = ["output", "input gradient", "kernel gradient", "bias gradient"]
    for name, got, keras_bf16, want in zip(names, _outputs_and_gradients(fast, x), _outputs_and_gradients(stock, x), truth):
        assert got.shape == want.shape, name
        # bfloat16 keeps 8 bits of mantissa; the fast path must be as close to float32 as Keras' own.
        fast_error, keras_error = np.abs(got - want).max(), np.abs(keras_bf16 - want).max()
        assert fast_error <= 2 * keras_error + 0.01 * np.abs(want).max(), (name, fast_error, keras_error)
    # The weight gradient comes from the forward-convolution kernel, not Conv2DBackpropFilter.
    fn = tf.function(lambda t: _outputs_and_gradients_graph(fast, t))
    ops = {op.type for op in fn.get_concrete_function(tf.TensorSpec(x_shape, tf.bfloat16)).graph.get_operations()}
    assert "Conv2DBackpropFilter" not in ops and "Conv2D" in ops


def _outputs_and_gradients_graph(layer, x):
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = tf.reduce_sum(tf.cast(layer(x), tf.float32) ** 2)
    return tape.gradient(loss, [x, *layer.trainable_variables])


def test_fast_convolutions_are_keras_in_float32():
    conv = fast_layers.FastConv2D(8, 4, strides=2, padding="same")
    x = tf.random.stateless_normal((2, 8, 8, 3), (0, 1))
    conv.build(x.shape)
    assert not conv._fast(x)  # float32: the native weight gradient is the faster one (measured)
    stock = layers.Conv2D(8, 4, strides=2, padding="same")
    stock.build(x.shape)
    stock.set_weights(conv.get_weights())
    np.testing.assert_array_equal(conv(x).numpy(), stock(x).numpy())


def test_fast_conv_supports_a_gradient_of_a_gradient():
    """A gradient penalty differentiates the input gradient again: the custom gradient must be
    differentiable itself."""
    fast, stock, _ = _layers(fast_layers.FastConv2D, layers.Conv2D, (4, 8, 8, 3), filters=4, kernel_size=4,
                             strides=2, padding="same")
    x = tf.cast(tf.random.stateless_normal((4, 8, 8, 3), (3, 4)), tf.bfloat16)

    def penalty_gradient(layer):
        with tf.GradientTape() as outer:
            with tf.GradientTape() as inner:
                inner.watch(x)
                score = tf.reduce_sum(tf.cast(layer(x), tf.float32) ** 2)
            slope = tf.reduce_sum(tf.cast(inner.gradient(score, x), tf.float32) ** 2)
        return outer.gradient(slope, layer.kernel)

    got, expected = penalty_gradient(fast), penalty_gradient(stock)
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=0.05, atol=0.02 * np.abs(expected.numpy()).max())


@pytest.mark.parametrize("policy", ["float32", "mixed_bfloat16"])
@pytest.mark.parametrize("shape", [(16, 7, 7, 8), (32, 5)])
def test_fused_batch_norm_matches_keras_batch_norm(shape, policy):
    """Same outputs, gradients and moving statistics as Keras' layer, in training and inference."""
    x = tf.constant(np.random.default_rng(0).normal(2.0, 3.0, shape).astype("float32"))
    keras_bn = layers.BatchNormalization(momentum=0.9, dtype=policy)
    fused_bn = fast_layers.FusedBatchNormalization(momentum=0.9, dtype=policy)
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


def test_fused_batch_norm_falls_back_when_synchronized():
    synced = fast_layers.FusedBatchNormalization(synchronized=True)
    x = np.random.default_rng(1).normal(size=(8, 4, 4, 3)).astype("float32")
    assert not synced._fusable(x, None)  # statistics across replicas need Keras' own path
    np.testing.assert_allclose(synced(x, training=True).numpy().mean(axis=(0, 1, 2)), 0.0, atol=1e-5)


def test_fused_batch_norm_uses_the_fused_kernel_in_graphs():
    layer = fast_layers.FusedBatchNormalization()
    layer.build((8, 4, 4, 3))
    fn = tf.function(lambda x: layer(x, training=True))
    ops = {op.type for op in fn.get_concrete_function(tf.TensorSpec((8, 4, 4, 3), tf.float32)).graph.get_operations()}
    assert "FusedBatchNormV3" in ops


def test_fast_dropout_drops_the_rounded_rate_and_keeps_the_expectation():
    layer = fast_layers.FastDropout(0.3, seed=3)
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
    layer = fast_layers.FastDropout(0.5, seed=0)
    x = tf.random.normal((16, 8, 8, 4))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x, training=True)
    grad = tape.gradient(y, x).numpy()
    mask = (y.numpy() != 0).astype("float32")
    np.testing.assert_allclose(grad, 2.0 * mask)  # rate 0.5: kept activations doubled


def test_fast_dropout_is_seeded_and_uses_the_cheap_random_bytes():
    x = np.ones((4, 8, 8, 16), "float32")
    a, b = fast_layers.FastDropout(0.3, seed=7), fast_layers.FastDropout(0.3, seed=7)
    np.testing.assert_array_equal(a(x, training=True).numpy(), b(x, training=True).numpy())
    fn = tf.function(lambda t: a(t, training=True))
    ops = {op.type for op in fn.get_concrete_function(tf.TensorSpec(x.shape)).graph.get_operations()}
    assert "Bitcast" in ops and "StatelessRandomUniformV2" not in ops  # bytes, not floats


@pytest.mark.parametrize("kwargs", [{"rate": 0.001}, {"rate": 0.3, "noise_shape": (None, 1, 1, 16)}])
def test_fast_dropout_falls_back_to_keras_where_bytes_do_not_fit(kwargs):
    layer = fast_layers.FastDropout(**kwargs, seed=1)
    assert not layer._fast()
    y = layer(np.ones((64, 8, 8, 16), "float32"), training=True).numpy()
    assert (y == 0).any() and abs(y.mean() - 1.0) < 0.05  # still dropout, Keras' exact rate


def test_swapping_fast_layers_in_and_out_keeps_weights_and_outputs():
    from gan_course import models

    g = models.dcgan_generator(8, (28, 28, 1), width=8)
    d = models.dcgan_discriminator((28, 28, 1), width=8)
    z = np.random.default_rng(0).normal(size=(4, 8)).astype("float32")
    for model, x in ((g, z), (d, g(z, training=False))):
        fast = fast_layers.use_fast_layers(model)
        kinds = {type(layer).__name__ for layer in fast.layers}
        assert "FusedBatchNormalization" in kinds and fast_layers.has_fast_layers(fast)
        stock = fast_layers.to_stock(fast)
        assert not fast_layers.has_fast_layers(stock)
        assert fast_layers.to_stock(model) is model  # nothing to swap
        for m in (fast, stock):
            np.testing.assert_allclose(m(x, training=False).numpy(), model(x, training=False).numpy(), atol=1e-5)


def test_a_gan_trained_with_fast_layers_saves_stock_keras(tmp_path):
    """saving.save_gan swaps the fast layers out: the files load without gan_course's layers."""
    from gan_course import models, saving, training

    g = fast_layers.use_fast_layers(models.dcgan_generator(8, (28, 28, 1), width=8))
    d = fast_layers.use_fast_layers(models.dcgan_discriminator((28, 28, 1), width=8))
    gan = training.DCGAN(g, d, seed=0)
    gan.compile()
    gan.train_step(np.random.default_rng(0).uniform(-1, 1, (8, 28, 28, 1)).astype("float32"))
    paths = saving.save_gan(gan, tmp_path)
    loaded = keras.saving.load_model(paths["generator"], safe_mode=True)
    assert all(type(layer).__module__.startswith("keras.") for layer in loaded.layers)
    z = np.random.default_rng(1).normal(size=(4, 8)).astype("float32")
    np.testing.assert_allclose(loaded(z, training=False).numpy(), g(z, training=False).numpy(), atol=1e-5)


def test_builders_use_keras_layers_and_the_fast_ones_come_only_from_use_fast_layers():
    from gan_course import models

    for model in (models.dcgan_discriminator((28, 28, 1), width=8), models.dcgan_generator(8, (28, 28, 1), width=8)):
        assert not fast_layers.has_fast_layers(model)
        assert fast_layers.has_fast_layers(fast_layers.use_fast_layers(model))


def test_every_fast_layer_names_the_keras_layer_saving_writes_instead():
    from gan_course import saving

    assert saving.to_stock is fast_layers.to_stock  # one function, defined by the core
    for fast in (fast_layers.FusedBatchNormalization, fast_layers.FastDropout, fast_layers.FastConv2D,
                 fast_layers.FastConv2DTranspose):
        assert issubclass(fast, fast.stock_layer) and fast.stock_layer.__module__.startswith("keras.")
