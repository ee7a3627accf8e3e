"""Progress for the course's long waits: sweeps, series of training runs, one long ``fit``, the
site and slide builds. One mechanism for all of them, with elapsed time and an estimate of what is left.

``track(items, desc, unit)`` walks through a list with a bar, as ``tqdm(items)`` does (scoring a few
sets, checking a few datasets). ``Progress(total, unit)`` counts items (trials, runs, lessons) done of a total; while an item runs,
``step(n, total)`` reports its own progress (a Keras run's steps). Inside ``with Progress(...)``
every ``fit`` of a course GAN (``gan.TwoPlayerGAN``) reports its steps to it by itself, through
``callbacks.FitProgress``; that callback also gives one standalone ``fit`` its own bar.

How it shows depends on where the output goes (``mode()``):

- ``"live"``: a redrawn bar. In a notebook opened in JupyterLab, Notebook or VS Code: tqdm's widget;
  in a terminal: tqdm's text bar.
- ``"log"``: plain lines, for output that is kept rather than watched: a file, a CI log, a notebook
  run by nbconvert, nbval, papermill or the site build (their kernels have no widget manager, and a
  redrawn text bar would be saved as thousands of updates). A line when an item finishes (the caller's
  message), and while one runs at most one line every ``LOG_INTERVAL`` seconds (30), sparser after
  the first 10 minutes (a twentieth of the time so far: about 60 lines in an hour). Nothing for a
  wait shorter than that, apart from the items' own lines.
- ``"off"``: nothing.

``GAN_COURSE_PROGRESS=live|log|off`` chooses; unset (``auto``), a kernel started by nbconvert,
nbclient, nbval, pytest or papermill, or any run with ``CI`` set, logs; another kernel and a terminal
get the live bar; anything else (a pipe, a file) logs. ``GAN_COURSE_PROGRESS_INTERVAL`` sets
``LOG_INTERVAL`` (seconds).

This module imports no Keras or TensorFlow: the site build uses it too. It only shows what a run
does, so the sweep cache's code digest (``experiments.code_digest``) leaves it out: editing it
does not train cached trials again.
"""

from __future__ import annotations

import os
import sys
import time

__all__ = ["Progress", "track", "mode", "active", "format_time", "LOG_INTERVAL"]

LOG_INTERVAL = 30.0  # seconds between two "still running" lines in log mode
_HEADLESS = ("nbconvert", "nbclient", "nbval", "pytest", "papermill", "jupyter-execute", "jupyter_execute")
_ACTIVE: list["Progress"] = []
_clock = time.monotonic  # tests replace it with a fake clock


def format_time(seconds: float) -> str:
    """``75`` -> ``"1:15"``, ``3700`` -> ``"1:01:40"``."""
    seconds = int(round(max(0.0, seconds)))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def _kernel() -> bool:
    """True inside a Jupyter kernel (ipykernel), whatever started it."""
    if "ipykernel" not in sys.modules:
        return False
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and hasattr(shell, "kernel")


def _parent_command() -> str:
    try:
        with open(f"/proc/{os.getppid()}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        pass
    try:
        import psutil

        return " ".join(psutil.Process(os.getppid()).cmdline())
    except Exception:  # no psutil, or the parent has gone
        return ""


def mode(stream=None) -> str:
    """``"live"``, ``"log"`` or ``"off"``: how progress shows on ``stream`` (default stdout); see
    the module's docstring."""
    chosen = os.environ.get("GAN_COURSE_PROGRESS", "auto").strip().lower()
    if chosen in ("live", "log", "off"):
        return chosen
    if os.environ.get("CI"):
        return "log"
    if _kernel():
        parent = _parent_command()
        return "log" if any(name in parent for name in _HEADLESS) else "live"
    stream = sys.stdout if stream is None else stream
    try:
        return "live" if stream.isatty() else "log"
    except (AttributeError, ValueError):
        return "log"


_choose_mode = mode  # Progress takes a parameter of that name


def active() -> "Progress | None":
    """The innermost ``Progress`` in a ``with`` block, or None."""
    return _ACTIVE[-1] if _ACTIVE else None


def _interval(elapsed: float = 0.0) -> float:
    """Seconds between two log lines: ``LOG_INTERVAL``, and a twentieth of the time so far once
    that is longer (a line every 30 s for the first 10 minutes, then sparser: an hour makes
    about 60 lines)."""
    try:
        base = float(os.environ.get("GAN_COURSE_PROGRESS_INTERVAL", LOG_INTERVAL))
    except ValueError:
        base = LOG_INTERVAL
    return max(base, elapsed / 20)


class Progress:
    """Items done of ``total`` (``unit``: "trial", "run", "lesson", "step"), the running item's own
    progress, the time since the start and an estimate of what is left.

    ``done``: items already finished before the start (a sweep's cached trials): they count as done,
    and do not enter the estimate of time per item. ``mode``: see :func:`mode` (default: chosen for
    stdout). ``delay``: seconds before a live bar appears (a wait shorter than that shows nothing).

    Use it as a context manager; inside, ``start(label)`` names the running item, ``step(n, total)``
    reports its progress, ``finish(message)`` counts it done and prints ``[k/N units] message |
    elapsed, about ... left``; ``update(n)`` counts ``n`` units done without a line (the unit of a
    standalone run: steps).
    """

    def __init__(self, total: int, unit: str = "trial", desc: str | None = None, done: int = 0,
                 mode: str | None = None, delay: float = 0.0, file=None):
        self.total, self.unit, self.desc = int(total), unit, desc
        self.done = self.initial = int(done)
        self.mode = mode or _choose_mode(file)
        self.delay, self.file = delay, file
        self.label, self.sub, self.info = None, None, ""
        self.lines = 0  # lines printed in log mode
        self._free, self._free_seconds = self.done, 0.0  # items that cost no time (cached), and what they took
        self._bar = self._inner = None
        self._start = self._item_start = self._last_line = _clock()

    # -- what it prints
    def _out(self):
        return self.file if self.file is not None else sys.stdout

    def _print(self, text: str) -> None:
        self.lines += 1
        self._last_line = _clock()
        if self._bar is not None:
            self._bar.write(text, file=self._out())
        else:
            print(text, file=self._out(), flush=True)

    def _fraction(self) -> float:
        """How much of the running item is done, 0..1 (0 when it reports nothing)."""
        if self.sub is None or not self.sub[1]:
            return 0.0
        return min(1.0, self.sub[0] / self.sub[1])

    def _due(self) -> bool:
        """Time for a "still running" line in log mode."""
        return _clock() - self._last_line >= _interval(self.elapsed())

    def item_seconds(self) -> float:
        """Seconds since the running item started."""
        return _clock() - self._item_start

    def elapsed(self) -> float:
        return _clock() - self._start

    def left(self) -> float | None:
        """Seconds left, from the time per item of the items that ran here (the running item's
        reported fraction included); None before anything can be estimated."""
        ran = self.done - self._free + self._fraction()
        if ran <= 0:
            return None
        return (self.elapsed() - self._free_seconds) / ran * max(0.0, self.total - self.done - self._fraction())

    def _times(self) -> str:
        left = self.left()
        estimate = "" if left is None or self.done >= self.total else f", about {format_time(left)} left"
        return f"{format_time(self.elapsed())} elapsed{estimate}"

    def _count(self) -> str:
        return f"{self.done}/{self.total} {self.unit}s"

    def status(self) -> str:
        """One line: items done of the total, the running item and its progress, the times."""
        parts = [f"{self.desc}: " if self.desc else "", self._count()]
        if self.label is not None:
            parts.append(f" done, now {self.label}")
            if self.sub is not None:
                parts.append(f": {self.sub[2]} {self.sub[0]}/{self.sub[1]}" if self.sub[1] else f": {self.sub[2]} {self.sub[0]}")
        if self.info:
            parts.append(f" ({self.info})")
        parts.append(f" | {self._times()}")
        return "".join(parts)

    # -- the live bars
    def _open_bar(self):
        if self.mode != "live" or self._bar is not None:
            return
        from tqdm.auto import tqdm

        self._bar = tqdm(total=self.total, initial=self.initial, desc=self.desc or f"{self.unit}s", unit=self.unit,
                         file=self._out(), mininterval=0.5, delay=self.delay, ncols=self._columns())

    @staticmethod
    def _columns() -> int | None:
        """The terminal's width (100 where it says 0, as a bare pseudo-terminal does); None in a kernel."""
        if _kernel():
            return None
        import shutil

        return shutil.get_terminal_size((100, 20)).columns or 100

    def _close_inner(self):
        if self._inner is not None:
            self._inner.close()
            self._inner = None

    # -- the API
    def __enter__(self):
        _ACTIVE.append(self)
        self._open_bar()
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def close(self) -> None:
        if self in _ACTIVE:
            _ACTIVE.remove(self)
        self._close_inner()
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def start(self, label: str, announce: bool = False) -> None:
        """The next item starts; ``announce`` prints a line in log mode too (a lesson of a build)."""
        self.label, self.sub, self.info = label, None, ""
        self._item_start = _clock()
        self._close_inner()
        if self._bar is not None:
            self._bar.set_postfix_str(label, refresh=True)
        elif announce and self.mode == "log":
            self._print(f"{self.desc + ': ' if self.desc else ''}{self.unit} {self.done + 1}/{self.total}: {label} "
                        f"... | {self._times()}")

    def step(self, n: int, total: int | None, what: str = "step", info: str = "") -> None:
        """The running item has done ``n`` of ``total`` ``what`` (total None: unknown); ``info``: a
        short text to show with it (e.g. the last losses)."""
        self.sub, self.info = (int(n), int(total) if total else None, what), info
        if self.mode == "live":
            if self._bar is None:
                return
            if self._inner is None:
                from tqdm.auto import tqdm

                self._inner = tqdm(total=total, desc=self.label or what, unit=what, leave=False, file=self._out(),
                                   mininterval=0.5, ncols=self._columns())
            self._inner.n = int(n)
            if info:
                self._inner.set_postfix_str(info, refresh=False)
            self._inner.refresh() if self._inner.n >= (total or 0) else self._inner.update(0)
            self._bar.update(0)  # the outer bar's clock
        elif self.mode == "log" and self._due():
            self._print(self.status())

    def update(self, n: int = 1, info: str = "") -> None:
        """``n`` more units done, without a line of their own (log mode prints the status at most
        every ``LOG_INTERVAL`` seconds)."""
        self.done += n
        self.info = info or self.info
        if self._bar is not None:
            if info:
                self._bar.set_postfix_str(info, refresh=False)
            self._bar.update(n)
        elif self.mode == "log" and self._due():
            self._print(self.status())

    def finish(self, message: str | None = None, cached: bool = False) -> float:
        """The running item is done: count it and print ``[k/N units] message | times`` (no line
        without ``message``). ``cached``: it was taken from a cache and stays out of the estimate.
        Returns the item's seconds."""
        seconds = _clock() - self._item_start
        if cached:
            self._free, self._free_seconds = self._free + 1, self._free_seconds + seconds
        self.done += 1
        self.label, self.sub, self.info = None, None, ""
        self._close_inner()
        if self._bar is not None:
            self._bar.update(1)
        if message is not None and self.mode != "off":
            self._print(f"[{self._count()}] {message} | {self._times()}")
        self._item_start = _clock()
        return seconds


def track(items, desc: str | None = None, unit: str = "item"):
    """Yield ``items`` one by one with a ``Progress`` over them, as ``tqdm(items)`` would: the items
    done of the total, the time so far and an estimate of what is left (a line at most every
    ``LOG_INTERVAL`` seconds in log mode). For a loop of a few slow items, e.g. the sets a cell scores."""
    items = items if hasattr(items, "__len__") else list(items)
    with Progress(len(items), unit=unit, desc=desc) as bar:
        for item in items:
            yield item
            bar.update(1)
