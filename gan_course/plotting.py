"""Pictures of training: image grids, loss curves, GIFs and architecture drawings."""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np

from gan_course.data import unscale_images

__all__ = ["image_grid", "save_image_grid", "show_images", "plot_losses", "make_gif", "plot_architecture"]


def image_grid(images, ncols: int | None = None, padding: int = 2) -> np.ndarray:
    """Tile a batch (n, h, w, c) of images in [-1, 1] into one uint8 picture.

    Returns (H, W) for one channel, (H, W, 3) for three. Empty cells stay black.
    """
    images = unscale_images(images)
    if images.ndim != 4:
        raise ValueError(f"images must have shape (n, height, width, channels), got {images.shape}")
    n, h, w, c = images.shape
    ncols = ncols or int(np.ceil(np.sqrt(n)))
    nrows = int(np.ceil(n / ncols))
    grid = np.zeros((nrows * (h + padding) + padding, ncols * (w + padding) + padding, c), dtype=np.uint8)
    for i, img in enumerate(images):
        r, col = divmod(i, ncols)
        top, left = padding + r * (h + padding), padding + col * (w + padding)
        grid[top : top + h, left : left + w] = img
    return grid[..., 0] if c == 1 else grid


def save_image_grid(images, path, ncols: int | None = None, scale: int = 2) -> Path:
    """Save ``image_grid(images)`` as a PNG, enlarged ``scale`` times with sharp pixels."""
    from PIL import Image

    picture = Image.fromarray(image_grid(images, ncols))
    if scale > 1:
        picture = picture.resize((picture.width * scale, picture.height * scale), Image.NEAREST)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    picture.save(path)
    return path


def show_images(images, ncols: int | None = None, title: str | None = None, ax=None):
    """Draw ``image_grid(images)`` with matplotlib (grayscale for one channel)."""
    import matplotlib.pyplot as plt

    grid = image_grid(images, ncols)
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 6))
    ax.imshow(grid, cmap="gray" if grid.ndim == 2 else None, vmin=0, vmax=255)
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax


def plot_losses(history, path=None, keys=("d_loss", "g_loss"), ax=None):
    """Plot per-epoch losses from a ``keras.callbacks.History`` or its ``.history`` dict.

    A GAN's losses say who is winning the game, not how good the images are: a falling
    generator loss can mean a weak discriminator, and a flat pair can hide mode collapse.
    """
    import matplotlib.pyplot as plt

    logs = getattr(history, "history", history)
    missing = [k for k in keys if k not in logs]
    if missing:
        raise KeyError(f"History has no {missing}; it has {sorted(logs)}")
    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 4))
    for key in keys:
        ax.plot(np.arange(1, len(logs[key]) + 1), logs[key], marker="o", ms=3, label=key)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.legend()
    ax.grid(alpha=0.3)
    if path is not None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        ax.figure.savefig(path, dpi=100, bbox_inches="tight")
    return ax


def make_gif(frames, path, duration_ms: int = 300) -> Path:
    """Write an animated GIF from PNG paths (or uint8 arrays), one frame each, looping."""
    from PIL import Image

    pictures = [Image.open(f) if isinstance(f, (str, Path)) else Image.fromarray(np.asarray(f)) for f in frames]
    if not pictures:
        raise ValueError("make_gif needs at least one frame; did the monitor save any grids?")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pictures[0].save(path, save_all=True, append_images=pictures[1:], duration=duration_ms, loop=0)
    return path


@contextlib.contextmanager
def _keras2_output_shapes(model):
    # visualkeras 0.2 reads layer.output_shape, which Keras 3 removed; lend it for the drawing.
    lent = []
    for layer in model.layers:
        if not hasattr(layer, "output_shape"):
            object.__setattr__(layer, "output_shape", tuple(layer.output.shape))
            lent.append(layer)
    try:
        yield
    finally:
        for layer in lent:
            object.__delattr__(layer, "output_shape")


def plot_architecture(model, path=None, legend: bool = True, **kwargs):
    """Draw ``model`` as visualkeras' layered boxes, working around its Keras 3 breakage.

    Returns the PIL image (Jupyter displays it); saves it too when ``path`` is given.
    Extra keyword arguments go to ``visualkeras.layered_view``.
    """
    import warnings

    import visualkeras

    with _keras2_output_shapes(model), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # visualkeras' own deprecation chatter
        picture = visualkeras.layered_view(model, legend=legend, **kwargs)
    if path is not None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        picture.save(path)
    return picture
