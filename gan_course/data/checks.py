"""Check a list of image files before training: every file decoded once, verdicts cached."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from gan_course.data.decoding import judge
from gan_course.data.errors import BadImagesWarning, DataError

__all__ = ["ImageCheck", "check_images"]

_CHECK_CACHE_VERSION = 1
_MAX_LISTED = 20


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
            return [(i, judge(files[i], convert_dir)) for i in chunk]

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
