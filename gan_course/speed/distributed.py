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

Who is the chief, and where each worker keeps its backup, is the core's ``gan_course.cluster``
(re-exported here); this module adds the strategies and what they need. The self-check that
trains the same GAN on one device and on two (``python -m gan_course.bench.distributed_check``)
is in ``gan_course.bench``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import keras

from gan_course.cluster import Worker, backup_dir, is_chief, worker_info  # noqa: F401  (re-exported)

__all__ = [
    "STRATEGIES",
    "Worker",
    "WorkerBackup",
    "average_logs_across_workers",
    "backup_callback",
    "backup_dir",
    "is_chief",
    "make_strategy",
    "shard_batches",
    "use_logical_cpus",
    "worker_info",
]

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
