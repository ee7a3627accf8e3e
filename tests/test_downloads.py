"""Downloads cannot hang or poison the cache: a timeout per call, checksums, atomic files, KERAS_HOME.

A local HTTP server stands in for the internet (the tests stay offline).
"""

import hashlib
import http.server
import io
import socket
import threading
import time

import numpy as np
import pytest

from gan_course import data
from gan_course.data import DataError
from gan_course.metrics import inception

PAYLOAD = bytes(range(256)) * 400  # 100 KB


class _Handler(http.server.BaseHTTPRequestHandler):
    files: dict = {}

    def do_GET(self):
        if self.path == "/stall":  # headers, then nothing: a server that stopped sending
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            time.sleep(8)
            return
        body = self.files.get(self.path)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    _Handler.files = {"/payload.bin": PAYLOAD}
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", _Handler.files
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def no_global_timeout(monkeypatch):
    """Fail if anything sets a process-wide socket timeout."""
    monkeypatch.setattr(socket, "setdefaulttimeout", lambda *a: pytest.fail("socket.setdefaulttimeout was called"))


def test_download_is_checked_then_renamed(server, tmp_path, no_global_timeout):
    url, _ = server
    dest = tmp_path / "sub" / "payload.bin"
    data.download_file(f"{url}/payload.bin", dest, timeout=5, sha256=hashlib.sha256(PAYLOAD).hexdigest())
    assert dest.read_bytes() == PAYLOAD
    with pytest.raises(DataError, match="incomplete or corrupt"):
        data.download_file(f"{url}/payload.bin", tmp_path / "bad.bin", timeout=5, sha256="0" * 64)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sub"]  # no half file, no temporary left


def test_stalled_server_times_out_per_call(server, tmp_path, no_global_timeout):
    url, _ = server
    start = time.perf_counter()
    with pytest.raises(DataError, match="timed out"):
        data.download_file(f"{url}/stall", tmp_path / "x.bin", timeout=1)
    assert time.perf_counter() - start < 6
    assert socket.getdefaulttimeout() is None and not list(tmp_path.iterdir())


def test_large_download_says_its_size_and_how_to_cancel_first(server, tmp_path, monkeypatch, capsys):
    url, _ = server
    monkeypatch.setattr(data.network, "LARGE_DOWNLOAD_MB", 0.05)
    data.download_file(f"{url}/payload.bin", tmp_path / "p.bin", timeout=5, what="the payload")
    out = capsys.readouterr().out
    assert "the payload: 0 MB" in out and "Ctrl-C" in out


def _fake_mnist():
    buf = io.BytesIO()
    x = np.arange(6 * 28 * 28, dtype=np.uint8).reshape(6, 28, 28)
    np.savez(buf, x_train=x[:4], y_train=np.arange(4, dtype=np.uint8), x_test=x[4:], y_test=np.arange(2, dtype=np.uint8))
    return buf.getvalue()


def test_mnist_reads_keras_home_and_refetches_a_damaged_copy(server, tmp_path, monkeypatch, capsys, no_global_timeout):
    url, files = server
    raw = _fake_mnist()
    files["/mnist.npz"] = raw
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))
    monkeypatch.setattr(data.mnist, "_KERAS_MNIST_SHA256", hashlib.sha256(raw).hexdigest())
    monkeypatch.setattr(data.mnist, "_KERAS_MNIST_URL", f"{url}/mnist.npz")
    monkeypatch.setattr(data.mnist, "network_answers", lambda host, timeout: True)
    cached = tmp_path / "kh" / "datasets" / "mnist.npz"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(raw[: len(raw) // 2])  # what an interrupted Keras download leaves
    m = data.load_mnist("train", source="keras", verbose=False)
    assert "incomplete or damaged" in capsys.readouterr().out
    assert len(m) == 4 and cached.read_bytes() == raw
    # Now cached and whole: read from KERAS_HOME without the network.
    monkeypatch.setattr(data.mnist, "network_answers", lambda *a: pytest.fail("network was touched"))
    assert len(data.load_mnist("test", source="keras", verbose=False)) == 2


def test_inception_weights_come_from_keras_home_and_a_timed_download(server, tmp_path, monkeypatch, no_global_timeout):
    import keras

    url, files = server
    files["/weights.h5"] = PAYLOAD
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))
    monkeypatch.setattr(inception, "_INCEPTION_MD5", hashlib.md5(PAYLOAD).hexdigest())
    monkeypatch.setattr(inception, "_INCEPTION_URL", f"{url}/weights.h5")
    loaded = []
    monkeypatch.setattr(keras.Model, "load_weights", lambda self, path, *a, **k: loaded.append(path))
    target = tmp_path / "kh" / "models" / inception.INCEPTION_WEIGHTS_FILE
    target.parent.mkdir(parents=True)
    target.write_bytes(PAYLOAD[:1000])  # a half file from an interrupted download does not count
    assert inception._cached_inception_weights() is None
    inception._build_inception.__wrapped__(75, True)  # downloads (timeout per call), checks, renames, loads
    assert loaded == [target] and target.read_bytes() == PAYLOAD
    assert inception._cached_inception_weights() == target
