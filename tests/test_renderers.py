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


# --------------------------------------------------------------------------- labelled faces

# sha256 of render_faces(20, seed=7, ...).tobytes(), measured before draw_face existed: reporting
# the parameters must not change a single pixel (the lessons' cached folders depend on it).
PINNED_FACES = {
    ("anime", 100): "bd3983b6611e164b",
    ("photo", 64): "3ccb210f18e4c598",
    ("anime", 32): "f7246739bd1fdb0b",
}


@pytest.mark.parametrize("style, size", list(PINNED_FACES))
def test_faces_are_the_pictures_they_were_before_labels(style, size):
    import hashlib

    images, labels = renderers.render_faces(20, seed=7, size=size, style=style)
    assert hashlib.sha256(images.tobytes()).hexdigest()[:16] == PINNED_FACES[style, size]
    labelled, attributes = renderers.render_labelled_faces(20, seed=7, size=size, style=style)
    np.testing.assert_array_equal(labelled, images)
    np.testing.assert_array_equal(attributes["hair"], labels)


@pytest.mark.parametrize("style", ["anime", "photo"])
def test_every_attribute_is_labelled_in_range_and_varies(style):
    classes = renderers.face_attribute_classes(style)
    _, attributes = renderers.render_labelled_faces(300, seed=4, size=24, style=style)
    assert set(attributes) == set(classes)
    for name, values in attributes.items():
        assert values.min() >= 0 and values.max() < len(classes[name]), name
        if name == "blush" and style == "photo":
            assert (values == 0).all()  # photo faces never blush
        else:
            assert len(np.unique(values)) == len(classes[name]) - (name == "eyes" and style == "photo"), name


def test_draw_face_reports_the_colours_it_drew():
    # The jittered colours are the pictures' own: the background fills the corner, the
    # eye colour sits on the iris, and the attribute indices name the nearest palette colours.
    rng = np.random.default_rng(1)
    for _ in range(10):
        image, params = renderers.draw_face(rng, size=64)
        assert np.abs(image[0, 0].astype(int) - params["background_rgb"]).max() <= 3
        palette = np.array(list(renderers.HAIR_COLOURS["anime"].values()))
        assert int(np.argmin(np.abs(palette - params["hair_rgb"]).sum(axis=1))) == params["hair"]
        assert params["mouth"] in (0, 1) and params["hair_length"] in (0, 1) and 0 <= params["blush"] <= 2


def test_blobs_keep_the_colours_and_lose_the_features():
    faces, _ = renderers.render_faces(40, seed=9, size=64)
    blobs = renderers.render_face_blobs(40, seed=9, size=64)
    assert blobs.shape == faces.shape and blobs.dtype == np.uint8
    # Same layout and colours: the mean colour of each blob is close to its face's ...
    colour_gap = np.abs(blobs.mean(axis=(1, 2)) - faces.mean(axis=(1, 2))).mean()
    assert colour_gap < 12, colour_gap
    # ... but no eyes, mouth or locks: far fewer sharp edges.
    def edges(x):
        return np.abs(np.diff(x.astype(np.float32), axis=2)).mean()

    assert edges(blobs) < 0.6 * edges(faces), (edges(blobs), edges(faces))
