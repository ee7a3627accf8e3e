"""Folders of images: list them (safely), check them, and read them as a ``tf.data`` pipeline."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np

from gan_course.data.checks import check_images
from gan_course.data.errors import BadImagesWarning, DataError

__all__ = ["IMAGE_EXTENSIONS", "list_image_files", "load_image_folder"]

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
_MODES = {"grayscale": 1, "rgb": 3}
# Image formats the course does not read; a folder holding them gets one warning that says so.
_UNREAD_IMAGE_EXTENSIONS = (".heic", ".heif", ".avif", ".jxl", ".jp2", ".ppm", ".pgm", ".psd", ".svg", ".ico")


def _walk_images(folder: Path) -> tuple[list[Path], list[str]]:
    """Image files under ``folder`` (following symbolic links, each real folder read once) and notes."""
    files, loops, unread = [], [], {}
    seen = set()
    for root, dirs, names in os.walk(folder, followlinks=True):
        try:
            st = os.stat(root)
        except OSError:
            dirs[:] = []
            continue
        if (st.st_dev, st.st_ino) in seen:  # a link back to a folder already read: a loop or a duplicate
            loops.append(root)
            dirs[:] = []
            continue
        seen.add((st.st_dev, st.st_ino))
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in names:
            suffix = os.path.splitext(name)[1].lower()
            if name.startswith("."):
                continue
            if suffix in IMAGE_EXTENSIONS:
                files.append(os.path.join(root, name))
            elif suffix in _UNREAD_IMAGE_EXTENSIONS:
                unread[suffix] = unread.get(suffix, 0) + 1
    notes = []
    if loops:
        notes.append(f"Read once and skipped {len(loops)} linked folder(s) that lead back to a folder already read "
                     f"(a symbolic-link loop or duplicate), e.g. {loops[0]}.")
    if unread:
        kinds = ", ".join(f"{n} {ext}" for ext, n in sorted(unread.items()))
        notes.append(f"Ignored files in formats the course does not read ({kinds}) in {folder}: "
                     "convert them to PNG or JPEG to use them.")
    # Sorted as paths compare (part by part), built as Path objects once: fast for 100,000 files.
    return [Path(f) for f in sorted(files, key=lambda f: f.split(os.sep))], notes


def list_image_files(folder) -> list[Path]:
    """Image files under ``folder`` (recursively, sorted); hidden files and folders are skipped.

    Symbolic links are followed, each real folder is read once (a link loop cannot hang the
    listing), and a broken or looping link with an image name is listed so that the check
    (``check_images``) reports it by name.

    Raises:
        DataError: the folder is missing, is a file, or holds no images.
    """
    folder = Path(folder).expanduser()
    if not folder.exists():
        raise DataError(
            f"Image folder {folder} does not exist. Check the path, or download the dataset "
            "first (see the lesson's data section)."
        )
    if not folder.is_dir():
        raise DataError(f"{folder} is a file, not a folder. Pass the folder that holds the images.")
    files, notes = _walk_images(folder)
    for note in notes:
        warnings.warn(note, BadImagesWarning, stacklevel=2)
    if not files:
        raise DataError(
            f"Image folder {folder} holds no images ({', '.join(IMAGE_EXTENSIONS)}). "
            "Put the images in it (sub-folders are fine) or point to the right folder."
        )
    return files


def load_image_folder(
    folder,
    image_size: int | tuple[int, int] = 64,
    color_mode: str | None = None,
    batch_size: int = 64,
    max_images: int | None = None,
    shuffle: bool = True,
    seed: int | None = None,
    check_files: bool = True,
    crop: str | None = None,
    sample_seed: int | None = None,
    on_bad: str = "raise",
):
    """A ``tf.data`` pipeline of the images in ``folder``, resized and scaled to [-1, 1].

    Args:
        folder: the folder (searched recursively) of .png/.jpg/.gif/.bmp/.webp/.tif files.
        image_size: output size, an int for squares or (height, width).
        color_mode: ``"grayscale"`` (1 channel) or ``"rgb"`` (3 channels) converts every image.
            ``None`` keeps the folder's own channel count, which must then be the same for
            every image (a mix is an error that names an example of each).
        batch_size, shuffle, seed: as in ``make_dataset`` (the step cap shrinks batches and passes
            the same way); decoding runs in parallel.
        max_images: use only the first ``max_images`` files (sorted by path), or with
            ``sample_seed`` a random subset drawn with that seed (real datasets are often sorted
            by class, so the first files would all be one class).
        check_files: decode every file with TensorFlow first (``check_images``), so a truncated
            or unreadable file is reported by name before training instead of as an anonymous
            error mid-epoch; formats TensorFlow cannot decode are converted through Pillow.
        crop: ``"center"`` cuts the largest centred square before resizing (CelebA's 178x218
            faces), so resizing does not squash faces; ``None`` resizes the whole image.
        on_bad: what the check does with unusable files: ``"raise"`` (default, one error
            listing them) or ``"skip"`` (a warning naming them; training uses the rest).

    Returns:
        ``tf.data.Dataset`` of float32 batches (batch, height, width, channels).
    """
    import tensorflow as tf

    if color_mode is not None and color_mode not in _MODES:
        raise ValueError(f"color_mode must be 'grayscale', 'rgb' or None, not {color_mode!r}")
    if on_bad not in ("raise", "skip"):
        raise ValueError(f"on_bad must be 'raise' or 'skip', not {on_bad!r}")
    height, width = (image_size, image_size) if isinstance(image_size, int) else tuple(image_size)
    if crop not in (None, "center"):
        raise ValueError(f"crop must be 'center' or None, not {crop!r}")
    files = list_image_files(folder)
    if max_images is not None and sample_seed is not None and max_images < len(files):
        pick = np.random.default_rng(sample_seed).choice(len(files), max_images, replace=False)
        files = [files[i] for i in np.sort(pick)]
    elif max_images is not None:
        files = files[:max_images]

    if check_files:
        check = check_images(files, on_bad=on_bad, folder=folder)
        files = check.readable
        by_channels = check.by_channels()
        if color_mode is None:
            if len(by_channels) > 1:
                examples = "; ".join(f"{c} channel(s): {paths[0]}" for c, paths in sorted(by_channels.items()))
                raise DataError(
                    f"Images in {folder} have different channel counts ({examples}). "
                    "Pass color_mode='grayscale' or color_mode='rgb' to convert them all."
                )
            native = next(iter(by_channels))
            if native not in (1, 3):
                raise DataError(
                    f"Images in {folder} have {native} channels (e.g. {by_channels[native][0]}); "
                    "the course's models take 1 or 3. Pass color_mode='grayscale' or 'rgb'."
                )
            color_mode = "grayscale" if native == 1 else "rgb"
    color_mode = color_mode or "rgb"
    channels = _MODES[color_mode]

    def decode(path):
        raw = tf.io.read_file(path)
        # Always decode to RGB (the same call check_images made): TF 2.21 cannot decode GIF, BMP,
        # WebP or CMYK JPEG straight to one channel, so grayscale is computed from RGB.
        img = tf.io.decode_image(raw, channels=3, expand_animations=False)
        img.set_shape([None, None, 3])
        if channels == 1:
            img = tf.image.rgb_to_grayscale(img)
        if crop == "center":
            side = tf.minimum(tf.shape(img)[0], tf.shape(img)[1])
            img = tf.image.resize_with_crop_or_pad(img, side, side)
        img = tf.image.resize(img, (height, width), antialias=True)
        return img / 127.5 - 1.0

    from gan_course.presets import capped_batch, step_cap

    batch_size = capped_batch(batch_size)  # smaller only under the step cap
    if len(files) < batch_size:
        raise DataError(
            f"{folder} holds {len(files)} usable images, fewer than one batch of {batch_size}. "
            "Add images or lower batch_size."
        )
    ds = tf.data.Dataset.from_tensor_slices([str(p) for p in files])
    ds = ds.map(decode, num_parallel_calls=tf.data.AUTOTUNE).cache()
    if shuffle:
        ds = ds.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size, drop_remainder=True)
    cap = step_cap()
    return (ds if cap is None else ds.take(cap)).prefetch(tf.data.AUTOTUNE)
