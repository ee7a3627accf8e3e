"""The dataset registry: routes, offline fallback without hanging, bad folders, and the loaders."""

import os
import time

import numpy as np
import pytest

from gan_course import data, datasets, renderers


@pytest.fixture
def small_registry(monkeypatch, tmp_path):
    """A private cache, no network, no user folders, and offline renders of 40 images."""
    monkeypatch.setenv("GAN_COURSE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("GAN_COURSE_OFFLINE", "1")
    monkeypatch.setenv("KAGGLEHUB_CACHE", str(tmp_path / "kagglehub"))
    for name in datasets.DATASETS:
        monkeypatch.delenv(datasets.env_var(name), raising=False)
    for name, spec in list(datasets.DATASETS.items()):
        monkeypatch.setitem(datasets.DATASETS, name, datasets.dataclasses.replace(spec, offline_count=40))
    return tmp_path


def test_registry_has_the_lessons_datasets():
    assert {"lego", "anime", "celeba"} <= set(datasets.DATASETS)
    assert datasets.DATASETS["lego"].color_mode == "grayscale"
    assert datasets.DATASETS["celeba"].crop == "center"
    assert datasets.env_var("lego") == "GAN_COURSE_DATA_LEGO"
    for spec in datasets.DATASETS.values():
        assert spec.url.startswith("https://www.kaggle.com/datasets/") and 2000 <= spec.offline_count <= 5000


def test_offline_fallback_renders_once_and_says_so(small_registry, capsys):
    info = datasets.dataset_folder("lego")
    out = capsys.readouterr().out
    assert info.source == "offline" and info.synthetic
    assert "SYNTHETIC" in info.message and "GAN_COURSE_DATA_LEGO" in info.message and "Rendering" in out
    assert renderers.folder_is_complete(info.folder, 40)
    again = datasets.dataset_folder("lego")
    assert again.folder == info.folder and "Rendering" not in capsys.readouterr().out


def test_no_network_fails_fast_without_offline_flag(small_registry, monkeypatch):
    monkeypatch.delenv("GAN_COURSE_OFFLINE")
    calls = []
    monkeypatch.setattr(data, "network_answers", lambda host, timeout: calls.append(host) or False)
    start = time.perf_counter()
    info = datasets.dataset_folder("anime", verbose=False, download=True)
    assert time.perf_counter() - start < 30  # it renders 40 faces; it does not wait on a socket
    assert calls == [datasets.KAGGLE_HOST] and info.source == "offline" and "does not answer" in info.message
    with pytest.raises(data.DataError, match="does not answer"):
        datasets.dataset_folder("anime", source="kaggle")


def test_offline_flag_blocks_kaggle(small_registry):
    with pytest.raises(data.DataError, match="GAN_COURSE_OFFLINE"):
        datasets.dataset_folder("lego", source="kaggle")


def _kaggle_copy(root, version, complete):
    """A folder laid out as kagglehub 1.0 leaves it: versions/<n>/..., and <n>.complete once finished."""
    base = root / "kagglehub" / "datasets" / "splcher" / "animefacedataset"
    images = base / "versions" / str(version) / "images"
    imgs, labels = renderers.render_faces(3, size=20)
    renderers.write_image_folder(imgs, labels, renderers.HAIR_COLOURS["anime"], images)
    if complete:
        (base / f"{version}.complete").touch()
    return images


def test_cached_kaggle_copy_is_used_without_network(small_registry, monkeypatch):
    images = _kaggle_copy(small_registry, 3, complete=True)
    info = datasets.dataset_folder("anime", verbose=False)
    assert info.source == "kaggle" and not info.synthetic and info.folder == images


def test_kagglehub_marks_a_finished_download_where_we_look():
    # The marker the registry trusts is kagglehub's own: read from its cache module, not guessed.
    from kagglehub import cache
    from kagglehub.handle import parse_dataset_handle

    handle = parse_dataset_handle("splcher/animefacedataset/versions/3")
    marker = cache._get_completion_marker_filepath(handle)
    assert marker.endswith(os.path.join("datasets", "splcher", "animefacedataset", "3.complete"))
    assert cache.get_cached_path(handle).endswith(os.path.join("splcher", "animefacedataset", "versions", "3"))


def test_interrupted_kaggle_download_is_not_a_cached_copy(small_registry, capsys):
    _kaggle_copy(small_registry, 4, complete=False)  # images on disk, but no completion marker
    info = datasets.dataset_folder("anime")
    assert info.source == "offline" and info.synthetic
    assert "interrupted download" in info.message and "versions/4" in info.message
    finished = _kaggle_copy(small_registry, 3, complete=True)  # an older finished version is fine
    assert datasets.dataset_folder("anime", verbose=False).folder == finished


@pytest.fixture
def fake_kagglehub(monkeypatch, small_registry):
    """Network 'answers'; kagglehub.dataset_download records its calls instead of downloading."""
    import kagglehub

    calls = []

    def download(handle, *args, **kwargs):
        calls.append(handle)
        return str(_kaggle_copy(small_registry, 7, complete=True).parent)

    monkeypatch.delenv("GAN_COURSE_OFFLINE")
    monkeypatch.setattr(data, "network_answers", lambda host, timeout: True)
    monkeypatch.setattr(kagglehub, "dataset_download", download)
    return calls


def test_the_preset_decides_whether_auto_downloads_the_full_archive(fake_kagglehub, monkeypatch, capsys):
    monkeypatch.setenv("GAN_COURSE_PRESET", "cpu")
    info = datasets.dataset_folder("anime")
    assert fake_kagglehub == [] and info.source == "offline"
    assert "'cpu' preset" in info.message and "about 400 MB" in info.message and "download=True" in info.message
    monkeypatch.setenv("GAN_COURSE_PRESET", "gpu")
    info = datasets.dataset_folder("anime")
    out = capsys.readouterr().out
    assert fake_kagglehub == ["splcher/animefacedataset"] and info.source == "kaggle"
    # The size and how to cancel are printed before the download starts.
    assert "about 400 MB" in out and "Ctrl-C" in out and out.index("Ctrl-C") < out.index("anime: Kaggle")


def test_download_true_overrides_the_preset_and_ctrl_c_falls_back(fake_kagglehub, monkeypatch):
    import kagglehub

    monkeypatch.setenv("GAN_COURSE_PRESET", "cpu")
    assert datasets.dataset_folder("anime", download=True, verbose=False).source == "kaggle"

    def cancelled(handle, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(kagglehub, "dataset_download", cancelled)
    for version in (7,):
        (datasets._kaggle_cache_root() / "datasets" / "splcher" / "animefacedataset" / f"{version}.complete").unlink()
    info = datasets.dataset_folder("anime", download=True, verbose=False)
    assert info.source == "offline" and "cancelled (Ctrl-C)" in info.message
    with pytest.raises(data.DataError, match="cancelled"):
        datasets.dataset_folder("anime", source="kaggle")


def test_user_folder_from_env_and_argument(small_registry, monkeypatch):
    folder = small_registry / "mine"
    imgs, labels = renderers.render_bricks(5, size=20)
    renderers.write_image_folder(imgs, labels, renderers.BRICK_SHAPES, folder)
    monkeypatch.setenv("GAN_COURSE_DATA_LEGO", str(folder))
    info = datasets.dataset_folder("lego", verbose=False)
    assert (info.source, info.folder, info.synthetic) == ("folder", folder, False)
    monkeypatch.delenv("GAN_COURSE_DATA_LEGO")
    assert datasets.dataset_folder("lego", source=str(folder), verbose=False).source == "folder"


def test_bad_folder_and_bad_names_are_clear_errors(small_registry, monkeypatch):
    with pytest.raises(data.DataError, match="does not exist"):
        datasets.dataset_folder("lego", source=str(small_registry / "nowhere"))
    empty = small_registry / "empty"
    empty.mkdir()
    with pytest.raises(data.DataError, match="holds no images"):
        datasets.dataset_folder("lego", source=str(empty))
    monkeypatch.setenv("GAN_COURSE_DATA_LEGO", str(small_registry / "gone"))
    with pytest.raises(data.DataError, match="does not exist"):
        datasets.dataset_folder("lego")
    with pytest.raises(ValueError, match="Registered"):
        datasets.dataset_folder("mnist-but-bigger")
    with pytest.raises(ValueError, match="source must be"):
        datasets.dataset_folder("lego", source="kagle")


def test_incomplete_render_is_redone(small_registry):
    folder = datasets.offline_folder("celeba")
    (folder / "render_complete.json").unlink()
    assert datasets.offline_folder("celeba", verbose=False) == folder
    assert renderers.folder_is_complete(folder, 40)


def test_a_larger_complete_render_is_reused(small_registry):
    big = datasets.offline_folder("lego", count=30)
    assert datasets.offline_folder("lego", count=12, verbose=False) == big


_ASK_AT_ONCE = """
import sys, time
from pathlib import Path
from gan_course import datasets
print("ready", flush=True)
while not Path(sys.argv[1]).exists():
    time.sleep(0.005)
print(datasets.offline_folder("lego", count=200), flush=True)
"""


def test_two_processes_asking_at_once_render_the_folder_once(tmp_path):
    """Two lessons (or two test workers) asking for the same offline folder at the same moment:
    one renders it, the other waits and takes the finished folder (not both writing one folder)."""
    import subprocess
    import sys

    env = {**os.environ, "GAN_COURSE_CACHE": str(tmp_path / "cache"), "GAN_COURSE_OFFLINE": "1"}
    go = tmp_path / "go"
    procs = [subprocess.Popen([sys.executable, "-c", _ASK_AT_ONCE, str(go)], env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    try:
        for proc in procs:
            assert proc.stdout.readline().strip() == "ready", proc.communicate(timeout=60)[1][-3000:]
        go.touch()  # both look for the folder now
        outs = [proc.communicate(timeout=300) for proc in procs]
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()
    assert all(proc.returncode == 0 for proc in procs), [err[-3000:] for _, err in outs]
    printed = "".join(out for out, _ in outs)
    assert printed.count("Rendering") == 1, printed
    folders = {out.strip().splitlines()[-1] for out, _ in outs}
    assert len(folders) == 1 and renderers.folder_is_complete(folders.pop(), 200)


def test_load_dataset_batches_in_range(small_registry):
    ds, info = datasets.load_dataset("lego", 16, 8, max_images=24, verbose=False)
    batches = list(ds)
    assert info.source == "offline" and len(batches) == 3
    x = batches[0].numpy()
    assert x.shape == (8, 16, 16, 1) and x.dtype == np.float32 and -1.0 <= x.min() and x.max() <= 1.0
    faces, _ = datasets.load_dataset("anime", 12, 4, max_images=8, verbose=False)
    assert next(iter(faces)).shape == (4, 12, 12, 3)


def test_center_crop_keeps_the_middle(tmp_path, monkeypatch):
    from PIL import Image

    monkeypatch.setenv("GAN_COURSE_CACHE", str(tmp_path / "cache"))

    tall = np.zeros((30, 10, 3), np.uint8)
    tall[10:20] = 255  # white square in the middle, black bars above and below
    folder = tmp_path / "tall"
    folder.mkdir()
    for i in range(4):
        Image.fromarray(tall).save(folder / f"{i}.png")
    cropped = next(iter(data.load_image_folder(folder, 10, "rgb", batch_size=4, crop="center"))).numpy()
    squashed = next(iter(data.load_image_folder(folder, 10, "rgb", batch_size=4))).numpy()
    assert cropped.min() > 0.95  # only the white middle is left
    assert squashed.min() < -0.9  # without the crop the black bars are squeezed in
    info = datasets.DatasetInfo("celeba", folder, "folder", False, "")
    arrays, labels, classes = datasets.load_arrays(info, 10)
    assert arrays.shape == (4, 10, 10, 3) and arrays.min() > 0.95 and classes == ["."]


def test_load_arrays_labels_are_the_class_folders(small_registry):
    info = datasets.dataset_folder("lego", verbose=False)
    x, y, classes = datasets.load_arrays(info, 16, max_images=20, seed=1)
    assert x.shape == (20, 16, 16, 1) and y.shape == (20,)
    assert set(classes) <= set(renderers.BRICK_SHAPES) and y.max() < len(classes)
    x2, y2, _ = datasets.load_arrays(info, 16, max_images=20, seed=1)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)
