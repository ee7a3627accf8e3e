"""A face score for real photos: in what share of images does a face detector the course did not
train find a face?

The course's face classifier (``gan_course.metrics.faces``) knows only the course's drawings, and
the random-feature FID cannot tell a face-shaped colour blob from a face. For a folder of real
photos of faces (CelebA, or a student's own) this module asks an outside judge: OpenCV's
frontal-face detector, a cascade of boosted Haar-like features as Viola and Jones introduced it
("Rapid object detection using a boosted cascade of simple features", CVPR 2001). The trained
cascade (``haarcascade_frontalface_default.xml``: 25 stages on a 24x24 window, made by Rainer
Lienhart for OpenCV) ships inside the ``opencv-python-headless`` wheel (``cv2.data.haarcascades``):
nothing is downloaded, and the course never trained it. Like Viola and Jones' detector it learned
from crops of real photos of upright, frontal faces against photos without faces.

``face_detection_share(images)`` returns the share of images in which it finds at least one
face; ``detect_faces`` gives the per-image answer. Read the share next to the same share for
held-out real images of the same folder (the anchor: what the detector finds in real data at
this size) and for an untrained generator (what it finds by chance).

Where it fails, and so what the share cannot see:

- **drawn faces**: anime faces (large eyes, little or no nose, flat shading) lack the pattern of
  light and shadow it learned, so it finds almost none even in real anime images: there the share
  measures nothing. In the course's photo-style drawings (the offline stand-in for CelebA) it
  finds a face in only part of the real images: compare with that anchor, and trust the course's
  face classifier (``metrics.score_faces``) more there;
- **tiny images**: its smallest window is 24x24 pixels, so small images are first scaled up
  (``size``); what a 16x16 or 32x32 image does not hold, scaling does not add;
- **profiles, strong rotations, faces cut by the border**: it was trained on upright frontal faces;
- a detection says "a frontal-face pattern is here", not "a good face": it scores presence,
  not realism or variety (read it with the FID and the grids).
"""

from __future__ import annotations

import functools

import numpy as np

__all__ = [
    "FACE_DETECTOR_LABEL",
    "CASCADE_FILE",
    "DETECTOR_SIZE",
    "load_face_cascade",
    "detect_faces",
    "face_detection_share",
]

CASCADE_FILE = "haarcascade_frontalface_default.xml"
FACE_DETECTOR_LABEL = "OpenCV Haar cascade, frontal faces (Viola & Jones 2001), trained on real photos"
DETECTOR_SIZE = 96  # pixels: every image is scaled (bilinear) so its shorter side has this many
INSTALL_HINT = "pip install opencv-python-headless (it is in requirements.txt: pip install -r requirements.txt)"


def _cv2():
    try:
        import cv2
    except ImportError as err:
        raise ImportError(f"The face detector needs OpenCV, which is not installed. Install it with: {INSTALL_HINT}") from err
    return cv2


@functools.lru_cache(maxsize=1)
def load_face_cascade():
    """OpenCV's trained frontal-face cascade (``CASCADE_FILE``) from the installed wheel, loaded once."""
    cv2 = _cv2()
    path = f"{cv2.data.haarcascades}{CASCADE_FILE}"
    cascade = cv2.CascadeClassifier(path)
    if cascade.empty():
        raise FileNotFoundError(f"OpenCV could not read its face cascade {path}; reinstall it: {INSTALL_HINT}")
    return cascade


def _grey_uint8(images) -> np.ndarray:
    """Check the course's image convention and convert: float (n, h, w, 1 or 3) in [-1, 1] -> uint8 grey (n, h, w)."""
    x = np.asarray(images)
    if x.dtype == np.uint8:
        raise ValueError("The face detector takes float images in [-1, 1], got uint8 pixels; "
                         "scale them first with gan_course.data.scale_images.")
    if not np.issubdtype(x.dtype, np.floating):
        raise ValueError(f"The face detector takes float images in [-1, 1], got dtype {x.dtype}.")
    if x.ndim != 4 or x.shape[-1] not in (1, 3):
        raise ValueError(f"The face detector takes a batch (n, height, width, channels) with 1 (grey) or 3 (RGB) "
                         f"channels, got shape {x.shape}; add the batch axis with images[None] for one image.")
    if len(x) == 0:
        raise ValueError("No images to score")
    if not np.isfinite(x).all():
        raise ValueError("The images hold NaN or inf values (a diverged generator?): there is nothing to detect.")
    if x.max() > 1.5 or x.min() < -1.5:
        raise ValueError(f"Images must be in [-1, 1] (they span [{x.min():g}, {x.max():g}]); "
                         "scale uint8 pixels with gan_course.data.scale_images first.")
    x = x.astype(np.float32)
    if x.shape[-1] == 3:  # ITU-R BT.601 luma, what cv2.COLOR_RGB2GRAY uses
        x = x @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    else:
        x = x[..., 0]
    return np.clip(np.round((x + 1.0) * 127.5), 0, 255).astype(np.uint8)


def detect_faces(images, size: int = DETECTOR_SIZE, min_neighbors: int = 3, min_face: float = 0.25) -> np.ndarray:
    """For each image, does OpenCV's frontal-face detector find at least one face? Booleans of shape (n,).

    Args:
        images: float images in [-1, 1], (n, height, width, channels) with 1 (grey) or 3 (RGB)
            channels, as the course's data and generators give them.
        size: each image is scaled (bilinear) so its shorter side has ``size`` pixels before
            detection: the cascade's smallest window is 24x24, too large for the faces in a
            32x32 image, and far larger faces only cost time.
        min_neighbors: how many overlapping detections a face needs (OpenCV's ``minNeighbors``);
            a single window's hit is often a false alarm in texture or noise.
        min_face: the smallest face searched for, as a fraction of ``size`` (``minSize``): the
            course's images are face crops, so a face far smaller than the image is a false alarm.

    The detector (``load_face_cascade``) looks at 8-bit grey images (BT.601 luma of RGB) and
    searches windows growing by 10% a step (``scaleFactor=1.1``).
    """
    grey = _grey_uint8(images)
    cv2 = _cv2()
    cascade = load_face_cascade()
    h, w = grey.shape[1:]
    scale = size / min(h, w)
    out_size = (max(1, round(w * scale)), max(1, round(h * scale)))  # cv2 sizes are (width, height)
    smallest = max(1, round(min_face * size))
    found = np.zeros(len(grey), dtype=bool)
    for i, image in enumerate(grey):
        image = cv2.resize(image, out_size, interpolation=cv2.INTER_LINEAR)
        boxes = cascade.detectMultiScale(image, scaleFactor=1.1, minNeighbors=int(min_neighbors),
                                         minSize=(smallest, smallest))
        found[i] = len(boxes) > 0
    return found


def face_detection_share(images, size: int = DETECTOR_SIZE, min_neighbors: int = 3, min_face: float = 0.25) -> float:
    """The share of ``images`` (float in [-1, 1], NHWC, grey or RGB) in which the detector finds a face (0 to 1).

    ``detect_faces`` says per image, and its docstring what the arguments mean; the module's
    docstring says what the detector was trained on and where it fails. Compare a generator's
    share only with shares measured the same way (same ``size`` and image size) on held-out
    real images of the same folder.
    """
    return float(np.mean(detect_faces(images, size=size, min_neighbors=min_neighbors, min_face=min_face)))
