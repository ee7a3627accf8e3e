"""Training on several devices or machines with TensorFlow's own ``tf.distribute`` strategies.

The course's GANs are ``keras.Model`` subclasses, so ``fit`` already runs their ``train_step``
on every replica. Three things make the result equal to one device with the whole batch:

1. each replica's losses are divided by the number of replicas before the gradient
   (``gan.scale_for_replicas``), because the optimizer *sums* the replicas' gradients;
2. every replica draws the global batch of noise from the same seeded stream and keeps its
   slice (``gan.sample_replica_noise``);
3. batch norm uses the statistics of the global batch (``models.batch_norm`` builds
   ``synchronized=True`` layers under a strategy).

Use it as::

    strategy = distributed.make_strategy("mirrored")   # all GPUs, or all logical CPUs
    with strategy.scope():
        generator, discriminator = ...                  # build models AND optimizers here
        gan = training.DCGAN(generator, discriminator); gan.compile()
    gan.fit(dataset_with_the_global_batch, epochs=...)

**Several machines** (``make_strategy("multiworker")``): every machine runs the same script
with ``TF_CONFIG`` naming the cluster and its own index (``worker_info`` reads it). Weights are
created on worker 0 (the *chief*) and copied to the others, each worker trains on its slice of
every global batch (``shard_batches``), and each step's gradients are
summed across machines. On top of TensorFlow, this module adds what a multi-worker run needs
from the course:

- ``average_logs_across_workers(gan)``: Keras 3 cannot average scalar logs across workers
  (tensorflow/tensorflow#72388); this makes ``fit`` report the global losses on every worker;
- ``is_chief()``: only the chief writes grids, GIF, metrics and saved models;
- ``backup_callback(run_dir)``: the chief backs up to ``run_dir/backup``, every other worker
  to its own temporary folder (``backup_dir``); after a crash the workers agree on the last
  epoch that all of them saved (``WorkerBackup``) and resume from it.

``python -m gan_course.speed.distributed`` trains the same GAN for a few steps on one device and on
two logical CPU devices and prints both loss sequences (what ``tests/test_distributed.py``
checks); with ``--strategy multiworker`` it trains in this process as one worker of the
cluster in ``TF_CONFIG`` (what ``tests/test_multiworker.py`` starts twice).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import keras

__all__ = [
    "STRATEGIES",
    "Worker",
    "WorkerBackup",
    "average_logs_across_workers",
    "backup_callback",
    "backup_dir",
    "is_chief",
    "make_strategy",
    "one_vs_two_devices",
    "shard_batches",
    "train_here",
    "use_logical_cpus",
    "worker_info",
]

STRATEGIES = ("default", "mirrored", "multiworker")
TF_CONFIG_EXAMPLE = (
    'TF_CONFIG=\'{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
    '"task": {"type": "worker", "index": 0}}\''
)


@dataclasses.dataclass(frozen=True)
class Worker:
    """This process's place in a cluster: ``rank`` of ``count`` workers (0 of 1 when alone).

    Rank 0 is the *chief*, the one that writes the outputs: the ``chief`` task when the
    cluster names one, else worker 0.
    """

    rank: int = 0
    count: int = 1

    @property
    def is_chief(self) -> bool:
        return self.rank == 0


def worker_info(tf_config: str | None = None) -> Worker:
    """Parse ``TF_CONFIG`` (or the given JSON string): which worker this process is, of how many.

    Without ``TF_CONFIG`` the process is alone: worker 0 of 1, the chief. A malformed value is
    an error that shows what it should look like.
    """
    raw = os.environ.get("TF_CONFIG", "") if tf_config is None else tf_config
    if not raw.strip():
        return Worker()
    try:
        config = json.loads(raw)
        cluster, task = config["cluster"], config["task"]
        task_type, index = str(task["type"]), int(task["index"])
        tasks = list(cluster[task_type])
    except (ValueError, KeyError, TypeError) as err:
        raise ValueError(
            f"TF_CONFIG is not a valid cluster description ({type(err).__name__}: {err}); got {raw!r}. "
            f"It should look like {TF_CONFIG_EXAMPLE}, with index 1 on the second machine."
        ) from None
    if task_type not in ("chief", "worker"):
        raise ValueError(f"TF_CONFIG task type {task_type!r}: the course's clusters have 'worker' (and optionally 'chief') tasks.")
    if not 0 <= index < len(tasks):
        raise ValueError(
            f"TF_CONFIG says this is {task_type} {index}, but the cluster lists {len(tasks)} {task_type}(s): "
            f"{tasks}. Use an index from 0 to {len(tasks) - 1}."
        )
    chiefs = len(cluster.get("chief", []))
    rank = index if task_type == "chief" else chiefs + index
    return Worker(rank=rank, count=chiefs + len(cluster.get("worker", [])))


def is_chief() -> bool:
    """True in the process that writes outputs: always on one machine, the chief in a cluster."""
    return worker_info().is_chief


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
    - ``"multiworker"``: ``MultiWorkerMirroredStrategy``; each machine reads ``TF_CONFIG``
      (create it first thing, before any model or tensor: TensorFlow starts its cluster
      runtime here and cannot once it has initialised its devices).
    """
    import tensorflow as tf

    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        gpus = tf.config.list_logical_devices("GPU")
        devices = [d.name for d in (gpus or tf.config.list_logical_devices("CPU"))]
        return tf.distribute.MirroredStrategy(devices)
    if name == "multiworker":
        worker_info()  # a malformed TF_CONFIG fails here, with an example, not deep inside TensorFlow
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise ValueError(f"Unknown strategy {name!r}; choose one of {', '.join(STRATEGIES)}.")


def shard_batches(strategy, make_batches, global_batch: int):
    """The dataset for ``fit``: on several workers, each replica gets its slice of every global batch.

    ``make_batches()`` returns the ``tf.data`` pipeline of *global* batches (full batches only),
    seeded, so that every worker builds the same batches in the same order. Replica ``r`` of
    the cluster keeps rows ``r * b`` to ``(r + 1) * b`` of each, with ``b = global_batch /
    replicas``: the same split as ``MirroredStrategy`` on one machine, so the cluster sees
    exactly the batches one process would.

    Under one worker the pipeline is returned as is (``fit`` splits it). Under several, each
    worker builds it with ``strategy.distribute_datasets_from_function`` and takes its rows:
    an explicit shard, where the pipeline runs as written. (``fit``'s automatic sharding of a
    plain dataset also gives consistent slices, but rewrites the pipeline first; with TensorFlow
    2.21 the rewritten pipeline started at the shuffle's second order, not its first.)
    """
    import tensorflow as tf

    if not _multi_worker(strategy):
        return make_batches()

    def this_worker(context):
        local = context.num_replicas_in_sync // context.num_input_pipelines  # replicas on this worker
        rows = context.get_per_replica_batch_size(global_batch)
        first = context.input_pipeline_id * local * rows

        def my_rows(x):
            return x[first : first + local * rows]

        batches = make_batches()
        if local == 1:  # one replica per machine: keep the batch count, which fit then knows
            return batches.map(lambda *batch: tf.nest.map_structure(my_rows, batch[0] if len(batch) == 1 else batch))

        def my_slices(*batch):  # several GPUs per machine: one slice per local replica, in turn
            mine = [tf.reshape(my_rows(x), [local, rows, *x.shape[1:]]) for x in batch]
            return tf.data.Dataset.from_tensor_slices(mine[0] if len(mine) == 1 else tuple(mine))

        return batches.flat_map(my_slices)

    return strategy.distribute_datasets_from_function(this_worker)


def _multi_worker(strategy) -> bool:
    import tensorflow as tf

    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) and worker_info().count > 1


def average_logs_across_workers(gan):
    """Make ``gan.fit`` log the global batch's losses under a multi-worker strategy; returns ``gan``.

    ``train_step`` returns scalars (the trackers' means). Under ``MultiWorkerMirroredStrategy``
    Keras 3 averages them across workers with a reduction over axis 0, which a scalar does not
    have, and ``fit`` stops with "Invalid reduction dimension 0 for input with 0 dimensions"
    (tensorflow/tensorflow#72388). Each value becomes a one-element vector, whose axis 0 that
    reduction removes: every worker then logs the mean over all workers, a scalar again.
    Anywhere else ``gan`` is returned unchanged.
    """
    import tensorflow as tf

    if not _multi_worker(gan.distribute_strategy):
        return gan
    step = gan.train_step

    def train_step(data):
        return {name: tf.reshape(value, [1]) for name, value in step(data).items()}

    gan.train_step = train_step
    return gan


# --------------------------------------------------------------------------- backups

# Keras' BackupAndRestore files (keras/src/callbacks/backup_and_restore.py): WorkerBackup reads
# the epoch and, to roll one epoch back, copies the previous pair over the latest.
_WEIGHTS, _METADATA, _PREVIOUS = "latest.weights.h5", "training_metadata.json", ".bkp"


def backup_dir(run_dir, worker: Worker | None = None) -> Path:
    """Where this worker keeps its backup: ``run_dir/backup`` on the chief (or alone); on any
    other worker its own temporary folder, so that only the chief writes into ``run_dir``.

    The temporary folder is named after the worker's rank and ``run_dir``'s absolute path, so a
    restarted worker finds its backup again (under ``$TMPDIR``, ``/tmp`` by default).
    """
    worker = worker or worker_info()
    run_dir = Path(run_dir).expanduser().resolve()
    if worker.is_chief:
        return run_dir / "backup"
    key = hashlib.sha1(str(run_dir).encode()).hexdigest()[:10]
    return Path(tempfile.gettempdir()) / f"gan-course-worker{worker.rank}-{run_dir.name}-{key}" / "backup"


def backup_callback(run_dir, delete_checkpoint: bool = False):
    """``saving.backup_callback(run_dir)`` on one machine; ``WorkerBackup`` on each worker of a cluster."""
    worker = worker_info()
    if worker.count == 1:
        from gan_course import saving

        return saving.backup_callback(run_dir, delete_checkpoint=delete_checkpoint)
    return WorkerBackup(backup_dir(run_dir, worker), delete_checkpoint=delete_checkpoint)


def _saved_epoch(folder: Path, previous: bool = False) -> int:
    path = folder / (_METADATA + (_PREVIOUS if previous else ""))
    try:
        return int(json.loads(path.read_text())["epoch"])
    except (OSError, ValueError, KeyError):
        return 0


def _all_gather(strategy, value: int) -> list[int]:
    """``value`` from every replica of every worker (a collective: all workers must call it)."""
    import tensorflow as tf

    def replica_fn():
        return tf.distribute.get_replica_context().all_gather(tf.constant([float(value)]), axis=0)

    gathered = tf.function(lambda: strategy.run(replica_fn))()
    return [int(v) for v in strategy.experimental_local_results(gathered)[0].numpy()]


def _agreed_epoch(epochs: list[int], here: Path) -> int:
    """The epoch every worker can resume from: the oldest one, when they differ by one epoch.

    A worker killed between two backups leaves the others one epoch ahead: they roll back to
    their previous backup (kept by ``double_checkpoint``). Further apart, the backups come from
    different runs, and nothing safe can be done automatically.
    """
    low, high = min(epochs), max(epochs)
    if high - low > 1:
        raise RuntimeError(
            f"The workers' backups are from different epochs {epochs} (worker 0 first; this worker's is in "
            f"{here}): a worker lost its backup folder or ran with another output folder. Start every worker "
            "again with --fresh (or delete every worker's backup folder) to train from scratch."
        )
    return low



class WorkerBackup(keras.callbacks.BackupAndRestore):
    """``BackupAndRestore`` for one worker of a cluster.

    Each worker backs up to its own folder (``backup_dir``) after every epoch and keeps the
    previous backup too. When ``fit`` starts, the workers exchange the epoch of their last
    backup and all resume from the same one (``resumed_from``); a worker that is one epoch
    ahead (the others died before saving) takes its previous backup.

    Training is synchronous, so at the end of an epoch every worker holds the same weights,
    optimizer state and noise seed: each worker's own backup restores exactly the chief's state.
    """

    def __init__(self, backup_dir, delete_checkpoint: bool = False):
        super().__init__(str(backup_dir), double_checkpoint=True, delete_checkpoint=delete_checkpoint)
        self.folder = Path(backup_dir)
        self.resumed_from = None

    def on_train_begin(self, logs=None):
        mine = _saved_epoch(self.folder)
        target = _agreed_epoch(_all_gather(self.model.distribute_strategy, mine), self.folder)
        if mine != target:
            if target == 0:  # another worker never finished an epoch: everyone starts over
                shutil.rmtree(self.folder, ignore_errors=True)
            elif _saved_epoch(self.folder, previous=True) == target:  # one epoch ahead: step back
                for name in (_WEIGHTS, _METADATA):
                    shutil.copyfile(self.folder / (name + _PREVIOUS), self.folder / name)
            else:
                raise RuntimeError(f"No backup of epoch {target} in {self.folder}; start every worker again with --fresh.")
        self.resumed_from = target
        super().on_train_begin(logs)


# --------------------------------------------------------------------------- the checks

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
    average_logs_across_workers(gan)
    keys = [m.name for m in gan.metrics if m.name.endswith("loss")]

    def batches():
        dataset = tf.data.Dataset.from_tensor_slices(images[: steps * batch_size])
        if shuffle:  # seeded, as the CLI's: a worker with another seed trains on other images.
            # One order (not one per iterator): fit may open the dataset a different number of
            # times in one process than on a cluster before its first epoch.
            dataset = dataset.shuffle(steps * batch_size, seed=seed, reshuffle_each_iteration=False)
        return dataset.batch(batch_size, drop_remainder=True)

    dataset = shard_batches(strategy, batches, batch_size)

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


def train_here(strategy_name="multiworker", steps=4, batch_size=32, width=16, latent_dim=16, learning_rate=0.05,
               seed=0, models=MODELS):
    """Train each model for ``steps`` steps of the global batch (shuffled by ``seed``) under the
    named strategy, as this process's part of the cluster in ``TF_CONFIG``; return the losses
    this worker logged per step (the global batch's, on every worker)."""
    from gan_course import data

    strategy = make_strategy(strategy_name)  # before any tensor: it starts the cluster runtime
    worker = worker_info()
    images = data.load_mnist("train", verbose=False).images
    result = {"strategy": strategy_name, "rank": worker.rank, "workers": worker.count,
              "replicas": strategy.num_replicas_in_sync, "global_batch": batch_size, "seed": seed}
    for model in models:
        result[model] = _train(strategy, images, steps, batch_size, width, latent_dim, learning_rate, seed,
                               model=model, shuffle=True)
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gan_course.speed.distributed", description=__doc__.splitlines()[0])
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
