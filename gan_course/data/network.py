"""The network side of data: the offline switch, Keras' cache folder, and safe downloads.

Nothing here waits on a network longer than the ``timeout`` it is given, and nothing changes a
process-wide setting (no ``socket.setdefaulttimeout``).
"""

from __future__ import annotations

import hashlib
import os
import socket
from pathlib import Path

from gan_course.data.errors import DataError

__all__ = ["OFFLINE_ENV", "LARGE_DOWNLOAD_MB", "is_offline", "network_answers", "keras_home", "file_digest",
           "download_file"]

OFFLINE_ENV = "GAN_COURSE_OFFLINE"
# Downloads larger than this print their size and how to cancel before they start.
LARGE_DOWNLOAD_MB = 20


def is_offline() -> bool:
    """True when ``GAN_COURSE_OFFLINE`` is set to 1/true/yes."""
    return os.environ.get(OFFLINE_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def network_answers(host: str, timeout: float) -> bool:
    """True when ``host`` accepts a TCP connection on port 443 within ``timeout`` seconds.

    The loaders ask this before a download, so that without a network they fail (or fall back to
    an offline copy) in ``timeout`` seconds instead of waiting on a stalled connection."""
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


def file_digest(path: Path, algorithm: str) -> str:
    """The hex digest (``hashlib`` ``algorithm``) of the file at ``path``, read in 1 MiB blocks."""
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
