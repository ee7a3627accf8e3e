"""Generator EMA: draw samples from a moving average of the generator's weights.

A GAN's generator never settles: each step moves it to answer the discriminator's latest move,
so the weights circle around a good point instead of sitting on it. Averaging the weights over
the last few hundred steps lands nearer that point, and the averaged generator's samples are
visibly cleaner, at the cost of one extra copy of G and one multiply-add per weight per step.

After every generator update (Karras et al. 2017, "Progressive Growing of GANs", appendix A.1;
Yazici et al. 2018, "The Unusual Effectiveness of Averaging in GAN Training", eq. 2):

    w_ema <- beta * w_ema + (1 - beta) * w

with ``w_ema`` starting at the generator's initial weights. After k updates with a constant
``beta`` this is ``w_ema_k = beta^k w_0 + (1 - beta) sum_{i=1..k} beta^(k - i) w_i``: recent
weights count most, and a weight k steps back counts ``beta^k`` as much as the newest.

The average is never trained: only sampling uses it. ``TwoPlayerGAN(..., ema=0.999)`` keeps one
(``gan.ema``) and then draws, scores, saves and plots from ``gan.sampling_generator``.

Batch norm needs one more step. Its moving mean and variance describe the activations of the
network that computed them; the averaged weights produce different activations (batch norm makes
a layer's output blind to its weights' scale, so the live weights can grow and turn while the
average of them does not), and the live generator's statistics do not fit the average. Copying
them can turn the averaged generator's samples blank while the live generator draws digits. So
the average keeps statistics of its own, measured on its own activations each step, as Izmailov
et al. 2018 ("Averaging Weights Leads to Wider Optima", arXiv:1803.05407, sec. 3.2) recompute them
for averaged weights.
"""

from __future__ import annotations

import keras
from keras import ops

__all__ = ["ema_decay", "update_average", "GeneratorEMA"]


def ema_decay(updates, decay: float = 0.999, warmup: bool = True):
    """The beta used for update number ``updates`` (0 for the first).

    Without warm-up it is ``decay``. With warm-up it is ``min(decay, (1 + t) / (10 + t))``, the
    schedule of TensorFlow's ``ExponentialMovingAverage(num_updates=t)``: 0.1 at the first
    update, 0.5 at t = 8, 0.9 at t = 80, ``decay`` from t = 9 / (1 - decay) - 10 on
    (8990 steps for 0.999). Why: the average starts at the untrained generator, and with
    beta = 0.999 that random start would still weigh 37% after 1000 steps, a whole short
    CPU run; with the warm-up the average follows the generator closely at first and only
    slowly starts to remember further back.
    """
    beta = ops.convert_to_tensor(decay, dtype="float32")
    if not warmup:
        return beta
    t = ops.cast(updates, "float32")
    return ops.minimum(beta, (1.0 + t) / (10.0 + t))


def update_average(average_weights, weights, beta) -> None:
    """``a <- beta * a + (1 - beta) * w`` for each pair (a, w), in place."""
    for a, w in zip(average_weights, weights):
        b = ops.cast(beta, a.dtype)
        a.assign(b * a + (1.0 - b) * ops.cast(w, a.dtype))


class GeneratorEMA(keras.layers.Layer):
    """An exponential moving average of a generator's weights, kept as a model of its own.

    Args:
        generator: the model to average; ``self.average`` is a copy of it (same layers, same
            starting weights), which only ``update`` changes.
        decay: beta in ``w_ema <- beta * w_ema + (1 - beta) * w``; 0.999 as in
            Karras et al. 2017 (a memory of about 1 / (1 - beta) = 1000 updates).
        warmup: ramp beta up from 0.1 over the first updates (see ``ema_decay``).

    ``update(generator, inputs)`` averages the trainable weights. Batch norm's moving mean and
    variance are then measured on the average itself: the average runs on ``inputs`` (the batch of
    noise the generator's step used) and each batch norm layer's statistics move towards the mean
    and variance of the activations it sees, with the layer's own momentum, as in training (see
    the module docstring for why). Other non-trainable weights, and batch norm's statistics when
    ``inputs`` is not given or the generator is not a functional model, are copied from the
    generator, as StyleGAN2-ADA copies its buffers (its generator has no batch norm).

    A ``Layer``, so its weights (the average and the update count) are part of the GAN's own:
    ``BackupAndRestore`` saves and restores them with everything else.
    """

    def __init__(self, generator: keras.Model, decay: float = 0.999, warmup: bool = True, **kwargs):
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"decay must be in [0, 1) (0.999 is usual), got {decay!r}")
        kwargs.setdefault("name", "generator_ema")
        super().__init__(**kwargs)
        self.decay = float(decay)
        self.warmup = bool(warmup)
        self.average = keras.models.clone_model(generator)
        self.average.set_weights(generator.get_weights())
        # Never trained: no optimizer sees it, and its batch norm always uses the moving statistics.
        self.average.trainable = False
        self.updates = self.add_weight(shape=(), initializer="zeros", dtype="int64", trainable=False, name="updates")
        self.batch_norms, self.activations = _batch_norm_inputs(self.average)
        self.built = True

    def beta(self):
        """The beta the next ``update`` will use."""
        return ema_decay(self.updates, self.decay, self.warmup)

    def update(self, generator: keras.Model, inputs=None) -> None:
        """One step of the average, after one update of ``generator`` on ``inputs``."""
        live, averaged = generator.weights, self.average.weights
        if len(live) != len(averaged):
            raise ValueError(f"{generator.name} has {len(live)} weights, its average {len(averaged)}: "
                             "average the generator the EMA was made from.")
        beta = self.beta()
        trainable = [(a, w) for a, w in zip(averaged, live) if w.trainable]
        update_average([a for a, _ in trainable], [w for _, w in trainable], beta)
        measured = set()
        if inputs is not None and self.activations is not None:
            measured = self.measure_statistics(inputs)
        for a, w in zip(averaged, live):
            if not w.trainable and id(a) not in measured:
                a.assign(w)
        self.updates.assign_add(1)

    def measure_statistics(self, inputs) -> set:
        """Move each batch norm layer's moving mean and variance towards the mean and variance of
        the average's own activations on ``inputs`` (``m <- momentum * m + (1 - momentum) * batch``,
        as ``BatchNormalization`` does in training). Returns the ids of the variables it set."""
        features = self.activations(inputs, training=False)
        if not isinstance(features, (list, tuple)):
            features = [features]
        measured = set()
        for layer, x in zip(self.batch_norms, features):
            axis = layer.axis % len(x.shape)
            mean, variance = ops.moments(ops.cast(x, "float32"), [i for i in range(len(x.shape)) if i != axis])
            m = layer.momentum
            for stat, batch in ((layer.moving_mean, mean), (layer.moving_variance, variance)):
                stat.assign(m * stat + (1.0 - m) * ops.cast(batch, stat.dtype))
                measured.add(id(stat))
        return measured


def _batch_norm_inputs(model: keras.Model):
    """(batch norm layers, a model from ``model``'s inputs to each one's input), or ([], None)
    when ``model`` has no batch norm or is not a functional model (then nothing is measured)."""
    norms = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    if not norms:
        return [], None
    try:  # a subclassed model has no graph of layers to read the inputs from
        return norms, keras.Model(model.inputs, [layer.input for layer in norms], name=f"{model.name}_norm_inputs")
    except (AttributeError, ValueError, TypeError):
        return [], None
