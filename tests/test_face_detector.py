"""The face detector score (gan_course/metrics/face_detector.py) ranks real face photos above the
same photos blurred, and those above colour blobs, noise and face-free patches of the same photos.

The photos are the Labeled Faces in the Wild subset that scikit-image ships in its wheel
(``skimage.data.lfw_subset``: 100 grey 25x25 face crops, then 100 crops of the same photos without
a face), so the test runs offline.
"""

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from gan_course.metrics import face_detector

cv2 = pytest.importorskip("cv2", reason="pip install opencv-python-headless (requirements.txt)")
skimage_data = pytest.importorskip("skimage.data", reason="pip install scikit-image (requirements.txt)")


@pytest.fixture(scope="module")
def photos():
    lfw = skimage_data.lfw_subset().astype(np.float32) * 2 - 1  # [0, 1] -> the course's [-1, 1]
    faces, no_faces = lfw[:100, ..., None], lfw[100:, ..., None]
    rng = np.random.default_rng(0)
    blobs = gaussian_filter(rng.standard_normal((100, 25, 25, 3)), (0, 3, 3, 0))  # smooth colour blobs
    blobs = (blobs / np.abs(blobs).max(axis=(1, 2, 3), keepdims=True)).astype(np.float32)
    return {
        "real": faces,
        "blurred": gaussian_filter(faces, (0, 2, 2, 0), mode="nearest"),  # sigma 2 px at the photos' 25x25
        "blobs": blobs,
        "noise": rng.uniform(-1, 1, (100, 25, 25, 3)).astype(np.float32),
        "face-free patches": no_faces,
    }


def test_real_faces_rank_above_blurred_above_blobs(photos):
    share = {name: face_detector.face_detection_share(images) for name, images in photos.items()}
    assert share["real"] >= 0.7, share  # most real frontal photos hold a face it finds
    assert share["real"] - share["blurred"] >= 0.2, share  # blur removes many of them ...
    assert share["blurred"] >= 0.25, share  # ... but not all: a blurred face is still more face than a blob
    for name in ("blobs", "noise", "face-free patches"):
        assert share[name] <= 0.05, share  # no face where there is none
        assert share["blurred"] - share[name] >= 0.2, share


def test_grey_and_rgb_give_the_same_answer(photos):
    grey = photos["real"][:20]
    found = face_detector.detect_faces(grey)
    assert found.dtype == bool and found.shape == (20,)
    np.testing.assert_array_equal(face_detector.detect_faces(np.repeat(grey, 3, axis=-1)), found)


def test_bad_input_says_what_is_wrong_and_how_to_fix_it(photos):
    grey = photos["real"][:2]
    with pytest.raises(ValueError, match="scale_images"):
        face_detector.face_detection_share(np.uint8((grey + 1) * 127.5))  # 8-bit pixels
    with pytest.raises(ValueError, match=r"\[-1, 1\].*scale_images"):
        face_detector.face_detection_share((grey + 1) * 127.5)  # float in [0, 255]
    with pytest.raises(ValueError, match=r"images\[None\]"):
        face_detector.face_detection_share(grey[0])  # one image without its batch axis
    with pytest.raises(ValueError, match="channels"):
        face_detector.face_detection_share(np.zeros((2, 25, 25, 4), np.float32))  # RGBA
    with pytest.raises(ValueError, match="NaN"):
        face_detector.face_detection_share(np.full((2, 25, 25, 1), np.nan, np.float32))
    with pytest.raises(ValueError, match="No images"):
        face_detector.face_detection_share(np.zeros((0, 25, 25, 1), np.float32))


def test_a_missing_opencv_names_the_fix(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_cv2(name, *args, **kwargs):
        if name == "cv2":
            raise ImportError("No module named 'cv2'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_cv2)
    face_detector.load_face_cascade.cache_clear()
    try:
        with pytest.raises(ImportError, match="pip install opencv-python-headless"):
            face_detector.face_detection_share(np.zeros((1, 25, 25, 1), np.float32))
    finally:
        face_detector.load_face_cascade.cache_clear()
