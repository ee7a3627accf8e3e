"""Where this process trains: alone, or as one worker of a cluster that ``TF_CONFIG`` describes.

The core needs only to know *who writes*: on one machine the process does; in a cluster only the
chief does, so several workers never write the same grid, model or metrics file
(``callbacks.GANMonitor`` asks ``is_chief``). ``worker_info`` reads that from ``TF_CONFIG``, the
variable TensorFlow's multi-worker strategy reads too; ``backup_dir`` says where each worker keeps
its backup.

``OneProcess`` is how ``python -m gan_course train`` places a run on its own: one process on its
default device. Training on several devices or machines is ``gan_course.speed.distributed``,
which builds on this module and offers the same functions (``make_strategy``, ``worker_info``,
``shard_batches``, ``average_logs_across_workers``, ``backup_dir``, ``backup_callback``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
from pathlib import Path

__all__ = ["Worker", "worker_info", "is_chief", "backup_dir", "OneProcess", "TF_CONFIG_EXAMPLE"]

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


class OneProcess:
    """One process on its default device: the placement of a run without ``gan_course.speed``.

    The same six functions as ``gan_course.speed.distributed``, for the one case they all agree
    on: TensorFlow's default strategy, the data pipeline as it is, the logs as ``fit`` makes them,
    and ``saving``'s backup in ``backup_dir(run_dir)``.
    """

    strategies = ("default",)
    worker_info = staticmethod(worker_info)
    backup_dir = staticmethod(backup_dir)

    @staticmethod
    def make_strategy(name: str = "default"):
        if name != "default":
            raise ValueError(
                f"Strategy {name!r} trains on several devices or machines: that is gan_course.speed.distributed "
                "(python -m gan_course train --strategy ... passes it)."
            )
        import tensorflow as tf

        return tf.distribute.get_strategy()

    @staticmethod
    def shard_batches(strategy, make_batches, global_batch: int):
        return make_batches()

    @staticmethod
    def average_logs_across_workers(gan):
        return gan

    @staticmethod
    def backup_callback(run_dir, delete_checkpoint: bool = False):
        from gan_course import saving

        return saving.SafeBackupAndRestore(str(backup_dir(run_dir)), delete_checkpoint=delete_checkpoint)
