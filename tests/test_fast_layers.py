"""The fast convolutions give Keras' numbers: outputs and every gradient, in bfloat16 where
their own path runs, and exactly Keras' layer elsewhere."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers

from gan_course.speed import fast_layers, precision


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


def test_generator_with_fast_layers_saves_and_loads(tmp_path):
    from gan_course import models

    with precision.precision("mixed_bfloat16"):
        g = models.dcgan_generator(8, (28, 28, 1), width=8)
    kinds = {type(layer).__name__ for layer in g.layers}
    assert {"FastConv2DTranspose", "FusedBatchNormalization"} <= kinds
    g.save(tmp_path / "g.keras")
    loaded = keras.models.load_model(tmp_path / "g.keras")
    z = np.random.default_rng(0).normal(size=(4, 8)).astype("float32")
    assert type(loaded.layers[-2]) is fast_layers.FastConv2DTranspose  # the last is the tanh
    np.testing.assert_allclose(loaded(z, training=False).numpy(), g(z, training=False).numpy(), atol=1e-6)
