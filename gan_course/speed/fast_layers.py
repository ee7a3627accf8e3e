"""Keras layers with faster CPU kernels and the same maths: an explicit, opt-in speed-up.

The course's builders use Keras' own layers, so ``model.summary()`` shows what the lessons
teach and every saved ``.keras`` file loads with plain ``keras.saving.load_model``. To train
faster on a CPU, swap the layers in (``use_fast_layers``) and train; ``gan_course.saving``
swaps them out again (``to_stock``: each layer names the Keras layer it stands in for in
``stock_layer``) before anything is written, so a saved model never needs this package. The
weights are the same variables in the same order, so a ``BackupAndRestore`` checkpoint restores
into either version. ``python -m gan_course.bench`` measures the gain on
the machine at hand; use them in the default graph mode (``jit_compile=False``): under XLA,
Keras' own layers are the faster choice.

Each is a subclass of the Keras layer it replaces, with the same config, weights and results
(tests compare them), and falls back to the Keras layer wherever its trick does not apply:

- ``FusedBatchNormalization``: batch norm in one fused TensorFlow op instead of a dozen;
- ``FastDropout``: one random byte per activation instead of one random float;
- ``FastConv2D`` / ``FastConv2DTranspose``: in bfloat16, the weight gradient computed as a
  forward convolution, which CPU kernels run about twice as fast as their own weight-gradient
  kernel.
"""

from __future__ import annotations

import keras
from keras import layers

from gan_course.saving import swap_layers, to_stock

__all__ = [
    "FusedBatchNormalization",
    "FastDropout",
    "FastConv2D",
    "FastConv2DTranspose",
    "conv_kernel_gradient",
    "use_fast_layers",
    "to_stock",
    "has_fast_layers",
]


@keras.saving.register_keras_serializable(package="gan_course")
class FusedBatchNormalization(layers.BatchNormalization):
    """Keras' ``BatchNormalization`` computed by TensorFlow's fused kernel.

    Same maths, weights, config and moving statistics as the Keras layer (a test checks both
    give the same outputs and statistics), but one fused op per call instead of a dozen small
    ones (cheaper on CPU: see ``python -m gan_course.bench``), and it reads and writes 16-bit activations
    directly under mixed precision (its statistics are still float32). Cases the fused kernel
    does not cover (synchronised statistics, masks, axis other than the last, rank other
    than 2 or 4, a backend other than TensorFlow) fall back to the Keras layer.
    """

    stock_layer = layers.BatchNormalization  # what gan_course.saving writes in its place

    def _fusable(self, inputs, mask):
        return (
            keras.backend.backend() == "tensorflow"
            and mask is None
            and not self.synchronized
            and not self.renorm
            and self.scale
            and self.center
            and len(inputs.shape) in (2, 4)
            and self.axis in (-1, len(inputs.shape) - 1)
        )

    def call(self, inputs, training=None, mask=None):
        if not self._fusable(inputs, mask):
            return super().call(inputs, training=training, mask=mask)
        import tensorflow as tf

        x = inputs if len(inputs.shape) == 4 else inputs[:, None, None, :]  # 2-D: one "pixel"
        if x.dtype not in (tf.float16, tf.bfloat16, tf.float32):
            x = tf.cast(x, self.compute_dtype)
        gamma, beta = tf.cast(self.gamma, tf.float32), tf.cast(self.beta, tf.float32)
        if training and self.trainable:
            y, mean, variance = tf.compat.v1.nn.fused_batch_norm(
                x, gamma, beta, epsilon=self.epsilon, is_training=True
            )
            # The kernel returns the unbiased (n - 1) variance; Keras tracks the biased one.
            n = tf.cast(tf.size(x) // tf.shape(x)[-1], tf.float32)
            variance = variance * (n - 1.0) / tf.maximum(n, 1.0 + 1e-6)
            self.moving_mean.assign(self.moving_mean * self.momentum + mean * (1.0 - self.momentum))
            self.moving_variance.assign(self.moving_variance * self.momentum + variance * (1.0 - self.momentum))
        else:
            y, _, _ = tf.compat.v1.nn.fused_batch_norm(
                x, gamma, beta, mean=tf.cast(self.moving_mean, tf.float32),
                variance=tf.cast(self.moving_variance, tf.float32), epsilon=self.epsilon, is_training=False,
            )
        y = y if len(inputs.shape) == 4 else y[:, 0, 0, :]
        return tf.cast(y, self.compute_dtype)


@keras.saving.register_keras_serializable(package="gan_course")
class FastDropout(layers.Dropout):
    """Keras' ``Dropout`` with one random *byte* per activation instead of one random float.

    Dropout's cost on a CPU is its random numbers: Keras draws a float32 per activation (one
    Philox word each); here one 32-bit word gives four bytes, each compared with
    ``round(rate * 256)``. So the drop probability is ``rate`` rounded to a multiple of 1/256
    (``effective_rate``: 0.3 -> 77/256 = 0.3008) and kept activations are scaled by
    ``1 / (1 - effective_rate)``, which keeps every activation's expectation exact. Why: on a
    CPU, dropout's cost is its random numbers, and 16-bit arithmetic cannot speed that up. ``noise_shape``, rates that round to 0 or 1 and
    backends other than TensorFlow fall back to the Keras layer.
    """

    stock_layer = layers.Dropout  # what gan_course.saving writes in its place

    _LEVELS = 256  # one byte per activation

    @property
    def effective_rate(self) -> float:
        """The drop probability actually used: ``rate`` rounded to a multiple of 1/256."""
        return round(self.rate * self._LEVELS) / self._LEVELS

    def _fast(self):
        return (
            keras.backend.backend() == "tensorflow"
            and self.noise_shape is None
            and 0 < round(self.rate * self._LEVELS) < self._LEVELS
        )

    def call(self, inputs, training=False):
        if not (training and self.rate > 0 and self._fast()):
            return super().call(inputs, training=training)
        import tensorflow as tf

        threshold = round(self.rate * self._LEVELS)
        n = tf.size(inputs)
        words = tf.random.stateless_uniform(
            [(n + 3) // 4], seed=self.seed_generator.next(), minval=None, maxval=None, dtype=tf.uint32
        )
        random_bytes = tf.reshape(tf.bitcast(words, tf.uint8), [-1])[:n]  # 4 bytes per word
        keep = tf.reshape(random_bytes >= tf.constant(threshold, tf.uint8), tf.shape(inputs))
        scale = self._LEVELS / (self._LEVELS - threshold)
        return inputs * (tf.cast(keep, inputs.dtype) * tf.constant(scale, inputs.dtype))


def _on_gpu() -> bool:
    import tensorflow as tf

    return bool(tf.config.list_logical_devices("GPU"))


def _same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow's "same" padding (before, after) along one axis."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def conv_kernel_gradient(x, dy, kernel_size, strides, padding="same"):
    """dL/dK for ``y = conv2d(x, K, strides, padding)`` given ``dy = dL/dy`` (NHWC, no dilation).

    Every kernel tap k sums ``x[n, s*i + k, c] * dy[n, i, o]`` over the batch n and the output
    positions i: that is itself a convolution, with the channels c as its batch, the batch n as
    its input channels, dy as its kernel and the stride s as a dilation. Same numbers as
    TensorFlow's ``Conv2DBackpropFilter``, computed by the forward-convolution kernel.
    """
    import tensorflow as tf

    (kh, kw), (sh, sw) = kernel_size, strides
    if padding == "same":
        (top, bottom), (left, right) = _same_padding(x.shape[1], kh, sh), _same_padding(x.shape[2], kw, sw)
        x = tf.pad(x, [[0, 0], [top, bottom], [left, right], [0, 0]])
    channels_as_batch = tf.transpose(x, [3, 1, 2, 0])  # (c, H, W, n)
    dy_as_kernel = tf.transpose(dy, [1, 2, 0, 3])  # (h, w, n, o)
    taps = tf.nn.conv2d(channels_as_batch, dy_as_kernel, 1, "VALID", dilations=[sh, sw])  # (c, >=kh, >=kw, o)
    return tf.transpose(taps[:, :kh, :kw, :], [1, 2, 0, 3])  # (kh, kw, c, o)


class _BFloat16KernelGradient:
    """When the forward-convolution weight gradient is used: bfloat16 on a CPU only (in float32,
    and on GPUs, the native kernels are the faster ones)."""

    def _fast(self, inputs) -> bool:
        return (
            keras.backend.backend() == "tensorflow"
            and self.compute_dtype == "bfloat16"
            and self.data_format == "channels_last"
            and self.padding in ("same", "valid")
            and all(d == 1 for d in self.dilation_rate)
            and getattr(self, "groups", 1) == 1
            and len(inputs.shape) == 4
            and None not in inputs.shape[1:3]
            and not _on_gpu()
        )

    def _bias_and_activation(self, outputs):
        if self.use_bias:
            outputs = outputs + keras.ops.reshape(self.bias, (1, 1, 1, self.filters))
        return self.activation(outputs) if self.activation is not None else outputs


@keras.saving.register_keras_serializable(package="gan_course")
class FastConv2D(_BFloat16KernelGradient, layers.Conv2D):
    """Keras' ``Conv2D``; in bfloat16 on a CPU its weight gradient is ``conv_kernel_gradient``.

    Why: on a CPU with AVX512_BF16 but no AMX, oneDNN runs a convolution and its input
    gradient faster in bfloat16 than in float32, but its weight-gradient kernel no
    faster at all; as a forward convolution the same sum is cheaper. Everywhere else
    (float32, GPUs, dilation, groups) it is Keras' layer.
    """

    stock_layer = layers.Conv2D  # what gan_course.saving writes in its place

    def call(self, inputs):
        if not self._fast(inputs):
            return super().call(inputs)
        import tensorflow as tf

        strides, padding, kernel_size = list(self.strides), self.padding.upper(), self.kernel_size

        @tf.custom_gradient
        def conv(x, kernel):
            def grad(dy):
                dx = tf.raw_ops.Conv2DBackpropInput(
                    input_sizes=tf.shape(x), filter=kernel, out_backprop=dy, strides=[1, *strides, 1], padding=padding
                )
                return dx, conv_kernel_gradient(x, dy, kernel_size, strides, self.padding)

            return tf.nn.conv2d(x, kernel, strides, padding), grad

        return self._bias_and_activation(conv(tf.convert_to_tensor(inputs), tf.convert_to_tensor(self.kernel)))


@keras.saving.register_keras_serializable(package="gan_course")
class FastConv2DTranspose(_BFloat16KernelGradient, layers.Conv2DTranspose):
    """Keras' ``Conv2DTranspose``; in bfloat16 on a CPU its weight gradient is
    ``conv_kernel_gradient`` (a transposed convolution is the input gradient of a convolution,
    so its weight gradient is that convolution's, with x and dy swapped). See ``FastConv2D``."""

    stock_layer = layers.Conv2DTranspose  # what gan_course.saving writes in its place

    def _fast(self, inputs) -> bool:
        return super()._fast(inputs) and self.padding == "same" and self.output_padding is None

    def call(self, inputs):
        if not self._fast(inputs):
            return super().call(inputs)
        import tensorflow as tf

        strides, padding, kernel_size = list(self.strides), self.padding.upper(), self.kernel_size
        x = tf.convert_to_tensor(inputs)
        output_shape = tf.stack([tf.shape(x)[0], x.shape[1] * strides[0], x.shape[2] * strides[1], self.filters])

        @tf.custom_gradient
        def conv_transpose(x, kernel):
            def grad(dy):
                dx = tf.nn.conv2d(dy, kernel, strides, padding)
                return dx, conv_kernel_gradient(dy, x, kernel_size, strides, self.padding)

            return tf.nn.conv2d_transpose(x, kernel, output_shape, strides, padding), grad

        return self._bias_and_activation(conv_transpose(x, tf.convert_to_tensor(self.kernel)))


def _stock_to_fast():
    return {cls.stock_layer: cls for cls in (FusedBatchNormalization, FastDropout, FastConv2D, FastConv2DTranspose)}


def use_fast_layers(model: keras.Model) -> keras.Model:
    """A copy of ``model`` (Functional or Sequential) whose ``BatchNormalization``, ``Dropout``,
    ``Conv2D`` and ``Conv2DTranspose`` layers are this module's, with the same config and weights.
    ``to_stock`` (``gan_course.saving.to_stock``, re-exported here) turns it back."""
    mapping = _stock_to_fast()
    return swap_layers(model, lambda layer: mapping.get(type(layer), type(layer)))


def has_fast_layers(model: keras.Model) -> bool:
    """True when any layer of ``model`` is one of this module's."""
    fast = tuple(_stock_to_fast().values())
    return any(isinstance(layer, fast) for layer in model.layers)
