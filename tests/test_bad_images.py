"""Bad image files are found before training, by name: the rows of docs/bad_inputs.md.

Each test writes real files (truncated copies, WebP, GIF, TIFF, links, unreadable files) and
checks what ``data.check_images`` / ``load_image_folder`` / ``datasets.load_arrays`` do with them.
"""

import io
import os
import warnings

import numpy as np
import pytest
from PIL import Image

from gan_course import data, datasets
from gan_course.data import DataError


@pytest.fixture(autouse=True)
def private_cache(monkeypatch, tmp_path_factory):
    monkeypatch.setenv("GAN_COURSE_CACHE", str(tmp_path_factory.mktemp("cache")))


def _noise(seed, shape=(32, 32, 3)):
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def _folder(path, n=6, mode="RGB"):
    path.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        Image.fromarray(_noise(i)).convert(mode).save(path / f"ok_{i}.png")
    return path


def _encoded(fmt, seed=0, mode="RGB", **kw):
    buf = io.BytesIO()
    Image.fromarray(_noise(seed)).convert(mode).save(buf, fmt, **kw)
    return buf.getvalue()


@pytest.mark.parametrize("fmt,suffix", [("JPEG", ".jpg"), ("PNG", ".png")])
def test_truncated_file_stops_before_training_with_its_name(tmp_path, fmt, suffix):
    folder = _folder(tmp_path / "imgs")
    raw = _encoded(fmt)
    (folder / f"cut{suffix}").write_bytes(raw[: len(raw) // 2])  # an interrupted copy
    # Pillow's header check passes on the cut file: only decoding finds it.
    with Image.open(folder / f"cut{suffix}") as im:
        assert im.size == (32, 32)
    with pytest.raises(DataError) as err:
        data.load_image_folder(folder, 16, batch_size=2)
    message = str(err.value)
    assert f"cut{suffix}" in message and "truncated" in message and "TensorFlow cannot decode" in message
    assert "1 of 7" in message and "on_bad='skip'" in message


def test_skip_warns_with_names_and_count_and_trains_on_the_rest(tmp_path):
    folder = _folder(tmp_path / "imgs", n=6)
    raw = _encoded("JPEG")
    (folder / "cut_a.jpg").write_bytes(raw[: len(raw) // 2])
    (folder / "cut_b.jpg").write_bytes(raw[:300])
    with pytest.warns(data.BadImagesWarning) as record:
        ds = data.load_image_folder(folder, 8, batch_size=3, on_bad="skip", shuffle=False)
    text = str(record[0].message)
    assert "Skipped 2 of 8" in text and "cut_a.jpg" in text and "cut_b.jpg" in text
    batches = list(ds)  # the whole epoch runs: the bad files never reach tf.data
    assert sum(b.shape[0] for b in batches) == 6


def test_every_file_bad_is_an_error_even_when_skipping(tmp_path):
    folder = tmp_path / "imgs"
    folder.mkdir()
    for i in range(3):
        (folder / f"{i}.png").write_bytes(b"not a png at all")
    with pytest.raises(DataError, match="3 of 3"):
        data.check_images(data.list_image_files(folder), on_bad="skip")


def test_webp_still_is_decoded_and_animated_is_converted_before_training(tmp_path):
    folder = _folder(tmp_path / "imgs", n=2)
    (folder / "still.webp").write_bytes(_encoded("WEBP", lossless=True))
    frames = [Image.fromarray(_noise(5)), Image.fromarray(_noise(6))]
    frames[0].save(folder / "moving.webp", save_all=True, append_images=frames[1:], lossless=True)
    check = data.check_images(data.list_image_files(folder))
    assert not check.bad
    assert set(check.converted) == {folder / "moving.webp"}  # TF 2.21 cannot decode animated WebP
    copy = check.converted[folder / "moving.webp"]
    np.testing.assert_array_equal(np.asarray(Image.open(copy)), _noise(5))  # the first frame, lossless
    batches = list(data.load_image_folder(folder, 32, "rgb", batch_size=4, shuffle=False))
    assert batches[0].shape == (4, 32, 32, 3)
    got = data.unscale_images(batches[0].numpy())
    expected = {tuple(_noise(s).ravel()[:50]) for s in (0, 1, 5)} | {tuple(np.asarray(Image.open(folder / "still.webp")).ravel()[:50])}
    assert {tuple(x.ravel()[:50]) for x in got} == expected


def test_grayscale_and_animated_gif_in_a_grayscale_pipeline(tmp_path):
    # TF 2.21 decodes every GIF to 3 channels and refuses channels=1, so before this fix a GIF in
    # a grayscale dataset (the LEGO lesson) broke the first epoch.
    folder = tmp_path / "imgs"
    folder.mkdir()
    gray = _noise(1, (16, 16))
    Image.fromarray(gray).save(folder / "gray.gif")
    Image.fromarray(gray).save(folder / "gray.png")
    Image.fromarray(gray).save(folder / "anim.gif", save_all=True, append_images=[Image.fromarray(255 - gray)])
    check = data.check_images(data.list_image_files(folder))
    assert not check.bad and not check.converted
    assert dict(zip([p.name for p in check.files], check.channels)) == {"anim.gif": 3, "gray.gif": 3, "gray.png": 1}
    x = next(iter(data.load_image_folder(folder, 16, "grayscale", batch_size=3, shuffle=False))).numpy()
    assert x.shape == (3, 16, 16, 1)
    for img in x:  # each file's first frame, the same pixels whatever the format (+-1 level)
        assert np.abs(data.unscale_images(img)[..., 0].astype(int) - gray).max() <= 1


def test_bmp_and_cmyk_jpeg_in_a_grayscale_pipeline(tmp_path):
    # Like GIF, TF 2.21 refuses channels=1 for BMP and CMYK JPEG: the pipeline decodes RGB, then converts.
    folder = tmp_path / "imgs"
    folder.mkdir()
    gray = np.add.outer(np.arange(16) * 9, np.arange(16) * 6).astype(np.uint8)  # smooth: JPEG keeps it well
    Image.fromarray(gray).save(folder / "a.bmp")
    Image.fromarray(gray).convert("CMYK").save(folder / "b.jpg", quality=100)
    x = next(iter(data.load_image_folder(folder, 16, "grayscale", batch_size=2, shuffle=False))).numpy()
    assert x.shape == (2, 16, 16, 1)
    assert np.abs(data.unscale_images(x[0])[..., 0].astype(int) - gray).max() <= 1  # BMP: lossless
    assert np.abs(data.unscale_images(x[1])[..., 0].astype(int) - gray).mean() < 4  # JPEG: lossy


def test_formats_the_course_does_not_read_are_named_not_silently_dropped(tmp_path):
    folder = _folder(tmp_path / "imgs", n=2)
    for name in ("a.heic", "b.heic", "c.avif"):
        (folder / name).write_bytes(b"....")
    (folder / "labels.csv").write_text("file,label\n")  # not an image: no warning for it
    with pytest.warns(data.BadImagesWarning, match=r"2 \.heic.*1 \.avif|1 \.avif, 2 \.heic") as record:
        assert len(data.list_image_files(folder)) == 2
    assert "convert them to PNG or JPEG" in str(record[0].message) and "csv" not in str(record[0].message)


def test_tiff_is_converted_through_pillow(tmp_path):
    folder = _folder(tmp_path / "imgs", n=3, mode="L")
    Image.fromarray(_noise(9, (32, 32))).save(folder / "scan.tif")
    check = data.check_images(data.list_image_files(folder))
    assert list(check.converted) == [folder / "scan.tif"] and check.channels == [1, 1, 1, 1]
    x = next(iter(data.load_image_folder(folder, 32, batch_size=4, shuffle=False))).numpy()
    assert x.shape == (4, 32, 32, 1)


def test_links_loops_and_broken_links_are_named_not_hung(tmp_path):
    folder = _folder(tmp_path / "imgs", n=4)
    os.symlink("self.png", folder / "self.png")  # a link to itself
    os.symlink(tmp_path / "gone.png", folder / "broken.png")
    os.symlink(folder, folder / "again")  # a folder link back to its parent: read once
    with pytest.warns(data.BadImagesWarning, match="symbolic-link loop"):
        files = data.list_image_files(folder)
    assert len(files) == 6
    with pytest.raises(DataError) as err:
        data.check_images(files)
    assert "self.png: a symbolic link that leads back to itself" in str(err.value)
    assert "broken.png: a broken symbolic link" in str(err.value)


def test_unreadable_file_is_named_with_the_fix(tmp_path, monkeypatch):
    folder = _folder(tmp_path / "imgs", n=4)
    locked = folder / "ok_2.png"
    locked.chmod(0)
    try:
        with open(locked, "rb"):
            readable_anyway = True  # root ignores permissions: simulate what a user would get
    except PermissionError:
        readable_anyway = False
    if readable_anyway:
        real = data.decoding._read_bytes

        def read(path):
            if path == locked:
                raise PermissionError(13, "Permission denied", str(path))
            return real(path)

        monkeypatch.setattr(data.decoding, "_read_bytes", read)
    try:
        with pytest.raises(DataError, match="ok_2.png: cannot be read: permission denied. Fix: chmod a"):
            data.load_image_folder(folder, batch_size=2)
    finally:
        locked.chmod(0o644)


def test_verdicts_are_cached_by_size_and_mtime(tmp_path):
    folder = _folder(tmp_path / "imgs", n=5)
    files = data.list_image_files(folder)
    first = data.check_images(files)
    assert (first.decoded, first.cached) == (5, 0)
    second = data.check_images(files)
    assert (second.decoded, second.cached) == (0, 5) and second.files == first.files
    # A file replaced by a damaged one (new size and mtime) is decoded again, and caught.
    raw = (folder / "ok_3.png").read_bytes()
    (folder / "ok_3.png").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(DataError, match="ok_3.png"):
        data.check_images(files)


def test_mixed_channels_still_need_a_color_mode(tmp_path):
    folder = _folder(tmp_path / "imgs", n=2, mode="L")
    Image.fromarray(_noise(3)).save(folder / "colour.png")
    with pytest.raises(DataError, match="color_mode"):
        data.load_image_folder(folder, batch_size=2)


def test_load_arrays_checks_real_folders(tmp_path):
    folder = _folder(tmp_path / "faces", n=6)
    raw = _encoded("JPEG")
    (folder / "cut.jpg").write_bytes(raw[: len(raw) // 2])
    info = datasets.DatasetInfo("anime", folder, "folder", False, "")
    with pytest.raises(DataError, match="cut.jpg"):
        datasets.load_arrays(info, 16)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        x, _, classes = datasets.load_arrays(info, 16, on_bad="skip")
    assert x.shape == (6, 16, 16, 3) and classes == ["."]
    assert any("Skipped 1 of 7" in str(w.message) for w in record)


def test_bad_on_bad_value(tmp_path):
    folder = _folder(tmp_path / "imgs", n=2)
    with pytest.raises(ValueError, match="on_bad"):
        data.load_image_folder(folder, batch_size=2, on_bad="ignore")
