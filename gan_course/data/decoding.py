"""One image file's verdict: TensorFlow decodes it, Pillow converts it, or it is unusable, and why."""

from __future__ import annotations

import errno
import hashlib
import io
import os
import re
import threading
from pathlib import Path

import numpy as np

__all__ = ["judge"]

# Formats tf.io.decode_image reads in TF 2.21; anything else (TIFF...) is converted through Pillow.
_TF_FORMATS = ("png", "jpeg", "gif", "bmp", "webp")
_PILLOW_CHANNELS = {"1": 1, "L": 1, "I": 1, "F": 1, "I;16": 1, "LA": 2, "La": 2, "P": 3, "RGB": 3, "RGBA": 4, "RGBa": 4}
_PNG_CHANNELS = {0: 1, 2: 3, 3: 3, 4: 2, 6: 4}  # PNG colour type -> channels


def _sniff(head: bytes) -> str:
    """The image format from the first bytes (the extension can lie)."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:2] == b"BM":
        return "bmp"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    return ""


def _webp_is_animated(raw: bytes) -> bool:
    # Extended WebP (VP8X chunk) with the animation flag. TF 2.21's decoder rejects animated WebP
    # with channels=3 and corrupts memory with channels=0, so such files go through Pillow.
    return raw[12:16] == b"VP8X" and len(raw) > 20 and bool(raw[20] & 0x02)


def _read_bytes(path: Path) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def _channels_from_header(raw: bytes, fmt: str) -> int:
    if fmt == "png" and len(raw) > 25:
        return _PNG_CHANNELS.get(raw[25], 3)
    from PIL import Image

    try:
        with Image.open(io.BytesIO(raw)) as im:
            return _PILLOW_CHANNELS.get(im.mode, 3)
    except Exception:  # TensorFlow decodes it; Pillow's opinion of the header does not matter
        return 3


def _tf_message(err: Exception) -> str:
    text = getattr(err, "message", None) or str(err)
    text = re.sub(r"\{\{[^}]*\}\}\s*", "", text)
    return re.sub(r"\s*\[Op:\w+\]", "", text).strip().splitlines()[-1]


def _convert_with_pillow(raw: bytes, dest: Path) -> int:
    """Decode ``raw`` with Pillow (first frame) and write it to ``dest`` as PNG; return its channels."""
    from PIL import Image

    with Image.open(io.BytesIO(raw)) as im:
        im.seek(0)
        mode = {"1": "L", "I": "L", "F": "L", "I;16": "L", "L": "L", "LA": "LA", "La": "LA", "RGBA": "RGBA",
                "RGBa": "RGBA", "PA": "RGBA"}.get(im.mode, "RGB")
        if im.mode == "P" and "transparency" in im.info:
            mode = "RGBA"
        if im.mode in ("I", "I;16", "F"):
            arr = np.asarray(im, dtype=np.float64)
            top = 65535.0 if im.mode.startswith("I") and arr.max() > 255 else 255.0
            out = Image.fromarray(np.clip(arr / top * 255.0, 0, 255).astype(np.uint8), "L")
        else:
            out = im.convert(mode)
        tmp = dest.with_name(f".{dest.name}.part-{os.getpid()}-{threading.get_ident()}")
        out.save(tmp, "PNG")
        os.replace(tmp, dest)
        return _PILLOW_CHANNELS[mode]


def judge(path: Path, convert_dir: Path | None) -> tuple[str, int, str, str]:
    """(status, channels, reason, converted path) for one file; status is "ok", "converted" or "bad"."""
    import tensorflow as tf

    try:
        raw = _read_bytes(path)
    except PermissionError:
        return "bad", 0, f"cannot be read: permission denied. Fix: chmod a+r '{path}' (or copy it somewhere you own)", ""
    except OSError as err:
        if err.errno == errno.ELOOP:
            why = "a symbolic link that leads back to itself (a loop). Fix: replace it with the real file"
        elif err.errno == errno.ENOENT and os.path.islink(path):
            why = f"a broken symbolic link (to {os.readlink(path)}, which does not exist). Fix: delete the link"
        else:
            why = f"cannot be read: {err.strerror or err}"
        return "bad", 0, why, ""
    if not raw:
        return "bad", 0, "an empty file (0 bytes): an interrupted copy or download? Copy it again or delete it", ""
    fmt = _sniff(raw[:32])
    if fmt in _TF_FORMATS and not (fmt == "webp" and _webp_is_animated(raw)):
        try:  # exactly the decode the training pipeline runs
            tf.io.decode_image(raw, channels=3, expand_animations=False)
        except (tf.errors.OpError, ValueError) as err:
            return "bad", 0, (f"TensorFlow cannot decode this {fmt.upper()} ({_tf_message(err)}): the file is "
                              "truncated or damaged (an interrupted copy or download?). Copy it again or delete it"), ""
        return "ok", _channels_from_header(raw, fmt), "", ""
    # Not a format TensorFlow decodes (or one its decoder mishandles): convert it through Pillow now,
    # before training, or refuse it now.
    if convert_dir is None:
        return "bad", 0, f"a {fmt or 'non-image'} file TensorFlow cannot decode. Convert it to PNG or JPEG", ""
    st = os.stat(path)
    key = hashlib.sha1(f"{os.path.abspath(path)}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()[:20]
    dest = convert_dir / f"{key}.png"
    try:
        channels = _convert_with_pillow(raw, dest)
    except Exception as err:  # Pillow's many decoder errors: the file is not an image we can use
        what = f"a damaged {fmt.upper()}" if fmt else "not an image TensorFlow or Pillow can read"
        return "bad", 0, f"{what} ({err.__class__.__name__}: {err}). Delete or replace it", ""
    return "converted", channels, f"{fmt or 'image'} converted through Pillow (first frame)", str(dest)
