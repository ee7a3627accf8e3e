"""Two logical CPU devices must train like one device with the same global batch and seed.

Runs in a fresh process: TensorFlow can only split the CPU before it initialises its devices.
"""

import json
import os
import subprocess
import sys

import pytest

# Per-step losses agree to float32 round-off when replica scaling, noise slicing and
# synchronised batch norm are right. Each mistake is orders of magnitude above this: no loss
# scaling gives a difference of about 40 after 4 SGD steps, unsynchronised batch norm about 0.02.
TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def losses():
    env = dict(os.environ, GAN_COURSE_OFFLINE="1")
    out = subprocess.run(
        [sys.executable, "-m", "gan_course.bench.distributed_check", "--steps", "4", "--batch-size", "32"],
        capture_output=True, text=True, env=env, timeout=600, check=False,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


MODELS = {"dcgan": ("d_loss", "g_loss"), "dcgan-r1": ("d_loss", "g_loss"), "wgan-gp": ("c_loss", "g_loss")}


def test_two_devices_really_were_used(losses):
    assert len(losses["devices"]) == 2 and losses["devices"][0] != losses["devices"][1]
    for model in MODELS:
        assert len(losses[model]["one_device"]) == len(losses[model]["two_devices"]) == 4


@pytest.mark.parametrize("model", MODELS)
def test_two_devices_match_one_device(losses, model):
    # For WGAN-GP this includes the gradient penalty, computed per replica on its own samples.
    run = losses[model]
    for step, (one, two) in enumerate(zip(run["one_device"], run["two_devices"])):
        for key in MODELS[model]:
            assert abs(one[key] - two[key]) < TOLERANCE, (model, step, key, one[key], two[key])


@pytest.mark.parametrize("model", MODELS)
def test_training_moved_the_losses(losses, model):
    # Guards against a comparison that passes because nothing trained.
    key = MODELS[model][0]
    first, last = losses[model]["one_device"][0], losses[model]["one_device"][-1]
    assert abs(first[key] - last[key]) > 0.05


def test_strategy_names_are_checked():
    from gan_course import cluster
    from gan_course.speed import distributed

    with pytest.raises(ValueError, match="mirrored"):
        distributed.make_strategy("horovod")
    with pytest.raises(ValueError, match="gan_course.speed.distributed"):  # the core trains on one device
        cluster.OneProcess.make_strategy("mirrored")
    # speed builds on the core's notion of a worker; it does not keep a second one
    assert distributed.worker_info is cluster.worker_info and distributed.backup_dir is cluster.backup_dir


# --------------------------------------------------------------------------- clusters, without one

CLUSTER = {"cluster": {"worker": ["host1:12345", "host2:12345"]}, "task": {"type": "worker", "index": 1}}


def test_tf_config_names_this_worker_and_bad_ones_say_how_to_fix_them():
    from gan_course import cluster

    assert cluster.worker_info("") == cluster.Worker(rank=0, count=1)
    worker = cluster.worker_info(json.dumps(CLUSTER))
    assert (worker.rank, worker.count, worker.is_chief) == (1, 2, False)
    with_chief = {"cluster": {"chief": ["a:1"], "worker": ["b:1"]}, "task": {"type": "worker", "index": 0}}
    assert cluster.worker_info(json.dumps(with_chief)) == cluster.Worker(rank=1, count=2)
    with pytest.raises(ValueError, match="index 1 on the second machine"):
        cluster.worker_info('{"cluster": {"worker": ["a:1"]}}')  # no "task"
    with pytest.raises(ValueError, match="from 0 to 1"):
        cluster.worker_info(json.dumps({**CLUSTER, "task": {"type": "worker", "index": 2}}))


def test_only_the_chief_backs_up_into_the_run_folder(tmp_path, monkeypatch):
    from gan_course import cluster

    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    run = tmp_path / "run"
    assert cluster.backup_dir(run, cluster.Worker(0, 2)) == run / "backup"
    other = cluster.backup_dir(run, cluster.Worker(1, 2))
    assert run not in other.parents and other == cluster.backup_dir(run, cluster.Worker(1, 2))
    assert other != cluster.backup_dir(tmp_path / "another_run", cluster.Worker(1, 2))


@pytest.mark.parametrize(
    ("trained", "gathered", "runs"),
    [(2, [2, 2], 1), (2, [2, 1], 2), (2, [2, 3], 1), (1, [1, 0], 3), (2, [2, 0], None)],
    ids=["same", "this-worker-ahead", "other-ahead", "other-never-saved", "too-far-apart"],
)
def test_worker_backups_resume_from_the_epoch_every_worker_saved(tmp_path, monkeypatch, trained, gathered, runs):
    # This process backs up `trained` of 3 epochs; `gathered` fakes every worker's last backup.
    import keras
    import numpy as np

    from gan_course.speed import distributed

    x = np.ones((8, 2), "float32")
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(0.01), "mse")
    model.fit(x, x[:, :1], epochs=trained, verbose=0, callbacks=[distributed.WorkerBackup(tmp_path / "backup")])
    monkeypatch.setattr(distributed, "_all_gather", lambda strategy, mine: [mine, *gathered[1:]])
    again = distributed.WorkerBackup(tmp_path / "backup")
    if runs is None:
        with pytest.raises(RuntimeError, match="--fresh"):
            model.fit(x, x[:, :1], epochs=3, verbose=0, callbacks=[again])
        return
    history = model.fit(x, x[:, :1], epochs=3, verbose=0, callbacks=[again])
    assert again.resumed_from == min(gathered) and len(history.history["loss"]) == runs
