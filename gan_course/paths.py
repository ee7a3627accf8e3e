"""Where the course writes things: outputs of runs, and caches of data it makes or downloads."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["project_root", "outputs_dir", "cache_dir"]


def project_root(start: Path | None = None) -> Path:
    """The nearest folder at or above ``start`` (default: cwd) that holds ``pyproject.toml``.

    Notebooks run with their own folder as cwd, so outputs land in the project's
    ``outputs/`` whether a lesson runs from ``notebooks/`` or the CLI from the root.
    Falls back to ``start`` when no project is found (an installed, non-editable copy).
    """
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").is_file() and (folder / "gan_course").is_dir():
            return folder
    return here


def outputs_dir(name: str = "") -> Path:
    """``$GAN_COURSE_OUTPUTS`` or ``<project>/outputs``, plus ``name``; created if missing."""
    base = Path(os.environ.get("GAN_COURSE_OUTPUTS") or project_root() / "outputs")
    folder = base / name if name else base
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def cache_dir(name: str = "") -> Path:
    """``$GAN_COURSE_CACHE`` or ``~/.cache/gan-course``, plus ``name``; created if missing."""
    base = Path(os.environ.get("GAN_COURSE_CACHE") or Path.home() / ".cache" / "gan-course")
    folder = base / name if name else base
    folder.mkdir(parents=True, exist_ok=True)
    return folder
