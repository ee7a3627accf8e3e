"""The procedural stand-ins: deterministic, the right shapes and ranges, and varied."""

import numpy as np
import pytest

from gan_course import renderers


@pytest.fixture(scope="module")
def bricks():
    return renderers.render_bricks(48, seed=3, size=32)


@pytest.fixture(scope="module")
def faces():
    return renderers.render_faces(48, seed=3, size=32)


def test_bricks_shape_dtype_and_labels(bricks):
    images, labels = bricks
    assert images.shape == (48, 32, 32, 1) and images.dtype == np.uint8
    assert labels.shape == (48,) and labels.min() >= 0 and labels.max() < len(renderers.BRICK_SHAPES)


def test_faces_shape_dtype_and_labels(faces):
    images, labels = faces
    assert images.shape == (48, 32, 32, 3) and images.dtype == np.uint8
    assert labels.min() >= 0 and labels.max() < len(renderers.HAIR_COLOURS["anime"])


@pytest.mark.parametrize("render", [renderers.render_bricks, renderers.render_faces])
def test_same_seed_same_images_other_seed_other_images(render):
    a, la = render(6, seed=11, size=24)
    b, lb = render(6, seed=11, size=24)
    c, _ = render(6, seed=12, size=24)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(la, lb)
    assert not np.array_equal(a, c)


def test_a_smaller_render_is_the_start_of_a_larger_one():
    small, _ = renderers.render_bricks(3, seed=5, size=24)
    large, _ = renderers.render_bricks(7, seed=5, size=24)
    np.testing.assert_array_equal(small, large[:3])


def test_bricks_use_the_range_and_vary(bricks):
    images, labels = bricks
    # Light backgrounds and darker bricks: a real spread of gray levels in every picture.
    spread = images.reshape(len(images), -1).max(axis=1) - images.reshape(len(images), -1).min(axis=1)
    assert spread.min() > 60
    # The corner pixel is background, and is lighter than the picture's mean (a brick sits in front).
    assert (images[:, 0, 0, 0] > images.mean(axis=(1, 2, 3))).mean() > 0.9
    assert len(np.unique(labels)) >= 6  # most of the 8 shapes in 48 draws
    # No two pictures alike: viewpoints, shades and positions vary.
    flat = images.reshape(len(images), -1).astype(np.float32)
    d = np.abs(flat[:, None] - flat[None]).mean(axis=2)
    assert d[np.triu_indices(len(images), 1)].min() > 1.0


def test_faces_vary_in_hair_colour_and_layout(faces):
    images, labels = faces
    assert len(np.unique(labels)) >= 6
    assert images.std(axis=(1, 2, 3)).min() > 20  # a face on a background, not a flat colour
    flat = images.reshape(len(images), -1).astype(np.float32)
    d = np.abs(flat[:, None] - flat[None]).mean(axis=2)
    assert d[np.triu_indices(len(images), 1)].min() > 1.0


def test_hair_label_matches_the_hair_colour():
    # The fringe (centre column, about a quarter down) has the colour its label names.
    rng = np.random.default_rng(0)
    palette = list(renderers.HAIR_COLOURS["anime"].values())
    hits = 0
    for _ in range(20):
        img, label = renderers.render_face(rng, size=64)
        pixel = img[17, 32].astype(int)
        nearest = int(np.argmin([np.abs(pixel - np.array(c)).sum() for c in palette]))
        hits += nearest == label
    assert hits >= 17


def test_every_brick_shape_renders_and_is_asked_for_by_name():
    rng = np.random.default_rng(0)
    for i, shape in enumerate(renderers.BRICK_SHAPES):
        img, label = renderers.render_brick(rng, size=32, shape=shape)
        assert label == i and img.shape == (32, 32) and img.std() > 5


def test_photo_style_and_bad_style():
    images, labels = renderers.render_faces(4, seed=0, size=24, style="photo")
    assert images.shape == (4, 24, 24, 3) and labels.max() < len(renderers.HAIR_COLOURS["photo"])
    with pytest.raises(ValueError, match="style must be one of"):
        renderers.render_faces(2, style="oil-painting")


@pytest.mark.parametrize("n, size", [(0, 32), (3, 4)])
def test_bad_counts_and_sizes_are_errors(n, size):
    with pytest.raises(ValueError):
        renderers.render_bricks(n, size=size)


def test_write_image_folder_and_completeness(tmp_path, bricks):
    images, labels = bricks
    folder = renderers.write_image_folder(images[:10], labels[:10], renderers.BRICK_SHAPES, tmp_path / "b")
    assert renderers.folder_is_complete(folder, 10)
    assert not renderers.folder_is_complete(folder, 11)
    next(folder.glob("*/*.png")).unlink()  # an interrupted or damaged render
    assert not renderers.folder_is_complete(folder, 10)
    assert not renderers.folder_is_complete(tmp_path / "missing", 10)
