"""Where the course writes things: outputs of runs, and caches of data it makes or downloads.

Also the two checks that keep a run's outputs safe: ``check_writable`` (a folder that cannot
be written, or a nearly full disk, is a named error before training starts, not after an
hour) and ``lock_folder`` (two runs on one outputs folder: the second names the process that
holds it and stops, instead of both writing the same backup).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import socket
import sys
import tempfile
import time
from pathlib import Path

__all__ = [
    "OutputFolderError",
    "FolderInUseError",
    "project_root",
    "outputs_dir",
    "cache_dir",
    "check_writable",
    "lock_folder",
    "LOCK_NAME",
]

LOCK_NAME = ".lock"


class OutputFolderError(OSError):
    """An outputs folder that cannot be used; the message names the folder, the cause and the fix."""

    def __str__(self) -> str:
        return self.args[1] if len(self.args) > 1 else super().__str__()


class FolderInUseError(OutputFolderError):
    """Another process holds the folder's lock (see ``lock_folder``); ``holder`` says which."""

    def __init__(self, message: str, holder: dict | None = None):
        super().__init__(errno.EBUSY, message)
        self.holder = holder or {}


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
    """``$GAN_COURSE_OUTPUTS`` or ``<project>/outputs``, plus ``name``; created if missing.

    Raises:
        OutputFolderError: the folder cannot be created or written (the message says how to
            choose another one).
    """
    base = Path(os.environ.get("GAN_COURSE_OUTPUTS") or project_root() / "outputs")
    folder = base / name if name else base
    return check_writable(folder)


def cache_dir(name: str = "") -> Path:
    """``$GAN_COURSE_CACHE`` or ``~/.cache/gan-course``, plus ``name``; created if missing."""
    base = Path(os.environ.get("GAN_COURSE_CACHE") or Path.home() / ".cache" / "gan-course")
    folder = base / name if name else base
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _fix_hint(folder: Path) -> str:
    return (
        f"Choose another folder (--out /somewhere, or GAN_COURSE_OUTPUTS=/somewhere for every lesson), "
        f"or make this one writable (chmod u+w {folder})."
    )


def check_writable(folder, min_free_mb: float | None = None) -> Path:
    """Create ``folder`` if needed and prove it can be written (a small file is written and
    deleted); optionally check that the disk has ``min_free_mb`` megabytes free.

    Returns the folder. Raises ``OutputFolderError`` naming the folder, the cause and the fix,
    so the problem shows before training rather than when the first checkpoint is saved.
    """
    folder = Path(folder).expanduser()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError as err:
        raise OutputFolderError(errno.ENOTDIR, f"{folder} exists and is a file, not a folder. {_fix_hint(folder)}") from err
    except OSError as err:
        raise OutputFolderError(
            err.errno, f"Cannot create the outputs folder {folder}: {err.strerror or err}. {_fix_hint(folder)}"
        ) from err
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-test-") as probe:
            probe.write(b"gan-course")
            probe.flush()
    except OSError as err:
        raise OutputFolderError(
            err.errno, f"Cannot write to the outputs folder {folder}: {err.strerror or err}. {_fix_hint(folder)}"
        ) from err
    if min_free_mb is not None:
        free_mb = shutil.disk_usage(folder).free / 2**20
        if free_mb < min_free_mb:
            raise OutputFolderError(
                errno.ENOSPC,
                f"Only {free_mb:.0f} MB free on the disk of {folder}; this run needs about {min_free_mb:.0f} MB "
                f"for its pictures, models and backup. Free some space or choose a folder on another disk "
                f"(--out, or GAN_COURSE_OUTPUTS).",
            )
    return folder


def _read_holder(lock_path: Path) -> dict:
    try:
        return json.loads(lock_path.read_text() or "{}")
    except (OSError, ValueError):
        return {}


def _try_lock(fd: int) -> bool:
    """Take an exclusive, non-blocking lock on ``fd``; False when another process holds it."""
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError as err:
        if err.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
            return False
        raise


@contextlib.contextmanager
def lock_folder(folder, what: str | None = None):
    """Hold ``folder/.lock`` for the duration of a ``with`` block, so one run at a time writes there.

    The lock is the operating system's (``flock``): it is released when the process ends, even
    by SIGKILL or a power cut, so a crashed run never leaves a stale lock behind and the same
    command resumes. The file records who holds it (pid, host, command, start time).

    Raises:
        FolderInUseError: another live process holds the lock; the message names it.
    """
    folder = Path(folder)
    check_writable(folder)
    lock_path = folder / LOCK_NAME
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if not _try_lock(fd):
            holder = _read_holder(lock_path)
            who = (
                f"process {holder['pid']} on {holder.get('host', '?')} (`{holder.get('command', '?')}`, "
                f"started {holder.get('started', '?')})"
                if holder.get("pid")
                else "another process"
            )
            raise FolderInUseError(
                f"{folder} is in use by {who}. Two runs writing one folder would overwrite each other's "
                f"backup. Wait for it to finish, stop it (kill {holder.get('pid', '<pid>')}), or give this run "
                f"another folder (--out).",
                holder,
            )
        info = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "command": what or " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]) or "python",
            "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        }
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps(info).encode())
        os.fsync(fd)
        yield lock_path
    finally:
        os.close(fd)  # closing the descriptor releases the lock
