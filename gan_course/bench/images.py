"""Benchmark of the image pre-check (``data.check_images``): ``python -m gan_course.bench.images``.

Writes ``--n`` small PNGs (60,000 by default, 32x32 RGB, a few damaged ones among them) into
a scratch folder, then lists and checks the folder twice with a private verdict cache: the first
check decodes every file with TensorFlow, the second only reads sizes and modification times.
It prints seconds for each, files per second and the ratio second / first, and writes
``outputs/bench/images.json``. The target on a 2-core laptop: first check under 30 s, second
under 3 s. ``--cores 2`` pins the process to two cores to reproduce that on a larger machine.

The files are freshly written, so the first check reads them from the operating system's
cache: on a cold disk add the time to read them once (60,000 x ~3 KB is ~180 MB). Wall time
depends on what else runs; the CPU seconds (all threads) and the load average before each
check are printed next to it, so a run on a busy machine can be read for what it is.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import tempfile
import time
import warnings
from pathlib import Path

__all__ = ["write_pngs", "run", "main"]


def write_pngs(folder: Path, n: int, size: int = 32, damaged: int = 3, seed: int = 0) -> list[Path]:
    """``n`` PNGs of random blobs in 100 sub-folders; ``damaged`` of them cut in half."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (64, size, size, 3), dtype=np.uint8)
    written = []
    for i in range(n):
        sub = folder / f"class_{i % 100:03d}"
        if i < 100:
            sub.mkdir(parents=True, exist_ok=True)
        img = np.roll(base[i % 64], i % size, axis=1)  # 64 random images, shifted: every file differs
        path = sub / f"img_{i:06d}.png"
        Image.fromarray(img).save(path, compress_level=1)
        written.append(path)
    for path in written[:: max(1, n // max(1, damaged))][:damaged]:
        raw = path.read_bytes()
        path.write_bytes(raw[: len(raw) // 2])
    return written


def run(n: int = 60_000, size: int = 32, workers: int | None = None, folder: str | None = None,
        cores: int | None = None) -> dict:
    if cores:
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:cores])
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    scratch = Path(folder) if folder else Path(tempfile.mkdtemp(prefix="gan-course-bench-images-"))
    cache = Path(tempfile.mkdtemp(prefix="gan-course-bench-cache-"))
    os.environ["GAN_COURSE_CACHE"] = str(cache)  # a private verdict cache: the first check is a real first
    import tensorflow as tf

    from gan_course import data

    tf.io.decode_image(tf.io.encode_png(tf.zeros((2, 2, 3), tf.uint8)), channels=3)  # load TF's kernels untimed
    try:
        if not any(scratch.rglob("*.png")):
            start = time.perf_counter()
            write_pngs(scratch, n, size)
            print(f"Wrote {n:,} PNGs of {size}x{size} into {scratch} in {time.perf_counter() - start:.1f} s")
        timings = []
        for attempt in ("first", "second"):
            load = os.getloadavg()[0]
            cpu_start = time.process_time()
            start = time.perf_counter()
            files = data.list_image_files(scratch)
            listed = time.perf_counter() - start
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", data.BadImagesWarning)
                check = data.check_images(files, on_bad="skip", folder=scratch, workers=workers, verbose=False)
            total = time.perf_counter() - start
            cpu = time.process_time() - cpu_start
            timings.append({"run": attempt, "seconds": round(total, 2), "cpu_seconds": round(cpu, 2),
                            "load_average_before": round(load, 1), "listing_seconds": round(listed, 2),
                            "decoded": check.decoded, "cached": check.cached, "bad": len(check.bad),
                            "files_per_second": round(len(files) / total)})
            print(f"{attempt:>6} check: {total:6.2f} s wall, {cpu:6.2f} s CPU (all threads; load average "
                  f"{load:.1f} before), {listed:.2f} s listing, {len(files):,} files, "
                  f"{check.decoded:,} decoded, {check.cached:,} from the cache, {len(check.bad)} damaged found")
    finally:
        shutil.rmtree(cache, ignore_errors=True)
        if not folder:
            shutil.rmtree(scratch, ignore_errors=True)
    ratio = timings[1]["seconds"] / timings[0]["seconds"]
    print(f" ratio second / first: {ratio:.3f}  (targets on 2 cores: first < 30 s, second < 3 s)")
    return {
        "n_files": n,
        "image_size": size,
        "cores": len(os.sched_getaffinity(0)),
        "workers": workers or "default",
        "machine": platform.processor() or platform.machine(),
        "runs": timings,
        "ratio_second_over_first": round(ratio, 4),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gan_course.bench.images", description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=60_000, help="PNG files to write and check (default 60,000)")
    parser.add_argument("--size", type=int, default=32, help="side of each PNG in pixels (default 32)")
    parser.add_argument("--workers", type=int, help="checking threads (default: check_images' own choice)")
    parser.add_argument("--cores", type=int, help="pin the process to this many cores (e.g. 2)")
    parser.add_argument("--folder", help="write/reuse the PNGs here and keep them (default: a temp folder)")
    parser.add_argument("--out", help="where to write the JSON (default: outputs/bench/images.json)")
    args = parser.parse_args(argv)
    result = run(args.n, args.size, args.workers, args.folder, args.cores)
    from gan_course import paths

    out = Path(args.out) if args.out else paths.outputs_dir("bench") / "images.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(f"Wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
