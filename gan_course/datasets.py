"""A registry of image datasets: each has a name, a real download route, a cache folder and
an offline default the course draws itself (introduced in lesson 02).

    info = dataset_folder("lego")                   # where the images are, and where they came from
    ds, info = load_dataset("lego", 32, 64)         # a tf.data pipeline of [-1, 1] batches

``source`` chooses the route:

- ``"auto"`` (default): the folder in ``$GAN_COURSE_DATA_<NAME>`` (e.g. ``GAN_COURSE_DATA_LEGO``)
  if set; else a finished copy in the kagglehub cache; else, when the preset wants the full
  archive (``FULL_DOWNLOAD_BY_PRESET``: the ``gpu`` preset; ``cpu`` samples a few thousand images,
  not worth a 1 GB download) and www.kaggle.com answers within a few seconds, a download with
  ``kagglehub``; else the offline renderer. It prints which one it used and why.
  ``GAN_COURSE_OFFLINE=1`` skips the network; ``download=True`` fetches whatever the preset.
- ``"kaggle"``: the Kaggle copy (cached or downloaded); fails fast with a clear message offline.
- ``"offline"``: the procedural stand-in (``gan_course.renderers``), rendered once into
  ``paths.cache_dir("datasets/...")`` and reused.
- a folder path: the images in that folder (sub-folders are fine).

A download prints its size and how to cancel before it starts. A kagglehub cache folder
without kagglehub's completion marker (an interrupted download) is never taken as a copy.
Public Kaggle datasets need no API key. Importing this module does no work.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from pathlib import Path
from typing import Callable

import numpy as np

from gan_course import data, paths, presets, renderers

__all__ = [
    "DatasetSpec",
    "DatasetInfo",
    "DATASETS",
    "KAGGLE_HOST",
    "FULL_DOWNLOAD_BY_PRESET",
    "env_var",
    "offline_folder",
    "dataset_folder",
    "load_dataset",
    "load_arrays",
]

KAGGLE_HOST = "www.kaggle.com"
# Does source="auto" download a dataset's full archive under this preset? The lessons sample
# about 3,000 images at the cpu preset (a 0.4-1.3 GB archive for that is not worth it: the
# offline stand-in is used and the message says how to fetch the real one) and 20,000+ at gpu.
# One policy for every loader, MNIST's included: its home is presets.FULL_DATA_BY_PRESET.
FULL_DOWNLOAD_BY_PRESET = presets.FULL_DATA_BY_PRESET


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
    """One registry entry."""

    name: str
    description: str
    kaggle_handle: str  # "owner/dataset" on kaggle.com
    subdirs: tuple[str, ...]  # where the images sit inside the download, tried in order
    color_mode: str  # "grayscale" or "rgb": how the lessons read it
    crop: str | None  # "center": cut the centred square before resizing (non-square photos)
    render: Callable[[int, int], tuple[np.ndarray, np.ndarray]]  # (n, seed) -> (uint8 images, labels)
    class_names: tuple[str, ...]  # the offline render's classes (its sub-folder names)
    offline_count: int
    offline_seed: int
    offline_size: int
    offline_note: str
    download_mb: int = 0  # approximate size of the Kaggle archive, printed before a download

    @property
    def url(self) -> str:
        return f"https://www.kaggle.com/datasets/{self.kaggle_handle}"


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """Where a dataset's images are and how they got there."""

    name: str
    folder: Path
    source: str  # "kaggle", "folder" or "offline"
    synthetic: bool  # True for the procedural stand-in
    message: str  # one line for the notebook: what was used and why


def _bricks(n, seed):
    return renderers.render_bricks(n, seed=seed, size=64)


def _anime(n, seed):
    return renderers.render_faces(n, seed=seed, size=100, style="anime")


def _photo_faces(n, seed):
    return renderers.render_faces(n, seed=seed, size=64, style="photo")


DATASETS: dict[str, DatasetSpec] = {
    "lego": DatasetSpec(
        name="lego",
        description="LEGO brick images: 40,000 computer renders of 50 bricks, grayscale (Foster, ch. 4)",
        kaggle_handle="joosthazelzet/lego-brick-images",
        subdirs=("dataset", "LEGO brick images v1"),
        color_mode="grayscale",
        crop=None,
        render=_bricks,
        class_names=renderers.BRICK_SHAPES,
        offline_count=3000,
        offline_seed=0,
        offline_size=64,
        offline_note="procedural LEGO-like bricks (8 shapes, random viewpoints and shades), 64x64",
        download_mb=1000,
    ),
    "anime": DatasetSpec(
        name="anime",
        description="Anime face dataset: 63,632 cropped anime faces, RGB (the lab's 100x100 DCGAN)",
        kaggle_handle="splcher/animefacedataset",
        subdirs=("images",),
        color_mode="rgb",
        crop=None,
        render=_anime,
        class_names=tuple(renderers.HAIR_COLOURS["anime"]),
        offline_count=3000,
        offline_seed=1,
        offline_size=100,
        offline_note="procedural cartoon faces (8 hair colours, varied heads, eyes, hair), 100x100",
        download_mb=400,
    ),
    "celeba": DatasetSpec(
        name="celeba",
        description="CelebA aligned faces: 202,599 photos of 178x218, centre-cropped to squares",
        kaggle_handle="jessicali9530/celeba-dataset",
        subdirs=("img_align_celeba/img_align_celeba", "img_align_celeba"),
        color_mode="rgb",
        crop="center",
        render=_photo_faces,
        class_names=tuple(renderers.HAIR_COLOURS["photo"]),
        offline_count=3000,
        offline_seed=2,
        offline_size=64,
        offline_note="procedural 'photo-style' cartoon faces (6 natural hair colours, muted backgrounds), 64x64",
        download_mb=1350,
    ),
}


def _spec(name: str) -> DatasetSpec:
    key = str(name).strip().lower()
    if key not in DATASETS:
        raise ValueError(f"Unknown dataset {name!r}. Registered: {', '.join(DATASETS)}.")
    return DATASETS[key]


def env_var(name: str) -> str:
    """The environment variable that points a dataset at your own folder: ``GAN_COURSE_DATA_LEGO``."""
    return f"GAN_COURSE_DATA_{_spec(name).name.upper()}"


# --------------------------------------------------------------------------- the routes


def _render_key(spec: DatasetSpec, count: int) -> str:
    return f"{spec.name}-v{renderers.RENDERER_VERSION}-seed{spec.offline_seed}-n{count}"


def offline_folder(name: str, count: int | None = None, verbose: bool = True) -> Path:
    """The offline stand-in's folder with at least ``count`` images (default: the registry's
    ``offline_count``), rendered now if no complete one exists.

    Folders are keyed by renderer version, seed and count, so a changed drawing never reuses an
    old render; an interrupted render (no completion marker) is redone. The same seed draws the
    same sequence, so a smaller render is the start of a larger one: a complete larger folder is
    reused rather than rendering a small one (the smallest that is big enough).
    """
    spec = _spec(name)
    count = int(count or spec.offline_count)
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    root = paths.cache_dir("datasets")
    prefix = _render_key(spec, 0)[:-1]  # "lego-v1-seed0-n"
    with _one_renderer(root / f".{prefix}.lock"):
        existing = sorted(
            (int(p.name[len(prefix):]), p) for p in root.glob(prefix + "*") if p.name[len(prefix):].isdigit()
        )
        for n, folder in existing:
            if n >= count and renderers.folder_is_complete(folder, n):
                return folder
        folder = root / _render_key(spec, count)
        if not renderers.folder_is_complete(folder, count):
            if verbose:
                print(f"Rendering {count:,} offline {spec.name} images into {folder} (once) ...")
            images, labels = spec.render(count, spec.offline_seed)
            renderers.write_image_folder(
                images, labels, spec.class_names, folder,
                meta={"dataset": spec.name, "renderer_version": renderers.RENDERER_VERSION, "seed": spec.offline_seed},
            )
        return folder


@contextlib.contextmanager
def _one_renderer(lock_path: Path):
    """One process at a time looks for and renders a dataset's offline folder; another one (a second
    lesson, a test worker) waits here, then finds the finished folder instead of writing the same
    files under the first one's feet. The operating system's lock: a killed process leaves none."""
    try:
        import fcntl
    except ImportError:  # Windows: no waiting; one lesson at a time renders there
        yield
        return
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _kaggle_cache_root() -> Path:
    base = os.environ.get("KAGGLEHUB_CACHE") or Path.home() / ".cache" / "kagglehub"
    return Path(base)


def _image_root(download: Path, spec: DatasetSpec) -> Path:
    for sub in spec.subdirs:
        if (download / sub).is_dir():
            return download / sub
    return download


def _kaggle_versions(spec: DatasetSpec) -> tuple[list[Path], list[Path]]:
    """(finished, unfinished) version folders in the kagglehub cache, newest first.

    kagglehub writes ``datasets/<owner>/<dataset>/<version>.complete`` only after the archive is
    downloaded, checked and extracted (``kagglehub.cache``): a version folder without it is an
    interrupted download, however many images it already holds.
    """
    base = _kaggle_cache_root() / "datasets" / spec.kaggle_handle
    versions = base / "versions"
    if not versions.is_dir():
        return [], []
    found = sorted((p for p in versions.iterdir() if p.is_dir() and p.name.isdigit()), key=lambda p: -int(p.name))
    done = [p for p in found if (base / f"{p.name}.complete").is_file()]
    return done, [p for p in found if p not in done]


def _cached_kaggle_copy(spec: DatasetSpec) -> Path | None:
    """The newest version kagglehub finished downloading, without any network call."""
    done, _ = _kaggle_versions(spec)
    return _image_root(done[0], spec) if done else None


def _incomplete_note(spec: DatasetSpec) -> str:
    _, unfinished = _kaggle_versions(spec)
    if not unfinished:
        return ""
    return (f" (not using {unfinished[0]}: an interrupted download, without kagglehub's completion marker; "
            "a new download replaces it)")


def _kaggle_download(spec: DatasetSpec, timeout: float, download: bool = True) -> Path:
    """The Kaggle copy: a finished cached one, or a kagglehub download after a fast reachability check."""
    cached = _cached_kaggle_copy(spec)
    if cached is not None:
        return cached
    unfinished = _incomplete_note(spec)
    if data.is_offline():
        raise data.DataError(f"{data.OFFLINE_ENV} is set, so {spec.url} is not downloaded{unfinished}.")
    if not download:
        preset = presets.get_preset()
        raise data.DataError(
            f"the '{preset.name}' preset samples a few thousand images, so the full Kaggle archive "
            f"(about {spec.download_mb:,} MB) is not downloaded automatically{unfinished}. To fetch it: "
            f"dataset_folder({spec.name!r}, download=True) or source='kaggle'"
        )
    if not data.network_answers(KAGGLE_HOST, timeout):
        raise data.DataError(
            f"{KAGGLE_HOST} does not answer within {timeout:g} s, so {spec.url} cannot be downloaded{unfinished}. "
            f"Connect to the internet, or download it yourself and set {env_var(spec.name)}=/path/to/images."
        )
    try:
        import kagglehub
    except ImportError as err:
        raise data.DataError("kagglehub is not installed: pip install kagglehub") from err
    print(f"Downloading {spec.name} from Kaggle ({spec.kaggle_handle}): about {spec.download_mb:,} MB{unfinished}. "
          "Ctrl-C (or interrupt the kernel) cancels; kagglehub continues a cancelled download next time.", flush=True)
    try:  # kagglehub's own requests carry timeouts (connect 5 s, read 15 s) and check the archive's MD5
        return _image_root(Path(kagglehub.dataset_download(spec.kaggle_handle)), spec)
    except KeyboardInterrupt as err:
        raise data.DataError(f"the download of {spec.kaggle_handle} was cancelled (Ctrl-C)") from err
    except Exception as err:  # network, quota or file errors: say what happened
        raise data.DataError(f"kagglehub could not download {spec.kaggle_handle}: {err.__class__.__name__}: {err}") from err


def _user_folder(folder, name: str) -> Path:
    path = Path(folder).expanduser()
    data.list_image_files(path)  # a missing or empty folder stops here, naming the fix
    return path


def dataset_folder(
    name: str, source: str = "auto", timeout: float = 3.0, verbose: bool = True, offline_count: int | None = None,
    download: bool | None = None,
) -> DatasetInfo:
    """Find (download, or render) the images of dataset ``name``; see the module docstring.

    ``offline_count``: how many images the offline stand-in needs at least (default: the
    registry's count); a lesson that uses fewer renders fewer.
    ``download``: may ``source="auto"`` download the full Kaggle archive? ``None`` (default):
    the preset decides (``FULL_DOWNLOAD_BY_PRESET``); ``source="kaggle"`` always may.

    Raises:
        ValueError: unknown dataset or source.
        data.DataError: ``source="kaggle"`` without network or cached copy; a folder that is
            missing or holds no images (the message names the path and the fix).
    """
    spec = _spec(name)
    src = str(source)
    if src not in {"auto", "kaggle", "offline"} and not (os.sep in src or Path(src).expanduser().exists()):
        raise ValueError(
            f"source must be 'auto', 'kaggle', 'offline' or an existing folder, not {source!r}."
        )

    if src == "offline":
        info = DatasetInfo(spec.name, offline_folder(spec.name, offline_count, verbose), "offline", True,
                           f"{spec.name}: offline stand-in, {spec.offline_note} (source='offline')")
    elif src == "kaggle":
        folder = _kaggle_download(spec, timeout)
        info = DatasetInfo(spec.name, _user_folder(folder, spec.name), "kaggle", False,
                           f"{spec.name}: Kaggle {spec.kaggle_handle} at {folder}")
    elif src != "auto":
        info = DatasetInfo(spec.name, _user_folder(src, spec.name), "folder", False, f"{spec.name}: your folder {src}")
    elif os.environ.get(env_var(spec.name)):
        folder = os.environ[env_var(spec.name)]
        info = DatasetInfo(spec.name, _user_folder(folder, spec.name), "folder", False,
                           f"{spec.name}: your folder {folder} (from {env_var(spec.name)})")
    else:
        if download is None:
            download = presets.get_preset().pick(**FULL_DOWNLOAD_BY_PRESET)
        try:
            folder = _kaggle_download(spec, timeout, download)
            info = DatasetInfo(spec.name, _user_folder(folder, spec.name), "kaggle", False,
                               f"{spec.name}: Kaggle {spec.kaggle_handle} at {folder}")
        except data.DataError as err:
            info = DatasetInfo(
                spec.name, offline_folder(spec.name, offline_count, verbose), "offline", True,
                f"{spec.name}: no real data ({err}) -> SYNTHETIC offline stand-in: {spec.offline_note}. "
                f"For the real images: set {env_var(spec.name)}=/path/to/folder or connect and use source='kaggle'.",
            )
    if verbose:
        print(info.message)
    return info


def load_dataset(
    name: str,
    image_size: int,
    batch_size: int,
    max_images: int | None = None,
    source: str = "auto",
    color_mode: str | None = None,
    shuffle: bool = True,
    seed: int = 0,
    verbose: bool = True,
    on_bad: str = "raise",
    download: bool | None = None,
):
    """A ``tf.data`` pipeline of dataset ``name``: float32 batches in [-1, 1] of shape
    (batch_size, image_size, image_size, channels), and its ``DatasetInfo``.

    ``color_mode`` defaults to the dataset's own (grayscale for lego, rgb for faces);
    ``max_images`` takes a random subset chosen by ``seed`` (not the first files, which are
    often one class); CelebA is centre-cropped to a square before resizing. Real images are
    decoded once before training (``data.check_images``); ``on_bad="skip"`` trains without
    the unusable ones instead of stopping. ``download``: as in ``dataset_folder``.
    """
    spec = _spec(name)
    info = dataset_folder(spec.name, source, verbose=verbose, offline_count=max_images, download=download)
    ds = data.load_image_folder(
        info.folder,
        image_size=image_size,
        color_mode=color_mode or spec.color_mode,
        batch_size=batch_size,
        max_images=max_images,
        shuffle=shuffle,
        seed=seed,
        check_files=not info.synthetic,  # our own renders are known good; real downloads are checked
        crop=spec.crop if info.source != "offline" else None,
        sample_seed=seed,
        on_bad=on_bad,
    )
    return ds, info


def _read_one(args):
    from PIL import Image

    path, size, mode, crop = args
    try:
        with Image.open(path) as im:
            im = im.convert("L" if mode == "grayscale" else "RGB")
            if crop == "center":
                w, h = im.size
                side = min(w, h)
                im = im.crop(((w - side) // 2, (h - side) // 2, (w - side) // 2 + side, (h - side) // 2 + side))
            arr = np.asarray(im.resize((size, size), Image.LANCZOS), np.uint8)
    except Exception as err:  # a file changed since the check: name it rather than fail anonymously
        raise data.DataError(f"Cannot read image {path}: {err.__class__.__name__}: {err}. "
                             "Delete or replace it, then run again.") from err
    return arr[..., None] if arr.ndim == 2 else arr


def load_arrays(info: DatasetInfo, image_size: int, max_images: int | None = None, seed: int = 0,
                color_mode: str | None = None, on_bad: str = "raise") -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The images of ``info.folder`` in memory: (float32 (n, s, s, c) in [-1, 1], labels (n,), class names).

    Labels are the index of each file's parent folder among the sorted folder names: the
    brick shape or hair colour for the offline renders, whatever the real dataset's
    sub-folders mean otherwise (one class when all files sit in one folder). The order is a
    random permutation by ``seed``, so ``[:k]`` and ``[k:]`` are a fair train / hold-out split.
    Decoding runs on a thread pool. Real images are checked first (``data.check_images``): an
    unusable file stops with a list naming it, or with ``on_bad="skip"`` is left out (so fewer
    than ``max_images`` come back, and the warning says how many).
    """
    from concurrent.futures import ThreadPoolExecutor

    spec = _spec(info.name)
    files = data.list_image_files(info.folder)
    order = np.random.default_rng(seed).permutation(len(files))
    if max_images is not None:
        order = order[:max_images]
    files = [files[i] for i in order]
    readable = files
    if not info.synthetic:  # our own renders are known good; real folders are decoded once first
        check = data.check_images(files, on_bad=on_bad, folder=info.folder)
        files, readable = check.files, check.readable
    parents = [str(p.parent.relative_to(info.folder)) for p in files]
    class_names = sorted(set(parents))
    labels = np.array([class_names.index(p) for p in parents], np.int64)
    crop = spec.crop if info.source != "offline" else None
    jobs = [(p, image_size, color_mode or spec.color_mode, crop) for p in readable]
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        images = np.stack(list(pool.map(_read_one, jobs, chunksize=64)))
    return data.scale_images(images), labels, class_names
