"""Outputs folders: unwritable or full before training is a named error; a failed save keeps the
last good file; two runs on one folder cannot both write; SIGKILL then the same command resumes.
"""

import errno
import json
import os
import signal
import subprocess
import sys
import time
import types
from pathlib import Path

import keras
import numpy as np
import pytest

from gan_course import cli, paths, saving

ROOT = Path(__file__).resolve().parents[1]


def _read_only(folder, monkeypatch):
    """Make ``folder`` unwritable; as root (which ignores permissions) simulate what a user gets."""
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o555)
    try:
        (folder / "probe").touch()
    except PermissionError:
        return
    (folder / "probe").unlink()

    real = paths.tempfile.NamedTemporaryFile

    def refuse(*args, dir=None, **kwargs):
        if dir is not None and Path(dir) == folder:
            raise PermissionError(errno.EACCES, "Permission denied", str(folder))
        return real(*args, dir=dir, **kwargs)

    monkeypatch.setattr(paths.tempfile, "NamedTemporaryFile", refuse)


def test_unwritable_outputs_folder_is_named_before_training(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "ro"
    _read_only(folder, monkeypatch)
    try:
        with pytest.raises(paths.OutputFolderError, match="Cannot write to the outputs folder") as err:
            paths.check_writable(folder)
        assert str(folder) in str(err.value) and "--out" in str(err.value)
        monkeypatch.setenv("GAN_COURSE_OUTPUTS", str(folder))
        with pytest.raises(paths.OutputFolderError, match="GAN_COURSE_OUTPUTS"):
            paths.outputs_dir()  # a notebook's first cell stops here
        assert cli.main(["train", "--preset", "smoke", "--offline", "--out", str(folder)]) == 1
        assert "Cannot write to the outputs folder" in capsys.readouterr().err
    finally:
        folder.chmod(0o755)
    (tmp_path / "file").write_text("x")
    with pytest.raises(paths.OutputFolderError, match="Cannot create"):
        paths.check_writable(tmp_path / "file" / "out")


def test_nearly_full_disk_is_named_before_training(tmp_path, monkeypatch):
    monkeypatch.setattr(paths.shutil, "disk_usage", lambda p: types.SimpleNamespace(free=10 * 2**20))
    with pytest.raises(paths.OutputFolderError, match="Only 10 MB free") as err:
        paths.check_writable(tmp_path, min_free_mb=50)
    assert err.value.errno == errno.ENOSPC


def _fill_disk_half_way(monkeypatch, owner, name):
    """``owner.name(path)`` writes half its bytes, then fails as a full disk does."""
    real = getattr(owner, name)

    def full_disk(self, *args, **kwargs):
        real(self, *args, **kwargs)
        path = args[0] if args else kwargs.get("filepath")
        raw = Path(path).read_bytes()
        Path(path).write_bytes(raw[: len(raw) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(owner, name, full_disk)


def _tiny(seed):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    return model


def test_full_disk_during_save_keeps_the_previous_models(tmp_path, monkeypatch):
    gan = types.SimpleNamespace(generator=_tiny(0), discriminator=_tiny(1))
    saving.save_gan(gan, tmp_path)
    before = [w.copy() for w in saving.load_gan_parts(tmp_path)[0].get_weights()]
    newer = types.SimpleNamespace(generator=_tiny(2), discriminator=_tiny(3))
    _fill_disk_half_way(monkeypatch, keras.Model, "save")
    with pytest.raises(OSError, match="disk is full.*previous generator.keras is kept") as err:
        saving.save_gan(newer, tmp_path)
    assert err.value.errno == errno.ENOSPC
    monkeypatch.undo()
    generator, _ = saving.load_gan_parts(tmp_path)  # still loads, and is the previous one
    for a, b in zip(generator.get_weights(), before):
        np.testing.assert_array_equal(a, b)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["discriminator.keras", "generator.keras"]


class _Snapshots(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.after_epoch, self.at_start = {}, None

    def on_train_begin(self, logs=None):
        self.at_start = [w.copy() for w in self.model.get_weights()]

    def on_epoch_end(self, epoch, logs=None):
        self.after_epoch[epoch] = [w.copy() for w in self.model.get_weights()]


class _DiskFillsAt(keras.callbacks.Callback):
    def __init__(self, epoch, monkeypatch):
        super().__init__()
        self.epoch, self.monkeypatch = epoch, monkeypatch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:  # before the backup's save (callbacks run in list order)
            _fill_disk_half_way(self.monkeypatch, keras.Model, "save_weights")


def test_full_disk_during_backup_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    x, y = np.random.default_rng(0).standard_normal((32, 3)), np.zeros((32, 2))

    def model():
        m = _tiny(5)
        m.compile(keras.optimizers.SGD(0.1), "mse")
        return m

    first = _Snapshots()
    with pytest.raises(OSError) as err:
        model().fit(x, y, epochs=5, verbose=0, batch_size=8,
                    callbacks=[first, _DiskFillsAt(2, monkeypatch), saving.backup_callback(tmp_path)])
    monkeypatch.undo()
    second = _Snapshots()
    history = model().fit(x, y, epochs=5, verbose=0, batch_size=8,
                          callbacks=[saving.backup_callback(tmp_path), second])
    assert len(history.history["loss"]) == 3  # epochs 3, 4, 5: resumed after the last good backup (epoch 2)
    for restored, saved in zip(second.at_start, first.after_epoch[1]):
        np.testing.assert_array_equal(restored, saved)
    assert err.value.errno == errno.ENOSPC and "disk is full" in str(err.value) and "kept unchanged" in str(err.value)


_HOLDER = """
import sys, time
from gan_course import paths
with paths.lock_folder(sys.argv[1], what="lesson run (test)"):
    print("locked", flush=True)
    time.sleep(120)
"""


def test_second_run_on_a_folder_names_the_holder_and_exits(tmp_path, capsys):
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER, str(tmp_path)], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(paths.FolderInUseError) as err:
            with paths.lock_folder(tmp_path):
                pass
        assert f"process {holder.pid}" in str(err.value) and "lesson run (test)" in str(err.value)
        assert err.value.holder["pid"] == holder.pid
        assert cli.main(["train", "--preset", "smoke", "--offline", "--out", str(tmp_path)]) == 1
        assert f"in use by process {holder.pid}" in capsys.readouterr().err
        assert not (tmp_path / "backup").exists()  # the second run wrote nothing
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    with paths.lock_folder(tmp_path):  # the kernel released a killed holder's lock: nothing stale
        assert json.loads((tmp_path / paths.LOCK_NAME).read_text())["pid"] == os.getpid()


def test_sigkill_during_training_then_the_same_command_resumes(tmp_path):
    out = tmp_path / "run"
    command = [sys.executable, "-m", "gan_course", "train", "--preset", "smoke", "--offline", "--out", str(out)]
    env = {**os.environ, "GAN_COURSE_PRESET": "smoke"}
    run = subprocess.Popen(command + ["--epochs", "40"], cwd=ROOT, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 240
        while not (out / "grids" / "epoch_003.png").exists():  # so the backup holds epoch 2 at least
            assert run.poll() is None and time.time() < deadline, "the run ended before it could be killed"
            time.sleep(0.2)
    finally:
        run.send_signal(signal.SIGKILL)
        run.wait()
    killed_at = time.time()
    kept = sorted(p.name for p in (out / "grids").glob("epoch_*.png"))
    assert 3 <= len(kept) < 40
    metadata = json.loads((out / "backup" / "training_metadata.json").read_text())
    assert metadata["epoch"] >= 2
    target = len(kept) + 1
    assert cli.main(["train", "--preset", "smoke", "--offline", "--out", str(out), "--epochs", str(target)]) == 0
    grids = sorted((out / "grids").glob("epoch_*.png"))
    assert [p.name for p in grids] == [f"epoch_{i:03d}.png" for i in range(1, target + 1)]
    # Resumed, not restarted: the grids of the killed run were not drawn again.
    assert all(p.stat().st_mtime < killed_at for p in grids[:2])
    assert (out / "generator.keras").is_file()
