"""Two worker processes on this machine, a real ``MultiWorkerMirroredStrategy`` cluster.

Each worker is a subprocess with its own ``TF_CONFIG`` (TensorFlow reads it when the strategy
starts its cluster runtime), one CPU thread pool and the smoke preset. Ports are picked free,
every wait is bounded, and every process is killed in a ``finally`` whatever happens.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gan_course.bench.multiworker import free_ports

# The tolerance of tests/test_distributed.py (one device against two logical CPUs): float32
# round-off. A worker training on other images is orders of magnitude above it.
TOLERANCE = 1e-4
MODELS = {"dcgan": ("d_loss", "g_loss"), "wgan-gp": ("c_loss", "g_loss")}
STEPS = 4
TIMEOUT = 300  # seconds for one run of the whole cluster; CI's runs take a fraction of it


def worker_env(tmp_path, rank=None, ports=()):
    """One CPU thread pool per process, offline, smoke preset; ``TF_CONFIG`` for worker ``rank``."""
    env = dict(
        os.environ,
        GAN_COURSE_PRESET="smoke",
        GAN_COURSE_OFFLINE="1",
        CUDA_VISIBLE_DEVICES="",
        TF_NUM_INTRAOP_THREADS="1",
        TF_NUM_INTEROP_THREADS="1",
        OMP_NUM_THREADS="1",
        MPLBACKEND="Agg",
        TMPDIR=str(tmp_path),  # where non-chief workers keep their backup
    )
    env.pop("TF_CONFIG", None)
    if rank is not None:
        cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
        env["TF_CONFIG"] = json.dumps({"cluster": cluster, "task": {"type": "worker", "index": rank}})
    return env


class Processes:
    """Start commands as subprocesses (output to files); always kill them on exit."""

    def __init__(self, logs: Path):
        self.logs = logs
        self.procs = []

    def start(self, name, args, env):
        log = open(self.logs / f"{name}.log", "w")  # noqa: SIM115 (closed in __exit__)
        proc = subprocess.Popen([sys.executable, *args], env=env, stdout=log, stderr=subprocess.STDOUT)
        proc.name, proc.log = name, log
        self.procs.append(proc)
        return proc

    def wait(self, timeout=TIMEOUT):
        end = time.monotonic() + timeout
        for proc in self.procs:
            try:
                proc.wait(timeout=max(1.0, end - time.monotonic()))
            except subprocess.TimeoutExpired:
                pytest.fail(f"{proc.name} still running after {timeout} s:\n{self.output(proc.name)[-3000:]}")
        return {proc.name: proc.returncode for proc in self.procs}

    def output(self, name):
        return (self.logs / f"{name}.log").read_text()

    def kill(self, proc):
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            finally:
                proc.log.close()


def last_json(text):
    # TensorFlow may log to stderr (the same file) after the result line.
    return json.loads(next(line for line in reversed(text.splitlines()) if line.startswith("{")))


def harness(strategy, seed=0, models=MODELS):
    return ["-m", "gan_course.bench.distributed_check", "--strategy", strategy, "--steps", str(STEPS),
            "--seed", str(seed), "--models", *models]


def run_cluster(tmp_path, name, seed_of_worker_1=0, models=MODELS, with_one_process=False):
    """The harness on two workers (and, if asked, on one process at the same time)."""
    logs = tmp_path / name
    logs.mkdir()
    ports = free_ports(2)
    with Processes(logs) as procs:
        for rank, seed in enumerate((0, seed_of_worker_1)):
            procs.start(f"worker{rank}", harness("multiworker", seed, models), worker_env(tmp_path, rank, ports))
        if with_one_process:
            procs.start("one", harness("default", 0, models), worker_env(tmp_path))
        codes = procs.wait()
        for proc, code in codes.items():
            assert code == 0, f"{proc} exited with {code}:\n{procs.output(proc)[-3000:]}"
        return {proc: last_json(procs.output(proc)) for proc in codes}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return run_cluster(tmp_path_factory.mktemp("multiworker"), "same_seed", with_one_process=True)


def differences(one, chief, keys):
    return [abs(a[key] - b[key]) for a, b in zip(one, chief) for key in keys]


def test_two_workers_formed_one_cluster(runs):
    for rank in (0, 1):
        run = runs[f"worker{rank}"]
        assert (run["rank"], run["workers"], run["replicas"]) == (rank, 2, 2)
    assert runs["one"]["replicas"] == 1
    for model in MODELS:
        assert len(runs["worker0"][model]) == len(runs["one"][model]) == STEPS


@pytest.mark.parametrize("model", MODELS)
def test_two_workers_match_one_process(runs, model):
    # Same global batch (each worker trains on its half) and seed: the chief logs the losses
    # of one process, step by step; for WGAN-GP the penalty is computed per worker.
    chief, one = runs["worker0"][model], runs["one"][model]
    assert max(differences(one, chief, MODELS[model])) < TOLERANCE, (model, one, chief)


@pytest.mark.parametrize("model", MODELS)
def test_every_worker_logs_the_global_losses(runs, model):
    assert max(differences(runs["worker0"][model], runs["worker1"][model], MODELS[model])) < TOLERANCE


@pytest.mark.parametrize("model", MODELS)
def test_training_moved_the_losses(runs, model):
    # Guards against a comparison that passes because nothing trained.
    key = MODELS[model][0]
    assert abs(runs["one"][model][0][key] - runs["one"][model][-1][key]) > 0.05


def test_a_worker_with_another_seed_fails_the_comparison(runs, tmp_path):
    # Weights and the noise seed are copied from the chief when the strategy creates them, so
    # the seed that still differs is the data order: worker 1 trains on other images.
    mismatched = run_cluster(tmp_path, "other_seed", seed_of_worker_1=1, models=["dcgan"])
    gap = max(differences(runs["one"]["dcgan"], mismatched["worker0"]["dcgan"], MODELS["dcgan"]))
    print(f"largest per-step loss difference with worker 1 on seed 1: {gap:.4g}")
    assert gap > 100 * TOLERANCE


# --------------------------------------------------------------------------- the CLI on a cluster

EPOCHS = 5
CHIEF_OUTPUTS = {"samples.png", "losses.png", "training.gif", "metrics.json", "history.csv",
                 "generator.keras", "discriminator.keras", "grids", "backup"}


def saved_epoch(backup):
    try:
        return json.loads((backup / "training_metadata.json").read_text())["epoch"]
    except (OSError, ValueError, KeyError):
        return 0


def train_command(out):
    return ["-m", "gan_course", "train", "--strategy", "multiworker", "--epochs", str(EPOCHS), "--out", str(out)]


def test_cli_killed_worker_resumes_from_last_backup(tmp_path):
    out = tmp_path / "run"
    chief_backup = out / "backup"

    def saved_epochs():
        worker_backups = list(tmp_path.glob("gan-course-worker1-*/backup"))
        return {"chief": saved_epoch(chief_backup), "worker1": saved_epoch(worker_backups[0]) if worker_backups else 0}

    # 1. Start both workers; kill worker 1 once both have backed up an epoch.
    logs = tmp_path / "first"
    logs.mkdir()
    ports = free_ports(2)
    with Processes(logs) as procs:
        workers = [procs.start(f"worker{r}", train_command(out), worker_env(tmp_path, r, ports)) for r in (0, 1)]
        deadline = time.monotonic() + TIMEOUT
        while min(saved_epochs().values()) < 1:
            assert all(p.poll() is None for p in workers), procs.output("worker0")[-3000:] + procs.output("worker1")[-3000:]
            assert time.monotonic() < deadline, "no backup after the first epoch"
            time.sleep(0.05)
        procs.kill(workers[1])
        # What happens next to the chief: it waits for worker 1 in the next step's collective.
        # Restart both, as on a real cluster.
        procs.kill(workers[0])
    worker_backup = next(tmp_path.glob("gan-course-worker1-*/backup"))
    saved = saved_epochs()  # the chief may be one epoch ahead: it saved, worker 1 died first
    assert 1 <= min(saved.values()) and max(saved.values()) < EPOCHS, f"not killed mid-run: {saved}"
    assert not (out / "metrics.json").exists()

    # 2. Restart both with the same command (new ports): training resumes, nothing is lost.
    logs = tmp_path / "second"
    logs.mkdir()
    ports = free_ports(2)
    with Processes(logs) as procs:
        for r in (0, 1):
            procs.start(f"worker{r}", train_command(out), worker_env(tmp_path, r, ports))
        codes = procs.wait()
        chief_log, worker_log = procs.output("worker0"), procs.output("worker1")
    assert codes == {"worker0": 0, "worker1": 0}, chief_log[-3000:] + worker_log[-3000:]

    resumed = min(saved.values())  # the last epoch that both workers had backed up
    first_epoch_line = next(line for line in chief_log.splitlines() if line.startswith("Epoch "))
    assert first_epoch_line == f"Epoch {resumed + 1}/{EPOCHS}", (saved, first_epoch_line)
    assert f"Epoch {resumed + 1}/{EPOCHS}" in worker_log

    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["epochs"] == EPOCHS and len(metrics["history"]["d_loss"]) == EPOCHS
    assert sorted(p.name for p in (out / "grids").iterdir()) == [f"epoch_{e:03d}.png" for e in range(1, EPOCHS + 1)]
    assert saved_epoch(chief_backup) == saved_epoch(worker_backup) == EPOCHS

    # Only the chief's outputs are in the outputs folder; worker 1 wrote only its own backup.
    assert {p.name for p in out.iterdir() if not p.name.startswith(".")} == CHIEF_OUTPUTS
    assert {p.name for p in worker_backup.iterdir()} >= {"latest.weights.h5", "training_metadata.json"}
    assert "metrics.json" not in worker_log and "done. The chief (worker 0) writes" in worker_log


# --------------------------------------------------------------------------- the benchmark

def test_benchmark_times_two_workers_against_one_process(tmp_path):
    from gan_course.bench import multiworker

    out = tmp_path / "multiworker.json"
    multiworker.main(["--rounds", "1", "--steps", "2", "--warmup", "1", "--width", "4", "--batch-size", "8",
                      "--out", str(out)])
    result = json.loads(out.read_text())
    one, two = result["runs"]["one_process"][0], result["runs"]["two_workers"][0]
    assert (one["workers"], one["replicas"]) == (1, 1) and (two["workers"], two["replicas"]) == (2, 2)
    assert one["steps"] == two["steps"] == 2
    ratio = result["two_workers_images_per_s"] / result["one_process_images_per_s"]
    assert result["two_workers_over_one_process"] == pytest.approx(ratio, rel=1e-9) and ratio > 0
