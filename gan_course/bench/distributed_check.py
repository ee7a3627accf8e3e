"""The distributed self-check: the same GAN trained on one device and on two, or on a cluster.

``python -m gan_course.bench.distributed_check`` trains each model for a few steps on one device
and on two logical CPU devices (``MirroredStrategy``), with the same global batch and seed, and
prints both per-step loss sequences as JSON: ``tests/test_distributed.py`` checks that they agree
to float32 round-off. With ``--strategy multiworker`` it trains in this process as one worker of
the cluster in ``TF_CONFIG`` (``tests/test_multiworker.py`` starts two and compares them with one
process). Plain SGD and no dropout, so any difference comes from how the work is split.

The strategies themselves are ``gan_course.speed.distributed``; this module only checks them.
"""

from __future__ import annotations

import argparse
import json
import os

import keras

from gan_course.speed import distributed

__all__ = ["MODELS", "one_vs_two_devices", "train_here", "main"]

MODELS = ("dcgan", "dcgan-r1", "wgan-gp")


def _train(strategy, images, steps, batch_size, width, latent_dim, learning_rate, seed, model="dcgan",
           shuffle=False):
    import tensorflow as tf

    from gan_course import models, training, wgan

    with strategy.scope():
        keras.utils.set_random_seed(seed)
        shape = images.shape[1:]
        generator = models.dcgan_generator(latent_dim, shape, width=width)
        # Plain SGD: unlike Adam, its step grows with the gradient, so a replica-scaling
        # mistake (a gradient n times too large) shows up in the losses.
        sgd = [keras.optimizers.SGD(learning_rate) for _ in range(2)]
        if model in ("dcgan", "dcgan-r1"):
            # No dropout: its masks are drawn per replica and would differ from one device's.
            discriminator = models.dcgan_discriminator(shape, width=width, dropout=0.0)
            # dcgan-r1: the fast recipe's lazy R1, which a strategy turns into R1 at every step.
            r1 = {"r1_gamma": 1.0, "r1_every": 4} if model == "dcgan-r1" else {}
            gan = training.DCGAN(generator, discriminator, seed=seed, **r1)
            gan.compile(d_optimizer=sgd[0], g_optimizer=sgd[1])
        elif model == "wgan-gp":
            # n_critic=1: with more, each replica splits its own half of the batch into critic
            # batches, a different (equally valid) grouping of the images than one device's.
            gan = wgan.WGAN(generator, wgan.wgan_critic(shape, width=width), n_critic=1, seed=seed)
            gan.compile(c_optimizer=sgd[0], g_optimizer=sgd[1])
        else:
            raise ValueError(f"Unknown model {model!r}; choose one of {', '.join(MODELS)}.")
    distributed.average_logs_across_workers(gan)
    keys = [m.name for m in gan.metrics if m.name.endswith("loss")]

    def batches():
        dataset = tf.data.Dataset.from_tensor_slices(images[: steps * batch_size])
        if shuffle:  # seeded, as the CLI's: a worker with another seed trains on other images.
            # One order (not one per iterator): fit may open the dataset a different number of
            # times in one process than on a cluster before its first epoch.
            dataset = dataset.shuffle(steps * batch_size, seed=seed, reshuffle_each_iteration=False)
        return dataset.batch(batch_size, drop_remainder=True)

    dataset = distributed.shard_batches(strategy, batches, batch_size)

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
    ``distributed.use_logical_cpus``)."""
    import tensorflow as tf

    from gan_course import data

    devices = distributed.use_logical_cpus(2)
    images = data.load_mnist("train", verbose=False).images
    args = (images, steps, batch_size, width, latent_dim, learning_rate, seed)
    result = {"global_batch": batch_size, "devices": devices[:2]}
    # One strategy object per process: a second MirroredStrategy over the same devices can
    # collide with the first one's collective ops.
    one, two = tf.distribute.OneDeviceStrategy(devices[0]), tf.distribute.MirroredStrategy(devices[:2])
    for model in models:
        result[model] = {"one_device": _train(one, *args, model=model), "two_devices": _train(two, *args, model=model)}
    return result


def train_here(strategy_name="multiworker", steps=4, batch_size=32, width=16, latent_dim=16, learning_rate=0.05,
               seed=0, models=MODELS):
    """Train each model for ``steps`` steps of the global batch (shuffled by ``seed``) under the
    named strategy, as this process's part of the cluster in ``TF_CONFIG``; return the losses
    this worker logged per step (the global batch's, on every worker)."""
    from gan_course import data

    strategy = distributed.make_strategy(strategy_name)  # before any tensor: it starts the cluster runtime
    worker = distributed.worker_info()
    images = data.load_mnist("train", verbose=False).images
    result = {"strategy": strategy_name, "rank": worker.rank, "workers": worker.count,
              "replicas": strategy.num_replicas_in_sync, "global_batch": batch_size, "seed": seed}
    for model in models:
        result[model] = _train(strategy, images, steps, batch_size, width, latent_dim, learning_rate, seed,
                               model=model, shuffle=True)
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gan_course.bench.distributed_check",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=32, help="global batch")
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--strategy", choices=("default", "multiworker"),
                        help="train in this process under this strategy (TF_CONFIG names the cluster) "
                             "instead of comparing one device with two logical CPUs")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault("GAN_COURSE_OFFLINE", "1")
    if args.strategy:
        result = train_here(args.strategy, steps=args.steps, batch_size=args.batch_size, seed=args.seed,
                            models=args.models)
    else:
        result = one_vs_two_devices(steps=args.steps, batch_size=args.batch_size, seed=args.seed, models=args.models)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
