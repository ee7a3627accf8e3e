"""Training on several devices with TensorFlow's own ``tf.distribute`` strategies.

The course's GANs are ``keras.Model`` subclasses, so ``fit`` already runs their ``train_step``
on every replica. Three things make the result equal to one device with the whole batch:

1. each replica's losses are divided by the number of replicas before the gradient
   (``training.scale_for_replicas``), because the optimizer *sums* the replicas' gradients;
2. every replica draws the global batch of noise from the same seeded stream and keeps its
   slice (``training.sample_replica_noise``);
3. batch norm uses the statistics of the global batch (``models.batch_norm`` builds
   ``synchronized=True`` layers under a strategy).

Use it as::

    strategy = distributed.make_strategy("mirrored")   # all GPUs, or all logical CPUs
    with strategy.scope():
        generator, discriminator = ...                  # build models AND optimizers here
        gan = training.DCGAN(generator, discriminator); gan.compile()
    gan.fit(dataset_with_the_global_batch, epochs=...)

Several machines: set ``TF_CONFIG`` on each (cluster addresses and this worker's index) and
use ``make_strategy("multiworker")``; see the README section "Several GPUs or machines".

``python -m gan_course.speed.distributed`` trains the same GAN for a few steps on one device and on
two logical CPU devices and prints both loss sequences (what ``tests/test_distributed.py``
checks).
"""

from __future__ import annotations

import argparse
import json

__all__ = ["use_logical_cpus", "make_strategy", "one_vs_two_devices"]

STRATEGIES = ("default", "mirrored", "multiworker")


def use_logical_cpus(n: int) -> list[str]:
    """Split the CPU into ``n`` logical devices (to test multi-device code without GPUs).

    Must run before TensorFlow touches a device; afterwards it raises a RuntimeError that says so.
    """
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * n)
    except RuntimeError as err:
        raise RuntimeError(
            f"Could not split the CPU into {n} logical devices: TensorFlow has already initialised "
            "its devices in this process. Call use_logical_cpus() first thing, before any model "
            "or tensor is created (or run in a fresh process)."
        ) from err
    return [d.name for d in tf.config.list_logical_devices("CPU")]


def make_strategy(name: str = "default"):
    """A ``tf.distribute.Strategy`` by name.

    - ``"default"``: one device (TensorFlow's default strategy);
    - ``"mirrored"``: one replica per GPU, or per logical CPU when there is no GPU;
    - ``"multiworker"``: ``MultiWorkerMirroredStrategy``; each machine reads ``TF_CONFIG``.
    """
    import tensorflow as tf

    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        gpus = tf.config.list_logical_devices("GPU")
        devices = [d.name for d in (gpus or tf.config.list_logical_devices("CPU"))]
        return tf.distribute.MirroredStrategy(devices)
    if name == "multiworker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise ValueError(f"Unknown strategy {name!r}; choose one of {', '.join(STRATEGIES)}.")


MODELS = ("dcgan", "wgan-gp")


def _train(strategy, images, steps, batch_size, width, latent_dim, learning_rate, seed, model="dcgan"):
    import keras
    import tensorflow as tf

    from gan_course import models, training, wgan

    with strategy.scope():
        keras.utils.set_random_seed(seed)
        shape = images.shape[1:]
        generator = models.dcgan_generator(latent_dim, shape, width=width)
        # Plain SGD: unlike Adam, its step grows with the gradient, so a replica-scaling
        # mistake (a gradient n times too large) shows up in the losses.
        sgd = [keras.optimizers.SGD(learning_rate) for _ in range(2)]
        if model == "dcgan":
            # No dropout: its masks are drawn per replica and would differ from one device's.
            discriminator = models.dcgan_discriminator(shape, width=width, dropout=0.0)
            gan = training.DCGAN(generator, discriminator, seed=seed)
            gan.compile(d_optimizer=sgd[0], g_optimizer=sgd[1])
        elif model == "wgan-gp":
            # n_critic=1: with more, each replica splits its own half of the batch into critic
            # batches, a different (equally valid) grouping of the images than one device's.
            gan = wgan.WGAN(generator, wgan.wgan_critic(shape, width=width), n_critic=1, seed=seed)
            gan.compile(c_optimizer=sgd[0], g_optimizer=sgd[1])
        else:
            raise ValueError(f"Unknown model {model!r}; choose one of {', '.join(MODELS)}.")
    keys = [m.name for m in gan.metrics if m.name.endswith("loss")]
    dataset = tf.data.Dataset.from_tensor_slices(images[: steps * batch_size]).batch(batch_size, drop_remainder=True)

    class Record(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.losses = []
            self.seen = {key: 0.0 for key in keys}

        def on_train_batch_end(self, batch, logs=None):
            # Keras reports running means over the epoch; turn them back into per-step values.
            k = batch + 1
            step = {key: float(logs[key]) * k - self.seen[key] * (k - 1) for key in self.seen}
            self.seen = {key: float(logs[key]) for key in self.seen}
            self.losses.append(step)

    record = Record()
    gan.fit(dataset, epochs=1, verbose=0, callbacks=[record])
    return record.losses


def one_vs_two_devices(steps=4, batch_size=32, width=16, latent_dim=16, learning_rate=0.05, seed=0,
                       models=("dcgan",)):
    """Train each model on one device and on two logical CPUs (same global batch and seed);
    return both per-step loss sequences per model. Call it in a fresh process (see
    ``use_logical_cpus``)."""
    import tensorflow as tf

    from gan_course import data

    devices = use_logical_cpus(2)
    images = data.load_mnist("train", verbose=False).images
    args = (images, steps, batch_size, width, latent_dim, learning_rate, seed)
    result = {"global_batch": batch_size, "devices": devices[:2]}
    # One strategy object per process: a second MirroredStrategy over the same devices can
    # collide with the first one's collective ops.
    one, two = tf.distribute.OneDeviceStrategy(devices[0]), tf.distribute.MirroredStrategy(devices[:2])
    for model in models:
        result[model] = {"one_device": _train(one, *args, model=model), "two_devices": _train(two, *args, model=model)}
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gan_course.speed.distributed", description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=32, help="global batch")
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    args = parser.parse_args(argv)
    import os

    os.environ.setdefault("GAN_COURSE_OFFLINE", "1")
    result = one_vs_two_devices(steps=args.steps, batch_size=args.batch_size, models=args.models)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
