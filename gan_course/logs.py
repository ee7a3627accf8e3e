"""Quiet, honest logs: hide TensorFlow's known harmless C++ error lines, and nothing else.

TensorFlow's C++ runtime prints some ERROR lines that are not errors of the course or of the
student: in red in a notebook, they read as failures. Two appear in every run here:

- ``remapper failed: ... LeakyReluGrad ... BiasAdd``: TensorFlow's graph optimiser tries to fuse
  Conv2D + BiasAdd + LeakyReLU, and gives up on that graph when the gradient needs the BiasAdd's
  output (a TensorFlow bug). Training is unaffected. The DCGAN discriminator avoids the pattern
  (dropout sits before LeakyReLU); a WGAN critic cannot without changing its maths.
- ``failed call to cuInit``: TensorFlow looked for a GPU and there is none; with it come
  start-up notes (oneDNN is on, no CUDA drivers) that ``TF_CPP_MIN_LOG_LEVEL`` cannot silence
  because they are printed before TensorFlow reads it.

``hide_known_tensorflow_noise()`` puts a filter between the process's standard error (file
descriptor 2, where C++ writes) and wherever it went before (the terminal, or the notebook:
ipykernel captures that descriptor too). A line matching ``KNOWN_NOISE`` is dropped; every other
line passes unchanged, in order. Set ``GAN_COURSE_RAW_LOGS=1`` to see everything.
``import gan_course`` calls it, so it is on before TensorFlow starts.
"""

from __future__ import annotations

import atexit
import os
import re
import sys
import threading

__all__ = ["KNOWN_NOISE", "RAW_ENV", "hide_known_tensorflow_noise", "is_known_noise"]

RAW_ENV = "GAN_COURSE_RAW_LOGS"
KNOWN_NOISE = (
    re.compile(r"meta_optimizer\.cc:\d+\] remapper failed: .*LeakyRelu"),
    re.compile(r"cuda_platform\.cc:\d+\] failed call to cuInit"),
    re.compile(r"port\.cc:\d+\] oneDNN custom operations are on"),
    re.compile(r"cudart_stub\.cc:\d+\] Could not find cuda drivers"),
    re.compile(r"cpu_feature_guard\.cc:\d+\] This TensorFlow binary is optimized"),
    re.compile(r"^To enable the following instructions: .* rebuild TensorFlow with the appropriate compiler flags\.$"),
    re.compile(r"^WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR$"),
)

_installed = False
_lock = threading.Lock()


def is_known_noise(line: str) -> bool:
    """True for a line of one of the harmless messages above."""
    return any(pattern.search(line) for pattern in KNOWN_NOISE)


def hide_known_tensorflow_noise() -> bool:
    """Install the filter on file descriptor 2 (once per process). Returns True when it is on."""
    global _installed
    with _lock:
        if _installed:
            return True
        if os.environ.get(RAW_ENV) == "1" or "pytest" in sys.modules:
            return False  # asked for raw logs; or inside pytest, which captures descriptor 2 itself
        try:
            sys.stderr.flush()
            original = os.dup(2)
            read_end, write_end = os.pipe()
            os.dup2(write_end, 2)
            os.close(write_end)
        except OSError:
            return False
        thread = threading.Thread(target=_forward, args=(read_end, original), name="log-filter", daemon=True)
        thread.start()
        atexit.register(_drain, original, thread)
        _installed = True
        return True


def _forward(read_end: int, original: int) -> None:
    with os.fdopen(read_end, "rb", buffering=0) as pipe:
        pending = b""
        while chunk := pipe.read(65536):
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                if not is_known_noise(line.decode("utf-8", "replace")):
                    _write(original, line + b"\n")
        if pending and not is_known_noise(pending.decode("utf-8", "replace")):
            _write(original, pending)


def _write(fd: int, data: bytes) -> None:
    try:
        while data:
            data = data[os.write(fd, data):]
    except OSError:
        pass  # the destination is gone (a closed terminal): nothing left to show


def _drain(original: int, thread: threading.Thread) -> None:
    # At exit: put the original descriptor back, so the pipe's write end closes and the thread
    # forwards what is left (a last traceback included) before the process ends.
    try:
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    os.dup2(original, 2)
    thread.join(timeout=5)
